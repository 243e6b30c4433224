//! The small primitives the event-buffer readers stand on: [`SharedMapping`], a shared
//! mapping of a BPF ring buffer or perf ring (read word by word with atomics, records borrowed
//! as slices), and [`EventSet`], an epoll set that waits on several buffers at once.
//!
//! Everything here is about memory another party writes: the kernel (a BPF program's
//! `bpf_ringbuf_submit`, `bpf_perf_event_output`) on one side, this process on the other.
//! The positions and record headers are only ever accessed through [`AtomicU32`] and
//! [`AtomicU64`] references, which are sound over shared memory. Record bytes are handed out
//! as `&[u8]` / `&mut [u8]` only through the `unsafe` [`SharedMapping::bytes`] and
//! [`SharedMapping::bytes_mut`], whose callers promise (by the ring protocol) that nobody
//! writes those bytes while the slice lives. Every accessor checks its range against the
//! mapping, so a corrupt position or length read from the ring can never turn into an
//! out-of-bounds access: it comes back as `None`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};

use super::Errno;

/// The system page size (4096 if `sysconf` says something that is not a power of two).
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it only reads a configuration value.
    let r = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(r)
        .ok()
        .filter(|p| p.is_power_of_two())
        .unwrap_or(4096)
}

/// A `MAP_SHARED` mapping of part of an fd (a ring buffer map, a perf event), owned and
/// unmapped on drop.
#[derive(Debug)]
pub struct SharedMapping {
    /// Start of the mapping (page-aligned).
    ptr: NonNull<u8>,
    /// Bytes mapped.
    len: usize,
}

// SAFETY: the mapping is plain shared memory owned by this value, not tied to a thread. Safe
// accessors only hand out atomics; the unsafe slice accessors put the burden of exclusion on
// their callers, whatever thread they run on.
unsafe impl Send for SharedMapping {}
// SAFETY: as for `Send`.
unsafe impl Sync for SharedMapping {}

impl SharedMapping {
    /// `mmap(NULL, len, PROT_READ [| PROT_WRITE], MAP_SHARED, fd, offset)`.
    ///
    /// # Errors
    /// `EINVAL` for a zero length or an offset that is not page-aligned; the `mmap(2)` errno
    /// (the kernel refuses, e.g., a writable mapping of a ring buffer's producer pages with
    /// `EPERM`, and a length past the object with `EINVAL`).
    pub fn map(
        fd: BorrowedFd<'_>,
        len: usize,
        offset: usize,
        writable: bool,
    ) -> Result<Self, Errno> {
        if len == 0 || offset % page_size() != 0 {
            return Err(Errno::EINVAL);
        }
        let off = libc::off_t::try_from(offset).map_err(|_| Errno::EINVAL)?;
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        // SAFETY: a new mapping at an address the kernel chooses (NULL hint, no MAP_FIXED), so
        // no existing memory is replaced; on success the kernel backs all `len` bytes (it
        // refuses lengths past the object with EINVAL).
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                off,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Errno::last());
        }
        let ptr = NonNull::new(p.cast::<u8>()).ok_or(Errno::ENOMEM)?;
        Ok(SharedMapping { ptr, len })
    }

    /// Bytes mapped.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The start of the mapping (page-aligned), for readers that prove their offsets in bounds
    /// once instead of checking each access.
    #[inline(always)]
    pub fn as_ptr(&self) -> *const u8 {
        self.ptr.as_ptr()
    }

    /// Always `false`: a mapping has at least one byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `off..off + n` lies inside the mapping and `off` is a multiple of `align`.
    #[inline(always)]
    fn fits(&self, off: usize, n: usize, align: usize) -> bool {
        off % align == 0 && off <= self.len && n <= self.len - off
    }

    /// The `u64` at byte `off` (a multiple of 8), or `None` outside the mapping.
    #[inline(always)]
    pub fn u64_at(&self, off: usize) -> Option<&AtomicU64> {
        if !self.fits(off, 8, 8) {
            return None;
        }
        // SAFETY: `off..off + 8` is inside the live mapping (checked), which lives as long as
        // `self`, and 8-aligned (the mapping is page-aligned, `off` a multiple of 8).
        // `AtomicU64` is an `UnsafeCell`, so the reference asserts nothing about the memory not
        // changing; all accesses through it are atomic. On a read-only mapping callers only
        // load (the kernel enforces PROT_READ: a store would fault, never corrupt memory).
        Some(unsafe { &*self.ptr.as_ptr().add(off).cast::<AtomicU64>() })
    }

    /// The `u32` at byte `off` (a multiple of 4), or `None` outside the mapping.
    #[inline(always)]
    pub fn u32_at(&self, off: usize) -> Option<&AtomicU32> {
        if !self.fits(off, 4, 4) {
            return None;
        }
        // SAFETY: as in `u64_at`, with 4 bytes and 4-alignment.
        Some(unsafe { &*self.ptr.as_ptr().add(off).cast::<AtomicU32>() })
    }

    /// The bytes `off..off + n`, or `None` outside the mapping.
    ///
    /// # Safety
    /// Nothing may write these bytes while the returned slice lives: by the ring protocol,
    /// they are a committed record between the consumer and the producer position, which the
    /// producer does not touch until the consumer position moves past them, and the caller
    /// does not move it while the slice lives.
    #[inline(always)]
    pub unsafe fn bytes(&self, off: usize, n: usize) -> Option<&[u8]> {
        if !self.fits(off, n, 1) {
            return None;
        }
        // SAFETY: in bounds of the live mapping (checked); immutability for the slice's life
        // is the caller's promise.
        Some(unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(off), n) })
    }

    /// The bytes `off..off + n`, writable, or `None` outside the mapping.
    ///
    /// # Safety
    /// The mapping must be writable, and nothing else may read or write these bytes while the
    /// returned slice lives (a reserved, uncommitted record of a user ring buffer, which the
    /// kernel does not read before it is submitted), and the caller must not create another
    /// reference to them meanwhile.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn bytes_mut(&self, off: usize, n: usize) -> Option<&mut [u8]> {
        if !self.fits(off, n, 1) {
            return None;
        }
        // SAFETY: in bounds of the live mapping (checked); writability and exclusivity for
        // the slice's life are the caller's promise.
        Some(unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(off), n) })
    }

    /// A ring laid out as the kernel lays out a BPF ring buffer, in anonymous memory, for
    /// tests that corrupt it: a one-page "consumer" mapping, and a "producer" mapping of one
    /// page followed by `data` bytes mapped twice (the second copy aliases the first).
    #[cfg(test)]
    pub(crate) fn fake_ring(data: usize) -> (SharedMapping, SharedMapping) {
        use std::os::fd::FromRawFd;
        let page = page_size();
        assert!(data.is_power_of_two() && data % page == 0);
        let anon = |len: usize| {
            // SAFETY: a fresh private anonymous mapping at an address the kernel picks.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED);
            SharedMapping {
                ptr: NonNull::new(p.cast()).unwrap(),
                len,
            }
        };
        let cons = anon(page);
        let prod = anon(page + 2 * data);
        // SAFETY: memfd_create with a valid NUL-terminated name; the fd is ours.
        let mfd = unsafe { libc::memfd_create(c"rawbpf-fake-ring".as_ptr(), libc::MFD_CLOEXEC) };
        assert!(mfd >= 0);
        // SAFETY: a fresh fd nothing else owns.
        let mfd = unsafe { std::os::fd::OwnedFd::from_raw_fd(mfd) };
        nix::unistd::ftruncate(&mfd, data as libc::off_t).unwrap();
        for copy in 0..2 {
            // SAFETY: MAP_FIXED replaces pages inside `prod`, a mapping this function owns and
            // that nothing references yet; both copies map the same memfd pages.
            let p = unsafe {
                libc::mmap(
                    prod.ptr.as_ptr().add(page + copy * data).cast(),
                    data,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    mfd.as_raw_fd(),
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED);
        }
        (cons, prod)
    }

    /// Anonymous shared memory of `len` bytes, for tests that build a perf ring by hand.
    #[cfg(test)]
    pub(crate) fn fake(len: usize) -> SharedMapping {
        // SAFETY: a fresh anonymous mapping at an address the kernel picks.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        SharedMapping {
            ptr: NonNull::new(p.cast()).unwrap(),
            len,
        }
    }
}

impl Drop for SharedMapping {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` are exactly the mapping this value created and owns; every
        // reference into it borrows `self`, so none outlives this.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// An epoll set: the fds of several buffers, each with a token, waited on together.
#[derive(Debug)]
pub struct EventSet {
    epoll: Epoll,
}

impl EventSet {
    /// `epoll_create1(EPOLL_CLOEXEC)`.
    pub fn new() -> Result<Self, Errno> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(Errno::from)?;
        Ok(EventSet { epoll })
    }

    /// Adds `fd`, level-triggered, for readability (`writable == false`, `EPOLLIN`) or
    /// writability (`EPOLLOUT`); `token` comes back from [`EventSet::wait`].
    pub fn add(&self, fd: BorrowedFd<'_>, token: u64, writable: bool) -> Result<(), Errno> {
        let flags = if writable {
            EpollFlags::EPOLLOUT
        } else {
            EpollFlags::EPOLLIN
        };
        self.epoll
            .add(fd, EpollEvent::new(flags, token))
            .map_err(Errno::from)
    }

    /// Waits until an fd is ready or `timeout` passes (`None`: forever); calls `ready` with
    /// the token of each ready fd. Returns how many were ready (0 on timeout or on a signal).
    pub fn wait(
        &self,
        timeout: Option<Duration>,
        mut ready: impl FnMut(u64),
    ) -> Result<usize, Errno> {
        let mut evs = [EpollEvent::empty(); 32];
        match self.epoll.wait(&mut evs, timeout_ms(timeout)) {
            Ok(n) => {
                for e in &evs[..n] {
                    ready(e.data());
                }
                Ok(n)
            }
            Err(nix::errno::Errno::EINTR) => Ok(0),
            Err(e) => Err(Errno::from(e)),
        }
    }
}

impl AsFd for EventSet {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.epoll.0.as_fd()
    }
}

/// `poll(2)` on one fd for readability (`writable == false`) or writability, for at most
/// `timeout` (`None`: forever). Returns whether it is ready (`false` on timeout or a signal).
pub fn wait_fd(
    fd: BorrowedFd<'_>,
    writable: bool,
    timeout: Option<Duration>,
) -> Result<bool, Errno> {
    use nix::poll::{PollFd, PollFlags};
    let flags = if writable {
        PollFlags::POLLOUT
    } else {
        PollFlags::POLLIN
    };
    let mut fds = [PollFd::new(fd, flags)];
    match nix::poll::poll(&mut fds, timeout_ms(timeout)) {
        Ok(n) => Ok(n > 0),
        Err(nix::errno::Errno::EINTR) => Ok(false),
        Err(e) => Err(Errno::from(e)),
    }
}

/// A timeout in whole milliseconds, rounded up (a sub-millisecond wait must not become a
/// busy loop), capped at `i32::MAX`; `None` is "forever".
fn timeout_ms(timeout: Option<Duration>) -> EpollTimeout {
    match timeout {
        None => EpollTimeout::NONE,
        Some(d) => {
            let ms = d.as_nanos().div_ceil(1_000_000);
            EpollTimeout::try_from(ms.min(i32::MAX as u128) as u32).unwrap_or(EpollTimeout::MAX)
        }
    }
}
