//! The raw layer: the only module that talks to the kernel.
//!
//! `rawbpf::sys` is public for users who want the `bpf(2)` commands themselves: one
//! `#[repr(C)]` attr struct per command ([`attr`]), `Default`-zeroed, with compile-time
//! size/offset asserts against the uapi `linux/bpf.h` of kernel 6.18, and one safe function
//! per command in [`bpf`](mod@bpf), named after it (`map_create`, `prog_load`, `obj_pin`, …),
//! all re-exported here.
//!
//! Conventions, kept by every function here:
//! - Safe functions never take raw pointers from callers: they take [`BorrowedFd`], slices and
//!   [`CStr`], and return new fds as [`OwnedFd`] (the kernel sets close-on-exec on every fd
//!   `bpf(2)` creates).
//! - Errors are our own [`Errno`], which keeps the kernel-internal `ENOTSUPP` (524).
//! - Exactly the size of the attr struct that is filled is passed to the kernel; it
//!   zero-extends shorter attrs, and rejects longer ones whose tail is not zero.
//! - Map element operations go through [`MapFd`], which knows the key and value sizes the
//!   kernel will read and write, so buffer lengths are checked before the call.
//!
//! Besides `bpf(2)`: [`perf_event`] (`perf_event_open(2)`, kprobe/uprobe PMUs), [`mount`]
//! (bpffs, tracefs, tracepoint ids), [`tracefs`] (legacy probe events), [`caps`] (capget),
//! [`cpus`] (possible CPUs), [`mmap`] (mappings of mmapable array maps and sysfs BTF files),
//! [`ring`] (shared mappings of ring/perf buffers, epoll sets).
//!
//! [`BorrowedFd`]: std::os::fd::BorrowedFd
//! [`OwnedFd`]: std::os::fd::OwnedFd
//! [`CStr`]: std::ffi::CStr
#![allow(unsafe_code)]

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

#[cfg(feature = "tokio")]
pub mod async_fd;
pub mod attr;
pub mod bpf;
pub mod caps;
pub mod clock;
pub mod cpus;
mod errno;
mod fd;
pub mod flags;
pub mod info;
mod insn;
pub mod mmap;
pub mod mount;
pub mod netlink;
pub mod perf_event;
mod pidfd;
pub mod ring;
pub mod sockopt;
pub mod tracefs;
pub mod types;

pub use bpf::*;
pub use errno::Errno;
pub use fd::{FdKind, fd_kind};
pub use flags::*;
pub use info::{BtfInfo, LinkInfo, MapInfo, ProgInfo};
pub use insn::Insn;
pub use mmap::{MapMmap, ReadOnlyMapping, map_sysfs_file};
pub use pidfd::pidfd_open;
pub use types::*;

/// Calls `bpf(cmd, attr, size_of::<T>())`.
///
/// Returns the non-negative result (an fd for the commands that create one, else 0 or a
/// count) or the `errno`.
///
/// # Safety
///
/// `attr` must be the attr struct of `cmd` (or a prefix of it), and every pointer field in it
/// must point to memory valid for what the kernel does with it for that command: readable for
/// the sizes the attr states for inputs, and writable and not aliased for the sizes the
/// kernel may write (which for some commands depend on the object, e.g. a map's value size).
/// If the command creates an fd, the caller owns it.
pub unsafe fn bpf<T>(cmd: BpfCmd, attr: &mut T) -> Result<i64, Errno> {
    let size = std::mem::size_of::<T>();
    // SAFETY: `attr` is a valid, exclusive pointer to `size` bytes; the caller guarantees the
    // pointers inside it are valid for this command.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd.0 as libc::c_long,
            attr as *mut T as *mut libc::c_void,
            size,
        )
    };
    if r < 0 {
        Err(Errno::last())
    } else {
        Ok(r as i64)
    }
}

/// Calls [`bpf`] for a command that returns a new fd and takes ownership of it.
///
/// # Safety
///
/// As for [`bpf`], and `cmd` must be a command whose non-negative result is a new fd owned
/// by the caller.
unsafe fn bpf_fd<T>(cmd: BpfCmd, attr: &mut T) -> Result<OwnedFd, Errno> {
    // SAFETY: forwarded from the caller.
    let r = unsafe { bpf(cmd, attr) }?;
    let fd = RawFd::try_from(r).map_err(|_| Errno::EINVAL)?;
    // SAFETY: the command returned a fresh fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;
