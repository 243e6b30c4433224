// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* A target BTF for gap_core_narrow.bpf.c (given to Loader::target_btf as an ELF object: its
 * .BTF): two flavors of `struct gap_pair`, each with only one of the local fields. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct gap_pair___has_a {
	long pad;
	int a;
};

struct gap_pair___has_b {
	int pad[3];
	int b;
};

struct gap_pair___has_a keep_a;
struct gap_pair___has_b keep_b;

char LICENSE[] SEC("license") = "Dual MIT/GPL";
