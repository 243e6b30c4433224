// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Event streams for tests/ringbuf.rs: `produce` (a syscall program run with
 * BPF_PROG_TEST_RUN) writes sequenced 40-byte events into the ring buffer `rb` (or
 * `rb_small`), optionally discarding every k-th one and optionally going on after a failed
 * reservation (counting the failures); `drain` reads the user ring buffer `urb` with
 * bpf_user_ringbuf_drain and checks every record's sequence number and checksum. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb_small SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 16 * 1024);
} urb SEC(".maps");

#define MULT 0x9E3779B97F4A7C15ULL

struct args {
	__u64 start;		/* first sequence number */
	__u32 n;		/* events to write */
	__u32 producer;		/* 0 or 1 */
	__u32 discard_every;	/* discard events whose seq % this == 0 (0: none) */
	__u32 small;		/* write into rb_small instead of rb */
	__u32 keep_going;	/* go on after a failed reservation */
	__u32 pad;
};

struct event {
	__u64 seq;
	__u32 producer;
	__u32 cpu;
	__u64 check;		/* seq * MULT ^ producer */
	__u64 fill[2];		/* 40 bytes: a 48-byte record span, which does not divide the ring */
};

/* Per producer: failed reservations, discarded events. */
__u64 reserve_failures[2];
__u64 discarded[2];

struct loop_ctx {
	struct args a;
	__u32 done;
	__u32 stop;
};

static long produce_one(__u64 i, struct loop_ctx *lc)
{
	struct event *e;
	__u64 seq = lc->a.start + lc->done;
	__u32 p = lc->a.producer & 1;

	if (lc->a.small)
		e = bpf_ringbuf_reserve(&rb_small, sizeof(*e), 0);
	else
		e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&reserve_failures[p], 1);
		return lc->a.keep_going ? 0 : 1;
	}
	e->seq = seq;
	e->producer = p;
	e->cpu = bpf_get_smp_processor_id();
	e->check = seq * MULT ^ p;
	e->fill[0] = seq;
	e->fill[1] = ~seq;
	if (lc->a.discard_every && seq % lc->a.discard_every == 0) {
		bpf_ringbuf_discard(e, 0);
		__sync_fetch_and_add(&discarded[p], 1);
	} else {
		bpf_ringbuf_submit(e, 0);
	}
	lc->done++;
	return 0;
}

SEC("syscall")
int produce(struct args *ctx)
{
	struct loop_ctx lc = {};

	lc.a = *ctx;
	/* Masked: clang may pass the u32 in a register whose upper half holds the next field,
	 * and the verifier's inlined bpf_loop compares all 64 bits against its limit. */
	bpf_loop(lc.a.n & 0xfffff, produce_one, &lc, 0);
	return lc.done;
}

/* User ring buffer: records are { u64 seq; u64 check = seq * MULT } plus `extra` bytes
 * of value seq & 0xff; they must arrive in order from drain_next on. */
struct urec {
	__u64 seq;
	__u64 check;
};

__u64 drain_next;
__u64 drained;
__u64 drain_bad;
__u64 drained_bytes;

static long drain_one(struct bpf_dynptr *d, void *ctx)
{
	struct urec r;

	if (bpf_dynptr_read(&r, sizeof(r), d, 0, 0)) {
		drain_bad++;
		return 0;
	}
	if (r.seq != drain_next || r.check != r.seq * MULT)
		drain_bad++;
	drain_next = r.seq + 1;
	drained++;
	return 0;
}

SEC("syscall")
int drain(void *ctx)
{
	return bpf_user_ringbuf_drain(&urb, drain_one, (void *)0, 0);
}
