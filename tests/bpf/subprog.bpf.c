// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* bpf-to-bpf calls: static noinline subprograms in .text (one calling another), shared by
 * two programs, and a bpf_loop callback (ld_imm64 with BPF_PSEUDO_FUNC). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 result;
__u64 loop_sum;

static __noinline int add_one(int x)
{
	return x + 1;
}

static __noinline int add_two(int x)
{
	return add_one(add_one(x));
}

static long loop_cb(__u64 index, void *ctx)
{
	__u64 *sum = ctx;

	*sum += index;
	return 0;
}

SEC("syscall")
int call_subprogs(void *ctx)
{
	__u64 sum = 0;

	bpf_loop(10, loop_cb, &sum, 0);
	loop_sum = sum;
	result = add_two((int)sum);
	return result;
}

SEC("syscall")
int call_add_one(void *ctx)
{
	return add_one(41);
}

SEC("syscall")
int no_calls(void *ctx)
{
	return 3;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
