//! Rewriting object BTF for kernels that lack some kinds, as libbpf's
//! `bpf_object__sanitize_btf` does (facts from libbpf; the code is ours).

use super::build::encode_sections;
use super::parse::{TYPE_LEN, rd32};
use super::{Btf, BtfError, Kind};

/// Which BTF features the target kernel supports (the loader probes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelBtfFeatures {
    /// FUNC and FUNC_PROTO (since Linux 5.0).
    pub func: bool,
    /// FUNC with global linkage (since Linux 5.6).
    pub func_global: bool,
    /// VAR and DATASEC (since Linux 5.2).
    pub datasec: bool,
    /// DATASEC names starting with `?` (since Linux 6.5).
    pub qmark_datasec: bool,
    /// FLOAT (since Linux 5.13).
    pub float: bool,
    /// DECL_TAG (since Linux 5.16).
    pub decl_tag: bool,
    /// TYPE_TAG (since Linux 5.17).
    pub type_tag: bool,
    /// ENUM64 and signed ENUM (since Linux 6.0).
    pub enum64: bool,
}

impl KernelBtfFeatures {
    /// Everything supported: sanitizing changes nothing.
    pub const ALL: KernelBtfFeatures = KernelBtfFeatures {
        func: true,
        func_global: true,
        datasec: true,
        qmark_datasec: true,
        float: true,
        decl_tag: true,
        type_tag: true,
        enum64: true,
    };
    /// Nothing beyond the BTF of Linux 4.18.
    pub const NONE: KernelBtfFeatures = KernelBtfFeatures {
        func: false,
        func_global: false,
        datasec: false,
        qmark_datasec: false,
        float: false,
        decl_tag: false,
        type_tag: false,
        enum64: false,
    };

    /// Whether some BTF may need rewriting for this kernel.
    pub fn needs_sanitize(&self) -> bool {
        *self != Self::ALL
    }
}

impl Default for KernelBtfFeatures {
    fn default() -> Self {
        Self::ALL
    }
}

fn set(v: &mut [u8], off: usize, w: u32) {
    if let Some(b) = v.get_mut(off..off + 4) {
        b.copy_from_slice(&w.to_ne_bytes());
    }
}

fn info(kind: Kind, vlen: u32) -> u32 {
    ((kind as u32) << 24) | (vlen & 0xffff)
}

/// `btf` (object BTF, not split) re-encoded with every kind the kernel lacks replaced the way
/// libbpf replaces it:
///
/// - no DATASEC: VAR → 1-byte INT; DATASEC → STRUCT (name's `.`/`?` → `_`, each variable a
///   member named like the VAR at offset × 8);
/// - no `?` DATASEC names: a leading `?` → `_`;
/// - no FUNC: FUNC_PROTO → 4-byte ENUM, FUNC → TYPEDEF; no global FUNC: linkage → static;
/// - no FLOAT: → anonymous empty STRUCT of the same size;
/// - no DECL_TAG: → 1-byte INT; no TYPE_TAG: → anonymous CONST;
/// - no ENUM64: ENUM loses its signedness; ENUM64 → UNION whose members all have type
///   `enum64_placeholder` (a 1-byte INT appended at the end) at offset 0.
///
/// Type ids do not change (the placeholder is added last), so `.BTF.ext` and relocations stay
/// valid.
///
/// # Errors
/// [`BtfError::Encode`] for split BTF.
pub fn sanitize(btf: &Btf<'_>, f: KernelBtfFeatures) -> Result<Vec<u8>, BtfError> {
    if btf.base().is_some() {
        return Err(BtfError::Encode {
            what: "sanitizing split BTF is not supported",
        });
    }
    let mut types = btf.type_section().to_vec();
    let mut strs = btf.string_section().to_vec();
    let mut placeholder = 0u32;
    let mut off = 0usize;
    for t in btf.types() {
        let at = off;
        off += t.raw().len();
        let kind = t.kind();
        let vlen = t.vlen() as u32;
        if (!f.datasec && kind == Kind::Var) || (!f.decl_tag && kind == Kind::DeclTag) {
            set(&mut types, at + 4, info(Kind::Int, 0));
            set(&mut types, at + 8, 1);
            set(&mut types, at + TYPE_LEN, 8); // BTF_INT_ENC(0, 0, 8)
        } else if !f.datasec && kind == Kind::Datasec {
            rename(
                &mut strs,
                t.name_off(),
                |c| if c == b'.' || c == b'?' { b'_' } else { c },
                false,
            );
            set(&mut types, at + 4, info(Kind::Struct, vlen));
            for j in 0..vlen as usize {
                let m = at + TYPE_LEN + j * 12;
                let (vtype, voff) = (rd32(&types, m), rd32(&types, m + 4));
                let vname = btf.type_by_id(vtype).map(|v| v.name_off()).unwrap_or(0);
                set(&mut types, m, vname);
                set(&mut types, m + 4, vtype);
                set(&mut types, m + 8, voff.wrapping_mul(8));
            }
        } else if !f.qmark_datasec && kind == Kind::Datasec && t.name_bytes().first() == Some(&b'?')
        {
            rename(&mut strs, t.name_off(), |_| b'_', true);
        } else if !f.func && kind == Kind::FuncProto {
            set(&mut types, at + 4, info(Kind::Enum, vlen));
            set(&mut types, at + 8, 4);
        } else if !f.func && kind == Kind::Func {
            set(&mut types, at + 4, info(Kind::Typedef, 0));
        } else if !f.func_global && kind == Kind::Func {
            set(&mut types, at + 4, info(Kind::Func, 0));
        } else if !f.float && kind == Kind::Float {
            set(&mut types, at, 0);
            set(&mut types, at + 4, info(Kind::Struct, 0));
        } else if !f.type_tag && kind == Kind::TypeTag {
            set(&mut types, at, 0);
            set(&mut types, at + 4, info(Kind::Const, 0));
        } else if !f.enum64 && kind == Kind::Enum {
            set(&mut types, at + 4, info(Kind::Enum, vlen));
        } else if !f.enum64 && kind == Kind::Enum64 {
            if placeholder == 0 {
                placeholder = btf.last_id() + 1;
            }
            set(&mut types, at + 4, info(Kind::Union, vlen));
            for j in 0..vlen as usize {
                let m = at + TYPE_LEN + j * 12;
                set(&mut types, m + 4, placeholder);
                set(&mut types, m + 8, 0);
            }
        }
    }
    if placeholder != 0 {
        let name_off = strs.len() as u32;
        strs.extend_from_slice(b"enum64_placeholder\0");
        for w in [name_off, info(Kind::Int, 0), 1, 8] {
            types.extend_from_slice(&w.to_ne_bytes());
        }
    }
    Ok(encode_sections(&types, &strs))
}

/// Rewrites the string at `off` in place (all of it, or only its first byte).
fn rename(strs: &mut [u8], off: u32, f: impl Fn(u8) -> u8, first_only: bool) {
    let Some(s) = strs.get_mut(off as usize..) else {
        return;
    };
    for c in s.iter_mut().take_while(|c| **c != 0) {
        *c = f(*c);
        if first_only {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::{BtfBuilder, FuncLinkage, IntEncoding, TypeView, VarLinkage, VarSecinfo};

    fn object_btf() -> Vec<u8> {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let proto = b.add_func_proto(int, &[("ctx", int)]).unwrap();
        let func = b.add_func("prog", proto, FuncLinkage::Global);
        let var = b.add_var("counter", int, VarLinkage::GlobalAllocated);
        b.add_datasec(
            ".data.x",
            8,
            &[VarSecinfo {
                type_id: var,
                offset: 4,
                size: 4,
            }],
        )
        .unwrap();
        b.add_datasec("?.bss", 0, &[]).unwrap();
        b.add_float("double", 8);
        b.add_decl_tag("arg:ctx", func, 0, false);
        b.add_type_tag("user", int, false);
        b.add_enum("e", 4, true, &[("A", -1)]).unwrap();
        b.add_enum64("e64", 8, false, &[("B", 1 << 40), ("C", 2)])
            .unwrap();
        b.encode()
    }

    #[test]
    fn all_features_is_identity() {
        let bytes = object_btf();
        let btf = Btf::parse(&bytes).unwrap();
        assert_eq!(sanitize(&btf, KernelBtfFeatures::ALL).unwrap(), bytes);
    }

    #[test]
    fn nothing_supported() {
        let bytes = object_btf();
        let btf = Btf::parse(&bytes).unwrap();
        let out = sanitize(&btf, KernelBtfFeatures::NONE).unwrap();
        let s = Btf::parse(&out).unwrap();
        let kinds: Vec<Kind> = s.types().map(|t| t.kind()).collect();
        use Kind::*;
        assert_eq!(
            kinds,
            [
                Int, Enum, Typedef, Int, Struct, Struct, Struct, Int, Const, Enum, Union, Int
            ]
        );
        let proto = s.type_by_id(2).unwrap();
        assert_eq!((proto.size(), proto.vlen()), (Some(4), 1));
        let ds = s.type_by_id(5).unwrap();
        assert_eq!(ds.name().unwrap(), "_data_x");
        let m = ds.as_composite().unwrap().members().next().unwrap();
        assert_eq!(
            (m.name().unwrap(), m.type_id(), m.bit_offset()),
            ("counter", 4, 32)
        );
        assert_eq!(s.type_by_id(6).unwrap().name().unwrap(), "__bss");
        let fl = s.type_by_id(7).unwrap();
        assert_eq!((fl.name().unwrap(), fl.size()), ("", Some(8)));
        assert!(!s.type_by_id(10).unwrap().kind_flag());
        let TypeView::Union(u) = s.type_by_id(11).unwrap().view() else {
            panic!()
        };
        assert!(
            u.members()
                .all(|m| m.type_id() == 12 && m.bit_offset() == 0)
        );
        let ph = s.type_by_id(12).unwrap();
        assert_eq!(ph.name().unwrap(), "enum64_placeholder");
        assert_eq!(s.size_of(12).unwrap(), 1);
    }

    #[test]
    fn only_global_func_and_qmark_missing() {
        let bytes = object_btf();
        let btf = Btf::parse(&bytes).unwrap();
        let f = KernelBtfFeatures {
            func_global: false,
            qmark_datasec: false,
            ..KernelBtfFeatures::ALL
        };
        let out = sanitize(&btf, f).unwrap();
        let s = Btf::parse(&out).unwrap();
        assert_eq!(
            s.type_by_id(3).unwrap().as_func().unwrap().linkage(),
            FuncLinkage::Static
        );
        assert_eq!(s.type_by_id(6).unwrap().name().unwrap(), "_.bss");
        assert_eq!(s.type_by_id(5).unwrap().name().unwrap(), ".data.x");
        assert_eq!(s.len(), btf.len());
    }
}
