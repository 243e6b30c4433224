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
//!   parameters of their prototype get the dummy's name (the kernel wants named parameters);
//! - the FUNCs of hidden global subprograms (`.text` functions with `STV_HIDDEN` or
//!   `STV_INTERNAL` visibility) become
//!   static (`BTF_FUNC_STATIC`), so the verifier checks them with their caller.
//!
//! Existing type ids never change (CO-RE relocations, func_info and map key/value ids stay
//! valid); an `int` and the dummy VAR are appended when needed.

use crate::btf::Btf;

use super::btf_index::{BtfIndex, int_type};
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

/// Returns the BTF bytes ready for the kernel (see the module docs). The output is built
/// in one buffer: header and types copied once and patched in place, then the appended
/// types, the strings and the appended strings.
pub(crate) fn fixup_btf(
    raw: &[u8],
    btf: &Btf<'_>,
    index: &BtfIndex<'_>,
    elf: &Elf<'_>,
    externs: &[ExternSpec],
    kconfig_size: u32,
    hidden_subprogs: &[&str],
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
    // At most an `int` and a VAR (16 bytes each) and their names are appended.
    let mut out = Vec::with_capacity(hdr_len + type_len + str_len + 64);
    out.extend_from_slice(header);
    out.extend_from_slice(types);

    let mut int_id = None;
    let next_id = btf.last_id() + 1;
    let rec = |id: u32| btf.type_offset(id).map(|o| o + hdr_len);
    let kind_of = |out: &[u8], id: u32| {
        rec(id)
            .and_then(|o| rd(out, o + 4))
            .map(|i| (i >> 24) & 0x1f)
    };
    let name_of = |out: &[u8], id: u32| -> Option<&[u8]> {
        let n = rd(out, rec(id)?)? as usize;
        let s = strs.get(n..)?;
        let end = s.iter().position(|&b| b == 0)?;
        Some(&s[..end])
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
    let ext_index: std::collections::HashMap<&[u8], &ExternSpec> = externs
        .iter()
        .rev()
        .map(|e| (e.name.as_bytes(), e))
        .collect();
    let ext_by_name = |name: &[u8]| ext_index.get(name).copied();
    let mut dummy: Option<(u32, u32)> = None; // (id, name_off)

    for &(ds_id, _) in &index.datasecs {
        if kind_of(&out, ds_id) != Some(KIND_DATASEC) {
            continue;
        }
        let o = rec(ds_id).ok_or_else(|| bad("type table"))?;
        let vlen = (rd(&out, o + 4).unwrap_or(0) & 0xffff) as usize;
        let name = name_of(&out, ds_id).unwrap_or_default();
        match name {
            b".kconfig" => {
                for i in 0..vlen {
                    let vs = o + 12 + i * 12;
                    let var = rd(&out, vs).unwrap_or(0);
                    let vname = name_of(&out, var).unwrap_or_default();
                    if let Some(ExternKind::Kconfig { offset, .. }) =
                        ext_by_name(vname).map(|e| e.kind)
                    {
                        wr(&mut out, vs + 4, offset);
                    }
                    if kind_of(&out, var) == Some(KIND_VAR) {
                        if let Some(vo) = rec(var) {
                            wr(&mut out, vo + 12, VAR_GLOBAL_ALLOCATED);
                        }
                    }
                }
                wr(&mut out, o + 8, kconfig_size);
            }
            b".ksyms" => {
                if int_id.is_none() {
                    int_id = int_type(btf);
                }
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
                    let target = rd(&out, vs).unwrap_or(0);
                    match kind_of(&out, target) {
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
                            let info = rd(&out, fo + 4).unwrap_or(0);
                            wr(&mut out, fo + 4, (info & !0xffff) | FUNC_GLOBAL);
                            let proto = rd(&out, fo + 8).unwrap_or(0);
                            if kind_of(&out, proto) == Some(KIND_FUNC_PROTO) {
                                let po = rec(proto).ok_or_else(|| bad("type table"))?;
                                let n = (rd(&out, po + 4).unwrap_or(0) & 0xffff) as usize;
                                for p in 0..n {
                                    let param = po + 12 + p * 8;
                                    if rd(&out, param) == Some(0)
                                        && rd(&out, param + 4).is_some_and(|t| t != 0)
                                    {
                                        wr(&mut out, param, dname);
                                    }
                                }
                            }
                            wr(&mut out, vs, did);
                        }
                        Some(KIND_VAR) => {
                            if let Some(vo) = rec(target) {
                                wr(&mut out, vo + 8, int);
                                wr(&mut out, vo + 12, VAR_GLOBAL_ALLOCATED);
                            }
                        }
                        _ => {}
                    }
                    wr(&mut out, vs + 4, (i * 4) as u32);
                    wr(&mut out, vs + 8, 4);
                }
                wr(&mut out, o + 8, (vlen * 4) as u32);
            }
            sec_name => {
                let Some(sec) = std::str::from_utf8(sec_name)
                    .ok()
                    .and_then(|n| elf.section_by_name(n))
                else {
                    continue;
                };
                if rd(&out, o + 8) == Some(0) {
                    wr(&mut out, o + 8, u32::try_from(sec.size).unwrap_or(u32::MAX));
                }
                for i in 0..vlen {
                    let vs = o + 12 + i * 12;
                    let var = rd(&out, vs).unwrap_or(0);
                    let Some(vname) = name_of(&out, var) else {
                        continue;
                    };
                    if let Some(sym) = std::str::from_utf8(vname)
                        .ok()
                        .and_then(|n| elf.symbol_named(sec.index, n))
                    {
                        wr(
                            &mut out,
                            vs + 4,
                            u32::try_from(sym.value).unwrap_or(u32::MAX),
                        );
                    }
                }
            }
        }
    }

    // Hidden global subprograms (`__hidden`, as libbpf's usdt.bpf.h marks bpf_usdt_arg) are
    // static to the verifier: their FUNC gets static linkage, as libbpf does, or the verifier
    // would check them on their own as global functions.
    for name in hidden_subprogs {
        let found = (btf.first_id()..=btf.last_id()).find(|&id| {
            kind_of(&out, id) == Some(KIND_FUNC)
                && rec(id).and_then(|o| rd(&out, o + 4)).map(|i| i & 0xffff) == Some(FUNC_GLOBAL)
                && name_of(&out, id) == Some(name.as_bytes())
        });
        if let Some(o) = found.and_then(rec) {
            let info = rd(&out, o + 4).unwrap_or(0);
            wr(&mut out, o + 4, info & !0xffff);
        }
    }

    let new_type_len = type_len + appended.len();
    let new_str_len = str_len + new_strs.len();
    wr(&mut out, 8, 0);
    wr(&mut out, 12, new_type_len as u32);
    wr(&mut out, 16, new_type_len as u32);
    wr(&mut out, 20, new_str_len as u32);
    out.extend_from_slice(&appended);
    out.extend_from_slice(strs);
    out.extend_from_slice(&new_strs);
    Ok(out)
}
