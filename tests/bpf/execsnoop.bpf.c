// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* A libbpf-tools style execsnoop: a tracepoint on sys_enter_execve filtered by a
 * `const volatile` uid set from user space before load, events in a ring buffer, a hash map
 * of in-flight execs completed at sys_exit_execve, and a tp_btf variant on
 * sched_process_exec. No vmlinux.h and no CO-RE: tracepoint context structs are spelled out. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define TASK_COMM_LEN 16
#define FILENAME_LEN 64
#define INVALID_UID ((__u32)-1)

const volatile __u32 targ_uid = INVALID_UID;
const volatile _Bool ignore_failed = 1;

struct event {
	__u32 pid;
	__u32 uid;
	int retval;
	__u32 from_btf;
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

__u64 execs_seen;
__u64 exec_btf_seen;

/* The layout of /sys/kernel/tracing/events/syscalls/sys_enter_execve/format. */
struct sys_enter_ctx {
	__u64 common;
	long syscall_nr;
	unsigned long args[6];
};

struct sys_exit_ctx {
	__u64 common;
	long syscall_nr;
	long ret;
};

static const struct event empty_event;

SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint__syscalls__sys_enter_execve(struct sys_enter_ctx *ctx)
{
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e;

	if (targ_uid != INVALID_UID && targ_uid != uid)
		return 0;
	if (bpf_map_update_elem(&execs, &pid, &empty_event, BPF_NOEXIST))
		return 0;
	e = bpf_map_lookup_elem(&execs, &pid);
	if (!e)
		return 0;
	e->pid = pid;
	e->uid = uid;
	bpf_probe_read_user_str(e->filename, sizeof(e->filename), (const char *)ctx->args[0]);
	__sync_fetch_and_add(&execs_seen, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int tracepoint__syscalls__sys_exit_execve(struct sys_exit_ctx *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct event *e, *out;

	e = bpf_map_lookup_elem(&execs, &pid);
	if (!e)
		return 0;
	if (ignore_failed && ctx->ret < 0)
		goto cleanup;
	out = bpf_ringbuf_reserve(&events, sizeof(*out), 0);
	if (!out)
		goto cleanup;
	__builtin_memcpy(out, e, sizeof(*out));
	out->retval = ctx->ret;
	bpf_get_current_comm(&out->comm, sizeof(out->comm));
	bpf_ringbuf_submit(out, 0);
cleanup:
	bpf_map_delete_elem(&execs, &pid);
	return 0;
}

struct task_struct;
struct linux_binprm;

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	struct event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = old_pid;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->from_btf = 1;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	__sync_fetch_and_add(&exec_btf_seen, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
