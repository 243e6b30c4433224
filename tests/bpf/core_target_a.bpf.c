// SPDX-License-Identifier: (MIT OR Apache-2.0)
// CO-RE target layout A for core_local.bpf.c: only its .BTF is used (as target BTF).
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct bar {
	long pad;
	int y;		/* moved: offset 8 */
	int x;
};

struct foo {
	long b;			/* 0 */
	int a;			/* 8 */
	short d;		/* 12: signed, smaller */
	unsigned long c;	/* 16: unsigned, larger */
	int pad0;		/* 24 */
	unsigned int bf1 : 7;	/* bits 224..230 */
	int bf2 : 12;		/* bits 231..242 */
	struct {
		long pad1;	/* 32 */
		union {
			int u1;	/* 40 */
			long u2;
		};
	};
	int arr[8];		/* 48 */
	struct bar *p;		/* 80 */
};

struct fl {
	long pad;
	int only;		/* 8 */
};

struct flex {
	long n;
	int data[];		/* 8 */
};

struct amb {
	long pad;
	int v;			/* 8 */
};

struct amb___two {
	int v;			/* 0 */
};

struct same {
	int v;
};

struct same___two {
	int v;
	long more;
};

struct tm {
	int a;
	long b;
	char extra;
};

enum color { GREEN = 20, RED = 10 };
enum big { BIGV = 0xfffffff0u };
enum huge { HUGEV = 0xabcdef012345ull };

struct foo g_foo;
struct bar g_bar;
struct fl g_fl;
struct flex g_flex;
struct amb g_amb;
struct amb___two g_amb2;
struct same g_same;
struct same___two g_same2;
struct tm g_tm;
enum color g_color;
enum big g_big;
enum huge g_huge;
