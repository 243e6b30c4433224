//! Shared helpers for the integration tests: the privilege gate, unique names, clean-up guards.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether privileged tests must run (CI sets `RAWBPF_REQUIRE_PRIVILEGED=1`).
pub fn privilege_required() -> bool {
    std::env::var("RAWBPF_REQUIRE_PRIVILEGED").is_ok_and(|v| v == "1")
}

/// The gate every privileged test starts with:
///
/// ```ignore
/// if !common::privileged() { return; }
/// ```
///
/// Returns `true` when running as root. Otherwise prints why the test is skipped and returns
/// `false`, or panics when `RAWBPF_REQUIRE_PRIVILEGED=1`, so that no privileged test can skip
/// silently in CI.
#[track_caller]
pub fn privileged() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    let at = std::panic::Location::caller();
    if privilege_required() {
        panic!(
            "{at}: this test needs root (CAP_BPF, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_PERFMON) and RAWBPF_REQUIRE_PRIVILEGED=1 forbids skipping it"
        );
    }
    eprintln!(
        "SKIPPED {at}: needs root (CAP_BPF, CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_PERFMON); run `sudo -E cargo test`"
    );
    false
}

/// A name unique to this process and call, at most 15 characters (the kernel's object name
/// limit is 16 bytes with the NUL): `prefix` cut to 6, then pid and a counter in hex.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let p: String = prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(6)
        .collect();
    format!("{p}_{:x}_{:x}", std::process::id() & 0xfffff, n & 0xff)
}

/// Mounts bpffs at `/sys/fs/bpf` when nothing is mounted there, and returns the path.
pub fn bpffs() -> PathBuf {
    let root = PathBuf::from("/sys/fs/bpf");
    if !is_mount_of(&root, "bpf") {
        let _ = std::fs::create_dir_all(&root);
        nix::mount::mount(
            Some("bpf"),
            &root,
            Some("bpf"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .unwrap_or_else(|e| panic!("mount -t bpf bpf {}: {e}", root.display()));
    }
    root
}

fn is_mount_of(path: &Path, fstype: &str) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    info.lines().any(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let sep = f.iter().position(|s| *s == "-");
        f.get(4).is_some_and(|m| Path::new(m) == path)
            && sep.and_then(|i| f.get(i + 1)).is_some_and(|t| *t == fstype)
    })
}

/// A fresh directory under bpffs for one test's pins; removed with everything in it on drop,
/// even when the test fails.
pub struct PinDir(PathBuf);

impl PinDir {
    /// Creates `/sys/fs/bpf/rawbpf-test-<unique>`.
    pub fn new(test: &str) -> Self {
        let dir = bpffs().join(format!("rawbpf-test-{}", unique_name(test)));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        PinDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        // bpffs supports unlink and rmdir; remove_dir_all does both.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A directory removed with everything in it on drop, even when the test fails.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `<temp dir>/<unique name from prefix>`.
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `f` on a new thread that has its own network namespace (`unshare(CLONE_NEWNET)`), with
/// `lo` brought up: packets the test sends never leave it. The namespace goes away with the
/// thread.
pub fn in_netns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        set_lo_up();
        f()
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

fn set_lo_up() {
    use std::os::fd::AsRawFd;
    let sock = nix::sys::socket::socket(
        nix::sys::socket::AddressFamily::Inet,
        nix::sys::socket::SockType::Datagram,
        nix::sys::socket::SockFlag::SOCK_CLOEXEC,
        None,
    )
    .expect("socket");
    // SIOCSIFFLAGS through libc: nix has no wrapper for interface flags.
    let mut req: libc::ifreq = unsafe_free_zeroed_ifreq();
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    req.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    // SAFETY: the fd is a socket we own and `req` is a valid, initialised ifreq.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) };
    assert_eq!(
        rc,
        0,
        "SIOCSIFFLAGS lo up: {}",
        std::io::Error::last_os_error()
    );
}

fn unsafe_free_zeroed_ifreq() -> libc::ifreq {
    // SAFETY: ifreq is a plain C struct/union of integers and arrays; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// Whether `RAWBPF_EXPECT_FEATURES` (comma-separated feature names: the names of
/// `rawbpf::features::ALL`, or the names tests give to other probes) lists `feature`. CI sets it
/// for the host and for each VM kernel, so that a kernel that has a feature cannot pass a test
/// by taking its "unsupported on this kernel" branch.
pub fn expected(feature: &str) -> bool {
    std::env::var("RAWBPF_EXPECT_FEATURES").is_ok_and(|v| v.split(',').any(|f| f.trim() == feature))
}

/// The gate of a test (or part of one) that needs `feature`, a probe of `rawbpf::features::ALL`
/// by name: `true` when the kernel has it. When it does not, says so on stderr
/// (`"<test>: <feature> unsupported on this kernel (probe: ...)"`, or `refused on this machine`
/// when a security policy refuses root with every capability) and returns `false` (the caller
/// then checks the clean error and returns); panics when `RAWBPF_EXPECT_FEATURES` lists the
/// feature, or when the probe is inconclusive.
#[track_caller]
pub fn have(test: &str, feature: &str) -> bool {
    let r = rawbpf::features::by_name(feature)
        .unwrap_or_else(|| panic!("no feature probe named {feature:?} in rawbpf::features::ALL"));
    supported(test, feature, &format!("features::{feature}"), r)
}

/// As [`have`], for any probe's answer `r`: `feature` is the name `RAWBPF_EXPECT_FEATURES`
/// would list, `probe` the call that gave `r` (for the message).
#[track_caller]
pub fn supported(test: &str, feature: &str, probe: &str, r: rawbpf::Result<()>) -> bool {
    match r {
        Ok(()) => true,
        Err(e) if e.is_not_supported() || e.is_refused_by_policy() => {
            assert!(
                !expected(feature),
                "{test}: RAWBPF_EXPECT_FEATURES lists {feature}, but the probe ({probe}) says: {e}"
            );
            // A security policy that refuses root what the kernel has (an LSM, lockdown, a
            // container runtime) is as definite an answer for this machine as a missing feature.
            let what = if e.is_refused_by_policy() {
                "refused on this machine"
            } else {
                "unsupported on this kernel"
            };
            eprintln!("{test}: {feature} {what} (probe: {probe}): {e}");
            false
        }
        Err(e) => panic!("{test}: the {feature} probe ({probe}) is inconclusive: {e}"),
    }
}

/// Where cgroup v2 is mounted (`/sys/fs/cgroup` on unified hosts and in the VMs,
/// `/sys/fs/cgroup/unified` on hybrid ones), from `/proc/self/mountinfo`.
pub fn cgroup2_root() -> PathBuf {
    let mounts = rawbpf::sys::mount::find_mounts("cgroup2").expect("read /proc/self/mountinfo");
    mounts
        .into_iter()
        .min_by_key(|p| p.as_os_str().len())
        .expect("cgroup v2 is not mounted (mount -t cgroup2 none /sys/fs/cgroup)")
}
