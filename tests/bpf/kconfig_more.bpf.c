// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* More .kconfig externs: the LINUX_HAS_* answers the loader computes, a tristate, a string
 * and a number from the kernel config, and a weak option no kernel has (reads as 0). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[16] __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern int CONFIG_RAWBPF_NO_SUCH_OPTION __kconfig __weak;

__u32 has_cookie;
__u32 has_wrapper;
__u32 bpf_jit;
int hz;
int no_such_option = -1;
char hostname[16];

SEC("syscall")
int read_kconfig(void *ctx)
{
	has_cookie = LINUX_HAS_BPF_COOKIE;
	has_wrapper = LINUX_HAS_SYSCALL_WRAPPER;
	bpf_jit = CONFIG_BPF_JIT;
	hz = CONFIG_HZ;
	no_such_option = CONFIG_RAWBPF_NO_SUCH_OPTION;
	__builtin_memcpy(hostname, CONFIG_DEFAULT_HOSTNAME, sizeof(hostname));
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
