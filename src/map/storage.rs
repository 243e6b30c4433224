//! Typed views over the local storages: [`TaskStorage`], [`InodeStorage`], [`SkStorage`],
//! [`CgrpStorage`].
//!
//! A local storage hangs one value per map off a kernel object (a task, an inode, a socket, a
//! cgroup); the value lives and dies with the object. Programs reach it through the object
//! (`bpf_task_storage_get(&map, task, …)`); user space names the object by an fd that refers to
//! it: a pidfd for a task, any fd of a file for its inode, a socket fd, an fd of a cgroup v2
//! directory. The key is that fd (4 bytes).
//!
//! The kernel creates these maps only with BTF for the key and value and with
//! `BPF_F_NO_PREALLOC`, which is how BPF objects declare them (`__type(key, int)`), so they
//! usually come from a loaded object.

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use super::typed::check_map;
use super::{Buf, Map, MapType, Pod, UpdateFlags};
use crate::error::{Error, Result};

fn fd_key(fd: &impl AsFd) -> [u8; 4] {
    fd.as_fd().as_raw_fd().to_ne_bytes()
}

macro_rules! storage_view {
    ($(#[$m:meta])* $name:ident, $ty:expr, $obj:literal, $fd:literal) => {
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name<V, M = Map> {
            map: M,
            _t: PhantomData<V>,
        }

        impl<V: Pod, M: Borrow<Map>> $name<V, M> {
            #[doc = concat!("Views `map`, which must be a `", stringify!($ty), "` map with `V`-sized values.")]
            pub fn new(map: M) -> Result<Self> {
                check_map(map.borrow(), &[$ty], 4, V::SIZE, stringify!($name))?;
                Ok($name { map, _t: PhantomData })
            }

            /// The map.
            pub fn map(&self) -> &Map {
                self.map.borrow()
            }

            /// The map back.
            pub fn into_inner(self) -> M {
                self.map
            }

            #[doc = concat!("The value stored for the ", $obj, " `fd` refers to (", $fd, "), `None` if it has none.")]
            pub fn get(&self, fd: &impl AsFd) -> Result<Option<V>> {
                let mut v = Buf::zeroed(V::SIZE);
                Ok(self
                    .map()
                    .lookup(&fd_key(fd), v.as_mut())?
                    .then(|| V::read_from(v.as_ref())))
            }

            #[doc = concat!("Stores `value` for the ", $obj, " `fd` refers to (", $fd, "); `flags`: [`ANY`](super::ANY), `NOEXIST`, `EXIST`, `LOCK`.")]
            pub fn insert(&self, fd: &impl AsFd, value: &V, flags: UpdateFlags) -> Result<()> {
                self.map().update(&fd_key(fd), Buf::of(value).as_ref(), flags)
            }

            #[doc = concat!("Removes the value of the ", $obj, " `fd` refers to; `false` if it had none.")]
            pub fn remove(&self, fd: &impl AsFd) -> Result<bool> {
                self.map().delete(&fd_key(fd))
            }
        }
    };
}

storage_view!(
    /// A `TASK_STORAGE` map (Linux 5.11): one `V` per task, keyed by a pidfd in user space
    /// ([`pidfd`] opens one).
    TaskStorage, MapType::TASK_STORAGE, "task", "a pidfd"
);
storage_view!(
    /// An `INODE_STORAGE` map (Linux 5.10, needs the BPF LSM): one `V` per inode, keyed by an
    /// fd of any open file of that inode in user space.
    InodeStorage, MapType::INODE_STORAGE, "inode", "any open file of it"
);
storage_view!(
    /// An `SK_STORAGE` map (Linux 5.2): one `V` per socket, keyed by the socket's fd in user
    /// space.
    SkStorage, MapType::SK_STORAGE, "socket", "a socket fd"
);
storage_view!(
    /// A `CGRP_STORAGE` map (Linux 6.2): one `V` per cgroup v2, keyed by an fd of the cgroup's
    /// directory in user space.
    CgrpStorage, MapType::CGRP_STORAGE, "cgroup", "its directory in the cgroup v2 tree"
);

impl<V: Pod, M: Borrow<Map>> TaskStorage<V, M> {
    /// The value stored for the process `pid` (through a pidfd), `None` if it has none.
    pub fn get_pid(&self, pid: u32) -> Result<Option<V>> {
        self.get(&pidfd(pid)?)
    }

    /// Stores `value` for the process `pid` (through a pidfd).
    pub fn insert_pid(&self, pid: u32, value: &V, flags: UpdateFlags) -> Result<()> {
        self.insert(&pidfd(pid)?, value, flags)
    }
}

/// `pidfd_open(pid, 0)`: an fd referring to the process `pid` (Linux 5.3), the key of a
/// [`TaskStorage`] in user space.
///
/// # Errors
/// [`Error::Syscall`] (`ESRCH` when no such process exists).
pub fn pidfd(pid: u32) -> Result<OwnedFd> {
    crate::sys::pidfd_open(pid).map_err(|e| Error::Syscall {
        call: "pidfd_open",
        errno: e,
        context: Some(format!("pid {pid}")),
        hint: (e == crate::sys::Errno::from_raw(libc::ESRCH)).then_some("no process has that pid"),
    })
}
