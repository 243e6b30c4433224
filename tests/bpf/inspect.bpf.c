// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Objects for tests/inspect.rs to compare with bpftool: BTF-typed maps of several kinds
 * (hash with struct key/value and strings, per-CPU hash, array of maps, program array), global
 * data, and a program using helpers, maps, atomics, a subprogram and jumps. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 1, GREEN = 2, BLUE = 4 };

struct flow_key {
	__u32 pid;
	char comm[8];
};

struct flow_val {
	__u64 count;
	__s32 delta;
	enum color color;
	char label[12];
	__u8 bytes[3];
	_Bool seen;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a },
};

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} jumps SEC(".maps");

__u64 counter;
struct {
	__u32 a;
	__s16 b;
} pair = { 7, -3 };

static __noinline __u64 bump(__u64 by)
{
	return __sync_fetch_and_add(&counter, by) + by;
}

/* Run with BPF_PROG_TEST_RUN only, never attached. */
SEC("raw_tp/sys_enter")
int touch(__u64 *ctx)
{
	struct flow_key k = { .pid = bpf_get_current_pid_tgid() >> 32 };
	struct flow_val *v;
	__u32 zero = 0;
	__u64 *pc;

	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = bpf_map_lookup_elem(&flows, &k);
	if (v)
		__sync_fetch_and_add(&v->count, 1);
	pc = bpf_map_lookup_elem(&per_cpu, &zero);
	if (pc)
		*pc += 1;
	if (pair.b < 0)
		bump(2);
	bpf_tail_call(ctx, &jumps, 0);
	return bpf_map_lookup_elem(&outer, &zero) != 0;
}

__u32 marker;

SEC("syscall")
int say(void *ctx)
{
	bpf_printk("rawbpf inspect %u: done", marker);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
