//! Lookup by name: a linear scan the first time (no allocation), a hash index after that.

use super::parse::{rd32, record_len};
use super::{Btf, Kind, Type, essential_len};
use std::sync::atomic::Ordering;

/// Levels of split BTF searched by name lookups (the kernel has one: modules over vmlinux).
const MAX_SPLIT_DEPTH: usize = 8;

/// FxHash-style hash of a name, 32 bits, eight bytes at a time.
fn hash(b: &[u8]) -> u32 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).wrapping_mul(K);
    }
    let r = chunks.remainder();
    if !r.is_empty() {
        let mut buf = [0u8; 8];
        buf[..r.len()].copy_from_slice(r);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    (h >> 32) as u32
}

#[derive(Clone, Copy)]
enum Mode {
    /// The full name equals the query.
    Exact,
    /// The essential name (flavor suffix stripped) equals the query's essential name.
    Essential,
}

#[derive(Clone, Copy)]
struct Query<'q> {
    name: &'q [u8],
    kind: Option<Kind>,
    mode: Mode,
}

impl Query<'_> {
    #[inline]
    fn key(&self) -> &[u8] {
        match self.mode {
            Mode::Exact => self.name,
            Mode::Essential => &self.name[..essential_len(self.name)],
        }
    }

    #[inline]
    fn matches(&self, t: &Type<'_>) -> bool {
        if self.kind.is_some_and(|k| k != t.kind()) {
            return false;
        }
        let n = t.name_bytes();
        match self.mode {
            Mode::Exact => n == self.name,
            Mode::Essential => n[..essential_len(n)] == *self.key(),
        }
    }
}

/// Iterator over the types that match a name lookup ([`Btf::find_all`]).
pub struct Matches<'b, 'q> {
    q: Query<'q>,
    /// The blobs still to search: base chain first, innermost last.
    stack: [Option<&'b Btf<'b>>; MAX_SPLIT_DEPTH],
    cur: Option<Source<'b>>,
}

enum Source<'b> {
    Scan {
        btf: &'b Btf<'b>,
        off: usize,
        id: u32,
        end: u32,
        strs: &'b [u8],
        str_base: u32,
    },
    Index {
        btf: &'b Btf<'b>,
        entries: &'b [u64],
        pos: usize,
        key: u32,
    },
}

impl<'b> Matches<'b, '_> {
    fn source(&self, btf: &'b Btf<'b>) -> Source<'b> {
        // The index is keyed by essential names, for exact lookups too.
        let key = hash(&self.q.name[..essential_len(self.q.name)]);
        let n = btf.lookups.fetch_add(1, Ordering::Relaxed);
        // The index holds named types only: anonymous ones are always scanned for.
        if (n == 0 && btf.name_index.get().is_none()) || self.q.name.is_empty() {
            return Source::Scan {
                btf,
                off: 0,
                id: btf.first_id,
                end: btf.first_id + btf.count,
                strs: btf.string_section(),
                str_base: btf.str_base,
            };
        }
        let entries = btf.name_index.get_or_init(|| build_index(btf)).as_slice();
        let pos = entries.partition_point(|&e| ((e >> 32) as u32) < key);
        Source::Index {
            btf,
            entries,
            pos,
            key,
        }
    }
}

impl<'b> Iterator for Matches<'b, '_> {
    type Item = Type<'b>;

    fn next(&mut self) -> Option<Type<'b>> {
        loop {
            if self.cur.is_none() {
                let btf = self.stack.iter_mut().find_map(Option::take)?;
                self.cur = Some(self.source(btf));
            }
            let found = match self.cur.as_mut()? {
                Source::Scan {
                    btf,
                    off,
                    id,
                    end,
                    strs,
                    str_base,
                } => scan(btf, off, id, *end, strs, *str_base, &self.q),
                Source::Index {
                    btf,
                    entries,
                    pos,
                    key,
                } => {
                    let mut found = None;
                    while let Some(&e) = entries.get(*pos) {
                        if (e >> 32) as u32 != *key {
                            break;
                        }
                        *pos += 1;
                        if let Ok(t) = btf.type_by_id(e as u32) {
                            if self.q.matches(&t) {
                                found = Some(t);
                                break;
                            }
                        }
                    }
                    found
                }
            };
            match found {
                Some(t) => return Some(t),
                None => self.cur = None,
            }
        }
    }
}

/// The linear scan: compare kinds first, then name bytes in place.
#[inline]
fn scan<'b>(
    btf: &'b Btf<'b>,
    off: &mut usize,
    id: &mut u32,
    end: u32,
    strs: &[u8],
    str_base: u32,
    q: &Query<'_>,
) -> Option<Type<'b>> {
    let types = btf.type_section();
    let want = q.kind.map(|k| k as u32);
    while *id < end {
        let at = *off;
        let info = rd32(types, at + 4);
        let len = record_len(info);
        *off += len;
        let this = *id;
        *id += 1;
        if want.is_some_and(|k| (info >> 24) & 0x1f != k) {
            continue;
        }
        let name_off = rd32(types, at);
        let hit = match q.mode {
            Mode::Exact if name_off >= str_base => {
                // Fast path: compare in place, the name must be followed by its NUL.
                let s = (name_off - str_base) as usize;
                let n = q.name.len();
                strs.get(s..s + n) == Some(q.name) && strs.get(s + n) == Some(&0)
            }
            _ => {
                let t = Type::new(btf, this, types.get(at..at + len).unwrap_or(&[]));
                q.matches(&t)
            }
        };
        if hit {
            return Some(Type::new(btf, this, types.get(at..at + len).unwrap_or(&[])));
        }
    }
    None
}

/// (hash of essential name << 32 | id) of every named own type, sorted.
fn build_index(btf: &Btf<'_>) -> Vec<u64> {
    let mut v = Vec::with_capacity(btf.count as usize);
    for t in btf.types() {
        let n = t.name_bytes();
        if !n.is_empty() {
            v.push(((hash(&n[..essential_len(n)]) as u64) << 32) | t.id() as u64);
        }
    }
    v.sort_unstable();
    v
}

impl<'a> Btf<'a> {
    fn matches<'b, 'q>(&'b self, name: &'q str, kind: Option<Kind>, mode: Mode) -> Matches<'b, 'q> {
        // The base chain, outermost base first (split BTF over split BTF is allowed).
        let mut chain: [Option<&'b Btf<'b>>; MAX_SPLIT_DEPTH] = [None; MAX_SPLIT_DEPTH];
        let mut depth = 0;
        let mut b: Option<&'b Btf<'b>> = Some(self);
        while let Some(x) = b {
            if depth == MAX_SPLIT_DEPTH {
                break;
            }
            chain[depth] = Some(x);
            depth += 1;
            b = x.base.as_deref();
        }
        chain[..depth].reverse();
        let stack = chain;
        Matches {
            q: Query {
                name: name.as_bytes(),
                kind,
                mode,
            },
            stack,
            cur: None,
        }
    }

    /// All types named `name` of kind `kind`, base types first.
    ///
    /// The first lookup on a blob scans it without allocating; later ones build and use a
    /// hash index.
    pub fn find_all<'b, 'q>(&'b self, name: &'q str, kind: Kind) -> Matches<'b, 'q> {
        self.matches(name, Some(kind), Mode::Exact)
    }

    /// All types named `name`, of any kind.
    pub fn find_all_any_kind<'b, 'q>(&'b self, name: &'q str) -> Matches<'b, 'q> {
        self.matches(name, None, Mode::Exact)
    }

    /// The first type named `name` of kind `kind`, `None` if there is none.
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<Type<'_>> {
        self.find_all(name, kind).next()
    }

    /// The id of the first type named `name` of kind `kind`.
    pub fn id_by_name_kind(&self, name: &str, kind: Kind) -> Option<u32> {
        self.find_by_name_kind(name, kind).map(|t| t.id())
    }

    /// All types of kind `kind` (any kind if `None`) whose essential name (without a
    /// `___flavor` suffix) equals the essential name of `name`: CO-RE candidates.
    pub fn find_by_essential_name<'b, 'q>(
        &'b self,
        name: &'q str,
        kind: Option<Kind>,
    ) -> Matches<'b, 'q> {
        self.matches(name, kind, Mode::Essential)
    }
}
