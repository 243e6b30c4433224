//! A small, owned-free view of the ELF file: sections, symbols and relocations as plain
//! values, read with the `object` crate's low-level ELF API. Everything after this module
//! works on these values and never sees `object` types.

use std::collections::HashMap;

use object::Endianness;
use object::elf::{FileHeader64, SectionHeader64, Sym64};
use object::read::elf::{FileHeader, SectionHeader, Sym};

use super::Insn;
use super::error::{ObjError, section_err};

pub(crate) const EM_BPF: u16 = 247;
pub(crate) const SHT_PROGBITS: u32 = 1;
pub(crate) const SHT_NOBITS: u32 = 8;
pub(crate) const SHT_REL: u32 = 9;
pub(crate) const SHF_EXECINSTR: u64 = 4;
pub(crate) const STB_LOCAL: u8 = 0;
pub(crate) const STV_INTERNAL: u8 = 1;
pub(crate) const STV_HIDDEN: u8 = 2;
pub(crate) const STB_WEAK: u8 = 2;
pub(crate) const STT_NOTYPE: u8 = 0;
pub(crate) const STT_OBJECT: u8 = 1;
pub(crate) const STT_FUNC: u8 = 2;
pub(crate) const STT_SECTION: u8 = 3;
/// `R_BPF_64_64`: a 64-bit immediate (`ld_imm64`) refers to the symbol.
pub(crate) const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_32`: a call instruction's immediate refers to the symbol.
pub(crate) const R_BPF_64_32: u32 = 10;

/// One section header, with its contents (empty for `SHT_NOBITS`).
#[derive(Debug, Clone)]
pub(crate) struct Section<'a> {
    pub index: usize,
    pub name: &'a str,
    pub kind: u32,
    pub flags: u64,
    pub size: u64,
    pub data: &'a [u8],
}

impl Section<'_> {
    pub fn is_exec(&self) -> bool {
        self.kind == SHT_PROGBITS && self.flags & SHF_EXECINSTR != 0
    }
}

/// One symbol table entry.
#[derive(Debug, Clone)]
pub(crate) struct Symbol<'a> {
    pub index: usize,
    pub name: &'a str,
    pub value: u64,
    pub size: u64,
    pub kind: u8,
    pub bind: u8,
    /// `STV_*` (the low two bits of `st_other`).
    pub visibility: u8,
    /// The section the symbol is defined in; `None` for undefined (extern) and
    /// absolute/common symbols.
    pub section: Option<usize>,
    /// `st_shndx == SHN_UNDEF`.
    pub undefined: bool,
}

impl Symbol<'_> {
    /// The symbol's name for messages: its name, or `#index`.
    pub fn display(&self) -> String {
        if self.name.is_empty() {
            format!("#{}", self.index)
        } else {
            self.name.to_owned()
        }
    }
}

/// One `SHT_REL` entry.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rel {
    pub offset: u64,
    pub symbol: usize,
    pub kind: u32,
}

/// The parsed ELF file.
#[derive(Debug)]
pub(crate) struct Elf<'a> {
    pub big_endian: bool,
    pub sections: Table<Section<'a>>,
    pub symbols: Table<Symbol<'a>>,
    /// For each section index, the relocations that apply to it.
    pub rels: Vec<Vec<Rel>>,
    /// Indexes built once, so that no step of the parse scans a whole table per item.
    index: ElfIndex<'a>,
}

/// A table of the ELF file (sections, symbols): a slice whose iteration counts one step of
/// work per entry visited ([`crate::work`]), so that tests see a scan of a whole table per
/// item of another.
#[derive(Debug)]
pub(crate) struct Table<T>(Vec<T>);

type Counted<'t, T> = std::iter::Inspect<std::slice::Iter<'t, T>, fn(&&'t T)>;

impl<T> Table<T> {
    /// The entries, in order (each one visited counts a step).
    pub fn iter(&self) -> Counted<'_, T> {
        self.0.iter().inspect(|_| crate::work::step())
    }
}

impl<T> std::ops::Deref for Table<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'t, T> IntoIterator for &'t Table<T> {
    type Item = &'t T;
    type IntoIter = Counted<'t, T>;
    fn into_iter(self) -> Counted<'t, T> {
        self.iter()
    }
}

/// Sections by name, symbols by section and by (section, name).
#[derive(Debug, Default)]
struct ElfIndex<'a> {
    /// The first section of each name.
    section_by_name: HashMap<&'a str, usize>,
    /// For each section index, its symbols (in symbol-table order).
    symbols_in: Vec<Vec<usize>>,
    /// The first named, non-`STT_SECTION` symbol of each name defined in each section.
    symbol_by_name: HashMap<(usize, &'a str), usize>,
}

impl<'a> ElfIndex<'a> {
    fn new(sections: &[Section<'a>], symbols: &[Symbol<'a>]) -> Self {
        let mut section_by_name = HashMap::with_capacity(sections.len());
        for s in sections {
            section_by_name.entry(s.name).or_insert(s.index);
        }
        let mut symbols_in = vec![Vec::new(); sections.len()];
        let mut symbol_by_name = HashMap::new();
        for sym in symbols {
            let Some(sec) = sym.section else { continue };
            if let Some(v) = symbols_in.get_mut(sec) {
                v.push(sym.index);
            }
            if !sym.name.is_empty() && sym.kind != STT_SECTION {
                symbol_by_name.entry((sec, sym.name)).or_insert(sym.index);
            }
        }
        ElfIndex {
            section_by_name,
            symbols_in,
            symbol_by_name,
        }
    }
}

impl<'a> Elf<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self, ObjError> {
        check_ident(data)?;
        let header = FileHeader64::<Endianness>::parse(data)?;
        let endian = header.endian()?;
        let machine = header.e_machine(endian).0;
        if machine != EM_BPF {
            return Err(ObjError::NotBpf { machine });
        }
        let table = header.sections(endian, data)?;
        let mut sections = Vec::with_capacity(table.len());
        for (i, sh) in table.iter().enumerate() {
            let name = table.section_name(endian, sh)?;
            let name = std::str::from_utf8(name).map_err(|_| ObjError::Elf {
                what: format!("section #{i} has a name that is not UTF-8"),
            })?;
            sections.push(section(i, name, sh, endian, data)?);
        }

        let symtab = table.symbols(endian, data, object::elf::SHT_SYMTAB)?;
        let mut symbols = Vec::with_capacity(symtab.len());
        for (i, sym) in symtab.iter().enumerate() {
            symbols.push(symbol(i, sym, &symtab, endian, sections.len())?);
        }

        let mut rels = vec![Vec::new(); sections.len()];
        for (i, sh) in table.iter().enumerate() {
            if sh.sh_type(endian).0 != SHT_REL {
                continue;
            }
            let target = sh.sh_info(endian) as usize;
            let name = sections[i].name;
            if target >= sections.len() {
                return Err(section_err(
                    name,
                    format!("relocates section #{target}, which does not exist"),
                ));
            }
            let Some((entries, _)) = sh.rel(endian, data)? else {
                continue;
            };
            rels[target].reserve_exact(entries.len());
            for r in entries {
                let symbol = r.r_sym(endian) as usize;
                if symbol >= symbols.len() {
                    return Err(section_err(
                        name,
                        format!("relocation refers to symbol #{symbol}, which does not exist"),
                    ));
                }
                rels[target].push(Rel {
                    offset: r.r_offset.get(endian),
                    symbol,
                    kind: r.r_type(endian).0,
                });
            }
        }

        let index = ElfIndex::new(&sections, &symbols);
        Ok(Elf {
            big_endian: endian == Endianness::Big,
            sections: Table(sections),
            symbols: Table(symbols),
            rels,
            index,
        })
    }

    /// The first section named `name`.
    pub fn section_by_name(&self, name: &str) -> Option<&Section<'a>> {
        crate::work::step();
        let i = *self.index.section_by_name.get(name)?;
        self.sections.get(i)
    }

    /// The symbols defined in section `section`, in symbol-table order.
    pub fn symbols_in(&self, section: usize) -> impl Iterator<Item = &Symbol<'a>> + '_ {
        self.index
            .symbols_in
            .get(section)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| {
                crate::work::step();
                &self.symbols[i]
            })
    }

    /// The first named, non-`STT_SECTION` symbol `name` defined in section `section`.
    pub fn symbol_named(&self, section: usize, name: &str) -> Option<&Symbol<'a>> {
        crate::work::step();
        let i = *self.index.symbol_by_name.get(&(section, name))?;
        self.symbols.get(i)
    }

    /// Decodes a section's bytes as instructions.
    pub fn insns(&self, sec: &Section<'_>) -> Result<Vec<Insn>, ObjError> {
        decode_insns(sec.data, self.big_endian).ok_or_else(|| {
            section_err(
                sec.name,
                format!(
                    "size {} is not a multiple of 8 (the instruction size)",
                    sec.data.len()
                ),
            )
        })
    }
}

/// The ELF identification bytes, checked before the `object` crate reads the header, so that
/// a file that is no ELF object, or a 32-bit one, is called that.
fn check_ident(data: &[u8]) -> Result<(), ObjError> {
    if !data.starts_with(b"\x7fELF") {
        let found = if data.is_empty() {
            "the file is empty".to_owned()
        } else if data.len() < 4 && b"\x7fELF".starts_with(data) {
            format!("only {} bytes", data.len())
        } else if data.starts_with(b"!<arch>") {
            "an ar archive: extract the .o files from it".to_owned()
        } else {
            let head = &data[..data.len().min(16)];
            let text = head
                .iter()
                .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
            if text {
                format!("text starting with {:?}", String::from_utf8_lossy(head))
            } else {
                format!("starts with bytes {:02x?}", &data[..data.len().min(4)])
            }
        };
        return Err(ObjError::NotElf { found });
    }
    match data.get(4) {
        Some(2) => Ok(()),
        Some(1) => Err(ObjError::Not64Bit {
            class: "32-bit (ELFCLASS32)".into(),
        }),
        Some(c) => Err(ObjError::Not64Bit {
            class: format!("{c} (EI_CLASS, neither 32- nor 64-bit)"),
        }),
        None => Err(ObjError::Elf {
            what: "file ends inside the ELF identification".into(),
        }),
    }
}

fn section<'a>(
    index: usize,
    name: &'a str,
    sh: &SectionHeader64<Endianness>,
    endian: Endianness,
    data: &'a [u8],
) -> Result<Section<'a>, ObjError> {
    let kind = sh.sh_type(endian).0;
    let bytes: &[u8] = if kind == SHT_NOBITS || kind == 0 {
        &[]
    } else {
        sh.data(endian, data).map_err(|_| {
            section_err(
                name,
                "contents lie outside the file (bad sh_offset/sh_size)",
            )
        })?
    };
    Ok(Section {
        index,
        name,
        kind,
        flags: sh.sh_flags(endian).0,
        size: sh.sh_size(endian),
        data: bytes,
    })
}

fn symbol<'a>(
    index: usize,
    sym: &Sym64<Endianness>,
    symtab: &object::read::elf::SymbolTable<'a, FileHeader64<Endianness>>,
    endian: Endianness,
    nsections: usize,
) -> Result<Symbol<'a>, ObjError> {
    let name = symtab.symbol_name(endian, sym)?;
    let name = std::str::from_utf8(name).map_err(|_| ObjError::Elf {
        what: format!("symbol #{index} has a name that is not UTF-8"),
    })?;
    let shndx = sym.st_shndx(endian);
    let section = shndx.index().map(usize::from);
    if let Some(s) = section {
        if s >= nsections {
            return Err(ObjError::Symbol {
                symbol: if name.is_empty() {
                    format!("#{index}")
                } else {
                    name.to_owned()
                },
                what: format!("defined in section #{s}, which does not exist"),
            });
        }
    }
    Ok(Symbol {
        index,
        name,
        value: sym.st_value(endian),
        size: sym.st_size(endian),
        kind: sym.st_type().0,
        bind: sym.st_bind().0,
        visibility: sym.st_other().0 & 3,
        section,
        undefined: shndx == object::elf::SHN_UNDEF,
    })
}

/// Decodes instructions from bytes in the object's byte order into host form, or `None` if
/// the length is not a multiple of 8.
pub(crate) fn decode_insns(bytes: &[u8], big_endian: bool) -> Option<Vec<Insn>> {
    if bytes.len() % 8 != 0 {
        return None;
    }
    // One loop per byte order: no branch per instruction, and the little-endian loop is a
    // plain field-by-field copy.
    let chunks = bytes
        .chunks_exact(8)
        .map(|c| <[u8; 8]>::try_from(c).unwrap_or([0; 8]));
    let insns = if big_endian {
        chunks
            .map(|c| Insn {
                code: c[0],
                // Big-endian bitfield order: dst in the high nibble.
                regs: c[1].rotate_left(4),
                off: i16::from_be_bytes([c[2], c[3]]),
                imm: i32::from_be_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect()
    } else {
        chunks
            .map(|c| Insn {
                code: c[0],
                regs: c[1],
                off: i16::from_le_bytes([c[2], c[3]]),
                imm: i32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect()
    };
    Some(insns)
}

/// Reads a `u32` at `off` in the object's byte order.
pub(crate) fn read_u32(bytes: &[u8], off: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = bytes.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

#[cfg(test)]
mod tests {
    use super::{decode_insns, read_u32};

    #[test]
    fn decodes_both_byte_orders() {
        // r1 = *(u32 *)(r2 - 8): opcode 0x61, dst 1, src 2, off -8.
        let le = [0x61, 0x21, 0xf8, 0xff, 0x01, 0x00, 0x00, 0x00];
        let be = [0x61, 0x12, 0xff, 0xf8, 0x00, 0x00, 0x00, 0x01];
        let a = decode_insns(&le, false).unwrap();
        let b = decode_insns(&be, true).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            (a[0].code, a[0].regs, a[0].off, a[0].imm),
            (0x61, 0x21, -8, 1)
        );
        assert!(decode_insns(&le[..7], false).is_none());
        assert_eq!(decode_insns(&[], false).map(|v| v.len()), Some(0));
    }

    #[test]
    fn read_u32_bounds() {
        assert_eq!(read_u32(&[1, 0, 0, 0], 0, false), Some(1));
        assert_eq!(read_u32(&[0, 0, 0, 1], 0, true), Some(1));
        assert_eq!(read_u32(&[1, 0, 0], 0, false), None);
        assert_eq!(read_u32(&[1, 0, 0, 0], usize::MAX, false), None);
    }
}
