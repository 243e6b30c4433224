//! Instructions: the 8-byte eBPF instruction, encode/decode, builder helpers, disassembly.
//!
//! [`Insn`] is the raw `struct bpf_insn` (defined in [`crate::sys`], re-exported here). This
//! module adds:
//! - the opcode bits ([`opcode`]) and pseudo source registers ([`PSEUDO_MAP_FD`], …);
//! - accessors ([`Insn::dst`], [`Insn::class`], [`Insn::is_ld_imm64`], …) and the byte codec
//!   ([`Insn::from_bytes`], [`Insn::to_bytes`], [`decode`], [`encode`]);
//! - a decoded view, [`Op`], of every instruction class;
//! - builders to write programs in Rust ([`Insn::mov64_imm`], [`Insn::ld_map_fd`], …);
//! - disassembly in the format of `bpftool prog dump xlated` ([`Display`](std::fmt::Display) for
//!   one instruction, [`disassemble`] / [`Disassembly`] for a program).
//!
//! ```
//! use rawbpf::insn::{Insn, Reg, disassemble};
//! let prog = [Insn::mov64_imm(Reg::R0, 2), Insn::exit()];
//! assert_eq!(disassemble(&prog), "   0: (b7) r0 = 2\n   1: (95) exit\n");
//! ```
//!
//! Nothing here touches the kernel: map references are plain integers (fds or indices).

mod build;
mod disasm;
mod helpers;
mod kinds;
mod op;
pub mod opcode;

pub use crate::sys::Insn;
pub use disasm::{Disassembly, disassemble};
pub use helpers::{HELPER_COUNT, helper_id, helper_name};
pub use kinds::{AluOp, AtomicOp, CallKind, JmpOp, Operand, Size};
pub use op::Op;

/// `BPF_PSEUDO_MAP_FD` (ld_imm64 `src_reg`): `imm` is a map fd.
pub const PSEUDO_MAP_FD: u8 = 1;
/// `BPF_PSEUDO_MAP_VALUE` (ld_imm64 `src_reg`): `imm` is a map fd, the second `imm` an offset
/// into its value.
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `BPF_PSEUDO_BTF_ID` (ld_imm64 `src_reg`): `imm` is a kernel BTF id of a variable.
pub const PSEUDO_BTF_ID: u8 = 3;
/// `BPF_PSEUDO_FUNC` (ld_imm64 `src_reg`): `imm` is a relative instruction offset of a
/// callback function.
pub const PSEUDO_FUNC: u8 = 4;
/// `BPF_PSEUDO_MAP_IDX` (ld_imm64 `src_reg`): `imm` is an index into `fd_array`.
pub const PSEUDO_MAP_IDX: u8 = 5;
/// `BPF_PSEUDO_MAP_IDX_VALUE` (ld_imm64 `src_reg`): like [`PSEUDO_MAP_VALUE`] with an
/// `fd_array` index.
pub const PSEUDO_MAP_IDX_VALUE: u8 = 6;
/// `BPF_PSEUDO_CALL` (call `src_reg`): bpf-to-bpf call, `imm` is the relative target.
pub const PSEUDO_CALL: u8 = 1;
/// `BPF_PSEUDO_KFUNC_CALL` (call `src_reg`): kernel function call, `imm` is its BTF id.
pub const PSEUDO_KFUNC_CALL: u8 = 2;

/// Size of one instruction in bytes.
pub const INSN_SIZE: usize = 8;

/// An eBPF register, `r0` to `r10`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    /// `r0`: return value of calls and of the program.
    pub const R0: Reg = Reg(0);
    /// `r1`: first argument (the context on entry).
    pub const R1: Reg = Reg(1);
    /// `r2`.
    pub const R2: Reg = Reg(2);
    /// `r3`.
    pub const R3: Reg = Reg(3);
    /// `r4`.
    pub const R4: Reg = Reg(4);
    /// `r5`: fifth argument.
    pub const R5: Reg = Reg(5);
    /// `r6`: callee-saved.
    pub const R6: Reg = Reg(6);
    /// `r7`: callee-saved.
    pub const R7: Reg = Reg(7);
    /// `r8`: callee-saved.
    pub const R8: Reg = Reg(8);
    /// `r9`: callee-saved.
    pub const R9: Reg = Reg(9);
    /// `r10`: read-only frame pointer.
    pub const R10: Reg = Reg(10);
    /// The frame pointer, `r10`.
    pub const FP: Reg = Reg(10);

    /// The register numbered `n`, if `n <= 10`.
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 { Some(Reg(n)) } else { None }
    }

    /// The register number, 0 to 10.
    pub const fn index(self) -> u8 {
        self.0
    }
}

impl From<Reg> for u8 {
    fn from(r: Reg) -> u8 {
        r.0
    }
}

/// Errors decoding instructions from bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InsnError {
    /// The byte length is not a multiple of 8.
    #[error(
        "instruction bytes have length {len}, not a multiple of 8: the section or buffer is truncated or not code"
    )]
    BadLength {
        /// The length that was given.
        len: usize,
    },
    /// An `ld_imm64` at `index` lacks its second half.
    #[error(
        "instruction {index} is the first half of a 16-byte ld_imm64 but the program ends after it"
    )]
    TruncatedLdImm64 {
        /// Index of the first half.
        index: usize,
    },
}

impl Insn {
    /// Builds an instruction from its fields; `dst` and `src` are masked to 4 bits.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            regs: (dst & 0x0f) | ((src & 0x0f) << 4),
            off,
            imm,
        }
    }

    /// Decodes one instruction from its 8 little-endian bytes.
    pub const fn from_bytes(b: [u8; 8]) -> Insn {
        Insn {
            code: b[0],
            regs: b[1],
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Encodes the instruction as its 8 little-endian bytes.
    pub const fn to_bytes(self) -> [u8; 8] {
        let o = self.off.to_le_bytes();
        let i = self.imm.to_le_bytes();
        [self.code, self.regs, o[0], o[1], i[0], i[1], i[2], i[3]]
    }

    /// Destination register number (`dst_reg`, 0..=15).
    pub const fn dst(&self) -> u8 {
        self.regs & 0x0f
    }

    /// Source register number (`src_reg`, 0..=15); the pseudo kind for ld_imm64 and calls.
    pub const fn src(&self) -> u8 {
        self.regs >> 4
    }

    /// Sets `dst_reg` (masked to 4 bits).
    pub fn set_dst(&mut self, dst: u8) {
        self.regs = (self.regs & 0xf0) | (dst & 0x0f);
    }

    /// Sets `src_reg` (masked to 4 bits).
    pub fn set_src(&mut self, src: u8) {
        self.regs = (self.regs & 0x0f) | ((src & 0x0f) << 4);
    }

    /// The class bits (`BPF_CLASS`), one of [`opcode::LD`] … [`opcode::ALU64`].
    pub const fn class(&self) -> u8 {
        opcode::class(self.code)
    }

    /// Whether this is the first half of a 16-byte `ld_imm64` (`BPF_LD | BPF_IMM | BPF_DW`).
    pub const fn is_ld_imm64(&self) -> bool {
        self.code == opcode::LD | opcode::IMM | opcode::DW
    }

    /// Whether this is a `call` of any kind (helper, bpf-to-bpf, kfunc).
    pub const fn is_call(&self) -> bool {
        self.code == opcode::JMP | opcode::CALL
    }

    /// Whether this is a call of a helper function (`src_reg == 0`).
    pub const fn is_helper_call(&self) -> bool {
        self.is_call() && self.src() == 0
    }

    /// Whether this is a bpf-to-bpf call (`src_reg == BPF_PSEUDO_CALL`).
    pub const fn is_pseudo_call(&self) -> bool {
        self.is_call() && self.src() == PSEUDO_CALL
    }

    /// Whether this is a kfunc call (`src_reg == BPF_PSEUDO_KFUNC_CALL`).
    pub const fn is_kfunc_call(&self) -> bool {
        self.is_call() && self.src() == PSEUDO_KFUNC_CALL
    }

    /// Whether this is `exit`.
    pub const fn is_exit(&self) -> bool {
        self.code == opcode::JMP | opcode::EXIT
    }

    /// Whether this is an ALU or ALU64 instruction.
    pub const fn is_alu(&self) -> bool {
        matches!(self.class(), opcode::ALU | opcode::ALU64)
    }

    /// Whether this is a jump whose target is `pc + 1 + off` (conditional jumps, `ja`,
    /// `may_goto`); not calls, `exit` or `gotol`.
    pub const fn is_jump_off(&self) -> bool {
        let class = self.class();
        if class != opcode::JMP && class != opcode::JMP32 {
            return false;
        }
        let op = opcode::op(self.code);
        if op == opcode::CALL || op == opcode::EXIT {
            return false;
        }
        !(class == opcode::JMP32 && op == opcode::JA)
    }

    /// Whether this `ld_imm64` loads a map fd or a map value address
    /// ([`PSEUDO_MAP_FD`] or [`PSEUDO_MAP_VALUE`]).
    pub const fn is_ld_map_fd(&self) -> bool {
        self.is_ld_imm64() && matches!(self.src(), PSEUDO_MAP_FD | PSEUDO_MAP_VALUE)
    }

    /// The 64-bit immediate of an `ld_imm64` pair: `self.imm` is the low half, `next.imm` the
    /// high half.
    pub const fn imm64(&self, next: &Insn) -> u64 {
        (self.imm as u32 as u64) | ((next.imm as u32 as u64) << 32)
    }

    /// The decoded operation of this single instruction; see [`Op::decode`] for the
    /// two-instruction `ld_imm64`.
    pub fn op(&self) -> Op {
        Op::of(self, None)
    }
}

impl std::fmt::Debug for Insn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Insn {{ code: {:#04x}, dst: {}, src: {}, off: {}, imm: {} }}",
            self.code,
            self.dst(),
            self.src(),
            self.off,
            self.imm
        )
    }
}

/// Decodes little-endian instruction bytes (e.g. an ELF code section).
///
/// # Errors
/// [`InsnError::BadLength`] if `bytes.len()` is not a multiple of 8.
pub fn decode(bytes: &[u8]) -> Result<Vec<Insn>, InsnError> {
    if bytes.len() % INSN_SIZE != 0 {
        return Err(InsnError::BadLength { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(INSN_SIZE)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            Insn::from_bytes(b)
        })
        .collect())
}

/// Encodes instructions to little-endian bytes (the inverse of [`decode`]).
pub fn encode(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

#[cfg(test)]
mod tests;
