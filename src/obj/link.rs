//! Static linking of a program with the `.text` subprograms it reaches, as libbpf does:
//! every subprogram reached (transitively, through calls or callback addresses) is appended
//! once after the program, calls are re-aimed at the appended copies, and the subprograms'
//! relocations and `.BTF.ext` records follow them.

use std::collections::HashMap;

use super::reloc::{CALL, LD_IMM64, PSEUDO_CALL, PSEUDO_FUNC, RelocKind, Relocation, src_reg};
use super::{CoreRelo, FuncInfo, Insn, LineInfo, ObjError, ObjectSpec, ProgramSpec};

/// A program with its subprograms appended: ready for
/// [`apply_relocations`](super::apply_relocations) and CO-RE, then loading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedProgram {
    /// All instructions: the program's, then each reached subprogram once.
    pub insns: Vec<Insn>,
    /// Remaining relocations (maps, global data, externs), indices into `insns`.
    pub relocations: Vec<Relocation>,
    /// Function info of the program and its subprograms, sorted by instruction.
    pub func_info: Vec<FuncInfo>,
    /// Line info, sorted by instruction.
    pub line_info: Vec<LineInfo>,
    /// CO-RE relocations, indices into `insns`.
    pub core_relos: Vec<CoreRelo>,
    /// Names of the appended subprograms and where each starts, in order.
    pub subprograms: Vec<(String, usize)>,
}

/// Links `prog` (one of `spec.programs`) with the `.text` subprograms it reaches.
///
/// # Errors
///
/// [`ObjError::Link`] if a call or callback targets an instruction of `.text` where no
/// function starts, or a call without relocation leaves the program's own section.
pub fn link_program(spec: &ObjectSpec, prog: &ProgramSpec) -> Result<LinkedProgram, ObjError> {
    let mut out = LinkedProgram {
        insns: Vec::new(),
        relocations: Vec::new(),
        func_info: Vec::new(),
        line_info: Vec::new(),
        core_relos: Vec::new(),
        subprograms: Vec::new(),
    };
    let mut placed: HashMap<usize, usize> = HashMap::new();
    // (function, start in the linked program)
    let mut units: Vec<(&ProgramSpec, usize, bool)> = Vec::new();
    append(&mut out, prog, &mut units, false);

    let mut u = 0;
    while u < units.len() {
        let (func, base, in_text) = units[u];
        u += 1;
        let relocs: HashMap<usize, &Relocation> =
            func.relocations.iter().map(|r| (r.insn, r)).collect();
        for i in 0..func.insns.len() {
            let at = base + i;
            let insn = func.insns[i];
            let err = |what: String| ObjError::Link {
                program: prog.name.clone(),
                insn: at,
                what,
            };
            let (target, is_call) = match relocs.get(&i).map(|r| r.kind) {
                Some(RelocKind::Call { target }) => (target, true),
                Some(RelocKind::FuncAddr { target }) => (target, false),
                Some(_) => continue,
                None if insn.code == CALL && src_reg(&insn) == PSEUDO_CALL => {
                    // A call resolved by the compiler inside the section: pc-relative.
                    let t = (func.section_offset + i) as i64 + i64::from(insn.imm) + 1;
                    if !in_text {
                        return Err(err(format!(
                            "call without relocation from section `{}` (only calls into .text are supported)",
                            func.section
                        )));
                    }
                    if t < 0 {
                        return Err(err(format!("call target {t} lies before .text")));
                    }
                    (t as usize, true)
                }
                None => continue,
            };
            let sub = subprogram_at(&spec.subprograms, target)
                .ok_or_else(|| err(format!("no .text function starts at instruction {target}")))?;
            let start = match placed.get(&sub) {
                Some(&s) => s,
                None => {
                    let s = append(&mut out, &spec.subprograms[sub], &mut units, true);
                    out.subprograms
                        .push((spec.subprograms[sub].name.clone(), s));
                    placed.insert(sub, s);
                    s
                }
            };
            let rel = i32::try_from(start as i64 - (at as i64 + 1))
                .map_err(|_| err("program too large".into()))?;
            if !is_call && (insn.code != LD_IMM64 || at + 1 >= out.insns.len()) {
                return Err(err("callback address is not an ld_imm64".into()));
            }
            let slot = &mut out.insns[at];
            slot.imm = rel;
            if !is_call {
                slot.regs = (slot.regs & 0x0f) | (PSEUDO_FUNC << 4);
                out.insns[at + 1].imm = 0;
            }
        }
    }
    Ok(out)
}

/// The index of the subprogram starting at instruction `target` of `.text`: a binary search,
/// as the parser lists them in ascending order (a linear scan only if it is not found that
/// way, for a hand-built [`ObjectSpec`] in another order).
fn subprogram_at(subs: &[ProgramSpec], target: usize) -> Option<usize> {
    crate::work::step();
    let i = subs.partition_point(|s| s.section_offset < target);
    if subs.get(i).is_some_and(|s| s.section_offset == target) {
        return Some(i);
    }
    subs.iter().position(|s| s.section_offset == target)
}

/// Appends `func` to the linked program; returns where it starts.
fn append<'a>(
    out: &mut LinkedProgram,
    func: &'a ProgramSpec,
    units: &mut Vec<(&'a ProgramSpec, usize, bool)>,
    in_text: bool,
) -> usize {
    let base = out.insns.len();
    let b = base as u32;
    out.insns.extend_from_slice(&func.insns);
    out.relocations.extend(
        func.relocations
            .iter()
            .filter(|r| !matches!(r.kind, RelocKind::Call { .. } | RelocKind::FuncAddr { .. }))
            .map(|r| Relocation {
                insn: r.insn + base,
                ..r.clone()
            }),
    );
    out.func_info
        .extend(func.func_info.iter().map(|f| FuncInfo {
            insn: f.insn + b,
            ..*f
        }));
    out.line_info
        .extend(func.line_info.iter().map(|l| LineInfo {
            insn: l.insn + b,
            ..*l
        }));
    out.core_relos
        .extend(func.core_relos.iter().map(|c| CoreRelo {
            insn: c.insn + b,
            ..*c
        }));
    units.push((func, base, in_text));
    base
}
