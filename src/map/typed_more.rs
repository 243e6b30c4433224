//! More typed views: [`Queue`], [`Stack`], [`BloomFilter`], [`ProgArray`], [`MapOfMaps`],
//! [`LpmTrie`].

use std::borrow::Borrow;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd};

use super::typed::check_map;
use super::{Buf, Map, MapType, Pod, UpdateFlags};
use crate::error::{Error, Result};

macro_rules! keyless_view {
    ($(#[$m:meta])* $name:ident, $ty:expr, $what:literal) => {
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name<V, M = Map> {
            map: M,
            _t: PhantomData<V>,
        }

        impl<V: Pod, M: Borrow<Map>> $name<V, M> {
            /// Views `map`, which must have no key and `V`-sized values.
            pub fn new(map: M) -> Result<Self> {
                check_map(map.borrow(), &[$ty], 0, V::SIZE, stringify!($name))?;
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
        }
    };
}

keyless_view!(
    /// A `QUEUE` map (FIFO).
    Queue, MapType::QUEUE, "queue"
);
keyless_view!(
    /// A `STACK` map (LIFO).
    Stack, MapType::STACK, "stack"
);
keyless_view!(
    /// A `BLOOM_FILTER` map: values can be added and tested, never removed; a test can give
    /// false positives, never false negatives.
    BloomFilter, MapType::BLOOM_FILTER, "bloom filter"
);

macro_rules! push_pop {
    ($name:ident) => {
        impl<V: Pod, M: Borrow<Map>> $name<V, M> {
            /// Pushes `value`. With [`UpdateFlags::EXIST`] a full map drops its oldest value
            /// instead of failing (`BPF_EXIST`).
            pub fn push(&self, value: &V, flags: UpdateFlags) -> Result<()> {
                self.map().update(&[], Buf::of(value).as_ref(), flags)
            }

            /// Removes and returns the next value, `None` when empty.
            pub fn pop(&self) -> Result<Option<V>> {
                let mut v = Buf::zeroed(V::SIZE);
                Ok(self
                    .map()
                    .lookup_and_delete(&[], v.as_mut())?
                    .then(|| V::read_from(v.as_ref())))
            }

            /// Returns the next value without removing it, `None` when empty.
            pub fn peek(&self) -> Result<Option<V>> {
                let mut v = Buf::zeroed(V::SIZE);
                Ok(self
                    .map()
                    .lookup(&[], v.as_mut())?
                    .then(|| V::read_from(v.as_ref())))
            }
        }
    };
}
push_pop!(Queue);
push_pop!(Stack);

impl<V: Pod, M: Borrow<Map>> BloomFilter<V, M> {
    /// Adds `value`.
    pub fn insert(&self, value: &V) -> Result<()> {
        self.map()
            .update(&[], Buf::of(value).as_ref(), UpdateFlags::empty())
    }

    /// Whether `value` may have been added (`false`: it certainly was not).
    pub fn contains(&self, value: &V) -> Result<bool> {
        // The kernel reads the value buffer as the value to test.
        let mut v = Buf::of(value);
        self.map().lookup(&[], v.as_mut())
    }
}

/// A `PROG_ARRAY` (tail-call table): program fds in, program ids out.
#[derive(Debug)]
pub struct ProgArray<M = Map> {
    map: M,
}

impl<M: Borrow<Map>> ProgArray<M> {
    /// Views `map`, which must be a `PROG_ARRAY`.
    pub fn new(map: M) -> Result<Self> {
        check_map(map.borrow(), &[MapType::PROG_ARRAY], 4, 4, "ProgArray")?;
        Ok(ProgArray { map })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Puts `prog` at `index` (tail calls to `index` now run it).
    pub fn set(&self, index: u32, prog: &impl AsFd) -> Result<()> {
        let fd = prog.as_fd().as_raw_fd() as u32;
        self.map().update(
            &index.to_ne_bytes(),
            &fd.to_ne_bytes(),
            UpdateFlags::empty(),
        )
    }

    /// The id of the program at `index`, `None` if the slot is empty.
    pub fn get(&self, index: u32) -> Result<Option<u32>> {
        let mut id = [0u8; 4];
        Ok(self
            .map()
            .lookup(&index.to_ne_bytes(), &mut id)?
            .then(|| u32::from_ne_bytes(id)))
    }

    /// Empties `index`; `false` if it was empty.
    pub fn clear(&self, index: u32) -> Result<bool> {
        self.map().delete(&index.to_ne_bytes())
    }
}

/// An `ARRAY_OF_MAPS` or `HASH_OF_MAPS` with keys `K`: inner map fds in, inner map ids out.
#[derive(Debug)]
pub struct MapOfMaps<K, M = Map> {
    map: M,
    _t: PhantomData<K>,
}

impl<K: Pod, M: Borrow<Map>> MapOfMaps<K, M> {
    /// Views `map`.
    pub fn new(map: M) -> Result<Self> {
        check_map(
            map.borrow(),
            &[MapType::ARRAY_OF_MAPS, MapType::HASH_OF_MAPS],
            K::SIZE,
            4,
            "MapOfMaps",
        )?;
        Ok(MapOfMaps {
            map,
            _t: PhantomData,
        })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Sets `key` to the inner map `inner` (its layout must match the template's).
    pub fn set(&self, key: &K, inner: &impl AsFd, flags: UpdateFlags) -> Result<()> {
        let fd = inner.as_fd().as_raw_fd() as u32;
        self.map()
            .update(Buf::of(key).as_ref(), &fd.to_ne_bytes(), flags)
    }

    /// The id of the inner map at `key` (open it with [`Map::from_id`]), `None` if absent.
    pub fn get(&self, key: &K) -> Result<Option<u32>> {
        let mut id = [0u8; 4];
        Ok(self
            .map()
            .lookup(Buf::of(key).as_ref(), &mut id)?
            .then(|| u32::from_ne_bytes(id)))
    }

    /// Removes `key`; `false` if it was absent.
    pub fn remove(&self, key: &K) -> Result<bool> {
        self.map().delete(Buf::of(key).as_ref())
    }
}

/// A key of an LPM trie: a prefix length in bits and the data (`struct bpf_lpm_trie_key_u8`:
/// `u32 prefixlen` then the bytes, in network order for IP addresses).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LpmKey<K> {
    /// Number of leading bits of `data` that count.
    pub prefix_len: u32,
    /// The address (or other bit string).
    pub data: K,
}

impl<K> LpmKey<K> {
    /// A key of `prefix_len` bits of `data`.
    pub fn new(prefix_len: u32, data: K) -> Self {
        LpmKey { prefix_len, data }
    }
}

impl<K: Pod> Pod for LpmKey<K> {
    const SIZE: usize = 4 + K::SIZE;
    fn write_to(&self, out: &mut [u8]) {
        self.prefix_len.write_to(out);
        self.data.write_to(&mut out[4..]);
    }
    fn read_from(bytes: &[u8]) -> Self {
        LpmKey {
            prefix_len: u32::read_from(bytes),
            data: K::read_from(&bytes[4..]),
        }
    }
}

/// An `LPM_TRIE` (longest-prefix match) with data `K` (e.g. `[u8; 4]` for IPv4) and values `V`.
#[derive(Debug)]
pub struct LpmTrie<K, V, M = Map> {
    map: M,
    _t: PhantomData<(K, V)>,
}

impl<K: Pod, V: Pod, M: Borrow<Map>> LpmTrie<K, V, M> {
    /// Views `map`.
    pub fn new(map: M) -> Result<Self> {
        check_map(
            map.borrow(),
            &[MapType::LPM_TRIE],
            LpmKey::<K>::SIZE,
            V::SIZE,
            "LpmTrie",
        )?;
        Ok(LpmTrie {
            map,
            _t: PhantomData,
        })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// Inserts the prefix `key`.
    pub fn insert(&self, key: &LpmKey<K>, value: &V, flags: UpdateFlags) -> Result<()> {
        if key.prefix_len as usize > K::SIZE * 8 {
            return Err(Error::InvalidArgument(format!(
                "prefix length {} exceeds the {} bits of the key",
                key.prefix_len,
                K::SIZE * 8
            )));
        }
        self.map()
            .update(Buf::of(key).as_ref(), Buf::of(value).as_ref(), flags)
    }

    /// The value of the longest prefix that matches `key` (give the full-length key of an
    /// address to look it up), `None` if none matches.
    pub fn get(&self, key: &LpmKey<K>) -> Result<Option<V>> {
        let mut v = Buf::zeroed(V::SIZE);
        Ok(self
            .map()
            .lookup(Buf::of(key).as_ref(), v.as_mut())?
            .then(|| V::read_from(v.as_ref())))
    }

    /// Removes exactly the prefix `key`; `false` if it was absent.
    pub fn remove(&self, key: &LpmKey<K>) -> Result<bool> {
        self.map().delete(Buf::of(key).as_ref())
    }
}
