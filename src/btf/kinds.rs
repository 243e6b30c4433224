//! Kind-specific accessors of the views in [`super::types`]: INT encoding, array shape,
//! members, enumerators, parameters, variables, tags.

use super::parse::{TYPE_LEN, rd32};
use super::types::{
    Array, Composite, Datasec, DeclTag, Enum, Float, Func, FuncProto, Fwd, Int, Ref, Type, TypeTag,
    Var,
};
use super::{BtfError, Kind, TypeId};

bitflags::bitflags! {
    /// `BTF_INT_*` encoding bits of an INT.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct IntEncoding: u8 {
        /// `BTF_INT_SIGNED`
        const SIGNED = 1;
        /// `BTF_INT_CHAR`
        const CHAR = 2;
        /// `BTF_INT_BOOL`
        const BOOL = 4;
    }
}

impl Int<'_> {
    fn data(&self) -> u32 {
        self.word(3)
    }
    /// Size in bytes.
    pub fn byte_size(&self) -> u32 {
        self.size_or_type()
    }
    /// Encoding bits (signed, char, bool).
    pub fn encoding(&self) -> IntEncoding {
        IntEncoding::from_bits_retain(((self.data() >> 24) & 0x0f) as u8)
    }
    /// Whether the integer is signed.
    pub fn is_signed(&self) -> bool {
        self.encoding().contains(IntEncoding::SIGNED)
    }
    /// Bit offset of the value inside its bytes (`BTF_INT_OFFSET`, legacy bitfields).
    pub fn bit_offset(&self) -> u32 {
        (self.data() >> 16) & 0xff
    }
    /// Number of value bits (`BTF_INT_BITS`).
    pub fn bits(&self) -> u32 {
        self.data() & 0xff
    }
}

impl Ref<'_> {
    /// The referenced type.
    pub fn target(&self) -> TypeId {
        self.size_or_type()
    }
}

impl TypeTag<'_> {
    /// The tagged type.
    pub fn target(&self) -> TypeId {
        self.size_or_type()
    }
    /// Whether the tag is a raw `__attribute__` (kind_flag) rather than `btf_type_tag`.
    pub fn is_attribute(&self) -> bool {
        self.kind_flag()
    }
}

impl Array<'_> {
    /// The element type.
    pub fn elem_type(&self) -> TypeId {
        self.word(3)
    }
    /// The index type.
    pub fn index_type(&self) -> TypeId {
        self.word(4)
    }
    /// The number of elements.
    pub fn nelems(&self) -> u32 {
        self.word(5)
    }
}

impl<'b> Composite<'b> {
    /// Whether this is a UNION.
    pub fn is_union(&self) -> bool {
        self.kind() == Kind::Union
    }
    /// Size in bytes.
    pub fn byte_size(&self) -> u32 {
        self.size_or_type()
    }
    /// The members in order.
    pub fn members(&self) -> Members<'b> {
        Records::new(self.0, |t, index| Member { t, index })
    }
    /// The member at `index` (CO-RE access specs index members), `None` past the end.
    pub fn member_at(&self, index: u16) -> Option<Member<'b>> {
        (index < self.vlen()).then_some(Member { t: self.0, index })
    }
    /// The member named `name`, if any (direct members only).
    pub fn member(&self, name: &str) -> Option<Member<'b>> {
        self.members().find(|m| m.name_bytes() == name.as_bytes())
    }
}

/// Iterator over the `vlen` records that follow a type: [`Members`], [`EnumValues`],
/// [`Params`], [`VarSecinfos`].
#[derive(Debug, Clone)]
pub struct Records<'b, R> {
    t: Type<'b>,
    i: u16,
    n: u16,
    at: fn(Type<'b>, u16) -> R,
}

impl<'b, R> Records<'b, R> {
    fn new(t: Type<'b>, at: fn(Type<'b>, u16) -> R) -> Self {
        Records {
            t,
            i: 0,
            n: t.vlen(),
            at,
        }
    }
}

impl<R> Iterator for Records<'_, R> {
    type Item = R;
    fn next(&mut self) -> Option<R> {
        if self.i >= self.n {
            return None;
        }
        let r = (self.at)(self.t, self.i);
        self.i += 1;
        Some(r)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.n - self.i) as usize;
        (n, Some(n))
    }
}
impl<R> ExactSizeIterator for Records<'_, R> {}

/// Iterator over the members of a STRUCT or UNION.
pub type Members<'b> = Records<'b, Member<'b>>;

/// One member of a STRUCT or UNION.
#[derive(Debug, Clone, Copy)]
pub struct Member<'b> {
    t: Type<'b>,
    index: u16,
}

impl<'b> Member<'b> {
    fn word(&self, w: usize) -> u32 {
        rd32(self.t.rec, TYPE_LEN + self.index as usize * 12 + w * 4)
    }
    /// Position among the members.
    pub fn index(&self) -> u16 {
        self.index
    }
    /// Offset of the name.
    pub fn name_off(&self) -> u32 {
        self.word(0)
    }
    /// The name (`""` for an anonymous member).
    ///
    /// # Errors
    /// [`BtfError::StringOutOfRange`] or [`BtfError::BadString`].
    pub fn name(&self) -> Result<&'b str, BtfError> {
        record_name(self.t, self.name_off())
    }
    pub(crate) fn name_bytes(&self) -> &'b [u8] {
        self.t.btf.str_bytes(self.name_off()).unwrap_or(&[])
    }
    /// The member's type.
    pub fn type_id(&self) -> TypeId {
        self.word(1)
    }
    /// Offset in bits from the start of the composite.
    pub fn bit_offset(&self) -> u32 {
        let o = self.word(2);
        if self.t.kind_flag() {
            o & 0x00ff_ffff
        } else {
            o
        }
    }
    /// Bitfield width in bits, 0 when the member is not a bitfield (or is one encoded the
    /// legacy way, in its INT type).
    pub fn bitfield_size(&self) -> u32 {
        if self.t.kind_flag() {
            self.word(2) >> 24
        } else {
            0
        }
    }
}

/// The name at `name_off` of a record of `t`, an error naming `t` if it is out of range.
fn record_name<'b>(t: Type<'b>, name_off: u32) -> Result<&'b str, BtfError> {
    t.btf.string(name_off).map_err(|e| with_id(e, t.id))
}

pub(crate) fn with_id(e: BtfError, id: TypeId) -> BtfError {
    match e {
        BtfError::StringOutOfRange { str_off, len, .. } => BtfError::StringOutOfRange {
            str_off,
            len,
            id: Some(id),
        },
        e => e,
    }
}

impl<'b> Enum<'b> {
    /// Whether this is an ENUM64.
    pub fn is_64(&self) -> bool {
        self.kind() == Kind::Enum64
    }
    /// Whether the values are signed (kind_flag).
    pub fn is_signed(&self) -> bool {
        self.kind_flag()
    }
    /// Size in bytes.
    pub fn byte_size(&self) -> u32 {
        self.size_or_type()
    }
    /// The enumerator at `index`, `None` past the end.
    pub fn value_at(&self, index: u16) -> Option<EnumValue<'b>> {
        (index < self.vlen()).then_some(EnumValue { t: self.0, index })
    }
    /// The enumerators in order.
    pub fn values(&self) -> EnumValues<'b> {
        Records::new(self.0, |t, index| EnumValue { t, index })
    }
}

/// Iterator over the enumerators of an ENUM or ENUM64.
pub type EnumValues<'b> = Records<'b, EnumValue<'b>>;

/// One enumerator.
#[derive(Debug, Clone, Copy)]
pub struct EnumValue<'b> {
    t: Type<'b>,
    index: u16,
}

impl<'b> EnumValue<'b> {
    fn word(&self, w: usize) -> u32 {
        let stride = if self.t.kind() == Kind::Enum64 { 12 } else { 8 };
        rd32(self.t.rec, TYPE_LEN + self.index as usize * stride + w * 4)
    }
    /// Offset of the name.
    pub fn name_off(&self) -> u32 {
        self.word(0)
    }
    /// The name.
    ///
    /// # Errors
    /// [`BtfError::StringOutOfRange`] or [`BtfError::BadString`].
    pub fn name(&self) -> Result<&'b str, BtfError> {
        record_name(self.t, self.name_off())
    }
    pub(crate) fn name_bytes(&self) -> &'b [u8] {
        self.t.btf.str_bytes(self.name_off()).unwrap_or(&[])
    }
    /// The value's raw 64 bits (ENUM values sign- or zero-extended by the enum's signedness).
    pub fn value_u64(&self) -> u64 {
        if self.t.kind() == Kind::Enum64 {
            (self.word(1) as u64) | ((self.word(2) as u64) << 32)
        } else if self.t.kind_flag() {
            self.word(1) as i32 as i64 as u64
        } else {
            self.word(1) as u64
        }
    }
    /// The value as a signed number.
    pub fn value_i64(&self) -> i64 {
        self.value_u64() as i64
    }
}

impl Fwd<'_> {
    /// Whether this forward-declares a union (kind_flag) rather than a struct.
    pub fn is_union(&self) -> bool {
        self.kind_flag()
    }
}

/// Linkage of a FUNC (`btf_func_linkage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FuncLinkage {
    /// `BTF_FUNC_STATIC`
    Static,
    /// `BTF_FUNC_GLOBAL`
    Global,
    /// `BTF_FUNC_EXTERN`
    Extern,
    /// Anything else.
    Unknown(u16),
}

impl Func<'_> {
    /// The FUNC_PROTO.
    pub fn proto(&self) -> TypeId {
        self.size_or_type()
    }
    /// The linkage (stored in vlen).
    pub fn linkage(&self) -> FuncLinkage {
        match self.vlen() {
            0 => FuncLinkage::Static,
            1 => FuncLinkage::Global,
            2 => FuncLinkage::Extern,
            n => FuncLinkage::Unknown(n),
        }
    }
}

impl<'b> FuncProto<'b> {
    /// The return type (0 = void).
    pub fn return_type(&self) -> TypeId {
        self.size_or_type()
    }
    /// The parameters; a trailing one with type 0 and no name means `...`.
    pub fn params(&self) -> Params<'b> {
        Records::new(self.0, |t, index| Param { t, index })
    }
    /// The parameter at `index`, `None` past the end.
    pub fn param_at(&self, index: u16) -> Option<Param<'b>> {
        (index < self.vlen()).then_some(Param { t: self.0, index })
    }
    /// Whether the function is variadic.
    pub fn is_variadic(&self) -> bool {
        self.params()
            .last()
            .is_some_and(|p| p.type_id() == 0 && p.name_off() == 0)
    }
}

/// Iterator over the parameters of a FUNC_PROTO.
pub type Params<'b> = Records<'b, Param<'b>>;

/// One FUNC_PROTO parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param<'b> {
    t: Type<'b>,
    index: u16,
}

impl<'b> Param<'b> {
    fn word(&self, w: usize) -> u32 {
        rd32(self.t.rec, TYPE_LEN + self.index as usize * 8 + w * 4)
    }
    /// Offset of the name.
    pub fn name_off(&self) -> u32 {
        self.word(0)
    }
    /// The name (`""` if unnamed).
    ///
    /// # Errors
    /// [`BtfError::StringOutOfRange`] or [`BtfError::BadString`].
    pub fn name(&self) -> Result<&'b str, BtfError> {
        record_name(self.t, self.name_off())
    }
    /// The parameter's type.
    pub fn type_id(&self) -> TypeId {
        self.word(1)
    }
}

/// Linkage of a VAR (`BTF_VAR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarLinkage {
    /// `BTF_VAR_STATIC`
    Static,
    /// `BTF_VAR_GLOBAL_ALLOCATED`
    GlobalAllocated,
    /// `BTF_VAR_GLOBAL_EXTERN`
    GlobalExtern,
    /// Anything else.
    Unknown(u32),
}

impl Var<'_> {
    /// The variable's type.
    pub fn type_id(&self) -> TypeId {
        self.size_or_type()
    }
    /// The linkage.
    pub fn linkage(&self) -> VarLinkage {
        match self.word(3) {
            0 => VarLinkage::Static,
            1 => VarLinkage::GlobalAllocated,
            2 => VarLinkage::GlobalExtern,
            n => VarLinkage::Unknown(n),
        }
    }
}

impl<'b> Datasec<'b> {
    /// Size in bytes.
    pub fn byte_size(&self) -> u32 {
        self.size_or_type()
    }
    /// The variables of the section.
    pub fn vars(&self) -> VarSecinfos<'b> {
        Records::new(self.0, |t, i| {
            let at = TYPE_LEN + i as usize * 12;
            VarSecinfo {
                type_id: rd32(t.rec, at),
                offset: rd32(t.rec, at + 4),
                size: rd32(t.rec, at + 8),
            }
        })
    }
}

/// Iterator over the variables of a DATASEC.
pub type VarSecinfos<'b> = Records<'b, VarSecinfo>;

/// One variable of a DATASEC (`struct btf_var_secinfo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarSecinfo {
    /// The VAR (or FUNC, for `.ksyms`).
    pub type_id: TypeId,
    /// Offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

impl Float<'_> {
    /// Size in bytes.
    pub fn byte_size(&self) -> u32 {
        self.size_or_type()
    }
}

impl DeclTag<'_> {
    /// The tagged type (a STRUCT/UNION/VAR/FUNC/TYPEDEF).
    pub fn target(&self) -> TypeId {
        self.size_or_type()
    }
    /// The member or parameter index the tag applies to, -1 for the type itself.
    pub fn component_idx(&self) -> i32 {
        self.word(3) as i32
    }
    /// Whether the tag is a raw `__attribute__` (kind_flag) rather than `btf_decl_tag`.
    pub fn is_attribute(&self) -> bool {
        self.kind_flag()
    }
}
