//! Opening raw BTF: header, one validating pass over the type section, strings, ids.

use super::{Btf, BtfError, Kind, Storage, Type, TypeId};
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, OnceLock};

/// `BTF_MAGIC`
pub(crate) const MAGIC: u16 = 0xeb9f;
/// Size of `struct btf_header` (version 1).
pub(crate) const HEADER_LEN: usize = 24;
/// Size of `struct btf_type`.
pub(crate) const TYPE_LEN: usize = 12;
/// `BTF_MAX_TYPE`
pub(crate) const MAX_TYPE: u32 = 0x000f_ffff;
/// One sparse-index entry every this many types.
pub(crate) const SPARSE_STRIDE: u32 = 16;

/// Reads a native-endian `u32` at `off`, 0 when out of bounds (callers validate first).
#[inline(always)]
pub(crate) fn rd32(d: &[u8], off: usize) -> u32 {
    match d.get(off..off.wrapping_add(4)) {
        Some(&[a, b, c, e]) => u32::from_ne_bytes([a, b, c, e]),
        _ => 0,
    }
}

/// Per kind: (fixed bytes after `btf_type`, bytes per `vlen` item); `INVALID` for unknown kinds.
/// A table rather than a `match`: the validating pass and lookups walk ~150k records of
/// mixed kinds, where a branch per kind mispredicts.
const INVALID: u8 = 0xff;
const EXTRA: [(u8, u8); 32] = {
    let mut t = [(INVALID, 0u8); 32];
    t[1] = (4, 0); // INT
    t[2] = (0, 0); // PTR
    t[3] = (12, 0); // ARRAY
    t[4] = (0, 12); // STRUCT
    t[5] = (0, 12); // UNION
    t[6] = (0, 8); // ENUM
    t[7] = (0, 0); // FWD
    t[8] = (0, 0); // TYPEDEF
    t[9] = (0, 0); // VOLATILE
    t[10] = (0, 0); // CONST
    t[11] = (0, 0); // RESTRICT
    t[12] = (0, 0); // FUNC
    t[13] = (0, 8); // FUNC_PROTO
    t[14] = (4, 0); // VAR
    t[15] = (0, 12); // DATASEC
    t[16] = (0, 0); // FLOAT
    t[17] = (4, 0); // DECL_TAG
    t[18] = (0, 0); // TYPE_TAG
    t[19] = (0, 12); // ENUM64
    t
};

/// Bytes that follow the 12-byte `btf_type` for `kind` with `vlen`, `None` for unknown kinds.
#[inline(always)]
pub(crate) fn extra_len(kind: u8, vlen: usize) -> Option<usize> {
    let (fixed, per) = EXTRA[(kind & 0x1f) as usize];
    (fixed != INVALID).then_some(fixed as usize + per as usize * vlen)
}

/// Length of the record whose `info` word is `info` (0 extra bytes for unknown kinds).
#[inline(always)]
pub(crate) fn record_len(info: u32) -> usize {
    let (fixed, per) = EXTRA[((info >> 24) & 0x1f) as usize];
    TYPE_LEN + (fixed & 0x7f) as usize + per as usize * (info & 0xffff) as usize
}

struct Layout {
    types_at: usize,
    types_len: usize,
    strs_at: usize,
    strs_len: usize,
}

/// The names a header check uses in its errors.
pub(crate) struct HeaderNames {
    /// The header (`"BTF header"`).
    pub header: &'static str,
    /// The header as long as `hdr_len` says (`"BTF header (hdr_len)"`).
    pub hdr_len: &'static str,
    /// A version other than 1.
    pub version: &'static str,
    /// A `hdr_len` below the minimum.
    pub short: &'static str,
}

/// The checks `.BTF` and `.BTF.ext` headers share: at least `min_len` bytes, the magic,
/// version 1, a `hdr_len` of at least `min_len` that fits in `d`. Returns `hdr_len`.
pub(crate) fn check_preamble(
    d: &[u8],
    min_len: usize,
    names: &HeaderNames,
) -> Result<usize, BtfError> {
    if d.len() < min_len {
        return Err(BtfError::Truncated {
            offset: 0,
            what: names.header,
            need: min_len,
            have: d.len(),
        });
    }
    let magic = u16::from_ne_bytes([d[0], d[1]]);
    if magic != MAGIC {
        return Err(BtfError::BadMagic { magic });
    }
    if d[2] != 1 {
        return Err(BtfError::BadHeader {
            offset: 2,
            what: names.version,
        });
    }
    let hdr_len = rd32(d, 4) as usize;
    if hdr_len < min_len {
        return Err(BtfError::BadHeader {
            offset: 4,
            what: names.short,
        });
    }
    if hdr_len > d.len() {
        return Err(BtfError::Truncated {
            offset: 0,
            what: names.hdr_len,
            need: hdr_len,
            have: d.len(),
        });
    }
    Ok(hdr_len)
}

fn header(d: &[u8]) -> Result<Layout, BtfError> {
    let hdr_len = check_preamble(
        d,
        HEADER_LEN,
        &HeaderNames {
            header: "BTF header",
            hdr_len: "BTF header (hdr_len)",
            version: "unsupported version (expected 1)",
            short: "hdr_len shorter than struct btf_header",
        },
    )?;
    if d[HEADER_LEN..hdr_len].iter().any(|&b| b != 0) {
        return Err(BtfError::BadHeader {
            offset: HEADER_LEN,
            what: "unknown non-zero header fields",
        });
    }
    let (type_off, type_len) = (rd32(d, 8) as usize, rd32(d, 12) as usize);
    let (str_off, str_len) = (rd32(d, 16) as usize, rd32(d, 20) as usize);
    let avail = d.len() - hdr_len;
    if type_off.checked_add(type_len).is_none_or(|e| e > avail) {
        return Err(BtfError::Truncated {
            offset: hdr_len + type_off,
            what: "type section",
            need: type_len,
            have: avail.saturating_sub(type_off),
        });
    }
    if str_off.checked_add(str_len).is_none_or(|e| e > avail) {
        return Err(BtfError::Truncated {
            offset: hdr_len + str_off,
            what: "string section",
            need: str_len,
            have: avail.saturating_sub(str_off),
        });
    }
    if type_off % 4 != 0 {
        return Err(BtfError::BadHeader {
            offset: 8,
            what: "type section not 4-byte aligned",
        });
    }
    if type_off < str_off + str_len && str_off < type_off + type_len {
        return Err(BtfError::BadHeader {
            offset: 16,
            what: "type and string sections overlap",
        });
    }
    Ok(Layout {
        types_at: hdr_len + type_off,
        types_len: type_len,
        strs_at: hdr_len + str_off,
        strs_len: str_len,
    })
}

impl<'a> Btf<'a> {
    /// Parses raw BTF borrowed from `bytes` (e.g. the `.BTF` section of an ELF object).
    ///
    /// # Errors
    /// [`BtfError`] naming the offset and the problem when the bytes are not valid BTF.
    pub fn parse(bytes: &'a [u8]) -> Result<Btf<'a>, BtfError> {
        Btf::open(Storage::Borrowed(bytes), None)
    }

    /// Parses split BTF (e.g. a kernel module's) over `base`: ids and string offsets continue
    /// from the base's.
    ///
    /// # Errors
    /// As [`Btf::parse`].
    pub fn parse_split(bytes: &'a [u8], base: Arc<Btf<'a>>) -> Result<Btf<'a>, BtfError> {
        Btf::open(Storage::Borrowed(bytes), Some(base))
    }

    /// Parses raw BTF that the result owns.
    ///
    /// # Errors
    /// As [`Btf::parse`].
    pub fn parse_owned(bytes: Vec<u8>) -> Result<Btf<'static>, BtfError> {
        Btf::open(Storage::Owned(bytes), None)
    }

    /// Parses owned split BTF over `base`.
    ///
    /// # Errors
    /// As [`Btf::parse`].
    pub fn parse_split_owned(bytes: Vec<u8>, base: Arc<Btf<'a>>) -> Result<Btf<'a>, BtfError> {
        Btf::open(Storage::Owned(bytes), Some(base))
    }

    /// Parses BTF in a read-only mapping the result keeps (immutable bytes: a sysfs BTF file).
    pub(crate) fn parse_mapped(
        map: impl std::ops::Deref<Target = [u8]> + Send + Sync + 'static,
        base: Option<Arc<Btf<'a>>>,
    ) -> Result<Btf<'a>, BtfError> {
        Btf::open(Storage::Mapped(Box::new(map)), base)
    }

    fn open(data: Storage<'a>, base: Option<Arc<Btf<'a>>>) -> Result<Btf<'a>, BtfError> {
        let d = data.bytes();
        let l = header(d)?;
        let strs = &d[l.strs_at..l.strs_at + l.strs_len];
        let (first_id, str_base) = match &base {
            Some(b) => (b.last_id() + 1, b.strings_end()),
            None => (1, 0),
        };
        if base.is_none() && strs.first() != Some(&0) {
            return Err(BtfError::BadHeader {
                offset: l.strs_at,
                what: "string section must start with an empty string",
            });
        }
        if !strs.is_empty() && strs.last() != Some(&0) {
            return Err(BtfError::BadHeader {
                offset: l.strs_at + l.strs_len - 1,
                what: "string section not NUL-terminated",
            });
        }
        let str_end = str_base
            .checked_add(l.strs_len as u32)
            .ok_or(BtfError::BadHeader {
                offset: 20,
                what: "string section too large",
            })?;
        let types = &d[l.types_at..l.types_at + l.types_len];
        let v = validate(types, l.types_at, first_id, str_end)?;
        let count = v.count;
        Ok(Btf {
            types_at: l.types_at,
            types_len: l.types_len,
            strs_at: l.strs_at,
            strs_len: l.strs_len,
            data,
            base,
            first_id,
            count,
            str_base,
            sparse: v.sparse,
            datasecs: v.datasecs,
            name_index: OnceLock::new(),
            lookups: AtomicU32::new(0),
            ptr_size: OnceLock::new(),
        })
    }

    /// The raw bytes this BTF was parsed from (header included).
    pub fn raw_bytes(&self) -> &[u8] {
        self.data.bytes()
    }

    /// The type section of this blob.
    pub(crate) fn type_section(&self) -> &[u8] {
        self.data
            .bytes()
            .get(self.types_at..self.types_at + self.types_len)
            .unwrap_or(&[])
    }

    /// The string section of this blob.
    pub(crate) fn string_section(&self) -> &[u8] {
        self.data
            .bytes()
            .get(self.strs_at..self.strs_at + self.strs_len)
            .unwrap_or(&[])
    }

    /// The base of a split BTF.
    pub fn base(&self) -> Option<&Arc<Btf<'a>>> {
        self.base.as_ref()
    }

    /// Id of the first type of this blob: 1, or for split BTF the base's last id + 1.
    pub fn first_id(&self) -> TypeId {
        self.first_id
    }

    /// The last valid type id (the base's, if this blob has no types of its own).
    pub fn last_id(&self) -> TypeId {
        self.first_id + self.count - 1
    }

    /// Number of types in this blob (without `void` and without a base's types).
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether this blob has no types of its own.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Offset one past the last string, counting the base's strings.
    pub(crate) fn strings_end(&self) -> u32 {
        self.str_base + self.strs_len as u32
    }

    /// The raw bytes of the NUL-terminated string at `off` (without the NUL).
    pub(crate) fn str_bytes(&self, off: u32) -> Result<&[u8], BtfError> {
        if off < self.str_base {
            return match &self.base {
                Some(b) => b.str_bytes(off),
                None => Err(BtfError::StringOutOfRange {
                    str_off: off,
                    len: self.strings_end(),
                    id: None,
                }),
            };
        }
        let s = self.string_section();
        let rel = (off - self.str_base) as usize;
        let tail = s
            .get(rel..)
            .filter(|t| !t.is_empty())
            .ok_or(BtfError::StringOutOfRange {
                str_off: off,
                len: self.strings_end(),
                id: None,
            })?;
        match std::ffi::CStr::from_bytes_until_nul(tail) {
            Ok(c) => Ok(c.to_bytes()),
            Err(_) => Err(BtfError::BadString { str_off: off }),
        }
    }

    /// The string at offset `off` of the string section (split BTF: counting the base's).
    ///
    /// # Errors
    /// [`BtfError::StringOutOfRange`], or [`BtfError::BadString`] if it is not UTF-8.
    pub fn string(&self, off: u32) -> Result<&str, BtfError> {
        let b = self.str_bytes(off)?;
        std::str::from_utf8(b).map_err(|_| BtfError::BadString { str_off: off })
    }

    /// The type with id `id` (0 is `void`), looking into the base for split BTF.
    ///
    /// # Errors
    /// [`BtfError::TypeIdOutOfRange`].
    pub fn type_by_id(&self, id: TypeId) -> Result<Type<'_>, BtfError> {
        crate::work::step();
        if id < self.first_id {
            return match &self.base {
                Some(b) => b.type_by_id(id),
                None => Ok(Type::new(self, 0, &[])),
            };
        }
        let idx = id - self.first_id;
        if idx >= self.count {
            return Err(BtfError::TypeIdOutOfRange {
                id,
                last: self.last_id(),
                from: None,
            });
        }
        let types = self.type_section();
        let off = self.offset_of_index(idx);
        let len = record_len(rd32(types, off + 4));
        Ok(Type::new(
            self,
            id,
            types.get(off..off + len).unwrap_or(&[]),
        ))
    }

    /// Ids of this blob's DATASECs, in id order.
    pub(crate) fn datasec_ids(&self) -> &[TypeId] {
        &self.datasecs
    }

    /// Byte offset, in this blob's type section, of the record of type `id`; `None` for
    /// `void`, the base's types and ids past the last.
    pub(crate) fn type_offset(&self, id: TypeId) -> Option<usize> {
        let idx = id.checked_sub(self.first_id)?;
        (idx < self.count && id != 0).then(|| self.offset_of_index(idx))
    }

    /// Offset of the `idx`-th record of this blob (`idx < count`), via the sparse index.
    #[inline]
    fn offset_of_index(&self, idx: u32) -> usize {
        let types = self.type_section();
        let mut off = self
            .sparse
            .get((idx / SPARSE_STRIDE) as usize)
            .copied()
            .unwrap_or(0) as usize;
        for _ in 0..idx % SPARSE_STRIDE {
            off += record_len(rd32(types, off + 4));
        }
        off
    }

    /// The types of this blob in id order (not the base's: see [`Btf::base`]).
    pub fn types(&self) -> Types<'_> {
        Types {
            btf: self,
            off: 0,
            id: self.first_id,
            end: self.first_id + self.count,
        }
    }

    /// The types of the base (if any), then of this blob, in id order, without `void`.
    pub fn all_types(&self) -> impl Iterator<Item = Type<'_>> + '_ {
        let base: Box<dyn Iterator<Item = Type<'_>> + '_> = match &self.base {
            Some(b) => Box::new(b.all_types()),
            None => Box::new(std::iter::empty()),
        };
        base.chain(self.types())
    }
}

/// Iterator over the types of one BTF blob, in id order ([`Btf::types`]).
#[derive(Clone)]
pub struct Types<'b> {
    btf: &'b Btf<'b>,
    off: usize,
    id: TypeId,
    end: TypeId,
}

impl<'b> Iterator for Types<'b> {
    type Item = Type<'b>;

    #[inline]
    fn next(&mut self) -> Option<Type<'b>> {
        if self.id >= self.end {
            return None;
        }
        let types = self.btf.type_section();
        let len = record_len(rd32(types, self.off + 4));
        let rec = types.get(self.off..self.off + len).unwrap_or(&[]);
        let t = Type::new(self.btf, self.id, rec);
        self.off += len;
        self.id += 1;
        Some(t)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.end - self.id) as usize;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Types<'_> {}

/// What the validating pass collects.
struct Validated {
    sparse: Vec<u32>,
    count: u32,
    datasecs: Vec<TypeId>,
}

/// The validating pass: every record fits, has a known kind, and a name inside the strings.
/// Returns the sparse index, the number of types and the ids of the DATASECs.
fn validate(
    types: &[u8],
    at: usize,
    first_id: TypeId,
    str_end: u32,
) -> Result<Validated, BtfError> {
    let mut datasecs = Vec::new();
    let mut sparse = Vec::with_capacity(types.len() / (40 * SPARSE_STRIDE as usize) + 1);
    let mut off = 0usize;
    let mut n: u32 = 0;
    while off < types.len() {
        let id = first_id.wrapping_add(n);
        if types.len() - off < TYPE_LEN {
            return Err(BtfError::Truncated {
                offset: at + off,
                what: "btf_type",
                need: TYPE_LEN,
                have: types.len() - off,
            });
        }
        if n % SPARSE_STRIDE == 0 {
            sparse.push(off as u32);
        }
        let name_off = rd32(types, off);
        let info = rd32(types, off + 4);
        let kind = ((info >> 24) & 0x1f) as u8;
        let Some(extra) = extra_len(kind, (info & 0xffff) as usize) else {
            return Err(BtfError::UnknownKind {
                id,
                offset: at + off,
                kind,
            });
        };
        if kind == 0 {
            return Err(BtfError::UnknownKind {
                id,
                offset: at + off,
                kind,
            });
        }
        if name_off >= str_end {
            return Err(BtfError::StringOutOfRange {
                str_off: name_off,
                len: str_end,
                id: Some(id),
            });
        }
        if kind == Kind::Datasec as u8 {
            datasecs.push(id);
        }
        let len = TYPE_LEN + extra;
        if types.len() - off < len {
            return Err(BtfError::Truncated {
                offset: at + off,
                what: Kind::from_raw(kind).map_or("type", |k| k.name()),
                need: len,
                have: types.len() - off,
            });
        }
        off += len;
        n += 1;
        if first_id as u64 + n as u64 > MAX_TYPE as u64 + 1 {
            return Err(BtfError::BadType {
                id,
                offset: at + off,
                what: "more than BTF_MAX_TYPE types",
            });
        }
    }
    Ok(Validated {
        sparse,
        count: n,
        datasecs,
    })
}
