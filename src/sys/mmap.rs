//! Memory mappings: [`MapMmap`], the shared mapping of a `BPF_F_MMAPABLE` array map's values,
//! and [`ReadOnlyMapping`], a private read-only mapping of a sysfs BTF file.
//!
//! Both own their mapping and unmap it on drop. Neither hands out a Rust reference into memory
//! that someone else may change:
//! - A map's values change under the process's feet (BPF programs write them at any time, on
//!   any CPU), so [`MapMmap`] is only read and written by copying, word by word, with atomic
//!   accesses ([`MapMmap::read`], [`MapMmap::write`]). A `&[u8]` into it would be a data race
//!   in Rust's memory model.
//! - A sysfs BTF file never changes while it exists, so [`ReadOnlyMapping`] can deref to
//!   `&[u8]`; [`map_sysfs_file`] checks that the file is on sysfs before mapping it.

use std::os::fd::AsFd;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

use super::Errno;
use super::bpf::MapFd;
use super::flags::MapFlags;
use super::types::MapType;

/// The system page size.
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it only reads a configuration value.
    let r = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(r)
        .ok()
        .filter(|p| p.is_power_of_two())
        .unwrap_or(4096)
}

/// The size of the words [`MapMmap`] accesses the mapping in.
const WORD: usize = std::mem::size_of::<usize>();

/// A shared mapping (`mmap(2)`, `MAP_SHARED`) of the values of a `BPF_F_MMAPABLE`
/// `BPF_MAP_TYPE_ARRAY` map: the memory BPF programs read and write, without a syscall per
/// access. Global data (`.bss`, `.data`, `.rodata`) lives in such maps.
///
/// Element `i` starts at byte `i × value_stride()` (`value_size` rounded up to 8 bytes); the
/// mapping holds [`MapMmap::len`] bytes. It keeps the map alive (the kernel holds a reference
/// for the mapping) and is unmapped on drop.
///
/// # Access
/// BPF programs may write the memory at any time, so the mapping is never exposed as a slice:
/// [`MapMmap::read`] and [`MapMmap::write`] copy, bounds-checked, one machine word
/// (`usize`, aligned) at a time with atomic accesses. An aligned value no larger than a
/// word (a `u32` at a multiple of 4, a `u64` at a multiple of 8 on 64-bit) is therefore read
/// and written whole: it never mixes bytes from before and after a concurrent update by a
/// program. Larger values may. A partial-word write is a compare-and-swap of its word, so it
/// never undoes a program's concurrent write to the word's other bytes. Reads end with an
/// acquire fence and writes start with a release fence.
///
/// # Read-only mappings
/// The kernel refuses writable mappings of frozen maps (`EPERM`) and of maps created with
/// `BPF_F_RDONLY_PROG` (`EACCES`), and refuses to freeze a map while a writable mapping of it
/// exists (`EBUSY`): freeze first, then map with [`MapMmap::read_only`].
#[derive(Debug)]
pub struct MapMmap {
    /// Start of the mapping (page-aligned, so every `WORD`-multiple offset is aligned).
    ptr: NonNull<u8>,
    /// Bytes mapped: `len` rounded up to the page size.
    map_len: usize,
    /// Bytes of values: `max_entries × stride`, a multiple of 8 (so of `WORD`).
    len: usize,
    /// `round_up(value_size, 8)`.
    stride: usize,
    /// Whether the mapping is `PROT_WRITE`.
    writable: bool,
}

// SAFETY: the mapping is plain shared memory owned by this value, not tied to a thread; every
// access through `&self` is atomic (see `read`/`write`), so sharing and sending it between
// threads cannot create a data race.
unsafe impl Send for MapMmap {}
// SAFETY: as for `Send`: `&self` methods only perform atomic word accesses.
unsafe impl Sync for MapMmap {}

impl MapMmap {
    /// Maps the values of `map` readable and writable (`PROT_READ | PROT_WRITE`).
    ///
    /// # Errors
    /// Without a syscall: `EINVAL` if `map` is not a `BPF_MAP_TYPE_ARRAY` created with
    /// [`MapFlags::MMAPABLE`], `E2BIG` if its size overflows the address space. From the
    /// kernel: `EPERM` if the map is frozen, `EACCES` if it has [`MapFlags::RDONLY_PROG`] or
    /// the fd is read-only, `ENOTSUPP` if its values hold special fields (spin locks, timers,
    /// kptrs), `ENOMEM`.
    pub fn read_write(map: &MapFd) -> Result<MapMmap, Errno> {
        MapMmap::new(map, true)
    }

    /// Maps the values of `map` read-only (`PROT_READ`); works for frozen maps and maps with
    /// [`MapFlags::RDONLY_PROG`]. The kernel also forbids turning it writable later
    /// (`mprotect`).
    ///
    /// # Errors
    /// As [`MapMmap::read_write`], without the frozen/read-only cases.
    pub fn read_only(map: &MapFd) -> Result<MapMmap, Errno> {
        MapMmap::new(map, false)
    }

    fn new(map: &MapFd, writable: bool) -> Result<MapMmap, Errno> {
        if map.map_type() != MapType::ARRAY || !map.flags().contains(MapFlags::MMAPABLE) {
            return Err(Errno::EINVAL);
        }
        let stride = (map.value_size() as usize).div_ceil(8) * 8;
        let len = stride
            .checked_mul(map.max_entries() as usize)
            .ok_or(Errno::E2BIG)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let page = page_size();
        let map_len = len.checked_next_multiple_of(page).ok_or(Errno::E2BIG)?;
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let fd = std::os::fd::AsRawFd::as_raw_fd(&map.as_fd());
        // SAFETY: a new mapping at an address the kernel chooses (NULL hint, no MAP_FIXED), so
        // no existing memory is replaced. The kernel maps page offset 0 of an array map at its
        // first value and refuses (EINVAL) a length past the map's page-rounded value area,
        // so on success all `map_len` bytes are backed by the map's memory. MAP_SHARED is
        // required by the kernel for BPF maps.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), map_len, prot, libc::MAP_SHARED, fd, 0) };
        if p == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or(Errno::ENOMEM)?;
        Ok(MapMmap {
            ptr,
            map_len,
            len,
            stride,
            writable,
        })
    }

    /// Bytes of values that can be read and written: `max_entries × value_stride()`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always `false`: a map has at least one element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The distance between elements: `value_size` rounded up to 8 bytes.
    pub fn value_stride(&self) -> usize {
        self.stride
    }

    /// Whether the mapping is writable ([`MapMmap::read_write`]).
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    /// Checks `offset..offset + n` against the values; the first and last word indices.
    fn words(&self, offset: usize, n: usize) -> Result<std::ops::RangeInclusive<usize>, Errno> {
        let end = offset
            .checked_add(n)
            .filter(|e| *e <= self.len)
            .ok_or(Errno::from_raw(libc::ERANGE))?;
        Ok(offset / WORD..=(end - 1) / WORD)
    }

    /// The word at index `w`.
    ///
    /// `w` must be a word index within `len` (checked by the callers through `words`).
    fn word(&self, w: usize) -> &AtomicUsize {
        debug_assert!((w + 1) * WORD <= self.map_len);
        // SAFETY: `w * WORD + WORD <= len <= map_len` (callers index only words of checked
        // ranges, and `len` is a multiple of `WORD`), so the word lies inside the mapping,
        // which lives as long as `self`; it is `WORD`-aligned because the mapping is
        // page-aligned. `AtomicUsize` has the size and alignment of `usize` and is an
        // `UnsafeCell`, so a shared reference to it asserts nothing about the memory not
        // changing. All our accesses through it are atomic and of one size (`usize`), which
        // keeps this process's threads race-free among themselves; BPF programs' writes come
        // from the kernel, outside the Rust abstract machine. On a read-only mapping we only
        // ever `load(Relaxed)`: Rust documents relaxed loads no wider than a pointer as sound
        // on read-only memory.
        unsafe { &*self.ptr.as_ptr().add(w * WORD).cast::<AtomicUsize>() }
    }

    /// Copies `buf.len()` bytes starting at byte `offset` of the values into `buf`.
    ///
    /// # Errors
    /// `ERANGE` if `offset + buf.len()` exceeds [`MapMmap::len`].
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.is_empty() {
            return if offset <= self.len {
                Ok(())
            } else {
                Err(Errno::from_raw(libc::ERANGE))
            };
        }
        let mut pos = offset;
        let mut out = 0;
        for w in self.words(offset, buf.len())? {
            let bytes = self.word(w).load(Ordering::Relaxed).to_ne_bytes();
            let from = pos - w * WORD;
            let n = (WORD - from).min(buf.len() - out);
            buf[out..out + n].copy_from_slice(&bytes[from..from + n]);
            out += n;
            pos += n;
        }
        fence(Ordering::Acquire);
        Ok(())
    }

    /// Reads `n` bytes at `offset` into a new vector.
    ///
    /// # Errors
    /// As [`MapMmap::read`].
    pub fn read_vec(&self, offset: usize, n: usize) -> Result<Vec<u8>, Errno> {
        let mut v = vec![0; n];
        self.read(offset, &mut v)?;
        Ok(v)
    }

    /// Copies `data` into the values starting at byte `offset`.
    ///
    /// # Errors
    /// `EACCES` on a read-only mapping, `ERANGE` if `offset + data.len()` exceeds
    /// [`MapMmap::len`].
    pub fn write(&self, offset: usize, data: &[u8]) -> Result<(), Errno> {
        if !self.writable {
            return Err(Errno::EACCES);
        }
        if data.is_empty() {
            return if offset <= self.len {
                Ok(())
            } else {
                Err(Errno::from_raw(libc::ERANGE))
            };
        }
        let words = self.words(offset, data.len())?;
        fence(Ordering::Release);
        let mut pos = offset;
        let mut inp = 0;
        for w in words {
            let from = pos - w * WORD;
            let n = (WORD - from).min(data.len() - inp);
            let chunk = &data[inp..inp + n];
            let word = self.word(w);
            if n == WORD {
                let mut b = [0u8; WORD];
                b.copy_from_slice(chunk);
                word.store(usize::from_ne_bytes(b), Ordering::Relaxed);
            } else {
                // Keep the word's other bytes: a program may be writing them right now.
                let mut cur = word.load(Ordering::Relaxed);
                loop {
                    let mut b = cur.to_ne_bytes();
                    b[from..from + n].copy_from_slice(chunk);
                    match word.compare_exchange_weak(
                        cur,
                        usize::from_ne_bytes(b),
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => break,
                        Err(now) => cur = now,
                    }
                }
            }
            inp += n;
            pos += n;
        }
        Ok(())
    }
}

impl Drop for MapMmap {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`map_len` are exactly the mapping `new` created, owned by `self` and
        // unmapped only here; no reference into it outlives `self` (`word` borrows `self`).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.map_len);
        }
    }
}
