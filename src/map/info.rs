//! [`MapInfo`] (`BPF_OBJ_GET_INFO_BY_FD` on a map) and [`ObjectIds`], the `*_GET_NEXT_ID` walk.

use std::os::fd::BorrowedFd;

use super::{MapFlags, MapType};
use crate::error::Result;
use crate::sys::Errno;

/// What the kernel reports about a map (`struct bpf_map_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapInfo {
    /// The map's id (system-wide, stable while the map lives).
    pub id: u32,
    /// The map type.
    pub map_type: MapType,
    /// The name (at most 15 bytes).
    pub name: String,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes (one CPU's value for per-CPU maps).
    pub value_size: u32,
    /// `max_entries`.
    pub max_entries: u32,
    /// `map_flags`.
    pub flags: MapFlags,
    /// Offload device, 0 if none.
    pub ifindex: u32,
    /// Id of the map's BTF object, 0 if none.
    pub btf_id: u32,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// vmlinux BTF id of a struct_ops value.
    pub btf_vmlinux_value_type_id: u32,
    /// `map_extra`.
    pub map_extra: u64,
}

impl MapInfo {
    /// Reads the info of the map behind `fd`.
    pub fn of_fd(fd: BorrowedFd<'_>) -> Result<MapInfo> {
        let raw = crate::sys::map_info(fd)
            .map_err(|e| crate::map::info_error(e, "the fd is not a BPF map"))?;
        Ok(MapInfo {
            id: raw.id,
            map_type: raw.type_,
            name: raw.name_str(),
            key_size: raw.key_size,
            value_size: raw.value_size,
            max_entries: raw.max_entries,
            flags: MapFlags::from_bits_retain(raw.map_flags),
            ifindex: raw.ifindex,
            btf_id: raw.btf_id,
            btf_key_type_id: raw.btf_key_type_id,
            btf_value_type_id: raw.btf_value_type_id,
            btf_vmlinux_value_type_id: raw.btf_vmlinux_value_type_id,
            map_extra: raw.map_extra,
        })
    }
}

/// Iterator over the ids of every object of one kind in the system, in increasing order
/// (`BPF_{MAP,PROG,LINK}_GET_NEXT_ID`): [`MapIds`], [`ProgramIds`](crate::prog::ProgramIds),
/// [`LinkIds`](crate::link::LinkIds). Needs `CAP_SYS_ADMIN`.
#[derive(Debug)]
pub struct ObjectIds {
    next: Option<u32>,
    get_next: fn(u32) -> std::result::Result<Option<u32>, Errno>,
    call: &'static str,
}

impl ObjectIds {
    pub(crate) fn new(
        get_next: fn(u32) -> std::result::Result<Option<u32>, Errno>,
        call: &'static str,
    ) -> Self {
        ObjectIds {
            next: Some(0),
            get_next,
            call,
        }
    }
}

impl Iterator for ObjectIds {
    type Item = Result<u32>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next.take()?;
        match (self.get_next)(start) {
            Ok(Some(id)) => {
                self.next = Some(id);
                Some(Ok(id))
            }
            Ok(None) => None,
            Err(e) => Some(Err(super::glue::sys_admin_error(self.call, e, None, None))),
        }
    }
}

/// Iterator over the ids of every map in the system (`BPF_MAP_GET_NEXT_ID`).
pub type MapIds = ObjectIds;
