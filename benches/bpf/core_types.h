/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel types core.bpf.c uses, hand-written in place of a bpftool-generated vmlinux.h so
 * that core.bpf.o builds the same on every kernel (and without bpftool).
 *
 * Only the fields the programs touch are declared. Every struct carries
 * preserve_access_index (vmlinux.h applies it to all records through
 * `#pragma clang attribute push`), so each access is recorded as a CO-RE relocation and the
 * offsets below are placeholders: the loader resolves them against the kernel's BTF by name.
 * The field TYPES do matter (BPF_CORE_READ reads sizeof(field) bytes, and the ctx loads of
 * handle_switch are direct), so they are the kernel's: checked against 6.18's BTF, and stable
 * across kernels for these fields. mm_struct keeps the kernel's anonymous wrapper struct so
 * that its relocations take the same access path as with vmlinux.h.
 *
 * The uapi values (map types, BPF_ANY) are declared here too, so the object needs no
 * /usr/include/linux or /usr/include/<arch> headers: only libbpf's (bpf/bpf_helpers.h & co).
 */
#ifndef RAWBPF_BENCH_CORE_TYPES_H
#define RAWBPF_BENCH_CORE_TYPES_H

/* Basic types, as in the kernel's asm-generic/int-ll64.h (and vmlinux.h). */
typedef signed char __s8;
typedef unsigned char __u8;
typedef short int __s16;
typedef short unsigned int __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long int __s64;
typedef long long unsigned int __u64;
typedef __s8 s8;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __s32 s32;
typedef __u32 u32;
typedef __s64 s64;
typedef __u64 u64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u64 __be64;
typedef __u16 __le16;
typedef __u32 __le32;
typedef __u64 __le64;
typedef __u32 __wsum;
typedef __u16 __sum16;
typedef _Bool bool;
typedef int pid_t;

/* uapi/linux/bpf.h values used by the map definitions and map updates. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_ANY = 0,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	s64 counter;
} atomic64_t;

typedef struct {
	u32 val;
} kuid_t;

typedef struct {
	u32 val;
} kgid_t;

typedef struct {
	u64 val;
} kernel_cap_t;

/* Context of raw_tp programs (uapi). */
struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

/* Context of the tracepoint sched/sched_switch. */
struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

struct trace_event_raw_sched_switch {
	struct trace_entry ent;
	char prev_comm[16];
	pid_t prev_pid;
	int prev_prio;
	long prev_state;
	char next_comm[16];
	pid_t next_pid;
	int next_prio;
	char __data[0];
};

struct sched_entity {
	u64 sum_exec_runtime;
	u64 vruntime;
};

struct mm_struct {
	struct {
		int map_count;
		unsigned long hiwater_rss;
		unsigned long total_vm;
		unsigned long locked_vm;
		atomic64_t pinned_vm;
		unsigned long data_vm;
		unsigned long exec_vm;
		unsigned long stack_vm;
		unsigned long start_code;
		unsigned long end_code;
		unsigned long start_brk;
		unsigned long brk;
	};
};

struct fdtable {
	unsigned int max_fds;
};

struct files_struct {
	struct fdtable *fdt;
	unsigned int next_fd;
};

struct fs_struct {
	int users;
	int umask;
};

struct signal_struct {
	int nr_threads;
};

struct pid_namespace {
	unsigned int level;
};

struct nsproxy {
	struct pid_namespace *pid_ns_for_children;
};

struct user_namespace {
	int level;
};

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kgid_t sgid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	kgid_t fsgid;
	unsigned int securebits;
	kernel_cap_t cap_effective;
	struct user_namespace *user_ns;
};

struct task_struct {
	unsigned int flags;
	int prio;
	int static_prio;
	int normal_prio;
	struct sched_entity se;
	unsigned int policy;
	int nr_cpus_allowed;
	struct mm_struct *mm;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	u64 utime;
	u64 stime;
	unsigned long nvcsw;
	unsigned long nivcsw;
	const struct cred *real_cred;
	char comm[16];
	struct fs_struct *fs;
	struct files_struct *files;
	struct nsproxy *nsproxy;
	struct signal_struct *signal;
	kuid_t loginuid;
};

/* Only passed through (handle_exec's third argument). */
struct linux_binprm {
	struct mm_struct *mm;
};

#pragma clang attribute pop

#endif /* RAWBPF_BENCH_CORE_TYPES_H */
