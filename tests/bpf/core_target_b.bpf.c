// SPDX-License-Identifier: (MIT OR Apache-2.0)
// CO-RE target layout B for core_local.bpf.c: same layout as local for most fields, a
// flavored target type name, a signed/unsigned mismatch for TYPE_MATCHES, no `struct amb`.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct bar {
	int x;
	int y;
};

struct foo___v2 {
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
	struct bar *p;
	int missing;
};

struct fl {
	int only;
};

struct flex {
	int n;
	int data[];
};

struct tm {
	unsigned int a;
	long b;
};

enum color { RED = 1, GREEN = 2, BLUE = 3 };
enum big { BIGV = 0x80000000u };
enum huge { HUGEV = 0x123456789ull };

struct foo___v2 g_foo;
struct bar g_bar;
struct fl g_fl;
struct flex g_flex;
struct tm g_tm;
enum color g_color;
enum big g_big;
enum huge g_huge;
