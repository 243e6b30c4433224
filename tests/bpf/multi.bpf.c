// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Several programs in one ELF section: two XDP programs and two tracepoint programs on
 * syscalls/sys_enter_getppid, each counting its runs in its own .bss variable. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 xdp_first_runs;
__u64 xdp_second_runs;
__u64 tp_first_runs;
__u64 tp_second_runs;

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
	xdp_first_runs++;
	return XDP_PASS;
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
	xdp_second_runs++;
	return XDP_DROP;
}

SEC("tp/syscalls/sys_enter_getppid")
int tp_first(void *ctx)
{
	__sync_fetch_and_add(&tp_first_runs, 1);
	return 0;
}

SEC("tp/syscalls/sys_enter_getppid")
int tp_second(void *ctx)
{
	__sync_fetch_and_add(&tp_second_runs, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
