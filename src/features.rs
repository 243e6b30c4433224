//! Kernel feature probes: does the running kernel support a program type, a map type, an
//! attach or link type, a `bpf(2)` command or a field of one?
//!
//! Every probe answers the same way:
//! - `Ok(())`: the kernel has it;
//! - `Err(`[`Error::Unsupported`]`)`: it does not (the error names the feature and says what
//!   to do instead);
//! - any other error: the probe was inconclusive (no kernel BTF, a missing capability, out of
//!   memory, …); the error says why.
//!
//! Probes never look at the kernel's version number: distributions backport features, and a
//! configuration can leave them out. They either try the smallest thing that needs the
//! feature (load `r0 = 0; exit` as a program of the type, create a one-entry map of the type,
//! open a pinned path relative to a path fd) or ask the running kernel's BTF
//! (`/sys/kernel/btf/vmlinux`), whose enums and structs list exactly the constants and fields
//! the kernel was built with (`BPF_TCX_INGRESS` in `enum bpf_attach_type`, `log_true_size` in
//! `union bpf_attr`, …). Nothing a probe creates outlives it, and no probe attaches anything.
//!
//! Every answer, inconclusive ones included, is computed once per process and cached.
//!
//! ```no_run
//! use rawbpf::features;
//! use rawbpf::prog::ProgramType;
//!
//! match features::tcx() {
//!     Ok(()) => { /* attach with tcx links */ }
//!     Err(e) if e.is_not_supported() => { /* fall back to a clsact qdisc + cls_bpf */ }
//!     Err(e) => eprintln!("cannot tell whether tcx is there: {e}"),
//! }
//! assert!(features::prog_type(ProgramType::XDP).is_ok());
//! ```
//!
//! [`by_name`] and [`ALL`] list the named probes (`"tcx"`, `"arena"`, …) for tools and test
//! suites that check a list of expected features.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use crate::btf::{Btf, Kind};
use crate::error::{Error, Result};
use crate::insn::Insn;
use crate::sys::{self, AttachType, Errno, LinkType, MapFlags, MapType, ProgFlags, ProgType};

/// A probe's answer as cached (an [`Error`] is not `Clone`).
#[derive(Clone, Debug)]
enum Outcome {
    Available,
    Unsupported {
        feature: &'static str,
        hint: String,
    },
    Syscall {
        call: &'static str,
        errno: Errno,
    },
    /// `EPERM` with every capability the probe needs: the machine's security policy forbids
    /// the feature (a definite answer for this machine, not an inconclusive one).
    Refused {
        feature: &'static str,
        call: &'static str,
    },
    Io {
        path: PathBuf,
        errno: Option<i32>,
        msg: String,
    },
}

impl Outcome {
    fn result(&self) -> Result<()> {
        match self {
            Outcome::Available => Ok(()),
            Outcome::Unsupported { feature, hint } => Err(Error::Unsupported {
                feature,
                hint: hint.clone(),
            }),
            Outcome::Syscall { call, errno } => Err(Error::Syscall {
                call,
                errno: *errno,
                context: Some("feature probe".into()),
                hint: None,
            }),
            Outcome::Refused { feature, call } => Err(Error::PolicyRefused {
                call,
                feature: Some(feature),
                context: Some("feature probe".into()),
            }),
            Outcome::Io { path, errno, msg } => Err(Error::Io {
                path: path.clone(),
                source: match errno {
                    Some(e) => std::io::Error::from_raw_os_error(*e),
                    None => std::io::Error::other(msg.clone()),
                },
            }),
        }
    }

    /// The cacheable form of a sub-probe's or a load's error (`context` says what was tried,
    /// for errors that carry no call name).
    fn from_error(e: Error, context: &str) -> Self {
        match e {
            Error::Unsupported { feature, hint } => Outcome::Unsupported { feature, hint },
            Error::Syscall { call, errno, .. } | Error::Refused { call, errno, .. } => {
                Outcome::Syscall { call, errno }
            }
            Error::PolicyRefused {
                call,
                feature: Some(feature),
                ..
            } => Outcome::Refused { feature, call },
            Error::PolicyRefused { call, .. } => Outcome::Syscall {
                call,
                errno: Errno::EPERM,
            },
            Error::MissingCapability { call, .. } => Outcome::Syscall {
                call,
                errno: Errno::EPERM,
            },
            Error::Io { path, source } => Outcome::Io {
                path,
                errno: source.raw_os_error(),
                msg: source.to_string(),
            },
            e => Outcome::Io {
                path: PathBuf::from("/sys/kernel/btf/vmlinux"),
                errno: None,
                msg: format!("{context}: {e}"),
            },
        }
    }

    /// The outcome of a probe's syscall that failed with `errno`: [`Outcome::Refused`] for an
    /// `EPERM` while the process has `caps` (and `CAP_BPF`), else inconclusive.
    fn failed(
        feature: &'static str,
        call: &'static str,
        errno: Errno,
        caps: &[&'static str],
    ) -> Self {
        if errno == Errno::EPERM && policy_refusal(caps) {
            Outcome::Refused { feature, call }
        } else {
            Outcome::Syscall { call, errno }
        }
    }

    fn unsupported(feature: &'static str, hint: impl Into<String>) -> Self {
        Outcome::Unsupported {
            feature,
            hint: hint.into(),
        }
    }
}

/// Whether an `EPERM` can only be the machine's policy: the process has `CAP_BPF` and every
/// capability in `caps` (and can tell: capget works).
fn policy_refusal(caps: &[&'static str]) -> bool {
    let mut needed = vec!["CAP_BPF"];
    needed.extend_from_slice(caps);
    sys::caps::effective_capabilities().is_ok() && crate::map::capability_missing(&needed).is_none()
}

fn cached(cell: &OnceLock<Outcome>, probe: impl FnOnce() -> Outcome) -> Result<()> {
    cell.get_or_init(probe).result()
}

// ------------------------------------------------------------------ the kernel's BTF

/// The running kernel's BTF, or the inconclusive outcome of not having it.
fn vmlinux() -> std::result::Result<Arc<Btf<'static>>, Outcome> {
    Btf::from_kernel().map_err(|e| Outcome::Io {
        path: PathBuf::from("/sys/kernel/btf/vmlinux"),
        errno: None,
        msg: format!("the kernel's BTF, which this feature probe reads: {e}"),
    })
}

/// Whether the named enum of the kernel's BTF has a value called `value`.
fn enum_has_name(btf: &Btf<'_>, enum_name: &str, value: &str) -> bool {
    enum_values(btf, enum_name).iter().any(|(n, _)| n == value)
}

/// The `(name, value)` pairs of the kernel enum `enum_name` (empty if there is none).
fn enum_values(btf: &Btf<'_>, enum_name: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for kind in [Kind::Enum, Kind::Enum64] {
        for t in btf.find_all(enum_name, kind) {
            if let Some(e) = t.as_enum() {
                out.extend(
                    e.values()
                        .filter_map(|v| Some((v.name().ok()?.to_string(), v.value_u64()))),
                );
            }
        }
    }
    out
}

/// Whether the kernel enum `enum_name` has a real (not a `MAX` sentinel) value equal to `v`.
fn enum_knows_value(btf: &Btf<'_>, enum_name: &str, v: u32) -> Option<bool> {
    let values = enum_values(btf, enum_name);
    if values.is_empty() {
        return None;
    }
    Some(
        values
            .iter()
            .any(|(n, x)| *x == u64::from(v) && !n.contains("MAX_")),
    )
}

/// Whether the struct or union `outer` of the kernel's BTF has a member `member`, directly or
/// inside one of its anonymous struct/union members.
fn has_member(btf: &Btf<'_>, outer: &str, member: &str) -> bool {
    [Kind::Struct, Kind::Union].into_iter().any(|k| {
        btf.find_all(outer, k)
            .any(|t| member_in(btf, t.id(), member, 0))
    })
}

fn member_in(btf: &Btf<'_>, id: crate::btf::TypeId, member: &str, depth: u32) -> bool {
    if depth > 4 {
        return false;
    }
    let Ok(t) = btf.type_by_id(id) else {
        return false;
    };
    let Some(c) = t.as_composite() else {
        return false;
    };
    c.members().any(|m| match m.name() {
        Ok(n) if n == member => true,
        // Look inside anonymous members: `union bpf_attr` and `struct bpf_link_info` nest
        // their fields in anonymous structs and unions.
        Ok("") => member_in(btf, skip_modifiers(btf, m.type_id()), member, depth + 1),
        Ok(_) => false,
        Err(_) => false,
    })
}

fn skip_modifiers(btf: &Btf<'_>, mut id: crate::btf::TypeId) -> crate::btf::TypeId {
    for _ in 0..8 {
        match btf.type_by_id(id) {
            Ok(t) if t.is_modifier() => match t.ref_type() {
                Some(next) => id = next,
                None => break,
            },
            _ => break,
        }
    }
    id
}

/// A probe by the kernel's BTF: `Available` if `known(btf)`, else `Unsupported`.
fn btf_probe(feature: &'static str, hint: &str, known: impl FnOnce(&Btf<'_>) -> bool) -> Outcome {
    match vmlinux() {
        Ok(btf) if known(&btf) => Outcome::Available,
        Ok(_) => Outcome::unsupported(feature, hint),
        Err(o) => o,
    }
}

// ------------------------------------------------------------------ program and map types

const RET0: [Insn; 2] = [Insn::mov64_imm(crate::insn::Reg::R0, 0), Insn::exit()];

/// The expected attach type and flags a minimal program of `t` needs to load.
fn prog_probe_attrs(t: ProgType) -> (AttachType, ProgFlags) {
    match t {
        ProgType::CGROUP_SOCK_ADDR => (AttachType::CGROUP_INET4_CONNECT, ProgFlags::empty()),
        ProgType::CGROUP_SOCKOPT => (AttachType::CGROUP_GETSOCKOPT, ProgFlags::empty()),
        ProgType::SK_LOOKUP => (AttachType::SK_LOOKUP, ProgFlags::empty()),
        ProgType::NETFILTER => (AttachType::NETFILTER, ProgFlags::empty()),
        ProgType::SYSCALL => (AttachType(0), ProgFlags::SLEEPABLE),
        _ => (AttachType(0), ProgFlags::empty()),
    }
}

/// Program types that cannot load without a BTF attach target; their probe is the kernel's
/// `enum bpf_prog_type` alone.
fn needs_btf_target(t: ProgType) -> bool {
    matches!(
        t,
        ProgType::TRACING | ProgType::STRUCT_OPS | ProgType::EXT | ProgType::LSM
    )
}

/// Whether the kernel supports programs of type `t`.
///
/// Loads `r0 = 0; exit` as a program of that type (with the expected attach type the type
/// needs, e.g. `BPF_CGROUP_INET4_CONNECT` for `CGROUP_SOCK_ADDR`). Types that need a BTF
/// attach target to load at all (`TRACING`, `STRUCT_OPS`, `EXT`, `LSM`) are checked against
/// the kernel's `enum bpf_prog_type` instead; [`trampolines`] says whether tracing programs
/// can actually be attached.
///
/// # Errors
/// [`Error::Unsupported`] when the kernel does not know the type; other errors when the probe
/// is inconclusive (e.g. [`Error::Syscall`] with `EPERM` without `CAP_BPF`).
pub fn prog_type(t: ProgType) -> Result<()> {
    static CELLS: [OnceLock<Outcome>; 64] = [const { OnceLock::new() }; 64];
    let Some(cell) = CELLS.get(t.0 as usize) else {
        return Err(Error::Unsupported {
            feature: "this program type",
            hint: format!("{t:?} is beyond every program type rawbpf knows"),
        });
    };
    cached(cell, || probe_prog_type(t))
}

fn probe_prog_type(t: ProgType) -> Outcome {
    let feature = "this program type";
    let hint = || format!("the kernel cannot load {t:?} programs: use another program type");
    match vmlinux() {
        Ok(btf) if enum_knows_value(&btf, "bpf_prog_type", t.0) == Some(false) => {
            return Outcome::unsupported(feature, hint());
        }
        Ok(_) if needs_btf_target(t) => return Outcome::Available,
        Err(o) if needs_btf_target(t) => return o,
        _ => {}
    }
    let (expected, flags) = prog_probe_attrs(t);
    let mut args = sys::ProgLoadArgs {
        prog_type: t,
        insns: &RET0,
        license: c"GPL",
        expected_attach_type: expected,
        prog_flags: flags,
        ..Default::default()
    };
    match sys::prog_load(&mut args) {
        Ok(_fd) => Outcome::Available,
        Err(e) if e == Errno::EINVAL || e == Errno::E2BIG || is_enotsupp(e) => {
            Outcome::unsupported(feature, hint())
        }
        Err(errno) => Outcome::failed(
            feature,
            "BPF_PROG_LOAD",
            errno,
            crate::prog::types::extra_capability(t).as_slice(),
        ),
    }
}

fn is_enotsupp(e: Errno) -> bool {
    e == Errno::ENOTSUPP || e == Errno::EOPNOTSUPP
}

/// Map types that need BTF for their key/value (the local storages) or a struct_ops type;
/// their probe is the kernel's `enum bpf_map_type`.
fn map_needs_btf(t: MapType) -> bool {
    matches!(
        t,
        MapType::SK_STORAGE
            | MapType::INODE_STORAGE
            | MapType::TASK_STORAGE
            | MapType::CGRP_STORAGE
            | MapType::STRUCT_OPS
    )
}

/// Whether the kernel supports maps of type `t`.
///
/// Creates the smallest map of that type (with the key and value sizes and flags the type
/// requires: an inner map for map-in-maps, a page for ring buffers, `BPF_F_MMAPABLE` for
/// arenas, …) and closes it. The local storages and `STRUCT_OPS`, which need BTF types to be
/// created, are checked against the kernel's `enum bpf_map_type`.
///
/// # Errors
/// [`Error::Unsupported`] when the kernel does not know the type; other errors when the probe
/// is inconclusive.
pub fn map_type(t: MapType) -> Result<()> {
    static CELLS: [OnceLock<Outcome>; 64] = [const { OnceLock::new() }; 64];
    let Some(cell) = CELLS.get(t.0 as usize) else {
        return Err(Error::Unsupported {
            feature: "this map type",
            hint: format!("{t:?} is beyond every map type rawbpf knows"),
        });
    };
    cached(cell, || probe_map_type(t))
}

fn probe_map_type(t: MapType) -> Outcome {
    let feature = if t == MapType::ARENA {
        "arena maps"
    } else {
        "this map type"
    };
    let hint = || format!("the kernel cannot create {t:?} maps: use another map type");
    match vmlinux() {
        Ok(btf) if enum_knows_value(&btf, "bpf_map_type", t.0) == Some(false) => {
            return Outcome::unsupported(feature, hint());
        }
        Ok(_) if map_needs_btf(t) => return Outcome::Available,
        Err(o) if map_needs_btf(t) => return o,
        _ => {}
    }
    let inner = if matches!(t, MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS) {
        match sys::map_create(&sys::MapCreateArgs {
            map_type: MapType::ARRAY,
            key_size: 4,
            value_size: 4,
            max_entries: 1,
            ..Default::default()
        }) {
            Ok(m) => Some(m),
            Err(errno) => {
                return Outcome::Syscall {
                    call: "BPF_MAP_CREATE",
                    errno,
                };
            }
        }
    } else {
        None
    };
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(4096);
    let (key_size, value_size, max_entries, map_flags) = match t {
        MapType::RINGBUF | MapType::USER_RINGBUF => (0, 0, page, MapFlags::empty()),
        MapType::QUEUE | MapType::STACK | MapType::BLOOM_FILTER => (0, 4, 1, MapFlags::empty()),
        MapType::LPM_TRIE => (8, 4, 1, MapFlags::NO_PREALLOC),
        MapType::CGROUP_STORAGE | MapType::PERCPU_CGROUP_STORAGE => (8, 8, 0, MapFlags::empty()),
        MapType::STACK_TRACE | MapType::REUSEPORT_SOCKARRAY => (4, 8, 1, MapFlags::empty()),
        MapType::ARENA => (0, 0, 1, MapFlags::MMAPABLE),
        _ => (4, 4, 1, MapFlags::empty()),
    };
    let args = sys::MapCreateArgs {
        map_type: t,
        key_size,
        value_size,
        max_entries,
        map_flags,
        inner_map: inner.as_ref().map(|m| std::os::fd::AsFd::as_fd(m)),
        ..Default::default()
    };
    match sys::map_create(&args) {
        Ok(_m) => Outcome::Available,
        Err(e) if e == Errno::EINVAL || e == Errno::E2BIG || is_enotsupp(e) => {
            Outcome::unsupported(feature, hint())
        }
        Err(errno) => Outcome::failed(
            feature,
            "BPF_MAP_CREATE",
            errno,
            crate::map::map_type_capability(t).as_slice(),
        ),
    }
}

/// Whether the kernel knows attach type `t` (its `enum bpf_attach_type` has the value).
///
/// Knowing the constant is what `BPF_PROG_LOAD`, `BPF_PROG_ATTACH` and `BPF_LINK_CREATE`
/// check first; whether a particular target accepts it is for the attach itself to say.
///
/// # Errors
/// [`Error::Unsupported`] when the kernel does not know the attach type; an I/O error when the
/// kernel has no BTF to ask.
pub fn attach_type(t: AttachType) -> Result<()> {
    static CELLS: [OnceLock<Outcome>; 128] = [const { OnceLock::new() }; 128];
    let probe = || {
        btf_probe(
            "this attach type",
            &format!("the kernel does not know {t:?}"),
            |b| enum_knows_value(b, "bpf_attach_type", t.0) == Some(true),
        )
    };
    match CELLS.get(t.0 as usize) {
        Some(cell) => cached(cell, probe),
        None => probe().result(),
    }
}

/// Whether the kernel knows link type `t` (its `enum bpf_link_type` has the value).
///
/// # Errors
/// As [`attach_type`].
pub fn link_type(t: LinkType) -> Result<()> {
    static CELLS: [OnceLock<Outcome>; 64] = [const { OnceLock::new() }; 64];
    let probe = || {
        btf_probe(
            "this link type",
            &format!("the kernel does not know {t:?} links"),
            |b| enum_knows_value(b, "bpf_link_type", t.0) == Some(true),
        )
    };
    match CELLS.get(t.0 as usize) {
        Some(cell) => cached(cell, probe),
        None => probe().result(),
    }
}

mod kprobe_multi;
mod ksym;
mod locks;
mod named;
mod tracing;
pub use kprobe_multi::kprobe_multi;
pub use ksym::kfunc_address;
pub use locks::sleepable_spin_lock;
pub use named::*;
pub use tracing::{fsession, raw_tp_cookie, sleepable_tracepoints, struct_ops_link, tracing_multi};

#[cfg(test)]
pub(crate) mod tests;

/// Whether the kernel's BTF (vmlinux, or a loaded module's) has a function called `name`,
/// which a kfunc call resolves against (`bpf_task_from_pid`, `bpf_obj_new_impl`, …).
///
/// The kernel must also have registered the function as a kfunc for the calling program's
/// type; the program's load says whether it did.
///
/// # Errors
/// [`Error::Unsupported`] when no kernel BTF has the function; an I/O error without kernel
/// BTF.
pub fn kfunc(name: &str) -> Result<()> {
    static CACHE: OnceLock<std::sync::Mutex<std::collections::HashMap<String, Outcome>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(o) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(name) {
        return o.result();
    }
    let outcome = match vmlinux() {
        Ok(btf) if btf.id_by_name_kind(name, Kind::Func).is_some() => Outcome::Available,
        Ok(_) => {
            let in_module = crate::btf::kernel_modules_with_btf()
                .unwrap_or_default()
                .iter()
                .filter_map(|m| Btf::from_kernel_module(m).ok())
                .any(|b| b.id_by_name_kind(name, Kind::Func).is_some());
            if in_module {
                Outcome::Available
            } else {
                Outcome::unsupported(
                    "this kfunc",
                    format!("no kernel BTF (vmlinux or a loaded module) has a function {name}"),
                )
            }
        }
        Err(o) => o,
    };
    let r = outcome.result();
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(name.to_string(), outcome);
    r
}
