// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* The execve tracer of "Learning eBPF" (chapter 4, hello-buffer-config), for rawbpf's
 * examples/kprobe_execve.
 *
 * For every execve(2), one record: pid, uid, the command that called exec, the path being
 * executed and a message, looked up in the `my_config` hash map by uid (user space fills it)
 * or the default "Hello World". Two programs make the same record:
 *   - `hello`: SEC("ksyscall/execve"), a kprobe on the architecture's syscall function
 *     (__x64_sys_execve); the path is the syscall's first argument, read from the pt_regs
 *     the syscall wrapper was given (BPF_KSYSCALL, CO-RE reads of struct pt_regs);
 *   - `hello_tp`: SEC("tracepoint/syscalls/sys_enter_execve"), the fallback for kernels
 *     without kprobes; the path is args[0] of the tracepoint's record (a CO-RE read of
 *     struct trace_event_raw_sys_enter).
 * The record goes to the perf buffer `output`, or to the ring buffer `events` when user space
 * sets `use_ringbuf` (a .rodata constant) before load.
 *
 * No vmlinux.h: the few kernel types are declared below with preserve_access_index, so every
 * field access is relocated against the running kernel's BTF (CO-RE). __VMLINUX_H__ makes
 * bpf_tracing.h use the kernel's pt_regs field names (di, si, ...), which these types have.
 */
#define __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
} __attribute__((preserve_access_index));

struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
} __attribute__((preserve_access_index));

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
} __attribute__((preserve_access_index));

#define MESSAGE_LEN 12
#define PATH_LEN 64

struct user_msg_t {
	char message[MESSAGE_LEN];
};

/* The record user space reads: 4 + 4 + 16 + 12 + 64 = 100 bytes. */
struct data_t {
	int pid;
	int uid;
	char command[16];
	char message[MESSAGE_LEN];
	char path[PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct user_msg_t);
} my_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} output SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Set by user space before load: send records to `events` instead of `output`. */
const volatile _Bool use_ringbuf = 0;

char message[MESSAGE_LEN] = "Hello World";

static __always_inline int emit(void *ctx, const char *pathname)
{
	struct data_t data = {};
	struct user_msg_t *p;

	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	bpf_get_current_comm(&data.command, sizeof(data.command));
	bpf_probe_read_user_str(&data.path, sizeof(data.path), pathname);

	p = bpf_map_lookup_elem(&my_config, &data.uid);
	if (p)
		bpf_probe_read_kernel_str(&data.message, sizeof(data.message), p->message);
	else
		bpf_probe_read_kernel_str(&data.message, sizeof(data.message), message);

	if (use_ringbuf)
		bpf_ringbuf_output(&events, &data, sizeof(data), 0);
	else
		bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

SEC("ksyscall/execve")
int BPF_KSYSCALL(hello, const char *pathname)
{
	return emit(ctx, pathname);
}

SEC("tracepoint/syscalls/sys_enter_execve")
int hello_tp(struct trace_event_raw_sys_enter *ctx)
{
	return emit(ctx, (const char *)BPF_CORE_READ(ctx, args[0]));
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
