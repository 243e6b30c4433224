//! A flat, validated view of every type of a BTF (base and split together), indexed by id, with
//! the raw accessors the dumper needs and libbpf's size and alignment rules.

use super::super::parse::{TYPE_LEN, rd32, record_len};
use super::super::resolve;
use super::super::{Btf, BtfError, TypeId};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

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

/// libbpf's `MAX_RESOLVE_DEPTH` (`btf__resolve_size` gives up after this many hops).
const MAX_RESOLVE_DEPTH: usize = 32;

/// One blob of a split-BTF chain.
struct Blob<'b> {
    first_id: TypeId,
    types: &'b [u8],
    strs: &'b [u8],
    str_base: u32,
}

/// Every type of a BTF and its bases, by id (id 0 is `void`).
pub(super) struct Graph<'b> {
    /// Outermost base first.
    blobs: Vec<Blob<'b>>,
    /// Offset of each type's record in its blob's type section (index 0 unused).
    offs: Vec<u32>,
    /// `align_of` results by id (`u32::MAX`: not computed yet).
    aligns: Vec<AtomicU32>,
    /// Pointer size in bytes, as libbpf determines it (the size of `long`, else 8).
    pub ptr_sz: u32,
}

impl<'b> Graph<'b> {
    /// Collects and validates the types: every referenced id exists, every name is a string.
    pub fn new(btf: &'b Btf<'b>) -> Result<Self, BtfError> {
        let mut chain = vec![btf];
        while let Some(b) = chain.last().and_then(|b| b.base()) {
            chain.push(b);
        }
        let mut offs: Vec<u32> = Vec::with_capacity(btf.last_id() as usize + 1);
        offs.push(0);
        let mut blobs = Vec::with_capacity(chain.len());
        for b in chain.iter().rev() {
            let types = b.type_section();
            let mut off = 0usize;
            for _ in 0..b.len() {
                offs.push(off as u32);
                off += record_len(rd32(types, off + 4));
            }
            blobs.push(Blob {
                first_id: b.first_id(),
                types,
                strs: b.string_section(),
                str_base: b.str_base,
            });
        }
        let n = offs.len();
        let mut g = Graph {
            blobs,
            offs,
            aligns: (0..n).map(|_| AtomicU32::new(u32::MAX)).collect(),
            ptr_sz: 8,
        };
        g.validate()?;
        g.ptr_sz = g.determine_ptr_size().unwrap_or(8);
        Ok(g)
    }

    /// Number of ids, `void` included.
    #[inline]
    pub fn count(&self) -> u32 {
        self.offs.len() as u32
    }

    /// The type section holding `id` (not 0) and the record's offset in it.
    #[inline(always)]
    fn at(&self, id: TypeId) -> (&'b [u8], usize) {
        let mut i = self.blobs.len() - 1;
        while i > 0 && self.blobs[i].first_id > id {
            i -= 1;
        }
        (self.blobs[i].types, self.offs[id as usize] as usize)
    }

    #[inline(always)]
    fn w(&self, id: TypeId, i: usize) -> u32 {
        if id == 0 {
            return 0;
        }
        let (types, off) = self.at(id);
        rd32(types, off + i * 4)
    }

    #[inline(always)]
    pub fn kind(&self, id: TypeId) -> u8 {
        ((self.w(id, 1) >> 24) & 0x1f) as u8
    }
    #[inline(always)]
    pub fn name_off(&self, id: TypeId) -> u32 {
        self.w(id, 0)
    }
    #[inline(always)]
    pub fn vlen(&self, id: TypeId) -> u32 {
        self.w(id, 1) & 0xffff
    }
    #[inline(always)]
    pub fn kflag(&self, id: TypeId) -> bool {
        self.w(id, 1) >> 31 != 0
    }
    /// The `size`/`type` word.
    #[inline(always)]
    pub fn st(&self, id: TypeId) -> u32 {
        self.w(id, 2)
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
        let n = tail.iter().position(|&c| c == 0).unwrap_or(tail.len());
        &tail[..n]
    }
    #[inline]
    pub fn name(&self, id: TypeId) -> &'b [u8] {
        self.str(self.name_off(id))
    }
    /// Word `word` of item `idx` (of `stride` bytes) that follows the type: members, params, …
    #[inline(always)]
    fn item(&self, id: TypeId, stride: usize, idx: u32, word: usize) -> u32 {
        if id == 0 {
            return 0;
        }
        let (types, off) = self.at(id);
        rd32(types, off + TYPE_LEN + idx as usize * stride + word * 4)
    }
    /// Member `i`: (name_off, type, bit offset, bitfield size).
    #[inline]
    pub fn member(&self, id: TypeId, i: u32) -> (u32, TypeId, u32, u32) {
        let off = self.item(id, 12, i, 2);
        let (bit_off, bits) = if self.kflag(id) {
            (off & 0x00ff_ffff, off >> 24)
        } else {
            (off, 0)
        };
        (
            self.item(id, 12, i, 0),
            self.item(id, 12, i, 1),
            bit_off,
            bits,
        )
    }
    /// Parameter `i`: (name_off, type).
    #[inline]
    pub fn param(&self, id: TypeId, i: u32) -> (u32, TypeId) {
        (self.item(id, 8, i, 0), self.item(id, 8, i, 1))
    }
    /// Enumerator `i`: (name_off, raw value; ENUM64 as lo | hi << 32, ENUM zero-extended).
    #[inline]
    pub fn enumerator(&self, id: TypeId, i: u32) -> (u32, u64) {
        if self.kind(id) == ENUM64 {
            let lo = self.item(id, 12, i, 1) as u64;
            let hi = self.item(id, 12, i, 2) as u64;
            (self.item(id, 12, i, 0), lo | (hi << 32))
        } else {
            (self.item(id, 8, i, 0), self.item(id, 8, i, 1) as u64)
        }
    }
    /// ARRAY: (element type, index type, nelems).
    #[inline]
    pub fn array(&self, id: TypeId) -> (TypeId, TypeId, u32) {
        (self.w(id, 3), self.w(id, 4), self.w(id, 5))
    }
    /// DECL_TAG: component index.
    #[inline]
    pub fn component_idx(&self, id: TypeId) -> i32 {
        self.w(id, 3) as i32
    }
    /// DATASEC variable `i`'s type.
    #[inline]
    pub fn secinfo_type(&self, id: TypeId, i: u32) -> TypeId {
        self.item(id, 12, i, 0)
    }

    pub fn is_composite(&self, id: TypeId) -> bool {
        matches!(self.kind(id), STRUCT | UNION)
    }

    /// VOLATILE, CONST, RESTRICT, TYPE_TAG (libbpf's `btf_is_mod`).
    pub fn is_mod(&self, id: TypeId) -> bool {
        matches!(self.kind(id), VOLATILE | CONST | RESTRICT | TYPE_TAG)
    }

    fn check_id(&self, from: TypeId, id: TypeId) -> Result<(), BtfError> {
        if (id as usize) < self.offs.len() {
            Ok(())
        } else {
            Err(BtfError::TypeIdOutOfRange {
                id,
                last: self.count() - 1,
                from: Some(from),
            })
        }
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

    fn validate(&self) -> Result<(), BtfError> {
        for id in 1..self.count() {
            self.check_str(id, self.name_off(id))?;
            let n = self.vlen(id);
            match self.kind(id) {
                PTR | TYPEDEF | VOLATILE | CONST | RESTRICT | FUNC | VAR | DECL_TAG | TYPE_TAG => {
                    self.check_id(id, self.st(id))?
                }
                ARRAY => {
                    let (e, i, _) = self.array(id);
                    self.check_id(id, e)?;
                    self.check_id(id, i)?;
                }
                STRUCT | UNION => {
                    for i in 0..n {
                        let (name, ty, _, _) = self.member(id, i);
                        self.check_str(id, name)?;
                        self.check_id(id, ty)?;
                    }
                }
                ENUM | ENUM64 => {
                    for i in 0..n {
                        self.check_str(id, self.enumerator(id, i).0)?;
                    }
                }
                FUNC_PROTO => {
                    self.check_id(id, self.st(id))?;
                    for i in 0..n {
                        let (name, ty) = self.param(id, i);
                        self.check_str(id, name)?;
                        self.check_id(id, ty)?;
                    }
                }
                DATASEC => {
                    for i in 0..n {
                        self.check_id(id, self.secinfo_type(id, i))?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
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

    /// libbpf's `btf__align_of`: 0 for types without an alignment.
    pub fn align_of(&self, id: TypeId) -> Result<u32, BtfError> {
        self.align_cached(id, 0)
    }

    fn align_cached(&self, id: TypeId, depth: usize) -> Result<u32, BtfError> {
        let cached = self.aligns[id as usize].load(Relaxed);
        if cached != u32::MAX {
            return Ok(cached);
        }
        let a = self.align_of_depth(id, depth)?;
        self.aligns[id as usize].store(a, Relaxed);
        Ok(a)
    }

    fn align_of_depth(&self, mut id: TypeId, depth: usize) -> Result<u32, BtfError> {
        let mut hops = 0;
        loop {
            if depth + hops > resolve::MAX_RESOLVE_DEPTH * 4 {
                return Err(BtfError::Loop { id });
            }
            hops += 1;
            match self.kind(id) {
                INT | ENUM | ENUM64 | FLOAT if id != 0 => return Ok(self.ptr_sz.min(self.st(id))),
                PTR => return Ok(self.ptr_sz),
                TYPEDEF | VOLATILE | CONST | RESTRICT | TYPE_TAG => id = self.st(id),
                ARRAY => id = self.array(id).0,
                STRUCT | UNION => {
                    let mut max = 1;
                    for i in 0..self.vlen(id) {
                        let (_, ty, off, bits) = self.member(id, i);
                        let align = self.align_cached(ty, depth + hops)?;
                        if align == 0 {
                            return Ok(0);
                        }
                        max = max.max(align);
                        if bits == 0 && off % (8 * align) != 0 {
                            return Ok(1);
                        }
                    }
                    if self.st(id) % max != 0 {
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
            match self.kind(id) {
                INT | STRUCT | UNION | ENUM | ENUM64 | DATASEC | FLOAT => {
                    size = self.st(id) as i64;
                    break;
                }
                PTR => {
                    size = self.ptr_sz as i64;
                    break;
                }
                TYPEDEF | VOLATILE | CONST | RESTRICT | VAR | DECL_TAG | TYPE_TAG => {
                    id = self.st(id)
                }
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
