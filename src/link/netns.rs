//! Network-namespace hooks: sk_lookup and flow_dissector programs, attached to a netns given
//! by an fd (`/proc/self/ns/net`, `/run/netns/NAME`, or `/proc/PID/ns/net`).

use std::os::fd::AsFd;

use crate::error::{Error, Result};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::{AttachFlags, AttachTarget, Relative};

use super::{Link, ProgAttachment, link_create_error};

fn netns_attach_type(prog: &Program) -> Result<AttachType> {
    match prog.program_type() {
        ProgramType::SK_LOOKUP => Ok(AttachType::SK_LOOKUP),
        ProgramType::FLOW_DISSECTOR => Ok(AttachType::FLOW_DISSECTOR),
        t => Err(Error::InvalidArgument(format!(
            "program \"{}\" is a {t:?} program; a netns takes SK_LOOKUP and FLOW_DISSECTOR programs",
            prog.name()
        ))),
    }
}

impl Program {
    /// Attaches this sk_lookup or flow_dissector program to the network namespace `netns`
    /// through a link (`BPF_LINK_CREATE` with `BPF_SK_LOOKUP`/`BPF_FLOW_DISSECTOR`).
    pub fn attach_netns(&self, netns: impl AsFd) -> Result<Link> {
        let t = netns_attach_type(self)?;
        crate::sys::link_create(self.as_fd(), AttachTarget::Fd(netns.as_fd()), t, 0)
            .map(Link::from_fd)
            .map_err(|e| link_create_error(self, t, e))
    }

    /// Attaches this flow_dissector program to the calling thread's network namespace with
    /// `BPF_PROG_ATTACH` (kernels before links; the command takes no netns fd, and
    /// sk_lookup has only links). Dropping the handle detaches it from the network namespace
    /// of the thread that drops it: drop it in the same one.
    pub fn attach_netns_legacy(&self) -> Result<ProgAttachment> {
        let t = netns_attach_type(self)?;
        if t != AttachType::FLOW_DISSECTOR {
            return Err(Error::InvalidArgument(format!(
                "program \"{}\": sk_lookup programs attach only through links (attach_netns)",
                self.name()
            )));
        }
        ProgAttachment::attach(
            self,
            AttachTarget::None,
            t,
            AttachFlags::empty(),
            None,
            Relative::None,
            0,
        )
    }
}

/// The ids of the programs attached to `netns` at `attach_type` (`SK_LOOKUP` or
/// `FLOW_DISSECTOR`).
pub fn netns_query(netns: impl AsFd, attach_type: AttachType) -> Result<Vec<u32>> {
    super::attach::query(AttachTarget::Fd(netns.as_fd()), attach_type, 0, false).map(|q| q.0)
}
