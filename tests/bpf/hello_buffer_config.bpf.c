// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Chapter 4 of "Learning eBPF" (hello-buffer-config): a ksyscall/execve program that sends
 * the pid, uid, command, path and a per-uid message (from a hash map user space fills) to a
 * perf buffer. The syscall argument is read through the arch wrapper's pt_regs when the
 * kernel has one (LINUX_HAS_SYSCALL_WRAPPER), without CO-RE. Loads everywhere; attaching
 * needs kprobes (CONFIG_KPROBES). A stack-trace map declared without value size and a perf
 * array without max_entries show what tools size before load. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct user_msg_t {
	char message[12];
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
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(max_entries, 0);
} stacks SEC(".maps");

struct data_t {
	int pid;
	int uid;
	int stack_id;
	char command[16];
	char message[12];
	char path[16];
};

extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;

char message[12] = "Hello World";

SEC("ksyscall/execve")
int hello(struct pt_regs *ctx)
{
	struct data_t data = {};
	struct user_msg_t *p;
	const char *pathname;

	if (LINUX_HAS_SYSCALL_WRAPPER) {
		struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1(ctx);

		bpf_probe_read_kernel(&pathname, sizeof(pathname), &PT_REGS_PARM1(regs));
	} else {
		pathname = (const char *)PT_REGS_PARM1(ctx);
	}

	data.pid = bpf_get_current_pid_tgid() >> 32;
	data.uid = bpf_get_current_uid_gid() & 0xFFFFFFFF;
	data.stack_id = bpf_get_stackid(ctx, &stacks, 0);
	bpf_get_current_comm(&data.command, sizeof(data.command));
	bpf_probe_read_user_str(&data.path, sizeof(data.path), pathname);

	p = bpf_map_lookup_elem(&my_config, &data.uid);
	if (p != 0)
		bpf_probe_read_kernel_str(&data.message, sizeof(data.message), p->message);
	else
		bpf_probe_read_kernel_str(&data.message, sizeof(data.message), message);

	bpf_perf_event_output(ctx, &output, BPF_F_CURRENT_CPU, &data, sizeof(data));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
