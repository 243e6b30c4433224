//! The perf-event attach families against the running kernel: tracepoints (link and ioctl),
//! perf_event programs on cpu-clock, kprobe/kretprobe/ksyscall/kprobe.multi (or, on kernels
//! without kprobes, the clean `Unsupported`), uprobes/uretprobes on a test binary and on libc,
//! uprobe.multi, legacy tracefs probes, USDT with libbpf's `usdt.bpf.h`, and a pinned link
//! that outlives the process that made it.
//!
//! Programs (tests/bpf/probes.bpf.c) count into `counts[slot]` and record into `vals[slot]`;
//! kernel-side ones only count the thread whose id the test writes into `target`.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use rawbpf::link::{
    KprobeMultiTarget, PerfAttachMode, PerfEvent, ProbeOptions, UprobeLocation, UprobeMultiTarget,
    syscall_function,
};
use rawbpf::map::{Map, UpdateFlags};
use rawbpf::prog::AttachType;
use rawbpf::{Error, Loader, Object, ObjectSpec};

const S_TP: u32 = 0;
const S_KPROBE: u32 = 2;
const S_KRET: u32 = 4;
const S_KMULTI: u32 = 6;
const S_UPROBE: u32 = 8;
const S_URET: u32 = 10;
const S_ULIB: u32 = 12;
const S_UMULTI: u32 = 14;
const S_PERF: u32 = 16;
const S_USDT: u32 = 18;

fn bpf_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/bpf")
        .join(name)
}

fn load() -> Object {
    let spec = ObjectSpec::open(bpf_path("probes.bpf.o")).expect("parse probes.bpf.o");
    Loader::new()
        .expected_attach_type("umulti", AttachType::TRACE_UPROBE_MULTI)
        .load(&spec)
        .expect("load probes.bpf.o")
}

fn get(map: &Map, slot: u32) -> u64 {
    let mut v = [0u8; 8];
    assert!(map.lookup(&slot.to_ne_bytes(), &mut v).expect("lookup"));
    u64::from_ne_bytes(v)
}

fn count(obj: &Object, slot: u32) -> u64 {
    get(obj.map("counts").expect("counts"), slot)
}

fn val(obj: &Object, slot: u32) -> u64 {
    get(obj.map("vals").expect("vals"), slot)
}

fn gettid() -> u32 {
    nix::unistd::gettid().as_raw() as u32
}

/// Kernel-side programs count only this thread from now on.
fn target_this_thread(target: &Map) {
    target
        .update(
            &0u32.to_ne_bytes(),
            &gettid().to_ne_bytes(),
            UpdateFlags::empty(),
        )
        .expect("set target");
}

fn getppid_n(n: usize) -> i32 {
    let mut r = 0;
    for _ in 0..n {
        // SAFETY: getppid has no preconditions.
        r = unsafe { libc::getppid() };
    }
    r
}

#[test]
fn link_probes_tracepoint_link_and_ioctl() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    target_this_thread(obj.map("target").unwrap());
    let prog = obj.program("tp_getppid").unwrap();

    let link = prog
        .attach_tracepoint_with("syscalls", "sys_enter_getppid", 42, PerfAttachMode::Link)
        .expect("attach tracepoint");
    assert!(link.link().is_some());
    let info = link.info().expect("info");
    assert_eq!(info.link_type, rawbpf::link::LinkType::PERF_EVENT);
    assert_eq!(info.prog_id, prog.info().unwrap().id);
    getppid_n(5);
    assert_eq!(count(&obj, S_TP), 5);
    assert_eq!(val(&obj, S_TP), 42, "the BPF cookie");
    if common::have(
        "link_probes_tracepoint_link_and_ioctl",
        "perf_event_link_info",
    ) {
        let p = link.perf_info().expect("perf_info");
        assert_eq!(p.kind, rawbpf::sys::PerfEventType::TRACEPOINT);
        assert_eq!(p.name.as_deref(), Some("sys_enter_getppid"));
        assert_eq!(p.cookie, 42);
    }
    drop(link);
    getppid_n(3);
    assert_eq!(
        count(&obj, S_TP),
        5,
        "still counting after the link was dropped"
    );

    // PERF_EVENT_IOC_SET_BPF: same behaviour, no pin.
    let mut legacy = prog
        .attach_tracepoint_with("syscalls", "sys_enter_getppid", 0, PerfAttachMode::Ioctl)
        .expect("attach by ioctl");
    assert!(legacy.link().is_none());
    getppid_n(4);
    assert_eq!(count(&obj, S_TP), 9);
    let dir = common::PinDir::new("tpioctl");
    assert!(matches!(
        legacy.pin(dir.join("x")),
        Err(Error::Unsupported { .. })
    ));
    legacy.detach().expect("detach");
    getppid_n(2);
    assert_eq!(count(&obj, S_TP), 9, "still counting after detach");
    drop(legacy);

    // A link can be detached explicitly too (or disabled where perf links cannot).
    let mut link = prog
        .attach_tracepoint("syscalls", "sys_enter_getppid")
        .expect("attach");
    getppid_n(1);
    assert_eq!(count(&obj, S_TP), 10);
    link.detach().expect("detach");
    getppid_n(2);
    assert_eq!(count(&obj, S_TP), 10);

    // Clean errors.
    let e = prog
        .attach_tracepoint("syscalls", "no_such_tracepoint_xyz")
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("no tracepoint syscalls:no_such_tracepoint_xyz"),
        "{e}"
    );
    let up = obj.program("uprobe_add").unwrap();
    let e = up
        .attach_tracepoint("syscalls", "sys_enter_getppid")
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
}

/// Not a test by itself: the child half of `pinned_link_outlives_its_process`, which runs
/// this test binary again, with `RAWBPF_PROBES_PIN_DIR` and `RAWBPF_PROBES_TID` set.
#[test]
fn link_probes_pinned_link_child_half() {
    let (Ok(dir), Ok(tid)) = (
        std::env::var("RAWBPF_PROBES_PIN_DIR"),
        std::env::var("RAWBPF_PROBES_TID"),
    ) else {
        return;
    };
    let tid: u32 = tid.parse().unwrap();
    let obj = load();
    obj.map("target")
        .unwrap()
        .update(
            &0u32.to_ne_bytes(),
            &tid.to_ne_bytes(),
            UpdateFlags::empty(),
        )
        .unwrap();
    let link = obj
        .program("tp_getppid")
        .unwrap()
        .attach_tracepoint_with("syscalls", "sys_enter_getppid", 7, PerfAttachMode::Link)
        .expect("attach");
    link.pin(Path::new(&dir).join("link")).expect("pin link");
    obj.map("counts")
        .unwrap()
        .pin(Path::new(&dir).join("counts"))
        .expect("pin counts");
    // Exits: the link and its perf event stay, held by the pin.
}

#[test]
fn link_probes_pinned_link_outlives_its_process() {
    if !common::privileged() {
        return;
    }
    let dir = common::PinDir::new("tppin");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "link_probes_pinned_link_child_half",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RAWBPF_PROBES_PIN_DIR", dir.path())
        .env("RAWBPF_PROBES_TID", gettid().to_string())
        .output()
        .expect("run child");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child ran no test: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.status.success(),
        "child: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts = Map::from_pin(dir.join("counts")).expect("counts pin");
    let link = rawbpf::Link::from_pin(dir.join("link")).expect("link pin");
    assert_eq!(
        link.info().unwrap().link_type,
        rawbpf::link::LinkType::PERF_EVENT
    );
    drop(link);
    getppid_n(3);
    assert_eq!(
        get(&counts, S_TP),
        3,
        "the pinned link fires after its process exited"
    );
    std::fs::remove_file(dir.join("link")).unwrap();
    // The kernel releases a link whose last pin goes from a work queue: wait for it.
    let mut stopped = false;
    for _ in 0..100 {
        let before = get(&counts, S_TP);
        getppid_n(1);
        if get(&counts, S_TP) == before {
            stopped = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(stopped, "still counting 2 s after the pin was removed");
    let before = get(&counts, S_TP);
    getppid_n(3);
    assert_eq!(
        get(&counts, S_TP),
        before,
        "counting again after the link was released"
    );
}

#[test]
fn link_probes_perf_event_cpu_clock() {
    if !common::privileged() {
        return;
    }
    std::thread::spawn(move || {
        let obj = load();
        let prog = obj.program("on_sample").unwrap();
        let mut set = nix::sched::CpuSet::new();
        set.set(0).unwrap();
        nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).expect("pin to cpu0");
        let spin = |ms: u64| {
            let end = std::time::Instant::now() + std::time::Duration::from_millis(ms);
            let mut x = 0u64;
            while std::time::Instant::now() < end {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        };
        let ev =
            PerfEvent::software_freq(rawbpf::sys::perf_event::PERF_COUNT_SW_CPU_CLOCK, 1000, 0);
        let link = prog.attach_perf_event(&ev).expect("attach perf_event");
        // Samples arrive (how many a millisecond gives depends on the machine: emulated
        // guests give few, so wait for ten, up to 20 s).
        let mut waited = 0;
        while count(&obj, S_PERF) < 10 && waited < 200 {
            spin(100);
            waited += 1;
        }
        let n = count(&obj, S_PERF);
        assert!(
            n >= 10,
            "only {n} cpu-clock samples in 20 s of busy loop on cpu0"
        );
        drop(link);
        let before = count(&obj, S_PERF);
        spin(100);
        assert_eq!(
            count(&obj, S_PERF),
            before,
            "samples after the link was dropped"
        );

        // Same through the ioctl.
        let link = prog
            .attach_perf_event_with(&ev, 0, PerfAttachMode::Ioctl)
            .expect("attach by ioctl");
        let mut waited = 0;
        while count(&obj, S_PERF) == before && waited < 200 {
            spin(100);
            waited += 1;
        }
        assert!(
            count(&obj, S_PERF) > before,
            "no sample through the ioctl attachment"
        );
        drop(link);
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

#[test]
fn link_probes_kprobes_fire_or_are_unsupported() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    target_this_thread(obj.map("target").unwrap());
    let kp = obj.program("kprobe_getppid").unwrap();
    let kret = obj.program("kret_getppid").unwrap();
    let km = obj.program("kmulti_getppid").unwrap();
    let func = syscall_function("getppid");
    let opts = ProbeOptions::default();

    if !common::have("link_probes_kprobes_fire_or_are_unsupported", "kprobes") {
        let naming_kprobes = |e: Error| {
            assert!(matches!(e, Error::Unsupported { .. }), "{e}");
            assert!(e.to_string().contains("CONFIG_KPROBES"), "{e}");
        };
        naming_kprobes(kp.attach_kprobe(&func, 0, &opts).unwrap_err());
        naming_kprobes(kret.attach_kretprobe(&func, &opts).unwrap_err());
        naming_kprobes(kp.attach_ksyscall("getppid", false, &opts).unwrap_err());
        naming_kprobes(kret.attach_ksyscall("getppid", true, &opts).unwrap_err());
        naming_kprobes(
            kp.attach_kprobe(&func, 0, &opts.clone().legacy(true))
                .unwrap_err(),
        );
        let e = km
            .attach_kprobe_multi(KprobeMultiTarget::Symbols(&[&func]), false, &[])
            .unwrap_err();
        naming_kprobes(e);
        let e = km
            .attach_kprobe_multi(KprobeMultiTarget::Pattern("*sys_getppid"), false, &[])
            .unwrap_err();
        naming_kprobes(e);
        return;
    }

    // ksyscall with a cookie, kretsyscall recording the return value.
    let a = kp
        .attach_ksyscall("getppid", false, &opts.clone().cookie(0x5eed))
        .expect("ksyscall");
    let b = kret
        .attach_ksyscall("getppid", true, &opts)
        .expect("kretsyscall");
    let ppid = getppid_n(4);
    assert_eq!(count(&obj, S_KPROBE), 4);
    assert_eq!(val(&obj, S_KPROBE), 0x5eed);
    if common::have(
        "link_probes_kprobes_fire_or_are_unsupported",
        "perf_event_link_info",
    ) {
        let p = a.perf_info().expect("perf_info");
        assert_eq!(p.kind, rawbpf::sys::PerfEventType::KPROBE);
        assert_eq!(p.name.as_deref(), Some(func.as_str()));
        assert_eq!(p.cookie, 0x5eed);
        assert_ne!(p.address, 0);
    }
    assert_eq!(count(&obj, S_KRET), 4);
    assert_eq!(
        val(&obj, S_KRET) as i64,
        i64::from(ppid),
        "kretsyscall saw getppid's result"
    );
    drop((a, b));
    getppid_n(2);
    assert_eq!((count(&obj, S_KPROBE), count(&obj, S_KRET)), (4, 4));

    // kprobe/kretprobe by function name.
    let a = kp.attach_kprobe(&func, 0, &opts).expect("kprobe");
    let b = kret.attach_kretprobe(&func, &opts).expect("kretprobe");
    getppid_n(3);
    assert_eq!((count(&obj, S_KPROBE), count(&obj, S_KRET)), (7, 7));
    drop((a, b));

    // Legacy tracefs kprobe_events: fires, and the event goes with the link.
    let root = rawbpf::sys::mount::tracefs_root().unwrap();
    if root.join("kprobe_events").exists() {
        let l = kp
            .attach_kprobe(&func, 0, &opts.clone().legacy(true))
            .expect("legacy kprobe");
        assert!(l.is_legacy_probe());
        getppid_n(2);
        assert_eq!(count(&obj, S_KPROBE), 9);
        drop(l);
        let events = std::fs::read_to_string(root.join("kprobe_events")).unwrap();
        assert!(
            !events.contains(&format!("rawbpf_{}_", std::process::id())),
            "{events}"
        );
        getppid_n(1);
        assert_eq!(count(&obj, S_KPROBE), 9);
    }

    // kprobe.multi: by symbol with a cookie, then by pattern.
    if common::have(
        "link_probes_kprobes_fire_or_are_unsupported",
        "kprobe_multi",
    ) {
        let m = km
            .attach_kprobe_multi(KprobeMultiTarget::Symbols(&[&func]), false, &[77])
            .expect("kprobe.multi");
        getppid_n(5);
        assert_eq!(count(&obj, S_KMULTI), 5);
        assert_eq!(val(&obj, S_KMULTI), 77);
        drop(m);
        getppid_n(1);
        assert_eq!(count(&obj, S_KMULTI), 5);
        // available_filter_functions lists one name per address: __do_sys_getppid or the
        // arch wrapper, depending on the kernel.
        let m = km
            .attach_kprobe_multi(KprobeMultiTarget::Pattern("*sys_getppid"), false, &[])
            .expect("kprobe.multi by pattern");
        getppid_n(2);
        assert!(count(&obj, S_KMULTI) >= 7);
        drop(m);
        let before = count(&obj, S_KMULTI);
        // By address, from /proc/kallsyms.
        let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
        let addr = kallsyms
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.len() == 3 && f[2] == func).then(|| u64::from_str_radix(f[0], 16).unwrap())
            })
            .expect("the syscall function in /proc/kallsyms");
        assert_ne!(addr, 0, "kallsyms addresses are hidden (kptr_restrict)");
        let m = km
            .attach_kprobe_multi(KprobeMultiTarget::Addresses(&[addr]), false, &[88])
            .expect("kprobe.multi by address");
        getppid_n(3);
        assert_eq!(count(&obj, S_KMULTI), before + 3);
        assert_eq!(val(&obj, S_KMULTI), 88);
        drop(m);
    } else {
        // Kprobes without fprobe (Debian's 6.1 cloud kernel): the clean error.
        let e = km
            .attach_kprobe_multi(KprobeMultiTarget::Symbols(&[&func]), false, &[])
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Unsupported {
                    feature: "kprobe_multi",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("CONFIG_FPROBE"), "{e}");
    }
}

/// tests/bpf/probe_target, driven over its stdin/stdout; killed on drop.
struct Target {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    pid: u32,
}

impl Target {
    fn start() -> Target {
        let mut child = Command::new(bpf_path("probe_target"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tests/bpf/probe_target");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let pid = line
            .trim()
            .strip_prefix("ready ")
            .expect("ready line")
            .parse()
            .unwrap();
        Target {
            child,
            stdin,
            stdout,
            pid,
        }
    }

    fn cmd(&mut self, c: &str) -> String {
        writeln!(self.stdin, "{c}").unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim().to_owned()
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn target_path() -> String {
    bpf_path("probe_target").to_str().unwrap().to_owned()
}

#[test]
fn link_probes_uprobes_on_binary_and_libc() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut t = Target::start();
    let bin = target_path();
    let opts = ProbeOptions::default().pid(t.pid);
    let up = obj.program("uprobe_add").unwrap();
    let uret = obj.program("uret_add").unwrap();

    let a = up
        .attach_uprobe(&bin, UprobeLocation::function("probe_add"), false, &opts)
        .expect("uprobe");
    let b = uret
        .attach_uprobe(
            &bin,
            UprobeLocation::function("probe_add"),
            true,
            &opts.clone().cookie(99),
        )
        .expect("uretprobe");
    assert_eq!(t.cmd("add 20 22"), "42");
    assert_eq!(count(&obj, S_UPROBE), 1);
    assert_eq!(
        (val(&obj, S_UPROBE), val(&obj, S_UPROBE + 1)),
        (20, 22),
        "arguments"
    );
    assert_eq!(count(&obj, S_URET), 1);
    assert_eq!(
        (val(&obj, S_URET), val(&obj, S_URET + 1)),
        (42, 99),
        "return value, cookie"
    );
    if common::have(
        "link_probes_uprobes_on_binary_and_libc",
        "perf_event_link_info",
    ) {
        let p = b.perf_info().expect("perf_info");
        assert_eq!(p.kind, rawbpf::sys::PerfEventType::URETPROBE);
        assert!(
            p.name.as_deref().unwrap_or("").ends_with("probe_target"),
            "{p:?}"
        );
        let f = rawbpf::link::elf::ElfBinary::open(bpf_path("probe_target"))
            .unwrap()
            .function("probe_add")
            .unwrap();
        assert_eq!(u64::from(p.offset), f.offset);
        assert_eq!(p.cookie, 99);
    }
    // The pid filter: another process running the same code is not counted.
    let mut other = Target::start();
    assert_eq!(other.cmd("add 1 2"), "3");
    assert_eq!(
        count(&obj, S_UPROBE),
        1,
        "a probe limited to one pid fired in another"
    );
    drop((a, b));
    assert_eq!(t.cmd("add 1 1"), "2");
    assert_eq!((count(&obj, S_UPROBE), count(&obj, S_URET)), (1, 1));

    // libc by name: through the target's /proc/PID/maps, and through the ld.so cache.
    let lib = obj.program("uprobe_libc").unwrap();
    let l = lib
        .attach_uprobe("libc", UprobeLocation::function("getpid"), false, &opts)
        .expect("libc getpid");
    assert_eq!(t.cmd("getpid"), t.pid.to_string());
    assert_eq!(t.cmd("getpid"), t.pid.to_string());
    assert_eq!(count(&obj, S_ULIB), 2);
    drop(l);
    assert_eq!(t.cmd("getpid"), t.pid.to_string());
    assert_eq!(count(&obj, S_ULIB), 2);
    // The ld.so cache, where there is one (the CI guests have none).
    let has_cache = std::fs::read("/etc/ld.so.cache")
        .is_ok_and(|d| !rawbpf::link::elf::parse_ld_so_cache(&d).is_empty());
    if has_cache {
        let cached =
            rawbpf::link::elf::resolve_binary("libc.so.6", None).expect("libc.so.6 in ld.so.cache");
        let l = lib
            .attach_uprobe(
                cached.to_str().unwrap(),
                UprobeLocation::function("getpid"),
                false,
                &opts,
            )
            .expect("libc.so.6 getpid");
        t.cmd("getpid");
        assert_eq!(count(&obj, S_ULIB), 3);
        drop(l);
    } else {
        eprintln!(
            "link_probes_uprobes_on_binary_and_libc: no glibc ld.so cache here; skipped that part"
        );
    }

    // Legacy tracefs uprobe_events: fires, and the event goes with the attachment.
    let root = rawbpf::sys::mount::tracefs_root().unwrap();
    let l = up
        .attach_uprobe(
            &bin,
            UprobeLocation::function("probe_add"),
            false,
            &opts.clone().legacy(true),
        )
        .expect("legacy uprobe");
    assert!(l.is_legacy_probe());
    assert_eq!(t.cmd("add 5 6"), "11");
    assert_eq!(count(&obj, S_UPROBE), 2);
    assert_eq!((val(&obj, S_UPROBE), val(&obj, S_UPROBE + 1)), (5, 6));
    drop(l);
    let events = std::fs::read_to_string(root.join("uprobe_events")).unwrap();
    assert!(
        !events.contains(&format!("rawbpf_{}_", std::process::id())),
        "{events}"
    );
    t.cmd("add 5 6");
    assert_eq!(count(&obj, S_UPROBE), 2);

    // Errors.
    let e = up
        .attach_uprobe(&bin, UprobeLocation::function("no_such_fn"), false, &opts)
        .unwrap_err();
    assert!(e.to_string().contains("no_such_fn"), "{e}");
    let e = up
        .attach_uprobe(
            "no_such_library_xyz",
            UprobeLocation::function("f"),
            false,
            &opts,
        )
        .unwrap_err();
    assert!(e.to_string().contains("cannot find"), "{e}");
}

#[test]
fn link_probes_uprobe_multi() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let prog = obj.program("umulti").unwrap();
    let mut t = Target::start();
    if !common::have("link_probes_uprobe_multi", "uprobe_multi") {
        let e = prog
            .attach_uprobe_multi(
                &target_path(),
                UprobeMultiTarget::Symbols(&["probe_add"]),
                false,
                Some(t.pid),
                &[],
            )
            .unwrap_err();
        assert!(matches!(e, Error::Unsupported { .. }), "{e}");
        return;
    }
    let l = prog
        .attach_uprobe_multi(
            &target_path(),
            UprobeMultiTarget::Symbols(&["probe_add", "probe_site"]),
            false,
            Some(t.pid),
            &[31, 32],
        )
        .expect("uprobe.multi");
    assert_eq!(t.cmd("add 1 2"), "3");
    assert_eq!(count(&obj, S_UMULTI), 1);
    assert_eq!(val(&obj, S_UMULTI), 31);
    drop(l);
    t.cmd("add 1 2");
    assert_eq!(count(&obj, S_UMULTI), 1);
    let l = prog
        .attach_uprobe_multi(
            &target_path(),
            UprobeMultiTarget::Pattern("probe_a*"),
            false,
            Some(t.pid),
            &[],
        )
        .expect("uprobe.multi by pattern");
    t.cmd("add 1 2");
    assert_eq!(count(&obj, S_UMULTI), 2);
    drop(l);
}

fn usdt_arg(obj: &Object, i: u32) -> i64 {
    get(obj.map("usdt_args").unwrap(), i) as i64
}

#[test]
fn link_probes_usdt_with_libbpf_header() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let prog = obj.program("usdt_probe").unwrap();
    let mut t = Target::start();
    assert_eq!(t.cmd("sema"), "0");
    let l = prog
        .attach_usdt(&target_path(), "rawbpf_test", "probe", Some(t.pid), 0xfeed)
        .expect("attach usdt");
    assert_eq!(l.sites().len(), 1);
    assert_ne!(l.sites()[0].semaphore_offset, 0);
    // The kernel raised the semaphore; the probe site runs.
    assert_eq!(t.cmd("fire 1234"), "1");
    assert_eq!(count(&obj, S_USDT), 1);
    assert_eq!(val(&obj, S_USDT), 3, "bpf_usdt_arg_cnt");
    assert_eq!(val(&obj, S_USDT + 1), 0xfeed, "bpf_usdt_cookie");
    assert_eq!(usdt_arg(&obj, 0), -7, "constant -4@$-7");
    assert_eq!(usdt_arg(&obj, 1), 1234, "register 8@%rdi");
    assert_eq!(usdt_arg(&obj, 2), 22, "dereference 8@8(%rsi)");
    assert_eq!(t.cmd("fire -5"), "1");
    assert_eq!(count(&obj, S_USDT), 2);
    assert_eq!(usdt_arg(&obj, 1), -5);
    drop(l);
    assert_eq!(t.cmd("sema"), "0", "semaphore lowered on detach");
    t.cmd("fire 1");
    assert_eq!(count(&obj, S_USDT), 2);

    // Loaded for uprobe.multi (as libbpf 1.5+ loads SEC("usdt") where the kernel has it), the
    // sites go into one uprobe.multi link, semaphores as its reference counters.
    if common::have("link_probes_usdt_with_libbpf_header", "uprobe_multi") {
        let spec = ObjectSpec::open(bpf_path("probes.bpf.o")).unwrap();
        let obj2 = Loader::new()
            .expected_attach_type("usdt_probe", AttachType::TRACE_UPROBE_MULTI)
            .load(&spec)
            .expect("load for uprobe.multi");
        let l = obj2
            .program("usdt_probe")
            .unwrap()
            .attach_usdt(&target_path(), "rawbpf_test", "probe", Some(t.pid), 5)
            .expect("attach usdt by uprobe.multi");
        assert!(l.multi_link().is_some() && l.perf_links().is_empty());
        assert_eq!(t.cmd("fire 31"), "1");
        assert_eq!(count(&obj2, S_USDT), 1);
        assert_eq!(val(&obj2, S_USDT + 1), 5);
        assert_eq!(
            (usdt_arg(&obj2, 0), usdt_arg(&obj2, 1), usdt_arg(&obj2, 2)),
            (-7, 31, 22)
        );
        drop(l);
        assert_eq!(t.cmd("sema"), "0");
    }

    // The sib probe has a scale-index-base argument, which libbpf 1.1's usdt.bpf.h cannot
    // express: a clean error.
    let e = prog
        .attach_usdt(&target_path(), "rawbpf_test", "sib", Some(t.pid), 0)
        .unwrap_err();
    assert!(e.to_string().contains("scale-index-base"), "{e}");
    let e = prog
        .attach_usdt(&target_path(), "rawbpf_test", "nope", Some(t.pid), 0)
        .unwrap_err();
    assert!(
        e.to_string().contains("no USDT probe rawbpf_test:nope"),
        "{e}"
    );
}

#[test]
fn link_probes_usdt_scale_index_base() {
    if !common::privileged() {
        return;
    }
    let spec = ObjectSpec::open(bpf_path("probes_sib.bpf.o")).expect("parse");
    let obj = Loader::new().load(&spec).expect("load probes_sib.bpf.o");
    let prog = obj.program("usdt_sib").unwrap();
    let mut t = Target::start();
    let l = prog
        .attach_usdt(&target_path(), "rawbpf_test", "sib", Some(t.pid), 0)
        .expect("attach usdt sib");
    t.cmd("fire 77");
    let args = obj.map("sib_args").unwrap();
    assert_eq!(get(args, 2), 1, "runs");
    assert_eq!(get(args, 0), 77, "8@%rdi");
    assert_eq!(get(args, 1), 55, "8@16(%rdx,%rcx,8) = values[4]");
    drop(l);
    t.cmd("fire 1");
    assert_eq!(get(args, 2), 1);
}

/// Not privileged: the loader gives usdt.bpf.h's `__weak __hidden` helpers static linkage in the
/// BTF it loads (as libbpf does), without which newer kernels reject them (a global function
/// must accept a NULL `res`); the program's own non-hidden functions keep theirs.
#[test]
fn link_probes_hidden_functions_become_static() {
    use rawbpf::btf::{Btf, FuncLinkage, Kind};
    let spec = ObjectSpec::open(bpf_path("probes.bpf.o")).expect("parse");
    let btf = Btf::parse(spec.btf.as_deref().expect("BTF")).expect("BTF parses");
    let linkage = |name: &str| {
        btf.find_by_name_kind(name, Kind::Func)
            .and_then(|t| t.as_func())
            .map(|f| f.linkage())
            .unwrap_or_else(|| panic!("no FUNC {name}"))
    };
    for hidden in ["bpf_usdt_arg", "bpf_usdt_arg_cnt", "bpf_usdt_cookie"] {
        assert_eq!(linkage(hidden), FuncLinkage::Static, "{hidden}");
    }
    assert_eq!(linkage("usdt_probe"), FuncLinkage::Global);
}
