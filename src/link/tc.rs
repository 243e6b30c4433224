//! TC: tcx links (kernel 6.6+: [`Program::attach_tcx`], ordered with [`TcxAnchor`],
//! [`tcx_query`]), tcx through `BPF_PROG_ATTACH` ([`Program::attach_tcx_legacy`], with
//! `BPF_F_REPLACE`), and the classic clsact qdisc with cls_bpf filters in direct-action mode
//! over netlink ([`TcHook`], [`Program::attach_tc`], [`tc_filters`]).
//!
//! Interfaces are named by ifindex in the calling thread's network namespace; the netlink
//! handles keep their socket, so they clean up in that namespace whatever thread drops them.

use std::ffi::CString;
use std::os::fd::AsFd;

use crate::error::{Error, Result};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::netlink::{self, NetlinkError, TC_H_MIN_EGRESS, TC_H_MIN_INGRESS};
use crate::sys::{self, AttachFlags, AttachTarget, Errno, Relative};

pub use crate::sys::netlink::TcFilterInfo;

use super::{Link, ProgAttachment, link_create_error};

/// The direction of a TC hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcAttachPoint {
    /// Packets the interface receives.
    Ingress,
    /// Packets the interface sends.
    Egress,
}

impl TcAttachPoint {
    /// The tcx attach type (`BPF_TCX_INGRESS`/`BPF_TCX_EGRESS`).
    pub fn tcx_attach_type(self) -> AttachType {
        match self {
            TcAttachPoint::Ingress => AttachType::TCX_INGRESS,
            TcAttachPoint::Egress => AttachType::TCX_EGRESS,
        }
    }

    fn clsact_parent(self) -> u32 {
        netlink::clsact_parent(match self {
            TcAttachPoint::Ingress => TC_H_MIN_INGRESS,
            TcAttachPoint::Egress => TC_H_MIN_EGRESS,
        })
    }
}

/// Where a tcx program goes among the hook's programs (default: last).
#[derive(Clone, Copy, Debug, Default)]
pub enum TcxAnchor<'a> {
    /// After every program (`BPF_F_AFTER` without a relative), the kernel's default.
    #[default]
    Last,
    /// Before every program (`BPF_F_BEFORE` without a relative).
    First,
    /// Right before this program.
    BeforeProgram(&'a Program),
    /// Right after this program.
    AfterProgram(&'a Program),
    /// Right before the program of this link.
    BeforeLink(&'a Link),
    /// Right after the program of this link.
    AfterLink(&'a Link),
    /// Right before the program with this id.
    BeforeProgramId(u32),
    /// Right after the program with this id.
    AfterProgramId(u32),
}

impl<'a> TcxAnchor<'a> {
    fn resolve(self) -> (AttachFlags, Relative<'a>) {
        use TcxAnchor::*;
        match self {
            Last => (AttachFlags::empty(), Relative::None),
            First => (AttachFlags::BEFORE, Relative::None),
            BeforeProgram(p) => (AttachFlags::BEFORE, Relative::Fd(p.as_fd())),
            AfterProgram(p) => (AttachFlags::AFTER, Relative::Fd(p.as_fd())),
            BeforeLink(l) => (
                AttachFlags::BEFORE | AttachFlags::LINK,
                Relative::Fd(l.as_fd()),
            ),
            AfterLink(l) => (
                AttachFlags::AFTER | AttachFlags::LINK,
                Relative::Fd(l.as_fd()),
            ),
            BeforeProgramId(id) => (AttachFlags::BEFORE, Relative::Id(id)),
            AfterProgramId(id) => (AttachFlags::AFTER, Relative::Id(id)),
        }
    }
}

/// Options of a tcx attach.
#[derive(Clone, Copy, Debug, Default)]
pub struct TcxOptions<'a> {
    /// Position among the hook's programs.
    pub anchor: TcxAnchor<'a>,
    /// Fail with `ESTALE` unless the hook's revision (see [`tcx_query`]) is this one
    /// (0: any).
    pub expected_revision: u64,
}

/// The programs on a tcx hook, in run order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcxQuery {
    /// Program ids.
    pub prog_ids: Vec<u32>,
    /// The link of each program (0 for programs attached with `BPF_PROG_ATTACH`).
    pub link_ids: Vec<u32>,
    /// The hook's revision (bumped by every change).
    pub revision: u64,
}

fn check_cls(prog: &Program) -> Result<()> {
    if prog.program_type() != ProgramType::SCHED_CLS {
        return Err(Error::InvalidArgument(format!(
            "program \"{}\" is a {:?} program, not SCHED_CLS (tc)",
            prog.name(),
            prog.program_type()
        )));
    }
    Ok(())
}

fn tcx_unsupported() -> Option<Error> {
    match crate::features::tcx() {
        Err(e) if e.is_not_supported() => Some(e),
        _ => None,
    }
}

impl Program {
    /// Attaches this tc program to `ifindex` at `point` through a tcx link
    /// (`BPF_LINK_CREATE` with `BPF_TCX_INGRESS`/`EGRESS`), placed by `opts.anchor`. tcx
    /// programs return `TCX_NEXT` (-1), `TCX_PASS` (0), `TCX_DROP` (2) or `TCX_REDIRECT`
    /// (7). Kernels before 6.6 give [`Error::Unsupported`]: use [`Program::attach_tc`].
    pub fn attach_tcx(
        &self,
        ifindex: u32,
        point: TcAttachPoint,
        opts: &TcxOptions<'_>,
    ) -> Result<Link> {
        check_cls(self)?;
        if let Some(e) = tcx_unsupported() {
            return Err(e);
        }
        let (flags, relative) = opts.anchor.resolve();
        let t = point.tcx_attach_type();
        sys::link_create_mprog(
            self.as_fd(),
            AttachTarget::Ifindex(ifindex),
            t,
            flags,
            relative,
            opts.expected_revision,
        )
        .map(Link::from_fd)
        .map_err(|e| tcx_error(self, ifindex, t, e, |e| link_create_error(self, t, e)))
    }

    /// Attaches this tc program to `ifindex` at `point` with `BPF_PROG_ATTACH` (tcx without
    /// a link); with `replace`, in place of that program (`BPF_F_REPLACE`). Dropping the
    /// handle detaches it (in the calling thread's network namespace).
    pub fn attach_tcx_legacy(
        &self,
        ifindex: u32,
        point: TcAttachPoint,
        opts: &TcxOptions<'_>,
        replace: Option<&Program>,
    ) -> Result<ProgAttachment> {
        check_cls(self)?;
        if let Some(e) = tcx_unsupported() {
            return Err(e);
        }
        let (flags, relative) = if replace.is_some() {
            (AttachFlags::empty(), Relative::None)
        } else {
            opts.anchor.resolve()
        };
        let t = point.tcx_attach_type();
        ProgAttachment::attach(
            self,
            AttachTarget::Ifindex(ifindex),
            t,
            flags,
            replace,
            relative,
            opts.expected_revision,
        )
    }
}

fn tcx_error(
    prog: &Program,
    ifindex: u32,
    t: AttachType,
    e: Errno,
    other: impl FnOnce(Errno) -> Error,
) -> Error {
    if matches!(netlink::link_exists(ifindex), Ok(false)) {
        return Error::Syscall {
            call: "BPF_LINK_CREATE",
            errno: e,
            context: Some(format!(
                "program \"{}\" at {t:?} on ifindex {ifindex}",
                prog.name()
            )),
            hint: Some(
                "no network interface has this ifindex in the calling thread's network namespace",
            ),
        };
    }
    if e == Errno::from_raw(libc::ESTALE) {
        return Error::Syscall {
            call: "BPF_LINK_CREATE",
            errno: e,
            context: Some(format!(
                "program \"{}\" at {t:?} on ifindex {ifindex}",
                prog.name()
            )),
            hint: Some("the hook's revision is not the expected one: query it again"),
        };
    }
    other(e)
}

/// The programs on the tcx hook `point` of `ifindex`, in run order (`BPF_PROG_QUERY`).
pub fn tcx_query(ifindex: u32, point: TcAttachPoint) -> Result<TcxQuery> {
    let (prog_ids, link_ids, _, revision) = super::attach::query(
        AttachTarget::Ifindex(ifindex),
        point.tcx_attach_type(),
        0,
        true,
    )?;
    Ok(TcxQuery {
        prog_ids,
        link_ids,
        revision,
    })
}

fn nl_error(
    call: &'static str,
    ifindex: u32,
    e: NetlinkError,
    hint: Option<&'static str>,
) -> Error {
    if e.errno == Errno::EPERM {
        if let Some(cap) = crate::map::capability_missing(&["CAP_NET_ADMIN"]) {
            return Error::MissingCapability {
                call,
                capability: cap,
                context: Some(format!("ifindex {ifindex}")),
            };
        }
    }
    if matches!(netlink::link_exists(ifindex), Ok(false)) {
        return Error::Syscall {
            call,
            errno: e.errno,
            context: Some(format!("ifindex {ifindex}")),
            hint: Some(
                "no network interface has this ifindex in the calling thread's network namespace",
            ),
        };
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
            hint,
        },
    }
}

fn open_socket(ifindex: u32) -> Result<netlink::Socket> {
    netlink::Socket::open().map_err(|e| nl_error("socket(NETLINK_ROUTE)", ifindex, e.into(), None))
}

/// The clsact qdisc of an interface, which holds the classic tc hooks. Created by
/// [`TcHook::clsact`] if missing; dropping the handle removes the qdisc (and every filter on
/// it, anyone's) only if this handle created it.
#[derive(Debug)]
pub struct TcHook {
    sock: netlink::Socket,
    ifindex: u32,
    created: bool,
}

impl TcHook {
    /// Makes sure `ifindex` has a clsact qdisc (`RTM_NEWQDISC`), creating it if missing.
    pub fn clsact(ifindex: u32) -> Result<TcHook> {
        let mut sock = open_socket(ifindex)?;
        let created = match netlink::clsact_add(&mut sock, ifindex) {
            Ok(()) => true,
            Err(e) if e.errno == Errno::EEXIST => false,
            Err(e) => return Err(nl_error("RTM_NEWQDISC(clsact)", ifindex, e, None)),
        };
        Ok(TcHook {
            sock,
            ifindex,
            created,
        })
    }

    /// Whether this handle created the qdisc (and so removes it on drop).
    pub fn created(&self) -> bool {
        self.created
    }

    /// The interface.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Removes the qdisc now, whoever created it, with every filter on it.
    pub fn destroy(mut self) -> Result<()> {
        self.created = false;
        netlink::clsact_del(&mut self.sock, self.ifindex)
            .map_err(|e| nl_error("RTM_DELQDISC(clsact)", self.ifindex, e, None))
    }

    /// Leaves the qdisc in place after this handle is gone.
    pub fn forget(mut self) {
        self.created = false;
    }
}

impl Drop for TcHook {
    fn drop(&mut self) {
        if self.created {
            let _ = netlink::clsact_del(&mut self.sock, self.ifindex);
        }
    }
}

/// A cls_bpf filter in direct-action mode on a clsact hook. Dropping it deletes the filter
/// (`RTM_DELTFILTER` by its handle and priority).
#[derive(Debug)]
pub struct TcFilter {
    sock: netlink::Socket,
    ifindex: u32,
    point: TcAttachPoint,
    handle: u32,
    priority: u16,
    attached: bool,
}

impl TcFilter {
    /// The filter's handle (chosen by the kernel when 0 was asked).
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The filter's priority (chosen by the kernel when 0 was asked).
    pub fn priority(&self) -> u16 {
        self.priority
    }

    /// The interface.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The hook.
    pub fn attach_point(&self) -> TcAttachPoint {
        self.point
    }

    /// Deletes the filter now, reporting errors.
    pub fn detach(mut self) -> Result<()> {
        self.detach_inner()
    }

    /// Leaves the filter in place after this handle is gone.
    pub fn forget(mut self) {
        self.attached = false;
    }

    fn detach_inner(&mut self) -> Result<()> {
        if !std::mem::take(&mut self.attached) {
            return Ok(());
        }
        netlink::tc_filter_del(
            &mut self.sock,
            self.ifindex,
            self.point.clsact_parent(),
            self.handle,
            self.priority,
        )
        .map_err(|e| nl_error("RTM_DELTFILTER", self.ifindex, e, None))
    }
}

impl Drop for TcFilter {
    fn drop(&mut self) {
        let _ = self.detach_inner();
    }
}

impl Program {
    /// Attaches this tc program as a cls_bpf filter in direct-action mode to the clsact hook
    /// `point` of `ifindex` (`RTM_NEWTFILTER`; create the qdisc first with
    /// [`TcHook::clsact`]). `handle` and `priority` 0 let the kernel choose; a filter with
    /// the same handle and priority already there is `EEXIST` (use
    /// [`Program::replace_tc`]). The program returns `TC_ACT_OK` (0), `TC_ACT_SHOT` (2), …
    pub fn attach_tc(
        &self,
        ifindex: u32,
        point: TcAttachPoint,
        handle: u32,
        priority: u16,
    ) -> Result<TcFilter> {
        self.tc_filter(ifindex, point, handle, priority, false)
    }

    /// As [`Program::attach_tc`], replacing the filter with this `handle` and `priority`
    /// atomically (`NLM_F_REPLACE`; both must be non-zero). The old filter's handle, if
    /// any, should then be forgotten ([`TcFilter::forget`]): this one deletes it on drop.
    pub fn replace_tc(
        &self,
        ifindex: u32,
        point: TcAttachPoint,
        handle: u32,
        priority: u16,
    ) -> Result<TcFilter> {
        if handle == 0 || priority == 0 {
            return Err(Error::InvalidArgument(
                "replace_tc needs the handle and priority of the filter to replace".into(),
            ));
        }
        self.tc_filter(ifindex, point, handle, priority, true)
    }

    fn tc_filter(
        &self,
        ifindex: u32,
        point: TcAttachPoint,
        handle: u32,
        priority: u16,
        replace: bool,
    ) -> Result<TcFilter> {
        check_cls(self)?;
        let mut sock = open_socket(ifindex)?;
        let name = CString::new(format!("{}:[{}]", self.name(), self.info()?.id))
            .map_err(|_| Error::InvalidArgument("program name with a NUL".into()))?;
        let args = netlink::TcFilterArgs {
            ifindex,
            parent: point.clsact_parent(),
            handle,
            priority,
            prog: self.as_fd(),
            name: &name,
            replace,
        };
        let f = netlink::tc_filter_add(&mut sock, &args).map_err(|e| {
            let hint = match e.errno {
                x if x == Errno::EINVAL || x == Errno::ENOENT => {
                    Some("is there a clsact qdisc on the interface? (TcHook::clsact)")
                }
                x if x == Errno::EEXIST => {
                    Some("a filter with this handle and priority exists (replace_tc replaces it)")
                }
                _ => None,
            };
            nl_error("RTM_NEWTFILTER", ifindex, e, hint)
        })?;
        Ok(TcFilter {
            sock,
            ifindex,
            point,
            handle: f.handle,
            priority: f.priority,
            attached: true,
        })
    }
}

/// The filters on the clsact hook `point` of `ifindex` (`RTM_GETTFILTER` dump); empty when
/// the interface has no clsact qdisc.
pub fn tc_filters(ifindex: u32, point: TcAttachPoint) -> Result<Vec<TcFilterInfo>> {
    let mut sock = open_socket(ifindex)?;
    match netlink::tc_filter_list(&mut sock, ifindex, point.clsact_parent()) {
        Ok(v) => Ok(v),
        Err(e) if e.errno == Errno::EINVAL || e.errno == Errno::ENOENT => {
            if matches!(netlink::link_exists(ifindex), Ok(false)) {
                Err(nl_error("RTM_GETTFILTER", ifindex, e, None))
            } else {
                Ok(Vec::new())
            }
        }
        Err(e) => Err(nl_error("RTM_GETTFILTER", ifindex, e, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_set_the_mprog_flags() {
        let f = |a: TcxAnchor<'_>| {
            let (flags, rel) = a.resolve();
            let id = match rel {
                Relative::None => None,
                Relative::Id(id) => Some(id),
                Relative::Fd(_) => panic!("no fd anchor here"),
            };
            (flags, id)
        };
        assert_eq!(f(TcxAnchor::Last), (AttachFlags::empty(), None));
        assert_eq!(f(TcxAnchor::First), (AttachFlags::BEFORE, None));
        assert_eq!(
            f(TcxAnchor::BeforeProgramId(9)),
            (AttachFlags::BEFORE, Some(9))
        );
        assert_eq!(
            f(TcxAnchor::AfterProgramId(3)),
            (AttachFlags::AFTER, Some(3))
        );
        assert_eq!(
            TcAttachPoint::Ingress.clsact_parent(),
            0xffff_fff2,
            "TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)"
        );
        assert_eq!(TcAttachPoint::Egress.clsact_parent(), 0xffff_fff3);
        assert_eq!(
            TcAttachPoint::Egress.tcx_attach_type(),
            AttachType::TCX_EGRESS
        );
    }
}
