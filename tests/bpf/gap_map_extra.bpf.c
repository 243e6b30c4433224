// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 5: map_extra of the map types that take one besides arenas (gap_arena.bpf.c):
 * a bloom filter's hash count, as __uint and as libbpf's __ulong (an anonymous enum of one
 * value: ENUM here, ENUM64 for values above 32 bits). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef __ulong
#define ___gap_concat(a, b) a##b
#define ___gap_apply(a, b) ___gap_concat(a, b)
#define __ulong(name, val) enum { ___gap_apply(__unique_value, __COUNTER__) = val } name
#endif

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__uint(map_extra, 3); /* hash functions */
} bloom_uint SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 64);
	__type(value, __u32);
	__ulong(map_extra, 5);
} bloom_ulong SEC(".maps");

/* XDP (bloom filters are not for sleepable programs): XDP_PASS once 42 is found. */
SEC("xdp")
int touch(struct xdp_md *ctx)
{
	__u32 v = 42;

	bpf_map_push_elem(&bloom_uint, &v, 0);
	bpf_map_push_elem(&bloom_ulong, &v, 0);
	return bpf_map_peek_elem(&bloom_ulong, &v) == 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
