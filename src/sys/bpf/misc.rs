//! The remaining commands: `ENABLE_STATS`, `TASK_FD_QUERY`, `TOKEN_CREATE`.

use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

use super::super::attr::{EnableStatsAttr, TaskFdQueryAttr, TokenCreateAttr, ptr_mut};
use super::super::fd::raw;
use super::super::types::{BpfCmd, StatsType, TaskFdType};
use super::super::{Errno, bpf, bpf_fd};

/// `BPF_ENABLE_STATS`: turns on run-time statistics (`run_cnt`, `run_time_ns` in
/// [`ProgInfo`](crate::sys::ProgInfo)) until the returned fd is closed.
pub fn enable_stats(type_: StatsType) -> Result<OwnedFd, Errno> {
    let mut attr = EnableStatsAttr { type_: type_.0 };
    // SAFETY: ENABLE_STATS has no pointers and returns a new fd.
    unsafe { bpf_fd(BpfCmd::ENABLE_STATS, &mut attr) }
}

/// Output of [`task_fd_query`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskFdQueryOutput {
    /// Id of the attached program.
    pub prog_id: u32,
    /// What the fd is.
    pub fd_type: TaskFdType,
    /// Length of the name (tracepoint/function/file), without the NUL.
    pub name_len: u32,
    /// Probe offset (kprobe/uprobe).
    pub probe_offset: u64,
    /// Probe address (kprobe).
    pub probe_addr: u64,
}

/// `BPF_TASK_FD_QUERY`: what the perf-event or raw-tracepoint fd number `fd` of process
/// `pid` is attached to. `fd` is a number in *that* process's table (not an fd of ours). The
/// name is copied into `name` (NUL-terminated; `ENOSPC` if too short).
pub fn task_fd_query(pid: u32, fd: RawFd, name: &mut [u8]) -> Result<TaskFdQueryOutput, Errno> {
    let mut attr = TaskFdQueryAttr {
        pid,
        fd: fd as u32,
        buf_len: u32::try_from(name.len()).unwrap_or(u32::MAX),
        buf: ptr_mut(name),
        ..Default::default()
    };
    // SAFETY: the kernel writes at most `buf_len` bytes into the exclusive `name` slice.
    unsafe { bpf(BpfCmd::TASK_FD_QUERY, &mut attr) }?;
    Ok(TaskFdQueryOutput {
        prog_id: attr.prog_id,
        fd_type: TaskFdType(attr.fd_type),
        name_len: attr.buf_len,
        probe_offset: attr.probe_offset,
        probe_addr: attr.probe_addr,
    })
}

/// `BPF_TOKEN_CREATE`: creates a BPF token from a bpffs mounted with `delegate_*` options
/// (in a user namespace; `EOPNOTSUPP` in the initial one).
pub fn token_create(bpffs: BorrowedFd<'_>) -> Result<OwnedFd, Errno> {
    let mut attr = TokenCreateAttr {
        flags: 0,
        bpffs_fd: raw(bpffs),
    };
    // SAFETY: TOKEN_CREATE has no pointers and returns a new fd.
    unsafe { bpf_fd(BpfCmd::TOKEN_CREATE, &mut attr) }
}
