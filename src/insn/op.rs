//! The decoded view of an instruction: [`Op`] and its operand enums.

use super::opcode as c;
use super::{Insn, InsnError, PSEUDO_CALL, PSEUDO_KFUNC_CALL};

/// Memory access size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Size {
    /// `BPF_B`: 1 byte.
    #[doc(alias = "BPF_B")]
    B,
    /// `BPF_H`: 2 bytes.
    #[doc(alias = "BPF_H")]
    H,
    /// `BPF_W`: 4 bytes.
    #[doc(alias = "BPF_W")]
    W,
    /// `BPF_DW`: 8 bytes.
    #[doc(alias = "BPF_DW")]
    DW,
}

impl Size {
    /// The size bits of the opcode.
    pub const fn code(self) -> u8 {
        match self {
            Size::B => c::B,
            Size::H => c::H,
            Size::W => c::W,
            Size::DW => c::DW,
        }
    }

    /// The size encoded in `code`.
    pub const fn from_code(code: u8) -> Size {
        match c::size(code) {
            c::B => Size::B,
            c::H => Size::H,
            c::W => Size::W,
            _ => Size::DW,
        }
    }

    /// Width in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// Width in bits.
    pub const fn bits(self) -> u32 {
        self.bytes() as u32 * 8
    }
}

/// An ALU operation (the `BPF_OP` bits, plus the `off`-selected signed forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `BPF_ADD`: `+=`.
    Add,
    /// `BPF_SUB`: `-=`.
    Sub,
    /// `BPF_MUL`: `*=`.
    Mul,
    /// `BPF_DIV` (unsigned): `/=`.
    Div,
    /// `BPF_DIV` with `off = 1` (signed, since Linux 6.6): `s/=`.
    SDiv,
    /// `BPF_OR`: `|=`.
    Or,
    /// `BPF_AND`: `&=`.
    And,
    /// `BPF_LSH`: `<<=`.
    Lsh,
    /// `BPF_RSH` (logical): `>>=`.
    Rsh,
    /// `BPF_MOD` (unsigned): `%=`.
    Mod,
    /// `BPF_MOD` with `off = 1` (signed, since Linux 6.6): `s%=`.
    SMod,
    /// `BPF_XOR`: `^=`.
    Xor,
    /// `BPF_MOV`: `=`.
    Mov,
    /// `BPF_ARSH` (arithmetic): `s>>=`.
    Arsh,
}

impl AluOp {
    /// The `BPF_OP` bits and the `off` value that encode this operation.
    pub const fn encoding(self) -> (u8, i16) {
        match self {
            AluOp::Add => (c::ADD, 0),
            AluOp::Sub => (c::SUB, 0),
            AluOp::Mul => (c::MUL, 0),
            AluOp::Div => (c::DIV, 0),
            AluOp::SDiv => (c::DIV, c::OFF_SIGNED),
            AluOp::Or => (c::OR, 0),
            AluOp::And => (c::AND, 0),
            AluOp::Lsh => (c::LSH, 0),
            AluOp::Rsh => (c::RSH, 0),
            AluOp::Mod => (c::MOD, 0),
            AluOp::SMod => (c::MOD, c::OFF_SIGNED),
            AluOp::Xor => (c::XOR, 0),
            AluOp::Mov => (c::MOV, 0),
            AluOp::Arsh => (c::ARSH, 0),
        }
    }

    /// The operator as the kernel disassembler prints it (`+=`, `s>>=`, …).
    pub const fn symbol(self) -> &'static str {
        match self {
            AluOp::Add => "+=",
            AluOp::Sub => "-=",
            AluOp::Mul => "*=",
            AluOp::Div => "/=",
            AluOp::SDiv => "s/=",
            AluOp::Or => "|=",
            AluOp::And => "&=",
            AluOp::Lsh => "<<=",
            AluOp::Rsh => ">>=",
            AluOp::Mod => "%=",
            AluOp::SMod => "s%=",
            AluOp::Xor => "^=",
            AluOp::Mov => "=",
            AluOp::Arsh => "s>>=",
        }
    }

    fn decode(op: u8, off: i16) -> Option<AluOp> {
        let signed = off == c::OFF_SIGNED;
        Some(match op {
            c::ADD => AluOp::Add,
            c::SUB => AluOp::Sub,
            c::MUL => AluOp::Mul,
            c::DIV if signed => AluOp::SDiv,
            c::DIV => AluOp::Div,
            c::OR => AluOp::Or,
            c::AND => AluOp::And,
            c::LSH => AluOp::Lsh,
            c::RSH => AluOp::Rsh,
            c::MOD if signed => AluOp::SMod,
            c::MOD => AluOp::Mod,
            c::XOR => AluOp::Xor,
            c::MOV => AluOp::Mov,
            c::ARSH => AluOp::Arsh,
            _ => return None,
        })
    }
}

/// A conditional jump comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JmpOp {
    /// `BPF_JEQ`: `==`.
    Eq,
    /// `BPF_JNE`: `!=`.
    Ne,
    /// `BPF_JGT`: `>` (unsigned).
    Gt,
    /// `BPF_JGE`: `>=` (unsigned).
    Ge,
    /// `BPF_JLT`: `<` (unsigned).
    Lt,
    /// `BPF_JLE`: `<=` (unsigned).
    Le,
    /// `BPF_JSGT`: `s>`.
    Sgt,
    /// `BPF_JSGE`: `s>=`.
    Sge,
    /// `BPF_JSLT`: `s<`.
    Slt,
    /// `BPF_JSLE`: `s<=`.
    Sle,
    /// `BPF_JSET`: `&` (jump if any bit is set).
    Set,
}

impl JmpOp {
    /// The `BPF_OP` bits.
    pub const fn code(self) -> u8 {
        match self {
            JmpOp::Eq => c::JEQ,
            JmpOp::Ne => c::JNE,
            JmpOp::Gt => c::JGT,
            JmpOp::Ge => c::JGE,
            JmpOp::Lt => c::JLT,
            JmpOp::Le => c::JLE,
            JmpOp::Sgt => c::JSGT,
            JmpOp::Sge => c::JSGE,
            JmpOp::Slt => c::JSLT,
            JmpOp::Sle => c::JSLE,
            JmpOp::Set => c::JSET,
        }
    }

    /// The comparison as the kernel disassembler prints it.
    pub const fn symbol(self) -> &'static str {
        match self {
            JmpOp::Eq => "==",
            JmpOp::Ne => "!=",
            JmpOp::Gt => ">",
            JmpOp::Ge => ">=",
            JmpOp::Lt => "<",
            JmpOp::Le => "<=",
            JmpOp::Sgt => "s>",
            JmpOp::Sge => "s>=",
            JmpOp::Slt => "s<",
            JmpOp::Sle => "s<=",
            JmpOp::Set => "&",
        }
    }

    fn decode(op: u8) -> Option<JmpOp> {
        Some(match op {
            c::JEQ => JmpOp::Eq,
            c::JNE => JmpOp::Ne,
            c::JGT => JmpOp::Gt,
            c::JGE => JmpOp::Ge,
            c::JLT => JmpOp::Lt,
            c::JLE => JmpOp::Le,
            c::JSGT => JmpOp::Sgt,
            c::JSGE => JmpOp::Sge,
            c::JSLT => JmpOp::Slt,
            c::JSLE => JmpOp::Sle,
            c::JSET => JmpOp::Set,
            _ => return None,
        })
    }
}

/// An atomic memory operation (`imm` of `BPF_STX | BPF_ATOMIC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// `BPF_ADD`, or `BPF_ADD | BPF_FETCH` when `fetch`.
    Add {
        /// Return the old value in `src_reg`.
        fetch: bool,
    },
    /// `BPF_OR` (`| BPF_FETCH`).
    Or {
        /// Return the old value in `src_reg`.
        fetch: bool,
    },
    /// `BPF_AND` (`| BPF_FETCH`).
    And {
        /// Return the old value in `src_reg`.
        fetch: bool,
    },
    /// `BPF_XOR` (`| BPF_FETCH`).
    Xor {
        /// Return the old value in `src_reg`.
        fetch: bool,
    },
    /// `BPF_XCHG`.
    Xchg,
    /// `BPF_CMPXCHG` (compares with and returns into `r0`).
    CmpXchg,
    /// `BPF_LOAD_ACQ` (since Linux 6.15).
    LoadAcquire,
    /// `BPF_STORE_REL` (since Linux 6.15).
    StoreRelease,
}

impl AtomicOp {
    /// The `imm` value encoding this operation.
    pub const fn imm(self) -> i32 {
        const fn f(fetch: bool) -> i32 {
            if fetch { c::FETCH } else { 0 }
        }
        match self {
            AtomicOp::Add { fetch } => c::ADD as i32 | f(fetch),
            AtomicOp::Or { fetch } => c::OR as i32 | f(fetch),
            AtomicOp::And { fetch } => c::AND as i32 | f(fetch),
            AtomicOp::Xor { fetch } => c::XOR as i32 | f(fetch),
            AtomicOp::Xchg => c::XCHG,
            AtomicOp::CmpXchg => c::CMPXCHG,
            AtomicOp::LoadAcquire => c::LOAD_ACQ,
            AtomicOp::StoreRelease => c::STORE_REL,
        }
    }

    /// Decodes an `imm` value.
    pub const fn from_imm(imm: i32) -> Option<AtomicOp> {
        let fetch = imm & c::FETCH != 0;
        Some(match imm {
            c::XCHG => AtomicOp::Xchg,
            c::CMPXCHG => AtomicOp::CmpXchg,
            c::LOAD_ACQ => AtomicOp::LoadAcquire,
            c::STORE_REL => AtomicOp::StoreRelease,
            0x00 | 0x01 => AtomicOp::Add { fetch },
            0x40 | 0x41 => AtomicOp::Or { fetch },
            0x50 | 0x51 => AtomicOp::And { fetch },
            0xa0 | 0xa1 => AtomicOp::Xor { fetch },
            _ => return None,
        })
    }
}

/// The second operand of an ALU op, store or jump.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operand {
    /// `BPF_K`: the immediate.
    Imm(i32),
    /// `BPF_X`: a source register number.
    Reg(u8),
}

/// What a `call` instruction calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// A helper function by id (`src_reg == 0`).
    Helper(i32),
    /// A bpf-to-bpf call, target at `pc + 1 + rel` (`BPF_PSEUDO_CALL`).
    Pseudo(i32),
    /// A kernel function by BTF id (`BPF_PSEUDO_KFUNC_CALL`); `off` selects the module BTF
    /// (index into `fd_array`, 0 for vmlinux).
    Kfunc {
        /// BTF id of the function.
        btf_id: i32,
        /// `fd_array` index of the module BTF, 0 for vmlinux.
        module: i16,
    },
    /// A call with an unknown `src_reg`.
    Unknown {
        /// `src_reg`.
        src: u8,
        /// `imm`.
        imm: i32,
    },
}

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
