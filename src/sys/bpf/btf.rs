//! `BPF_BTF_LOAD`.

use std::os::fd::{BorrowedFd, OwnedFd};

use super::super::attr::{BtfLoadAttr, ptr, ptr_mut};
use super::super::fd::raw;
use super::super::flags::ProgFlags;
use super::super::types::BpfCmd;
use super::super::{Errno, bpf_fd};

/// Arguments of [`btf_load`].
#[derive(Debug, Default)]
pub struct BtfLoadArgs<'a> {
    /// The raw BTF blob (header, types, strings).
    pub data: &'a [u8],
    /// Log buffer.
    pub log: Option<&'a mut [u8]>,
    /// Log level (needs a log buffer when non-zero).
    pub log_level: u32,
    /// BPF token (sets `BPF_F_TOKEN_FD`).
    pub token: Option<BorrowedFd<'a>>,
    /// Out: the log size the whole log needs (kernel 6.4+), set on success and error.
    pub log_true_size: u32,
}

/// `BPF_BTF_LOAD`: loads BTF, returning its fd. The log, if requested, is in `args.log`.
pub fn btf_load(args: &mut BtfLoadArgs<'_>) -> Result<OwnedFd, Errno> {
    let mut attr = BtfLoadAttr {
        btf: ptr(args.data),
        btf_size: u32::try_from(args.data.len()).map_err(|_| Errno::E2BIG)?,
        btf_log_level: args.log_level,
        ..Default::default()
    };
    if let Some(b) = args.log.as_deref_mut() {
        attr.btf_log_buf = ptr_mut(b);
        attr.btf_log_size = u32::try_from(b.len()).unwrap_or(u32::MAX);
    }
    if let Some(t) = args.token {
        attr.btf_token_fd = raw(t) as i32;
        attr.btf_flags = ProgFlags::TOKEN_FD.bits();
    }
    // SAFETY: the blob is read for `btf_size` bytes; the log is an exclusive slice and the
    // kernel writes at most `btf_log_size` bytes to it. Returns a new fd.
    let r = unsafe { bpf_fd(BpfCmd::BTF_LOAD, &mut attr) };
    args.log_true_size = attr.btf_log_true_size;
    r
}
