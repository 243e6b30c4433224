//! Registration of a BPF object's fd (a ring buffer map, a perf buffer's epoll set) with
//! tokio's reactor, for the `tokio` feature's async buffers.

use std::os::fd::{BorrowedFd, OwnedFd};

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// Registers a duplicate of `fd` (same open file description, so the same readiness) with the
/// current tokio runtime's reactor, for `interest`. The `AsyncFd` owns the duplicate.
///
/// Must be called inside a tokio runtime (tokio panics otherwise: check
/// `tokio::runtime::Handle::try_current` first).
///
/// # Errors
/// Duplicating the fd or registering it failed.
pub fn register(fd: BorrowedFd<'_>, interest: Interest) -> std::io::Result<AsyncFd<OwnedFd>> {
    let owned = fd.try_clone_to_owned()?;
    // SAFETY: `owned` is an open fd that the AsyncFd takes ownership of: nothing else can close or replace it until the AsyncFd drops it (or gives it back with into_inner), and OwnedFd::as_raw_fd always returns that same fd.
    unsafe { AsyncFd::register_with_interest(owned, interest) }.map_err(|e| e.into_parts().1)
}
