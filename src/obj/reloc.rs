//! Relocations: what each instruction that refers to a symbol needs from the loader.
//!
//! The ELF relocations of every executable section are classified once, at parse time, into
//! [`RelocKind`]s kept on each [`ProgramSpec`](super::ProgramSpec) (instruction indices
//! relative to the function). Calls and callback addresses are resolved by the pure
//! [`link_program`](super::link_program); what is left needs kernel objects (map fds, kernel
//! BTF ids, kallsyms addresses) and is patched by [`apply_relocations`] with values the loader
//! hands in as plain integers.

use super::Insn;
use super::elf::{Elf, R_BPF_64_32, R_BPF_64_64, Rel, STT_SECTION, Section, Symbol};
use super::error::ObjError;

/// `BPF_LD | BPF_IMM | BPF_DW`: the first half of a 16-byte `ld_imm64`.
pub const LD_IMM64: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
pub const CALL: u8 = 0x85;
/// `src_reg` of an `ld_imm64` whose imm is a map fd (`BPF_PSEUDO_MAP_FD`).
pub const PSEUDO_MAP_FD: u8 = 1;
/// `src_reg` of an `ld_imm64` whose imm is a map fd and the next imm an offset into its
/// value (`BPF_PSEUDO_MAP_VALUE`).
pub const PSEUDO_MAP_VALUE: u8 = 2;
/// `src_reg` of an `ld_imm64` whose imm is a kernel BTF id of a variable (`BPF_PSEUDO_BTF_ID`).
pub const PSEUDO_BTF_ID: u8 = 3;
/// `src_reg` of an `ld_imm64` whose imm is a relative instruction offset to a function
/// (`BPF_PSEUDO_FUNC`).
pub const PSEUDO_FUNC: u8 = 4;
/// `src_reg` of a call to a BPF function (`BPF_PSEUDO_CALL`).
pub const PSEUDO_CALL: u8 = 1;
/// `src_reg` of a call to a kernel function (`BPF_PSEUDO_KFUNC_CALL`).
pub const PSEUDO_KFUNC_CALL: u8 = 2;

/// One instruction that refers to a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocation {
    /// Index of the instruction (for `ld_imm64`, the first of its two slots), relative to the
    /// start of the program or subprogram that holds it.
    pub insn: usize,
    /// The symbol the ELF relocation names (a section name for section symbols).
    pub symbol: String,
    /// What the instruction needs.
    pub kind: RelocKind,
}

/// What a relocated instruction needs, and what the loader does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelocKind {
    /// `ld_imm64` of a map (`&map`): set `src_reg = BPF_PSEUDO_MAP_FD`, `imm` = the map's fd.
    /// `map` indexes [`ObjectSpec::maps`](super::ObjectSpec::maps).
    Map {
        /// Index of the map.
        map: usize,
    },
    /// `ld_imm64` of an address inside a map's value: global data (`.bss`, `.data`,
    /// `.rodata*`) and `.kconfig` externs. Set `src_reg = BPF_PSEUDO_MAP_VALUE`, `imm` = the
    /// map's fd, and the second slot's `imm` = `offset`.
    MapValue {
        /// Index of the map.
        map: usize,
        /// Byte offset in the map's value.
        offset: u32,
    },
    /// A bpf-to-bpf call (`call` with `src_reg = BPF_PSEUDO_CALL`) to the `.text` function
    /// starting at instruction `target` of `.text`. Resolved by
    /// [`link_program`](super::link_program).
    Call {
        /// Instruction index in `.text`.
        target: usize,
    },
    /// `ld_imm64` of a function's address (a callback for `bpf_loop`, timers,
    /// `bpf_for_each_map_elem`): the `.text` function starting at instruction `target`.
    /// Resolved by [`link_program`](super::link_program) (`src_reg = BPF_PSEUDO_FUNC`).
    FuncAddr {
        /// Instruction index in `.text`.
        target: usize,
    },
    /// `ld_imm64` of a `.ksyms` variable: either typed (kernel BTF id of the VAR:
    /// `src_reg = BPF_PSEUDO_BTF_ID`, `imm` = id, second `imm` = BTF object fd or 0) or
    /// typeless (the kallsyms address split over the two imms), or 0 for a missing weak one.
    /// Also the address of a kfunc (`bpf_ksym_exists`): `BPF_PSEUDO_BTF_ID` with the kernel
    /// BTF id of its FUNC, or 0 for a missing weak kfunc.
    /// `ext` indexes [`ObjectSpec::externs`](super::ObjectSpec::externs).
    Ksym {
        /// Index of the extern.
        ext: usize,
    },
    /// A call to a kernel function (kfunc): `src_reg = BPF_PSEUDO_KFUNC_CALL`, `imm` = the
    /// kernel BTF id of the FUNC, `off` = index of its module BTF fd in `fd_array` (0 for
    /// vmlinux).
    Kfunc {
        /// Index of the extern.
        ext: usize,
    },
}

/// The value of an extern symbol, as the loader resolved it against the running kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternValue {
    /// A typeless ksym's address from kallsyms (or 0 for a missing weak one).
    Address(u64),
    /// A typed ksym: the kernel BTF id of the `VAR`, and the fd of the BTF object that holds
    /// it (0 for vmlinux).
    BtfVar {
        /// Kernel BTF type id.
        btf_id: u32,
        /// Fd of the module BTF, or 0 for vmlinux.
        btf_fd: i32,
    },
    /// A kfunc: the kernel BTF id of the `FUNC`, the index of its module BTF fd in the
    /// program's `fd_array` (0 for vmlinux; calls use it) and that fd (0 for vmlinux; an
    /// `ld_imm64` of the kfunc's address uses it).
    Kfunc {
        /// Kernel BTF type id.
        btf_id: u32,
        /// Index in `fd_array`, 0 for vmlinux.
        fd_index: i16,
        /// Fd of the module BTF, or 0 for vmlinux.
        btf_fd: i32,
    },
    /// A weak kfunc the kernel does not have: the call is replaced by a call to an invalid
    /// helper, which the verifier accepts only if it proves the call dead.
    MissingKfunc,
}

/// Helper id written into calls to missing weak kfuncs (libbpf's poison value), plus the
/// extern index.
pub const POISON_KFUNC_CALL: i32 = 2002000000;

fn set_src(insn: &mut Insn, src: u8) {
    insn.regs = (insn.regs & 0x0f) | (src << 4);
}

/// The `src_reg` of an instruction.
pub fn src_reg(insn: &Insn) -> u8 {
    insn.regs >> 4
}

/// Patches every map, global-data and extern relocation of a (linked) program with values
/// the loader resolved: `map_fd(i)` gives the fd of `ObjectSpec::maps[i]`, `ext(i)` the value
/// of `ObjectSpec::externs[i]`. Pure: fds are plain integers here.
///
/// Call and callback relocations must have been resolved by
/// [`link_program`](super::link_program) first; any left are an error.
///
/// # Errors
///
/// [`ObjError::Link`] naming the instruction when a relocation points outside `insns`,
/// at the wrong kind of instruction, or when `map_fd`/`ext` returns `None`.
pub fn apply_relocations(
    program: &str,
    insns: &mut [Insn],
    relocations: &[Relocation],
    map_fd: &dyn Fn(usize) -> Option<i32>,
    ext: &dyn Fn(usize) -> Option<ExternValue>,
) -> Result<(), ObjError> {
    let err = |insn: usize, what: String| ObjError::Link {
        program: program.to_owned(),
        insn,
        what,
    };
    for r in relocations {
        let i = r.insn;
        let wide = matches!(
            r.kind,
            RelocKind::Map { .. } | RelocKind::MapValue { .. } | RelocKind::Ksym { .. }
        );
        let end = i.saturating_add(if wide { 2 } else { 1 });
        if end > insns.len() {
            return Err(err(
                i,
                format!("relocation against `{}` lies past the end", r.symbol),
            ));
        }
        let code = insns[i].code;
        if wide && code != LD_IMM64 {
            return Err(err(
                i,
                format!(
                    "relocation against `{}` is not on an ld_imm64 (opcode {code:#04x})",
                    r.symbol
                ),
            ));
        }
        match r.kind {
            RelocKind::Map { map } | RelocKind::MapValue { map, .. } => {
                let fd = map_fd(map)
                    .ok_or_else(|| err(i, format!("no fd for map #{map} (`{}`)", r.symbol)))?;
                let (src, off) = match r.kind {
                    RelocKind::MapValue { offset, .. } => (PSEUDO_MAP_VALUE, offset as i32),
                    _ => (PSEUDO_MAP_FD, 0),
                };
                set_src(&mut insns[i], src);
                insns[i].imm = fd;
                insns[i + 1].imm = off;
            }
            RelocKind::Ksym { ext: e } => {
                match ext(e)
                    .ok_or_else(|| err(i, format!("extern `{}` is unresolved", r.symbol)))?
                {
                    ExternValue::Address(addr) => {
                        set_src(&mut insns[i], 0);
                        insns[i].imm = addr as u32 as i32;
                        insns[i + 1].imm = (addr >> 32) as u32 as i32;
                    }
                    ExternValue::BtfVar { btf_id, btf_fd } => {
                        set_src(&mut insns[i], PSEUDO_BTF_ID);
                        insns[i].imm = btf_id as i32;
                        insns[i + 1].imm = btf_fd;
                    }
                    // A kfunc's address (`bpf_ksym_exists(kfunc)`, `if (weak_kfunc)`): the
                    // FUNC's BTF id and the fd of the BTF it is in (0: vmlinux), as libbpf
                    // emits it; the verifier knows it is non-zero.
                    ExternValue::Kfunc { btf_id, btf_fd, .. } => {
                        set_src(&mut insns[i], PSEUDO_BTF_ID);
                        insns[i].imm = btf_id as i32;
                        insns[i + 1].imm = btf_fd;
                    }
                    // A missing weak kfunc's address is 0: the branch it guards is dead code.
                    ExternValue::MissingKfunc => {
                        set_src(&mut insns[i], 0);
                        insns[i].imm = 0;
                        insns[i + 1].imm = 0;
                    }
                }
            }
            RelocKind::Kfunc { ext: e } => {
                if code != CALL {
                    return Err(err(
                        i,
                        format!("kfunc relocation against `{}` is not on a call", r.symbol),
                    ));
                }
                match ext(e).ok_or_else(|| err(i, format!("kfunc `{}` is unresolved", r.symbol)))? {
                    ExternValue::Kfunc {
                        btf_id, fd_index, ..
                    } => {
                        set_src(&mut insns[i], PSEUDO_KFUNC_CALL);
                        insns[i].imm = btf_id as i32;
                        insns[i].off = fd_index;
                    }
                    ExternValue::MissingKfunc => {
                        set_src(&mut insns[i], 0);
                        insns[i].imm = POISON_KFUNC_CALL.saturating_add(e as i32);
                        insns[i].off = 0;
                    }
                    v => {
                        return Err(err(
                            i,
                            format!("extern `{}` is a kfunc, got {v:?}", r.symbol),
                        ));
                    }
                }
            }
            RelocKind::Call { .. } | RelocKind::FuncAddr { .. } => {
                return Err(err(
                    i,
                    format!(
                        "call to `{}` was not linked (use link_program first)",
                        r.symbol
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Where symbols of each section kind go, given by the parser.
pub(crate) trait SymbolTargets {
    /// The index of the map defined at `offset` of section `section` (`.maps` or `maps`).
    fn map_of(&self, section: usize, offset: i64) -> Option<usize>;
    /// The index of the global-data map backing section `section`.
    fn data_map_of(&self, section: usize) -> Option<usize>;
    /// The extern index of an undefined symbol.
    fn extern_of(&self, sym: &Symbol<'_>) -> Option<usize>;
    /// The `.text` section index.
    fn text_section(&self) -> Option<usize>;
}

/// Classifies the ELF relocations of the executable section `sec`; the returned
/// instruction indices are relative to the section.
pub(crate) fn classify(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    insns: &[Insn],
    targets: &dyn SymbolTargets,
) -> Result<Vec<Relocation>, ObjError> {
    let mut out = Vec::with_capacity(elf.rels[sec.index].len());
    for rel in &elf.rels[sec.index] {
        out.push(classify_one(elf, sec, insns, targets, rel)?);
    }
    out.sort_by_key(|r| r.insn);
    Ok(out)
}

fn classify_one(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    insns: &[Insn],
    targets: &dyn SymbolTargets,
    rel: &Rel,
) -> Result<Relocation, ObjError> {
    let sym = &elf.symbols[rel.symbol];
    let symbol = if sym.kind == STT_SECTION {
        sym.section
            .and_then(|s| elf.sections.get(s))
            .map_or_else(|| sym.display(), |s| s.name.to_owned())
    } else {
        sym.display()
    };
    let insn = (rel.offset / 8) as usize;
    let err = |what: String| ObjError::Relocation {
        section: sec.name.to_owned(),
        insn,
        symbol: symbol.clone(),
        what,
    };
    if rel.offset % 8 != 0 || insn >= insns.len() {
        return Err(err(format!(
            "offset {:#x} is not an instruction of the section",
            rel.offset
        )));
    }
    let ins = insns[insn];
    let kind = match rel.kind {
        R_BPF_64_64 => {
            if ins.code != LD_IMM64 || insn + 1 >= insns.len() {
                return Err(err(format!(
                    "64-bit relocation on a non-ld_imm64 instruction (opcode {:#04x})",
                    ins.code
                )));
            }
            if sym.undefined {
                let ext = targets
                    .extern_of(sym)
                    .ok_or_else(|| err("unknown extern symbol".into()))?;
                RelocKind::Ksym { ext }
            } else {
                let s = sym.section.ok_or_else(|| {
                    err("symbol is not defined in a section (absolute or common)".into())
                })?;
                let target_sec = &elf.sections[s];
                let off = (sym.value as i64).checked_add(i64::from(ins.imm));
                if target_sec.is_exec() {
                    if Some(s) != targets.text_section() {
                        return Err(err(format!(
                            "function address in section `{}`: only .text functions can be callbacks",
                            target_sec.name
                        )));
                    }
                    let off = off.filter(|o| *o >= 0 && o % 8 == 0).ok_or_else(|| {
                        err(format!(
                            "callback offset {} is not an instruction boundary",
                            ins.imm
                        ))
                    })?;
                    RelocKind::FuncAddr {
                        target: (off / 8) as usize,
                    }
                } else if let Some(map) = off.and_then(|o| targets.map_of(s, o)) {
                    RelocKind::Map { map }
                } else if let Some(map) = targets.data_map_of(s) {
                    let offset = off
                        .filter(|o| *o >= 0 && (*o as u64) <= target_sec.size)
                        .ok_or_else(|| {
                            err(format!(
                                "offset {} lies outside section `{}`",
                                off.unwrap_or(-1),
                                target_sec.name
                            ))
                        })?;
                    RelocKind::MapValue {
                        map,
                        offset: offset as u32,
                    }
                } else {
                    return Err(err(format!(
                        "refers to section `{}`, which holds neither maps, global data nor code",
                        target_sec.name
                    )));
                }
            }
        }
        R_BPF_64_32 => {
            if ins.code != CALL {
                return Err(err(format!(
                    "call relocation on a non-call instruction (opcode {:#04x})",
                    ins.code
                )));
            }
            if sym.undefined {
                let ext = targets
                    .extern_of(sym)
                    .ok_or_else(|| err("unknown extern function".into()))?;
                RelocKind::Kfunc { ext }
            } else {
                if sym.section.is_none() || sym.section != targets.text_section() {
                    return Err(err(
                        "call target is not in .text (only .text functions can be called)".into(),
                    ));
                }
                let target = (sym.value as i64 / 8) + i64::from(ins.imm) + 1;
                if target < 0 {
                    return Err(err(format!("call target {target} lies before .text")));
                }
                RelocKind::Call {
                    target: target as usize,
                }
            }
        }
        other => return Err(err(format!("unsupported relocation type {other} in code"))),
    };
    Ok(Relocation { insn, symbol, kind })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::Reg;

    /// An `ld_imm64` of a kfunc extern (`bpf_ksym_exists`) becomes `BPF_PSEUDO_BTF_ID` with
    /// the kfunc's BTF id, or the constant 0 for a missing weak kfunc.
    #[test]
    fn kfunc_address() {
        let relocs = [Relocation {
            insn: 0,
            symbol: "kf".into(),
            kind: RelocKind::Ksym { ext: 0 },
        }];
        let patch = |v: ExternValue| {
            let mut insns = Insn::ld_imm64(Reg::R1, 0).to_vec();
            apply_relocations("p", &mut insns, &relocs, &|_| None, &|_| Some(v)).map(|()| insns)
        };
        let present = patch(ExternValue::Kfunc {
            btf_id: 1234,
            fd_index: 0,
            btf_fd: 0,
        })
        .unwrap();
        assert_eq!(src_reg(&present[0]), PSEUDO_BTF_ID);
        assert_eq!((present[0].imm, present[1].imm), (1234, 0));
        let missing = patch(ExternValue::MissingKfunc).unwrap();
        assert_eq!(src_reg(&missing[0]), 0);
        assert_eq!((missing[0].imm, missing[1].imm), (0, 0));
        // A module's kfunc: the module BTF's fd in the second half.
        let module = patch(ExternValue::Kfunc {
            btf_id: 7,
            fd_index: 1,
            btf_fd: 42,
        })
        .unwrap();
        assert_eq!(src_reg(&module[0]), PSEUDO_BTF_ID);
        assert_eq!((module[0].imm, module[1].imm), (7, 42));
    }
}
