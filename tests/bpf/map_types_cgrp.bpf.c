// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Cgroup local storage (BPF_MAP_TYPE_CGRP_STORAGE, Linux 6.2) for tests/map_types.rs, alone in
 * its object so that the other map types load on older kernels. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef BPF_MAP_TYPE_CGRP_STORAGE
#define BPF_MAP_TYPE_CGRP_STORAGE 32
#endif

struct owned {
	__u64 tag;
	__u32 count;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_CGRP_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct owned);
} cgrp_store SEC(".maps");

char LICENSE[] SEC("license") = "Dual MIT/GPL";
