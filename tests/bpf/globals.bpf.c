// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Global data: a `const volatile` in .rodata set from user space before load, variables in
 * .data and .bss, custom .data.* / .rodata.* sections, and a string section (.rodata.str1.1).
 * `read_globals` (a syscall program, run with BPF_PROG_TEST_RUN) copies them around so a
 * test can check every direction. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* .rodata: set by the loader before load, frozen afterwards. */
const volatile __u32 magic = 0;
const volatile __u64 rodata_pair[2] = { 11, 22 };

/* .data: initialised, writable. */
__u32 data_var = 7;
__u64 data_sum = 1;

/* .bss: zeroed, writable. */
__u64 bss_var;
__u32 bss_seen_magic;

/* Custom sections, each one its own map. */
__u32 custom_data[4] SEC(".data.custom") = { 1, 2, 3, 4 };
const volatile char custom_ro[8] SEC(".rodata.custom") = "rawbpf!";

SEC("syscall")
int read_globals(void *ctx)
{
	bss_seen_magic = magic;
	bss_var = magic + data_var;
	data_sum = rodata_pair[0] + rodata_pair[1] + custom_data[2];
	custom_data[0] = custom_ro[0];
	data_var++;
	/* A string literal passed by address lands in a mergeable .rodata.str1.1 section. */
	bpf_trace_printk("rawbpf globals %u\n", sizeof("rawbpf globals %u\n"), magic);
	return magic;
}

SEC("socket")
int sock_globals(struct __sk_buff *skb)
{
	return data_var + bss_var;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
