//! [`Errno`]: the raw error number a system call returned.

use std::fmt;

/// An error number returned by a system call.
///
/// Unlike [`nix::errno::Errno`] this is a plain newtype over the raw value, so it can carry
/// the kernel-internal `ENOTSUPP` (524) that `bpf(2)` leaks to user space.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(i32);

impl Errno {
    /// Kernel-internal "operation not supported" (524), returned by `bpf(2)` for example by
    /// `BPF_PROG_TEST_RUN` on a program type that has no test-run support.
    pub const ENOTSUPP: Errno = Errno(524);
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(libc::EPERM);
    /// No such file, key or object.
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(libc::EINTR);
    /// Try again.
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    /// Permission denied.
    pub const EACCES: Errno = Errno(libc::EACCES);
    /// Bad address.
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    /// Device or resource busy.
    pub const EBUSY: Errno = Errno(libc::EBUSY);
    /// Already exists.
    pub const EEXIST: Errno = Errno(libc::EEXIST);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    /// Argument list too long (`BPF_PROG_LOAD` with too many instructions).
    pub const E2BIG: Errno = Errno(libc::E2BIG);
    /// No space left: the verifier log buffer was too small.
    pub const ENOSPC: Errno = Errno(libc::ENOSPC);
    /// Function not implemented (no `bpf(2)` at all).
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    /// Operation not supported.
    pub const EOPNOTSUPP: Errno = Errno(libc::EOPNOTSUPP);
    /// No such device.
    pub const ENODEV: Errno = Errno(libc::ENODEV);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(libc::EBADF);
    /// `ENOLINK`: the link is detached (`BPF_LINK_UPDATE` on a detached link).
    pub const ENOLINK: Errno = Errno(libc::ENOLINK);

    /// Wraps a raw (positive) errno value.
    pub const fn from_raw(raw: i32) -> Self {
        Errno(raw)
    }

    /// The raw errno value.
    pub const fn raw(self) -> i32 {
        self.0
    }

    /// The calling thread's current `errno`.
    pub fn last() -> Self {
        Errno(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
    }

    /// The symbolic name (`"EPERM"`, `"ENOTSUPP"`, …), or `None` for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        if self == Self::ENOTSUPP {
            return Some("ENOTSUPP");
        }
        match errno_name(nix::errno::Errno::from_raw(self.0)) {
            "E?" => None,
            name => Some(name),
        }
    }

    /// A human description (`strerror`), with one for `ENOTSUPP` as well.
    pub fn desc(self) -> &'static str {
        if self == Self::ENOTSUPP {
            "operation not supported by this kernel (ENOTSUPP)"
        } else {
            nix::errno::Errno::from_raw(self.0).desc()
        }
    }
}

fn errno_name(e: nix::errno::Errno) -> &'static str {
    // `nix::errno::Errno` is a fieldless enum whose Debug is its name; leak-free via a table
    // of the values bpf(2) and friends actually return, with a generic fallback.
    use nix::errno::Errno as N;
    match e {
        N::EPERM => "EPERM",
        N::ENOENT => "ENOENT",
        N::ESRCH => "ESRCH",
        N::EINTR => "EINTR",
        N::EIO => "EIO",
        N::ENXIO => "ENXIO",
        N::E2BIG => "E2BIG",
        N::EBADF => "EBADF",
        N::EAGAIN => "EAGAIN",
        N::ENOMEM => "ENOMEM",
        N::EACCES => "EACCES",
        N::EFAULT => "EFAULT",
        N::EBUSY => "EBUSY",
        N::EEXIST => "EEXIST",
        N::EXDEV => "EXDEV",
        N::ENODEV => "ENODEV",
        N::ENOTDIR => "ENOTDIR",
        N::EISDIR => "EISDIR",
        N::EINVAL => "EINVAL",
        N::ENFILE => "ENFILE",
        N::EMFILE => "EMFILE",
        N::ENOTTY => "ENOTTY",
        N::EFBIG => "EFBIG",
        N::ENOSPC => "ENOSPC",
        N::ERANGE => "ERANGE",
        N::ENOSYS => "ENOSYS",
        N::ELOOP => "ELOOP",
        N::ENOTEMPTY => "ENOTEMPTY",
        N::ENAMETOOLONG => "ENAMETOOLONG",
        N::ENOTSUP => "EOPNOTSUPP",
        N::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        N::EAFNOSUPPORT => "EAFNOSUPPORT",
        N::EADDRINUSE => "EADDRINUSE",
        N::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        N::ENETDOWN => "ENETDOWN",
        N::ECONNREFUSED => "ECONNREFUSED",
        N::ETIMEDOUT => "ETIMEDOUT",
        N::EALREADY => "EALREADY",
        N::EINPROGRESS => "EINPROGRESS",
        N::EOVERFLOW => "EOVERFLOW",
        N::EBADMSG => "EBADMSG",
        N::ENOMSG => "ENOMSG",
        N::ENODATA => "ENODATA",
        N::EPROTO => "EPROTO",
        N::ENOLINK => "ENOLINK",
        N::ESTALE => "ESTALE",
        _ => "E?",
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "Errno({})", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({}): {}", self.0, self.desc()),
            None => write!(f, "errno {}: {}", self.0, self.desc()),
        }
    }
}

impl std::error::Error for Errno {}

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        std::io::Error::from_raw_os_error(e.0)
    }
}

impl From<nix::errno::Errno> for Errno {
    fn from(e: nix::errno::Errno) -> Self {
        Errno(e as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enotsupp_is_kept() {
        assert_eq!(Errno::from_raw(524), Errno::ENOTSUPP);
        assert_eq!(Errno::ENOTSUPP.raw(), 524);
        assert_eq!(format!("{:?}", Errno::ENOTSUPP), "ENOTSUPP");
        assert!(Errno::ENOTSUPP.to_string().contains("524"));
    }

    #[test]
    fn names() {
        assert_eq!(format!("{:?}", Errno::EPERM), "EPERM");
        assert_eq!(format!("{:?}", Errno::from_raw(9999)), "Errno(9999)");
        assert_eq!(Errno::from_raw(9999).name(), None);
        // Known to the kernel but not to the table: no made-up name either.
        assert_eq!(Errno::from_raw(libc::EDOM).name(), None);
        assert_eq!(Errno::ENOLINK.name(), Some("ENOLINK"));
    }
}
