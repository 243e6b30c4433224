//! Map commands: `MAP_CREATE`, the element commands, `MAP_FREEZE` and the batch commands,
//! all through [`MapFd`], which knows the sizes the kernel reads and writes.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use super::super::attr::{
    MapBatchAttr, MapCreateAttr, MapElemAttr, MapFreezeAttr, MapGetNextKeyAttr, obj_name, ptr,
    ptr_mut,
};
use super::super::fd::{FdKind, fd_kind, raw, raw_opt};
use super::super::flags::{ElemFlags, MapFlags};
use super::super::types::{BpfCmd, MapType};
use super::super::{Errno, bpf, bpf_fd, cpus};
use super::info::map_info;

/// Arguments of [`map_create`]. `Default` gives a zero attr; set at least `map_type` and the
/// sizes.
#[derive(Clone, Copy, Debug, Default)]
pub struct MapCreateArgs<'a> {
    /// Map type.
    pub map_type: MapType,
    /// Key size in bytes (0 for queue, stack, bloom filter).
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// Map flags.
    pub map_flags: MapFlags,
    /// Inner map template (map-in-map).
    pub inner_map: Option<BorrowedFd<'a>>,
    /// NUMA node (with [`MapFlags::NUMA_NODE`]).
    pub numa_node: u32,
    /// Object name, at most 15 bytes.
    pub name: &'a str,
    /// Offload device.
    pub map_ifindex: u32,
    /// BTF describing key and value.
    pub btf: Option<BorrowedFd<'a>>,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// vmlinux BTF type id of the value (struct_ops).
    pub btf_vmlinux_value_type_id: u32,
    /// Type-specific extra (bloom filter hash count, arena user address).
    pub map_extra: u64,
    /// BTF object of `btf_vmlinux_value_type_id` (sets [`MapFlags::VTYPE_BTF_OBJ_FD`]).
    pub value_type_btf_obj: Option<BorrowedFd<'a>>,
    /// BPF token (sets [`MapFlags::TOKEN_FD`]).
    pub token: Option<BorrowedFd<'a>>,
    /// Hash of the only program allowed to use the map (exclusive maps), or empty.
    pub excl_prog_hash: &'a [u8],
}

/// A map fd together with the geometry the kernel uses for it, so the element commands can
/// check buffer sizes before the kernel reads or writes them.
///
/// Built only by [`map_create`] (sizes known from the attr), [`map_get_fd_by_id`], or
/// [`MapFd::from_fd`] (which checks the fd is a map and reads its info).
#[derive(Debug)]
pub struct MapFd {
    fd: OwnedFd,
    map_type: MapType,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    flags: MapFlags,
    value_len: usize,
}

impl MapFd {
    /// Wraps an fd after checking that it is a BPF map, reading its geometry with
    /// `OBJ_GET_INFO_BY_FD`. `EINVAL` if the fd is not a map.
    pub fn from_fd(fd: OwnedFd) -> Result<MapFd, Errno> {
        match fd_kind(fd.as_fd()) {
            Ok(FdKind::Map) => {}
            Ok(_) => return Err(Errno::EINVAL),
            Err(e) => return Err(Errno::from_raw(e.raw_os_error().unwrap_or(libc::EBADF))),
        }
        let info = map_info(fd.as_fd())?;
        Self::new(
            fd,
            info.type_,
            info.key_size,
            info.value_size,
            info.max_entries,
            MapFlags::from_bits_retain(info.map_flags),
        )
    }

    fn new(
        fd: OwnedFd,
        map_type: MapType,
        key_size: u32,
        value_size: u32,
        max_entries: u32,
        flags: MapFlags,
    ) -> Result<MapFd, Errno> {
        let value_len = if map_type.is_per_cpu() {
            let ncpu = cpus::possible_cpus()
                .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EINVAL)))?;
            (value_size as usize).div_ceil(8) * 8 * ncpu
        } else if map_type.is_fd_map() {
            (value_size as usize).max(4)
        } else {
            value_size as usize
        };
        Ok(MapFd {
            fd,
            map_type,
            key_size,
            value_size,
            max_entries,
            flags,
            value_len,
        })
    }

    /// The map type.
    #[inline]
    pub fn map_type(&self) -> MapType {
        self.map_type
    }
    /// Key size in bytes.
    #[inline]
    pub fn key_size(&self) -> u32 {
        self.key_size
    }
    /// Value size in bytes, as created (one CPU's slot for per-CPU maps).
    #[inline]
    pub fn value_size(&self) -> u32 {
        self.value_size
    }
    /// Maximum number of entries.
    #[inline]
    pub fn max_entries(&self) -> u32 {
        self.max_entries
    }
    /// Map flags.
    pub fn flags(&self) -> MapFlags {
        self.flags
    }
    /// Bytes of one value in user space: `value_size`, or `round_up(value_size, 8) *
    /// possible_cpus()` for per-CPU maps. Value buffers must be exactly this long.
    #[inline]
    pub fn value_len(&self) -> usize {
        self.value_len
    }
    /// The per-CPU slot stride (`round_up(value_size, 8)`) of per-CPU maps, else `value_size`.
    pub fn value_stride(&self) -> usize {
        if self.map_type.is_per_cpu() {
            (self.value_size as usize).div_ceil(8) * 8
        } else {
            self.value_len
        }
    }
    /// Gives the fd back.
    pub fn into_fd(self) -> OwnedFd {
        self.fd
    }
    /// Duplicates the fd (close-on-exec), keeping the geometry.
    pub fn try_clone(&self) -> std::io::Result<MapFd> {
        Ok(MapFd {
            fd: self.fd.try_clone()?,
            ..*self
        })
    }
    #[inline(always)]
    fn fd_u32(&self) -> u32 {
        self.fd.as_raw_fd() as u32
    }
    #[inline(always)]
    fn key_ptr(&self, key: &[u8]) -> Result<u64, Errno> {
        if key.len() != self.key_size as usize {
            return Err(Errno::EINVAL);
        }
        Ok(ptr(key))
    }
    #[inline(always)]
    fn check_value(&self, len: usize) -> Result<(), Errno> {
        if len != self.value_len {
            Err(Errno::EINVAL)
        } else {
            Ok(())
        }
    }
}

impl AsFd for MapFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// `BPF_MAP_CREATE`: creates a map.
///
/// `EINVAL` without a syscall if `name` is longer than 15 bytes or has a NUL.
pub fn map_create(args: &MapCreateArgs<'_>) -> Result<MapFd, Errno> {
    let mut flags = args.map_flags;
    let mut attr = MapCreateAttr {
        map_type: args.map_type.0,
        key_size: args.key_size,
        value_size: args.value_size,
        max_entries: args.max_entries,
        inner_map_fd: raw_opt(args.inner_map),
        numa_node: args.numa_node,
        map_name: obj_name(args.name).ok_or(Errno::EINVAL)?,
        map_ifindex: args.map_ifindex,
        btf_fd: raw_opt(args.btf),
        btf_key_type_id: args.btf_key_type_id,
        btf_value_type_id: args.btf_value_type_id,
        btf_vmlinux_value_type_id: args.btf_vmlinux_value_type_id,
        map_extra: args.map_extra,
        excl_prog_hash: ptr(args.excl_prog_hash),
        excl_prog_hash_size: args.excl_prog_hash.len() as u32,
        ..Default::default()
    };
    if let Some(fd) = args.value_type_btf_obj {
        attr.value_type_btf_obj_fd = raw(fd) as i32;
        flags |= MapFlags::VTYPE_BTF_OBJ_FD;
    }
    if let Some(fd) = args.token {
        attr.map_token_fd = raw(fd) as i32;
        flags |= MapFlags::TOKEN_FD;
    }
    attr.map_flags = flags.bits();
    // SAFETY: MAP_CREATE only reads the attr and `excl_prog_hash` (its exact length is in
    // the attr, from one slice); it returns a new fd.
    let fd = unsafe { bpf_fd(BpfCmd::MAP_CREATE, &mut attr) }?;
    MapFd::new(
        fd,
        args.map_type,
        args.key_size,
        args.value_size,
        args.max_entries,
        args.map_flags,
    )
}

#[inline(always)]
fn elem(map: &MapFd, cmd: BpfCmd, key: u64, value: u64, flags: u64) -> Result<(), Errno> {
    let mut attr = MapElemAttr {
        map_fd: map.fd_u32(),
        key,
        value,
        flags,
        ..Default::default()
    };
    // SAFETY: callers pass `key` from a slice of exactly key_size bytes (or NULL for
    // key-less maps) and `value` from a slice of exactly `value_len()` bytes, mutable when
    // the command writes it; those are the most the kernel reads or writes for `map`.
    unsafe { bpf(cmd, &mut attr) }.map(drop)
}

/// `BPF_MAP_LOOKUP_ELEM`: copies the value of `key` into `value`.
///
/// `key` must be `key_size` bytes (empty for queue/stack: peek), `value` exactly
/// [`MapFd::value_len`] bytes, else `EINVAL`. A missing key is `ENOENT`.
#[inline]
pub fn map_lookup_elem(
    map: &MapFd,
    key: &[u8],
    value: &mut [u8],
    flags: ElemFlags,
) -> Result<(), Errno> {
    let k = map.key_ptr(key)?;
    map.check_value(value.len())?;
    elem(
        map,
        BpfCmd::MAP_LOOKUP_ELEM,
        k,
        ptr_mut(value),
        flags.bits(),
    )
}

/// `BPF_MAP_UPDATE_ELEM`: creates or updates `key` (queue/stack: push, bloom filter: add,
/// with an empty key). Sizes as for [`map_lookup_elem`].
#[inline]
pub fn map_update_elem(
    map: &MapFd,
    key: &[u8],
    value: &[u8],
    flags: ElemFlags,
) -> Result<(), Errno> {
    let k = map.key_ptr(key)?;
    map.check_value(value.len())?;
    elem(map, BpfCmd::MAP_UPDATE_ELEM, k, ptr(value), flags.bits())
}

/// `BPF_MAP_DELETE_ELEM`: deletes `key` (`ENOENT` if missing).
pub fn map_delete_elem(map: &MapFd, key: &[u8]) -> Result<(), Errno> {
    let k = map.key_ptr(key)?;
    elem(map, BpfCmd::MAP_DELETE_ELEM, k, 0, 0)
}

/// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: looks `key` up and deletes it (queue/stack: pop, with
/// an empty key). Sizes as for [`map_lookup_elem`].
pub fn map_lookup_and_delete_elem(
    map: &MapFd,
    key: &[u8],
    value: &mut [u8],
    flags: ElemFlags,
) -> Result<(), Errno> {
    let k = map.key_ptr(key)?;
    map.check_value(value.len())?;
    elem(
        map,
        BpfCmd::MAP_LOOKUP_AND_DELETE_ELEM,
        k,
        ptr_mut(value),
        flags.bits(),
    )
}

/// `BPF_MAP_GET_NEXT_KEY`: writes the key after `key` (the first key for `None`) into
/// `next`, which must be `key_size` bytes. `ENOENT` after the last key.
pub fn map_get_next_key(map: &MapFd, key: Option<&[u8]>, next: &mut [u8]) -> Result<(), Errno> {
    let k = match key {
        Some(k) => map.key_ptr(k)?,
        None => 0,
    };
    if next.len() != map.key_size as usize || next.is_empty() {
        return Err(Errno::EINVAL);
    }
    let mut attr = MapGetNextKeyAttr {
        map_fd: map.fd_u32(),
        key: k,
        next_key: ptr_mut(next),
        ..Default::default()
    };
    // SAFETY: `key` is NULL or key_size readable bytes, `next` key_size writable bytes; the
    // kernel writes at most key_size bytes.
    unsafe { bpf(BpfCmd::MAP_GET_NEXT_KEY, &mut attr) }.map(drop)
}

/// `BPF_MAP_FREEZE`: makes the map read-only for user space from now on.
pub fn map_freeze(map: BorrowedFd<'_>) -> Result<(), Errno> {
    let mut attr = MapFreezeAttr { map_fd: raw(map) };
    // SAFETY: MAP_FREEZE has no pointers.
    unsafe { bpf(BpfCmd::MAP_FREEZE, &mut attr) }.map(drop)
}

/// A failed batch command: the error and how many elements were processed before it.
///
/// For the lookup batches, `ENOENT` means "no more elements": `count` elements were still
/// copied, and the iteration is complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchError {
    /// The error.
    pub errno: Errno,
    /// Elements processed (copied, updated or deleted) before the error.
    pub count: u32,
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} after {} elements", self.errno, self.count)
    }
}

impl std::error::Error for BatchError {}

impl From<Errno> for BatchError {
    fn from(errno: Errno) -> Self {
        BatchError { errno, count: 0 }
    }
}

impl MapFd {
    /// Bytes a batch cursor buffer needs: `max(key_size, 4)` (hash maps use a `u32` bucket
    /// cursor, arrays a key).
    pub fn batch_cursor_len(&self) -> usize {
        (self.key_size as usize).max(4)
    }

    fn batch_count(&self, keys: usize, values: Option<usize>) -> Result<u32, Errno> {
        let ks = self.key_size as usize;
        if ks == 0 || keys % ks != 0 {
            return Err(Errno::EINVAL);
        }
        let n = keys / ks;
        if let Some(v) = values {
            if v != n * self.value_len {
                return Err(Errno::EINVAL);
            }
        }
        u32::try_from(n).map_err(|_| Errno::E2BIG)
    }
}

fn batch(cmd: BpfCmd, attr: &mut MapBatchAttr) -> Result<u32, BatchError> {
    // SAFETY: the callers fill every pointer from a slice whose length matches what the
    // kernel may touch: `count * key_size` key bytes, `count * value_len` value bytes, and
    // `batch_cursor_len()` bytes for each cursor.
    match unsafe { bpf(cmd, attr) } {
        Ok(_) => Ok(attr.count),
        Err(errno) => Err(BatchError {
            errno,
            count: attr.count,
        }),
    }
}

fn cursor_in(map: &MapFd, c: Option<&[u8]>) -> Result<u64, Errno> {
    match c {
        None => Ok(0),
        Some(c) if c.len() == map.batch_cursor_len() => Ok(ptr(c)),
        Some(_) => Err(Errno::EINVAL),
    }
}

/// `BPF_MAP_LOOKUP_BATCH`: copies up to `keys.len() / key_size` elements, starting at
/// `in_batch` (`None`: from the start), into `keys` and `values`, and the cursor for the next
/// call into `out_batch`. Returns the number copied.
///
/// Buffers: `keys` a multiple of `key_size`, `values` exactly `n * value_len()`, cursors
/// [`MapFd::batch_cursor_len`] bytes. The last batch fails with `ENOENT` and the partial
/// count in [`BatchError::count`].
pub fn map_lookup_batch(
    map: &MapFd,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    elem_flags: ElemFlags,
) -> Result<u32, BatchError> {
    lookup_batch(
        BpfCmd::MAP_LOOKUP_BATCH,
        map,
        in_batch,
        out_batch,
        keys,
        values,
        elem_flags,
    )
}

/// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: as [`map_lookup_batch`], deleting what it copies.
pub fn map_lookup_and_delete_batch(
    map: &MapFd,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    elem_flags: ElemFlags,
) -> Result<u32, BatchError> {
    lookup_batch(
        BpfCmd::MAP_LOOKUP_AND_DELETE_BATCH,
        map,
        in_batch,
        out_batch,
        keys,
        values,
        elem_flags,
    )
}

fn lookup_batch(
    cmd: BpfCmd,
    map: &MapFd,
    in_batch: Option<&[u8]>,
    out_batch: &mut [u8],
    keys: &mut [u8],
    values: &mut [u8],
    elem_flags: ElemFlags,
) -> Result<u32, BatchError> {
    let count = map.batch_count(keys.len(), Some(values.len()))?;
    if out_batch.len() != map.batch_cursor_len() || count == 0 {
        return Err(Errno::EINVAL.into());
    }
    let mut attr = MapBatchAttr {
        in_batch: cursor_in(map, in_batch)?,
        out_batch: ptr_mut(out_batch),
        keys: ptr_mut(keys),
        values: ptr_mut(values),
        count,
        map_fd: map.fd_u32(),
        elem_flags: elem_flags.bits(),
        flags: 0,
    };
    batch(cmd, &mut attr)
}

/// `BPF_MAP_UPDATE_BATCH`: updates `keys.len() / key_size` elements from `keys` and
/// `values` (exactly `n * value_len()` bytes). Returns the number updated.
pub fn map_update_batch(
    map: &MapFd,
    keys: &[u8],
    values: &[u8],
    elem_flags: ElemFlags,
) -> Result<u32, BatchError> {
    let count = map.batch_count(keys.len(), Some(values.len()))?;
    let mut attr = MapBatchAttr {
        keys: ptr(keys),
        values: ptr(values),
        count,
        map_fd: map.fd_u32(),
        elem_flags: elem_flags.bits(),
        ..Default::default()
    };
    batch(BpfCmd::MAP_UPDATE_BATCH, &mut attr)
}

/// `BPF_MAP_DELETE_BATCH`: deletes `keys.len() / key_size` keys. Returns the number deleted;
/// a missing key fails with `ENOENT` and the count deleted before it.
pub fn map_delete_batch(
    map: &MapFd,
    keys: &[u8],
    elem_flags: ElemFlags,
) -> Result<u32, BatchError> {
    let count = map.batch_count(keys.len(), None)?;
    let mut attr = MapBatchAttr {
        keys: ptr(keys),
        count,
        map_fd: map.fd_u32(),
        elem_flags: elem_flags.bits(),
        ..Default::default()
    };
    batch(BpfCmd::MAP_DELETE_BATCH, &mut attr)
}

/// `BPF_MAP_GET_FD_BY_ID`: opens the map with id `id` (`ENOENT` if gone) as a [`MapFd`].
pub fn map_get_fd_by_id(
    id: u32,
    open_flags: super::super::flags::ObjFlags,
    token: Option<BorrowedFd<'_>>,
) -> Result<MapFd, Errno> {
    let fd = super::obj::get_fd_by_id(BpfCmd::MAP_GET_FD_BY_ID, id, open_flags, token)?;
    let info = map_info(fd.as_fd())?;
    MapFd::new(
        fd,
        info.type_,
        info.key_size,
        info.value_size,
        info.max_entries,
        MapFlags::from_bits_retain(info.map_flags),
    )
}
