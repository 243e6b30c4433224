//! `Link`: an attachment of a program to a hook, as a kernel object.
//!
//! A link holds its program attached for as long as the link lives: dropping the last fd
//! detaches it, unless the link is pinned in bpffs (then [`Link::from_pin`] gets it back and
//! removing the pin file lets it go). [`Link::update`] swaps the program atomically,
//! [`Link::detach`] detaches without closing. Some kernels (Debian's 6.1) release a link whose
//! last fd closed from a work item, a moment after the drop returns: call [`Link::detach`]
//! first when the hook must be free right away (e.g. to attach something else there).
//!
//! Besides the generic [`Link::create`] (`BPF_LINK_CREATE` without a per-type tail), each
//! attach family has a file here with `attach_*` methods on [`Program`]. Where a family also
//! has an attachment that is not a BPF link (older kernels, drivers without links), it
//! returns a handle with the same drop-detaches behaviour.
//!
//! Networking and cgroups (`xdp.rs`, `tc.rs`, `cgroup.rs`, `netns.rs`, `netfilter.rs`,
//! `sock.rs`):
//!
//! | family | link | without a link |
//! |---|---|---|
//! | XDP | [`Program::attach_xdp`] | [`Program::attach_xdp_netlink`] ([`XdpAttachment`], netlink `IFLA_XDP`); [`xdp_query`] |
//! | tc | [`Program::attach_tcx`] (tcx, ordered by [`TcxAnchor`]); [`tcx_query`] | [`Program::attach_tcx_legacy`] ([`ProgAttachment`]); clsact + cls_bpf: [`TcHook`], [`Program::attach_tc`] ([`TcFilter`]), [`tc_filters`] |
//! | cgroup | [`Program::attach_cgroup`] | [`Program::attach_cgroup_legacy`] ([`ProgAttachment`], [`CgroupAttachMode`]); [`cgroup_query`] |
//! | netns: sk_lookup, flow_dissector | [`Program::attach_netns`]; [`netns_query`] | [`Program::attach_netns_legacy`] (flow_dissector) |
//! | netfilter | [`Program::attach_netfilter`] | — |
//! | sockmap: sk_msg, sk_skb | [`Program::attach_sockmap_link`] | [`Program::attach_sockmap`] ([`ProgAttachment`]); [`sockmap_query`] |
//! | socket filter, reuseport | — | [`Program::attach_socket_filter`], [`Program::attach_reuseport`] ([`SocketAttachment`]) |
//!
//! Tracing (`tracing.rs`, `iter.rs`), by `SEC()`:
//!
//! | `SEC()` | attach with |
//! |---|---|
//! | `raw_tp/NAME`, `raw_tracepoint/NAME` (`.w`, `.s`) | [`Program::attach_raw_tracepoint`] (`_with_cookie`) |
//! | `tp_btf/NAME` (`.s`) | [`Program::attach_tp_btf`] (`_with_cookie`) |
//! | `fentry/F`, `fexit/F`, `fmod_ret/F`, `fsession/F` (`.s`) | [`Program::attach_trace`] (`_with_cookie`) |
//! | `lsm/HOOK`, `lsm.s/HOOK` | [`Program::attach_lsm`] (`_with_cookie`) |
//! | `freplace/F` (target from [`Loader::freplace_target`](crate::loader::Loader::freplace_target)) | [`Program::attach_freplace`] |
//! | `iter/NAME`, `iter.s/NAME` | [`Program::attach_iter`] → [`IterLink::open`] gives a `Read` |
//! | `struct_ops/…` with a `SEC(".struct_ops")` / `.struct_ops.link` variable | [`StructOps::attach`](crate::loader::StructOps::attach) |
//! | `syscall` | no attach: [`Program::test_run`] |
//!
//! The perf-event families (tracepoints, kprobes, uprobes, USDT, perf events: `perf_event.rs`,
//! `kprobe.rs`, `uprobe.rs`, `usdt.rs`) return a [`PerfLink`] (a [`UsdtLink`] for USDT): a BPF
//! link where the kernel has perf-event links, a perf event with the program set on it
//! otherwise. [`Program::attach`] picks the family and target from the program's `SEC()`.
//!
//! Interfaces are named by ifindex in the calling thread's network namespace.

//! ```no_run
//! use rawbpf::insn::{Insn, Reg};
//! use rawbpf::link::XdpFlags;
//! use rawbpf::prog::{Program, ProgramOptions, ProgramType};
//!
//! let prog = Program::load(ProgramType::XDP, &[Insn::mov64_imm(Reg::R0, 2), Insn::exit()], &ProgramOptions::default())?;
//! let link = prog.attach_xdp(1, XdpFlags::SKB_MODE)?;
//! link.pin("/sys/fs/bpf/my_xdp")?; // stays attached after this process exits
//! # Ok::<(), rawbpf::Error>(())
//! ```

mod attach;
pub mod auto;
mod cgroup;
pub mod elf;
mod info;
mod iter;
mod kprobe;
mod netfilter;
mod netns;
mod perf_event;
mod sock;
mod tc;
mod tracing;
mod uprobe;
mod usdt;
mod xdp;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

pub use crate::sys::AttachTarget;
pub use crate::sys::LinkType;
pub use attach::ProgAttachment;
pub use auto::AnyLink;
pub use cgroup::{CgroupAttachMode, cgroup_query, cgroup_query_effective};
pub use info::{LinkDetails, LinkIds, LinkInfo};
pub use iter::{IterLink, IterOptions, IterReader};
pub use kprobe::{
    KprobeMultiTarget, ProbeOptions, glob_match, syscall_function, traceable_functions_matching,
};
pub use netfilter::{NetfilterHook, NetfilterOptions, NetfilterProtocol};
pub use netns::netns_query;
pub use perf_event::{PerfAttachMode, PerfEvent, PerfLink, PerfLinkInfo};
pub use sock::{SocketAttachment, sockmap_query};
pub use tc::{
    TcAttachPoint, TcFilter, TcFilterInfo, TcHook, TcxAnchor, TcxOptions, TcxQuery, tc_filters,
    tcx_query,
};
pub use uprobe::{UprobeLocation, UprobeMultiTarget};
pub use usdt::{
    UsdtArg, UsdtArgKind, UsdtLink, parse_usdt_arg, parse_usdt_args, x86_64_reg_offset,
};
pub use xdp::{XdpAttach, XdpAttachment, XdpFlags, XdpMode, XdpQuery, xdp_detach, xdp_query};

use crate::error::{Error, Result};
use crate::map::{by_id_error, capability_missing, path_cstring, pin_error};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::{self, Errno, ObjFlags};

/// A BPF link. Dropping it closes the fd; the kernel detaches the program when the last
/// reference (fd or pin) goes.
#[derive(Debug)]
pub struct Link {
    fd: OwnedFd,
}

/// The capability an attach of `prog` needs besides `CAP_BPF`.
fn attach_capability(prog: &Program) -> &'static str {
    match prog.program_type() {
        ProgramType::KPROBE
        | ProgramType::TRACEPOINT
        | ProgramType::PERF_EVENT
        | ProgramType::RAW_TRACEPOINT
        | ProgramType::RAW_TRACEPOINT_WRITABLE
        | ProgramType::TRACING
        | ProgramType::LSM
        | ProgramType::EXT => "CAP_PERFMON",
        _ => "CAP_NET_ADMIN",
    }
}

/// The error of a failed `BPF_LINK_CREATE` of `prog` at `attach_type`.
pub(crate) fn link_create_error(prog: &Program, attach_type: AttachType, e: Errno) -> Error {
    attach_error(
        "BPF_LINK_CREATE",
        prog,
        format!("program \"{}\" at {attach_type:?}", prog.name()),
        e,
    )
}

/// The error of a failed attach command `call` of `prog` (`context` says where to).
pub(crate) fn attach_error(call: &'static str, prog: &Program, context: String, e: Errno) -> Error {
    if e == Errno::EPERM {
        if let Some(cap) = capability_missing(&["CAP_BPF", attach_capability(prog)]) {
            return Error::MissingCapability {
                call,
                capability: cap,
                context: Some(context),
            };
        }
        return Error::PolicyRefused {
            call,
            feature: None,
            context: Some(context),
        };
    }
    let hint = match e {
        e if e == Errno::EINVAL => {
            Some("the program's type/expected attach type does not match the attach type or target")
        }
        e if e == Errno::EBUSY || e == Errno::EEXIST => {
            Some("another program is already attached there")
        }
        e if e == Errno::EOPNOTSUPP => Some("the target does not support this attach mode"),
        e if e == Errno::ENODEV => Some("no network interface has this ifindex"),
        e if e == Errno::ENOENT => Some(
            "the program or link to replace or to place this one next to is not attached there",
        ),
        _ => None,
    };
    Error::Syscall {
        call,
        errno: e,
        context: Some(context),
        hint,
    }
}

impl Link {
    /// `BPF_LINK_CREATE` without a per-attach-type tail: attaches `prog` to `target` (an
    /// ifindex for XDP, a cgroup/netns/map fd, or none) at `attach_type`.
    pub fn create(
        prog: &Program,
        target: AttachTarget<'_>,
        attach_type: AttachType,
        flags: u32,
    ) -> Result<Link> {
        let fd = sys::link_create(prog.as_fd(), target, attach_type, flags)
            .map_err(|e| link_create_error(prog, attach_type, e))?;
        Ok(Link { fd })
    }

    /// Takes ownership of a link fd.
    pub fn from_fd(fd: OwnedFd) -> Link {
        Link { fd }
    }

    /// `BPF_OBJ_GET`: opens a link pinned at `path`.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Link> {
        let path = path.as_ref();
        let c = path_cstring(path)?;
        let fd = sys::obj_get(&c, ObjFlags::empty(), None)
            .map_err(|e| pin_error("BPF_OBJ_GET", path, e))?;
        Ok(Link { fd })
    }

    /// `BPF_LINK_GET_FD_BY_ID`: opens the link with this id.
    pub fn from_id(id: u32) -> Result<Link> {
        let fd = sys::link_get_fd_by_id(id, ObjFlags::empty(), None)
            .map_err(|e| by_id_error("BPF_LINK_GET_FD_BY_ID", id, e))?;
        Ok(Link { fd })
    }

    /// `BPF_OBJ_PIN`: pins the link at `path`, so it stays attached after every fd closes
    /// (until the pin file is removed).
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let c = path_cstring(path)?;
        sys::obj_pin(self.fd.as_fd(), &c, None).map_err(|e| pin_error("BPF_OBJ_PIN", path, e))
    }

    /// `BPF_OBJ_GET_INFO_BY_FD`: the link's type, id, program and per-type details.
    pub fn info(&self) -> Result<LinkInfo> {
        LinkInfo::of_fd(self.fd.as_fd())
    }

    /// `BPF_LINK_UPDATE`: makes the link run `new` instead of its current program. With
    /// `old`, only if the current program is `old` (`BPF_F_REPLACE`), else `EPERM`.
    pub fn update(&self, new: &Program, old: Option<&Program>) -> Result<()> {
        sys::link_update(self.fd.as_fd(), new.as_fd(), old.map(|p| p.as_fd())).map_err(|e| {
            let hint = match e {
                e if e == Errno::EPERM && old.is_some() => {
                    Some("the link's current program is not `old`")
                }
                e if e == Errno::EINVAL => {
                    Some("the new program's type or attach type does not fit the link")
                }
                e if e == Errno::ENOLINK => Some("the link is detached"),
                _ => None,
            };
            Error::Syscall {
                call: "BPF_LINK_UPDATE",
                errno: e,
                context: Some(format!("to program \"{}\"", new.name())),
                hint,
            }
        })
    }

    /// `BPF_LINK_DETACH`: detaches the program now; the fd stays valid (and `info` still
    /// works) until dropped.
    pub fn detach(&self) -> Result<()> {
        sys::link_detach(self.fd.as_fd()).map_err(|e| {
            let hint =
                (e == Errno::EOPNOTSUPP).then_some("this link type cannot be detached explicitly");
            Error::Syscall {
                call: "BPF_LINK_DETACH",
                errno: e,
                context: None,
                hint,
            }
        })
    }

    /// The ids of all links in the system (`BPF_LINK_GET_NEXT_ID`).
    pub fn ids() -> LinkIds {
        LinkIds::new(sys::link_get_next_id, "BPF_LINK_GET_NEXT_ID")
    }

    /// Gives the fd back (the link stays attached while it is open).
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
}

impl AsFd for Link {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Link {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

// Every attachment handle can move to and be shared with other threads.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Link>();
    send_sync::<ProgAttachment>();
    send_sync::<SocketAttachment>();
    send_sync::<TcFilter>();
    send_sync::<TcHook>();
    send_sync::<XdpAttachment>();
};
