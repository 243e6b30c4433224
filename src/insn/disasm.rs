//! Disassembly in the format of `bpftool prog dump xlated` (the kernel's `print_bpf_insn`).
//!
//! One instruction's [`Display`](fmt::Display) is the text after the `(code)` column, e.g.
//! `r0 = 2`, `if r1 > 0x3 goto pc+2`, `call bpf_map_lookup_elem#1`. [`Disassembly`] prints a
//! whole program one line per instruction as bpftool does, `   0: (b7) r0 = 2`, showing each
//! 16-byte `ld_imm64` as one line (the next index is skipped).
//!
//! Objects hold map fds or `fd_array` indices where the kernel's xlated dump holds map ids, so
//! `ld_imm64` map references print as `map[fd:N]`, `map[fd:N][0]+OFF`, `map[idx:N]` and
//! `map[idx:N]+OFF`; [`Disassembly::map_ids`] prints `map[id:N]` for instructions read back
//! from the kernel. Calls of helpers print their uapi name; other call targets can be named
//! by a caller-supplied resolver ([`Disassembly::resolve_calls`]), e.g. from kallsyms.

use std::fmt::{self, Write};

use super::{
    AtomicOp, CallKind, Insn, Op, Operand, PSEUDO_FUNC, PSEUDO_MAP_FD, PSEUDO_MAP_IDX,
    PSEUDO_MAP_IDX_VALUE, PSEUDO_MAP_VALUE, Size, helper_name, opcode as c,
};

/// A resolver naming the target of a call instruction; `None` keeps the default text.
pub type CallResolver<'a> = &'a dyn Fn(&Insn) -> Option<String>;

/// Formatting options shared by single-instruction and program output.
#[derive(Clone, Copy, Default)]
struct Opts<'a> {
    map_ids: bool,
    call: Option<CallResolver<'a>>,
}

impl fmt::Display for Insn {
    /// The kernel disassembler's text for this instruction alone (an `ld_imm64` shows only
    /// its low 32 bits; use [`Disassembly`] for programs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_insn(f, self, None, &Opts::default())
    }
}

/// Disassembles a program, one line per instruction, as `bpftool prog dump xlated` prints it.
///
/// ```
/// use rawbpf::insn::{Insn, Reg, disassemble};
/// let [lo, hi] = Insn::ld_map_fd(Reg::R1, 7);
/// let text = disassemble(&[lo, hi, Insn::call_helper(1), Insn::exit()]);
/// assert_eq!(text, "   0: (18) r1 = map[fd:7]\n   2: (85) call bpf_map_lookup_elem#1\n   3: (95) exit\n");
/// ```
pub fn disassemble(insns: &[Insn]) -> String {
    Disassembly::new(insns).to_string()
}

/// A program listing with options; its [`Display`](fmt::Display) is the disassembly.
#[derive(Clone, Copy)]
pub struct Disassembly<'a> {
    insns: &'a [Insn],
    opts: Opts<'a>,
}

impl<'a> Disassembly<'a> {
    /// A listing of `insns` with default options.
    pub fn new(insns: &'a [Insn]) -> Self {
        Disassembly {
            insns,
            opts: Opts::default(),
        }
    }

    /// Print `ld_imm64` map references as map ids (`map[id:N]`), as in instructions read back
    /// from the kernel (`BPF_OBJ_GET_INFO_BY_FD` `xlated_prog_insns`).
    pub fn map_ids(mut self) -> Self {
        self.opts.map_ids = true;
        self
    }

    /// Name call targets with `resolver`. Like the kernel, it is consulted for every call
    /// except helper calls whose id is in the uapi table; returning `None` keeps the default
    /// (`pc+N` for bpf-to-bpf, `kernel-function` for kfuncs, `unknown` otherwise).
    pub fn resolve_calls(mut self, resolver: CallResolver<'a>) -> Self {
        self.opts.call = Some(resolver);
        self
    }
}

impl fmt::Display for Disassembly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut i = 0;
        while let Some(insn) = self.insns.get(i) {
            let next = if insn.is_ld_imm64() {
                self.insns.get(i + 1)
            } else {
                None
            };
            write!(f, "{i:4}: ")?;
            if !is_bug(insn) {
                write!(f, "({:02x}) ", insn.code)?;
            }
            if insn.is_ld_imm64() && next.is_none() {
                f.write_str("<truncated ld_imm64>")?;
            } else {
                write_insn(f, insn, next, &self.opts)?;
            }
            f.write_char('\n')?;
            i += if next.is_some() { 2 } else { 1 };
        }
        Ok(())
    }
}

impl fmt::Debug for Disassembly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn is_bug(insn: &Insn) -> bool {
    matches!(Op::of(insn, None), Op::Unknown)
}

fn ty(size: Size, signed: bool) -> &'static str {
    match (size, signed) {
        (Size::B, false) => "u8",
        (Size::H, false) => "u16",
        (Size::W, false) => "u32",
        (Size::DW, false) => "u64",
        (Size::B, true) => "s8",
        (Size::H, true) => "s16",
        (Size::W, true) => "s32",
        (Size::DW, true) => "s64",
    }
}

fn rc(wide: bool) -> char {
    if wide { 'r' } else { 'w' }
}

fn write_insn(f: &mut dyn Write, i: &Insn, next: Option<&Insn>, o: &Opts<'_>) -> fmt::Result {
    match Op::of(i, next) {
        Op::Alu { wide, op, dst, src } => {
            let r = rc(wide);
            match src {
                Operand::Reg(s) => write!(f, "{r}{dst} {} {r}{s}", op.symbol()),
                Operand::Imm(imm) => write!(f, "{r}{dst} {} {imm}", op.symbol()),
            }
        }
        Op::Neg { wide, dst } => write!(f, "{0}{dst} = -{0}{dst}", rc(wide)),
        Op::MovSx {
            wide,
            dst,
            src,
            bits,
        } => write!(f, "{0}{dst} = (s{bits}){0}{src}", rc(wide)),
        Op::Endian { to_be, dst, bits } => {
            let kind = match to_be {
                Some(true) => "be",
                Some(false) => "le",
                None => "bswap",
            };
            write!(f, "r{dst} = {kind}{bits} r{dst}")
        }
        Op::AddrSpaceCast { dst, src, from, to } => {
            write!(f, "r{dst} = addr_space_cast(r{src}, {from}, {to})")
        }
        Op::LdImm64 { dst, pseudo, imm } => {
            write!(f, "r{dst} = ")?;
            let hi = next.map_or(0, |n| n.imm as u32);
            let kind = if o.map_ids { "id" } else { "fd" };
            let lo = i.imm as u32;
            match pseudo {
                PSEUDO_MAP_FD => write!(f, "map[{kind}:{lo}]"),
                PSEUDO_MAP_VALUE => write!(f, "map[{kind}:{lo}][0]+{hi}"),
                PSEUDO_MAP_IDX => write!(f, "map[idx:{lo}]"),
                PSEUDO_MAP_IDX_VALUE => write!(f, "map[idx:{lo}]+{hi}"),
                PSEUDO_FUNC => write!(f, "subprog[{:+}]", i.imm),
                _ => write!(f, "{imm:#x}"),
            }
        }
        Op::LdAbs { size, imm } => write!(f, "r0 = *({} *)skb[{imm}]", ty(size, false)),
        Op::LdInd { size, src, imm } => {
            write!(f, "r0 = *({} *)skb[r{src} + {imm}]", ty(size, false))
        }
        Op::Load {
            size,
            signed,
            dst,
            src,
            off,
        } => {
            write!(f, "r{dst} = *({} *)(r{src} {off:+})", ty(size, signed))
        }
        Op::Store {
            size,
            dst,
            off,
            src,
        } => {
            write!(f, "*({} *)(r{dst} {off:+}) = ", ty(size, false))?;
            match src {
                Operand::Reg(s) => write!(f, "r{s}"),
                Operand::Imm(imm) => write!(f, "{imm}"),
            }
        }
        Op::Atomic {
            size,
            op,
            dst,
            src,
            off,
        } => write_atomic(f, size, op, dst, src, off),
        Op::Nospec => f.write_str("nospec"),
        Op::Ja { off, long: false } => write!(f, "goto pc{off:+}"),
        Op::Ja { off, long: true } => write!(f, "gotol pc{off:+}"),
        Op::MayGoto { off } => write!(f, "may_goto pc{off:+}"),
        Op::Jump {
            wide,
            op,
            dst,
            src,
            off,
        } => {
            let r = rc(wide);
            match src {
                Operand::Reg(s) => write!(f, "if {r}{dst} {} {r}{s} goto pc{off:+}", op.symbol()),
                Operand::Imm(imm) => {
                    write!(
                        f,
                        "if {r}{dst} {} {:#x} goto pc{off:+}",
                        op.symbol(),
                        imm as u32
                    )
                }
            }
        }
        Op::Call(kind) => write_call(f, i, kind, o),
        Op::Exit => f.write_str("exit"),
        Op::Unknown => write_bug(f, i),
    }
}

fn write_atomic(
    f: &mut dyn Write,
    size: Size,
    op: AtomicOp,
    dst: u8,
    src: u8,
    off: i16,
) -> fmt::Result {
    let t = ty(size, false);
    let w = if size == Size::DW { "64" } else { "" };
    let (name, fetch, sym) = match op {
        AtomicOp::Add { fetch } => ("add", fetch, "+="),
        AtomicOp::Or { fetch } => ("or", fetch, "|="),
        AtomicOp::And { fetch } => ("and", fetch, "&="),
        AtomicOp::Xor { fetch } => ("xor", fetch, "^="),
        AtomicOp::Xchg => {
            return write!(
                f,
                "r{src} = atomic{w}_xchg(({t} *)(r{dst} {off:+}), r{src})"
            );
        }
        AtomicOp::CmpXchg => {
            return write!(
                f,
                "r0 = atomic{w}_cmpxchg(({t} *)(r{dst} {off:+}), r0, r{src})"
            );
        }
        AtomicOp::LoadAcquire => {
            return write!(f, "r{dst} = load_acquire(({t} *)(r{src} {off:+}))");
        }
        AtomicOp::StoreRelease => {
            return write!(f, "store_release(({t} *)(r{dst} {off:+}), r{src})");
        }
    };
    if fetch {
        write!(
            f,
            "r{src} = atomic{w}_fetch_{name}(({t} *)(r{dst} {off:+}), r{src})"
        )
    } else {
        write!(f, "lock *({t} *)(r{dst} {off:+}) {sym} r{src}")
    }
}

fn write_call(f: &mut dyn Write, i: &Insn, kind: CallKind, o: &Opts<'_>) -> fmt::Result {
    if let CallKind::Helper(id) = kind {
        if let Some(name) = helper_name(id) {
            return write!(f, "call {name}#{id}");
        }
    }
    let resolved = o.call.and_then(|cb| cb(i));
    match (kind, resolved) {
        (CallKind::Pseudo(_), Some(name)) => write!(f, "call pc{name}"),
        (CallKind::Pseudo(rel), None) => write!(f, "call pc{rel:+}"),
        (_, Some(name)) => write!(f, "call {name}#{}", i.imm),
        (CallKind::Kfunc { .. }, None) => write!(f, "call kernel-function#{}", i.imm),
        (_, None) => write!(f, "call unknown#{}", i.imm),
    }
}

fn write_bug(f: &mut dyn Write, i: &Insn) -> fmt::Result {
    let class = match i.class() {
        c::LD => "ld_",
        c::LDX => "ldx_",
        c::ST => "st_",
        c::ALU64 => "alu64_",
        _ => "",
    };
    write!(f, "BUG_{class}{:02x}", i.code)
}
