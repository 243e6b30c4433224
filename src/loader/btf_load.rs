//! Stage 2: the object's BTF made acceptable to the kernel and loaded (`BPF_BTF_LOAD`).
//!
//! clang leaves `DATASEC` sizes and variable offsets at 0 and marks externs with linkage the
//! kernel refuses; libbpf fixes them up before loading, and so do we (the facts are libbpf's,
//! the code ours): data-section `DATASEC`s get the section's size and the variables' real
//! offsets (sorted), other `DATASEC`s a sequential layout, extern `VAR`s become allocated
//! globals, extern `FUNC`s global functions, and the `.ksyms` `DATASEC` (whose entries may be
//! functions) becomes an anonymous struct of `int`s. Type ids never change, so `.BTF.ext` and
//! map type ids stay valid. Then [`btf::sanitize`] drops kinds the kernel lacks.
//!
//! (`BtfHandle` is not on the btf branch yet: the load goes through `sys::btf_load` directly.)

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::OnceLock;

use crate::btf::{self, Btf, KernelBtfFeatures, Kind, TypeView};
use crate::error::Error;
use crate::obj::{ExternKind, MapKind, ObjectSpec};
use crate::sys;

use super::LoadError;

const VAR_ALLOCATED: u32 = 1;
const FUNC_GLOBAL: u32 = 1;
const FUNC_EXTERN: u32 = 2;

fn rd(v: &[u8], off: usize) -> u32 {
    v.get(off..off + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

fn set(v: &mut [u8], off: usize, w: u32) {
    if let Some(b) = v.get_mut(off..off + 4) {
        b.copy_from_slice(&w.to_ne_bytes());
    }
}

/// The BTF features of the running kernel, read once from the kinds its own BTF uses
/// (a 6.x kernel shows them all), plus the kernel version for the ones its BTF cannot show.
pub(crate) fn kernel_features(kernel: &Btf<'_>) -> KernelBtfFeatures {
    static CACHE: OnceLock<KernelBtfFeatures> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let mut seen = [false; 20];
        for t in kernel.types() {
            seen[(t.kind() as usize).min(19)] = true;
        }
        let version = super::kconfig::running_kernel_version().unwrap_or(0);
        KernelBtfFeatures {
            func: seen[Kind::Func as usize],
            func_global: seen[Kind::Func as usize] && version >= (5 << 16 | 6 << 8),
            datasec: seen[Kind::Datasec as usize],
            qmark_datasec: version >= (6 << 16 | 5 << 8),
            float: seen[Kind::Float as usize] || version >= (5 << 16 | 13 << 8),
            decl_tag: seen[Kind::DeclTag as usize] || version >= (5 << 16 | 16 << 8),
            type_tag: seen[Kind::TypeTag as usize] || version >= (5 << 16 | 17 << 8),
            enum64: seen[Kind::Enum64 as usize] || version >= (6 << 16),
        }
    })
}

/// Object BTF with libbpf's fixups applied (see the module docs), as raw bytes.
pub(crate) fn fixup(obj: &Btf<'_>, spec: &ObjectSpec) -> Result<Vec<u8>, LoadError> {
    let berr = |e| LoadError::btf("object BTF", e);
    let mut types = obj.type_section().to_vec();
    let mut strs = obj.string_section().to_vec();
    // A 4-byte int for `.ksyms` variables; appended if the object has none.
    let int_id = match obj.types().find(|t| {
        t.as_int()
            .is_some_and(|i| i.byte_size() == 4 && i.bits() == 32 && i.bit_offset() == 0)
    }) {
        Some(t) => t.id(),
        None => {
            let name = strs.len() as u32;
            strs.extend_from_slice(b"int\0");
            for w in [name, (Kind::Int as u32) << 24, 4, (1 << 24) | 32] {
                types.extend_from_slice(&w.to_ne_bytes());
            }
            obj.last_id() + 1
        }
    };
    let ksym_vars: Vec<u32> = obj
        .types()
        .filter(|t| t.kind() == Kind::Datasec && t.name().ok() == Some(".ksyms"))
        .filter_map(|t| t.as_datasec())
        .flat_map(|d| d.vars().map(|v| v.type_id).collect::<Vec<_>>())
        .collect();
    // The kernel wants named parameters on every FUNC's prototype; extern declarations often
    // have none (libbpf names them after a dummy variable).
    let extern_protos: Vec<u32> = obj
        .types()
        .filter(|t| t.kind() == Kind::Func && u32::from(t.vlen()) == FUNC_EXTERN)
        .map(|t| t.size_or_type())
        .collect();
    let mut arg_name: Option<u32> = None;
    let mut off = 0usize;
    for t in obj.types() {
        let at = off;
        off += t.raw().len();
        match t.view() {
            TypeView::Var(v) => {
                if v.linkage() == btf::VarLinkage::GlobalExtern {
                    set(&mut types, at + 12, VAR_ALLOCATED);
                }
                if ksym_vars.contains(&t.id()) {
                    set(&mut types, at + 8, int_id);
                }
            }
            TypeView::FuncProto(_) if extern_protos.contains(&t.id()) => {
                for j in 0..usize::from(t.vlen()) {
                    let p = at + 12 + j * 8;
                    let (name_off, ty) = (rd(&types, p), rd(&types, p + 4));
                    if name_off == 0 && ty != 0 {
                        let n = *arg_name.get_or_insert_with(|| {
                            let n = strs.len() as u32;
                            strs.extend_from_slice(b"arg\0");
                            n
                        });
                        set(&mut types, p, n);
                    }
                }
            }
            TypeView::Func(_) if u32::from(t.vlen()) == FUNC_EXTERN => {
                set(&mut types, at + 4, (Kind::Func as u32) << 24 | FUNC_GLOBAL);
            }
            TypeView::Datasec(ds) => {
                let name = t.name().map_err(berr)?;
                let vars: Vec<(u32, u32, u32)> =
                    ds.vars().map(|v| (v.type_id, v.offset, v.size)).collect();
                let var_name = |id: u32| {
                    obj.type_by_id(id)
                        .and_then(|v| v.name())
                        .map(str::to_owned)
                        .map_err(berr)
                };
                if name == ".ksyms" {
                    // An anonymous struct of ints, one member per extern.
                    let n = vars.len() as u32;
                    set(&mut types, at, 0);
                    set(&mut types, at + 4, (Kind::Struct as u32) << 24 | n);
                    set(&mut types, at + 8, 4 * n);
                    for (j, (vid, _, _)) in vars.iter().enumerate() {
                        let name_off = obj.type_by_id(*vid).map(|v| v.name_off()).unwrap_or(0);
                        let m = at + 12 + j * 12;
                        set(&mut types, m, name_off);
                        set(&mut types, m + 4, int_id);
                        set(&mut types, m + 8, 32 * j as u32);
                    }
                    continue;
                }
                // Real offsets for data sections and `.kconfig`.
                let layout: Option<(u32, HashMap<String, u32>)> = spec
                    .maps
                    .iter()
                    .enumerate()
                    .find(|(_, m)| match &m.kind {
                        MapKind::Data { section } => section == name,
                        MapKind::Kconfig => name == ".kconfig",
                        _ => false,
                    })
                    .map(|(i, m)| {
                        let mut offs: HashMap<String, u32> = m
                            .variables
                            .iter()
                            .map(|v| (v.name.clone(), v.offset))
                            .collect();
                        for e in &spec.externs {
                            if let ExternKind::Kconfig { map, offset, .. } = e.kind {
                                if map == i {
                                    offs.insert(e.name.clone(), offset);
                                }
                            }
                        }
                        (m.value_size, offs)
                    });
                let mut placed = Vec::with_capacity(vars.len());
                let mut next = 0u32;
                for (vid, _, size) in &vars {
                    let size = if *size == 0 {
                        obj.type_by_id(*vid)
                            .ok()
                            .and_then(|v| v.as_var())
                            .and_then(|v| obj.size_of(v.type_id()).ok())
                            .unwrap_or(0)
                    } else {
                        *size
                    };
                    let offset = match &layout {
                        Some((_, offs)) => {
                            let n = var_name(*vid)?;
                            *offs.get(&n).ok_or_else(|| LoadError::Global {
                                name: n.clone(),
                                what: format!("variable of `{name}` has no ELF symbol"),
                            })?
                        }
                        None => {
                            let o = next;
                            next = next.saturating_add(size);
                            o
                        }
                    };
                    placed.push((*vid, offset, size));
                }
                placed.sort_by_key(|p| p.1);
                let total = match &layout {
                    Some((size, _)) => *size,
                    None => next,
                };
                set(&mut types, at + 8, total);
                for (j, (vid, o, s)) in placed.iter().enumerate() {
                    let m = at + 12 + j * 12;
                    set(&mut types, m, *vid);
                    set(&mut types, m + 4, *o);
                    set(&mut types, m + 8, *s);
                }
            }
            _ => {}
        }
    }
    Ok(encode(&types, &strs))
}

/// A BTF blob from its type and string sections (24-byte header, native endian).
fn encode(types: &[u8], strs: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + types.len() + strs.len());
    out.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    out.extend_from_slice(&[1, 0]);
    let tl = types.len() as u32;
    for w in [24, 0, tl, tl, strs.len() as u32] {
        out.extend_from_slice(&w.to_ne_bytes());
    }
    out.extend_from_slice(types);
    out.extend_from_slice(strs);
    out
}

/// Stage 2: fixes up, sanitizes for the running kernel and loads the object's BTF. `None` when
/// the object has no BTF.
pub(crate) fn load_object_btf(
    spec: &ObjectSpec,
    obj: Option<&Btf<'_>>,
    features: KernelBtfFeatures,
) -> Result<Option<OwnedFd>, LoadError> {
    let Some(obj) = obj else { return Ok(None) };
    let fixed = fixup(obj, spec)?;
    let bytes = if features.needs_sanitize() {
        let parsed = Btf::parse(&fixed).map_err(|e| LoadError::btf("fixed-up object BTF", e))?;
        btf::sanitize(&parsed, features).map_err(|e| LoadError::btf("sanitizing object BTF", e))?
    } else {
        fixed
    };
    let mut args = sys::BtfLoadArgs {
        data: &bytes,
        ..Default::default()
    };
    match sys::btf_load(&mut args) {
        Ok(fd) => Ok(Some(fd)),
        Err(errno) => {
            // Again with a log, to say why.
            let mut log = vec![0u8; 1 << 16];
            let mut args = sys::BtfLoadArgs {
                data: &bytes,
                log: Some(&mut log),
                log_level: 1,
                ..Default::default()
            };
            let _ = sys::btf_load(&mut args);
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let source = if errno == sys::Errno::EPERM {
                match crate::map::capability_missing(&["CAP_BPF"]) {
                    Some(cap) => Error::MissingCapability {
                        call: "BPF_BTF_LOAD",
                        capability: cap,
                        context: Some(format!("BTF of object `{}`", spec.name)),
                    },
                    None => Error::syscall("BPF_BTF_LOAD", errno),
                }
            } else {
                Error::syscall("BPF_BTF_LOAD", errno)
            };
            Err(LoadError::BtfLoad {
                source,
                log: String::from_utf8_lossy(&log[..end]).into_owned(),
            })
        }
    }
}
