//! The decoded view of an instruction: [`Op`].

use super::opcode as c;
use super::{
    AluOp, AtomicOp, CallKind, Insn, InsnError, JmpOp, Operand, PSEUDO_CALL, PSEUDO_KFUNC_CALL,
    Size,
};

/// The decoded form of an instruction, covering every class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// ALU/ALU64 two-operand arithmetic `dst op= src`.
    Alu {
        /// `BPF_ALU64` (`r`) rather than `BPF_ALU` (`w`).
        wide: bool,
        /// The operation.
        op: AluOp,
        /// Destination register.
        dst: u8,
        /// Second operand.
        src: Operand,
    },
    /// `BPF_NEG`: `dst = -dst`.
    Neg {
        /// 64-bit.
        wide: bool,
        /// Register.
        dst: u8,
    },
    /// `MOVSX`: `dst = (s<bits>)src` (since Linux 6.6).
    MovSx {
        /// 64-bit.
        wide: bool,
        /// Destination register.
        dst: u8,
        /// Source register.
        src: u8,
        /// Width sign-extended from: 8, 16 or 32.
        bits: u8,
    },
    /// `BPF_END`: byte swap of the low `bits` of `dst`.
    Endian {
        /// `Some(true)` = to big endian (`be`), `Some(false)` = to little endian (`le`),
        /// `None` = unconditional `bswap` (class `BPF_ALU64`).
        to_be: Option<bool>,
        /// Register.
        dst: u8,
        /// 16, 32 or 64.
        bits: i32,
    },
    /// `addr_space_cast` (arena pointers, since Linux 6.9).
    AddrSpaceCast {
        /// Destination register.
        dst: u8,
        /// Source register.
        src: u8,
        /// Source address space (`imm >> 16`).
        from: u16,
        /// Destination address space (`imm & 0xffff`).
        to: u16,
    },
    /// `ld_imm64` (two instructions): `dst = imm`, with `pseudo` the `src_reg` kind
    /// ([`PSEUDO_MAP_FD`](super::PSEUDO_MAP_FD), …). From [`Insn::op`] only the low 32 bits are
    /// known; [`Op::decode`] combines both halves.
    LdImm64 {
        /// Destination register.
        dst: u8,
        /// `src_reg`: 0 for a plain constant, else a `BPF_PSEUDO_*` kind.
        pseudo: u8,
        /// The 64-bit immediate.
        imm: u64,
    },
    /// Legacy `BPF_LD | BPF_ABS`: `r0 = *(size *)skb[imm]`.
    LdAbs {
        /// Access size.
        size: Size,
        /// Packet offset.
        imm: i32,
    },
    /// Legacy `BPF_LD | BPF_IND`: `r0 = *(size *)skb[src + imm]`.
    LdInd {
        /// Access size.
        size: Size,
        /// Offset register.
        src: u8,
        /// Offset.
        imm: i32,
    },
    /// `BPF_LDX`: `dst = *(size *)(src + off)`, sign-extending for `BPF_MEMSX`.
    Load {
        /// Access size.
        size: Size,
        /// `BPF_MEMSX`.
        signed: bool,
        /// Destination register.
        dst: u8,
        /// Base register.
        src: u8,
        /// Offset.
        off: i16,
    },
    /// `BPF_ST`/`BPF_STX` `BPF_MEM`: `*(size *)(dst + off) = src`.
    Store {
        /// Access size.
        size: Size,
        /// Base register.
        dst: u8,
        /// Offset.
        off: i16,
        /// Stored register (`STX`) or immediate (`ST`).
        src: Operand,
    },
    /// `BPF_STX | BPF_ATOMIC` on `*(size *)(dst + off)` with `src`.
    Atomic {
        /// Access size (W or DW).
        size: Size,
        /// The operation.
        op: AtomicOp,
        /// Base register.
        dst: u8,
        /// Operand register.
        src: u8,
        /// Offset.
        off: i16,
    },
    /// `BPF_ST | BPF_NOSPEC` (kernel-internal speculation barrier).
    Nospec,
    /// `goto pc+off` (`BPF_JMP | BPF_JA`) or `gotol pc+imm` (`BPF_JMP32 | BPF_JA`).
    Ja {
        /// Relative target.
        off: i32,
        /// `gotol` (32-bit target in `imm`).
        long: bool,
    },
    /// Conditional jump `if dst op src goto pc+off`.
    Jump {
        /// `BPF_JMP` (`r`) rather than `BPF_JMP32` (`w`).
        wide: bool,
        /// The comparison.
        op: JmpOp,
        /// Left operand.
        dst: u8,
        /// Right operand.
        src: Operand,
        /// Relative target.
        off: i16,
    },
    /// `may_goto pc+off` (`BPF_JMP | BPF_JCOND`, since Linux 6.9).
    MayGoto {
        /// Relative target.
        off: i16,
    },
    /// `call`.
    Call(CallKind),
    /// `exit`.
    Exit,
    /// An encoding this module does not know.
    Unknown,
}

impl Op {
    /// Decodes the instruction at the start of `insns`, returning the operation and how many
    /// instructions it spans (2 for `ld_imm64`, else 1).
    ///
    /// # Errors
    /// [`InsnError::TruncatedLdImm64`] (with `index` 0) if `insns` holds only the first half
    /// of an `ld_imm64`. An empty slice is reported the same way.
    pub fn decode(insns: &[Insn]) -> Result<(Op, usize), InsnError> {
        let first = insns
            .first()
            .ok_or(InsnError::TruncatedLdImm64 { index: 0 })?;
        if first.is_ld_imm64() {
            let next = insns
                .get(1)
                .ok_or(InsnError::TruncatedLdImm64 { index: 0 })?;
            Ok((Op::of(first, Some(next)), 2))
        } else {
            Ok((Op::of(first, None), 1))
        }
    }

    pub(super) fn of(i: &Insn, next: Option<&Insn>) -> Op {
        let (dst, src, off, imm) = (i.dst(), i.src(), i.off, i.imm);
        let operand = || {
            if c::src(i.code) == c::X {
                Operand::Reg(src)
            } else {
                Operand::Imm(imm)
            }
        };
        let size = Size::from_code(i.code);
        match i.class() {
            cls @ (c::ALU | c::ALU64) => {
                let wide = cls == c::ALU64;
                match c::op(i.code) {
                    c::END => Op::Endian {
                        to_be: if wide {
                            None
                        } else {
                            Some(c::src(i.code) == c::TO_BE)
                        },
                        dst,
                        bits: imm,
                    },
                    c::NEG => Op::Neg { wide, dst },
                    c::MOV if wide && c::src(i.code) == c::X && off == c::ADDR_SPACE_CAST => {
                        Op::AddrSpaceCast {
                            dst,
                            src,
                            from: (imm as u32 >> 16) as u16,
                            to: imm as u16,
                        }
                    }
                    c::MOV if c::src(i.code) == c::X && matches!(off, 8 | 16 | 32) => Op::MovSx {
                        wide,
                        dst,
                        src,
                        bits: off as u8,
                    },
                    op => match AluOp::decode(op, off) {
                        Some(op) => Op::Alu {
                            wide,
                            op,
                            dst,
                            src: operand(),
                        },
                        None => Op::Unknown,
                    },
                }
            }
            c::LD => match c::mode(i.code) {
                c::ABS => Op::LdAbs { size, imm },
                c::IND => Op::LdInd { size, src, imm },
                c::IMM if size == Size::DW => Op::LdImm64 {
                    dst,
                    pseudo: src,
                    imm: match next {
                        Some(n) => i.imm64(n),
                        None => imm as u32 as u64,
                    },
                },
                _ => Op::Unknown,
            },
            c::LDX => match c::mode(i.code) {
                c::MEM => Op::Load {
                    size,
                    signed: false,
                    dst,
                    src,
                    off,
                },
                c::MEMSX if size != Size::DW => Op::Load {
                    size,
                    signed: true,
                    dst,
                    src,
                    off,
                },
                _ => Op::Unknown,
            },
            c::ST => match c::mode(i.code) {
                c::MEM => Op::Store {
                    size,
                    dst,
                    off,
                    src: Operand::Imm(imm),
                },
                c::NOSPEC => Op::Nospec,
                _ => Op::Unknown,
            },
            c::STX => match c::mode(i.code) {
                c::MEM => Op::Store {
                    size,
                    dst,
                    off,
                    src: Operand::Reg(src),
                },
                c::ATOMIC => match AtomicOp::from_imm(imm) {
                    Some(op) => Op::Atomic {
                        size,
                        op,
                        dst,
                        src,
                        off,
                    },
                    None => Op::Unknown,
                },
                _ => Op::Unknown,
            },
            cls => {
                let wide = cls == c::JMP;
                match c::op(i.code) {
                    c::JA if i.code == c::JMP | c::JA => Op::Ja {
                        off: off.into(),
                        long: false,
                    },
                    c::JA if i.code == c::JMP32 | c::JA => Op::Ja {
                        off: imm,
                        long: true,
                    },
                    c::CALL if i.code == c::JMP | c::CALL => Op::Call(match src {
                        0 => CallKind::Helper(imm),
                        PSEUDO_CALL => CallKind::Pseudo(imm),
                        PSEUDO_KFUNC_CALL => CallKind::Kfunc {
                            btf_id: imm,
                            module: off,
                        },
                        _ => CallKind::Unknown { src, imm },
                    }),
                    c::EXIT if i.code == c::JMP | c::EXIT => Op::Exit,
                    c::JCOND if i.code == c::JMP | c::JCOND && src == c::MAY_GOTO => {
                        Op::MayGoto { off }
                    }
                    op => match JmpOp::decode(op) {
                        Some(op) => Op::Jump {
                            wide,
                            op,
                            dst,
                            src: operand(),
                            off,
                        },
                        None => Op::Unknown,
                    },
                }
            }
        }
    }
}
