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
use std::path::Path;
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

    /// Maps the pages of an arena (`BPF_MAP_TYPE_ARENA`, Linux 6.9) readable and writable:
    /// `max_entries` pages, at `addr` when the arena has a fixed user address (its
    /// `map_extra`; 0 lets the kernel choose, and the arena's address is then this mapping's).
    /// [`MapMmap::value_stride`] is the page size; [`MapMmap::addr`] the user address of the
    /// first page (what arena pointers in programs hold).
    ///
    /// A page no program has allocated is allocated (zeroed) by the kernel on first access.
    /// Arenas created with `BPF_F_SEGV_ON_FAULT` instead kill the process on such an access,
    /// so they are refused here (`EOPNOTSUPP`): the reads and writes of this type must never
    /// fault.
    ///
    /// # Errors
    /// Without a syscall: `EINVAL` if `map` is not an arena, `EOPNOTSUPP` for
    /// `BPF_F_SEGV_ON_FAULT`, `E2BIG` if its size overflows. From the kernel: `EBUSY` when the
    /// arena is already mapped elsewhere (its address is fixed by the first mapping), `EPERM`
    /// or `EACCES` when a security policy refuses, `ENOMEM`. `EADDRINUSE` when the kernel placed
    /// the mapping somewhere other than `addr` (it is unmapped again).
    pub fn arena(map: &MapFd, addr: u64) -> Result<MapMmap, Errno> {
        if map.map_type() != MapType::ARENA {
            return Err(Errno::EINVAL);
        }
        if map.flags().contains(MapFlags::SEGV_ON_FAULT) {
            return Err(Errno::EOPNOTSUPP);
        }
        let page = page_size();
        let len = page
            .checked_mul(map.max_entries() as usize)
            .ok_or(Errno::E2BIG)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let hint = usize::try_from(addr).map_err(|_| Errno::E2BIG)?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&map.as_fd());
        // SAFETY: no MAP_FIXED: the address is only a hint, so the kernel never replaces an
        // existing mapping; it places the arena at its fixed user address or refuses. On
        // success all `len` bytes (max_entries pages) are the arena's shared pages, faulted
        // in (allocated zeroed) on first access because SEGV_ON_FAULT was checked above to be
        // off.
        let p = unsafe {
            libc::mmap(
                hint as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or(Errno::ENOMEM)?;
        let mapping = MapMmap {
            ptr,
            map_len: len,
            len,
            stride: page,
            writable: true,
        };
        if hint != 0 && mapping.addr() != addr {
            return Err(Errno::from_raw(libc::EADDRINUSE));
        }
        Ok(mapping)
    }

    /// The user address of the first mapped byte.
    pub fn addr(&self) -> u64 {
        self.ptr.as_ptr().addr() as u64
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

/// The directory whose sysfs files [`map_sysfs_file`] maps: the kernel's BTF.
const SYSFS_BTF_DIR: &str = "/sys/kernel/btf/";

/// A private, read-only mapping of a whole file whose contents never change, made by
/// [`map_sysfs_file`]. Derefs to the file's bytes; unmapped on drop.
pub struct ReadOnlyMapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is immutable memory owned by this value (see `map_sysfs_file`), not
// tied to a thread; sharing `&[u8]` into it between threads is as sound as for any `&[u8]`.
unsafe impl Send for ReadOnlyMapping {}
// SAFETY: as for `Send`: only shared reads of immutable bytes.
unsafe impl Sync for ReadOnlyMapping {}

impl std::fmt::Debug for ReadOnlyMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyMapping")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for ReadOnlyMapping {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr` is the start of a live `PROT_READ` mapping of `len` bytes, owned by
        // `self` and unmapped only in `drop`, so valid for reads for the borrow of `self`. Its
        // contents are a sysfs BTF file, which the kernel never changes or truncates (checked
        // by `map_sysfs_file`), and the mapping is private and never written by this crate,
        // so the bytes stay immutable for the life of the slice.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl AsRef<[u8]> for ReadOnlyMapping {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Drop for ReadOnlyMapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping `map_sysfs_file` created, owned by
        // `self`; every slice handed out borrows `self`, so none outlives this.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// Maps a kernel BTF file (`/sys/kernel/btf/vmlinux`, `/sys/kernel/btf/<module>`) private and
/// read-only, without copying it: the pages are the kernel's own.
///
/// Sound because those files are immutable: the kernel never changes or truncates a BTF
/// file while it exists. The function makes sure that is what it maps: the opened file must
/// be on sysfs (`fstatfs` magic `SYSFS_MAGIC`) and resolve (after symlinks,
/// `/proc/self/fd`) to a file directly in `/sys/kernel/btf/`. Other sysfs files can be
/// mappings of device memory that changes under the reader, so they are refused.
///
/// # Errors
/// The `open(2)`/`fstatfs(2)`/`mmap(2)` error; `EINVAL` for a file that is not a sysfs BTF
/// file, or is empty. Older kernels cannot mmap these files (`EINVAL`, `ENODEV`, …): read the
/// file instead.
pub fn map_sysfs_file(path: impl AsRef<Path>) -> std::io::Result<ReadOnlyMapping> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path.as_ref())?;
    let fs = nix::sys::statfs::fstatfs(&file).map_err(std::io::Error::from)?;
    if fs.filesystem_type() != nix::sys::statfs::SYSFS_MAGIC {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let target = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let in_btf_dir = target
        .to_str()
        .and_then(|t| t.strip_prefix(SYSFS_BTF_DIR))
        .is_some_and(|name| !name.is_empty() && !name.contains('/'));
    if !in_btf_dir {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| std::io::Error::from_raw_os_error(libc::E2BIG))?;
    if len == 0 {
        return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
    }
    // SAFETY: a new mapping at an address the kernel chooses (no MAP_FIXED), so no existing
    // memory is replaced; `len` is the file's size and the kernel maps the whole BTF blob
    // (it refuses a length past it). The kernel refuses shared mappings of its BTF (EACCES):
    // private and read-only it is.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_POPULATE,
            file.as_raw_fd(),
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    let ptr = NonNull::new(p.cast::<u8>())
        .ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOMEM))?;
    Ok(ReadOnlyMapping { ptr, len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysfs_btf_is_mapped_and_other_files_are_refused() {
        let path = "/sys/kernel/btf/vmlinux";
        if !Path::new(path).exists() {
            return;
        }
        match map_sysfs_file(path) {
            Ok(m) => {
                let bytes = std::fs::read(path).unwrap();
                assert_eq!(&m[..], &bytes[..]);
                assert_eq!(&m[..2], &0xeb9fu16.to_le_bytes());
            }
            // Kernels before 6.10 cannot mmap it.
            Err(e) => assert!(e.raw_os_error().is_some(), "{e}"),
        }
        let einval = Some(libc::EINVAL);
        // Not on sysfs.
        assert_eq!(
            map_sysfs_file("/proc/self/status")
                .unwrap_err()
                .raw_os_error(),
            einval
        );
        assert_eq!(
            map_sysfs_file("Cargo.toml").unwrap_err().raw_os_error(),
            einval
        );
        // On sysfs, but not a BTF file.
        let other = "/sys/kernel/mm/transparent_hugepage/enabled";
        if Path::new(other).exists() {
            assert_eq!(map_sysfs_file(other).unwrap_err().raw_os_error(), einval);
        }
        assert!(map_sysfs_file("/sys/kernel/btf/no such module").is_err());
    }
}
