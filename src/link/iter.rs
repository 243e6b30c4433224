//! BPF iterators: `SEC("iter/NAME")` programs (`TRACING` with `TRACE_ITER`), attached with
//! [`Program::attach_iter`] to an [`IterLink`]; every [`IterLink::open`] runs the iterator
//! once and gives its output (what the program wrote with `bpf_seq_printf` /
//! `bpf_seq_write`) as a [`Read`]er. A pinned iterator link is also readable as a file
//! (`cat /sys/fs/bpf/PIN`).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::Read;
//! use rawbpf::link::IterOptions;
//! let spec = rawbpf::ObjectSpec::open("tests/bpf/link_tracing.bpf.o")?;
//! let obj = rawbpf::Loader::new().load_only("dump_task").load(&spec)?;
//! let it = obj.program("dump_task")?.attach_iter(IterOptions::default())?;
//! let mut text = String::new();
//! it.open()?.read_to_string(&mut text)?;
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::Path;

use super::Link;
use crate::error::{Error, Result};
use crate::map::capability_missing;
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::attr::IterLinkInfo;
use crate::sys::{self, Errno};

/// What an iterator walks, for iterators that take a parameter (`union bpf_iter_link_info`).
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub enum IterOptions<'a> {
    /// No parameter (`iter/task`, `iter/bpf_map`, `iter/tcp`, …: everything there is).
    #[default]
    None,
    /// The elements of one map (`iter/bpf_map_elem`, `iter/bpf_sk_storage_map`,
    /// `iter/sockmap`).
    Map(BorrowedFd<'a>),
    /// One cgroup and its relatives (`iter/cgroup`), in `order`.
    Cgroup {
        /// The cgroup directory.
        cgroup: BorrowedFd<'a>,
        /// `enum bpf_cgroup_iter_order`: 0 default, 1 self only, 2 descendants pre-order,
        /// 3 descendants post-order, 4 ancestors up.
        order: u32,
    },
    /// One task (`tid`) or one process (`pid`) for the task iterators (`iter/task`,
    /// `iter/task_file`, `iter/task_vma`).
    Task {
        /// Thread id (0: not this filter).
        tid: u32,
        /// Process id (0: not this filter).
        pid: u32,
    },
}

impl IterOptions<'_> {
    fn info(&self) -> Option<IterLinkInfo> {
        let (a, b, c) = match *self {
            IterOptions::None => return None,
            IterOptions::Map(fd) => (fd.as_raw_fd() as u32, 0, 0),
            IterOptions::Cgroup { cgroup, order } => (order, cgroup.as_raw_fd() as u32, 0),
            IterOptions::Task { tid, pid } => (tid, pid, 0),
        };
        Some(IterLinkInfo { a, b, c })
    }
}

/// An iterator link: [`IterLink::open`] runs the iterator. Derefs to its [`Link`] (pin,
/// info, …); dropping it detaches the program.
#[derive(Debug)]
pub struct IterLink {
    link: Link,
}

impl IterLink {
    /// `BPF_ITER_CREATE`: a new run of the iterator; read it to EOF for the whole output.
    pub fn open(&self) -> Result<IterReader> {
        open_iter(self.link.as_fd())
    }

    /// Reopens a pinned iterator link (see [`Link::from_pin`]).
    pub fn from_pin(path: impl AsRef<Path>) -> Result<IterLink> {
        Ok(IterLink {
            link: Link::from_pin(path)?,
        })
    }

    /// The link.
    pub fn into_link(self) -> Link {
        self.link
    }
}

impl std::ops::Deref for IterLink {
    type Target = Link;
    fn deref(&self) -> &Link {
        &self.link
    }
}

impl AsFd for IterLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.link.as_fd()
    }
}

/// One run of an iterator: its text (or bytes), read with [`Read`].
#[derive(Debug)]
pub struct IterReader {
    file: File,
}

impl Read for IterReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.file.read(buf)
    }
}

impl IterReader {
    /// Reads the whole output as text (lossily decoded).
    pub fn read_all(mut self) -> Result<String> {
        let mut v = Vec::new();
        self.file
            .read_to_end(&mut v)
            .map_err(|e| Error::io("read of a BPF iterator", e))?;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }
}

fn open_iter(link: BorrowedFd<'_>) -> Result<IterReader> {
    let fd = sys::iter_create(link).map_err(|e| Error::Syscall {
        call: "BPF_ITER_CREATE",
        errno: e,
        context: None,
        hint: (e == Errno::EINVAL).then_some("the link is not an iterator link"),
    })?;
    Ok(IterReader {
        file: File::from(fd),
    })
}

impl Program {
    /// Attaches this iterator program (`SEC("iter/NAME")`: `TRACING` with `TRACE_ITER`) with
    /// `BPF_LINK_CREATE`, walking what `opts` says.
    pub fn attach_iter(&self, opts: IterOptions<'_>) -> Result<IterLink> {
        if self.program_type() != ProgramType::TRACING
            || self
                .expected_attach_type()
                .is_some_and(|t| t != AttachType::TRACE_ITER)
        {
            return Err(Error::InvalidArgument(format!(
                "program \"{}\" is not an iterator program (SEC(\"iter/...\"))",
                self.name()
            )));
        }
        let info = opts.info();
        let fd = sys::link_create_iter(self.as_fd(), info.as_ref()).map_err(|e| {
            let context = Some(format!("iterator program \"{}\"", self.name()));
            if e == Errno::EPERM {
                if let Some(cap) = capability_missing(&["CAP_BPF", "CAP_PERFMON"]) {
                    return Error::MissingCapability {
                        call: "BPF_LINK_CREATE",
                        capability: cap,
                        context,
                    };
                }
            }
            let hint = match e {
                e if e == Errno::EINVAL => {
                    Some("this iterator needs (or does not take) the parameter given")
                }
                e if e == Errno::EBADF => Some("the map or cgroup fd is not valid"),
                _ => None,
            };
            Error::Syscall {
                call: "BPF_LINK_CREATE",
                errno: e,
                context,
                hint,
            }
        })?;
        Ok(IterLink {
            link: Link::from_fd(fd),
        })
    }
}
