// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Externs resolved by the loader: Kconfig values (.kconfig, one of them weak), a typeless
 * kernel symbol (.ksyms), a weak ksym that does not exist, and kfunc calls
 * (bpf_task_acquire/bpf_task_release) from a tp_btf program, and bpf_task_from_pid from a
 * syscall program (no CO-RE needed). A typed ksym is in
 * ksym_typed.bpf.c: the kernel resolves those through kallsyms, which lacks data symbols
 * without CONFIG_KALLSYMS_ALL. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct task_struct {
	int pid;
	int tgid;
} __attribute__((preserve_access_index));

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;

/* Typeless ksym: any kallsyms symbol (text symbols are there without KALLSYMS_ALL). */
extern const void schedule __ksym;
/* A weak ksym that no kernel has: the loader resolves it to 0. */
extern const void rawbpf_no_such_symbol __ksym __weak;

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern struct task_struct *bpf_task_from_pid(int pid) __ksym;

__u32 kernel_version;
__u32 has_bpf_syscall;
__u64 schedule_addr;
__u64 missing_addr;
int acquired_pid;
int found_pid;

SEC("syscall")
int read_externs(void *ctx)
{
	kernel_version = LINUX_KERNEL_VERSION;
	has_bpf_syscall = CONFIG_BPF_SYSCALL;
	schedule_addr = (__u64)&schedule;
	missing_addr = (__u64)&rawbpf_no_such_symbol;
	return 0;
}

/* A kfunc call from a syscall program: ctx holds a pid. */
SEC("syscall")
int call_kfunc(int *pid)
{
	struct task_struct *t = bpf_task_from_pid(*pid);

	if (!t)
		return 1;
	found_pid = *pid;
	bpf_task_release(t);
	return 0;
}

SEC("tp_btf/task_newtask")
int BPF_PROG(on_newtask, struct task_struct *task, __u64 clone_flags)
{
	struct task_struct *acquired;

	acquired = bpf_task_acquire(task);
	if (!acquired)
		return 0;
	acquired_pid = acquired->pid;
	bpf_task_release(acquired);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
