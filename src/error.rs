//! The crate error type, [`Error`], shared by the runtime layers (programs, maps, links).
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

use std::fmt;
use std::path::PathBuf;

use crate::sys::Errno;

/// Result alias of the runtime layers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of the runtime layers (programs, maps, links).
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
    // Room for the pure layers' errors, wired in by the lead at merge time:
    // `Btf(#[from] crate::btf::BtfError)` and `Object(#[from] crate::obj::ObjError)`.
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
            Error::MissingCapability { .. } => Some(Errno::EPERM),
            Error::Io { source, .. } => source.raw_os_error().map(Errno::from_raw),
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
            _ => false,
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
