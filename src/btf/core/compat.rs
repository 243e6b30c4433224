//! Type compatibility rules of CO-RE, as libbpf's `relo_core.c` defines them:
//! field compatibility (the last step of a field access), type compatibility (the root of a
//! type-based relocation) and the stricter TYPE_MATCHES relation.

use super::Fail;
use crate::btf::{Btf, Kind, Type, TypeId, essential_len};

/// How deep the type graph is followed before giving up (libbpf uses 32).
const MAX_DEPTH: i32 = 32;

/// How many comparison steps one question may take: a crafted BTF (a struct whose members
/// all are that struct, a func proto whose parameters all are that proto) would otherwise
/// make the depth-bounded walks exponential.
pub(crate) const STEP_BUDGET: u32 = 1 << 16;

/// Takes one step of the budget.
pub(crate) fn step(budget: &mut u32) -> Result<(), Fail> {
    *budget = budget.checked_sub(1).ok_or_else(|| {
        Fail::Invalid(format!(
            "type graph too complex to compare (more than {STEP_BUDGET} steps)"
        ))
    })?;
    Ok(())
}

/// Whether two names are equal once their `___flavor` suffixes are dropped; an anonymous
/// target only matches an anonymous local.
pub(crate) fn names_match(local: &[u8], targ: &[u8]) -> bool {
    if targ.is_empty() {
        return local.is_empty();
    }
    local[..essential_len(local)] == targ[..essential_len(targ)]
}

pub(crate) fn is_any_enum(k: Kind) -> bool {
    matches!(k, Kind::Enum | Kind::Enum64)
}

/// Same kind, or both enums (ENUM and ENUM64 are interchangeable).
pub(crate) fn kinds_compat(a: Kind, b: Kind) -> bool {
    a == b || (is_any_enum(a) && is_any_enum(b))
}

/// An INT that is not a legacy bitfield (`BTF_INT_OFFSET` 0).
fn plain_int(t: &Type<'_>) -> bool {
    t.as_int().is_some_and(|i| i.bit_offset() == 0)
}

/// Skips modifiers and typedefs.
pub(crate) fn skip<'b>(btf: &'b Btf<'b>, id: TypeId) -> Result<Type<'b>, Fail> {
    btf.skip_mods_and_typedefs(id).map_err(Fail::Btf)
}

/// `bpf_core_fields_are_compat`: may a local field of type `local_id` be read as the target
/// field of type `targ_id`?
pub(crate) fn fields_compat(
    local: &Btf<'_>,
    mut local_id: TypeId,
    targ: &Btf<'_>,
    mut targ_id: TypeId,
) -> Result<bool, Fail> {
    for _ in 0..MAX_DEPTH {
        let l = skip(local, local_id)?;
        let t = skip(targ, targ_id)?;
        if l.is_composite() && t.is_composite() {
            return Ok(true);
        }
        if !kinds_compat(l.kind(), t.kind()) {
            return Ok(false);
        }
        match l.kind() {
            Kind::Ptr | Kind::Float => return Ok(true),
            Kind::Fwd | Kind::Enum | Kind::Enum64 => {
                // Either is anonymous, or both have the same essential name.
                let (ln, tn) = (l.name_bytes(), t.name_bytes());
                return Ok(ln.is_empty() || tn.is_empty() || names_match(ln, tn));
            }
            Kind::Int => return Ok(plain_int(&l) && plain_int(&t)),
            Kind::Array => {
                let (Some(la), Some(ta)) = (l.as_array(), t.as_array()) else {
                    return Ok(false);
                };
                local_id = la.elem_type();
                targ_id = ta.elem_type();
            }
            _ => return Ok(false),
        }
    }
    Err(Fail::Invalid(
        "type graph too deep while comparing fields".into(),
    ))
}

/// `bpf_core_types_are_compat`: the relation TYPE_EXISTS, TYPE_SIZE and TYPE_ID_TARGET use.
pub(crate) fn types_compat(
    local: &Btf<'_>,
    local_id: TypeId,
    targ: &Btf<'_>,
    targ_id: TypeId,
) -> Result<bool, Fail> {
    let mut budget = STEP_BUDGET;
    types_compat_depth(local, local_id, targ, targ_id, MAX_DEPTH, &mut budget)
}

fn types_compat_depth(
    local: &Btf<'_>,
    mut local_id: TypeId,
    targ: &Btf<'_>,
    mut targ_id: TypeId,
    mut depth: i32,
    budget: &mut u32,
) -> Result<bool, Fail> {
    loop {
        step(budget)?;
        depth -= 1;
        if depth < 0 {
            return Err(Fail::Invalid(
                "type graph too deep while comparing types".into(),
            ));
        }
        let l = skip(local, local_id)?;
        let t = skip(targ, targ_id)?;
        if !kinds_compat(l.kind(), t.kind()) {
            return Ok(false);
        }
        match l.kind() {
            Kind::Void | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                return Ok(true);
            }
            Kind::Int => return Ok(plain_int(&l) && plain_int(&t)),
            Kind::Ptr => {
                local_id = l.size_or_type();
                targ_id = t.size_or_type();
            }
            Kind::Array => {
                let (Some(la), Some(ta)) = (l.as_array(), t.as_array()) else {
                    return Ok(false);
                };
                local_id = la.elem_type();
                targ_id = ta.elem_type();
            }
            Kind::FuncProto => {
                let (Some(lp), Some(tp)) = (l.as_func_proto(), t.as_func_proto()) else {
                    return Ok(false);
                };
                if l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for (a, b) in lp.params().zip(tp.params()) {
                    if !types_compat_depth(
                        local,
                        a.type_id(),
                        targ,
                        b.type_id(),
                        depth - 1,
                        budget,
                    )? {
                        return Ok(false);
                    }
                }
                local_id = lp.return_type();
                targ_id = tp.return_type();
            }
            _ => return Ok(false),
        }
    }
}

/// `__bpf_core_types_match`: the stricter relation of TYPE_MATCHES.
pub(crate) fn types_match(
    local: &Btf<'_>,
    local_id: TypeId,
    targ: &Btf<'_>,
    targ_id: TypeId,
) -> Result<bool, Fail> {
    let mut budget = STEP_BUDGET;
    types_match_depth(
        local,
        local_id,
        targ,
        targ_id,
        false,
        MAX_DEPTH,
        &mut budget,
    )
}

fn types_match_depth(
    local: &Btf<'_>,
    mut local_id: TypeId,
    targ: &Btf<'_>,
    mut targ_id: TypeId,
    mut behind_ptr: bool,
    mut level: i32,
    budget: &mut u32,
) -> Result<bool, Fail> {
    loop {
        step(budget)?;
        if level <= 0 {
            return Err(Fail::Invalid(
                "type graph too deep while matching types".into(),
            ));
        }
        level -= 1;
        let l = skip(local, local_id)?;
        let t = skip(targ, targ_id)?;
        if !names_match(l.name_bytes(), t.name_bytes()) {
            return Ok(false);
        }
        let (lk, tk) = (l.kind(), t.kind());
        match lk {
            Kind::Void => return Ok(tk == Kind::Void),
            Kind::Fwd => {
                let lf = l.kind_flag();
                return Ok(if behind_ptr && lk != tk {
                    // The kind flag says whether the declaration is a union.
                    (tk == Kind::Struct && !lf) || (tk == Kind::Union && lf)
                } else {
                    lk == tk && lf == t.kind_flag()
                });
            }
            Kind::Enum | Kind::Enum64 => {
                return Ok(is_any_enum(tk) && enums_match(&l, &t));
            }
            Kind::Struct | Kind::Union => {
                if behind_ptr {
                    if lk == tk {
                        return Ok(true);
                    }
                    return Ok(tk == Kind::Fwd && (lk == Kind::Union) == t.kind_flag());
                }
                if lk != tk {
                    return Ok(false);
                }
                return composites_match(local, &l, targ, &t, behind_ptr, level, budget);
            }
            Kind::Int => {
                let (Some(li), Some(ti)) = (l.as_int(), t.as_int()) else {
                    return Ok(false);
                };
                return Ok(li.byte_size() == ti.byte_size() && li.is_signed() == ti.is_signed());
            }
            Kind::Ptr => {
                if lk != tk {
                    return Ok(false);
                }
                behind_ptr = true;
                local_id = l.size_or_type();
                targ_id = t.size_or_type();
            }
            Kind::Array => {
                let (Some(la), Some(ta)) = (l.as_array(), t.as_array()) else {
                    return Ok(false);
                };
                if la.nelems() != ta.nelems() {
                    return Ok(false);
                }
                local_id = la.elem_type();
                targ_id = ta.elem_type();
            }
            Kind::FuncProto => {
                let (Some(lp), Some(tp)) = (l.as_func_proto(), t.as_func_proto()) else {
                    return Ok(false);
                };
                if l.vlen() != t.vlen() {
                    return Ok(false);
                }
                for (a, b) in lp.params().zip(tp.params()) {
                    if !types_match_depth(
                        local,
                        a.type_id(),
                        targ,
                        b.type_id(),
                        behind_ptr,
                        level,
                        budget,
                    )? {
                        return Ok(false);
                    }
                }
                local_id = lp.return_type();
                targ_id = tp.return_type();
            }
            _ => return Ok(false),
        }
    }
}

/// Every local enumerator has a namesake in the target, and the sizes agree.
fn enums_match(l: &Type<'_>, t: &Type<'_>) -> bool {
    let (Some(le), Some(te)) = (l.as_enum(), t.as_enum()) else {
        return false;
    };
    if le.byte_size() != te.byte_size() || l.vlen() > t.vlen() {
        return false;
    }
    le.values().all(|lv| {
        let ln = l.btf().str_bytes(lv.name_off()).unwrap_or(&[]);
        te.values().any(|tv| {
            let tn = t.btf().str_bytes(tv.name_off()).unwrap_or(&[]);
            names_match(ln, tn)
        })
    })
}

/// Every local member has a namesake in the target whose type matches.
fn composites_match(
    local: &Btf<'_>,
    l: &Type<'_>,
    targ: &Btf<'_>,
    t: &Type<'_>,
    behind_ptr: bool,
    level: i32,
    budget: &mut u32,
) -> Result<bool, Fail> {
    let (Some(lc), Some(tc)) = (l.as_composite(), t.as_composite()) else {
        return Ok(false);
    };
    if l.vlen() > t.vlen() {
        return Ok(false);
    }
    for lm in lc.members() {
        let mut matched = false;
        for tm in tc.members() {
            step(budget)?;
            if !names_match(lm.name_bytes(), tm.name_bytes()) {
                continue;
            }
            if types_match_depth(
                local,
                lm.type_id(),
                targ,
                tm.type_id(),
                behind_ptr,
                level,
                budget,
            )? {
                matched = true;
                break;
            }
        }
        if !matched {
            return Ok(false);
        }
    }
    Ok(true)
}
