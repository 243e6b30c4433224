//! The flag sets of uapi `linux/bpf.h` (kernel 6.18) as `bitflags` types, and the
//! flag constants that stand alone.

use bitflags::bitflags;

bitflags! {
    /// `map_flags` of `BPF_MAP_CREATE` (`BPF_F_*`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct MapFlags: u32 {
        /// Do not preallocate hash elements (required by LPM tries).
        const NO_PREALLOC = 1 << 0;
        /// LRU: per-CPU LRU lists instead of a common one.
        const NO_COMMON_LRU = 1 << 1;
        /// `numa_node` is valid.
        const NUMA_NODE = 1 << 2;
        /// User space may only read.
        const RDONLY = 1 << 3;
        /// User space may only write.
        const WRONLY = 1 << 4;
        /// Stack traces hold build ids.
        const STACK_BUILD_ID = 1 << 5;
        /// Zero the hash seed (testing).
        const ZERO_SEED = 1 << 6;
        /// Programs may only read.
        const RDONLY_PROG = 1 << 7;
        /// Programs may only write.
        const WRONLY_PROG = 1 << 8;
        /// Clone sk storage on fork of the socket.
        const CLONE = 1 << 9;
        /// The array can be mmap'd.
        const MMAPABLE = 1 << 10;
        /// perf event array keeps elements when the map fd closes.
        const PRESERVE_ELEMS = 1 << 11;
        /// Inner map of a map-in-map may vary in max_entries.
        const INNER_MAP = 1 << 12;
        /// `BPF_F_LINK` (also a PROG_ATTACH flag).
        const LINK = 1 << 13;
        /// `path_fd` is valid (OBJ_PIN/OBJ_GET).
        const PATH_FD = 1 << 14;
        /// `value_type_btf_obj_fd` is valid.
        const VTYPE_BTF_OBJ_FD = 1 << 15;
        /// `map_token_fd` is valid.
        const TOKEN_FD = 1 << 16;
        /// Arena: fault on access to unallocated pages.
        const SEGV_ON_FAULT = 1 << 17;
        /// Arena: no user-pointer conversion.
        const NO_USER_CONV = 1 << 18;
    }
}

bitflags! {
    /// `prog_flags` of `BPF_PROG_LOAD`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct ProgFlags: u32 {
        /// Verify strict alignment.
        const STRICT_ALIGNMENT = 1 << 0;
        /// Ignore alignment (testing).
        const ANY_ALIGNMENT = 1 << 1;
        /// Randomise the upper 32 bits (testing).
        const TEST_RND_HI32 = 1 << 2;
        /// Checkpoint states often (testing).
        const TEST_STATE_FREQ = 1 << 3;
        /// Sleepable program.
        const SLEEPABLE = 1 << 4;
        /// XDP program understands multi-buffer frames.
        const XDP_HAS_FRAGS = 1 << 5;
        /// XDP program is bound to `prog_ifindex`.
        const XDP_DEV_BOUND_ONLY = 1 << 6;
        /// Verifier register-invariant checks (testing).
        const TEST_REG_INVARIANTS = 1 << 7;
        /// `prog_token_fd` is valid.
        const TOKEN_FD = 1 << 16;
    }
}

bitflags! {
    /// `attach_flags` of `BPF_PROG_ATTACH` / `BPF_PROG_DETACH` and `flags` of mprog links.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct AttachFlags: u32 {
        /// cgroup: a descendant may override.
        const ALLOW_OVERRIDE = 1 << 0;
        /// cgroup: several programs per hook.
        const ALLOW_MULTI = 1 << 1;
        /// Replace `replace_bpf_fd`.
        const REPLACE = 1 << 2;
        /// mprog: insert before the relative program/link.
        const BEFORE = 1 << 3;
        /// mprog: insert after the relative program/link.
        const AFTER = 1 << 4;
        /// mprog: the relative is an id, not an fd.
        const ID = 1 << 5;
        /// mprog: the relative is a link.
        const LINK = 1 << 13;
    }
}

bitflags! {
    /// `flags` of the element commands (`BPF_ANY` is the empty set).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct ElemFlags: u64 {
        /// `BPF_NOEXIST`: create only.
        const NOEXIST = 1;
        /// `BPF_EXIST`: update only.
        const EXIST = 2;
        /// `BPF_F_LOCK`: take the value's spin lock.
        const LOCK = 4;
    }
}

bitflags! {
    /// `file_flags` of `BPF_OBJ_GET` and `open_flags` of the `*_GET_FD_BY_ID` commands.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct ObjFlags: u32 {
        /// Open read-only.
        const RDONLY = 1 << 3;
        /// Open write-only.
        const WRONLY = 1 << 4;
        /// `path_fd` is valid.
        const PATH_FD = 1 << 14;
        /// The token fd is valid (`*_GET_FD_BY_ID`).
        const TOKEN_FD = 1 << 16;
    }
}

bitflags! {
    /// `flags` of `BPF_PROG_TEST_RUN`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct TestRunFlags: u32 {
        /// Run on the CPU given in `cpu`.
        const RUN_ON_CPU = 1 << 0;
        /// XDP: send the frames for real.
        const XDP_LIVE_FRAMES = 1 << 1;
        /// skb: CHECKSUM_COMPLETE.
        const SKB_CHECKSUM_COMPLETE = 1 << 2;
    }
}

/// `BPF_F_QUERY_EFFECTIVE`: `PROG_QUERY` reports the effective (inherited) programs.
pub const BPF_F_QUERY_EFFECTIVE: u32 = 1;
/// `BPF_F_KPROBE_MULTI_RETURN`: kprobe.multi link on function return.
pub const BPF_F_KPROBE_MULTI_RETURN: u32 = 1;
/// `BPF_F_UPROBE_MULTI_RETURN`: uprobe.multi link on function return.
pub const BPF_F_UPROBE_MULTI_RETURN: u32 = 1;
/// `BPF_F_NETFILTER_IP_DEFRAG`: defragment before the netfilter program runs.
pub const BPF_F_NETFILTER_IP_DEFRAG: u32 = 1;
/// `BPF_OBJ_NAME_LEN`: object names hold at most 15 bytes plus the NUL.
pub const BPF_OBJ_NAME_LEN: usize = 16;
/// `BPF_TAG_SIZE`: size of a program tag.
pub const BPF_TAG_SIZE: usize = 8;
