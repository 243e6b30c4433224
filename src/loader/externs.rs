//! Stage 3a: externs. `.kconfig` values are encoded into the `.kconfig` map's initial value
//! (from `/proc/config.gz` and the special `LINUX_*` names); `.ksyms` variables and kfuncs are
//! resolved against the kernel's BTF (by id) or `/proc/kallsyms` (typeless symbols).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use crate::btf::{Btf, BtfHandle, IntEncoding, Kind, TypeView};
use crate::obj::{ExternKind, ExternValue, ObjectSpec};

use super::LoadError;
use super::kallsyms::Kallsyms;
use super::kconfig::{self, ConfigValue, KconfigType, KernelConfig};

fn ext_err(name: &str, what: impl Into<String>) -> LoadError {
    LoadError::Extern {
        name: name.to_owned(),
        what: what.into(),
    }
}

/// How the object declares a `.kconfig` extern's type.
fn kconfig_type(obj: &Btf<'_>, name: &str, id: u32) -> Result<KconfigType, LoadError> {
    let t = obj
        .skip_mods_and_typedefs(id)
        .map_err(|e| LoadError::btf(format!("type of extern `{name}`"), e))?;
    Ok(match t.view() {
        TypeView::Int(i) if i.encoding().contains(IntEncoding::BOOL) => KconfigType::Bool,
        TypeView::Int(i) if i.byte_size() == 1 && i.encoding().contains(IntEncoding::CHAR) => {
            KconfigType::Char
        }
        TypeView::Int(i) => int_type(name, i.byte_size(), i.is_signed())?,
        TypeView::Enum(_) | TypeView::Enum64(_) if t.name().ok() == Some("libbpf_tristate") => {
            KconfigType::Tristate
        }
        TypeView::Enum(e) | TypeView::Enum64(e) => int_type(name, e.byte_size(), e.is_signed())?,
        TypeView::Array(a) => {
            let elem = obj
                .skip_mods_and_typedefs(a.elem_type())
                .map_err(|e| LoadError::btf(format!("type of extern `{name}`"), e))?;
            match elem.view() {
                TypeView::Int(i) if i.byte_size() == 1 => {
                    KconfigType::CharArray { len: a.nelems() }
                }
                _ => return Err(ext_err(name, "a __kconfig array must be of char")),
            }
        }
        _ => {
            return Err(ext_err(
                name,
                "unsupported __kconfig type (use bool, char, an integer, enum libbpf_tristate or char[N])",
            ));
        }
    })
}

/// An integer (or enum) extern: 1, 2, 4 or 8 bytes, as libbpf accepts.
fn int_type(name: &str, size: u32, signed: bool) -> Result<KconfigType, LoadError> {
    if !matches!(size, 1 | 2 | 4 | 8) {
        return Err(ext_err(
            name,
            format!(
                "a __kconfig integer must be 1, 2, 4 or 8 bytes, this one is {size}: declare it as an int, long or u64"
            ),
        ));
    }
    Ok(KconfigType::Int { size, signed })
}

/// The value of a `LINUX_*` special extern.
fn special_value(name: &str, kernel: &Btf<'_>) -> Option<ConfigValue> {
    let yn = |b: bool| ConfigValue::Tristate(if b { b'y' } else { b'n' });
    match name {
        "LINUX_KERNEL_VERSION" => {
            kconfig::running_kernel_version().map(|v| ConfigValue::Num(v.to_string()))
        }
        // The kernel has the bpf_get_attach_cookie helper (5.15+): its enum bpf_func_id says.
        "LINUX_HAS_BPF_COOKIE" => Some(yn(kernel
            .find_by_name_kind("bpf_func_id", Kind::Enum)
            .and_then(|t| t.as_enum())
            .is_some_and(|e| {
                e.values()
                    .any(|v| v.name().ok() == Some("BPF_FUNC_get_attach_cookie"))
            }))),
        // Syscalls go through arch wrappers (`__x64_sys_*`) when the kernel has them.
        "LINUX_HAS_SYSCALL_WRAPPER" => {
            let prefix = syscall_prefix();
            Some(yn(!prefix.is_empty()
                && kernel
                    .find_by_name_kind(&format!("{prefix}sys_bpf"), Kind::Func)
                    .is_some()))
        }
        _ => None,
    }
}

/// The architecture's syscall wrapper prefix (`__x64_`), as libbpf spells it.
pub(crate) fn syscall_prefix() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "__x64_",
        "x86" => "__ia32_",
        "aarch64" => "__arm64_",
        "s390x" => "__s390x_",
        "riscv64" => "__riscv_",
        "powerpc64" => "",
        _ => "",
    }
}

/// Stage 3a: the initial value of the `.kconfig` map (map index, bytes), or `None` when the
/// object has no `.kconfig` externs.
pub(crate) fn kconfig_data(
    spec: &ObjectSpec,
    obj: Option<&Btf<'_>>,
    kernel: &Btf<'_>,
) -> Result<Option<(usize, Vec<u8>)>, LoadError> {
    kconfig_data_with(spec, obj, kernel, KernelConfig::from_running_kernel)
}

/// [`kconfig_data`] with the kernel configuration from `read_config` (called at most once,
/// when a `CONFIG_*` extern needs it).
pub(crate) fn kconfig_data_with(
    spec: &ObjectSpec,
    obj: Option<&Btf<'_>>,
    kernel: &Btf<'_>,
    read_config: impl FnOnce() -> Option<KernelConfig>,
) -> Result<Option<(usize, Vec<u8>)>, LoadError> {
    let mut read_config = Some(read_config);
    let mut out: Option<(usize, Vec<u8>)> = None;
    let mut config: Option<Option<KernelConfig>> = None;
    for e in &spec.externs {
        let ExternKind::Kconfig {
            map,
            offset,
            size,
            type_id,
        } = e.kind
        else {
            continue;
        };
        let m = spec
            .maps
            .get(map)
            .ok_or_else(|| ext_err(&e.name, format!("no .kconfig map #{map}")))?;
        let buf = &mut out
            .get_or_insert_with(|| (map, vec![0u8; m.value_size as usize]))
            .1;
        let slot = buf
            .get_mut(offset as usize..(offset as usize).saturating_add(size as usize))
            .ok_or_else(|| ext_err(&e.name, "lies outside the .kconfig map"))?;
        let value = if e.name.starts_with("LINUX_") {
            match special_value(&e.name, kernel) {
                Some(v) => Some(v),
                None if e.weak => None,
                None => return Err(ext_err(&e.name, "unknown LINUX_* extern")),
            }
        } else if e.name.starts_with("CONFIG_") {
            let cfg = config.get_or_insert_with(|| read_config.take().and_then(|f| f()));
            match cfg.as_ref().and_then(|c| c.get(&e.name)) {
                Some(v) => Some(v.clone()),
                None if e.weak => None,
                None if cfg.is_none() => {
                    return Err(ext_err(
                        &e.name,
                        "the kernel configuration is unreadable (no /proc/config.gz or /boot/config-$(uname -r)); declare it __weak to default to 0",
                    ));
                }
                None => {
                    return Err(ext_err(
                        &e.name,
                        "not in the running kernel's configuration; declare it __weak to default to 0",
                    ));
                }
            }
        } else {
            return Err(ext_err(
                &e.name,
                "a __kconfig extern must be named CONFIG_* or LINUX_*",
            ));
        };
        let Some(value) = value else { continue };
        let (Some(obj), Some(tid)) = (obj, type_id) else {
            return Err(ext_err(&e.name, "has no BTF type (compile with -g)"));
        };
        let ty = kconfig_type(obj, &e.name, tid)?;
        kconfig::encode(&e.name, &value, ty, slot).map_err(|k| ext_err(&e.name, k.reason))?;
    }
    Ok(out)
}

/// The resolved `.ksyms` externs of an object, and the module BTFs their kfuncs are in.
#[derive(Debug, Default)]
pub(crate) struct Ksyms {
    /// One per [`ObjectSpec::externs`] entry (`None` for `.kconfig` ones, map values).
    pub values: Vec<Option<ExternValue>>,
    /// The BTF objects of the kernel modules whose kfuncs the object uses: a kfunc call's
    /// `off` is its index in the program's `fd_array` plus 1 (index 0 stands for vmlinux).
    pub module_btfs: Vec<(String, BtfHandle)>,
}

impl Ksyms {
    /// The program's `fd_array`: index 0 is never read for a kfunc (it means vmlinux), so
    /// it repeats the first module's fd; empty when no module kfunc is used.
    pub(crate) fn fd_array(&self) -> Vec<BorrowedFd<'_>> {
        let fds = self.module_btfs.iter().map(|(_, h)| h.as_fd());
        fds.clone().take(1).chain(fds).collect()
    }
}

/// Kernel module BTFs, read on first need, searched for kfuncs vmlinux lacks (as libbpf
/// searches them).
#[derive(Default)]
struct Modules {
    btfs: Option<Vec<(String, Btf<'static>)>>,
}

impl Modules {
    /// The module and BTF id of FUNC `name` in a loaded module's BTF.
    fn find_func(&mut self, ext: &str, name: &str) -> Result<Option<(String, u32)>, LoadError> {
        if self.btfs.is_none() {
            let names = crate::btf::kernel_modules_with_btf()
                .map_err(|e| ext_err(ext, format!("reading kernel module BTF: {e}")))?;
            self.btfs = Some(
                names
                    .into_iter()
                    .filter_map(|m| Some((m.clone(), Btf::from_kernel_module(&m).ok()?)))
                    .collect(),
            );
        }
        Ok(self.btfs.iter().flatten().find_map(|(m, b)| {
            let id = b
                .id_by_name_kind(name, Kind::Func)
                .filter(|id| *id >= b.first_id())?;
            Some((m.clone(), id))
        }))
    }
}

/// The kernel BTF object (an fd) of module `module`.
fn module_btf_handle(ext: &str, module: &str) -> Result<BtfHandle, LoadError> {
    let ids = BtfHandle::ids().map_err(|e| ext_err(ext, format!("listing BTF objects: {e}")))?;
    for id in ids {
        let Ok(h) = BtfHandle::from_id(id) else {
            continue;
        };
        if h.info().is_ok_and(|i| i.kernel_btf && i.name == module) {
            return Ok(h);
        }
    }
    Err(ext_err(
        ext,
        format!("its module `{module}` has BTF in /sys/kernel/btf but no kernel BTF object"),
    ))
}

/// Stage 3b: the values of `.ksyms` externs: kfuncs by their kernel BTF id (in vmlinux, else
/// in a loaded module's BTF, whose BTF object is then opened for the programs' `fd_array`),
/// typed ksyms by their vmlinux `VAR` id, typeless ones from `/proc/kallsyms`.
pub(crate) fn resolve_ksyms(spec: &ObjectSpec, kernel: &Btf<'_>) -> Result<Ksyms, LoadError> {
    resolve_ksyms_with(spec, kernel, Kallsyms::read)
}

/// [`resolve_ksyms`] with the kernel's symbols from `read_kallsyms` (called at most once, when
/// a typeless ksym needs it).
pub(crate) fn resolve_ksyms_with(
    spec: &ObjectSpec,
    kernel: &Btf<'_>,
    read_kallsyms: impl FnOnce() -> std::io::Result<Kallsyms>,
) -> Result<Ksyms, LoadError> {
    let mut read_kallsyms = Some(read_kallsyms);
    let mut kallsyms: Option<Kallsyms> = None;
    let mut modules = Modules::default();
    let mut out = Ksyms {
        values: Vec::with_capacity(spec.externs.len()),
        module_btfs: Vec::new(),
    };
    for e in &spec.externs {
        let v = match e.kind {
            ExternKind::Kconfig { .. } => None,
            ExternKind::Kfunc { .. } => Some(match kernel.id_by_name_kind(&e.name, Kind::Func) {
                Some(id) => ExternValue::Kfunc {
                    btf_id: id,
                    fd_index: 0,
                    btf_fd: 0,
                },
                None => match modules.find_func(&e.name, &e.name)? {
                    Some((module, id)) => {
                        let at = match out.module_btfs.iter().position(|(m, _)| *m == module) {
                            Some(i) => i,
                            None => {
                                let h = module_btf_handle(&e.name, &module)?;
                                out.module_btfs.push((module, h));
                                out.module_btfs.len() - 1
                            }
                        };
                        ExternValue::Kfunc {
                            btf_id: id,
                            fd_index: i16::try_from(at + 1).map_err(|_| {
                                ext_err(&e.name, "kfuncs of too many kernel modules")
                            })?,
                            btf_fd: out.module_btfs[at].1.as_fd().as_raw_fd(),
                        }
                    }
                    None if e.weak => ExternValue::MissingKfunc,
                    None => {
                        return Err(ext_err(
                            &e.name,
                            "kfunc not found in the kernel's BTF (vmlinux or a loaded module's): this kernel does not have it; declare it __weak and check bpf_ksym_exists()",
                        ));
                    }
                },
            }),
            ExternKind::Ksym { type_id: Some(_) } => {
                Some(match kernel.id_by_name_kind(&e.name, Kind::Var) {
                    Some(id) => ExternValue::BtfVar {
                        btf_id: id,
                        btf_fd: 0,
                    },
                    None if e.weak => ExternValue::Address(0),
                    None => {
                        return Err(ext_err(
                            &e.name,
                            "typed __ksym not found as a VAR in the kernel's BTF (only per-CPU and some global variables are there); declare it `const void` to use kallsyms",
                        ));
                    }
                })
            }
            ExternKind::Ksym { type_id: None } => {
                if kallsyms.is_none() {
                    let read = read_kallsyms.take().ok_or_else(|| {
                        ext_err(&e.name, "cannot read /proc/kallsyms a second time")
                    })?;
                    kallsyms = Some(read().map_err(|err| {
                        ext_err(&e.name, format!("cannot read /proc/kallsyms: {err}"))
                    })?);
                }
                let addr = kallsyms.as_ref().and_then(|k| k.address(&e.name));
                Some(match addr {
                    Some(a) => ExternValue::Address(a),
                    None if e.weak => ExternValue::Address(0),
                    None => {
                        return Err(ext_err(
                            &e.name,
                            "kernel symbol not in /proc/kallsyms; declare it __weak to default to 0",
                        ));
                    }
                })
            }
        };
        out.values.push(v);
    }
    Ok(out)
}
