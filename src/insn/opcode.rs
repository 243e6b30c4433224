//! Opcode bits of the 8-bit `code` field, with their uapi names (`linux/bpf_common.h`,
//! `linux/bpf.h`).
//!
//! `code` is `class | size | mode` for loads and stores, and `class | op | source` for ALU and
//! jump instructions.

/// Mask of the instruction class (`BPF_CLASS`).
pub const CLASS_MASK: u8 = 0x07;
/// Mask of the access size (`BPF_SIZE`).
pub const SIZE_MASK: u8 = 0x18;
/// Mask of the load/store mode (`BPF_MODE`).
pub const MODE_MASK: u8 = 0xe0;
/// Mask of the ALU or jump operation (`BPF_OP`).
pub const OP_MASK: u8 = 0xf0;
/// Mask of the operand source (`BPF_SRC`).
pub const SRC_MASK: u8 = 0x08;

// Classes.
/// `BPF_LD`: non-standard loads (`ld_imm64`, legacy packet access).
pub const LD: u8 = 0x00;
/// `BPF_LDX`: load from memory into a register.
pub const LDX: u8 = 0x01;
/// `BPF_ST`: store an immediate to memory.
pub const ST: u8 = 0x02;
/// `BPF_STX`: store a register to memory, and atomics.
pub const STX: u8 = 0x03;
/// `BPF_ALU`: 32-bit arithmetic.
pub const ALU: u8 = 0x04;
/// `BPF_JMP`: 64-bit jumps, calls and exit.
pub const JMP: u8 = 0x05;
/// `BPF_JMP32`: 32-bit compare-and-jump (and `gotol`).
pub const JMP32: u8 = 0x06;
/// `BPF_ALU64`: 64-bit arithmetic.
pub const ALU64: u8 = 0x07;

// Sizes.
/// `BPF_W`: 4 bytes.
pub const W: u8 = 0x00;
/// `BPF_H`: 2 bytes.
pub const H: u8 = 0x08;
/// `BPF_B`: 1 byte.
pub const B: u8 = 0x10;
/// `BPF_DW`: 8 bytes.
pub const DW: u8 = 0x18;

// Modes.
/// `BPF_IMM`: immediate (only `BPF_LD | BPF_DW`, the 16-byte `ld_imm64`).
pub const IMM: u8 = 0x00;
/// `BPF_ABS`: legacy packet load at an absolute offset.
pub const ABS: u8 = 0x20;
/// `BPF_IND`: legacy packet load at a register-relative offset.
pub const IND: u8 = 0x40;
/// `BPF_MEM`: regular memory access.
pub const MEM: u8 = 0x60;
/// `BPF_MEMSX`: sign-extending load (since Linux 6.6).
pub const MEMSX: u8 = 0x80;
/// `BPF_ATOMIC`: atomic operation; the operation is in `imm`.
pub const ATOMIC: u8 = 0xc0;
/// `BPF_NOSPEC` (kernel-internal, no uapi name): speculation barrier, `BPF_ST | BPF_NOSPEC`.
pub const NOSPEC: u8 = 0xc0;

// Sources.
/// `BPF_K`: the operand is `imm`.
pub const K: u8 = 0x00;
/// `BPF_X`: the operand is `src_reg`.
pub const X: u8 = 0x08;
/// `BPF_TO_LE`: byte swap to little endian (`BPF_END`, class `BPF_ALU`).
pub const TO_LE: u8 = 0x00;
/// `BPF_TO_BE`: byte swap to big endian (`BPF_END`, class `BPF_ALU`).
pub const TO_BE: u8 = 0x08;

// ALU operations.
/// `BPF_ADD`.
pub const ADD: u8 = 0x00;
/// `BPF_SUB`.
pub const SUB: u8 = 0x10;
/// `BPF_MUL`.
pub const MUL: u8 = 0x20;
/// `BPF_DIV` (signed when `off == 1`).
pub const DIV: u8 = 0x30;
/// `BPF_OR`.
pub const OR: u8 = 0x40;
/// `BPF_AND`.
pub const AND: u8 = 0x50;
/// `BPF_LSH`.
pub const LSH: u8 = 0x60;
/// `BPF_RSH`.
pub const RSH: u8 = 0x70;
/// `BPF_NEG`.
pub const NEG: u8 = 0x80;
/// `BPF_MOD` (signed when `off == 1`).
pub const MOD: u8 = 0x90;
/// `BPF_XOR`.
pub const XOR: u8 = 0xa0;
/// `BPF_MOV` (`MOVSX` when `off` is 8, 16 or 32).
pub const MOV: u8 = 0xb0;
/// `BPF_ARSH`: arithmetic right shift.
pub const ARSH: u8 = 0xc0;
/// `BPF_END`: byte swap; with class `BPF_ALU64` an unconditional `bswap` (since Linux 6.6).
pub const END: u8 = 0xd0;

/// `off` value selecting signed division/modulo (`BPF_SDIV`/`BPF_SMOD`, since Linux 6.6).
pub const OFF_SIGNED: i16 = 1;
/// `BPF_ADDR_SPACE_CAST`: `off` of `BPF_ALU64 | BPF_MOV | BPF_X` for an address-space cast.
pub const ADDR_SPACE_CAST: i16 = 1;

// Jump operations.
/// `BPF_JA`: unconditional jump (`gotol` with class `BPF_JMP32`, target in `imm`).
pub const JA: u8 = 0x00;
/// `BPF_JEQ`.
pub const JEQ: u8 = 0x10;
/// `BPF_JGT`.
pub const JGT: u8 = 0x20;
/// `BPF_JGE`.
pub const JGE: u8 = 0x30;
/// `BPF_JSET`.
pub const JSET: u8 = 0x40;
/// `BPF_JNE`.
pub const JNE: u8 = 0x50;
/// `BPF_JSGT`.
pub const JSGT: u8 = 0x60;
/// `BPF_JSGE`.
pub const JSGE: u8 = 0x70;
/// `BPF_CALL`.
pub const CALL: u8 = 0x80;
/// `BPF_EXIT`.
pub const EXIT: u8 = 0x90;
/// `BPF_JLT`.
pub const JLT: u8 = 0xa0;
/// `BPF_JLE`.
pub const JLE: u8 = 0xb0;
/// `BPF_JSLT`.
pub const JSLT: u8 = 0xc0;
/// `BPF_JSLE`.
pub const JSLE: u8 = 0xd0;
/// `BPF_JCOND`: pseudo jump; `src_reg == BPF_MAY_GOTO` is `may_goto` (since Linux 6.9).
pub const JCOND: u8 = 0xe0;
/// `BPF_MAY_GOTO`: `src_reg` of a `BPF_JCOND` jump.
pub const MAY_GOTO: u8 = 0;

// Atomic operations (in `imm` of `BPF_STX | BPF_ATOMIC`).
/// `BPF_FETCH`: the atomic returns the old value in `src_reg`.
pub const FETCH: i32 = 0x01;
/// `BPF_XCHG`: atomic exchange (`0xe0 | BPF_FETCH`).
pub const XCHG: i32 = 0xe0 | FETCH;
/// `BPF_CMPXCHG`: atomic compare-and-exchange with `r0` (`0xf0 | BPF_FETCH`).
pub const CMPXCHG: i32 = 0xf0 | FETCH;
/// `BPF_LOAD_ACQ`: load-acquire (since Linux 6.15).
pub const LOAD_ACQ: i32 = 0x100;
/// `BPF_STORE_REL`: store-release (since Linux 6.15).
pub const STORE_REL: i32 = 0x110;

/// `BPF_CLASS(code)`.
pub const fn class(code: u8) -> u8 {
    code & CLASS_MASK
}
/// `BPF_SIZE(code)`.
pub const fn size(code: u8) -> u8 {
    code & SIZE_MASK
}
/// `BPF_MODE(code)`.
pub const fn mode(code: u8) -> u8 {
    code & MODE_MASK
}
/// `BPF_OP(code)`.
pub const fn op(code: u8) -> u8 {
    code & OP_MASK
}
/// `BPF_SRC(code)`.
pub const fn src(code: u8) -> u8 {
    code & SRC_MASK
}
