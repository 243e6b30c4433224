//! Rendering raw values as JSON the way `bpftool map dump` prints its `formatted` field.
//!
//! The rules follow bpftool's `btf_dumper.c` (JSON mode):
//! - STRUCT/UNION → object keyed by member name (anonymous members under `""`), VAR →
//!   `{"name": value}`, DATASEC → `{"section": [values…]}`;
//! - ARRAY → list, except an array of `char` (an INT of size 1 with the CHAR encoding or named
//!   `char`, modifiers skipped but not typedefs) whose bytes up to a NUL inside the array are
//!   all printable ASCII: then a string;
//! - INT → decimal by its signedness and width; BOOL → `true`/`false`; CHAR-encoded → a
//!   one-character string (`"\u00XX"` if not printable); 128-bit integers and bitfields (kind_flag
//!   members, and INTs with a bit offset or a width that is not a whole number of bytes) →
//!   a hex string such as `"0x1f"`;
//! - ENUM → the enumerator's name when the value matches one, else the signed value; ENUM64
//!   likewise (unmatched values printed as signed 64-bit, as bpftool does);
//! - PTR → the address as an unsigned decimal;
//! - TYPEDEF and modifiers are transparent.
//!
//! Deliberate differences, so the output is always valid JSON: strings are escaped per JSON
//! (bpftool leaves a printable `"` in a CHAR unescaped and writes `\'`), a BOOL reads only its
//! own size (bpftool reads 4 bytes), and FLOAT prints as a number (bpftool refuses it).

use super::resolve::MAX_RESOLVE_DEPTH;
use super::{Btf, BtfError, Kind, TypeId, TypeView};
use std::fmt::Write;

/// Zero-sized elements of an array printed at most (guards against `[0; 4G]` bombs).
const MAX_EMPTY_ELEMS: u32 = 1 << 16;
/// Values visited at most, beyond 16 per byte of data (guards against nested empty arrays).
const VISIT_SLACK: usize = 1 << 16;

/// `data` of type `type_id` as bpftool-style JSON text.
///
/// # Errors
/// [`BtfError::ValueTooShort`] if `data` is shorter than the type; resolution errors for
/// broken BTF; [`BtfError::WrongKind`] for types that have no value (void, FWD, FUNC, …).
pub fn format_value(btf: &Btf<'_>, type_id: TypeId, data: &[u8]) -> Result<String, BtfError> {
    let mut out = String::new();
    format_value_into(btf, type_id, data, &mut out)?;
    Ok(out)
}

/// [`format_value`], appending to `out`.
///
/// # Errors
/// As [`format_value`].
pub fn format_value_into(
    btf: &Btf<'_>,
    type_id: TypeId,
    data: &[u8],
    out: &mut String,
) -> Result<(), BtfError> {
    let need = btf.size_of(type_id).unwrap_or(0) as usize;
    if data.len() < need {
        return Err(BtfError::ValueTooShort {
            id: type_id,
            need,
            len: data.len(),
        });
    }
    let budget = data.len().saturating_mul(16).saturating_add(VISIT_SLACK);
    Dumper { btf, out, budget }.value(type_id, 0, data, 0)
}

/// A per-CPU value (`ncpus` slots of the type's size rounded up to 8 bytes, as the kernel lays
/// them out) as bpftool prints it: `[{"cpu":0,"value":…},…]`.
///
/// # Errors
/// As [`format_value`]; [`BtfError::ValueTooShort`] if `data` holds fewer than `ncpus` slots.
pub fn format_percpu_value(
    btf: &Btf<'_>,
    type_id: TypeId,
    data: &[u8],
    ncpus: usize,
) -> Result<String, BtfError> {
    let size = btf.size_of(type_id)? as usize;
    let stride = size.next_multiple_of(8);
    let need = stride.saturating_mul(ncpus);
    if data.len() < need {
        return Err(BtfError::ValueTooShort {
            id: type_id,
            need,
            len: data.len(),
        });
    }
    let mut out = String::from("[");
    for cpu in 0..ncpus {
        if cpu > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"cpu\":{cpu},\"value\":");
        format_value_into(
            btf,
            type_id,
            &data[cpu * stride..cpu * stride + size],
            &mut out,
        )?;
        out.push('}');
    }
    out.push(']');
    Ok(out)
}

/// Appends `s` as a JSON string literal.
pub(crate) fn json_string(out: &mut String, s: &[u8]) {
    out.push('"');
    for &c in s {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\u{:04x}", c);
            }
        }
    }
    out.push('"');
}

struct Dumper<'o, 'b> {
    btf: &'b Btf<'b>,
    out: &'o mut String,
    /// Values still allowed to be visited.
    budget: usize,
}

fn short(id: TypeId, need: usize, len: usize) -> BtfError {
    BtfError::ValueTooShort { id, need, len }
}

/// Little-endian-in-memory (native) unsigned value of up to 16 bytes.
fn load(data: &[u8], n: usize, id: TypeId) -> Result<u128, BtfError> {
    let b = data.get(..n).ok_or_else(|| short(id, n, data.len()))?;
    let mut buf = [0u8; 16];
    buf[..n].copy_from_slice(b);
    Ok(u128::from_ne_bytes(buf))
}

impl Dumper<'_, '_> {
    fn value(
        &mut self,
        id: TypeId,
        bit_off: u32,
        data: &[u8],
        depth: usize,
    ) -> Result<(), BtfError> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(BtfError::Loop { id });
        }
        self.budget = self.budget.checked_sub(1).ok_or(BtfError::BadSize {
            id,
            what: "value too large to print",
        })?;
        let t = self.btf.type_by_id(id)?;
        match t.view() {
            TypeView::Int(i) => self.int(
                id,
                i.encoding().bits(),
                i.bit_offset(),
                i.bits(),
                bit_off,
                data,
            ),
            TypeView::Struct(c) | TypeView::Union(c) => {
                self.out.push('{');
                for (n, m) in c.members().enumerate() {
                    if n > 0 {
                        self.out.push(',');
                    }
                    json_string(self.out, m.name_bytes());
                    self.out.push(':');
                    let off = m.bit_offset();
                    let d = data
                        .get((off / 8) as usize..)
                        .ok_or_else(|| short(id, (off / 8) as usize, data.len()))?;
                    match m.bitfield_size() {
                        0 => self.value(m.type_id(), off % 8, d, depth + 1)?,
                        bits => self.bitfield(id, bits, off % 8, d)?,
                    }
                }
                self.out.push('}');
                Ok(())
            }
            TypeView::Array(a) => {
                if let Some(s) = self.str_array(a.elem_type(), a.nelems(), data) {
                    json_string(self.out, s);
                    return Ok(());
                }
                let elem = self.btf.size_of(a.elem_type())? as usize;
                if elem == 0 && a.nelems() > MAX_EMPTY_ELEMS {
                    return Err(BtfError::BadSize {
                        id,
                        what: "too many zero-sized array elements to print",
                    });
                }
                self.out.push('[');
                for i in 0..a.nelems() as usize {
                    if i > 0 {
                        self.out.push(',');
                    }
                    let d = data
                        .get(i * elem..)
                        .ok_or_else(|| short(id, (i + 1) * elem, data.len()))?;
                    self.value(a.elem_type(), 0, d, depth + 1)?;
                }
                self.out.push(']');
                Ok(())
            }
            TypeView::Enum(e) => {
                let size = e.byte_size() as usize;
                if !matches!(size, 1 | 2 | 4 | 8) {
                    return Err(BtfError::BadSize {
                        id,
                        what: "enum size is not 1, 2, 4 or 8",
                    });
                }
                let raw = load(data, size, id)? as u64;
                let shift = 64 - 8 * size as u32;
                let v = ((raw << shift) as i64) >> shift; // sign-extended, as bpftool reads it
                match e.values().find(|x| x.word_i32() as i64 == v) {
                    Some(x) => json_string(self.out, x.name_bytes()),
                    None => {
                        let _ = write!(self.out, "{v}");
                    }
                }
                Ok(())
            }
            TypeView::Enum64(e) => {
                let v = load(data, 8, id)? as u64;
                match e.values().find(|x| x.value_u64() == v) {
                    Some(x) => json_string(self.out, x.name_bytes()),
                    None => {
                        let _ = write!(self.out, "{}", v as i64);
                    }
                }
                Ok(())
            }
            TypeView::Ptr(_) => {
                let v = load(data, 8, id)? as u64;
                let _ = write!(self.out, "{v}");
                Ok(())
            }
            TypeView::Float(f) => {
                match f.byte_size() {
                    4 => self.float(f32::from_bits(load(data, 4, id)? as u32) as f64),
                    8 => self.float(f64::from_bits(load(data, 8, id)? as u64)),
                    n => {
                        let v = load(data, (n as usize).min(16), id)?;
                        let _ = write!(self.out, "\"0x{v:x}\"");
                    }
                }
                Ok(())
            }
            TypeView::Typedef(r)
            | TypeView::Volatile(r)
            | TypeView::Const(r)
            | TypeView::Restrict(r) => self.value(r.target(), bit_off, data, depth + 1),
            TypeView::TypeTag(r) => self.value(r.target(), bit_off, data, depth + 1),
            TypeView::Var(v) => {
                self.out.push('{');
                json_string(self.out, v.name_bytes());
                self.out.push(':');
                self.value(v.type_id(), bit_off, data, depth + 1)?;
                self.out.push('}');
                Ok(())
            }
            TypeView::Datasec(s) => {
                self.out.push('{');
                json_string(self.out, s.name_bytes());
                self.out.push_str(":[");
                for (n, v) in s.vars().enumerate() {
                    if n > 0 {
                        self.out.push(',');
                    }
                    let d = data
                        .get(v.offset as usize..)
                        .ok_or_else(|| short(id, v.offset as usize, data.len()))?;
                    self.value(v.type_id, 0, d, depth + 1)?;
                }
                self.out.push_str("]}");
                Ok(())
            }
            _ => Err(BtfError::WrongKind {
                id,
                found: t.kind(),
                expected: "a type with a value",
            }),
        }
    }

    fn float(&mut self, v: f64) {
        if v.is_finite() {
            let _ = write!(self.out, "{v}");
        } else {
            let _ = write!(self.out, "\"{v}\"");
        }
    }

    /// bpftool's `is_str_array`: the bytes up to the first NUL, if they make a printable string.
    fn str_array<'d>(&self, elem: TypeId, nelems: u32, data: &'d [u8]) -> Option<&'d [u8]> {
        if nelems == 0 {
            return None;
        }
        let t = self.btf.skip_mods(elem).ok()?;
        let i = t.as_int()?;
        if i.byte_size() != 1 || (i.encoding().bits() != 2 && t.name_bytes() != b"char") {
            return None;
        }
        let bytes = data.get(..nelems as usize)?;
        let end = bytes.iter().position(|&c| c == 0)?;
        bytes[..end]
            .iter()
            .all(|c| (0x20..0x7f).contains(c))
            .then_some(&bytes[..end])
    }

    #[allow(clippy::too_many_arguments)]
    fn int(
        &mut self,
        id: TypeId,
        enc: u8,
        int_off: u32,
        bits: u32,
        bit_off: u32,
        data: &[u8],
    ) -> Result<(), BtfError> {
        if bit_off != 0 || int_off != 0 || bits % 8 != 0 {
            let total = bit_off + int_off;
            let d = data
                .get((total / 8) as usize..)
                .ok_or_else(|| short(id, (total / 8) as usize, data.len()))?;
            return self.bitfield(id, bits, total % 8, d);
        }
        if bits == 128 {
            let v = load(data, 16, id)?;
            let _ = write!(self.out, "\"0x{v:x}\"");
            return Ok(());
        }
        match enc {
            0 | 1 if !matches!(bits, 8 | 16 | 32 | 64) => self.bitfield(id, bits, 0, data),
            0 => {
                let v = load(data, (bits / 8) as usize, id)?;
                let _ = write!(self.out, "{v}");
                Ok(())
            }
            1 => {
                let raw = load(data, (bits / 8) as usize, id)? as u64;
                let shift = 64 - bits;
                let _ = write!(self.out, "{}", ((raw << shift) as i64) >> shift);
                Ok(())
            }
            2 => {
                let c = load(data, 1, id)? as u8;
                if (0x20..0x7f).contains(&c) {
                    json_string(self.out, &[c]);
                } else {
                    let _ = write!(self.out, "\"\\u00{c:02x}\"");
                }
                Ok(())
            }
            4 => {
                let v = load(data, (bits / 8).clamp(1, 16) as usize, id)?;
                self.out.push_str(if v != 0 { "true" } else { "false" });
                Ok(())
            }
            _ => Err(BtfError::BadType {
                id,
                offset: 0,
                what: "INT with an invalid encoding",
            }),
        }
    }

    /// A bitfield of `bits` bits starting `bit_off` (< 8) bits into `data`, as a hex string.
    fn bitfield(
        &mut self,
        id: TypeId,
        bits: u32,
        bit_off: u32,
        data: &[u8],
    ) -> Result<(), BtfError> {
        if bits == 0 || bits > 128 || bit_off + bits > 128 {
            return Err(BtfError::BadSize {
                id,
                what: "bitfield wider than 128 bits",
            });
        }
        let n = (bit_off + bits).div_ceil(8) as usize;
        let raw = load(data, n, id)?;
        let v = (raw >> bit_off)
            & if bits == 128 {
                u128::MAX
            } else {
                (1u128 << bits) - 1
            };
        let _ = write!(self.out, "\"0x{v:x}\"");
        Ok(())
    }
}

impl super::EnumValue<'_> {
    /// The raw 32-bit value of an ENUM enumerator, sign-extended.
    fn word_i32(&self) -> i32 {
        self.value_u64() as u32 as i32
    }
}

impl Kind {
    /// Whether values of this kind can be formatted.
    pub fn has_value(self) -> bool {
        !matches!(
            self,
            Kind::Void | Kind::Fwd | Kind::Func | Kind::FuncProto | Kind::DeclTag
        )
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
