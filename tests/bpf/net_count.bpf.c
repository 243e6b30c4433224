// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* One counting program per networking/cgroup attach family, for tests/link_net.rs.
 * Program number i adds 1 to counts[i] and stores what it saw in last[i]; the programs that
 * tests order (tcx, cls_bpf) store the value of a shared sequence counter instead, so the
 * test can tell which ran first. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Newer than the libbpf 1.1 / 6.1 uapi headers. */
#define TCX_NEXT -1
#define BPF_FLOW_DISSECTOR_CONTINUE 129
#define NF_ACCEPT 1

#define N 32
#define SEQ (N - 1)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N);
	__type(key, __u32);
	__type(value, __u64);
} last SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} sock_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} skb_map SEC(".maps");

static __always_inline void record(__u32 i, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &i);
	__u64 *l = bpf_map_lookup_elem(&last, &i);

	if (c)
		__sync_fetch_and_add(c, 1);
	if (l)
		*l = v;
}

/* The next value of the shared sequence counter (starts at 1). */
static __always_inline __u64 next_seq(void)
{
	__u32 k = SEQ;
	__u64 *s = bpf_map_lookup_elem(&counts, &k);

	return s ? __sync_fetch_and_add(s, 1) + 1 : 0;
}

SEC("xdp")
int xdp_a(struct xdp_md *ctx)
{
	record(0, ctx->ingress_ifindex);
	return XDP_PASS;
}

SEC("xdp")
int xdp_b(struct xdp_md *ctx)
{
	record(1, ctx->ingress_ifindex);
	return XDP_PASS;
}

SEC("tc")
int tc_a(struct __sk_buff *skb)
{
	record(2, next_seq());
	return TCX_NEXT; /* also TC_ACT_UNSPEC: the next filter runs */
}

SEC("tc")
int tc_b(struct __sk_buff *skb)
{
	record(3, next_seq());
	return TCX_NEXT;
}

SEC("cgroup_skb/egress")
int cg_skb(struct __sk_buff *skb)
{
	record(4, skb->protocol);
	return 1;
}

SEC("cgroup/sock_create")
int cg_sock(struct bpf_sock *sk)
{
	record(5, sk->protocol);
	return 1;
}

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	record(6, ctx->user_port);
	return 1;
}

SEC("cgroup/sendmsg4")
int cg_sendmsg4(struct bpf_sock_addr *ctx)
{
	record(7, ctx->user_port);
	return 1;
}

SEC("sockops")
int cg_sockops(struct bpf_sock_ops *ctx)
{
	record(8, ctx->op);
	return 1;
}

SEC("cgroup/sysctl")
int cg_sysctl(struct bpf_sysctl *ctx)
{
	record(9, ctx->write);
	return 1;
}

SEC("cgroup/dev")
int cg_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	record(10, ((__u64)ctx->major << 32) | ctx->minor);
	return 1;
}

SEC("cgroup/getsockopt")
int cg_getsockopt(struct bpf_sockopt *ctx)
{
	record(11, ctx->optname);
	return 1;
}

SEC("sk_lookup")
int sk_lookup_count(struct bpf_sk_lookup *ctx)
{
	record(12, ctx->local_port);
	return SK_PASS;
}

SEC("flow_dissector")
int flow_count(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;

	/* The kernel sets n_proto (network order) before running the program. */
	record(13, keys->n_proto);
	return BPF_FLOW_DISSECTOR_CONTINUE;
}

SEC("netfilter")
int nf_count(void *ctx)
{
	record(14, 1);
	return NF_ACCEPT;
}

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	record(15, skb->len);
	return skb->len;
}

SEC("sk_reuseport")
int reuseport_count(struct sk_reuseport_md *ctx)
{
	record(16, ctx->len);
	return SK_PASS;
}

SEC("sk_msg")
int msg_count(struct sk_msg_md *msg)
{
	record(17, msg->size);
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int skb_verdict(struct __sk_buff *skb)
{
	record(18, skb->len);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
