// SPDX-License-Identifier: (MIT OR Apache-2.0)
// CO-RE against the running kernel (tests/core.rs, as root). No vmlinux.h: the kernel types
// are declared here with only the fields used, at made-up offsets, so every access needs
// CO-RE to land right. Both programs run on sys_enter of the thread `target_tid` only.
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

typedef struct {
	__u32 val;
} kuid_t;

struct cred {
	kuid_t uid;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	char comm[16];
	struct task_struct *real_parent;
	const struct cred *cred;
} __attribute__((preserve_access_index));

/* Does not exist in any kernel: a flavor of task_struct with a field it lacks. */
struct task_struct___fake {
	int no_such_field;
} __attribute__((preserve_access_index));

struct no_such_type_rawbpf {
	int x;
};

struct list_head {
	struct list_head *next, *prev;
};

/* Same name, incompatible layout: TYPE_MATCHES fails. */
struct list_head___bad {
	int next;
};

enum bpf_map_type___rb {
	BPF_MAP_TYPE_RINGBUF___rb = 99,
	BPF_MAP_TYPE_NO_SUCH___rb = 100,
};

const volatile __u32 target_tid = 0;

/* task program results */
__u32 task_hits, r_pid, r_tgid, r_ppid, r_uid;
char r_comm[16];

/* answers program results */
__u32 ans_hits;
__u32 fe_pid, fe_fake, te_task, te_fake, tm_list, tm_bad;
__u32 ev_rb, ev_none, fs_pid, fs_comm, off_tgid, ts_task;
__u64 val_rb;

static __always_inline int mine(void)
{
	return (__u32)bpf_get_current_pid_tgid() == target_tid;
}

SEC("tp_btf/sys_enter")
int read_task(unsigned long long *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	if (!mine())
		return 0;
	r_pid = BPF_CORE_READ(t, pid);
	r_tgid = BPF_CORE_READ(t, tgid);
	r_ppid = BPF_CORE_READ(t, real_parent, tgid);
	r_uid = BPF_CORE_READ(t, cred, uid.val);
	BPF_CORE_READ_STR_INTO(&r_comm, t, comm);
	__sync_fetch_and_add(&task_hits, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int answers(unsigned long long *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	if (!mine())
		return 0;
	fe_pid = bpf_core_field_exists(t->pid);
	fe_fake = bpf_core_field_exists(((struct task_struct___fake *)t)->no_such_field);
	te_task = bpf_core_type_exists(struct task_struct);
	te_fake = bpf_core_type_exists(struct no_such_type_rawbpf);
	tm_list = bpf_core_type_matches(struct list_head);
	tm_bad = bpf_core_type_matches(struct list_head___bad);
	ev_rb = bpf_core_enum_value_exists(enum bpf_map_type___rb, BPF_MAP_TYPE_RINGBUF___rb);
	ev_none = bpf_core_enum_value_exists(enum bpf_map_type___rb, BPF_MAP_TYPE_NO_SUCH___rb);
	val_rb = bpf_core_enum_value(enum bpf_map_type___rb, BPF_MAP_TYPE_RINGBUF___rb);
	fs_pid = bpf_core_field_size(t->pid);
	fs_comm = bpf_core_field_size(t->comm);
	off_tgid = bpf_core_field_offset(t->tgid);
	ts_task = bpf_core_type_size(struct task_struct);
	__sync_fetch_and_add(&ans_hits, 1);
	return 0;
}
