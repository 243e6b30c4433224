//! Raw uapi values of `enum bpf_prog_type` and `enum bpf_attach_type` (Linux 6.18).
//!
//! Plain `u32` constants so the pure object layer needs nothing from `sys`; the loader
//! converts them to the typed `sys` enums.

/// `enum bpf_prog_type` values.
pub mod prog_type {
    /// `BPF_PROG_TYPE_UNSPEC`.
    pub const UNSPEC: u32 = 0;
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    pub const SOCKET_FILTER: u32 = 1;
    /// `BPF_PROG_TYPE_KPROBE`.
    pub const KPROBE: u32 = 2;
    /// `BPF_PROG_TYPE_SCHED_CLS`.
    pub const SCHED_CLS: u32 = 3;
    /// `BPF_PROG_TYPE_SCHED_ACT`.
    pub const SCHED_ACT: u32 = 4;
    /// `BPF_PROG_TYPE_TRACEPOINT`.
    pub const TRACEPOINT: u32 = 5;
    /// `BPF_PROG_TYPE_XDP`.
    pub const XDP: u32 = 6;
    /// `BPF_PROG_TYPE_PERF_EVENT`.
    pub const PERF_EVENT: u32 = 7;
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    pub const CGROUP_SKB: u32 = 8;
    /// `BPF_PROG_TYPE_CGROUP_SOCK`.
    pub const CGROUP_SOCK: u32 = 9;
    /// `BPF_PROG_TYPE_LWT_IN`.
    pub const LWT_IN: u32 = 10;
    /// `BPF_PROG_TYPE_LWT_OUT`.
    pub const LWT_OUT: u32 = 11;
    /// `BPF_PROG_TYPE_LWT_XMIT`.
    pub const LWT_XMIT: u32 = 12;
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    pub const SOCK_OPS: u32 = 13;
    /// `BPF_PROG_TYPE_SK_SKB`.
    pub const SK_SKB: u32 = 14;
    /// `BPF_PROG_TYPE_CGROUP_DEVICE`.
    pub const CGROUP_DEVICE: u32 = 15;
    /// `BPF_PROG_TYPE_SK_MSG`.
    pub const SK_MSG: u32 = 16;
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    pub const RAW_TRACEPOINT: u32 = 17;
    /// `BPF_PROG_TYPE_CGROUP_SOCK_ADDR`.
    pub const CGROUP_SOCK_ADDR: u32 = 18;
    /// `BPF_PROG_TYPE_LWT_SEG6LOCAL`.
    pub const LWT_SEG6LOCAL: u32 = 19;
    /// `BPF_PROG_TYPE_LIRC_MODE2`.
    pub const LIRC_MODE2: u32 = 20;
    /// `BPF_PROG_TYPE_SK_REUSEPORT`.
    pub const SK_REUSEPORT: u32 = 21;
    /// `BPF_PROG_TYPE_FLOW_DISSECTOR`.
    pub const FLOW_DISSECTOR: u32 = 22;
    /// `BPF_PROG_TYPE_CGROUP_SYSCTL`.
    pub const CGROUP_SYSCTL: u32 = 23;
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE`.
    pub const RAW_TRACEPOINT_WRITABLE: u32 = 24;
    /// `BPF_PROG_TYPE_CGROUP_SOCKOPT`.
    pub const CGROUP_SOCKOPT: u32 = 25;
    /// `BPF_PROG_TYPE_TRACING`.
    pub const TRACING: u32 = 26;
    /// `BPF_PROG_TYPE_STRUCT_OPS`.
    pub const STRUCT_OPS: u32 = 27;
    /// `BPF_PROG_TYPE_EXT`.
    pub const EXT: u32 = 28;
    /// `BPF_PROG_TYPE_LSM`.
    pub const LSM: u32 = 29;
    /// `BPF_PROG_TYPE_SK_LOOKUP`.
    pub const SK_LOOKUP: u32 = 30;
    /// `BPF_PROG_TYPE_SYSCALL`.
    pub const SYSCALL: u32 = 31;
    /// `BPF_PROG_TYPE_NETFILTER`.
    pub const NETFILTER: u32 = 32;
}

/// `enum bpf_attach_type` values.
pub mod attach_type {
    /// `BPF_CGROUP_INET_INGRESS`.
    pub const CGROUP_INET_INGRESS: u32 = 0;
    /// `BPF_CGROUP_INET_EGRESS`.
    pub const CGROUP_INET_EGRESS: u32 = 1;
    /// `BPF_CGROUP_INET_SOCK_CREATE`.
    pub const CGROUP_INET_SOCK_CREATE: u32 = 2;
    /// `BPF_CGROUP_SOCK_OPS`.
    pub const CGROUP_SOCK_OPS: u32 = 3;
    /// `BPF_SK_SKB_STREAM_PARSER`.
    pub const SK_SKB_STREAM_PARSER: u32 = 4;
    /// `BPF_SK_SKB_STREAM_VERDICT`.
    pub const SK_SKB_STREAM_VERDICT: u32 = 5;
    /// `BPF_CGROUP_DEVICE`.
    pub const CGROUP_DEVICE: u32 = 6;
    /// `BPF_SK_MSG_VERDICT`.
    pub const SK_MSG_VERDICT: u32 = 7;
    /// `BPF_CGROUP_INET4_BIND`.
    pub const CGROUP_INET4_BIND: u32 = 8;
    /// `BPF_CGROUP_INET6_BIND`.
    pub const CGROUP_INET6_BIND: u32 = 9;
    /// `BPF_CGROUP_INET4_CONNECT`.
    pub const CGROUP_INET4_CONNECT: u32 = 10;
    /// `BPF_CGROUP_INET6_CONNECT`.
    pub const CGROUP_INET6_CONNECT: u32 = 11;
    /// `BPF_CGROUP_INET4_POST_BIND`.
    pub const CGROUP_INET4_POST_BIND: u32 = 12;
    /// `BPF_CGROUP_INET6_POST_BIND`.
    pub const CGROUP_INET6_POST_BIND: u32 = 13;
    /// `BPF_CGROUP_UDP4_SENDMSG`.
    pub const CGROUP_UDP4_SENDMSG: u32 = 14;
    /// `BPF_CGROUP_UDP6_SENDMSG`.
    pub const CGROUP_UDP6_SENDMSG: u32 = 15;
    /// `BPF_LIRC_MODE2`.
    pub const LIRC_MODE2: u32 = 16;
    /// `BPF_FLOW_DISSECTOR`.
    pub const FLOW_DISSECTOR: u32 = 17;
    /// `BPF_CGROUP_SYSCTL`.
    pub const CGROUP_SYSCTL: u32 = 18;
    /// `BPF_CGROUP_UDP4_RECVMSG`.
    pub const CGROUP_UDP4_RECVMSG: u32 = 19;
    /// `BPF_CGROUP_UDP6_RECVMSG`.
    pub const CGROUP_UDP6_RECVMSG: u32 = 20;
    /// `BPF_CGROUP_GETSOCKOPT`.
    pub const CGROUP_GETSOCKOPT: u32 = 21;
    /// `BPF_CGROUP_SETSOCKOPT`.
    pub const CGROUP_SETSOCKOPT: u32 = 22;
    /// `BPF_TRACE_RAW_TP`.
    pub const TRACE_RAW_TP: u32 = 23;
    /// `BPF_TRACE_FENTRY`.
    pub const TRACE_FENTRY: u32 = 24;
    /// `BPF_TRACE_FEXIT`.
    pub const TRACE_FEXIT: u32 = 25;
    /// `BPF_MODIFY_RETURN`.
    pub const MODIFY_RETURN: u32 = 26;
    /// `BPF_LSM_MAC`.
    pub const LSM_MAC: u32 = 27;
    /// `BPF_TRACE_ITER`.
    pub const TRACE_ITER: u32 = 28;
    /// `BPF_CGROUP_INET4_GETPEERNAME`.
    pub const CGROUP_INET4_GETPEERNAME: u32 = 29;
    /// `BPF_CGROUP_INET6_GETPEERNAME`.
    pub const CGROUP_INET6_GETPEERNAME: u32 = 30;
    /// `BPF_CGROUP_INET4_GETSOCKNAME`.
    pub const CGROUP_INET4_GETSOCKNAME: u32 = 31;
    /// `BPF_CGROUP_INET6_GETSOCKNAME`.
    pub const CGROUP_INET6_GETSOCKNAME: u32 = 32;
    /// `BPF_XDP_DEVMAP`.
    pub const XDP_DEVMAP: u32 = 33;
    /// `BPF_CGROUP_INET_SOCK_RELEASE`.
    pub const CGROUP_INET_SOCK_RELEASE: u32 = 34;
    /// `BPF_XDP_CPUMAP`.
    pub const XDP_CPUMAP: u32 = 35;
    /// `BPF_SK_LOOKUP`.
    pub const SK_LOOKUP: u32 = 36;
    /// `BPF_XDP`.
    pub const XDP: u32 = 37;
    /// `BPF_SK_SKB_VERDICT`.
    pub const SK_SKB_VERDICT: u32 = 38;
    /// `BPF_SK_REUSEPORT_SELECT`.
    pub const SK_REUSEPORT_SELECT: u32 = 39;
    /// `BPF_SK_REUSEPORT_SELECT_OR_MIGRATE`.
    pub const SK_REUSEPORT_SELECT_OR_MIGRATE: u32 = 40;
    /// `BPF_PERF_EVENT`.
    pub const PERF_EVENT: u32 = 41;
    /// `BPF_TRACE_KPROBE_MULTI`.
    pub const TRACE_KPROBE_MULTI: u32 = 42;
    /// `BPF_LSM_CGROUP`.
    pub const LSM_CGROUP: u32 = 43;
    /// `BPF_STRUCT_OPS`.
    pub const STRUCT_OPS: u32 = 44;
    /// `BPF_NETFILTER`.
    pub const NETFILTER: u32 = 45;
    /// `BPF_TCX_INGRESS`.
    pub const TCX_INGRESS: u32 = 46;
    /// `BPF_TCX_EGRESS`.
    pub const TCX_EGRESS: u32 = 47;
    /// `BPF_TRACE_UPROBE_MULTI`.
    pub const TRACE_UPROBE_MULTI: u32 = 48;
    /// `BPF_CGROUP_UNIX_CONNECT`.
    pub const CGROUP_UNIX_CONNECT: u32 = 49;
    /// `BPF_CGROUP_UNIX_SENDMSG`.
    pub const CGROUP_UNIX_SENDMSG: u32 = 50;
    /// `BPF_CGROUP_UNIX_RECVMSG`.
    pub const CGROUP_UNIX_RECVMSG: u32 = 51;
    /// `BPF_CGROUP_UNIX_GETPEERNAME`.
    pub const CGROUP_UNIX_GETPEERNAME: u32 = 52;
    /// `BPF_CGROUP_UNIX_GETSOCKNAME`.
    pub const CGROUP_UNIX_GETSOCKNAME: u32 = 53;
    /// `BPF_NETKIT_PRIMARY`.
    pub const NETKIT_PRIMARY: u32 = 54;
    /// `BPF_NETKIT_PEER`.
    pub const NETKIT_PEER: u32 = 55;
    /// `BPF_TRACE_KPROBE_SESSION`.
    pub const TRACE_KPROBE_SESSION: u32 = 56;
    /// `BPF_TRACE_UPROBE_SESSION`.
    pub const TRACE_UPROBE_SESSION: u32 = 57;
    /// `BPF_TRACE_FSESSION`.
    pub const TRACE_FSESSION: u32 = 58;
    /// `BPF_TRACE_FENTRY_MULTI`.
    pub const TRACE_FENTRY_MULTI: u32 = 59;
    /// `BPF_TRACE_FEXIT_MULTI`.
    pub const TRACE_FEXIT_MULTI: u32 = 60;
    /// `BPF_TRACE_FSESSION_MULTI`.
    pub const TRACE_FSESSION_MULTI: u32 = 61;
}
