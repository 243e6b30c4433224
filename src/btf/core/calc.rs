//! The value a relocation takes for one spec (`bpf_core_calc_*_relo`): computed once for
//! the local spec (the value the compiler put in the instruction) and once for the target.

use super::compat::is_any_enum;
use super::spec::Spec;
use super::{Fail, RelocClass};
use crate::btf::{CoreReloKind, Kind, TypeId};

/// What one spec gives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Calc {
    pub val: u64,
    /// Memory size of a plain (non-bitfield) field, for load/store size adjustment.
    pub field_size: u32,
    /// The field's type (modifiers and typedefs skipped), with `field_size`.
    pub field_type: TypeId,
    /// Whether the instruction's current value must equal the local value.
    pub validate: bool,
}

/// `None` asks for the instruction to be poisoned.
pub(crate) fn calc(
    kind: CoreReloKind,
    class: RelocClass,
    spec: Option<&Spec<'_>>,
) -> Result<Option<Calc>, Fail> {
    match class {
        RelocClass::Field => field(kind, spec),
        RelocClass::Type => ty(kind, spec).map(Some),
        RelocClass::Enumval => enumval(kind, spec),
    }
}

fn field(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<Option<Calc>, Fail> {
    use CoreReloKind::*;
    let mut c = Calc::default();
    if kind == FieldExists {
        c.val = spec.is_some() as u64;
        c.validate = true;
        return Ok(Some(c));
    }
    let Some(spec) = spec else { return Ok(None) };
    let acc = spec
        .acc
        .last()
        .ok_or_else(|| Fail::Invalid("empty field spec".into()))?;
    let btf = spec.btf;
    let size = |id| btf.size_of(id).map_err(Fail::Btf);
    if acc.name.is_none() {
        // An array element (or the root itself): only offset and size make sense.
        match kind {
            FieldByteOffset => {
                c.val = spec.bit_offset / 8;
                c.field_size = size(acc.type_id)?;
                c.field_type = acc.type_id;
            }
            FieldByteSize => c.val = u64::from(size(acc.type_id)?),
            _ => {
                return Err(Fail::Invalid(format!(
                    "{kind:?} cannot be applied to an array element access"
                )));
            }
        }
        c.validate = true;
        return Ok(Some(c));
    }
    let parent = btf.type_by_id(acc.type_id).map_err(Fail::Btf)?;
    let m = parent
        .as_composite()
        .and_then(|p| p.members().nth(acc.idx as usize))
        .ok_or_else(|| Fail::Invalid("member out of range".into()))?;
    let mt = btf.skip_mods_and_typedefs(m.type_id()).map_err(Fail::Btf)?;
    let bit_off = spec.bit_offset;
    let mut bit_sz = u64::from(m.bitfield_size());
    let bitfield = bit_sz > 0;
    let (byte_off, byte_sz);
    if bitfield {
        let mut sz = u64::from(mt.size().unwrap_or(0));
        if sz == 0 {
            return Err(Fail::Invalid(format!("bitfield of sizeless type {mt:?}")));
        }
        let mut off = bit_off / 8 / sz * sz;
        // The smallest load that covers the whole bitfield.
        while bit_off + bit_sz - off * 8 > sz * 8 {
            if sz >= 8 {
                return Err(Fail::Invalid(
                    "bitfield cannot be read with one 64-bit load".into(),
                ));
            }
            sz *= 2;
            off = bit_off / 8 / sz * sz;
        }
        byte_off = off;
        byte_sz = sz;
    } else {
        byte_sz = u64::from(size(mt.id())?);
        byte_off = bit_off / 8;
        bit_sz = byte_sz * 8;
    }
    c.validate = !bitfield;
    c.val = match kind {
        FieldByteOffset => {
            if !bitfield {
                c.field_size = byte_sz as u32;
                c.field_type = mt.id();
            }
            byte_off
        }
        FieldByteSize => byte_sz,
        FieldSigned => {
            c.validate = true;
            let signed = (is_any_enum(mt.kind()) && mt.kind_flag())
                || mt.as_int().is_some_and(|i| i.is_signed());
            signed as u64
        }
        FieldLshiftU64 => 64u64.wrapping_sub(bit_off + bit_sz - byte_off * 8),
        FieldRshiftU64 => {
            c.validate = true;
            64 - bit_sz.min(64)
        }
        _ => return Err(Fail::Invalid(format!("{kind:?} is not a field relocation"))),
    };
    Ok(Some(c))
}

fn ty(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<Calc, Fail> {
    use CoreReloKind::*;
    let mut c = Calc {
        validate: true,
        ..Calc::default()
    };
    let Some(spec) = spec else { return Ok(c) };
    c.val = match kind {
        TypeIdTarget | TypeIdLocal => {
            // Ids change when BTF is linked or sanitized: do not insist on them.
            c.validate = false;
            u64::from(spec.root)
        }
        TypeExists | TypeMatches => 1,
        TypeSize => u64::from(spec.btf.size_of(spec.root).map_err(Fail::Btf)?),
        _ => return Err(Fail::Invalid(format!("{kind:?} is not a type relocation"))),
    };
    Ok(c)
}

fn enumval(kind: CoreReloKind, spec: Option<&Spec<'_>>) -> Result<Option<Calc>, Fail> {
    let mut c = Calc {
        validate: true,
        ..Calc::default()
    };
    match kind {
        CoreReloKind::EnumvalExists => c.val = spec.is_some() as u64,
        CoreReloKind::EnumvalValue => {
            let Some(spec) = spec else { return Ok(None) };
            let acc = spec
                .acc
                .first()
                .ok_or_else(|| Fail::Invalid("empty enum spec".into()))?;
            let t = spec.btf.type_by_id(acc.type_id).map_err(Fail::Btf)?;
            let v = t
                .as_enum()
                .filter(|_| matches!(t.kind(), Kind::Enum | Kind::Enum64))
                .and_then(|e| e.values().nth(acc.idx as usize))
                .ok_or_else(|| Fail::Invalid("enumerator out of range".into()))?;
            // Unsigned 32-bit values are zero-extended, signed ones sign-extended.
            c.val = v.value_u64();
        }
        _ => return Err(Fail::Invalid(format!("{kind:?} is not an enum relocation"))),
    }
    Ok(Some(c))
}
