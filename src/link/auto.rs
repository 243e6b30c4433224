//! Auto-attach: the attach target read from a program's `SEC()` name, as libbpf's
//! `bpf_program__attach` and `bpf_object__attach_skeleton` do.
//!
//! [`Program::attach`] parses the section the program was loaded from
//! ([`Program::section`]) and calls the family's `attach_*` method with the target the name
//! spells out:
//!
//! | `SEC()` | attaches with |
//! |---|---|
//! | `tp/CAT/NAME`, `tracepoint/CAT/NAME` | [`Program::attach_tracepoint`] |
//! | `raw_tp/NAME`, `raw_tracepoint/NAME` (`.w`) | [`Program::attach_raw_tracepoint`] |
//! | `tp_btf/NAME`, `fentry/F`, `fexit/F`, `fmod_ret/F`, `lsm/HOOK`, `freplace/F` (`.s`) | [`Program::attach_tp_btf`], [`Program::attach_trace`], [`Program::attach_lsm`], [`Program::attach_freplace`] |
//! | `iter/NAME` (`.s`) | [`Program::attach_iter`] over everything ([`IterOptions::None`]) |
//! | `kprobe/F[+OFF]`, `kretprobe/F` | [`Program::attach_kprobe`], [`Program::attach_kretprobe`] |
//! | `ksyscall/NAME`, `kretsyscall/NAME` | [`Program::attach_ksyscall`] |
//! | `kprobe.multi/GLOB`, `kretprobe.multi/GLOB` | [`Program::attach_kprobe_multi`] |
//! | `uprobe/PATH:F[+OFF]`, `uprobe/PATH:OFF`, `uretprobe/…` (`.s`) | [`Program::attach_uprobe`] |
//! | `uprobe.multi/PATH:GLOB`, `uretprobe.multi/…` (`.s`) | [`Program::attach_uprobe_multi`] |
//! | `usdt/PATH:PROVIDER:NAME` | [`Program::attach_usdt`] |
//!
//! Everything else needs a target the name does not give (an interface for XDP and tc, a
//! cgroup, a network namespace, a sockmap, a socket, a perf event, a function for a bare
//! `SEC("kprobe")`, …) or attaches otherwise (struct_ops programs through their map, syscall
//! programs run with `test_run`): [`Program::attach`] says so with
//! [`Error::NoAutoAttach`], naming what it needs and the method to call.
//! [`Object::attach_all`](crate::loader::Object::attach_all) attaches every program that can
//! be attached this way, and every struct_ops map, and reports the rest.

use std::path::Path;

use super::{
    IterLink, IterOptions, KprobeMultiTarget, Link, PerfLink, ProbeOptions, UprobeLocation,
    UprobeMultiTarget, UsdtLink,
};
use crate::error::{Error, Result};
use crate::obj::section::{Attach, parse_section};
use crate::prog::{AttachType, Program, ProgramType};

/// A link of any attach family, as [`Program::attach`] returns it. Dropping it detaches the
/// program, unless the link is pinned.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyLink {
    /// A BPF link (raw_tp, tp_btf, fentry/fexit/fmod_ret, LSM, freplace, kprobe.multi,
    /// uprobe.multi).
    Link(Link),
    /// A perf-event attachment (tracepoint, kprobe, ksyscall, uprobe).
    Perf(PerfLink),
    /// The links of a USDT probe's sites.
    Usdt(UsdtLink),
    /// An iterator link: [`IterLink::open`] reads it.
    Iter(IterLink),
}

impl AnyLink {
    /// The BPF link, for the families that have one.
    pub fn link(&self) -> Option<&Link> {
        match self {
            AnyLink::Link(l) => Some(l),
            AnyLink::Perf(p) => p.link(),
            AnyLink::Usdt(u) => u.multi_link(),
            AnyLink::Iter(i) => Some(i),
        }
    }

    /// Pins the link in bpffs, so it outlives this process.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an attachment that is not one BPF link (a perf event
    /// with the program set on it, the several links of a USDT probe); the pin's errors.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        match self {
            AnyLink::Perf(p) => p.pin(path),
            other => match other.link() {
                Some(l) if !matches!(other, AnyLink::Usdt(_)) => l.pin(path),
                _ => Err(Error::InvalidArgument(
                    "this attachment is not one BPF link and cannot be pinned".into(),
                )),
            },
        }
    }
}

impl From<Link> for AnyLink {
    fn from(l: Link) -> Self {
        AnyLink::Link(l)
    }
}

impl From<PerfLink> for AnyLink {
    fn from(l: PerfLink) -> Self {
        AnyLink::Perf(l)
    }
}

impl From<UsdtLink> for AnyLink {
    fn from(l: UsdtLink) -> Self {
        AnyLink::Usdt(l)
    }
}

impl From<IterLink> for AnyLink {
    fn from(l: IterLink) -> Self {
        AnyLink::Iter(l)
    }
}

/// What a program of this type (and expected attach type) needs to be attached, when its
/// section name cannot say: `(what, how)`.
fn needs(prog: &Program) -> (&'static str, &'static str) {
    type P = ProgramType;
    match prog.program_type() {
        P::XDP => ("a network interface", "Program::attach_xdp(ifindex, flags)"),
        P::SCHED_CLS | P::SCHED_ACT => (
            "a network interface",
            "Program::attach_tcx or Program::attach_tc (clsact + cls_bpf)",
        ),
        P::CGROUP_SKB
        | P::CGROUP_SOCK
        | P::CGROUP_SOCK_ADDR
        | P::SOCK_OPS
        | P::CGROUP_DEVICE
        | P::CGROUP_SYSCTL
        | P::CGROUP_SOCKOPT => ("a cgroup", "Program::attach_cgroup(cgroup_fd)"),
        P::LSM if prog.expected_attach_type() == Some(AttachType::LSM_CGROUP) => {
            ("a cgroup", "Program::attach_cgroup(cgroup_fd)")
        }
        P::SK_LOOKUP | P::FLOW_DISSECTOR => {
            ("a network namespace", "Program::attach_netns(netns_fd)")
        }
        P::SK_MSG | P::SK_SKB => ("a sockmap", "Program::attach_sockmap_link(map)"),
        P::SOCKET_FILTER => ("a socket", "Program::attach_socket_filter(socket)"),
        P::SK_REUSEPORT => ("a socket", "Program::attach_reuseport(socket)"),
        P::NETFILTER => ("a netfilter hook", "Program::attach_netfilter(options)"),
        P::PERF_EVENT => ("a perf event", "Program::attach_perf_event(event)"),
        P::KPROBE => (
            "a function (a bare SEC(\"kprobe\") or SEC(\"uprobe\") names none)",
            "Program::attach_kprobe, attach_uprobe or attach_usdt",
        ),
        P::TRACEPOINT => ("a tracepoint", "Program::attach_tracepoint(category, name)"),
        P::RAW_TRACEPOINT | P::RAW_TRACEPOINT_WRITABLE => {
            ("a tracepoint", "Program::attach_raw_tracepoint(name)")
        }
        P::STRUCT_OPS => (
            "its struct_ops map",
            "Object::struct_ops(name)?.attach(), or Object::attach_all",
        ),
        P::SYSCALL => ("nothing: it runs when called", "Program::test_run"),
        _ => ("a target", "the attach_* method of its family"),
    }
}

fn no_auto_attach(prog: &Program) -> Error {
    let (needs, how) = needs(prog);
    Error::NoAutoAttach {
        program: prog.name().to_owned(),
        section: prog.section().unwrap_or_default().to_owned(),
        needs,
        how,
    }
}

impl Program {
    /// Attaches the program where its `SEC()` name says (libbpf's `bpf_program__attach`):
    /// see the [module docs](crate::link::auto) for the table of section names.
    ///
    /// # Errors
    /// [`Error::NoAutoAttach`] when the name gives no target (XDP, tc, cgroup, … programs,
    /// a bare `SEC("kprobe")`) or the program is not attached this way (struct_ops, syscall),
    /// and for a program not loaded from an object; [`Error::InvalidArgument`] for a
    /// malformed target in the name; the family's attach errors (`Error::Unsupported` naming
    /// kprobes or BPF trampolines on kernels without them).
    pub fn attach(&self) -> Result<AnyLink> {
        let Some(section) = self.section() else {
            return Err(no_auto_attach(self));
        };
        let def = parse_section(section).ok_or_else(|| no_auto_attach(self))?;
        let probe = ProbeOptions::default();
        Ok(match def.attach {
            Attach::Manual | Attach::StructOps { .. } => return Err(no_auto_attach(self)),
            Attach::Invalid(why) => {
                return Err(Error::InvalidArgument(format!(
                    "program `{}`: SEC(\"{section}\"): {why}",
                    self.name()
                )));
            }
            Attach::Tracepoint { category, name } => self.attach_tracepoint(category, name)?.into(),
            Attach::RawTracepoint { name } => self.attach_raw_tracepoint(name)?.into(),
            Attach::Kprobe {
                func,
                offset,
                retprobe: false,
            } => self.attach_kprobe(func, offset, &probe)?.into(),
            Attach::Kprobe { func, .. } => self.attach_kretprobe(func, &probe)?.into(),
            Attach::Ksyscall { name, retprobe } => {
                self.attach_ksyscall(name, retprobe, &probe)?.into()
            }
            Attach::KprobeMulti { session: true, .. }
            | Attach::UprobeMulti { session: true, .. } => {
                return Err(Error::Unsupported {
                    feature: "session probes (kprobe.session, uprobe.session)",
                    hint: format!(
                        "rawbpf does not attach session programs yet (program `{}`): use a \
                         kprobe.multi/uprobe.multi entry and return program pair",
                        self.name()
                    ),
                });
            }
            Attach::KprobeMulti {
                pattern, retprobe, ..
            } => self
                .attach_kprobe_multi(KprobeMultiTarget::Pattern(pattern), retprobe, &[])?
                .into(),
            Attach::Uprobe {
                binary,
                func,
                offset,
                retprobe,
            } => {
                let loc = match func {
                    Some(name) => UprobeLocation::Symbol { name, offset },
                    None => UprobeLocation::FileOffset(offset),
                };
                self.attach_uprobe(binary, loc, retprobe, &probe)?.into()
            }
            Attach::UprobeMulti {
                binary,
                pattern,
                retprobe,
                ..
            } => self
                .attach_uprobe_multi(
                    binary,
                    UprobeMultiTarget::Pattern(pattern),
                    retprobe,
                    None,
                    &[],
                )?
                .into(),
            Attach::Usdt {
                binary,
                provider,
                name,
            } => self.attach_usdt(binary, provider, name, None, 0)?.into(),
            Attach::Btf { .. } => self.attach_btf_target()?,
        })
    }

    /// A BTF-named target (`tp_btf`, `fentry`, `lsm`, `iter`, `freplace`, …): the target was
    /// resolved at load, the expected attach type says the family.
    fn attach_btf_target(&self) -> Result<AnyLink> {
        if self.program_type() == ProgramType::EXT {
            return Ok(self.attach_freplace()?.into());
        }
        if self.program_type() == ProgramType::LSM {
            return match self.expected_attach_type() {
                Some(AttachType::LSM_CGROUP) => Err(no_auto_attach(self)),
                _ => Ok(self.attach_lsm()?.into()),
            };
        }
        Ok(match self.expected_attach_type() {
            Some(AttachType::TRACE_RAW_TP) => self.attach_tp_btf()?.into(),
            Some(AttachType::TRACE_ITER) => self.attach_iter(IterOptions::None)?.into(),
            Some(
                AttachType::TRACE_FENTRY
                | AttachType::TRACE_FEXIT
                | AttachType::MODIFY_RETURN
                | AttachType::TRACE_FSESSION,
            ) => self.attach_trace()?.into(),
            _ => return Err(no_auto_attach(self)),
        })
    }
}
