//! [`BtfBuilder`]: new BTF from scratch or on top of existing BTF, encoded to bytes.

use super::parse::{HEADER_LEN, MAGIC, TYPE_LEN, rd32, record_len};
use super::{Btf, BtfError, FuncLinkage, IntEncoding, Kind, TypeId, VarLinkage, VarSecinfo};
use std::collections::HashMap;

/// A member for [`BtfBuilder::add_struct`] / [`BtfBuilder::add_union`].
#[derive(Debug, Clone, Copy)]
pub struct NewMember<'n> {
    /// Name (`""` for anonymous).
    pub name: &'n str,
    /// Type.
    pub type_id: TypeId,
    /// Offset in bits.
    pub bit_offset: u32,
    /// Bitfield width in bits, 0 if not a bitfield.
    pub bitfield_size: u32,
}

impl<'n> NewMember<'n> {
    /// A plain member at `bit_offset`.
    pub fn new(name: &'n str, type_id: TypeId, bit_offset: u32) -> Self {
        NewMember {
            name,
            type_id,
            bit_offset,
            bitfield_size: 0,
        }
    }
    /// A bitfield of `bits` bits at `bit_offset`.
    pub fn bitfield(name: &'n str, type_id: TypeId, bit_offset: u32, bits: u32) -> Self {
        NewMember {
            name,
            type_id,
            bit_offset,
            bitfield_size: bits,
        }
    }
}

/// Builds BTF type by type and encodes it ([`BtfBuilder::encode`]).
///
/// Strings are deduplicated. Ids are returned by each `add_*` call; a builder made with
/// [`BtfBuilder::extend`] continues after the existing types, one made with
/// [`BtfBuilder::new_split`] encodes split BTF over a base.
#[derive(Debug, Clone)]
pub struct BtfBuilder {
    types: Vec<u8>,
    strings: Vec<u8>,
    dedup: HashMap<Box<[u8]>, u32>,
    first_id: TypeId,
    count: u32,
    str_base: u32,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        Self::new()
    }
}

fn info(kind: Kind, kind_flag: bool, vlen: usize) -> Result<u32, BtfError> {
    if vlen > 0xffff {
        return Err(BtfError::Encode {
            what: "more than 65535 members, values or parameters",
        });
    }
    Ok(((kind_flag as u32) << 31) | ((kind as u32) << 24) | vlen as u32)
}

impl BtfBuilder {
    /// An empty BTF (ids start at 1).
    pub fn new() -> Self {
        let mut b = BtfBuilder {
            types: Vec::new(),
            strings: vec![0],
            dedup: HashMap::new(),
            first_id: 1,
            count: 0,
            str_base: 0,
        };
        b.dedup.insert(Box::from(&b""[..]), 0);
        b
    }

    /// Split BTF over `base`: ids and string offsets continue from the base's.
    pub fn new_split(base: &Btf<'_>) -> Self {
        let mut b = BtfBuilder {
            types: Vec::new(),
            strings: Vec::new(),
            dedup: HashMap::new(),
            first_id: base.last_id() + 1,
            count: 0,
            str_base: base.strings_end(),
        };
        b.dedup.insert(Box::from(&b""[..]), 0);
        b
    }

    /// A builder holding a copy of `btf`'s own types and strings, to add more.
    pub fn extend(btf: &Btf<'_>) -> Self {
        let mut b = match btf.base() {
            Some(base) => BtfBuilder::new_split(base),
            None => BtfBuilder {
                strings: Vec::new(),
                ..BtfBuilder::new()
            },
        };
        b.types.extend_from_slice(btf.type_section());
        b.count = btf.len() as u32;
        b.strings.extend_from_slice(btf.string_section());
        let mut off = 0;
        for s in btf.string_section().split(|&c| c == 0) {
            b.dedup
                .entry(Box::from(s))
                .or_insert(b.str_base + off as u32);
            off += s.len() + 1;
        }
        b
    }

    /// The id the next added type gets.
    pub fn next_id(&self) -> TypeId {
        self.first_id + self.count
    }

    /// Adds `s` to the string section (once) and returns its offset.
    pub fn add_string(&mut self, s: &str) -> u32 {
        if let Some(&off) = self.dedup.get(s.as_bytes()) {
            return off;
        }
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        self.dedup.insert(Box::from(s.as_bytes()), off);
        off
    }

    /// Appends one raw record: `btf_type` words and the kind-specific tail.
    pub fn add_raw(&mut self, name_off: u32, info: u32, size_or_type: u32, tail: &[u32]) -> TypeId {
        for w in [name_off, info, size_or_type].iter().chain(tail) {
            self.types.extend_from_slice(&w.to_ne_bytes());
        }
        self.count += 1;
        self.first_id + self.count - 1
    }

    fn add(&mut self, name: &str, info: u32, size_or_type: u32, tail: &[u32]) -> TypeId {
        let n = self.add_string(name);
        self.add_raw(n, info, size_or_type, tail)
    }

    /// INT of `size` bytes, all bits used.
    pub fn add_int(&mut self, name: &str, size: u32, encoding: IntEncoding) -> TypeId {
        self.add_int_bits(name, size, encoding, 0, size.saturating_mul(8).min(128))
    }

    /// INT with an explicit bit offset and width (legacy bitfield encoding).
    pub fn add_int_bits(
        &mut self,
        name: &str,
        size: u32,
        encoding: IntEncoding,
        offset: u32,
        bits: u32,
    ) -> TypeId {
        let data = ((encoding.bits() as u32) << 24) | ((offset & 0xff) << 16) | (bits & 0xff);
        self.add(name, (Kind::Int as u32) << 24, size, &[data])
    }

    fn add_ref(&mut self, kind: Kind, name: &str, target: TypeId, kind_flag: bool) -> TypeId {
        self.add(
            name,
            ((kind_flag as u32) << 31) | ((kind as u32) << 24),
            target,
            &[],
        )
    }

    /// PTR to `target`.
    pub fn add_ptr(&mut self, target: TypeId) -> TypeId {
        self.add_ref(Kind::Ptr, "", target, false)
    }
    /// TYPEDEF `name` of `target`.
    pub fn add_typedef(&mut self, name: &str, target: TypeId) -> TypeId {
        self.add_ref(Kind::Typedef, name, target, false)
    }
    /// VOLATILE `target`.
    pub fn add_volatile(&mut self, target: TypeId) -> TypeId {
        self.add_ref(Kind::Volatile, "", target, false)
    }
    /// CONST `target`.
    pub fn add_const(&mut self, target: TypeId) -> TypeId {
        self.add_ref(Kind::Const, "", target, false)
    }
    /// RESTRICT `target`.
    pub fn add_restrict(&mut self, target: TypeId) -> TypeId {
        self.add_ref(Kind::Restrict, "", target, false)
    }
    /// TYPE_TAG `value` on `target`; `attribute` sets kind_flag (a raw `__attribute__`).
    pub fn add_type_tag(&mut self, value: &str, target: TypeId, attribute: bool) -> TypeId {
        self.add_ref(Kind::TypeTag, value, target, attribute)
    }
    /// FWD declaration of a struct (or union).
    pub fn add_fwd(&mut self, name: &str, is_union: bool) -> TypeId {
        self.add_ref(Kind::Fwd, name, 0, is_union)
    }
    /// FLOAT of `size` bytes.
    pub fn add_float(&mut self, name: &str, size: u32) -> TypeId {
        self.add(name, (Kind::Float as u32) << 24, size, &[])
    }

    /// ARRAY of `nelems` × `elem`, indexed by `index_type`.
    pub fn add_array(&mut self, elem: TypeId, index_type: TypeId, nelems: u32) -> TypeId {
        self.add_raw(
            0,
            (Kind::Array as u32) << 24,
            0,
            &[elem, index_type, nelems],
        )
    }

    fn add_composite(
        &mut self,
        kind: Kind,
        name: &str,
        size: u32,
        members: &[NewMember<'_>],
    ) -> Result<TypeId, BtfError> {
        let kflag = members.iter().any(|m| m.bitfield_size != 0);
        let info = info(kind, kflag, members.len())?;
        let mut tail = Vec::with_capacity(members.len() * 3);
        for m in members {
            let off = if kflag {
                if m.bit_offset > 0x00ff_ffff || m.bitfield_size > 0xff {
                    return Err(BtfError::Encode {
                        what: "bitfield offset or size too large",
                    });
                }
                (m.bitfield_size << 24) | m.bit_offset
            } else {
                m.bit_offset
            };
            tail.extend([self.add_string(m.name), m.type_id, off]);
        }
        Ok(self.add(name, info, size, &tail))
    }

    /// STRUCT of `size` bytes (kind_flag is set when a member is a bitfield).
    ///
    /// # Errors
    /// [`BtfError::Encode`] for more than 65535 members or out-of-range bitfields.
    pub fn add_struct(
        &mut self,
        name: &str,
        size: u32,
        members: &[NewMember<'_>],
    ) -> Result<TypeId, BtfError> {
        self.add_composite(Kind::Struct, name, size, members)
    }

    /// UNION of `size` bytes.
    ///
    /// # Errors
    /// As [`BtfBuilder::add_struct`].
    pub fn add_union(
        &mut self,
        name: &str,
        size: u32,
        members: &[NewMember<'_>],
    ) -> Result<TypeId, BtfError> {
        self.add_composite(Kind::Union, name, size, members)
    }

    /// ENUM of `size` bytes (1, 2, 4 or 8) with 32-bit values.
    ///
    /// # Errors
    /// [`BtfError::Encode`] for too many values.
    pub fn add_enum(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, i64)],
    ) -> Result<TypeId, BtfError> {
        let info = info(Kind::Enum, signed, values.len())?;
        let mut tail = Vec::with_capacity(values.len() * 2);
        for (n, v) in values {
            tail.extend([self.add_string(n), *v as u32]);
        }
        Ok(self.add(name, info, size, &tail))
    }

    /// ENUM64 of `size` bytes with 64-bit values.
    ///
    /// # Errors
    /// [`BtfError::Encode`] for too many values.
    pub fn add_enum64(
        &mut self,
        name: &str,
        size: u32,
        signed: bool,
        values: &[(&str, u64)],
    ) -> Result<TypeId, BtfError> {
        let info = info(Kind::Enum64, signed, values.len())?;
        let mut tail = Vec::with_capacity(values.len() * 3);
        for (n, v) in values {
            tail.extend([self.add_string(n), *v as u32, (*v >> 32) as u32]);
        }
        Ok(self.add(name, info, size, &tail))
    }

    /// FUNC_PROTO returning `ret` (0 = void); a final `("", 0)` param makes it variadic.
    ///
    /// # Errors
    /// [`BtfError::Encode`] for too many parameters.
    pub fn add_func_proto(
        &mut self,
        ret: TypeId,
        params: &[(&str, TypeId)],
    ) -> Result<TypeId, BtfError> {
        let info = info(Kind::FuncProto, false, params.len())?;
        let mut tail = Vec::with_capacity(params.len() * 2);
        for (n, t) in params {
            tail.extend([self.add_string(n), *t]);
        }
        Ok(self.add("", info, ret, &tail))
    }

    /// FUNC `name` of prototype `proto`.
    pub fn add_func(&mut self, name: &str, proto: TypeId, linkage: FuncLinkage) -> TypeId {
        let l = match linkage {
            FuncLinkage::Static => 0,
            FuncLinkage::Global => 1,
            FuncLinkage::Extern => 2,
            FuncLinkage::Unknown(n) => n as u32,
        };
        self.add(name, ((Kind::Func as u32) << 24) | l, proto, &[])
    }

    /// VAR `name` of type `ty`.
    pub fn add_var(&mut self, name: &str, ty: TypeId, linkage: VarLinkage) -> TypeId {
        let l = match linkage {
            VarLinkage::Static => 0,
            VarLinkage::GlobalAllocated => 1,
            VarLinkage::GlobalExtern => 2,
            VarLinkage::Unknown(n) => n,
        };
        self.add(name, (Kind::Var as u32) << 24, ty, &[l])
    }

    /// DATASEC `name` of `size` bytes holding `vars`.
    ///
    /// # Errors
    /// [`BtfError::Encode`] for too many variables.
    pub fn add_datasec(
        &mut self,
        name: &str,
        size: u32,
        vars: &[VarSecinfo],
    ) -> Result<TypeId, BtfError> {
        let info = info(Kind::Datasec, false, vars.len())?;
        let tail: Vec<u32> = vars
            .iter()
            .flat_map(|v| [v.type_id, v.offset, v.size])
            .collect();
        Ok(self.add(name, info, size, &tail))
    }

    /// DECL_TAG `value` on `target` (member/param `component_idx`, or -1 for the type itself);
    /// `attribute` sets kind_flag (a raw `__attribute__`).
    pub fn add_decl_tag(
        &mut self,
        value: &str,
        target: TypeId,
        component_idx: i32,
        attribute: bool,
    ) -> TypeId {
        self.add(
            value,
            ((attribute as u32) << 31) | ((Kind::DeclTag as u32) << 24),
            target,
            &[component_idx as u32],
        )
    }

    /// Offset in the type section of own type `id`, and its kind.
    fn record(&self, id: TypeId, expected: &'static str, kind: Kind) -> Result<usize, BtfError> {
        let last = self.first_id + self.count - 1;
        if id < self.first_id || id > last {
            return Err(BtfError::TypeIdOutOfRange {
                id,
                last,
                from: None,
            });
        }
        let mut off = 0;
        for _ in self.first_id..id {
            off += record_len(rd32(&self.types, off + 4));
        }
        let found =
            Kind::from_raw(((rd32(&self.types, off + 4) >> 24) & 0x1f) as u8).unwrap_or(Kind::Void);
        if found != kind {
            return Err(BtfError::WrongKind {
                id,
                found,
                expected,
            });
        }
        Ok(off)
    }

    fn set(&mut self, off: usize, w: u32) {
        if let Some(b) = self.types.get_mut(off..off + 4) {
            b.copy_from_slice(&w.to_ne_bytes());
        }
    }

    /// Rewrites the size and variables of DATASEC `id` (as many as it has): the loader's fixup
    /// of the sizes and offsets clang leaves as 0 (libbpf's `btf_fixup_datasec`).
    ///
    /// # Errors
    /// [`BtfError::TypeIdOutOfRange`], [`BtfError::WrongKind`], or [`BtfError::Encode`] if
    /// the number of variables differs.
    pub fn set_datasec(
        &mut self,
        id: TypeId,
        size: u32,
        vars: &[VarSecinfo],
    ) -> Result<(), BtfError> {
        let off = self.record(id, "DATASEC", Kind::Datasec)?;
        if (rd32(&self.types, off + 4) & 0xffff) as usize != vars.len() {
            return Err(BtfError::Encode {
                what: "set_datasec must keep the number of variables",
            });
        }
        self.set(off + 8, size);
        for (i, v) in vars.iter().enumerate() {
            let at = off + TYPE_LEN + i * 12;
            self.set(at, v.type_id);
            self.set(at + 4, v.offset);
            self.set(at + 8, v.size);
        }
        Ok(())
    }

    /// Sets the linkage of FUNC `id` (e.g. global → static for hidden subprograms).
    ///
    /// # Errors
    /// [`BtfError::TypeIdOutOfRange`], [`BtfError::WrongKind`].
    pub fn set_func_linkage(&mut self, id: TypeId, linkage: FuncLinkage) -> Result<(), BtfError> {
        let off = self.record(id, "FUNC", Kind::Func)?;
        let l = match linkage {
            FuncLinkage::Static => 0,
            FuncLinkage::Global => 1,
            FuncLinkage::Extern => 2,
            FuncLinkage::Unknown(n) => n as u32,
        };
        self.set(off + 4, ((Kind::Func as u32) << 24) | l);
        Ok(())
    }

    /// Sets the linkage of VAR `id`.
    ///
    /// # Errors
    /// [`BtfError::TypeIdOutOfRange`], [`BtfError::WrongKind`].
    pub fn set_var_linkage(&mut self, id: TypeId, linkage: VarLinkage) -> Result<(), BtfError> {
        let off = self.record(id, "VAR", Kind::Var)?;
        let l = match linkage {
            VarLinkage::Static => 0,
            VarLinkage::GlobalAllocated => 1,
            VarLinkage::GlobalExtern => 2,
            VarLinkage::Unknown(n) => n,
        };
        self.set(off + TYPE_LEN, l);
        Ok(())
    }

    /// Encodes header, types and strings to raw BTF.
    pub fn encode(&self) -> Vec<u8> {
        encode_sections(&self.types, &self.strings)
    }
}

/// Raw BTF from a type section and a string section.
pub(crate) fn encode_sections(types: &[u8], strings: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + types.len() + strings.len());
    out.extend_from_slice(&MAGIC.to_ne_bytes());
    out.extend_from_slice(&[1, 0]);
    for w in [
        HEADER_LEN as u32,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        out.extend_from_slice(&w.to_ne_bytes());
    }
    out.extend_from_slice(types);
    out.extend_from_slice(strings);
    out
}
