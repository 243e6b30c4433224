//! [`dump_raw`]: BTF types listed as `bpftool btf dump … format raw` lists them.
//!
//! ```text
//! [2] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED
//! [8] STRUCT 'inner' size=32 vlen=4
//!     'type' type_id=1 bits_offset=0     (a tab, not spaces, before each member)
//! [9] VAR 'inner_a' type_id=8, linkage=global
//! ```

use std::fmt::Write;

use super::{Btf, FuncLinkage, IntEncoding, Kind, Type, VarLinkage};

/// Every type of `btf`'s own blob (not its base's, for split BTF), one header line each and
/// one tab-indented line per member, enumerator, parameter or section variable.
pub fn dump_raw(btf: &Btf<'_>) -> String {
    let mut out = String::new();
    for t in btf.types() {
        dump_type(btf, &t, &mut out);
    }
    out
}

fn name_or_anon<'a>(btf: &'a Btf<'_>, off: u32) -> &'a str {
    match btf.string(off) {
        Ok("") | Err(_) => "(anon)",
        Ok(s) => s,
    }
}

fn str_at<'a>(btf: &'a Btf<'_>, off: u32) -> &'a str {
    btf.string(off).unwrap_or("")
}

/// The kind names bpftool prints.
fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Void => "UNKNOWN",
        Kind::Int => "INT",
        Kind::Ptr => "PTR",
        Kind::Array => "ARRAY",
        Kind::Struct => "STRUCT",
        Kind::Union => "UNION",
        Kind::Enum => "ENUM",
        Kind::Fwd => "FWD",
        Kind::Typedef => "TYPEDEF",
        Kind::Volatile => "VOLATILE",
        Kind::Const => "CONST",
        Kind::Restrict => "RESTRICT",
        Kind::Func => "FUNC",
        Kind::FuncProto => "FUNC_PROTO",
        Kind::Var => "VAR",
        Kind::Datasec => "DATASEC",
        Kind::Float => "FLOAT",
        Kind::DeclTag => "DECL_TAG",
        Kind::TypeTag => "TYPE_TAG",
        Kind::Enum64 => "ENUM64",
    }
}

fn dump_type(btf: &Btf<'_>, t: &Type<'_>, out: &mut String) {
    let _ = write!(
        out,
        "[{}] {} '{}'",
        t.id(),
        kind_name(t.kind()),
        name_or_anon(btf, t.name_off())
    );
    match t.kind() {
        Kind::Int => {
            if let Some(i) = t.as_int() {
                let enc = i.encoding();
                let enc = if enc.is_empty() {
                    "(none)"
                } else if enc == IntEncoding::SIGNED {
                    "SIGNED"
                } else if enc == IntEncoding::CHAR {
                    "CHAR"
                } else if enc == IntEncoding::BOOL {
                    "BOOL"
                } else {
                    "UNKN"
                };
                let _ = write!(
                    out,
                    " size={} bits_offset={} nr_bits={} encoding={enc}",
                    i.byte_size(),
                    i.bit_offset(),
                    i.bits()
                );
            }
        }
        Kind::Ptr
        | Kind::Const
        | Kind::Volatile
        | Kind::Restrict
        | Kind::Typedef
        | Kind::TypeTag => {
            let _ = write!(out, " type_id={}", t.size_or_type());
        }
        Kind::Array => {
            if let Some(a) = t.as_array() {
                let _ = write!(
                    out,
                    " type_id={} index_type_id={} nr_elems={}",
                    a.elem_type(),
                    a.index_type(),
                    a.nelems()
                );
            }
        }
        Kind::Struct | Kind::Union => {
            let _ = write!(out, " size={} vlen={}", t.size_or_type(), t.vlen());
            if let Some(c) = t.as_composite() {
                for m in c.members() {
                    let _ = write!(
                        out,
                        "\n\t'{}' type_id={} bits_offset={}",
                        name_or_anon(btf, m.name_off()),
                        m.type_id(),
                        m.bit_offset()
                    );
                    if m.bitfield_size() != 0 {
                        let _ = write!(out, " bitfield_size={}", m.bitfield_size());
                    }
                }
            }
        }
        Kind::Enum | Kind::Enum64 => {
            if let Some(e) = t.as_enum() {
                let signed = e.is_signed();
                let _ = write!(
                    out,
                    " encoding={} size={} vlen={}",
                    if signed { "SIGNED" } else { "UNSIGNED" },
                    t.size_or_type(),
                    t.vlen()
                );
                for v in e.values() {
                    let n = str_at(btf, v.name_off());
                    let _ = match (e.is_64(), signed) {
                        (false, true) => write!(out, "\n\t'{n}' val={}", v.value_i64() as i32),
                        (false, false) => write!(out, "\n\t'{n}' val={}", v.value_u64() as u32),
                        (true, true) => write!(out, "\n\t'{n}' val={}LL", v.value_i64()),
                        (true, false) => write!(out, "\n\t'{n}' val={}ULL", v.value_u64()),
                    };
                }
            }
        }
        Kind::Fwd => {
            let _ = write!(
                out,
                " fwd_kind={}",
                if t.kind_flag() { "union" } else { "struct" }
            );
        }
        Kind::Func => {
            if let Some(f) = t.as_func() {
                let linkage = match f.linkage() {
                    FuncLinkage::Static => "static",
                    FuncLinkage::Global => "global",
                    FuncLinkage::Extern => "extern",
                    FuncLinkage::Unknown(_) => "(unknown)",
                };
                let _ = write!(out, " type_id={} linkage={linkage}", f.proto());
            }
        }
        Kind::FuncProto => {
            if let Some(p) = t.as_func_proto() {
                let _ = write!(out, " ret_type_id={} vlen={}", p.return_type(), t.vlen());
                for a in p.params() {
                    let _ = write!(
                        out,
                        "\n\t'{}' type_id={}",
                        name_or_anon(btf, a.name_off()),
                        a.type_id()
                    );
                }
            }
        }
        Kind::Var => {
            if let Some(v) = t.as_var() {
                let linkage = match v.linkage() {
                    VarLinkage::Static => "static",
                    VarLinkage::GlobalAllocated => "global",
                    VarLinkage::GlobalExtern => "extern",
                    _ => "(unknown)",
                };
                let _ = write!(out, " type_id={}, linkage={linkage}", v.type_id());
            }
        }
        Kind::Datasec => {
            let _ = write!(out, " size={} vlen={}", t.size_or_type(), t.vlen());
            if let Some(d) = t.as_datasec() {
                for v in d.vars() {
                    let _ = write!(
                        out,
                        "\n\ttype_id={} offset={} size={}",
                        v.type_id, v.offset, v.size
                    );
                    if let Ok(vt) = btf.type_by_id(v.type_id) {
                        let _ = write!(
                            out,
                            " ({} '{}')",
                            kind_name(vt.kind()),
                            name_or_anon(btf, vt.name_off())
                        );
                    }
                }
            }
        }
        Kind::Float => {
            let _ = write!(out, " size={}", t.size_or_type());
        }
        Kind::DeclTag => {
            if let Some(d) = t.as_decl_tag() {
                let _ = write!(
                    out,
                    " type_id={} component_idx={}",
                    d.target(),
                    d.component_idx()
                );
            }
        }
        Kind::Void => {}
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::{BtfBuilder, NewMember};

    #[test]
    fn kinds_as_bpftool_prints_them() {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let ptr = b.add_ptr(int);
        let s = b
            .add_struct(
                "s",
                8,
                &[
                    NewMember::new("a", int, 0),
                    NewMember::bitfield("b", int, 32, 3),
                ],
            )
            .unwrap();
        let e = b.add_enum64("big", 8, true, &[("NEG", u64::MAX)]).unwrap();
        let p = b.add_func_proto(int, &[("x", ptr), ("", 0)]).unwrap();
        b.add_func("f", p, FuncLinkage::Global);
        b.add_fwd("u", true);
        b.add_float("float", 4);
        b.add_decl_tag("tag", s, -1, false);
        let _ = e;
        let btf = Btf::parse_owned(b.encode()).unwrap();
        assert_eq!(
            dump_raw(&btf),
            "[1] INT 'int' size=4 bits_offset=0 nr_bits=32 encoding=SIGNED\n\
             [2] PTR '(anon)' type_id=1\n\
             [3] STRUCT 's' size=8 vlen=2\n\
             \t'a' type_id=1 bits_offset=0\n\
             \t'b' type_id=1 bits_offset=32 bitfield_size=3\n\
             [4] ENUM64 'big' encoding=SIGNED size=8 vlen=1\n\
             \t'NEG' val=-1LL\n\
             [5] FUNC_PROTO '(anon)' ret_type_id=1 vlen=2\n\
             \t'x' type_id=2\n\
             \t'(anon)' type_id=0\n\
             [6] FUNC 'f' type_id=5 linkage=global\n\
             [7] FWD 'u' fwd_kind=union\n\
             [8] FLOAT 'float' size=4\n\
             [9] DECL_TAG 'tag' type_id=3 component_idx=-1\n"
        );
    }
}
