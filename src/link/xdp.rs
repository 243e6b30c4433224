//! XDP: through a BPF link ([`Program::attach_xdp`]) or, for kernels and drivers without XDP
//! links, through netlink `IFLA_XDP` ([`Program::attach_xdp_netlink`], an
//! [`XdpAttachment`] that detaches on drop); [`xdp_query`] says what is attached.
//!
//! Interfaces are named by ifindex in the calling thread's network namespace.

use std::os::fd::AsFd;

use crate::error::{Error, Result};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::netlink::{self, NetlinkError, XdpState};
use crate::sys::{AttachTarget, Errno};

use super::{Link, attach_capability, link_create_error};
use crate::map::capability_missing;

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

/// Where an XDP program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum XdpMode {
    /// Generic XDP (`XDP_FLAGS_SKB_MODE`), on any device.
    Generic,
    /// Native XDP in the driver (`XDP_FLAGS_DRV_MODE`).
    Driver,
    /// Offloaded to the NIC (`XDP_FLAGS_HW_MODE`).
    Offload,
}

impl XdpMode {
    /// The mode flag.
    pub fn flags(self) -> XdpFlags {
        match self {
            XdpMode::Generic => XdpFlags::SKB_MODE,
            XdpMode::Driver => XdpFlags::DRV_MODE,
            XdpMode::Offload => XdpFlags::HW_MODE,
        }
    }

    fn of_flags(flags: XdpFlags) -> Option<XdpMode> {
        if flags.contains(XdpFlags::SKB_MODE) {
            Some(XdpMode::Generic)
        } else if flags.contains(XdpFlags::DRV_MODE) {
            Some(XdpMode::Driver)
        } else if flags.contains(XdpFlags::HW_MODE) {
            Some(XdpMode::Offload)
        } else {
            None
        }
    }
}

/// What is attached to an interface's XDP hook, per mode (`None`: nothing in that mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpQuery {
    /// Generic-mode program id.
    pub generic: Option<u32>,
    /// Driver-mode program id.
    pub driver: Option<u32>,
    /// Offloaded program id.
    pub offload: Option<u32>,
}

impl XdpQuery {
    /// The program in `mode`.
    pub fn prog_id(&self, mode: XdpMode) -> Option<u32> {
        match mode {
            XdpMode::Generic => self.generic,
            XdpMode::Driver => self.driver,
            XdpMode::Offload => self.offload,
        }
    }

    /// Whether nothing is attached in any mode.
    pub fn is_empty(&self) -> bool {
        self.generic.is_none() && self.driver.is_none() && self.offload.is_none()
    }
}

impl From<XdpState> for XdpQuery {
    fn from(s: XdpState) -> Self {
        let nz = |v: u32| (v != 0).then_some(v);
        XdpQuery {
            generic: nz(s.skb_prog_id),
            driver: nz(s.drv_prog_id),
            offload: nz(s.hw_prog_id),
        }
    }
}

/// The error for an ifindex that names no interface, or `None` when it does (or we cannot
/// tell).
fn missing_interface(call: &'static str, ifindex: u32) -> Option<Error> {
    match netlink::link_exists(ifindex) {
        Ok(false) => Some(Error::Syscall {
            call,
            errno: Errno::ENODEV,
            context: Some(format!("ifindex {ifindex}")),
            hint: Some(
                "no network interface has this ifindex in the calling thread's network namespace",
            ),
        }),
        _ => None,
    }
}

fn netlink_error(
    call: &'static str,
    prog: Option<&Program>,
    ifindex: u32,
    e: NetlinkError,
) -> Error {
    if e.errno == Errno::EPERM {
        let needed = match prog {
            Some(p) => ["CAP_BPF", attach_capability(p)],
            None => ["CAP_NET_ADMIN", "CAP_NET_ADMIN"],
        };
        if let Some(cap) = capability_missing(&needed) {
            return Error::MissingCapability {
                call,
                capability: cap,
                context: Some(format!("ifindex {ifindex}")),
            };
        }
    }
    if let Some(err) = missing_interface(call, ifindex) {
        return err;
    }
    match e.message {
        Some(m) => Error::Refused {
            call,
            errno: e.errno,
            context: Some(format!("ifindex {ifindex}")),
            what: m,
        },
        None => Error::Syscall {
            call,
            errno: e.errno,
            context: Some(format!("ifindex {ifindex}")),
            hint: match e.errno {
                x if x == Errno::EBUSY || x == Errno::EEXIST => {
                    Some("another program is attached (in this or another mode)")
                }
                x if x == Errno::EOPNOTSUPP => {
                    Some("the driver has no native XDP in this mode; try XdpFlags::SKB_MODE")
                }
                _ => None,
            },
        },
    }
}

fn check_xdp(prog: &Program) -> Result<()> {
    if prog.program_type() != ProgramType::XDP {
        return Err(Error::InvalidArgument(format!(
            "program \"{}\" is a {:?} program, not XDP",
            prog.name(),
            prog.program_type()
        )));
    }
    Ok(())
}

/// `RTM_GETLINK`: the XDP programs attached to `ifindex` (by link or by netlink).
pub fn xdp_query(ifindex: u32) -> Result<XdpQuery> {
    netlink::xdp_query(ifindex)
        .map(XdpQuery::from)
        .map_err(|e| netlink_error("RTM_GETLINK", None, ifindex, e))
}

/// An XDP program attached through netlink (`IFLA_XDP`). Dropping it detaches the program
/// if it is still the one attached in its mode (a program that replaced it stays). The
/// netlink socket opened at attach is kept, so the detach happens in the same network
/// namespace whatever thread drops the handle.
#[derive(Debug)]
pub struct XdpAttachment {
    sock: netlink::Socket,
    ifindex: u32,
    mode_flags: u32,
    prog: Option<Program>,
}

impl XdpAttachment {
    /// The interface.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The program this handle attached (or replaced the old one with).
    pub fn program(&self) -> Option<&Program> {
        self.prog.as_ref()
    }

    /// Atomically replaces the attached program with `new`, only if ours is still the one
    /// attached (`IFLA_XDP_EXPECTED_FD`); this handle then owns `new`.
    pub fn replace(&mut self, new: &Program) -> Result<()> {
        check_xdp(new)?;
        let old = self.prog.as_ref().map(|p| p.as_fd());
        netlink_set(
            &mut self.sock,
            self.ifindex,
            Some(new),
            self.mode_flags,
            old,
        )?;
        self.prog = Some(new.try_clone()?);
        Ok(())
    }

    /// Detaches now (only if our program is still the one attached), reporting errors.
    pub fn detach(mut self) -> Result<()> {
        self.detach_inner()
    }

    /// Leaves the program attached after this handle is gone (detach it later with
    /// [`xdp_detach`]).
    pub fn forget(mut self) {
        self.prog = None;
    }

    fn detach_inner(&mut self) -> Result<()> {
        let Some(p) = self.prog.take() else {
            return Ok(());
        };
        netlink_set(
            &mut self.sock,
            self.ifindex,
            None,
            self.mode_flags,
            Some(p.as_fd()),
        )
    }
}

impl Drop for XdpAttachment {
    fn drop(&mut self) {
        let _ = self.detach_inner();
    }
}

fn netlink_set(
    sock: &mut netlink::Socket,
    ifindex: u32,
    prog: Option<&Program>,
    flags: u32,
    expected: Option<std::os::fd::BorrowedFd<'_>>,
) -> Result<()> {
    let mut req = netlink::xdp_set_request(ifindex, prog.map(|p| p.as_fd()), flags, expected);
    sock.request(&mut req)
        .map(drop)
        .map_err(|e| netlink_error("RTM_SETLINK(IFLA_XDP)", prog, ifindex, e))
}

/// Detaches whatever XDP program is attached to `ifindex` in the mode of `flags` through
/// netlink (a program attached by a link cannot be detached this way: `EBUSY`).
pub fn xdp_detach(ifindex: u32, flags: XdpFlags) -> Result<()> {
    let mut sock = netlink::Socket::open()
        .map_err(|e| netlink_error("socket(NETLINK_ROUTE)", None, ifindex, e.into()))?;
    netlink_set(&mut sock, ifindex, None, flags.bits(), None)
}

/// How [`Program::attach_xdp_auto`] attached.
#[derive(Debug)]
pub enum XdpAttach {
    /// Through a BPF link.
    Link(Link),
    /// Through netlink (the kernel has no XDP links).
    Netlink(XdpAttachment),
}

impl Program {
    /// Attaches this XDP program to the interface `ifindex` through a link
    /// (`BPF_LINK_CREATE` with `BPF_XDP`). `flags`: [`XdpFlags::SKB_MODE`] for generic XDP
    /// (works on any device, e.g. `lo`), [`XdpFlags::DRV_MODE`] for native; none lets the
    /// kernel pick native if the driver has it.
    ///
    /// The program stays attached while the returned [`Link`] (or a pin of it) lives. An
    /// ifindex that names no interface gives `ENODEV` with a hint saying so.
    pub fn attach_xdp(&self, ifindex: u32, flags: XdpFlags) -> Result<Link> {
        check_xdp(self)?;
        if ifindex == 0 {
            return Err(missing_interface("BPF_LINK_CREATE", 0).expect("ifindex 0 never exists"));
        }
        crate::sys::link_create(
            self.as_fd(),
            AttachTarget::Ifindex(ifindex),
            AttachType::XDP,
            flags.bits(),
        )
        .map(Link::from_fd)
        .map_err(|e| {
            missing_interface("BPF_LINK_CREATE", ifindex).unwrap_or_else(|| {
                if e == Errno::ENOSPC {
                    return Error::Syscall {
                        call: "BPF_LINK_CREATE",
                        errno: e,
                        context: Some(format!(
                            "program \"{}\" at BPF_XDP on ifindex {ifindex}",
                            self.name()
                        )),
                        hint: Some(
                            "the driver has too few queues for native XDP (veth: a device needs at \
                             least as many rx queues as its peer has tx queues)",
                        ),
                    };
                }
                link_create_error(self, AttachType::XDP, e)
            })
        })
    }

    /// Attaches this XDP program to `ifindex` through netlink (`RTM_SETLINK` with
    /// `IFLA_XDP`), the path for kernels (before 5.9) or drivers without XDP links. `flags`
    /// picks the mode ([`XdpFlags::SKB_MODE`], [`XdpFlags::DRV_MODE`],
    /// [`XdpFlags::HW_MODE`]) and may add [`XdpFlags::UPDATE_IF_NOEXIST`] (fail if a program
    /// is attached; without it an attached program is replaced).
    pub fn attach_xdp_netlink(&self, ifindex: u32, flags: XdpFlags) -> Result<XdpAttachment> {
        self.xdp_netlink(ifindex, flags, None)
    }

    /// As [`Program::attach_xdp_netlink`], replacing `old` atomically: fails (`EEXIST`)
    /// unless `old` is the program attached in that mode now.
    pub fn replace_xdp_netlink(
        &self,
        ifindex: u32,
        flags: XdpFlags,
        old: &Program,
    ) -> Result<XdpAttachment> {
        self.xdp_netlink(ifindex, flags, Some(old))
    }

    fn xdp_netlink(
        &self,
        ifindex: u32,
        flags: XdpFlags,
        old: Option<&Program>,
    ) -> Result<XdpAttachment> {
        check_xdp(self)?;
        if ifindex == 0 {
            return Err(
                missing_interface("RTM_SETLINK(IFLA_XDP)", 0).expect("ifindex 0 never exists")
            );
        }
        let mut sock = netlink::Socket::open()
            .map_err(|e| netlink_error("socket(NETLINK_ROUTE)", Some(self), ifindex, e.into()))?;
        let flags = flags - XdpFlags::REPLACE;
        netlink_set(
            &mut sock,
            ifindex,
            Some(self),
            flags.bits(),
            old.map(|p| p.as_fd()),
        )?;
        let mode = XdpMode::of_flags(flags).map_or(0, |m| m.flags().bits());
        Ok(XdpAttachment {
            sock,
            ifindex,
            mode_flags: mode,
            prog: Some(self.try_clone()?),
        })
    }

    /// Attaches through a link when the kernel has XDP links, else through netlink.
    pub fn attach_xdp_auto(&self, ifindex: u32, flags: XdpFlags) -> Result<XdpAttach> {
        match crate::features::link_type(crate::sys::LinkType::XDP) {
            Err(e) if e.is_not_supported() => self
                .attach_xdp_netlink(ifindex, flags)
                .map(XdpAttach::Netlink),
            _ => self.attach_xdp(ifindex, flags).map(XdpAttach::Link),
        }
    }
}
