//! `Map`: a BPF map, byte-level operations on it, and typed views over it.
//!
//! [`Map`] owns the map's fd and knows its type and sizes. Its element operations work on byte
//! slices ([`Map::lookup`], [`Map::update`], …; batch ops in [`Map::lookup_batch`] and
//! friends). Typed views ([`HashMap`], [`Array`], [`PerCpuHashMap`], [`Queue`], …) wrap a `Map`
//! and serialise keys and values through the [`Pod`] trait.
//!
//! Per-CPU maps take and give one value per *possible* CPU (see [`possible_cpus`]), each slot
//! rounded up to 8 bytes: [`Map::value_buf_size`] is the byte size user space deals in.
//!
//! A `BPF_F_MMAPABLE` array can be mapped into memory with [`Map::mmap`] ([`MapMmap`]); an
//! arena with [`Arena`].
//!
//! Socket and device maps have views that take fds and give cookies and ids back
//! ([`SockMap`], [`SockHash`], [`DevMap`], [`CpuMap`], [`XskMap`]); the local storages
//! ([`TaskStorage`], [`InodeStorage`], [`SkStorage`], [`CgrpStorage`]) take the fd of the
//! object the value belongs to; [`StackTrace`] reads the stacks `bpf_get_stackid` records.
//!
//! Event buffers: [`RingBuf`] consumes a `RINGBUF` map in place (several on one epoll set in
//! [`RingBuffers`]), [`UserRingBuf`] produces into a `USER_RINGBUF` map, and [`PerfBuffer`]
//! consumes a `PERF_EVENT_ARRAY` through one perf ring per CPU; with the `tokio` feature,
//! `AsyncRingBuf`, `AsyncPerfBuffer` and `AsyncUserRingBuf` await them.
//!
//! ```no_run
//! use rawbpf::map::{ANY, HashMap, Map, MapOptions, MapType};
//!
//! let map = Map::create(&MapOptions::new(MapType::HASH, 4, 8, 1024).name("counts"))?;
//! let counts = HashMap::<u32, u64, _>::new(&map)?;
//! counts.insert(&7, &1, ANY)?;
//! assert_eq!(counts.get(&7)?, Some(1));
//! assert_eq!(counts.get(&8)?, None); // absent is not an error
//! # Ok::<(), rawbpf::Error>(())
//! ```

mod arena;
#[cfg(feature = "tokio")]
mod async_io;
mod batch;
mod glue;
mod info;
mod mmap;
mod ops;
mod options;
mod perf_buffer;
mod pod;
mod ringbuf;
mod stack_trace;
mod storage;
mod typed;
mod typed_more;
mod typed_net;
mod types;
mod user_ringbuf;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

pub use crate::sys::MapMmap;
pub use arena::Arena;
#[cfg(feature = "tokio")]
pub use async_io::{AsyncPerfBuffer, AsyncRingBuf, AsyncUserRingBuf, OwnedPerfRecord};
pub use batch::BatchCursor;
pub use info::{MapIds, MapInfo, ObjectIds};
pub use ops::Keys;
pub use options::MapOptions;
pub use perf_buffer::{PerfBuffer, PerfBufferOptions, PerfRecord};
pub use pod::Pod;
pub use ringbuf::{RingBuf, RingBuffers, RingRecord};
pub use stack_trace::{
    BUILD_ID_FRAME_SIZE, BuildIdFrame, BuildIdStatus, StackTrace, parse_stack_ips,
};
pub use storage::{CgrpStorage, InodeStorage, SkStorage, TaskStorage, pidfd};
pub use typed::{Array, HashMap, PerCpuArray, PerCpuHashMap, PerCpuValues};
pub use typed_more::{BloomFilter, LpmKey, LpmTrie, MapOfMaps, ProgArray, Queue, Stack};
pub use typed_net::{CpuMap, DevMap, RedirectEntry, SockHash, SockMap, XskMap};
pub(crate) use types::extra_capability as map_type_capability;
pub use types::{ANY, MapFlags, MapType, UpdateFlags};
pub use user_ringbuf::{UserRecord, UserRingBuf};

pub(crate) use glue::{by_id_error, capability_missing, info_error, path_cstring, pin_error};
pub(crate) use options::object_name;
pub(crate) use pod::Buf;
pub(crate) use pod::{with_image, with_zeroed};

use crate::error::{Error, Result};

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`): the number of value slots
/// of a per-CPU map.
pub fn possible_cpus() -> Result<usize> {
    glue::possible_cpus()
}

/// Rounds a per-CPU value size up to the 8-byte slot the kernel copies per CPU.
pub const fn per_cpu_slot(value_size: u32) -> usize {
    (value_size as usize).div_ceil(8) * 8
}

/// A BPF map. Closing the last fd (and unpinning) frees it.
///
/// `Send + Sync`: the kernel serialises element operations on a map.
#[derive(Debug)]
pub struct Map {
    fd: crate::sys::MapFd,
    name: String,
    /// Whether [`Map::freeze`] was called through this handle.
    frozen: AtomicBool,
    /// Whether the fd was opened read-only or write-only (`BPF_F_RDONLY`/`WRONLY`).
    fd_flags: MapFlags,
}

impl Map {
    /// `BPF_MAP_CREATE`: creates a map.
    ///
    /// # Errors
    /// [`Error::MissingCapability`] without `CAP_BPF` (or `CAP_NET_ADMIN` for socket/device
    /// maps), [`Error::Syscall`] when the kernel refuses the attributes.
    pub fn create(opts: &MapOptions<'_>) -> Result<Map> {
        let name_bytes = options::object_name(&opts.name);
        let name = std::str::from_utf8(name_bytes.split(|b| *b == 0).next().unwrap_or(&[]))
            .unwrap_or("")
            .to_string();
        let args = crate::sys::MapCreateArgs {
            map_type: opts.map_type,
            key_size: opts.key_size,
            value_size: opts.value_size,
            max_entries: opts.max_entries,
            map_flags: opts.effective_flags(),
            inner_map: opts.inner_map,
            numa_node: opts.numa_node.unwrap_or(0),
            name: &name,
            map_ifindex: opts.ifindex,
            btf: opts.btf,
            btf_key_type_id: opts.btf_key_type_id,
            btf_value_type_id: opts.btf_value_type_id,
            btf_vmlinux_value_type_id: opts.btf_vmlinux_value_type_id,
            map_extra: opts.map_extra,
            value_type_btf_obj: opts.value_type_btf_obj,
            token: opts.token,
            excl_prog_hash: opts.excl_prog_hash.as_deref().unwrap_or(&[]),
        };
        let fd = crate::sys::map_create(&args).map_err(|errno| {
            let ctx = Some(format!("map \"{}\" of type {:?}", opts.name, opts.map_type));
            if errno == crate::sys::Errno::EPERM {
                let mut caps = vec!["CAP_BPF"];
                caps.extend(types::extra_capability(opts.map_type));
                if let Some(cap) = capability_missing(&caps) {
                    return Error::MissingCapability {
                        call: "BPF_MAP_CREATE",
                        capability: cap,
                        context: ctx,
                    };
                }
                if crate::sys::caps::effective_capabilities().is_ok() {
                    return Error::PolicyRefused {
                        call: "BPF_MAP_CREATE",
                        feature: None,
                        context: ctx,
                    };
                }
            }
            Error::syscall_ctx("BPF_MAP_CREATE", errno, ctx)
        })?;
        Ok(Map {
            fd,
            name,
            frozen: AtomicBool::new(false),
            fd_flags: MapFlags::empty(),
        })
    }

    /// Takes ownership of a map fd (from `OBJ_GET`, `GET_FD_BY_ID`, another process, …) and
    /// reads its type and sizes with `BPF_OBJ_GET_INFO_BY_FD`.
    pub fn from_fd(fd: OwnedFd) -> Result<Map> {
        Map::from_fd_flags(fd, MapFlags::empty())
    }

    fn from_fd_flags(fd: OwnedFd, fd_flags: MapFlags) -> Result<Map> {
        let info = MapInfo::of_fd(fd.as_fd())?;
        let fd = crate::sys::MapFd::from_fd(fd)
            .map_err(|e| Error::syscall("BPF_OBJ_GET_INFO_BY_FD", e))?;
        Ok(Map {
            fd,
            name: info.name,
            frozen: AtomicBool::new(false),
            fd_flags: fd_flags & (MapFlags::RDONLY | MapFlags::WRONLY),
        })
    }

    /// `BPF_OBJ_GET`: opens a map pinned at `path` in bpffs.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Map> {
        Map::from_pin_with(path, MapFlags::empty())
    }

    /// `BPF_OBJ_GET` with `file_flags` [`MapFlags::RDONLY`] or [`MapFlags::WRONLY`]: opens a
    /// pinned map read-only or write-only.
    pub fn from_pin_with(path: impl AsRef<Path>, access: MapFlags) -> Result<Map> {
        let path = path.as_ref();
        let c = path_cstring(path)?;
        let fd = crate::sys::obj_get(
            &c,
            crate::sys::ObjFlags::from_bits_truncate(access.bits()),
            None,
        )
        .map_err(|e| pin_error("BPF_OBJ_GET", path, e))?;
        Map::from_fd_flags(fd, access)
    }

    /// `BPF_MAP_GET_FD_BY_ID`: opens the map with this id.
    pub fn from_id(id: u32) -> Result<Map> {
        let fd = crate::sys::map_get_fd_by_id(id, crate::sys::ObjFlags::empty(), None)
            .map_err(|e| by_id_error("BPF_MAP_GET_FD_BY_ID", id, e))?;
        let info = MapInfo::of_fd(fd.as_fd())?;
        Ok(Map {
            fd,
            name: info.name,
            frozen: AtomicBool::new(false),
            fd_flags: MapFlags::empty(),
        })
    }

    /// `BPF_OBJ_PIN`: pins the map at `path` (in a bpffs mount) so it outlives this process.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let c = path_cstring(path)?;
        crate::sys::obj_pin(self.as_fd(), &c, None).map_err(|e| pin_error("BPF_OBJ_PIN", path, e))
    }

    /// `BPF_OBJ_GET_INFO_BY_FD`: what the kernel knows about the map.
    pub fn info(&self) -> Result<MapInfo> {
        MapInfo::of_fd(self.as_fd())
    }

    /// The ids of all maps loaded in the system (`BPF_MAP_GET_NEXT_ID`).
    pub fn ids() -> MapIds {
        MapIds::new(crate::sys::map_get_next_id, "BPF_MAP_GET_NEXT_ID")
    }

    /// The name given at creation (or read from the kernel).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The map type.
    #[inline]
    pub fn map_type(&self) -> MapType {
        self.fd.map_type()
    }

    /// Key size in bytes.
    #[inline]
    pub fn key_size(&self) -> u32 {
        self.fd.key_size()
    }

    /// Size of one value in bytes (one CPU's value for per-CPU maps).
    #[inline]
    pub fn value_size(&self) -> u32 {
        self.fd.value_size()
    }

    /// Bytes of one value buffer as user space passes it: `value_size`, or for per-CPU maps
    /// `possible_cpus × round_up(value_size, 8)`.
    #[inline]
    pub fn value_buf_size(&self) -> usize {
        self.fd.value_len()
    }

    /// `max_entries`.
    #[inline]
    pub fn max_entries(&self) -> u32 {
        self.fd.max_entries()
    }

    /// `map_flags`.
    pub fn flags(&self) -> MapFlags {
        self.fd.flags()
    }

    /// Duplicates the fd (the map lives while either is open).
    pub fn try_clone(&self) -> Result<Map> {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| Error::io("dup of a map fd", e))?;
        Ok(Map {
            fd,
            name: self.name.clone(),
            frozen: AtomicBool::new(self.frozen.load(Ordering::Relaxed)),
            fd_flags: self.fd_flags,
        })
    }

    /// A description for error messages.
    pub(crate) fn ctx(&self) -> Option<String> {
        Some(format!("map \"{}\"", self.name))
    }

    /// Turns an element operation's errno into an [`Error`], explaining an `EPERM` that comes
    /// from a frozen or read-only map.
    pub(crate) fn elem_error(&self, call: &'static str, errno: crate::sys::Errno) -> Error {
        if errno == crate::sys::Errno::EPERM || errno == crate::sys::Errno::EACCES {
            let writing = call != "BPF_MAP_LOOKUP_ELEM"
                && call != "BPF_MAP_GET_NEXT_KEY"
                && call != "BPF_MAP_LOOKUP_BATCH";
            let what = if writing {
                if self.fd_flags.contains(MapFlags::RDONLY) {
                    Some("this fd was opened read-only (BPF_F_RDONLY)".to_string())
                } else if self.frozen.load(Ordering::Relaxed) {
                    Some(
                        "the map is frozen (BPF_MAP_FREEZE): user space can no longer change it"
                            .to_string(),
                    )
                } else if self.fd.flags().contains(MapFlags::RDONLY) {
                    Some("the map was created read-only for user space (BPF_F_RDONLY)".to_string())
                } else {
                    Some(
                        "the map is frozen (BPF_MAP_FREEZE) or this fd is read-only: user space can no longer change it"
                            .to_string(),
                    )
                }
            } else if self.fd_flags.contains(MapFlags::WRONLY)
                || self.fd.flags().contains(MapFlags::WRONLY)
            {
                Some("the map or this fd is write-only for user space (BPF_F_WRONLY)".to_string())
            } else {
                None
            };
            if let Some(what) = what {
                return Error::Refused {
                    call,
                    errno,
                    context: self.ctx(),
                    what,
                };
            }
        }
        Error::syscall_ctx(call, errno, self.ctx())
    }

    /// The fd and layout as the sys layer wants them.
    #[inline]
    pub(crate) fn sys_fd(&self) -> &crate::sys::MapFd {
        &self.fd
    }
}

impl AsFd for Map {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Map {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.as_fd().as_raw_fd()
    }
}
