//! The four batch operations of [`Map`] (`BPF_MAP_{LOOKUP,LOOKUP_AND_DELETE,UPDATE,DELETE}_BATCH`).
//!
//! Lookups walk the map with a [`BatchCursor`] that carries the kernel's opaque position
//! between calls. A call may return *fewer* elements than asked for without being at the end
//! (a hash map only returns whole buckets), so a dump loops until the cursor says
//! [`done`](BatchCursor::done), never until a short batch.

use super::{Map, UpdateFlags};
use crate::error::{Error, Result};
use crate::sys::Errno;
use crate::sys::{self, BatchError};

/// The position of a batch dump of one map, reused across calls (allocation-free after
/// creation).
#[derive(Clone, Debug)]
pub struct BatchCursor {
    token: Vec<u8>,
    next: Vec<u8>,
    started: bool,
    done: bool,
}

impl BatchCursor {
    /// A cursor at the start of `map`.
    pub fn new(map: &Map) -> Self {
        // Hash maps keep a u32 bucket index, arrays a key.
        let n = map.sys_fd().batch_cursor_len();
        BatchCursor {
            token: vec![0; n],
            next: vec![0; n],
            started: false,
            done: false,
        }
    }

    /// Whether the last call reached the end of the map.
    pub fn done(&self) -> bool {
        self.done
    }

    /// Starts over from the first element.
    pub fn reset(&mut self) {
        self.started = false;
        self.done = false;
    }
}

/// `sys::map_lookup_batch` or `sys::map_lookup_and_delete_batch`.
type LookupBatchFn = fn(
    &sys::MapFd,
    Option<&[u8]>,
    &mut [u8],
    &mut [u8],
    &mut [u8],
    UpdateFlags,
) -> std::result::Result<u32, BatchError>;

impl Map {
    fn batch_count(&self, keys: usize, values: usize) -> Result<u32> {
        let ks = self.key_size() as usize;
        let vs = self.value_buf_size();
        if ks == 0 || keys % ks != 0 || values % vs.max(1) != 0 || keys / ks != values / vs.max(1) {
            return Err(Error::InvalidArgument(format!(
                "batch buffers of {keys} key bytes and {values} value bytes do not hold the same number of \
                 {ks}-byte keys and {vs}-byte values (map \"{}\")",
                self.name()
            )));
        }
        u32::try_from(keys / ks).map_err(|_| Error::InvalidArgument("batch too large".into()))
    }

    /// `BPF_MAP_LOOKUP_BATCH`: copies the next elements after `cursor` into `keys` and
    /// `values` (whole keys and [`value_buf_size`](Map::value_buf_size) values, as many as
    /// fit) and returns how many it copied; `cursor.done()` tells whether the map is
    /// exhausted. A return of fewer elements than fit does not mean the end.
    ///
    /// # Errors
    /// `ENOSPC` (with a hint) when one hash bucket holds more elements than the buffers do.
    pub fn lookup_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [u8],
        values: &mut [u8],
    ) -> Result<usize> {
        self.lookup_batch_impl(
            "BPF_MAP_LOOKUP_BATCH",
            sys::map_lookup_batch,
            cursor,
            keys,
            values,
        )
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_BATCH`: as [`lookup_batch`](Map::lookup_batch), and removes
    /// what it returns.
    pub fn lookup_and_delete_batch(
        &self,
        cursor: &mut BatchCursor,
        keys: &mut [u8],
        values: &mut [u8],
    ) -> Result<usize> {
        self.lookup_batch_impl(
            "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
            sys::map_lookup_and_delete_batch,
            cursor,
            keys,
            values,
        )
    }

    fn lookup_batch_impl(
        &self,
        call: &'static str,
        lookup: LookupBatchFn,
        cursor: &mut BatchCursor,
        keys: &mut [u8],
        values: &mut [u8],
    ) -> Result<usize> {
        if cursor.done {
            return Ok(0);
        }
        // Checks that the buffers hold whole, equally many keys and values.
        self.batch_count(keys.len(), values.len())?;
        let in_batch = cursor.started.then_some(&cursor.token[..]);
        let res = lookup(
            self.sys_fd(),
            in_batch,
            &mut cursor.next,
            keys,
            values,
            UpdateFlags::empty(),
        );
        match res {
            Ok(n) => {
                std::mem::swap(&mut cursor.token, &mut cursor.next);
                cursor.started = true;
                Ok(n as usize)
            }
            Err(BatchError { errno, count }) if errno == Errno::ENOENT => {
                cursor.done = true;
                Ok(count as usize)
            }
            Err(BatchError { errno, count: 0 }) if errno == Errno::ENOSPC => Err(Error::Syscall {
                call,
                errno,
                context: self.ctx(),
                hint: Some(
                    "a hash bucket holds more elements than the batch buffers: pass larger buffers",
                ),
            }),
            Err(BatchError { errno, .. }) => Err(self.elem_error(call, errno)),
        }
    }

    /// `BPF_MAP_UPDATE_BATCH`: sets every key in `keys` to the matching value in `values`;
    /// returns how many were set (all of them on success).
    pub fn update_batch(
        &self,
        keys: &[u8],
        values: &[u8],
        elem_flags: UpdateFlags,
    ) -> Result<usize> {
        self.batch_count(keys.len(), values.len())?;
        sys::map_update_batch(self.sys_fd(), keys, values, elem_flags)
            .map(|n| n as usize)
            .map_err(|e| self.elem_error("BPF_MAP_UPDATE_BATCH", e.errno))
    }

    /// `BPF_MAP_DELETE_BATCH`: removes every key in `keys`; returns how many were removed.
    /// Fails (`ENOENT`) at the first absent key of a hash map.
    pub fn delete_batch(&self, keys: &[u8]) -> Result<usize> {
        let ks = self.key_size() as usize;
        if ks == 0 || keys.len() % ks != 0 {
            return Err(Error::InvalidArgument(format!(
                "{} key bytes are not whole {ks}-byte keys",
                keys.len()
            )));
        }
        sys::map_delete_batch(self.sys_fd(), keys, UpdateFlags::empty())
            .map(|n| n as usize)
            .map_err(|e| self.elem_error("BPF_MAP_DELETE_BATCH", e.errno))
    }
}
