//! Attrs of the link and attach commands: `BPF_LINK_CREATE` and its per-attach-type tails,
//! `BPF_LINK_UPDATE`, `BPF_LINK_DETACH`, `BPF_ITER_CREATE`, `BPF_RAW_TRACEPOINT_OPEN`.

use super::layout;

/// `BPF_LINK_CREATE`: the common head and a per-attach-type tail `T` (the anonymous union at
/// offset 16 of `attr.link_create`). `LinkCreateAttr<()>` is the tail-less form (XDP, cgroup
/// without ordering, netns, sockmap, struct_ops).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCreateAttr<T> {
    /// The program (`map_fd` for struct_ops links).
    pub prog_fd: u32,
    /// Target fd or ifindex (a union).
    pub target_fd: u32,
    /// `enum bpf_attach_type`.
    pub attach_type: u32,
    /// Flags.
    pub flags: u32,
    /// The per-attach-type tail.
    pub tail: T,
}
layout!(LinkCreateAttr<()>, 16, attach_type @ 8, flags @ 12);

/// Tail of tracing/LSM/EXT links: `target_btf_id`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkTargetBtfId {
    /// BTF id of the target.
    pub target_btf_id: u32,
}
layout!(LinkCreateAttr<LinkTargetBtfId>, 20, tail @ 16);

/// Tail of iterator links: pointer to `union bpf_iter_link_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkIter {
    /// Pointer to `union bpf_iter_link_info`.
    pub iter_info: u64,
    /// Its size.
    pub iter_info_len: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(LinkCreateAttr<LinkIter>, 32, tail @ 16);

/// Tail of perf-event links.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkPerfEvent {
    /// Cookie returned by `bpf_get_attach_cookie`.
    pub bpf_cookie: u64,
}
layout!(LinkCreateAttr<LinkPerfEvent>, 24, tail @ 16);

/// Tail of kprobe.multi links.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkKprobeMulti {
    /// `BPF_F_KPROBE_MULTI_RETURN`.
    pub flags: u32,
    /// Number of entries of each array.
    pub cnt: u32,
    /// Pointer to an array of `const char *` symbol names.
    pub syms: u64,
    /// Pointer to an array of `u64` addresses.
    pub addrs: u64,
    /// Pointer to an array of `u64` cookies.
    pub cookies: u64,
}
layout!(LinkCreateAttr<LinkKprobeMulti>, 48, tail @ 16);
const _: () = assert!(std::mem::offset_of!(LinkKprobeMulti, cookies) == 24);

/// Tail of fentry/fexit/fmod_ret/LSM links with a cookie.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkTracing {
    /// BTF id of the target.
    pub target_btf_id: u32,
    /// Padding.
    pub _pad: u32,
    /// Cookie.
    pub cookie: u64,
}
layout!(LinkCreateAttr<LinkTracing>, 32, tail @ 16);

/// Tail of netfilter links.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkNetfilter {
    /// Protocol family (`NFPROTO_IPV4` = 2, `NFPROTO_IPV6` = 10).
    pub pf: u32,
    /// Hook number (`NF_INET_LOCAL_IN` = 1, …).
    pub hooknum: u32,
    /// Priority.
    pub priority: i32,
    /// `BPF_F_NETFILTER_IP_DEFRAG`.
    pub flags: u32,
}
layout!(LinkCreateAttr<LinkNetfilter>, 32, tail @ 16);

/// Tail of multi-program (mprog) links: tcx, netkit and ordered cgroup links.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkMprog {
    /// `relative_fd` or `relative_id` (a union).
    pub relative_fd: u32,
    /// Padding.
    pub _pad: u32,
    /// Expected revision (0: any).
    pub expected_revision: u64,
}
layout!(LinkCreateAttr<LinkMprog>, 32, tail @ 16);

/// Tail of uprobe.multi links.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkUprobeMulti {
    /// Pointer to the NUL-terminated binary path.
    pub path: u64,
    /// Pointer to `cnt` `u64` file offsets.
    pub offsets: u64,
    /// Pointer to `cnt` `u64` reference-counter offsets, or NULL.
    pub ref_ctr_offsets: u64,
    /// Pointer to `cnt` `u64` cookies, or NULL.
    pub cookies: u64,
    /// Number of probes.
    pub cnt: u32,
    /// `BPF_F_UPROBE_MULTI_RETURN`.
    pub flags: u32,
    /// Only fire for this pid (0: any).
    pub pid: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(LinkCreateAttr<LinkUprobeMulti>, 64, tail @ 16);
const _: () = assert!(std::mem::offset_of!(LinkUprobeMulti, cnt) == 32);

/// `union bpf_iter_link_info` (16 bytes): which map/cgroup/task an iterator walks.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IterLinkInfo {
    /// `map.map_fd`, `cgroup.order`, or `task.tid` depending on the iterator.
    pub a: u32,
    /// `cgroup.cgroup_fd` or `task.pid`.
    pub b: u32,
    /// `cgroup.cgroup_id` or `task.pid_fd` (low 32 bits).
    pub c: u64,
}
layout!(IterLinkInfo, 16);

/// `BPF_LINK_UPDATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkUpdateAttr {
    /// The link.
    pub link_fd: u32,
    /// New program (or `new_map_fd`).
    pub new_prog_fd: u32,
    /// `BPF_F_REPLACE`.
    pub flags: u32,
    /// Expected old program (with `BPF_F_REPLACE`; or `old_map_fd`).
    pub old_prog_fd: u32,
}
layout!(LinkUpdateAttr, 16, new_prog_fd @ 4, flags @ 8, old_prog_fd @ 12);

/// `BPF_LINK_DETACH`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkDetachAttr {
    /// The link.
    pub link_fd: u32,
}
layout!(LinkDetachAttr, 4);

/// `BPF_ITER_CREATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IterCreateAttr {
    /// The iterator link.
    pub link_fd: u32,
    /// Flags (must be 0).
    pub flags: u32,
}
layout!(IterCreateAttr, 8, flags @ 4);

/// `BPF_RAW_TRACEPOINT_OPEN`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawTracepointOpenAttr {
    /// Pointer to the NUL-terminated tracepoint name (NULL for tp_btf/tracing programs).
    pub name: u64,
    /// The program.
    pub prog_fd: u32,
    /// Padding.
    pub _pad: u32,
    /// Cookie.
    pub cookie: u64,
}
layout!(RawTracepointOpenAttr, 24, prog_fd @ 8, cookie @ 16);
