// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 7: CO-RE candidate narrowing. The target BTF (gap_core_target.bpf.c) has two
 * flavors of `struct gap_pair`: one with field `a`, the other with field `b`. libbpf keeps one
 * candidate list per local root type for the whole object and, once a relocation matches,
 * narrows it to the candidates that matched: `a` matches only the first flavor, so `b`, of
 * the same root type, then matches nothing and is poisoned, and the program fails to load.
 * Relocating each field on its own (no narrowing) would wrongly load it.
 * `read_a_only` reads only `a` (loads; `a` is at offset 8 in the target). The list is one
 * per object: relocations of other programs narrow it too. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct gap_pair {
	int a;
	int b;
} __attribute__((preserve_access_index));

__u32 off_a;
__u32 off_b;

SEC("syscall")
int read_a_only(void *ctx)
{
	off_a = __builtin_preserve_field_info(((struct gap_pair *)0)->a, 0 /* BYTE_OFFSET */);
	return 0;
}

SEC("syscall")
int read_a_then_b(void *ctx)
{
	off_a = __builtin_preserve_field_info(((struct gap_pair *)0)->a, 0 /* BYTE_OFFSET */);
	off_b = __builtin_preserve_field_info(((struct gap_pair *)0)->b, 0 /* BYTE_OFFSET */);
	return 0;
}

/* Loaded on its own, `b` matches the second flavor; loaded with read_a_only (relocated first,
 * as libbpf goes through the object), the candidates are narrowed to the first: poisoned. */
SEC("syscall")
int read_b_only(void *ctx)
{
	off_b = __builtin_preserve_field_info(((struct gap_pair *)0)->b, 0 /* BYTE_OFFSET */);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
