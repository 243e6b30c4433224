// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Legacy map definitions: `struct bpf_map_def` in the "maps" section (libbpf < 1.0 style).
 * The struct is declared here because libbpf 1.x headers no longer ship it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 32,
	.map_flags = 0,
};

struct legacy_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 2,
	.map_flags = 0,
};

SEC("socket")
int use_legacy(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *count, init = 1;
	__u32 *seen;

	count = bpf_map_lookup_elem(&legacy_hash, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&legacy_hash, &key, &init, BPF_ANY);

	seen = bpf_map_lookup_elem(&legacy_array, &key);
	if (seen)
		*seen = skb->len;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
