//! [`BtfError`]: everything that can be wrong with BTF bytes or a BTF query.

use super::{Kind, TypeId};

/// Malformed BTF or `.BTF.ext`, or a query that cannot be answered.
///
/// Parse failures name the byte offset (from the start of the blob) and what is wrong, so a
/// report points at the broken record; resolution failures name the type id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BtfError {
    /// The blob ends before a structure it declares.
    #[error("BTF truncated at offset {offset}: {what} needs {need} bytes, {have} available")]
    Truncated {
        /// Byte offset of the structure.
        offset: usize,
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The magic number is not `0xeb9f` in native byte order.
    #[error(
        "not BTF: magic {magic:#06x} at offset 0 (expected 0xeb9f; foreign-endian BTF is not supported)"
    )]
    BadMagic {
        /// The magic found.
        magic: u16,
    },
    /// A header field is inconsistent (version, lengths, section placement).
    #[error("invalid BTF header at offset {offset}: {what}")]
    BadHeader {
        /// Byte offset of the field.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A type record is invalid.
    #[error("invalid BTF type [{id}] at offset {offset}: {what}")]
    BadType {
        /// The type id.
        id: TypeId,
        /// Byte offset of the record.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A type record has a kind this parser does not know.
    #[error("BTF type [{id}] at offset {offset} has unknown kind {kind}")]
    UnknownKind {
        /// The type id.
        id: TypeId,
        /// Byte offset of the record.
        offset: usize,
        /// The raw kind.
        kind: u8,
    },
    /// A string offset points outside the string section (or into a split BTF's missing base).
    #[error("BTF string offset {str_off} out of range (string section holds {len} bytes){}", ctx(*.id))]
    StringOutOfRange {
        /// The offending offset.
        str_off: u32,
        /// Size of the string section(s).
        len: u32,
        /// The type whose record holds the offset, if known.
        id: Option<TypeId>,
    },
    /// A string is not valid UTF-8 or not NUL-terminated.
    #[error("BTF string at offset {str_off} is not a NUL-terminated UTF-8 string")]
    BadString {
        /// The string offset.
        str_off: u32,
    },
    /// A type id does not exist.
    #[error("BTF type id {id} out of range (last id is {last}){}", ctx(*.from))]
    TypeIdOutOfRange {
        /// The id asked for.
        id: TypeId,
        /// The last valid id.
        last: TypeId,
        /// The type that refers to it, if known.
        from: Option<TypeId>,
    },
    /// Following type references came back to a type already visited.
    #[error("loop in the BTF type graph at type [{id}]")]
    Loop {
        /// A type on the loop.
        id: TypeId,
    },
    /// A size is impossible: overflows, or a type that has no size was asked for one.
    #[error("impossible size for BTF type [{id}]: {what}")]
    BadSize {
        /// The type id.
        id: TypeId,
        /// What is wrong.
        what: &'static str,
    },
    /// The type exists but is not of the kind the caller needs.
    #[error("BTF type [{id}] is {found:?}, expected {expected}")]
    WrongKind {
        /// The type id.
        id: TypeId,
        /// Its kind.
        found: Kind,
        /// What the caller needed.
        expected: &'static str,
    },
    /// No type of that name (and kind) exists.
    #[error("no BTF type named {name:?} of kind {kind:?}")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The kind asked for.
        kind: Kind,
    },
    /// A value buffer is too short for the type being formatted.
    #[error("value of {len} bytes too short for BTF type [{id}] of {need} bytes")]
    ValueTooShort {
        /// The type id.
        id: TypeId,
        /// Bytes needed.
        need: usize,
        /// Bytes given.
        len: usize,
    },
    /// The ELF object cannot be read, or has no `.BTF` section.
    #[error("ELF object: {what}")]
    Elf {
        /// What is wrong.
        what: String,
    },
    /// Reading a BTF file failed.
    #[error("reading BTF from {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// The OS error, as text (keeps the error `Clone + Eq`).
        error: String,
        /// The raw OS error, if any.
        errno: Option<i32>,
    },
    /// The builder was asked for something BTF cannot encode.
    #[error("cannot encode BTF: {what}")]
    Encode {
        /// What is wrong.
        what: &'static str,
    },
}

fn ctx(id: Option<TypeId>) -> String {
    match id {
        Some(id) => format!(", referenced from type [{id}]"),
        None => String::new(),
    }
}

impl BtfError {
    pub(crate) fn io(path: &std::path::Path, e: &std::io::Error) -> Self {
        BtfError::Io {
            path: path.display().to_string(),
            error: e.to_string(),
            errno: e.raw_os_error(),
        }
    }
}
