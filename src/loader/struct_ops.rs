//! struct_ops: the programs of `SEC("struct_ops/…")` are loaded with the kernel ops struct as
//! attach BTF id and the index of the member they implement as expected attach type; after
//! them, each struct_ops variable ([`StructOpsSpec`]) becomes a `BPF_MAP_TYPE_STRUCT_OPS` map
//! whose value, the kernel's `struct bpf_struct_ops_<type>`, is filled member by member (by
//! name) from the variable's bytes and the program fds. [`StructOps::attach`] registers it:
//! `.struct_ops.link` maps (`BPF_F_LINK`) through a link, `.struct_ops` maps by the map update
//! alone (undone by deleting the element when the handle drops).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = rawbpf::ObjectSpec::open("tests/bpf/struct_ops_link.bpf.o")?;
//! let mut obj = rawbpf::Loader::new().load(&spec)?;
//! obj.struct_ops_mut("rawbpf_cc")?.set_member("name", b"my_cc\0")?;
//! let link = obj.struct_ops("rawbpf_cc")?.attach()?; // `my_cc` is a congestion control now
//! # drop(link); Ok(()) }
//! ```

use std::os::fd::{AsFd, BorrowedFd};

use crate::btf::{Btf, Kind};
use crate::error::{Error, Result};
use crate::link::Link;
use crate::map::{Map, MapFlags, MapOptions, UpdateFlags};
use crate::obj::{ObjectSpec, ProgramSpec, StructOpsSpec};
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::{self, AttachTarget, Errno, MapType};

use super::LoadError;
use super::programs::LoadParams;

fn unsupported(feature: &str, hint: String) -> LoadError {
    LoadError::Unsupported {
        feature: feature.to_owned(),
        hint,
    }
}

/// The variable that uses program `prog`, and the member.
fn user_of<'s>(spec: &'s ObjectSpec, prog: &str) -> Option<(&'s StructOpsSpec, &'s str)> {
    spec.struct_ops
        .iter()
        .find_map(|s| s.member_of_program(prog).map(|m| (s, m.name.as_str())))
}

/// Whether `prog` is a struct_ops program no variable refers to (libbpf does not load those).
pub(crate) fn unused(spec: &ObjectSpec, prog: &ProgramSpec) -> bool {
    prog.section_def()
        .is_some_and(|d| d.prog_type == crate::obj::section::prog_type::STRUCT_OPS)
        && user_of(spec, &prog.name).is_none()
}

fn kernel_struct<'k>(
    kernel: &'k Btf<'static>,
    type_name: &str,
) -> Result<(u32, crate::btf::Type<'k>), LoadError> {
    let t = kernel
        .find_by_name_kind(type_name, Kind::Struct)
        .ok_or_else(|| {
            unsupported(
                "this struct_ops type",
                format!("the kernel's BTF has no struct {type_name}"),
            )
        })?;
    Ok((t.id(), t))
}

/// The attach BTF id (the kernel's ops struct) and expected attach type (the member's index)
/// of the struct_ops program `params` are for.
pub(crate) fn adjust_params(
    spec: &ObjectSpec,
    prog: &ProgramSpec,
    mut params: LoadParams,
    kernel: &Btf<'static>,
) -> Result<LoadParams, LoadError> {
    if params.prog_type != ProgramType::STRUCT_OPS {
        return Ok(params);
    }
    let Some((st, member)) = user_of(spec, &prog.name) else {
        return Err(unsupported(
            "struct_ops programs outside a struct_ops variable",
            format!(
                "no SEC(\".struct_ops\") variable points to `{}`: set it in one",
                prog.name
            ),
        ));
    };
    let (id, t) = kernel_struct(kernel, &st.type_name)?;
    let index = t
        .as_composite()
        .ok_or_else(|| {
            unsupported(
                "this struct_ops type",
                format!("{} is not a struct", st.type_name),
            )
        })?
        .members()
        .position(|m| m.name().ok() == Some(member))
        .ok_or_else(|| {
            unsupported(
                "this struct_ops member",
                format!(
                    "the kernel's struct {} has no member `{member}`",
                    st.type_name
                ),
            )
        })?;
    params.attach_btf_id = id;
    params.expected = Some(AttachType(index as u32));
    Ok(params)
}

/// A struct_ops map of a loaded object: the value to register, and the map.
#[derive(Debug)]
pub struct StructOps {
    name: String,
    link: bool,
    map: Map,
    value: Vec<u8>,
    /// Offset and size of the kernel's ops struct inside `value`, and its members by name
    /// (offset in `value`, size, function pointer).
    data_off: usize,
    members: Vec<(String, usize, usize, bool)>,
}

/// What keeps a struct_ops map registered; dropping it unregisters.
#[derive(Debug)]
pub enum StructOpsLink {
    /// A `.struct_ops.link` map, registered through a `BPF_LINK_TYPE_STRUCT_OPS` link (pin
    /// it to keep it registered after the process exits).
    Link(Link),
    /// A `.struct_ops` map, registered by its update; the drop deletes the element.
    Map(Map),
}

impl Drop for StructOpsLink {
    fn drop(&mut self) {
        if let StructOpsLink::Map(m) = self {
            let _ = m.delete(&0u32.to_ne_bytes());
        }
    }
}

impl StructOps {
    /// The variable's (and map's) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `BPF_MAP_TYPE_STRUCT_OPS` map.
    pub fn map(&self) -> &Map {
        &self.map
    }

    /// Whether it is a `.struct_ops.link` map (`BPF_F_LINK`).
    pub fn is_link(&self) -> bool {
        self.link
    }

    /// Overwrites a data member of the kernel's ops struct (e.g. `name` of a
    /// `tcp_congestion_ops`) before [`StructOps::attach`]. `bytes` may be shorter than the
    /// member; the rest is zeroed.
    pub fn set_member(&mut self, member: &str, bytes: &[u8]) -> Result<()> {
        let Some((_, off, size, func)) = self.members.iter().find(|m| m.0 == member) else {
            return Err(Error::InvalidArgument(format!(
                "the kernel's ops struct of `{}` has no member `{member}`",
                self.name
            )));
        };
        if *func || bytes.len() > *size {
            return Err(Error::InvalidArgument(format!(
                "member `{member}` is a function pointer or smaller than {} bytes",
                bytes.len()
            )));
        }
        let dst = &mut self.value[*off..*off + *size];
        dst.fill(0);
        dst[..bytes.len()].copy_from_slice(bytes);
        Ok(())
    }

    /// The bytes of the kernel's ops struct as they will be registered.
    pub fn data(&self) -> &[u8] {
        let end = self
            .members
            .iter()
            .map(|m| m.1 + m.2)
            .max()
            .unwrap_or(self.data_off);
        &self.value[self.data_off..end]
    }

    /// Registers the ops: writes the value into the map (`BPF_MAP_UPDATE_ELEM`), then, for a
    /// `.struct_ops.link` map, creates the link (`BPF_LINK_CREATE` with `BPF_STRUCT_OPS`).
    ///
    /// The value holds the fds of the object's struct_ops programs: attach while they are
    /// still in the [`Object`](super::Object) (not taken out and dropped).
    pub fn attach(&self) -> Result<StructOpsLink> {
        self.map
            .update(&0u32.to_ne_bytes(), &self.value, UpdateFlags::empty())
            .map_err(|e| match e.errno() {
                Some(x) if x == Errno::EEXIST => Error::Syscall {
                    call: "BPF_MAP_UPDATE_ELEM",
                    errno: x,
                    context: Some(format!("struct_ops map `{}`", self.name)),
                    hint: Some("already registered, or an ops of the same name exists"),
                },
                _ => e,
            })?;
        if !self.link {
            return Ok(StructOpsLink::Map(self.map.try_clone()?));
        }
        let fd = sys::link_create(
            self.map.as_fd(),
            AttachTarget::None,
            AttachType::STRUCT_OPS,
            0,
        )
        .map_err(|e| Error::Syscall {
            call: "BPF_LINK_CREATE",
            errno: e,
            context: Some(format!("struct_ops map `{}`", self.name)),
            hint: (e == Errno::EEXIST).then_some("an ops of the same name is registered already"),
        })?;
        Ok(StructOpsLink::Link(Link::from_fd(fd)))
    }
}

impl StructOpsLink {
    /// The link, for a `.struct_ops.link` map.
    pub fn link(&self) -> Option<&Link> {
        match self {
            StructOpsLink::Link(l) => Some(l),
            StructOpsLink::Map(_) => None,
        }
    }

    /// Switches a struct_ops link to the ops of `new` (another `.struct_ops.link` map of the
    /// same type) atomically (`BPF_LINK_UPDATE` with the new map): writes `new`'s value, then
    /// swaps. The kernel may require the ops to keep their name (`tcp_congestion_ops`).
    pub fn update(&self, new: &StructOps) -> Result<()> {
        let StructOpsLink::Link(link) = self else {
            return Err(Error::InvalidArgument(
                "only a .struct_ops.link registration can be updated".into(),
            ));
        };
        if !new.link {
            return Err(Error::InvalidArgument(format!(
                "struct_ops map `{}` is not a .struct_ops.link map",
                new.name
            )));
        }
        new.map
            .update(&0u32.to_ne_bytes(), &new.value, UpdateFlags::empty())?;
        sys::link_update_map(link.as_fd(), new.map.as_fd(), None).map_err(|e| Error::Syscall {
            call: "BPF_LINK_UPDATE",
            errno: e,
            context: Some(format!("struct_ops link to map `{}`", new.name)),
            hint: (e == Errno::EINVAL).then_some(
                "the new ops are of another type, or renamed where the kernel forbids it",
            ),
        })
    }
}

/// The bytes of member `m` in the variable's data (`None` if the object's BTF puts it
/// outside).
fn local_bytes<'s>(st: &'s StructOpsSpec, m: &crate::obj::StructOpsMember) -> Option<&'s [u8]> {
    let start = m.offset as usize;
    st.data.get(start..start.checked_add(m.size as usize)?)
}

fn is_func_ptr(btf: &Btf<'_>, id: u32) -> bool {
    btf.skip_mods_and_typedefs(id).is_ok_and(|t| {
        t.kind() == Kind::Ptr
            && t.ref_type()
                .and_then(|r| btf.skip_mods_and_typedefs(r).ok())
                .is_some_and(|r| r.kind() == Kind::FuncProto)
    })
}

/// Creates the struct_ops maps of `spec` once its programs are loaded (`programs` by name).
pub(crate) fn create_maps(
    spec: &ObjectSpec,
    programs: &[(String, Option<Program>)],
    btf: Option<BorrowedFd<'_>>,
    kernel: &Btf<'static>,
) -> Result<Vec<StructOps>, LoadError> {
    let mut out = Vec::with_capacity(spec.struct_ops.len());
    for st in &spec.struct_ops {
        let err = |what: String| LoadError::Map {
            map: st.name.clone(),
            source: Error::InvalidArgument(what),
        };
        if st.is_link() {
            if let Err(e @ Error::Unsupported { .. }) = crate::features::struct_ops_link() {
                return Err(LoadError::Kernel(e));
            }
        }
        let (_, kt) = kernel_struct(kernel, &st.type_name)?;
        let value_name = format!("bpf_struct_ops_{}", st.type_name);
        let vt = kernel
            .find_by_name_kind(&value_name, Kind::Struct)
            .ok_or_else(|| {
                unsupported(
                    "this struct_ops type",
                    format!(
                        "the kernel's BTF has no {value_name}: it cannot register {} from BPF",
                        st.type_name
                    ),
                )
            })?;
        let vcomp = vt
            .as_composite()
            .ok_or_else(|| err(format!("{value_name} is not a struct")))?;
        let data_off = vcomp
            .member("data")
            .map(|m| (m.bit_offset() / 8) as usize)
            .ok_or_else(|| err(format!("{value_name} has no `data` member")))?;
        let mut value = vec![0u8; vcomp.byte_size() as usize];
        let mut members = Vec::new();
        let kcomp = kt
            .as_composite()
            .ok_or_else(|| err(format!("{} is not a struct", st.type_name)))?;
        for km in kcomp.members() {
            let name = km.name().unwrap_or("").to_owned();
            let off = data_off + (km.bit_offset() / 8) as usize;
            let size = kernel.size_of(km.type_id()).unwrap_or(0) as usize;
            let func = is_func_ptr(kernel, km.type_id());
            members.push((name.clone(), off, size, func));
            let Some(lm) = st.members.iter().find(|m| m.name == name) else {
                continue;
            };
            if func {
                let Some(p) = &lm.program else { continue };
                let fd = programs
                    .iter()
                    .find(|(n, _)| n == p)
                    .and_then(|(_, prog)| prog.as_ref())
                    .ok_or_else(|| err(format!("member `{name}`'s program `{p}` was not loaded")))?
                    .as_fd();
                let raw = std::os::fd::AsRawFd::as_raw_fd(&fd) as u64;
                value
                    .get_mut(off..off + 8)
                    .ok_or_else(|| err(format!("member `{name}` lies outside {value_name}")))?
                    .copy_from_slice(&raw.to_ne_bytes());
                continue;
            }
            let local = local_bytes(st, lm)
                .ok_or_else(|| err(format!("member `{name}` lies outside the variable")))?;
            if local.iter().all(|b| *b == 0) {
                continue;
            }
            if lm.size as usize != size {
                return Err(err(format!(
                    "member `{name}` is {} bytes in the object but {size} in the kernel",
                    lm.size
                )));
            }
            value
                .get_mut(off..off + size)
                .ok_or_else(|| err(format!("member `{name}` lies outside {value_name}")))?
                .copy_from_slice(local);
        }
        for lm in &st.members {
            let set = lm.program.is_some()
                || local_bytes(st, lm).is_some_and(|b| b.iter().any(|b| *b != 0));
            if set && !members.iter().any(|m| m.0 == lm.name) {
                return Err(err(format!(
                    "member `{}` is set but the kernel's struct {} has no such member",
                    lm.name, st.type_name
                )));
            }
        }
        let btf = btf.ok_or_else(|| {
            unsupported(
                "struct_ops without BTF",
                "struct_ops maps need the object's BTF loaded into the kernel".into(),
            )
        })?;
        let mut opts = MapOptions::new(MapType::STRUCT_OPS, 4, value.len() as u32, 1)
            .name(&st.name)
            .btf(btf, 0, 0)
            .btf_vmlinux_value_type_id(vt.id());
        if st.is_link() {
            opts = opts.flags(MapFlags::LINK);
        }
        let map = Map::create(&opts).map_err(|source| LoadError::Map {
            map: st.name.clone(),
            source,
        })?;
        out.push(StructOps {
            name: st.name.clone(),
            link: st.is_link(),
            map,
            value,
            data_off,
            members,
        });
    }
    Ok(out)
}

impl super::Object {
    /// The struct_ops map of variable `name` (`SEC(".struct_ops")` / `.struct_ops.link`).
    ///
    /// # Errors
    /// [`LoadError::NotFound`] listing the struct_ops variables there are.
    pub fn struct_ops(&self, name: &str) -> Result<&StructOps, LoadError> {
        let available = self.struct_ops_names();
        self.struct_ops
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| LoadError::NotFound {
                kind: "struct_ops variable",
                name: name.to_owned(),
                available,
            })
    }

    /// As [`Object::struct_ops`](super::Object::struct_ops), to change members before attaching.
    ///
    /// # Errors
    /// As [`Object::struct_ops`](super::Object::struct_ops).
    pub fn struct_ops_mut(&mut self, name: &str) -> Result<&mut StructOps, LoadError> {
        let available = self.struct_ops_names();
        self.struct_ops
            .iter_mut()
            .find(|s| s.name == name)
            .ok_or_else(|| LoadError::NotFound {
                kind: "struct_ops variable",
                name: name.to_owned(),
                available,
            })
    }

    fn struct_ops_names(&self) -> String {
        let v: Vec<&str> = self.struct_ops.iter().map(|s| s.name.as_str()).collect();
        if v.is_empty() {
            "none".into()
        } else {
            v.join(", ")
        }
    }
}
