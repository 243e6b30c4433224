/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/* A minimal TCP congestion control as a struct_ops variable: Reno through the kernel's
 * tcp_reno_* kfuncs, counting its init and cong_avoid calls in .bss. Included by
 * struct_ops_link.bpf.c (SEC(".struct_ops.link")) and struct_ops_legacy.bpf.c
 * (SEC(".struct_ops")). Only the members set here are declared: the loader matches members
 * by name against the kernel's struct tcp_congestion_ops. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct sock;

struct tcp_congestion_ops {
	__u32 (*ssthresh)(struct sock *sk);
	void (*cong_avoid)(struct sock *sk, __u32 ack, __u32 acked);
	__u32 (*undo_cwnd)(struct sock *sk);
	void (*init)(struct sock *sk);
	char name[16];
};

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

__u64 init_calls;
__u64 cong_avoid_calls;

SEC("struct_ops/rb_init")
void BPF_PROG(rb_init, struct sock *sk)
{
	__sync_fetch_and_add(&init_calls, 1);
}

SEC("struct_ops/rb_ssthresh")
__u32 BPF_PROG(rb_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops/rb_cong_avoid")
void BPF_PROG(rb_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	__sync_fetch_and_add(&cong_avoid_calls, 1);
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops/rb_undo_cwnd")
__u32 BPF_PROG(rb_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

#define RAWBPF_CC(section)                                                                         \
	SEC(section)                                                                               \
	struct tcp_congestion_ops rawbpf_cc = {                                                    \
		.init = (void *)rb_init,                                                           \
		.ssthresh = (void *)rb_ssthresh,                                                   \
		.cong_avoid = (void *)rb_cong_avoid,                                               \
		.undo_cwnd = (void *)rb_undo_cwnd,                                                 \
		.name = "rawbpf_cc",                                                               \
	};

char LICENSE[] SEC("license") = "Dual MIT/GPL";
