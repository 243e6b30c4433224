// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* A USDT program for an object built against a usdt.bpf.h with scale-index-base arguments
 * (libbpf 1.7 added BPF_USDT_ARG_SIB; the system's libbpf 1.1 header predates it). The spec
 * types below follow that header's layout (arg_type narrowed to an 8-bit bitfield followed by
 * idx_reg_off:12 and scale_bitshift:4); rawbpf reads the layout from this object's BTF.
 * usdt_sib reads argument 0 (a register) and argument 1 (base + index * scale + offset) of
 * rawbpf_test:sib into sib_args[0], sib_args[1], and counts its runs in sib_args[2]. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

enum __bpf_usdt_arg_type {
	BPF_USDT_ARG_CONST,
	BPF_USDT_ARG_REG,
	BPF_USDT_ARG_REG_DEREF,
	BPF_USDT_ARG_SIB,
};

struct __bpf_usdt_arg_spec {
	__u64 val_off;
	enum __bpf_usdt_arg_type arg_type : 8;
	__u16 idx_reg_off : 12;
	__u16 scale_bitshift : 4;
	__u8 __reserved : 8;
	short reg_off;
	bool arg_signed;
	char arg_bitshift;
};

struct __bpf_usdt_spec {
	struct __bpf_usdt_arg_spec args[12];
	__u64 usdt_cookie;
	short arg_cnt;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, int);
	__type(value, struct __bpf_usdt_spec);
} __bpf_usdt_specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __s64);
} sib_args SEC(".maps");

static __always_inline __u64 reg_at(struct pt_regs *ctx, short off)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx + off);
	return v;
}

static __always_inline void put(__u32 i, __s64 v)
{
	bpf_map_update_elem(&sib_args, &i, &v, BPF_ANY);
}

SEC("usdt")
int usdt_sib(struct pt_regs *ctx)
{
	int id = bpf_get_attach_cookie(ctx);
	struct __bpf_usdt_spec *spec = bpf_map_lookup_elem(&__bpf_usdt_specs, &id);
	struct __bpf_usdt_arg_spec *a;
	__u64 v = 0, addr;
	__u32 k = 2;
	__s64 *runs;

	if (!spec || spec->arg_cnt != 2)
		return 0;
	a = &spec->args[0];
	if (a->arg_type != BPF_USDT_ARG_REG)
		return 0;
	put(0, reg_at(ctx, a->reg_off));
	a = &spec->args[1];
	if (a->arg_type != BPF_USDT_ARG_SIB)
		return 0;
	addr = reg_at(ctx, a->reg_off) + (reg_at(ctx, a->idx_reg_off) << a->scale_bitshift) + a->val_off;
	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	put(1, v);
	runs = bpf_map_lookup_elem(&sib_args, &k);
	if (runs)
		__sync_fetch_and_add(runs, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
