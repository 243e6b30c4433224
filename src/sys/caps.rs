//! Effective capabilities of the calling thread: read with `capget(2)`, so errors can say which
//! capability an `EPERM` lacks, and lowered with `capset(2)` (to test without them).

/// `CAP_NET_ADMIN`: XDP, tc, netns and netfilter attachments.
pub const CAP_NET_ADMIN: u32 = 12;
/// `CAP_SYS_ADMIN`: everything before `CAP_BPF`, and some commands still.
pub const CAP_SYS_ADMIN: u32 = 21;
/// `CAP_PERFMON`: tracing programs, pointer reads.
pub const CAP_PERFMON: u32 = 38;
/// `CAP_BPF`: loading programs and creating maps.
pub const CAP_BPF: u32 = 39;

/// The name of a capability number this module knows (`"CAP_BPF"`), else `None`.
pub fn cap_name(cap: u32) -> Option<&'static str> {
    Some(match cap {
        CAP_NET_ADMIN => "CAP_NET_ADMIN",
        CAP_SYS_ADMIN => "CAP_SYS_ADMIN",
        CAP_PERFMON => "CAP_PERFMON",
        CAP_BPF => "CAP_BPF",
        _ => return None,
    })
}

/// A set of capabilities as a 64-bit mask (bit `n` = capability `n`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapSet(pub u64);

impl CapSet {
    /// Whether capability `cap` is in the set.
    pub fn has(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1u64 << cap) != 0
    }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

/// `capget(2)` of the calling thread: the header (to pass back to `capset`) and the two
/// 32-bit halves of each set.
fn capget() -> Result<(CapHeader, [CapData; 2]), super::Errno> {
    let mut hdr = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // capget with a version-3 header writes exactly two `CapData` entries.
    // SAFETY: `data` is those two entries; both pointers are valid and exclusive for the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_capget,
            &mut hdr as *mut CapHeader,
            data.as_mut_ptr(),
        )
    };
    if r < 0 {
        return Err(super::Errno::last());
    }
    Ok((hdr, data))
}

/// The effective capability set of the calling thread.
pub fn effective_capabilities() -> Result<CapSet, super::Errno> {
    let (_, data) = capget()?;
    Ok(CapSet(
        u64::from(data[0].effective) | (u64::from(data[1].effective) << 32),
    ))
}

/// Clears `caps` from the calling thread's effective set (`capset(2)`; capabilities are per
/// thread, so other threads keep theirs). They stay permitted, so a later `capset` can raise
/// them again. `EINVAL` for a capability number of 64 or more.
pub fn drop_effective_capabilities(caps: &[u32]) -> Result<(), super::Errno> {
    let (mut hdr, mut data) = capget()?;
    for &c in caps {
        let half = data
            .get_mut((c / 32) as usize)
            .ok_or(super::Errno::EINVAL)?;
        half.effective &= !(1 << (c % 32));
    }
    // capset with a version-3 header reads exactly two `CapData` entries.
    // SAFETY: `data` is those two entries; both pointers are valid for the call.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if r < 0 {
        return Err(super::Errno::last());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capget_works() {
        let caps = effective_capabilities().unwrap();
        if nix::unistd::geteuid().is_root() {
            assert!(caps.has(CAP_SYS_ADMIN));
        }
        assert!(!CapSet(0).has(CAP_BPF));
        assert!(CapSet(1 << 39).has(CAP_BPF));
        assert_eq!(cap_name(38), Some("CAP_PERFMON"));
    }

    #[test]
    fn drop_effective_in_a_thread() {
        let before = effective_capabilities().unwrap();
        assert_eq!(
            drop_effective_capabilities(&[64]),
            Err(crate::sys::Errno::EINVAL)
        );
        std::thread::spawn(move || {
            drop_effective_capabilities(&[CAP_BPF, CAP_PERFMON]).unwrap();
            let after = effective_capabilities().unwrap();
            assert!(!after.has(CAP_BPF) && !after.has(CAP_PERFMON));
            let kept = !((1u64 << CAP_BPF) | (1u64 << CAP_PERFMON));
            assert_eq!(after.0, before.0 & kept);
        })
        .join()
        .unwrap();
        // This thread keeps its set.
        assert_eq!(effective_capabilities().unwrap(), before);
    }
}
