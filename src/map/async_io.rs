//! Async event streams over tokio's [`AsyncFd`] (the `tokio` feature): [`AsyncRingBuf`] and
//! [`AsyncPerfBuffer`] are [`Stream`]s of owned records, and also await batches handed to a
//! zero-copy callback; [`AsyncUserRingBuf`] awaits room in a user ring buffer.
//!
//! The wakeup rule of ring buffers holds here too: before a stream waits for readiness, the
//! ring publishes its consumer position, fences and reads the producer position again
//! ([`RingBuf::ready`]), so a record committed meanwhile is either seen or wakes the fd.
//!
//! ```no_run
//! # async fn f(obj: &rawbpf::Object) -> rawbpf::Result<()> {
//! use futures_core::Stream;
//! use rawbpf::map::{AsyncRingBuf, RingBuf};
//! let mut events = AsyncRingBuf::new(RingBuf::new(obj.map("events")?)?)?;
//! // As a stream of Vec<u8> (with any StreamExt), or zero-copy:
//! let n = events.consume(|record| println!("{} bytes", record.len())).await?;
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_core::Stream;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::{PerfBuffer, PerfRecord, RingBuf, UserRecord, UserRingBuf};
use crate::error::{Error, Result};

fn register_error(e: std::io::Error) -> Error {
    Error::io("tokio AsyncFd registration of a buffer fd", e)
}

fn wait_error(e: std::io::Error) -> Error {
    Error::io("tokio AsyncFd readiness of a buffer fd", e)
}

/// Registers (a duplicate of) `inner`'s fd with the current runtime's reactor.
fn register(inner: &impl AsFd, interest: Interest) -> Result<AsyncFd<OwnedFd>> {
    if let Err(e) = tokio::runtime::Handle::try_current() {
        return Err(Error::InvalidArgument(format!(
            "an async buffer needs a tokio runtime: {e}"
        )));
    }
    crate::sys::async_fd::register(inner.as_fd(), interest).map_err(register_error)
}

/// A [`RingBuf`] whose records can be awaited: a [`Stream`] of owned records (`Vec<u8>`), or
/// [`AsyncRingBuf::consume`] for zero-copy batches.
#[derive(Debug)]
pub struct AsyncRingBuf {
    ring: RingBuf,
    fd: AsyncFd<OwnedFd>,
}

impl AsyncRingBuf {
    /// Registers the ring's fd with the current tokio runtime (call it inside one).
    ///
    /// # Errors
    /// [`Error::Io`] when there is no runtime or the registration fails.
    pub fn new(ring: RingBuf) -> Result<AsyncRingBuf> {
        let fd = register(&ring, Interest::READABLE)?;
        Ok(AsyncRingBuf { ring, fd })
    }

    /// The ring.
    pub fn get_ref(&self) -> &RingBuf {
        &self.ring
    }

    /// The ring back (deregistered).
    pub fn into_inner(self) -> RingBuf {
        self.ring
    }

    /// Waits until at least one record is committed, then hands every committed record to
    /// `f` (zero-copy, as [`RingBuf::consume`]). Returns how many.
    ///
    /// # Errors
    /// As [`RingBuf::consume`]; [`Error::Io`] if waiting fails.
    pub async fn consume(&mut self, mut f: impl FnMut(&[u8])) -> Result<usize> {
        std::future::poll_fn(|cx| self.poll_consume(cx, &mut f)).await
    }

    fn poll_consume(
        &mut self,
        cx: &mut Context<'_>,
        f: &mut impl FnMut(&[u8]),
    ) -> Poll<Result<usize>> {
        loop {
            let n = self.ring.consume(&mut *f)?;
            if n > 0 {
                return Poll::Ready(Ok(n));
            }
            if self.ring.ready()? {
                continue;
            }
            let mut guard = ready!(self.fd.poll_read_ready_mut(cx)).map_err(wait_error)?;
            guard.clear_ready();
        }
    }
}

impl Stream for AsyncRingBuf {
    type Item = Result<Vec<u8>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.ring.next_record() {
                Ok(Some(rec)) => return Poll::Ready(Some(Ok(rec.to_vec()))),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            match this.ring.ready() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            match ready!(this.fd.poll_read_ready_mut(cx)) {
                Ok(mut guard) => guard.clear_ready(),
                Err(e) => return Poll::Ready(Some(Err(wait_error(e)))),
            }
        }
    }
}

/// A record of a perf buffer, owned: what [`AsyncPerfBuffer`] streams.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnedPerfRecord {
    /// A sample's bytes (with the kernel's padding, see [`PerfRecord::Sample`]).
    Sample {
        /// The CPU whose ring it came from.
        cpu: u32,
        /// The data.
        data: Vec<u8>,
    },
    /// `count` samples were dropped on `cpu`.
    Lost {
        /// The CPU.
        cpu: u32,
        /// How many samples.
        count: u64,
    },
}

impl From<PerfRecord<'_>> for OwnedPerfRecord {
    fn from(e: PerfRecord<'_>) -> Self {
        match e {
            PerfRecord::Sample { cpu, data } => OwnedPerfRecord::Sample {
                cpu,
                data: data.to_vec(),
            },
            PerfRecord::Lost { cpu, count } => OwnedPerfRecord::Lost { cpu, count },
        }
    }
}

/// A [`PerfBuffer`] whose records can be awaited: a [`Stream`] of [`OwnedPerfRecord`]s, or
/// [`AsyncPerfBuffer::consume`] for zero-copy batches. Waits on the buffer's epoll fd.
#[derive(Debug)]
pub struct AsyncPerfBuffer {
    pb: PerfBuffer,
    fd: AsyncFd<OwnedFd>,
    queue: VecDeque<OwnedPerfRecord>,
}

impl AsyncPerfBuffer {
    /// Registers the buffer's epoll fd with the current tokio runtime.
    ///
    /// # Errors
    /// [`Error::Io`] when there is no runtime or the registration fails.
    pub fn new(pb: PerfBuffer) -> Result<AsyncPerfBuffer> {
        let fd = register(&pb, Interest::READABLE)?;
        Ok(AsyncPerfBuffer {
            pb,
            fd,
            queue: VecDeque::new(),
        })
    }

    /// The buffer (for [`PerfBuffer::lost`] and friends).
    pub fn get_ref(&self) -> &PerfBuffer {
        &self.pb
    }

    /// The buffer back (deregistered). Records the stream had read but not yet yielded are
    /// dropped.
    pub fn into_inner(self) -> PerfBuffer {
        self.pb
    }

    /// Waits until a ring has a record, then hands every record of every ring to `f`
    /// (zero-copy, as [`PerfBuffer::consume`]). Returns how many.
    ///
    /// # Errors
    /// As [`PerfBuffer::consume`]; [`Error::Io`] if waiting fails.
    pub async fn consume(&mut self, mut f: impl FnMut(PerfRecord<'_>)) -> Result<usize> {
        std::future::poll_fn(|cx| {
            loop {
                let n = self.pb.consume(&mut f)?;
                if n > 0 {
                    return Poll::Ready(Ok(n));
                }
                if self.pb.readable()? {
                    continue;
                }
                let mut guard = ready!(self.fd.poll_read_ready_mut(cx)).map_err(wait_error)?;
                guard.clear_ready();
            }
        })
        .await
    }
}

impl Stream for AsyncPerfBuffer {
    type Item = Result<OwnedPerfRecord>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(r) = this.queue.pop_front() {
                return Poll::Ready(Some(Ok(r)));
            }
            let queue = &mut this.queue;
            match this.pb.consume(|e| queue.push_back(e.into())) {
                Ok(0) => {}
                Ok(_) => continue,
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            match this.pb.readable() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            match ready!(this.fd.poll_read_ready_mut(cx)) {
                Ok(mut guard) => guard.clear_ready(),
                Err(e) => return Poll::Ready(Some(Err(wait_error(e)))),
            }
        }
    }
}

/// A [`UserRingBuf`] whose reservations can await room (the kernel signals it on the map's fd
/// after a program drains records).
#[derive(Debug)]
pub struct AsyncUserRingBuf {
    rb: UserRingBuf,
    fd: AsyncFd<OwnedFd>,
}

impl AsyncUserRingBuf {
    /// Registers the ring's fd with the current tokio runtime.
    ///
    /// # Errors
    /// [`Error::Io`] when there is no runtime or the registration fails.
    pub fn new(rb: UserRingBuf) -> Result<AsyncUserRingBuf> {
        let fd = register(&rb, Interest::WRITABLE)?;
        Ok(AsyncUserRingBuf { rb, fd })
    }

    /// The ring.
    pub fn get_ref(&self) -> &UserRingBuf {
        &self.rb
    }

    /// The ring back (deregistered).
    pub fn into_inner(self) -> UserRingBuf {
        self.rb
    }

    /// Reserves a record of `len` bytes, waiting for the kernel to drain room if needed.
    ///
    /// # Errors
    /// As [`UserRingBuf::reserve`]; [`Error::Io`] if waiting fails.
    pub async fn reserve(&mut self, len: usize) -> Result<UserRecord<'_>> {
        let max = self.rb.max_record();
        if len > max {
            return Err(Error::InvalidArgument(format!(
                "record of {len} bytes: at most {max} fit in the user ring buffer"
            )));
        }
        // Wait first (without holding a record), then reserve: the record borrows the ring.
        std::future::poll_fn(|cx| {
            loop {
                if self.rb.free_bytes()? >= super::ringbuf::record_span(len as u64) {
                    return Poll::Ready(Ok::<(), Error>(()));
                }
                let mut guard = ready!(self.fd.poll_write_ready_mut(cx)).map_err(wait_error)?;
                guard.clear_ready();
            }
        })
        .await?;
        match self.rb.reserve(len)? {
            Some(r) => Ok(r),
            // Only this producer takes room, and it had enough: unreachable unless the
            // kernel's consumer position moved backwards, which free_bytes reports.
            None => Err(Error::CorruptBuffer {
                buffer: "user ring buffer".into(),
                what: "room vanished between the wait and the reservation".into(),
            }),
        }
    }
}
