//! Program and attach types: the typed constants of [`crate::sys`], plus what the program
//! layer needs to know about each type.

pub use crate::sys::{AttachType, ProgType as ProgramType};

/// The capability, besides `CAP_BPF`, that loading a program of this type needs (kernel
/// `is_net_admin_prog_type` / `is_perfmon_prog_type`), if any.
pub(crate) fn extra_capability(t: ProgramType) -> Option<&'static str> {
    type P = ProgramType;
    match t {
        P::SCHED_CLS
        | P::SCHED_ACT
        | P::XDP
        | P::LWT_IN
        | P::LWT_OUT
        | P::LWT_XMIT
        | P::LWT_SEG6LOCAL
        | P::SK_SKB
        | P::SK_MSG
        | P::FLOW_DISSECTOR
        | P::CGROUP_DEVICE
        | P::CGROUP_SOCK
        | P::CGROUP_SOCK_ADDR
        | P::CGROUP_SOCKOPT
        | P::CGROUP_SYSCTL
        | P::SOCK_OPS
        | P::NETFILTER => Some("CAP_NET_ADMIN"),
        P::KPROBE
        | P::TRACEPOINT
        | P::PERF_EVENT
        | P::RAW_TRACEPOINT
        | P::RAW_TRACEPOINT_WRITABLE
        | P::TRACING
        | P::LSM
        | P::STRUCT_OPS
        | P::EXT => Some("CAP_PERFMON"),
        _ => None,
    }
}

/// Whether a program of this type (with this expected attach type) needs a BPF trampoline:
/// fentry/fexit/fmod_ret, freplace (`EXT`) and LSM programs.
pub(crate) fn needs_trampoline(t: ProgramType, expected: AttachType) -> bool {
    match t {
        ProgramType::EXT | ProgramType::LSM => true,
        ProgramType::TRACING => matches!(
            expected,
            AttachType::TRACE_FENTRY | AttachType::TRACE_FEXIT | AttachType::MODIFY_RETURN
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trampolines() {
        assert!(needs_trampoline(
            ProgramType::TRACING,
            AttachType::TRACE_FENTRY
        ));
        assert!(!needs_trampoline(
            ProgramType::TRACING,
            AttachType::TRACE_RAW_TP
        ));
        assert!(needs_trampoline(ProgramType::LSM, AttachType::LSM_MAC));
        assert_eq!(extra_capability(ProgramType::XDP), Some("CAP_NET_ADMIN"));
    }
}
