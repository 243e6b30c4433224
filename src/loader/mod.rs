//! The loader: a staged pipeline from an [`ObjectSpec`] to loaded maps and programs
//! ([`Object`]).
//!
//! [`Loader::load`] runs one function per stage, in order:
//!
//! 1. **kernel BTF**: the running kernel's BTF, mapped once per process
//!    ([`Btf::from_kernel`], cached) and shared by every stage; its kinds tell which BTF
//!    features the kernel has;
//! 2. **object BTF**: as `obj` prepared it (libbpf's `DATASEC` and extern fixups), sanitized
//!    for missing kernel features, and loaded ([`BtfHandle`](crate::btf::BtfHandle));
//! 3. **externs**: `.kconfig` values (from `/proc/config.gz`, `LINUX_KERNEL_VERSION`,
//!    `LINUX_HAS_BPF_COOKIE`, `LINUX_HAS_SYSCALL_WRAPPER`; weak missing ones are 0),
//!    `.ksyms` variables (kernel BTF `VAR` ids, or `/proc/kallsyms` addresses for typeless
//!    ones) and kfuncs (kernel BTF `FUNC` ids, in vmlinux or a loaded module's BTF, whose fd
//!    goes in the programs' `fd_array`; called, or taken as an address by
//!    `bpf_ksym_exists()`, 0 for a missing `__weak` one);
//! 4. **maps**: created with the user's overrides, pinned-by-name maps reused when compatible
//!    (under the pin root, default `/sys/fs/bpf`), global data filled and `.rodata`/`.kconfig`
//!    frozen *before* any program loads (the verifier then treats them as constants);
//! 5. **programs**: CO-RE decisions made once for the object, in libbpf's order (one
//!    candidate list per local root type, narrowed by each match); then each program linked
//!    with its subprograms, relocated (maps, globals, externs), given its functions' CO-RE
//!    decisions, and loaded with its `func_info`/`line_info`,
//!    expected attach type and attach BTF id;
//! 6. **slots**: prog arrays and maps of maps get their initial `.values`.
//!
//! ```no_run
//! use rawbpf::loader::Loader;
//! use rawbpf::obj::ObjectSpec;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = ObjectSpec::open("tests/bpf/globals.bpf.o")?;
//! let obj = Loader::new().set_global("magic", &42u32).load(&spec)?;
//! let prog = obj.program("read_globals")?;
//! let seen: u32 = obj.global("bss_seen_magic")?;
//! # let _ = (prog, seen); Ok(()) }
//! ```

mod attach;
mod btf_load;
mod core_plan;
mod error;
mod externs;
mod freplace;
pub(crate) mod fuzz_stages;
mod inflate;
mod kallsyms;
mod kconfig;
mod maps;
mod needs;
mod object;
mod programs;
mod struct_ops;

use std::collections::HashMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use attach::Attachments;
pub use error::LoadError;
pub use kconfig::{kernel_version_code, running_kernel_version};
pub use object::Object;
pub use struct_ops::{StructOps, StructOpsLink};

use crate::btf::Btf;
use crate::btf::core::Relocator;
use crate::map::Pod;
use crate::obj::{MapKind, ObjectSpec};
use crate::prog::{AttachType, LogLevel, ProgramType};

/// The default pin root for maps pinned by name.
pub const DEFAULT_PIN_ROOT: &str = "/sys/fs/bpf";

/// Per-map changes a tool makes before load (as with libbpf's `bpf_map__set_*`).
#[derive(Debug, Clone, Default)]
pub(crate) struct MapOverride {
    pub max_entries: Option<u32>,
    pub value_size: Option<u32>,
    pub flags: Option<u32>,
}

/// Per-program changes before load.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProgramOverride {
    pub prog_type: Option<ProgramType>,
    pub expected_attach_type: Option<AttachType>,
    pub attach_target: Option<String>,
    pub autoload: Option<bool>,
    /// freplace: the target program (see `Loader::freplace_target`).
    pub attach_prog: Option<Arc<std::os::fd::OwnedFd>>,
}

/// Options of a load, as a builder; [`Loader::load`] runs the pipeline.
#[derive(Debug, Clone)]
pub struct Loader {
    pin_root: PathBuf,
    target_btf: Option<Arc<Btf<'static>>>,
    kernel_btf: Option<Arc<Btf<'static>>>,
    maps: HashMap<String, MapOverride>,
    programs: HashMap<String, ProgramOverride>,
    autoload_default: bool,
    log_level: LogLevel,
    globals: Vec<(String, Vec<u8>)>,
    core_log: bool,
}

impl Default for Loader {
    fn default() -> Self {
        Loader::new()
    }
}

impl Loader {
    /// Default options: pin root `/sys/fs/bpf`, the running kernel's BTF, every program
    /// loaded, stats-only verifier log.
    pub fn new() -> Self {
        Loader {
            pin_root: PathBuf::from(DEFAULT_PIN_ROOT),
            target_btf: None,
            kernel_btf: None,
            maps: HashMap::new(),
            programs: HashMap::new(),
            autoload_default: true,
            log_level: LogLevel::STATS,
            globals: Vec::new(),
            core_log: false,
        }
    }

    /// Where maps pinned by name (`LIBBPF_PIN_BY_NAME`) live: `<root>/<map name>`.
    pub fn pin_root(mut self, root: impl AsRef<Path>) -> Self {
        self.pin_root = root.as_ref().to_owned();
        self
    }

    /// The BTF CO-RE relocations are computed against, instead of the running kernel's (e.g.
    /// a BTF file for a kernel without `/sys/kernel/btf/vmlinux`). Attach targets and ksyms are
    /// still looked up in the running kernel's BTF.
    pub fn target_btf(mut self, btf: Btf<'static>) -> Self {
        self.target_btf = Some(Arc::new(btf));
        self
    }

    /// The running kernel's BTF to use for every stage, instead of the process-wide cached
    /// [`Btf::from_kernel`] (e.g. [`Btf::from_kernel_uncached`] to measure a cold load).
    pub fn kernel_btf(mut self, btf: Arc<Btf<'static>>) -> Self {
        self.kernel_btf = Some(btf);
        self
    }

    fn map_ov(&mut self, map: &str) -> &mut MapOverride {
        self.maps.entry(map.to_owned()).or_default()
    }

    fn prog_ov(&mut self, prog: &str) -> &mut ProgramOverride {
        self.programs.entry(prog.to_owned()).or_default()
    }

    /// Overrides `max_entries` of map `map` (by its name in the object).
    pub fn map_max_entries(mut self, map: &str, n: u32) -> Self {
        self.map_ov(map).max_entries = Some(n);
        self
    }

    /// Overrides the value size of map `map` (e.g. a stack-trace map declared without one).
    pub fn map_value_size(mut self, map: &str, n: u32) -> Self {
        self.map_ov(map).value_size = Some(n);
        self
    }

    /// Overrides the `BPF_F_*` flags of map `map`.
    pub fn map_flags(mut self, map: &str, flags: u32) -> Self {
        self.map_ov(map).flags = Some(flags);
        self
    }

    /// Loads program `prog` as `prog_type` instead of what its `SEC()` says.
    pub fn program_type(mut self, prog: &str, prog_type: ProgramType) -> Self {
        self.prog_ov(prog).prog_type = Some(prog_type);
        self
    }

    /// Loads program `prog` with this expected attach type.
    pub fn expected_attach_type(mut self, prog: &str, t: AttachType) -> Self {
        self.prog_ov(prog).expected_attach_type = Some(t);
        self
    }

    /// Sets the attach target of a BTF-attached program (`fentry`, `tp_btf`, `lsm`, `iter`):
    /// the name as written in `SEC()` after the `/` (prefixes like `btf_trace_` are added).
    pub fn attach_target(mut self, prog: &str, target: &str) -> Self {
        self.prog_ov(prog).attach_target = Some(target.to_owned());
        self
    }

    /// Whether program `prog` is loaded (all are, by default, except `SEC("?…")` ones).
    pub fn autoload(mut self, prog: &str, load: bool) -> Self {
        self.prog_ov(prog).autoload = Some(load);
        self
    }

    /// Loads only program `prog` (all maps are still created).
    pub fn load_only(mut self, prog: &str) -> Self {
        self.autoload_default = false;
        for o in self.programs.values_mut() {
            o.autoload = None;
        }
        self.prog_ov(prog).autoload = Some(true);
        self
    }

    /// The verifier log level of every program load (default [`LogLevel::STATS`]).
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = level;
        self
    }

    /// Prints every CO-RE decision on stderr as it is made (as libbpf's debug log does): per
    /// relocation, its kind, the local access, the matched target type and access (or that
    /// none matched), the old and new value, or that the instruction was poisoned. The
    /// decisions are kept either way: [`Object::core_fixups`] after a load,
    /// [`LoadError::core_fixups`] for the program that failed.
    pub fn core_log(mut self, on: bool) -> Self {
        self.core_log = on;
        self
    }

    /// Sets global variable `name` (in `.rodata*`, `.data*` or `.bss`) before load: the
    /// program sees it from the start, and `const volatile` ones become verifier constants.
    /// The size of `T` is checked against the variable's BTF size at load.
    pub fn set_global<T: Pod>(self, name: &str, value: &T) -> Self {
        let mut b = vec![0u8; T::SIZE];
        value.write_to(&mut b);
        self.set_global_bytes(name, &b)
    }

    /// Sets the bytes of global variable `name` before load (see [`Loader::set_global`]).
    pub fn set_global_bytes(mut self, name: &str, bytes: &[u8]) -> Self {
        self.globals.push((name.to_owned(), bytes.to_vec()));
        self
    }

    fn autoloads(&self, prog: &crate::obj::ProgramSpec) -> bool {
        match self.programs.get(&prog.name).and_then(|o| o.autoload) {
            Some(b) => b,
            None => {
                self.autoload_default
                    && !prog.section_def().is_some_and(|d| {
                        d.flags.contains(crate::obj::section::SecFlags::NO_AUTOLOAD)
                    })
            }
        }
    }

    /// The effective map definitions: overrides, `set_global` values and `.kconfig` data.
    pub(crate) fn map_specs(
        &self,
        spec: &ObjectSpec,
        kconfig: Option<(usize, Vec<u8>)>,
    ) -> Result<Vec<crate::obj::MapSpec>, LoadError> {
        let mut specs: Vec<_> = spec
            .maps
            .iter()
            .map(|m| maps::effective_spec(m, self.maps.get(&m.name)))
            .collect::<Result<_, _>>()?;
        for name in self.maps.keys() {
            if spec.map(name).is_none() {
                return Err(LoadError::NotFound {
                    kind: "map",
                    name: name.clone(),
                    available: spec
                        .maps
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        if let Some((i, data)) = kconfig {
            if let Some(m) = specs.get_mut(i) {
                m.data = Some(data);
            }
        }
        for (name, bytes) in &self.globals {
            let target = specs.iter_mut().find_map(|m| {
                let v = m.variable(name)?.clone();
                matches!(m.kind, MapKind::Data { .. }).then_some((m, v))
            });
            let Some((m, v)) = target else {
                return Err(LoadError::Global {
                    name: name.clone(),
                    what: "no global variable of that name in .rodata, .data or .bss".into(),
                });
            };
            if bytes.len() != v.size as usize {
                return Err(object::size_mismatch(name, v.size as usize, bytes.len()));
            }
            // Up to the variable's end: zeros up to the value size are added only once
            // BPF_MAP_CREATE accepted it (see `maps::effective_spec`).
            let end = (v.offset as usize + v.size as usize).min(m.value_size as usize);
            let data = m.data.get_or_insert_with(Vec::new);
            if data.len() < end {
                data.resize(end, 0);
            }
            data.get_mut(v.offset as usize..(v.offset + v.size) as usize)
                .ok_or_else(|| LoadError::Global {
                    name: name.clone(),
                    what: "lies outside its section".into(),
                })?
                .copy_from_slice(bytes);
        }
        Ok(specs)
    }

    /// Runs the pipeline: loads the object's BTF, creates its maps and loads its programs.
    /// On error, nothing is left behind (maps pinned by this load are unpinned).
    ///
    /// # Errors
    /// [`LoadError`] naming the map, program, extern, section or instruction at fault; a
    /// verifier rejection is a [`LoadError::Program`] whose
    /// [`verifier_log`](LoadError::verifier_log) is the whole log.
    pub fn load(&self, spec: &ObjectSpec) -> Result<Object, LoadError> {
        // Stage 1: kernel BTF, once.
        let kernel = match &self.kernel_btf {
            Some(k) => Arc::clone(k),
            None => Btf::from_kernel().map_err(|e| LoadError::btf("kernel BTF", e))?,
        };
        let target: &Btf<'_> = self.target_btf.as_deref().unwrap_or(&kernel);
        // Stage 2: object BTF.
        let obj_btf = match &spec.btf {
            Some(b) => Some(Btf::parse(b).map_err(|e| LoadError::btf("object BTF", e))?),
            None => None,
        };
        let features = btf_load::kernel_features(&kernel);
        let btf_fd = btf_load::load_object_btf(obj_btf.as_ref(), features)?;
        // Stage 3: externs.
        let kconfig = externs::kconfig_data(spec, obj_btf.as_ref(), &kernel)?;
        let ksyms = externs::resolve_ksyms(spec, &kernel)?;
        // Stage 4: maps.
        let mut specs = self.map_specs(spec, kconfig)?;
        let vmlinux_values = specs
            .iter_mut()
            .map(|m| maps::kernel_shape(m, obj_btf.as_ref(), &kernel))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pins = maps::PinGuard::default();
        let created = maps::create_maps(
            &specs,
            &vmlinux_values,
            btf_fd.as_ref().map(AsFd::as_fd),
            &self.pin_root,
            &mut pins,
        )?;
        // Stage 5: programs.
        for name in self.programs.keys() {
            if spec.program(name).is_none() {
                return Err(LoadError::NotFound {
                    kind: "program",
                    name: name.clone(),
                    available: spec
                        .programs
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        // One CO-RE relocator for the whole object: candidates are looked up once, in one
        // pass over the target; module BTF is read only for types vmlinux lacks.
        let mut relocator = obj_btf.as_ref().map(|local| {
            let r = Relocator::new(local, target);
            if self.target_btf.is_none() {
                r.with_kernel_modules()
            } else {
                r
            }
        });
        if let Some(r) = relocator.as_mut() {
            r.prefetch(
                spec.programs
                    .iter()
                    .chain(&spec.subprograms)
                    .filter(|p| self.autoloads(p) || p.section == ".text")
                    .flat_map(|p| p.core_relos.iter().map(|c| c.type_id)),
            );
        }
        // Every CO-RE decision, once, in libbpf's order (candidate lists narrow as they go).
        let plan = match (relocator.as_mut(), obj_btf.as_ref()) {
            (Some(r), Some(local)) => Some(core_plan::plan(
                spec,
                local,
                r,
                |p| self.autoloads(p) && !struct_ops::unused(spec, p),
                self.core_log,
            )?),
            _ => None,
        };
        let mut programs = Vec::with_capacity(spec.programs.len());
        let mut core = Vec::new();
        for (index, p) in spec.programs.iter().enumerate() {
            if !self.autoloads(p) || struct_ops::unused(spec, p) {
                programs.push((p.name.clone(), None));
                continue;
            }
            let mut fixups = Vec::new();
            let loaded = (|| {
                let mut linked = programs::relocate(spec, p, &created, &ksyms.values)?;
                core_plan::relocate_linked(spec, index, &mut linked, plan.as_ref(), &mut fixups)?;
                let params = programs::load_params(p, self.programs.get(&p.name), &kernel)?;
                let params = struct_ops::adjust_params(spec, p, params, &kernel)?;
                programs::load_program(
                    p,
                    &linked,
                    &params,
                    btf_fd.as_ref().map(AsFd::as_fd),
                    self.log_level,
                    ksyms.fd_array(),
                )
                .map_err(|e| programs::explain_typed_ksym(e, spec, &linked, &ksyms.values))
                .map_err(|e| programs::explain_poisoned(e, &fixups))
            })()
            .map_err(|e| {
                e.in_program(&p.name, &p.section)
                    .with_core(std::mem::take(&mut fixups))
            })?;
            core.push((p.name.clone(), fixups));
            programs.push((p.name.clone(), Some(loaded)));
        }
        let struct_ops =
            struct_ops::create_maps(spec, &programs, btf_fd.as_ref().map(AsFd::as_fd), &kernel)?;
        // Stage 6: initial slots.
        let maps: Vec<_> = created.into_iter().map(Some).collect();
        maps::fill_slots(spec, &maps, &programs)?;
        Ok(Object {
            name: spec.name.clone(),
            mmaps: object::mmap_slots(maps.len()),
            maps: specs.into_iter().zip(maps).collect(),
            programs,
            core,
            pinned: pins.keep(),
            struct_ops,
        })
    }
}

#[cfg(test)]
mod tests;
