// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* A typed ksym: a per-CPU kernel variable described in vmlinux BTF, read through
 * bpf_this_cpu_ptr. The loader resolves it to the kernel BTF id of the VAR
 * (BPF_PSEUDO_BTF_ID); the kernel then needs the symbol's address from kallsyms, so this only
 * loads on kernels built with CONFIG_KALLSYMS_ALL (not the 6.18 CI kernel: ENOENT,
 * "ldimm64 failed to find the address for kernel symbol"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const int bpf_prog_active __ksym;

int prog_active;

SEC("syscall")
int read_typed_ksym(void *ctx)
{
	const int *active = bpf_this_cpu_ptr(&bpf_prog_active);

	prog_active = *active;
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
