//! Attachments that go through a perf event: tracepoints, kprobes, uprobes and perf_event
//! programs on (software) perf events.
//!
//! Each attach opens a perf event (`perf_event_open(2)`) and hangs the program on it, with a
//! BPF link (`BPF_LINK_CREATE` with `BPF_PERF_EVENT`, kernels 5.15+, which also carries a BPF
//! cookie) or, when the kernel has no perf-event links, with the older
//! `PERF_EVENT_IOC_SET_BPF` ioctl. Both come back as a [`PerfLink`]: dropping it detaches the
//! program (unless the BPF link is pinned); [`PerfLink::detach`] stops it at once.
//!
//! | `SEC()` | entry point |
//! |---|---|
//! | `tracepoint/CAT/NAME`, `tp/CAT/NAME` | [`Program::attach_tracepoint`] |
//! | `perf_event` | [`Program::attach_perf_event`] |
//! | `kprobe/…`, `kretprobe/…`, `ksyscall/…`, `kretsyscall/…` | [`Program::attach_kprobe`], [`Program::attach_kretprobe`], [`Program::attach_ksyscall`] |
//! | `uprobe/…`, `uretprobe/…` | [`Program::attach_uprobe`] |
//! | `usdt/…` | [`Program::attach_usdt`] |

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use super::Link;
use crate::error::{Error, Result};
use crate::map::capability_missing;
use crate::prog::{Program, ProgramType};
use crate::sys::perf_event::{self as pe, PerfEventAttr};
use crate::sys::tracefs::{self, ProbeKind};
use crate::sys::{self, Errno, PerfEventType};

/// How the program is hung on the perf event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PerfAttachMode {
    /// A BPF link when the kernel has perf-event links, else the ioctl (the default).
    #[default]
    Auto,
    /// Only a BPF link (`BPF_LINK_CREATE` with `BPF_PERF_EVENT`).
    Link,
    /// Only `PERF_EVENT_IOC_SET_BPF` (no pin, no cookie).
    Ioctl,
}

/// A tracefs probe event (`kprobe_events`/`uprobe_events`) made for one attachment and
/// removed when it goes.
#[derive(Debug)]
pub(crate) struct LegacyProbeEvent {
    pub(crate) kind: ProbeKind,
    pub(crate) group: String,
    pub(crate) event: String,
}

impl Drop for LegacyProbeEvent {
    fn drop(&mut self) {
        // Fails with EBUSY while a pinned link still holds the event: it then stays.
        let _ = tracefs::remove_probe_event(self.kind, &self.group, &self.event);
    }
}

/// A program attached to a perf event: a BPF perf-event link, or (kernels without those)
/// the perf event with the program set by `PERF_EVENT_IOC_SET_BPF`.
///
/// Dropping it detaches the program, unless the link is pinned ([`PerfLink::pin`]). A legacy
/// tracefs probe event made for the attachment is removed then too.
#[derive(Debug)]
pub struct PerfLink {
    // Drop order matters: the link, then the event, then the tracefs probe event.
    link: Option<Link>,
    event: Option<OwnedFd>,
    legacy: Option<LegacyProbeEvent>,
}

impl PerfLink {
    /// The BPF link, when the attachment is one (not for the ioctl fallback).
    pub fn link(&self) -> Option<&Link> {
        self.link.as_ref()
    }

    /// The perf event (`None` after [`detach`](PerfLink::detach) closed it).
    pub fn perf_event(&self) -> Option<BorrowedFd<'_>> {
        self.event.as_ref().map(|e| e.as_fd())
    }

    /// Whether the attachment made a tracefs probe event (`kprobe_events`/`uprobe_events`)
    /// because the kernel has no kprobe/uprobe PMU; it is removed on drop.
    pub fn is_legacy_probe(&self) -> bool {
        self.legacy.is_some()
    }

    /// `BPF_OBJ_PIN`: pins the link, so the program stays attached after this process exits.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an ioctl attachment (no BPF link to pin).
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        match &self.link {
            Some(l) => l.pin(path),
            None => Err(no_perf_link("pinning")),
        }
    }

    /// The link's info (type `PERF_EVENT`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an ioctl attachment.
    pub fn info(&self) -> Result<super::LinkInfo> {
        match &self.link {
            Some(l) => l.info(),
            None => Err(no_perf_link("link info")),
        }
    }

    /// What the kernel reports about the perf event behind the link (kernel 6.6+): its kind,
    /// the tracepoint / kprobe function / uprobe file, offset and cookie.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an ioctl attachment, or when the kernel reports no
    /// perf-event details.
    pub fn perf_info(&self) -> Result<PerfLinkInfo> {
        let Some(l) = &self.link else {
            return Err(no_perf_link("link info"));
        };
        crate::features::perf_event_link_info()?;
        let mut name = vec![0u8; 4096];
        let raw = sys::link_info_with(
            l.as_fd(),
            sys::LinkInfoBufs {
                name: Some(&mut name),
                ..Default::default()
            },
        )
        .map_err(|e| crate::map::info_error(e, "the fd is not a BPF link"))?;
        let p = raw.perf_event();
        let kind = PerfEventType(p.type_);
        let end = name.iter().position(|b| *b == 0).unwrap_or(0);
        let name = (kind != PerfEventType::EVENT && end > 0)
            .then(|| String::from_utf8_lossy(&name[..end]).into_owned());
        let (cookie, address) = match kind {
            PerfEventType::KPROBE | PerfEventType::KRETPROBE => (p.word5, p.word3),
            _ => (p.word3, 0),
        };
        Ok(PerfLinkInfo {
            kind,
            name,
            offset: p.offset,
            address,
            cookie,
        })
    }

    /// Stops the program now: `BPF_LINK_DETACH` where the kernel can detach perf-event
    /// links, else by closing the link and the perf event (an ioctl attachment cannot be
    /// undone otherwise). Afterwards the handle holds nothing; dropping it removes a legacy
    /// tracefs probe event.
    pub fn detach(&mut self) -> Result<()> {
        if let Some(l) = &self.link {
            match sys::link_detach(l.as_fd()) {
                Ok(()) => {}
                Err(e) if e == Errno::EOPNOTSUPP || e == Errno::EINVAL => {}
                Err(e) => {
                    return Err(Error::Syscall {
                        call: "BPF_LINK_DETACH",
                        errno: e,
                        context: None,
                        hint: None,
                    });
                }
            }
        }
        self.link = None;
        self.event = None;
        Ok(())
    }

    /// Splits the attachment into the BPF link (if any) and the perf event. A legacy tracefs
    /// probe event is removed at once (it cannot be removed while the link holds it: then it
    /// stays until removed from tracefs by hand).
    pub fn into_parts(self) -> (Option<Link>, Option<OwnedFd>) {
        let PerfLink {
            link,
            event,
            legacy,
        } = self;
        drop(legacy);
        (link, event)
    }

    pub(crate) fn with_legacy(mut self, legacy: Option<LegacyProbeEvent>) -> Self {
        self.legacy = legacy;
        self
    }
}

/// The perf-event part of a perf link's info ([`PerfLink::perf_info`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PerfLinkInfo {
    /// uprobe, uretprobe, kprobe, kretprobe, tracepoint or event.
    pub kind: PerfEventType,
    /// The uprobe's file, the kprobe's function, the tracepoint's name.
    pub name: Option<String>,
    /// The probe's offset (in the file or function).
    pub offset: u32,
    /// kprobes: the probed address.
    pub address: u64,
    /// The BPF cookie.
    pub cookie: u64,
}

fn no_perf_link(what: &str) -> Error {
    Error::Unsupported {
        feature: "perf-event links",
        hint: format!(
            "{what} needs a BPF perf-event link (kernel 5.15+), and this attachment was made with \
             PERF_EVENT_IOC_SET_BPF: attach with PerfAttachMode::Link on a kernel that has them"
        ),
    }
}

/// Where a perf_event program samples: a perf event of any type, opened per CPU or per task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerfEvent {
    /// The attr (type, config, period or frequency …).
    pub attr: PerfEventAttr,
    /// Task to watch (`-1`: every task on `cpu`).
    pub pid: i32,
    /// CPU to watch (`-1`: every CPU the task runs on).
    pub cpu: i32,
}

impl PerfEvent {
    /// A software event (`PERF_TYPE_SOFTWARE`, `config` e.g.
    /// [`PERF_COUNT_SW_CPU_CLOCK`](pe::PERF_COUNT_SW_CPU_CLOCK)) sampled `freq` times a second,
    /// on `cpu` for every task.
    pub fn software_freq(config: u64, freq: u64, cpu: i32) -> Self {
        PerfEvent {
            attr: PerfEventAttr {
                type_: pe::PERF_TYPE_SOFTWARE,
                config,
                sample_period: freq,
                flags: pe::attr_flags::FREQ,
                ..Default::default()
            },
            pid: -1,
            cpu,
        }
    }

    /// Any event: `type_`/`config` sampled every `period` events.
    pub fn period(type_: u32, config: u64, period: u64, pid: i32, cpu: i32) -> Self {
        PerfEvent {
            attr: PerfEventAttr {
                type_,
                config,
                sample_period: period,
                ..Default::default()
            },
            pid,
            cpu,
        }
    }
}

/// `perf_event_open` failed: an error that names the capability, or says what is missing.
pub(crate) fn perf_open_error(e: Errno, what: &str) -> Error {
    if e == Errno::EACCES || e == Errno::EPERM {
        if let Some(cap) = capability_missing(&["CAP_PERFMON"]) {
            return Error::MissingCapability {
                call: "perf_event_open",
                capability: cap,
                context: Some(what.to_owned()),
            };
        }
    }
    let hint = match e {
        e if e == Errno::ENOENT || e == Errno::EOPNOTSUPP => Some(
            "the kernel has no such event (e.g. no hardware PMU in a VM: use a software event)",
        ),
        e if e == Errno::EINVAL => Some("the event's attributes, pid or cpu are not valid here"),
        e if e == Errno::from_raw(libc::ESRCH) => Some("no such process"),
        _ => None,
    };
    Error::Syscall {
        call: "perf_event_open",
        errno: e,
        context: Some(what.to_owned()),
        hint,
    }
}

fn check_type(prog: &Program, want: &[ProgramType], what: &str) -> Result<()> {
    if want.contains(&prog.program_type()) {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "program \"{}\" is a {:?} program; {what} takes a {:?} program",
        prog.name(),
        prog.program_type(),
        want[0]
    )))
}

fn link_error(prog: &Program, e: Errno) -> Error {
    if e == Errno::EPERM {
        if let Some(cap) = capability_missing(&["CAP_BPF", "CAP_PERFMON"]) {
            return Error::MissingCapability {
                call: "BPF_LINK_CREATE",
                capability: cap,
                context: Some(format!("program \"{}\" on a perf event", prog.name())),
            };
        }
    }
    let hint = match e {
        e if e == Errno::EINVAL => Some(
            "the program's type does not fit the perf event (kprobe/uprobe events take KPROBE \
             programs, tracepoints TRACEPOINT, other events PERF_EVENT)",
        ),
        e if e == Errno::EEXIST || e == Errno::EBUSY => {
            Some("a program is already attached to this perf event")
        }
        _ => None,
    };
    Error::Syscall {
        call: "BPF_LINK_CREATE",
        errno: e,
        context: Some(format!("program \"{}\" on a perf event", prog.name())),
        hint,
    }
}

impl Program {
    /// Attaches this program to an open perf event `event` (taking it over) with a BPF cookie
    /// (`bpf_get_attach_cookie`), by a perf-event link or `PERF_EVENT_IOC_SET_BPF` as `mode`
    /// says. The building block of every other perf-event attach.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when `mode` is [`PerfAttachMode::Link`] (or a cookie is given)
    /// and the kernel has no perf-event links.
    pub fn attach_perf_event_fd(
        &self,
        event: OwnedFd,
        cookie: u64,
        mode: PerfAttachMode,
    ) -> Result<PerfLink> {
        if mode != PerfAttachMode::Ioctl {
            match sys::link_create_perf_event(self.as_fd(), event.as_fd(), cookie) {
                Ok(fd) => {
                    return Ok(PerfLink {
                        link: Some(Link::from_fd(fd)),
                        event: Some(event),
                        legacy: None,
                    });
                }
                // Kernels before 5.15 do not know BPF_PERF_EVENT links.
                Err(e)
                    if mode == PerfAttachMode::Auto
                        && (e == Errno::EINVAL
                            || e == Errno::ENOTSUPP
                            || e == Errno::EOPNOTSUPP)
                        && cookie == 0 =>
                {
                    // Retry with the ioctl below; a genuine mismatch fails there too.
                }
                Err(e)
                    if (e == Errno::EINVAL || e == Errno::ENOTSUPP || e == Errno::EOPNOTSUPP)
                        && crate::features::link_type(sys::LinkType::PERF_EVENT).is_err() =>
                {
                    return Err(Error::Unsupported {
                        feature: "perf-event links",
                        hint: "BPF_LINK_CREATE with BPF_PERF_EVENT (and BPF cookies) needs kernel \
                               5.15+: attach with PerfAttachMode::Ioctl and no cookie"
                            .into(),
                    });
                }
                Err(e) => return Err(link_error(self, e)),
            }
        }
        pe::perf_event_set_bpf(event.as_fd(), self.as_fd()).map_err(|e| {
            let mut err = link_error(self, e);
            if let Error::Syscall { call, .. } = &mut err {
                *call = "PERF_EVENT_IOC_SET_BPF";
            }
            err
        })?;
        pe::perf_event_enable(event.as_fd()).map_err(|e| Error::Syscall {
            call: "PERF_EVENT_IOC_ENABLE",
            errno: e,
            context: Some(format!("program \"{}\"", self.name())),
            hint: None,
        })?;
        Ok(PerfLink {
            link: None,
            event: Some(event),
            legacy: None,
        })
    }

    /// Attaches this `TRACEPOINT` program to the kernel tracepoint `category:name`
    /// (`SEC("tracepoint/CATEGORY/NAME")` or `SEC("tp/CATEGORY/NAME")`), e.g.
    /// `("syscalls", "sys_enter_getppid")`. The id comes from tracefs
    /// (`/sys/kernel/tracing/events/CATEGORY/NAME/id`), which is mounted if it is not.
    pub fn attach_tracepoint(&self, category: &str, name: &str) -> Result<PerfLink> {
        self.attach_tracepoint_with(category, name, 0, PerfAttachMode::Auto)
    }

    /// [`attach_tracepoint`](Program::attach_tracepoint) with a BPF cookie and an attach mode.
    pub fn attach_tracepoint_with(
        &self,
        category: &str,
        name: &str,
        cookie: u64,
        mode: PerfAttachMode,
    ) -> Result<PerfLink> {
        check_type(self, &[ProgramType::TRACEPOINT], "attach_tracepoint")?;
        let id = tracepoint_id(category, name)?;
        let event = open_tracepoint(id, -1, 0, &format!("tracepoint {category}:{name}"))?;
        self.attach_perf_event_fd(event, cookie, mode)
    }

    /// Attaches this `PERF_EVENT` program (`SEC("perf_event")`) to a new perf event, e.g.
    /// [`PerfEvent::software_freq`]`(PERF_COUNT_SW_CPU_CLOCK, 1000, 0)`: it runs on each
    /// sample.
    pub fn attach_perf_event(&self, event: &PerfEvent) -> Result<PerfLink> {
        self.attach_perf_event_with(event, 0, PerfAttachMode::Auto)
    }

    /// [`attach_perf_event`](Program::attach_perf_event) with a BPF cookie and an attach mode.
    pub fn attach_perf_event_with(
        &self,
        event: &PerfEvent,
        cookie: u64,
        mode: PerfAttachMode,
    ) -> Result<PerfLink> {
        check_type(self, &[ProgramType::PERF_EVENT], "attach_perf_event")?;
        let what = format!(
            "perf event type {} config {}",
            event.attr.type_, event.attr.config
        );
        let fd = pe::perf_event_open(&event.attr, event.pid, event.cpu, None, 0)
            .map_err(|e| perf_open_error(e, &what))?;
        self.attach_perf_event_fd(fd, cookie, mode)
    }
}

/// The tracepoint id of `category:name`, with errors that say what is missing.
pub(crate) fn tracepoint_id(category: &str, name: &str) -> Result<u64> {
    let root = sys::mount::tracefs_root().map_err(|e| Error::Unsupported {
        feature: "tracefs",
        hint: format!(
            "tracepoint ids are read from tracefs, which is not mounted and could not be \
             mounted ({e}): mount -t tracefs tracefs /sys/kernel/tracing"
        ),
    })?;
    sys::mount::tracepoint_id(category, name).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::InvalidArgument(format!(
                "no tracepoint {category}:{name} in this kernel ({} does not exist)",
                root.join("events").join(category).join(name).display()
            ))
        } else {
            Error::io(root.join("events").join(category).join(name).join("id"), e)
        }
    })
}

/// Opens a `PERF_TYPE_TRACEPOINT` event on tracepoint `id`.
pub(crate) fn open_tracepoint(id: u64, pid: i32, cpu: i32, what: &str) -> Result<OwnedFd> {
    let attr = PerfEventAttr {
        type_: pe::PERF_TYPE_TRACEPOINT,
        config: id,
        sample_period: 1,
        wakeup_events: 1,
        ..Default::default()
    };
    pe::perf_event_open(&attr, pid, cpu, None, 0).map_err(|e| perf_open_error(e, what))
}

/// A fresh tracefs event name for this process: `rawbpf_<pid>_<n>_<what>`, only `[A-Za-z0-9_]`,
/// at most 63 characters.
pub(crate) fn legacy_event_name(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let clean: String = what
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(32)
        .collect();
    format!("rawbpf_{}_{n}_{clean}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_are_clean_and_unique() {
        let a = legacy_event_name("do_sys+open/x");
        let b = legacy_event_name("do_sys+open/x");
        assert_ne!(a, b);
        assert!(
            a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{a}"
        );
        assert!(a.ends_with("do_sys_open_x"), "{a}");
        assert!(legacy_event_name(&"x".repeat(100)).len() < 64);
    }
}
