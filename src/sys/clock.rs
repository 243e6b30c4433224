//! `clock_gettime(2)` of the clocks BPF timestamps use.

use super::Errno;

/// `clock_gettime(clock)` as (seconds, nanoseconds).
fn get(clock: libc::clockid_t) -> Result<(i64, i64), Errno> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into `ts`, which is valid for writes.
    let r = unsafe { libc::clock_gettime(clock, &mut ts) };
    if r != 0 {
        return Err(Errno::last());
    }
    Ok((ts.tv_sec, ts.tv_nsec))
}

/// `CLOCK_REALTIME` (wall clock) and `CLOCK_BOOTTIME` (the clock of program `load_time`s and
/// `bpf_ktime_get_boot_ns`), read one after the other: (real s, real ns, boot s, boot ns).
///
/// # Errors
/// The errno of `clock_gettime` (never expected on Linux).
pub fn realtime_and_boottime() -> Result<(i64, i64, i64, i64), Errno> {
    let (rs, rn) = get(libc::CLOCK_REALTIME)?;
    let (bs, bn) = get(libc::CLOCK_BOOTTIME)?;
    Ok((rs, rn, bs, bn))
}
