// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Programs of the BPF-trampoline, raw tracepoint, iterator and syscall families, each
 * counting (or recording) what it saw into .bss, filtered to the test's thread (target_tid,
 * set before load; 0 counts every thread). No vmlinux.h: the few kernel types are spelled out with
 * preserve_access_index, so CO-RE fits them to the running kernel.
 *
 * Triggers: getppid() (syscall 110 on x86-64) for raw_tp/tp_btf; unlink() of a missing path
 * for fentry/fexit on do_unlinkat; open() for lsm/file_open; BPF_PROG_TEST_RUN of the fmod_ret
 * program (which calls bpf_modify_return_test) and of the syscall program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define SYS_GETPPID 110

const volatile __u32 target_tid = 0;
const volatile __u32 target_tgid = 0;

__u64 raw_tp_hits;
__u64 raw_tp_cookie_hits;
__u64 raw_tp_cookie_seen;
__u64 tp_btf_hits;
__u64 tp_btf_cookie_seen;
__u64 fentry_hits;
__u64 fentry_cookie_seen;
__u64 fexit_hits;
__s64 fexit_ret;
__u64 fmod_ret_hits;
__u64 lsm_hits;
__u64 lsm_cookie_seen;
__u64 raw_tp_s_hits;
__u64 tp_btf_s_hits;
__u64 fsession_hits;

struct seq_file;
struct filename;
struct file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
} __attribute__((preserve_access_index));

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
} __attribute__((preserve_access_index));

struct bpf_iter__bpf_map_elem {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
	void *key;
	void *value;
} __attribute__((preserve_access_index));

/* Walked by the bpf_map_elem iterator; filled from user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} iter_map SEC(".maps");

static __always_inline int mine(void)
{
	return target_tid == 0 || (__u32)bpf_get_current_pid_tgid() == target_tid;
}

SEC("raw_tp/sys_enter")
int raw_tp_getppid(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine() && ctx->args[1] == SYS_GETPPID)
		__sync_fetch_and_add(&raw_tp_hits, 1);
	return 0;
}

/* bpf_get_attach_cookie in raw_tp/tp_btf programs needs a newer kernel (6.10): not loaded
 * unless asked for. */
SEC("?raw_tp/sys_enter")
int raw_tp_cookie(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine() && ctx->args[1] == SYS_GETPPID) {
		__sync_fetch_and_add(&raw_tp_cookie_hits, 1);
		raw_tp_cookie_seen = bpf_get_attach_cookie(ctx);
	}
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(tp_btf_getppid, void *regs, long id)
{
	if (mine() && id == SYS_GETPPID)
		__sync_fetch_and_add(&tp_btf_hits, 1);
	return 0;
}

SEC("?tp_btf/sys_enter")
int BPF_PROG(tp_btf_cookie, void *regs, long id)
{
	if (mine() && id == SYS_GETPPID)
		tp_btf_cookie_seen = bpf_get_attach_cookie(ctx);
	return 0;
}

SEC("fentry/do_unlinkat")
int BPF_PROG(fentry_unlinkat, int dfd, struct filename *name)
{
	if (mine()) {
		__sync_fetch_and_add(&fentry_hits, 1);
		fentry_cookie_seen = bpf_get_attach_cookie(ctx);
	}
	return 0;
}

SEC("fexit/do_unlinkat")
int BPF_PROG(fexit_unlinkat, int dfd, struct filename *name, int ret)
{
	if (mine()) {
		__sync_fetch_and_add(&fexit_hits, 1);
		fexit_ret = ret;
	}
	return 0;
}

/* fmod_ret on security_file_open (security_* functions are modifiable on every kernel with
 * trampolines): the test's thread gets EPERM from open() while this is attached. Never for
 * other threads, and never with target_tid 0. */
SEC("fmod_ret/security_file_open")
int BPF_PROG(fmod_ret_open, struct file *file, int ret)
{
	if (target_tid != 0 && mine()) {
		__sync_fetch_and_add(&fmod_ret_hits, 1);
		return -1; /* -EPERM */
	}
	return ret;
}

SEC("lsm/file_open")
int BPF_PROG(lsm_file_open, struct file *file, int ret)
{
	if (mine()) {
		__sync_fetch_and_add(&lsm_hits, 1);
		lsm_cookie_seen = bpf_get_attach_cookie(ctx);
	}
	return ret;
}

/* The iterator prints one line for the test process's main thread. */
SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	if (task->tgid == target_tgid && task->pid == task->tgid)
		BPF_SEQ_PRINTF(seq, "rawbpf-iter tgid=%d comm=%s\n", task->tgid, task->comm);
	return 0;
}

/* The bpf_map_elem iterator prints one line per element of the map it is given. */
SEC("iter/bpf_map_elem")
int dump_map(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u32 *key = ctx->key;
	__u64 *value = ctx->value;

	if (!key || !value)
		return 0;
	BPF_SEQ_PRINTF(seq, "k=%u v=%llu\n", *key, *value);
	return 0;
}

struct syscall_args {
	__u64 a;
	__u64 b;
	__u64 sum;
};

SEC("syscall")
int syscall_sum(struct syscall_args *args)
{
	args->sum = args->a + args->b;
	return 42;
}

/* Replaces freplace_target.bpf.o's global function `pick` (loaded with a target program). */
struct xdp_md;
SEC("?freplace/pick")
int new_pick(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* Newer section kinds, loaded only when a test asks: each needs a kernel feature that
 * rawbpf::features probes (sleepable_tracepoints, fsession, tracing_multi). */
SEC("?raw_tp.s/sys_enter")
int raw_tp_sleepable(struct bpf_raw_tracepoint_args *ctx)
{
	if (mine() && ctx->args[1] == SYS_GETPPID)
		__sync_fetch_and_add(&raw_tp_s_hits, 1);
	return 0;
}

SEC("?tp_btf.s/sys_enter")
int BPF_PROG(tp_btf_sleepable, void *regs, long id)
{
	if (mine() && id == SYS_GETPPID)
		__sync_fetch_and_add(&tp_btf_s_hits, 1);
	return 0;
}

SEC("?tp.s/syscalls/sys_enter_getppid")
int tp_sleepable(void *ctx)
{
	return 0;
}

/* Runs at entry and at exit: two counts per call. */
SEC("?fsession/do_unlinkat")
int BPF_PROG(fsession_unlinkat, int dfd, struct filename *name)
{
	if (mine())
		__sync_fetch_and_add(&fsession_hits, 1);
	return 0;
}

SEC("?fentry.multi/bpf_fentry_test*")
int fentry_multi(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
