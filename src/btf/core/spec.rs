//! Access specs: the parsed access string of a relocation (`"0:1:2"`) walked through the
//! local BTF, and its counterpart found in a target candidate (`bpf_core_parse_spec`,
//! `bpf_core_spec_match`).

use super::compat::{fields_compat, is_any_enum, skip, types_compat, types_match};
use super::{Fail, RelocClass};
use crate::btf::{Btf, CoreReloKind, Kind, TypeId};

/// Most accessors one spec may hold (libbpf's `BPF_CORE_SPEC_MAX_LEN`).
pub(crate) const MAX_SPEC_LEN: usize = 64;

/// One step of an access: a named member, an array index or an enumerator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Acc<'b> {
    /// The composite (member access), the array's element (index access) or the enum.
    pub type_id: TypeId,
    /// Member, element or enumerator index.
    pub idx: u32,
    /// Member or enumerator name; `None` for an array index.
    pub name: Option<&'b [u8]>,
}

/// A resolved access spec in one BTF.
#[derive(Debug, Clone)]
pub(crate) struct Spec<'b> {
    pub btf: &'b Btf<'b>,
    pub root: TypeId,
    /// High-level accessors: array indices and named members (anonymous members skipped).
    pub acc: Vec<Acc<'b>>,
    /// Every raw step, anonymous members included.
    pub raw: Vec<u32>,
    /// Bit offset of the accessed field from the root.
    pub bit_offset: u64,
}

/// Parses the access string: decimal indices separated by `:`.
pub(crate) fn parse_access(s: &str) -> Result<Vec<u32>, Fail> {
    if s.is_empty() {
        return Err(Fail::Invalid("empty access string".into()));
    }
    let mut out = Vec::new();
    for part in s.split(':') {
        if part.is_empty() || part.len() > 10 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Fail::Invalid(format!("malformed access string {s:?}")));
        }
        let v: u32 = part
            .parse()
            .ok()
            .filter(|&v| v <= i32::MAX as u32)
            .ok_or_else(|| Fail::Invalid(format!("access index out of range in {s:?}")))?;
        if out.len() == MAX_SPEC_LEN {
            return Err(Fail::Invalid(format!(
                "access string {s:?} has more than {MAX_SPEC_LEN} steps"
            )));
        }
        out.push(v);
    }
    Ok(out)
}

fn size_of(btf: &Btf<'_>, id: TypeId) -> Result<u64, Fail> {
    btf.size_of(id).map(u64::from).map_err(Fail::Btf)
}

/// The largest bit offset a spec may reach: 4 GiB, like the object's own BTF sizes (`u32`).
/// This bound keeps the offset arithmetic here and in `calc` from overflowing on crafted
/// BTF or access indices.
const MAX_BIT_OFFSET: u64 = u32::MAX as u64 * 8;

/// `offset + bits`, an error past [`MAX_BIT_OFFSET`].
fn add_bits(offset: u64, bits: u64) -> Result<u64, Fail> {
    offset
        .checked_add(bits)
        .filter(|&o| o <= MAX_BIT_OFFSET)
        .ok_or_else(|| Fail::Invalid("field offset beyond 4 GiB".into()))
}

/// The bits of `idx` elements of `size` bytes, an error past [`MAX_BIT_OFFSET`].
fn elems_bits(idx: u32, size: u64) -> Result<u64, Fail> {
    u64::from(idx)
        .checked_mul(size)
        .and_then(|b| b.checked_mul(8))
        .filter(|&o| o <= MAX_BIT_OFFSET)
        .ok_or_else(|| Fail::Invalid(format!("element {idx} of {size} bytes is beyond 4 GiB")))
}

/// Whether array `arr_id`, reached through `prev`, is a flexible array: declared with no
/// elements and the last member of its struct.
fn is_flex(btf: &Btf<'_>, prev: Option<&Acc<'_>>, nelems: u32) -> bool {
    let Some(prev) = prev else { return false };
    if prev.name.is_none() || nelems > 0 {
        return false;
    }
    btf.type_by_id(prev.type_id)
        .is_ok_and(|t| t.vlen() as u32 == prev.idx + 1)
}

/// `bpf_core_parse_spec`: walks `raw` from local type `root`.
pub(crate) fn parse_spec<'b>(
    btf: &'b Btf<'b>,
    root: TypeId,
    raw: Vec<u32>,
    class: RelocClass,
) -> Result<Spec<'b>, Fail> {
    let mut spec = Spec {
        btf,
        root,
        acc: Vec::with_capacity(raw.len()),
        raw,
        bit_offset: 0,
    };
    let first = spec.raw[0];
    let t = skip(btf, root)?;
    let mut id = t.id();
    match class {
        RelocClass::Type => {
            if spec.raw.len() != 1 || first != 0 {
                return Err(Fail::Invalid(
                    "type relocation needs the access string \"0\"".into(),
                ));
            }
            return Ok(spec);
        }
        RelocClass::Enumval => {
            let e = t
                .as_enum()
                .ok_or_else(|| Fail::Invalid(format!("enum relocation on {t:?}, not an enum")))?;
            if spec.raw.len() != 1 || first >= t.vlen() as u32 {
                return Err(Fail::Invalid(format!(
                    "enumerator index {first} out of range for {t:?}"
                )));
            }
            let v = e
                .values()
                .nth(first as usize)
                .ok_or_else(|| Fail::Invalid("enumerator out of range".into()))?;
            let name = btf.str_bytes(v.name_off()).map_err(Fail::Btf)?;
            spec.acc.push(Acc {
                type_id: id,
                idx: first,
                name: Some(name),
            });
            return Ok(spec);
        }
        RelocClass::Field => {}
    }
    let sz = size_of(btf, id)?;
    spec.bit_offset = elems_bits(first, sz)?;
    spec.acc.push(Acc {
        type_id: id,
        idx: first,
        name: None,
    });
    for i in 1..spec.raw.len() {
        let idx = spec.raw[i];
        let t = skip(btf, id)?;
        id = t.id();
        if let Some(c) = t.as_composite() {
            let m = c.members().nth(idx as usize).ok_or_else(|| {
                Fail::Invalid(format!("member index {idx} out of range for {t:?}"))
            })?;
            spec.bit_offset = add_bits(spec.bit_offset, u64::from(m.bit_offset()))?;
            let name = m.name_bytes();
            if !name.is_empty() {
                spec.acc.push(Acc {
                    type_id: id,
                    idx,
                    name: Some(name),
                });
            }
            id = m.type_id();
        } else if let Some(a) = t.as_array() {
            let elem = skip(btf, a.elem_type())?;
            let flex = is_flex(btf, spec.acc.last(), a.nelems());
            if !flex && idx >= a.nelems() {
                return Err(Fail::Invalid(format!(
                    "array index {idx} out of range for {t:?} of {} elements",
                    a.nelems()
                )));
            }
            id = elem.id();
            spec.acc.push(Acc {
                type_id: id,
                idx,
                name: None,
            });
            spec.bit_offset = add_bits(spec.bit_offset, elems_bits(idx, size_of(btf, id)?)?)?;
        } else {
            return Err(Fail::Invalid(format!(
                "access step {i} reaches {t:?}, which is neither a struct, union nor array"
            )));
        }
    }
    Ok(spec)
}

/// `bpf_core_spec_match`: the spec of `local` in target candidate `targ_id`, or `None` if the
/// candidate does not match.
pub(crate) fn match_spec<'t>(
    local: &Spec<'_>,
    kind: CoreReloKind,
    class: RelocClass,
    targ: &'t Btf<'t>,
    targ_id: TypeId,
) -> Result<Option<Spec<'t>>, Fail> {
    let mut out = Spec {
        btf: targ,
        root: targ_id,
        acc: Vec::with_capacity(local.acc.len()),
        raw: Vec::with_capacity(local.raw.len()),
        bit_offset: 0,
    };
    match class {
        RelocClass::Type => {
            let ok = if kind == CoreReloKind::TypeMatches {
                types_match(local.btf, local.root, targ, targ_id)?
            } else {
                types_compat(local.btf, local.root, targ, targ_id)?
            };
            return Ok(ok.then_some(out));
        }
        RelocClass::Enumval => {
            let Some(lname) = local.acc.first().and_then(|a| a.name) else {
                return Ok(None);
            };
            let t = skip(targ, targ_id)?;
            let Some(e) = t.as_enum().filter(|_| is_any_enum(t.kind())) else {
                return Ok(None);
            };
            for (i, v) in e.values().enumerate() {
                let n = targ.str_bytes(v.name_off()).unwrap_or(&[]);
                if !n.is_empty() && super::compat::names_match(lname, n) {
                    out.acc.push(Acc {
                        type_id: t.id(),
                        idx: i as u32,
                        name: Some(n),
                    });
                    out.raw.push(i as u32);
                    return Ok(Some(out));
                }
            }
            return Ok(None);
        }
        RelocClass::Field => {}
    }
    let mut id = targ_id;
    for (i, la) in local.acc.iter().enumerate() {
        if la.name.is_some() {
            match match_member(local.btf, la, targ, id, &mut out)? {
                Some(next) => id = next,
                None => return Ok(None),
            }
        } else {
            if i > 0 {
                let t = skip(targ, id)?;
                let Some(a) = t.as_array() else {
                    return Ok(None);
                };
                let flex = is_flex(targ, out.acc.last(), a.nelems());
                if !flex && la.idx >= a.nelems() {
                    return Ok(None);
                }
                id = skip(targ, a.elem_type())?.id();
            }
            if out.raw.len() == MAX_SPEC_LEN {
                return Err(Fail::Invalid("target access nests too deep".into()));
            }
            out.acc.push(Acc {
                type_id: id,
                idx: la.idx,
                name: None,
            });
            out.raw.push(la.idx);
            out.bit_offset = add_bits(out.bit_offset, elems_bits(la.idx, size_of(targ, id)?)?)?;
        }
    }
    Ok(Some(out))
}

/// `bpf_core_match_member`: finds the member named like local accessor `la` in target
/// composite `targ_id`, descending into anonymous structs and unions. Returns the member's
/// type id.
fn match_member<'t>(
    local: &Btf<'_>,
    la: &Acc<'_>,
    targ: &'t Btf<'t>,
    targ_id: TypeId,
    out: &mut Spec<'t>,
) -> Result<Option<TypeId>, Fail> {
    let mut budget = super::compat::STEP_BUDGET;
    match_member_depth(local, la, targ, targ_id, out, 0, &mut budget)
}

fn match_member_depth<'t>(
    local: &Btf<'_>,
    la: &Acc<'_>,
    targ: &'t Btf<'t>,
    targ_id: TypeId,
    out: &mut Spec<'t>,
    depth: usize,
    budget: &mut u32,
) -> Result<Option<TypeId>, Fail> {
    if depth > MAX_SPEC_LEN {
        return Err(Fail::Invalid("anonymous members nest too deep".into()));
    }
    let lt = local.type_by_id(la.type_id).map_err(Fail::Btf)?;
    let lm = lt
        .as_composite()
        .and_then(|c| c.members().nth(la.idx as usize))
        .ok_or_else(|| Fail::Invalid("local member out of range".into()))?;
    let lname = la.name.unwrap_or(&[]);
    let t = skip(targ, targ_id)?;
    let Some(c) = t.as_composite() else {
        return Ok(None);
    };
    for (i, m) in c.members().enumerate() {
        super::compat::step(budget)?;
        if out.raw.len() == MAX_SPEC_LEN {
            return Err(Fail::Invalid("target access nests too deep".into()));
        }
        let bit_off = u64::from(m.bit_offset());
        out.bit_offset = add_bits(out.bit_offset, bit_off)?;
        out.raw.push(i as u32);
        let name = m.name_bytes();
        if name.is_empty() {
            let found = match_member_depth(local, la, targ, m.type_id(), out, depth + 1, budget)?;
            if found.is_some() {
                return Ok(found);
            }
        } else if name == lname {
            if fields_compat(local, lm.type_id(), targ, m.type_id())? {
                out.acc.push(Acc {
                    type_id: t.id(),
                    idx: i as u32,
                    name: Some(name),
                });
                return Ok(Some(m.type_id()));
            }
            // libbpf stops at the first namesake, compatible or not.
            out.bit_offset -= bit_off;
            out.raw.pop();
            return Ok(None);
        }
        out.bit_offset -= bit_off;
        out.raw.pop();
    }
    Ok(None)
}

/// A readable form of a spec: `struct foo.bar[2].baz (0:1:2:0)`.
pub(crate) fn describe(spec: &Spec<'_>, class: RelocClass) -> String {
    let root = spec.btf.type_by_id(spec.root);
    let mut s = match &root {
        Ok(t) => {
            let kind = match t.kind() {
                Kind::Struct => "struct ",
                Kind::Union => "union ",
                Kind::Enum | Kind::Enum64 => "enum ",
                Kind::Typedef => "typedef ",
                _ => "",
            };
            format!("{kind}{}", String::from_utf8_lossy(t.name_bytes()))
        }
        Err(_) => format!("[{}]", spec.root),
    };
    if class == RelocClass::Enumval {
        if let Some(n) = spec.acc.first().and_then(|a| a.name) {
            s.push_str("::");
            s.push_str(&String::from_utf8_lossy(n));
        }
    } else {
        for (i, a) in spec.acc.iter().enumerate() {
            match a.name {
                Some(n) => {
                    s.push('.');
                    s.push_str(&String::from_utf8_lossy(n));
                }
                None if i == 0 && a.idx == 0 => {}
                None => s.push_str(&format!("[{}]", a.idx)),
            }
        }
    }
    if !spec.raw.is_empty() {
        let raw: Vec<String> = spec.raw.iter().map(u32::to_string).collect();
        s.push_str(&format!(" ({})", raw.join(":")));
    }
    s
}
