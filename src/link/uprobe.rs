//! uprobes, uretprobes and uprobe.multi on user-space binaries.
//!
//! | `SEC()` | entry point |
//! |---|---|
//! | `uprobe/BINARY:FUNC[+OFF]`, `uprobe/BINARY:OFF`, `uretprobe/…` (and `.s`) | [`Program::attach_uprobe`] |
//! | `uprobe.multi/BINARY:PATTERN`, `uretprobe.multi/…` (and `.s`) | [`Program::attach_uprobe_multi`] |
//!
//! `BINARY` is a path, or a library or program name found through the target process's
//! `/proc/PID/maps`, the ld.so cache or `$PATH` ([`resolve_binary`](super::elf::resolve_binary)).
//! Functions are looked up in the ELF symtab and dynsym; the probe sits at the file offset the
//! `PT_LOAD` program headers give for the function's address.

use std::ffi::{CStr, CString};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::Link;
use super::elf::{ElfBinary, resolve_binary};
use super::kprobe::{ProbeOptions, glob_match};
use super::perf_event::{
    LegacyProbeEvent, PerfLink, legacy_event_name, open_tracepoint, perf_open_error,
};
use crate::error::{Error, Result};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::perf_event::{self as pe, ProbeAttr};
use crate::sys::tracefs::{self, ProbeKind};
use crate::sys::{self, Errno, UprobeMultiArgs};

/// Where in a binary a uprobe goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UprobeLocation<'a> {
    /// `offset` bytes into function `name` (symtab or dynsym).
    Symbol {
        /// The function.
        name: &'a str,
        /// Bytes into it.
        offset: u64,
    },
    /// A file offset.
    FileOffset(u64),
}

impl<'a> UprobeLocation<'a> {
    /// The start of function `name`.
    pub fn function(name: &'a str) -> Self {
        UprobeLocation::Symbol { name, offset: 0 }
    }
}

/// What a uprobe.multi link probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UprobeMultiTarget<'a> {
    /// Every function whose name matches this glob (`*`, `?`).
    Pattern(&'a str),
    /// These functions.
    Symbols(&'a [&'a str]),
    /// These file offsets.
    FileOffsets(&'a [u64]),
}

fn cpath(p: &Path) -> Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| Error::InvalidArgument(format!("path {} has a NUL", p.display())))
}

fn require_kprobe_type(prog: &Program, what: &str) -> Result<()> {
    if prog.program_type() == ProgramType::KPROBE {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "program \"{}\" is a {:?} program; {what} takes a KPROBE program (SEC(\"uprobe…\"))",
        prog.name(),
        prog.program_type()
    )))
}

/// Resolves `binary` and `loc` to (path, file offset).
pub(crate) fn resolve_uprobe(
    binary: &str,
    loc: UprobeLocation<'_>,
    pid: Option<u32>,
) -> Result<(PathBuf, u64)> {
    let path = resolve_binary(binary, pid)?;
    let offset = match loc {
        UprobeLocation::FileOffset(o) => o,
        UprobeLocation::Symbol { name, offset } => {
            ElfBinary::open(&path)?.function(name)?.offset + offset
        }
    };
    Ok((path, offset))
}

impl Program {
    /// Attaches this `KPROBE` program to a user-space location (`SEC("uprobe/…")`), or with
    /// `retprobe` to the return of the function there (`SEC("uretprobe/…")`): `binary` is a
    /// path or a library/program name, `opts.pid` limits it to one process,
    /// `opts.ref_ctr_offset` names a USDT-style semaphore, `opts.cookie` a BPF cookie.
    ///
    /// Uses the uprobe PMU, or tracefs `uprobe_events` where the PMU is missing (or with
    /// `opts.legacy`).
    pub fn attach_uprobe(
        &self,
        binary: &str,
        loc: UprobeLocation<'_>,
        retprobe: bool,
        opts: &ProbeOptions,
    ) -> Result<PerfLink> {
        require_kprobe_type(self, "attach_uprobe")?;
        let (path, offset) = resolve_uprobe(binary, loc, opts.pid)?;
        self.attach_uprobe_at(&path, offset, retprobe, opts)
    }

    /// [`attach_uprobe`](Program::attach_uprobe) at a resolved file offset of `path`.
    pub fn attach_uprobe_at(
        &self,
        path: &Path,
        offset: u64,
        retprobe: bool,
        opts: &ProbeOptions,
    ) -> Result<PerfLink> {
        require_kprobe_type(self, "attach_uprobe")?;
        let what = format!(
            "{} {}:{offset:#x}",
            if retprobe { "uretprobe" } else { "uprobe" },
            path.display()
        );
        // libbpf: a pid-filtered probe on any CPU, or every process on "cpu 0" (uprobe events
        // fire on every CPU either way).
        let (pid, cpu) = match opts.pid {
            Some(p) => (p as i32, -1),
            None => (-1, 0),
        };
        let ref_ctr = u32::try_from(opts.ref_ctr_offset).map_err(|_| {
            Error::InvalidArgument(format!(
                "reference counter offset {:#x} does not fit 32 bits",
                opts.ref_ctr_offset
            ))
        })?;
        let c = cpath(path)?;
        if pe::pmu_type("uprobe").is_ok() && !opts.legacy {
            let attr = ProbeAttr::uprobe(&c, offset, retprobe, ref_ctr)
                .map_err(|e| Error::io("/sys/bus/event_source/devices/uprobe", e))?;
            let fd = pe::perf_event_open_probe(&attr, pid, cpu, None, 0)
                .map_err(|e| perf_open_error(e, &what))?;
            return self.attach_perf_event_fd(fd, opts.cookie, opts.mode);
        }
        let has_events = sys::mount::tracefs_root().is_ok_and(|r| r.join("uprobe_events").exists());
        if !has_events {
            return Err(Error::Unsupported {
                feature: "uprobes",
                hint: "the kernel has neither the perf uprobe PMU nor tracefs uprobe_events \
                       (CONFIG_UPROBE_EVENTS)"
                    .into(),
            });
        }
        let p = path
            .to_str()
            .filter(|s| !s.contains(char::is_whitespace))
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "{}: tracefs uprobe_events cannot take this path",
                    path.display()
                ))
            })?;
        let event = legacy_event_name(path.file_name().and_then(|f| f.to_str()).unwrap_or("bin"));
        let group = "rawbpf";
        let target = tracefs::uprobe_target(p, offset, opts.ref_ctr_offset);
        let id = tracefs::add_probe_event(ProbeKind::Uprobe, retprobe, group, &event, &target)
            .map_err(|e| Error::InvalidArgument(format!("{what}: uprobe_events: {e}")))?;
        let legacy = LegacyProbeEvent {
            kind: ProbeKind::Uprobe,
            group: group.into(),
            event,
        };
        let fd = open_tracepoint(id, pid, cpu, &what)?;
        Ok(self
            .attach_perf_event_fd(fd, opts.cookie, opts.mode)?
            .with_legacy(Some(legacy)))
    }

    /// Attaches this `KPROBE` program (loaded with expected attach type
    /// `TRACE_UPROBE_MULTI`, as `SEC("uprobe.multi/…")` does) to many locations of `binary`
    /// in one uprobe.multi link (kernel 6.6+); with `retprobe` to the returns. `pid` limits it
    /// to one process; `cookies` is empty or one per location.
    ///
    /// # Errors
    /// [`Error::Unsupported`] on kernels without uprobe.multi links.
    pub fn attach_uprobe_multi(
        &self,
        binary: &str,
        target: UprobeMultiTarget<'_>,
        retprobe: bool,
        pid: Option<u32>,
        cookies: &[u64],
    ) -> Result<Link> {
        require_kprobe_type(self, "attach_uprobe_multi")?;
        crate::features::uprobe_multi()?;
        let path = resolve_binary(binary, pid)?;
        let offsets: Vec<u64> = match target {
            UprobeMultiTarget::FileOffsets(o) => o.to_vec(),
            UprobeMultiTarget::Symbols(names) => {
                let fns = ElfBinary::open(&path)?.functions()?;
                names
                    .iter()
                    .map(|n| {
                        fns.iter()
                            .find(|f| f.name == *n)
                            .map(|f| f.offset)
                            .ok_or_else(|| {
                                Error::InvalidArgument(format!(
                                    "{}: no function {n:?}",
                                    path.display()
                                ))
                            })
                    })
                    .collect::<Result<_>>()?
            }
            UprobeMultiTarget::Pattern(p) => {
                if !cookies.is_empty() {
                    return Err(Error::InvalidArgument(
                        "cookies go with a symbol or offset list, not a pattern".into(),
                    ));
                }
                let mut o: Vec<u64> = ElfBinary::open(&path)?
                    .functions()?
                    .into_iter()
                    .filter(|f| glob_match(p, &f.name))
                    .map(|f| f.offset)
                    .collect();
                o.sort_unstable();
                o.dedup();
                o
            }
        };
        if offsets.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{}: no function matches {target:?}",
                path.display()
            )));
        }
        let c = cpath(&path)?;
        self.uprobe_multi_offsets(&c, &offsets, &[], cookies, retprobe, pid)
    }

    pub(crate) fn uprobe_multi_offsets(
        &self,
        path: &CStr,
        offsets: &[u64],
        ref_ctr_offsets: &[u64],
        cookies: &[u64],
        retprobe: bool,
        pid: Option<u32>,
    ) -> Result<Link> {
        let args = UprobeMultiArgs {
            path,
            offsets,
            ref_ctr_offsets,
            cookies,
            flags: if retprobe { 1 } else { 0 }, // BPF_F_UPROBE_MULTI_RETURN
            pid: pid.unwrap_or(0),
        };
        let attach = self
            .expected_attach_type()
            .filter(|t| *t == AttachType::TRACE_UPROBE_SESSION)
            .unwrap_or(AttachType::TRACE_UPROBE_MULTI);
        let fd = sys::link_create_uprobe_multi(self.as_fd(), attach, &args).map_err(|e| {
            let hint = match e {
                e if e == Errno::EINVAL => Some(
                    "the program must be loaded with expected attach type TRACE_UPROBE_MULTI \
                     (SEC(\"uprobe.multi/…\")), and the counts must match",
                ),
                e if e == Errno::from_raw(libc::ESRCH) => Some("no such process"),
                _ => None,
            };
            Error::Syscall {
                call: "BPF_LINK_CREATE",
                errno: e,
                context: Some(format!(
                    "uprobe.multi of program \"{}\" on {} locations of {}",
                    self.name(),
                    offsets.len(),
                    path.to_string_lossy()
                )),
                hint,
            }
        })?;
        Ok(Link::from_fd(fd))
    }
}
