//! BTF and `.BTF.ext` straight from the sections of an ELF object, borrowed.

use super::{Btf, BtfError, BtfExt};
use object::read::elf::ElfFile64;
use object::{Endianness, Object, ObjectSection};

fn section<'a>(elf: &'a [u8], name: &str) -> Result<Option<&'a [u8]>, BtfError> {
    let file = ElfFile64::<Endianness>::parse(elf).map_err(|e| BtfError::Elf {
        what: e.to_string(),
    })?;
    match file.section_by_name(name) {
        Some(s) => s.data().map(Some).map_err(|e| BtfError::Elf {
            what: format!("section {name}: {e}"),
        }),
        None => Ok(None),
    }
}

impl<'a> Btf<'a> {
    /// The `.BTF` section of a 64-bit ELF object (e.g. a `clang -g -target bpf` object),
    /// borrowed from `elf`.
    ///
    /// # Errors
    /// [`BtfError::Elf`] if `elf` is not a 64-bit ELF or has no `.BTF`; parse errors.
    pub fn from_elf(elf: &'a [u8]) -> Result<Btf<'a>, BtfError> {
        let data = section(elf, ".BTF")?.ok_or_else(|| BtfError::Elf {
            what: "no .BTF section (compile with -g)".into(),
        })?;
        Btf::parse(data)
    }
}

impl Btf<'static> {
    /// Owned BTF from bytes that are either raw BTF or an ELF object (32- or 64-bit, either
    /// byte order) holding a `.BTF` section, as libbpf's `btf__parse` accepts. An ELF's
    /// `.BTF` is copied out of it (the rest of the ELF is dropped); raw BTF is kept as is.
    ///
    /// # Errors
    /// [`BtfError::Elf`] for an ELF that cannot be read or has no `.BTF`; parse errors.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Btf<'static>, BtfError> {
        if !bytes.starts_with(b"\x7fELF") {
            return Btf::parse_owned(bytes);
        }
        let file = object::File::parse(&bytes[..]).map_err(|e| BtfError::Elf {
            what: e.to_string(),
        })?;
        let sec = file.section_by_name(".BTF").ok_or_else(|| BtfError::Elf {
            what: "the ELF object has no .BTF section (compile with -g)".into(),
        })?;
        let data = sec.data().map_err(|e| BtfError::Elf {
            what: format!("section .BTF: {e}"),
        })?;
        Btf::parse_owned(data.to_vec())
    }
}

impl<'a> BtfExt<'a> {
    /// The `.BTF.ext` section of a 64-bit ELF object, `None` if it has none.
    ///
    /// # Errors
    /// [`BtfError::Elf`] if `elf` is not a 64-bit ELF; parse errors.
    pub fn from_elf(elf: &'a [u8]) -> Result<Option<BtfExt<'a>>, BtfError> {
        section(elf, ".BTF.ext")?.map(BtfExt::parse).transpose()
    }
}

impl<'a> Btf<'a> {
    /// The `.BTF` section of a 64-bit ELF object as split BTF over `base` (a kernel module's
    /// `.ko` over vmlinux), borrowed from `elf`.
    ///
    /// # Errors
    /// As [`Btf::from_elf`].
    pub fn from_elf_split(
        elf: &'a [u8],
        base: std::sync::Arc<Btf<'a>>,
    ) -> Result<Btf<'a>, BtfError> {
        let data = section(elf, ".BTF")?.ok_or_else(|| BtfError::Elf {
            what: "no .BTF section".into(),
        })?;
        Btf::parse_split(data, base)
    }
}
