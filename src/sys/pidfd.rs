//! `pidfd_open(2)`: an fd referring to a process (the user-space key of task storage maps).

use std::os::fd::{FromRawFd, OwnedFd};

use super::Errno;

/// `pidfd_open(pid, 0)` (Linux 5.3): a new close-on-exec fd referring to the process `pid`.
///
/// # Errors
/// `ESRCH` when no such process exists, `EINVAL` for a pid that is not a thread-group leader,
/// `ENOSYS` before Linux 5.3.
pub fn pidfd_open(pid: u32) -> Result<OwnedFd, Errno> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| Errno::EINVAL)?;
    // SAFETY: pidfd_open takes two integers and touches no memory of ours.
    let r = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) };
    if r < 0 {
        return Err(Errno::last());
    }
    let fd = i32::try_from(r).map_err(|_| Errno::EINVAL)?;
    // SAFETY: on success the syscall returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
