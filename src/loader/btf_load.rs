//! Stage 2: the object's BTF loaded into the kernel (`BPF_BTF_LOAD`, through
//! [`BtfHandle`]). `obj` has already prepared it as libbpf does (DATASEC sizes and offsets,
//! extern linkage, `.ksyms`); here it is sanitized for kinds the running kernel lacks, which
//! are read once from the kinds the kernel's own BTF uses.

use std::sync::OnceLock;

use crate::btf::{self, Btf, BtfHandle, KernelBtfFeatures, Kind};

use super::LoadError;

/// The BTF features of the running kernel, read once from the kinds its own BTF uses
/// (a 6.x kernel shows them all), plus the kernel version for the ones its BTF cannot show.
pub(crate) fn kernel_features(kernel: &Btf<'_>) -> KernelBtfFeatures {
    static CACHE: OnceLock<KernelBtfFeatures> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let mut seen = [false; 20];
        for t in kernel.types() {
            seen[(t.kind() as usize).min(19)] = true;
        }
        let version = super::kconfig::running_kernel_version().unwrap_or(0);
        KernelBtfFeatures {
            func: seen[Kind::Func as usize],
            func_global: seen[Kind::Func as usize] && version >= (5 << 16 | 6 << 8),
            datasec: seen[Kind::Datasec as usize],
            qmark_datasec: version >= (6 << 16 | 5 << 8),
            float: seen[Kind::Float as usize] || version >= (5 << 16 | 13 << 8),
            decl_tag: seen[Kind::DeclTag as usize] || version >= (5 << 16 | 16 << 8),
            type_tag: seen[Kind::TypeTag as usize] || version >= (5 << 16 | 17 << 8),
            enum64: seen[Kind::Enum64 as usize] || version >= (6 << 16),
        }
    })
}

/// Stage 2: sanitizes the object's BTF (already prepared for the kernel by `obj`) for the
/// running kernel's features and loads it. `None` when the object has no BTF.
pub(crate) fn load_object_btf(
    obj: Option<&Btf<'_>>,
    features: KernelBtfFeatures,
) -> Result<Option<BtfHandle>, LoadError> {
    let Some(obj) = obj else { return Ok(None) };
    let sanitized;
    let bytes = if features.needs_sanitize() {
        sanitized =
            btf::sanitize(obj, features).map_err(|e| LoadError::btf("sanitizing object BTF", e))?;
        &sanitized[..]
    } else {
        obj.raw_bytes()
    };
    BtfHandle::load(bytes).map(Some).map_err(LoadError::BtfLoad)
}
