//! Netfilter hooks (`BPF_LINK_CREATE` with `BPF_NETFILTER`, kernel 6.4+): the program runs
//! at a hook of the network namespace of the thread that creates the link.

use std::os::fd::AsFd;

use crate::error::{Error, Result};
use crate::prog::{AttachType, Program, ProgramType};

use super::{Link, link_create_error};

/// The protocol family of a netfilter hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetfilterProtocol {
    /// `NFPROTO_IPV4`.
    Ipv4,
    /// `NFPROTO_IPV6`.
    Ipv6,
}

/// A netfilter hook (`enum nf_inet_hooks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetfilterHook {
    /// `NF_INET_PRE_ROUTING`.
    PreRouting,
    /// `NF_INET_LOCAL_IN`.
    LocalIn,
    /// `NF_INET_FORWARD`.
    Forward,
    /// `NF_INET_LOCAL_OUT`.
    LocalOut,
    /// `NF_INET_POST_ROUTING`.
    PostRouting,
}

/// Where and in which order a netfilter program runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetfilterOptions {
    /// Protocol family.
    pub protocol: NetfilterProtocol,
    /// Hook.
    pub hook: NetfilterHook,
    /// Priority among the hook's functions (lower runs first; the kernel refuses
    /// `NF_IP_PRI_FIRST`/`LAST`, i.e. `i32::MIN`/`i32::MAX`).
    pub priority: i32,
    /// Defragment packets before the program sees them (`BPF_F_NETFILTER_IP_DEFRAG`,
    /// 6.6+).
    pub defrag: bool,
}

impl NetfilterOptions {
    /// `hook` of `protocol` at `priority`, without defragmentation.
    pub fn new(protocol: NetfilterProtocol, hook: NetfilterHook, priority: i32) -> Self {
        NetfilterOptions {
            protocol,
            hook,
            priority,
            defrag: false,
        }
    }
}

impl Program {
    /// Attaches this netfilter program at `opts` in the calling thread's network namespace
    /// (`BPF_LINK_CREATE` with `BPF_NETFILTER`).
    pub fn attach_netfilter(&self, opts: &NetfilterOptions) -> Result<Link> {
        if self.program_type() != ProgramType::NETFILTER {
            return Err(Error::InvalidArgument(format!(
                "program \"{}\" is a {:?} program, not NETFILTER",
                self.name(),
                self.program_type()
            )));
        }
        if let Err(e) = crate::features::netfilter() {
            if e.is_not_supported() {
                return Err(e);
            }
        }
        let pf = match opts.protocol {
            NetfilterProtocol::Ipv4 => 2,
            NetfilterProtocol::Ipv6 => 10,
        };
        let hooknum = match opts.hook {
            NetfilterHook::PreRouting => 0,
            NetfilterHook::LocalIn => 1,
            NetfilterHook::Forward => 2,
            NetfilterHook::LocalOut => 3,
            NetfilterHook::PostRouting => 4,
        };
        let flags = u32::from(opts.defrag);
        crate::sys::link_create_netfilter(self.as_fd(), pf, hooknum, opts.priority, flags)
            .map(Link::from_fd)
            .map_err(|e| link_create_error(self, AttachType::NETFILTER, e))
    }
}
