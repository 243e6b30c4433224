//! Probes of the tracing families: cookies on raw tracepoints, sleepable tracepoint programs,
//! fsession and multi-function tracing programs.

use std::sync::OnceLock;

use super::{Outcome, RET0, btf_probe, cached, enum_has_name, is_enotsupp};
use crate::btf::Btf;
use crate::error::Result;
use crate::sys::{self, Errno, ProgFlags, ProgType};

/// Whether `union bpf_attr`'s `raw_tracepoint` struct has a member `cookie`.
fn raw_tp_has_cookie(btf: &Btf<'_>) -> bool {
    btf.find_all("bpf_attr", crate::btf::Kind::Union).any(|u| {
        let Some(c) = u.as_composite() else {
            return false;
        };
        c.members().any(|m| {
            m.name().ok() == Some("raw_tracepoint")
                && btf
                    .type_by_id(m.type_id())
                    .ok()
                    .and_then(|t| t.as_composite())
                    .is_some_and(|s| s.members().any(|f| f.name().ok() == Some("cookie")))
        })
    })
}

/// BPF cookies on raw tracepoint and tp_btf links (`raw_tracepoint.cookie` of
/// `BPF_RAW_TRACEPOINT_OPEN`, kernel 6.10), which
/// [`Program::attach_raw_tracepoint_with_cookie`](crate::prog::Program::attach_raw_tracepoint_with_cookie)
/// and [`Program::attach_tp_btf_with_cookie`](crate::prog::Program::attach_tp_btf_with_cookie)
/// need.
///
/// # Errors
/// [`Error::Unsupported`](crate::Error::Unsupported) when the kernel's `union bpf_attr` has no
/// such field.
pub fn raw_tp_cookie() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        btf_probe(
            "BPF cookies on raw tracepoint links",
            "the kernel's BPF_RAW_TRACEPOINT_OPEN takes no cookie: attach without one and tell \
             the links apart by program",
            raw_tp_has_cookie,
        )
    })
}

/// Sleepable tracepoint programs (`SEC("tp.s/…")`, `SEC("raw_tp.s/…")`, `SEC("tp_btf.s/…")`
/// on faultable tracepoints such as the syscall ones).
///
/// Loads `r0 = 0; exit` as a sleepable `RAW_TRACEPOINT` and a sleepable `TRACEPOINT`
/// program; kernels that cannot run them refuse with "Program of this type cannot be
/// sleepable".
///
/// # Errors
/// [`Error::Unsupported`](crate::Error::Unsupported) when the kernel refuses either.
pub fn sleepable_tracepoints() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        for t in [ProgType::RAW_TRACEPOINT, ProgType::TRACEPOINT] {
            let mut args = sys::ProgLoadArgs {
                prog_type: t,
                insns: &RET0,
                license: c"GPL",
                prog_flags: ProgFlags::SLEEPABLE,
                ..Default::default()
            };
            match sys::prog_load(&mut args) {
                Ok(_fd) => {}
                Err(e) if e == Errno::EINVAL || is_enotsupp(e) => {
                    return Outcome::unsupported(
                        "sleepable tracepoint programs",
                        format!(
                            "the kernel refuses sleepable {t:?} programs: drop the `.s` from \
                             SEC() and read user memory with bpf_probe_read_user"
                        ),
                    );
                }
                Err(errno) => {
                    return Outcome::Syscall {
                        call: "BPF_PROG_LOAD",
                        errno,
                    };
                }
            }
        }
        Outcome::Available
    })
}

fn trampoline_attach_type(feature: &'static str, value: &'static str, hint: &str) -> Outcome {
    if let Err(e) = super::trampolines() {
        return Outcome::from_error(e, feature);
    }
    btf_probe(feature, hint, |b| {
        enum_has_name(b, "bpf_attach_type", value)
    })
}

/// fsession programs (`SEC("fsession/F")`, `BPF_TRACE_FSESSION`): one program run at both
/// entry and exit of a function. Needs BPF trampolines and a kernel whose `enum
/// bpf_attach_type` has `BPF_TRACE_FSESSION`.
///
/// # Errors
/// [`Error::Unsupported`](crate::Error::Unsupported) when either is missing.
pub fn fsession() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        trampoline_attach_type(
            "fsession programs",
            "BPF_TRACE_FSESSION",
            "the kernel has no BPF_TRACE_FSESSION: use an fentry and an fexit program",
        )
    })
}

/// Multi-function tracing programs (`SEC("fentry.multi/…")`, `fexit.multi`,
/// `fsession.multi`; `BPF_TRACE_FENTRY_MULTI` and friends): needs BPF trampolines and a kernel
/// whose `enum bpf_attach_type` has `BPF_TRACE_FENTRY_MULTI`.
///
/// # Errors
/// [`Error::Unsupported`](crate::Error::Unsupported) when either is missing.
pub fn tracing_multi() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        trampoline_attach_type(
            "multi-function tracing programs",
            "BPF_TRACE_FENTRY_MULTI",
            "the kernel has no BPF_TRACE_FENTRY_MULTI: load one fentry/fexit program per \
             function (or use kprobe.multi)",
        )
    })
}

/// struct_ops maps registered through a link (`SEC(".struct_ops.link")`: `BPF_F_LINK` at map
/// creation, then `BPF_LINK_CREATE` with `BPF_STRUCT_OPS`; kernel 6.4). Asks the kernel's BTF
/// for `struct bpf_struct_ops_link`, which implements them.
///
/// # Errors
/// [`Error::Unsupported`](crate::Error::Unsupported) on kernels without them.
pub fn struct_ops_link() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        btf_probe(
            "struct_ops links",
            "the kernel cannot register struct_ops maps through links: put the variable in \
             SEC(\".struct_ops\") instead of SEC(\".struct_ops.link\")",
            |b| {
                b.find_by_name_kind("bpf_struct_ops_link", crate::btf::Kind::Struct)
                    .is_some()
            },
        )
    })
}
