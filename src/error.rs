//! The crate error type, [`Error`]: the runtime layers' own (programs, maps, links), and the
//! one every other rawbpf error converts into.
//!
//! Every error says which call failed and why, in terms a user can act on:
//! - a failed `bpf(2)` command is [`Error::Syscall`] with the command's name and its errno;
//! - an `EPERM` that comes from a missing capability is [`Error::MissingCapability`] and names
//!   the capability; one that comes with every capability present says what the kernel refused
//!   ([`Error::Refused`], e.g. an update of a frozen map) or which feature this kernel lacks
//!   ([`Error::Unsupported`]) instead of blaming privileges or `ulimit -l`;
//! - a verifier rejection is [`Error::Verifier`] and carries the whole log.
//!
//! "Absent" is not an error: a lookup of a missing key returns `Ok(None)`.
//!
//! The other layers have their own error types ([`BtfError`](crate::btf::BtfError),
//! [`ObjError`](crate::obj::ObjError), [`LoadError`], …); each converts into [`Error`], so one
//! function can `?` any rawbpf call:
//!
//! ```no_run
//! fn run() -> rawbpf::Result<()> {
//!     let spec = rawbpf::ObjectSpec::open("prog.bpf.o")?; // ObjError
//!     let obj = rawbpf::Loader::new().load(&spec)?; // LoadError
//!     let _counters = obj.map("counters")?;
//!     Ok(())
//! }
//! ```

use std::fmt;
use std::path::PathBuf;

use crate::loader::LoadError;
use crate::sys::Errno;

/// Result alias with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of any rawbpf call: the runtime layers' own (programs, maps, links) and, wrapped,
/// those of the pure layers and the loader.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `bpf(2)` command (or another system call) failed.
    #[error("{call}{}: {errno}{}", ctx(context), hint_suffix(hint))]
    Syscall {
        /// The command, as the kernel names it (`"BPF_MAP_CREATE"`, `"BPF_PROG_LOAD"`, …).
        call: &'static str,
        /// What it failed with.
        errno: Errno,
        /// The object it was about (`map "counters"`), when known.
        context: Option<String>,
        /// What to do about it, when there is something to say.
        hint: Option<&'static str>,
    },
    /// The kernel said `EPERM` and the process lacks a capability the command needs.
    #[error("{call}{}: operation not permitted: the process lacks {capability} (run as root or grant it, e.g. `setcap {}+ep`)", ctx(context), capability.to_ascii_lowercase())]
    MissingCapability {
        /// The command.
        call: &'static str,
        /// The missing capability (`"CAP_BPF"`, `"CAP_NET_ADMIN"`, `"CAP_PERFMON"`,
        /// `"CAP_SYS_ADMIN"`).
        capability: &'static str,
        /// The object it was about, when known.
        context: Option<String>,
    },
    /// The kernel refused the operation although every capability is present: `what` says
    /// what was refused (e.g. "the map is frozen").
    #[error("{call}{}: refused by the kernel ({errno:?}): {what}", ctx(context))]
    Refused {
        /// The command.
        call: &'static str,
        /// The errno the kernel returned.
        errno: Errno,
        /// The object it was about, when known.
        context: Option<String>,
        /// What the kernel refused and why.
        what: String,
    },
    /// The kernel said `EPERM` although the process has every capability the command needs:
    /// the machine's security policy (a BPF LSM program, lockdown, a container runtime's
    /// seccomp or LSM profile) forbids it. The kernel may well have the feature; this machine
    /// will not let it be used. [`Error::is_refused_by_policy`] tells this case apart.
    #[error("{call}{}: refused on this machine (EPERM with every capability present: a security policy such as an LSM, lockdown or a container runtime forbids it){}", ctx(context), feature.map(|f| format!("; {f} cannot be used here")).unwrap_or_default())]
    PolicyRefused {
        /// The command.
        call: &'static str,
        /// The feature that was refused (`"arena maps"`), when known.
        feature: Option<&'static str>,
        /// The object it was about, when known.
        context: Option<String>,
    },
    /// The verifier rejected a program. `log` is the whole verifier log.
    #[error("the verifier rejected program{} ({errno:?}): {}", ctx(name), log.summary())]
    Verifier {
        /// The program's name, when it has one.
        name: Option<String>,
        /// The errno of `BPF_PROG_LOAD` (`EACCES` or `EINVAL` mostly).
        errno: Errno,
        /// The whole verifier log.
        log: VerifierLog,
    },
    /// This kernel does not support a feature the operation needs.
    #[error("{feature} is not supported by this kernel: {hint}")]
    Unsupported {
        /// The missing feature.
        feature: &'static str,
        /// What to do instead.
        hint: String,
    },
    /// [`Program::attach`](crate::Program::attach) cannot attach this program from its
    /// `SEC()` name: the name gives no target (XDP, tc, cgroup, … programs) or the program
    /// is attached otherwise (struct_ops, syscall).
    #[error(
        "program `{program}` (SEC(\"{section}\")) cannot be attached from its section name: it needs {needs}; use {how}"
    )]
    NoAutoAttach {
        /// The program.
        program: String,
        /// Its section name (empty for a program not loaded from an object).
        section: String,
        /// What it needs to be attached.
        needs: &'static str,
        /// The call that attaches it.
        how: &'static str,
    },
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An argument does not fit the object (wrong key size, too many values, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// BTF bytes that do not parse, or a BTF query that cannot be answered.
    #[error(transparent)]
    Btf(#[from] crate::btf::BtfError),
    /// BTF the kernel rejected (with its log) or could not hand back.
    #[error(transparent)]
    BtfHandle(#[from] crate::btf::BtfHandleError),
    /// An ELF object that could not be read, parsed or linked.
    #[error(transparent)]
    Object(#[from] crate::obj::ObjError),
    /// Instruction bytes that do not decode.
    #[error(transparent)]
    Insn(#[from] crate::insn::InsnError),
    /// A CO-RE relocation that cannot be computed or applied.
    #[error(transparent)]
    Core(#[from] crate::btf::core::CoreError),
    /// Loading an object with a [`Loader`](crate::Loader) failed. (A [`LoadError::Kernel`]
    /// converts to the [`Error`] it wraps, not to this variant.)
    #[error(transparent)]
    Load(Box<LoadError>),
    /// A ring buffer or perf buffer shared with the kernel holds something no well-behaved
    /// producer writes (a record past the producer position, a position that goes backwards,
    /// …). Reading stopped at the bad record; the buffer cannot be read further.
    #[error("corrupt {buffer}: {what}")]
    CorruptBuffer {
        /// The buffer (`ring buffer "events"`, `perf buffer "events" (CPU 1)`).
        buffer: String,
        /// What is wrong, with the positions involved.
        what: String,
    },
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Kernel(e) => e,
            e => Error::Load(Box::new(e)),
        }
    }
}

fn ctx(context: &Option<String>) -> String {
    match context {
        Some(c) => format!(" ({c})"),
        None => String::new(),
    }
}

fn hint_suffix(hint: &Option<&'static str>) -> String {
    match hint {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    }
}

impl Error {
    /// A plain syscall error.
    pub(crate) fn syscall(call: &'static str, errno: Errno) -> Self {
        Error::Syscall {
            call,
            errno,
            context: None,
            hint: None,
        }
    }

    /// A syscall error about a named object.
    pub(crate) fn syscall_ctx(call: &'static str, errno: Errno, context: Option<String>) -> Self {
        Error::Syscall {
            call,
            errno,
            context,
            hint: None,
        }
    }

    /// The errno behind this error, if it came from a system call.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            Error::Syscall { errno, .. }
            | Error::Refused { errno, .. }
            | Error::Verifier { errno, .. } => Some(*errno),
            Error::MissingCapability { .. } | Error::PolicyRefused { .. } => Some(Errno::EPERM),
            Error::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
            Error::BtfHandle(e) => e.errno(),
            Error::Load(e) => e.errno(),
            _ => None,
        }
    }

    /// Whether the error means "this kernel cannot do that" (cilium's `ErrNotSupported`):
    /// [`Error::Unsupported`], or a syscall that failed with `ENOTSUPP`/`EOPNOTSUPP`.
    pub fn is_not_supported(&self) -> bool {
        match self {
            Error::Unsupported { .. } => true,
            Error::Syscall { errno, .. } => {
                *errno == Errno::ENOTSUPP || *errno == Errno::EOPNOTSUPP
            }
            Error::Load(e) => e.is_not_supported(),
            _ => false,
        }
    }

    /// Whether the machine's security policy refused the operation ([`Error::PolicyRefused`]:
    /// `EPERM` with every needed capability present), directly or for an object load.
    ///
    /// Treat it like [`Error::is_not_supported`] when deciding whether a feature can be used
    /// here, but say "refused on this machine", not "unsupported by the kernel".
    pub fn is_refused_by_policy(&self) -> bool {
        match self {
            Error::PolicyRefused { .. } => true,
            Error::Load(e) => e.is_refused_by_policy(),
            _ => false,
        }
    }

    /// The whole verifier log, when the error is a verifier rejection (directly or of a
    /// program an object load failed on).
    pub fn verifier_log(&self) -> Option<&VerifierLog> {
        match self {
            Error::Verifier { log, .. } => Some(log),
            Error::Load(e) => e.verifier_log(),
            _ => None,
        }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// The verifier's log of one program load.
///
/// `Debug` prints the log as is (multi-line, unescaped), so `unwrap()` on a failed load shows
/// it readably; `Display` prints its last meaningful line.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VerifierLog(String);

impl VerifierLog {
    /// Wraps a log.
    pub fn new(log: String) -> Self {
        VerifierLog(log)
    }

    /// The whole log.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The log's lines.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.0.lines()
    }

    /// The last line that says why the program was rejected: the last non-empty line that is
    /// not one of the trailing statistics lines ("processed N insns …", "verification time …",
    /// "stack depth …").
    pub fn summary(&self) -> &str {
        let mut last = None;
        for l in self.0.lines().rev() {
            let t = l.trim();
            if t.is_empty()
                || t.starts_with("processed ")
                || t.starts_with("verification time ")
                || t.starts_with("stack depth ")
                || t.starts_with("-- END PROG LOAD LOG --")
            {
                continue;
            }
            last = Some(t);
            break;
        }
        last.unwrap_or("(empty verifier log)")
    }
}

impl fmt::Debug for VerifierLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\n")?;
        f.write_str(&self.0)
    }
}

impl fmt::Display for VerifierLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn handles_are_send_sync() {
        send_sync::<Error>();
        send_sync::<crate::map::Map>();
        send_sync::<crate::prog::Program>();
        send_sync::<crate::link::Link>();
    }

    #[test]
    fn verifier_summary_skips_stats() {
        let log = VerifierLog::new(
            "func#0 @0\n0: R1=ctx() R10=fp0\n0: (95) exit\nR0 !read_ok\nprocessed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n\n".into(),
        );
        assert_eq!(log.summary(), "R0 !read_ok");
        assert_eq!(log.to_string(), "R0 !read_ok");
        assert!(format!("{log:?}").contains("\n0: (95) exit\n"));
        let e = Error::Verifier {
            name: Some("p".into()),
            errno: Errno::EACCES,
            log,
        };
        assert_eq!(
            e.to_string(),
            "the verifier rejected program (p) (EACCES): R0 !read_ok"
        );
    }

    #[test]
    fn every_layer_converts_with_question_mark() {
        fn btf() -> Result<()> {
            crate::btf::Btf::parse(&[0u8; 3])?;
            Ok(())
        }
        fn obj() -> Result<()> {
            crate::ObjectSpec::parse(b"not an ELF file")?;
            Ok(())
        }
        fn insn() -> Result<()> {
            crate::insn::decode(&[0u8; 7])?;
            Ok(())
        }
        fn load(e: LoadError) -> Result<()> {
            Err(e)?
        }
        assert!(matches!(btf(), Err(Error::Btf(_))));
        assert!(matches!(obj(), Err(Error::Object(_))));
        assert!(matches!(insn(), Err(Error::Insn(_))));
        let kernel = LoadError::Kernel(Error::syscall("BPF_PROG_LOAD", Errno::ENOTSUPP));
        let e = load(kernel).unwrap_err();
        assert!(matches!(e, Error::Syscall { .. }), "{e:?}");
        let e = load(LoadError::Unsupported {
            feature: "struct_ops".into(),
            hint: "h".into(),
        })
        .unwrap_err();
        assert!(matches!(e, Error::Load(_)) && e.is_not_supported(), "{e:?}");
        let e: Error = LoadError::map("m", Error::syscall("BPF_MAP_CREATE", Errno::E2BIG)).into();
        assert_eq!(e.errno(), Some(Errno::E2BIG));
        let e: Error = crate::btf::BtfHandleError::Syscall {
            call: "BPF_BTF_GET_FD_BY_ID",
            errno: Errno::ENOENT,
        }
        .into();
        assert_eq!(e.errno(), Some(Errno::ENOENT));
        let log = VerifierLog::new("R0 !read_ok\n".into());
        let e: Error = LoadError::Kernel(Error::Verifier {
            name: None,
            errno: Errno::EACCES,
            log: log.clone(),
        })
        .in_program("p", "xdp")
        .into();
        assert_eq!(e.verifier_log(), Some(&log));
    }

    #[test]
    fn display() {
        let e = Error::Syscall {
            call: "BPF_MAP_CREATE",
            errno: Errno::EINVAL,
            context: Some("map \"m\"".into()),
            hint: None,
        };
        assert!(
            e.to_string()
                .starts_with("BPF_MAP_CREATE (map \"m\"): EINVAL")
        );
        let e = Error::MissingCapability {
            call: "BPF_PROG_LOAD",
            capability: "CAP_BPF",
            context: None,
        };
        assert!(e.to_string().contains("lacks CAP_BPF"));
        assert!(
            Error::Unsupported {
                feature: "x",
                hint: "y".into()
            }
            .is_not_supported()
        );
        assert!(Error::syscall("BPF_PROG_TEST_RUN", Errno::ENOTSUPP).is_not_supported());
    }
}
