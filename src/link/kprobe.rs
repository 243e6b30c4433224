//! kprobes, kretprobes, ksyscalls and kprobe.multi.
//!
//! | `SEC()` | entry point |
//! |---|---|
//! | `kprobe/FUNC[+OFF]` | [`Program::attach_kprobe`] |
//! | `kretprobe/FUNC` | [`Program::attach_kretprobe`] |
//! | `ksyscall/NAME`, `kretsyscall/NAME` | [`Program::attach_ksyscall`] |
//! | `kprobe.multi/PATTERN`, `kretprobe.multi/PATTERN` | [`Program::attach_kprobe_multi`] |
//!
//! A kprobe is a perf event of the `kprobe` PMU (`/sys/bus/event_source/devices/kprobe`); on
//! kernels without it, a probe event written to tracefs `kprobe_events` (named
//! `rawbpf_<pid>_<n>_<func>`, removed when the [`PerfLink`] goes). A kernel built without
//! kprobes (`CONFIG_KPROBES=n`) has neither: every attach here then returns
//! [`Error::Unsupported`] naming kprobes. kprobe.multi links need `CONFIG_FPROBE`.

use std::ffi::CString;
use std::os::fd::AsFd;

use super::Link;
use super::perf_event::{
    LegacyProbeEvent, PerfAttachMode, PerfLink, legacy_event_name, open_tracepoint, perf_open_error,
};
use crate::error::{Error, Result};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::perf_event::{self as pe, ProbeAttr};
use crate::sys::tracefs::{self, ProbeKind};
use crate::sys::{self, Errno, KprobeMultiArgs};

/// Options of a kprobe or uprobe attach.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProbeOptions {
    /// The BPF cookie the program reads with `bpf_get_attach_cookie` (needs a perf-event
    /// link).
    pub cookie: u64,
    /// Uprobes: fire only in this process (`None`: every process).
    pub pid: Option<u32>,
    /// Uprobes: file offset of a reference counter (USDT semaphore) the kernel increments
    /// while the probe is attached (0: none).
    pub ref_ctr_offset: u64,
    /// Use the tracefs probe-events file even when the perf PMU exists.
    pub legacy: bool,
    /// Link or ioctl.
    pub mode: PerfAttachMode,
}

impl ProbeOptions {
    /// Sets the BPF cookie.
    pub fn cookie(mut self, cookie: u64) -> Self {
        self.cookie = cookie;
        self
    }

    /// Fires only in process `pid` (uprobes).
    pub fn pid(mut self, pid: u32) -> Self {
        self.pid = Some(pid);
        self
    }

    /// Forces the tracefs `kprobe_events`/`uprobe_events` method.
    pub fn legacy(mut self, legacy: bool) -> Self {
        self.legacy = legacy;
        self
    }

    /// Sets the link/ioctl mode.
    pub fn mode(mut self, mode: PerfAttachMode) -> Self {
        self.mode = mode;
        self
    }
}

/// What a kprobe.multi link probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KprobeMultiTarget<'a> {
    /// Every traceable kernel function whose name matches this glob (`*`, `?`), from tracefs
    /// `available_filter_functions` (or `/proc/kallsyms` when that cannot be read).
    Pattern(&'a str),
    /// These functions.
    Symbols(&'a [&'a str]),
    /// These kernel addresses.
    Addresses(&'a [u64]),
}

const NO_KPROBES: &str = "this kernel has neither the perf kprobe PMU \
    (/sys/bus/event_source/devices/kprobe) nor tracefs kprobe_events: it is built without \
    kprobes (CONFIG_KPROBES / CONFIG_KPROBE_EVENTS). Use a tracepoint, raw_tp or tp_btf program \
    instead, or a kernel with kprobes";

fn unsupported_kprobes() -> Error {
    Error::Unsupported {
        feature: "kprobes",
        hint: NO_KPROBES.into(),
    }
}

fn require_kprobe_type(prog: &Program, what: &str) -> Result<()> {
    if prog.program_type() == ProgramType::KPROBE {
        return Ok(());
    }
    Err(Error::InvalidArgument(format!(
        "program \"{}\" is a {:?} program; {what} takes a KPROBE program",
        prog.name(),
        prog.program_type()
    )))
}

fn has_kprobe_events() -> bool {
    sys::mount::tracefs_root().is_ok_and(|r| r.join("kprobe_events").exists())
}

/// The architecture's syscall wrapper prefix (`__x64_`), as libbpf spells it.
fn syscall_prefix() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "__x64_",
        "x86" => "__ia32_",
        "aarch64" => "__arm64_",
        "s390x" => "__s390x_",
        "riscv64" => "__riscv_",
        _ => "",
    }
}

/// The kernel function of syscall `name`: `__x64_sys_NAME` when the kernel has syscall
/// wrappers (it lists that symbol in `/proc/kallsyms`), else `sys_NAME`.
pub fn syscall_function(name: &str) -> String {
    let prefix = syscall_prefix();
    let wrapped = format!("{prefix}sys_{name}");
    if !prefix.is_empty() && kallsyms_has(&wrapped) {
        wrapped
    } else {
        format!("sys_{name}")
    }
}

fn kallsyms_has(sym: &str) -> bool {
    let Ok(text) = std::fs::read_to_string("/proc/kallsyms") else {
        return false;
    };
    text.lines()
        .any(|l| l.split_whitespace().nth(2).is_some_and(|s| s == sym))
}

impl Program {
    /// Attaches this `KPROBE` program to kernel function `func` at byte `offset`
    /// (`SEC("kprobe/FUNC+OFF")`), through the kprobe PMU, or tracefs `kprobe_events` where
    /// the PMU is missing.
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming kprobes on kernels without them (`CONFIG_KPROBES=n`).
    pub fn attach_kprobe(&self, func: &str, offset: u64, opts: &ProbeOptions) -> Result<PerfLink> {
        self.kprobe(func, offset, false, opts)
    }

    /// Attaches this `KPROBE` program to the return of kernel function `func`
    /// (`SEC("kretprobe/FUNC")`).
    ///
    /// # Errors
    /// As [`attach_kprobe`](Program::attach_kprobe).
    pub fn attach_kretprobe(&self, func: &str, opts: &ProbeOptions) -> Result<PerfLink> {
        self.kprobe(func, 0, true, opts)
    }

    /// Attaches this `KPROBE` program to the entry (or, with `ret`, the return) of system
    /// call `name` (`SEC("ksyscall/NAME")`, `SEC("kretsyscall/NAME")`), e.g. `"getppid"`:
    /// the kernel function is `__x64_sys_getppid` on x86-64 kernels with syscall wrappers.
    ///
    /// # Errors
    /// As [`attach_kprobe`](Program::attach_kprobe).
    pub fn attach_ksyscall(&self, name: &str, ret: bool, opts: &ProbeOptions) -> Result<PerfLink> {
        require_kprobe_type(self, "attach_ksyscall")?;
        if pe::pmu_type("kprobe").is_err() && !has_kprobe_events() {
            return Err(unsupported_kprobes());
        }
        let func = syscall_function(name);
        self.kprobe(&func, 0, ret, opts)
    }

    fn kprobe(&self, func: &str, offset: u64, ret: bool, opts: &ProbeOptions) -> Result<PerfLink> {
        require_kprobe_type(self, "attach_kprobe")?;
        if func.is_empty() || func.contains(|c: char| c.is_whitespace() || c == '\0') {
            return Err(Error::InvalidArgument(format!(
                "bad kernel function name {func:?}"
            )));
        }
        if ret && offset != 0 {
            return Err(Error::InvalidArgument(
                "a kretprobe cannot have an offset".into(),
            ));
        }
        let what = format!(
            "{} {func}+{offset}",
            if ret { "kretprobe" } else { "kprobe" }
        );
        let pmu = pe::pmu_type("kprobe").is_ok();
        if pmu && !opts.legacy {
            let name = CString::new(func).expect("checked for NUL");
            let attr = ProbeAttr::kprobe(&name, offset, ret)
                .map_err(|e| Error::io("/sys/bus/event_source/devices/kprobe", e))?;
            let fd = pe::perf_event_open_probe(&attr, -1, 0, None, 0).map_err(|e| {
                if e == Errno::ENOENT
                    || e == Errno::EINVAL
                    || e == Errno::from_raw(libc::EADDRNOTAVAIL)
                {
                    Error::InvalidArgument(format!(
                        "{what}: perf_event_open says {e}: no probeable kernel function {func} \
                         at that offset (see /proc/kallsyms; inlined and notrace functions \
                         cannot be probed)"
                    ))
                } else {
                    perf_open_error(e, &what)
                }
            })?;
            return self.attach_perf_event_fd(fd, opts.cookie, opts.mode);
        }
        if !has_kprobe_events() {
            return Err(unsupported_kprobes());
        }
        let event = legacy_event_name(func);
        let group = "rawbpf";
        let target = if offset == 0 {
            func.to_owned()
        } else {
            format!("{func}+{offset}")
        };
        let id = tracefs::add_probe_event(ProbeKind::Kprobe, ret, group, &event, &target)
            .map_err(|e| Error::InvalidArgument(format!("{what}: kprobe_events: {e}")))?;
        let legacy = LegacyProbeEvent {
            kind: ProbeKind::Kprobe,
            group: group.into(),
            event,
        };
        // The guard removes the event if opening or attaching fails.
        let fd = open_tracepoint(id, -1, 0, &what)?;
        Ok(self
            .attach_perf_event_fd(fd, opts.cookie, opts.mode)?
            .with_legacy(Some(legacy)))
    }

    /// Attaches this `KPROBE` program (loaded with expected attach type
    /// `TRACE_KPROBE_MULTI`, as `SEC("kprobe.multi/…")` does) to many kernel functions in one
    /// kprobe.multi link; with `retprobe`, to their returns. `cookies`: none, or one per
    /// function (symbols/addresses; not with a pattern).
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the kernel has no kprobe.multi links (`CONFIG_FPROBE=n`,
    /// which kernels without kprobes also lack); `InvalidArgument` when a pattern matches
    /// nothing.
    pub fn attach_kprobe_multi(
        &self,
        target: KprobeMultiTarget<'_>,
        retprobe: bool,
        cookies: &[u64],
    ) -> Result<Link> {
        require_kprobe_type(self, "attach_kprobe_multi")?;
        let names: Vec<String> = match target {
            KprobeMultiTarget::Pattern(p) => {
                if !cookies.is_empty() {
                    return Err(Error::InvalidArgument(
                        "cookies go with a symbol or address list, not a pattern".into(),
                    ));
                }
                let found = traceable_functions_matching(p)?;
                if found.is_empty() {
                    return Err(Error::InvalidArgument(format!(
                        "no traceable kernel function matches {p:?}"
                    )));
                }
                found
            }
            KprobeMultiTarget::Symbols(s) => s.iter().map(|s| (*s).to_owned()).collect(),
            KprobeMultiTarget::Addresses(_) => Vec::new(),
        };
        let cnames: Vec<CString> = names
            .iter()
            .map(|n| {
                CString::new(n.as_str())
                    .map_err(|_| Error::InvalidArgument(format!("symbol {n:?} has a NUL")))
            })
            .collect::<Result<_>>()?;
        let syms: Vec<&std::ffi::CStr> = cnames.iter().map(|c| c.as_c_str()).collect();
        let addrs = match target {
            KprobeMultiTarget::Addresses(a) => a,
            _ => &[],
        };
        let args = KprobeMultiArgs {
            syms: &syms,
            addrs,
            cookies,
            flags: if retprobe { 1 } else { 0 }, // BPF_F_KPROBE_MULTI_RETURN
        };
        let attach = self
            .expected_attach_type()
            .filter(|t| *t == AttachType::TRACE_KPROBE_SESSION)
            .unwrap_or(AttachType::TRACE_KPROBE_MULTI);
        let fd = sys::link_create_kprobe_multi(self.as_fd(), attach, &args).map_err(|e| {
            if e == Errno::EOPNOTSUPP || e == Errno::ENOTSUPP {
                return Error::Unsupported {
                    feature: "kprobe_multi",
                    hint: format!(
                        "BPF_LINK_CREATE(kprobe.multi) says {e}: the kernel has no fprobe \
                         (CONFIG_FPROBE), which kprobe.multi links need; {NO_KPROBES}"
                    ),
                };
            }
            let hint = match e {
                e if e == Errno::EINVAL => Some(
                    "the program must be loaded with expected attach type TRACE_KPROBE_MULTI \
                     (SEC(\"kprobe.multi/…\")), and the counts must match",
                ),
                e if e == Errno::from_raw(libc::ESRCH) || e == Errno::ENOENT => {
                    Some("a symbol is not a traceable kernel function")
                }
                _ => None,
            };
            Error::Syscall {
                call: "BPF_LINK_CREATE",
                errno: e,
                context: Some(format!(
                    "kprobe.multi of program \"{}\" on {} functions",
                    self.name(),
                    syms.len().max(addrs.len())
                )),
                hint,
            }
        })?;
        Ok(Link::from_fd(fd))
    }
}

/// The kernel functions that can be traced whose names match `pattern` (a glob with `*` and
/// `?`), sorted and without duplicates: from tracefs `available_filter_functions`, or the
/// text symbols of `/proc/kallsyms` when that file cannot be read.
pub fn traceable_functions_matching(pattern: &str) -> Result<Vec<String>> {
    let from_tracefs = sys::mount::tracefs_root()
        .ok()
        .and_then(|r| std::fs::read_to_string(r.join("available_filter_functions")).ok());
    let mut out: Vec<String> = match from_tracefs {
        Some(text) => text
            .lines()
            // "name [module]" for module functions.
            .filter_map(|l| l.split_whitespace().next())
            .filter(|n| glob_match(pattern, n))
            .map(str::to_owned)
            .collect(),
        None => {
            let text = std::fs::read_to_string("/proc/kallsyms")
                .map_err(|e| Error::io("/proc/kallsyms", e))?;
            text.lines()
                .filter_map(|l| {
                    let mut f = l.split_whitespace();
                    let (_, kind, name) = (f.next()?, f.next()?, f.next()?);
                    (f.next().is_none() && matches!(kind, "t" | "T")).then_some(name)
                })
                .filter(|n| glob_match(pattern, n))
                .map(str::to_owned)
                .collect()
        }
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `s` matches the glob `pattern` (`*`: any run, `?`: any one character).
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), s.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("bpf_fentry_test*", "bpf_fentry_test1"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*sys_*pid", "__x64_sys_getppid"));
        assert!(!glob_match("*sys_*pid", "__x64_sys_getppid2"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("abc", "abcd"));
    }

    #[test]
    fn syscall_names() {
        let f = syscall_function("getppid");
        assert!(f == "__x64_sys_getppid" || f == "sys_getppid", "{f}");
    }
}
