//! struct_ops variables: `SEC(".struct_ops")` and `SEC(".struct_ops.link")` globals whose
//! type is a kernel ops struct (`struct tcp_congestion_ops`, `struct sched_ext_ops`, …), their
//! initial bytes, and which `SEC("struct_ops/…")` program each function-pointer member points
//! to (from the section's relocations).
//!
//! The loader turns each into a `BPF_MAP_TYPE_STRUCT_OPS` map whose value is the kernel's
//! `struct bpf_struct_ops_<type>` with the members copied over by name.

use crate::btf::{Btf, Kind};

use super::elf::{Elf, STT_FUNC, STT_OBJECT, STT_SECTION, read_u32};
use super::error::{ObjError, section_err};

/// One struct_ops variable of the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsSpec {
    /// The variable's name (also the map's name).
    pub name: String,
    /// Its ELF section: `.struct_ops` (registered by a map update) or `.struct_ops.link`
    /// (created with `BPF_F_LINK`, registered by a link).
    pub section: String,
    /// The ops struct's name, e.g. `tcp_congestion_ops`.
    pub type_name: String,
    /// The variable's bytes as compiled (function pointers are 0).
    pub data: Vec<u8>,
    /// The members of the object's definition of the struct, in order.
    pub members: Vec<StructOpsMember>,
}

impl StructOpsSpec {
    /// Whether the variable is in `.struct_ops.link`.
    pub fn is_link(&self) -> bool {
        self.section.starts_with(".struct_ops.link")
    }

    /// The member a program is set in, if any.
    pub fn member_of_program(&self, prog: &str) -> Option<&StructOpsMember> {
        self.members
            .iter()
            .find(|m| m.program.as_deref() == Some(prog))
    }
}

/// One member of a struct_ops variable's type (as the object defines it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructOpsMember {
    /// Member name (matched by name against the kernel's struct).
    pub name: String,
    /// Byte offset in the variable.
    pub offset: u32,
    /// Byte size.
    pub size: u32,
    /// Whether it is a function pointer.
    pub is_func_ptr: bool,
    /// The program (function name) the member points to, from the relocations.
    pub program: Option<String>,
}

fn btf_err(e: crate::btf::BtfError) -> ObjError {
    ObjError::Btf {
        what: e.to_string(),
    }
}

/// The struct_ops variables of every `.struct_ops*` section.
pub(crate) fn parse(elf: &Elf<'_>, btf: Option<&Btf<'_>>) -> Result<Vec<StructOpsSpec>, ObjError> {
    let mut out = Vec::new();
    for sec in &elf.sections {
        if sec.name != ".struct_ops" && !sec.name.starts_with(".struct_ops.") {
            continue;
        }
        let Some(btf) = btf else {
            return Err(section_err(
                sec.name,
                "struct_ops variables need the object's BTF (compile with -g)",
            ));
        };
        let ds = btf
            .find_all(sec.name, Kind::Datasec)
            .next()
            .ok_or_else(|| section_err(sec.name, "has no BTF DATASEC"))?;
        let vars: Vec<_> = ds
            .as_datasec()
            .map(|d| d.vars().collect())
            .unwrap_or_default();
        for sym in elf
            .symbols
            .iter()
            .filter(|s| s.section == Some(sec.index) && s.kind == STT_OBJECT && !s.name.is_empty())
        {
            let var_ty = vars
                .iter()
                .filter_map(|v| btf.type_by_id(v.type_id).ok())
                .find(|t| t.name().ok() == Some(sym.name))
                .and_then(|t| t.as_var().map(|v| v.type_id()))
                .ok_or_else(|| section_err(sec.name, format!("no BTF VAR for `{}`", sym.name)))?;
            let st = btf.skip_mods_and_typedefs(var_ty).map_err(btf_err)?;
            let Some(comp) = st.as_composite().filter(|c| !c.is_union()) else {
                return Err(section_err(
                    sec.name,
                    format!("`{}` is not a struct", sym.name),
                ));
            };
            let type_name = st.name().map_err(btf_err)?.to_owned();
            let start = sym.value as usize;
            let size = comp.byte_size() as usize;
            let data = start
                .checked_add(size)
                .and_then(|end| sec.data.get(start..end))
                .ok_or_else(|| {
                    section_err(sec.name, format!("`{}` lies outside the section", sym.name))
                })?
                .to_vec();
            let mut members = Vec::new();
            for m in comp.members() {
                let name = m.name().map_err(btf_err)?.to_owned();
                let mt = btf.skip_mods_and_typedefs(m.type_id()).map_err(btf_err)?;
                let is_func_ptr = mt.kind() == Kind::Ptr
                    && mt
                        .ref_type()
                        .and_then(|t| btf.skip_mods_and_typedefs(t).ok())
                        .is_some_and(|t| t.kind() == Kind::FuncProto);
                members.push(StructOpsMember {
                    name,
                    offset: m.bit_offset() / 8,
                    size: btf.size_of(m.type_id()).map_err(btf_err)?,
                    is_func_ptr,
                    program: None,
                });
            }
            for r in &elf.rels[sec.index] {
                let Some(off) = (r.offset as usize).checked_sub(start).filter(|o| *o < size) else {
                    continue;
                };
                let target = &elf.symbols[r.symbol];
                let prog = if target.kind == STT_FUNC {
                    Some(target.name.to_owned())
                } else if target.kind == STT_SECTION {
                    // A static function: the address in the data is its offset.
                    let addend =
                        read_u32(sec.data, r.offset as usize, elf.big_endian).map_or(0, u64::from);
                    elf.symbols
                        .iter()
                        .find(|s| {
                            s.kind == STT_FUNC && s.section == target.section && s.value == addend
                        })
                        .map(|s| s.name.to_owned())
                } else {
                    None
                };
                let Some(prog) = prog else {
                    return Err(section_err(
                        sec.name,
                        format!(
                            "`{}`+{off} points to `{}`, which is not a function",
                            sym.name,
                            target.display()
                        ),
                    ));
                };
                let member = members
                    .iter_mut()
                    .find(|m| m.offset as usize == off && m.is_func_ptr)
                    .ok_or_else(|| {
                        section_err(
                            sec.name,
                            format!("`{}`+{off} is not a function-pointer member", sym.name),
                        )
                    })?;
                member.program = Some(prog);
            }
            out.push(StructOpsSpec {
                name: sym.name.to_owned(),
                section: sec.name.to_owned(),
                type_name,
                data,
                members,
            });
        }
    }
    Ok(out)
}
