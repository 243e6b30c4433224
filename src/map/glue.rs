//! Small helpers the handle layers share: capability checks for `EPERM`, bpffs paths.

use std::ffi::CString;
use std::path::Path;

use crate::error::{Error, Result};

/// Bit numbers of the capabilities the handle layers ask about (`linux/capability.h`).
const CAPS: [(&str, u32); 4] = [
    ("CAP_NET_ADMIN", 12),
    ("CAP_SYS_ADMIN", 21),
    ("CAP_PERFMON", 38),
    ("CAP_BPF", 39),
];

/// The effective capability set of this thread (`CapEff` of `/proc/thread-self/status`), or
/// `None` if it cannot be read.
fn effective_caps() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status")
        .or_else(|_| std::fs::read_to_string("/proc/self/status"))
        .ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

/// The first capability of `needed` that the process lacks, if it can tell. `CAP_BPF` and
/// `CAP_PERFMON` also count as present with `CAP_SYS_ADMIN` (the kernel accepts either).
pub(crate) fn capability_missing(needed: &[&'static str]) -> Option<&'static str> {
    let eff = effective_caps()?;
    let has = |name: &str| {
        CAPS.iter()
            .any(|(n, bit)| *n == name && eff & (1u64 << bit) != 0)
    };
    needed.iter().copied().find(|cap| {
        let substitutable = *cap == "CAP_BPF" || *cap == "CAP_PERFMON";
        !(has(cap) || (substitutable && has("CAP_SYS_ADMIN")))
    })
}

/// The number of possible CPUs.
pub(crate) fn possible_cpus() -> Result<usize> {
    crate::sys::cpus::possible_cpus().map_err(|e| Error::io("/sys/devices/system/cpu/possible", e))
}

/// A path as the C string `OBJ_PIN`/`OBJ_GET` take.
pub(crate) fn path_cstring(path: &Path) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::InvalidArgument(format!("path {} contains a NUL byte", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_parse() {
        // Whatever the process has, the answer is consistent with CapEff.
        if let Some(eff) = effective_caps() {
            let bpf = eff & (1 << 39) != 0 || eff & (1 << 21) != 0;
            assert_eq!(capability_missing(&["CAP_BPF"]).is_none(), bpf);
        }
        assert!(path_cstring(Path::new("/sys/fs/bpf/x")).is_ok());
    }
}
