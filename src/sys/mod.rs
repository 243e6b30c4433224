//! The raw layer: the only module that talks to the kernel.
//!
//! `rawbpf::sys` is public for users who want the `bpf(2)` commands themselves: one
//! `#[repr(C)]` attr struct per command ([`attr`]), `Default`-zeroed, with compile-time
//! size/offset asserts against the uapi `linux/bpf.h` of kernel 6.18, and one safe function
//! per command in [`bpf`](mod@bpf), named after it (`map_create`, `prog_load`, `obj_pin`, …).
//!
//! Conventions, kept by every function here:
//! - Safe functions never take raw pointers from callers: they take [`BorrowedFd`], slices and
//!   [`CStr`], and return new fds as [`OwnedFd`] (the kernel sets close-on-exec on every fd
//!   `bpf(2)` creates).
//! - Errors are our own [`Errno`], which keeps the kernel-internal `ENOTSUPP` (524).
//! - Exactly the size of the attr struct that is filled is passed to the kernel; it
//!   zero-extends shorter attrs, and rejects longer ones whose tail is not zero.
//!
//! [`BorrowedFd`]: std::os::fd::BorrowedFd
//! [`OwnedFd`]: std::os::fd::OwnedFd
//! [`CStr`]: std::ffi::CStr
#![allow(unsafe_code)]

mod errno;
mod insn;

pub use errno::Errno;
pub use insn::Insn;
