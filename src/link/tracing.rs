//! Raw tracepoints and the BPF-trampoline families: `raw_tp`, `tp_btf`, `fentry`/`fexit`/
//! `fmod_ret`, `freplace` and `lsm`.
//!
//! | `SEC()` | program type / expected attach type | attach with |
//! |---|---|---|
//! | `raw_tp/NAME`, `raw_tracepoint/NAME` (`.w`, `.s`) | `RAW_TRACEPOINT` | [`Program::attach_raw_tracepoint`] |
//! | `tp_btf/NAME` (`.s`) | `TRACING` / `TRACE_RAW_TP` | [`Program::attach_tp_btf`] |
//! | `fentry/F`, `fexit/F`, `fmod_ret/F`, `fsession/F` (`.s`) | `TRACING` / `TRACE_FENTRY`, … | [`Program::attach_trace`] |
//! | `lsm/HOOK` (`.s`) | `LSM` / `LSM_MAC` | [`Program::attach_lsm`] |
//! | `freplace/F` | `EXT` (target program given at load) | [`Program::attach_freplace`], [`Program::attach_freplace_to`] |
//!
//! The targets of `tp_btf`, `fentry`, `fexit`, `fmod_ret`, `lsm` and `freplace` are fixed at
//! load (the loader resolves the name in `SEC()` to a kernel BTF id, or, for `freplace`, to a
//! function of the program given with [`Loader::freplace_target`](crate::loader::Loader::freplace_target));
//! attaching just switches the program on. Each has a `_with_cookie` form whose value the
//! program reads with `bpf_get_attach_cookie()`.
//!
//! `tp.s`/`raw_tp.s`/`tp_btf.s` (sleepable tracepoints) and `fsession` load only on kernels
//! that have them ([`crate::features::sleepable_tracepoints`], [`crate::features::fsession`]),
//! else the load is [`Error::Unsupported`]; `fentry.multi`/`fexit.multi`/`fsession.multi`
//! are always `Unsupported` for now (rawbpf does not create multi-function tracing links).
//! Iterators are in [`IterLink`](super::IterLink), struct_ops in
//! [`StructOps`](crate::loader::StructOps).
//!
//! Kernels that refuse BPF trampolines (built without them, or forbidding them) reject
//! `fentry`/`fexit`/`fmod_ret`/`freplace`/`lsm` programs already at load, with
//! [`Error::Unsupported`] naming BPF trampolines (see [`crate::features::trampolines`]).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = rawbpf::ObjectSpec::open("tests/bpf/link_tracing.bpf.o")?;
//! let obj = rawbpf::Loader::new().load_only("raw_tp_getppid").load(&spec)?;
//! let link = obj.program("raw_tp_getppid")?.attach_raw_tracepoint("sys_enter")?;
//! drop(link); // detached
//! # Ok(()) }
//! ```

use std::ffi::CString;
use std::os::fd::AsFd;

use super::Link;
use crate::error::{Error, Result};
use crate::map::capability_missing;
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::{self, Errno};

/// The error of a failed tracing attach.
fn attach_error(prog: &Program, call: &'static str, what: &str, e: Errno, cookie: bool) -> Error {
    let context = Some(format!("program \"{}\" {what}", prog.name()));
    if e == Errno::EPERM {
        if let Some(cap) = capability_missing(&["CAP_BPF", "CAP_PERFMON"]) {
            return Error::MissingCapability {
                call,
                capability: cap,
                context,
            };
        }
    }
    if cookie && (e == Errno::EINVAL || e == Errno::E2BIG) {
        return Error::Unsupported {
            feature: "BPF cookies on this link type",
            hint: format!(
                "{call} refused a cookie for {what} ({e}): attach without one on this kernel"
            ),
        };
    }
    let hint = match e {
        e if e == Errno::ENOENT && call == "BPF_RAW_TRACEPOINT_OPEN" => {
            Some("no raw tracepoint of that name (see /sys/kernel/tracing/available_events)")
        }
        e if e == Errno::EINVAL => {
            Some("the program's type or expected attach type does not fit this attach")
        }
        e if e == Errno::EEXIST || e == Errno::EBUSY => {
            Some("the program is already attached there")
        }
        e if e == Errno::ENOTSUPP || e == Errno::EOPNOTSUPP => {
            Some("the kernel cannot attach this program (no BPF trampoline for the target)")
        }
        _ => None,
    };
    Error::Syscall {
        call,
        errno: e,
        context,
        hint,
    }
}

fn wrong_type(prog: &Program, want: &str) -> Error {
    Error::InvalidArgument(format!(
        "program \"{}\" is a {:?} program (expected attach type {:?}), not {want}",
        prog.name(),
        prog.program_type(),
        prog.expected_attach_type()
    ))
}

impl Program {
    /// Attaches this `RAW_TRACEPOINT` (or `RAW_TRACEPOINT_WRITABLE`) program to the raw
    /// tracepoint `name` (`sys_enter`, `sched_process_exec`, …) with `BPF_RAW_TRACEPOINT_OPEN`.
    /// For `SEC("raw_tp/NAME")` and `SEC("raw_tracepoint/NAME")`.
    pub fn attach_raw_tracepoint(&self, name: &str) -> Result<Link> {
        self.raw_tp(name, 0)
    }

    /// As [`Program::attach_raw_tracepoint`], with a cookie for `bpf_get_attach_cookie()`
    /// (kernels 6.10 and later; older ones give [`Error::Unsupported`]).
    pub fn attach_raw_tracepoint_with_cookie(&self, name: &str, cookie: u64) -> Result<Link> {
        self.raw_tp(name, cookie)
    }

    fn raw_tp(&self, name: &str, cookie: u64) -> Result<Link> {
        if !matches!(
            self.program_type(),
            ProgramType::RAW_TRACEPOINT | ProgramType::RAW_TRACEPOINT_WRITABLE
        ) {
            return Err(wrong_type(self, "a raw tracepoint program"));
        }
        let c = CString::new(name).map_err(|_| {
            Error::InvalidArgument(format!("tracepoint name {name:?} contains a NUL byte"))
        })?;
        let what = format!("at raw tracepoint {name}");
        sys::raw_tracepoint_open(self.as_fd(), Some(&c), cookie)
            .map(Link::from_fd)
            .map_err(|e| attach_error(self, "BPF_RAW_TRACEPOINT_OPEN", &what, e, cookie != 0))
    }

    /// Attaches this `tp_btf` program (`TRACING` with `TRACE_RAW_TP`) to the tracepoint it
    /// was loaded for. For `SEC("tp_btf/NAME")`.
    pub fn attach_tp_btf(&self) -> Result<Link> {
        self.check_tracing(&[AttachType::TRACE_RAW_TP], "a tp_btf program")?;
        self.open_loaded_target(0)
    }

    /// As [`Program::attach_tp_btf`], with a cookie (kernels 6.10 and later).
    pub fn attach_tp_btf_with_cookie(&self, cookie: u64) -> Result<Link> {
        self.check_tracing(&[AttachType::TRACE_RAW_TP], "a tp_btf program")?;
        self.open_loaded_target(cookie)
    }

    /// Attaches this fentry, fexit, fmod_ret or fsession program (`TRACING` with
    /// `TRACE_FENTRY`, `TRACE_FEXIT`, `MODIFY_RETURN` or `TRACE_FSESSION`) to the function it
    /// was loaded for. For `SEC("fentry/F")`, `SEC("fexit/F")`, `SEC("fmod_ret/F")`,
    /// `SEC("fsession/F")` and their `.s` forms.
    pub fn attach_trace(&self) -> Result<Link> {
        self.attach_trace_with_cookie(0)
    }

    /// As [`Program::attach_trace`], with a cookie (`BPF_LINK_CREATE`'s tracing tail; kernels
    /// 5.19 and later).
    pub fn attach_trace_with_cookie(&self, cookie: u64) -> Result<Link> {
        const TRACE: [AttachType; 4] = [
            AttachType::TRACE_FENTRY,
            AttachType::TRACE_FEXIT,
            AttachType::MODIFY_RETURN,
            AttachType::TRACE_FSESSION,
        ];
        self.check_tracing(&TRACE, "an fentry/fexit/fmod_ret/fsession program")?;
        self.trampoline_link(cookie)
    }

    /// Attaches this LSM program (`LSM` with `LSM_MAC`) to the hook it was loaded for. For
    /// `SEC("lsm/HOOK")` and `SEC("lsm.s/HOOK")`. The hook runs only if the BPF LSM is active
    /// (`bpf` in `/sys/kernel/security/lsm`).
    pub fn attach_lsm(&self) -> Result<Link> {
        self.attach_lsm_with_cookie(0)
    }

    /// As [`Program::attach_lsm`], with a cookie (kernels 5.19 and later).
    pub fn attach_lsm_with_cookie(&self, cookie: u64) -> Result<Link> {
        if self.program_type() != ProgramType::LSM {
            return Err(wrong_type(self, "an LSM program"));
        }
        self.trampoline_link(cookie)
    }

    /// Attaches this `freplace` program (`EXT`) in place of the function it was loaded for
    /// (the target program and function given with
    /// [`Loader::freplace_target`](crate::loader::Loader::freplace_target)). For
    /// `SEC("freplace/F")`. While the link lives, the target program calls this program
    /// instead of `F`.
    pub fn attach_freplace(&self) -> Result<Link> {
        if self.program_type() != ProgramType::EXT {
            return Err(wrong_type(self, "an freplace (EXT) program"));
        }
        self.open_loaded_target(0)
    }

    /// Attaches this `freplace` program in place of the global function `func` of another
    /// loaded program `target` (`BPF_LINK_CREATE` with the target's fd and the function's BTF
    /// id in the target's BTF), which must have the same signature as the function the
    /// program was loaded for. The load-time target is not affected.
    pub fn attach_freplace_to(&self, target: &Program, func: &str) -> Result<Link> {
        if self.program_type() != ProgramType::EXT {
            return Err(wrong_type(self, "an freplace (EXT) program"));
        }
        let btf = crate::btf::BtfHandle::of_program(target.as_fd())
            .map_err(|e| {
                Error::InvalidArgument(format!(
                    "the BTF of freplace target \"{}\": {e}",
                    target.name()
                ))
            })?
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "freplace target \"{}\" was loaded without BTF",
                    target.name()
                ))
            })?
            .to_btf()
            .map_err(|e| {
                Error::InvalidArgument(format!(
                    "the BTF of freplace target \"{}\": {e}",
                    target.name()
                ))
            })?;
        let id = btf
            .id_by_name_kind(func, crate::btf::Kind::Func)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "freplace target \"{}\" has no function `{func}` in its BTF",
                    target.name()
                ))
            })?;
        let what = format!("in place of `{func}` of program \"{}\"", target.name());
        sys::link_create_target_btf_id(self.as_fd(), Some(target.as_fd()), AttachType(0), id)
            .map(Link::from_fd)
            .map_err(|e| attach_error(self, "BPF_LINK_CREATE", &what, e, false))
    }

    fn check_tracing(&self, types: &[AttachType], want: &str) -> Result<()> {
        let ok = self.program_type() == ProgramType::TRACING
            && self
                .expected_attach_type()
                .is_none_or(|t| types.contains(&t));
        if ok {
            Ok(())
        } else {
            Err(wrong_type(self, want))
        }
    }

    /// `BPF_RAW_TRACEPOINT_OPEN` without a name: the program's load-time target.
    fn open_loaded_target(&self, cookie: u64) -> Result<Link> {
        sys::raw_tracepoint_open(self.as_fd(), None, cookie)
            .map(Link::from_fd)
            .map_err(|e| {
                attach_error(
                    self,
                    "BPF_RAW_TRACEPOINT_OPEN",
                    "at its load-time target",
                    e,
                    cookie != 0,
                )
            })
    }

    /// fentry/fexit/fmod_ret/LSM: without a cookie the way every kernel since 5.5 has
    /// (`RAW_TRACEPOINT_OPEN`), with one `BPF_LINK_CREATE` and its tracing tail.
    fn trampoline_link(&self, cookie: u64) -> Result<Link> {
        if cookie == 0 {
            return self.open_loaded_target(0);
        }
        let attach_type = self.expected_attach_type().unwrap_or(AttachType::LSM_MAC);
        sys::link_create_tracing(self.as_fd(), attach_type, 0, cookie)
            .map(Link::from_fd)
            .map_err(|e| {
                attach_error(
                    self,
                    "BPF_LINK_CREATE",
                    "at its load-time target with a cookie",
                    e,
                    true,
                )
            })
    }
}
