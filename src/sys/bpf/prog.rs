//! Program commands: `PROG_LOAD`, `PROG_ATTACH`/`PROG_DETACH`, `PROG_TEST_RUN`,
//! `PROG_QUERY`, `PROG_BIND_MAP`, `PROG_STREAM_READ_BY_FD`.

use std::ffi::CStr;
use std::os::fd::{BorrowedFd, OwnedFd};

use super::super::attr::{
    ProgAttachAttr, ProgBindMapAttr, ProgLoadAttr, ProgQueryAttr, ProgStreamReadAttr,
    ProgTestRunAttr, obj_name, ptr, ptr_mut,
};
use super::super::fd::{raw, raw_opt};
use super::super::flags::{AttachFlags, ProgFlags, TestRunFlags};
use super::super::types::{AttachType, BpfCmd, ProgType, StreamId};
use super::super::{Errno, Insn, bpf, bpf_fd};

/// Arguments of [`prog_load`]. `Default` is an empty socket-filter-less load; set at least
/// `prog_type`, `insns` and `license`.
#[derive(Default)]
pub struct ProgLoadArgs<'a> {
    /// Program type.
    pub prog_type: ProgType,
    /// The instructions.
    pub insns: &'a [Insn],
    /// License, e.g. `c"GPL"`.
    pub license: &'a CStr,
    /// Verifier log buffer (at least 128 bytes when given; the kernel needs a log level).
    pub log: Option<&'a mut [u8]>,
    /// Verifier log level (1: basic, 2: verbose, 4: stats). 0 with a log buffer is `EINVAL`.
    pub log_level: u32,
    /// Kernel version (only old kernels check it for kprobes).
    pub kern_version: u32,
    /// Program flags.
    pub prog_flags: ProgFlags,
    /// Object name, at most 15 bytes.
    pub name: &'a str,
    /// Offload / dev-bound device.
    pub prog_ifindex: u32,
    /// Attach type the program will be used with.
    pub expected_attach_type: AttachType,
    /// BTF of `func_info`/`line_info`.
    pub prog_btf: Option<BorrowedFd<'a>>,
    /// `bpf_func_info` records, `func_info_rec_size` bytes each.
    pub func_info: &'a [u8],
    /// Size of one func_info record (8).
    pub func_info_rec_size: u32,
    /// `bpf_line_info` records, `line_info_rec_size` bytes each.
    pub line_info: &'a [u8],
    /// Size of one line_info record (16).
    pub line_info_rec_size: u32,
    /// BTF id of the attach target (tracing, LSM, EXT, struct_ops).
    pub attach_btf_id: u32,
    /// Target program (freplace, fentry on BPF). Exclusive with `attach_btf_obj`.
    pub attach_prog: Option<BorrowedFd<'a>>,
    /// BTF object of `attach_btf_id` (a module's BTF). Exclusive with `attach_prog`.
    pub attach_btf_obj: Option<BorrowedFd<'a>>,
    /// The fds `BPF_PSEUDO_MAP_IDX`/kfunc instructions index into.
    ///
    /// The kernel reads the entries the instructions name without knowing the slice's length
    /// (before 6.13, or without `fd_array_bounded`), so [`prog_load`] checks every index
    /// against `fd_array.len()` first and fails with `EINVAL` if one is past the end (see
    /// [`check_fd_array`]). Set `fd_array_bounded` to let a 6.13+ kernel know the length.
    pub fd_array: &'a [i32],
    /// Pass `fd_array.len()` as `fd_array_cnt` (kernel 6.13+; every fd in it is bound to
    /// the program).
    pub fd_array_bounded: bool,
    /// CO-RE relocation records for kernel-side CO-RE, `core_relo_rec_size` bytes each.
    pub core_relos: &'a [u8],
    /// Size of one CO-RE relocation record (16).
    pub core_relo_rec_size: u32,
    /// BPF token (sets [`ProgFlags::TOKEN_FD`]).
    pub token: Option<BorrowedFd<'a>>,
    /// Program signature (signed programs), or empty.
    pub signature: &'a [u8],
    /// Keyring to check `signature` against.
    pub keyring_id: i32,
    /// Out: the log size the whole log needs (kernel 6.4+; 0 on older kernels). Set by
    /// [`prog_load`] on success and on error, so a caller can retry with a buffer that fits.
    pub log_true_size: u32,
}

impl std::fmt::Debug for ProgLoadArgs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgLoadArgs")
            .field("prog_type", &self.prog_type)
            .field("insns", &self.insns.len())
            .field("license", &self.license)
            .field("name", &self.name)
            .field("log_level", &self.log_level)
            .field("log", &self.log.as_ref().map(|l| l.len()))
            .field("expected_attach_type", &self.expected_attach_type)
            .field("attach_btf_id", &self.attach_btf_id)
            .field("prog_flags", &self.prog_flags)
            .finish_non_exhaustive()
    }
}

fn count(len: usize, rec: u32) -> Result<u32, Errno> {
    if len == 0 {
        return Ok(0);
    }
    if rec == 0 || len % rec as usize != 0 {
        return Err(Errno::EINVAL);
    }
    u32::try_from(len / rec as usize).map_err(|_| Errno::E2BIG)
}

/// `BPF_JMP | BPF_CALL`.
const JMP_CALL: u8 = 0x05 | 0x80;
/// `BPF_LD | BPF_IMM | BPF_DW` (0 | 0 | 0x18).
const LD_IMM64: u8 = 0x18;
/// `src_reg` of a kfunc call (`off` > 0: index of the kfunc's module BTF fd in `fd_array`).
const PSEUDO_KFUNC_CALL: u8 = 2;
/// `src_reg` of an `ld_imm64` of a map by `fd_array` index.
const PSEUDO_MAP_IDX: u8 = 5;
/// `src_reg` of an `ld_imm64` of a map value address by `fd_array` index.
const PSEUDO_MAP_IDX_VALUE: u8 = 6;

/// Checks that every `fd_array` index the instructions name is below `fd_array_len`:
/// `imm` of an `ld_imm64` with `src_reg` `BPF_PSEUDO_MAP_IDX`/`BPF_PSEUDO_MAP_IDX_VALUE`
/// (where a negative `imm` would make the kernel read before the array), and a positive
/// `off` of a kfunc call (`BPF_JMP | BPF_CALL`, `src_reg` `BPF_PSEUDO_KFUNC_CALL`; the kernel
/// rejects a negative one itself).
///
/// Every instruction is checked, including the second halves of `ld_imm64` pairs, as the
/// kernel's own scans do. [`prog_load`] calls this before the syscall.
///
/// # Errors
/// `EINVAL` for the first instruction whose index is out of bounds.
pub fn check_fd_array(insns: &[Insn], fd_array_len: usize) -> Result<(), Errno> {
    for insn in insns {
        let src = insn.regs >> 4;
        let index = match (insn.code, src) {
            (LD_IMM64, PSEUDO_MAP_IDX | PSEUDO_MAP_IDX_VALUE) => {
                usize::try_from(insn.imm).map_err(|_| Errno::EINVAL)?
            }
            (JMP_CALL, PSEUDO_KFUNC_CALL) if insn.off > 0 => insn.off as usize,
            _ => continue,
        };
        if index >= fd_array_len {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

/// `BPF_PROG_LOAD`: verifies and loads a program, returning its fd.
///
/// The verifier log (if `args.log` is set) is in the caller's buffer, NUL-terminated;
/// `args.log_true_size` is set on return either way. `ENOSPC` means the log did not fit.
/// `EAGAIN` from the kernel is retried up to 5 times. `EINVAL` without a syscall for a name
/// over 15 bytes, records not a multiple of their size, both attach fds set, or an
/// instruction naming an `fd_array` index past `args.fd_array`'s end ([`check_fd_array`]).
pub fn prog_load(args: &mut ProgLoadArgs<'_>) -> Result<OwnedFd, Errno> {
    if args.attach_prog.is_some() && args.attach_btf_obj.is_some() {
        return Err(Errno::EINVAL);
    }
    // The kernel indexes `fd_array` without a bound (before 6.13 it has no length): never
    // let it read past the slice.
    check_fd_array(args.insns, args.fd_array.len())?;
    let mut flags = args.prog_flags;
    let (log_buf, log_size) = match args.log.as_deref_mut() {
        Some(b) => (ptr_mut(b), u32::try_from(b.len()).unwrap_or(u32::MAX)),
        None => (0, 0),
    };
    let mut attr = ProgLoadAttr {
        prog_type: args.prog_type.0,
        insn_cnt: u32::try_from(args.insns.len()).map_err(|_| Errno::E2BIG)?,
        insns: ptr(args.insns),
        license: args.license.as_ptr() as u64,
        log_level: args.log_level,
        log_size,
        log_buf,
        kern_version: args.kern_version,
        prog_name: obj_name(args.name).ok_or(Errno::EINVAL)?,
        prog_ifindex: args.prog_ifindex,
        expected_attach_type: args.expected_attach_type.0,
        prog_btf_fd: raw_opt(args.prog_btf),
        func_info_rec_size: args.func_info_rec_size,
        func_info: ptr(args.func_info),
        func_info_cnt: count(args.func_info.len(), args.func_info_rec_size)?,
        line_info_rec_size: args.line_info_rec_size,
        line_info: ptr(args.line_info),
        line_info_cnt: count(args.line_info.len(), args.line_info_rec_size)?,
        attach_btf_id: args.attach_btf_id,
        attach_prog_fd: raw_opt(args.attach_prog.or(args.attach_btf_obj)),
        core_relo_cnt: count(args.core_relos.len(), args.core_relo_rec_size)?,
        fd_array: ptr(args.fd_array),
        core_relos: ptr(args.core_relos),
        core_relo_rec_size: if args.core_relos.is_empty() {
            0
        } else {
            args.core_relo_rec_size
        },
        signature: ptr(args.signature),
        signature_size: args.signature.len() as u32,
        keyring_id: args.keyring_id,
        ..Default::default()
    };
    if args.fd_array_bounded {
        attr.fd_array_cnt = u32::try_from(args.fd_array.len()).map_err(|_| Errno::E2BIG)?;
    }
    if let Some(t) = args.token {
        attr.prog_token_fd = raw(t) as i32;
        flags |= ProgFlags::TOKEN_FD;
    }
    attr.prog_flags = flags.bits();
    let mut result = Err(Errno::EAGAIN);
    for _ in 0..5 {
        let mut a = attr;
        // SAFETY: every input pointer comes from a slice or CStr borrowed for the call with
        // its length/count in the attr; `fd_array` has no count before 6.13, but
        // `check_fd_array` made sure every index the instructions name is inside it (it is
        // only read). The only output buffer is the log: `log_buf`/`log_size` come from one
        // exclusive slice and the kernel writes at most `log_size` bytes. Returns a new fd.
        result = unsafe { bpf_fd(BpfCmd::PROG_LOAD, &mut a) };
        args.log_true_size = a.log_true_size;
        if !matches!(result, Err(Errno::EAGAIN)) {
            break;
        }
    }
    result
}

/// The target of [`prog_attach`], [`prog_detach`] and [`prog_query`]: an fd (cgroup, netns,
/// map) or an ifindex (tcx, netkit).
#[derive(Clone, Copy, Debug)]
pub enum AttachTarget<'a> {
    /// A cgroup, netns, sockmap, … fd.
    Fd(BorrowedFd<'a>),
    /// A network interface index.
    Ifindex(u32),
    /// No target (0), e.g. flow dissector/sk_lookup in the current netns with old kernels.
    None,
}

impl AttachTarget<'_> {
    /// The value of the attr's `target_fd`/`target_ifindex` union.
    pub fn raw_value(self) -> u32 {
        match self {
            AttachTarget::Fd(fd) => raw(fd),
            AttachTarget::Ifindex(i) => i,
            AttachTarget::None => 0,
        }
    }
}

/// The program or link an mprog attach is placed relative to.
#[derive(Clone, Copy, Debug, Default)]
pub enum Relative<'a> {
    /// No anchor.
    #[default]
    None,
    /// An fd (a program, or a link with [`AttachFlags::LINK`]).
    Fd(BorrowedFd<'a>),
    /// An id (sets [`AttachFlags::ID`]).
    Id(u32),
}

impl Relative<'_> {
    pub(super) fn apply(self, flags: &mut u32) -> u32 {
        match self {
            Relative::None => 0,
            Relative::Fd(fd) => raw(fd),
            Relative::Id(id) => {
                *flags |= AttachFlags::ID.bits();
                id
            }
        }
    }
}

/// Optional parts of [`prog_attach`] / [`prog_detach`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ProgAttachOpts<'a> {
    /// Attach flags.
    pub flags: AttachFlags,
    /// Program to replace (with [`AttachFlags::REPLACE`]).
    pub replace: Option<BorrowedFd<'a>>,
    /// mprog anchor (with [`AttachFlags::BEFORE`]/[`AttachFlags::AFTER`]).
    pub relative: Relative<'a>,
    /// Expected mprog revision (0: any).
    pub expected_revision: u64,
}

fn attach_attr(
    target: AttachTarget<'_>,
    prog: Option<BorrowedFd<'_>>,
    attach_type: AttachType,
    opts: &ProgAttachOpts<'_>,
) -> ProgAttachAttr {
    let mut flags = opts.flags.bits();
    let relative_fd = opts.relative.apply(&mut flags);
    ProgAttachAttr {
        target_fd: target.raw_value(),
        attach_bpf_fd: raw_opt(prog),
        attach_type: attach_type.0,
        attach_flags: flags,
        replace_bpf_fd: raw_opt(opts.replace),
        relative_fd,
        expected_revision: opts.expected_revision,
    }
}

/// `BPF_PROG_ATTACH`: attaches `prog` to `target` at `attach_type`.
pub fn prog_attach(
    target: AttachTarget<'_>,
    prog: BorrowedFd<'_>,
    attach_type: AttachType,
    opts: &ProgAttachOpts<'_>,
) -> Result<(), Errno> {
    let mut attr = attach_attr(target, Some(prog), attach_type, opts);
    // SAFETY: PROG_ATTACH has no pointers.
    unsafe { bpf(BpfCmd::PROG_ATTACH, &mut attr) }.map(drop)
}

/// `BPF_PROG_DETACH`: detaches `prog` (or, for single-program hooks, whatever is attached
/// when `prog` is `None`) from `target`.
pub fn prog_detach(
    target: AttachTarget<'_>,
    prog: Option<BorrowedFd<'_>>,
    attach_type: AttachType,
    opts: &ProgAttachOpts<'_>,
) -> Result<(), Errno> {
    let mut attr = attach_attr(target, prog, attach_type, opts);
    // SAFETY: PROG_DETACH has no pointers.
    unsafe { bpf(BpfCmd::PROG_DETACH, &mut attr) }.map(drop)
}

/// Input of [`prog_test_run`].
#[derive(Debug, Default)]
pub struct TestRunArgs<'a> {
    /// Input packet.
    pub data_in: &'a [u8],
    /// Output packet buffer (an empty slice counts as none).
    pub data_out: Option<&'a mut [u8]>,
    /// Input context. Mutable because for `BPF_PROG_TYPE_SYSCALL` the kernel writes the
    /// context back into it.
    pub ctx_in: Option<&'a mut [u8]>,
    /// Output context buffer.
    pub ctx_out: Option<&'a mut [u8]>,
    /// Number of runs (0 counts as 1).
    pub repeat: u32,
    /// Flags.
    pub flags: TestRunFlags,
    /// CPU (with [`TestRunFlags::RUN_ON_CPU`]).
    pub cpu: u32,
    /// Batch size (XDP live frames).
    pub batch_size: u32,
}

/// Output of [`prog_test_run`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TestRunOutput {
    /// The program's return value.
    pub retval: u32,
    /// Average run time in ns.
    pub duration: u32,
    /// Size of the output packet (may exceed `data_out`, then the call fails with `ENOSPC`).
    pub data_size_out: u32,
    /// Size of the output context.
    pub ctx_size_out: u32,
}

/// `BPF_PROG_TEST_RUN`: runs `prog` on the given input.
pub fn prog_test_run(
    prog: BorrowedFd<'_>,
    args: &mut TestRunArgs<'_>,
) -> Result<TestRunOutput, Errno> {
    let mut attr = ProgTestRunAttr {
        prog_fd: raw(prog),
        data_size_in: u32::try_from(args.data_in.len()).map_err(|_| Errno::E2BIG)?,
        data_in: ptr(args.data_in),
        repeat: args.repeat,
        flags: args.flags.bits(),
        cpu: args.cpu,
        batch_size: args.batch_size,
        ..Default::default()
    };
    // An empty data_out must stay NULL: with data_size_out 0 the kernel would copy the
    // whole packet.
    if let Some(b) = args.data_out.as_deref_mut().filter(|b| !b.is_empty()) {
        attr.data_size_out = u32::try_from(b.len()).map_err(|_| Errno::E2BIG)?;
        attr.data_out = ptr_mut(b);
    }
    if let Some(b) = args.ctx_in.as_deref_mut() {
        attr.ctx_size_in = u32::try_from(b.len()).map_err(|_| Errno::E2BIG)?;
        attr.ctx_in = ptr_mut(b);
    }
    if let Some(b) = args.ctx_out.as_deref_mut().filter(|b| !b.is_empty()) {
        attr.ctx_size_out = u32::try_from(b.len()).map_err(|_| Errno::E2BIG)?;
        attr.ctx_out = ptr_mut(b);
    }
    // SAFETY: data_in is read for data_size_in bytes; ctx_in (an exclusive slice) is read
    // and, for syscall programs, written for ctx_size_in bytes; data_out/ctx_out are
    // exclusive non-empty slices and the kernel writes at most their stated sizes.
    unsafe { bpf(BpfCmd::PROG_TEST_RUN, &mut attr) }?;
    Ok(TestRunOutput {
        retval: attr.retval,
        duration: attr.duration,
        data_size_out: attr.data_size_out,
        ctx_size_out: attr.ctx_size_out,
    })
}

/// Buffers [`prog_query`] fills; all given slices share one capacity (the shortest).
#[derive(Debug, Default)]
pub struct ProgQueryBufs<'a> {
    /// Receives program ids.
    pub prog_ids: Option<&'a mut [u32]>,
    /// Receives per-program attach flags.
    pub prog_attach_flags: Option<&'a mut [u32]>,
    /// Receives link ids (mprog hooks; 0 for programs attached without a link).
    pub link_ids: Option<&'a mut [u32]>,
    /// Receives per-link attach flags.
    pub link_attach_flags: Option<&'a mut [u32]>,
}

/// Output of [`prog_query`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgQueryOutput {
    /// Attach flags of the hook.
    pub attach_flags: u32,
    /// Number of programs attached (may exceed the buffers; then `ENOSPC`).
    pub prog_cnt: u32,
    /// mprog revision.
    pub revision: u64,
}

/// `BPF_PROG_QUERY`: lists the programs attached to `target` at `attach_type`.
pub fn prog_query(
    target: AttachTarget<'_>,
    attach_type: AttachType,
    query_flags: u32,
    bufs: ProgQueryBufs<'_>,
) -> Result<ProgQueryOutput, Errno> {
    let arrays = [
        bufs.prog_ids,
        bufs.prog_attach_flags,
        bufs.link_ids,
        bufs.link_attach_flags,
    ];
    let cap = arrays.iter().flatten().map(|b| b.len()).min().unwrap_or(0);
    let cap = u32::try_from(cap).unwrap_or(u32::MAX);
    let [prog_ids, prog_attach_flags, link_ids, link_attach_flags] = arrays.map(|b| match b {
        Some(b) if cap > 0 => ptr_mut(b),
        _ => 0,
    });
    let mut attr = ProgQueryAttr {
        target_fd: target.raw_value(),
        attach_type: attach_type.0,
        query_flags,
        prog_ids,
        prog_cnt: cap,
        prog_attach_flags,
        link_ids,
        link_attach_flags,
        ..Default::default()
    };
    // SAFETY: every array pointer is NULL or an exclusive slice of at least `prog_cnt`
    // `u32`s; the kernel writes at most `prog_cnt` entries to each.
    unsafe { bpf(BpfCmd::PROG_QUERY, &mut attr) }?;
    Ok(ProgQueryOutput {
        attach_flags: attr.attach_flags,
        prog_cnt: attr.prog_cnt,
        revision: attr.revision,
    })
}

/// `BPF_PROG_BIND_MAP`: keeps `map` alive as long as `prog`, as if the program used it.
pub fn prog_bind_map(prog: BorrowedFd<'_>, map: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut attr = ProgBindMapAttr {
        prog_fd: raw(prog),
        map_fd: raw(map),
        flags: 0,
    };
    // SAFETY: PROG_BIND_MAP has no pointers.
    unsafe { bpf(BpfCmd::PROG_BIND_MAP, &mut attr) }.map(drop)
}

/// `BPF_PROG_STREAM_READ_BY_FD`: reads (and consumes) up to `buf.len()` bytes of the
/// program's stdout/stderr stream; returns the number of bytes read.
pub fn prog_stream_read_by_fd(
    prog: BorrowedFd<'_>,
    stream: StreamId,
    buf: &mut [u8],
) -> Result<usize, Errno> {
    let mut attr = ProgStreamReadAttr {
        stream_buf: ptr_mut(buf),
        stream_buf_len: u32::try_from(buf.len()).unwrap_or(u32::MAX),
        stream_id: stream.0,
        prog_fd: raw(prog),
        _pad: 0,
    };
    // SAFETY: the kernel writes at most `stream_buf_len` bytes into the exclusive `buf`.
    let n = unsafe { bpf(BpfCmd::PROG_STREAM_READ_BY_FD, &mut attr) }?;
    Ok(n as usize)
}

#[cfg(test)]
mod fd_array_tests {
    use super::*;

    fn insn(code: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            regs: (src << 4) | 1,
            off,
            imm,
        }
    }

    /// `r1 = map_by_idx(idx)` (both halves), then `exit`.
    fn map_idx_prog(src: u8, idx: i32) -> Vec<Insn> {
        vec![
            insn(LD_IMM64, src, 0, idx),
            Insn::default(),
            insn(0xb7, 0, 0, 0), // r0 = 0
            insn(0x95, 0, 0, 0), // exit
        ]
    }

    #[test]
    fn indices_past_the_array_are_refused_before_the_syscall() {
        for src in [PSEUDO_MAP_IDX, PSEUDO_MAP_IDX_VALUE] {
            assert_eq!(check_fd_array(&map_idx_prog(src, 0), 1), Ok(()));
            assert_eq!(check_fd_array(&map_idx_prog(src, 1), 2), Ok(()));
            assert_eq!(check_fd_array(&map_idx_prog(src, 1), 1), Err(Errno::EINVAL));
            assert_eq!(check_fd_array(&map_idx_prog(src, 0), 0), Err(Errno::EINVAL));
            // A negative index would make the kernel read before the array.
            assert_eq!(
                check_fd_array(&map_idx_prog(src, -1), 8),
                Err(Errno::EINVAL)
            );
        }
        // Other ld_imm64 kinds (map by fd: src 1) do not index fd_array.
        assert_eq!(check_fd_array(&map_idx_prog(1, 77), 0), Ok(()));

        // kfunc calls: off > 0 indexes fd_array, off 0 is vmlinux, negative is refused by the
        // kernel itself.
        let kfunc = |off| {
            [
                insn(JMP_CALL, PSEUDO_KFUNC_CALL, off, 1234),
                insn(0x95, 0, 0, 0),
            ]
        };
        assert_eq!(check_fd_array(&kfunc(0), 0), Ok(()));
        assert_eq!(check_fd_array(&kfunc(-3), 0), Ok(()));
        assert_eq!(check_fd_array(&kfunc(2), 3), Ok(()));
        assert_eq!(check_fd_array(&kfunc(3), 3), Err(Errno::EINVAL));
        assert_eq!(check_fd_array(&kfunc(i16::MAX), 1), Err(Errno::EINVAL));
        // A helper call (src 0) with an offset does not index fd_array.
        assert_eq!(check_fd_array(&[insn(JMP_CALL, 0, 5, 1)], 0), Ok(()));

        // prog_load refuses before any syscall, so this needs no privilege.
        let fds = [-1i32; 2];
        let insns = map_idx_prog(PSEUDO_MAP_IDX, 2);
        let mut args = ProgLoadArgs {
            prog_type: ProgType::SOCKET_FILTER,
            insns: &insns,
            license: c"GPL",
            fd_array: &fds,
            ..Default::default()
        };
        assert_eq!(prog_load(&mut args).unwrap_err(), Errno::EINVAL);
        let insns = [insn(JMP_CALL, PSEUDO_KFUNC_CALL, 1, 1), insn(0x95, 0, 0, 0)];
        args.insns = &insns;
        args.fd_array = &[];
        assert_eq!(prog_load(&mut args).unwrap_err(), Errno::EINVAL);
    }
}
