// SPDX-License-Identifier: (MIT OR Apache-2.0)
/* The user-space side of tests/link_probes.rs: a small program with a function to uprobe
 * (probe_add), calls into libc (getpid), and one USDT probe, rawbpf_test:probe, whose note
 * (written by hand: no sys/sdt.h) has one argument of each x86-64 kind:
 *   -4@$-7                 constant
 *   8@%rdi                 register (the value passed to "fire")
 *   8@8(%rsi)              register dereference (values[1])
 * and a semaphore the kernel raises while the probe is attached; and rawbpf_test:sib
 * (8@%rdi 8@16(%rdx,%rcx,8), no semaphore), which "fire" always runs.
 *
 * Commands, one per line on stdin; each prints one line:
 *   add A B   -> A+B (through probe_add)
 *   getpid    -> getpid()
 *   fire X    -> the semaphore after the probe site ran (it runs only while the semaphore is
 *                raised, as sys/sdt.h users do)
 *   sema      -> the semaphore
 *   quit
 * Built by tests/bpf/build.sh (clang-19, no build id, reproducible). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((used, section(".probes"))) volatile unsigned short rawbpf_test_probe_semaphore;

long values[6] = {11, 22, 33, 44, 55, 66};

__attribute__((noinline, used)) int probe_add(int a, int b)
{
	__asm__ __volatile__("" ::: "memory");
	return a + b;
}
static int (*volatile add_ptr)(int, int) = probe_add;

__attribute__((noinline, used)) void probe_site(long x, long *base, long idx)
{
	__asm__ __volatile__(
		"990: nop\n"
		".pushsection .note.stapsdt,\"?\",\"note\"\n"
		".balign 4\n"
		".4byte 992f-991f, 994f-993f, 3\n"
		"991: .asciz \"stapsdt\"\n"
		"992: .balign 4\n"
		"993: .8byte 990b\n"
		".8byte _.stapsdt.base\n"
		".8byte rawbpf_test_probe_semaphore\n"
		".asciz \"rawbpf_test\"\n"
		".asciz \"probe\"\n"
		".asciz \"-4@$-7 8@%%rdi 8@8(%%rsi)\"\n"
		"994: .balign 4\n"
		".popsection\n"
		".ifndef _.stapsdt.base\n"
		".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"
		".weak _.stapsdt.base\n"
		".hidden _.stapsdt.base\n"
		"_.stapsdt.base: .space 1\n"
		".size _.stapsdt.base, 1\n"
		".popsection\n"
		".endif\n"
		:: "D"(x), "S"(base), "d"(base), "c"(idx) : "memory");
}
static void (*volatile site_ptr)(long, long *, long) = probe_site;

/* rawbpf_test:sib, no semaphore: 8@%rdi and a scale-index-base argument (values[4]). */
__attribute__((noinline, used)) void sib_site(long x, long *base, long idx)
{
	__asm__ __volatile__(
		"990: nop\n"
		".pushsection .note.stapsdt,\"?\",\"note\"\n"
		".balign 4\n"
		".4byte 992f-991f, 994f-993f, 3\n"
		"991: .asciz \"stapsdt\"\n"
		"992: .balign 4\n"
		"993: .8byte 990b\n"
		".8byte _.stapsdt.base\n"
		".8byte 0\n"
		".asciz \"rawbpf_test\"\n"
		".asciz \"sib\"\n"
		".asciz \"8@%%rdi 8@16(%%rdx,%%rcx,8)\"\n"
		"994: .balign 4\n"
		".popsection\n"
		".ifndef _.stapsdt.base\n"
		".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"
		".weak _.stapsdt.base\n"
		".hidden _.stapsdt.base\n"
		"_.stapsdt.base: .space 1\n"
		".size _.stapsdt.base, 1\n"
		".popsection\n"
		".endif\n"
		:: "D"(x), "S"(base), "d"(base), "c"(idx) : "memory");
}
static void (*volatile sib_ptr)(long, long *, long) = sib_site;

int main(void)
{
	char line[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		long a = 0, b = 0;
		if (sscanf(line, "add %ld %ld", &a, &b) == 2) {
			printf("%d\n", add_ptr((int)a, (int)b));
		} else if (strncmp(line, "getpid", 6) == 0) {
			printf("%d\n", (int)getpid());
		} else if (sscanf(line, "fire %ld", &a) == 1) {
			if (rawbpf_test_probe_semaphore)
				site_ptr(a, values, 2);
			sib_ptr(a, values, 2);
			printf("%u\n", (unsigned)rawbpf_test_probe_semaphore);
		} else if (strncmp(line, "sema", 4) == 0) {
			printf("%u\n", (unsigned)rawbpf_test_probe_semaphore);
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		} else {
			printf("?\n");
		}
	}
	return 0;
}
