// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* The target of link_tracing.bpf.c's freplace program: an XDP program whose verdict comes
 * from the global (so separately verified, replaceable) function `pick`. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int pick(struct xdp_md *ctx)
{
	return ctx ? XDP_PASS : XDP_ABORTED;
}

SEC("xdp")
int freplace_entry(struct xdp_md *ctx)
{
	return pick(ctx);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
