// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* The "Hello World" of chapter 3 of "Learning eBPF": an XDP program that prints a line for
 * every packet it sees, with a global counter (in .bss), and lets the packet pass.
 * Rebuild with tests/bpf/build.sh. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 0;

SEC("xdp")
int hello(struct xdp_md *ctx)
{
	bpf_printk("Hello World %d", counter);
	counter++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
