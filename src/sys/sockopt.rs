//! Socket options that attach BPF programs to a socket: `SO_ATTACH_BPF` (socket filters),
//! `SO_ATTACH_REUSEPORT_EBPF` (reuseport selection), and their detach counterparts.

use std::os::fd::{AsRawFd, BorrowedFd};

use super::Errno;

/// `SO_ATTACH_BPF`.
pub const SO_ATTACH_BPF: i32 = 50;
/// `SO_DETACH_BPF` (= `SO_DETACH_FILTER`).
pub const SO_DETACH_BPF: i32 = 27;
/// `SO_ATTACH_REUSEPORT_EBPF`.
pub const SO_ATTACH_REUSEPORT_EBPF: i32 = 52;
/// `SO_DETACH_REUSEPORT_BPF`.
pub const SO_DETACH_REUSEPORT_BPF: i32 = 68;

fn setsockopt(sock: BorrowedFd<'_>, name: i32, value: &[u8]) -> Result<(), Errno> {
    // SAFETY: `value` is readable for its length, which is what we pass; the socket fd is
    // borrowed for the call.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            name,
            value.as_ptr() as *const libc::c_void,
            value.len() as libc::socklen_t,
        )
    };
    if r < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// `setsockopt(sock, SOL_SOCKET, opt, &prog_fd)` for [`SO_ATTACH_BPF`] or
/// [`SO_ATTACH_REUSEPORT_EBPF`].
pub fn socket_attach_prog(
    sock: BorrowedFd<'_>,
    opt: i32,
    prog: BorrowedFd<'_>,
) -> Result<(), Errno> {
    setsockopt(sock, opt, &prog.as_raw_fd().to_ne_bytes())
}

/// `setsockopt(sock, SOL_SOCKET, opt)` for [`SO_DETACH_BPF`] or [`SO_DETACH_REUSEPORT_BPF`].
pub fn socket_detach_prog(sock: BorrowedFd<'_>, opt: i32) -> Result<(), Errno> {
    setsockopt(sock, opt, &0i32.to_ne_bytes())
}
