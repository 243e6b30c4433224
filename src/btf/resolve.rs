//! Following references: skipping modifiers and typedefs, sizes, alignment.

use super::{Btf, BtfError, Kind, Type, TypeId};

/// How many references are followed before a chain is declared a loop (libbpf uses 32).
pub(crate) const MAX_RESOLVE_DEPTH: usize = 64;

/// Pointer size of BPF and of the 64-bit kernels BTF describes.
pub(crate) const PTR_SIZE: u32 = 8;

impl<'a> Btf<'a> {
    fn skip_while(&self, id: TypeId, skip: impl Fn(Kind) -> bool) -> Result<Type<'_>, BtfError> {
        let mut t = self.type_by_id(id)?;
        for _ in 0..MAX_RESOLVE_DEPTH {
            if !skip(t.kind()) {
                return Ok(t);
            }
            let next = t.size_or_type();
            t = self.type_by_id(next).map_err(|e| from(e, t.id()))?;
        }
        Err(BtfError::Loop { id: t.id() })
    }

    /// The type `id` with VOLATILE, CONST, RESTRICT and TYPE_TAG skipped.
    ///
    /// # Errors
    /// [`BtfError::TypeIdOutOfRange`], [`BtfError::Loop`].
    pub fn skip_mods(&self, id: TypeId) -> Result<Type<'_>, BtfError> {
        self.skip_while(id, |k| {
            matches!(
                k,
                Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
            )
        })
    }

    /// The type `id` with modifiers and TYPEDEFs skipped.
    ///
    /// # Errors
    /// [`BtfError::TypeIdOutOfRange`], [`BtfError::Loop`].
    pub fn skip_mods_and_typedefs(&self, id: TypeId) -> Result<Type<'_>, BtfError> {
        self.skip_while(id, |k| {
            matches!(
                k,
                Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag | Kind::Typedef
            )
        })
    }

    /// The size in bytes of type `id` (libbpf's `btf__resolve_size`): follows modifiers,
    /// typedefs and VARs, multiplies arrays out; pointers are 8 bytes.
    ///
    /// # Errors
    /// [`BtfError::BadSize`] for types without a size (void, FUNC, FWD, …) or on overflow;
    /// [`BtfError::Loop`]; [`BtfError::TypeIdOutOfRange`].
    pub fn size_of(&self, id: TypeId) -> Result<u32, BtfError> {
        let mut nelems: u64 = 1;
        let mut t = self.type_by_id(id)?;
        for _ in 0..MAX_RESOLVE_DEPTH {
            let size = match t.kind() {
                Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float => Some(t.size_or_type()),
                Kind::Ptr => Some(PTR_SIZE),
                Kind::Typedef
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::TypeTag
                | Kind::Var => None,
                Kind::Array => {
                    let a = t.expect(t.as_array(), "ARRAY")?;
                    nelems = nelems
                        .checked_mul(a.nelems() as u64)
                        .filter(|&n| n <= u32::MAX as u64)
                        .ok_or(BtfError::BadSize {
                            id,
                            what: "array size overflows u32",
                        })?;
                    t = self
                        .type_by_id(a.elem_type())
                        .map_err(|e| from(e, t.id()))?;
                    continue;
                }
                Kind::Void | Kind::Fwd | Kind::Func | Kind::FuncProto | Kind::DeclTag => {
                    return Err(BtfError::BadSize {
                        id: t.id(),
                        what: "type has no size",
                    });
                }
            };
            if let Some(size) = size {
                let total = nelems * size as u64;
                return u32::try_from(total).map_err(|_| BtfError::BadSize {
                    id,
                    what: "size overflows u32",
                });
            }
            t = self
                .type_by_id(t.size_or_type())
                .map_err(|e| from(e, t.id()))?;
        }
        Err(BtfError::Loop { id: t.id() })
    }

    /// The alignment in bytes of type `id` (libbpf's `btf__align_of`): a struct whose members
    /// are not naturally aligned is packed (alignment 1).
    ///
    /// # Errors
    /// As [`Btf::size_of`].
    pub fn align_of(&self, id: TypeId) -> Result<u32, BtfError> {
        self.align_of_depth(id, 0)
    }

    fn align_of_depth(&self, id: TypeId, depth: usize) -> Result<u32, BtfError> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(BtfError::Loop { id });
        }
        let t = self.type_by_id(id)?;
        match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => {
                Ok(t.size_or_type().clamp(1, PTR_SIZE))
            }
            Kind::Ptr => Ok(PTR_SIZE),
            Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::TypeTag
            | Kind::Var => self
                .align_of_depth(t.size_or_type(), depth + 1)
                .map_err(|e| from(e, id)),
            Kind::Array => {
                let a = t.expect(t.as_array(), "ARRAY")?;
                self.align_of_depth(a.elem_type(), depth + 1)
                    .map_err(|e| from(e, id))
            }
            Kind::Struct | Kind::Union => {
                let c = t.expect(t.as_composite(), "STRUCT or UNION")?;
                let mut max = 1;
                for m in c.members() {
                    let align = self.align_of_depth(m.type_id(), depth + 1)?;
                    if m.bitfield_size() == 0 && m.bit_offset() % (8 * align) != 0 {
                        return Ok(1); // packed
                    }
                    max = max.max(align);
                }
                if c.byte_size() % max != 0 {
                    return Ok(1);
                }
                Ok(max)
            }
            Kind::Datasec => Ok(1),
            Kind::Void | Kind::Fwd | Kind::Func | Kind::FuncProto | Kind::DeclTag => {
                Err(BtfError::BadSize {
                    id,
                    what: "type has no alignment",
                })
            }
        }
    }
}

/// Adds "referenced from" to an out-of-range id error.
pub(crate) fn from(e: BtfError, from_id: TypeId) -> BtfError {
    match e {
        BtfError::TypeIdOutOfRange {
            id,
            last,
            from: None,
        } => BtfError::TypeIdOutOfRange {
            id,
            last,
            from: Some(from_id),
        },
        e => e,
    }
}
