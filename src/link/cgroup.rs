//! cgroup hooks (skb, sock, sock_addr, sockops, sysctl, device, sockopt): through links
//! ([`Program::attach_cgroup`]) or through `BPF_PROG_ATTACH` with the override/multi modes
//! ([`Program::attach_cgroup_legacy`], a [`ProgAttachment`] that detaches on drop).
//!
//! The cgroup is given as an fd of its cgroup v2 directory (`File::open` of e.g.
//! `/sys/fs/cgroup/my-group`; find the cgroup2 mount with
//! [`sys::mount::find_mounts`](crate::sys::mount::find_mounts)).

use std::os::fd::AsFd;

use crate::error::{Error, Result};
use crate::prog::{AttachType, Program};
use crate::sys::{AttachFlags, AttachTarget, Errno, Relative};

use super::{Link, ProgAttachment, link_create_error};

/// How `BPF_PROG_ATTACH` shares a cgroup hook (the kernel's rule: a hook's mode is set by
/// its first program, and descendants may add programs only under override or multi).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CgroupAttachMode {
    /// One program, which descendants cannot override (no flag).
    Single,
    /// One program, which a descendant cgroup's program overrides
    /// (`BPF_F_ALLOW_OVERRIDE`).
    Override,
    /// Several programs, all run; descendants add theirs (`BPF_F_ALLOW_MULTI`). What links
    /// use.
    #[default]
    Multi,
}

impl CgroupAttachMode {
    fn flags(self) -> AttachFlags {
        match self {
            CgroupAttachMode::Single => AttachFlags::empty(),
            CgroupAttachMode::Override => AttachFlags::ALLOW_OVERRIDE,
            CgroupAttachMode::Multi => AttachFlags::ALLOW_MULTI,
        }
    }
}

/// `EBADF` from a cgroup attach: the fd is not a cgroup v2 directory.
fn cgroup_error(call: &'static str, e: Errno) -> Option<Error> {
    (e == Errno::EBADF).then_some(Error::Syscall {
        call,
        errno: e,
        context: None,
        hint: Some(
            "the fd is not a cgroup v2 directory (find the cgroup2 mount in /proc/self/mountinfo: \
             on hybrid hosts /sys/fs/cgroup is a tmpfs of v1 hierarchies)",
        ),
    })
}

fn attach_type_of(prog: &Program) -> Result<AttachType> {
    prog.expected_attach_type().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "program \"{}\" ({:?}) has no expected attach type: use a SEC() name that names the \
             hook (e.g. \"cgroup_skb/ingress\") or attach_cgroup_as",
            prog.name(),
            prog.program_type()
        ))
    })
}

impl Program {
    /// Attaches this program to the cgroup `cgroup` (an fd of its cgroup v2 directory) at
    /// its expected attach type (from its `SEC()` name), through a link
    /// (`BPF_LINK_CREATE`). Links share the hook with every other program (multi mode).
    pub fn attach_cgroup(&self, cgroup: impl AsFd) -> Result<Link> {
        let t = attach_type_of(self)?;
        self.attach_cgroup_as(cgroup, t)
    }

    /// As [`Program::attach_cgroup`], at `attach_type` (for `cgroup_skb` programs loaded
    /// without an expected attach type, which fit both directions).
    pub fn attach_cgroup_as(&self, cgroup: impl AsFd, attach_type: AttachType) -> Result<Link> {
        crate::sys::link_create(
            self.as_fd(),
            AttachTarget::Fd(cgroup.as_fd()),
            attach_type,
            0,
        )
        .map(Link::from_fd)
        .map_err(|e| {
            cgroup_error("BPF_LINK_CREATE", e)
                .unwrap_or_else(|| link_create_error(self, attach_type, e))
        })
    }

    /// Attaches this program to `cgroup` at its expected attach type with
    /// `BPF_PROG_ATTACH` in `mode`; with `replace`, in place of that program
    /// (`BPF_F_REPLACE`, multi mode only). Dropping the handle detaches it.
    pub fn attach_cgroup_legacy(
        &self,
        cgroup: impl AsFd,
        mode: CgroupAttachMode,
        replace: Option<&Program>,
    ) -> Result<ProgAttachment> {
        let t = attach_type_of(self)?;
        self.attach_cgroup_legacy_as(cgroup, t, mode, replace)
    }

    /// As [`Program::attach_cgroup_legacy`], at `attach_type`.
    pub fn attach_cgroup_legacy_as(
        &self,
        cgroup: impl AsFd,
        attach_type: AttachType,
        mode: CgroupAttachMode,
        replace: Option<&Program>,
    ) -> Result<ProgAttachment> {
        ProgAttachment::attach(
            self,
            AttachTarget::Fd(cgroup.as_fd()),
            attach_type,
            mode.flags(),
            replace,
            Relative::None,
            0,
        )
        .map_err(
            |e| match e.errno().and_then(|n| cgroup_error("BPF_PROG_ATTACH", n)) {
                Some(better) => better,
                None => e,
            },
        )
    }
}

/// The ids of the programs attached directly to `cgroup` at `attach_type`
/// (`BPF_PROG_QUERY`), in run order, whether by link or by `BPF_PROG_ATTACH`.
pub fn cgroup_query(cgroup: impl AsFd, attach_type: AttachType) -> Result<Vec<u32>> {
    super::attach::query(AttachTarget::Fd(cgroup.as_fd()), attach_type, 0, false).map(|q| q.0)
}

/// The ids of the programs that run for `cgroup` at `attach_type`, its ancestors' included
/// (`BPF_F_QUERY_EFFECTIVE`).
pub fn cgroup_query_effective(cgroup: impl AsFd, attach_type: AttachType) -> Result<Vec<u32>> {
    super::attach::query(AttachTarget::Fd(cgroup.as_fd()), attach_type, 1, false).map(|q| q.0)
}
