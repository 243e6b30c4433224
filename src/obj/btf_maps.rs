//! BTF-defined maps: each variable of the `.maps` `DATASEC` is a map whose (anonymous)
//! struct type describes it, member by member, with libbpf's macros:
//! `__uint(name, N)` is `int (*name)[N]` (a pointer to an array of N elements: N is the value),
//! `__type(name, T)` is `T *name`, and `__array(values, T)` is `T *values[]` (the inner map
//! template of a map-in-map, or a function prototype for a prog array). Initial slots of
//! `values` come from the ELF relocations of `.maps`.

use std::collections::HashMap;

use crate::btf::{Btf, TypeId, TypeView, VarLinkage};

use super::btf_index::BtfIndex;
use super::elf::{Elf, R_BPF_64_64, STT_FUNC, Section};
use super::error::ObjError;
use super::maps::{InitSlot, MapKind, MapSpec, MapSymbol, Pinning};

const MAP_TYPE_PROG_ARRAY: u32 = 3;
const MAP_TYPE_ARRAY_OF_MAPS: u32 = 12;
const MAP_TYPE_HASH_OF_MAPS: u32 = 13;
const LIBBPF_PIN_BY_NAME: u32 = 1;

/// Fills the `MapSpec`s of the `.maps` symbols (`syms`) from BTF and the initial slots from
/// the relocations of `.maps`.
pub(crate) fn fill_btf_maps(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    btf: &Btf<'_>,
    index: &BtfIndex<'_>,
    maps: &mut [MapSpec],
    syms: &[MapSymbol],
) -> Result<(), ObjError> {
    let datasec = index
        .datasec(".maps")
        .and_then(|id| btf.type_by_id(id).ok())
        .and_then(|t| t.as_datasec())
        .ok_or_else(|| ObjError::Section {
            section: ".maps".into(),
            what: "the object's BTF has no `.maps` DATASEC (compile with -g)".into(),
        })?;
    // Where the `values` array of each map starts in `.maps` (for initial slots).
    let mut values_at: Vec<(usize, u64, u64)> = Vec::new();
    // Indexes over `syms`, built once: no map or relocation scans them all.
    let mut by_name: HashMap<&str, &MapSymbol> = HashMap::with_capacity(syms.len());
    let mut by_offset: HashMap<(usize, u64), &MapSymbol> = HashMap::with_capacity(syms.len());
    let mut offsets: Vec<u64> = Vec::with_capacity(syms.len());
    for m in syms.iter().rev() {
        by_offset.insert((m.section, m.offset), m);
        if m.section == sec.index {
            by_name.insert(maps[m.map].name.as_str(), m);
            offsets.push(m.offset);
        }
    }
    offsets.sort_unstable();
    let by_name: HashMap<String, MapSymbol> = by_name
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.clone()))
        .collect();
    for vs in datasec.vars() {
        let var_ty = btf.type_by_id(vs.type_id).map_err(btf_err)?;
        let name = var_ty.name().map_err(btf_err)?;
        let var = var_ty
            .as_var()
            .ok_or_else(|| map_err(name, "is not a VAR in the `.maps` DATASEC"))?;
        match var.linkage() {
            VarLinkage::GlobalAllocated => {}
            VarLinkage::Static => {
                return Err(map_err(
                    name,
                    "is declared `static`, which libbpf and cilium/ebpf refuse (\"unsupported map linkage static\"): drop `static` from its definition in SEC(\".maps\")",
                ));
            }
            VarLinkage::GlobalExtern => {
                return Err(map_err(
                    name,
                    "is an `extern` map definition: link the object that defines it first (bpftool gen object)",
                ));
            }
            VarLinkage::Unknown(l) => {
                return Err(map_err(name, format!("unsupported map linkage {l}")));
            }
        }
        crate::work::step();
        let Some(ms) = by_name.get(name) else {
            return Err(map_err(name, "has BTF but no ELF symbol in `.maps`"));
        };
        let (spec, values_off) = parse_def(btf, name, var.type_id(), false)?;
        let idx = ms.map;
        maps[idx] = spec;
        if let Some(off) = values_off {
            // `values` is a flexible array: its initializer runs up to the next map.
            let end = offsets
                .get(offsets.partition_point(|&o| o <= ms.offset))
                .copied()
                .unwrap_or(sec.size);
            values_at.push((idx, ms.offset.saturating_add(off), end));
        }
    }
    // Initial slots: `.values = { [i] = &map_or_prog }` become relocations in `.maps`.
    values_at.sort_unstable_by_key(|&(_, start, _)| start);
    for rel in &elf.rels[sec.index] {
        crate::work::step();
        let sym = &elf.symbols[rel.symbol];
        let err = |what: String| ObjError::Relocation {
            section: ".maps".into(),
            insn: (rel.offset / 8) as usize,
            symbol: sym.display(),
            what,
        };
        if rel.kind != R_BPF_64_64 && rel.kind != 2 {
            return Err(err(format!(
                "unsupported relocation type {} in `.maps`",
                rel.kind
            )));
        }
        let at = values_at.partition_point(|&(_, s, _)| s <= rel.offset);
        let Some(&(map, start, _)) = at
            .checked_sub(1)
            .and_then(|i| values_at.get(i))
            .filter(|(_, s, e)| (*s..*e).contains(&rel.offset))
        else {
            return Err(err("relocation outside the `values` of any map".into()));
        };
        if (rel.offset - start) % 8 != 0 {
            return Err(err("relocation not aligned to a `values` slot".into()));
        }
        let slot =
            u32::try_from((rel.offset - start) / 8).map_err(|_| err("slot out of range".into()))?;
        let what = if sym.kind == STT_FUNC {
            InitSlot::Program(sym.name.to_owned())
        } else if let Some(ms) = sym.section.and_then(|s| by_offset.get(&(s, sym.value))) {
            InitSlot::Map(ms.map)
        } else {
            return Err(err("slot refers to neither a map nor a program".into()));
        };
        let m = &mut maps[map];
        let is_prog = m.map_type == MAP_TYPE_PROG_ARRAY;
        if is_prog != matches!(what, InitSlot::Program(_)) {
            return Err(err(format!(
                "slot of map `{}` holds the wrong kind of object",
                m.name
            )));
        }
        if slot >= m.max_entries {
            return Err(err(format!(
                "slot {slot} is past max_entries {} of `{}`",
                m.max_entries, m.name
            )));
        }
        m.init_slots.push((slot, what));
    }
    for m in maps.iter_mut() {
        m.init_slots.sort_by_key(|(s, _)| *s);
    }
    Ok(())
}

fn btf_err(e: crate::btf::BtfError) -> ObjError {
    ObjError::Btf {
        what: e.to_string(),
    }
}

fn map_err(map: &str, what: impl Into<String>) -> ObjError {
    ObjError::Map {
        map: map.to_owned(),
        what: what.into(),
    }
}

/// `__uint(name, N)`: a pointer to an array of N elements.
fn uint_value(btf: &Btf<'_>, map: &str, member: &str, id: TypeId) -> Result<u32, ObjError> {
    let bad = || {
        map_err(
            map,
            format!("`{member}` is not __uint(…) (a pointer to an array)"),
        )
    };
    let TypeView::Ptr(p) = btf.skip_mods_and_typedefs(id).map_err(btf_err)?.view() else {
        return Err(bad());
    };
    let TypeView::Array(a) = btf
        .skip_mods_and_typedefs(p.target())
        .map_err(btf_err)?
        .view()
    else {
        return Err(bad());
    };
    Ok(a.nelems())
}

/// `__ulong(name, N)` (an anonymous enum whose one value is N: 64 bits, e.g. an arena's
/// user address in `map_extra`) or `__uint(name, N)`, as libbpf's `get_map_field_long`.
fn ulong_value(btf: &Btf<'_>, map: &str, member: &str, id: TypeId) -> Result<u64, ObjError> {
    let t = btf.skip_mods_and_typedefs(id).map_err(btf_err)?;
    match t.view() {
        TypeView::Ptr(_) => uint_value(btf, map, member, id).map(u64::from),
        TypeView::Enum(e) | TypeView::Enum64(e) => {
            let mut values = e.values();
            match (values.next(), values.next()) {
                // An ENUM's value is 32 bits, zero-extended (as libbpf reads it).
                (Some(v), None) if e.is_64() => Ok(v.value_u64()),
                (Some(v), None) => Ok(v.value_u64() & u64::from(u32::MAX)),
                _ => Err(map_err(
                    map,
                    format!("`{member}` is not __ulong(…) (an enum of exactly one value)"),
                )),
            }
        }
        _ => Err(map_err(
            map,
            format!("`{member}` is neither __uint(…) nor __ulong(…)"),
        )),
    }
}

/// `__type(name, T)`: a pointer to T. Returns T's id and size.
fn type_value(
    btf: &Btf<'_>,
    map: &str,
    member: &str,
    id: TypeId,
) -> Result<(TypeId, u32), ObjError> {
    let TypeView::Ptr(p) = btf.skip_mods_and_typedefs(id).map_err(btf_err)?.view() else {
        return Err(map_err(
            map,
            format!("`{member}` is not __type(…) (a pointer)"),
        ));
    };
    let size = btf.size_of(p.target()).map_err(btf_err)?;
    Ok((p.target(), size))
}

/// Parses one map definition struct; returns the spec and the byte offset of its `values`
/// member, if any.
fn parse_def(
    btf: &Btf<'_>,
    name: &str,
    id: TypeId,
    inner: bool,
) -> Result<(MapSpec, Option<u64>), ObjError> {
    let t = btf.skip_mods_and_typedefs(id).map_err(btf_err)?;
    let TypeView::Struct(def) = t.view() else {
        return Err(map_err(name, "definition is not a struct"));
    };
    let mut m = MapSpec::new(name, MapKind::Btf);
    let mut values = None;
    let mut values_proto = None;
    for mem in def.members() {
        let mname = mem.name().map_err(btf_err)?;
        let ty = mem.type_id();
        match mname {
            "type" => m.map_type = uint_value(btf, name, mname, ty)?,
            "max_entries" => m.max_entries = uint_value(btf, name, mname, ty)?,
            "map_flags" => m.flags = uint_value(btf, name, mname, ty)?,
            "numa_node" => m.numa_node = uint_value(btf, name, mname, ty)?,
            "map_extra" => m.map_extra = ulong_value(btf, name, mname, ty)?,
            "key_size" | "value_size" => {
                let v = uint_value(btf, name, mname, ty)?;
                let (slot, other) = if mname == "key_size" {
                    (&mut m.key_size, m.key_type_id)
                } else {
                    (&mut m.value_size, m.value_type_id)
                };
                if other.is_some() && *slot != v {
                    return Err(map_err(
                        name,
                        format!(
                            "`{mname}` {v} conflicts with the size of its __type ({})",
                            *slot
                        ),
                    ));
                }
                *slot = v;
            }
            "key" | "value" => {
                let (tid, size) = type_value(btf, name, mname, ty)?;
                let (slot, slot_id) = if mname == "key" {
                    (&mut m.key_size, &mut m.key_type_id)
                } else {
                    (&mut m.value_size, &mut m.value_type_id)
                };
                if *slot != 0 && *slot != size {
                    return Err(map_err(
                        name,
                        format!(
                            "__type({mname}) has size {size}, but {mname}_size is {}",
                            *slot
                        ),
                    ));
                }
                *slot = size;
                *slot_id = Some(tid);
            }
            "pinning" => {
                if inner {
                    return Err(map_err(name, "an inner map cannot be pinned"));
                }
                m.pinning = match uint_value(btf, name, mname, ty)? {
                    0 => Pinning::None,
                    LIBBPF_PIN_BY_NAME => Pinning::ByName,
                    v => {
                        return Err(map_err(
                            name,
                            format!("unknown pinning {v} (only LIBBPF_PIN_BY_NAME is supported)"),
                        ));
                    }
                };
            }
            "values" => {
                if inner {
                    return Err(map_err(name, "an inner map cannot itself hold maps"));
                }
                let TypeView::Array(arr) = btf.skip_mods_and_typedefs(ty).map_err(btf_err)?.view()
                else {
                    return Err(map_err(name, "`values` is not __array(values, …)"));
                };
                let TypeView::Ptr(p) = btf
                    .skip_mods_and_typedefs(arr.elem_type())
                    .map_err(btf_err)?
                    .view()
                else {
                    return Err(map_err(name, "`values` elements are not pointers"));
                };
                values = Some(u64::from(mem.bit_offset() / 8));
                values_proto = Some(p.target());
            }
            other => {
                return Err(map_err(
                    name,
                    format!("unknown map definition field `{other}`"),
                ));
            }
        }
    }
    if let Some(target) = values_proto {
        let resolved = btf.skip_mods_and_typedefs(target).map_err(btf_err)?;
        match (m.map_type, resolved.view()) {
            (MAP_TYPE_ARRAY_OF_MAPS | MAP_TYPE_HASH_OF_MAPS, TypeView::Struct(_)) => {
                let (inner_spec, _) = parse_def(btf, &format!("{name}.inner"), target, true)?;
                m.inner = Some(Box::new(inner_spec));
            }
            (MAP_TYPE_PROG_ARRAY, TypeView::FuncProto(_)) => {}
            _ => {
                return Err(map_err(
                    name,
                    "`values` only fits a map-in-map (struct) or a prog array (function)",
                ));
            }
        }
        if m.value_size != 0 && m.value_size != 4 {
            return Err(map_err(
                name,
                format!("value_size {} with `values` (must be 4: fds)", m.value_size),
            ));
        }
        m.value_size = 4;
    }
    if m.map_type == 0 {
        return Err(map_err(
            name,
            "no `type` member (__uint(type, BPF_MAP_TYPE_…))",
        ));
    }
    Ok((m, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::{BtfBuilder, IntEncoding};

    /// `__uint`, a 32-bit `__ulong` (ENUM: zero-extended even when signed, as libbpf reads
    /// it), a 64-bit one (ENUM64), and what is neither.
    #[test]
    fn ulong_values() {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let arr = b.add_array(int, int, 7);
        let uint = b.add_ptr(arr);
        let e32 = b.add_enum("", 4, true, &[("v", -2)]).unwrap();
        let e64 = b
            .add_enum64("", 8, false, &[("v", 0x7f00_0000_0000)])
            .unwrap();
        let two = b.add_enum("", 4, false, &[("a", 1), ("b", 2)]).unwrap();
        let bytes = b.encode();
        let btf = Btf::parse(&bytes).unwrap();
        let v = |id| ulong_value(&btf, "m", "map_extra", id);
        assert_eq!(v(uint).unwrap(), 7);
        assert_eq!(v(e32).unwrap(), 0xffff_fffe);
        assert_eq!(v(e64).unwrap(), 0x7f00_0000_0000);
        assert!(
            v(two)
                .unwrap_err()
                .to_string()
                .contains("exactly one value")
        );
        assert!(v(int).is_err());
    }
}
