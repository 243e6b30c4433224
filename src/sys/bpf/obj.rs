//! Object commands: `OBJ_PIN`, `OBJ_GET`, the `*_GET_NEXT_ID` and `*_GET_FD_BY_ID`
//! commands.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};

use super::super::attr::{GetIdAttr, ObjPinAttr};
use super::super::fd::raw;
use super::super::flags::ObjFlags;
use super::super::types::BpfCmd;
use super::super::{Errno, bpf, bpf_fd};

/// `BPF_OBJ_PIN`: pins the object `fd` at `path` in a bpffs (relative paths are relative to
/// `dir` if given, else to the working directory).
pub fn obj_pin(fd: BorrowedFd<'_>, path: &CStr, dir: Option<BorrowedFd<'_>>) -> Result<(), Errno> {
    let mut attr = ObjPinAttr {
        pathname: path.as_ptr() as u64,
        bpf_fd: raw(fd),
        ..Default::default()
    };
    if let Some(d) = dir {
        attr.path_fd = raw(d) as i32;
        attr.file_flags = ObjFlags::PATH_FD.bits();
    }
    // SAFETY: OBJ_PIN only reads the NUL-terminated `path`.
    unsafe { bpf(BpfCmd::OBJ_PIN, &mut attr) }.map(drop)
}

/// `BPF_OBJ_GET`: opens the object pinned at `path` (relative to `dir` if given). Flags:
/// [`ObjFlags::RDONLY`]/[`ObjFlags::WRONLY`] (`PATH_FD` is set from `dir`).
pub fn obj_get(
    path: &CStr,
    flags: ObjFlags,
    dir: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, Errno> {
    let mut attr = ObjPinAttr {
        pathname: path.as_ptr() as u64,
        file_flags: flags.bits(),
        ..Default::default()
    };
    if let Some(d) = dir {
        attr.path_fd = raw(d) as i32;
        attr.file_flags |= ObjFlags::PATH_FD.bits();
    }
    // SAFETY: OBJ_GET only reads the NUL-terminated `path`; it returns a new fd.
    unsafe { bpf_fd(BpfCmd::OBJ_GET, &mut attr) }
}

fn next_id(cmd: BpfCmd, start: u32) -> Result<Option<u32>, Errno> {
    let mut attr = GetIdAttr {
        id: start,
        ..Default::default()
    };
    // SAFETY: the *_GET_NEXT_ID commands have no pointers.
    match unsafe { bpf(cmd, &mut attr) } {
        Ok(_) => Ok(Some(attr.next_id)),
        Err(Errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `BPF_PROG_GET_NEXT_ID`: the first program id greater than `start`, `None` after the last.
pub fn prog_get_next_id(start: u32) -> Result<Option<u32>, Errno> {
    next_id(BpfCmd::PROG_GET_NEXT_ID, start)
}

/// `BPF_MAP_GET_NEXT_ID`: the first map id greater than `start`, `None` after the last.
pub fn map_get_next_id(start: u32) -> Result<Option<u32>, Errno> {
    next_id(BpfCmd::MAP_GET_NEXT_ID, start)
}

/// `BPF_BTF_GET_NEXT_ID`: the first BTF id greater than `start`, `None` after the last.
pub fn btf_get_next_id(start: u32) -> Result<Option<u32>, Errno> {
    next_id(BpfCmd::BTF_GET_NEXT_ID, start)
}

/// `BPF_LINK_GET_NEXT_ID`: the first link id greater than `start`, `None` after the last.
pub fn link_get_next_id(start: u32) -> Result<Option<u32>, Errno> {
    next_id(BpfCmd::LINK_GET_NEXT_ID, start)
}

pub(super) fn get_fd_by_id(
    cmd: BpfCmd,
    id: u32,
    flags: ObjFlags,
    token: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, Errno> {
    let mut attr = GetIdAttr {
        id,
        open_flags: flags.bits(),
        ..Default::default()
    };
    if let Some(t) = token {
        attr.fd_by_id_token_fd = raw(t) as i32;
        attr.open_flags |= ObjFlags::TOKEN_FD.bits();
    }
    // SAFETY: the *_GET_FD_BY_ID commands have no pointers and return a new fd.
    unsafe { bpf_fd(cmd, &mut attr) }
}

/// `BPF_PROG_GET_FD_BY_ID`: opens program `id` (`ENOENT` if gone).
pub fn prog_get_fd_by_id(
    id: u32,
    flags: ObjFlags,
    token: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, Errno> {
    get_fd_by_id(BpfCmd::PROG_GET_FD_BY_ID, id, flags, token)
}

/// `BPF_BTF_GET_FD_BY_ID`: opens BTF object `id`.
pub fn btf_get_fd_by_id(
    id: u32,
    flags: ObjFlags,
    token: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, Errno> {
    get_fd_by_id(BpfCmd::BTF_GET_FD_BY_ID, id, flags, token)
}

/// `BPF_LINK_GET_FD_BY_ID`: opens link `id`.
pub fn link_get_fd_by_id(
    id: u32,
    flags: ObjFlags,
    token: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd, Errno> {
    get_fd_by_id(BpfCmd::LINK_GET_FD_BY_ID, id, flags, token)
}
