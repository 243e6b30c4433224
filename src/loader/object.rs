//! [`Object`]: the loaded maps and programs of an object, by name, and typed access to its
//! global variables (through a shared mapping of their data map, see [`Object`]).

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::btf::core::Fixup;
use crate::map::{Map, MapFlags, MapMmap, Pod, UpdateFlags};
use crate::obj::{DataVariable, MapKind, MapSpec};
use crate::prog::Program;

use super::LoadError;

/// A loaded object: its maps and programs, by name, and its global variables.
///
/// Maps and programs can be borrowed ([`Object::program`], [`Object::map`]) or taken out
/// ([`Object::take_program`], [`Object::take_map`]); dropping the `Object` closes whatever is
/// left (pins and links keep their objects alive).
///
/// # Global variables
/// Global variables ([`Object::global`], [`Object::set_global`]) are read and written through
/// a shared mapping of their data map ([`MapMmap`], [`Object::mmap`]), made on first use and
/// kept in the `Object`: no syscall per access, and programs see writes at once. When a data
/// map cannot be mapped, access falls back to `BPF_MAP_LOOKUP_ELEM`/`BPF_MAP_UPDATE_ELEM` of
/// element 0. That happens for a map reused from a pin that was created without
/// `BPF_F_MMAPABLE` (by another loader), for values with special fields the kernel refuses to
/// map (`ENOTSUPP`: a `bpf_spin_lock`, timer or kptr in a `.data.*` section), on kernels
/// before 5.5 (no mmapable arrays), and for an fd opened write-only.
#[derive(Debug)]
pub struct Object {
    pub(crate) name: String,
    pub(crate) maps: Vec<(MapSpec, Option<Map>)>,
    pub(crate) programs: Vec<(String, Option<Program>)>,
    /// The CO-RE decisions of each loaded program, by program name.
    pub(crate) core: Vec<(String, Vec<Fixup>)>,
    pub(crate) pinned: Vec<PathBuf>,
    /// One slot per map: its shared mapping, made on first use (the error text if it cannot
    /// be mapped).
    pub(crate) mmaps: Vec<MmapSlot>,
    /// The struct_ops maps (see [`Object::struct_ops`]).
    pub(crate) struct_ops: Vec<super::StructOps>,
}

/// The lazily made mapping of one map of an [`Object`].
pub(crate) type MmapSlot = OnceLock<Result<MapMmap, String>>;

/// `n` empty mapping slots.
pub(crate) fn mmap_slots(n: usize) -> Vec<MmapSlot> {
    std::iter::repeat_with(OnceLock::new).take(n).collect()
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

impl Object {
    /// The object's name (its file name up to the first dot).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn not_found(&self, kind: &'static str, name: &str) -> LoadError {
        let available = if kind == "program" {
            names(
                self.programs
                    .iter()
                    .filter(|p| p.1.is_some())
                    .map(|p| p.0.as_str()),
            )
        } else {
            names(
                self.maps
                    .iter()
                    .filter(|m| m.1.is_some())
                    .map(|m| m.0.name.as_str()),
            )
        };
        LoadError::NotFound {
            kind,
            name: name.to_owned(),
            available,
        }
    }

    /// The loaded program named `name` (its function name).
    ///
    /// # Errors
    /// [`LoadError::NotFound`] (listing the programs there are) if there is none, it was not
    /// loaded (autoload off) or it was taken.
    pub fn program(&self, name: &str) -> Result<&Program, LoadError> {
        self.programs
            .iter()
            .find(|(n, p)| n == name && p.is_some())
            .and_then(|(_, p)| p.as_ref())
            .ok_or_else(|| self.not_found("program", name))
    }

    /// Takes the program named `name` out of the object.
    ///
    /// # Errors
    /// As [`Object::program`].
    pub fn take_program(&mut self, name: &str) -> Result<Program, LoadError> {
        match self
            .programs
            .iter_mut()
            .find(|(n, p)| n == name && p.is_some())
        {
            Some((_, p)) => p.take().ok_or_else(|| self.not_found("program", name)),
            None => Err(self.not_found("program", name)),
        }
    }

    /// The CO-RE decisions made when program `name` was loaded, in relocation order (the
    /// relocations of the program, then of the subprograms linked into it): each
    /// [`Fixup`] says the relocation's kind, the local access, the matched target type and
    /// access (`None` when no candidate matched), the value the instruction held and the one
    /// it got, and whether it was poisoned. Answers "why did my field read give 0". Empty for
    /// a program without CO-RE relocations or one that was not loaded.
    pub fn core_fixups(&self, name: &str) -> &[Fixup] {
        self.core
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, f)| f.as_slice())
    }

    /// Every CO-RE decision of the load: (program name, decision), in load order.
    pub fn core_decisions(&self) -> impl Iterator<Item = (&str, &Fixup)> {
        self.core
            .iter()
            .flat_map(|(n, f)| f.iter().map(move |x| (n.as_str(), x)))
    }

    /// The loaded programs, by name, in object order.
    pub fn programs(&self) -> impl Iterator<Item = (&str, &Program)> {
        self.programs
            .iter()
            .filter_map(|(n, p)| Some((n.as_str(), p.as_ref()?)))
    }

    fn map_index(&self, name: &str) -> Option<usize> {
        self.maps.iter().position(|(m, l)| {
            l.is_some()
                && (m.name == name
                    || matches!(&m.kind, MapKind::Data { section } if section == name)
                    || (m.kind == MapKind::Kconfig && name == ".kconfig"))
        })
    }

    /// The map named `name`: a map's symbol name, a global-data map's kernel name
    /// (`xdp_hell.bss`) or its section (`.bss`, `.rodata`, `.data.custom`, `.kconfig`).
    ///
    /// # Errors
    /// [`LoadError::NotFound`] (listing the maps there are).
    pub fn map(&self, name: &str) -> Result<&Map, LoadError> {
        self.map_index(name)
            .and_then(|i| self.maps[i].1.as_ref())
            .ok_or_else(|| self.not_found("map", name))
    }

    /// Takes the map named `name` out of the object (global variables of a taken data map
    /// are no longer reachable through [`Object::global`], and the object's mapping of it is
    /// dropped, so it can be frozen).
    ///
    /// # Errors
    /// As [`Object::map`].
    pub fn take_map(&mut self, name: &str) -> Result<Map, LoadError> {
        match self.map_index(name) {
            Some(i) => {
                if let Some(slot) = self.mmaps.get_mut(i) {
                    *slot = OnceLock::new();
                }
                self.maps[i]
                    .1
                    .take()
                    .ok_or_else(|| self.not_found("map", name))
            }
            None => Err(self.not_found("map", name)),
        }
    }

    /// The object's shared mapping of map `i`, made on first use.
    fn mmap_at(&self, i: usize) -> Option<&Result<MapMmap, String>> {
        let map = self.maps.get(i)?.1.as_ref()?;
        let slot = self.mmaps.get(i)?;
        Some(slot.get_or_init(|| map.mmap().map_err(|e| e.to_string())))
    }

    /// The shared mapping ([`MapMmap`]) of map `name`: a global-data map (`.bss`, `.data`,
    /// `.rodata`, `.data.custom`, or its kernel name) or any `BPF_F_MMAPABLE` array of the
    /// object. It is made on first use (by this or by [`Object::global`] and friends) and
    /// kept until the object is dropped or the map taken; `.rodata` is mapped read-only.
    ///
    /// A writable mapping keeps the map from being frozen (`EBUSY`).
    ///
    /// ```no_run
    /// # fn f(obj: &rawbpf::loader::Object) -> Result<(), Box<dyn std::error::Error>> {
    /// let bss = obj.mmap(".bss")?;
    /// let mut counter = [0u8; 8];
    /// bss.read(0, &mut counter)?; // no syscall
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`LoadError::NotFound`] if there is no such map; [`LoadError::Global`] (naming the
    /// map) if it cannot be mapped, with the reason.
    pub fn mmap(&self, name: &str) -> Result<&MapMmap, LoadError> {
        let i = self
            .map_index(name)
            .ok_or_else(|| self.not_found("map", name))?;
        match self.mmap_at(i) {
            Some(Ok(m)) => Ok(m),
            Some(Err(e)) => Err(LoadError::Global {
                name: self.maps[i].0.name.clone(),
                what: format!("the map cannot be mmapped: {e}"),
            }),
            None => Err(self.not_found("map", name)),
        }
    }

    /// The maps, by name, in object order.
    pub fn maps(&self) -> impl Iterator<Item = (&str, &Map)> {
        self.maps
            .iter()
            .filter_map(|(s, m)| Some((s.name.as_str(), m.as_ref()?)))
    }

    /// The paths of the maps this load pinned by name (`LIBBPF_PIN_BY_NAME`); reused pins are
    /// not listed. They stay pinned after the object is dropped: remove them when done.
    pub fn pinned_maps(&self) -> &[PathBuf] {
        &self.pinned
    }

    fn variable(&self, name: &str) -> Result<(usize, &Map, &MapSpec, &DataVariable), LoadError> {
        for (i, (spec, map)) in self.maps.iter().enumerate() {
            if !matches!(spec.kind, MapKind::Data { .. }) {
                continue;
            }
            if let Some(v) = spec.variable(name) {
                let map = map.as_ref().ok_or_else(|| LoadError::Global {
                    name: name.to_owned(),
                    what: format!("its map `{}` was taken out of the object", spec.name),
                })?;
                return Ok((i, map, spec, v));
            }
        }
        Err(LoadError::Global {
            name: name.to_owned(),
            what: "no global variable of that name in .bss, .data or .rodata".into(),
        })
    }

    /// The bytes of global variable `name`, read through the mapping of its data map (see
    /// the [`Object`](Object#global-variables) docs for the lookup fallback).
    ///
    /// An aligned variable no larger than a machine word (a `u64` counter) is read whole even
    /// while a program updates it; larger ones may mix bytes from before and after an update.
    ///
    /// # Errors
    /// [`LoadError::Global`] if there is no such variable, [`LoadError::Map`] if the fallback
    /// lookup fails.
    pub fn global_bytes(&self, name: &str) -> Result<Vec<u8>, LoadError> {
        let (i, map, spec, v) = self.variable(name)?;
        if let Some(Ok(mm)) = self.mmap_at(i) {
            return mm
                .read_vec(v.offset as usize, v.size as usize)
                .map_err(|_| outside(name));
        }
        // Fallback: the map cannot be mmapped.
        let value = map
            .get(&0u32.to_ne_bytes())
            .map_err(|e| LoadError::map(&spec.name, e))?
            .ok_or_else(|| LoadError::Global {
                name: name.to_owned(),
                what: format!("map `{}` has no element 0", spec.name),
            })?;
        value
            .get(v.offset as usize..(v.offset + v.size) as usize)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| outside(name))
    }

    /// Reads global variable `name` as a `T` (whose size must be the variable's).
    ///
    /// ```no_run
    /// # fn f(obj: &rawbpf::loader::Object) -> Result<(), rawbpf::loader::LoadError> {
    /// let counter: u32 = obj.global("counter")?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`Object::global_bytes`], and [`LoadError::Global`] for a size mismatch.
    pub fn global<T: Pod>(&self, name: &str) -> Result<T, LoadError> {
        let b = self.global_bytes(name)?;
        if b.len() != T::SIZE {
            return Err(size_mismatch(name, b.len(), T::SIZE));
        }
        Ok(T::read_from(&b))
    }

    /// Writes global variable `name` in `.bss`/`.data` through the mapping of its data map
    /// (programs see it at once; see the [`Object`](Object#global-variables) docs for the
    /// fallback). `.rodata` is frozen once loaded: set it before load with
    /// [`Loader::set_global`](super::Loader::set_global).
    ///
    /// # Errors
    /// As [`Object::global`]; [`LoadError::Global`] for a variable in `.rodata` (or another
    /// map frozen at load).
    pub fn set_global<T: Pod>(&self, name: &str, value: &T) -> Result<(), LoadError> {
        let mut bytes = vec![0u8; T::SIZE];
        value.write_to(&mut bytes);
        self.set_global_bytes(name, &bytes)
    }

    /// Writes the bytes of global variable `name` (see [`Object::set_global`]).
    ///
    /// # Errors
    /// As [`Object::set_global`].
    pub fn set_global_bytes(&self, name: &str, bytes: &[u8]) -> Result<(), LoadError> {
        let (i, map, spec, v) = self.variable(name)?;
        if bytes.len() != v.size as usize {
            return Err(size_mismatch(name, v.size as usize, bytes.len()));
        }
        if spec.freeze || map.flags().contains(MapFlags::RDONLY_PROG) {
            return Err(LoadError::Global {
                name: name.to_owned(),
                what: format!(
                    "it is in read-only `{}`, frozen at load: set it before load with \
                     Loader::set_global",
                    spec.name
                ),
            });
        }
        if let Some(Ok(mm)) = self.mmap_at(i) {
            if mm.is_writable() {
                return mm
                    .write(v.offset as usize, bytes)
                    .map_err(|_| outside(name));
            }
        }
        // Fallback: the map cannot be mmapped (or only read-only).
        let key = 0u32.to_ne_bytes();
        let mut value = map
            .get(&key)
            .map_err(|e| LoadError::map(&spec.name, e))?
            .unwrap_or_else(|| vec![0; spec.value_size as usize]);
        let slot = value
            .get_mut(v.offset as usize..(v.offset + v.size) as usize)
            .ok_or_else(|| outside(name))?;
        slot.copy_from_slice(bytes);
        map.update(&key, &value, UpdateFlags::empty())
            .map_err(|e| LoadError::map(&spec.name, e))
    }
}

fn outside(name: &str) -> LoadError {
    LoadError::Global {
        name: name.to_owned(),
        what: "lies outside its map's value".into(),
    }
}

pub(crate) fn size_mismatch(name: &str, var: usize, given: usize) -> LoadError {
    LoadError::Global {
        name: name.to_owned(),
        what: format!("the variable is {var} bytes, the value given is {given}"),
    }
}
