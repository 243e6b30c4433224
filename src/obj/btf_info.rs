//! What the object's BTF adds to the ELF view: typed variables of data sections and the
//! kinds, sizes and types of externs.

use std::collections::HashMap;

use crate::btf::{Btf, BtfExt, TypeId, TypeView};

use super::btf_index::BtfIndex;
use super::elf::Elf;
use super::error::ObjError;
use super::maps::{DataVariable, MapKind, MapSpec};
use super::{FuncInfo, LineInfo, ProgramSpec};

fn btf_err(e: crate::btf::BtfError) -> ObjError {
    ObjError::Btf {
        what: e.to_string(),
    }
}

/// Replaces the ELF-symbol variables of each data map with the variables of its BTF
/// `DATASEC` (with type ids). clang leaves offsets in object files at 0, so offsets come from
/// the ELF symbols of the same name (libbpf does the same fixup).
pub(crate) fn fill_data_variables(
    elf: &Elf<'_>,
    btf: &Btf<'_>,
    index: &BtfIndex<'_>,
    maps: &mut [MapSpec],
) -> Result<(), ObjError> {
    for m in maps.iter_mut() {
        let MapKind::Data { section } = &m.kind else {
            continue;
        };
        let Some(ds_id) = index.datasec(section) else {
            continue;
        };
        let ds_ty = btf.type_by_id(ds_id).map_err(btf_err)?;
        let Some(ds) = ds_ty.as_datasec() else {
            continue;
        };
        let sec_index = elf.section_by_name(section).map(|s| s.index);
        let mut vars = Vec::with_capacity(usize::from(ds_ty.vlen()));
        for vs in ds.vars() {
            let v = btf.type_by_id(vs.type_id).map_err(btf_err)?;
            let name = v.name().map_err(btf_err)?;
            let Some(var) = v.as_var() else { continue };
            let sym = sec_index.and_then(|i| elf.symbol_named(i, name));
            let offset = match sym {
                Some(s) => u32::try_from(s.value).map_err(|_| ObjError::Symbol {
                    symbol: name.to_owned(),
                    what: "offset does not fit 32 bits".into(),
                })?,
                None => vs.offset,
            };
            let size = if vs.size > 0 {
                vs.size
            } else {
                btf.size_of(var.type_id()).map_err(btf_err)?
            };
            if u64::from(offset) + u64::from(size) > u64::from(m.value_size) {
                return Err(ObjError::Symbol {
                    symbol: name.to_owned(),
                    what: format!("variable lies outside section `{section}`"),
                });
            }
            vars.push(DataVariable {
                name: name.to_owned(),
                offset,
                size,
                type_id: Some(var.type_id()),
            });
        }
        vars.sort_by_key(|v| v.offset);
        m.variables = vars;
        m.value_type_id = Some(ds_ty.id());
    }
    Ok(())
}

/// An extern as the BTF `.kconfig` / `.ksyms` DATASECs describe it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ExternBtf {
    Kconfig {
        size: u32,
        align: u32,
        type_id: TypeId,
    },
    Ksym {
        type_id: Option<TypeId>,
    },
    Kfunc {
        proto: TypeId,
    },
}

/// The externs the BTF declares, by name.
pub(crate) fn extern_info(
    btf: &Btf<'_>,
    index: &BtfIndex<'_>,
) -> Result<HashMap<String, ExternBtf>, ObjError> {
    let mut out = HashMap::new();
    for &(id, name) in &index.datasecs {
        let t = btf.type_by_id(id).map_err(btf_err)?;
        let sec = match name {
            Some(n) => n,
            None => t.name().map_err(btf_err)?,
        };
        if sec != ".kconfig" && sec != ".ksyms" {
            continue;
        }
        let Some(ds) = t.as_datasec() else { continue };
        for vs in ds.vars() {
            let v = btf.type_by_id(vs.type_id).map_err(btf_err)?;
            let name = v.name().map_err(btf_err)?.to_owned();
            let info = match v.view() {
                TypeView::Func(f) => ExternBtf::Kfunc { proto: f.proto() },
                TypeView::Var(var) if sec == ".kconfig" => ExternBtf::Kconfig {
                    size: btf.size_of(var.type_id()).map_err(btf_err)?,
                    align: btf.align_of(var.type_id()).map_err(btf_err)?.max(1),
                    type_id: var.type_id(),
                },
                TypeView::Var(var) => {
                    let resolved = btf.skip_mods_and_typedefs(var.type_id()).map_err(btf_err)?;
                    ExternBtf::Ksym {
                        type_id: (!matches!(resolved.view(), TypeView::Void))
                            .then(|| var.type_id()),
                    }
                }
                _ => continue,
            };
            out.insert(name, info);
        }
    }
    Ok(out)
}

/// Distributes the `.BTF.ext` records (byte offsets from the start of their ELF section)
/// to the functions that hold them, as instruction indices relative to each function.
pub(crate) fn fill_ext_info(
    btf: &Btf<'_>,
    ext_bytes: &[u8],
    funcs: &mut [ProgramSpec],
) -> Result<(), ObjError> {
    let ext = BtfExt::parse(ext_bytes).map_err(|e| ObjError::Btf {
        what: format!(".BTF.ext: {e}"),
    })?;
    // The functions of each ELF section, by start: built once, searched per record.
    let mut by_section: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in funcs.iter().enumerate() {
        by_section.entry(f.section.as_str()).or_default().push(i);
    }
    for v in by_section.values_mut() {
        v.sort_by_key(|&i| funcs[i].section_offset);
    }
    let by_section: HashMap<String, Vec<usize>> = by_section
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    // A section with one function (the usual program section) gets its vectors sized once;
    // otherwise they grow as records are pushed.
    let mut cands = Vec::new();
    for sec in ext.func_info() {
        let name = sec.sec_name(btf).map_err(btf_err)?;
        candidates(&by_section, name, &mut cands);
        if let [only] = cands[..] {
            funcs[only].func_info.reserve_exact(sec.len());
        }
        for r in sec.records() {
            let (f, insn) = locate(funcs, &cands, r.insn_off)
                .ok_or_else(|| locate_err(name, r.insn_off, "func_info"))?;
            funcs[f].func_info.push(FuncInfo {
                insn,
                type_id: r.type_id,
            });
        }
    }
    for sec in ext.line_info() {
        let name = sec.sec_name(btf).map_err(btf_err)?;
        candidates(&by_section, name, &mut cands);
        if let [only] = cands[..] {
            funcs[only].line_info.reserve_exact(sec.len());
        }
        for r in sec.records() {
            let (f, insn) = locate(funcs, &cands, r.insn_off)
                .ok_or_else(|| locate_err(name, r.insn_off, "line_info"))?;
            funcs[f].line_info.push(LineInfo {
                insn,
                file_name_off: r.file_name_off,
                line_off: r.line_off,
                line_col: r.line_col,
            });
        }
    }
    for sec in ext.core_relos() {
        let name = sec.sec_name(btf).map_err(btf_err)?;
        candidates(&by_section, name, &mut cands);
        if let [only] = cands[..] {
            funcs[only].core_relos.reserve_exact(sec.len());
        }
        for r in sec.records() {
            let (f, insn) = locate(funcs, &cands, r.insn_off)
                .ok_or_else(|| locate_err(name, r.insn_off, "CO-RE relocation"))?;
            funcs[f].core_relos.push(r.at(insn));
        }
    }
    for f in funcs.iter_mut() {
        f.func_info.sort_by_key(|r| r.insn);
        f.line_info.sort_by_key(|r| r.insn);
        f.core_relos.sort_by_key(|r| r.insn);
    }
    Ok(())
}

/// Sets `out` to the indices of the functions of ELF section `section`, by start.
fn candidates(by_section: &HashMap<String, Vec<usize>>, section: &str, out: &mut Vec<usize>) {
    crate::work::step();
    out.clear();
    if let Some(v) = by_section.get(section) {
        out.extend_from_slice(v);
    }
}

/// The index of the function (among `cands`, the functions of one section) holding byte
/// offset `off`, and the instruction index relative to it; `None` if `off` is not on an
/// instruction boundary or in no function ([`locate_err`] says which).
#[inline]
fn locate(funcs: &[ProgramSpec], cands: &[usize], off: u32) -> Option<(usize, u32)> {
    if off % 8 != 0 {
        return None;
    }
    crate::work::step();
    let idx = (off / 8) as usize;
    // `cands` are sorted by start and the functions do not overlap: the one holding `idx`
    // is the last that starts at or before it.
    let at = cands.partition_point(|&i| {
        crate::work::step();
        funcs[i].section_offset <= idx
    });
    let i = cands[..at].last().copied()?;
    let f = &funcs[i];
    let rel = idx.checked_sub(f.section_offset)?;
    (rel < f.insns.len()).then_some((i, rel as u32))
}

#[cold]
fn locate_err(section: &str, off: u32, what: &str) -> ObjError {
    let what = if off % 8 != 0 {
        format!("{what} record at byte {off:#x} is not on an instruction boundary")
    } else {
        format!(
            "{what} record at instruction {} is not inside any function",
            off / 8
        )
    };
    ObjError::Section {
        section: section.to_owned(),
        what,
    }
}
