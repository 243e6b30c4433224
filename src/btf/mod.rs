//! BTF: zero-copy parsing, building, value formatting, kernel BTF.
//!
//! [`Btf`] is a lazy, zero-copy view over raw BTF bytes: a `.BTF` ELF section (borrowed,
//! [`Btf::parse`], [`Btf::from_elf`]), a `Vec<u8>` ([`Btf::parse_owned`], [`Btf::from_file`])
//! or an mmap of `/sys/kernel/btf/vmlinux` ([`Btf::from_kernel`], cached, and
//! [`Btf::from_kernel_uncached`]). Opening validates the header and walks every type record
//! once (kind, length, name offset) without allocating per type: it keeps only a sparse offset
//! index (one `u32` per 16 types). Type views ([`Type`], [`TypeView`] and one struct per kind)
//! borrow the bytes and resolve names on demand. The first lookup by name is a linear scan; a
//! hash index (keyed by essential name, so CO-RE flavors are found too) is built on the second.
//!
//! Split BTF (kernel module BTF, [`Btf::from_kernel_module`]) is parsed over a base with
//! [`Btf::parse_split`]: its type ids and string offsets continue from the base's.
//!
//! Also here: `.BTF.ext` records ([`BtfExt`]); [`BtfBuilder`] to write BTF; [`sanitize`] to
//! rewrite object BTF for older kernels as libbpf does; [`format_value`] to print values as
//! `bpftool map dump` does; [`BtfHandle`] for BTF loaded in the kernel (the only part of this
//! module that makes system calls).
//!
//! ```no_run
//! use rawbpf::btf::{Btf, Kind};
//! let vmlinux = Btf::from_kernel()?;
//! let task = vmlinux.find_by_name_kind("task_struct", Kind::Struct).expect("task_struct");
//! for m in task.as_composite().expect("struct").members() {
//!     println!("{} at bit {}", m.name()?, m.bit_offset());
//! }
//! # Ok::<(), rawbpf::btf::BtfError>(())
//! ```

mod build;
mod c_dump;
pub mod core;
mod dump;
mod elf;
mod error;
mod ext;
mod format;
mod handle;
mod kernel;
mod kinds;
mod lookup;
mod parse;
mod resolve;
mod sanitize;
mod types;

pub use build::{BtfBuilder, NewMember};
pub use c_dump::{CDumpError, CDumpOptions, write_c_header};
pub use dump::dump_raw;
pub use error::BtfError;
pub use ext::{
    BtfExt, CoreRelo, CoreReloKind, CoreReloRecord, ExtRecord, ExtSection, ExtSections, FuncInfo,
    LineInfo,
};
pub use format::{format_percpu_value, format_value, format_value_into};
pub use handle::{BtfHandle, BtfHandleError, BtfHandleInfo};
pub use kernel::{SYSFS_BTF, kernel_modules_with_btf};
pub use kinds::{
    EnumValue, EnumValues, FuncLinkage, IntEncoding, Member, Members, Param, Params, Records,
    VarLinkage, VarSecinfo, VarSecinfos,
};
pub use lookup::Matches;
pub use parse::Types;
pub use sanitize::{KernelBtfFeatures, sanitize};
pub use types::{
    Array, Composite, Datasec, DeclTag, Enum, Float, Func, FuncProto, Fwd, Int, Ref, Type, TypeTag,
    TypeView, Var,
};

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::AtomicU32;

/// A BTF type id. 0 is `void`; in split BTF, ids continue after the base's last id.
pub type TypeId = u32;

/// The kind of a BTF type (`BTF_KIND_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// Type id 0: `void`.
    Void = 0,
    /// `BTF_KIND_INT`
    Int = 1,
    /// `BTF_KIND_PTR`
    Ptr = 2,
    /// `BTF_KIND_ARRAY`
    Array = 3,
    /// `BTF_KIND_STRUCT`
    Struct = 4,
    /// `BTF_KIND_UNION`
    Union = 5,
    /// `BTF_KIND_ENUM`
    Enum = 6,
    /// `BTF_KIND_FWD`
    Fwd = 7,
    /// `BTF_KIND_TYPEDEF`
    Typedef = 8,
    /// `BTF_KIND_VOLATILE`
    Volatile = 9,
    /// `BTF_KIND_CONST`
    Const = 10,
    /// `BTF_KIND_RESTRICT`
    Restrict = 11,
    /// `BTF_KIND_FUNC`
    Func = 12,
    /// `BTF_KIND_FUNC_PROTO`
    FuncProto = 13,
    /// `BTF_KIND_VAR`
    Var = 14,
    /// `BTF_KIND_DATASEC`
    Datasec = 15,
    /// `BTF_KIND_FLOAT`
    Float = 16,
    /// `BTF_KIND_DECL_TAG`
    DeclTag = 17,
    /// `BTF_KIND_TYPE_TAG`
    TypeTag = 18,
    /// `BTF_KIND_ENUM64`
    Enum64 = 19,
}

impl Kind {
    /// The kind for a raw `BTF_KIND_*` value (0 is `Void`), `None` if unknown.
    pub fn from_raw(raw: u8) -> Option<Kind> {
        use Kind::*;
        Some(match raw {
            0 => Void,
            1 => Int,
            2 => Ptr,
            3 => Array,
            4 => Struct,
            5 => Union,
            6 => Enum,
            7 => Fwd,
            8 => Typedef,
            9 => Volatile,
            10 => Const,
            11 => Restrict,
            12 => Func,
            13 => FuncProto,
            14 => Var,
            15 => Datasec,
            16 => Float,
            17 => DeclTag,
            18 => TypeTag,
            19 => Enum64,
            _ => return None,
        })
    }

    /// The kind's name as bpftool prints it (`STRUCT`, `FUNC_PROTO`, …).
    pub fn name(self) -> &'static str {
        use Kind::*;
        match self {
            Void => "UNKN",
            Int => "INT",
            Ptr => "PTR",
            Array => "ARRAY",
            Struct => "STRUCT",
            Union => "UNION",
            Enum => "ENUM",
            Fwd => "FWD",
            Typedef => "TYPEDEF",
            Volatile => "VOLATILE",
            Const => "CONST",
            Restrict => "RESTRICT",
            Func => "FUNC",
            FuncProto => "FUNC_PROTO",
            Var => "VAR",
            Datasec => "DATASEC",
            Float => "FLOAT",
            DeclTag => "DECL_TAG",
            TypeTag => "TYPE_TAG",
            Enum64 => "ENUM64",
        }
    }
}

/// Where the bytes of a [`Btf`] live.
enum Storage<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
    /// A read-only mapping (of a `/sys/kernel/btf` file, made by [`kernel`]).
    Mapped(Box<dyn std::ops::Deref<Target = [u8]> + Send + Sync>),
}

impl Storage<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Borrowed(b) => b,
            Storage::Owned(v) => v,
            Storage::Mapped(m) => std::ops::Deref::deref(&**m),
        }
    }
}

/// Parsed BTF: a zero-copy view over raw BTF bytes, owned, borrowed or mmapped.
///
/// Cheap to open (one validating pass, no per-type allocation); `Send + Sync`, so the kernel's
/// BTF can be shared as an `Arc<Btf<'static>>` ([`Btf::from_kernel`]).
pub struct Btf<'a> {
    data: Storage<'a>,
    /// Absolute start and length of the type section.
    types_at: usize,
    types_len: usize,
    /// Absolute start and length of the string section.
    strs_at: usize,
    strs_len: usize,
    base: Option<Arc<Btf<'a>>>,
    /// Id of the first type of this blob (1, or the base's last id + 1).
    first_id: TypeId,
    /// Number of types in this blob.
    count: u32,
    /// String offsets below this one belong to the base.
    str_base: u32,
    /// Type-section offset of own type `i * SPARSE_STRIDE`.
    sparse: Vec<u32>,
    /// Ids of the DATASECs of this blob, collected by the validating pass (object loading
    /// looks them up by name several times; this spares a walk over all types each time).
    datasecs: Vec<TypeId>,
    name_index: OnceLock<Vec<u64>>,
    lookups: AtomicU32,
    /// The size of a pointer, from the size of `long` ([`Btf::pointer_size`]), found once.
    ptr_size: OnceLock<u32>,
}

impl std::fmt::Debug for Btf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Btf")
            .field("first_id", &self.first_id)
            .field("types", &self.count)
            .field("strings_len", &self.strs_len)
            .field("split", &self.base.is_some())
            .finish_non_exhaustive()
    }
}

/// The name without a CO-RE flavor suffix: `task_struct___v2` → `task_struct`.
///
/// The suffix starts at the last `___` that has a non-underscore character on both sides
/// (libbpf's `bpf_core_essential_name_len`).
pub fn essential_name(name: &str) -> &str {
    &name[..essential_len(name.as_bytes())]
}

pub(crate) fn essential_len(b: &[u8]) -> usize {
    let n = b.len();
    if n >= 5 {
        let mut i = n - 5;
        loop {
            if b[i] != b'_'
                && b[i + 1] == b'_'
                && b[i + 2] == b'_'
                && b[i + 3] == b'_'
                && b[i + 4] != b'_'
            {
                return i + 1;
            }
            if i == 0 {
                break;
            }
            i -= 1;
        }
    }
    n
}

#[cfg(test)]
mod tests;
