//! [`ProgAttachment`]: a program attached with `BPF_PROG_ATTACH` (no link), detached with
//! `BPF_PROG_DETACH` when the handle drops. The legacy path of cgroups (with the
//! `BPF_F_ALLOW_OVERRIDE`/`BPF_F_ALLOW_MULTI` modes), tcx, flow dissectors and sockmaps.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::error::{Error, Result};
use crate::prog::{AttachType, Program};
use crate::sys::{self, AttachFlags, AttachTarget, ProgAttachOpts, Relative};

use super::attach_error;

/// The target a [`ProgAttachment`] keeps for its detach: a dup of the target fd (so the
/// caller may close theirs), or an ifindex.
#[derive(Debug)]
enum Target {
    Fd(OwnedFd),
    Ifindex(u32),
    None,
}

impl Target {
    fn as_target(&self) -> AttachTarget<'_> {
        match self {
            Target::Fd(fd) => AttachTarget::Fd(fd.as_fd()),
            Target::Ifindex(i) => AttachTarget::Ifindex(*i),
            Target::None => AttachTarget::None,
        }
    }
}

/// A program attached with `BPF_PROG_ATTACH`. Dropping it detaches that program
/// (`BPF_PROG_DETACH` with the program's fd, so other programs on a multi-program hook stay).
///
/// A target given by ifindex (tcx) is looked up in the network namespace of the thread that
/// drops the handle: drop it in the namespace it was attached in.
#[derive(Debug)]
pub struct ProgAttachment {
    target: Target,
    prog: Option<Program>,
    attach_type: AttachType,
}

impl ProgAttachment {
    /// `BPF_PROG_ATTACH` of `prog` to `target` at `attach_type` with `flags`, optionally
    /// replacing `replace` (`BPF_F_REPLACE`, cgroups and tcx) and placed relative to
    /// `relative` (mprog hooks: tcx).
    pub(crate) fn attach(
        prog: &Program,
        target: AttachTarget<'_>,
        attach_type: AttachType,
        flags: AttachFlags,
        replace: Option<&Program>,
        relative: Relative<'_>,
        expected_revision: u64,
    ) -> Result<ProgAttachment> {
        let mut flags = flags;
        if replace.is_some() {
            flags |= AttachFlags::REPLACE;
        }
        let opts = ProgAttachOpts {
            flags,
            replace: replace.map(|p| p.as_fd()),
            relative,
            expected_revision,
        };
        let where_ = match target {
            AttachTarget::Fd(fd) => format!("fd {}", std::os::fd::AsRawFd::as_raw_fd(&fd)),
            AttachTarget::Ifindex(i) => format!("ifindex {i}"),
            AttachTarget::None => "the current netns".to_string(),
        };
        sys::prog_attach(target, prog.as_fd(), attach_type, &opts).map_err(|e| {
            attach_error(
                "BPF_PROG_ATTACH",
                prog,
                format!("program \"{}\" at {attach_type:?} on {where_}", prog.name()),
                e,
            )
        })?;
        let target = match target {
            AttachTarget::Fd(fd) => match fd.try_clone_to_owned() {
                Ok(fd) => Target::Fd(fd),
                Err(e) => {
                    let _ = sys::prog_detach(
                        target,
                        Some(prog.as_fd()),
                        attach_type,
                        &ProgAttachOpts::default(),
                    );
                    return Err(Error::Io {
                        path: "dup(target fd)".into(),
                        source: e,
                    });
                }
            },
            AttachTarget::Ifindex(i) => Target::Ifindex(i),
            AttachTarget::None => Target::None,
        };
        Ok(ProgAttachment {
            target,
            prog: Some(prog.try_clone()?),
            attach_type,
        })
    }

    /// The attach type.
    pub fn attach_type(&self) -> AttachType {
        self.attach_type
    }

    /// The attached program.
    pub fn program(&self) -> Option<&Program> {
        self.prog.as_ref()
    }

    /// The target fd (cgroup, netns, map), when the target is one.
    pub fn target_fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.target {
            Target::Fd(fd) => Some(fd.as_fd()),
            _ => None,
        }
    }

    /// Detaches now, reporting errors (dropping detaches too, silently).
    pub fn detach(mut self) -> Result<()> {
        self.detach_inner()
    }

    /// Leaves the program attached after this handle is gone (it stays until someone
    /// detaches it, or the target goes away).
    pub fn forget(mut self) {
        self.prog = None;
    }

    fn detach_inner(&mut self) -> Result<()> {
        let Some(prog) = self.prog.take() else {
            return Ok(());
        };
        let attach_type = self.attach_type;
        sys::prog_detach(
            self.target.as_target(),
            Some(prog.as_fd()),
            attach_type,
            &ProgAttachOpts::default(),
        )
        .map_err(|e| {
            attach_error(
                "BPF_PROG_DETACH",
                &prog,
                format!("program \"{}\" at {attach_type:?}", prog.name()),
                e,
            )
        })
    }
}

impl Drop for ProgAttachment {
    fn drop(&mut self) {
        let _ = self.detach_inner();
    }
}

impl Program {
    /// The generic `BPF_PROG_ATTACH`: attaches this program to `target` at `attach_type`
    /// with `flags` (see the family methods: [`Program::attach_cgroup_legacy`],
    /// [`Program::attach_tcx_legacy`], [`Program::attach_netns_legacy`],
    /// [`Program::attach_sockmap`]). The handle detaches on drop.
    pub fn prog_attach(
        &self,
        target: AttachTarget<'_>,
        attach_type: AttachType,
        flags: AttachFlags,
    ) -> Result<ProgAttachment> {
        ProgAttachment::attach(self, target, attach_type, flags, None, Relative::None, 0)
    }
}

/// The ids of the programs attached at `attach_type` on `target` (`BPF_PROG_QUERY`), with
/// the hook's attach flags and revision.
pub(crate) fn query(
    target: AttachTarget<'_>,
    attach_type: AttachType,
    query_flags: u32,
    with_links: bool,
) -> Result<(Vec<u32>, Vec<u32>, u32, u64)> {
    let mut cap = 16usize;
    loop {
        let mut progs = vec![0u32; cap];
        let mut links = vec![0u32; if with_links { cap } else { 0 }];
        let bufs = sys::ProgQueryBufs {
            prog_ids: Some(&mut progs),
            link_ids: with_links.then_some(&mut links[..]),
            ..Default::default()
        };
        match sys::prog_query(target, attach_type, query_flags, bufs) {
            Ok(out) => {
                let n = (out.prog_cnt as usize).min(cap);
                progs.truncate(n);
                links.truncate(n);
                return Ok((progs, links, out.attach_flags, out.revision));
            }
            Err(e) if e == sys::Errno::ENOSPC && cap < 1 << 16 => cap *= 4,
            Err(e) => {
                return Err(Error::Syscall {
                    call: "BPF_PROG_QUERY",
                    errno: e,
                    context: Some(format!("{attach_type:?}")),
                    hint: None,
                });
            }
        }
    }
}
