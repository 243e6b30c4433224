//! [`UserRingBuf`]: the user-space producer of a `BPF_MAP_TYPE_USER_RINGBUF`, whose records a
//! program reads with `bpf_user_ringbuf_drain`.
//!
//! The layout is the ring buffer's with the roles swapped: the consumer page (offset 0) is the
//! kernel's and maps read-only, the producer page and the data area (mapped twice, so a record
//! that wraps is one slice) map read-write. Reserving writes the record's header with the busy
//! bit and advances the producer position (release); submitting clears the busy bit with an
//! atomic exchange, discarding sets the discard bit instead. The kernel drains records in order
//! and stops at a busy one. After a drain it wakes writers waiting on the map's fd (`EPOLLOUT`),
//! which is what [`UserRingBuf::reserve_wait`] sleeps on.

#![allow(unsafe_code)]

use std::cell::Cell;
use std::marker::PhantomData;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::ringbuf::{BUSY_BIT, Claim, DISCARD_BIT, HDR_SZ, RingMapping, record_span};
use super::{Map, MapType};
use crate::error::{Error, Result};
use crate::sys::ring::{SharedMapping, page_size, wait_fd};

/// The producer of a `BPF_MAP_TYPE_USER_RINGBUF` map.
///
/// ```no_run
/// # fn f(map: &rawbpf::Map) -> rawbpf::Result<()> {
/// let ring = rawbpf::map::UserRingBuf::new(map)?;
/// if let Some(mut rec) = ring.reserve(16)? {
///     rec.copy_from_slice(&[7u8; 16]);
///     rec.submit();
/// }
/// # Ok(()) }
/// ```
///
/// Several records may be reserved at once (from one thread: the producer is `Send`, not
/// `Sync`); the kernel reads them in reservation order and waits at the first one neither
/// submitted nor discarded. A record dropped without [`UserRecord::submit`] is discarded.
/// One producer per map in a process.
#[derive(Debug)]
pub struct UserRingBuf {
    cons_map: SharedMapping,
    prod_map: SharedMapping,
    data_off: usize,
    mask: u64,
    /// The producer position (ours: only this producer writes it).
    prod: Cell<u64>,
    fd: OwnedFd,
    name: String,
    _claim: Claim,
    /// `reserve(&self)` moves `prod` without synchronisation: one thread at a time.
    _not_sync: PhantomData<Cell<()>>,
}

impl UserRingBuf {
    /// Maps the ring of `map` (a `BPF_MAP_TYPE_USER_RINGBUF`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another map type or when this process already has a
    /// producer for the map; [`Error::Syscall`] (`"mmap"`); [`Error::CorruptBuffer`] when the
    /// positions make no sense.
    pub fn new(map: &Map) -> Result<UserRingBuf> {
        let RingMapping {
            claim,
            fd,
            cons_map,
            prod_map,
            size,
        } = RingMapping::new(map, MapType::USER_RINGBUF, "producer", true)?;
        let rb = UserRingBuf::from_parts(
            cons_map,
            prod_map,
            size,
            fd,
            format!("user ring buffer \"{}\"", map.name()),
            claim,
        )?;
        Ok(rb)
    }

    fn from_parts(
        cons_map: SharedMapping,
        prod_map: SharedMapping,
        size: usize,
        fd: OwnedFd,
        name: String,
        claim: Claim,
    ) -> Result<UserRingBuf> {
        let page = page_size();
        if !size.is_power_of_two() || prod_map.len() < page + 2 * size || cons_map.len() < 8 {
            return Err(Error::InvalidArgument(format!(
                "{name}: data size {size} is not a power of two or the mappings are too short"
            )));
        }
        let prod = prod_map.u64_at(0).map_or(0, |p| p.load(Ordering::Acquire));
        let rb = UserRingBuf {
            cons_map,
            prod_map,
            data_off: page,
            mask: size as u64 - 1,
            prod: Cell::new(prod),
            fd,
            name,
            _claim: claim,
            _not_sync: PhantomData,
        };
        rb.free_bytes()?;
        Ok(rb)
    }

    /// The data area's size in bytes (`max_entries`).
    pub fn size(&self) -> usize {
        (self.mask + 1) as usize
    }

    /// The largest record that fits in the ring (with its 8-byte header, rounded up to 8).
    pub fn max_record(&self) -> usize {
        self.size() - HDR_SZ as usize
    }

    fn corrupt(&self, what: String) -> Error {
        Error::CorruptBuffer {
            buffer: self.name.clone(),
            what,
        }
    }

    /// Free bytes, from the kernel's consumer position (acquire), checked: never past the
    /// producer position, never more than the ring's size behind it.
    pub fn free_bytes(&self) -> Result<u64> {
        let cons = self
            .cons_map
            .u64_at(0)
            .map_or(0, |c| c.load(Ordering::Acquire));
        let prod = self.prod.get();
        let size = self.mask + 1;
        if cons > prod || prod - cons > size {
            return Err(self.corrupt(format!(
                "consumer position {cons:#x} is past the producer position {prod:#x} or more \
                 than the ring's {size} bytes behind it"
            )));
        }
        Ok(size - (prod - cons))
    }

    /// Reserves a record of `len` bytes (zeroed by no one: it holds whatever was there);
    /// `None` when the ring has no room for it now.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `len` can never fit ([`UserRingBuf::max_record`]);
    /// [`Error::CorruptBuffer`] when the kernel's consumer position makes no sense.
    pub fn reserve(&self, len: usize) -> Result<Option<UserRecord<'_>>> {
        let max = self.max_record();
        if len > max || (len as u64) & u64::from(BUSY_BIT | DISCARD_BIT) != 0 {
            return Err(Error::InvalidArgument(format!(
                "record of {len} bytes: at most {max} fit in {}",
                self.name
            )));
        }
        let span = record_span(len as u64);
        if self.free_bytes()? < span {
            return Ok(None);
        }
        let prod = self.prod.get();
        let hdr_off = self.data_off + (prod & self.mask) as usize;
        let (Some(hdr), Some(pad)) = (
            self.prod_map.u32_at(hdr_off),
            self.prod_map.u32_at(hdr_off + 4),
        ) else {
            return Err(self.corrupt(format!("header at {hdr_off:#x} outside the ring")));
        };
        hdr.store(len as u32 | BUSY_BIT, Ordering::Relaxed);
        pad.store(0, Ordering::Relaxed);
        // SAFETY: the bytes after the header lie between the kernel's consumer position and the
        // new producer position, in a record whose busy bit is set: the kernel reads neither
        // until it is committed (`UserRecord::commit`, which consumes the guard and so ends
        // this borrow). Records reserved before are disjoint (the producer position only
        // grows), `Claim` keeps other producers in this process away, and `UserRingBuf` is not
        // `Sync`, so no other thread reserves concurrently. The mapping is writable.
        let data = unsafe { self.prod_map.bytes_mut(hdr_off + HDR_SZ as usize, len) };
        let Some(data) = data else {
            return Err(self.corrupt(format!("record at {hdr_off:#x} outside the ring")));
        };
        self.prod.set(prod + span);
        if let Some(p) = self.prod_map.u64_at(0) {
            p.store(prod + span, Ordering::Release);
        }
        Ok(Some(UserRecord {
            hdr_off,
            len: len as u32,
            data,
            rb: self,
            done: false,
        }))
    }

    /// As [`UserRingBuf::reserve`], waiting up to `timeout` (`None`: forever) for the kernel
    /// to drain enough room; `None` after the timeout.
    ///
    /// # Errors
    /// As [`UserRingBuf::reserve`]; [`Error::Syscall`] (`"poll"`) if waiting fails.
    pub fn reserve_wait(
        &self,
        len: usize,
        timeout: Option<Duration>,
    ) -> Result<Option<UserRecord<'_>>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(r) = self.reserve(len)? {
                return Ok(Some(r));
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(l) if !l.is_zero() => Some(l),
                    _ => return Ok(None),
                },
            };
            // Readable-for-writing means "some room"; maybe not enough: then this loops until
            // the kernel drains more (as libbpf's user_ring_buffer__reserve_blocking).
            wait_fd(self.fd.as_fd(), true, left).map_err(|e| Error::syscall("poll", e))?;
        }
    }

    /// Copies `data` into a new record and submits it; `false` when the ring has no room.
    ///
    /// # Errors
    /// As [`UserRingBuf::reserve`].
    pub fn write(&self, data: &[u8]) -> Result<bool> {
        match self.reserve(data.len())? {
            Some(mut r) => {
                r.copy_from_slice(data);
                r.submit();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn commit(&self, hdr_off: usize, len: u32, discard: bool) {
        let v = if discard { len | DISCARD_BIT } else { len };
        if let Some(h) = self.prod_map.u32_at(hdr_off) {
            // Full barrier, as the kernel's commit: the record's bytes are visible before the
            // busy bit clears.
            h.swap(v, Ordering::AcqRel);
        }
    }
}

impl AsFd for UserRingBuf {
    /// The map's fd: writable (`EPOLLOUT`) when the ring has room.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A record reserved in a [`UserRingBuf`]: derefs to its bytes. [`UserRecord::submit`] hands it
/// to the kernel; [`UserRecord::discard`], or dropping it, makes the kernel skip it.
#[derive(Debug)]
pub struct UserRecord<'a> {
    rb: &'a UserRingBuf,
    hdr_off: usize,
    len: u32,
    data: &'a mut [u8],
    done: bool,
}

impl UserRecord<'_> {
    /// Submits the record: the kernel's next drain reads it.
    pub fn submit(mut self) {
        self.done = true;
        self.rb.commit(self.hdr_off, self.len, false);
    }

    /// Discards the record: the kernel skips it.
    pub fn discard(mut self) {
        self.done = true;
        self.rb.commit(self.hdr_off, self.len, true);
    }
}

impl std::ops::Deref for UserRecord<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.data
    }
}

impl std::ops::DerefMut for UserRecord<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.data
    }
}

impl Drop for UserRecord<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.rb.commit(self.hdr_off, self.len, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering::Release;

    const SIZE: usize = 4096;

    fn fake() -> UserRingBuf {
        let (cons, prod) = SharedMapping::fake_ring(SIZE);
        let fd = std::fs::File::open("/dev/null").unwrap().into();
        UserRingBuf::from_parts(cons, prod, SIZE, fd, "fake".into(), Claim(u32::MAX)).unwrap()
    }

    fn hdr(rb: &UserRingBuf, pos: u64) -> u32 {
        rb.prod_map
            .u32_at(rb.data_off + (pos & rb.mask) as usize)
            .unwrap()
            .load(Ordering::Acquire)
    }

    fn set_cons(rb: &UserRingBuf, c: u64) {
        rb.cons_map.u64_at(0).unwrap().store(c, Release);
    }

    #[test]
    fn reserve_submit_discard_and_full() {
        let rb = fake();
        let mut a = rb.reserve(5).unwrap().unwrap();
        a.copy_from_slice(b"hello");
        assert_eq!(hdr(&rb, 0), 5 | BUSY_BIT);
        assert_eq!(rb.prod_map.u64_at(0).unwrap().load(Ordering::Acquire), 16);
        let b = rb.reserve(3).unwrap().unwrap();
        assert_eq!(hdr(&rb, 16), 3 | BUSY_BIT);
        a.submit();
        assert_eq!(hdr(&rb, 0), 5);
        b.discard();
        assert_eq!(hdr(&rb, 16), 3 | DISCARD_BIT);
        drop(rb.reserve(1).unwrap().unwrap()); // dropped: discarded
        assert_eq!(hdr(&rb, 32), 1 | DISCARD_BIT);
        assert_eq!(rb.free_bytes().unwrap(), SIZE as u64 - 48);
        // Fill up: the last reservation that does not fit is None, not an error.
        let big = SIZE - 48 - 8 - 16;
        assert!(rb.write(&vec![1u8; big]).unwrap());
        assert_eq!(rb.free_bytes().unwrap(), 16);
        assert!(rb.reserve(9).unwrap().is_none());
        assert!(
            rb.reserve_wait(100, Some(Duration::from_millis(1)))
                .unwrap()
                .is_none()
        );
        // The kernel drains: room again, and the next record wraps around the end in one slice.
        set_cons(&rb, SIZE as u64 - 16);
        let mut w = rb.reserve(100).unwrap().unwrap();
        w.copy_from_slice(&[9u8; 100]);
        w.submit();
        // SAFETY: nothing writes meanwhile.
        let start = unsafe { rb.prod_map.bytes(rb.data_off, 92) }.unwrap();
        assert!(
            start.iter().all(|b| *b == 9),
            "the wrapped part lands at the start"
        );
    }

    #[test]
    fn too_large_and_corrupt_consumer_position() {
        let rb = fake();
        assert!(matches!(rb.reserve(SIZE), Err(Error::InvalidArgument(_))));
        assert!(rb.reserve(SIZE - 8).unwrap().is_some());
        let rb = fake();
        set_cons(&rb, 64); // ahead of the producer
        assert!(matches!(rb.reserve(8), Err(Error::CorruptBuffer { .. })));
        assert!(matches!(rb.free_bytes(), Err(Error::CorruptBuffer { .. })));
    }
}
