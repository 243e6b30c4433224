//! [`Arena`]: typed access to the memory of an arena map (`BPF_MAP_TYPE_ARENA`, Linux 6.9).
//!
//! An arena is memory shared between BPF programs and user space: up to 4 GiB of pages that
//! programs allocate (`bpf_arena_alloc_pages`) and address with `__arena` pointers, which hold
//! user-space addresses inside the arena's mapping. [`Arena`] maps the arena (at its fixed
//! address when the map has one in `map_extra`) and reads and writes [`Pod`] values at byte
//! offsets, or at the addresses programs hand out ([`Arena::offset_of`]).
//!
//! Accesses copy, word by word, with atomic loads and stores (see [`MapMmap`]): programs may
//! write the memory at any time. A page nobody allocated yet is allocated, zeroed, by the
//! kernel on first access from user space; arenas created with
//! [`MapFlags::SEGV_ON_FAULT`] are refused, since such an access would kill the process.

use std::borrow::Borrow;

use super::{Buf, Map, MapFlags, MapOptions, MapType, Pod};
use crate::error::{Error, Result};
use crate::sys::{Errno, MapMmap};

/// An arena map and its mapping in this process.
#[derive(Debug)]
pub struct Arena<M = Map> {
    map: M,
    mem: MapMmap,
}

impl Arena<Map> {
    /// Creates an arena of `pages` pages named `name`, at user address `addr` if given (what
    /// `__uint(map_extra, addr)` does in a BPF object; programs that allocate pages need the
    /// address fixed before they load), and maps it.
    ///
    /// # Errors
    /// As [`Map::create`] (a kernel without arenas: `EINVAL`; a security policy may refuse
    /// with `EPERM` even to root) and [`Arena::new`].
    pub fn create(name: &str, pages: u32, addr: Option<u64>) -> Result<Self> {
        let mut opts = MapOptions::new(MapType::ARENA, 0, 0, pages)
            .name(name)
            .flags(MapFlags::MMAPABLE);
        if let Some(a) = addr {
            opts = opts.map_extra(a);
        }
        Arena::new(Map::create(&opts)?)
    }
}

impl<M: Borrow<Map>> Arena<M> {
    /// Maps the arena `map` read-write. An arena is mapped once per process at its user
    /// address (`map_extra`, or wherever the first mapping of it went).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `map` is not an arena or was created with
    /// [`MapFlags::SEGV_ON_FAULT`]; [`Error::Syscall`] (call `"mmap"`) if the kernel refuses,
    /// e.g. `EBUSY` when it is already mapped at another address.
    pub fn new(map: M) -> Result<Self> {
        let m = map.borrow();
        if m.map_type() != MapType::ARENA {
            return Err(Error::InvalidArgument(format!(
                "map \"{}\" is a {:?}, not an ARENA",
                m.name(),
                m.map_type()
            )));
        }
        if m.flags().contains(MapFlags::SEGV_ON_FAULT) {
            return Err(Error::InvalidArgument(format!(
                "arena \"{}\" was created with BPF_F_SEGV_ON_FAULT: an access to a page no \
                 program allocated would kill the process, so rawbpf does not map it",
                m.name()
            )));
        }
        let addr = m.info()?.map_extra;
        let mem = MapMmap::arena(m.sys_fd(), addr).map_err(|errno| {
            let hint = match errno {
                e if e == Errno::EBUSY => {
                    Some("the arena is already mapped at another address (one mapping per arena address)")
                }
                e if e.raw() == libc::EADDRINUSE => {
                    Some("the arena's fixed address (map_extra) is taken by another mapping")
                }
                e if e == Errno::EPERM || e == Errno::EACCES => {
                    Some("a security policy (BPF LSM, SELinux, lockdown) refuses the mapping")
                }
                _ => None,
            };
            Error::Syscall {
                call: "mmap",
                errno,
                context: m.ctx(),
                hint,
            }
        })?;
        Ok(Arena { map, mem })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// The mapping (byte-level reads and writes, [`MapMmap::read`]/[`MapMmap::write`]).
    pub fn mem(&self) -> &MapMmap {
        &self.mem
    }

    /// The user address of the arena's first byte: arena pointers of programs are this plus
    /// an offset.
    pub fn addr(&self) -> u64 {
        self.mem.addr()
    }

    /// The size in bytes (pages × page size).
    pub fn len(&self) -> usize {
        self.mem.len()
    }

    /// Always `false`: an arena has at least one page.
    pub fn is_empty(&self) -> bool {
        self.mem.is_empty()
    }

    /// The page size.
    pub fn page_size(&self) -> usize {
        self.mem.value_stride()
    }

    /// The offset of the arena address `ptr` (a pointer a program stored), `None` if it is
    /// outside the arena.
    pub fn offset_of(&self, ptr: u64) -> Option<usize> {
        let off = usize::try_from(ptr.checked_sub(self.addr())?).ok()?;
        (off < self.len()).then_some(off)
    }

    /// The `V` at byte `offset`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `offset + V::SIZE` is past the end.
    pub fn read<V: Pod>(&self, offset: usize) -> Result<V> {
        let mut b = Buf::zeroed(V::SIZE);
        self.mem
            .read(offset, b.as_mut())
            .map_err(|_| self.range_error(offset, V::SIZE))?;
        Ok(V::read_from(b.as_ref()))
    }

    /// Writes `value` at byte `offset`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `offset + V::SIZE` is past the end.
    pub fn write<V: Pod>(&self, offset: usize, value: &V) -> Result<()> {
        self.mem
            .write(offset, Buf::of(value).as_ref())
            .map_err(|_| self.range_error(offset, V::SIZE))
    }

    /// The `V` at the arena address `ptr` (a pointer a program stored).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `ptr` is outside the arena or the value runs past it.
    pub fn read_ptr<V: Pod>(&self, ptr: u64) -> Result<V> {
        let off = self.ptr_offset(ptr)?;
        self.read(off)
    }

    /// Writes `value` at the arena address `ptr`.
    ///
    /// # Errors
    /// As [`Arena::read_ptr`].
    pub fn write_ptr<V: Pod>(&self, ptr: u64, value: &V) -> Result<()> {
        let off = self.ptr_offset(ptr)?;
        self.write(off, value)
    }

    fn ptr_offset(&self, ptr: u64) -> Result<usize> {
        self.offset_of(ptr).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "address {ptr:#x} is outside arena \"{}\" ({:#x}..{:#x})",
                self.map().name(),
                self.addr(),
                self.addr() + self.len() as u64
            ))
        })
    }

    fn range_error(&self, offset: usize, n: usize) -> Error {
        Error::InvalidArgument(format!(
            "{n} bytes at offset {offset} run past the end of arena \"{}\" ({} bytes)",
            self.map().name(),
            self.len()
        ))
    }
}
