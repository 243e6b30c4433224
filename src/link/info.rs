//! [`LinkInfo`] (`BPF_OBJ_GET_INFO_BY_FD` on a link) and [`LinkIds`].

use std::os::fd::BorrowedFd;

use super::LinkType;
use crate::error::Result;
use crate::prog::AttachType;
use crate::sys;

/// What the kernel reports about a link (`struct bpf_link_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkInfo {
    /// The link's id.
    pub id: u32,
    /// The link type.
    pub link_type: LinkType,
    /// Id of the attached program (0 after `BPF_LINK_DETACH` for some link types).
    pub prog_id: u32,
    /// The per-type part.
    pub details: LinkDetails,
}

/// The per-link-type part of [`LinkInfo`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkDetails {
    /// XDP: the interface (0 once detached).
    Xdp {
        /// The interface index.
        ifindex: u32,
    },
    /// cgroup.
    Cgroup {
        /// The cgroup id.
        cgroup_id: u64,
        /// The attach type.
        attach_type: AttachType,
    },
    /// netns, tcx, netkit, sockmap: an id (netns inode, map id) or an ifindex.
    IdAttach {
        /// netns inode, ifindex or map id.
        id_or_ifindex: u32,
        /// The attach type.
        attach_type: AttachType,
    },
    /// fentry/fexit/LSM/freplace/tp_btf.
    Tracing {
        /// The attach type.
        attach_type: AttachType,
        /// The target's BTF object id.
        target_obj_id: u32,
        /// The target's BTF id.
        target_btf_id: u32,
    },
    /// netfilter.
    Netfilter {
        /// Protocol family.
        pf: u32,
        /// Hook number.
        hooknum: u32,
        /// Priority.
        priority: i32,
    },
    /// Another link type (see [`LinkInfo::link_type`]).
    Other,
}

impl LinkInfo {
    /// Reads the info of the link behind `fd`.
    pub fn of_fd(fd: BorrowedFd<'_>) -> Result<LinkInfo> {
        let raw = sys::link_info(fd)
            .map_err(|e| crate::map::info_error(e, "the fd is not a BPF link"))?;
        let details = match raw.type_ {
            LinkType::XDP => LinkDetails::Xdp {
                ifindex: raw.xdp().ifindex,
            },
            LinkType::CGROUP => {
                let c = raw.cgroup();
                LinkDetails::Cgroup {
                    cgroup_id: c.cgroup_id,
                    attach_type: c.attach_type,
                }
            }
            LinkType::NETNS | LinkType::TCX | LinkType::NETKIT | LinkType::SOCKMAP => {
                let n = raw.id_attach();
                LinkDetails::IdAttach {
                    id_or_ifindex: n.id_or_ifindex,
                    attach_type: n.attach_type,
                }
            }
            LinkType::TRACING => {
                let t = raw.tracing();
                LinkDetails::Tracing {
                    attach_type: t.attach_type,
                    target_obj_id: t.target_obj_id,
                    target_btf_id: t.target_btf_id,
                }
            }
            LinkType::NETFILTER => {
                let n = raw.netfilter();
                LinkDetails::Netfilter {
                    pf: n.pf,
                    hooknum: n.hooknum,
                    priority: n.priority,
                }
            }
            _ => LinkDetails::Other,
        };
        Ok(LinkInfo {
            id: raw.id,
            link_type: raw.type_,
            prog_id: raw.prog_id,
            details,
        })
    }
}

/// Iterator over the ids of every link in the system (`BPF_LINK_GET_NEXT_ID`). Needs
/// `CAP_SYS_ADMIN`.
pub type LinkIds = crate::map::ObjectIds;
