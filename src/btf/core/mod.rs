//! CO-RE: relocating an object's kernel-struct accesses for a target kernel's BTF.
//!
//! clang records every CO-RE access (`BPF_CORE_READ`, `bpf_core_field_exists`, …) in
//! `.BTF.ext` as a relocation: an instruction, a root type of the object's own BTF, an
//! access string (`"0:1:2"`: array index, then member/element indices) and a kind. For each
//! relocation, [`Relocator`] finds the target types with the same essential name (a
//! `___flavor` suffix is ignored) in the target BTF (vmlinux; the kernel modules' split BTF
//! only when vmlinux has none), walks the access through each candidate as libbpf does, and
//! computes a [`Fixup`]: the value the instruction holds (from the object's BTF) and the one
//! it must hold on the target. [`apply_fixup`] then patches ALU immediates, load/store
//! offsets (resizing the access when a field's size changed and that is safe) and ld_imm64
//! values. A relocation that cannot be resolved poisons its instruction (a call to helper
//! [`POISON_HELPER`]) so only programs that reach it fail to load; [`poisoned_insn_in_log`]
//! and [`poisoned_fixup`] map the verifier's complaint back to the relocation.
//!
//! Everything here is pure: no syscalls except reading module BTF from sysfs when asked to
//! ([`Relocator::with_kernel_modules`]).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use rawbpf::btf::{Btf, core::Relocator};
//! let spec = rawbpf::obj::ObjectSpec::open("prog.bpf.o")?;
//! let local = Btf::parse(spec.btf.as_deref().unwrap_or_default())?;
//! let kernel = Btf::from_kernel()?;
//! let mut relocator = Relocator::new(&local, &kernel);
//! for prog in &spec.programs {
//!     let mut linked = rawbpf::obj::link_program(&spec, prog)?;
//!     let fixups = relocator.relocate(&mut linked.insns, &linked.core_relos)?;
//!     println!("{}: {} CO-RE fixups", prog.name, fixups.len());
//! }
//! # Ok(()) }
//! ```

mod calc;
mod cands;
mod compat;
mod patch;
mod resolve;
mod spec;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::OnceLock;

pub use patch::{POISON_HELPER, apply_fixup, poisoned_fixup, poisoned_insn_in_log};

use super::CoreRelo;
use super::{Btf, BtfError, CoreReloKind, Kind, TypeId};
use crate::insn::Insn;
use calc::{Calc, calc};
use spec::{Spec, describe, match_spec, parse_access, parse_spec};

/// A CO-RE relocation that cannot be computed or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The relocation record is malformed: unknown kind, type id out of range, bad access
    /// string, an access that does not fit the local type, an anonymous root type.
    #[error("CO-RE relocation #{index} (insn {insn}, {kind:?}): {what}")]
    Invalid {
        /// Index of the relocation in the program's list.
        index: usize,
        /// Instruction index.
        insn: usize,
        /// The relocation kind.
        kind: CoreReloKind,
        /// What is wrong.
        what: String,
    },
    /// Several target candidates match but give different results.
    #[error(
        "CO-RE relocation #{index} (insn {insn}, {kind:?} of {relo}) is ambiguous: candidates {} give different results; rename the local type with a ___flavor suffix or make it stricter",
        candidates.join(", ")
    )]
    Ambiguous {
        /// Index of the relocation.
        index: usize,
        /// Instruction index.
        insn: usize,
        /// The relocation kind.
        kind: CoreReloKind,
        /// The local access (`struct foo.bar (0:1)`).
        relo: String,
        /// The disagreeing candidates and what each gives.
        candidates: Vec<String>,
    },
    /// The computed value cannot be written to the instruction.
    #[error("CO-RE relocation #{index} of {relo} at insn {insn}: {what}")]
    Patch {
        /// Index of the relocation.
        index: usize,
        /// Instruction index.
        insn: usize,
        /// The local access.
        relo: String,
        /// What is wrong.
        what: String,
    },
    /// The object's or the target's BTF is malformed where the relocation looks.
    #[error("CO-RE relocation #{index} (insn {insn}, {kind:?}): {source}")]
    Btf {
        /// Index of the relocation.
        index: usize,
        /// Instruction index.
        insn: usize,
        /// The relocation kind.
        kind: CoreReloKind,
        /// The BTF error.
        source: BtfError,
    },
    /// Kernel module BTF could not be read.
    #[error("reading kernel module BTF for CO-RE candidates: {0}")]
    ModuleBtf(BtfError),
    /// The verifier rejected a program because it reaches a poisoned CO-RE instruction.
    #[error(
        "program reaches instruction {insn}, poisoned because CO-RE relocation #{index} ({kind:?} of {relo}) has no match in the target BTF; guard it with bpf_core_field_exists()/bpf_core_type_exists() or fix the type"
    )]
    Poisoned {
        /// Index of the relocation.
        index: usize,
        /// Instruction index.
        insn: usize,
        /// The relocation kind.
        kind: CoreReloKind,
        /// The local access.
        relo: String,
    },
}

impl CoreError {
    /// The error for a verifier rejection caused by poisoned fixup `fix`.
    pub fn poisoned(fix: &Fixup) -> Self {
        CoreError::Poisoned {
            index: fix.index,
            insn: fix.insn,
            kind: fix.kind,
            relo: fix.description.clone(),
        }
    }

    /// Maps a verifier log to a [`CoreError::Poisoned`], if the rejection is a poisoned
    /// instruction of one of `fixups`.
    pub fn from_verifier_log(log: &str, fixups: &[Fixup]) -> Option<Self> {
        let insn = poisoned_insn_in_log(log)?;
        poisoned_fixup(fixups, insn).map(Self::poisoned)
    }
}

/// Internal failure, given context by [`Relocator::compute`].
#[derive(Debug)]
pub(crate) enum Fail {
    Invalid(String),
    Btf(BtfError),
    Module(BtfError),
    Ambiguous {
        relo: String,
        candidates: Vec<String>,
    },
}

/// ENUM64 candidates are searched with ENUM ones: one key for both.
fn core_kind(k: Kind) -> u8 {
    match k {
        Kind::Enum64 => Kind::Enum as u8,
        k => k as u8,
    }
}

/// Reads every module BTF the running kernel exposes.
fn load_kernel_modules() -> Result<Vec<Btf<'static>>, BtfError> {
    super::kernel_modules_with_btf()?
        .iter()
        .map(|m| Btf::from_kernel_module(m))
        .collect()
}

/// The three families of relocation kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RelocClass {
    Field,
    Type,
    Enumval,
}

fn class_of(kind: CoreReloKind) -> Option<RelocClass> {
    use CoreReloKind::*;
    Some(match kind {
        FieldByteOffset | FieldByteSize | FieldExists | FieldSigned | FieldLshiftU64
        | FieldRshiftU64 => RelocClass::Field,
        TypeIdLocal | TypeIdTarget | TypeExists | TypeSize | TypeMatches => RelocClass::Type,
        EnumvalExists | EnumvalValue => RelocClass::Enumval,
        Unknown(_) => return None,
    })
}

/// The computed result of one relocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixup {
    /// Index of the relocation in the list given to [`Relocator::relocate`].
    pub index: usize,
    /// Instruction to patch.
    pub insn: usize,
    /// The kind.
    pub kind: CoreReloKind,
    /// Root type in the object's BTF.
    pub local_type: TypeId,
    /// The raw access string.
    pub access: String,
    /// The local access, readable: `struct foo.bar[1].baz (0:2:1:0)`.
    pub description: String,
    /// The matched target root type, `None` if no candidate matched.
    pub target_type: Option<TypeId>,
    /// Which BTF the target type is in: 0 for the target (vmlinux), `k` for the `k`-th
    /// module BTF.
    pub target_btf: usize,
    /// The matched target access, readable.
    pub target_description: Option<String>,
    /// The value the instruction holds (computed from the object's BTF).
    pub local_value: u64,
    /// The value it gets.
    pub target_value: u64,
    /// Whether the instruction is poisoned instead (no candidate, or a size change a load
    /// cannot absorb; see [`Fixup::fail_memsz_adjust`]).
    pub poison: bool,
    /// Whether the instruction's value is checked against `local_value` before patching.
    pub validate: bool,
    /// Memory size of the field locally (plain field offsets; 0 otherwise).
    pub local_size: u32,
    /// Memory size of the field in the target.
    pub target_size: u32,
    /// The field's size changed and it is neither an unsigned integer nor a pointer: a
    /// load or store of it is poisoned (an ALU use is patched normally).
    pub fail_memsz_adjust: bool,
}

impl std::fmt::Display for Fixup {
    /// One line, as libbpf's debug log says it: `relo #1 insn 4: FieldByteOffset of struct
    /// foo.b (0:1) -> [12] struct foo___v1.b (0:1): 4 -> 8`, or `-> no candidate matched:
    /// poisoned`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "relo #{} insn {}: {:?} of {}",
            self.index, self.insn, self.kind, self.description
        )?;
        match (self.target_type, &self.target_description) {
            (Some(id), Some(d)) if self.target_btf == 0 => write!(f, " -> [{id}] {d}")?,
            (Some(id), Some(d)) => {
                write!(f, " -> [{id}] {d} (module BTF #{})", self.target_btf)?;
            }
            _ if self.kind == CoreReloKind::TypeIdLocal => write!(f, " (local)")?,
            _ => write!(f, " -> no candidate matched")?,
        }
        if self.poison {
            write!(f, ": poisoned")
        } else {
            write!(f, ": {} -> {}", self.local_value, self.target_value)?;
            if self.fail_memsz_adjust {
                write!(
                    f,
                    " (size {} -> {}: a load or store of it is poisoned)",
                    self.local_size, self.target_size
                )?;
            }
            Ok(())
        }
    }
}

/// A candidate: which BTF (0 = target, k = module k) and which type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cand {
    btf: usize,
    id: TypeId,
}

/// Where module BTF comes from.
enum Modules<'t> {
    None,
    Given(Vec<&'t Btf<'t>>),
    Sysfs(OnceLock<Result<Vec<Btf<'static>>, BtfError>>),
}

/// Computes and applies CO-RE relocations of one object against one target.
///
/// Candidate lists are kept per local root type for the life of the relocator, and narrowed
/// as libbpf narrows them: once a relocation matches, the list of its root type keeps only the
/// candidates that matched, so a later relocation of that type that matches none of them is
/// poisoned. Use one relocator for all programs of an object (as libbpf uses one list per
/// object).
pub struct Relocator<'l, 't> {
    local: &'l Btf<'l>,
    target: &'t Btf<'t>,
    modules: Modules<'t>,
    cache: HashMap<TypeId, Vec<Cand>>,
}

impl std::fmt::Debug for Relocator<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relocator")
            .field("local", self.local)
            .field("target", self.target)
            .field("cached_types", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl<'l, 't> Relocator<'l, 't> {
    /// Relocates against `target` only (the kernel's vmlinux BTF, or any BTF the user names).
    pub fn new(local: &'l Btf<'l>, target: &'t Btf<'t>) -> Self {
        Relocator {
            local,
            target,
            modules: Modules::None,
            cache: HashMap::new(),
        }
    }

    /// Also searches these module BTFs (split over `target`) for types `target` lacks.
    pub fn with_modules(mut self, modules: Vec<&'t Btf<'t>>) -> Self {
        self.modules = Modules::Given(modules);
        self
    }

    /// Also searches the running kernel's module BTF (`/sys/kernel/btf/*`) for types the
    /// target lacks; the modules are read only when such a type is met.
    pub fn with_kernel_modules(mut self) -> Self {
        self.modules = Modules::Sysfs(OnceLock::new());
        self
    }

    /// The BTF a candidate lives in.
    fn btf_of<'s>(target: &'s Btf<'s>, modules: &'s Modules<'t>, i: usize) -> Option<&'s Btf<'s>> {
        if i == 0 {
            return Some(target);
        }
        match modules {
            Modules::None => None,
            Modules::Given(v) => v.get(i - 1).map(|b| &**b as &Btf<'_>),
            Modules::Sysfs(cell) => match cell.get() {
                Some(Ok(v)) => v.get(i - 1).map(|b| b as &Btf<'_>),
                _ => None,
            },
        }
    }

    /// The candidates of local root type `local`, cached.
    fn candidates(&mut self, local: TypeId) -> Result<&[Cand], Fail> {
        if !self.cache.contains_key(&local) {
            let c = self.find_candidates(local)?;
            self.cache.insert(local, c);
        }
        Ok(self.cache.get(&local).map(Vec::as_slice).unwrap_or(&[]))
    }

    fn find_candidates(&self, local: TypeId) -> Result<Vec<Cand>, Fail> {
        let t = self.local.type_by_id(local).map_err(Fail::Btf)?;
        let name = t.name().map_err(Fail::Btf)?;
        let kinds: Vec<Kind> = match t.kind() {
            Kind::Enum | Kind::Enum64 => vec![Kind::Enum, Kind::Enum64],
            k => vec![k],
        };
        let mut out = Vec::new();
        for &k in &kinds {
            out.extend(
                self.target
                    .find_by_essential_name(name, Some(k))
                    .map(|t| Cand { btf: 0, id: t.id() }),
            );
        }
        if !out.is_empty() {
            out.sort_by_key(|c| c.id);
            return Ok(out);
        }
        let list: Vec<&Btf<'_>> = match &self.modules {
            Modules::None => Vec::new(),
            Modules::Given(v) => v.iter().map(|b| &**b as &Btf<'_>).collect(),
            Modules::Sysfs(cell) => match cell.get_or_init(load_kernel_modules) {
                Ok(v) => v.iter().map(|b| b as &Btf<'_>).collect(),
                Err(e) => return Err(Fail::Module(e.clone())),
            },
        };
        for (i, m) in list.iter().enumerate() {
            for &k in &kinds {
                out.extend(
                    m.find_by_essential_name(name, Some(k))
                        .filter(|t| t.id() >= m.first_id())
                        .map(|t| Cand {
                            btf: i + 1,
                            id: t.id(),
                        }),
                );
            }
        }
        Ok(out)
    }
}
