//! The running kernel's BTF: vmlinux and module BTF from `/sys/kernel/btf`, mmapped.
//!
//! The sysfs files are immutable for the life of the kernel (module BTF for the life of the
//! module), so they are mapped read-only ([`crate::sys::mmap::map_sysfs_file`], which checks
//! that a file is one of them: the mapping itself lives in `sys`); their pages are the kernel's own
//! memory and do not count towards this process's RSS. Files the kernel cannot mmap (only
//! recent kernels map vmlinux BTF) are read instead.

use super::{Btf, BtfError};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where the kernel exposes its BTF.
pub const SYSFS_BTF: &str = "/sys/kernel/btf";

static VMLINUX: Mutex<Option<Arc<Btf<'static>>>> = Mutex::new(None);

fn open_sysfs(path: &Path, base: Option<Arc<Btf<'static>>>) -> Result<Btf<'static>, BtfError> {
    match crate::sys::mmap::map_sysfs_file(path) {
        Ok(map) => Btf::parse_mapped(map, base),
        // Older kernels cannot mmap the sysfs files: read them instead. A missing file fails
        // here with the read's error.
        Err(_) => {
            let bytes = std::fs::read(path).map_err(|e| BtfError::io(path, &e))?;
            match base {
                Some(b) => Btf::parse_split_owned(bytes, b),
                None => Btf::parse_owned(bytes),
            }
        }
    }
}

impl Btf<'static> {
    /// The running kernel's BTF (`/sys/kernel/btf/vmlinux`), mmapped once per process and
    /// shared.
    ///
    /// # Errors
    /// [`BtfError::Io`] if the kernel has no BTF (`CONFIG_DEBUG_INFO_BTF=n`), or a parse error.
    pub fn from_kernel() -> Result<Arc<Btf<'static>>, BtfError> {
        let mut cached = VMLINUX.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = cached.as_ref() {
            return Ok(Arc::clone(b));
        }
        let b = Arc::new(Btf::from_kernel_uncached()?);
        *cached = Some(Arc::clone(&b));
        Ok(b)
    }

    /// The running kernel's BTF, mapped and parsed anew (not cached).
    ///
    /// # Errors
    /// As [`Btf::from_kernel`].
    pub fn from_kernel_uncached() -> Result<Btf<'static>, BtfError> {
        open_sysfs(&Path::new(SYSFS_BTF).join("vmlinux"), None)
    }

    /// The BTF of kernel module `module` (`/sys/kernel/btf/<module>`), split over the cached
    /// vmlinux BTF.
    ///
    /// # Errors
    /// [`BtfError::Io`] if the module is not loaded or has no BTF; parse errors.
    pub fn from_kernel_module(module: &str) -> Result<Btf<'static>, BtfError> {
        if module.is_empty() || module.contains('/') || module == "vmlinux" {
            return Err(BtfError::Io {
                path: format!("{SYSFS_BTF}/{module}"),
                error: "not a module name".into(),
                errno: Some(libc::EINVAL),
            });
        }
        open_sysfs(
            &Path::new(SYSFS_BTF).join(module),
            Some(Btf::from_kernel()?),
        )
    }

    /// Reads and parses a BTF file, owning the bytes, as libbpf's `btf__parse` does: raw BTF
    /// (a saved vmlinux BTF, `bpftool btf dump file … format raw`) or an ELF object whose
    /// `.BTF` section is taken (a `clang -g -target bpf` object, a vmlinux image). The result
    /// can be given to [`Loader::target_btf`](crate::loader::Loader::target_btf) as is.
    ///
    /// # Errors
    /// [`BtfError::Io`]; [`BtfError::Elf`] for an ELF without `.BTF`; parse errors.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Btf<'static>, BtfError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| BtfError::io(path, &e))?;
        Btf::from_bytes(bytes)
    }
}

/// The names of the kernel modules that have BTF (`/sys/kernel/btf/*` except `vmlinux`).
///
/// # Errors
/// [`BtfError::Io`] if `/sys/kernel/btf` cannot be read.
pub fn kernel_modules_with_btf() -> Result<Vec<String>, BtfError> {
    let dir = PathBuf::from(SYSFS_BTF);
    let rd = std::fs::read_dir(&dir).map_err(|e| BtfError::io(&dir, &e))?;
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "vmlinux")
        .collect();
    names.sort();
    Ok(names)
}
