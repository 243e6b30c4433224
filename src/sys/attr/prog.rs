//! Attrs of the program commands.

use super::layout;

/// `BPF_PROG_LOAD`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgLoadAttr {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// Number of instructions.
    pub insn_cnt: u32,
    /// Pointer to the `struct bpf_insn` array.
    pub insns: u64,
    /// Pointer to the NUL-terminated license string.
    pub license: u64,
    /// Verifier log level (0: no log).
    pub log_level: u32,
    /// Size of `log_buf`.
    pub log_size: u32,
    /// Pointer to the verifier log buffer.
    pub log_buf: u64,
    /// Kernel version (kprobes on old kernels).
    pub kern_version: u32,
    /// `BPF_F_*` program flags.
    pub prog_flags: u32,
    /// NUL-padded object name.
    pub prog_name: [u8; 16],
    /// Device to offload to / bind to.
    pub prog_ifindex: u32,
    /// `enum bpf_attach_type` the program will be attached with.
    pub expected_attach_type: u32,
    /// BTF fd for func_info/line_info.
    pub prog_btf_fd: u32,
    /// Size of one `func_info` record.
    pub func_info_rec_size: u32,
    /// Pointer to the func_info records.
    pub func_info: u64,
    /// Number of func_info records.
    pub func_info_cnt: u32,
    /// Size of one `line_info` record.
    pub line_info_rec_size: u32,
    /// Pointer to the line_info records.
    pub line_info: u64,
    /// Number of line_info records.
    pub line_info_cnt: u32,
    /// BTF id of the attach target.
    pub attach_btf_id: u32,
    /// `attach_prog_fd` or `attach_btf_obj_fd` (a union).
    pub attach_prog_fd: u32,
    /// Number of CO-RE relocation records.
    pub core_relo_cnt: u32,
    /// Pointer to an array of fds (`BPF_PSEUDO_MAP_IDX`, kfunc BTF fds).
    pub fd_array: u64,
    /// Pointer to the CO-RE relocation records (kernel-side CO-RE).
    pub core_relos: u64,
    /// Size of one CO-RE relocation record.
    pub core_relo_rec_size: u32,
    /// Out: the log size the full log would need.
    pub log_true_size: u32,
    /// Token fd (with `BPF_F_TOKEN_FD`).
    pub prog_token_fd: i32,
    /// Number of entries of `fd_array` (0: indexed lazily).
    pub fd_array_cnt: u32,
    /// Pointer to the program signature.
    pub signature: u64,
    /// Size of `signature`.
    pub signature_size: u32,
    /// Keyring to verify the signature against.
    pub keyring_id: i32,
}
layout!(ProgLoadAttr, 168, insns @ 8, license @ 16, log_buf @ 32, prog_name @ 48,
    prog_ifindex @ 64, expected_attach_type @ 68, func_info @ 80, line_info @ 96,
    attach_btf_id @ 108, attach_prog_fd @ 112, fd_array @ 120, core_relos @ 128,
    log_true_size @ 140, prog_token_fd @ 144, fd_array_cnt @ 148, signature @ 152,
    keyring_id @ 164);

/// `BPF_PROG_ATTACH` and `BPF_PROG_DETACH`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgAttachAttr {
    /// Target fd or ifindex (a union).
    pub target_fd: u32,
    /// The program.
    pub attach_bpf_fd: u32,
    /// `enum bpf_attach_type`.
    pub attach_type: u32,
    /// `BPF_F_*` attach flags.
    pub attach_flags: u32,
    /// Program to replace (with `BPF_F_REPLACE`).
    pub replace_bpf_fd: u32,
    /// `relative_fd` or `relative_id` (a union; mprog ordering).
    pub relative_fd: u32,
    /// Expected mprog revision (0: any).
    pub expected_revision: u64,
}
layout!(ProgAttachAttr, 32, attach_type @ 8, replace_bpf_fd @ 16, relative_fd @ 20,
    expected_revision @ 24);

/// `BPF_PROG_TEST_RUN` (`attr.test`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgTestRunAttr {
    /// The program.
    pub prog_fd: u32,
    /// Out: the program's return value.
    pub retval: u32,
    /// Size of `data_in`.
    pub data_size_in: u32,
    /// In: size of `data_out`; out: size of the output data.
    pub data_size_out: u32,
    /// Pointer to the input packet.
    pub data_in: u64,
    /// Pointer to the output packet buffer.
    pub data_out: u64,
    /// Number of runs.
    pub repeat: u32,
    /// Out: average run time in ns.
    pub duration: u32,
    /// Size of `ctx_in`.
    pub ctx_size_in: u32,
    /// In: size of `ctx_out`; out: size of the output context.
    pub ctx_size_out: u32,
    /// Pointer to the input context.
    pub ctx_in: u64,
    /// Pointer to the output context buffer.
    pub ctx_out: u64,
    /// `BPF_F_TEST_*` flags.
    pub flags: u32,
    /// CPU (with `BPF_F_TEST_RUN_ON_CPU`).
    pub cpu: u32,
    /// XDP live frames batch size.
    pub batch_size: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(ProgTestRunAttr, 80, data_in @ 16, data_out @ 24, repeat @ 32, ctx_in @ 48,
    ctx_out @ 56, flags @ 64, cpu @ 68, batch_size @ 72);

/// `BPF_PROG_QUERY` (`attr.query`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgQueryAttr {
    /// Target fd or ifindex (a union).
    pub target_fd: u32,
    /// `enum bpf_attach_type`.
    pub attach_type: u32,
    /// `BPF_F_QUERY_EFFECTIVE`.
    pub query_flags: u32,
    /// Out: attach flags of the hook.
    pub attach_flags: u32,
    /// Pointer to a `u32` buffer receiving program ids.
    pub prog_ids: u64,
    /// In: capacity of the buffers; out: number of attached programs (`count`).
    pub prog_cnt: u32,
    /// Padding.
    pub _pad: u32,
    /// Pointer to a `u32` buffer receiving per-program attach flags.
    pub prog_attach_flags: u64,
    /// Pointer to a `u32` buffer receiving link ids (mprog hooks).
    pub link_ids: u64,
    /// Pointer to a `u32` buffer receiving per-link attach flags.
    pub link_attach_flags: u64,
    /// Out: mprog revision.
    pub revision: u64,
}
layout!(ProgQueryAttr, 64, prog_ids @ 16, prog_cnt @ 24, prog_attach_flags @ 32,
    link_ids @ 40, link_attach_flags @ 48, revision @ 56);

/// `BPF_PROG_BIND_MAP`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgBindMapAttr {
    /// The program.
    pub prog_fd: u32,
    /// The map.
    pub map_fd: u32,
    /// Flags (must be 0).
    pub flags: u32,
}
layout!(ProgBindMapAttr, 12, map_fd @ 4, flags @ 8);

/// `BPF_PROG_STREAM_READ_BY_FD` (`attr.prog_stream_read`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgStreamReadAttr {
    /// Pointer to the buffer.
    pub stream_buf: u64,
    /// Size of the buffer.
    pub stream_buf_len: u32,
    /// `enum bpf_stream_id`.
    pub stream_id: u32,
    /// The program.
    pub prog_fd: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(ProgStreamReadAttr, 24, stream_buf_len @ 8, stream_id @ 12, prog_fd @ 16);
