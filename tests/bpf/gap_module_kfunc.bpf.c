// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 1, for a kernel module's kfuncs: nf_conntrack's bpf_xdp_ct_lookup and
 * bpf_ct_release live in the module's BTF. The loader resolves them there (the call's `off`
 * indexes the module BTF fd in fd_array; bpf_ksym_exists' ld_imm64 carries that fd), and to 0
 * when no loaded module has them (__weak): the guarded calls are then dead code. */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

/* The 12-byte options every kernel since 5.18 takes (NF_BPF_CT_OPTS_SZ). */
struct bpf_ct_opts___gap {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u8 reserved[2];
};

struct nf_conn;

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *tuple,
					 __u32 tuple__sz, struct bpf_ct_opts___gap *opts,
					 __u32 opts__sz) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

int has_ct_lookup = -1;
int lookup_error = 1;
int found;

SEC("xdp")
int ct_lookup(struct xdp_md *ctx)
{
	struct bpf_ct_opts___gap opts = { .netns_id = -1, .l4proto = IPPROTO_TCP };
	struct bpf_sock_tuple tup = {};
	struct nf_conn *ct;

	has_ct_lookup = !!bpf_xdp_ct_lookup;
	if (!bpf_xdp_ct_lookup || !bpf_ct_release)
		return XDP_PASS;
	/* No connection has an all-zero tuple: ENOENT in opts.error. */
	ct = bpf_xdp_ct_lookup(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
	lookup_error = opts.error;
	if (ct) {
		found = 1;
		bpf_ct_release(ct);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
