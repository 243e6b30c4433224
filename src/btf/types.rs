//! Type views: [`Type`] for any record, one view struct per kind ([`TypeView`]).

use super::parse::rd32;
use super::{Btf, BtfError, Kind, TypeId};

/// One BTF type: a view over its record in the BTF bytes.
///
/// Cheap to copy. Kind-specific data is reached through [`Type::view`] or the `as_*` helpers.
#[derive(Clone, Copy)]
pub struct Type<'b> {
    pub(crate) btf: &'b Btf<'b>,
    pub(crate) id: TypeId,
    pub(crate) rec: &'b [u8],
}

impl std::fmt::Debug for Type<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] {} '{}'",
            self.id,
            self.kind().name(),
            self.name().unwrap_or("<bad name>")
        )
    }
}

impl<'b> Type<'b> {
    pub(crate) fn new(btf: &'b Btf<'b>, id: TypeId, rec: &'b [u8]) -> Self {
        Type { btf, id, rec }
    }

    #[inline(always)]
    pub(crate) fn word(&self, i: usize) -> u32 {
        rd32(self.rec, i * 4)
    }

    /// The type id.
    pub fn id(&self) -> TypeId {
        self.id
    }

    /// The BTF this type lives in (for split BTF, the base for base types).
    pub fn btf(&self) -> &'b Btf<'b> {
        self.btf
    }

    /// The raw record: `struct btf_type` and what follows it.
    pub fn raw(&self) -> &'b [u8] {
        self.rec
    }

    /// The raw `info` word.
    pub fn info(&self) -> u32 {
        self.word(1)
    }

    /// The kind ([`Kind::Void`] for id 0).
    pub fn kind(&self) -> Kind {
        Kind::from_raw(((self.info() >> 24) & 0x1f) as u8).unwrap_or(Kind::Void)
    }

    /// The `kind_flag` bit: bitfield offsets (STRUCT/UNION), signedness (ENUM/ENUM64), union
    /// (FWD), raw `__attribute__` (DECL_TAG/TYPE_TAG).
    pub fn kind_flag(&self) -> bool {
        self.info() >> 31 != 0
    }

    /// `vlen`: members, values, params, variables; linkage for FUNC.
    pub fn vlen(&self) -> u16 {
        (self.info() & 0xffff) as u16
    }

    /// Offset of the name in the string section.
    pub fn name_off(&self) -> u32 {
        self.word(0)
    }

    /// The name (`""` for anonymous types).
    ///
    /// # Errors
    /// [`BtfError::BadString`] if it is not UTF-8.
    pub fn name(&self) -> Result<&'b str, BtfError> {
        self.btf.string(self.name_off())
    }

    /// The name as raw bytes.
    pub(crate) fn name_bytes(&self) -> &'b [u8] {
        self.btf.str_bytes(self.name_off()).unwrap_or(&[])
    }

    /// The raw `size`/`type` word.
    pub fn size_or_type(&self) -> u32 {
        self.word(2)
    }

    /// The size in bytes for kinds that carry one (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC,
    /// FLOAT). See [`Btf::size_of`] for any type.
    pub fn size(&self) -> Option<u32> {
        use Kind::*;
        match self.kind() {
            Int | Struct | Union | Enum | Enum64 | Datasec | Float => Some(self.word(2)),
            _ => None,
        }
    }

    /// The referenced type for kinds that carry one (PTR, TYPEDEF, VOLATILE, CONST, RESTRICT,
    /// FUNC, FUNC_PROTO's return type, VAR, DECL_TAG, TYPE_TAG).
    pub fn ref_type(&self) -> Option<TypeId> {
        use Kind::*;
        match self.kind() {
            Ptr | Typedef | Volatile | Const | Restrict | Func | FuncProto | Var | DeclTag
            | TypeTag => Some(self.word(2)),
            _ => None,
        }
    }

    /// Whether this is VOLATILE, CONST, RESTRICT or TYPE_TAG.
    pub fn is_modifier(&self) -> bool {
        matches!(
            self.kind(),
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
        )
    }

    /// Whether this is a STRUCT or UNION.
    pub fn is_composite(&self) -> bool {
        matches!(self.kind(), Kind::Struct | Kind::Union)
    }

    /// The kind-specific view.
    pub fn view(&self) -> TypeView<'b> {
        let t = *self;
        match self.kind() {
            Kind::Void => TypeView::Void,
            Kind::Int => TypeView::Int(Int(t)),
            Kind::Ptr => TypeView::Ptr(Ref(t)),
            Kind::Array => TypeView::Array(Array(t)),
            Kind::Struct => TypeView::Struct(Composite(t)),
            Kind::Union => TypeView::Union(Composite(t)),
            Kind::Enum => TypeView::Enum(Enum(t)),
            Kind::Fwd => TypeView::Fwd(Fwd(t)),
            Kind::Typedef => TypeView::Typedef(Ref(t)),
            Kind::Volatile => TypeView::Volatile(Ref(t)),
            Kind::Const => TypeView::Const(Ref(t)),
            Kind::Restrict => TypeView::Restrict(Ref(t)),
            Kind::Func => TypeView::Func(Func(t)),
            Kind::FuncProto => TypeView::FuncProto(FuncProto(t)),
            Kind::Var => TypeView::Var(Var(t)),
            Kind::Datasec => TypeView::Datasec(Datasec(t)),
            Kind::Float => TypeView::Float(Float(t)),
            Kind::DeclTag => TypeView::DeclTag(DeclTag(t)),
            Kind::TypeTag => TypeView::TypeTag(TypeTag(t)),
            Kind::Enum64 => TypeView::Enum64(Enum(t)),
        }
    }

    /// This type as an INT.
    pub fn as_int(&self) -> Option<Int<'b>> {
        (self.kind() == Kind::Int).then_some(Int(*self))
    }
    /// This type as an ARRAY.
    pub fn as_array(&self) -> Option<Array<'b>> {
        (self.kind() == Kind::Array).then_some(Array(*self))
    }
    /// This type as a STRUCT or UNION.
    pub fn as_composite(&self) -> Option<Composite<'b>> {
        self.is_composite().then_some(Composite(*self))
    }
    /// This type as an ENUM or ENUM64.
    pub fn as_enum(&self) -> Option<Enum<'b>> {
        matches!(self.kind(), Kind::Enum | Kind::Enum64).then_some(Enum(*self))
    }
    /// This type as a FUNC.
    pub fn as_func(&self) -> Option<Func<'b>> {
        (self.kind() == Kind::Func).then_some(Func(*self))
    }
    /// This type as a FUNC_PROTO.
    pub fn as_func_proto(&self) -> Option<FuncProto<'b>> {
        (self.kind() == Kind::FuncProto).then_some(FuncProto(*self))
    }
    /// This type as a VAR.
    pub fn as_var(&self) -> Option<Var<'b>> {
        (self.kind() == Kind::Var).then_some(Var(*self))
    }
    /// This type as a DATASEC.
    pub fn as_datasec(&self) -> Option<Datasec<'b>> {
        (self.kind() == Kind::Datasec).then_some(Datasec(*self))
    }
    /// This type as a DECL_TAG.
    pub fn as_decl_tag(&self) -> Option<DeclTag<'b>> {
        (self.kind() == Kind::DeclTag).then_some(DeclTag(*self))
    }

    pub(crate) fn expect<T>(&self, v: Option<T>, expected: &'static str) -> Result<T, BtfError> {
        v.ok_or(BtfError::WrongKind {
            id: self.id,
            found: self.kind(),
            expected,
        })
    }
}

/// A [`Type`] seen as its kind.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum TypeView<'b> {
    /// `void` (id 0).
    Void,
    /// INT.
    Int(Int<'b>),
    /// PTR.
    Ptr(Ref<'b>),
    /// ARRAY.
    Array(Array<'b>),
    /// STRUCT.
    Struct(Composite<'b>),
    /// UNION.
    Union(Composite<'b>),
    /// ENUM (32-bit values).
    Enum(Enum<'b>),
    /// FWD.
    Fwd(Fwd<'b>),
    /// TYPEDEF.
    Typedef(Ref<'b>),
    /// VOLATILE.
    Volatile(Ref<'b>),
    /// CONST.
    Const(Ref<'b>),
    /// RESTRICT.
    Restrict(Ref<'b>),
    /// FUNC.
    Func(Func<'b>),
    /// FUNC_PROTO.
    FuncProto(FuncProto<'b>),
    /// VAR.
    Var(Var<'b>),
    /// DATASEC.
    Datasec(Datasec<'b>),
    /// FLOAT.
    Float(Float<'b>),
    /// DECL_TAG.
    DeclTag(DeclTag<'b>),
    /// TYPE_TAG.
    TypeTag(TypeTag<'b>),
    /// ENUM64.
    Enum64(Enum<'b>),
}

macro_rules! view {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name<'b>(pub(crate) Type<'b>);
        impl<'b> std::ops::Deref for $name<'b> {
            type Target = Type<'b>;
            fn deref(&self) -> &Type<'b> {
                &self.0
            }
        }
        impl<'b> $name<'b> {
            /// The underlying [`Type`].
            pub fn ty(&self) -> Type<'b> {
                self.0
            }
        }
    };
}

view!(
    /// An INT: size, encoding, bit offset and width.
    Int
);
view!(
    /// PTR, TYPEDEF, VOLATILE, CONST or RESTRICT: a type that refers to one other type.
    Ref
);
view!(
    /// An ARRAY.
    Array
);
view!(
    /// A STRUCT or UNION.
    Composite
);
view!(
    /// An ENUM or ENUM64.
    Enum
);
view!(
    /// A FWD declaration.
    Fwd
);
view!(
    /// A FUNC.
    Func
);
view!(
    /// A FUNC_PROTO.
    FuncProto
);
view!(
    /// A VAR.
    Var
);
view!(
    /// A DATASEC.
    Datasec
);
view!(
    /// A FLOAT.
    Float
);
view!(
    /// A DECL_TAG.
    DeclTag
);
view!(
    /// A TYPE_TAG.
    TypeTag
);
