// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 4: a map definition declared `static` (BTF VAR linkage static). libbpf
 * ("unsupported map linkage static") and cilium/ebpf refuse it; so does rawbpf, saying to
 * drop `static`. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hidden_counts SEC(".maps");

SEC("syscall")
int count(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&hidden_counts, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
