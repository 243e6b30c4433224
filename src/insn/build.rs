//! Builders: write eBPF programs in Rust, one constructor per instruction form.

use super::opcode as c;
use super::{
    AluOp, AtomicOp, Insn, JmpOp, PSEUDO_CALL, PSEUDO_FUNC, PSEUDO_KFUNC_CALL, PSEUDO_MAP_FD,
    PSEUDO_MAP_IDX, PSEUDO_MAP_IDX_VALUE, PSEUDO_MAP_VALUE, Reg, Size,
};

const fn r(reg: Reg) -> u8 {
    reg.index()
}

impl Insn {
    const fn alu(class: u8, op: AluOp, source: u8, dst: Reg, src: u8, imm: i32) -> Insn {
        let (bits, off) = op.encoding();
        Insn::new(class | bits | source, r(dst), src, off, imm)
    }

    /// `dst = imm` (64-bit, `imm` sign-extended).
    pub const fn mov64_imm(dst: Reg, imm: i32) -> Insn {
        Insn::alu64_imm(AluOp::Mov, dst, imm)
    }

    /// `dst = src` (64-bit).
    pub const fn mov64_reg(dst: Reg, src: Reg) -> Insn {
        Insn::alu64_reg(AluOp::Mov, dst, src)
    }

    /// `wdst = imm` (32-bit, upper half zeroed).
    pub const fn mov32_imm(dst: Reg, imm: i32) -> Insn {
        Insn::alu32_imm(AluOp::Mov, dst, imm)
    }

    /// `wdst = wsrc` (32-bit, upper half zeroed).
    pub const fn mov32_reg(dst: Reg, src: Reg) -> Insn {
        Insn::alu32_reg(AluOp::Mov, dst, src)
    }

    /// `dst = (s<bits>)src`, 64-bit sign-extending move; `bits` is 8, 16 or 32.
    pub const fn movsx64_reg(dst: Reg, src: Reg, bits: i16) -> Insn {
        Insn::new(c::ALU64 | c::MOV | c::X, r(dst), r(src), bits, 0)
    }

    /// `wdst = (s<bits>)wsrc`, 32-bit sign-extending move; `bits` is 8 or 16.
    pub const fn movsx32_reg(dst: Reg, src: Reg, bits: i16) -> Insn {
        Insn::new(c::ALU | c::MOV | c::X, r(dst), r(src), bits, 0)
    }

    /// `dst op= imm` (64-bit).
    pub const fn alu64_imm(op: AluOp, dst: Reg, imm: i32) -> Insn {
        Insn::alu(c::ALU64, op, c::K, dst, 0, imm)
    }

    /// `dst op= src` (64-bit).
    pub const fn alu64_reg(op: AluOp, dst: Reg, src: Reg) -> Insn {
        Insn::alu(c::ALU64, op, c::X, dst, r(src), 0)
    }

    /// `wdst op= imm` (32-bit).
    pub const fn alu32_imm(op: AluOp, dst: Reg, imm: i32) -> Insn {
        Insn::alu(c::ALU, op, c::K, dst, 0, imm)
    }

    /// `wdst op= wsrc` (32-bit).
    pub const fn alu32_reg(op: AluOp, dst: Reg, src: Reg) -> Insn {
        Insn::alu(c::ALU, op, c::X, dst, r(src), 0)
    }

    /// `dst = -dst` (64-bit).
    pub const fn neg64(dst: Reg) -> Insn {
        Insn::new(c::ALU64 | c::NEG, r(dst), 0, 0, 0)
    }

    /// `wdst = -wdst` (32-bit).
    pub const fn neg32(dst: Reg) -> Insn {
        Insn::new(c::ALU | c::NEG, r(dst), 0, 0, 0)
    }

    /// `dst = be<bits> dst` (to big endian; `bits` 16, 32 or 64).
    pub const fn to_be(dst: Reg, bits: i32) -> Insn {
        Insn::new(c::ALU | c::END | c::TO_BE, r(dst), 0, 0, bits)
    }

    /// `dst = le<bits> dst` (to little endian; `bits` 16, 32 or 64).
    pub const fn to_le(dst: Reg, bits: i32) -> Insn {
        Insn::new(c::ALU | c::END | c::TO_LE, r(dst), 0, 0, bits)
    }

    /// `dst = bswap<bits> dst` (unconditional byte swap, since Linux 6.6).
    pub const fn bswap(dst: Reg, bits: i32) -> Insn {
        Insn::new(c::ALU64 | c::END, r(dst), 0, 0, bits)
    }

    /// `dst = imm` for a full 64-bit constant (the 16-byte `ld_imm64`).
    pub const fn ld_imm64(dst: Reg, imm: u64) -> [Insn; 2] {
        Insn::ld_imm64_pseudo(dst, 0, imm as u32 as i32, (imm >> 32) as u32 as i32)
    }

    /// An `ld_imm64` pair with `src_reg = pseudo` and the two raw immediates.
    pub const fn ld_imm64_pseudo(dst: Reg, pseudo: u8, imm_lo: i32, imm_hi: i32) -> [Insn; 2] {
        [
            Insn::new(c::LD | c::IMM | c::DW, r(dst), pseudo, 0, imm_lo),
            Insn::new(0, 0, 0, 0, imm_hi),
        ]
    }

    /// `dst = map[fd]`: load a map pointer by fd (`BPF_PSEUDO_MAP_FD`).
    pub const fn ld_map_fd(dst: Reg, fd: i32) -> [Insn; 2] {
        Insn::ld_imm64_pseudo(dst, PSEUDO_MAP_FD, fd, 0)
    }

    /// `dst = &map[fd].value[off]`: address in a map's value (`BPF_PSEUDO_MAP_VALUE`; used for
    /// global data in array maps).
    pub const fn ld_map_value(dst: Reg, fd: i32, off: i32) -> [Insn; 2] {
        Insn::ld_imm64_pseudo(dst, PSEUDO_MAP_VALUE, fd, off)
    }

    /// `dst = map[idx]`: map by index into `fd_array` (`BPF_PSEUDO_MAP_IDX`).
    pub const fn ld_map_idx(dst: Reg, idx: i32) -> [Insn; 2] {
        Insn::ld_imm64_pseudo(dst, PSEUDO_MAP_IDX, idx, 0)
    }

    /// `dst = &map[idx].value[off]` (`BPF_PSEUDO_MAP_IDX_VALUE`).
    pub const fn ld_map_idx_value(dst: Reg, idx: i32, off: i32) -> [Insn; 2] {
        Insn::ld_imm64_pseudo(dst, PSEUDO_MAP_IDX_VALUE, idx, off)
    }

    /// `dst = &func` for the function at `pc + 1 + rel` (`BPF_PSEUDO_FUNC`, callbacks).
    pub const fn ld_func(dst: Reg, rel: i32) -> [Insn; 2] {
        Insn::ld_imm64_pseudo(dst, PSEUDO_FUNC, rel, 0)
    }

    /// `dst = *(size *)(src + off)`.
    pub const fn ldx_mem(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(c::LDX | c::MEM | size.code(), r(dst), r(src), off, 0)
    }

    /// `dst = *(s<size> *)(src + off)`, sign-extending (since Linux 6.6; not `DW`).
    pub const fn ldx_memsx(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(c::LDX | c::MEMSX | size.code(), r(dst), r(src), off, 0)
    }

    /// `*(size *)(dst + off) = src`.
    pub const fn stx_mem(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(c::STX | c::MEM | size.code(), r(dst), r(src), off, 0)
    }

    /// `*(size *)(dst + off) = imm`.
    pub const fn st_mem(size: Size, dst: Reg, off: i16, imm: i32) -> Insn {
        Insn::new(c::ST | c::MEM | size.code(), r(dst), 0, off, imm)
    }

    /// Atomic `op` on `*(size *)(dst + off)` with `src` (`size` is W or DW).
    pub const fn atomic(size: Size, op: AtomicOp, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(
            c::STX | c::ATOMIC | size.code(),
            r(dst),
            r(src),
            off,
            op.imm(),
        )
    }

    /// `lock *(size *)(dst + off) += src`.
    pub const fn atomic_add(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::atomic(size, AtomicOp::Add { fetch: false }, dst, src, off)
    }

    /// `src = atomic_fetch_add((size *)(dst + off), src)`.
    pub const fn atomic_fetch_add(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::atomic(size, AtomicOp::Add { fetch: true }, dst, src, off)
    }

    /// `src = atomic_xchg((size *)(dst + off), src)`.
    pub const fn atomic_xchg(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::atomic(size, AtomicOp::Xchg, dst, src, off)
    }

    /// `r0 = atomic_cmpxchg((size *)(dst + off), r0, src)`.
    pub const fn atomic_cmpxchg(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::atomic(size, AtomicOp::CmpXchg, dst, src, off)
    }

    /// `dst = load_acquire((size *)(src + off))` (since Linux 6.15).
    pub const fn load_acquire(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(
            c::STX | c::ATOMIC | size.code(),
            r(dst),
            r(src),
            off,
            c::LOAD_ACQ,
        )
    }

    /// `store_release((size *)(dst + off), src)` (since Linux 6.15).
    pub const fn store_release(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(
            c::STX | c::ATOMIC | size.code(),
            r(dst),
            r(src),
            off,
            c::STORE_REL,
        )
    }

    /// `if dst op imm goto pc+off` (64-bit compare).
    pub const fn jmp_imm(op: JmpOp, dst: Reg, imm: i32, off: i16) -> Insn {
        Insn::new(c::JMP | op.code() | c::K, r(dst), 0, off, imm)
    }

    /// `if dst op src goto pc+off` (64-bit compare).
    pub const fn jmp_reg(op: JmpOp, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(c::JMP | op.code() | c::X, r(dst), r(src), off, 0)
    }

    /// `if wdst op imm goto pc+off` (32-bit compare).
    pub const fn jmp32_imm(op: JmpOp, dst: Reg, imm: i32, off: i16) -> Insn {
        Insn::new(c::JMP32 | op.code() | c::K, r(dst), 0, off, imm)
    }

    /// `if wdst op wsrc goto pc+off` (32-bit compare).
    pub const fn jmp32_reg(op: JmpOp, dst: Reg, src: Reg, off: i16) -> Insn {
        Insn::new(c::JMP32 | op.code() | c::X, r(dst), r(src), off, 0)
    }

    /// `goto pc+off`.
    pub const fn ja(off: i16) -> Insn {
        Insn::new(c::JMP | c::JA, 0, 0, off, 0)
    }

    /// `gotol pc+off` (32-bit offset in `imm`, since Linux 6.6).
    pub const fn gotol(off: i32) -> Insn {
        Insn::new(c::JMP32 | c::JA, 0, 0, 0, off)
    }

    /// `may_goto pc+off` (since Linux 6.9).
    pub const fn may_goto(off: i16) -> Insn {
        Insn::new(c::JMP | c::JCOND, 0, c::MAY_GOTO, off, 0)
    }

    /// `call` of helper `id` (`enum bpf_func_id`, see [`helper_id`](super::helper_id)).
    pub const fn call_helper(id: i32) -> Insn {
        Insn::new(c::JMP | c::CALL, 0, 0, 0, id)
    }

    /// bpf-to-bpf `call pc+rel` (`BPF_PSEUDO_CALL`): target is `pc + 1 + rel`.
    pub const fn call_pseudo(rel: i32) -> Insn {
        Insn::new(c::JMP | c::CALL, 0, PSEUDO_CALL, 0, rel)
    }

    /// Call of the kernel function with vmlinux BTF id `btf_id` (`BPF_PSEUDO_KFUNC_CALL`).
    pub const fn kfunc_call(btf_id: i32) -> Insn {
        Insn::kfunc_call_module(btf_id, 0)
    }

    /// Call of a module kernel function: `module` is the `fd_array` index of its BTF.
    pub const fn kfunc_call_module(btf_id: i32, module: i16) -> Insn {
        Insn::new(c::JMP | c::CALL, 0, PSEUDO_KFUNC_CALL, module, btf_id)
    }

    /// `exit`: return `r0`.
    pub const fn exit() -> Insn {
        Insn::new(c::JMP | c::EXIT, 0, 0, 0, 0)
    }
}
