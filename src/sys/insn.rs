//! `struct bpf_insn`, the raw 8-byte instruction the kernel takes.

/// One eBPF instruction exactly as uapi `struct bpf_insn` lays it out (8 bytes).
///
/// `regs` holds the destination register in its low nibble and the source register in its
/// high nibble (the little-endian bitfield order). Builders, decoding and disassembly live in
/// [`crate::insn`], which re-exports this type as `Insn`.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Insn {
    /// Opcode: class, size/source, mode/operation.
    pub code: u8,
    /// `dst_reg` (low 4 bits) and `src_reg` (high 4 bits).
    pub regs: u8,
    /// Signed offset (jumps, memory accesses).
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

const _: () = assert!(std::mem::size_of::<Insn>() == 8);
const _: () = assert!(std::mem::align_of::<Insn>() == 4);
