//! [`BtfHandle`]: BTF loaded into the kernel (`BPF_BTF_LOAD`), opened by id, read back.
//!
//! The one file of `btf` that talks to the kernel (through [`crate::sys`]).

use super::{Btf, BtfError};
use crate::sys::{self, BtfLoadArgs, Errno, ObjFlags};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// First log buffer size tried when a load fails; grown on `ENOSPC`.
const LOG_START: usize = 64 * 1024;
/// Largest log buffer tried (the kernel rejects more than `u32::MAX >> 2`).
const LOG_MAX: usize = 256 * 1024 * 1024;

/// What can go wrong with BTF in the kernel.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BtfHandleError {
    /// The kernel rejected the BTF; `log` is its whole BTF verifier log.
    #[error(
        "BPF_BTF_LOAD: the kernel rejected the BTF ({errno}): {}",
        last_line(log)
    )]
    Rejected {
        /// The errno of `BPF_BTF_LOAD`.
        errno: Errno,
        /// The kernel's log.
        log: String,
    },
    /// A `bpf(2)` command failed.
    #[error("{call}: {errno}{}", hint(*errno))]
    Syscall {
        /// The command (`"BPF_BTF_GET_FD_BY_ID"`, …).
        call: &'static str,
        /// Its errno.
        errno: Errno,
    },
    /// The BTF read back from the kernel does not parse.
    #[error(transparent)]
    Parse(#[from] BtfError),
}

fn last_line(log: &str) -> &str {
    log.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(empty log)")
}

fn hint(e: Errno) -> &'static str {
    if e == Errno::EPERM {
        " (needs CAP_BPF or CAP_SYS_ADMIN)"
    } else if e == Errno::ENOENT {
        " (no such object: it was freed or the id is wrong)"
    } else if e == Errno::E2BIG {
        " (BTF too big for the kernel: a chain of type references — typedefs, modifiers, \
         pointers, arrays, nested structs — deeper than the 32 levels it resolves, or more \
         than its limits of 16 MiB of BTF, 2^20 types or 2^24 bytes of strings)"
    } else {
        ""
    }
}

impl BtfHandleError {
    /// The errno behind the error, if it came from the kernel.
    pub fn errno(&self) -> Option<Errno> {
        match self {
            BtfHandleError::Rejected { errno, .. } | BtfHandleError::Syscall { errno, .. } => {
                Some(*errno)
            }
            BtfHandleError::Parse(_) => None,
        }
    }
}

fn sc(call: &'static str) -> impl Fn(Errno) -> BtfHandleError {
    move |errno| BtfHandleError::Syscall { call, errno }
}

/// Kernel-side facts about a loaded BTF object (`struct bpf_btf_info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtfHandleInfo {
    /// The BTF object id.
    pub id: u32,
    /// Size of the raw BTF in bytes.
    pub size: u32,
    /// Its name (`"vmlinux"` or a module name for kernel BTF, else empty).
    pub name: String,
    /// Whether this is the kernel's own (vmlinux or module) BTF.
    pub kernel_btf: bool,
}

/// A BTF object in the kernel. Closing the handle drops this reference to it.
#[derive(Debug)]
pub struct BtfHandle {
    fd: OwnedFd,
}

impl AsFd for BtfHandle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl BtfHandle {
    /// `BPF_BTF_LOAD`: loads raw BTF (e.g. [`BtfBuilder::encode`](super::BtfBuilder::encode) or
    /// [`sanitize`](super::sanitize) output).
    ///
    /// Loads without a log first; if the kernel rejects the BTF, loads again with a log (grown
    /// while the kernel says `ENOSPC`) and returns it in [`BtfHandleError::Rejected`].
    ///
    /// # Errors
    /// [`BtfHandleError::Rejected`] with the log, [`BtfHandleError::Syscall`] (e.g. `EPERM`).
    pub fn load(data: &[u8]) -> Result<BtfHandle, BtfHandleError> {
        let mut args = BtfLoadArgs {
            data,
            ..Default::default()
        };
        match sys::btf_load(&mut args) {
            Ok(fd) => Ok(BtfHandle { fd }),
            Err(e) if e == Errno::EPERM || e == Errno::ENOMEM || e == Errno::E2BIG => {
                Err(BtfHandleError::Syscall {
                    call: "BPF_BTF_LOAD",
                    errno: e,
                })
            }
            Err(_) => {
                let (r, _log) = Self::load_logged(data)?;
                Ok(r)
            }
        }
    }

    /// `BPF_BTF_LOAD` with log level 1, returning the handle and the kernel's log.
    ///
    /// # Errors
    /// As [`BtfHandle::load`].
    pub fn load_logged(data: &[u8]) -> Result<(BtfHandle, String), BtfHandleError> {
        let mut size = LOG_START;
        loop {
            let mut buf = vec![0u8; size];
            let mut args = BtfLoadArgs {
                data,
                log: Some(&mut buf),
                log_level: 1,
                ..Default::default()
            };
            let r = sys::btf_load(&mut args);
            let true_size = args.log_true_size as usize;
            let log = log_text(&buf);
            match r {
                Ok(fd) => return Ok((BtfHandle { fd }, log)),
                Err(e) if e == Errno::ENOSPC && size < LOG_MAX => {
                    size = true_size.max(size * 4).min(LOG_MAX);
                }
                Err(errno) if errno == Errno::EPERM => {
                    return Err(BtfHandleError::Syscall {
                        call: "BPF_BTF_LOAD",
                        errno,
                    });
                }
                Err(errno) => return Err(BtfHandleError::Rejected { errno, log }),
            }
        }
    }

    /// `BPF_BTF_GET_FD_BY_ID`: opens the loaded BTF object `id`.
    ///
    /// # Errors
    /// [`BtfHandleError::Syscall`]: `ENOENT` if there is no such object.
    pub fn from_id(id: u32) -> Result<BtfHandle, BtfHandleError> {
        let fd = sys::btf_get_fd_by_id(id, ObjFlags::empty(), None)
            .map_err(sc("BPF_BTF_GET_FD_BY_ID"))?;
        Ok(BtfHandle { fd })
    }

    /// The ids of all BTF objects loaded in the kernel (vmlinux and modules included).
    ///
    /// # Errors
    /// [`BtfHandleError::Syscall`] from `BPF_BTF_GET_NEXT_ID`.
    pub fn ids() -> Result<Vec<u32>, BtfHandleError> {
        let mut ids = Vec::new();
        let mut at = 0;
        while let Some(id) = sys::btf_get_next_id(at).map_err(sc("BPF_BTF_GET_NEXT_ID"))? {
            ids.push(id);
            at = id;
        }
        Ok(ids)
    }

    /// `BPF_OBJ_GET_INFO_BY_FD`: id, size, name, kernel or not.
    ///
    /// # Errors
    /// [`BtfHandleError::Syscall`].
    pub fn info(&self) -> Result<BtfHandleInfo, BtfHandleError> {
        let mut name = [0u8; 64];
        let info = sys::btf_info(self.fd.as_fd(), None, Some(&mut name))
            .map_err(sc("BPF_OBJ_GET_INFO_BY_FD"))?;
        Ok(BtfHandleInfo {
            id: info.id,
            size: info.btf_size,
            name: log_text(&name),
            kernel_btf: info.kernel_btf != 0,
        })
    }

    /// The raw BTF bytes the kernel holds.
    ///
    /// # Errors
    /// [`BtfHandleError::Syscall`].
    pub fn raw_bytes(&self) -> Result<Vec<u8>, BtfHandleError> {
        let size = sys::btf_info(self.fd.as_fd(), None, None)
            .map_err(sc("BPF_OBJ_GET_INFO_BY_FD"))?
            .btf_size;
        let mut buf = vec![0u8; size as usize];
        let info = sys::btf_info(self.fd.as_fd(), Some(&mut buf), None)
            .map_err(sc("BPF_OBJ_GET_INFO_BY_FD"))?;
        buf.truncate(info.btf_size as usize);
        Ok(buf)
    }

    /// The BTF the kernel holds, parsed (module BTF split over the kernel's vmlinux BTF).
    ///
    /// # Errors
    /// [`BtfHandleError::Syscall`], [`BtfHandleError::Parse`].
    pub fn to_btf(&self) -> Result<Btf<'static>, BtfHandleError> {
        let info = self.info()?;
        let bytes = self.raw_bytes()?;
        if info.kernel_btf && info.name != "vmlinux" {
            return Ok(Btf::parse_split_owned(bytes, Btf::from_kernel()?)?);
        }
        Ok(Btf::parse_owned(bytes)?)
    }

    /// The BTF object of a loaded program (`None` if it was loaded without BTF).
    ///
    /// # Errors
    /// [`BtfHandleError::Syscall`].
    pub fn of_program(prog: BorrowedFd<'_>) -> Result<Option<BtfHandle>, BtfHandleError> {
        let info = sys::prog_info(prog).map_err(sc("BPF_OBJ_GET_INFO_BY_FD"))?;
        (info.btf_id != 0)
            .then(|| BtfHandle::from_id(info.btf_id))
            .transpose()
    }

    /// The BTF object of a map (`None` if it was created without BTF).
    ///
    /// # Errors
    /// [`BtfHandleError::Syscall`].
    pub fn of_map(map: BorrowedFd<'_>) -> Result<Option<BtfHandle>, BtfHandleError> {
        let info = sys::map_info(map).map_err(sc("BPF_OBJ_GET_INFO_BY_FD"))?;
        (info.btf_id != 0)
            .then(|| BtfHandle::from_id(info.btf_id))
            .transpose()
    }

    /// The raw fd number (for attrs that take a BTF fd, e.g. `MapCreateAttr::btf_fd`).
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }
}

/// NUL-terminated bytes as text.
fn log_text(buf: &[u8]) -> String {
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
