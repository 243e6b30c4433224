// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* An arena (BPF_MAP_TYPE_ARENA, Linux 6.9) of 4 pages at user address 0x10000000
 * (map_extra). The first run of `arena_step` takes a page with the bpf_arena_alloc_pages kfunc
 * and writes a marker at its start, leaving the page's user address in `page_addr`; later runs
 * add the first `words` u64s after the marker (written by user space through its mapping)
 * into `total`. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef BPF_MAP_TYPE_ARENA
#define BPF_MAP_TYPE_ARENA 33
#endif

#define __arena __attribute__((address_space(1)))
#define NUMA_NO_NODE (-1)

void __arena *bpf_arena_alloc_pages(void *map, void __arena *addr, __u32 page_cnt,
				    int node_id, __u64 flags) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARENA);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 4);
	__uint(map_extra, 0x10000000);
} arena SEC(".maps");

__u64 page_addr;
__u64 total;
__u32 words;

/* The kernel accepts arena pointer casts only in a program that references the arena, so
 * both steps are one program: the first run allocates, later runs sum. */
SEC("syscall")
int arena_step(void *ctx)
{
	__u64 __arena *page = (__u64 __arena *)page_addr;
	__u64 s = 0;

	if (!page) {
		page = bpf_arena_alloc_pages(&arena, NULL, 1, NUMA_NO_NODE, 0);
		if (!page)
			return 1;
		page[0] = 0x5eed0fa7e4a0ULL;
		page_addr = (__u64)page;
		return 0;
	}
	for (int i = 1; i < 64 && i <= words; i++)
		s += page[i];
	total = s;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
