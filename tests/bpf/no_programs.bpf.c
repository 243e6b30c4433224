// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* An object with maps and global data but no program: tools must say so (veristat prints a
 * row for it) rather than print nothing. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} only_a_map SEC(".maps");

__u64 only_a_global;

char LICENSE[] SEC("license") = "Dual MIT/GPL";
