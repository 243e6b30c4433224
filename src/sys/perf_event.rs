//! `perf_event_open(2)`, the perf-event ioctls, and the dynamic kprobe/uprobe PMUs.
//!
//! [`PerfEventAttr`] is `struct perf_event_attr` (136 bytes, `PERF_ATTR_SIZE_VER8`, as in
//! 6.18). For most event types it holds no pointers and [`perf_event_open`] takes it as is.
//! For the kprobe and uprobe PMUs `config1` is a pointer to a function name or a binary path,
//! so those events are built as a [`ProbeAttr`], which borrows the `&CStr` for as long as it
//! lives, and opened with [`perf_event_open_probe`].

use std::ffi::CStr;
use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::OnceLock;

use super::Errno;
use super::attr::layout;

/// `PERF_TYPE_HARDWARE`.
pub const PERF_TYPE_HARDWARE: u32 = 0;
/// `PERF_TYPE_SOFTWARE`.
pub const PERF_TYPE_SOFTWARE: u32 = 1;
/// `PERF_TYPE_TRACEPOINT` (`config` = tracepoint id).
pub const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `PERF_TYPE_HW_CACHE`.
pub const PERF_TYPE_HW_CACHE: u32 = 3;
/// `PERF_TYPE_RAW`.
pub const PERF_TYPE_RAW: u32 = 4;
/// `PERF_TYPE_BREAKPOINT`.
pub const PERF_TYPE_BREAKPOINT: u32 = 5;

/// `PERF_COUNT_SW_CPU_CLOCK`.
pub const PERF_COUNT_SW_CPU_CLOCK: u64 = 0;
/// `PERF_COUNT_SW_TASK_CLOCK`.
pub const PERF_COUNT_SW_TASK_CLOCK: u64 = 1;
/// `PERF_COUNT_SW_BPF_OUTPUT`: the event type of perf-event-array ring buffers.
pub const PERF_COUNT_SW_BPF_OUTPUT: u64 = 10;

/// `PERF_SAMPLE_RAW`: samples carry raw data (BPF output).
pub const PERF_SAMPLE_RAW: u64 = 1 << 10;

/// `PERF_FLAG_FD_CLOEXEC`, always added by [`perf_event_open`].
pub const PERF_FLAG_FD_CLOEXEC: u64 = 1 << 3;

/// Bits of [`PerfEventAttr::flags`] (the bitfield word at offset 40).
pub mod attr_flags {
    /// Start disabled.
    pub const DISABLED: u64 = 1 << 0;
    /// Children inherit the event.
    pub const INHERIT: u64 = 1 << 1;
    /// Don't count user space.
    pub const EXCLUDE_USER: u64 = 1 << 4;
    /// Don't count the kernel.
    pub const EXCLUDE_KERNEL: u64 = 1 << 5;
    /// Don't count the hypervisor.
    pub const EXCLUDE_HV: u64 = 1 << 6;
    /// `sample_period` is a frequency (`sample_freq`).
    pub const FREQ: u64 = 1 << 10;
    /// Enable on exec.
    pub const ENABLE_ON_EXEC: u64 = 1 << 12;
    /// `wakeup_events` is a byte watermark.
    pub const WATERMARK: u64 = 1 << 14;
    /// Sample ids on all records.
    pub const SAMPLE_ID_ALL: u64 = 1 << 18;
    /// `clockid` is valid.
    pub const USE_CLOCKID: u64 = 1 << 25;
    /// Write the ring buffer backwards.
    pub const WRITE_BACKWARD: u64 = 1 << 27;
}

/// `struct perf_event_attr` (`PERF_ATTR_SIZE_VER8`, 136 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerfEventAttr {
    /// Event type (`PERF_TYPE_*` or a dynamic PMU type).
    pub type_: u32,
    /// Size of this struct; [`perf_event_open`] sets it.
    pub size: u32,
    /// Type-specific config (tracepoint id, software counter, probe flags).
    pub config: u64,
    /// `sample_period`, or `sample_freq` with [`attr_flags::FREQ`].
    pub sample_period: u64,
    /// `PERF_SAMPLE_*` bits.
    pub sample_type: u64,
    /// `PERF_FORMAT_*` bits.
    pub read_format: u64,
    /// The bitfield word (`disabled`, `inherit`, … see [`attr_flags`]).
    pub flags: u64,
    /// `wakeup_events` (or `wakeup_watermark`).
    pub wakeup_events: u32,
    /// Breakpoint type.
    pub bp_type: u32,
    /// `config1`: breakpoint address, or (kprobe/uprobe PMUs) a pointer to a name; see
    /// [`ProbeAttr`].
    pub config1: u64,
    /// `config2`: breakpoint length, or probe offset/address.
    pub config2: u64,
    /// Branch sample type.
    pub branch_sample_type: u64,
    /// User registers to sample.
    pub sample_regs_user: u64,
    /// User stack bytes to sample.
    pub sample_stack_user: u32,
    /// Clock id (with [`attr_flags::USE_CLOCKID`]).
    pub clockid: i32,
    /// Interrupt registers to sample.
    pub sample_regs_intr: u64,
    /// AUX watermark.
    pub aux_watermark: u32,
    /// Maximum callchain depth.
    pub sample_max_stack: u16,
    /// Reserved.
    pub _reserved_2: u16,
    /// AUX sample size.
    pub aux_sample_size: u32,
    /// AUX action bits.
    pub aux_action: u32,
    /// Signal data (with `sigtrap`).
    pub sig_data: u64,
    /// `config3`.
    pub config3: u64,
}
layout!(PerfEventAttr, 136, config @ 8, sample_period @ 16, flags @ 40, wakeup_events @ 48,
    config1 @ 56, config2 @ 64, sample_stack_user @ 88, sample_regs_intr @ 96,
    sample_max_stack @ 108, aux_sample_size @ 112, sig_data @ 120, config3 @ 128);

fn open(
    attr: &PerfEventAttr,
    pid: i32,
    cpu: i32,
    group: Option<BorrowedFd<'_>>,
    flags: u64,
) -> Result<OwnedFd, Errno> {
    // The kernel writes its own size back into `size` on E2BIG: give it a private copy.
    let mut a = *attr;
    a.size = std::mem::size_of::<PerfEventAttr>() as u32;
    let group_fd = group.map_or(-1, |g| g.as_raw_fd());
    // SAFETY: `a` is a valid, exclusive perf_event_attr of `size` bytes. Callers guarantee
    // any pointer in config1 (probe PMUs) points to a live NUL-terminated string.
    let r = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &mut a as *mut PerfEventAttr,
            pid,
            cpu,
            group_fd,
            flags | PERF_FLAG_FD_CLOEXEC,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    // SAFETY: perf_event_open returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(r as i32) })
}

/// `perf_event_open(2)` for an event whose attr holds no pointers (software, hardware,
/// tracepoint, breakpoint, raw events …). Returns a close-on-exec fd.
///
/// `EINVAL` without a syscall if `attr.type_` is the kprobe or uprobe PMU, whose `config1`
/// is a pointer: use [`ProbeAttr`] and [`perf_event_open_probe`] for those.
pub fn perf_event_open(
    attr: &PerfEventAttr,
    pid: i32,
    cpu: i32,
    group: Option<BorrowedFd<'_>>,
    flags: u64,
) -> Result<OwnedFd, Errno> {
    let is_probe = |p: &str| pmu_type(p).is_ok_and(|t| t == attr.type_);
    if attr.type_ > PERF_TYPE_BREAKPOINT && (is_probe("kprobe") || is_probe("uprobe")) {
        return Err(Errno::EINVAL);
    }
    open(attr, pid, cpu, group, flags)
}

/// A kprobe or uprobe perf event: a [`PerfEventAttr`] for the dynamic PMU whose `config1`
/// points to a function name or binary path borrowed for `'a`.
#[derive(Clone, Copy, Debug)]
pub struct ProbeAttr<'a> {
    attr: PerfEventAttr,
    _name: PhantomData<&'a CStr>,
}

impl<'a> ProbeAttr<'a> {
    /// A kprobe (or kretprobe) on `func` + `offset`.
    pub fn kprobe(func: &'a CStr, offset: u64, retprobe: bool) -> io::Result<Self> {
        Self::build("kprobe", func.as_ptr() as u64, offset, retprobe, 0)
    }

    /// A kprobe (or kretprobe) on a kernel address.
    pub fn kprobe_addr(addr: u64, retprobe: bool) -> io::Result<ProbeAttr<'static>> {
        ProbeAttr::build("kprobe", 0, addr, retprobe, 0)
    }

    /// A uprobe (or uretprobe) on file offset `offset` of the binary `path`, with an
    /// optional reference-counter (USDT semaphore) offset (0: none).
    pub fn uprobe(
        path: &'a CStr,
        offset: u64,
        retprobe: bool,
        ref_ctr_offset: u32,
    ) -> io::Result<Self> {
        Self::build(
            "uprobe",
            path.as_ptr() as u64,
            offset,
            retprobe,
            ref_ctr_offset,
        )
    }

    fn build(
        pmu: &str,
        config1: u64,
        config2: u64,
        retprobe: bool,
        ref_ctr: u32,
    ) -> io::Result<Self> {
        let mut config = 0u64;
        if retprobe {
            config |= 1u64 << pmu_retprobe_bit(pmu)?;
        }
        if ref_ctr != 0 {
            config |= u64::from(ref_ctr) << 32;
        }
        let attr = PerfEventAttr {
            type_: pmu_type(pmu)?,
            config,
            config1,
            config2,
            sample_period: 1,
            wakeup_events: 1,
            ..Default::default()
        };
        Ok(ProbeAttr {
            attr,
            _name: PhantomData,
        })
    }

    /// The attr (read-only: `config1` must keep pointing at the borrowed name).
    pub fn attr(&self) -> &PerfEventAttr {
        &self.attr
    }
}

/// `perf_event_open(2)` for a kprobe/uprobe event. `pid` -1 and `cpu` 0.. for kprobes;
/// uprobes usually take a pid (or -1 with a cpu).
pub fn perf_event_open_probe(
    probe: &ProbeAttr<'_>,
    pid: i32,
    cpu: i32,
    group: Option<BorrowedFd<'_>>,
    flags: u64,
) -> Result<OwnedFd, Errno> {
    // `probe` borrows the name `config1` points to for its whole life.
    open(&probe.attr, pid, cpu, group, flags)
}

fn read_trim(path: &str) -> io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}

/// The dynamic PMU type of `pmu` (`"kprobe"`, `"uprobe"`), from
/// `/sys/bus/event_source/devices/<pmu>/type`, cached. `NotFound` when the kernel has no
/// such PMU (e.g. `CONFIG_KPROBES=n`).
pub fn pmu_type(pmu: &str) -> io::Result<u32> {
    static K: OnceLock<Result<u32, (io::ErrorKind, String)>> = OnceLock::new();
    static U: OnceLock<Result<u32, (io::ErrorKind, String)>> = OnceLock::new();
    let load = || {
        let p = format!("/sys/bus/event_source/devices/{pmu}/type");
        read_trim(&p)
            .map_err(|e| (e.kind(), format!("{p}: {e}")))
            .and_then(|s| {
                s.parse::<u32>().map_err(|_| {
                    (
                        io::ErrorKind::InvalidData,
                        format!("{p}: not a number: {s:?}"),
                    )
                })
            })
    };
    let r = match pmu {
        "kprobe" => K.get_or_init(load).clone(),
        "uprobe" => U.get_or_init(load).clone(),
        _ => load(),
    };
    r.map_err(|(k, m)| io::Error::new(k, m))
}

/// Parses a PMU format file such as `"config:0"` into its bit number.
pub fn parse_format_bit(s: &str) -> Option<u32> {
    let bit = s.trim().strip_prefix("config:")?;
    let bit = bit.split('-').next()?;
    bit.parse().ok().filter(|b| *b < 64)
}

/// The `config` bit that makes a `pmu` probe a return probe, from
/// `/sys/bus/event_source/devices/<pmu>/format/retprobe` (`config:0`).
pub fn pmu_retprobe_bit(pmu: &str) -> io::Result<u32> {
    let p = format!("/sys/bus/event_source/devices/{pmu}/format/retprobe");
    let s = read_trim(&p)?;
    parse_format_bit(&s)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("{p}: unexpected {s:?}")))
}

const PERF_IOC_ENABLE: libc::c_ulong = nix::request_code_none!(b'$', 0) as libc::c_ulong;
const PERF_IOC_DISABLE: libc::c_ulong = nix::request_code_none!(b'$', 1) as libc::c_ulong;
const PERF_IOC_ID: libc::c_ulong =
    nix::request_code_read!(b'$', 7, std::mem::size_of::<*mut u64>()) as libc::c_ulong;
const PERF_IOC_SET_BPF: libc::c_ulong =
    nix::request_code_write!(b'$', 8, std::mem::size_of::<u32>()) as libc::c_ulong;

fn ioctl_arg(fd: BorrowedFd<'_>, req: libc::c_ulong, arg: libc::c_ulong) -> Result<(), Errno> {
    // SAFETY: ENABLE/DISABLE/SET_BPF take an integer argument, not a pointer.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), req as _, arg) };
    if r < 0 { Err(Errno::last()) } else { Ok(()) }
}

/// `PERF_EVENT_IOC_ENABLE`.
pub fn perf_event_enable(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    ioctl_arg(fd, PERF_IOC_ENABLE, 0)
}

/// `PERF_EVENT_IOC_DISABLE`.
pub fn perf_event_disable(fd: BorrowedFd<'_>) -> Result<(), Errno> {
    ioctl_arg(fd, PERF_IOC_DISABLE, 0)
}

/// `PERF_EVENT_IOC_SET_BPF`: attaches `prog` to the event (the legacy attach; prefer a
/// perf-event link, [`link_create_perf_event`](super::link_create_perf_event)).
pub fn perf_event_set_bpf(fd: BorrowedFd<'_>, prog: BorrowedFd<'_>) -> Result<(), Errno> {
    ioctl_arg(fd, PERF_IOC_SET_BPF, prog.as_raw_fd() as libc::c_ulong)
}

/// `PERF_EVENT_IOC_ID`: the event's id.
pub fn perf_event_id(fd: BorrowedFd<'_>) -> Result<u64, Errno> {
    let mut id = 0u64;
    // SAFETY: PERF_EVENT_IOC_ID writes one u64 through the pointer, which is valid.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), PERF_IOC_ID as _, &mut id as *mut u64) };
    if r < 0 { Err(Errno::last()) } else { Ok(id) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn format_bits() {
        assert_eq!(parse_format_bit("config:0\n"), Some(0));
        assert_eq!(parse_format_bit("config:32-63"), Some(32));
        assert_eq!(parse_format_bit("config1:0"), None);
        assert_eq!(parse_format_bit("config:99"), None);
    }

    #[test]
    fn software_event_and_uprobe() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let attr = PerfEventAttr {
            type_: PERF_TYPE_SOFTWARE,
            config: PERF_COUNT_SW_CPU_CLOCK,
            sample_period: 1_000_000,
            flags: attr_flags::DISABLED,
            ..Default::default()
        };
        let fd = perf_event_open(&attr, 0, -1, None, 0).unwrap();
        perf_event_enable(fd.as_fd()).unwrap();
        perf_event_disable(fd.as_fd()).unwrap();
        assert!(perf_event_id(fd.as_fd()).unwrap() > 0);

        if let Ok(t) = pmu_type("uprobe") {
            let exe = std::ffi::CString::new("/proc/self/exe").unwrap();
            let probe = ProbeAttr::uprobe(&exe, 0, false, 0).unwrap();
            assert_eq!(probe.attr().type_, t);
            // A probe PMU attr is refused by the pointer-free entry point.
            let mut raw = *probe.attr();
            raw.config1 = 0;
            assert_eq!(
                perf_event_open(&raw, -1, 0, None, 0).unwrap_err(),
                Errno::EINVAL
            );
        }
    }
}
