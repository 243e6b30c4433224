// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* BTF-defined maps (.maps): hash, array with a struct value, per-CPU array, ring buffer,
 * bloom filter (map_extra), a map pinned by name, an array of maps with an inner map
 * template and initial slots, and a program array with an initial slot. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct value {
	__u64 packets;
	__u32 flags;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct value);
} array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 16);
	__type(value, __u32);
	__uint(map_extra, 3);
} bloom SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned SEC(".maps");

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

int tail_target(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32)); /* fd arrays take no BTF key type */
	__array(values, int (void *));
} jumps SEC(".maps") = {
	.values = { [1] = (void *)&tail_target },
};

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int use_maps(struct xdp_md *ctx)
{
	__u32 key = 0, one = 1;
	__u64 *count, init = 1;
	struct value *val;
	__u32 *inner_val;
	void *inner_map;

	count = bpf_map_lookup_elem(&hash, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&hash, &key, &init, BPF_ANY);

	val = bpf_map_lookup_elem(&array, &key);
	if (val)
		val->packets++;

	count = bpf_map_lookup_elem(&percpu, &key);
	if (count)
		(*count)++;

	bpf_ringbuf_output(&events, &key, sizeof(key), 0);
	bpf_map_push_elem(&bloom, &one, BPF_ANY);
	bpf_map_update_elem(&pinned, &key, &one, BPF_ANY);

	inner_map = bpf_map_lookup_elem(&outer, &key);
	if (inner_map) {
		inner_val = bpf_map_lookup_elem(inner_map, &key);
		if (inner_val)
			(*inner_val)++;
	}

	bpf_tail_call(ctx, &jumps, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
