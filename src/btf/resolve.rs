//! Following references: skipping modifiers and typedefs, sizes, alignment.
//!
//! Every walk here is linear in the number of types: a chain of references is cut after
//! [`MAX_RESOLVE_DEPTH`] steps, and [`Btf::align_of`] visits each type at most once per call
//! (a DAG of unions whose members point twice to the level below would otherwise double the
//! work with every level).

use std::collections::HashMap;

use super::{Btf, BtfError, Kind, Type, TypeId};

/// How many references are followed before a chain is declared a loop (libbpf uses 32).
pub(crate) const MAX_RESOLVE_DEPTH: usize = 64;

/// Pointer size of BPF and of the 64-bit kernels BTF describes: the size used when a BTF
/// has no `long` to take it from.
pub(crate) const PTR_SIZE: u32 = 8;

/// The names of `long` whose size gives the pointer size (libbpf's `determine_ptr_size`).
const LONG_NAMES: [&str; 4] = ["long", "long int", "unsigned long", "long unsigned int"];

impl<'a> Btf<'a> {
    /// The size of a pointer in the program or kernel this BTF describes: the size of its
    /// first INT named `long`, `long int`, `unsigned long` or `long unsigned int` (4 or 8), as
    /// libbpf's `btf__pointer_size` finds it; 8 (BPF's own pointer size) when there is none.
    /// Split BTF looks in its own types first, then in its base. Found once per `Btf`.
    pub fn pointer_size(&self) -> u32 {
        *self.ptr_size.get_or_init(|| {
            self.own_long_size()
                .or_else(|| self.base().map(|b| b.pointer_size()))
                .unwrap_or(PTR_SIZE)
        })
    }

    fn own_long_size(&self) -> Option<u32> {
        self.types()
            .filter(|t| t.id() >= self.first_id && t.kind() == Kind::Int)
            .find(|t| t.name().is_ok_and(|n| LONG_NAMES.contains(&n)))
            .and_then(|t| t.size())
            .filter(|&s| s == 4 || s == 8)
    }

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
    /// typedefs and VARs, multiplies arrays out; pointers are [`Btf::pointer_size`] bytes.
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
                Kind::Ptr => Some(self.pointer_size()),
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
    /// are not naturally aligned is packed (alignment 1). Scalars and pointers are aligned to
    /// their size, at most [`Btf::pointer_size`].
    ///
    /// Linear in the number of types: each type is resolved once per call, however many
    /// members refer to it.
    ///
    /// # Errors
    /// As [`Btf::size_of`]; [`BtfError::Loop`] for composites nested deeper than 64 levels.
    pub fn align_of(&self, id: TypeId) -> Result<u32, BtfError> {
        let mut memo = HashMap::new();
        self.align_of_memo(id, 0, &mut memo)
    }

    fn align_of_memo(
        &self,
        id: TypeId,
        depth: usize,
        memo: &mut HashMap<TypeId, u32>,
    ) -> Result<u32, BtfError> {
        if depth > MAX_RESOLVE_DEPTH {
            return Err(BtfError::Loop { id });
        }
        if let Some(&a) = memo.get(&id) {
            return Ok(a);
        }
        let t = self.type_by_id(id)?;
        let ptr = self.pointer_size();
        let align = match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => t.size_or_type().clamp(1, ptr),
            Kind::Ptr => ptr,
            Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::TypeTag
            | Kind::Var => self
                .align_of_memo(t.size_or_type(), depth + 1, memo)
                .map_err(|e| from(e, id))?,
            Kind::Array => {
                let a = t.expect(t.as_array(), "ARRAY")?;
                self.align_of_memo(a.elem_type(), depth + 1, memo)
                    .map_err(|e| from(e, id))?
            }
            Kind::Struct | Kind::Union => {
                let c = t.expect(t.as_composite(), "STRUCT or UNION")?;
                let mut max = 1;
                let mut packed = false;
                for m in c.members() {
                    let align = self.align_of_memo(m.type_id(), depth + 1, memo)?;
                    if m.bitfield_size() == 0 && m.bit_offset() % (8 * align) != 0 {
                        packed = true;
                        break;
                    }
                    max = max.max(align);
                }
                if packed || c.byte_size() % max != 0 {
                    1
                } else {
                    max
                }
            }
            Kind::Datasec => 1,
            Kind::Void | Kind::Fwd | Kind::Func | Kind::FuncProto | Kind::DeclTag => {
                return Err(BtfError::BadSize {
                    id,
                    what: "type has no alignment",
                });
            }
        };
        memo.insert(id, align);
        Ok(align)
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

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
