//! The `SEC()` table: what a program's ELF section name says about it.
//!
//! A clang-compiled BPF object puts each program in a section named by the `SEC("...")`
//! annotation. The names are a de-facto ABI defined by libbpf's `section_defs` table: the name
//! chooses the program type, the expected attach type passed at load, load flags (sleepable,
//! XDP frags) and, for many kinds, the attach target (`kprobe/do_unlinkat`,
//! `tracepoint/syscalls/sys_enter_execve`, `uprobe/PATH:FUNC+OFF`, …).
//!
//! [`parse_section`] matches a name the way libbpf 1.x does (first match in table order):
//! - an entry spelled `type+` matches `type` exactly or `type/extras`;
//! - any other entry matches exactly.
//!
//! For compatibility with objects written for libbpf 0.x, cilium/ebpf and aya, a name that
//! matches no entry but starts with an exact entry followed by `/` (`xdp/NAME`,
//! `socket/NAME`, `classifier/NAME`, `sk_msg/NAME`, `cgroup/connect4/NAME`, …) is accepted
//! with [`SecFlags::LEGACY`]. A leading `?` (libbpf: "do not load by default") is stripped
//! and reported as [`SecFlags::NO_AUTOLOAD`]. Everything else is `None`.
//!
//! ```
//! use rawbpf::obj::section::{parse_section, prog_type, Attach};
//! let def = parse_section("kprobe/do_unlinkat+8").unwrap();
//! assert_eq!(def.prog_type, prog_type::KPROBE);
//! assert_eq!(def.attach, Attach::Kprobe { func: "do_unlinkat", offset: 8, retprobe: false });
//! ```

mod target;
mod types;

pub use types::{attach_type, prog_type};

use attach_type as at;
use prog_type as pt;

bitflags::bitflags! {
    /// Properties of a section kind (libbpf's `enum sec_def_flags`, plus our own).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct SecFlags: u32 {
        /// `SEC_EXP_ATTACH_OPT`: if the kernel rejects the expected attach type, load again
        /// without it (old kernels).
        const EXP_ATTACH_OPT = 1;
        /// `SEC_ATTACHABLE`: attached with `BPF_PROG_ATTACH`/`BPF_LINK_CREATE` to a target
        /// given at attach time (cgroup, netns, sockmap, …).
        const ATTACHABLE = 2;
        /// `SEC_ATTACH_BTF`: the attach target is a BTF id (kernel function, hook, tracepoint
        /// or another BPF program) resolved at load time.
        const ATTACH_BTF = 4;
        /// `SEC_SLEEPABLE`: load with `BPF_F_SLEEPABLE`.
        const SLEEPABLE = 8;
        /// `SEC_XDP_FRAGS`: load with `BPF_F_XDP_HAS_FRAGS` (multi-buffer XDP).
        const XDP_FRAGS = 16;
        /// `SEC_USDT`: a USDT probe; libbpf loads it with `BPF_TRACE_UPROBE_MULTI` as expected
        /// attach type when the kernel has multi-uprobe links.
        const USDT = 32;
        /// Matched only as a legacy `TYPE/NAME` spelling (libbpf 0.x, cilium/ebpf, aya).
        const LEGACY = 1 << 16;
        /// The name started with `?`: libbpf does not load such a program unless asked to.
        const NO_AUTOLOAD = 1 << 17;
    }
}

/// `BPF_F_SLEEPABLE` (`prog_flags` of `BPF_PROG_LOAD`).
pub const BPF_F_SLEEPABLE: u32 = 1 << 4;
/// `BPF_F_XDP_HAS_FRAGS` (`prog_flags` of `BPF_PROG_LOAD`).
pub const BPF_F_XDP_HAS_FRAGS: u32 = 1 << 5;

/// The attach target a section name spells out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Attach<'a> {
    /// No target in the name: the caller supplies one at attach time (ifindex, cgroup, map,
    /// function name for a bare `SEC("kprobe")`, …) or the kind attaches otherwise.
    Manual,
    /// `kprobe/FUNC[+OFF]`, `kretprobe/FUNC`.
    Kprobe {
        /// Kernel function.
        func: &'a str,
        /// Offset into the function (kprobes only).
        offset: u64,
        /// `kretprobe`.
        retprobe: bool,
    },
    /// `ksyscall/NAME`, `kretsyscall/NAME`: a syscall by name, arch prefix added at attach.
    Ksyscall {
        /// Syscall name, e.g. `execve`.
        name: &'a str,
        /// `kretsyscall`.
        retprobe: bool,
    },
    /// `kprobe.multi/PATTERN`, `kretprobe.multi/PATTERN`, `kprobe.session/PATTERN`: a glob
    /// over kernel function names.
    KprobeMulti {
        /// Glob (`*`, `?`).
        pattern: &'a str,
        /// Return probe.
        retprobe: bool,
        /// Session probe (entry and return in one program).
        session: bool,
    },
    /// `uprobe/PATH:FUNC[+OFF]`, `uprobe/PATH:OFF`, `uretprobe/PATH:FUNC` (and `.s`).
    Uprobe {
        /// Binary or library path.
        binary: &'a str,
        /// Symbol, or `None` when the spec is a raw offset.
        func: Option<&'a str>,
        /// Offset from the symbol (or from the file start without one).
        offset: u64,
        /// Return probe.
        retprobe: bool,
    },
    /// `uprobe.multi/PATH:PATTERN`, `uretprobe.multi/…`, `uprobe.session/…` (and `.s`).
    UprobeMulti {
        /// Binary or library path.
        binary: &'a str,
        /// Glob over symbol names.
        pattern: &'a str,
        /// Return probe.
        retprobe: bool,
        /// Session probe.
        session: bool,
    },
    /// `usdt/PATH:PROVIDER:NAME`.
    Usdt {
        /// Binary or library path.
        binary: &'a str,
        /// USDT provider.
        provider: &'a str,
        /// USDT probe name.
        name: &'a str,
    },
    /// `tracepoint/CATEGORY/NAME`, `tp/CATEGORY/NAME`.
    Tracepoint {
        /// Category (tracefs `events/` directory), e.g. `syscalls`.
        category: &'a str,
        /// Event name, e.g. `sys_enter_execve`.
        name: &'a str,
    },
    /// `raw_tracepoint/NAME`, `raw_tp/NAME` (and `.w`).
    RawTracepoint {
        /// Tracepoint name.
        name: &'a str,
    },
    /// `fentry/FUNC`, `fexit/…`, `fmod_ret/…`, `freplace/…`, `tp_btf/…`, `lsm/HOOK`,
    /// `lsm_cgroup/HOOK`, `iter/NAME` (and `.s`): a BTF-named target, optionally in a kernel
    /// module (`fentry/MODULE:FUNC`). See [`SectionDef::btf_target_name`].
    Btf {
        /// Kernel module, from `MODULE:NAME`.
        module: Option<&'a str>,
        /// Name as written after the `/`.
        name: &'a str,
    },
    /// `struct_ops/NAME`: a member of a struct_ops map.
    StructOps {
        /// Name after the `/`.
        name: &'a str,
    },
    /// The kind takes a target in its name but this one is malformed; libbpf accepts such a
    /// program at open and fails only when auto-attaching.
    Invalid(&'static str),
}

/// What a section name means: [`parse_section`]'s result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SectionDef<'a> {
    /// The matched libbpf table entry, e.g. `"kprobe+"`, `"tc/ingress"`.
    pub pattern: &'static str,
    /// `enum bpf_prog_type` (see [`prog_type`]).
    pub prog_type: u32,
    /// `expected_attach_type` for `BPF_PROG_LOAD` (see [`attach_type`]); 0 where libbpf
    /// passes 0 (note 0 is also `BPF_CGROUP_INET_INGRESS`).
    pub expected_attach_type: u32,
    /// Section flags.
    pub flags: SecFlags,
    /// The attach target spelled in the name.
    pub attach: Attach<'a>,
}

impl SectionDef<'_> {
    /// `prog_flags` for `BPF_PROG_LOAD` implied by the section (`BPF_F_SLEEPABLE`,
    /// `BPF_F_XDP_HAS_FRAGS`).
    pub fn prog_flags(&self) -> u32 {
        let mut f = 0;
        if self.flags.contains(SecFlags::SLEEPABLE) {
            f |= BPF_F_SLEEPABLE;
        }
        if self.flags.contains(SecFlags::XDP_FRAGS) {
            f |= BPF_F_XDP_HAS_FRAGS;
        }
        f
    }

    /// Whether the name carries everything needed to attach (libbpf's auto-attach).
    pub fn auto_attach(&self) -> bool {
        !matches!(self.attach, Attach::Manual | Attach::Invalid(_))
    }

    /// The name to look up in kernel BTF for [`Attach::Btf`] targets, with libbpf's prefixes:
    /// `btf_trace_NAME` (`tp_btf`), `bpf_lsm_NAME` (`lsm`, `lsm_cgroup`), `bpf_iter_NAME`
    /// (`iter`); the plain name for `fentry`/`fexit`/`fmod_ret`/`freplace`.
    pub fn btf_target_name(&self) -> Option<String> {
        let Attach::Btf { name, .. } = self.attach else {
            return None;
        };
        let prefix = match self.expected_attach_type {
            at::TRACE_RAW_TP => "btf_trace_",
            at::LSM_MAC | at::LSM_CGROUP => "bpf_lsm_",
            at::TRACE_ITER => "bpf_iter_",
            _ => "",
        };
        Some(format!("{prefix}{name}"))
    }
}

/// How the rest of a name is parsed into an [`Attach`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    None,
    Kprobe,
    Ksyscall,
    KprobeMulti,
    Uprobe,
    UprobeMulti,
    Usdt,
    Tracepoint,
    RawTp,
    Btf,
    StructOps,
}

struct Entry {
    pat: &'static str,
    prog_type: u32,
    attach_type: u32,
    flags: SecFlags,
    target: Target,
}

const fn e(
    pat: &'static str,
    prog_type: u32,
    attach_type: u32,
    flags: u32,
    target: Target,
) -> Entry {
    Entry {
        pat,
        prog_type,
        attach_type,
        flags: SecFlags::from_bits_retain(flags),
        target,
    }
}

const NONE: u32 = 0;
const EXP_OPT: u32 = SecFlags::EXP_ATTACH_OPT.bits();
const ATT: u32 = SecFlags::ATTACHABLE.bits();
const ATT_OPT: u32 = ATT | EXP_OPT;
const BTF: u32 = SecFlags::ATTACH_BTF.bits();
const SLP: u32 = SecFlags::SLEEPABLE.bits();
const FRAGS: u32 = SecFlags::XDP_FRAGS.bits();
const USDT: u32 = SecFlags::USDT.bits();

use Target as T;

/// libbpf's `section_defs`, in its order (first match wins).
#[rustfmt::skip]
static TABLE: &[Entry] = &[
    e("socket", pt::SOCKET_FILTER, 0, NONE, T::None),
    e("sk_reuseport/migrate", pt::SK_REUSEPORT, at::SK_REUSEPORT_SELECT_OR_MIGRATE, ATT, T::None),
    e("sk_reuseport", pt::SK_REUSEPORT, at::SK_REUSEPORT_SELECT, ATT, T::None),
    e("kprobe+", pt::KPROBE, 0, NONE, T::Kprobe),
    e("uprobe+", pt::KPROBE, 0, NONE, T::Uprobe),
    e("uprobe.s+", pt::KPROBE, 0, SLP, T::Uprobe),
    e("kretprobe+", pt::KPROBE, 0, NONE, T::Kprobe),
    e("uretprobe+", pt::KPROBE, 0, NONE, T::Uprobe),
    e("uretprobe.s+", pt::KPROBE, 0, SLP, T::Uprobe),
    e("kprobe.multi+", pt::KPROBE, at::TRACE_KPROBE_MULTI, NONE, T::KprobeMulti),
    e("kretprobe.multi+", pt::KPROBE, at::TRACE_KPROBE_MULTI, NONE, T::KprobeMulti),
    e("kprobe.session+", pt::KPROBE, at::TRACE_KPROBE_SESSION, NONE, T::KprobeMulti),
    e("uprobe.multi+", pt::KPROBE, at::TRACE_UPROBE_MULTI, NONE, T::UprobeMulti),
    e("uretprobe.multi+", pt::KPROBE, at::TRACE_UPROBE_MULTI, NONE, T::UprobeMulti),
    e("uprobe.session+", pt::KPROBE, at::TRACE_UPROBE_SESSION, NONE, T::UprobeMulti),
    e("uprobe.multi.s+", pt::KPROBE, at::TRACE_UPROBE_MULTI, SLP, T::UprobeMulti),
    e("uretprobe.multi.s+", pt::KPROBE, at::TRACE_UPROBE_MULTI, SLP, T::UprobeMulti),
    e("uprobe.session.s+", pt::KPROBE, at::TRACE_UPROBE_SESSION, SLP, T::UprobeMulti),
    e("ksyscall+", pt::KPROBE, 0, NONE, T::Ksyscall),
    e("kretsyscall+", pt::KPROBE, 0, NONE, T::Ksyscall),
    e("usdt+", pt::KPROBE, 0, USDT, T::Usdt),
    e("usdt.s+", pt::KPROBE, 0, USDT | SLP, T::Usdt),
    e("tc/ingress", pt::SCHED_CLS, at::TCX_INGRESS, NONE, T::None),
    e("tc/egress", pt::SCHED_CLS, at::TCX_EGRESS, NONE, T::None),
    e("tcx/ingress", pt::SCHED_CLS, at::TCX_INGRESS, NONE, T::None),
    e("tcx/egress", pt::SCHED_CLS, at::TCX_EGRESS, NONE, T::None),
    e("tc", pt::SCHED_CLS, 0, NONE, T::None),
    e("classifier", pt::SCHED_CLS, 0, NONE, T::None),
    e("action", pt::SCHED_ACT, 0, NONE, T::None),
    e("netkit/primary", pt::SCHED_CLS, at::NETKIT_PRIMARY, NONE, T::None),
    e("netkit/peer", pt::SCHED_CLS, at::NETKIT_PEER, NONE, T::None),
    e("tracepoint+", pt::TRACEPOINT, 0, NONE, T::Tracepoint),
    e("tp+", pt::TRACEPOINT, 0, NONE, T::Tracepoint),
    e("tracepoint.s+", pt::TRACEPOINT, 0, SLP, T::Tracepoint),
    e("tp.s+", pt::TRACEPOINT, 0, SLP, T::Tracepoint),
    e("raw_tracepoint+", pt::RAW_TRACEPOINT, 0, NONE, T::RawTp),
    e("raw_tp+", pt::RAW_TRACEPOINT, 0, NONE, T::RawTp),
    e("raw_tracepoint.s+", pt::RAW_TRACEPOINT, 0, SLP, T::RawTp),
    e("raw_tp.s+", pt::RAW_TRACEPOINT, 0, SLP, T::RawTp),
    e("raw_tracepoint.w+", pt::RAW_TRACEPOINT_WRITABLE, 0, NONE, T::RawTp),
    e("raw_tp.w+", pt::RAW_TRACEPOINT_WRITABLE, 0, NONE, T::RawTp),
    e("tp_btf+", pt::TRACING, at::TRACE_RAW_TP, BTF, T::Btf),
    e("tp_btf.s+", pt::TRACING, at::TRACE_RAW_TP, BTF | SLP, T::Btf),
    e("fentry+", pt::TRACING, at::TRACE_FENTRY, BTF, T::Btf),
    e("fmod_ret+", pt::TRACING, at::MODIFY_RETURN, BTF, T::Btf),
    e("fexit+", pt::TRACING, at::TRACE_FEXIT, BTF, T::Btf),
    e("fentry.s+", pt::TRACING, at::TRACE_FENTRY, BTF | SLP, T::Btf),
    e("fmod_ret.s+", pt::TRACING, at::MODIFY_RETURN, BTF | SLP, T::Btf),
    e("fexit.s+", pt::TRACING, at::TRACE_FEXIT, BTF | SLP, T::Btf),
    e("fsession+", pt::TRACING, at::TRACE_FSESSION, BTF, T::Btf),
    e("fsession.s+", pt::TRACING, at::TRACE_FSESSION, BTF | SLP, T::Btf),
    e("fentry.multi+", pt::TRACING, at::TRACE_FENTRY_MULTI, NONE, T::Btf),
    e("fexit.multi+", pt::TRACING, at::TRACE_FEXIT_MULTI, NONE, T::Btf),
    e("fsession.multi+", pt::TRACING, at::TRACE_FSESSION_MULTI, NONE, T::Btf),
    e("fentry.multi.s+", pt::TRACING, at::TRACE_FENTRY_MULTI, SLP, T::Btf),
    e("fexit.multi.s+", pt::TRACING, at::TRACE_FEXIT_MULTI, SLP, T::Btf),
    e("fsession.multi.s+", pt::TRACING, at::TRACE_FSESSION_MULTI, SLP, T::Btf),
    e("freplace+", pt::EXT, 0, BTF, T::Btf),
    e("lsm+", pt::LSM, at::LSM_MAC, BTF, T::Btf),
    e("lsm.s+", pt::LSM, at::LSM_MAC, BTF | SLP, T::Btf),
    e("lsm_cgroup+", pt::LSM, at::LSM_CGROUP, BTF, T::Btf),
    e("iter+", pt::TRACING, at::TRACE_ITER, BTF, T::Btf),
    e("iter.s+", pt::TRACING, at::TRACE_ITER, BTF | SLP, T::Btf),
    e("syscall", pt::SYSCALL, 0, SLP, T::None),
    e("xdp.frags/devmap", pt::XDP, at::XDP_DEVMAP, FRAGS, T::None),
    e("xdp/devmap", pt::XDP, at::XDP_DEVMAP, ATT, T::None),
    e("xdp.frags/cpumap", pt::XDP, at::XDP_CPUMAP, FRAGS, T::None),
    e("xdp/cpumap", pt::XDP, at::XDP_CPUMAP, ATT, T::None),
    e("xdp.frags", pt::XDP, at::XDP, FRAGS, T::None),
    e("xdp", pt::XDP, at::XDP, ATT_OPT, T::None),
    e("perf_event", pt::PERF_EVENT, 0, NONE, T::None),
    e("lwt_in", pt::LWT_IN, 0, NONE, T::None),
    e("lwt_out", pt::LWT_OUT, 0, NONE, T::None),
    e("lwt_xmit", pt::LWT_XMIT, 0, NONE, T::None),
    e("lwt_seg6local", pt::LWT_SEG6LOCAL, 0, NONE, T::None),
    e("sockops", pt::SOCK_OPS, at::CGROUP_SOCK_OPS, ATT_OPT, T::None),
    e("sk_skb/stream_parser", pt::SK_SKB, at::SK_SKB_STREAM_PARSER, ATT_OPT, T::None),
    e("sk_skb/stream_verdict", pt::SK_SKB, at::SK_SKB_STREAM_VERDICT, ATT_OPT, T::None),
    e("sk_skb/verdict", pt::SK_SKB, at::SK_SKB_VERDICT, ATT_OPT, T::None),
    e("sk_skb", pt::SK_SKB, 0, NONE, T::None),
    e("sk_msg", pt::SK_MSG, at::SK_MSG_VERDICT, ATT_OPT, T::None),
    e("lirc_mode2", pt::LIRC_MODE2, at::LIRC_MODE2, ATT_OPT, T::None),
    e("flow_dissector", pt::FLOW_DISSECTOR, at::FLOW_DISSECTOR, ATT_OPT, T::None),
    e("cgroup_skb/ingress", pt::CGROUP_SKB, at::CGROUP_INET_INGRESS, ATT_OPT, T::None),
    e("cgroup_skb/egress", pt::CGROUP_SKB, at::CGROUP_INET_EGRESS, ATT_OPT, T::None),
    e("cgroup/skb", pt::CGROUP_SKB, 0, NONE, T::None),
    e("cgroup/sock_create", pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_CREATE, ATT, T::None),
    e("cgroup/sock_release", pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_RELEASE, ATT, T::None),
    e("cgroup/sock", pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_CREATE, ATT_OPT, T::None),
    e("cgroup/post_bind4", pt::CGROUP_SOCK, at::CGROUP_INET4_POST_BIND, ATT, T::None),
    e("cgroup/post_bind6", pt::CGROUP_SOCK, at::CGROUP_INET6_POST_BIND, ATT, T::None),
    e("cgroup/bind4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_BIND, ATT, T::None),
    e("cgroup/bind6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_BIND, ATT, T::None),
    e("cgroup/connect4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_CONNECT, ATT, T::None),
    e("cgroup/connect6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_CONNECT, ATT, T::None),
    e("cgroup/connect_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_CONNECT, ATT, T::None),
    e("cgroup/sendmsg4", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP4_SENDMSG, ATT, T::None),
    e("cgroup/sendmsg6", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP6_SENDMSG, ATT, T::None),
    e("cgroup/sendmsg_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_SENDMSG, ATT, T::None),
    e("cgroup/recvmsg4", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP4_RECVMSG, ATT, T::None),
    e("cgroup/recvmsg6", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP6_RECVMSG, ATT, T::None),
    e("cgroup/recvmsg_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_RECVMSG, ATT, T::None),
    e("cgroup/getpeername4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_GETPEERNAME, ATT, T::None),
    e("cgroup/getpeername6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_GETPEERNAME, ATT, T::None),
    e("cgroup/getpeername_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_GETPEERNAME, ATT, T::None),
    e("cgroup/getsockname4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_GETSOCKNAME, ATT, T::None),
    e("cgroup/getsockname6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_GETSOCKNAME, ATT, T::None),
    e("cgroup/getsockname_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_GETSOCKNAME, ATT, T::None),
    e("cgroup/sysctl", pt::CGROUP_SYSCTL, at::CGROUP_SYSCTL, ATT, T::None),
    e("cgroup/getsockopt", pt::CGROUP_SOCKOPT, at::CGROUP_GETSOCKOPT, ATT, T::None),
    e("cgroup/setsockopt", pt::CGROUP_SOCKOPT, at::CGROUP_SETSOCKOPT, ATT, T::None),
    e("cgroup/dev", pt::CGROUP_DEVICE, at::CGROUP_DEVICE, ATT_OPT, T::None),
    e("struct_ops+", pt::STRUCT_OPS, 0, NONE, T::StructOps),
    e("struct_ops.s+", pt::STRUCT_OPS, 0, SLP, T::StructOps),
    e("sk_lookup", pt::SK_LOOKUP, at::SK_LOOKUP, ATT, T::None),
    e("netfilter", pt::NETFILTER, at::NETFILTER, NONE, T::None),
];

/// Every table entry's spelling, in match order (`"kprobe+"`, `"tc/ingress"`, …).
pub fn section_patterns() -> impl Iterator<Item = &'static str> {
    TABLE.iter().map(|e| e.pat)
}

/// Parses a `SEC()` name; `None` if no libbpf (or legacy) section kind matches.
pub fn parse_section(name: &str) -> Option<SectionDef<'_>> {
    let (name, no_autoload) = match name.strip_prefix('?') {
        Some(rest) => (rest, true),
        None => (name, false),
    };
    let (entry, legacy) = match TABLE.iter().find(|e| matches(e.pat, name)) {
        Some(e) => (e, false),
        None => (TABLE.iter().find(|e| matches_legacy(e.pat, name))?, true),
    };
    let mut flags = entry.flags;
    flags.set(SecFlags::LEGACY, legacy);
    flags.set(SecFlags::NO_AUTOLOAD, no_autoload);
    let attach = if legacy {
        Attach::Manual
    } else {
        target::parse(entry.target, entry.pat, name)
    };
    Some(SectionDef {
        pattern: entry.pat,
        prog_type: entry.prog_type,
        expected_attach_type: entry.attach_type,
        flags,
        attach,
    })
}

/// libbpf's `sec_def_matches`: `type+` is `type` or `type/…`; anything else is exact.
fn matches(pat: &str, name: &str) -> bool {
    match pat.strip_suffix('+') {
        Some(base) => match name.strip_prefix(base) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        },
        None => pat == name,
    }
}

/// Legacy `type/NAME` for exact entries: `xdp/foo`, `socket/bar`, `cgroup/connect4/baz`.
fn matches_legacy(pat: &str, name: &str) -> bool {
    !pat.ends_with('+')
        && name
            .strip_prefix(pat)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|n| !n.is_empty())
}

#[cfg(test)]
mod tests;
