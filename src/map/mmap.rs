//! [`Map::mmap`]: the values of a `BPF_F_MMAPABLE` array mapped into memory.

use std::sync::atomic::Ordering;

use super::{Map, MapFlags, MapType};
use crate::error::{Error, Result};
use crate::sys::{Errno, MapMmap};

impl Map {
    /// Maps the values of this `BPF_F_MMAPABLE` array into memory ([`MapMmap`]): reads and
    /// writes then cost no syscall. This is how global data (`.bss`, `.data`, `.rodata`) is
    /// usually accessed.
    ///
    /// The mapping is read-only when the map cannot be written from user space: created with
    /// [`MapFlags::RDONLY_PROG`], frozen (through this handle, or found frozen by the kernel),
    /// or opened read-only; else it is writable. While a writable mapping exists the kernel
    /// refuses to [`freeze`](Map::freeze) the map (`EBUSY`): freeze first. The mapping keeps
    /// the map alive and is unmapped when dropped.
    ///
    /// ```no_run
    /// use rawbpf::map::{Map, MapFlags, MapOptions, MapType};
    ///
    /// let map = Map::create(&MapOptions::new(MapType::ARRAY, 4, 8, 4).flags(MapFlags::MMAPABLE))?;
    /// let mem = map.mmap()?;
    /// mem.write(8, &7u64.to_ne_bytes())?; // element 1
    /// let mut v = [0u8; 8];
    /// mem.read(8, &mut v)?;
    /// assert_eq!(u64::from_ne_bytes(v), 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the map is not an array created with
    /// [`MapFlags::MMAPABLE`]; [`Error::Syscall`] (call `"mmap"`) if the kernel refuses, e.g.
    /// `ENOTSUPP` when the values hold special fields (spin locks, timers, kptrs).
    pub fn mmap(&self) -> Result<MapMmap> {
        self.check_mmapable()?;
        let read_only = self.flags().contains(MapFlags::RDONLY_PROG)
            || self.frozen.load(Ordering::Relaxed)
            || self.fd_flags.contains(MapFlags::RDONLY);
        if !read_only {
            match MapMmap::read_write(self.sys_fd()) {
                // Frozen through another handle: only a read-only mapping is allowed.
                Err(e) if e == Errno::EPERM => {}
                r => return r.map_err(|e| self.mmap_error(e)),
            }
        }
        self.mmap_read_only()
    }

    /// Maps the values of this `BPF_F_MMAPABLE` array read-only, whatever the map allows
    /// (see [`Map::mmap`]). A read-only mapping does not keep the map from being frozen.
    ///
    /// # Errors
    /// As [`Map::mmap`].
    pub fn mmap_read_only(&self) -> Result<MapMmap> {
        self.check_mmapable()?;
        MapMmap::read_only(self.sys_fd()).map_err(|e| self.mmap_error(e))
    }

    fn check_mmapable(&self) -> Result<()> {
        if self.map_type() != MapType::ARRAY || !self.flags().contains(MapFlags::MMAPABLE) {
            return Err(Error::InvalidArgument(format!(
                "map \"{}\" ({:?}, flags {:?}) cannot be mmapped: only arrays created with \
                 BPF_F_MMAPABLE can",
                self.name(),
                self.map_type(),
                self.flags()
            )));
        }
        Ok(())
    }

    fn mmap_error(&self, errno: Errno) -> Error {
        let hint = match errno {
            e if e == Errno::ENOTSUPP => Some(
                "the map's values hold special fields (spin lock, timer, kptr, …), which cannot \
                 be mmapped: use lookup/update",
            ),
            e if e == Errno::EACCES => Some("the fd was opened read-only or write-only"),
            e if e == Errno::EPERM => Some("the map is frozen: map it read-only"),
            _ => None,
        };
        Error::Syscall {
            call: "mmap",
            errno,
            context: self.ctx(),
            hint,
        }
    }
}
