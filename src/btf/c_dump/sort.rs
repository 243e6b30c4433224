//! bpftool's sorted order for `format c`: by kind rank, then the name the type sorts under,
//! then its own name, then a hash over its members' names and types, then id.

use super::super::{BtfError, TypeId};
use super::graph::*;
use std::cmp::Ordering;

const MAX_RANK: i32 = 10;

/// Not computed yet, in the memo of hashes without members.
const NO_HASH: u64 = u64::MAX;

/// Hops through references after which a chain is declared a loop (bpftool would recurse
/// forever).
const MAX_HOPS: usize = 1024;

/// Recursion depth of the hash (it follows modifiers, typedefs, pointers and arrays only).
const MAX_HASH_DEPTH: usize = 64;

/// bpftool's `btf_type_rank`.
fn rank(g: &Graph<'_>, mut id: TypeId, mut has_name: bool) -> Result<i32, BtfError> {
    for _ in 0..MAX_HOPS {
        if g.name_off(id) != 0 {
            has_name = true;
        }
        match g.kind(id) {
            ENUM | ENUM64 if id != 0 => return Ok(if has_name { 1 } else { 0 }),
            INT | FLOAT if id != 0 => return Ok(2),
            STRUCT | UNION => return Ok(if has_name { 3 } else { MAX_RANK }),
            FUNC_PROTO => return Ok(if has_name { 4 } else { MAX_RANK }),
            ARRAY if has_name => id = g.array(id).0,
            TYPE_TAG | CONST | PTR | VOLATILE | RESTRICT | TYPEDEF | DECL_TAG if has_name => {
                id = g.st(id)
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
        match g.kind(id) {
            ENUM | ENUM64 => {
                let mut off = g.name_off(id);
                if !from_ref && off == 0 && g.vlen(id) != 0 {
                    off = g.enumerator(id, 0).0;
                }
                return Ok(off);
            }
            ARRAY => id = g.array(id).0,
            TYPE_TAG | CONST | PTR | VOLATILE | RESTRICT | TYPEDEF | DECL_TAG => id = g.st(id),
            _ => return Ok(g.name_off(id)),
        }
        from_ref = true;
    }
    Err(BtfError::Loop { id })
}

/// libbpf's `str_hash` (C `char` is signed on the hosts bpftool runs on).
fn str_hash(s: &[u8]) -> u64 {
    s.iter().fold(0u64, |h, &c| {
        h.wrapping_mul(31).wrapping_add(c as i8 as i64 as u64)
    })
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

/// bpftool's `btf_type_disambig_hash`; `memo` caches the hashes by id, without and with
/// members.
fn disambig_hash(
    g: &Graph<'_>,
    id: TypeId,
    include_members: bool,
    depth: usize,
    memo: &mut [[u64; 2]],
) -> Result<u64, BtfError> {
    if depth > MAX_HASH_DEPTH {
        return Err(BtfError::Loop { id });
    }
    let h = memo[id as usize][include_members as usize];
    if h != NO_HASH {
        return Ok(h);
    }
    let mut h = name_hasher(g, 0, g.name_off(id));
    match g.kind(id) {
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
                disambig_hash(g, g.st(id), include_members, depth + 1, memo)?,
            );
        }
        ARRAY => {
            let (elem, _, n) = g.array(id);
            h = hasher(h, n as u64);
            h = hasher(h, disambig_hash(g, elem, include_members, depth + 1, memo)?);
        }
        _ => {}
    }
    memo[id as usize][include_members as usize] = h; // NO_HASH itself is just not cached
    Ok(h)
}

/// 32 bytes: `key` is the first 16 bytes of the sort name; the names themselves are looked
/// up again only to break ties.
struct Datum {
    key: u128,
    id: TypeId,
    sort_off: u32,
    own_off: u32,
}

/// The ids in the order bpftool dumps them (`sort_btf_c`, then its loop from index 1: the
/// first sorted entry is never dumped on its own, exactly as bpftool does), handed to `sink`
/// one rank at a time, lowest rank first, so that a caller on another thread can start
/// writing the first ranks while the later ones are sorted. `sink` returns `false` to stop.
///
/// bpftool's order is by rank, sort name, own name, disambiguation hash, id. The hash only
/// matters among types equal in the first three, so each rank is sorted in two steps: by the
/// names, then each run of equals by hash and id, hashing only the types in such runs.
pub(super) fn sorted_by_rank(
    g: &Graph<'_>,
    mut sink: impl FnMut(Vec<TypeId>) -> bool,
) -> Result<(), BtfError> {
    let n = g.count();
    let mut buckets: Vec<Vec<Datum>> = (0..=MAX_RANK).map(|_| Vec::new()).collect();
    let datum = |id: TypeId| -> Result<(i32, Datum), BtfError> {
        let sort_off = sort_name_off(g, id)?;
        let d = Datum {
            key: prefix(g.str(sort_off)),
            id,
            sort_off,
            own_off: g.name_off(id),
        };
        Ok((rank(g, id, false)?, d))
    };
    // Dumping a FUNC, VAR, DATASEC or DECL_TAG writes nothing and changes nothing that a
    // later dump looks at, unless another type refers to one the way only corrupt BTF does:
    // then they need no place in the order (about half of vmlinux's types).
    let prune = !g.silent_refs;
    let mut pruned = Vec::new();
    for id in 0..n {
        if prune && id != 0 && matches!(g.kind(id), FUNC | VAR | DATASEC | DECL_TAG) {
            pruned.push(id);
            continue;
        }
        let (rank, d) = datum(id)?;
        buckets[rank as usize].push(d);
    }
    // Unless one of them would be the first entry, which bpftool skips: then sort them all.
    if buckets[..MAX_RANK as usize].iter().all(Vec::is_empty) {
        for id in pruned {
            let (rank, d) = datum(id)?;
            buckets[rank as usize].push(d);
        }
    }
    let mut memo = vec![[NO_HASH; 2]; n as usize];
    let mut hashed: Vec<(u64, TypeId)> = Vec::new();
    let mut first = true;
    for mut v in buckets {
        if v.is_empty() {
            continue;
        }
        v.sort_unstable_by(|a, b| cmp(g, a, b));
        let mut ids: Vec<TypeId> = v.iter().map(|d| d.id).collect();
        let mut i = 0;
        while i < v.len() {
            let mut j = i + 1;
            while j < v.len() && cmp(g, &v[i], &v[j]) == Ordering::Equal {
                j += 1;
            }
            if j - i > 1 {
                hashed.clear();
                for d in &v[i..j] {
                    hashed.push((disambig_hash(g, d.id, true, 0, &mut memo)?, d.id));
                }
                hashed.sort_unstable();
                for (k, &(_, id)) in hashed.iter().enumerate() {
                    ids[i + k] = id;
                }
            }
            i = j;
        }
        if first {
            ids.remove(0);
            first = false;
        }
        if !sink(ids) {
            break;
        }
    }
    Ok(())
}

/// bpftool's `btf_type_compare` without its last two keys (hash and id).
#[inline]
fn cmp(g: &Graph<'_>, a: &Datum, b: &Datum) -> Ordering {
    a.key
        .cmp(&b.key)
        .then_with(|| {
            // The same offset is the same string, the common case in a tie.
            if a.sort_off == b.sort_off {
                Ordering::Equal
            } else {
                tail_cmp(g.str(a.sort_off), g.str(b.sort_off))
            }
        })
        .then_with(|| {
            if a.own_off == b.own_off {
                Ordering::Equal
            } else {
                g.str(a.own_off).cmp(g.str(b.own_off))
            }
        })
}

/// `strcmp` of two names whose first 16 bytes are equal.
#[inline]
fn tail_cmp(a: &[u8], b: &[u8]) -> Ordering {
    if a.len() <= 16 && b.len() <= 16 {
        // Equal prefixes of names this short are equal names.
        Ordering::Equal
    } else {
        a.get(16..).unwrap_or(&[]).cmp(b.get(16..).unwrap_or(&[]))
    }
}

/// The first 16 bytes of `s`, zero-padded, as a big-endian number: ordered as `strcmp` orders
/// the strings' first 16 bytes (names hold no NUL).
#[inline]
fn prefix(s: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    let n = s.len().min(16);
    b[..n].copy_from_slice(&s[..n]);
    u128::from_be_bytes(b)
}
