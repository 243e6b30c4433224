//! A flat, validated view of every type of a BTF (base and split together), indexed by id, with
//! the raw accessors the dumper needs and libbpf's size and alignment rules.

use super::super::parse::{TYPE_LEN, rd32, record_len};
use super::super::resolve;
use super::super::{Btf, BtfError, TypeId};
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

pub(super) const INT: u8 = 1;
pub(super) const PTR: u8 = 2;
pub(super) const ARRAY: u8 = 3;
pub(super) const STRUCT: u8 = 4;
pub(super) const UNION: u8 = 5;
pub(super) const ENUM: u8 = 6;
pub(super) const FWD: u8 = 7;
pub(super) const TYPEDEF: u8 = 8;
pub(super) const VOLATILE: u8 = 9;
pub(super) const CONST: u8 = 10;
pub(super) const RESTRICT: u8 = 11;
pub(super) const FUNC: u8 = 12;
pub(super) const FUNC_PROTO: u8 = 13;
pub(super) const VAR: u8 = 14;
pub(super) const DATASEC: u8 = 15;
pub(super) const FLOAT: u8 = 16;
pub(super) const DECL_TAG: u8 = 17;
pub(super) const TYPE_TAG: u8 = 18;
pub(super) const ENUM64: u8 = 19;

/// `id` must be below `n`, the number of ids.
#[inline(always)]
fn check_id(n: usize, from: TypeId, id: TypeId) -> Result<(), BtfError> {
    if (id as usize) < n {
        Ok(())
    } else {
        Err(BtfError::TypeIdOutOfRange {
            id,
            last: n as u32 - 1,
            from: Some(from),
        })
    }
}

/// libbpf's `MAX_RESOLVE_DEPTH` (`btf__resolve_size` gives up after this many hops).
const MAX_RESOLVE_DEPTH: usize = 32;

/// One blob of a split-BTF chain.
struct Blob<'b> {
    first_id: TypeId,
    types: &'b [u8],
    strs: &'b [u8],
    str_base: u32,
    count: u32,
}

/// What a scan of some of the types found, a bit per id.
struct Bits {
    /// Referred to at all (libbpf's `btf_dump_mark_referenced`).
    referenced: Vec<u64>,
    /// Referred to by something other than a DATASEC or DECL_TAG.
    refd_loud: Vec<u64>,
    /// FUNC, VAR, DATASEC, DECL_TAG.
    silent: Vec<u64>,
    /// Named typedefs plus enumerators; named structs, unions, enums, ints and FWDs.
    ident_names: usize,
    type_names: usize,
}

impl Bits {
    fn merge(&mut self, o: &Bits) {
        for (a, b) in [
            (&mut self.referenced, &o.referenced),
            (&mut self.refd_loud, &o.refd_loud),
            (&mut self.silent, &o.silent),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x |= y;
            }
        }
        self.ident_names += o.ident_names;
        self.type_names += o.type_names;
    }
}

/// BTF with this many types or more is validated by two threads.
const PARALLEL_FROM: usize = 16 * 1024;

/// Every type of a BTF and its bases, by id (id 0 is `void`).
pub(super) struct Graph<'b> {
    /// Outermost base first.
    blobs: Vec<Blob<'b>>,
    /// The last blob's type section and first id (most lookups need no search).
    last_types: &'b [u8],
    last_first: TypeId,
    /// Offset of each type's record in its blob's type section (index 0 unused).
    offs: Vec<u32>,
    /// `align_of` results by id (`u8::MAX`: not computed yet; alignments are at most 8).
    aligns: Vec<AtomicU8>,
    /// Bit per id: some type refers to it, as libbpf's `btf_dump_mark_referenced` counts.
    referenced: Vec<u64>,
    /// Whether a type refers to a FUNC, VAR, DATASEC or DECL_TAG the way only corrupt BTF does
    /// (anything but a DATASEC or DECL_TAG referring to one).
    pub silent_refs: bool,
    /// Pointer size in bytes, as libbpf determines it (the size of `long`, else 8).
    pub ptr_sz: u32,
    /// At most how many names the dumper de-duplicates: named typedefs and enumerators, and
    /// named structs, unions, enums, ints and forward declarations.
    pub ident_names_max: usize,
    pub type_names_max: usize,
}

/// The three words of a type's header: name, info (kind, vlen, kflag), size or type.
#[derive(Clone, Copy)]
pub(super) struct Head {
    pub name_off: u32,
    info: u32,
    /// The `size`/`type` word.
    pub st: u32,
}

impl Head {
    #[inline(always)]
    pub fn kind(&self) -> u8 {
        ((self.info >> 24) & 0x1f) as u8
    }
    #[inline(always)]
    pub fn vlen(&self) -> u32 {
        self.info & 0xffff
    }
    #[inline(always)]
    pub fn kflag(&self) -> bool {
        self.info >> 31 != 0
    }
}

/// The fields of a STRUCT or UNION member.
#[derive(Clone, Copy)]
pub(super) struct Member {
    pub name_off: u32,
    pub ty: TypeId,
    pub bit_off: u32,
    pub bits: u32,
}

/// The members of a STRUCT or UNION, in order.
pub(super) struct Members<'b> {
    items: std::slice::ChunksExact<'b, u8>,
    kflag: bool,
}

impl Iterator for Members<'_> {
    type Item = Member;
    #[inline(always)]
    fn next(&mut self) -> Option<Member> {
        let c = self.items.next()?;
        let off = rd32(c, 8);
        let (bit_off, bits) = if self.kflag {
            (off & 0x00ff_ffff, off >> 24)
        } else {
            (off, 0)
        };
        Some(Member {
            name_off: rd32(c, 0),
            ty: rd32(c, 4),
            bit_off,
            bits,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// Items of 8 bytes after a type (FUNC_PROTO params, ENUM values): (name_off, type/value).
pub(super) struct Pairs<'b> {
    items: std::slice::ChunksExact<'b, u8>,
}

impl Iterator for Pairs<'_> {
    type Item = (u32, u32);
    #[inline(always)]
    fn next(&mut self) -> Option<(u32, u32)> {
        let c = self.items.next()?;
        Some((rd32(c, 0), rd32(c, 4)))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

/// The enumerators of an ENUM or ENUM64: (name_off, raw value; ENUM zero-extended).
pub(super) struct Enumerators<'b> {
    items: std::slice::ChunksExact<'b, u8>,
    is64: bool,
}

impl Iterator for Enumerators<'_> {
    type Item = (u32, u64);
    #[inline(always)]
    fn next(&mut self) -> Option<(u32, u64)> {
        let c = self.items.next()?;
        let v = if self.is64 {
            rd32(c, 4) as u64 | (rd32(c, 8) as u64) << 32
        } else {
            rd32(c, 4) as u64
        };
        Some((rd32(c, 0), v))
    }
}

/// The length of the NUL-terminated string at the start of `s` (all of `s` without a NUL),
/// eight bytes at a time.
#[inline]
fn strlen(s: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(c) = s.get(i..).and_then(|t| t.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*c);
        let zero = w.wrapping_sub(LO) & !w & HI;
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let rest = s.get(i..).unwrap_or(&[]);
    i + rest.iter().position(|&c| c == 0).unwrap_or(rest.len())
}

#[inline(always)]
fn set_bit(bits: &mut [u64], id: TypeId) {
    if let Some(w) = bits.get_mut(id as usize / 64) {
        *w |= 1 << (id % 64);
    }
}

#[inline(always)]
fn get_bit(bits: &[u64], id: TypeId) -> bool {
    bits.get(id as usize / 64)
        .is_some_and(|w| w & (1 << (id % 64)) != 0)
}

/// FUNC, VAR, DATASEC, DECL_TAG: kinds that declare nothing a C header shows by themselves.
#[inline(always)]
fn silent_kind(kind: u8) -> bool {
    matches!(kind, FUNC | VAR | DATASEC | DECL_TAG)
}

impl<'b> Graph<'b> {
    /// Collects and validates the types in one pass: every referenced id exists, every name is
    /// a string; and notes which types are referenced. Large BTF is scanned in two halves, the
    /// second on another thread.
    pub fn new(btf: &'b Btf<'b>) -> Result<Self, BtfError> {
        let mut chain = vec![btf];
        while let Some(b) = chain.last().and_then(|b| b.base()) {
            chain.push(b);
        }
        chain.reverse();
        let n = btf.last_id() as usize + 1;
        let mut g = Graph {
            last_types: btf.type_section(),
            last_first: btf.first_id(),
            blobs: chain
                .iter()
                .map(|b| Blob {
                    first_id: b.first_id(),
                    types: b.type_section(),
                    strs: b.string_section(),
                    str_base: b.str_base,
                    count: b.len() as u32,
                })
                .collect(),
            offs: Vec::new(),
            aligns: (0..n).map(|_| AtomicU8::new(u8::MAX)).collect(),
            referenced: Vec::new(),
            silent_refs: false,
            ptr_sz: 8,
            ident_names_max: 0,
            type_names_max: 0,
        };
        let mut offs = vec![0u32; n];
        let split = if n >= PARALLEL_FROM
            && std::thread::available_parallelism().is_ok_and(|p| p.get() >= 2)
        {
            n / 2
        } else {
            n
        };
        let (lo, hi) = offs.split_at_mut(split);
        let gr = &g;
        let (a, b) = std::thread::scope(|s| {
            let second = (split < n).then(|| s.spawn(move || gr.scan(split as TypeId, hi)));
            let a = gr.scan(1, &mut lo[1..]);
            let b = second.map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (a, b)
        });
        let mut bits = a?;
        if let Some(b) = b {
            bits.merge(&b?);
        }
        g.offs = offs;
        g.silent_refs = bits
            .refd_loud
            .iter()
            .zip(&bits.silent)
            .any(|(r, s)| r & s != 0);
        g.ident_names_max = bits.ident_names;
        g.type_names_max = bits.type_names;
        g.referenced = bits.referenced;
        g.ptr_sz = g.determine_ptr_size().unwrap_or(8);
        Ok(g)
    }

    /// The blob holding `id`, and the offset of its record (walked from the blob's start).
    fn locate(&self, id: TypeId) -> Option<(usize, usize)> {
        let bi = self.blobs.iter().rposition(|b| b.first_id <= id)?;
        let b = &self.blobs[bi];
        let mut off = 0usize;
        for _ in b.first_id..id {
            off += record_len(rd32(b.types, off + 4));
        }
        Some((bi, off))
    }

    /// Validates the types from `first` on, `offs.len()` of them (across blobs), writes their
    /// record offsets to `offs`, and notes what they refer to.
    fn scan(&self, first: TypeId, offs: &mut [u32]) -> Result<Bits, BtfError> {
        let n = self.aligns.len();
        let words = n.div_ceil(64);
        let mut bits = Bits {
            referenced: vec![0; words],
            refd_loud: vec![0; words],
            silent: vec![0; words],
            ident_names: 0,
            type_names: 0,
        };
        let Some((mut bi, mut off)) = self.locate(first) else {
            return Ok(bits);
        };
        for (id, slot) in (first..).zip(offs.iter_mut()) {
            while id >= self.blobs[bi].first_id + self.blobs[bi].count {
                bi += 1;
                off = 0;
            }
            *slot = off as u32;
            let types = self.blobs[bi].types;
            let r = types.get(off..).unwrap_or(&[]);
            let info = rd32(r, 4);
            let kind = ((info >> 24) & 0x1f) as u8;
            let vlen = (info & 0xffff) as usize;
            let st = rd32(r, 8);
            let body = r.get(TYPE_LEN..).unwrap_or(&[]);
            let name_off = rd32(r, 0);
            self.check_str(id, name_off)?;
            if name_off != 0 {
                match kind {
                    TYPEDEF => bits.ident_names += 1,
                    STRUCT | UNION | ENUM | ENUM64 | INT | FWD => bits.type_names += 1,
                    _ => {}
                }
            }
            if matches!(kind, ENUM | ENUM64) {
                bits.ident_names += vlen;
            }
            if silent_kind(kind) {
                set_bit(&mut bits.silent, id);
            }
            match kind {
                PTR | TYPEDEF | VOLATILE | CONST | RESTRICT | FUNC | VAR | DECL_TAG | TYPE_TAG => {
                    check_id(n, id, st)?;
                    set_bit(&mut bits.referenced, st);
                    if kind != DECL_TAG {
                        set_bit(&mut bits.refd_loud, st);
                    }
                }
                ARRAY => {
                    let (e, i) = (rd32(body, 0), rd32(body, 4));
                    check_id(n, id, e)?;
                    check_id(n, id, i)?;
                    for t in [e, i] {
                        set_bit(&mut bits.referenced, t);
                        set_bit(&mut bits.refd_loud, t);
                    }
                }
                STRUCT | UNION => {
                    for c in body.chunks_exact(12).take(vlen) {
                        let (name, ty) = (rd32(c, 0), rd32(c, 4));
                        self.check_str(id, name)?;
                        check_id(n, id, ty)?;
                        set_bit(&mut bits.referenced, ty);
                        set_bit(&mut bits.refd_loud, ty);
                    }
                }
                ENUM => {
                    for c in body.chunks_exact(8).take(vlen) {
                        self.check_str(id, rd32(c, 0))?;
                    }
                }
                ENUM64 => {
                    for c in body.chunks_exact(12).take(vlen) {
                        self.check_str(id, rd32(c, 0))?;
                    }
                }
                FUNC_PROTO => {
                    check_id(n, id, st)?;
                    set_bit(&mut bits.refd_loud, st);
                    for c in body.chunks_exact(8).take(vlen) {
                        let (name, ty) = (rd32(c, 0), rd32(c, 4));
                        self.check_str(id, name)?;
                        check_id(n, id, ty)?;
                        set_bit(&mut bits.referenced, ty);
                        set_bit(&mut bits.refd_loud, ty);
                    }
                }
                DATASEC => {
                    for c in body.chunks_exact(12).take(vlen) {
                        let ty = rd32(c, 0);
                        check_id(n, id, ty)?;
                        set_bit(&mut bits.referenced, ty);
                    }
                }
                _ => {}
            }
            off += record_len(info);
        }
        Ok(bits)
    }

    /// Number of ids, `void` included.
    #[inline]
    pub fn count(&self) -> u32 {
        self.offs.len() as u32
    }

    /// The record of `id` (not 0) and what follows it in its blob's type section.
    #[inline(always)]
    fn rec(&self, id: TypeId) -> &'b [u8] {
        let types = if id >= self.last_first {
            self.last_types
        } else {
            self.base_types(id)
        };
        let off = self.offs.get(id as usize).copied().unwrap_or(u32::MAX) as usize;
        types.get(off..).unwrap_or(&[])
    }

    /// The type section of a base blob holding `id`.
    #[cold]
    fn base_types(&self, id: TypeId) -> &'b [u8] {
        self.blobs
            .iter()
            .rev()
            .find(|b| b.first_id <= id)
            .map_or(&[], |b| b.types)
    }

    /// The header of `id` (zeros for `void`), read once for several fields.
    #[inline(always)]
    pub fn head(&self, id: TypeId) -> Head {
        let [name_off, info, st] = self.words(id);
        Head { name_off, info, st }
    }

    /// The three words of the type's header (zeros for `void`).
    #[inline(always)]
    fn words(&self, id: TypeId) -> [u32; 3] {
        if id == 0 {
            return [0; 3];
        }
        match self.rec(id).first_chunk::<12>() {
            Some(h) => [
                u32::from_ne_bytes([h[0], h[1], h[2], h[3]]),
                u32::from_ne_bytes([h[4], h[5], h[6], h[7]]),
                u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
            ],
            None => [0; 3],
        }
    }

    /// What follows the header: `vlen` items of `stride` bytes.
    #[inline(always)]
    fn items(&self, id: TypeId, stride: usize) -> (&'b [u8], bool) {
        if id == 0 {
            return (&[], false);
        }
        let r = self.rec(id);
        let info = rd32(r, 4);
        let n = (info & 0xffff) as usize * stride;
        (
            r.get(TYPE_LEN..TYPE_LEN + n).unwrap_or(&[]),
            info >> 31 != 0,
        )
    }

    #[inline(always)]
    pub fn kind(&self, id: TypeId) -> u8 {
        ((self.words(id)[1] >> 24) & 0x1f) as u8
    }
    #[inline(always)]
    pub fn name_off(&self, id: TypeId) -> u32 {
        self.words(id)[0]
    }
    #[inline(always)]
    pub fn vlen(&self, id: TypeId) -> u32 {
        self.words(id)[1] & 0xffff
    }
    #[inline(always)]
    pub fn kflag(&self, id: TypeId) -> bool {
        self.words(id)[1] >> 31 != 0
    }
    /// The `size`/`type` word.
    #[inline(always)]
    pub fn st(&self, id: TypeId) -> u32 {
        self.words(id)[2]
    }
    /// Whether some type refers to `id` (libbpf's `referenced` type state).
    #[inline]
    pub fn referenced(&self, id: TypeId) -> bool {
        get_bit(&self.referenced, id)
    }
    /// The string at `off` (`""` if it is invalid: names are validated up front).
    #[inline]
    pub fn str(&self, off: u32) -> &'b [u8] {
        if off == 0 {
            return b"";
        }
        let Some(b) = self.blobs.iter().rev().find(|b| b.str_base <= off) else {
            return b"";
        };
        let tail = b.strs.get((off - b.str_base) as usize..).unwrap_or(&[]);
        &tail[..strlen(tail)]
    }
    /// The `len` bytes of the string at `off`, whose length is known.
    #[inline]
    pub fn str_at(&self, off: u32, len: u32) -> &'b [u8] {
        if off == 0 {
            return b"";
        }
        let Some(b) = self.blobs.iter().rev().find(|b| b.str_base <= off) else {
            return b"";
        };
        let at = (off - b.str_base) as usize;
        b.strs.get(at..at + len as usize).unwrap_or(&[])
    }
    /// The first byte of the string at `off` (0 for the empty string).
    #[inline]
    pub fn str_byte(&self, off: u32) -> u8 {
        let Some(b) = self.blobs.iter().rev().find(|b| b.str_base <= off) else {
            return 0;
        };
        b.strs
            .get((off - b.str_base) as usize)
            .copied()
            .unwrap_or(0)
    }
    /// Whether the string at `off` is `name`.
    #[inline]
    pub fn str_is(&self, off: u32, name: &[u8]) -> bool {
        let Some(b) = self.blobs.iter().rev().find(|b| b.str_base <= off) else {
            return false;
        };
        let tail = b.strs.get((off - b.str_base) as usize..).unwrap_or(&[]);
        tail.first() == name.first().or(Some(&0))
            && tail.starts_with(name)
            && tail.get(name.len()) == Some(&0)
    }
    #[inline]
    pub fn name(&self, id: TypeId) -> &'b [u8] {
        self.str(self.name_off(id))
    }
    /// The members of a STRUCT or UNION.
    #[inline(always)]
    pub fn members(&self, id: TypeId) -> Members<'b> {
        let (items, kflag) = self.items(id, 12);
        Members {
            items: items.chunks_exact(12),
            kflag,
        }
    }
    /// The parameters of a FUNC_PROTO: (name_off, type).
    #[inline(always)]
    pub fn params(&self, id: TypeId) -> Pairs<'b> {
        Pairs {
            items: self.items(id, 8).0.chunks_exact(8),
        }
    }
    /// Parameter `i`: (name_off, type).
    #[inline]
    pub fn param(&self, id: TypeId, i: u32) -> (u32, TypeId) {
        let p = self.items(id, 8).0;
        let at = i as usize * 8;
        (rd32(p, at), rd32(p, at + 4))
    }
    /// The enumerators of an ENUM or ENUM64.
    #[inline]
    pub fn enumerators(&self, id: TypeId) -> Enumerators<'b> {
        let is64 = self.kind(id) == ENUM64;
        let stride = if is64 { 12 } else { 8 };
        Enumerators {
            items: self.items(id, stride).0.chunks_exact(stride),
            is64,
        }
    }
    /// Enumerator `i`: (name_off, raw value; ENUM64 as lo | hi << 32, ENUM zero-extended).
    #[inline]
    pub fn enumerator(&self, id: TypeId, i: u32) -> (u32, u64) {
        if self.kind(id) == ENUM64 {
            let p = self.items(id, 12).0;
            let at = i as usize * 12;
            let (lo, hi) = (rd32(p, at + 4) as u64, rd32(p, at + 8) as u64);
            (rd32(p, at), lo | (hi << 32))
        } else {
            let p = self.items(id, 8).0;
            let at = i as usize * 8;
            (rd32(p, at), rd32(p, at + 4) as u64)
        }
    }
    /// ARRAY: (element type, index type, nelems).
    #[inline]
    pub fn array(&self, id: TypeId) -> (TypeId, TypeId, u32) {
        if id == 0 {
            return (0, 0, 0);
        }
        let r = self.rec(id);
        (
            rd32(r, TYPE_LEN),
            rd32(r, TYPE_LEN + 4),
            rd32(r, TYPE_LEN + 8),
        )
    }
    /// DECL_TAG: component index.
    #[inline]
    pub fn component_idx(&self, id: TypeId) -> i32 {
        if id == 0 {
            return 0;
        }
        rd32(self.rec(id), TYPE_LEN) as i32
    }

    pub fn is_composite(&self, id: TypeId) -> bool {
        matches!(self.kind(id), STRUCT | UNION)
    }

    /// VOLATILE, CONST, RESTRICT, TYPE_TAG (libbpf's `btf_is_mod`).
    pub fn is_mod(&self, id: TypeId) -> bool {
        matches!(self.kind(id), VOLATILE | CONST | RESTRICT | TYPE_TAG)
    }

    /// Whether `off` is inside the strings: the parser checked that every string section ends
    /// with a NUL, so any offset inside one starts a terminated string.
    fn check_str(&self, from: TypeId, off: u32) -> Result<(), BtfError> {
        let ok = self
            .blobs
            .iter()
            .rev()
            .find(|b| b.str_base <= off)
            .is_some_and(|b| ((off - b.str_base) as usize) < b.strs.len());
        if ok {
            Ok(())
        } else {
            Err(BtfError::StringOutOfRange {
                str_off: off,
                len: self
                    .blobs
                    .last()
                    .map_or(0, |b| b.str_base + b.strs.len() as u32),
                id: Some(from),
            })
        }
    }

    /// libbpf's `determine_ptr_size`: the size of an INT named like `long`.
    fn determine_ptr_size(&self) -> Option<u32> {
        const LONGS: [&[u8]; 11] = [
            b"long",
            b"long int",
            b"int long",
            b"unsigned long",
            b"long unsigned",
            b"unsigned long int",
            b"unsigned int long",
            b"long unsigned int",
            b"long int unsigned",
            b"int unsigned long",
            b"int long unsigned",
        ];
        (1..self.count()).find_map(|id| {
            let size = self.st(id);
            (self.kind(id) == INT && (size == 4 || size == 8) && LONGS.contains(&self.name(id)))
                .then_some(size)
        })
    }

    /// Computes the alignment of every struct and union ahead of time (what a writer waiting
    /// for its first types can do meanwhile). Errors are left for [`Graph::align_of`] to give.
    pub fn precompute_aligns(&self) {
        for id in 1..self.count() {
            if self.is_composite(id) {
                let _ = self.align_of(id);
            }
        }
    }

    /// libbpf's `btf__align_of`: 0 for types without an alignment.
    pub fn align_of(&self, id: TypeId) -> Result<u32, BtfError> {
        self.align_cached(id, 0)
    }

    fn align_cached(&self, id: TypeId, depth: usize) -> Result<u32, BtfError> {
        let cached = self.aligns[id as usize].load(Relaxed);
        if cached != u8::MAX {
            return Ok(cached as u32);
        }
        let a = self.align_of_depth(id, depth)?;
        self.aligns[id as usize].store(a as u8, Relaxed);
        Ok(a)
    }

    fn align_of_depth(&self, mut id: TypeId, depth: usize) -> Result<u32, BtfError> {
        let mut hops = 0;
        loop {
            if depth + hops > resolve::MAX_RESOLVE_DEPTH * 4 {
                return Err(BtfError::Loop { id });
            }
            hops += 1;
            let h = self.head(id);
            match h.kind() {
                INT | ENUM | ENUM64 | FLOAT if id != 0 => return Ok(self.ptr_sz.min(h.st)),
                PTR => return Ok(self.ptr_sz),
                TYPEDEF | VOLATILE | CONST | RESTRICT | TYPE_TAG => id = h.st,
                ARRAY => id = self.array(id).0,
                STRUCT | UNION => {
                    let mut max = 1;
                    for m in self.members(id) {
                        let align = self.align_cached(m.ty, depth + hops)?;
                        if align == 0 {
                            return Ok(0);
                        }
                        max = max.max(align);
                        if m.bits == 0 && m.bit_off % (8 * align) != 0 {
                            return Ok(1);
                        }
                    }
                    if h.st % max != 0 {
                        return Ok(1);
                    }
                    return Ok(max);
                }
                _ => return Ok(0),
            }
        }
    }

    /// libbpf's `btf__resolve_size`: negative when the type has no size.
    pub fn resolve_size(&self, mut id: TypeId) -> i64 {
        let mut nelems: u64 = 1;
        let mut size: i64 = -1;
        for _ in 0..MAX_RESOLVE_DEPTH {
            if id == 0 {
                break;
            }
            let h = self.head(id);
            match h.kind() {
                INT | STRUCT | UNION | ENUM | ENUM64 | DATASEC | FLOAT => {
                    size = h.st as i64;
                    break;
                }
                PTR => {
                    size = self.ptr_sz as i64;
                    break;
                }
                TYPEDEF | VOLATILE | CONST | RESTRICT | VAR | DECL_TAG | TYPE_TAG => id = h.st,
                ARRAY => {
                    let (elem, _, n) = self.array(id);
                    if nelems != 0 && n as u64 > u32::MAX as u64 / nelems {
                        return -7; // E2BIG
                    }
                    nelems *= n as u64;
                    id = elem;
                }
                _ => return -22, // EINVAL
            }
        }
        if size < 0 {
            return -22;
        }
        if nelems != 0 && size as u64 > u32::MAX as u64 / nelems {
            return -7;
        }
        (nelems * size as u64) as i64
    }
}

/// A fast non-cryptographic hasher (FxHash-style, eight bytes at a time) for names and ids:
/// the input is BTF, not an adversary that could flood a table it never sees.
#[derive(Default)]
pub(super) struct FxHasher(u64);

const FX_K: u64 = 0x517c_c1b7_2722_0a95;

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, b: &[u8]) {
        let mut h = self.0;
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(FX_K);
        }
        for &c in chunks.remainder() {
            h = (h.rotate_left(5) ^ c as u64).wrapping_mul(FX_K);
        }
        self.0 = h;
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.0 = (self.0.rotate_left(5) ^ v as u64).wrapping_mul(FX_K);
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(FX_K);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}
