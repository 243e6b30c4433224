// SPDX-License-Identifier: (MIT OR Apache-2.0)
// CO-RE against a user-named target BTF (tests/core.rs, as root): `struct foo` as
// core_local.bpf.c declares it, loaded with the .BTF of core_target_a/b.bpf.o as target.
// `layout` reports what the relocations resolved to; `poisoned` reads a field layout A
// lacks, unguarded, so the verifier rejects it there.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct foo {
	int a;
	long b;
	unsigned int c;
	int d;
	unsigned int bf1 : 3;
	int bf2 : 5;
	union {
		int u1;
		long u2;
	};
	int arr[4];
	void *p;
	int missing;
} __attribute__((preserve_access_index));

enum color { RED = 1, GREEN = 2, BLUE = 3 };

__u64 off_a, off_c, off_u1, off_arr2, size_foo, size_c, has_missing, green, has_blue;
__u64 lshift_bf2, rshift_bf2;
int sink;

SEC("syscall")
int layout(void *ctx)
{
	struct foo *f = 0;

	off_a = bpf_core_field_offset(f->a);
	off_c = bpf_core_field_offset(f->c);
	off_u1 = bpf_core_field_offset(f->u1);
	off_arr2 = bpf_core_field_offset(f->arr[2]);
	size_foo = bpf_core_type_size(struct foo);
	size_c = bpf_core_field_size(f->c);
	has_missing = bpf_core_field_exists(f->missing);
	green = bpf_core_enum_value(enum color, GREEN);
	has_blue = bpf_core_enum_value_exists(enum color, BLUE);
	lshift_bf2 = __builtin_preserve_field_info(f->bf2, BPF_FIELD_LSHIFT_U64);
	rshift_bf2 = __builtin_preserve_field_info(f->bf2, BPF_FIELD_RSHIFT_U64);
	return 0;
}

SEC("syscall")
int poisoned(void *ctx)
{
	struct foo *f = 0;

	sink = BPF_CORE_READ(f, missing);
	return 0;
}
