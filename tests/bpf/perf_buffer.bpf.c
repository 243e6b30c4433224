// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Event streams for tests/perf_buffer.rs: `produce` (a socket filter run with
 * BPF_PROG_TEST_RUN on a packet whose bytes after the 14-byte Ethernet header are
 * struct args) writes sequenced 40-byte samples into the current CPU's ring of the perf event
 * array `pb`, stopping at (or, with keep_going, counting) failed outputs. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

#define MULT 0x9E3779B97F4A7C15ULL

struct args {
	__u64 start;
	__u32 n;
	__u32 producer;
	__u32 keep_going;
	__u32 pad;
};

struct event {
	__u64 seq;
	__u32 producer;
	__u32 cpu;
	__u64 check;
	__u64 fill[2];
};

/* Per producer: failed outputs (the ring was full). */
__u64 output_failures[2];

struct loop_ctx {
	struct __sk_buff *skb;
	struct args a;
	__u32 done;
};

static long produce_one(__u64 i, struct loop_ctx *lc)
{
	struct event e = {};
	__u64 seq = lc->a.start + lc->done;
	__u32 p = lc->a.producer & 1;

	e.seq = seq;
	e.producer = p;
	e.cpu = bpf_get_smp_processor_id();
	e.check = seq * MULT ^ p;
	e.fill[0] = seq;
	e.fill[1] = ~seq;
	if (bpf_perf_event_output(lc->skb, &pb, BPF_F_CURRENT_CPU, &e, sizeof(e))) {
		__sync_fetch_and_add(&output_failures[p], 1);
		return lc->a.keep_going ? 0 : 1;
	}
	lc->done++;
	return 0;
}

SEC("socket")
int produce(struct __sk_buff *skb)
{
	struct loop_ctx lc = {};

	if (bpf_skb_load_bytes(skb, 0, &lc.a, sizeof(lc.a)))
		return 0;
	lc.skb = skb;
	/* Masked: clang may pass the u32 in a register whose upper half holds the next field,
	 * and the verifier's inlined bpf_loop compares all 64 bits against its limit. */
	bpf_loop(lc.a.n & 0xfffff, produce_one, &lc, 0);
	return lc.done;
}
