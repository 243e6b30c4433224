//! bpftool's sorted order for `format c`: by kind rank, then the name the type sorts under,
//! then its own name, then a hash over its members' names and types, then id.

use super::super::{BtfError, TypeId};
use super::graph::*;
use std::cmp::Ordering;

const MAX_RANK: i32 = 10;

/// Hops through references after which a chain is declared a loop (bpftool would recurse
/// forever).
const MAX_HOPS: usize = 1024;

/// Recursion depth of the hash (it follows modifiers, typedefs, pointers and arrays only).
const MAX_HASH_DEPTH: usize = 64;

/// bpftool's `btf_type_rank`.
fn rank(g: &Graph<'_>, mut id: TypeId, mut has_name: bool) -> Result<i32, BtfError> {
    for _ in 0..MAX_HOPS {
        let h = g.head(id);
        if h.name_off != 0 {
            has_name = true;
        }
        match h.kind() {
            ENUM | ENUM64 if id != 0 => return Ok(if has_name { 1 } else { 0 }),
            INT | FLOAT if id != 0 => return Ok(2),
            STRUCT | UNION => return Ok(if has_name { 3 } else { MAX_RANK }),
            FUNC_PROTO => return Ok(if has_name { 4 } else { MAX_RANK }),
            ARRAY if has_name => id = g.array(id).0,
            TYPE_TAG | CONST | PTR | VOLATILE | RESTRICT | TYPEDEF | DECL_TAG if has_name => {
                id = h.st
            }
            _ => return Ok(MAX_RANK),
        }
    }
    Err(BtfError::Loop { id })
}

/// bpftool's `btf_type_sort_name`, as a string offset.
fn sort_name_off(g: &Graph<'_>, mut id: TypeId) -> Result<u32, BtfError> {
    let mut from_ref = false;
    for _ in 0..MAX_HOPS {
        let h = g.head(id);
        match h.kind() {
            ENUM | ENUM64 => {
                let mut off = h.name_off;
                if !from_ref && off == 0 && h.vlen() != 0 {
                    off = g.enumerator(id, 0).0;
                }
                return Ok(off);
            }
            ARRAY => id = g.array(id).0,
            TYPE_TAG | CONST | PTR | VOLATILE | RESTRICT | TYPEDEF | DECL_TAG => id = h.st,
            _ => return Ok(h.name_off),
        }
        from_ref = true;
    }
    Err(BtfError::Loop { id })
}

/// libbpf's `str_hash` (C `char` is signed on the hosts bpftool runs on).
///
/// Eight bytes at a time: `h·31⁸ + c₀·31⁷ + … + c₇` is the same sum modulo 2⁶⁴, with the eight
/// products independent of each other.
fn str_hash(s: &[u8]) -> u64 {
    const P: [u64; 9] = {
        let mut p = [1u64; 9];
        let mut i = 1;
        while i < 9 {
            p[i] = p[i - 1].wrapping_mul(31);
            i += 1;
        }
        p
    };
    let c = |b: u8| b as i8 as i64 as u64;
    let mut chunks = s.chunks_exact(8);
    let mut h = 0u64;
    for w in &mut chunks {
        let mut sum = h.wrapping_mul(P[8]);
        for (k, &b) in w.iter().enumerate() {
            sum = sum.wrapping_add(c(b).wrapping_mul(P[7 - k]));
        }
        h = sum;
    }
    chunks
        .remainder()
        .iter()
        .fold(h, |h, &b| h.wrapping_mul(31).wrapping_add(c(b)))
}

#[inline]
fn hasher(h: u64, v: u64) -> u64 {
    h.wrapping_mul(31).wrapping_add(v)
}

fn name_hasher(g: &Graph<'_>, h: u64, off: u32) -> u64 {
    if off == 0 {
        h
    } else {
        hasher(h, str_hash(g.str(off)))
    }
}

/// Hashes worth keeping, by id and whether members count: structs and unions with their
/// members, enums. The rest (names, and chains of modifiers, typedefs, pointers and arrays to
/// those) are quick to compute again.
type Memo = std::collections::HashMap<u32, u64, std::hash::BuildHasherDefault<FxHasher>>;

/// bpftool's `btf_type_disambig_hash`.
fn disambig_hash(
    g: &Graph<'_>,
    id: TypeId,
    include_members: bool,
    depth: usize,
    memo: &mut Memo,
) -> Result<u64, BtfError> {
    if depth > MAX_HASH_DEPTH {
        return Err(BtfError::Loop { id });
    }
    let head = g.head(id);
    let kind = head.kind();
    // An enum's hash is the same with or without members.
    let key = match kind {
        ENUM | ENUM64 => Some(id << 1),
        STRUCT | UNION if include_members => Some(id << 1 | 1),
        _ => None,
    };
    if let Some(h) = key.and_then(|k| memo.get(&k)) {
        return Ok(*h);
    }
    let mut h = name_hasher(g, 0, head.name_off);
    match kind {
        ENUM | ENUM64 => {
            for (name, _) in g.enumerators(id) {
                h = name_hasher(g, h, name);
            }
        }
        STRUCT | UNION if include_members => {
            for m in g.members(id) {
                h = name_hasher(g, h, m.name_off);
                h = hasher(h, disambig_hash(g, m.ty, false, depth + 1, memo)?);
            }
        }
        TYPE_TAG | CONST | PTR | VOLATILE | RESTRICT | TYPEDEF | DECL_TAG => {
            h = hasher(
                h,
                disambig_hash(g, head.st, include_members, depth + 1, memo)?,
            );
        }
        ARRAY => {
            let (elem, _, n) = g.array(id);
            h = hasher(h, n as u64);
            h = hasher(h, disambig_hash(g, elem, include_members, depth + 1, memo)?);
        }
        _ => {}
    }
    if let Some(k) = key {
        memo.insert(k, h);
    }
    Ok(h)
}

/// 16 bytes: `key` is the first 8 bytes of the sort name; the names themselves are looked up
/// again only to break ties (then `key` and `sort_off` are reused for the tie-breaking keys).
struct Datum {
    key: u64,
    id: TypeId,
    sort_off: u32,
}

/// The ids of one rank, in order.
pub(super) struct RankIds<'a> {
    first: std::slice::Iter<'a, TypeId>,
    rest: std::slice::Iter<'a, Datum>,
}

impl Iterator for RankIds<'_> {
    type Item = TypeId;
    #[inline]
    fn next(&mut self) -> Option<TypeId> {
        match self.first.next() {
            Some(&id) => Some(id),
            None => self.rest.next().map(|d| d.id),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.first.len() + self.rest.len();
        (n, Some(n))
    }
}

/// Ranks bigger than this are sorted in chunks.
const CHUNK: usize = 32 * 1024;

/// The first byte of the string at `off` (0 for the empty string).
fn first_byte(g: &Graph<'_>, off: u32) -> u8 {
    g.str_byte(off)
}

/// No rank: a type left out of the order.
const UNRANKED: u8 = u8::MAX;

/// The ids in the order bpftool dumps them (`sort_btf_c`, then its loop from index 1: the
/// first sorted entry is never dumped on its own, exactly as bpftool does), handed to `sink`
/// one rank at a time, lowest rank first, so that a caller on another thread can start
/// writing the first ranks while the later ones are sorted. `sink` returns `false` to stop.
///
/// bpftool's order is by rank, sort name, own name, disambiguation hash, id: a total order,
/// so any way of sorting by it gives bpftool's. Each rank is sorted by the first 8 bytes of
/// the sort name, then each run of equal prefixes by the whole names, then each run of equal
/// names by hash and id, hashing only the types in such runs.
pub(super) fn sorted_by_rank(
    g: &Graph<'_>,
    mut sink: impl FnMut(RankIds<'_>) -> bool,
) -> Result<(), BtfError> {
    let n = g.count();
    let mut rank_of = vec![UNRANKED; n as usize];
    let mut counts = [0usize; MAX_RANK as usize + 1];
    // Dumping a FUNC, VAR, DATASEC or DECL_TAG writes nothing and changes nothing that a
    // later dump looks at, unless another type refers to one the way only corrupt BTF does:
    // then they need no place in the order (about half of vmlinux's types).
    let prune = !g.silent_refs;
    let silent = |id: TypeId| id != 0 && matches!(g.kind(id), FUNC | VAR | DATASEC | DECL_TAG);
    for (id, r) in (0..n).zip(rank_of.iter_mut()) {
        if prune && silent(id) {
            continue;
        }
        let k = rank(g, id, false)?;
        *r = k as u8;
        counts[k as usize] += 1;
    }
    // Unless one of them would be the first entry, which bpftool skips: then sort them all.
    if prune && counts[..MAX_RANK as usize].iter().all(|&c| c == 0) {
        for (id, r) in (0..n).zip(rank_of.iter_mut()) {
            if silent(id) {
                let k = rank(g, id, false)?;
                *r = k as u8;
                counts[k as usize] += 1;
            }
        }
    }
    let mut memo = Memo::default();
    let mut data: Vec<Datum> = Vec::new();
    let mut zeros: Vec<TypeId> = Vec::new();
    let mut groups = Vec::new();
    let mut first = true;
    for (k, &count) in counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let in_rank = || (0..n).zip(&rank_of).filter(move |&(_, &r)| r as usize == k);
        // A big rank is sorted in chunks by the first byte of the sort name (the most
        // significant part of the order), so that its records need less memory at once.
        let mut chunks = vec![(0u8, 255u8, count)];
        let mut first_bytes = Vec::new();
        if count > CHUNK {
            let mut by_byte = [0usize; 256];
            first_bytes.reserve_exact(count);
            for (id, _) in in_rank() {
                let b = first_byte(g, sort_name_off(g, id)?);
                by_byte[b as usize] += 1;
                first_bytes.push(b);
            }
            chunks.clear();
            let mut lo = 0;
            let mut len = 0;
            for (b, &c) in by_byte.iter().enumerate() {
                if len > 0 && len + c > CHUNK {
                    chunks.push((lo, b as u8 - 1, len));
                    lo = b as u8;
                    len = 0;
                }
                len += c;
            }
            chunks.push((lo, 255, len));
        }
        for (lo, hi, len) in chunks {
            if len == 0 {
                continue;
            }
            // Types with no sort name, no name and a hash of 0 (anonymous prototypes, pointers
            // to them or to void: most of vmlinux's biggest rank) come first, by id: the order
            // they are found in. Only their ids are kept.
            zeros.clear();
            data.clear();
            let in_chunk = |i: usize| first_bytes.get(i).is_none_or(|b| (lo..=hi).contains(b));
            let mut others = len;
            if lo == 0 {
                zeros.reserve_exact(len);
                for (_, (id, _)) in in_rank().enumerate().filter(|&(i, _)| in_chunk(i)) {
                    if first_byte(g, g.name_off(id)) == 0
                        && first_byte(g, sort_name_off(g, id)?) == 0
                        && disambig_hash(g, id, true, 0, &mut memo)? == 0
                    {
                        zeros.push(id);
                    }
                }
                others = len - zeros.len();
            }
            data.reserve_exact(others);
            for (_, (id, _)) in in_rank().enumerate().filter(|&(i, _)| in_chunk(i)) {
                if zeros.binary_search(&id).is_ok() {
                    continue;
                }
                let sort_off = sort_name_off(g, id)?;
                data.push(Datum {
                    key: prefix(g.str(sort_off)),
                    id,
                    sort_off,
                });
            }
            data.sort_unstable_by_key(|d| d.key);
            let mut i = 0;
            while i < data.len() {
                let mut j = i + 1;
                while j < data.len() && data[j].key == data[i].key {
                    j += 1;
                }
                if j - i > 1 {
                    sort_equal_prefixes(g, &mut data[i..j], &mut memo, &mut groups)?;
                }
                i = j;
            }
            let mut ids = RankIds {
                first: zeros.iter(),
                rest: data.iter(),
            };
            if first {
                ids.next();
                first = false;
            }
            if !sink(ids) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Sorts entries whose sort names share their first 8 bytes: by the names, then by hash and id.
fn sort_equal_prefixes(
    g: &Graph<'_>,
    run: &mut [Datum],
    memo: &mut Memo,
    groups: &mut Vec<Group>,
) -> Result<(), BtfError> {
    // Group the entries by their (sort name, own name) offsets: most runs are a few such
    // groups (the thousands of anonymous prototypes are one), so the names are looked up and
    // compared once per group.
    for d in run.iter_mut() {
        d.key = (d.sort_off as u64) << 32 | g.name_off(d.id) as u64;
    }
    run.sort_unstable_by_key(|d| d.key);
    groups.clear();
    let mut i = 0;
    while i < run.len() {
        let mut j = i + 1;
        while j < run.len() && run[j].key == run[i].key {
            j += 1;
        }
        let (sort_off, own_off) = ((run[i].key >> 32) as u32, run[i].key as u32);
        groups.push(Group {
            sort_off,
            sort_len: g.str(sort_off).len() as u32,
            own_off,
            own_len: g.str(own_off).len() as u32,
            start: i as u32,
            len: (j - i) as u32,
        });
        i = j;
    }
    // The groups in name order; groups with equal names (the same strings at other offsets)
    // share a rank. Each entry then gets that rank (in `sort_off`) and its hash (in `key`).
    groups.sort_unstable_by(|a, b| a.cmp_names(g, b));
    let mut rank = 0u32;
    let mut i = 0;
    while i < groups.len() {
        let mut j = i + 1;
        let mut len = groups[i].len as usize;
        while j < groups.len() && groups[i].cmp_names(g, &groups[j]) == Ordering::Equal {
            len += groups[j].len as usize;
            j += 1;
        }
        for grp in &groups[i..j] {
            for d in &mut run[grp.start as usize..(grp.start + grp.len) as usize] {
                // Equal names: by hash, then id.
                d.key = if len > 1 {
                    disambig_hash(g, d.id, true, 0, memo)?
                } else {
                    0
                };
                d.sort_off = rank;
            }
        }
        rank += 1;
        i = j;
    }
    run.sort_unstable_by_key(|d| (d.sort_off, d.key, d.id));
    Ok(())
}

/// Entries of a run with the same sort-name and own-name offsets (24 bytes: the names are
/// kept as offsets and lengths).
struct Group {
    sort_off: u32,
    sort_len: u32,
    own_off: u32,
    own_len: u32,
    start: u32,
    len: u32,
}

impl Group {
    /// bpftool's `btf_type_compare` by sort name, then own name (the first 8 bytes of the
    /// sort names are equal).
    fn cmp_names(&self, g: &Graph<'_>, b: &Self) -> Ordering {
        let by_sort = if self.sort_off == b.sort_off {
            Ordering::Equal
        } else {
            let tail = |off, len| g.str_at(off, len).get(8..).unwrap_or(&[]);
            tail(self.sort_off, self.sort_len).cmp(tail(b.sort_off, b.sort_len))
        };
        by_sort.then_with(|| {
            if self.own_off == b.own_off {
                Ordering::Equal
            } else {
                g.str_at(self.own_off, self.own_len)
                    .cmp(g.str_at(b.own_off, b.own_len))
            }
        })
    }
}

/// The first 8 bytes of `s`, zero-padded, as a big-endian number: ordered as `strcmp` orders
/// the strings' first 8 bytes (names hold no NUL).
#[inline]
fn prefix(s: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = s.len().min(8);
    b[..n].copy_from_slice(&s[..n]);
    u64::from_be_bytes(b)
}
