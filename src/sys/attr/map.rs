//! Attrs of the map commands.

use super::layout;

/// `BPF_MAP_CREATE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapCreateAttr {
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub map_flags: u32,
    /// Inner map template fd (map-in-map).
    pub inner_map_fd: u32,
    /// NUMA node (with `BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// NUL-padded object name.
    pub map_name: [u8; 16],
    /// Device to offload to.
    pub map_ifindex: u32,
    /// BTF fd describing key/value.
    pub btf_fd: u32,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// vmlinux BTF id of the value (struct_ops).
    pub btf_vmlinux_value_type_id: u32,
    /// Type-specific extra (bloom filter hash count, arena user address).
    pub map_extra: u64,
    /// BTF object fd of `btf_vmlinux_value_type_id` (with `BPF_F_VTYPE_BTF_OBJ_FD`).
    pub value_type_btf_obj_fd: i32,
    /// Token fd (with `BPF_F_TOKEN_FD`).
    pub map_token_fd: i32,
    /// Pointer to the hash of the only program allowed to use the map (exclusive maps).
    pub excl_prog_hash: u64,
    /// Size of `excl_prog_hash`.
    pub excl_prog_hash_size: u32,
    /// Padding.
    pub _pad: u32,
}
layout!(MapCreateAttr, 96, map_name @ 28, map_ifindex @ 44, map_extra @ 64,
    value_type_btf_obj_fd @ 72, map_token_fd @ 76, excl_prog_hash @ 80, excl_prog_hash_size @ 88);

/// `BPF_MAP_LOOKUP_ELEM`, `BPF_MAP_UPDATE_ELEM`, `BPF_MAP_DELETE_ELEM`,
/// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapElemAttr {
    /// The map.
    pub map_fd: u32,
    /// Padding.
    pub _pad: u32,
    /// Pointer to the key (NULL for key-less maps).
    pub key: u64,
    /// Pointer to the value buffer.
    pub value: u64,
    /// `BPF_ANY`/`BPF_NOEXIST`/`BPF_EXIST`/`BPF_F_LOCK`.
    pub flags: u64,
}
layout!(MapElemAttr, 32, map_fd @ 0, key @ 8, value @ 16, flags @ 24);

/// `BPF_MAP_GET_NEXT_KEY` (the same union member as [`MapElemAttr`], `next_key` in place of
/// `value`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapGetNextKeyAttr {
    /// The map.
    pub map_fd: u32,
    /// Padding.
    pub _pad: u32,
    /// Pointer to the current key, NULL for the first key.
    pub key: u64,
    /// Pointer to the buffer receiving the next key.
    pub next_key: u64,
}
layout!(MapGetNextKeyAttr, 24, key @ 8, next_key @ 16);

/// `BPF_MAP_FREEZE`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapFreezeAttr {
    /// The map.
    pub map_fd: u32,
}
layout!(MapFreezeAttr, 4, map_fd @ 0);

/// The four `BPF_MAP_*_BATCH` commands (`attr.batch`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapBatchAttr {
    /// Pointer to the start cursor (NULL: from the start).
    pub in_batch: u64,
    /// Pointer to the buffer receiving the next cursor.
    pub out_batch: u64,
    /// Pointer to `count` keys.
    pub keys: u64,
    /// Pointer to `count` values.
    pub values: u64,
    /// In: elements the buffers hold; out: elements processed.
    pub count: u32,
    /// The map.
    pub map_fd: u32,
    /// Per-element flags.
    pub elem_flags: u64,
    /// Command flags.
    pub flags: u64,
}
layout!(MapBatchAttr, 56, count @ 32, map_fd @ 36, elem_flags @ 40, flags @ 48);
