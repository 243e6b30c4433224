//! Byte-level element operations of [`Map`]: lookup, update, delete, next key, lookup-and-
//! delete, freeze.

use std::sync::atomic::Ordering;

use std::os::fd::AsFd;

use super::{Map, UpdateFlags, types};
use crate::error::{Error, Result};
use crate::sys;
use crate::sys::Errno;

impl Map {
    #[inline(always)]
    fn check_key(&self, key: &[u8]) -> Result<()> {
        if key.len() != self.key_size() as usize {
            return Err(self.key_error(key.len()));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn key_error(&self, len: usize) -> Error {
        Error::InvalidArgument(format!(
            "key of {len} bytes for map \"{}\" whose key size is {}",
            self.name,
            self.key_size()
        ))
    }

    #[inline(always)]
    fn check_value(&self, value: usize) -> Result<()> {
        if value != self.value_buf_size() {
            return Err(self.value_error(value));
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn value_error(&self, value: usize) -> Error {
        Error::InvalidArgument(format!(
            "value buffer of {value} bytes for map \"{}\" whose values take {} bytes{}",
            self.name,
            self.value_buf_size(),
            if self.map_type().is_per_cpu() {
                " (one 8-byte-aligned slot per possible CPU)"
            } else {
                ""
            }
        ))
    }

    /// Checks the key (empty for key-less maps, which the kernel gets as NULL).
    #[inline(always)]
    fn key_arg<'k>(&self, key: &'k [u8]) -> Result<&'k [u8]> {
        // A key-less map has key size 0 (the kernel refuses any other), so a key of the
        // map's key size is right for it too; which error a wrong key gets is decided on
        // the error path only.
        if key.len() != self.key_size() as usize {
            return Err(self.bad_key_error(key.len()));
        }
        Ok(key)
    }

    #[cold]
    #[inline(never)]
    fn bad_key_error(&self, len: usize) -> Error {
        if len != 0 && types::is_keyless(self.map_type()) {
            self.keyless_error()
        } else {
            self.key_error(len)
        }
    }

    #[cold]
    #[inline(never)]
    fn keyless_error(&self) -> Error {
        Error::InvalidArgument(format!(
            "map \"{}\" has no keys: pass an empty key",
            self.name
        ))
    }

    /// The outcome of an element command: `Ok(false)` for `ENOENT` (absent key, end of the
    /// keys, empty queue), an error naming the map for anything else.
    #[inline(always)]
    fn found(&self, call: &'static str, r: std::result::Result<(), Errno>) -> Result<bool> {
        match r {
            Ok(()) => Ok(true),
            Err(e) if e == Errno::ENOENT => Ok(false),
            Err(e) => Err(self.cold_elem_error(call, e)),
        }
    }

    #[cold]
    #[inline(never)]
    fn cold_elem_error(&self, call: &'static str, e: Errno) -> Error {
        self.elem_error(call, e)
    }

    /// `BPF_MAP_LOOKUP_ELEM`: copies the value of `key` into `value` (exactly
    /// [`value_buf_size`](Map::value_buf_size) bytes). Returns `false` when the key is absent.
    /// Allocation-free.
    #[inline]
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.lookup_with_flags(key, value, UpdateFlags::empty())
    }

    /// [`lookup`](Map::lookup) with flags (`BPF_F_LOCK`).
    #[inline]
    pub fn lookup_with_flags(
        &self,
        key: &[u8],
        value: &mut [u8],
        flags: UpdateFlags,
    ) -> Result<bool> {
        let key = self.key_arg(key)?;
        self.check_value(value.len())?;
        self.found(
            "BPF_MAP_LOOKUP_ELEM",
            sys::map_lookup_elem(&self.fd, key, value, flags),
        )
    }

    /// `BPF_MAP_LOOKUP_ELEM` into a new buffer; `None` when the key is absent.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let mut v = vec![0u8; self.value_buf_size()];
        Ok(self.lookup(key, &mut v)?.then_some(v))
    }

    /// `BPF_MAP_UPDATE_ELEM`: sets the value of `key` ([`value_buf_size`](Map::value_buf_size)
    /// bytes). For queues and stacks the key is empty and this pushes.
    #[inline]
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<()> {
        let key = self.key_arg(key)?;
        self.check_value(value.len())?;
        sys::map_update_elem(&self.fd, key, value, flags).map_err(|e| self.update_error(e, flags))
    }

    fn update_error(&self, e: Errno, flags: UpdateFlags) -> Error {
        let hint = if e == Errno::EEXIST && flags.contains(UpdateFlags::NOEXIST) {
            Some("the key exists and BPF_NOEXIST was given")
        } else if e == Errno::ENOENT && flags.contains(UpdateFlags::EXIST) {
            Some("the key does not exist and BPF_EXIST was given")
        } else if e == Errno::E2BIG {
            Some("the map is full (max_entries reached)")
        } else {
            None
        };
        match hint {
            Some(h) => Error::Syscall {
                call: "BPF_MAP_UPDATE_ELEM",
                errno: e,
                context: self.ctx(),
                hint: Some(h),
            },
            None => self.elem_error("BPF_MAP_UPDATE_ELEM", e),
        }
    }

    /// `BPF_MAP_DELETE_ELEM`: removes `key`. Returns `false` when it was absent.
    pub fn delete(&self, key: &[u8]) -> Result<bool> {
        let key = self.key_arg(key)?;
        self.found("BPF_MAP_DELETE_ELEM", sys::map_delete_elem(&self.fd, key))
    }

    /// `BPF_MAP_GET_NEXT_KEY`: writes the key after `key` (the first key for `None`) into
    /// `next`. Returns `false` at the end. Allocation-free.
    #[inline]
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> Result<bool> {
        if let Some(k) = key {
            self.check_key(k)?;
        }
        self.check_key(next)?;
        self.found(
            "BPF_MAP_GET_NEXT_KEY",
            sys::map_get_next_key(&self.fd, key, next),
        )
    }

    /// An iterator over the keys (`BPF_MAP_GET_NEXT_KEY`). If the current key is deleted
    /// while iterating, a hash map restarts from its first key (kernel behaviour).
    pub fn keys(&self) -> Keys<'_> {
        Keys {
            map: self,
            cur: None,
            done: false,
        }
    }

    /// `BPF_MAP_LOOKUP_AND_DELETE_ELEM`: copies the value of `key` into `value` and removes
    /// it. For queues and stacks (empty key) this pops. Returns `false` when absent/empty.
    pub fn lookup_and_delete(&self, key: &[u8], value: &mut [u8]) -> Result<bool> {
        self.lookup_and_delete_with_flags(key, value, UpdateFlags::empty())
    }

    /// [`lookup_and_delete`](Map::lookup_and_delete) with flags (`BPF_F_LOCK`).
    pub fn lookup_and_delete_with_flags(
        &self,
        key: &[u8],
        value: &mut [u8],
        flags: UpdateFlags,
    ) -> Result<bool> {
        let key = self.key_arg(key)?;
        self.check_value(value.len())?;
        match sys::map_lookup_and_delete_elem(&self.fd, key, value, flags) {
            Err(e) if e == Errno::ENOTSUPP || e == Errno::EOPNOTSUPP => Err(Error::Unsupported {
                feature: "BPF_MAP_LOOKUP_AND_DELETE_ELEM on this map type",
                hint: format!(
                    "the kernel has lookup-and-delete for queues and stacks (Linux 4.20), hash \
                     maps, LRU and per-CPU ones included (Linux 5.14), and stack trace maps, not \
                     for {:?} map \"{}\": look the key up, then delete it",
                    self.map_type(),
                    self.name
                ),
            }),
            r => self.found("BPF_MAP_LOOKUP_AND_DELETE_ELEM", r),
        }
    }

    /// `BPF_MAP_FREEZE`: makes the map read-only for user space from now on (programs can
    /// still write it).
    pub fn freeze(&self) -> Result<()> {
        sys::map_freeze(self.fd.as_fd()).map_err(|e| {
            let hint = (e == Errno::EBUSY).then_some("a writable mmap of the map exists");
            Error::Syscall {
                call: "BPF_MAP_FREEZE",
                errno: e,
                context: self.ctx(),
                hint,
            }
        })?;
        self.frozen.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// Iterator over a map's keys, from [`Map::keys`]. Each item is a key's bytes or the error
/// that ended the iteration.
#[derive(Debug)]
pub struct Keys<'m> {
    map: &'m Map,
    cur: Option<Vec<u8>>,
    done: bool,
}

impl Iterator for Keys<'_> {
    type Item = Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut next = vec![0u8; self.map.key_size() as usize];
        match self.map.next_key(self.cur.as_deref(), &mut next) {
            Ok(true) => {
                self.cur = Some(next.clone());
                Some(Ok(next))
            }
            Ok(false) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
