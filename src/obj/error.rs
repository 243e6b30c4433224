//! Errors of ELF object parsing and program linking.

use std::path::PathBuf;

/// Why an ELF object could not be turned into an [`ObjectSpec`](super::ObjectSpec), or a
/// program could not be linked or relocated.
///
/// Every variant names the section, symbol, map or instruction at fault. Malformed input is
/// always reported with one of these, never with a panic.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObjError {
    /// The object file could not be read.
    #[error("cannot read BPF object {path}: {source}")]
    Io {
        /// The file that was opened.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a well-formed 64-bit ELF file (the `object` crate's reason).
    #[error("malformed ELF object: {what}")]
    Elf {
        /// What the ELF reader found wrong.
        what: String,
    },
    /// A well-formed ELF file, but not for BPF.
    #[error(
        "not a BPF object: ELF machine is {machine}, expected EM_BPF (247); compile with `clang -target bpf`"
    )]
    NotBpf {
        /// The `e_machine` of the file.
        machine: u16,
    },
    /// A section has contents that do not make sense for its role.
    #[error("section `{section}`: {what}")]
    Section {
        /// Section name.
        section: String,
        /// What is wrong.
        what: String,
    },
    /// A symbol is malformed or is used in a way the loader does not support.
    #[error("symbol `{symbol}`: {what}")]
    Symbol {
        /// Symbol name (or `#index` when it has none).
        symbol: String,
        /// What is wrong.
        what: String,
    },
    /// A relocation could not be classified.
    #[error("relocation in section `{section}` at instruction {insn} against `{symbol}`: {what}")]
    Relocation {
        /// Section the relocated instruction lives in.
        section: String,
        /// Index of the instruction inside that section.
        insn: usize,
        /// The symbol the relocation refers to.
        symbol: String,
        /// What is wrong.
        what: String,
    },
    /// A map definition is malformed.
    #[error("map `{map}`: {what}")]
    Map {
        /// Map name.
        map: String,
        /// What is wrong.
        what: String,
    },
    /// A program could not be linked with its subprograms or patched.
    #[error("program `{program}`, instruction {insn}: {what}")]
    Link {
        /// Program name.
        program: String,
        /// Instruction index in the (linked) program.
        insn: usize,
        /// What is wrong.
        what: String,
    },
    /// The object's BTF could not be parsed.
    #[error("BTF of the object: {what}")]
    Btf {
        /// What the BTF parser reported.
        what: String,
    },
    /// The bytes are not an ELF file at all (no `\x7fELF` magic): a source file, an archive,
    /// a truncated download…
    #[error("not an ELF object ({found}); a BPF object is what `clang -target bpf -c` writes")]
    NotElf {
        /// What the bytes look like instead.
        found: String,
    },
    /// An ELF file, but not a 64-bit one (BPF objects are 64-bit ELF).
    #[error("not a 64-bit BPF object: the ELF class is {class}; compile with `clang -target bpf`")]
    Not64Bit {
        /// The ELF class found (`32-bit`, or the raw `EI_CLASS` byte).
        class: String,
    },
}

impl From<object::read::Error> for ObjError {
    fn from(e: object::read::Error) -> Self {
        ObjError::Elf {
            what: e.to_string(),
        }
    }
}

pub(crate) fn section_err(section: &str, what: impl Into<String>) -> ObjError {
    ObjError::Section {
        section: section.to_owned(),
        what: what.into(),
    }
}
