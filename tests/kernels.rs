//! What other kernels give us that the development host lacks: kprobes through the perf
//! kprobe PMU, and programs on BPF trampolines (fentry). CI runs this file on the host and in
//! qemu guests on Debian's 6.12 and 6.1 kernels (`ci/vm-test`).
//!
//! Module BTF (`/sys/kernel/btf/<module>`, absent here since this kernel has no loadable
//! modules) is checked the same way.
//!
//! Each test probes for its feature (`rawbpf::features`), never for a kernel version. Where
//! the feature is there, it attaches a program to a kernel function the test triggers and
//! checks that the program ran (a counter in an array map); where it is not, it checks the
//! clean error and says so on stderr. `RAWBPF_EXPECT_FEATURES` (comma-separated names of
//! `rawbpf::features::ALL`; `ci/vm-test` sets it for its guests, `.ci/run` for the host)
//! turns a missing feature into a failure, so a kernel that has one cannot pass by taking the
//! "unsupported" branch; `expected_features_are_available` checks the whole list.

mod common;

use std::ffi::CStr;
use std::io::ErrorKind;
use std::os::fd::AsFd;
use std::path::Path;

use rawbpf::insn::{AluOp, Insn, JmpOp, Reg, Size};
use rawbpf::map::Array;
use rawbpf::prog::{AttachType, Program, ProgramOptions, ProgramType};
use rawbpf::sys::perf_event::{
    PERF_FLAG_FD_CLOEXEC, ProbeAttr, perf_event_enable, perf_event_open_probe,
};
use rawbpf::{Error, Link, features, sys};

/// The kernel function both tests hook: `unlink(2)` reaches it, and it is neither inlined nor
/// on the kprobe blacklist on 6.1, 6.12 or 6.18.
const TARGET: &CStr = c"do_unlinkat";

/// How many times each test triggers the hook.
const TRIGGERS: u64 = 3;

/// Names `RAWBPF_EXPECT_FEATURES` may list besides those of `features::ALL` and
/// `kfunc:<name>` (probes that tests run by other calls).
const OTHER_EXPECTABLE: &[&str] = &[
    "cgrp_storage",
    "sockmap_link",
    "iter_map_elem",
    "user_ringbuf",
];

#[test]
fn expected_features_are_available() {
    if !common::privileged() {
        return;
    }
    let list = std::env::var("RAWBPF_EXPECT_FEATURES").unwrap_or_default();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        assert!(
            features::by_name(name).is_some()
                || OTHER_EXPECTABLE.contains(&name)
                || name.starts_with("kfunc:"),
            "RAWBPF_EXPECT_FEATURES lists {name:?}, which no probe answers"
        );
    }
    let mut unsupported = Vec::new();
    for (name, probe) in features::ALL {
        match probe() {
            Ok(()) => {}
            Err(e) if e.is_not_supported() || e.is_refused_by_policy() => {
                assert!(
                    !common::expected(name),
                    "RAWBPF_EXPECT_FEATURES lists {name}, but the probe says: {e}"
                );
                unsupported.push(*name);
            }
            Err(e) => panic!("the {name} probe is inconclusive as root: {e}"),
        }
    }
    eprintln!(
        "features unsupported on this kernel ({}): {}",
        nix::sys::utsname::uname().map_or_else(
            |_| "?".into(),
            |u| u.release().to_string_lossy().into_owned()
        ),
        if unsupported.is_empty() {
            "none".to_string()
        } else {
            unsupported.join(",")
        }
    );
}

/// A one-slot `u64` array (arrays start zeroed), the "did it fire" counter.
fn counter(name: &str) -> Array<u64> {
    Array::<u64>::create(&common::unique_name(name), 1).expect("create counter map")
}

/// `counter[0] += 1; return 0;` — valid for kprobe and tracing programs alike.
fn count_insns(map: &Array<u64>) -> Vec<Insn> {
    use std::os::fd::AsRawFd;
    let mut v = vec![Insn::st_mem(Size::W, Reg::R10, -4, 0)]; // key = 0 on the stack
    v.extend(Insn::ld_map_fd(Reg::R1, map.map().as_raw_fd()));
    v.extend([
        Insn::mov64_reg(Reg::R2, Reg::R10),
        Insn::alu64_imm(AluOp::Add, Reg::R2, -4),
        Insn::call_helper(1), // bpf_map_lookup_elem
        Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 2),
        Insn::mov64_imm(Reg::R1, 1),
        Insn::atomic_add(Size::DW, Reg::R0, Reg::R1, 0),
        Insn::mov64_imm(Reg::R0, 0),
        Insn::exit(),
    ]);
    v
}

/// Calls `unlink(2)` `TRIGGERS` times on a file of our own.
fn trigger_unlink(tag: &str) {
    let dir = std::env::temp_dir();
    for i in 0..TRIGGERS {
        let p = dir.join(format!("rawbpf-{}-{i}", common::unique_name(tag)));
        std::fs::write(&p, b"x").unwrap_or_else(|e| panic!("create {}: {e}", p.display()));
        std::fs::remove_file(&p).unwrap_or_else(|e| panic!("unlink {}: {e}", p.display()));
    }
}

/// The BTF id of the kernel function `name`, from `bpftool btf dump`.
fn vmlinux_func_id(name: &str) -> u32 {
    let out = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        .output()
        .expect("run bpftool (install it: apt-get install bpftool)");
    assert!(
        out.status.success(),
        "bpftool btf dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let needle = format!("FUNC '{name}'");
    text.lines()
        .find(|l| l.contains(&needle))
        .and_then(|l| l.strip_prefix('[')?.split(']').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no FUNC '{name}' in the kernel's BTF"))
}

#[test]
fn kprobe_fires_through_the_perf_pmu() {
    if !common::privileged() {
        return;
    }
    if !common::have("kprobe_fires_through_the_perf_pmu", "kprobes") {
        // The clean error: the PMU lookup says NotFound instead of a bogus perf_event_open.
        let e = ProbeAttr::kprobe(TARGET, 0, false).expect_err("no kprobe PMU, yet a kprobe attr");
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        eprintln!("kprobes: not on this kernel (no kprobe PMU); checked the NotFound error: {e}");
        return;
    }
    let hits = counter("kp");
    let opts = ProgramOptions::default().name("kp_count");
    let prog = Program::load(ProgramType::KPROBE, &count_insns(&hits), &opts)
        .unwrap_or_else(|e| panic!("load kprobe program: {e}"));
    let probe = ProbeAttr::kprobe(TARGET, 0, false).expect("kprobe attr");
    let event = perf_event_open_probe(&probe, -1, 0, None, PERF_FLAG_FD_CLOEXEC)
        .unwrap_or_else(|e| panic!("perf_event_open(kprobe {TARGET:?}): {e}"));
    let link = Link::from_fd(
        sys::link_create_perf_event(prog.as_fd(), event.as_fd(), 0)
            .unwrap_or_else(|e| panic!("BPF_LINK_CREATE(BPF_PERF_EVENT): {e}")),
    );
    perf_event_enable(event.as_fd()).expect("PERF_EVENT_IOC_ENABLE");
    trigger_unlink("kp");
    let n = hits.get(0).expect("read counter");
    assert!(
        n >= TRIGGERS,
        "kprobe on {TARGET:?} ran {n} times, want at least {TRIGGERS}"
    );
    eprintln!("kprobes: kprobe on {TARGET:?} fired {n} times");
    drop(link);
}

/// Loads `counter[0] += 1` as an fentry program on `TARGET`.
fn load_fentry(hits: &Array<u64>) -> rawbpf::Result<Program> {
    let opts = ProgramOptions::default()
        .name("fe_count")
        .expected_attach_type(AttachType::TRACE_FENTRY)
        .attach_btf_id(vmlinux_func_id(TARGET.to_str().expect("ascii")), None);
    Program::load(ProgramType::TRACING, &count_insns(hits), &opts)
}

#[test]
fn fentry_fires_through_a_trampoline() {
    if !common::privileged() {
        return;
    }
    let hits = counter("fe");
    let have = common::have("fentry_fires_through_a_trampoline", "trampolines");
    // The load agrees with the probe.
    let prog = match load_fentry(&hits) {
        Ok(p) => {
            assert!(
                have,
                "features::trampolines says unsupported, yet fentry loads"
            );
            p
        }
        Err(e @ Error::Unsupported { .. }) => {
            assert!(!have, "features::trampolines says available, yet: {e}");
            assert!(e.to_string().contains("trampolines"), "{e}");
            eprintln!("trampolines: not on this kernel; checked the Unsupported error: {e}");
            return;
        }
        Err(e) => panic!("load fentry program on {TARGET:?}: {e:?}"),
    };

    // Attached by BPF_LINK_CREATE (the target is the one given at load time).
    let link = Link::from_fd(
        sys::link_create_tracing(prog.as_fd(), AttachType::TRACE_FENTRY, 0, 0)
            .unwrap_or_else(|e| panic!("BPF_LINK_CREATE(BPF_TRACE_FENTRY): {e}")),
    );
    trigger_unlink("fe");
    let by_link = hits.get(0).expect("read counter");
    assert!(
        by_link >= TRIGGERS,
        "fentry (link) on {TARGET:?} ran {by_link} times, want at least {TRIGGERS}"
    );
    drop(link);

    // Attached by BPF_RAW_TRACEPOINT_OPEN with no name, the older way.
    let link = Link::from_fd(
        sys::raw_tracepoint_open(prog.as_fd(), None, 0)
            .unwrap_or_else(|e| panic!("BPF_RAW_TRACEPOINT_OPEN(fentry): {e}")),
    );
    let before = hits.get(0).expect("read counter");
    trigger_unlink("fe");
    let n = hits.get(0).expect("read counter") - before;
    assert!(
        n >= TRIGGERS,
        "fentry (raw_tracepoint_open) on {TARGET:?} ran {n} times, want at least {TRIGGERS}"
    );
    drop(link);
    eprintln!(
        "trampolines: fentry on {TARGET:?} fired {by_link} times by link, {n} by raw_tracepoint_open"
    );
}

/// The feature probe for module BTF: `/sys/kernel/btf/` lists something besides `vmlinux`
/// (a loaded module, on a kernel with `CONFIG_DEBUG_INFO_BTF_MODULES`).
fn module_btf_files() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/sys/kernel/btf") else {
        return Vec::new();
    };
    let mut v: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "vmlinux")
        .collect();
    v.sort();
    v
}

#[test]
fn module_btf_is_a_kernel_btf_object() {
    if !common::privileged() {
        return;
    }
    let modules = module_btf_files();
    let have = common::have("module_btf_is_a_kernel_btf_object", "module_btf");
    assert_eq!(
        have,
        !modules.is_empty(),
        "features::module_btf vs {modules:?}"
    );
    let Some(module) = modules.first() else {
        eprintln!("module BTF: none on this kernel (/sys/kernel/btf has only vmlinux)");
        return;
    };
    let raw = std::fs::read(Path::new("/sys/kernel/btf").join(module)).expect("read module BTF");
    assert_eq!(
        raw.get(..2),
        Some(&[0x9f, 0xeb][..]),
        "BTF magic of {module}"
    );
    // The kernel lists the same BTF among its objects, flagged as kernel BTF, named after
    // the module.
    let mut id = 0;
    let mut found = false;
    while let Some(next) = sys::btf_get_next_id(id).expect("BTF_GET_NEXT_ID") {
        id = next;
        let Ok(fd) = sys::btf_get_fd_by_id(id, sys::ObjFlags::empty(), None) else {
            continue; // went away meanwhile
        };
        let mut name = [0u8; 64];
        let info = sys::btf_info(fd.as_fd(), None, Some(&mut name)).expect("BTF info");
        let name = CStr::from_bytes_until_nul(&name).expect("NUL-terminated name");
        if info.kernel_btf != 0 && name.to_bytes() == module.as_bytes() {
            assert!(
                info.btf_size as usize == raw.len(),
                "{module}: BTF size {} vs file {}",
                info.btf_size,
                raw.len()
            );
            found = true;
            break;
        }
    }
    assert!(
        found,
        "no kernel BTF object named {module:?} among the BTF ids"
    );
    eprintln!(
        "module BTF: {} module(s) ({}), {module} is BTF id {id}",
        modules.len(),
        modules.join(" ")
    );
}
