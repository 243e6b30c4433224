//! The parsing pipeline: ELF → sections → maps, externs → programs with classified
//! relocations.

use std::collections::HashMap;

use crate::btf::Btf;

use super::btf_fixup::fixup_btf;
use super::btf_index::BtfIndex;
use super::btf_info::{ExternBtf, extern_info, fill_data_variables, fill_ext_info};
use super::btf_maps::fill_btf_maps;

use super::data::{data_map, data_section_kind, internal_map_name};
use super::elf::{
    Elf, STB_LOCAL, STB_WEAK, STT_FUNC, STT_NOTYPE, STT_OBJECT, STT_SECTION, STV_HIDDEN,
    STV_INTERNAL, Section, Symbol, read_u32,
};
use super::error::{ObjError, section_err};
use super::maps::{
    BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, MAP_TYPE_ARRAY, MapKind, MapSpec, MapSymbol, legacy_maps,
};
use super::reloc::{RelocKind, SymbolTargets, classify};
use super::{ExternKind, ExternSpec, ObjectSpec, ProgramSpec};

/// Upper bound on a global-data section (far above the kernel's limit on array values), so
/// a corrupt `.bss` size cannot make the parser allocate gigabytes.
const MAX_DATA_SECTION: u64 = 64 << 20;

/// Upper bound on the `.kconfig` map value.
const MAX_KCONFIG: u64 = 1 << 20;

struct Targets {
    /// The map defined at each (section, offset) of `.maps`/`maps` (the first one there).
    map_syms: HashMap<(usize, u64), usize>,
    data_maps: HashMap<usize, usize>,
    externs: HashMap<usize, usize>,
    text: Option<usize>,
}

impl SymbolTargets for Targets {
    fn map_of(&self, section: usize, offset: i64) -> Option<usize> {
        crate::work::step();
        let offset = u64::try_from(offset).ok()?;
        self.map_syms.get(&(section, offset)).copied()
    }
    fn data_map_of(&self, section: usize) -> Option<usize> {
        self.data_maps.get(&section).copied()
    }
    fn extern_of(&self, sym: &Symbol<'_>) -> Option<usize> {
        self.externs.get(&sym.index).copied()
    }
    fn text_section(&self) -> Option<usize> {
        self.text
    }
}

pub(crate) fn parse(name: &str, bytes: &[u8]) -> Result<ObjectSpec, ObjError> {
    let elf = Elf::parse(bytes)?;

    let license = match elf.section_by_name("license") {
        Some(sec) => {
            let end = sec
                .data
                .iter()
                .position(|&b| b == 0)
                .unwrap_or(sec.data.len());
            std::str::from_utf8(&sec.data[..end])
                .map_err(|_| section_err("license", "is not UTF-8"))?
                .to_owned()
        }
        None => String::new(),
    };
    let kernel_version = match elf.section_by_name("version") {
        Some(sec) => read_u32(sec.data, 0, elf.big_endian)
            .ok_or_else(|| section_err("version", "is shorter than 4 bytes"))?,
        None => 0,
    };
    let btf_bytes = elf.section_by_name(".BTF").map(|s| s.data);
    let parsed_btf = match btf_bytes {
        Some(b) => Some(Btf::parse(b).map_err(|e| ObjError::Btf {
            what: e.to_string(),
        })?),
        None => None,
    };
    let btf_ext = elf.section_by_name(".BTF.ext").map(|s| s.data.to_vec());
    let btf_index = parsed_btf.as_ref().map(BtfIndex::new);

    // Maps: BTF-defined, legacy, then global data.
    let mut maps = Vec::new();
    let mut map_syms = Vec::new();
    if let Some(sec) = elf.section_by_name(".maps") {
        btf_map_placeholders(&elf, sec, &mut maps, &mut map_syms);
        let (Some(btf), Some(index)) = (&parsed_btf, &btf_index) else {
            return Err(section_err(
                ".maps",
                "BTF-defined maps need the object's BTF (compile with -g)",
            ));
        };
        fill_btf_maps(&elf, sec, btf, index, &mut maps, &map_syms)?;
    }
    if let Some(sec) = elf.section_by_name("maps") {
        legacy_maps(&elf, sec, &mut maps, &mut map_syms)?;
    }
    let mut data_maps = HashMap::new();
    for sec in &elf.sections {
        if sec.size == 0 {
            continue;
        }
        if let Some(readonly) = data_section_kind(sec) {
            if !elf.rels[sec.index].is_empty() {
                return Err(section_err(
                    sec.name,
                    "global data holds addresses of other symbols (relocations), which BPF cannot express",
                ));
            }
            if sec.size > MAX_DATA_SECTION {
                return Err(section_err(
                    sec.name,
                    format!(
                        "size {} is larger than any map value the kernel accepts",
                        sec.size
                    ),
                ));
            }
            data_maps.insert(sec.index, maps.len());
            maps.push(data_map(&elf, name, sec, readonly));
        }
    }

    if let (Some(btf), Some(index)) = (&parsed_btf, &btf_index) {
        fill_data_variables(&elf, btf, index, &mut maps)?;
    }
    let extern_btf = match (&parsed_btf, &btf_index) {
        (Some(btf), Some(index)) => extern_info(btf, index)?,
        _ => HashMap::new(),
    };

    let text = elf.section_by_name(".text").map(|s| s.index);
    let mut map_index = HashMap::with_capacity(map_syms.len());
    for m in map_syms.iter().rev() {
        map_index.insert((m.section, m.offset), m.map);
    }
    let mut targets = Targets {
        map_syms: map_index,
        data_maps,
        externs: HashMap::new(),
        text,
    };
    let externs = collect_externs(&elf, name, &mut maps, &mut targets, &extern_btf)?;

    let btf = match (&parsed_btf, &btf_index, btf_bytes) {
        (Some(parsed), Some(index), Some(raw)) => {
            let kconfig_size = maps
                .iter()
                .find(|m| m.kind == MapKind::Kconfig)
                .map_or(0, |m| m.value_size);
            let hidden: Vec<&str> = match text {
                Some(t) => elf
                    .symbols
                    .iter()
                    .filter(|s| {
                        s.section == Some(t)
                            && s.kind == STT_FUNC
                            && s.bind != STB_LOCAL
                            && matches!(s.visibility, STV_HIDDEN | STV_INTERNAL)
                    })
                    .map(|s| s.name)
                    .collect(),
                None => Vec::new(),
            };
            Some(fixup_btf(
                raw,
                parsed,
                index,
                &elf,
                &externs,
                kconfig_size,
                &hidden,
            )?)
        }
        _ => None,
    };
    let struct_ops = super::struct_ops::parse(&elf, parsed_btf.as_ref())?;
    let mut spec = ObjectSpec {
        name: name.to_owned(),
        programs: Vec::new(),
        subprograms: Vec::new(),
        maps,
        externs,
        license,
        kernel_version,
        btf,
        btf_ext,
        struct_ops,
    };

    for sec in elf.sections.iter().filter(|s| s.is_exec()) {
        let funcs = functions(&elf, sec, &targets, &spec)?;
        if Some(sec.index) == text {
            spec.subprograms.extend(funcs);
        } else {
            spec.programs.extend(funcs);
        }
    }
    if let (Some(btf), Some(ext)) = (&parsed_btf, elf.section_by_name(".BTF.ext")) {
        let n = spec.programs.len();
        let mut all = std::mem::take(&mut spec.programs);
        all.append(&mut spec.subprograms);
        fill_ext_info(btf, ext.data, &mut all)?;
        spec.subprograms = all.split_off(n);
        spec.programs = all;
    }
    rewrite_kconfig_relocs(&mut spec);
    Ok(spec)
}

/// One `MapSpec` per symbol of `.maps`, to be filled from BTF.
fn btf_map_placeholders(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    maps: &mut Vec<MapSpec>,
    syms: &mut Vec<MapSymbol>,
) {
    let mut defs: Vec<_> = elf
        .symbols_in(sec.index)
        .filter(|s| s.kind == STT_OBJECT && !s.name.is_empty())
        .collect();
    defs.sort_by_key(|s| s.value);
    for sym in defs {
        syms.push(MapSymbol {
            section: sec.index,
            offset: sym.value,
            map: maps.len(),
        });
        maps.push(MapSpec::new(sym.name, MapKind::Btf));
    }
}

/// Undefined symbols are externs, described by the `.kconfig`/`.ksyms` DATASECs of the BTF.
/// Without BTF their kind is guessed from their use: called → kfunc; `CONFIG_*`/`LINUX_*` →
/// Kconfig (8-byte slots); else a typeless ksym.
fn collect_externs(
    elf: &Elf<'_>,
    obj_name: &str,
    maps: &mut Vec<MapSpec>,
    targets: &mut Targets,
    btf: &HashMap<String, ExternBtf>,
) -> Result<Vec<ExternSpec>, ObjError> {
    let called: std::collections::HashSet<usize> = elf
        .rels
        .iter()
        .flatten()
        .filter(|r| r.kind == super::elf::R_BPF_64_32)
        .map(|r| r.symbol)
        .collect();
    let mut externs = Vec::new();
    let mut kconfig_map = None;
    let mut kconfig_size = 0u32;
    for sym in elf.symbols.iter().skip(1) {
        if !sym.undefined || sym.name.is_empty() || sym.kind == STT_SECTION {
            continue;
        }
        let info = btf.get(sym.name).copied().or_else(|| {
            if called.contains(&sym.index) {
                Some(ExternBtf::Kfunc { proto: 0 })
            } else if sym.name.starts_with("CONFIG_") || sym.name.starts_with("LINUX_") {
                Some(ExternBtf::Kconfig {
                    size: 8,
                    align: 8,
                    type_id: 0,
                })
            } else {
                None
            }
        });
        let kind = match info {
            Some(ExternBtf::Kfunc { proto }) => ExternKind::Kfunc {
                type_id: (proto != 0).then_some(proto),
            },
            Some(ExternBtf::Kconfig {
                size,
                align,
                type_id,
            }) => {
                let map = *kconfig_map.get_or_insert_with(|| {
                    maps.push(MapSpec::new(
                        &internal_map_name(obj_name, ".kconfig"),
                        MapKind::Kconfig,
                    ));
                    maps.len() - 1
                });
                let offset = kconfig_size.next_multiple_of(align.max(1));
                kconfig_size = offset.saturating_add(size);
                ExternKind::Kconfig {
                    map,
                    offset,
                    size,
                    type_id: (type_id != 0).then_some(type_id),
                }
            }
            Some(ExternBtf::Ksym { type_id }) => ExternKind::Ksym { type_id },
            None => ExternKind::Ksym { type_id: None },
        };
        targets.externs.insert(sym.index, externs.len());
        externs.push(ExternSpec {
            name: sym.name.to_owned(),
            weak: sym.bind == STB_WEAK,
            kind,
        });
    }
    if let Some(map) = kconfig_map {
        if u64::from(kconfig_size) > MAX_KCONFIG {
            return Err(section_err(
                ".kconfig",
                format!(
                    "externs take {kconfig_size} bytes; Kconfig values are small scalars and strings"
                ),
            ));
        }
        let m = &mut maps[map];
        m.map_type = MAP_TYPE_ARRAY;
        m.key_size = 4;
        m.value_size = kconfig_size.max(1).next_multiple_of(8);
        m.max_entries = 1;
        m.flags = BPF_F_MMAPABLE | BPF_F_RDONLY_PROG;
        m.freeze = true;
        m.data = Some(vec![0; m.value_size as usize]);
    }
    Ok(externs)
}

/// `ld_imm64` of a `.kconfig` extern reads the `.kconfig` map's value at the extern's offset.
pub(crate) fn rewrite_kconfig_relocs(spec: &mut ObjectSpec) {
    let externs = spec.externs.clone();
    for p in spec.programs.iter_mut().chain(spec.subprograms.iter_mut()) {
        for r in &mut p.relocations {
            if let RelocKind::Ksym { ext } = r.kind {
                if let Some(ExternKind::Kconfig { map, offset, .. }) =
                    externs.get(ext).map(|e| e.kind)
                {
                    r.kind = RelocKind::MapValue { map, offset };
                }
            }
        }
    }
}

/// Splits an executable section into its functions.
fn functions(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    targets: &Targets,
    spec: &ObjectSpec,
) -> Result<Vec<ProgramSpec>, ObjError> {
    let mut insns = elf.insns(sec)?;
    let relocs = classify(elf, sec, &insns, targets)?;
    let mut syms: Vec<&Symbol<'_>> = elf
        .symbols_in(sec.index)
        .filter(|s| s.kind == STT_FUNC && !s.name.is_empty())
        .collect();
    if syms.is_empty() {
        // Objects from old toolchains mark programs with NOTYPE globals.
        syms = elf
            .symbols_in(sec.index)
            .filter(|s| s.kind == STT_NOTYPE && s.bind != STB_LOCAL && !s.name.is_empty())
            .collect();
    }
    syms.sort_by_key(|s| s.value);
    let mut out: Vec<ProgramSpec> = Vec::with_capacity(syms.len());
    // `relocs` is sorted by instruction and the functions are visited in ascending,
    // disjoint ranges: each function takes the next run of relocations. The first one that
    // falls before a function (in no function) is kept for the error.
    let mut relocs = relocs.into_iter();
    let mut orphan = None;
    for (i, sym) in syms.iter().enumerate() {
        let sym_err = |what: String| ObjError::Symbol {
            symbol: sym.name.to_owned(),
            what,
        };
        if sym.value % 8 != 0 {
            return Err(sym_err(format!(
                "starts at byte {:#x} of `{}`, not an instruction boundary",
                sym.value, sec.name
            )));
        }
        let start = (sym.value / 8) as usize;
        let end = if sym.size > 0 {
            if sym.size % 8 != 0 {
                return Err(sym_err(format!("size {} is not a multiple of 8", sym.size)));
            }
            start.saturating_add((sym.size / 8) as usize)
        } else {
            syms.get(i + 1)
                .map_or(insns.len(), |n| (n.value / 8) as usize)
        };
        if start >= end || end > insns.len() {
            return Err(sym_err(format!(
                "instructions {start}..{end} lie outside section `{}` ({} instructions)",
                sec.name,
                insns.len()
            )));
        }
        if let Some(prev) = out.last() {
            if prev.section_offset + prev.insns.len() > start {
                return Err(sym_err(format!("overlaps function `{}`", prev.name)));
            }
        }
        let n = relocs.as_slice().partition_point(|r| r.insn < end);
        let mut relocations = Vec::with_capacity(n);
        for mut r in relocs.by_ref().take(n) {
            if r.insn >= start {
                r.insn -= start;
                relocations.push(r);
            } else if orphan.is_none() {
                orphan = Some(r);
            }
        }
        let insns = if syms.len() == 1 && start == 0 && end == insns.len() {
            std::mem::take(&mut insns)
        } else {
            insns[start..end].to_vec()
        };
        out.push(ProgramSpec {
            name: sym.name.to_owned(),
            section: sec.name.to_owned(),
            section_offset: start,
            insns,
            relocations,
            func_info: Vec::new(),
            line_info: Vec::new(),
            core_relos: Vec::new(),
            license: spec.license.clone(),
            kernel_version: spec.kernel_version,
            global: sym.bind != STB_LOCAL,
        });
    }
    if let Some(r) = orphan.or_else(|| relocs.next()) {
        return Err(ObjError::Relocation {
            section: sec.name.to_owned(),
            insn: r.insn,
            symbol: r.symbol,
            what: "the instruction is not inside any function".into(),
        });
    }
    Ok(out)
}
