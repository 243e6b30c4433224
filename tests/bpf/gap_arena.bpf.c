// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 5: `__ulong(map_extra, …)`, libbpf's 64-bit map attribute (an anonymous enum
 * of one value, ENUM64 when it needs more than 32 bits), as arena maps give the user address
 * they are mapped at. Arenas exist from Linux 6.9. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef BPF_MAP_TYPE_ARENA
#define BPF_MAP_TYPE_ARENA 33
#endif
#ifndef __ulong
#define ___gap_concat(a, b) a##b
#define ___gap_apply(a, b) ___gap_concat(a, b)
#define __ulong(name, val) enum { ___gap_apply(__unique_value, __COUNTER__) = val } name
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4); /* pages */
	__ulong(map_extra, 0x7f0000000000ULL); /* where user space maps it */
} arena SEC(".maps");

SEC("syscall")
int noop(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
