//! Preparing the object's BTF for `BPF_BTF_LOAD`, as libbpf does before loading: clang leaves
//! DATASEC sizes and variable offsets at 0 in object files and describes externs in ways the
//! kernel refuses, so:
//!
//! - every DATASEC named after an ELF section gets the section's size, and each of its
//!   variables the offset of the ELF symbol of the same name;
//! - `.kconfig` gets the size of the `.kconfig` map and the offsets this parser chose, and its
//!   VARs become "global allocated" (the kernel refuses extern VARs);
//! - `.ksyms` entries become 4-byte `int` VARs at consecutive offsets; FUNC entries (kfuncs)
//!   are replaced in the DATASEC by a dummy `int` VAR, get global linkage, and unnamed
//!   parameters of their prototype get the dummy's name (the kernel wants named parameters).
//!
//! Existing type ids never change (CO-RE relocations, func_info and map key/value ids stay
//! valid); an `int` and the dummy VAR are appended when needed.

use std::collections::HashMap;

use crate::btf::Btf;

use super::elf::Elf;
use super::error::ObjError;
use super::{ExternKind, ExternSpec};

const KIND_INT: u32 = 1;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const VAR_GLOBAL_ALLOCATED: u32 = 1;
const FUNC_GLOBAL: u32 = 1;
const DUMMY_NAME: &str = "dummy_ksym";

fn rd(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn wr(b: &mut [u8], off: usize, v: u32) -> Option<()> {
    b.get_mut(off..off.checked_add(4)?)?
        .copy_from_slice(&v.to_le_bytes());
    Some(())
}

fn bad(what: impl Into<String>) -> ObjError {
    ObjError::Btf { what: what.into() }
}

/// Returns the BTF bytes ready for the kernel (see the module docs).
pub(crate) fn fixup_btf(
    raw: &[u8],
    btf: &Btf<'_>,
    elf: &Elf<'_>,
    externs: &[ExternSpec],
    kconfig_size: u32,
) -> Result<Vec<u8>, ObjError> {
    if elf.big_endian {
        return Ok(raw.to_vec());
    }
    let hdr_len = rd(raw, 4).ok_or_else(|| bad("header truncated"))? as usize;
    let type_off = rd(raw, 8).ok_or_else(|| bad("header truncated"))? as usize;
    let type_len = rd(raw, 12).ok_or_else(|| bad("header truncated"))? as usize;
    let str_off = rd(raw, 16).ok_or_else(|| bad("header truncated"))? as usize;
    let str_len = rd(raw, 20).ok_or_else(|| bad("header truncated"))? as usize;
    let types_at = hdr_len + type_off;
    let strs_at = hdr_len + str_off;
    let (Some(types), Some(strs), Some(header)) = (
        raw.get(types_at..types_at + type_len),
        raw.get(strs_at..strs_at + str_len),
        raw.get(..hdr_len),
    ) else {
        return Err(bad("sections lie outside the blob"));
    };
    let mut types = types.to_vec();
    let mut strs = strs.to_vec();

    // Offset of each type record in `types`, by id.
    let mut at = vec![0usize; 1];
    let mut off = 0;
    let mut int_id = None;
    let mut id = 1u32;
    for t in btf.types() {
        at.push(off);
        let info = t.info();
        let kind = (info >> 24) & 0x1f;
        if kind == KIND_INT
            && int_id.is_none()
            && t.name().ok() == Some("int")
            && t.size() == Some(4)
        {
            int_id = Some(id);
        }
        off += t.raw().len();
        id += 1;
    }
    let next_id = id;
    let rec = |id: u32| at.get(id as usize).copied();
    let kind_of = |types: &[u8], id: u32| {
        rec(id)
            .and_then(|o| rd(types, o + 4))
            .map(|i| (i >> 24) & 0x1f)
    };
    let name_of = |types: &[u8], id: u32| -> Option<String> {
        let n = rd(types, rec(id)?)? as usize;
        let s = strs.get(n..)?;
        let end = s.iter().position(|&b| b == 0)?;
        Some(String::from_utf8_lossy(&s[..end]).into_owned())
    };

    let mut appended: Vec<u8> = Vec::new();
    let mut new_strs: Vec<u8> = Vec::new();
    let mut next = next_id;
    let add_string = |new_strs: &mut Vec<u8>, s: &str| -> u32 {
        let off = (str_len + new_strs.len()) as u32;
        new_strs.extend_from_slice(s.as_bytes());
        new_strs.push(0);
        off
    };

    let ext_by_name: HashMap<&str, &ExternSpec> =
        externs.iter().map(|e| (e.name.as_str(), e)).collect();
    let mut dummy: Option<(u32, u32)> = None; // (id, name_off)

    for ds_id in 1..next_id {
        if kind_of(&types, ds_id) != Some(KIND_DATASEC) {
            continue;
        }
        let o = rec(ds_id).ok_or_else(|| bad("type table"))?;
        let vlen = (rd(&types, o + 4).unwrap_or(0) & 0xffff) as usize;
        let name = name_of(&types, ds_id).unwrap_or_default();
        match name.as_str() {
            ".kconfig" => {
                for i in 0..vlen {
                    let vs = o + 12 + i * 12;
                    let var = rd(&types, vs).unwrap_or(0);
                    let vname = name_of(&types, var).unwrap_or_default();
                    if let Some(ExternKind::Kconfig { offset, .. }) =
                        ext_by_name.get(vname.as_str()).map(|e| e.kind)
                    {
                        wr(&mut types, vs + 4, offset);
                    }
                    if kind_of(&types, var) == Some(KIND_VAR) {
                        if let Some(vo) = rec(var) {
                            wr(&mut types, vo + 12, VAR_GLOBAL_ALLOCATED);
                        }
                    }
                }
                wr(&mut types, o + 8, kconfig_size);
            }
            ".ksyms" => {
                let int = match int_id {
                    Some(i) => i,
                    None => {
                        let name_off = add_string(&mut new_strs, "int");
                        for w in [name_off, KIND_INT << 24, 4, (1 << 24) | 32] {
                            appended.extend_from_slice(&w.to_le_bytes());
                        }
                        int_id = Some(next);
                        next += 1;
                        next - 1
                    }
                };
                for i in 0..vlen {
                    let vs = o + 12 + i * 12;
                    let target = rd(&types, vs).unwrap_or(0);
                    match kind_of(&types, target) {
                        Some(KIND_FUNC) => {
                            let (did, dname) = *dummy.get_or_insert_with(|| {
                                let name_off = add_string(&mut new_strs, DUMMY_NAME);
                                for w in [name_off, KIND_VAR << 24, int, VAR_GLOBAL_ALLOCATED] {
                                    appended.extend_from_slice(&w.to_le_bytes());
                                }
                                next += 1;
                                (next - 1, name_off)
                            });
                            let fo = rec(target).ok_or_else(|| bad("type table"))?;
                            let info = rd(&types, fo + 4).unwrap_or(0);
                            wr(&mut types, fo + 4, (info & !0xffff) | FUNC_GLOBAL);
                            let proto = rd(&types, fo + 8).unwrap_or(0);
                            if kind_of(&types, proto) == Some(KIND_FUNC_PROTO) {
                                let po = rec(proto).ok_or_else(|| bad("type table"))?;
                                let n = (rd(&types, po + 4).unwrap_or(0) & 0xffff) as usize;
                                for p in 0..n {
                                    let param = po + 12 + p * 8;
                                    if rd(&types, param) == Some(0)
                                        && rd(&types, param + 4).is_some_and(|t| t != 0)
                                    {
                                        wr(&mut types, param, dname);
                                    }
                                }
                            }
                            wr(&mut types, vs, did);
                        }
                        Some(KIND_VAR) => {
                            if let Some(vo) = rec(target) {
                                wr(&mut types, vo + 8, int);
                                wr(&mut types, vo + 12, VAR_GLOBAL_ALLOCATED);
                            }
                        }
                        _ => {}
                    }
                    wr(&mut types, vs + 4, (i * 4) as u32);
                    wr(&mut types, vs + 8, 4);
                }
                wr(&mut types, o + 8, (vlen * 4) as u32);
            }
            sec_name => {
                let Some(sec) = elf.section_by_name(sec_name) else {
                    continue;
                };
                if rd(&types, o + 8) == Some(0) {
                    wr(
                        &mut types,
                        o + 8,
                        u32::try_from(sec.size).unwrap_or(u32::MAX),
                    );
                }
                for i in 0..vlen {
                    let vs = o + 12 + i * 12;
                    let var = rd(&types, vs).unwrap_or(0);
                    let Some(vname) = name_of(&types, var) else {
                        continue;
                    };
                    if let Some(sym) = elf
                        .symbols
                        .iter()
                        .find(|s| s.section == Some(sec.index) && s.name == vname)
                    {
                        wr(
                            &mut types,
                            vs + 4,
                            u32::try_from(sym.value).unwrap_or(u32::MAX),
                        );
                    }
                }
            }
        }
    }

    let mut out = header.to_vec();
    let new_type_len = types.len() + appended.len();
    let new_str_len = strs.len() + new_strs.len();
    wr(&mut out, 8, 0);
    wr(&mut out, 12, new_type_len as u32);
    wr(&mut out, 16, new_type_len as u32);
    wr(&mut out, 20, new_str_len as u32);
    out.extend_from_slice(&types);
    out.extend_from_slice(&appended);
    strs.extend_from_slice(&new_strs);
    out.extend_from_slice(&strs);
    Ok(out)
}
