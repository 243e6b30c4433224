//! Map definitions: BTF-defined maps (`.maps`), legacy `struct bpf_map_def` maps (`maps`),
//! and the shape shared with global-data maps ([`MapSpec`]).

use super::elf::{Elf, Section, read_u32};
use super::error::ObjError;

/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_F_RDONLY_PROG`: programs cannot write the map.
pub const BPF_F_RDONLY_PROG: u32 = 0x80;
/// `BPF_F_MMAPABLE`: the map's memory can be mmap'd.
pub const BPF_F_MMAPABLE: u32 = 0x400;

/// How a map is pinned (`__uint(pinning, …)` in a BTF map definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pinning {
    /// Not pinned (`LIBBPF_PIN_NONE`).
    #[default]
    None,
    /// Pinned under the loader's pin root by the map's name (`LIBBPF_PIN_BY_NAME`); an
    /// existing compatible pin is reused.
    ByName,
}

/// Where a map definition comes from, which tells the loader what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapKind {
    /// A BTF-defined map in `.maps`.
    Btf,
    /// A legacy `struct bpf_map_def` in the `maps` section.
    Legacy,
    /// Global data of an ELF section (`.bss`, `.data`, `.rodata`, `.data.*`, `.rodata.*`): a
    /// one-element mmapable array whose value is the section. Fill it with
    /// [`MapSpec::data`] after creating it (and freeze it if [`MapSpec::freeze`]).
    Data {
        /// The ELF section name.
        section: String,
    },
    /// The `.kconfig` externs: a read-only one-element array the loader fills with the
    /// running kernel's Kconfig values at [`ExternSpec`](super::ExternSpec) offsets, then
    /// freezes.
    Kconfig,
}

/// The initial content of one slot of a prog array or map-in-map (`.values = { [i] = &x }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitSlot {
    /// A map: index into [`ObjectSpec::maps`](super::ObjectSpec::maps).
    Map(usize),
    /// A program, by function name (see [`ObjectSpec::program`](super::ObjectSpec::program)).
    Program(String),
}

/// A global variable of a data section (from the section's BTF `DATASEC`, or its ELF
/// symbols when there is no BTF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataVariable {
    /// Variable name.
    pub name: String,
    /// Byte offset in the section (and in the map's value).
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
    /// BTF type id of the variable's type (not the `VAR`), if the object has BTF.
    pub type_id: Option<u32>,
}

/// Everything needed to create one map, read from the object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapSpec {
    /// Map name: the symbol name, or for global data libbpf's `<obj>.<section>` name, at most
    /// 15 characters.
    pub name: String,
    /// Where the definition comes from.
    pub kind: MapKind,
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// `BPF_F_*` map flags.
    pub flags: u32,
    /// NUMA node (meaningful with `BPF_F_NUMA_NODE`).
    pub numa_node: u32,
    /// `map_extra` (bloom filter hash count, arena address…).
    pub map_extra: u64,
    /// Pinning.
    pub pinning: Pinning,
    /// BTF type id of the key, when given as a type (`__type(key, T)`).
    pub key_type_id: Option<u32>,
    /// BTF type id of the value, when given as a type (`__type(value, T)`), or of the section's
    /// `DATASEC` for global data.
    pub value_type_id: Option<u32>,
    /// Template of the inner map of a map-in-map (`__array(values, struct {...})`).
    pub inner: Option<Box<MapSpec>>,
    /// Initial slots of a prog array or map-in-map: `(index, what)`.
    pub init_slots: Vec<(u32, InitSlot)>,
    /// Initial value for global data (`.bss` is zeros), to write at key 0 after creation.
    pub data: Option<Vec<u8>>,
    /// Freeze after filling (read-only from user space): `.rodata*` and `.kconfig`.
    pub freeze: bool,
    /// The global variables of a data section.
    pub variables: Vec<DataVariable>,
}

impl MapSpec {
    /// An empty definition of `name` of the given kind, to fill in.
    pub(crate) fn new(name: &str, kind: MapKind) -> Self {
        MapSpec {
            name: name.to_owned(),
            kind,
            map_type: 0,
            key_size: 0,
            value_size: 0,
            max_entries: 0,
            flags: 0,
            numa_node: 0,
            map_extra: 0,
            pinning: Pinning::None,
            key_type_id: None,
            value_type_id: None,
            inner: None,
            init_slots: Vec::new(),
            data: None,
            freeze: false,
            variables: Vec::new(),
        }
    }

    /// Looks up a global variable of a data map by name.
    pub fn variable(&self, name: &str) -> Option<&DataVariable> {
        self.variables.iter().find(|v| v.name == name)
    }

    /// The initial bytes of variable `name` (from [`MapSpec::data`]).
    pub fn variable_data(&self, name: &str) -> Option<&[u8]> {
        let v = self.variable(name)?;
        let start = v.offset as usize;
        self.data
            .as_deref()?
            .get(start..start.checked_add(v.size as usize)?)
    }

    /// Sets the initial value of global variable `name` before the map is created, e.g. a
    /// `const volatile` in `.rodata` that configures the program. `value` must be exactly the
    /// variable's size (little-endian scalars for x86/arm64 BPF objects).
    ///
    /// # Errors
    ///
    /// [`ObjError::Map`] if this map has no such variable, no initial data, or the size differs.
    pub fn set_variable(&mut self, name: &str, value: &[u8]) -> Result<(), ObjError> {
        let err = |what: String| ObjError::Map {
            map: self.name.clone(),
            what,
        };
        let v = self
            .variable(name)
            .ok_or_else(|| err(format!("has no variable `{name}`")))?
            .clone();
        if value.len() != v.size as usize {
            return Err(err(format!(
                "variable `{name}` is {} bytes, got {}",
                v.size,
                value.len()
            )));
        }
        let data = self
            .data
            .as_mut()
            .ok_or_else(|| err("has no initial data".into()))?;
        let start = v.offset as usize;
        let slot = data
            .get_mut(start..start + value.len())
            .ok_or_else(|| err(format!("variable `{name}` lies outside the map value")))?;
        slot.copy_from_slice(value);
        Ok(())
    }
}

/// A map symbol: its index in the map list, the section it is defined in and its offset.
#[derive(Debug, Clone)]
pub(crate) struct MapSymbol {
    pub section: usize,
    pub offset: u64,
    pub map: usize,
}

/// Reads the legacy `struct bpf_map_def` maps of section `sec` (`maps`): each symbol of the
/// section is one map, `{type, key_size, value_size, max_entries, map_flags}` followed
/// optionally by fields this loader ignores (`inner_map_idx`, `numa_node`, …).
pub(crate) fn legacy_maps(
    elf: &Elf<'_>,
    sec: &Section<'_>,
    maps: &mut Vec<MapSpec>,
    syms: &mut Vec<MapSymbol>,
) -> Result<(), ObjError> {
    let mut defs: Vec<_> = elf
        .symbols_in(sec.index)
        .filter(|s| !s.name.is_empty() && s.kind != super::elf::STT_SECTION)
        .collect();
    defs.sort_by_key(|s| s.value);
    if defs.is_empty() {
        return Ok(());
    }
    // Without symbol sizes, each definition spans the section divided evenly (as libbpf did).
    let even = sec.data.len() / defs.len();
    for sym in defs {
        let size = if sym.size > 0 {
            sym.size as usize
        } else {
            even
        };
        let map_err = |what: String| ObjError::Map {
            map: sym.name.to_owned(),
            what,
        };
        if size < 16 {
            return Err(map_err(format!(
                "legacy definition is {size} bytes, need at least 16 (type, key_size, value_size, max_entries)"
            )));
        }
        let base = usize::try_from(sym.value).map_err(|_| map_err("offset out of range".into()))?;
        let field = |i: usize| read_u32(sec.data, base.checked_add(4 * i)?, elf.big_endian);
        let (Some(map_type), Some(key_size), Some(value_size), Some(max_entries)) =
            (field(0), field(1), field(2), field(3))
        else {
            return Err(map_err(format!(
                "definition at offset {base:#x} lies outside section `{}`",
                sec.name
            )));
        };
        let mut m = MapSpec::new(sym.name, MapKind::Legacy);
        m.map_type = map_type;
        m.key_size = key_size;
        m.value_size = value_size;
        m.max_entries = max_entries;
        if size >= 20 {
            m.flags = field(4).unwrap_or(0);
        }
        syms.push(MapSymbol {
            section: sec.index,
            offset: sym.value,
            map: maps.len(),
        });
        maps.push(m);
    }
    Ok(())
}
