// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 3: map definitions that give key or value types the kernel refuses for
 * their map type. The kernel wants key and value size 0 for ring buffers and 4 and 4 for a
 * perf event array (libbpf passes the sizes of the types and fails with EINVAL; aya loads
 * them): the loader creates them as the kernel wants, without BTF key/value ids. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef BPF_MAP_TYPE_USER_RINGBUF
#define BPF_MAP_TYPE_USER_RINGBUF 31
#endif

struct event {
	__u32 magic;
	__u32 seq;
	__u64 payload[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(value, struct event);
} typed_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u32);
} keyed_rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
	__type(value, struct event);
} typed_urb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u64);
	__type(value, struct event);
} typed_perf SEC(".maps");

__u64 avail_typed;
__u64 avail_keyed;

/* Sends one event through each ring buffer, then reads how many bytes wait in each (records
 * with their 8-byte headers, rounded up to 8). */
SEC("syscall")
int emit(void *ctx)
{
	struct event e = { .magic = 0xfeedbeef, .seq = 1, .payload = { 7, 8 } };
	__u32 k = 0x12345678;

	if (bpf_ringbuf_output(&typed_rb, &e, sizeof(e), 0))
		return 1;
	if (bpf_ringbuf_output(&keyed_rb, &k, sizeof(k), 0))
		return 2;
	avail_typed = bpf_ringbuf_query(&typed_rb, BPF_RB_AVAIL_DATA);
	avail_keyed = bpf_ringbuf_query(&keyed_rb, BPF_RB_AVAIL_DATA);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
