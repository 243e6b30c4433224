// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* A program the verifier must reject (a map value used without the NULL check), next to one
 * it accepts: the loader's error names the program and carries the whole verifier log. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rejected_pinned SEC(".maps");

SEC("socket")
int no_null_check(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&rejected_pinned, &key);

	return *v;
}

SEC("socket")
int fine(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
