//! ELF objects: [`ObjectSpec`], pure parsing of a clang-compiled BPF object.
//!
//! Reading the same bytes gives the same spec on any machine: nothing here makes a syscall
//! or holds an fd. The loader turns the spec into kernel objects: it creates the
//! [`maps`](ObjectSpec::maps), [links](link_program) each program with the `.text`
//! subprograms it calls, patches the remaining [`Relocation`]s with
//! [`apply_relocations`], and loads the result.
//!
//! ```no_run
//! # fn main() -> Result<(), rawbpf::obj::ObjError> {
//! let spec = rawbpf::obj::ObjectSpec::open("examples/xdp_hello/xdp_hello.bpf.o")?;
//! let prog = spec.program("hello").expect("the object has a `hello` program");
//! let linked = rawbpf::obj::link_program(&spec, prog)?;
//! println!("{} instructions, maps: {:?}", linked.insns.len(),
//!          spec.maps.iter().map(|m| &m.name).collect::<Vec<_>>());
//! # Ok(()) }
//! ```

mod btf_fixup;
mod btf_index;
mod btf_info;
mod btf_maps;
mod data;
mod elf;
mod error;
mod link;
mod maps;
mod parse;
mod reloc;
pub mod section;
mod struct_ops;

use std::path::Path;

pub use crate::btf::CoreRelo;
pub use data::internal_map_name;
pub use error::ObjError;
pub use link::{LinkedProgram, link_program};
pub use maps::{
    BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, DataVariable, InitSlot, MapKind, MapSpec, Pinning,
};
pub use reloc::{ExternValue, RelocKind, Relocation, apply_relocations};
pub use section::{SectionDef, parse_section};
pub use struct_ops::{StructOpsMember, StructOpsSpec};

/// The instruction type.
pub(crate) use crate::insn::Insn;

/// A BPF ELF object, parsed: programs, subprograms, maps, externs, license, BTF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    /// Object name: the file's basename up to its first dot (`xdp_hello` for
    /// `xdp_hello.bpf.o`). Prefixes the names of global-data maps.
    pub name: String,
    /// Entry-point programs: one per function symbol in each executable section other than
    /// `.text`, in section then offset order.
    pub programs: Vec<ProgramSpec>,
    /// The functions of `.text`: subprograms, appended by [`link_program`] to the programs
    /// that call them.
    pub subprograms: Vec<ProgramSpec>,
    /// Maps: BTF-defined (`.maps`), legacy (`maps`), global data and `.kconfig`.
    pub maps: Vec<MapSpec>,
    /// Extern symbols (`__kconfig`, `__ksym`) the loader resolves against the kernel.
    pub externs: Vec<ExternSpec>,
    /// The `license` section (e.g. `"Dual MIT/GPL"`).
    pub license: String,
    /// The `version` section, if any (0 otherwise).
    pub kernel_version: u32,
    /// The object's `.BTF`, prepared for `BPF_BTF_LOAD` as libbpf prepares it: DATASEC sizes
    /// and variable offsets filled in from the ELF sections and symbols (clang leaves them 0),
    /// `.kconfig` laid out as [`ExternKind::Kconfig`] says, `.ksyms` turned into `int` VARs.
    /// Type ids are those of the ELF's `.BTF` (an `int` and a dummy VAR may be appended).
    /// Sanitize it further for older kernels with `crate::btf::sanitize`.
    pub btf: Option<Vec<u8>>,
    /// The raw `.BTF.ext` section.
    pub btf_ext: Option<Vec<u8>>,
    /// The struct_ops variables (`SEC(".struct_ops")`, `SEC(".struct_ops.link")`).
    pub struct_ops: Vec<StructOpsSpec>,
}

impl ObjectSpec {
    /// Parses an object whose name is `"obj"` (see [`ObjectSpec::parse_named`]).
    ///
    /// # Errors
    ///
    /// [`ObjError`] naming the section, symbol or instruction at fault.
    pub fn parse(bytes: &[u8]) -> Result<Self, ObjError> {
        Self::parse_named("obj", bytes)
    }

    /// Parses an object named `name` (use the file's basename up to its first dot, as
    /// [`ObjectSpec::open`] does). The bytes need no particular alignment.
    ///
    /// # Errors
    ///
    /// [`ObjError`] naming the section, symbol or instruction at fault.
    pub fn parse_named(name: &str, bytes: &[u8]) -> Result<Self, ObjError> {
        parse::parse(name, bytes)
    }

    /// Reads and parses the object file at `path`.
    ///
    /// # Errors
    ///
    /// [`ObjError::Io`] if the file cannot be read, else as [`ObjectSpec::parse_named`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ObjError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| ObjError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse_named(&object_name(path), &bytes)
    }

    /// The program named `name`.
    pub fn program(&self, name: &str) -> Option<&ProgramSpec> {
        self.programs.iter().find(|p| p.name == name)
    }

    /// The map named `name`.
    pub fn map(&self, name: &str) -> Option<&MapSpec> {
        self.maps.iter().find(|m| m.name == name)
    }

    /// The global-data map of ELF section `section` (`.bss`, `.rodata`, `.data.custom`…).
    pub fn data_map(&self, section: &str) -> Option<&MapSpec> {
        self.maps
            .iter()
            .find(|m| matches!(&m.kind, MapKind::Data { section: s } if s == section))
    }
}

/// libbpf's object name: the file's basename up to its first dot.
pub fn object_name(path: &Path) -> String {
    let base = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match base.split('.').next() {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => "obj".to_owned(),
    }
}

impl ProgramSpec {
    /// What the section name means (program type, expected attach type, flags, attach
    /// target), from libbpf's `SEC()` table; `None` for unknown names and `.text`.
    pub fn section_def(&self) -> Option<SectionDef<'_>> {
        parse_section(&self.section)
    }
}

/// One function of the object: an entry-point program, or a `.text` subprogram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramSpec {
    /// Function name.
    pub name: String,
    /// ELF section name: the `SEC("...")` of the program.
    pub section: String,
    /// Index of the function's first instruction in its section.
    pub section_offset: usize,
    /// The function's instructions, unrelocated.
    pub insns: Vec<Insn>,
    /// Instructions that refer to symbols (indices relative to [`insns`](Self::insns)).
    pub relocations: Vec<Relocation>,
    /// `.BTF.ext` function info (instruction indices relative to the function).
    pub func_info: Vec<FuncInfo>,
    /// `.BTF.ext` line info (instruction indices relative to the function).
    pub line_info: Vec<LineInfo>,
    /// `.BTF.ext` CO-RE relocations (instruction indices relative to the function).
    pub core_relos: Vec<CoreRelo>,
    /// The object's license (the kernel needs it for GPL-only helpers).
    pub license: String,
    /// The object's `version` section (0 if none).
    pub kernel_version: u32,
    /// Whether the symbol is global (`false` for `static` functions).
    pub global: bool,
}

/// One `bpf_func_info` record: the function starting at `insn` has BTF `FUNC` `type_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncInfo {
    /// Instruction index.
    pub insn: u32,
    /// BTF type id of the `FUNC` (in the object's BTF).
    pub type_id: u32,
}

/// One `bpf_line_info` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInfo {
    /// Instruction index.
    pub insn: u32,
    /// Offset of the file name in the BTF string table.
    pub file_name_off: u32,
    /// Offset of the source line in the BTF string table.
    pub line_off: u32,
    /// `line << 10 | column`.
    pub line_col: u32,
}

/// An extern symbol the loader resolves against the running kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternSpec {
    /// Symbol name (`LINUX_KERNEL_VERSION`, `bpf_task_acquire`, …).
    pub name: String,
    /// `__weak`: a missing value is 0 (or a dead kfunc call) instead of an error.
    pub weak: bool,
    /// What it is.
    pub kind: ExternKind,
}

/// The kinds of extern symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternKind {
    /// A `__kconfig` value at `offset` of the `.kconfig` map (`map` in
    /// [`ObjectSpec::maps`]). `LINUX_KERNEL_VERSION`, `CONFIG_*` (from `/proc/config.gz`;
    /// tristates `y`/`m`/`n` as `enum libbpf_tristate`, bools, ints, strings).
    Kconfig {
        /// Index of the `.kconfig` map.
        map: usize,
        /// Byte offset in its value.
        offset: u32,
        /// Size in bytes.
        size: u32,
        /// BTF type id of the value's type, if known.
        type_id: Option<u32>,
    },
    /// A `__ksym` kernel variable: typed (resolve by BTF name to a kernel `VAR` id) when
    /// `type_id` names a non-void type, else typeless (resolve via `/proc/kallsyms`).
    Ksym {
        /// BTF type id of the variable's type in the object; `None` or void for typeless.
        type_id: Option<u32>,
    },
    /// A `__ksym` kernel function (kfunc): resolve its `FUNC` id in kernel BTF.
    Kfunc {
        /// BTF id of the `FUNC_PROTO` in the object, if known (for signature checks).
        type_id: Option<u32>,
    },
}

#[cfg(test)]
mod hostile_tests;
