//! The named feature probes: one function per feature, each cached, plus [`ALL`] and
//! [`by_name`].

use std::ffi::CStr;
use std::os::fd::AsFd;
use std::path::Path;
use std::sync::OnceLock;

use super::{Outcome, btf_probe, cached, enum_has_name, has_member, vmlinux};
use crate::error::{Error, Result};
use crate::sys::{self, AttachType, Errno, LinkType, MapType, ObjFlags, ProgType};

/// A named probe: its answer, cached after the first call.
pub type Probe = fn() -> Result<()>;

/// Every named probe, by the name [`by_name`] takes (and test suites list in
/// `RAWBPF_EXPECT_FEATURES`).
pub const ALL: &[(&str, Probe)] = &[
    ("kprobes", kprobes),
    ("trampolines", trampolines),
    ("module_btf", module_btf),
    ("bpf_cookie", bpf_cookie),
    ("log_true_size", log_true_size),
    ("path_fd", path_fd),
    ("perf_event_link_info", perf_event_link_info),
    ("netfilter", netfilter),
    ("tcx", tcx),
    ("uprobe_multi", uprobe_multi),
    ("arena", arena),
    ("prog_stream", prog_stream),
    ("sleepable_spin_lock", super::sleepable_spin_lock),
    ("raw_tp_cookie", super::raw_tp_cookie),
    ("sleepable_tracepoints", super::sleepable_tracepoints),
    ("fsession", super::fsession),
    ("tracing_multi", super::tracing_multi),
    ("struct_ops_link", super::struct_ops_link),
    ("kfunc_address", super::kfunc_address),
    ("kprobe_multi", super::kprobe_multi),
];

/// The probe called `name` in [`ALL`], run (or its cached answer); `None` for an unknown name.
pub fn by_name(name: &str) -> Option<Result<()>> {
    ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| f())
}

/// Kprobes through the perf `kprobe` PMU (`/sys/bus/event_source/devices/kprobe/type`), which
/// [`crate::sys::perf_event::ProbeAttr::kprobe`] needs.
///
/// # Errors
/// [`Error::Unsupported`] when the PMU is not registered (`CONFIG_KPROBE_EVENTS=n`).
pub fn kprobes() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        if Path::new("/sys/bus/event_source/devices/kprobe/type").exists() {
            Outcome::Available
        } else {
            Outcome::unsupported(
                "kprobes",
                "the kernel has no perf kprobe PMU (/sys/bus/event_source/devices/kprobe): attach to a \
                 tracepoint or raw tracepoint instead",
            )
        }
    })
}

/// BPF trampolines: fentry/fexit/fmod_ret/freplace/LSM programs.
///
/// Loads a tiny fentry program on a kernel function (`bpf_fentry_test1`, which exists for
/// exactly this, or `do_unlinkat`); nothing is attached. Kernels built without trampolines for
/// this architecture, or that forbid them, refuse the load with `EPERM` before verifying.
///
/// # Errors
/// [`Error::Unsupported`] when the kernel refuses fentry programs; an inconclusive error when
/// it has no BTF or neither function.
pub fn trampolines() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        let btf = match vmlinux() {
            Ok(b) => b,
            Err(o) => return o,
        };
        let Some(target) = ["bpf_fentry_test1", "do_unlinkat"]
            .iter()
            .find_map(|f| btf.id_by_name_kind(f, crate::btf::Kind::Func))
        else {
            return Outcome::Io {
                path: "/sys/kernel/btf/vmlinux".into(),
                errno: None,
                msg: "the kernel's BTF has neither bpf_fentry_test1 nor do_unlinkat to probe fentry with"
                    .into(),
            };
        };
        let opts = crate::prog::ProgramOptions::default()
            .name("feat_fentry")
            .expected_attach_type(AttachType::TRACE_FENTRY)
            .attach_btf_id(target, None);
        match crate::prog::Program::load(ProgType::TRACING, &super::RET0, &opts) {
            Ok(_p) => Outcome::Available,
            Err(Error::Unsupported { hint, .. }) => Outcome::unsupported("trampolines", hint),
            Err(e) => Outcome::from_error(e, "loading an fentry program to probe for trampolines"),
        }
    })
}

/// BTF for kernel modules: `/sys/kernel/btf` lists a module besides `vmlinux`.
///
/// # Errors
/// [`Error::Unsupported`] when no loaded module has BTF (`CONFIG_DEBUG_INFO_BTF_MODULES=n`, or
/// no module is loaded).
pub fn module_btf() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || match crate::btf::kernel_modules_with_btf() {
        Ok(m) if !m.is_empty() => Outcome::Available,
        Ok(_) => Outcome::unsupported(
            "module BTF",
            "/sys/kernel/btf lists only vmlinux: the kernel has no module BTF \
             (CONFIG_DEBUG_INFO_BTF_MODULES) or no module is loaded",
        ),
        Err(_) => Outcome::unsupported(
            "module BTF",
            "/sys/kernel/btf does not exist: the kernel has no BTF at all",
        ),
    })
}

/// BPF cookies: the `bpf_get_attach_cookie` helper (and the `bpf_cookie` attach attribute),
/// known to the kernel's `enum bpf_func_id`.
///
/// # Errors
/// [`Error::Unsupported`] when the helper is unknown; an I/O error without kernel BTF.
pub fn bpf_cookie() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        btf_probe(
            "BPF cookies",
            "the kernel has no bpf_get_attach_cookie helper: encode the context in the program or a map instead",
            |b| enum_has_name(b, "bpf_func_id", "BPF_FUNC_get_attach_cookie"),
        )
    })
}

/// `log_true_size` in `BPF_PROG_LOAD`/`BPF_BTF_LOAD`: the kernel reports the log size a load
/// needed (a member of the kernel's `union bpf_attr`).
///
/// # Errors
/// [`Error::Unsupported`] when the kernel does not report it; an I/O error without kernel BTF.
pub fn log_true_size() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        btf_probe(
            "log_true_size",
            "the kernel does not report the log size a load needs: grow the log buffer until the log fits",
            |b| has_member(b, "bpf_attr", "log_true_size"),
        )
    })
}

/// `BPF_F_PATH_FD`: `BPF_OBJ_PIN`/`BPF_OBJ_GET` relative to a directory fd.
///
/// Opens a name relative to `/dev/null` (not a directory): a kernel that knows the flag fails
/// the lookup with `ENOTDIR`, one that does not rejects the flag with `EINVAL`.
///
/// # Errors
/// [`Error::Unsupported`] when the kernel rejects the flag; an inconclusive error otherwise.
pub fn path_fd() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        let null = match std::fs::File::open("/dev/null") {
            Ok(f) => f,
            Err(e) => {
                return Outcome::Io {
                    path: "/dev/null".into(),
                    errno: e.raw_os_error(),
                    msg: e.to_string(),
                };
            }
        };
        let name: &CStr = c"rawbpf-feature-probe";
        match sys::obj_get(name, ObjFlags::empty(), Some(null.as_fd())) {
            Err(e) if e == Errno::from_raw(libc::ENOTDIR) || e == Errno::ENOENT => {
                Outcome::Available
            }
            Err(e) if e == Errno::EINVAL => Outcome::unsupported(
                "BPF_F_PATH_FD",
                "the kernel cannot pin or open objects relative to a directory fd: use an absolute path",
            ),
            Ok(_) => Outcome::Available,
            Err(errno) => Outcome::failed("BPF_F_PATH_FD", "BPF_OBJ_GET", errno, &[]),
        }
    })
}

/// Link info of perf-event links (kprobe, uprobe, tracepoint and perf event details in
/// `BPF_OBJ_GET_INFO_BY_FD`): `perf_event` in the kernel's `struct bpf_link_info`.
///
/// # Errors
/// [`Error::Unsupported`] when the kernel reports nothing beyond the link's type and program;
/// an I/O error without kernel BTF.
pub fn perf_event_link_info() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        btf_probe(
            "perf-event link info",
            "the kernel does not describe perf-event links: ask the perf event fd instead (BPF_TASK_FD_QUERY)",
            |b| has_member(b, "bpf_link_info", "perf_event"),
        )
    })
}

/// Netfilter programs and links (`BPF_PROG_TYPE_NETFILTER`, `BPF_LINK_TYPE_NETFILTER`).
///
/// # Errors
/// [`Error::Unsupported`] when the kernel lacks either; inconclusive errors as
/// [`super::prog_type`].
pub fn netfilter() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        both(
            "netfilter programs",
            super::prog_type(ProgType::NETFILTER),
            super::link_type(LinkType::NETFILTER),
        )
    })
}

/// tcx: `BPF_TCX_INGRESS`/`BPF_TCX_EGRESS` attachments and `BPF_LINK_TYPE_TCX` links (the
/// kernel's enums know them). Nothing is attached.
///
/// # Errors
/// [`Error::Unsupported`] when the kernel lacks them: use a clsact qdisc with cls_bpf; an I/O
/// error without kernel BTF.
pub fn tcx() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        both(
            "tcx",
            super::attach_type(AttachType::TCX_INGRESS),
            super::link_type(LinkType::TCX),
        )
    })
}

/// uprobe.multi links (`BPF_TRACE_UPROBE_MULTI`, `BPF_LINK_TYPE_UPROBE_MULTI`).
///
/// # Errors
/// [`Error::Unsupported`] when the kernel lacks them: attach one uprobe per offset through the
/// perf uprobe PMU; an I/O error without kernel BTF.
pub fn uprobe_multi() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        both(
            "uprobe.multi links",
            super::attach_type(AttachType::TRACE_UPROBE_MULTI),
            super::link_type(LinkType::UPROBE_MULTI),
        )
    })
}

/// Arena maps (`BPF_MAP_TYPE_ARENA`): creates a one-page arena.
///
/// # Errors
/// As [`super::map_type`].
pub fn arena() -> Result<()> {
    super::map_type(MapType::ARENA)
}

/// Program streams (`BPF_PROG_STREAM_READ_BY_FD`, known to the kernel's `enum bpf_cmd`): a
/// program's stdout/stderr.
///
/// # Errors
/// [`Error::Unsupported`] when the command is unknown; an I/O error without kernel BTF.
pub fn prog_stream() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        btf_probe(
            "program streams",
            "the kernel has no BPF_PROG_STREAM_READ_BY_FD: report through a ring buffer instead",
            |b| enum_has_name(b, "bpf_cmd", "BPF_PROG_STREAM_READ_BY_FD"),
        )
    })
}

/// Combines two probes of one feature: available if both are, unsupported (named `feature`)
/// if either is, inconclusive otherwise.
fn both(feature: &'static str, a: Result<()>, b: Result<()>) -> Outcome {
    match (a, b) {
        (Ok(()), Ok(())) => Outcome::Available,
        (Err(Error::Unsupported { hint, .. }), _) | (_, Err(Error::Unsupported { hint, .. })) => {
            Outcome::unsupported(feature, hint)
        }
        (Err(e), _) | (_, Err(e)) => Outcome::from_error(e, feature),
    }
}
