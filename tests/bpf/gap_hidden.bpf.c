// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Issue 12, item 2: a global subprogram marked __hidden (as libbpf's usdt.bpf.h marks
 * bpf_usdt_arg) is static to the verifier: libbpf makes its BTF FUNC static, so it is checked
 * with its caller's argument (a stack pointer). Checked on its own as a global function, its
 * argument could be NULL and the dereference is refused ("invalid mem access
 * 'mem_or_null'"). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__hidden __attribute__((noinline)) int read_twice(int *p)
{
	return *p + *p;
}

int seen;

SEC("syscall")
int call_hidden(void *ctx)
{
	int v = 21;

	seen = read_twice(&v);
	return seen;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
