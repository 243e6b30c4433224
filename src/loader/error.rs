//! [`LoadError`]: what went wrong while loading an object, naming the map, program, extern,
//! section or instruction at fault.

use std::path::PathBuf;

use crate::btf::BtfError;
use crate::btf::core::Fixup;
use crate::error::{Error, VerifierLog};
use crate::obj::ObjError;

/// An error of the [`Loader`](super::Loader) or of an [`Object`](super::Object).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The object itself is malformed (section, symbol or instruction named inside).
    #[error("object: {0}")]
    Object(#[from] ObjError),
    /// BTF could not be read or processed.
    #[error("{what}: {source}")]
    Btf {
        /// What was being done (`kernel BTF`, `object BTF`, …).
        what: String,
        /// The BTF error.
        #[source]
        source: BtfError,
    },
    /// The kernel refused the object's BTF (`BPF_BTF_LOAD`; a rejection carries the kernel's
    /// BTF log).
    #[error("loading the object's BTF: {0}")]
    BtfLoad(#[source] crate::btf::BtfHandleError),
    /// A map could not be created, reused, filled or frozen.
    #[error("map `{map}`: {source}")]
    Map {
        /// The map's name.
        map: String,
        /// The underlying error.
        #[source]
        source: Error,
    },
    /// A map pinned by name exists but does not match the object's definition.
    #[error(
        "map `{map}`: the map pinned at {} is incompatible ({what}); unpin it (rm {}) or use another pin root",
        path.display(), path.display()
    )]
    PinIncompatible {
        /// The map's name.
        map: String,
        /// The pin path.
        path: PathBuf,
        /// Which attribute differs.
        what: String,
    },
    /// An extern (`__kconfig` or `__ksym`) could not be resolved.
    #[error("extern `{name}`: {what}")]
    Extern {
        /// The extern's name.
        name: String,
        /// Why.
        what: String,
    },
    /// A program could not be prepared or loaded. A verifier rejection is
    /// `source: Error::Verifier` with the whole log ([`LoadError::verifier_log`]).
    #[error("program `{program}` (section `{section}`): {source}")]
    Program {
        /// The program's name.
        program: String,
        /// Its ELF section.
        section: String,
        /// The underlying error.
        #[source]
        source: Box<LoadError>,
        /// The CO-RE decisions made for the program before it failed (see
        /// [`LoadError::core_fixups`]).
        core: Vec<Fixup>,
    },
    /// A CO-RE relocation could not be computed or applied, or the verifier rejected the
    /// program because it reaches an instruction CO-RE poisoned (then `log` is the verifier's
    /// whole log).
    #[error("CO-RE: {source}")]
    Core {
        /// What failed, naming the relocation.
        #[source]
        source: crate::btf::core::CoreError,
        /// The verifier log, for a rejected program.
        log: Option<VerifierLog>,
    },
    /// A kernel operation failed (the program's load, an attach target lookup…).
    #[error(transparent)]
    Kernel(#[from] Error),
    /// The program needs something this loader or kernel cannot give yet (CO-RE without the
    /// engine, struct_ops, an unknown section name).
    #[error("{feature} is not supported: {hint}")]
    Unsupported {
        /// What is missing.
        feature: String,
        /// What to do.
        hint: String,
    },
    /// A global variable access or a loader option does not fit the object.
    #[error("global `{name}`: {what}")]
    Global {
        /// The variable's name.
        name: String,
        /// Why.
        what: String,
    },
    /// A program or map asked for by name does not exist.
    #[error("no {kind} named `{name}` (the object has: {available})")]
    NotFound {
        /// `"program"` or `"map"`.
        kind: &'static str,
        /// The name asked for.
        name: String,
        /// The names there are.
        available: String,
    },
    /// Maps pinned by name cannot be pinned under the pin root (no bpffs there, or it
    /// cannot be created).
    #[error("pin root {}: {what}", path.display())]
    PinRoot {
        /// The pin root.
        path: PathBuf,
        /// What is wrong and what to do.
        what: String,
    },
}

impl LoadError {
    /// The whole verifier log, when the error is a verifier rejection of a program.
    pub fn verifier_log(&self) -> Option<&VerifierLog> {
        match self {
            LoadError::Program { source, .. } => source.verifier_log(),
            LoadError::Kernel(Error::Verifier { log, .. }) => Some(log),
            LoadError::Core { log, .. } => log.as_ref(),
            _ => None,
        }
    }

    /// The errno behind the error, if a kernel call failed.
    pub fn errno(&self) -> Option<crate::sys::Errno> {
        match self {
            LoadError::Kernel(e) | LoadError::Map { source: e, .. } => e.errno(),
            LoadError::Program { source, .. } => source.errno(),
            LoadError::BtfLoad(e) => e.errno(),
            _ => None,
        }
    }

    /// The program the error is about, if it is about one.
    pub fn program(&self) -> Option<&str> {
        match self {
            LoadError::Program { program, .. } => Some(program),
            _ => None,
        }
    }

    /// Whether the kernel lacks what was needed (a missing feature, `ENOTSUPP`).
    pub fn is_not_supported(&self) -> bool {
        match self {
            LoadError::Unsupported { .. } => true,
            LoadError::Kernel(e) | LoadError::Map { source: e, .. } => e.is_not_supported(),
            LoadError::Program { source, .. } => source.is_not_supported(),
            _ => false,
        }
    }

    /// Whether the machine's security policy refused a map or program of the load (see
    /// [`Error::is_refused_by_policy`]).
    pub fn is_refused_by_policy(&self) -> bool {
        match self {
            LoadError::Kernel(e) | LoadError::Map { source: e, .. } => e.is_refused_by_policy(),
            LoadError::Program { source, .. } => source.is_refused_by_policy(),
            _ => false,
        }
    }

    pub(crate) fn in_program(self, program: &str, section: &str) -> LoadError {
        LoadError::Program {
            program: program.to_owned(),
            section: section.to_owned(),
            source: Box::new(self),
            core: Vec::new(),
        }
    }

    /// Keeps the CO-RE decisions of the failed program on a [`LoadError::Program`].
    pub(crate) fn with_core(mut self, fixups: Vec<Fixup>) -> LoadError {
        if let LoadError::Program { core, .. } = &mut self {
            *core = fixups;
        }
        self
    }

    /// The CO-RE decisions made for the program that failed, in relocation order: each
    /// relocation's kind, local access, matched target type and access, old and new value, and
    /// whether it was poisoned. Empty when the error is not about a program, the program has
    /// no CO-RE relocations or failed before they were computed; when computing one failed
    /// (e.g. [`CoreError::Ambiguous`](crate::btf::core::CoreError::Ambiguous)), the ones
    /// before it.
    pub fn core_fixups(&self) -> &[Fixup] {
        match self {
            LoadError::Program { core, .. } => core,
            _ => &[],
        }
    }

    pub(crate) fn map(map: &str, source: Error) -> LoadError {
        LoadError::Map {
            map: map.to_owned(),
            source,
        }
    }

    pub(crate) fn btf(what: impl Into<String>, source: BtfError) -> LoadError {
        LoadError::Btf {
            what: what.into(),
            source,
        }
    }
}
