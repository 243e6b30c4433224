//! [`MapOptions`]: every attribute of `BPF_MAP_CREATE` (6.18 uapi).

use std::os::fd::BorrowedFd;

use super::types::{MapFlags, MapType};

/// What to create: every attribute of `BPF_MAP_CREATE` as of Linux 6.18.
///
/// ```no_run
/// use rawbpf::map::{Map, MapOptions, MapType};
/// let map = Map::create(&MapOptions::new(MapType::HASH, 4, 8, 1024).name("counters"))?;
/// # Ok::<(), rawbpf::error::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MapOptions<'a> {
    /// `map_type`.
    pub map_type: MapType,
    /// `key_size` in bytes (0 for queue, stack and bloom filter).
    pub key_size: u32,
    /// `value_size` in bytes: the size of *one* value, also for per-CPU maps.
    pub value_size: u32,
    /// `max_entries` (for ring buffers: the size in bytes, a power of two pages).
    pub max_entries: u32,
    /// `map_flags`.
    pub flags: MapFlags,
    /// `inner_map_fd`: a template of the inner maps, for map-of-maps.
    pub inner_map: Option<BorrowedFd<'a>>,
    /// `numa_node` (sets `BPF_F_NUMA_NODE`).
    pub numa_node: Option<u32>,
    /// `map_name`: at most 15 bytes of `[A-Za-z0-9_.]`; longer names are cut.
    pub name: String,
    /// `map_ifindex`: offload to this device.
    pub ifindex: u32,
    /// `btf_fd`: the BTF that `btf_key_type_id`/`btf_value_type_id` refer to.
    pub btf: Option<BorrowedFd<'a>>,
    /// `btf_key_type_id`.
    pub btf_key_type_id: u32,
    /// `btf_value_type_id`.
    pub btf_value_type_id: u32,
    /// `btf_vmlinux_value_type_id`: the kernel struct a struct_ops map implements (the
    /// kernel also wants a `btf` fd then, with no key/value type ids).
    pub btf_vmlinux_value_type_id: u32,
    /// `map_extra`: bloom filter hash count, arena user address, …
    pub map_extra: u64,
    /// `value_type_btf_obj_fd`: module BTF of the struct_ops value type (sets
    /// `BPF_F_VTYPE_BTF_OBJ_FD`).
    pub value_type_btf_obj: Option<BorrowedFd<'a>>,
    /// `map_token_fd`: a BPF token to create the map with (sets `BPF_F_TOKEN_FD`).
    pub token: Option<BorrowedFd<'a>>,
    /// `excl_prog_hash`: only the program with this SHA-256 may use the map (since Linux
    /// 6.18).
    pub excl_prog_hash: Option<Vec<u8>>,
}

impl<'a> MapOptions<'a> {
    /// A map of `map_type` with the given sizes and nothing else set.
    pub fn new(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> Self {
        MapOptions {
            map_type,
            key_size,
            value_size,
            max_entries,
            flags: MapFlags::empty(),
            inner_map: None,
            numa_node: None,
            name: String::new(),
            ifindex: 0,
            btf: None,
            btf_key_type_id: 0,
            btf_value_type_id: 0,
            btf_vmlinux_value_type_id: 0,
            map_extra: 0,
            value_type_btf_obj: None,
            token: None,
            excl_prog_hash: None,
        }
    }

    /// Sets the name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// Adds flags.
    pub fn flags(mut self, flags: MapFlags) -> Self {
        self.flags |= flags;
        self
    }

    /// Sets the inner map template (map-of-maps).
    pub fn inner_map(mut self, fd: BorrowedFd<'a>) -> Self {
        self.inner_map = Some(fd);
        self
    }

    /// Sets the NUMA node.
    pub fn numa_node(mut self, node: u32) -> Self {
        self.numa_node = Some(node);
        self
    }

    /// Offloads to a device.
    pub fn ifindex(mut self, ifindex: u32) -> Self {
        self.ifindex = ifindex;
        self
    }

    /// Sets the BTF and the key/value type ids in it.
    pub fn btf(mut self, btf: BorrowedFd<'a>, key_type_id: u32, value_type_id: u32) -> Self {
        self.btf = Some(btf);
        self.btf_key_type_id = key_type_id;
        self.btf_value_type_id = value_type_id;
        self
    }

    /// Sets `btf_vmlinux_value_type_id` (struct_ops).
    pub fn btf_vmlinux_value_type_id(mut self, id: u32) -> Self {
        self.btf_vmlinux_value_type_id = id;
        self
    }

    /// Sets `value_type_btf_obj_fd` (struct_ops value type in module BTF).
    pub fn value_type_btf_obj(mut self, fd: BorrowedFd<'a>) -> Self {
        self.value_type_btf_obj = Some(fd);
        self
    }

    /// Sets `map_extra`.
    pub fn map_extra(mut self, extra: u64) -> Self {
        self.map_extra = extra;
        self
    }

    /// Creates the map with a BPF token.
    pub fn token(mut self, token: BorrowedFd<'a>) -> Self {
        self.token = Some(token);
        self
    }

    /// Restricts the map to the program whose SHA-256 is `hash`.
    pub fn excl_prog_hash(mut self, hash: &[u8]) -> Self {
        self.excl_prog_hash = Some(hash.to_vec());
        self
    }

    /// The flags actually passed: [`flags`](Self::flags) plus the ones implied by the
    /// optional fields.
    pub fn effective_flags(&self) -> MapFlags {
        let mut f = self.flags;
        if self.numa_node.is_some() {
            f |= MapFlags::NUMA_NODE;
        }
        if self.value_type_btf_obj.is_some() {
            f |= MapFlags::VTYPE_BTF_OBJ_FD;
        }
        if self.token.is_some() {
            f |= MapFlags::TOKEN_FD;
        }
        f
    }
}

/// The kernel's object name: at most 15 bytes, only `[A-Za-z0-9_.]` (others are dropped).
pub(crate) fn object_name(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, c) in out[..15].iter_mut().zip(
        name.bytes()
            .filter(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.'),
    ) {
        *o = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut() {
        assert_eq!(&object_name("a-b.c_d")[..6], b"ab.c_d");
        assert_eq!(object_name("0123456789abcdefgh")[15], 0);
        assert_eq!(&object_name("0123456789abcdefgh")[..15], b"0123456789abcde");
    }

    #[test]
    fn implied_flags() {
        let o = MapOptions::new(MapType::HASH, 4, 4, 1)
            .numa_node(0)
            .flags(MapFlags::NO_PREALLOC);
        assert_eq!(
            o.effective_flags(),
            MapFlags::NO_PREALLOC | MapFlags::NUMA_NODE
        );
    }
}
