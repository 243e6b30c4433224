//! [`RingBuf`]: the consumer of a `BPF_MAP_TYPE_RINGBUF`, and [`RingBuffers`], several of them
//! on one epoll set.
//!
//! # Layout and protocol (kernel `kernel/bpf/ringbuf.c`)
//! The map's fd maps as: one *consumer page* (offset 0, read-write for user space) whose first
//! `u64` is the consumer position, then one *producer page* (read-only) whose first `u64` is
//! the producer position, then the data area of `max_entries` bytes (a power of two), mapped
//! **twice** in a row, so that a record that wraps around the end is one contiguous slice.
//!
//! Each record starts at an 8-byte-aligned position with an 8-byte header: a `u32` length
//! whose top bits are *busy* (reserved, not yet committed) and *discard*, and a `u32` page
//! offset the consumer ignores. The record occupies `round_up(len + 8, 8)` bytes. A producer
//! advances the producer position when it *reserves*, and clears the busy bit (with a full
//! barrier) when it commits. The consumer reads records between the two positions, stops at the
//! first busy one, and stores the consumer position back, which frees the space.
//!
//! The kernel wakes a sleeping consumer only when the record it commits sits exactly at the
//! consumer position (unless the program passes `BPF_RB_FORCE_WAKEUP`/`NO_WAKEUP`), so before
//! going to sleep [`RingBuf::poll`] publishes its position, issues a full fence and reads the
//! producer position again: either it sees the new record, or the kernel's commit sees the
//! published position and wakes it.
//!
//! # Bad rings
//! A buggy or hostile writer of the shared pages cannot make the reader misbehave: a producer
//! position that goes backwards or runs more than the ring's size ahead, a record whose length
//! points past the producer position, are reported as [`Error::CorruptBuffer`], and every
//! access is bounds-checked against the mapping.

#![allow(unsafe_code)]

use std::collections::HashSet;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering, fence};
use std::time::{Duration, Instant};

use super::{Map, MapType};
use crate::error::{Error, Result};
use crate::sys::ring::{EventSet, SharedMapping, page_size, wait_fd};

/// Header bit: the record is reserved, not committed yet.
pub(crate) const BUSY_BIT: u32 = 1 << 31;
/// Header bit: the record was discarded.
pub(crate) const DISCARD_BIT: u32 = 1 << 30;
/// Size of a record header.
pub(crate) const HDR_SZ: u64 = 8;

/// The bytes a record of `len` bytes occupies.
#[inline(always)]
pub(crate) fn record_span(len: u64) -> u64 {
    (len + HDR_SZ + 7) & !7
}

/// The maps this process reads or writes a ring of: a ring buffer has one consumer (a user
/// ring buffer one producer). A second one in the same process would move the position while
/// the first still lends out records, letting the kernel overwrite borrowed bytes.
static CLAIMED: Mutex<Option<HashSet<u32>>> = Mutex::new(None);

/// A map id claimed in [`CLAIMED`], released on drop.
#[derive(Debug)]
pub(crate) struct Claim(pub(crate) u32);

impl Claim {
    /// Claims `map` for this process's only consumer (or producer).
    pub(crate) fn take(map: &Map, role: &str) -> Result<Claim> {
        let id = map.info()?.id;
        let mut set = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        if !set.get_or_insert_with(HashSet::new).insert(id) {
            return Err(Error::InvalidArgument(format!(
                "map \"{}\" (id {id}) already has a {role} in this process: a ring has one \
                 {role} at a time (drop the other one first)",
                map.name()
            )));
        }
        Ok(Claim(id))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        let mut set = CLAIMED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = set.as_mut() {
            s.remove(&self.0);
        }
    }
}

/// The maps of a ring and the consumer's state, without the fd: what the record loop needs.
/// (Separate from [`RingBuf`] so that tests can run it over a ring they build and corrupt.)
#[derive(Debug)]
pub(crate) struct RingCore {
    /// The consumer page (read-write).
    cons_map: SharedMapping,
    /// The producer page followed by the data area, twice (read-only).
    prod_map: SharedMapping,
    /// Offset of the data area in `prod_map` (one page).
    data_off: usize,
    /// Data area size − 1.
    mask: u64,
    /// Where the next record starts (consumed up to here).
    cons: u64,
    /// Consumer position last stored in the consumer page.
    published: u64,
    /// Producer position last read.
    prod: u64,
    /// For error messages.
    name: String,
}

/// A committed record found by [`RingCore::next`]: where its bytes are and where the next
/// record starts.
#[derive(Clone, Copy, Debug)]
struct Found {
    off: usize,
    len: usize,
    next: u64,
}

impl RingCore {
    /// Over mappings laid out as the kernel does: `cons_map` one page, `prod_map` one page and
    /// `2 × size` bytes of data.
    pub(crate) fn new(
        cons_map: SharedMapping,
        prod_map: SharedMapping,
        size: usize,
        name: String,
    ) -> Result<RingCore> {
        let page = page_size();
        if !size.is_power_of_two() || prod_map.len() < page + 2 * size || cons_map.len() < 8 {
            return Err(Error::InvalidArgument(format!(
                "{name}: data size {size} is not a power of two or the mappings are too short"
            )));
        }
        let mut core = RingCore {
            cons_map,
            prod_map,
            data_off: page,
            mask: size as u64 - 1,
            cons: 0,
            published: 0,
            prod: 0,
            name,
        };
        let cons = core.cons_pos().load(Ordering::Acquire);
        if cons % 8 != 0 {
            return Err(core.corrupt(format!("consumer position {cons:#x} is not 8-byte aligned")));
        }
        core.cons = cons;
        core.published = cons;
        core.prod = cons;
        // A producer position behind the consumer, or too far ahead, is caught right away.
        core.read_prod()?;
        Ok(core)
    }

    #[inline(always)]
    fn cons_pos(&self) -> &std::sync::atomic::AtomicU64 {
        // Offset 0 of a mapping of at least 8 bytes (checked in `new`).
        self.cons_map.u64_at(0).expect("consumer page")
    }

    /// Data area size.
    pub(crate) fn size(&self) -> u64 {
        self.mask + 1
    }

    fn corrupt(&self, what: String) -> Error {
        Error::CorruptBuffer {
            buffer: self.name.clone(),
            what,
        }
    }

    /// Reads the producer position (acquire) and checks it: never behind what was read before
    /// (nor behind the consumer), never more than the ring's size ahead of the consumer.
    #[inline(always)]
    fn read_prod(&mut self) -> Result<u64> {
        let p = match self.prod_map.u64_at(0) {
            Some(a) => a.load(Ordering::Acquire),
            None => return Err(self.corrupt("no producer page".into())),
        };
        if p < self.prod || p < self.cons || p - self.cons > self.size() {
            return Err(self.bad_prod(p));
        }
        self.prod = p;
        Ok(p)
    }

    #[cold]
    #[inline(never)]
    fn bad_prod(&self, p: u64) -> Error {
        self.corrupt(format!(
            "producer position {p:#x} went backwards or runs more than the ring's {} bytes \
             ahead (consumer at {:#x}, producer was at {:#x})",
            self.size(),
            self.cons,
            self.prod
        ))
    }

    /// The next committed, non-discarded record at or after `self.cons`, skipping discarded
    /// ones (which moves `self.cons`); `None` when there is none yet (caught up, or the next
    /// record is still busy). Re-reads the producer position when the last one is used up.
    #[inline(always)]
    fn next(&mut self) -> Result<Option<Found>> {
        loop {
            if self.cons == self.prod && self.read_prod()? == self.cons {
                return Ok(None);
            }
            let off = self.data_off + (self.cons & self.mask) as usize;
            let hdr = match self.prod_map.u32_at(off) {
                Some(h) => h.load(Ordering::Acquire),
                None => return Err(self.corrupt(format!("header at {off:#x} outside the ring"))),
            };
            if hdr & BUSY_BIT != 0 {
                return Ok(None);
            }
            let len = u64::from(hdr & !(BUSY_BIT | DISCARD_BIT));
            let span = record_span(len);
            let left = self.prod - self.cons;
            if span > left {
                return Err(self.corrupt(format!(
                    "record at {:#x} claims {len} bytes, past the producer position {:#x} \
                     ({left} bytes available)",
                    self.cons, self.prod
                )));
            }
            let next = self.cons + span;
            if hdr & DISCARD_BIT != 0 {
                self.cons = next;
                continue;
            }
            return Ok(Some(Found {
                off: off + HDR_SZ as usize,
                len: len as usize,
                next,
            }));
        }
    }

    /// The bytes of a record [`RingCore::next`] found.
    #[inline(always)]
    fn record(&self, f: Found) -> Result<&[u8]> {
        // SAFETY: `f` is a committed record between the consumer position (which is not
        // published past it while the slice lives: publishing needs `&mut self`, and the
        // slice borrows `self`) and the producer position; the kernel writes neither committed
        // records nor free space beyond the published consumer position's ring window, and
        // `Claim` keeps a second consumer in this process from moving the position.
        match unsafe { self.prod_map.bytes(f.off, f.len) } {
            Some(b) => Ok(b),
            None => Err(self.corrupt(format!(
                "record of {} bytes at {:#x} outside the ring",
                f.len, f.off
            ))),
        }
    }

    /// Stores the consumer position (release) if it moved.
    #[inline(always)]
    fn publish(&mut self) {
        if self.published != self.cons {
            self.cons_pos().store(self.cons, Ordering::Release);
            self.published = self.cons;
        }
    }

    /// Hands every committed record to `f`, at most `max`; publishes the consumer position
    /// each time the producer position is read again (once per batch), and at the end.
    ///
    /// The loop keeps the positions in locals and checks each record with a few compares
    /// (the errors are built out of line), as this is the hot path of every consumer.
    #[inline]
    pub(crate) fn consume(&mut self, max: usize, f: &mut impl FnMut(&[u8])) -> Result<usize> {
        let mask = self.mask;
        let data_off = self.data_off;
        let mut n = 0usize;
        while n < max {
            let prod = match self.read_prod() {
                Ok(p) => p,
                Err(e) => {
                    self.publish();
                    return Err(e);
                }
            };
            let mut cons = self.cons;
            if prod == cons {
                break;
            }
            let mut busy = false;
            let base = self.prod_map.as_ptr();
            // The run: the header of the last record handed on (committed, not discarded) and
            // its span (0: none yet). A producer of one struct writes records of one length:
            // a header equal to the run's is a committed record of that length, and the
            // position advances by `run_span`, a value in a register, not by the span computed
            // from the header just loaded, so the next header's load does not wait for this
            // one's (a walk that adds each loaded length is one chain of dependent loads, the
            // drain's critical path).
            let mut run_hdr = 0u32;
            let mut run_span = 0u64;
            while cons < prod && n < max {
                let off = data_off + (cons & mask) as usize;
                // SAFETY: `cons` is a multiple of 8 (checked in `new`; every span is one), so
                // `off` is 8-aligned and below `data_off + size`: the 4-byte header lies inside
                // the mapping (`data_off + 2 × size` bytes, checked in `new`), which lives as
                // long as `self`. `AtomicU32` is an `UnsafeCell`: a shared reference to memory
                // the kernel writes is sound, and the access is atomic.
                let hdr = unsafe { &*base.add(off).cast::<AtomicU32>() }.load(Ordering::Acquire);
                // `run_span - 1 < prod - cons`: there is a run and a record of its span ends at
                // or before the producer position.
                if hdr == run_hdr && run_span.wrapping_sub(1) < prod - cons {
                    // SAFETY: as below, with `len = run_hdr` (its busy and discard bits are
                    // clear) and `len + 8 <= run_span <= prod - cons <= size` (just checked).
                    let rec = unsafe {
                        std::slice::from_raw_parts(base.add(off + HDR_SZ as usize), hdr as usize)
                    };
                    f(rec);
                    n += 1;
                    cons += run_span;
                    continue;
                }
                if hdr & BUSY_BIT != 0 {
                    busy = true;
                    break;
                }
                let len = u64::from(hdr & !(BUSY_BIT | DISCARD_BIT));
                let span = record_span(len);
                if span > prod - cons {
                    self.cons = cons;
                    self.publish();
                    return Err(self.bad_length(len));
                }
                if hdr & DISCARD_BIT == 0 {
                    // SAFETY: in bounds: `len + 8 <= span <= prod - cons <= size` (checked just
                    // above and in `read_prod`), so the record ends at most `2 × size` bytes
                    // past `data_off`, inside the mapping (the data area is mapped twice, so a
                    // record that wraps is contiguous). Unchanging while borrowed: a committed
                    // record between the consumer position (published only after `f`
                    // returns) and the producer position, which the kernel does not write
                    // until the consumer position moves past it; `Claim` keeps other
                    // consumers in this process from moving it.
                    let rec = unsafe {
                        std::slice::from_raw_parts(base.add(off + HDR_SZ as usize), len as usize)
                    };
                    f(rec);
                    n += 1;
                    run_hdr = hdr;
                    run_span = span;
                }
                cons += span;
            }
            self.cons = cons;
            // A batch is done: give its space back before looking for more.
            self.publish();
            if busy {
                break;
            }
        }
        Ok(n)
    }

    #[cold]
    #[inline(never)]
    fn bad_length(&self, len: u64) -> Error {
        self.corrupt(format!(
            "record at {:#x} claims {len} bytes, past the producer position {:#x} ({} bytes \
             available)",
            self.cons,
            self.prod,
            self.prod - self.cons
        ))
    }

    /// Whether a committed record may be waiting: the producer position is past the consumer.
    /// Issues a full fence first, so that (with the consumer position published before) either
    /// this sees a record the kernel reserved, or the kernel's commit of it sees the published
    /// position and wakes the consumer.
    fn pending_before_sleep(&mut self) -> Result<bool> {
        loop {
            self.publish();
            fence(Ordering::SeqCst);
            let before = self.cons;
            if self.next()?.is_some() {
                return Ok(true);
            }
            if self.cons == before {
                // Caught up, or a busy record sits at the published position: its commit
                // wakes the consumer.
                return Ok(false);
            }
            // Discarded records were skipped: publish past them and look again.
        }
    }

    /// Bytes between the consumer and the producer position (committed or not).
    pub(crate) fn pending_bytes(&self) -> u64 {
        let p = self
            .prod_map
            .u64_at(0)
            .map_or(self.prod, |a| a.load(Ordering::Acquire));
        p.saturating_sub(self.cons)
    }
}

/// The consumer of a `BPF_MAP_TYPE_RINGBUF` map, reading records in place (zero-copy).
///
/// ```no_run
/// # fn f(obj: &rawbpf::Object) -> rawbpf::Result<()> {
/// use std::time::Duration;
/// let mut events = rawbpf::map::RingBuf::new(obj.map("events")?)?;
/// loop {
///     events.poll(Some(Duration::from_millis(100)), |record: &[u8]| {
///         println!("{} bytes", record.len());
///     })?;
/// }
/// # }
/// ```
///
/// Records are lent to a callback ([`RingBuf::consume`], [`RingBuf::poll`]) or one at a time
/// ([`RingBuf::next_record`]); the space they take is given back to the kernel after them, so
/// a record's bytes never change while they are lent. [`AsFd`] gives the map's fd, which is
/// readable when a record is committed: any event loop can wait on it and then call
/// [`RingBuf::consume`]. Several ring buffers wait together in [`RingBuffers`].
///
/// One consumer per map in a process: a second [`RingBuf::new`] of the same map fails until
/// the first is dropped.
#[derive(Debug)]
pub struct RingBuf {
    core: RingCore,
    fd: OwnedFd,
    _claim: Claim,
}

/// The two mappings of a ring buffer map, as the kernel lays them out: the consumer page,
/// then the producer page followed by the data area mapped twice (so a record that wraps is
/// one contiguous slice). Shared by [`RingBuf`] (the kernel produces) and
/// [`UserRingBuf`](super::UserRingBuf) (user space produces).
pub(crate) struct RingMapping {
    pub(crate) claim: Claim,
    pub(crate) fd: OwnedFd,
    pub(crate) cons_map: SharedMapping,
    pub(crate) prod_map: SharedMapping,
    /// The data area's size (`max_entries`).
    pub(crate) size: usize,
}

impl RingMapping {
    /// Maps `map`, which must be of type `expected`, for this process's one `role`
    /// ("consumer", "producer"); `user_produces` says which side user space writes: the
    /// producer pages for a user ring buffer, the consumer page for a ring buffer.
    pub(crate) fn new(
        map: &Map,
        expected: MapType,
        role: &str,
        user_produces: bool,
    ) -> Result<RingMapping> {
        if map.map_type() != expected {
            return Err(Error::InvalidArgument(format!(
                "map \"{}\" is a {:?}, not a {expected:?}",
                map.name(),
                map.map_type()
            )));
        }
        let claim = Claim::take(map, role)?;
        let fd = map
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::io("dup of a map fd", e))?;
        let size = map.max_entries() as usize;
        let page = page_size();
        let mmap_err = |e| Error::Syscall {
            call: "mmap",
            errno: e,
            context: map.ctx(),
            hint: None,
        };
        let cons_map = SharedMapping::map(fd.as_fd(), page, 0, !user_produces).map_err(mmap_err)?;
        let len = size
            .checked_mul(2)
            .and_then(|d| d.checked_add(page))
            .ok_or_else(|| Error::InvalidArgument(format!("ring of {size} bytes")))?;
        let prod_map =
            SharedMapping::map(fd.as_fd(), len, page, user_produces).map_err(mmap_err)?;
        Ok(RingMapping {
            claim,
            fd,
            cons_map,
            prod_map,
            size,
        })
    }
}

impl RingBuf {
    /// Maps the ring of `map` (a `BPF_MAP_TYPE_RINGBUF`): the consumer page read-write, the
    /// producer page and the data area (twice) read-only. The ring keeps its own fd of the map.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another map type, or when this process already has a
    /// consumer of the map; [`Error::Syscall`] (`"mmap"`) when the kernel refuses a mapping;
    /// [`Error::CorruptBuffer`] when the positions already make no sense.
    pub fn new(map: &Map) -> Result<RingBuf> {
        let RingMapping {
            claim,
            fd,
            cons_map,
            prod_map,
            size,
        } = RingMapping::new(map, MapType::RINGBUF, "consumer", false)?;
        let core = RingCore::new(
            cons_map,
            prod_map,
            size,
            format!("ring buffer \"{}\"", map.name()),
        )?;
        Ok(RingBuf {
            core,
            fd,
            _claim: claim,
        })
    }

    /// The data area's size in bytes (`max_entries`).
    pub fn size(&self) -> usize {
        self.core.size() as usize
    }

    /// Bytes the kernel has reserved past the consumer position (committed records and
    /// records still being written).
    pub fn pending_bytes(&self) -> u64 {
        self.core.pending_bytes()
    }

    /// Hands every record committed so far to `f`, without waiting; returns how many.
    /// Discarded records are skipped; reading stops at a record still being written.
    ///
    /// # Errors
    /// [`Error::CorruptBuffer`] when the ring holds something no kernel writes; the records
    /// before it were delivered and their space given back.
    pub fn consume(&mut self, mut f: impl FnMut(&[u8])) -> Result<usize> {
        self.core.consume(usize::MAX, &mut f)
    }

    /// As [`RingBuf::consume`], at most `max` records.
    pub fn consume_max(&mut self, max: usize, mut f: impl FnMut(&[u8])) -> Result<usize> {
        self.core.consume(max, &mut f)
    }

    /// Hands the committed records to `f`; when there are none, waits up to `timeout`
    /// (`None`: forever) for one. Returns how many were handed (0 after a timeout or a signal).
    ///
    /// # Errors
    /// As [`RingBuf::consume`]; [`Error::Syscall`] (`"poll"`) if waiting fails.
    pub fn poll(&mut self, timeout: Option<Duration>, mut f: impl FnMut(&[u8])) -> Result<usize> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let n = self.core.consume(usize::MAX, &mut f)?;
            if n > 0 {
                return Ok(n);
            }
            if self.core.pending_before_sleep()? {
                continue;
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(l) if !l.is_zero() => Some(l),
                    _ => return Ok(0),
                },
            };
            wait_fd(self.fd.as_fd(), false, left).map_err(|e| Error::syscall("poll", e))?;
        }
    }

    /// The next committed record, lent until the returned [`RingRecord`] is dropped (which
    /// gives its space back); `None` when there is none yet. Does not wait.
    ///
    /// ```no_run
    /// # fn f(ring: &mut rawbpf::map::RingBuf) -> rawbpf::Result<()> {
    /// while let Some(record) = ring.next_record()? {
    ///     println!("{:?}", &record[..]);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`RingBuf::consume`].
    pub fn next_record(&mut self) -> Result<Option<RingRecord<'_>>> {
        match self.core.next() {
            Ok(Some(found)) => Ok(Some(RingRecord {
                core: &mut self.core,
                found,
            })),
            Ok(None) => {
                self.core.publish();
                Ok(None)
            }
            Err(e) => {
                self.core.publish();
                Err(e)
            }
        }
    }

    /// Whether a record may be ready: publishes the consumer position, fences, and reads the
    /// producer position again. `false` means the kernel will wake the fd on the next commit,
    /// so it is safe to sleep on [`AsFd`]. (What [`RingBuf::poll`] does before it sleeps; for
    /// event loops of one's own.)
    ///
    /// # Errors
    /// [`Error::CorruptBuffer`] as for [`RingBuf::consume`].
    pub fn ready(&mut self) -> Result<bool> {
        self.core.pending_before_sleep()
    }
}

impl AsFd for RingBuf {
    /// The map's fd: readable when a committed record waits (epoll, poll, an async runtime).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for RingBuf {
    fn drop(&mut self) {
        self.core.publish();
    }
}

/// One record lent by [`RingBuf::next_record`]: derefs to its bytes. Dropping it gives its
/// space back to the kernel (a release store of the consumer position).
#[derive(Debug)]
pub struct RingRecord<'a> {
    core: &'a mut RingCore,
    found: Found,
}

impl std::ops::Deref for RingRecord<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // `next` checked the record against the ring; `record` only fails for a range outside
        // the mapping, which `next` rules out (span ≤ ring size, mapped twice).
        self.core.record(self.found).unwrap_or(&[])
    }
}

impl Drop for RingRecord<'_> {
    fn drop(&mut self) {
        self.core.cons = self.found.next;
        self.core.publish();
    }
}

/// Several ring buffers on one epoll set (libbpf's `ring_buffer__add`): one
/// [`poll`](RingBuffers::poll) waits for any of them and hands each record with the index of
/// its ring. [`AsFd`] gives the epoll fd, readable when any ring is.
#[derive(Debug)]
pub struct RingBuffers {
    events: EventSet,
    rings: Vec<RingBuf>,
}

impl RingBuffers {
    /// An empty set.
    ///
    /// # Errors
    /// [`Error::Syscall`] (`"epoll_create1"`).
    pub fn new() -> Result<RingBuffers> {
        Ok(RingBuffers {
            events: EventSet::new().map_err(|e| Error::syscall("epoll_create1", e))?,
            rings: Vec::new(),
        })
    }

    /// Adds a ring; returns its index (the first argument of the callbacks).
    ///
    /// # Errors
    /// [`Error::Syscall`] (`"epoll_ctl"`).
    pub fn add(&mut self, ring: RingBuf) -> Result<usize> {
        let i = self.rings.len();
        self.events
            .add(ring.as_fd(), i as u64, false)
            .map_err(|e| Error::syscall("epoll_ctl", e))?;
        self.rings.push(ring);
        Ok(i)
    }

    /// The ring at `index`.
    pub fn ring(&self, index: usize) -> Option<&RingBuf> {
        self.rings.get(index)
    }

    /// The ring at `index`, mutably (to consume it alone).
    pub fn ring_mut(&mut self, index: usize) -> Option<&mut RingBuf> {
        self.rings.get_mut(index)
    }

    /// The number of rings.
    pub fn len(&self) -> usize {
        self.rings.len()
    }

    /// Whether there are no rings.
    pub fn is_empty(&self) -> bool {
        self.rings.is_empty()
    }

    /// Consumes every ring without waiting; `f` gets the ring's index and the record.
    ///
    /// # Errors
    /// The first ring's error; the rings before it were consumed.
    pub fn consume(&mut self, mut f: impl FnMut(usize, &[u8])) -> Result<usize> {
        let mut n = 0;
        for (i, r) in self.rings.iter_mut().enumerate() {
            n += r.core.consume(usize::MAX, &mut |rec| f(i, rec))?;
        }
        Ok(n)
    }

    /// Consumes every ring; when none had a record, waits up to `timeout` (`None`: forever)
    /// for one. Returns how many records were handed (0 after a timeout or a signal).
    ///
    /// # Errors
    /// As [`RingBuffers::consume`]; [`Error::Syscall`] (`"epoll_wait"`).
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut f: impl FnMut(usize, &[u8]),
    ) -> Result<usize> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let n = self.consume(&mut f)?;
            if n > 0 {
                return Ok(n);
            }
            let mut pending = false;
            for r in &mut self.rings {
                pending |= r.core.pending_before_sleep()?;
            }
            if pending {
                continue;
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(l) if !l.is_zero() => Some(l),
                    _ => return Ok(0),
                },
            };
            self.events
                .wait(left, |_| {})
                .map_err(|e| Error::syscall("epoll_wait", e))?;
        }
    }
}

impl AsFd for RingBuffers {
    /// The epoll fd: readable when any ring is.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.events.as_fd()
    }
}

/// Test-only access to a ring's bytes, as a producer would write them (the unit tests fake
/// rings in memory; the `unsafe` stays in this file).
#[cfg(test)]
impl RingCore {
    /// Copies `data` to byte `off` of the producer mapping.
    fn test_write(&self, off: usize, data: &[u8]) {
        // SAFETY: the test is the only writer and nothing borrows these bytes meanwhile.
        let b = unsafe { self.prod_map.bytes_mut(off, data.len()) }.expect("in the mapping");
        b.copy_from_slice(data);
    }

    /// A copy of `n` bytes at byte `off` of the producer mapping.
    fn test_read(&self, off: usize, n: usize) -> Vec<u8> {
        // SAFETY: nothing writes these bytes meanwhile (the test is the only writer).
        unsafe { self.prod_map.bytes(off, n) }
            .expect("in the mapping")
            .to_vec()
    }
}

#[cfg(test)]
mod tests;
