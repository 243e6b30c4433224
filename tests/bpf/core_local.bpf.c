// SPDX-License-Identifier: (MIT OR Apache-2.0)
// CO-RE "local" object: programs that access `struct foo` & co. as this file declares them.
// tests/core.rs relocates it against the BTF of core_target_a/b.bpf.o (other layouts) and
// asserts every fixup. The programs are never run.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct bar {
	int x;
	int y;
} __attribute__((preserve_access_index));

struct foo {
	int a;
	long b;
	unsigned int c;	/* target a: unsigned long (safe resize), b: same */
	int d;		/* target a: short (unsafe resize: load poisoned) */
	unsigned int bf1 : 3;
	int bf2 : 5;
	union {
		int u1;
		long u2;
	};
	int arr[4];
	struct bar *p;
	int missing;	/* absent from target a */
} __attribute__((preserve_access_index));

/* A flavored local type: matches target `struct fl` by essential name. */
struct fl___local {
	int only;
} __attribute__((preserve_access_index));

struct flex {
	int n;
	int data[];
} __attribute__((preserve_access_index));

/* Present in no target. */
struct nothere {
	int z;
} __attribute__((preserve_access_index));

/* Two target candidates with the field at different offsets. */
struct amb {
	int v;
} __attribute__((preserve_access_index));

/* Two target candidates with the field at the same offset: not ambiguous. */
struct same {
	int v;
} __attribute__((preserve_access_index));

struct tm {
	int a;
	long b;
};

enum color { RED = 1, GREEN = 2, BLUE = 3 };
enum big { BIGV = 0x80000000u };
enum huge { HUGEV = 0x123456789ull };

/* Field offsets, sizes and loads. */
SEC("tp_btf/sys_enter")
int fields(unsigned long long *ctx)
{
	struct foo *f = (void *)ctx[0];
	long r = 0;

	r += f->a;		/* LDX off 0 */
	r += f->b;		/* LDX off 8 */
	r += f->c;		/* LDX u32 off 16 */
	r += f->d;		/* LDX s32 off 20 */
	r += f->u1;		/* anonymous union */
	r += f->arr[2];		/* array element */
	r += BPF_CORE_READ(f, p, y);
	r += bpf_core_field_size(f->b);
	r += bpf_core_field_exists(f->missing);
	if (bpf_core_field_exists(f->missing))
		r += f->missing;	/* poisoned where missing, guarded */
	return r;
}

/* Bitfields: offset, size, shifts, signedness. */
SEC("tp_btf/sys_enter")
int bitfields(unsigned long long *ctx)
{
	struct foo *f = (void *)ctx[0];

	return BPF_CORE_READ_BITFIELD_PROBED(f, bf1) + BPF_CORE_READ_BITFIELD_PROBED(f, bf2);
}

/* Types: exists, size, matches, ids. */
SEC("tp_btf/sys_enter")
int types(unsigned long long *ctx)
{
	long r = 0;

	r += bpf_core_type_exists(struct foo);
	r += bpf_core_type_exists(struct nothere);
	r += bpf_core_type_size(struct foo);
	r += bpf_core_type_matches(struct tm);
	r += bpf_core_type_id_local(struct foo);
	r += bpf_core_type_id_kernel(struct foo);
	return r;
}

/* Enums: exists and values, 32-bit unsigned and 64-bit. */
SEC("tp_btf/sys_enter")
int enums(unsigned long long *ctx)
{
	long r = 0;

	r += bpf_core_enum_value_exists(enum color, BLUE);
	r += bpf_core_enum_value(enum color, GREEN);
	r += bpf_core_enum_value(enum big, BIGV);
	r += bpf_core_enum_value(enum huge, HUGEV);
	return r;
}

/* Flavors, flexible arrays, missing types, ambiguity. */
SEC("tp_btf/sys_enter")
int misc(unsigned long long *ctx)
{
	struct fl___local *l = (void *)ctx[0];
	struct flex *x = (void *)ctx[1];
	struct nothere *n = (void *)ctx[2];
	long r = 0;

	r += l->only;
	r += x->data[3];
	r += n->z;		/* no candidate: poisoned */
	r += BPF_CORE_READ(x, n);
	return r;
}

SEC("tp_btf/sys_enter")
int ambiguous(unsigned long long *ctx)
{
	struct amb *a = (void *)ctx[0];
	struct same *s = (void *)ctx[1];

	return a->v + s->v;
}
