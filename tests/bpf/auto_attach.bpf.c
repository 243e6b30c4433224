// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Programs of tests/auto_attach.rs: one object whose programs all attach from their SEC()
 * names (Object::attach_all), next to programs whose names give no target (XDP, cgroup, a
 * bare kprobe), which attach_all must skip and report. Each attachable program counts the
 * runs of the test's own process (target_tgid, set by the test after load) in hits[SLOT]. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum {
	H_TP = 0,      /* tp/syscalls/sys_enter_getppid */
	H_RAW_TP = 1,  /* raw_tp/sys_enter, getppid's syscall number */
	H_TP_BTF = 2,  /* tp_btf/sys_enter, getppid's syscall number */
	H_UPROBE = 3,  /* uprobe/libc.so.6:getpid */
	H_KSYSCALL = 4, /* ksyscall/getppid (kernels with kprobes) */
	H_FENTRY = 5,  /* fentry/do_unlinkat (kernels with BPF trampolines) */
	H_ITER = 6,    /* iter/task: the number of tasks of the test's process it saw */
	NHITS = 8,
};

#define NR_GETPPID 110 /* x86-64 */

__u64 hits[NHITS];
__u32 target_tgid;

static __always_inline int ours(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline void hit(int slot)
{
	if (ours())
		__sync_fetch_and_add(&hits[slot], 1);
}

SEC("tp/syscalls/sys_enter_getppid")
int on_tp(void *ctx)
{
	hit(H_TP);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_raw_tp(__u64 *ctx)
{
	/* sys_enter(struct pt_regs *regs, long id) */
	if (ctx[1] == NR_GETPPID)
		hit(H_RAW_TP);
	return 0;
}

SEC("tp_btf/sys_enter")
int on_tp_btf(__u64 *ctx)
{
	if (ctx[1] == NR_GETPPID)
		hit(H_TP_BTF);
	return 0;
}

SEC("uprobe/libc.so.6:getpid")
int on_uprobe(void *ctx)
{
	hit(H_UPROBE);
	return 0;
}

SEC("ksyscall/getppid")
int on_ksyscall(void *ctx)
{
	hit(H_KSYSCALL);
	return 0;
}

SEC("fentry/do_unlinkat")
int on_fentry(__u64 *ctx)
{
	hit(H_FENTRY);
	return 0;
}

struct task_struct___min {
	int tgid;
} __attribute__((preserve_access_index));

struct bpf_iter_meta___min {
	void *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__task___min {
	struct bpf_iter_meta___min *meta;
	struct task_struct___min *task;
} __attribute__((preserve_access_index));

SEC("iter/task")
int on_iter(struct bpf_iter__task___min *ctx)
{
	struct task_struct___min *task = ctx->task;

	if (task && task->tgid == target_tgid)
		__sync_fetch_and_add(&hits[H_ITER], 1);
	return 0;
}

/* No target in the name: attach_all skips these. */
SEC("xdp")
int needs_iface(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("cgroup_skb/egress")
int needs_cgroup(struct __sk_buff *skb)
{
	return 1;
}

SEC("kprobe")
int needs_func(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
