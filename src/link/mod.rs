//! `Link`: an attachment of a program to a hook, as a kernel object.
//!
//! A link holds its program attached for as long as the link lives: dropping the last fd
//! detaches it, unless the link is pinned in bpffs (then [`Link::from_pin`] gets it back and
//! removing the pin file lets it go). [`Link::update`] swaps the program atomically,
//! [`Link::detach`] detaches without closing.
//!
//! There are the generic [`Link::create`] (`BPF_LINK_CREATE` without a per-type tail, enough
//! for targets that are an fd or an ifindex: cgroups, netns, sockmaps, XDP), XDP
//! ([`Program::attach_xdp`]), and the tracing families of `tracing.rs` and `iter.rs`:
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
//! The other hook families (tc, kprobes, tracepoints, …) get a file each here, with the
//! `BPF_LINK_CREATE` tails the sys layer already has.
//!
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

pub mod elf;
mod info;
mod iter;
mod kprobe;
mod perf_event;
mod tracing;
mod uprobe;
mod usdt;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

pub use crate::sys::AttachTarget;
pub use crate::sys::LinkType;
pub use info::{LinkDetails, LinkIds, LinkInfo};
pub use iter::{IterLink, IterOptions, IterReader};
pub use kprobe::{
    KprobeMultiTarget, ProbeOptions, glob_match, syscall_function, traceable_functions_matching,
};
pub use perf_event::{PerfAttachMode, PerfEvent, PerfLink, PerfLinkInfo};
pub use uprobe::{UprobeLocation, UprobeMultiTarget};
pub use usdt::{
    UsdtArg, UsdtArgKind, UsdtLink, parse_usdt_arg, parse_usdt_args, x86_64_reg_offset,
};

use crate::error::{Error, Result};
use crate::map::{by_id_error, capability_missing, path_cstring, pin_error};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::{self, Errno, ObjFlags};

bitflags::bitflags! {
    /// Flags of an XDP attachment (`XDP_FLAGS_*` of `linux/if_link.h`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct XdpFlags: u32 {
        /// `XDP_FLAGS_UPDATE_IF_NOEXIST`: fail if a program is attached.
        const UPDATE_IF_NOEXIST = 1 << 0;
        /// `XDP_FLAGS_SKB_MODE`: generic XDP (any device, after the skb is built).
        const SKB_MODE = 1 << 1;
        /// `XDP_FLAGS_DRV_MODE`: native XDP in the driver.
        const DRV_MODE = 1 << 2;
        /// `XDP_FLAGS_HW_MODE`: offloaded to the NIC.
        const HW_MODE = 1 << 3;
        /// `XDP_FLAGS_REPLACE`: replace the given program.
        const REPLACE = 1 << 4;
    }
}

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

impl Link {
    /// `BPF_LINK_CREATE` without a per-attach-type tail: attaches `prog` to `target` (an
    /// ifindex for XDP, a cgroup/netns/map fd, or none) at `attach_type`.
    pub fn create(
        prog: &Program,
        target: AttachTarget<'_>,
        attach_type: AttachType,
        flags: u32,
    ) -> Result<Link> {
        let fd = sys::link_create(prog.as_fd(), target, attach_type, flags).map_err(|e| {
            let context = Some(format!("program \"{}\" at {attach_type:?}", prog.name()));
            if e == Errno::EPERM {
                if let Some(cap) = capability_missing(&["CAP_BPF", attach_capability(prog)]) {
                    return Error::MissingCapability { call: "BPF_LINK_CREATE", capability: cap, context };
                }
                return Error::PolicyRefused { call: "BPF_LINK_CREATE", feature: None, context };
            }
            let hint = match e {
                e if e == Errno::EINVAL => {
                    Some("the program's type/expected attach type does not match the attach type or target")
                }
                e if e == Errno::EBUSY || e == Errno::EEXIST => Some("another program is already attached there"),
                e if e == Errno::EOPNOTSUPP => Some("the target does not support this attach mode"),
                _ => None,
            };
            Error::Syscall { call: "BPF_LINK_CREATE", errno: e, context, hint }
        })?;
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

impl Program {
    /// Attaches this XDP program to the interface `ifindex` through a link
    /// (`BPF_LINK_CREATE` with `BPF_XDP`). `flags`: [`XdpFlags::SKB_MODE`] for generic XDP
    /// (works on any device, e.g. `lo`), [`XdpFlags::DRV_MODE`] for native; none lets the
    /// kernel pick native if the driver has it.
    ///
    /// The program stays attached while the returned [`Link`] (or a pin of it) lives.
    pub fn attach_xdp(&self, ifindex: u32, flags: XdpFlags) -> Result<Link> {
        if self.program_type() != ProgramType::XDP {
            return Err(Error::InvalidArgument(format!(
                "program \"{}\" is a {:?} program, not XDP",
                self.name(),
                self.program_type()
            )));
        }
        Link::create(
            self,
            AttachTarget::Ifindex(ifindex),
            AttachType::XDP,
            flags.bits(),
        )
    }
}
