//! Typed constants for the enums of uapi `linux/bpf.h` (kernel 6.18): commands, program, map,
//! attach and link types, and more. The flag sets are in [`flags`](super::flags).
//!
//! Every enum is a `#[repr(transparent)]` newtype over `u32` with one associated constant per
//! kernel value, so values a newer kernel adds can still be represented (`ProgType(40)`), and
//! `Debug` prints the kernel's name where one is known.

macro_rules! kernel_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $prefix:literal {
            $( $(#[$cmeta:meta])* $konst:ident = $val:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(transparent)]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub u32);

        impl $name {
            $( $(#[$cmeta])* pub const $konst: $name = $name($val); )*

            /// The kernel's name of this value without its prefix (`"HASH"`), or `None` for
            /// a value this crate does not know.
            pub const fn name(self) -> Option<&'static str> {
                // The first name wins for aliases.
                $( if self.0 == $val { return Some(stringify!($konst)); } )*
                None
            }

            /// The raw value.
            pub const fn raw(self) -> u32 {
                self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, concat!($prefix, "{}"), n),
                    None => write!(f, concat!(stringify!($name), "({})"), self.0),
                }
            }
        }

        impl From<u32> for $name {
            fn from(v: u32) -> Self {
                $name(v)
            }
        }

        impl From<$name> for u32 {
            fn from(v: $name) -> u32 {
                v.0
            }
        }
    };
}

kernel_enum! {
    /// `enum bpf_cmd`: the first argument of `bpf(2)`.
    BpfCmd, "BPF_" {
        /// Create a map.
        MAP_CREATE = 0,
        /// Look an element up.
        MAP_LOOKUP_ELEM = 1,
        /// Create or update an element.
        MAP_UPDATE_ELEM = 2,
        /// Delete an element.
        MAP_DELETE_ELEM = 3,
        /// Iterate keys.
        MAP_GET_NEXT_KEY = 4,
        /// Verify and load a program.
        PROG_LOAD = 5,
        /// Pin an object in bpffs.
        OBJ_PIN = 6,
        /// Open a pinned object.
        OBJ_GET = 7,
        /// Attach a program (cgroup, sockmap, tcx, netns, ...).
        PROG_ATTACH = 8,
        /// Detach a program attached with `PROG_ATTACH`.
        PROG_DETACH = 9,
        /// Run a program once or repeatedly on given input (`BPF_PROG_RUN`).
        PROG_TEST_RUN = 10,
        /// Iterate program ids.
        PROG_GET_NEXT_ID = 11,
        /// Iterate map ids.
        MAP_GET_NEXT_ID = 12,
        /// Open a program by id.
        PROG_GET_FD_BY_ID = 13,
        /// Open a map by id.
        MAP_GET_FD_BY_ID = 14,
        /// Read an object's info struct.
        OBJ_GET_INFO_BY_FD = 15,
        /// List the programs attached to a hook.
        PROG_QUERY = 16,
        /// Attach to a raw tracepoint (or a BTF-typed hook).
        RAW_TRACEPOINT_OPEN = 17,
        /// Load BTF.
        BTF_LOAD = 18,
        /// Open BTF by id.
        BTF_GET_FD_BY_ID = 19,
        /// Ask what a perf-event/raw-tp fd of a task is attached to.
        TASK_FD_QUERY = 20,
        /// Look up and delete one element (pop for queue/stack).
        MAP_LOOKUP_AND_DELETE_ELEM = 21,
        /// Make a map read-only for user space.
        MAP_FREEZE = 22,
        /// Iterate BTF ids.
        BTF_GET_NEXT_ID = 23,
        /// Batched lookup.
        MAP_LOOKUP_BATCH = 24,
        /// Batched lookup and delete.
        MAP_LOOKUP_AND_DELETE_BATCH = 25,
        /// Batched update.
        MAP_UPDATE_BATCH = 26,
        /// Batched delete.
        MAP_DELETE_BATCH = 27,
        /// Create a link (an attachment owned by an fd).
        LINK_CREATE = 28,
        /// Replace the program of a link.
        LINK_UPDATE = 29,
        /// Open a link by id.
        LINK_GET_FD_BY_ID = 30,
        /// Iterate link ids.
        LINK_GET_NEXT_ID = 31,
        /// Enable run-time statistics while the returned fd is open.
        ENABLE_STATS = 32,
        /// Create a readable iterator instance from an iterator link.
        ITER_CREATE = 33,
        /// Detach a link without closing it.
        LINK_DETACH = 34,
        /// Bind a map to a program's lifetime.
        PROG_BIND_MAP = 35,
        /// Create a BPF token from a delegating bpffs.
        TOKEN_CREATE = 36,
        /// Read a program's BPF stream (stdout/stderr).
        PROG_STREAM_READ_BY_FD = 37,
    }
}

kernel_enum! {
    /// `enum bpf_prog_type`.
    ProgType, "BPF_PROG_TYPE_" {
        /// Unspecified (invalid).
        UNSPEC = 0,
        /// Socket filter (`SO_ATTACH_BPF`).
        SOCKET_FILTER = 1,
        /// kprobe / uprobe.
        KPROBE = 2,
        /// tc classifier.
        SCHED_CLS = 3,
        /// tc action.
        SCHED_ACT = 4,
        /// Tracepoint.
        TRACEPOINT = 5,
        /// XDP.
        XDP = 6,
        /// perf event.
        PERF_EVENT = 7,
        /// cgroup skb.
        CGROUP_SKB = 8,
        /// cgroup sock.
        CGROUP_SOCK = 9,
        /// Lightweight tunnel in.
        LWT_IN = 10,
        /// Lightweight tunnel out.
        LWT_OUT = 11,
        /// Lightweight tunnel xmit.
        LWT_XMIT = 12,
        /// sock_ops.
        SOCK_OPS = 13,
        /// sk_skb.
        SK_SKB = 14,
        /// cgroup device.
        CGROUP_DEVICE = 15,
        /// sk_msg.
        SK_MSG = 16,
        /// Raw tracepoint.
        RAW_TRACEPOINT = 17,
        /// cgroup sock_addr.
        CGROUP_SOCK_ADDR = 18,
        /// seg6local LWT.
        LWT_SEG6LOCAL = 19,
        /// lirc mode2.
        LIRC_MODE2 = 20,
        /// SO_REUSEPORT selection.
        SK_REUSEPORT = 21,
        /// Flow dissector.
        FLOW_DISSECTOR = 22,
        /// cgroup sysctl.
        CGROUP_SYSCTL = 23,
        /// Writable raw tracepoint.
        RAW_TRACEPOINT_WRITABLE = 24,
        /// cgroup sockopt.
        CGROUP_SOCKOPT = 25,
        /// Tracing (fentry/fexit/fmod_ret/tp_btf/iter).
        TRACING = 26,
        /// struct_ops.
        STRUCT_OPS = 27,
        /// Extension (freplace).
        EXT = 28,
        /// LSM.
        LSM = 29,
        /// sk_lookup.
        SK_LOOKUP = 30,
        /// Syscall program (run by test_run).
        SYSCALL = 31,
        /// Netfilter hook.
        NETFILTER = 32,
    }
}

kernel_enum! {
    /// `enum bpf_map_type`.
    MapType, "BPF_MAP_TYPE_" {
        /// Unspecified (invalid).
        UNSPEC = 0,
        /// Hash table.
        HASH = 1,
        /// Array.
        ARRAY = 2,
        /// Program array (tail calls).
        PROG_ARRAY = 3,
        /// perf event array.
        PERF_EVENT_ARRAY = 4,
        /// Per-CPU hash.
        PERCPU_HASH = 5,
        /// Per-CPU array.
        PERCPU_ARRAY = 6,
        /// Stack traces.
        STACK_TRACE = 7,
        /// cgroup array.
        CGROUP_ARRAY = 8,
        /// LRU hash.
        LRU_HASH = 9,
        /// Per-CPU LRU hash.
        LRU_PERCPU_HASH = 10,
        /// Longest-prefix-match trie.
        LPM_TRIE = 11,
        /// Array of maps.
        ARRAY_OF_MAPS = 12,
        /// Hash of maps.
        HASH_OF_MAPS = 13,
        /// Device map.
        DEVMAP = 14,
        /// Socket map.
        SOCKMAP = 15,
        /// CPU map.
        CPUMAP = 16,
        /// AF_XDP socket map.
        XSKMAP = 17,
        /// Socket hash.
        SOCKHASH = 18,
        /// cgroup storage.
        CGROUP_STORAGE = 19,
        /// reuseport socket array.
        REUSEPORT_SOCKARRAY = 20,
        /// Per-CPU cgroup storage.
        PERCPU_CGROUP_STORAGE = 21,
        /// Queue (NULL key).
        QUEUE = 22,
        /// Stack (NULL key).
        STACK = 23,
        /// Socket-local storage.
        SK_STORAGE = 24,
        /// Device hash map.
        DEVMAP_HASH = 25,
        /// struct_ops.
        STRUCT_OPS = 26,
        /// Ring buffer.
        RINGBUF = 27,
        /// Inode-local storage.
        INODE_STORAGE = 28,
        /// Task-local storage.
        TASK_STORAGE = 29,
        /// Bloom filter (NULL key).
        BLOOM_FILTER = 30,
        /// User ring buffer.
        USER_RINGBUF = 31,
        /// cgroup-local storage.
        CGRP_STORAGE = 32,
        /// Arena (shared memory pages).
        ARENA = 33,
    }
}

impl MapType {
    /// Whether a value of this map type is one slot per possible CPU, each rounded up to 8
    /// bytes, in user space.
    pub const fn is_per_cpu(self) -> bool {
        matches!(self.0, 5 | 6 | 10 | 21)
    }

    /// Whether values hold fds on update and ids on lookup (always 4 bytes in user space).
    pub const fn is_fd_map(self) -> bool {
        matches!(self.0, 3 | 4 | 8 | 12 | 13)
    }
}

kernel_enum! {
    /// `enum bpf_attach_type`.
    AttachType, "BPF_" {
        /// cgroup skb ingress.
        CGROUP_INET_INGRESS = 0,
        /// cgroup skb egress.
        CGROUP_INET_EGRESS = 1,
        /// cgroup socket creation.
        CGROUP_INET_SOCK_CREATE = 2,
        /// cgroup sock_ops.
        CGROUP_SOCK_OPS = 3,
        /// sk_skb stream parser.
        SK_SKB_STREAM_PARSER = 4,
        /// sk_skb stream verdict.
        SK_SKB_STREAM_VERDICT = 5,
        /// cgroup device.
        CGROUP_DEVICE = 6,
        /// sk_msg verdict.
        SK_MSG_VERDICT = 7,
        /// cgroup bind(2) IPv4.
        CGROUP_INET4_BIND = 8,
        /// cgroup bind(2) IPv6.
        CGROUP_INET6_BIND = 9,
        /// cgroup connect(2) IPv4.
        CGROUP_INET4_CONNECT = 10,
        /// cgroup connect(2) IPv6.
        CGROUP_INET6_CONNECT = 11,
        /// cgroup post-bind IPv4.
        CGROUP_INET4_POST_BIND = 12,
        /// cgroup post-bind IPv6.
        CGROUP_INET6_POST_BIND = 13,
        /// cgroup UDP sendmsg IPv4.
        CGROUP_UDP4_SENDMSG = 14,
        /// cgroup UDP sendmsg IPv6.
        CGROUP_UDP6_SENDMSG = 15,
        /// lirc mode2.
        LIRC_MODE2 = 16,
        /// Flow dissector.
        FLOW_DISSECTOR = 17,
        /// cgroup sysctl.
        CGROUP_SYSCTL = 18,
        /// cgroup UDP recvmsg IPv4.
        CGROUP_UDP4_RECVMSG = 19,
        /// cgroup UDP recvmsg IPv6.
        CGROUP_UDP6_RECVMSG = 20,
        /// cgroup getsockopt.
        CGROUP_GETSOCKOPT = 21,
        /// cgroup setsockopt.
        CGROUP_SETSOCKOPT = 22,
        /// BTF-typed raw tracepoint (tp_btf).
        TRACE_RAW_TP = 23,
        /// fentry.
        TRACE_FENTRY = 24,
        /// fexit.
        TRACE_FEXIT = 25,
        /// fmod_ret.
        MODIFY_RETURN = 26,
        /// LSM.
        LSM_MAC = 27,
        /// Iterator.
        TRACE_ITER = 28,
        /// cgroup getpeername IPv4.
        CGROUP_INET4_GETPEERNAME = 29,
        /// cgroup getpeername IPv6.
        CGROUP_INET6_GETPEERNAME = 30,
        /// cgroup getsockname IPv4.
        CGROUP_INET4_GETSOCKNAME = 31,
        /// cgroup getsockname IPv6.
        CGROUP_INET6_GETSOCKNAME = 32,
        /// XDP program in a devmap.
        XDP_DEVMAP = 33,
        /// cgroup socket release.
        CGROUP_INET_SOCK_RELEASE = 34,
        /// XDP program in a cpumap.
        XDP_CPUMAP = 35,
        /// sk_lookup.
        SK_LOOKUP = 36,
        /// XDP (link).
        XDP = 37,
        /// sk_skb verdict.
        SK_SKB_VERDICT = 38,
        /// reuseport select.
        SK_REUSEPORT_SELECT = 39,
        /// reuseport select or migrate.
        SK_REUSEPORT_SELECT_OR_MIGRATE = 40,
        /// perf event (kprobe/uprobe/tracepoint/perf) link.
        PERF_EVENT = 41,
        /// kprobe.multi.
        TRACE_KPROBE_MULTI = 42,
        /// LSM cgroup.
        LSM_CGROUP = 43,
        /// struct_ops.
        STRUCT_OPS = 44,
        /// Netfilter.
        NETFILTER = 45,
        /// tcx ingress.
        TCX_INGRESS = 46,
        /// tcx egress.
        TCX_EGRESS = 47,
        /// uprobe.multi.
        TRACE_UPROBE_MULTI = 48,
        /// cgroup unix connect.
        CGROUP_UNIX_CONNECT = 49,
        /// cgroup unix sendmsg.
        CGROUP_UNIX_SENDMSG = 50,
        /// cgroup unix recvmsg.
        CGROUP_UNIX_RECVMSG = 51,
        /// cgroup unix getpeername.
        CGROUP_UNIX_GETPEERNAME = 52,
        /// cgroup unix getsockname.
        CGROUP_UNIX_GETSOCKNAME = 53,
        /// netkit primary device.
        NETKIT_PRIMARY = 54,
        /// netkit peer device.
        NETKIT_PEER = 55,
        /// kprobe session.
        TRACE_KPROBE_SESSION = 56,
        /// uprobe session.
        TRACE_UPROBE_SESSION = 57,
        /// fsession (entry and exit in one trampoline program).
        TRACE_FSESSION = 58,
        /// fentry.multi.
        TRACE_FENTRY_MULTI = 59,
        /// fexit.multi.
        TRACE_FEXIT_MULTI = 60,
        /// fsession.multi.
        TRACE_FSESSION_MULTI = 61,
    }
}

kernel_enum! {
    /// `enum bpf_link_type`.
    LinkType, "BPF_LINK_TYPE_" {
        /// Unspecified.
        UNSPEC = 0,
        /// Raw tracepoint.
        RAW_TRACEPOINT = 1,
        /// Tracing (fentry/fexit/tp_btf/lsm).
        TRACING = 2,
        /// cgroup.
        CGROUP = 3,
        /// Iterator.
        ITER = 4,
        /// Network namespace.
        NETNS = 5,
        /// XDP.
        XDP = 6,
        /// perf event.
        PERF_EVENT = 7,
        /// kprobe.multi.
        KPROBE_MULTI = 8,
        /// struct_ops.
        STRUCT_OPS = 9,
        /// Netfilter.
        NETFILTER = 10,
        /// tcx.
        TCX = 11,
        /// uprobe.multi.
        UPROBE_MULTI = 12,
        /// netkit.
        NETKIT = 13,
        /// sockmap.
        SOCKMAP = 14,
    }
}

kernel_enum! {
    /// `enum bpf_stats_type` for `BPF_ENABLE_STATS`.
    StatsType, "BPF_STATS_" {
        /// Count run time and run count of every program.
        RUN_TIME = 0,
    }
}

kernel_enum! {
    /// `enum bpf_task_fd_type`: what `BPF_TASK_FD_QUERY` found.
    TaskFdType, "BPF_FD_TYPE_" {
        /// Raw tracepoint.
        RAW_TRACEPOINT = 0,
        /// Tracepoint.
        TRACEPOINT = 1,
        /// kprobe.
        KPROBE = 2,
        /// kretprobe.
        KRETPROBE = 3,
        /// uprobe.
        UPROBE = 4,
        /// uretprobe.
        URETPROBE = 5,
    }
}

kernel_enum! {
    /// `enum bpf_perf_event_type`: the kind of a perf-event link (in link info).
    PerfEventType, "BPF_PERF_EVENT_" {
        /// Unspecified.
        UNSPEC = 0,
        /// uprobe.
        UPROBE = 1,
        /// uretprobe.
        URETPROBE = 2,
        /// kprobe.
        KPROBE = 3,
        /// kretprobe.
        KRETPROBE = 4,
        /// Tracepoint.
        TRACEPOINT = 5,
        /// perf event.
        EVENT = 6,
    }
}

kernel_enum! {
    /// `enum bpf_stream_id` for `BPF_PROG_STREAM_READ_BY_FD`.
    StreamId, "BPF_" {
        /// The program's stdout stream.
        STDOUT = 1,
        /// The program's stderr stream.
        STDERR = 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_names() {
        assert_eq!(format!("{:?}", MapType::ARENA), "BPF_MAP_TYPE_ARENA");
        assert_eq!(format!("{:?}", ProgType(99)), "ProgType(99)");
        assert_eq!(AttachType::TRACE_UPROBE_SESSION.raw(), 57);
        assert_eq!(BpfCmd::PROG_STREAM_READ_BY_FD.0, 37);
        assert_eq!(LinkType::SOCKMAP.name(), Some("SOCKMAP"));
        assert!(MapType::LRU_PERCPU_HASH.is_per_cpu());
        assert!(!MapType::HASH.is_per_cpu());
    }
}
