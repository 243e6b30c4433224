//! fd helpers: fd numbers for attrs, and what kind of BPF object an fd is.

use std::os::fd::{AsRawFd, BorrowedFd};

/// The fd number as the `u32` attr fields take it.
pub(crate) fn raw(fd: BorrowedFd<'_>) -> u32 {
    fd.as_raw_fd() as u32
}

/// The fd number of an optional fd, 0 when absent (the kernel's "none").
pub(crate) fn raw_opt(fd: Option<BorrowedFd<'_>>) -> u32 {
    fd.map_or(0, raw)
}

/// What kind of BPF object an fd refers to, from its `/proc/self/fd` link target
/// (`anon_inode:bpf-map` and friends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdKind {
    /// A map.
    Map,
    /// A program.
    Prog,
    /// A link.
    Link,
    /// BTF.
    Btf,
    /// A token.
    Token,
    /// An iterator instance.
    Iter,
    /// Anything else (not a BPF object, or a kind this crate does not know).
    Other,
}

/// Finds out what kind of BPF object `fd` is. Errors if `/proc/self/fd` cannot be read.
pub fn fd_kind(fd: BorrowedFd<'_>) -> std::io::Result<FdKind> {
    let target = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))?;
    Ok(match target.to_str().unwrap_or("") {
        "anon_inode:bpf-map" => FdKind::Map,
        "anon_inode:bpf-prog" => FdKind::Prog,
        "anon_inode:bpf_link" | "anon_inode:bpf-link" => FdKind::Link,
        "anon_inode:btf" => FdKind::Btf,
        "anon_inode:bpf-token" => FdKind::Token,
        "anon_inode:bpf_iter" => FdKind::Iter,
        _ => FdKind::Other,
    })
}
