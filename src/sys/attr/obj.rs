//! Attrs of the object commands: pin/get, ids, info, BTF, tokens.

use super::layout;

/// `BPF_OBJ_PIN` and `BPF_OBJ_GET`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjPinAttr {
    /// Pointer to the NUL-terminated path.
    pub pathname: u64,
    /// The object to pin (0 for OBJ_GET).
    pub bpf_fd: u32,
    /// `BPF_F_RDONLY`/`BPF_F_WRONLY`/`BPF_F_PATH_FD`.
    pub file_flags: u32,
    /// Directory fd `pathname` is relative to (with `BPF_F_PATH_FD`).
    pub path_fd: i32,
    /// Padding.
    pub _pad: u32,
}
layout!(ObjPinAttr, 24, bpf_fd @ 8, file_flags @ 12, path_fd @ 16);

/// The `*_GET_NEXT_ID` and `*_GET_FD_BY_ID` commands.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GetIdAttr {
    /// `start_id` (next id) or `prog_id`/`map_id`/`btf_id`/`link_id` (fd by id).
    pub id: u32,
    /// Out: the next id.
    pub next_id: u32,
    /// `BPF_F_RDONLY`/`BPF_F_WRONLY`/`BPF_F_TOKEN_FD` (fd by id).
    pub open_flags: u32,
    /// Token fd (with `BPF_F_TOKEN_FD`).
    pub fd_by_id_token_fd: i32,
}
layout!(GetIdAttr, 16, next_id @ 4, open_flags @ 8, fd_by_id_token_fd @ 12);

/// `BPF_OBJ_GET_INFO_BY_FD` (`attr.info`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObjGetInfoAttr {
    /// The object.
    pub bpf_fd: u32,
    /// In: size of the info buffer; out: bytes the kernel filled.
    pub info_len: u32,
    /// Pointer to the info struct.
    pub info: u64,
}
layout!(ObjGetInfoAttr, 16, info_len @ 4, info @ 8);

/// `BPF_BTF_LOAD`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BtfLoadAttr {
    /// Pointer to the BTF blob.
    pub btf: u64,
    /// Pointer to the log buffer.
    pub btf_log_buf: u64,
    /// Size of the blob.
    pub btf_size: u32,
    /// Size of the log buffer.
    pub btf_log_size: u32,
    /// Log level.
    pub btf_log_level: u32,
    /// Out: the log size the full log would need.
    pub btf_log_true_size: u32,
    /// Flags (`BPF_F_TOKEN_FD`).
    pub btf_flags: u32,
    /// Token fd.
    pub btf_token_fd: i32,
}
layout!(BtfLoadAttr, 40, btf_size @ 16, btf_log_true_size @ 28, btf_flags @ 32,
    btf_token_fd @ 36);

/// `BPF_TOKEN_CREATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenCreateAttr {
    /// Flags (must be 0).
    pub flags: u32,
    /// fd of the root of a bpffs mounted with delegation options.
    pub bpffs_fd: u32,
}
layout!(TokenCreateAttr, 8, bpffs_fd @ 4);

/// `BPF_ENABLE_STATS`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnableStatsAttr {
    /// `enum bpf_stats_type`.
    pub type_: u32,
}
layout!(EnableStatsAttr, 4, type_ @ 0);

/// `BPF_TASK_FD_QUERY`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskFdQueryAttr {
    /// Process id.
    pub pid: u32,
    /// fd number in that process.
    pub fd: u32,
    /// Flags (must be 0).
    pub flags: u32,
    /// In: size of `buf`; out: length of the name.
    pub buf_len: u32,
    /// Pointer to a buffer receiving the tracepoint/function/file name.
    pub buf: u64,
    /// Out: the attached program's id.
    pub prog_id: u32,
    /// Out: `enum bpf_task_fd_type`.
    pub fd_type: u32,
    /// Out: probe offset.
    pub probe_offset: u64,
    /// Out: probe address.
    pub probe_addr: u64,
}
layout!(TaskFdQueryAttr, 48, buf @ 16, prog_id @ 24, fd_type @ 28, probe_offset @ 32,
    probe_addr @ 40);
