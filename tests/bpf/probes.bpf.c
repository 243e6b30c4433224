// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Programs of tests/link_probes.rs: one per perf-event attach family, each counting its runs
 * in counts[SLOT] and recording what it saw (an argument, a return value, its BPF cookie) in
 * vals[SLOT] / vals[SLOT + 1]. Kernel-side programs only count the thread whose id is in
 * target[0]; uprobes are limited to the target process by their attach pid. */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <stdbool.h>
#include <bpf/usdt.bpf.h>

enum {
	S_TP = 0,      /* tracepoint syscalls/sys_enter_getppid: vals = cookie */
	S_KPROBE = 2,  /* kprobe on the getppid syscall function: vals = cookie */
	S_KRET = 4,    /* kretsyscall getppid: vals = return value */
	S_KMULTI = 6,  /* kprobe.multi: vals = cookie */
	S_UPROBE = 8,  /* uprobe probe_add: vals = a, b */
	S_URET = 10,   /* uretprobe probe_add: vals = return value */
	S_ULIB = 12,   /* uprobe on libc getpid */
	S_UMULTI = 14, /* uprobe.multi: vals = cookie */
	S_PERF = 16,   /* perf_event cpu-clock */
	S_USDT = 18,   /* usdt: vals = arg count, then args 0..3 in usdt_args */
	NSLOTS = 24,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NSLOTS);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __s64);
} usdt_args SEC(".maps");

/* The thread kernel-side programs count (set by the test before it triggers). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

static __always_inline int ours(void)
{
	__u32 k = 0, *t = bpf_map_lookup_elem(&target, &k);

	return t && *t == (__u32)bpf_get_current_pid_tgid();
}

static __always_inline void hit(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &slot);

	if (c)
		__sync_fetch_and_add(c, 1);
}

static __always_inline void record(__u32 slot, __u64 v)
{
	bpf_map_update_elem(&vals, &slot, &v, BPF_ANY);
}

SEC("tp/syscalls/sys_enter_getppid")
int tp_getppid(void *ctx)
{
	if (!ours())
		return 0;
	hit(S_TP);
	record(S_TP, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("ksyscall/getppid")
int kprobe_getppid(struct pt_regs *ctx)
{
	if (!ours())
		return 0;
	hit(S_KPROBE);
	record(S_KPROBE, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kretsyscall/getppid")
int kret_getppid(struct pt_regs *ctx)
{
	if (!ours())
		return 0;
	hit(S_KRET);
	record(S_KRET, PT_REGS_RC(ctx));
	return 0;
}

SEC("kprobe.multi/__x64_sys_getppid")
int kmulti_getppid(struct pt_regs *ctx)
{
	if (!ours())
		return 0;
	hit(S_KMULTI);
	record(S_KMULTI, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uprobe")
int uprobe_add(struct pt_regs *ctx)
{
	hit(S_UPROBE);
	record(S_UPROBE, PT_REGS_PARM1(ctx));
	record(S_UPROBE + 1, PT_REGS_PARM2(ctx));
	return 0;
}

SEC("uretprobe")
int uret_add(struct pt_regs *ctx)
{
	hit(S_URET);
	record(S_URET, PT_REGS_RC(ctx));
	record(S_URET + 1, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("uprobe")
int uprobe_libc(struct pt_regs *ctx)
{
	hit(S_ULIB);
	return 0;
}

SEC("uprobe.multi")
int umulti(struct pt_regs *ctx)
{
	hit(S_UMULTI);
	record(S_UMULTI, bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("perf_event")
int on_sample(void *ctx)
{
	hit(S_PERF);
	return 0;
}

static __always_inline void usdt_arg_to(struct pt_regs *ctx, __u32 i)
{
	long v = 0;
	__s64 r = bpf_usdt_arg(ctx, i, &v) ? -1000 - (__s64)i : v;

	bpf_map_update_elem(&usdt_args, &i, &r, BPF_ANY);
}

SEC("usdt")
int usdt_probe(struct pt_regs *ctx)
{
	hit(S_USDT);
	record(S_USDT, bpf_usdt_arg_cnt(ctx));
	record(S_USDT + 1, bpf_usdt_cookie(ctx));
	usdt_arg_to(ctx, 0);
	usdt_arg_to(ctx, 1);
	usdt_arg_to(ctx, 2);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
