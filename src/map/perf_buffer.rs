//! [`PerfBuffer`]: the consumer of a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`, one perf ring per CPU.
//!
//! # Layout and protocol (`include/uapi/linux/perf_event.h`, `kernel/events/ring_buffer.c`)
//! For each CPU a `PERF_COUNT_SW_BPF_OUTPUT` software event is opened and its fd stored in the
//! map at the CPU's index; `bpf_perf_event_output(ctx, &map, BPF_F_CURRENT_CPU, …)` writes into
//! the current CPU's event. Each event's fd maps as one metadata page (`struct
//! perf_event_mmap_page`: `data_head` at byte 1024, written by the kernel with a release store,
//! `data_tail` at 1032, written by the consumer) followed by `2^n` data pages. Records are
//! 8-byte aligned, start with `struct perf_event_header { u32 type; u16 misc; u16 size; }`, and
//! may wrap around the end of the data area (the data pages are mapped once): such a record is
//! copied into a scratch buffer, every other one is lent in place. A `PERF_RECORD_SAMPLE` with
//! `PERF_SAMPLE_RAW` carries `{ u32 size; u8 data[size]; }`; when the ring is full the kernel
//! drops samples and later writes a `PERF_RECORD_LOST { u64 id; u64 lost; }` with their
//! number, which is reported as [`PerfRecord::Lost`] and added to [`PerfBuffer::lost`].
//!
//! A head that goes backwards or runs past the ring, a record size that is not a multiple of
//! 8, smaller than a header or past the head, are [`Error::CorruptBuffer`].

#![allow(unsafe_code)]

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{ANY, Map, MapType};
use crate::error::{Error, Result};
use crate::sys::perf_event::{
    PERF_COUNT_SW_BPF_OUTPUT, PERF_SAMPLE_RAW, PERF_TYPE_SOFTWARE, PerfEventAttr, attr_flags,
    perf_event_enable, perf_event_open,
};
use crate::sys::ring::{EventSet, SharedMapping, page_size};

/// `PERF_RECORD_LOST`.
const PERF_RECORD_LOST: u32 = 2;
/// `PERF_RECORD_SAMPLE`.
const PERF_RECORD_SAMPLE: u32 = 9;
/// Offset of `data_head` in `struct perf_event_mmap_page`.
const DATA_HEAD: usize = 1024;
/// Offset of `data_tail`.
const DATA_TAIL: usize = 1032;
/// The bits of a record header (read as one native `u64`) that hold its type and size (not
/// `misc`).
const TYPE_AND_SIZE: u64 = u64::from_ne_bytes([0xff, 0xff, 0xff, 0xff, 0, 0, 0xff, 0xff]);

/// How [`PerfBuffer::new`] sets up the per-CPU rings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PerfBufferOptions {
    /// Data pages per CPU, a power of two (default 64, 256 KiB with 4 KiB pages).
    pub pages: usize,
    /// Wake the consumer every this many samples (default 1, as libbpf); with
    /// [`PerfBufferOptions::watermark`], every this many bytes.
    pub wakeup_events: u32,
    /// Whether `wakeup_events` is a byte watermark (`attr.watermark`).
    pub watermark: bool,
}

impl Default for PerfBufferOptions {
    fn default() -> Self {
        PerfBufferOptions {
            pages: 64,
            wakeup_events: 1,
            watermark: false,
        }
    }
}

impl PerfBufferOptions {
    /// Data pages per CPU (a power of two).
    pub fn pages(mut self, pages: usize) -> Self {
        self.pages = pages;
        self
    }

    /// Wake the consumer every `n` samples.
    pub fn wakeup_events(mut self, n: u32) -> Self {
        self.wakeup_events = n;
        self.watermark = false;
        self
    }

    /// Wake the consumer when `bytes` bytes are waiting.
    pub fn wakeup_watermark(mut self, bytes: u32) -> Self {
        self.wakeup_events = bytes;
        self.watermark = true;
        self
    }
}

/// What a perf ring holds: a sample a program wrote, or the number of samples the kernel had
/// to drop because the ring was full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerfRecord<'a> {
    /// A sample: the bytes given to `bpf_perf_event_output`, followed by up to 7 bytes of
    /// padding (the kernel rounds the raw data up so that it and its 4-byte size fill whole
    /// 8-byte words; the padding's value is not specified).
    Sample {
        /// The CPU whose ring it came from.
        cpu: u32,
        /// The data.
        data: &'a [u8],
    },
    /// `count` samples were dropped on `cpu` (a `PERF_RECORD_LOST`).
    Lost {
        /// The CPU whose ring was full.
        cpu: u32,
        /// How many samples were dropped.
        count: u64,
    },
}

/// One perf ring: its metadata page and data pages, and the consumer's tail.
#[derive(Debug)]
pub(crate) struct PerfRing {
    map: SharedMapping,
    data_off: usize,
    data_size: u64,
    tail: u64,
    cpu: u32,
    lost: u64,
    name: String,
}

impl PerfRing {
    /// Over a mapping of one metadata page and `data_size` bytes (a power of two) of data.
    pub(crate) fn new(
        map: SharedMapping,
        data_size: usize,
        cpu: u32,
        name: String,
    ) -> Result<Self> {
        let page = page_size();
        if !data_size.is_power_of_two() || map.len() < page + data_size {
            return Err(Error::InvalidArgument(format!(
                "{name}: data size {data_size} is not a power of two or the mapping is too short"
            )));
        }
        let tail = map
            .u64_at(DATA_TAIL)
            .map_or(0, |t| t.load(Ordering::Acquire));
        if tail % 8 != 0 {
            return Err(Error::CorruptBuffer {
                buffer: name,
                what: format!("data_tail {tail:#x} is not 8-byte aligned"),
            });
        }
        Ok(PerfRing {
            map,
            data_off: page,
            data_size: data_size as u64,
            tail,
            cpu,
            lost: 0,
            name,
        })
    }

    fn corrupt(&self, what: String) -> Error {
        Error::CorruptBuffer {
            buffer: self.name.clone(),
            what,
        }
    }

    /// The head (acquire), checked against the tail and the ring's size.
    #[inline(always)]
    fn head(&self) -> Result<u64> {
        let h = self
            .map
            .u64_at(DATA_HEAD)
            .map_or(self.tail, |h| h.load(Ordering::Acquire));
        if h < self.tail || h - self.tail > self.data_size {
            return Err(self.corrupt(format!(
                "data_head {h:#x} went backwards or runs more than the ring's {} bytes ahead of \
                 data_tail {:#x}",
                self.data_size, self.tail
            )));
        }
        Ok(h)
    }

    /// Whether records wait.
    pub(crate) fn readable(&self) -> Result<bool> {
        Ok(self.head()? != self.tail)
    }

    fn publish(&self) {
        if let Some(t) = self.map.u64_at(DATA_TAIL) {
            t.store(self.tail, Ordering::Release);
        }
    }

    /// Hands every record up to the head to `f`, then stores the tail (release) once.
    ///
    /// The hot path. What is proven once per batch: the head is at most `data_size` bytes
    /// ahead of the tail ([`PerfRing::head`]) and the data area lies inside the mapping
    /// ([`PerfRing::new`]). What is checked per record, because a corrupt ring could break
    /// it: the size (a non-zero multiple of 8 that does not pass the head) and, for a
    /// sample, the raw length (inside the record).
    ///
    /// Records are walked in runs. A program that emits one struct writes samples of one
    /// size; once one such sample has passed the checks, the following records are taken
    /// in a tight inner loop while their header's type and size equal that sample's (one
    /// compare of the header) and they end before the head and the end of the data area
    /// (register arithmetic). That loop advances by the run's size, a value in a register,
    /// not by the size it loads from each header: the position of the next header does not
    /// wait for this header's load, so the loads of the following headers overlap (a walk
    /// that adds each loaded size to the tail is one chain of dependent loads, the whole
    /// drain's critical path). Every other record goes through the general checks: a
    /// sample of another size starts a new run; lost records, other types and wrapped
    /// records go out of line. The errors are built out of line too. (A software prefetch
    /// of the header a few hundred bytes ahead was tried and measured slower: the hardware
    /// prefetcher already follows the sequential walk.)
    #[inline]
    pub(crate) fn consume(
        &mut self,
        scratch: &mut Vec<u8>,
        f: &mut impl FnMut(PerfRecord<'_>),
    ) -> Result<usize> {
        let head = self.head()?;
        let data_size = self.data_size;
        let mask = data_size - 1;
        let cpu = self.cpu;
        let mut tail = self.tail;
        let mut n = 0usize;
        let mut lost = 0u64;
        let mut bad = None;
        // SAFETY: `data_off + data_size <= map.len()` (checked in `new`): the data area lies
        // inside the mapping, so the pointer to its start is in bounds.
        let data = unsafe { self.map.as_ptr().add(self.data_off) };
        // The run: the type and size bits of its first header, and its size (0: no run yet;
        // `u64::MAX` matches no header, the misc bits being masked out).
        let mut expect = u64::MAX;
        let mut step = 0u64;
        'records: loop {
            // The run goes on up to `end`: the head or the end of the data area's current lap,
            // whichever comes first; `tail <= end`. (Saturating: in the last lap below 2^64,
            // which a corrupt data_tail could start in, the head comes first anyway.)
            let end = head.min((tail | mask).saturating_add(1));
            // `step - 1 < end - tail`: `step` is not 0 and a record of `step` bytes ends at or
            // before `end`.
            while step.wrapping_sub(1) < end - tail {
                let off = (tail & mask) as usize;
                // SAFETY: `tail` is a multiple of 8 (checked in `new`; every record size is
                // one, checked below), so the 8-byte header at `off` is aligned and inside the
                // data area (`off + 8 <= data_size`), inside the mapping, which lives as long
                // as `self`. `AtomicU64` is an `UnsafeCell`; the load is atomic.
                let hdr = unsafe { &*data.add(off).cast::<AtomicU64>() }.load(Ordering::Relaxed);
                if hdr & TYPE_AND_SIZE != expect {
                    break;
                }
                // A sample of `step` bytes (a multiple of 8, at least 16: checked below on the
                // run's first record) that ends at or before the head and the data area's end
                // (the loop's condition): `off + 16 <= off + step <= data_size`.
                // SAFETY: the raw length at `off + 8` (4-aligned) is inside the data area; a
                // record between data_tail and data_head, which the kernel does not write
                // until data_tail moves past it (stored only after the loop).
                let raw = u64::from(unsafe { data.add(off + 8).cast::<u32>().read() });
                if raw + 12 > step {
                    bad = Some(Bad::Sample(step as usize, raw as usize));
                    break 'records;
                }
                // SAFETY: `off + 12 + raw <= off + step <= data_size` (checked just above):
                // inside the data area; unchanging while borrowed (as above), and the slice
                // does not outlive this iteration.
                let d = unsafe { std::slice::from_raw_parts(data.add(off + 12), raw as usize) };
                f(PerfRecord::Sample { cpu, data: d });
                tail += step;
                n += 1;
            }
            if tail >= head {
                break;
            }
            let off = (tail & mask) as usize;
            // SAFETY: as above.
            let hdr = unsafe { &*data.add(off).cast::<AtomicU64>() }.load(Ordering::Relaxed);
            let b = hdr.to_ne_bytes();
            let ty = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            let size = u64::from(u16::from_ne_bytes([b[6], b[7]]));
            // A non-zero multiple of 8 that ends at or before the head (`size - 1` wraps for 0).
            if size % 8 != 0 || size.wrapping_sub(1) >= head - tail {
                bad = Some(Bad::Size(size as usize, head - tail));
                break;
            }
            if ty == PERF_RECORD_SAMPLE && off as u64 + size <= data_size && size >= 16 {
                // { header; u32 size; u8 data[size]; } in place: `off + 16 <= data_size`, so
                // the raw length at `off + 8` (4-aligned) is inside the data area.
                // SAFETY: in bounds (above); unchanging (as above).
                let raw = u64::from(unsafe { data.add(off + 8).cast::<u32>().read() });
                if raw + 12 > size {
                    bad = Some(Bad::Sample(size as usize, raw as usize));
                    break;
                }
                // SAFETY: `off + 12 + raw <= off + size <= data_size` (checked just above):
                // as above.
                let d = unsafe { std::slice::from_raw_parts(data.add(off + 12), raw as usize) };
                f(PerfRecord::Sample { cpu, data: d });
                // A new run of samples of this size.
                expect = hdr & TYPE_AND_SIZE;
                step = size;
                tail += size;
                n += 1;
                continue;
            }
            match self.slow_record(ty, off, size as usize, scratch, cpu) {
                Ok(Some(rec)) => {
                    if let PerfRecord::Lost { count, .. } = rec {
                        lost = lost.saturating_add(count);
                    }
                    f(rec);
                    n += 1;
                }
                Ok(None) => {}
                Err(b) => {
                    bad = Some(b);
                    break;
                }
            }
            tail += size;
        }
        // An idle ring's data_tail is left alone: the store would only pull the line the
        // kernel reads on every output away from the producing CPU.
        if tail != self.tail {
            self.tail = tail;
            self.publish();
        }
        self.lost = self.lost.saturating_add(lost);
        match bad {
            None => Ok(n),
            Some(b) => Err(self.bad_record(b)),
        }
    }

    /// A record the fast path of [`PerfRing::consume`] does not take: a lost record, a
    /// sample that wraps around the end of the data area (copied into `scratch`), or another
    /// type (`None`: skipped). `size` is already checked against the head.
    #[cold]
    #[inline(never)]
    fn slow_record<'s>(
        &'s self,
        ty: u32,
        off: usize,
        size: usize,
        scratch: &'s mut Vec<u8>,
        cpu: u32,
    ) -> std::result::Result<Option<PerfRecord<'s>>, Bad> {
        if ty != PERF_RECORD_SAMPLE && ty != PERF_RECORD_LOST {
            // Other record types (throttling, …) carry nothing for us.
            return Ok(None);
        }
        let rec: &[u8] = if (off + size) as u64 <= self.data_size {
            // SAFETY: in bounds (`off + size <= data_size`, inside the mapping, checked in
            // `new`); a record between data_tail and data_head, which the kernel does not write
            // until data_tail moves past it: data_tail is stored only after the caller's loop,
            // and the record is handed on before that.
            unsafe { self.map.bytes(self.data_off + off, size) }.ok_or(Bad::Misaligned)?
        } else {
            self.copy_wrapped(off, size, scratch)
                .ok_or(Bad::Misaligned)?
        };
        if ty == PERF_RECORD_SAMPLE {
            // { header; u32 size; u8 data[size]; }
            let raw = match rec.get(8..12) {
                Some(r) => u32::from_ne_bytes([r[0], r[1], r[2], r[3]]) as usize,
                None => usize::MAX,
            };
            let data = rec
                .get(12..)
                .and_then(|d| d.get(..raw))
                .ok_or(Bad::Sample(size, raw))?;
            Ok(Some(PerfRecord::Sample { cpu, data }))
        } else {
            // { header; u64 id; u64 lost; }
            let c = rec.get(16..24).ok_or(Bad::Lost(size))?;
            let count = u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            Ok(Some(PerfRecord::Lost { cpu, count }))
        }
    }

    /// Copies a record that wraps around the end of the data area (`size` bytes at data
    /// offset `off`) into `scratch`. Out of line: rare, and it keeps the loop's registers free.
    #[cold]
    #[inline(never)]
    fn copy_wrapped<'s>(
        &self,
        off: usize,
        size: usize,
        scratch: &'s mut Vec<u8>,
    ) -> Option<&'s [u8]> {
        let first = (self.data_size as usize).checked_sub(off)?;
        scratch.clear();
        // SAFETY: the two pieces of a record between data_tail and data_head (end of the data
        // area, then its start), which the kernel does not write until data_tail moves past
        // them; both are copied out before the caller moves data_tail. `bytes` checks bounds.
        let (a, b) = unsafe {
            (
                self.map.bytes(self.data_off + off, first)?,
                self.map.bytes(self.data_off, size.checked_sub(first)?)?,
            )
        };
        scratch.extend_from_slice(a);
        scratch.extend_from_slice(b);
        Some(&scratch[..])
    }

    #[cold]
    #[inline(never)]
    fn bad_record(&self, b: Bad) -> Error {
        let at = self.tail;
        self.corrupt(match b {
            Bad::Misaligned => {
                format!("record at {at:#x} is not 8-byte aligned or outside the ring")
            }
            Bad::Size(size, left) => format!(
                "record at {at:#x} has size {size}: not a multiple of 8 of at least 8, or past \
                 data_head ({left} bytes available)"
            ),
            Bad::Sample(size, raw) => {
                format!("sample at {at:#x} of {size} bytes claims {raw} bytes of data")
            }
            Bad::Lost(size) => format!("lost record at {at:#x} of {size} bytes"),
        })
    }
}

/// What is wrong with a perf record (for [`PerfRing::bad_record`]).
#[derive(Clone, Copy, Debug)]
enum Bad {
    Misaligned,
    Size(usize, u64),
    Sample(usize, usize),
    Lost(usize),
}

/// One CPU's event and ring.
#[derive(Debug)]
struct CpuRing {
    ring: PerfRing,
    fd: OwnedFd,
}

/// The consumer of a `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: one perf ring per online CPU, all on one
/// epoll set.
///
/// ```no_run
/// # fn f(obj: &rawbpf::Object) -> rawbpf::Result<()> {
/// use rawbpf::map::{PerfBuffer, PerfBufferOptions, PerfRecord};
/// use std::time::Duration;
/// let mut events = PerfBuffer::new(obj.map("events")?, PerfBufferOptions::default())?;
/// events.poll(Some(Duration::from_millis(100)), |e| match e {
///     PerfRecord::Sample { cpu, data } => println!("cpu {cpu}: {} bytes", data.len()),
///     PerfRecord::Lost { cpu, count } => eprintln!("cpu {cpu}: lost {count}"),
/// })?;
/// # Ok(()) }
/// ```
///
/// The events' fds are stored in the map (key = CPU) by [`PerfBuffer::new`] and deleted from it
/// on drop. [`AsFd`] gives the epoll fd, readable when any CPU's ring has data.
#[derive(Debug)]
pub struct PerfBuffer {
    rings: Vec<CpuRing>,
    events: EventSet,
    /// The map (our own fd: the kernel clears the entries a map file set when it is closed).
    map: Map,
    scratch: Vec<u8>,
}

/// The CPUs a kernel CPU list (`"0-3,8"`) names, in order; `None` if malformed.
pub(crate) fn parse_cpu_ids(s: &str) -> Option<Vec<u32>> {
    let mut v = Vec::new();
    for part in s.trim().split(',') {
        match part.trim().split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                if b < a || b - a > 1 << 16 {
                    return None;
                }
                v.extend(a..=b);
            }
            None => v.push(part.trim().parse().ok()?),
        }
    }
    Some(v)
}

impl PerfBuffer {
    /// Opens a `PERF_COUNT_SW_BPF_OUTPUT` event on every online CPU below the map's
    /// `max_entries`, maps its ring (one page + `opts.pages` pages), enables it, stores its fd
    /// in `map` at the CPU's index, and adds it to the epoll set.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for another map type or a page count that is not a power of
    /// two; [`Error::MissingCapability`] (`CAP_PERFMON`) or [`Error::Syscall`] when
    /// `perf_event_open`, `mmap` or the map update fail.
    pub fn new(map: &Map, opts: PerfBufferOptions) -> Result<PerfBuffer> {
        if map.map_type() != MapType::PERF_EVENT_ARRAY {
            return Err(Error::InvalidArgument(format!(
                "map \"{}\" is a {:?}, not a PERF_EVENT_ARRAY",
                map.name(),
                map.map_type()
            )));
        }
        if !opts.pages.is_power_of_two() {
            return Err(Error::InvalidArgument(format!(
                "{} data pages per CPU: the kernel wants a power of two",
                opts.pages
            )));
        }
        let page = page_size();
        let data_size = opts
            .pages
            .checked_mul(page)
            .ok_or_else(|| Error::InvalidArgument(format!("{} pages", opts.pages)))?;
        let online = std::fs::read_to_string("/sys/devices/system/cpu/online")
            .map_err(|e| Error::io("/sys/devices/system/cpu/online", e))?;
        let cpus = parse_cpu_ids(&online).ok_or_else(|| {
            Error::io(
                "/sys/devices/system/cpu/online",
                std::io::Error::new(std::io::ErrorKind::InvalidData, online.clone()),
            )
        })?;
        let map = map.try_clone()?;
        let mut pb = PerfBuffer {
            rings: Vec::new(),
            events: EventSet::new().map_err(|e| Error::syscall("epoll_create1", e))?,
            map,
            scratch: Vec::new(),
        };
        let mut flags = 0;
        if opts.watermark {
            flags |= attr_flags::WATERMARK;
        }
        let attr = PerfEventAttr {
            type_: PERF_TYPE_SOFTWARE,
            config: PERF_COUNT_SW_BPF_OUTPUT,
            sample_type: PERF_SAMPLE_RAW,
            sample_period: 1,
            wakeup_events: opts.wakeup_events.max(1),
            flags,
            ..Default::default()
        };
        for cpu in cpus.into_iter().filter(|c| *c < pb.map.max_entries()) {
            let fd = perf_event_open(&attr, -1, cpu as i32, None, 0).map_err(|e| {
                if e == crate::sys::Errno::EPERM || e == crate::sys::Errno::EACCES {
                    if let Some(cap) = super::capability_missing(&["CAP_PERFMON"]) {
                        return Error::MissingCapability {
                            call: "perf_event_open",
                            capability: cap,
                            context: Some(format!("BPF output event on CPU {cpu}")),
                        };
                    }
                }
                Error::syscall_ctx(
                    "perf_event_open",
                    e,
                    Some(format!("BPF output event on CPU {cpu}")),
                )
            })?;
            let mapping =
                SharedMapping::map(fd.as_fd(), page + data_size, 0, true).map_err(|e| {
                    Error::Syscall {
                        call: "mmap",
                        errno: e,
                        context: Some(format!("perf ring of CPU {cpu}")),
                        hint: (e == crate::sys::Errno::EPERM).then_some(
                            "perf rings count against perf_event_mlock_kb: use fewer pages",
                        ),
                    }
                })?;
            perf_event_enable(fd.as_fd())
                .map_err(|e| Error::syscall("PERF_EVENT_IOC_ENABLE", e))?;
            let name = format!("perf buffer \"{}\" (CPU {cpu})", pb.map.name());
            let ring = PerfRing::new(mapping, data_size, cpu, name)?;
            let raw = u32::try_from(fd.as_raw_fd()).unwrap_or(u32::MAX);
            pb.map.update(&cpu.to_ne_bytes(), &raw.to_ne_bytes(), ANY)?;
            pb.events
                .add(fd.as_fd(), pb.rings.len() as u64, false)
                .map_err(|e| Error::syscall("epoll_ctl", e))?;
            pb.rings.push(CpuRing { ring, fd });
        }
        Ok(pb)
    }

    /// The CPUs with a ring, in order.
    pub fn cpus(&self) -> impl Iterator<Item = u32> + '_ {
        self.rings.iter().map(|r| r.ring.cpu)
    }

    /// Samples dropped on `cpu` so far, as `PERF_RECORD_LOST` records reported them (`None`
    /// for a CPU without a ring).
    pub fn lost(&self, cpu: u32) -> Option<u64> {
        self.rings
            .iter()
            .find(|r| r.ring.cpu == cpu)
            .map(|r| r.ring.lost)
    }

    /// Samples dropped on all CPUs so far.
    pub fn lost_total(&self) -> u64 {
        self.rings.iter().map(|r| r.ring.lost).sum()
    }

    /// Hands every record of every CPU's ring to `f` without waiting; returns how many
    /// (samples and lost records).
    ///
    /// # Errors
    /// [`Error::CorruptBuffer`] when a ring holds something the kernel never writes; the
    /// rings and records before it were consumed.
    pub fn consume(&mut self, mut f: impl FnMut(PerfRecord<'_>)) -> Result<usize> {
        let mut n = 0;
        for r in &mut self.rings {
            n += r.ring.consume(&mut self.scratch, &mut f)?;
        }
        Ok(n)
    }

    /// As [`PerfBuffer::consume`] for the ring of one CPU.
    pub fn consume_cpu(&mut self, cpu: u32, mut f: impl FnMut(PerfRecord<'_>)) -> Result<usize> {
        match self.rings.iter_mut().find(|r| r.ring.cpu == cpu) {
            Some(r) => r.ring.consume(&mut self.scratch, &mut f),
            None => Ok(0),
        }
    }

    /// Consumes every ring; when none had a record, waits up to `timeout` (`None`: forever)
    /// for one. Returns how many records were handed (0 after a timeout or a signal).
    ///
    /// # Errors
    /// As [`PerfBuffer::consume`]; [`Error::Syscall`] (`"epoll_wait"`).
    pub fn poll(
        &mut self,
        timeout: Option<Duration>,
        mut f: impl FnMut(PerfRecord<'_>),
    ) -> Result<usize> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let n = self.consume(&mut f)?;
            if n > 0 {
                return Ok(n);
            }
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(l) if !l.is_zero() => Some(l),
                    _ => return Ok(0),
                },
            };
            // Records that came without a wakeup (wakeup_events > 1) are read now.
            let mut pending = false;
            for r in &self.rings {
                pending |= r.ring.readable()?;
            }
            if pending {
                continue;
            }
            self.events
                .wait(left, |_| {})
                .map_err(|e| Error::syscall("epoll_wait", e))?;
        }
    }

    /// Whether any CPU's ring holds a record (without consuming it).
    ///
    /// # Errors
    /// [`Error::CorruptBuffer`] when a ring's head makes no sense.
    pub fn readable(&self) -> Result<bool> {
        for r in &self.rings {
            if r.ring.readable()? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The perf event fd of `cpu`'s ring (to wait on one CPU alone).
    pub fn cpu_fd(&self, cpu: u32) -> Option<BorrowedFd<'_>> {
        self.rings
            .iter()
            .find(|r| r.ring.cpu == cpu)
            .map(|r| r.fd.as_fd())
    }
}

impl AsFd for PerfBuffer {
    /// The epoll fd: readable when any CPU's ring has been woken.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.events.as_fd()
    }
}

impl Drop for PerfBuffer {
    fn drop(&mut self) {
        for r in &self.rings {
            let _ = self.map.delete(&r.ring.cpu.to_ne_bytes());
        }
    }
}

/// Test-only access to a ring's bytes (the unit tests fake rings in memory; the `unsafe`
/// stays in this file).
#[cfg(test)]
impl PerfRing {
    /// Sets byte `off` of the mapping.
    fn test_write_byte(&self, off: usize, b: u8) {
        // SAFETY: the test is the only writer and nothing borrows the ring meanwhile.
        unsafe { self.map.bytes_mut(off, 1) }.expect("in the mapping")[0] = b;
    }
}

#[cfg(test)]
mod tests;
