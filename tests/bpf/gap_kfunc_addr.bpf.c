// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 1: a kfunc's address. `bpf_ksym_exists(kfunc)` and `if (weak_kfunc)` compile
 * to an ld_imm64 of the kfunc extern (not a call): the loader gives it the kfunc's kernel BTF
 * id (BPF_PSEUDO_BTF_ID, as libbpf does), or 0 for a missing __weak kfunc, so the branch it
 * guards is dead code the verifier skips. bpf_task_from_pid exists from Linux 6.2; the other
 * kfunc exists nowhere. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* libbpf 1.2's bpf_ksym_exists (the libbpf 1.1 headers lack it). */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym)                                                           \
	({                                                                             \
		_Static_assert(!__builtin_constant_p(!!sym), #sym " should be __weak"); \
		!!sym;                                                                 \
	})
#endif

struct task_struct;

extern struct task_struct *bpf_task_from_pid(int pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;
extern void rawbpf_no_such_kfunc(int x) __ksym __weak;

int has_task_from_pid = -1;
int has_missing = -1;
int found_pid;
int called_missing;

/* ctx holds a pid. */
SEC("syscall")
int kfunc_addr(int *pid)
{
	has_task_from_pid = bpf_ksym_exists(bpf_task_from_pid);
	has_missing = bpf_ksym_exists(rawbpf_no_such_kfunc);
	if (bpf_ksym_exists(bpf_task_from_pid)) {
		struct task_struct *t = bpf_task_from_pid(*pid);

		if (t) {
			found_pid = *pid;
			bpf_task_release(t);
		}
	}
	/* Dead code once the address is 0: the call to the missing kfunc is never checked. */
	if (rawbpf_no_such_kfunc) {
		rawbpf_no_such_kfunc(1);
		called_missing = 1;
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
