//! [`ProgramOptions`] and the load path of [`Program`]: the verifier log grows on `ENOSPC`,
//! a rejection carries the whole log, and `EPERM` is explained.

use std::ffi::CString;
use std::os::fd::{BorrowedFd, OwnedFd};

use super::types::{self, AttachType, ProgramType};
use super::verifier::{LogLevel, VerifierStats};
use crate::error::{Error, Result, VerifierLog};
use crate::sys::{self, Errno, Insn, ProgFlags};

/// The largest log buffer the kernel accepts (`UINT_MAX >> 2`, since Linux 6.4).
const MAX_LOG: usize = (u32::MAX >> 2) as usize;
/// The log buffer a rejected load is retried with to get a detailed log.
const REJECT_LOG: usize = 1 << 20;

/// How to load a program: every attribute of `BPF_PROG_LOAD` besides the type and the
/// instructions. `Default` is a GPL program with a stats-only verifier log.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProgramOptions<'a> {
    /// `expected_attach_type` (needed by some types: cgroup sock_addr, tracing, …).
    pub expected_attach_type: Option<AttachType>,
    /// `license` (GPL-only helpers need a GPL-compatible one).
    pub license: String,
    /// `prog_name` (at most 15 bytes of `[A-Za-z0-9_.]`; longer names are cut).
    pub name: String,
    /// `prog_flags`.
    pub flags: ProgFlags,
    /// `kern_version` (only checked by very old kernels, for kprobes).
    pub kern_version: u32,
    /// `prog_ifindex`: offload / dev-bound device.
    pub ifindex: u32,
    /// `attach_btf_id`: BTF id of the attach target (tracing, LSM, EXT, struct_ops).
    pub attach_btf_id: u32,
    /// `attach_btf_obj_fd`: the BTF object `attach_btf_id` is in (a module's BTF).
    pub attach_btf_obj: Option<BorrowedFd<'a>>,
    /// `attach_prog_fd`: the target program (freplace, fentry on a BPF program).
    pub attach_prog: Option<BorrowedFd<'a>>,
    /// `prog_btf_fd`: the BTF that `func_info`/`line_info` refer to.
    pub prog_btf: Option<BorrowedFd<'a>>,
    /// `func_info`: `bpf_func_info` records as bytes.
    pub func_info: Vec<u8>,
    /// Size of one `func_info` record (8).
    pub func_info_rec_size: u32,
    /// `line_info`: `bpf_line_info` records as bytes.
    pub line_info: Vec<u8>,
    /// Size of one `line_info` record (16).
    pub line_info_rec_size: u32,
    /// `fd_array`: map/BTF fds that `BPF_PSEUDO_MAP_IDX`/kfunc instructions index into.
    pub fd_array: Vec<BorrowedFd<'a>>,
    /// `prog_token_fd`: a BPF token.
    pub token: Option<BorrowedFd<'a>>,
    /// Verifier log level. [`LogLevel::STATS`] (the default) keeps only the statistics; a
    /// rejected load is retried with [`LogLevel::BRANCH`] to get a useful log.
    pub log_level: LogLevel,
    /// Initial log buffer size in bytes; it grows when the log does not fit.
    pub log_size: usize,
}

impl Default for ProgramOptions<'_> {
    fn default() -> Self {
        ProgramOptions {
            expected_attach_type: None,
            license: "GPL".into(),
            name: String::new(),
            flags: ProgFlags::empty(),
            kern_version: 0,
            ifindex: 0,
            attach_btf_id: 0,
            attach_btf_obj: None,
            attach_prog: None,
            prog_btf: None,
            func_info: Vec::new(),
            func_info_rec_size: 8,
            line_info: Vec::new(),
            line_info_rec_size: 16,
            fd_array: Vec::new(),
            token: None,
            log_level: LogLevel::STATS,
            log_size: 4096,
        }
    }
}

impl<'a> ProgramOptions<'a> {
    /// Sets the name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the license.
    pub fn license(mut self, license: &str) -> Self {
        self.license = license.into();
        self
    }

    /// Sets the expected attach type.
    pub fn expected_attach_type(mut self, t: AttachType) -> Self {
        self.expected_attach_type = Some(t);
        self
    }

    /// Sets the attach target's BTF id (and the BTF object it is in, for module BTF).
    pub fn attach_btf_id(mut self, id: u32, obj: Option<BorrowedFd<'a>>) -> Self {
        self.attach_btf_id = id;
        self.attach_btf_obj = obj;
        self
    }

    /// Sets the program's BTF and its `func_info`/`line_info` records.
    pub fn btf(mut self, btf: BorrowedFd<'a>, func_info: Vec<u8>, line_info: Vec<u8>) -> Self {
        self.prog_btf = Some(btf);
        self.func_info = func_info;
        self.line_info = line_info;
        self
    }

    /// Adds flags.
    pub fn flags(mut self, flags: ProgFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// Sets the verifier log level (and keeps the log on success).
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }
}

/// What a successful load gives besides the fd.
pub(crate) struct Loaded {
    pub fd: OwnedFd,
    pub log: Option<String>,
    pub stats: Option<VerifierStats>,
}

fn log_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Loads a program, growing the log buffer on `ENOSPC` and retrying a rejection with a
/// detailed log.
pub(crate) fn load(
    prog_type: ProgramType,
    insns: &[Insn],
    opts: &ProgramOptions<'_>,
    name: &str,
) -> Result<Loaded> {
    let license = CString::new(opts.license.as_str())
        .map_err(|_| Error::InvalidArgument("the license contains a NUL byte".into()))?;
    let fd_array: Vec<i32> = opts
        .fd_array
        .iter()
        .map(std::os::fd::AsRawFd::as_raw_fd)
        .collect();
    let expected = opts.expected_attach_type.unwrap_or_default();
    let mut level = opts.log_level;
    let mut size = if level.is_empty() {
        0
    } else {
        opts.log_size.max(128)
    };
    let mut retried_detailed = false;
    loop {
        let mut buf = vec![0u8; size];
        let mut args = sys::ProgLoadArgs {
            prog_type,
            insns,
            license: &license,
            log: if size > 0 { Some(&mut buf[..]) } else { None },
            log_level: if size > 0 { level.bits() } else { 0 },
            kern_version: opts.kern_version,
            prog_flags: opts.flags,
            name,
            prog_ifindex: opts.ifindex,
            expected_attach_type: expected,
            prog_btf: opts.prog_btf,
            func_info: &opts.func_info,
            func_info_rec_size: if opts.func_info.is_empty() {
                0
            } else {
                opts.func_info_rec_size
            },
            line_info: &opts.line_info,
            line_info_rec_size: if opts.line_info.is_empty() {
                0
            } else {
                opts.line_info_rec_size
            },
            attach_btf_id: opts.attach_btf_id,
            attach_prog: opts.attach_prog,
            attach_btf_obj: opts.attach_btf_obj,
            fd_array: &fd_array,
            token: opts.token,
            ..Default::default()
        };
        let res = sys::prog_load(&mut args);
        let true_size = args.log_true_size as usize;
        match res {
            Ok(fd) => {
                let log = (size > 0).then(|| log_text(&buf));
                let stats = log.as_deref().and_then(VerifierStats::parse);
                return Ok(Loaded { fd, log, stats });
            }
            Err(e) if e == Errno::ENOSPC && size > 0 && size < MAX_LOG => {
                // The log did not fit: the kernel tells the size it needs (6.4+), else grow.
                size = if true_size > size {
                    true_size + 1
                } else {
                    size.saturating_mul(4)
                }
                .min(MAX_LOG);
            }
            Err(e)
                if (e == Errno::EACCES || e == Errno::EINVAL)
                    && !retried_detailed
                    && !level.intersects(LogLevel::BRANCH | LogLevel::INSTRUCTION) =>
            {
                // Rejected with no detailed log: ask again with one (as libbpf does).
                retried_detailed = true;
                level |= LogLevel::BRANCH;
                size = size.max(REJECT_LOG);
            }
            Err(e) => return Err(load_error(prog_type, expected, name, e, &log_text(&buf))),
        }
    }
}

/// Explains a failed `BPF_PROG_LOAD`.
fn load_error(
    prog_type: ProgramType,
    expected: AttachType,
    name: &str,
    errno: Errno,
    log: &str,
) -> Error {
    let context = Some(format!("program \"{name}\" of type {prog_type:?}"));
    let name = (!name.is_empty()).then(|| name.to_string());
    if errno == Errno::EPERM {
        let mut caps = vec!["CAP_BPF"];
        caps.extend(types::extra_capability(prog_type));
        if let Some(cap) = crate::map::capability_missing(&caps) {
            return Error::MissingCapability {
                call: "BPF_PROG_LOAD",
                capability: cap,
                context,
            };
        }
        if log.trim().is_empty() && types::needs_trampoline(prog_type, expected) {
            return Error::Unsupported {
                feature: "BPF trampolines (fentry/fexit/fmod_ret/freplace/LSM)",
                hint: format!(
                    "this kernel refuses to load {prog_type:?} programs with attach type {expected:?} (EPERM before \
                     verification, with every capability present: neither privileges nor the memlock limit are the cause): use a \
                     tracepoint, raw_tp or tp_btf program instead"
                ),
            };
        }
        if !log.trim().is_empty() {
            return Error::Verifier {
                name,
                errno,
                log: VerifierLog::new(log.to_string()),
            };
        }
        return Error::PolicyRefused {
            call: "BPF_PROG_LOAD",
            feature: None,
            context,
        };
    }
    if !log.trim().is_empty()
        && (errno == Errno::EACCES || errno == Errno::EINVAL || errno == Errno::E2BIG)
    {
        return Error::Verifier {
            name,
            errno,
            log: VerifierLog::new(log.to_string()),
        };
    }
    let hint = match errno {
        e if e == Errno::E2BIG => Some("too many instructions for this kernel"),
        e if e == Errno::EINVAL => {
            Some("the kernel rejected an attribute (program type, expected attach type, flags)")
        }
        _ => None,
    };
    Error::Syscall {
        call: "BPF_PROG_LOAD",
        errno,
        context,
        hint,
    }
}
