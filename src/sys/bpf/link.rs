//! Link commands: `LINK_CREATE` (one function per attr variant), `LINK_UPDATE`,
//! `LINK_DETACH`, `ITER_CREATE`, and `RAW_TRACEPOINT_OPEN`.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};

use super::super::attr::{
    IterCreateAttr, IterLinkInfo, LinkCreateAttr, LinkDetachAttr, LinkIter, LinkKprobeMulti,
    LinkMprog, LinkNetfilter, LinkPerfEvent, LinkTargetBtfId, LinkTracing, LinkUpdateAttr,
    LinkUprobeMulti, RawTracepointOpenAttr, ptr,
};
use super::super::fd::{raw, raw_opt};
use super::super::flags::AttachFlags;
use super::super::types::{AttachType, BpfCmd};
use super::super::{Errno, bpf, bpf_fd};
use super::prog::{AttachTarget, Relative};

fn create<T>(
    prog: BorrowedFd<'_>,
    target: u32,
    attach_type: AttachType,
    flags: u32,
    tail: T,
) -> Result<OwnedFd, Errno> {
    let mut attr = LinkCreateAttr {
        prog_fd: raw(prog),
        target_fd: target,
        attach_type: attach_type.0,
        flags,
        tail,
    };
    // SAFETY: callers build `tail` only from slices/CStrs borrowed for this call, with the
    // counts the kernel reads next to them; LINK_CREATE only reads through those pointers
    // and returns a new fd.
    unsafe { bpf_fd(BpfCmd::LINK_CREATE, &mut attr) }
}

/// `BPF_LINK_CREATE` without a per-type tail: XDP (target = ifindex), cgroup (target =
/// cgroup fd), netns (sk_lookup, flow_dissector: target = netns fd), sockmap verdicts
/// (target = map fd), tp_btf (`TRACE_RAW_TP`, target none), struct_ops (pass the map as
/// `prog`, attach type `STRUCT_OPS`).
pub fn link_create(
    prog: BorrowedFd<'_>,
    target: AttachTarget<'_>,
    attach_type: AttachType,
    flags: u32,
) -> Result<OwnedFd, Errno> {
    create(prog, target.raw_value(), attach_type, flags, ())
}

/// `BPF_LINK_CREATE` with `target_btf_id` (freplace/EXT onto a BTF function of `target`,
/// LSM, tracing).
pub fn link_create_target_btf_id(
    prog: BorrowedFd<'_>,
    target: Option<BorrowedFd<'_>>,
    attach_type: AttachType,
    target_btf_id: u32,
) -> Result<OwnedFd, Errno> {
    create(
        prog,
        raw_opt(target),
        attach_type,
        0,
        LinkTargetBtfId { target_btf_id },
    )
}

/// `BPF_LINK_CREATE` for an iterator (`BPF_TRACE_ITER`), with the map/cgroup/task the
/// iterator walks, if any.
pub fn link_create_iter(
    prog: BorrowedFd<'_>,
    info: Option<&IterLinkInfo>,
) -> Result<OwnedFd, Errno> {
    let tail = match info {
        Some(i) => LinkIter {
            iter_info: i as *const IterLinkInfo as u64,
            iter_info_len: std::mem::size_of::<IterLinkInfo>() as u32,
            _pad: 0,
        },
        None => LinkIter::default(),
    };
    create(prog, 0, AttachType::TRACE_ITER, 0, tail)
}

/// `BPF_LINK_CREATE` for a perf event (`BPF_PERF_EVENT`): kprobe, uprobe, tracepoint or
/// perf-event program on the perf event fd `perf_event`, with a cookie.
pub fn link_create_perf_event(
    prog: BorrowedFd<'_>,
    perf_event: BorrowedFd<'_>,
    bpf_cookie: u64,
) -> Result<OwnedFd, Errno> {
    create(
        prog,
        raw(perf_event),
        AttachType::PERF_EVENT,
        0,
        LinkPerfEvent { bpf_cookie },
    )
}

/// Probes of a kprobe.multi link: by symbol name or by address, optionally with a cookie
/// each.
#[derive(Clone, Copy, Debug, Default)]
pub struct KprobeMultiArgs<'a> {
    /// Symbol names (exclusive with `addrs`).
    pub syms: &'a [&'a CStr],
    /// Addresses (exclusive with `syms`).
    pub addrs: &'a [u64],
    /// One cookie per probe, or empty.
    pub cookies: &'a [u64],
    /// `BPF_F_KPROBE_MULTI_RETURN`.
    pub flags: u32,
}

/// `BPF_LINK_CREATE` for kprobe.multi (`BPF_TRACE_KPROBE_MULTI` or
/// `BPF_TRACE_KPROBE_SESSION`). `EINVAL` without a syscall if both or neither of
/// `syms`/`addrs` are given, or the cookies do not match their count.
pub fn link_create_kprobe_multi(
    prog: BorrowedFd<'_>,
    attach_type: AttachType,
    args: &KprobeMultiArgs<'_>,
) -> Result<OwnedFd, Errno> {
    let cnt = match (args.syms.len(), args.addrs.len()) {
        (0, 0) => return Err(Errno::EINVAL),
        (n, 0) | (0, n) => n,
        _ => return Err(Errno::EINVAL),
    };
    if !args.cookies.is_empty() && args.cookies.len() != cnt {
        return Err(Errno::EINVAL);
    }
    let sym_ptrs: Vec<u64> = args.syms.iter().map(|s| s.as_ptr() as u64).collect();
    let tail = LinkKprobeMulti {
        flags: args.flags,
        cnt: u32::try_from(cnt).map_err(|_| Errno::E2BIG)?,
        syms: ptr(&sym_ptrs),
        addrs: ptr(args.addrs),
        cookies: ptr(args.cookies),
    };
    create(prog, 0, attach_type, 0, tail)
}

/// `BPF_LINK_CREATE` for fentry/fexit/fmod_ret/LSM with a cookie (`tracing` tail).
pub fn link_create_tracing(
    prog: BorrowedFd<'_>,
    attach_type: AttachType,
    target_btf_id: u32,
    cookie: u64,
) -> Result<OwnedFd, Errno> {
    create(
        prog,
        0,
        attach_type,
        0,
        LinkTracing {
            target_btf_id,
            _pad: 0,
            cookie,
        },
    )
}

/// `BPF_LINK_CREATE` for a netfilter hook (`BPF_NETFILTER`) in the current netns.
pub fn link_create_netfilter(
    prog: BorrowedFd<'_>,
    pf: u32,
    hooknum: u32,
    priority: i32,
    flags: u32,
) -> Result<OwnedFd, Errno> {
    create(
        prog,
        0,
        AttachType::NETFILTER,
        0,
        LinkNetfilter {
            pf,
            hooknum,
            priority,
            flags,
        },
    )
}

/// `BPF_LINK_CREATE` for multi-program hooks with ordering: tcx (`TCX_INGRESS`/`EGRESS`,
/// target = ifindex), netkit (`NETKIT_PRIMARY`/`PEER`), and cgroup hooks (target = cgroup
/// fd). `flags`: [`AttachFlags::BEFORE`]/[`AttachFlags::AFTER`]/[`AttachFlags::LINK`]
/// (`ID` is set from `relative`).
pub fn link_create_mprog(
    prog: BorrowedFd<'_>,
    target: AttachTarget<'_>,
    attach_type: AttachType,
    flags: AttachFlags,
    relative: Relative<'_>,
    expected_revision: u64,
) -> Result<OwnedFd, Errno> {
    let mut f = flags.bits();
    let relative_fd = relative.apply(&mut f);
    create(
        prog,
        target.raw_value(),
        attach_type,
        f,
        LinkMprog {
            relative_fd,
            _pad: 0,
            expected_revision,
        },
    )
}

/// Probes of a uprobe.multi link.
#[derive(Clone, Copy, Debug, Default)]
pub struct UprobeMultiArgs<'a> {
    /// The binary.
    pub path: &'a CStr,
    /// File offsets of the probes.
    pub offsets: &'a [u64],
    /// Reference-counter (semaphore) offsets, one per probe, or empty.
    pub ref_ctr_offsets: &'a [u64],
    /// Cookies, one per probe, or empty.
    pub cookies: &'a [u64],
    /// `BPF_F_UPROBE_MULTI_RETURN`.
    pub flags: u32,
    /// Only fire in this process (0: all).
    pub pid: u32,
}

/// `BPF_LINK_CREATE` for uprobe.multi (`BPF_TRACE_UPROBE_MULTI` or
/// `BPF_TRACE_UPROBE_SESSION`). `EINVAL` without a syscall if there are no offsets or the
/// optional arrays do not match their count.
pub fn link_create_uprobe_multi(
    prog: BorrowedFd<'_>,
    attach_type: AttachType,
    args: &UprobeMultiArgs<'_>,
) -> Result<OwnedFd, Errno> {
    let cnt = args.offsets.len();
    if cnt == 0
        || (!args.ref_ctr_offsets.is_empty() && args.ref_ctr_offsets.len() != cnt)
        || (!args.cookies.is_empty() && args.cookies.len() != cnt)
    {
        return Err(Errno::EINVAL);
    }
    let tail = LinkUprobeMulti {
        path: args.path.as_ptr() as u64,
        offsets: ptr(args.offsets),
        ref_ctr_offsets: ptr(args.ref_ctr_offsets),
        cookies: ptr(args.cookies),
        cnt: u32::try_from(cnt).map_err(|_| Errno::E2BIG)?,
        flags: args.flags,
        pid: args.pid,
        _pad: 0,
    };
    create(prog, 0, attach_type, 0, tail)
}

/// `BPF_LINK_UPDATE`: replaces the link's program with `new_prog`; with `old_prog` only if
/// that is the current one (`BPF_F_REPLACE`).
pub fn link_update(
    link: BorrowedFd<'_>,
    new_prog: BorrowedFd<'_>,
    old_prog: Option<BorrowedFd<'_>>,
) -> Result<(), Errno> {
    let mut attr = LinkUpdateAttr {
        link_fd: raw(link),
        new_prog_fd: raw(new_prog),
        flags: if old_prog.is_some() {
            AttachFlags::REPLACE.bits()
        } else {
            0
        },
        old_prog_fd: raw_opt(old_prog),
    };
    // SAFETY: LINK_UPDATE has no pointers.
    unsafe { bpf(BpfCmd::LINK_UPDATE, &mut attr) }.map(drop)
}

/// `BPF_LINK_UPDATE` for struct_ops links: replaces the link's struct_ops map with
/// `new_map`; with `old_map` only if that is the current one (`BPF_F_REPLACE`).
pub fn link_update_map(
    link: BorrowedFd<'_>,
    new_map: BorrowedFd<'_>,
    old_map: Option<BorrowedFd<'_>>,
) -> Result<(), Errno> {
    link_update(link, new_map, old_map)
}

/// `BPF_LINK_DETACH`: detaches the link; the fd stays valid but inert.
pub fn link_detach(link: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut attr = LinkDetachAttr { link_fd: raw(link) };
    // SAFETY: LINK_DETACH has no pointers.
    unsafe { bpf(BpfCmd::LINK_DETACH, &mut attr) }.map(drop)
}

/// `BPF_ITER_CREATE`: creates an iterator instance of an iterator link; `read` it to EOF.
pub fn iter_create(link: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let mut attr = IterCreateAttr {
        link_fd: raw(link),
        flags: 0,
    };
    // SAFETY: ITER_CREATE has no pointers and returns a new fd.
    unsafe { bpf_fd(BpfCmd::ITER_CREATE, &mut attr) }
}

/// `BPF_RAW_TRACEPOINT_OPEN`: attaches a raw-tracepoint program to tracepoint `name`, or a
/// tracing/tp_btf/LSM program to its load-time target with `name = None`. Returns the link.
pub fn raw_tracepoint_open(
    prog: BorrowedFd<'_>,
    name: Option<&CStr>,
    cookie: u64,
) -> Result<OwnedFd, Errno> {
    let mut attr = RawTracepointOpenAttr {
        name: name.map_or(0, |n| n.as_ptr() as u64),
        prog_fd: raw(prog),
        _pad: 0,
        cookie,
    };
    // SAFETY: RAW_TRACEPOINT_OPEN only reads the NUL-terminated name; returns a new fd.
    unsafe { bpf_fd(BpfCmd::RAW_TRACEPOINT_OPEN, &mut attr) }
}
