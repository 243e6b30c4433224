//! What uprobes and USDT need from a user-space binary: its function symbols (symtab and
//! dynsym), file offsets of virtual addresses (from the `PT_LOAD` program headers), its
//! `.note.stapsdt` USDT notes, and where a library lives (`/proc/PID/maps`, the ld.so cache,
//! `$PATH`).

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

use crate::error::{Error, Result};

/// A user-space ELF binary, read into memory.
pub struct ElfBinary {
    path: PathBuf,
    data: Vec<u8>,
}

/// A function symbol of a binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSymbol {
    /// The name (without symbol version).
    pub name: String,
    /// Virtual address.
    pub address: u64,
    /// File offset (what a uprobe takes).
    pub offset: u64,
}

/// One USDT probe site, from a `.note.stapsdt` note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsdtNote {
    /// Provider.
    pub provider: String,
    /// Probe name.
    pub name: String,
    /// The argument specification, e.g. `"-4@%esi 8@-24(%rbp)"`.
    pub args: String,
    /// Virtual address of the probe site (adjusted for prelink by `.stapsdt.base`).
    pub address: u64,
    /// File offset of the probe site.
    pub offset: u64,
    /// Virtual address of the semaphore (0: none).
    pub semaphore: u64,
    /// File offset of the semaphore (0: none): the uprobe's reference-counter offset.
    pub semaphore_offset: u64,
}

fn parse_err(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{}: {msg}", path.display()))
}

impl ElfBinary {
    /// Reads the binary at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<ElfBinary> {
        let path = path.as_ref().to_path_buf();
        let data = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let b = ElfBinary { path, data };
        b.file()?;
        Ok(b)
    }

    fn file(&self) -> Result<object::File<'_>> {
        object::File::parse(&*self.data)
            .map_err(|e| parse_err(&self.path, format!("not an ELF file: {e}")))
    }

    /// The path it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file offset of virtual address `addr`, from the `PT_LOAD` segment that maps it.
    pub fn offset_of(&self, addr: u64) -> Result<u64> {
        let file = self.file()?;
        for seg in file.segments() {
            let (foff, fsize) = seg.file_range();
            if addr >= seg.address() && addr < seg.address() + fsize.max(seg.size()) {
                return Ok(addr - seg.address() + foff);
            }
        }
        Err(parse_err(
            &self.path,
            format!("no loadable segment maps address {addr:#x}"),
        ))
    }

    /// Every defined function symbol (symtab, then dynsym), with file offsets; one entry per
    /// name.
    pub fn functions(&self) -> Result<Vec<FunctionSymbol>> {
        let file = self.file()?;
        let mut out: Vec<FunctionSymbol> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for sym in file.symbols().chain(file.dynamic_symbols()) {
            if sym.kind() != SymbolKind::Text || !sym.is_definition() || sym.address() == 0 {
                continue;
            }
            let Ok(name) = sym.name() else { continue };
            // "name@@VERSION" spellings in some symtabs.
            let name = name.split('@').next().unwrap_or(name);
            if name.is_empty() || !seen.insert(name.to_owned()) {
                continue;
            }
            let Ok(offset) = self.offset_of(sym.address()) else {
                continue;
            };
            out.push(FunctionSymbol {
                name: name.to_owned(),
                address: sym.address(),
                offset,
            });
        }
        Ok(out)
    }

    /// The function called `name`.
    pub fn function(&self, name: &str) -> Result<FunctionSymbol> {
        self.functions()?
            .into_iter()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                parse_err(
                    &self.path,
                    format!("no function symbol {name:?} in its symtab or dynsym"),
                )
            })
    }

    /// The USDT probes of `.note.stapsdt`.
    pub fn usdt_notes(&self) -> Result<Vec<UsdtNote>> {
        let file = self.file()?;
        let Some(sec) = file.section_by_name(".note.stapsdt") else {
            return Ok(Vec::new());
        };
        let data = sec
            .data()
            .map_err(|e| parse_err(&self.path, format!(".note.stapsdt: {e}")))?;
        let base_addr = file.section_by_name(".stapsdt.base").map(|s| s.address());
        let little = file.is_little_endian();
        let wide = file.is_64();
        let mut out = Vec::new();
        for raw in parse_notes(data, little) {
            if raw.name != b"stapsdt" || raw.kind != 3 {
                continue;
            }
            let n = parse_stapsdt_desc(raw.desc, little, wide)
                .ok_or_else(|| parse_err(&self.path, "malformed .note.stapsdt entry"))?;
            let mut address = n.pc;
            if let Some(base) = base_addr {
                // Prelinked binaries: move the site by as much as the base section moved.
                address = address.wrapping_add(base).wrapping_sub(n.base);
            }
            let offset = self.offset_of(address)?;
            let semaphore_offset = if n.semaphore == 0 {
                0
            } else {
                self.offset_of(n.semaphore)?
            };
            out.push(UsdtNote {
                provider: n.provider,
                name: n.name,
                args: n.args,
                address,
                offset,
                semaphore: n.semaphore,
                semaphore_offset,
            });
        }
        Ok(out)
    }

    /// Whether it is a shared object or PIE (`ET_DYN`): its addresses are relative to where
    /// it is mapped.
    pub fn is_dynamic(&self) -> bool {
        self.file()
            .is_ok_and(|f| f.kind() == object::ObjectKind::Dynamic)
    }
}

/// One ELF note.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RawNote<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) kind: u32,
    pub(crate) desc: &'a [u8],
}

fn rd32(b: &[u8], at: usize, little: bool) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

fn rd64(b: &[u8], at: usize, little: bool) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at + 8)?.try_into().ok()?;
    Some(if little {
        u64::from_le_bytes(s)
    } else {
        u64::from_be_bytes(s)
    })
}

/// Splits note-section bytes into notes (4-byte aligned name and desc); stops at the first
/// malformed one.
pub(crate) fn parse_notes(data: &[u8], little: bool) -> Vec<RawNote<'_>> {
    let align4 = |n: usize| (n + 3) & !3;
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= data.len() {
        let (Some(namesz), Some(descsz), Some(kind)) = (
            rd32(data, at, little),
            rd32(data, at + 4, little),
            rd32(data, at + 8, little),
        ) else {
            break;
        };
        let name_at = at + 12;
        let desc_at = name_at + align4(namesz as usize);
        let end = desc_at + align4(descsz as usize);
        let (Some(name), Some(desc)) = (
            data.get(name_at..name_at + namesz as usize),
            data.get(desc_at..desc_at + descsz as usize),
        ) else {
            break;
        };
        let name = name.strip_suffix(b"\0").unwrap_or(name);
        out.push(RawNote { name, kind, desc });
        at = end;
    }
    out
}

/// The fields of a stapsdt note's desc.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StapsdtDesc {
    pub(crate) pc: u64,
    pub(crate) base: u64,
    pub(crate) semaphore: u64,
    pub(crate) provider: String,
    pub(crate) name: String,
    pub(crate) args: String,
}

/// Parses a stapsdt desc: three addresses (pc, `.stapsdt.base`, semaphore), then
/// NUL-terminated provider, name and argument strings.
pub(crate) fn parse_stapsdt_desc(desc: &[u8], little: bool, wide: bool) -> Option<StapsdtDesc> {
    let (w, rd): (usize, &dyn Fn(usize) -> Option<u64>) = if wide {
        (8, &|at| rd64(desc, at, little))
    } else {
        (4, &|at| rd32(desc, at, little).map(u64::from))
    };
    let (pc, base, semaphore) = (rd(0)?, rd(w)?, rd(2 * w)?);
    let mut strs = desc.get(3 * w..)?.split(|b| *b == 0);
    let mut next =
        || -> Option<String> { Some(String::from_utf8_lossy(strs.next()?).into_owned()) };
    let (provider, name, args) = (next()?, next()?, next().unwrap_or_default());
    if provider.is_empty() || name.is_empty() {
        return None;
    }
    Some(StapsdtDesc {
        pc,
        base,
        semaphore,
        provider,
        name,
        args,
    })
}

/// The library entries (name, path) of an ld.so cache in the glibc ≥ 2.32 format
/// (`glibc-ld.so.cache1.1`); empty for other formats.
pub fn parse_ld_so_cache(data: &[u8]) -> Vec<(String, String)> {
    const MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
    const HEADER: usize = 48;
    const ENTRY: usize = 24;
    if !data.starts_with(MAGIC) {
        return Vec::new();
    }
    let Some(nlibs) = rd32(data, 20, true) else {
        return Vec::new();
    };
    let cstr = |off: u32| -> Option<String> {
        let rest = data.get(off as usize..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    (0..nlibs as usize)
        .filter_map(|i| {
            let at = HEADER + i * ENTRY;
            let key = rd32(data, at + 4, true)?;
            let value = rd32(data, at + 8, true)?;
            Some((cstr(key)?, cstr(value)?))
        })
        .collect()
}

fn same_machine(path: &Path) -> bool {
    let Ok(data) = std::fs::read(path) else {
        return false;
    };
    let Ok(f) = object::File::parse(&*data) else {
        return false;
    };
    let want = match std::env::consts::ARCH {
        "x86_64" => object::Architecture::X86_64,
        "aarch64" => object::Architecture::Aarch64,
        "x86" => object::Architecture::I386,
        "riscv64" => object::Architecture::Riscv64,
        "s390x" => object::Architecture::S390x,
        _ => return true,
    };
    f.architecture() == want
}

/// Whether the file name `file` is library `name`: the same, or `name` followed by `.so`,
/// `-` or `.` (`libc` matches `libc.so.6` and `libc-2.31.so`).
fn lib_name_matches(name: &str, file: &str) -> bool {
    file == name
        || file
            .strip_prefix(name)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-'))
}

/// Where `binary` is: a path (it contains `/`) as is; else a library mapped by process `pid`
/// (`/proc/PID/maps`), else one in the ld.so cache (`/etc/ld.so.cache`), else a library
/// (`*.so*`) in `LD_LIBRARY_PATH` or the standard library directories (`/lib64`, `/usr/lib64`,
/// `/lib`, `/usr/lib` and their multiarch `<arch>-linux-gnu` subdirectories), else a program
/// on `$PATH`.
pub fn resolve_binary(binary: &str, pid: Option<u32>) -> Result<PathBuf> {
    if binary.contains('/') {
        let p = PathBuf::from(binary);
        if !p.exists() {
            return Err(Error::InvalidArgument(format!("{binary}: no such file")));
        }
        return Ok(p);
    }
    if binary.is_empty() {
        return Err(Error::InvalidArgument("empty binary name".into()));
    }
    if let Some(pid) = pid {
        let maps = format!("/proc/{pid}/maps");
        let text = std::fs::read_to_string(&maps).map_err(|e| Error::io(&maps, e))?;
        for line in text.lines() {
            let Some(path) = line.split_whitespace().nth(5) else {
                continue;
            };
            let file = path.rsplit('/').next().unwrap_or(path);
            if path.starts_with('/') && lib_name_matches(binary, file) {
                // Through the process's root, so that it works across mount namespaces.
                let via_root = PathBuf::from(format!("/proc/{pid}/root{path}"));
                return Ok(if via_root.exists() {
                    via_root
                } else {
                    PathBuf::from(path)
                });
            }
        }
    }
    if let Ok(data) = std::fs::read("/etc/ld.so.cache") {
        let entries = parse_ld_so_cache(&data);
        for exact in [true, false] {
            for (name, path) in &entries {
                let hit = if exact {
                    name == binary
                } else {
                    lib_name_matches(binary, name)
                };
                if hit && same_machine(Path::new(path)) {
                    return Ok(PathBuf::from(path));
                }
            }
        }
    }
    // A library by file name (`libc.so.6`), as libbpf searches: LD_LIBRARY_PATH, then the
    // standard and multiarch library directories (machines without an ld.so cache).
    let is_library = binary.ends_with(".so") || binary.contains(".so.");
    let env_dirs = |var: &str| {
        std::env::var_os(var)
            .map(|v| std::env::split_paths(&v).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let mut dirs = Vec::new();
    if is_library {
        dirs.extend(env_dirs("LD_LIBRARY_PATH"));
        let arch = format!("{}-linux-gnu", std::env::consts::ARCH);
        dirs.extend(
            ["/lib64", "/usr/lib64", "/lib", "/usr/lib"]
                .iter()
                .map(PathBuf::from),
        );
        dirs.push(PathBuf::from("/lib").join(&arch));
        dirs.push(PathBuf::from("/usr/lib").join(&arch));
    } else {
        dirs.extend(env_dirs("PATH"));
    }
    for dir in dirs {
        let p = dir.join(binary);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::InvalidArgument(format!(
        "cannot find {binary:?}: not mapped by the process, not in /etc/ld.so.cache, not in \
         LD_LIBRARY_PATH or the library directories (libraries), not on $PATH (programs)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(name.len() as u32 + 1).to_le_bytes());
        v.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        v.extend_from_slice(&kind.to_le_bytes());
        v.extend_from_slice(name);
        v.push(0);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v.extend_from_slice(desc);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn stapsdt_notes() {
        let mut desc = Vec::new();
        for a in [0x1130u64, 0x2000, 0x4010] {
            desc.extend_from_slice(&a.to_le_bytes());
        }
        desc.extend_from_slice(b"prov\0probe\0-4@%edi 8@-8(%rbp)\0");
        let mut data = note(b"GNU", 1, &[1, 2, 3, 4]);
        data.extend(note(b"stapsdt", 3, &desc));
        let notes = parse_notes(&data, true);
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[1].name, b"stapsdt");
        assert_eq!(notes[1].kind, 3);
        let d = parse_stapsdt_desc(notes[1].desc, true, true).unwrap();
        assert_eq!(
            d,
            StapsdtDesc {
                pc: 0x1130,
                base: 0x2000,
                semaphore: 0x4010,
                provider: "prov".into(),
                name: "probe".into(),
                args: "-4@%edi 8@-8(%rbp)".into(),
            }
        );
        // Truncated: no provider.
        assert!(parse_stapsdt_desc(&desc[..24], true, true).is_none());
        // A note whose desc runs past the end stops the walk.
        let mut bad = note(b"stapsdt", 3, &desc);
        bad.truncate(bad.len() - 8);
        assert!(parse_notes(&bad, true).is_empty());
    }

    #[test]
    fn ld_so_cache() {
        let mut d = b"glibc-ld.so.cache1.1".to_vec();
        d.extend_from_slice(&2u32.to_le_bytes()); // nlibs
        d.extend_from_slice(&0u32.to_le_bytes()); // len_strings
        d.resize(48, 0);
        let strings_at = 48 + 2 * 24;
        let strings = b"libc.so.6\0/lib/x/libc.so.6\0libm.so.6\0/lib/x/libm.so.6\0";
        for (k, v) in [(0u32, 10u32), (27, 37)] {
            d.extend_from_slice(&0x303i32.to_le_bytes());
            d.extend_from_slice(&(strings_at as u32 + k).to_le_bytes());
            d.extend_from_slice(&(strings_at as u32 + v).to_le_bytes());
            d.extend_from_slice(&[0; 12]);
        }
        d.extend_from_slice(strings);
        assert_eq!(
            parse_ld_so_cache(&d),
            vec![
                ("libc.so.6".into(), "/lib/x/libc.so.6".into()),
                ("libm.so.6".into(), "/lib/x/libm.so.6".into())
            ]
        );
        assert!(parse_ld_so_cache(b"ld.so-1.7.0\0").is_empty());
        assert!(parse_ld_so_cache(&d[..60]).is_empty() || parse_ld_so_cache(&d[..60]).len() < 2);
    }

    #[test]
    fn library_names() {
        assert!(lib_name_matches("libc", "libc.so.6"));
        assert!(lib_name_matches("libc", "libc-2.31.so"));
        assert!(lib_name_matches("libc.so.6", "libc.so.6"));
        assert!(!lib_name_matches("libc", "libcrypt.so.1"));
    }

    #[test]
    fn own_binary() {
        let exe = std::env::current_exe().unwrap();
        let b = ElfBinary::open(&exe).unwrap();
        let fns = b.functions().unwrap();
        assert!(!fns.is_empty());
        // File offsets map back: the bytes at a function's offset are its code.
        let main = fns.iter().find(|f| f.name == "main").expect("main");
        assert_eq!(b.offset_of(main.address).unwrap(), main.offset);
        if let Ok(data) = std::fs::read("/etc/ld.so.cache") {
            let e = parse_ld_so_cache(&data);
            if !e.is_empty() {
                assert!(e.iter().any(|(n, _)| n.starts_with("libc.so")), "{e:?}");
            }
        }
    }
}
