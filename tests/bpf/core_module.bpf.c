// SPDX-License-Identifier: (MIT OR Apache-2.0)
// CO-RE on types of kernel modules (tests/module_btf.rs, as root): `struct veth_priv` and
// `struct veth_rq` (veth.ko) and `struct tcf_bpf` (act_bpf.ko). On Debian's kernels they
// are only in the modules' split BTF (/sys/kernel/btf/veth, /sys/kernel/btf/act_bpf), never
// in vmlinux; a kernel may also have them built in (in vmlinux) or not at all. No
// vmlinux.h: they are declared here with their fields in another order, so every answer
// must come from the kernel's BTF.
//
// `probe_module` asks only existence questions (0 when no BTF has the type, so it loads on
// every kernel); `veth_layout` and `act_layout` ask offsets and sizes, which CO-RE poisons
// when no BTF has the type, so they load only where some BTF has it.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct net_device;

typedef struct {
	long long counter;
} atomic64_t;

struct veth_rq {
	void *page_pool; /* 6.12 has it, 6.1 does not */
	void *xdp_prog;
} __attribute__((preserve_access_index));

struct veth_priv {
	unsigned int requested_headroom;
	struct veth_rq *rq;
	atomic64_t dropped;
	struct net_device *peer;
} __attribute__((preserve_access_index));

struct tcf_bpf {
	const char *bpf_name;
	void *bpf_ops;
	void *filter;
} __attribute__((preserve_access_index));

/* A flavor of veth_priv with a field no kernel has. */
struct veth_priv___rawbpf {
	int no_such_field;
} __attribute__((preserve_access_index));

/* In no BTF at all. */
struct rawbpf_no_such_module_type {
	int x;
};

/* probe_module answers */
__u32 te_priv, te_rq, te_act, te_none, fe_rq, fe_headroom, fe_page_pool, fe_act_name;
__u32 fe_fake, probe_runs;

/* veth_layout answers */
__u32 off_peer, off_dropped, off_rq, off_headroom, sz_headroom, sz_priv, off_rq_xdp_prog;
__u32 layout_runs;

/* act_layout answers */
__u32 off_act_filter, off_act_ops, off_act_name, sz_act, act_runs;

SEC("syscall")
int probe_module(void *ctx)
{
	te_priv = bpf_core_type_exists(struct veth_priv);
	te_rq = bpf_core_type_exists(struct veth_rq);
	te_act = bpf_core_type_exists(struct tcf_bpf);
	te_none = bpf_core_type_exists(struct rawbpf_no_such_module_type);
	fe_rq = bpf_core_field_exists(struct veth_priv, rq);
	fe_headroom = bpf_core_field_exists(struct veth_priv, requested_headroom);
	fe_page_pool = bpf_core_field_exists(struct veth_rq, page_pool);
	fe_act_name = bpf_core_field_exists(struct tcf_bpf, bpf_name);
	fe_fake = bpf_core_field_exists(struct veth_priv___rawbpf, no_such_field);
	probe_runs++;
	return 0;
}

SEC("syscall")
int veth_layout(void *ctx)
{
	off_peer = bpf_core_field_offset(struct veth_priv, peer);
	off_dropped = bpf_core_field_offset(struct veth_priv, dropped);
	off_rq = bpf_core_field_offset(struct veth_priv, rq);
	off_headroom = bpf_core_field_offset(struct veth_priv, requested_headroom);
	sz_headroom = bpf_core_field_size(struct veth_priv, requested_headroom);
	sz_priv = bpf_core_type_size(struct veth_priv);
	off_rq_xdp_prog = bpf_core_field_offset(struct veth_rq, xdp_prog);
	layout_runs++;
	return 0;
}

SEC("syscall")
int act_layout(void *ctx)
{
	off_act_filter = bpf_core_field_offset(struct tcf_bpf, filter);
	off_act_ops = bpf_core_field_offset(struct tcf_bpf, bpf_ops);
	off_act_name = bpf_core_field_offset(struct tcf_bpf, bpf_name);
	sz_act = bpf_core_type_size(struct tcf_bpf);
	act_runs++;
	return 0;
}
