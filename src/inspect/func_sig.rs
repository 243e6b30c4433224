//! Function signatures from BTF as bpftool prints them above each function of a dump
//! (`btf_dumper_type_only`): `int drain(void * ctx)`.

use crate::btf::{Btf, Kind, TypeId, VarLinkage};

/// Modifier chains deeper than this give up (broken or hostile BTF).
const MAX_DEPTH: u32 = 64;

/// The signature of the `FUNC` (or `FUNC_PROTO`) `id` as bpftool prints it: each type is
/// followed by a space (`__u64 * ctx`, `struct bpf_dynptr * d`), no parameter name after an
/// unnamed parameter's type, `...` for varargs. `None` for kinds bpftool cannot print (type
/// tags, decl tags, …), where it prints no signature line.
pub fn func_signature(btf: &Btf<'_>, id: TypeId) -> Option<String> {
    let mut out = String::new();
    type_only(btf, id, &mut out, 0)?;
    Some(out)
}

fn name<'a>(btf: &'a Btf<'_>, off: u32) -> &'a str {
    btf.string(off).unwrap_or("")
}

fn func(
    btf: &Btf<'_>,
    proto: TypeId,
    fname: Option<&str>,
    out: &mut String,
    depth: u32,
) -> Option<()> {
    let t = btf.type_by_id(proto).ok()?;
    let p = t.as_func_proto()?;
    type_only(btf, p.return_type(), out, depth + 1)?;
    out.push_str(fname.unwrap_or(""));
    out.push('(');
    for (i, arg) in p.params().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if arg.type_id() == 0 {
            out.push_str("...");
            continue;
        }
        type_only(btf, arg.type_id(), out, depth + 1)?;
        if arg.name_off() != 0 {
            out.push_str(name(btf, arg.name_off()));
        } else if out.ends_with(' ') {
            out.pop();
        }
    }
    out.push(')');
    Some(())
}

fn type_only(btf: &Btf<'_>, id: TypeId, out: &mut String, depth: u32) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    if id == 0 {
        out.push_str("void ");
        return Some(());
    }
    let t = btf.type_by_id(id).ok()?;
    let n = name(btf, t.name_off());
    match t.kind() {
        Kind::Int | Kind::Typedef | Kind::Float => {
            out.push_str(n);
            out.push(' ');
        }
        Kind::Struct => {
            out.push_str("struct ");
            out.push_str(n);
            out.push(' ');
        }
        Kind::Union => {
            out.push_str("union ");
            out.push_str(n);
            out.push(' ');
        }
        Kind::Enum | Kind::Enum64 => {
            out.push_str("enum ");
            out.push_str(n);
            out.push(' ');
        }
        Kind::Array => {
            let a = t.as_array()?;
            type_only(btf, a.elem_type(), out, depth + 1)?;
            out.push_str(&format!("[{}]", a.nelems() as i32));
        }
        Kind::Ptr => {
            type_only(btf, t.ref_type()?, out, depth + 1)?;
            out.push_str("* ");
        }
        Kind::Fwd => {
            out.push_str(if t.kind_flag() { "union " } else { "struct " });
            out.push_str(n);
            out.push(' ');
        }
        Kind::Volatile | Kind::Const | Kind::Restrict => {
            out.push_str(match t.kind() {
                Kind::Volatile => "volatile ",
                Kind::Const => "const ",
                _ => "restrict ",
            });
            type_only(btf, t.ref_type()?, out, depth + 1)?;
        }
        Kind::FuncProto => func(btf, id, None, out, depth)?,
        Kind::Func => {
            let f = t.as_func()?;
            func(btf, f.proto(), Some(n), out, depth)?;
        }
        Kind::Var => {
            let v = t.as_var()?;
            if v.linkage() == VarLinkage::Static {
                out.push_str("static ");
            }
            type_only(btf, v.type_id(), out, depth + 1)?;
            out.push(' ');
            out.push_str(n);
        }
        Kind::Datasec => {
            out.push_str(&format!("section (\"{n}\") "));
        }
        _ => return None,
    }
    Some(())
}
