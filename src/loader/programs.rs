//! Stage 5: programs. Each program is linked with its subprograms, its map, global-data and
//! extern relocations are patched, its CO-RE decisions are applied
//! ([`core_plan`](super::core_plan)), and it is loaded with its `func_info`/`line_info`, the object's BTF,
//! the expected attach type of its `SEC()` and, for BTF-attached types, the kernel BTF id of
//! its target.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

use crate::btf::core::{CoreError, Fixup};
use crate::btf::{Btf, Kind};
use crate::error::Error;
use crate::map::Map;
use crate::obj::section::{Attach, SecFlags, attach_type as at};
use crate::obj::{
    ExternValue, LinkedProgram, ObjectSpec, ProgramSpec, RelocKind, SectionDef, apply_relocations,
};
use crate::prog::{AttachType, LogLevel, Program, ProgramOptions, ProgramType};
use crate::sys::ProgFlags;

use super::{LoadError, ProgramOverride};

/// Stage 5a: links `prog` with its subprograms and patches map and extern relocations.
pub(crate) fn relocate(
    spec: &ObjectSpec,
    prog: &ProgramSpec,
    maps: &[Map],
    externs: &[Option<ExternValue>],
) -> Result<LinkedProgram, LoadError> {
    let mut linked = crate::obj::link_program(spec, prog)?;
    let relocs = std::mem::take(&mut linked.relocations);
    apply_relocations(
        &prog.name,
        &mut linked.insns,
        &relocs,
        &|i| maps.get(i).map(AsRawFd::as_raw_fd),
        &|i| externs.get(i).copied().flatten(),
    )?;
    kfunc_addresses_as_constants(&mut linked.insns, &relocs, externs);
    linked.relocations = relocs;
    Ok(linked)
}

/// The address of a kfunc the kernel has (`bpf_ksym_exists(kfunc)`) is a `BPF_PSEUDO_BTF_ID`
/// `ld_imm64` of its FUNC, as libbpf emits it; kernels before 6.3 refuse a FUNC there (and
/// libbpf's load fails). On those, the address becomes the constant 1: the kfunc exists, so
/// the code it guards is kept and verified.
fn kfunc_addresses_as_constants(
    insns: &mut [crate::insn::Insn],
    relocs: &[crate::obj::Relocation],
    externs: &[Option<ExternValue>],
) {
    let mut refused = None;
    for r in relocs {
        let RelocKind::Ksym { ext } = r.kind else {
            continue;
        };
        if !matches!(externs.get(ext), Some(Some(ExternValue::Kfunc { .. }))) {
            continue;
        }
        let refused = *refused.get_or_insert_with(|| {
            matches!(
                crate::features::kfunc_address(),
                Err(Error::Unsupported { .. })
            )
        });
        if !refused {
            return;
        }
        if let Some([lo, hi, ..]) = insns.get_mut(r.insn..) {
            lo.regs &= 0x0f;
            lo.imm = 1;
            hi.imm = 0;
        }
    }
}

/// A verifier rejection at an instruction CO-RE poisoned becomes [`LoadError::Core`] naming
/// the relocation (its kind, type and field), with the verifier's log kept.
pub(crate) fn explain_poisoned(e: LoadError, fixups: &[Fixup]) -> LoadError {
    match e {
        LoadError::Kernel(Error::Verifier { log, errno, name }) => {
            match CoreError::from_verifier_log(log.as_str(), fixups) {
                Some(source) => LoadError::Core {
                    source,
                    log: Some(log),
                },
                None => LoadError::Kernel(Error::Verifier { log, errno, name }),
            }
        }
        e => e,
    }
}

/// The BTF name of an attach target, with libbpf's prefixes, and the kind to look up.
fn btf_target(expected: u32, name: &str) -> (String, Kind) {
    match expected {
        at::TRACE_RAW_TP => (format!("btf_trace_{name}"), Kind::Typedef),
        at::LSM_MAC | at::LSM_CGROUP => (format!("bpf_lsm_{name}"), Kind::Func),
        at::TRACE_ITER => (format!("bpf_iter_{name}"), Kind::Func),
        _ => (name.to_owned(), Kind::Func),
    }
}

pub(crate) fn encode_func_info(linked: &LinkedProgram) -> Vec<u8> {
    linked
        .func_info
        .iter()
        .flat_map(|f| [f.insn, f.type_id])
        .flat_map(u32::to_ne_bytes)
        .collect()
}

pub(crate) fn encode_line_info(linked: &LinkedProgram) -> Vec<u8> {
    linked
        .line_info
        .iter()
        .flat_map(|l| [l.insn, l.file_name_off, l.line_off, l.line_col])
        .flat_map(u32::to_ne_bytes)
        .collect()
}

/// What to load a program as: type, expected attach type, flags and attach BTF id.
pub(crate) struct LoadParams {
    pub prog_type: ProgramType,
    pub expected: Option<AttachType>,
    pub flags: u32,
    pub attach_btf_id: u32,
    /// freplace: the target program.
    pub attach_prog: Option<std::sync::Arc<std::os::fd::OwnedFd>>,
}

/// Stage 5c: the program type, expected attach type and attach target of `prog` from its
/// `SEC()` and the overrides; the target's BTF id from the kernel's BTF.
pub(crate) fn load_params(
    prog: &ProgramSpec,
    ov: Option<&ProgramOverride>,
    kernel: &Btf<'_>,
) -> Result<LoadParams, LoadError> {
    let def = prog.section_def();
    let prog_type = match (ov.and_then(|o| o.prog_type), &def) {
        (Some(t), _) => t,
        (None, Some(d)) => ProgramType(d.prog_type),
        (None, None) => {
            return Err(LoadError::Unsupported {
                feature: format!("section name `{}`", prog.section),
                hint: "not a libbpf SEC() name; set the program type with Loader::program_type"
                    .into(),
            });
        }
    };
    let expected = ov
        .and_then(|o| o.expected_attach_type)
        .or_else(|| def.as_ref().map(|d| AttachType(d.expected_attach_type)));
    let flags = def.as_ref().map_or(0, |d| d.prog_flags());
    if let Some(d) = &def {
        super::needs::check(d)?;
    }
    let needs_btf = def
        .as_ref()
        .is_some_and(|d| d.flags.contains(SecFlags::ATTACH_BTF))
        || ov.is_some_and(|o| o.attach_target.is_some());
    let mut attach_btf_id = 0;
    let attach_prog = ov.and_then(|o| o.attach_prog.clone());
    if prog_type == ProgramType::EXT {
        let Some(target) = &attach_prog else {
            return Err(LoadError::Unsupported {
                feature: format!("freplace program `{}` without a target program", prog.name),
                hint: "give the program to replace a function of with Loader::freplace_target"
                    .into(),
            });
        };
        let func = match (ov.and_then(|o| o.attach_target.as_deref()), &def) {
            (Some(t), _) => t,
            (
                None,
                Some(SectionDef {
                    attach: Attach::Btf { name, .. },
                    ..
                }),
            ) => name,
            _ => {
                return Err(LoadError::Unsupported {
                    feature: format!("freplace program `{}` without a target function", prog.name),
                    hint: "name it in SEC(\"freplace/FUNC\") or in Loader::freplace_target".into(),
                });
            }
        };
        attach_btf_id = super::freplace::target_func_id(target.as_fd(), func)?;
    } else if needs_btf {
        let exp = expected.map_or(0, AttachType::raw);
        let target = match (ov.and_then(|o| o.attach_target.as_deref()), &def) {
            (Some(t), _) => Some(btf_target(exp, t)),
            (None, Some(d)) => match d.attach {
                Attach::Btf {
                    module: Some(m), ..
                } => {
                    return Err(LoadError::Unsupported {
                        feature: format!("attach targets in kernel module `{m}`"),
                        hint: "only vmlinux targets are resolved".into(),
                    });
                }
                Attach::Btf { name, .. } => Some(btf_target(exp, name)),
                _ => None,
            },
            (None, None) => None,
        };
        let Some((name, kind)) = target else {
            return Err(LoadError::Unsupported {
                feature: format!("section `{}` without an attach target", prog.section),
                hint: "name the target in SEC() or set it with Loader::attach_target".into(),
            });
        };
        attach_btf_id = kernel
            .id_by_name_kind(&name, kind)
            .ok_or_else(|| LoadError::Extern {
                name: name.clone(),
                what: format!(
                    "attach target ({} {name}) not found in the kernel's BTF",
                    kind.name()
                ),
            })?;
    }
    Ok(LoadParams {
        prog_type,
        expected,
        flags,
        attach_btf_id,
        attach_prog,
    })
}

/// Stage 5d: `BPF_PROG_LOAD`.
pub(crate) fn load_program(
    prog: &ProgramSpec,
    linked: &LinkedProgram,
    params: &LoadParams,
    btf: Option<BorrowedFd<'_>>,
    log_level: LogLevel,
    fd_array: Vec<BorrowedFd<'_>>,
) -> Result<Program, LoadError> {
    let mut opts = ProgramOptions::default()
        .name(&prog.name)
        .license(&prog.license)
        .flags(ProgFlags::from_bits_retain(params.flags))
        .log_level(log_level);
    opts.kern_version = if prog.kernel_version != 0 {
        prog.kernel_version
    } else {
        super::kconfig::running_kernel_version().unwrap_or(0)
    };
    if let Some(e) = params.expected {
        opts = opts.expected_attach_type(e);
    }
    opts.fd_array = fd_array;
    if params.attach_btf_id != 0 {
        opts = opts.attach_btf_id(params.attach_btf_id, None);
    }
    if let Some(t) = &params.attach_prog {
        opts.attach_prog = Some(t.as_fd());
    }
    if let Some(b) = btf {
        if !linked.func_info.is_empty() || !linked.line_info.is_empty() {
            opts = opts.btf(b, encode_func_info(linked), encode_line_info(linked));
        }
    }
    let mut loaded = Program::load(params.prog_type, &linked.insns, &opts)?;
    loaded.set_section(&prog.section);
    Ok(loaded)
}

/// `BPF_PROG_LOAD` fails with `ENOENT` when the kernel cannot find the address of a typed
/// ksym (kallsyms has data symbols only with `CONFIG_KALLSYMS_ALL`): say which extern.
pub(crate) fn explain_typed_ksym(
    e: LoadError,
    spec: &ObjectSpec,
    linked: &LinkedProgram,
    externs: &[Option<ExternValue>],
) -> LoadError {
    if !matches!(&e, LoadError::Kernel(k) if k.errno() == Some(crate::sys::Errno::ENOENT)) {
        return e;
    }
    let typed = linked.relocations.iter().find_map(|r| match r.kind {
        crate::obj::RelocKind::Ksym { ext } => match externs.get(ext) {
            Some(Some(ExternValue::BtfVar { .. })) => spec.externs.get(ext),
            _ => None,
        },
        _ => None,
    });
    match typed {
        Some(x) => LoadError::Extern {
            name: x.name.clone(),
            what: format!(
                "the kernel refused the typed __ksym ({e}): it has the variable in its BTF but not its address in kallsyms, which lists data symbols only with CONFIG_KALLSYMS_ALL"
            ),
        },
        None => e,
    }
}
