//! Small helpers the handle layers share: capability checks for `EPERM`, the errors of the
//! pin, by-id and info commands, bpffs paths.

use std::ffi::CString;
use std::path::Path;

use crate::error::{Error, Result};
use crate::sys::{Errno, caps};

/// The capabilities the handle layers ask about, by name.
const CAPS: [(&str, u32); 4] = [
    ("CAP_NET_ADMIN", caps::CAP_NET_ADMIN),
    ("CAP_SYS_ADMIN", caps::CAP_SYS_ADMIN),
    ("CAP_PERFMON", caps::CAP_PERFMON),
    ("CAP_BPF", caps::CAP_BPF),
];

/// The first capability of `needed` that the calling thread lacks, if it can tell. `CAP_BPF`,
/// `CAP_PERFMON` and `CAP_NET_ADMIN` also count as present with `CAP_SYS_ADMIN` (the kernel
/// accepts either).
pub(crate) fn capability_missing(needed: &[&'static str]) -> Option<&'static str> {
    let eff = caps::effective_capabilities().ok()?;
    let has = |name: &str| CAPS.iter().any(|(n, bit)| *n == name && eff.has(*bit));
    needed.iter().copied().find(|cap| {
        let substitutable = *cap != "CAP_SYS_ADMIN";
        !(has(cap) || (substitutable && has("CAP_SYS_ADMIN")))
    })
}

/// The error of `BPF_OBJ_GET_INFO_BY_FD`; `not_this_kind` is the hint for `EINVAL` (the fd is
/// another kind of object).
pub(crate) fn info_error(e: Errno, not_this_kind: &'static str) -> Error {
    Error::Syscall {
        call: "BPF_OBJ_GET_INFO_BY_FD",
        errno: e,
        context: None,
        hint: (e == Errno::EINVAL).then_some(not_this_kind),
    }
}

/// The error of `OBJ_PIN`/`OBJ_GET`, with the path and a hint for the common causes.
pub(crate) fn pin_error(call: &'static str, path: &Path, errno: Errno) -> Error {
    let pinning = call == "BPF_OBJ_PIN";
    // Where the pin would go: on bpffs or not (mountinfo tells; unknown counts as bpffs).
    let on_bpffs = || {
        let dir = path.parent().unwrap_or(path);
        crate::sys::mount::mount_of(dir)
            .ok()
            .flatten()
            .is_none_or(|m| m.fstype == "bpf")
    };
    let hint = match errno {
        e if e == Errno::EEXIST => Some("something is already pinned at that path"),
        e if (e == Errno::EPERM || e == Errno::EINVAL || e == Errno::ENOENT) && !on_bpffs() => {
            Some(
                "no bpffs is mounted there: pins live inside a bpffs mount (mount -t bpf bpf /sys/fs/bpf, or pin under an existing one)",
            )
        }
        e if e == Errno::EPERM || e == Errno::EINVAL => {
            Some("the path must be inside a bpffs mount (mount -t bpf bpf /sys/fs/bpf)")
        }
        e if e == Errno::ENOENT && pinning => {
            Some("the directory to pin in does not exist (bpffs has mkdir: create it first)")
        }
        e if e == Errno::ENOENT => Some("nothing is pinned at that path"),
        _ => None,
    };
    Error::Syscall {
        call,
        errno,
        context: Some(format!("path {}", path.display())),
        hint,
    }
}

/// The error of `*_GET_FD_BY_ID`.
pub(crate) fn by_id_error(call: &'static str, id: u32, errno: Errno) -> Error {
    let hint = (errno == Errno::ENOENT).then_some("no object has that id (any more)");
    sys_admin_error(call, errno, Some(format!("id {id}")), hint)
}

/// The error of a command that needs `CAP_SYS_ADMIN` (by-id opens, id walks): an `EPERM`
/// without it says so; anything else is a plain syscall error with `hint`.
pub(crate) fn sys_admin_error(
    call: &'static str,
    errno: Errno,
    context: Option<String>,
    hint: Option<&'static str>,
) -> Error {
    if errno == Errno::EPERM {
        if let Some(capability) = capability_missing(&["CAP_SYS_ADMIN"]) {
            return Error::MissingCapability {
                call,
                capability,
                context,
            };
        }
    }
    Error::Syscall {
        call,
        errno,
        context,
        hint,
    }
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
    fn caps_and_paths() {
        // Whatever the process has, the answer is consistent with the effective set.
        if let Ok(eff) = caps::effective_capabilities() {
            let bpf = eff.has(caps::CAP_BPF) || eff.has(caps::CAP_SYS_ADMIN);
            assert_eq!(capability_missing(&["CAP_BPF"]).is_none(), bpf);
        }
        assert!(path_cstring(Path::new("/sys/fs/bpf/x")).is_ok());
    }
}
