//! Typed views over the socket and device maps: [`SockMap`], [`SockHash`], [`DevMap`] (also
//! `DEVMAP_HASH`), [`CpuMap`], [`XskMap`].
//!
//! These maps take file descriptors (sockets, programs) or interface indices on update and give
//! back something else on lookup: a socket cookie, a program id. Their values come in two sizes
//! the kernel accepts (4 bytes, or 8 with the second half for the cookie or program), so the
//! views check the type and key size and accept either value size.

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd};

use super::{Buf, Map, MapType, Pod, UpdateFlags};
use crate::error::{Error, Result};
use crate::sys::Errno;

/// Checks the type, the key size and that the value size is one of `values`.
fn check_net_map(
    map: &Map,
    types: &[MapType],
    key: usize,
    values: &[u32],
    view: &str,
) -> Result<()> {
    if !types.contains(&map.map_type()) {
        return Err(Error::InvalidArgument(format!(
            "map \"{}\" is a {:?}, which a {view} cannot view (expected one of {types:?})",
            map.name(),
            map.map_type()
        )));
    }
    if map.key_size() as usize != key || !values.contains(&map.value_size()) {
        return Err(Error::InvalidArgument(format!(
            "map \"{}\" has {}-byte keys and {}-byte values, a {view} needs {key}-byte keys and \
             values of {values:?} bytes",
            map.name(),
            map.key_size(),
            map.value_size()
        )));
    }
    Ok(())
}

fn raw_fd(fd: &impl AsFd) -> u32 {
    fd.as_fd().as_raw_fd() as u32
}

/// A socket fd as a sockmap/sockhash value: a `u32`, or a `u64` in a map with 8-byte values
/// (the kernel reads the value at the map's value size).
fn sock_value(map: &Map, sock: &impl AsFd) -> Buf {
    let fd = raw_fd(sock);
    if map.value_size() == 8 {
        Buf::of(&u64::from(fd))
    } else {
        Buf::of(&fd)
    }
}

fn cookie_lookup(map: &Map, key: &[u8]) -> Result<Option<u64>> {
    if map.value_size() != 8 {
        return Err(Error::InvalidArgument(format!(
            "map \"{}\" has 4-byte values: the kernel gives a socket's cookie only from maps \
             created with 8-byte values",
            map.name()
        )));
    }
    let mut v = [0u8; 8];
    Ok(map.lookup(key, &mut v)?.then(|| u64::from_ne_bytes(v)))
}

/// A `SOCKMAP`: an array of sockets (established TCP, UDP, unix; listening TCP sockets too)
/// for `sk_msg`/`sk_skb` programs to redirect to.
///
/// [`SockMap::set`] takes a socket fd; [`SockMap::get`] gives the socket's cookie
/// (`SO_COOKIE`), which the kernel only reports for maps created with 8-byte values.
#[derive(Debug)]
pub struct SockMap<M = Map> {
    map: M,
}

impl<M: Borrow<Map>> SockMap<M> {
    /// Views `map`, a `SOCKMAP` with 4-byte keys and 4- or 8-byte values.
    pub fn new(map: M) -> Result<Self> {
        check_net_map(map.borrow(), &[MapType::SOCKMAP], 4, &[4, 8], "SockMap")?;
        Ok(SockMap { map })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// The map back.
    pub fn into_inner(self) -> M {
        self.map
    }

    /// Puts the socket `sock` at `index`.
    pub fn set(&self, index: u32, sock: &impl AsFd, flags: UpdateFlags) -> Result<()> {
        let v = sock_value(self.map(), sock);
        self.map().update(&index.to_ne_bytes(), v.as_ref(), flags)
    }

    /// The cookie of the socket at `index`, `None` if the slot is empty.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a map with 4-byte values (the kernel reports no cookie).
    pub fn get(&self, index: u32) -> Result<Option<u64>> {
        cookie_lookup(self.map(), &index.to_ne_bytes())
    }

    /// Empties `index`; `false` if it was empty.
    pub fn remove(&self, index: u32) -> Result<bool> {
        match self.map().delete(&index.to_ne_bytes()) {
            // The kernel says EINVAL for an empty slot within bounds.
            Err(e) if e.errno() == Some(Errno::EINVAL) && index < self.map().max_entries() => {
                Ok(false)
            }
            r => r,
        }
    }
}

/// A `SOCKHASH`: sockets under keys `K` (often a 5-tuple).
///
/// As [`SockMap`], with keys instead of indices.
#[derive(Debug)]
pub struct SockHash<K, M = Map> {
    map: M,
    _t: PhantomData<K>,
}

impl<K: Pod, M: Borrow<Map>> SockHash<K, M> {
    /// Views `map`, a `SOCKHASH` with `K`-sized keys and 4- or 8-byte values.
    pub fn new(map: M) -> Result<Self> {
        check_net_map(
            map.borrow(),
            &[MapType::SOCKHASH],
            K::SIZE,
            &[4, 8],
            "SockHash",
        )?;
        Ok(SockHash {
            map,
            _t: PhantomData,
        })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Puts the socket `sock` under `key`.
    pub fn insert(&self, key: &K, sock: &impl AsFd, flags: UpdateFlags) -> Result<()> {
        let v = sock_value(self.map(), sock);
        self.map().update(Buf::of(key).as_ref(), v.as_ref(), flags)
    }

    /// The cookie of the socket under `key`, `None` if absent.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a map with 4-byte values (the kernel reports no cookie).
    pub fn get(&self, key: &K) -> Result<Option<u64>> {
        cookie_lookup(self.map(), Buf::of(key).as_ref())
    }

    /// Removes `key`; `false` if it was absent.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map().delete(Buf::of(key).as_ref())
    }

    /// The keys.
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
        self.map().keys().map(|k| k.map(|k| K::read_from(&k)))
    }
}

/// An entry of a [`DevMap`] or a [`CpuMap`] as the kernel reports it: the target (an
/// interface index, or a CPU map's queue size) and the id of the program that runs on
/// redirected frames there, if any (`struct bpf_devmap_val` / `struct bpf_cpumap_val`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RedirectEntry {
    /// The interface index (device maps) or the queue size (CPU maps).
    pub target: u32,
    /// The id of the attached program; `None` when there is none or the map's values have no
    /// room for one (4-byte values).
    pub prog_id: Option<u32>,
}

/// The value of a device/CPU map entry: `target`, then the program fd (or -1 for none) when
/// the map's values are 8 bytes.
fn redirect_value(map: &Map, target: u32, prog: Option<&impl AsFd>) -> Result<Buf> {
    match (map.value_size(), prog) {
        (4, None) => Ok(Buf::of(&target)),
        (4, Some(_)) => Err(Error::InvalidArgument(format!(
            "map \"{}\" has 4-byte values: create it with 8-byte values to attach a program to \
             an entry",
            map.name()
        ))),
        (_, prog) => {
            let fd = prog.map_or(-1i32, |p| p.as_fd().as_raw_fd());
            Ok(Buf::of(&[target, fd as u32]))
        }
    }
}

fn redirect_lookup(map: &Map, key: u32) -> Result<Option<RedirectEntry>> {
    let mut v = [0u8; 8];
    let v = &mut v[..map.value_size() as usize];
    if !map.lookup(&key.to_ne_bytes(), v)? {
        return Ok(None);
    }
    let target = u32::read_from(v);
    let prog_id = (v.len() == 8)
        .then(|| u32::read_from(&v[4..]))
        .filter(|id| *id != 0);
    Ok(Some(RedirectEntry { target, prog_id }))
}

/// A `DEVMAP` or `DEVMAP_HASH`: network devices for `bpf_redirect_map` from XDP.
///
/// Keys are `u32` (indices of a `DEVMAP`, any value for a `DEVMAP_HASH`); values an interface
/// index, plus with 8-byte values the fd of an XDP program loaded for `BPF_XDP_DEVMAP` to run
/// on frames redirected there.
#[derive(Debug)]
pub struct DevMap<M = Map> {
    map: M,
}

impl<M: Borrow<Map>> DevMap<M> {
    /// Views `map`, a `DEVMAP` or `DEVMAP_HASH` with 4-byte keys and 4- or 8-byte values.
    pub fn new(map: M) -> Result<Self> {
        check_net_map(
            map.borrow(),
            &[MapType::DEVMAP, MapType::DEVMAP_HASH],
            4,
            &[4, 8],
            "DevMap",
        )?;
        Ok(DevMap { map })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Sets `key` to the interface `ifindex`, with the program `prog` (8-byte values only).
    pub fn set(
        &self,
        key: u32,
        ifindex: u32,
        prog: Option<&impl AsFd>,
        flags: UpdateFlags,
    ) -> Result<()> {
        let v = redirect_value(self.map(), ifindex, prog)?;
        self.map().update(&key.to_ne_bytes(), v.as_ref(), flags)
    }

    /// The entry at `key`, `None` if absent.
    pub fn get(&self, key: u32) -> Result<Option<RedirectEntry>> {
        redirect_lookup(self.map(), key)
    }

    /// Removes `key`; `false` if it was absent from a `DEVMAP_HASH` (the kernel does not tell
    /// for a `DEVMAP`, which always gives `true`).
    pub fn remove(&self, key: u32) -> Result<bool> {
        self.map().delete(&key.to_ne_bytes())
    }

    /// The keys (for a `DEVMAP`, every index, set or not, as the kernel walks them).
    pub fn keys(&self) -> impl Iterator<Item = Result<u32>> + '_ {
        self.map().keys().map(|k| k.map(|k| u32::read_from(&k)))
    }
}

/// A `CPUMAP`: CPUs for `bpf_redirect_map` from XDP, each with a queue of `qsize` frames
/// (and, with 8-byte values, a program loaded for `BPF_XDP_CPUMAP` to run there).
#[derive(Debug)]
pub struct CpuMap<M = Map> {
    map: M,
}

impl<M: Borrow<Map>> CpuMap<M> {
    /// Views `map`, a `CPUMAP` with 4-byte keys and 4- or 8-byte values.
    pub fn new(map: M) -> Result<Self> {
        check_net_map(map.borrow(), &[MapType::CPUMAP], 4, &[4, 8], "CpuMap")?;
        Ok(CpuMap { map })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Enables `cpu` with a queue of `qsize` frames and the program `prog` (8-byte values
    /// only).
    pub fn set(
        &self,
        cpu: u32,
        qsize: u32,
        prog: Option<&impl AsFd>,
        flags: UpdateFlags,
    ) -> Result<()> {
        let v = redirect_value(self.map(), qsize, prog)?;
        self.map().update(&cpu.to_ne_bytes(), v.as_ref(), flags)
    }

    /// The entry of `cpu` (`target` is its queue size), `None` if it is not enabled.
    pub fn get(&self, cpu: u32) -> Result<Option<RedirectEntry>> {
        redirect_lookup(self.map(), cpu)
    }

    /// Disables `cpu` (whether it was enabled or not: the kernel does not tell).
    pub fn remove(&self, cpu: u32) -> Result<()> {
        self.map().delete(&cpu.to_ne_bytes()).map(drop)
    }
}

/// An `XSKMAP`: AF_XDP sockets for `bpf_redirect_map` from XDP, by queue index.
///
/// The kernel gives no lookup from user space (`EOPNOTSUPP`): a slot can only be set and
/// cleared.
#[derive(Debug)]
pub struct XskMap<M = Map> {
    map: M,
}

impl<M: Borrow<Map>> XskMap<M> {
    /// Views `map`, an `XSKMAP` with 4-byte keys and values.
    pub fn new(map: M) -> Result<Self> {
        check_net_map(map.borrow(), &[MapType::XSKMAP], 4, &[4], "XskMap")?;
        Ok(XskMap { map })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Puts the AF_XDP socket `xsk` at `index`.
    pub fn set(&self, index: u32, xsk: &impl AsFd, flags: UpdateFlags) -> Result<()> {
        self.map()
            .update(&index.to_ne_bytes(), &raw_fd(xsk).to_ne_bytes(), flags)
    }

    /// Empties `index` (whether it was set or not: the kernel does not tell).
    pub fn remove(&self, index: u32) -> Result<()> {
        self.map().delete(&index.to_ne_bytes()).map(drop)
    }
}
