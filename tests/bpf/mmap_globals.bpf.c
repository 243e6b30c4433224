// SPDX-License-Identifier: (MIT OR GPL-2.0)
/* Global data accessed through the mmap of its maps: `bump` (a syscall program, run with
 * BPF_PROG_TEST_RUN) counts its runs in .bss, copies a .data input set from user space into
 * .bss, and returns a .rodata value. `bump_locked` updates a variable next to a spin lock. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* .rodata: read-only for programs, frozen at load. */
const volatile __u64 ro_value = 77;
const volatile __u32 ro_small[3] = { 1, 2, 3 };

/* .data: written from user space through the mapping. */
__u64 data_input = 5;
__u8 data_bytes[5] = { 1, 2, 3, 4, 5 };

/* .bss: written by the program. */
__u64 bss_counter;
__u64 bss_seen_input;
__u32 bss_seen_bytes;

/* A section whose value holds a spin lock: the kernel refuses to mmap such a map, so the
 * loader reaches these through lookup/update. */
struct bpf_spin_lock locked_lock SEC(".data.locked");
__u64 locked_value SEC(".data.locked") = 3;

SEC("syscall")
int bump_locked(void *ctx)
{
	bpf_spin_lock(&locked_lock);
	locked_value += 10;
	bpf_spin_unlock(&locked_lock);
	return 0;
}

SEC("syscall")
int bump(void *ctx)
{
	__sync_fetch_and_add(&bss_counter, 1);
	bss_seen_input = data_input;
	bss_seen_bytes = data_bytes[0] + data_bytes[1] + data_bytes[2] + data_bytes[3] +
			 data_bytes[4];
	return ro_value + ro_small[2];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
