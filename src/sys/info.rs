//! The info structs `BPF_OBJ_GET_INFO_BY_FD` fills, as of kernel 6.18: [`ProgInfo`]
//! (`struct bpf_prog_info`), [`MapInfo`], [`BtfInfo`] and [`LinkInfo`] with its per-link-type
//! union ([`LinkInfoUnion`]).
//!
//! Pointer fields are `u64` addresses, as in the uapi. The safe functions in
//! [`bpf`](mod@super::bpf) fill them from caller slices, so after a call they only tell where the
//! kernel wrote; the `nr_*`/`*_len` fields hold the kernel's full counts, which may exceed
//! what fit in the buffers.

use super::attr::layout;
use super::types::{AttachType, LinkType, MapType, ProgType};

/// `struct bpf_prog_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgInfo {
    /// `enum bpf_prog_type`.
    pub type_: ProgType,
    /// Program id.
    pub id: u32,
    /// Program tag (a hash of the instructions).
    pub tag: [u8; 8],
    /// Size of the JITed image in bytes.
    pub jited_prog_len: u32,
    /// Size of the translated (post-verifier) instructions in bytes.
    pub xlated_prog_len: u32,
    /// Pointer to the JITed image buffer.
    pub jited_prog_insns: u64,
    /// Pointer to the translated instructions buffer.
    pub xlated_prog_insns: u64,
    /// Load time in ns since boot.
    pub load_time: u64,
    /// uid of the loader.
    pub created_by_uid: u32,
    /// Number of maps the program uses.
    pub nr_map_ids: u32,
    /// Pointer to a `u32` map-id buffer.
    pub map_ids: u64,
    /// NUL-padded object name.
    pub name: [u8; 16],
    /// Offload device.
    pub ifindex: u32,
    /// Bit 0: `gpl_compatible`.
    pub gpl_compatible: u32,
    /// Offload netns device.
    pub netns_dev: u64,
    /// Offload netns inode.
    pub netns_ino: u64,
    /// Number of JITed kernel symbols.
    pub nr_jited_ksyms: u32,
    /// Number of JITed function lengths.
    pub nr_jited_func_lens: u32,
    /// Pointer to a `u64` buffer of ksym addresses.
    pub jited_ksyms: u64,
    /// Pointer to a `u32` buffer of function lengths.
    pub jited_func_lens: u64,
    /// BTF id of the program's BTF.
    pub btf_id: u32,
    /// Size of one func_info record.
    pub func_info_rec_size: u32,
    /// Pointer to the func_info buffer.
    pub func_info: u64,
    /// Number of func_info records.
    pub nr_func_info: u32,
    /// Number of line_info records.
    pub nr_line_info: u32,
    /// Pointer to the line_info buffer.
    pub line_info: u64,
    /// Pointer to the JITed line_info buffer (`u64` each).
    pub jited_line_info: u64,
    /// Number of JITed line_info records.
    pub nr_jited_line_info: u32,
    /// Size of one line_info record.
    pub line_info_rec_size: u32,
    /// Size of one JITed line_info record.
    pub jited_line_info_rec_size: u32,
    /// Number of subprogram tags.
    pub nr_prog_tags: u32,
    /// Pointer to a buffer of 8-byte tags.
    pub prog_tags: u64,
    /// Total run time in ns (with stats enabled).
    pub run_time_ns: u64,
    /// Run count (with stats enabled).
    pub run_cnt: u64,
    /// Runs skipped because of recursion.
    pub recursion_misses: u64,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// BTF object id of the attach target.
    pub attach_btf_obj_id: u32,
    /// BTF type id of the attach target.
    pub attach_btf_id: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(ProgInfo, 232, tag @ 8, jited_prog_insns @ 24, load_time @ 40, map_ids @ 56,
    name @ 64, ifindex @ 80, gpl_compatible @ 84, netns_dev @ 88, jited_ksyms @ 112,
    btf_id @ 128, func_info @ 136, line_info @ 152, jited_line_info @ 160,
    nr_prog_tags @ 180, prog_tags @ 184, run_time_ns @ 192, recursion_misses @ 208,
    verified_insns @ 216, attach_btf_id @ 224);

impl ProgInfo {
    /// The name as a string (up to the first NUL; lossy).
    pub fn name_str(&self) -> String {
        name_of(&self.name)
    }
    /// Whether the program declared a GPL-compatible license.
    pub fn is_gpl_compatible(&self) -> bool {
        self.gpl_compatible & 1 != 0
    }
}

/// `struct bpf_map_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapInfo {
    /// `enum bpf_map_type`.
    pub type_: MapType,
    /// Map id.
    pub id: u32,
    /// Key size.
    pub key_size: u32,
    /// Value size.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// Map flags.
    pub map_flags: u32,
    /// NUL-padded object name.
    pub name: [u8; 16],
    /// Offload device.
    pub ifindex: u32,
    /// vmlinux BTF id of the value (struct_ops).
    pub btf_vmlinux_value_type_id: u32,
    /// Offload netns device.
    pub netns_dev: u64,
    /// Offload netns inode.
    pub netns_ino: u64,
    /// BTF id.
    pub btf_id: u32,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// BTF object id of `btf_vmlinux_value_type_id`.
    pub btf_vmlinux_id: u32,
    /// Type-specific extra.
    pub map_extra: u64,
    /// Pointer to a buffer receiving the map's SHA-256 hash (frozen maps).
    pub hash: u64,
    /// Size of the `hash` buffer.
    pub hash_size: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(MapInfo, 104, name @ 24, ifindex @ 40, netns_dev @ 48, btf_id @ 64,
    btf_vmlinux_id @ 76, map_extra @ 80, hash @ 88, hash_size @ 96);

impl MapInfo {
    /// The name as a string (up to the first NUL; lossy).
    pub fn name_str(&self) -> String {
        name_of(&self.name)
    }
}

/// `struct bpf_btf_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BtfInfo {
    /// Pointer to a buffer receiving the raw BTF.
    pub btf: u64,
    /// In: buffer size; out: size of the BTF.
    pub btf_size: u32,
    /// BTF id.
    pub id: u32,
    /// Pointer to a buffer receiving the name.
    pub name: u64,
    /// In: buffer size; out: length of the name.
    pub name_len: u32,
    /// Non-zero for kernel (vmlinux/module) BTF.
    pub kernel_btf: u32,
}
layout!(BtfInfo, 32, btf_size @ 8, id @ 12, name @ 16, name_len @ 24, kernel_btf @ 28);

/// `struct bpf_link_info`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct LinkInfo {
    /// `enum bpf_link_type`.
    pub type_: LinkType,
    /// Link id.
    pub id: u32,
    /// Id of the attached program.
    pub prog_id: u32,
    /// Padding.
    pub _pad: u32,
    /// Per-link-type data; read the member matching `type_`.
    pub u: LinkInfoUnion,
}
layout!(LinkInfo, 64, prog_id @ 8, u @ 16);

impl std::fmt::Debug for LinkInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkInfo")
            .field("type_", &self.type_)
            .field("id", &self.id)
            .field("prog_id", &self.prog_id)
            .field("u", &self.raw_union())
            .finish()
    }
}

/// The union of `struct bpf_link_info` (48 bytes). Each member is plain old data, so every
/// member is valid to read whatever the kernel wrote; the member matching
/// [`LinkInfo::type_`] is the meaningful one. Safe accessors are on [`LinkInfo`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union LinkInfoUnion {
    /// The raw 48 bytes.
    pub raw: [u64; 6],
    /// `BPF_LINK_TYPE_RAW_TRACEPOINT`.
    pub raw_tracepoint: LinkInfoRawTracepoint,
    /// `BPF_LINK_TYPE_TRACING`.
    pub tracing: LinkInfoTracing,
    /// `BPF_LINK_TYPE_CGROUP`.
    pub cgroup: LinkInfoCgroup,
    /// `BPF_LINK_TYPE_ITER`.
    pub iter: LinkInfoIter,
    /// `BPF_LINK_TYPE_NETNS`, `TCX`, `NETKIT`, `SOCKMAP` (id/ifindex + attach type).
    pub netns: LinkInfoIdAttach,
    /// `BPF_LINK_TYPE_XDP` (`ifindex`) and `STRUCT_OPS` (`map_id`).
    pub xdp: LinkInfoXdp,
    /// `BPF_LINK_TYPE_NETFILTER`.
    pub netfilter: LinkInfoNetfilter,
    /// `BPF_LINK_TYPE_KPROBE_MULTI`.
    pub kprobe_multi: LinkInfoKprobeMulti,
    /// `BPF_LINK_TYPE_UPROBE_MULTI`.
    pub uprobe_multi: LinkInfoUprobeMulti,
    /// `BPF_LINK_TYPE_PERF_EVENT`.
    pub perf_event: LinkInfoPerfEvent,
}
layout!(LinkInfoUnion, 48);

impl Default for LinkInfoUnion {
    fn default() -> Self {
        LinkInfoUnion { raw: [0; 6] }
    }
}

macro_rules! accessor {
    ($(#[$m:meta])* $fn:ident -> $ty:ty, $field:ident) => {
        $(#[$m])*
        pub fn $fn(&self) -> $ty {
            // SAFETY: every member of the union is plain old data of at most 48 bytes with no
            // invalid bit patterns, and the union is always fully initialised (Default zeroes
            // `raw`, the kernel writes bytes), so reading any member is defined.
            unsafe { self.u.$field }
        }
    };
}

impl LinkInfo {
    accessor!(/// The union's raw 48 bytes.
        raw_union -> [u64; 6], raw);
    accessor!(/// The raw-tracepoint member.
        raw_tracepoint -> LinkInfoRawTracepoint, raw_tracepoint);
    accessor!(/// The tracing member.
        tracing -> LinkInfoTracing, tracing);
    accessor!(/// The cgroup member.
        cgroup -> LinkInfoCgroup, cgroup);
    accessor!(/// The iterator member.
        iter -> LinkInfoIter, iter);
    accessor!(/// The netns/tcx/netkit/sockmap member (`id_or_ifindex`, `attach_type`).
        id_attach -> LinkInfoIdAttach, netns);
    accessor!(/// The XDP member (`ifindex`; `map_id` for struct_ops).
        xdp -> LinkInfoXdp, xdp);
    accessor!(/// The netfilter member.
        netfilter -> LinkInfoNetfilter, netfilter);
    accessor!(/// The kprobe.multi member.
        kprobe_multi -> LinkInfoKprobeMulti, kprobe_multi);
    accessor!(/// The uprobe.multi member.
        uprobe_multi -> LinkInfoUprobeMulti, uprobe_multi);
    accessor!(/// The perf-event member.
        perf_event -> LinkInfoPerfEvent, perf_event);
}

/// `bpf_link_info.raw_tracepoint`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoRawTracepoint {
    /// Pointer to a name buffer.
    pub tp_name: u64,
    /// In: buffer size; out: name length with NUL.
    pub tp_name_len: u32,
    /// Padding.
    pub _pad: u32,
    /// Cookie.
    pub cookie: u64,
}
layout!(LinkInfoRawTracepoint, 24, cookie @ 16);

/// `bpf_link_info.tracing`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoTracing {
    /// Attach type.
    pub attach_type: AttachType,
    /// Target object id (BTF object or program).
    pub target_obj_id: u32,
    /// Target BTF id.
    pub target_btf_id: u32,
    /// Padding.
    pub _pad: u32,
    /// Cookie.
    pub cookie: u64,
}
layout!(LinkInfoTracing, 24, target_btf_id @ 8, cookie @ 16);

/// `bpf_link_info.cgroup`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoCgroup {
    /// cgroup id.
    pub cgroup_id: u64,
    /// Attach type.
    pub attach_type: AttachType,
    /// Padding.
    pub _pad: u32,
}
layout!(LinkInfoCgroup, 16, attach_type @ 8);

/// `bpf_link_info.iter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoIter {
    /// Pointer to a target-name buffer.
    pub target_name: u64,
    /// In: buffer size; out: name length with NUL.
    pub target_name_len: u32,
    /// `map.map_id` for map iterators.
    pub map_id: u32,
    /// `cgroup.cgroup_id`, or `task.tid` (low half) and `task.pid` (high half).
    pub cgroup_id_or_task: u64,
    /// `cgroup.order`.
    pub cgroup_order: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(LinkInfoIter, 32, map_id @ 12, cgroup_id_or_task @ 16, cgroup_order @ 24);

/// `bpf_link_info.netns` / `.tcx` / `.netkit` / `.sockmap`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoIdAttach {
    /// netns inode, ifindex (tcx/netkit) or map id (sockmap).
    pub id_or_ifindex: u32,
    /// Attach type.
    pub attach_type: AttachType,
}
layout!(LinkInfoIdAttach, 8);

/// `bpf_link_info.xdp` / `.struct_ops`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoXdp {
    /// ifindex (XDP) or map id (struct_ops).
    pub ifindex: u32,
}
layout!(LinkInfoXdp, 4);

/// `bpf_link_info.netfilter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoNetfilter {
    /// Protocol family.
    pub pf: u32,
    /// Hook number.
    pub hooknum: u32,
    /// Priority.
    pub priority: i32,
    /// Flags.
    pub flags: u32,
}
layout!(LinkInfoNetfilter, 16);

/// `bpf_link_info.kprobe_multi`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoKprobeMulti {
    /// Pointer to a `u64` address buffer.
    pub addrs: u64,
    /// In: buffer capacity; out: number of probes.
    pub count: u32,
    /// Flags.
    pub flags: u32,
    /// Missed runs.
    pub missed: u64,
    /// Pointer to a `u64` cookie buffer.
    pub cookies: u64,
}
layout!(LinkInfoKprobeMulti, 32, missed @ 16, cookies @ 24);

/// `bpf_link_info.uprobe_multi`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoUprobeMulti {
    /// Pointer to a path buffer.
    pub path: u64,
    /// Pointer to a `u64` offset buffer.
    pub offsets: u64,
    /// Pointer to a `u64` ref-counter-offset buffer.
    pub ref_ctr_offsets: u64,
    /// Pointer to a `u64` cookie buffer.
    pub cookies: u64,
    /// In: path buffer size; out: path length with NUL.
    pub path_size: u32,
    /// In: capacity of the arrays; out: number of probes.
    pub count: u32,
    /// Flags.
    pub flags: u32,
    /// Pid filter.
    pub pid: u32,
}
layout!(LinkInfoUprobeMulti, 48, path_size @ 32, count @ 36, pid @ 44);

/// `bpf_link_info.perf_event`: `type_` (`enum bpf_perf_event_type`) then a per-kind part.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfoPerfEvent {
    /// `enum bpf_perf_event_type`.
    pub type_: u32,
    /// Padding.
    pub _pad: u32,
    /// Pointer to a name buffer: `uprobe.file_name`, `kprobe.func_name`,
    /// `tracepoint.tp_name`; `event.config` for perf events.
    pub name: u64,
    /// In: name buffer size; out: name length (`event.type` for perf events).
    pub name_len: u32,
    /// Probe offset (uprobe/kprobe).
    pub offset: u32,
    /// uprobe: cookie; kprobe: address; tracepoint/event: cookie.
    pub word3: u64,
    /// uprobe: ref_ctr_offset; kprobe: missed.
    pub word4: u64,
    /// kprobe: cookie.
    pub word5: u64,
}
layout!(LinkInfoPerfEvent, 48, name @ 8, name_len @ 16, offset @ 20, word3 @ 24);

fn name_of(b: &[u8; 16]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}
