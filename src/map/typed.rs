//! Typed views over a [`Map`]: [`HashMap`], [`Array`], [`PerCpuHashMap`], [`PerCpuArray`].
//!
//! A view wraps a map (owned, or borrowed through `&Map`: any `M: Borrow<Map>`), checks at
//! construction that the map's type and key/value sizes match the Rust types, and serialises
//! keys and values through [`Pod`]. Single-element operations do not allocate for keys and
//! values up to 64 bytes.

use std::borrow::Borrow;
use std::marker::PhantomData;

use super::{
    Buf, Map, MapOptions, MapType, Pod, UpdateFlags, per_cpu_slot, with_image, with_zeroed,
};
use crate::error::{Error, Result};

/// Checks a map's type and sizes against a view's expectations.
pub(crate) fn check_map(
    map: &Map,
    types: &[MapType],
    key: usize,
    value: usize,
    view: &str,
) -> Result<()> {
    if !types.contains(&map.map_type()) {
        return Err(Error::InvalidArgument(format!(
            "map \"{}\" is a {:?}, which a {view} cannot view (expected one of {types:?})",
            map.name(),
            map.map_type()
        )));
    }
    if map.key_size() as usize != key || map.value_size() as usize != value {
        return Err(Error::InvalidArgument(format!(
            "map \"{}\" has {}-byte keys and {}-byte values, the {view}'s types have {key} and {value}",
            map.name(),
            map.key_size(),
            map.value_size()
        )));
    }
    Ok(())
}

/// A hash map (`HASH` or `LRU_HASH`) with keys `K` and values `V`.
#[derive(Debug)]
pub struct HashMap<K, V, M = Map> {
    map: M,
    _t: PhantomData<(K, V)>,
}

impl<K: Pod, V: Pod> HashMap<K, V, Map> {
    /// Creates a new `HASH` map named `name` with room for `max_entries`.
    pub fn create(name: &str, max_entries: u32) -> Result<Self> {
        let map = Map::create(
            &MapOptions::new(
                MapType::HASH,
                size32(K::SIZE)?,
                size32(V::SIZE)?,
                max_entries,
            )
            .name(name),
        )?;
        HashMap::new(map)
    }
}

impl<K: Pod, V: Pod, M: Borrow<Map>> HashMap<K, V, M> {
    /// Views `map`, which must be a `HASH` or `LRU_HASH` map with `K`/`V`-sized keys/values.
    pub fn new(map: M) -> Result<Self> {
        check_map(
            map.borrow(),
            &[MapType::HASH, MapType::LRU_HASH],
            K::SIZE,
            V::SIZE,
            "HashMap",
        )?;
        Ok(HashMap {
            map,
            _t: PhantomData,
        })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// The map back.
    pub fn into_inner(self) -> M {
        self.map
    }

    /// The value of `key`, `None` if absent.
    #[inline]
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        with_image(key, |k| {
            with_zeroed(V::SIZE, |v| {
                Ok(self.map().lookup(k, v)?.then(|| V::read_from(v)))
            })
        })
    }

    /// Sets `key` to `value` (`flags`: [`ANY`](super::ANY), `NOEXIST`, `EXIST`).
    #[inline]
    pub fn insert(&self, key: &K, value: &V, flags: UpdateFlags) -> Result<()> {
        with_image(key, |k| {
            with_image(value, |v| self.map().update(k, v, flags))
        })
    }

    /// Removes `key`; `false` if it was absent.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map().delete(Buf::of(key).as_ref())
    }

    /// Removes `key` and returns its value (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`).
    pub fn take(&self, key: &K) -> Result<Option<V>> {
        let mut v = Buf::zeroed(V::SIZE);
        Ok(self
            .map()
            .lookup_and_delete(Buf::of(key).as_ref(), v.as_mut())?
            .then(|| V::read_from(v.as_ref())))
    }

    /// The keys.
    pub fn keys(&self) -> impl Iterator<Item = Result<K>> + '_ {
        self.map().keys().map(|k| k.map(|k| K::read_from(&k)))
    }

    /// The entries (a key deleted between the key walk and its lookup is skipped).
    pub fn iter(&self) -> impl Iterator<Item = Result<(K, V)>> + '_ {
        self.keys().filter_map(move |k| match k {
            Ok(k) => match self.get(&k) {
                Ok(Some(v)) => Some(Ok((k, v))),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            },
            Err(e) => Some(Err(e)),
        })
    }
}

/// An `ARRAY` map with values `V`, indexed `0..max_entries`.
#[derive(Debug)]
pub struct Array<V, M = Map> {
    map: M,
    _t: PhantomData<V>,
}

impl<V: Pod> Array<V, Map> {
    /// Creates a new `ARRAY` map named `name` with `len` elements (all zero).
    pub fn create(name: &str, len: u32) -> Result<Self> {
        Array::new(Map::create(
            &MapOptions::new(MapType::ARRAY, 4, size32(V::SIZE)?, len).name(name),
        )?)
    }
}

impl<V: Pod, M: Borrow<Map>> Array<V, M> {
    /// Views `map`, which must be an `ARRAY` with `V`-sized values.
    pub fn new(map: M) -> Result<Self> {
        check_map(map.borrow(), &[MapType::ARRAY], 4, V::SIZE, "Array")?;
        Ok(Array {
            map,
            _t: PhantomData,
        })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// The map back.
    pub fn into_inner(self) -> M {
        self.map
    }

    /// The number of elements.
    pub fn len(&self) -> u32 {
        self.map().max_entries()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index`.
    #[inline]
    pub fn get(&self, index: u32) -> Result<V> {
        with_zeroed(V::SIZE, |v| {
            // An array has every index below its size: the kernel says ENOENT only past it.
            if self.map().lookup(&index.to_ne_bytes(), v)? {
                Ok(V::read_from(v))
            } else {
                Err(index_error(self.map(), index))
            }
        })
    }

    /// Sets the value at `index`.
    #[inline]
    pub fn set(&self, index: u32, value: &V, flags: UpdateFlags) -> Result<()> {
        check_index(self.map(), index)?;
        with_image(value, |v| self.map().update(&index.to_ne_bytes(), v, flags))
    }

    /// All values, in index order.
    pub fn iter(&self) -> impl Iterator<Item = Result<V>> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }
}

#[inline(always)]
fn check_index(map: &Map, index: u32) -> Result<()> {
    if index >= map.max_entries() {
        return Err(index_error(map, index));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn index_error(map: &Map, index: u32) -> Error {
    Error::InvalidArgument(format!(
        "index {index} out of bounds of map \"{}\" ({} entries)",
        map.name(),
        map.max_entries()
    ))
}

pub(crate) fn size32(n: usize) -> Result<u32> {
    u32::try_from(n)
        .map_err(|_| Error::InvalidArgument(format!("{n} bytes is too large for a map key/value")))
}

/// One value per possible CPU, in CPU order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerCpuValues<V>(pub Vec<V>);

impl<V> std::ops::Deref for PerCpuValues<V> {
    type Target = [V];
    fn deref(&self) -> &[V] {
        &self.0
    }
}

fn decode_per_cpu<V: Pod>(buf: &[u8]) -> PerCpuValues<V> {
    let slot = per_cpu_slot(V::SIZE as u32);
    PerCpuValues(buf.chunks_exact(slot).map(V::read_from).collect())
}

fn encode_per_cpu<V: Pod>(map: &Map, values: &[V]) -> Result<Vec<u8>> {
    let slot = per_cpu_slot(V::SIZE as u32);
    let cpus = map.value_buf_size() / slot;
    if values.len() != cpus {
        return Err(Error::InvalidArgument(format!(
            "{} values for per-CPU map \"{}\": give one per possible CPU ({cpus})",
            values.len(),
            map.name()
        )));
    }
    let mut buf = vec![0u8; map.value_buf_size()];
    for (v, chunk) in values.iter().zip(buf.chunks_exact_mut(slot)) {
        v.write_to(chunk);
    }
    Ok(buf)
}

/// A `PERCPU_HASH` or `LRU_PERCPU_HASH` map: each key has one `V` per possible CPU.
#[derive(Debug)]
pub struct PerCpuHashMap<K, V, M = Map> {
    map: M,
    _t: PhantomData<(K, V)>,
}

impl<K: Pod, V: Pod, M: Borrow<Map>> PerCpuHashMap<K, V, M> {
    /// Views `map`.
    pub fn new(map: M) -> Result<Self> {
        check_map(
            map.borrow(),
            &[MapType::PERCPU_HASH, MapType::LRU_PERCPU_HASH],
            K::SIZE,
            V::SIZE,
            "PerCpuHashMap",
        )?;
        Ok(PerCpuHashMap {
            map,
            _t: PhantomData,
        })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Every CPU's value of `key`, `None` if absent.
    pub fn get(&self, key: &K) -> Result<Option<PerCpuValues<V>>> {
        let mut buf = vec![0u8; self.map().value_buf_size()];
        Ok(self
            .map()
            .lookup(Buf::of(key).as_ref(), &mut buf)?
            .then(|| decode_per_cpu(&buf)))
    }

    /// Sets `key` to one value per possible CPU.
    pub fn insert(&self, key: &K, values: &[V], flags: UpdateFlags) -> Result<()> {
        let buf = encode_per_cpu(self.map(), values)?;
        self.map().update(Buf::of(key).as_ref(), &buf, flags)
    }

    /// Removes `key` and returns every CPU's value (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`, Linux
    /// 5.14 for per-CPU hashes), `None` if absent.
    pub fn take(&self, key: &K) -> Result<Option<PerCpuValues<V>>> {
        let mut buf = vec![0u8; self.map().value_buf_size()];
        Ok(self
            .map()
            .lookup_and_delete(Buf::of(key).as_ref(), &mut buf)?
            .then(|| decode_per_cpu(&buf)))
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

/// A `PERCPU_ARRAY` map: each index has one `V` per possible CPU.
#[derive(Debug)]
pub struct PerCpuArray<V, M = Map> {
    map: M,
    _t: PhantomData<V>,
}

impl<V: Pod, M: Borrow<Map>> PerCpuArray<V, M> {
    /// Views `map`.
    pub fn new(map: M) -> Result<Self> {
        check_map(
            map.borrow(),
            &[MapType::PERCPU_ARRAY],
            4,
            V::SIZE,
            "PerCpuArray",
        )?;
        Ok(PerCpuArray {
            map,
            _t: PhantomData,
        })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Every CPU's value at `index`.
    pub fn get(&self, index: u32) -> Result<PerCpuValues<V>> {
        check_index(self.map(), index)?;
        let mut buf = vec![0u8; self.map().value_buf_size()];
        self.map().lookup(&index.to_ne_bytes(), &mut buf)?;
        Ok(decode_per_cpu(&buf))
    }

    /// Sets `index` to one value per possible CPU.
    pub fn set(&self, index: u32, values: &[V], flags: UpdateFlags) -> Result<()> {
        check_index(self.map(), index)?;
        let buf = encode_per_cpu(self.map(), values)?;
        self.map().update(&index.to_ne_bytes(), &buf, flags)
    }
}
