//! Stage 4: maps. Every map of the object is created (or, pinned by name, reused when
//! compatible); global data is filled and `.rodata`/`.kconfig` frozen before any program
//! loads. Initial slots of prog arrays and maps of maps are filled after the programs load
//! ([`fill_slots`]).

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use crate::btf::{Btf, Kind};
use crate::error::Error;
use crate::map::{Map, MapFlags, MapOptions, MapType, UpdateFlags};
use crate::obj::{InitSlot, MapKind, MapSpec, ObjectSpec, Pinning};
use crate::prog::Program;
use crate::sys::Errno;

use super::{LoadError, MapOverride};

/// Pins this load created; removed on drop unless [`PinGuard::keep`] was called, so a failed
/// load leaves nothing behind.
#[derive(Debug, Default)]
pub(crate) struct PinGuard {
    pub paths: Vec<PathBuf>,
    /// Directories this load created for the pin root, outermost first: removed (when empty)
    /// on failure.
    pub dirs: Vec<PathBuf>,
    keep: bool,
}

impl PinGuard {
    /// The load succeeded: the pins stay.
    pub(crate) fn keep(mut self) -> Vec<PathBuf> {
        self.keep = true;
        std::mem::take(&mut self.paths)
    }
}

impl Drop for PinGuard {
    fn drop(&mut self) {
        if !self.keep {
            for p in &self.paths {
                let _ = std::fs::remove_file(p);
            }
            for d in self.dirs.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}

/// The definition of `m` with the user's overrides applied. A new value size of a global
/// data map must still hold its variables; its initial data is cut to a smaller size, and
/// zero-extended to a larger one only when the map is filled, after `BPF_MAP_CREATE`
/// accepted the size (libbpf's `bpf_map__set_value_size` on a data map), so that a huge size
/// the kernel refuses allocates nothing here.
///
/// # Errors
/// [`LoadError::Map`] when the new value size of a data map is 0 or cuts a variable.
pub(crate) fn effective_spec(m: &MapSpec, ov: Option<&MapOverride>) -> Result<MapSpec, LoadError> {
    let mut m = m.clone();
    if let Some(ov) = ov {
        if let Some(n) = ov.max_entries {
            m.max_entries = n;
        }
        if let Some(n) = ov.value_size {
            if matches!(m.kind, MapKind::Data { .. } | MapKind::Kconfig) && n != m.value_size {
                resize_data(&mut m, n)?;
            }
            m.value_size = n;
        }
        if let Some(f) = ov.flags {
            m.flags = f;
        }
    }
    if m.map_type == MapType::PERF_EVENT_ARRAY.raw() && m.max_entries == 0 {
        // libbpf sizes perf event arrays to the number of possible CPUs.
        m.max_entries = crate::map::possible_cpus().map_or(1, |n| n as u32);
    }
    Ok(m)
}

fn invalid(m: &MapSpec, what: String) -> LoadError {
    LoadError::Map {
        map: m.name.clone(),
        source: Error::InvalidArgument(what),
    }
}

/// A global data map's value resized to `n` bytes: no variable may be cut; initial data past
/// `n` (after the last variable) is dropped.
fn resize_data(m: &mut MapSpec, n: u32) -> Result<(), LoadError> {
    if n == 0 {
        return Err(invalid(
            m,
            "a global data map cannot have value size 0".into(),
        ));
    }
    if let Some(v) = m
        .variables
        .iter()
        .max_by_key(|v| u64::from(v.offset) + u64::from(v.size))
    {
        let need = u64::from(v.offset) + u64::from(v.size);
        if u64::from(n) < need {
            return Err(invalid(
                m,
                format!(
                    "value size {n} would cut variable `{}` (bytes {}..{need}); the section needs at least {need}",
                    v.name, v.offset
                ),
            ));
        }
    }
    if let Some(data) = &mut m.data {
        data.truncate(n as usize);
    }
    Ok(())
}

/// What `BPF_MAP_CREATE` would be given, checked before it runs (so that nothing is created,
/// nor allocated by the kernel, for a definition a later step refuses): a global data map's
/// initial value is at most one value (the rest is zeros).
///
/// # Errors
/// [`LoadError::Map`] naming the map and the mismatch.
pub(crate) fn check_before_create(m: &MapSpec) -> Result<(), LoadError> {
    if let (MapKind::Data { .. } | MapKind::Kconfig, Some(data)) = (&m.kind, &m.data) {
        if data.len() as u64 > u64::from(m.value_size) {
            return Err(invalid(
                m,
                format!(
                    "initial data of {} bytes for a value size of {}",
                    data.len(),
                    m.value_size
                ),
            ));
        }
    }
    Ok(())
}

/// The shape the kernel accepts for a map whose definition carries types it refuses, as aya
/// does (and libbpf for the BTF ids):
///
/// - ring buffers (`RINGBUF`, `USER_RINGBUF`) have key and value size 0: a `__type(key, …)` or
///   `__type(value, …)` only documents the records, so the sizes become 0;
/// - a perf event array holds 4-byte perf event fds under 4-byte keys: types given for them
///   (often the event struct) become sizes 4 and 4;
/// - these map types, and the others libbpf creates without BTF key/value ids (fd arrays,
///   maps of maps, queues, stacks, stack traces, arenas…), get no BTF key/value ids;
/// - a struct_ops map's value is the kernel's `struct bpf_struct_ops_<name>` for the
///   `__type(value, struct <name>)` of the definition: its size and vmlinux BTF id
///   (returned; 0 for other maps) replace the object's type, and the key is 4 bytes.
pub(crate) fn kernel_shape(
    m: &mut MapSpec,
    obj_btf: Option<&Btf<'_>>,
    kernel: &Btf<'_>,
) -> Result<u32, LoadError> {
    if let Some(inner) = m.inner.as_deref_mut() {
        kernel_shape(inner, obj_btf, kernel)?;
    }
    let t = MapType(m.map_type);
    let typed = m.key_type_id.is_some() || m.value_type_id.is_some();
    let mut vmlinux_value = 0;
    if t == MapType::RINGBUF || t == MapType::USER_RINGBUF {
        if m.key_type_id.is_some() {
            m.key_size = 0;
        }
        if m.value_type_id.is_some() {
            m.value_size = 0;
        }
    } else if t == MapType::PERF_EVENT_ARRAY {
        if m.key_type_id.is_some() {
            m.key_size = 4;
        }
        if m.value_type_id.is_some() {
            m.value_size = 4;
        }
    } else if t == MapType::STRUCT_OPS && typed {
        let unsupported = |what: String| LoadError::Unsupported {
            feature: format!("struct_ops map `{}`", m.name),
            hint: what,
        };
        let name = m
            .value_type_id
            .and_then(|id| obj_btf?.skip_mods_and_typedefs(id).ok())
            .and_then(|t| t.name().ok().filter(|n| !n.is_empty()).map(str::to_owned))
            .ok_or_else(|| {
                unsupported(
                    "its definition names no struct for its value: use __type(value, struct <kernel struct_ops type>)".into(),
                )
            })?;
        let wrapper = format!("bpf_struct_ops_{name}");
        let (id, size) = kernel
            .find_by_name_kind(&wrapper, Kind::Struct)
            .and_then(|t| Some((t.id(), t.as_composite()?.byte_size())))
            .ok_or_else(|| {
                unsupported(format!(
                    "the kernel has no struct_ops type `{name}` (no `struct {wrapper}` in its BTF)"
                ))
            })?;
        m.key_size = 4;
        m.value_size = size;
        vmlinux_value = id;
    }
    if no_btf_types(t) {
        m.key_type_id = None;
        m.value_type_id = None;
    }
    Ok(vmlinux_value)
}

/// Map types created without BTF key/value ids (libbpf's list, with ring buffers: their key
/// and value are empty).
fn no_btf_types(t: MapType) -> bool {
    [
        MapType::PERF_EVENT_ARRAY,
        MapType::CGROUP_ARRAY,
        MapType::STACK_TRACE,
        MapType::ARRAY_OF_MAPS,
        MapType::HASH_OF_MAPS,
        MapType::DEVMAP,
        MapType::DEVMAP_HASH,
        MapType::CPUMAP,
        MapType::XSKMAP,
        MapType::SOCKMAP,
        MapType::SOCKHASH,
        MapType::QUEUE,
        MapType::STACK,
        MapType::ARENA,
        MapType::RINGBUF,
        MapType::USER_RINGBUF,
        MapType::STRUCT_OPS,
    ]
    .contains(&t)
}

fn options<'a>(
    m: &MapSpec,
    btf: Option<BorrowedFd<'a>>,
    inner: Option<BorrowedFd<'a>>,
) -> MapOptions<'a> {
    let mut o = MapOptions::new(MapType(m.map_type), m.key_size, m.value_size, m.max_entries)
        .name(&m.name)
        .flags(MapFlags::from_bits_retain(
            m.flags & !MapFlags::NUMA_NODE.bits(),
        ))
        .map_extra(m.map_extra);
    if m.flags & MapFlags::NUMA_NODE.bits() != 0 {
        o = o.numa_node(m.numa_node);
    }
    if let Some(fd) = inner {
        o = o.inner_map(fd);
    }
    if let Some(b) = btf {
        if m.key_type_id.is_some() || m.value_type_id.is_some() {
            o = o.btf(b, m.key_type_id.unwrap_or(0), m.value_type_id.unwrap_or(0));
        }
    }
    o
}

/// `BPF_MAP_CREATE` with the map's BTF types, retried without them if the kernel refuses the
/// types (as libbpf does: some map types take no BTF key/value).
fn create(
    m: &MapSpec,
    btf: Option<BorrowedFd<'_>>,
    inner: Option<BorrowedFd<'_>>,
    vmlinux_value: u32,
) -> Result<Map, Error> {
    if vmlinux_value != 0 {
        // A struct_ops map names the kernel's value type, and the kernel wants the object's
        // BTF fd with it (but no key/value ids), as libbpf passes it.
        let mut o = options(m, None, inner).btf_vmlinux_value_type_id(vmlinux_value);
        if let Some(b) = btf {
            o = o.btf(b, 0, 0);
        }
        return Map::create(&o);
    }
    let with_btf = btf.is_some() && (m.key_type_id.is_some() || m.value_type_id.is_some());
    match Map::create(&options(m, btf, inner)) {
        Err(e) if with_btf && e.errno() != Some(Errno::EPERM) => {
            Map::create(&options(m, None, inner)).map_err(|_| e)
        }
        r => r,
    }
}

/// Whether the pinned map matches the definition; `Err(what)` names the first difference.
fn check_compatible(pinned: &Map, m: &MapSpec) -> Result<(), String> {
    let info = pinned.info().map_err(|e| e.to_string())?;
    let diff = |what: &str, have: u64, want: u64| {
        Err(format!("{what} is {have} there, the object wants {want}"))
    };
    if info.map_type.raw() != m.map_type {
        return diff("map type", info.map_type.raw().into(), m.map_type.into());
    }
    if info.key_size != m.key_size {
        return diff("key size", info.key_size.into(), m.key_size.into());
    }
    if info.value_size != m.value_size {
        return diff("value size", info.value_size.into(), m.value_size.into());
    }
    if info.max_entries != m.max_entries {
        return diff("max_entries", info.max_entries.into(), m.max_entries.into());
    }
    if info.flags.bits() != m.flags {
        return diff("map flags", info.flags.bits().into(), m.flags.into());
    }
    if info.map_extra != m.map_extra {
        return diff("map_extra", info.map_extra, m.map_extra);
    }
    Ok(())
}

/// Opens the map pinned by name, if one is there.
fn open_pinned(path: &Path, m: &MapSpec) -> Result<Option<Map>, LoadError> {
    if !path.exists() {
        return Ok(None);
    }
    let pinned = Map::from_pin(path).map_err(|e| LoadError::map(&m.name, e))?;
    check_compatible(&pinned, m).map_err(|what| LoadError::PinIncompatible {
        map: m.name.clone(),
        path: path.to_owned(),
        what,
    })?;
    Ok(Some(pinned))
}

/// Stage 4: creates (or reuses) every map of `spec`, in order. `specs` are the effective
/// definitions (overrides, `set_global` values and `.kconfig` data applied).
pub(crate) fn create_maps(
    specs: &[MapSpec],
    vmlinux_values: &[u32],
    btf: Option<BorrowedFd<'_>>,
    pin_root: &Path,
    pins: &mut PinGuard,
) -> Result<Vec<Map>, LoadError> {
    for m in specs {
        check_before_create(m)?;
    }
    if specs.iter().any(|m| m.pinning == Pinning::ByName) {
        prepare_pin_root(pin_root, pins)?;
    }
    let mut out = Vec::with_capacity(specs.len());
    for (i, m) in specs.iter().enumerate() {
        let path = pin_root.join(&m.name);
        if m.pinning == Pinning::ByName {
            if let Some(pinned) = open_pinned(&path, m)? {
                out.push(pinned);
                continue;
            }
        }
        let inner = match &m.inner {
            Some(inner) => {
                Some(create(inner, btf, None, 0).map_err(|e| LoadError::map(&inner.name, e))?)
            }
            None => None,
        };
        let vmlinux_value = vmlinux_values.get(i).copied().unwrap_or(0);
        let map = create(m, btf, inner.as_ref().map(|i| i.as_fd()), vmlinux_value)
            .map_err(|e| LoadError::map(&m.name, e))?;
        drop(inner);
        if let Some(data) = &m.data {
            if matches!(m.kind, MapKind::Data { .. } | MapKind::Kconfig) && !data.is_empty() {
                // The kernel accepted the size: only now are the zeros past the data made.
                let padded;
                let value = if data.len() < m.value_size as usize {
                    let mut v = data.clone();
                    v.resize(m.value_size as usize, 0);
                    padded = v;
                    &padded
                } else {
                    data
                };
                map.update(&0u32.to_ne_bytes(), value, UpdateFlags::empty())
                    .map_err(|e| LoadError::map(&m.name, e))?;
            }
        }
        if m.freeze {
            // Before any program loads: the verifier treats frozen read-only data as constants.
            map.freeze().map_err(|e| LoadError::map(&m.name, e))?;
        }
        if m.pinning == Pinning::ByName {
            map.pin(&path).map_err(|e| LoadError::map(&m.name, e))?;
            pins.paths.push(path);
        }
        out.push(map);
    }
    Ok(out)
}

/// Makes the pin root usable before any map is reused or pinned: it must lie inside a
/// bpffs mount — under the default root `/sys/fs/bpf` one is mounted there when missing, as
/// [`bpffs_root`](crate::sys::mount::bpffs_root) does — and its missing directories are
/// created (and recorded in `pins`, so that a failed load removes them).
fn prepare_pin_root(root: &Path, pins: &mut PinGuard) -> Result<(), LoadError> {
    use crate::sys::mount;
    let err = |what: String| LoadError::PinRoot {
        path: root.to_owned(),
        what,
    };
    // Without a readable mountinfo (no /proc), the pin itself will tell.
    let mounts = mount::mounts().unwrap_or_default();
    let on = mount::containing_mount(&mounts, root);
    if !mounts.is_empty() && on.is_none_or(|m| m.fstype != "bpf") {
        let (fs, at) = on.map_or(("no filesystem".to_owned(), PathBuf::from("/")), |m| {
            (m.fstype.clone(), m.mount_point.clone())
        });
        let default = Path::new(super::DEFAULT_PIN_ROOT);
        if root.starts_with(default) {
            mount::mount_bpffs(default).map_err(|e| {
                err(format!(
                    "bpffs is not mounted at {} (it is {fs} at {}), and mounting it failed: {e}; mount it (mount -t bpf bpf {}) or set another pin root",
                    default.display(),
                    at.display(),
                    default.display()
                ))
            })?;
        } else {
            return Err(err(format!(
                "not inside a bpffs mount (it is on {fs} mounted at {}): maps pinned by name need one; mount it (mount -t bpf bpf <dir>) or choose a pin root under a bpffs such as {}",
                at.display(),
                super::DEFAULT_PIN_ROOT
            )));
        }
    }
    let mut missing = Vec::new();
    let mut p = root;
    while !p.exists() {
        missing.push(p.to_owned());
        match p.parent() {
            Some(parent) => p = parent,
            None => break,
        }
    }
    for d in missing.into_iter().rev() {
        std::fs::create_dir(&d).map_err(|e| err(format!("cannot create {}: {e}", d.display())))?;
        pins.dirs.push(d);
    }
    Ok(())
}

/// Stage 6: initial slots of prog arrays (`.values = { [i] = &prog }`) and maps of maps
/// (`[i] = &inner`). Slots naming a program that was not loaded (autoload off) stay empty.
pub(crate) fn fill_slots(
    spec: &ObjectSpec,
    maps: &[Option<Map>],
    programs: &[(String, Option<Program>)],
) -> Result<(), LoadError> {
    // Programs by name, once: a prog array may have as many slots as the object programs.
    let mut by_name = std::collections::HashMap::with_capacity(programs.len());
    for (n, p) in programs.iter().rev() {
        by_name.insert(n.as_str(), p);
    }
    for (i, m) in spec.maps.iter().enumerate() {
        if m.init_slots.is_empty() {
            continue;
        }
        let Some(Some(map)) = maps.get(i) else {
            continue;
        };
        for (slot, what) in &m.init_slots {
            let fd = match what {
                InitSlot::Map(j) => maps
                    .get(*j)
                    .and_then(Option::as_ref)
                    .map(std::os::fd::AsRawFd::as_raw_fd),
                InitSlot::Program(name) => by_name
                    .get(name.as_str())
                    .and_then(|p| p.as_ref())
                    .map(std::os::fd::AsRawFd::as_raw_fd),
            };
            let Some(fd) = fd else { continue };
            map.update(
                &slot.to_ne_bytes(),
                &(fd as u32).to_ne_bytes(),
                UpdateFlags::empty(),
            )
            .map_err(|e| LoadError::map(&m.name, e))?;
        }
    }
    Ok(())
}
