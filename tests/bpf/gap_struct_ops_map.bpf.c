// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 3: a struct_ops map defined in .maps with the kernel struct it implements as
 * its value type (and a key type). The kernel refuses the object's types for struct_ops maps:
 * it wants a 4-byte key and, as value, its own `struct bpf_struct_ops_<name>` (by vmlinux BTF
 * id). The loader creates it so. bpf_dummy_ops is the kernel's test struct_ops type. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_dummy_ops {
	int (*test_1)(void *state);
};

struct {
	__uint(type, BPF_MAP_TYPE_STRUCT_OPS);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct bpf_dummy_ops);
} dummy_ops SEC(".maps");

SEC("syscall")
int noop(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
