//! Operand kinds of the decoded view: sizes, ALU/jump/atomic operations, call targets.

use super::opcode as c;

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

    pub(super) fn decode(op: u8, off: i16) -> Option<AluOp> {
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

    pub(super) fn decode(op: u8) -> Option<JmpOp> {
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
