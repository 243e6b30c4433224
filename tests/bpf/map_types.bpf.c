// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Map types for tests/map_types.rs: three local storages (BTF key/value, as the kernel
 * requires; cgroup storage, Linux 6.2, is in map_types_cgrp.bpf.c), a stack trace map and a BPF_F_STACK_BUILD_ID stack trace map, filled by a raw
 * tracepoint on sys_enter for getppid() calls of one process (target_tgid, set before load). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_DEPTH 127
#define SYS_getppid 110

struct owned {
	__u64 tag;
	__u32 count;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} task_store SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} inode_store SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} sk_store SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_STACK_BUILD_ID);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_DEPTH * sizeof(struct bpf_stack_build_id));
} build_ids SEC(".maps");

/* [0] kernel stack id, [1] user stack id, [2] user build-id stack id, [3] hits. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s64);
} ids SEC(".maps");

const volatile __u32 target_tgid = 0;

static void put(__u32 slot, __s64 v)
{
	bpf_map_update_elem(&ids, &slot, &v, BPF_ANY);
}

SEC("raw_tp/sys_enter")
int stack_on_getppid(__u64 *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid || ctx[1] != SYS_getppid)
		return 0;
	put(0, bpf_get_stackid(ctx, &stacks, BPF_F_REUSE_STACKID));
	put(1, bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK | BPF_F_REUSE_STACKID));
	put(2, bpf_get_stackid(ctx, &build_ids, BPF_F_USER_STACK | BPF_F_REUSE_STACKID));
	__u32 slot = 3;
	__s64 *hits = bpf_map_lookup_elem(&ids, &slot);
	if (hits)
		__sync_fetch_and_add(hits, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
