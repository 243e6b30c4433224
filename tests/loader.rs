//! The loader end to end (as root): objects of tests/bpf load, run (BPF_PROG_TEST_RUN or a
//! real tracepoint hit) and give the values their C source promises.

mod common;

use std::path::Path;

use rawbpf::loader::{LoadError, Loader, Object};
use rawbpf::obj::ObjectSpec;
use rawbpf::prog::TestRun;

fn spec(file: &str) -> ObjectSpec {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    ObjectSpec::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn load(file: &str, loader: Loader) -> Object {
    loader
        .load(&spec(file))
        .unwrap_or_else(|e| panic!("{file}: {e}\n{:?}", e.verifier_log()))
}

/// Runs a `SEC("syscall")` program once; returns its return value.
fn run_syscall(obj: &Object, prog: &str) -> u32 {
    let mut ctx = [0u8; 8];
    obj.program(prog)
        .expect("program")
        .test_run(TestRun::with_ctx(&mut ctx))
        .expect("test_run")
        .retval
}

fn ipv4_udp_frame() -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[12] = 0x08; // ethertype IPv4
    f[14] = 0x45;
    f
}

#[test]
fn rodata_set_before_load_comes_back() {
    if !common::privileged() {
        return;
    }
    let obj = load(
        "tests/bpf/globals.bpf.o",
        Loader::new().set_global("magic", &42u32),
    );
    assert_eq!(run_syscall(&obj, "read_globals"), 42);
    assert_eq!(obj.global::<u32>("bss_seen_magic").unwrap(), 42);
    // magic + data_var (7)
    assert_eq!(obj.global::<u64>("bss_var").unwrap(), 49);
    // rodata_pair 11 + 22, custom_data[2] = 3
    assert_eq!(obj.global::<u64>("data_sum").unwrap(), 36);
    assert_eq!(obj.global::<u32>("data_var").unwrap(), 8);
    assert_eq!(
        obj.global::<[u32; 4]>("custom_data").unwrap(),
        [b'r' as u32, 2, 3, 4]
    );
    assert_eq!(obj.global::<u32>("magic").unwrap(), 42);
    // .rodata is frozen: user space cannot change it after load.
    assert!(obj.set_global("magic", &1u32).is_err());
    // A value of the wrong size is refused at load, naming the variable.
    let err = Loader::new()
        .set_global("magic", &1u64)
        .load(&spec("tests/bpf/globals.bpf.o"))
        .unwrap_err();
    assert!(err.to_string().contains("magic"), "{err}");
}

#[test]
fn globals_written_from_rust_are_seen_both_ways() {
    if !common::privileged() {
        return;
    }
    let obj = load(
        "tests/bpf/globals.bpf.o",
        Loader::new().set_global("magic", &5u32),
    );
    obj.set_global("data_var", &100u32).unwrap();
    obj.set_global("custom_data", &[9u32, 9, 10, 9]).unwrap();
    assert_eq!(run_syscall(&obj, "read_globals"), 5);
    assert_eq!(obj.global::<u64>("bss_var").unwrap(), 105);
    assert_eq!(obj.global::<u32>("data_var").unwrap(), 101);
    assert_eq!(obj.global::<u64>("data_sum").unwrap(), 33 + 10);
    // The socket filter returns data_var + bss_var, both written from Rust.
    obj.set_global("bss_var", &1000u64).unwrap();
    let r = obj
        .program("sock_globals")
        .unwrap()
        .test_run(TestRun::with_data(&ipv4_udp_frame()))
        .unwrap();
    assert_eq!(r.retval, 1101);
    assert!(matches!(
        obj.global::<u32>("no_such_var"),
        Err(LoadError::Global { .. })
    ));
}

#[test]
fn subprograms_and_bpf_loop_callback() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/subprog.bpf.o", Loader::new());
    // sum of 0..10 = 45, add_two(45) = 47
    assert_eq!(run_syscall(&obj, "call_subprogs"), 47);
    assert_eq!(obj.global::<u64>("loop_sum").unwrap(), 45);
    assert_eq!(obj.global::<u64>("result").unwrap(), 47);
    assert_eq!(run_syscall(&obj, "call_add_one"), 42);
    assert_eq!(run_syscall(&obj, "no_calls"), 3);
}

/// tests/bpf/externs.bpf.o calls the kfunc `bpf_task_from_pid` (and the loader resolves every
/// extern of the object): `true` if the kernel has it; otherwise checks the loader's clean
/// error and says so.
fn kfunc_gate(test: &str) -> bool {
    let probe = rawbpf::features::kfunc("bpf_task_from_pid");
    let what = "kfunc:bpf_task_from_pid";
    if common::supported(test, what, "features::kfunc(\"bpf_task_from_pid\")", probe) {
        return true;
    }
    let e = Loader::new()
        .load_only("read_externs")
        .load(&spec("tests/bpf/externs.bpf.o"))
        .expect_err("externs.bpf.o on a kernel without bpf_task_from_pid");
    let msg = e.to_string();
    assert!(
        msg.contains("bpf_task_from_pid") && msg.contains("kfunc not found"),
        "{msg}"
    );
    false
}

#[test]
fn kconfig_and_ksyms_externs() {
    if !common::privileged() {
        return;
    }
    if !kfunc_gate("kconfig_and_ksyms_externs") {
        return;
    }
    // on_newtask needs CO-RE (not wired yet): load read_externs alone.
    let obj = load(
        "tests/bpf/externs.bpf.o",
        Loader::new().load_only("read_externs"),
    );
    assert_eq!(run_syscall(&obj, "read_externs"), 0);
    let running = rawbpf::loader::running_kernel_version().unwrap();
    assert_eq!(obj.global::<u32>("kernel_version").unwrap(), running);
    assert_eq!(obj.global::<u32>("has_bpf_syscall").unwrap(), 1);
    let kallsyms = std::fs::read_to_string("/proc/kallsyms").unwrap();
    let schedule = kallsyms
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.get(2) == Some(&"schedule")).then(|| u64::from_str_radix(f[0], 16).unwrap())
        })
        .unwrap();
    assert_eq!(obj.global::<u64>("schedule_addr").unwrap(), schedule);
    assert_eq!(obj.global::<u64>("missing_addr").unwrap(), 0);
    assert!(obj.program("on_newtask").is_err());
}

#[test]
fn kfunc_call_by_btf_id() {
    if !common::privileged() {
        return;
    }
    if !kfunc_gate("kfunc_call_by_btf_id") {
        return;
    }
    let obj = load(
        "tests/bpf/externs.bpf.o",
        Loader::new().load_only("call_kfunc"),
    );
    let pid = std::process::id() as i32;
    let mut ctx = pid.to_ne_bytes();
    let r = obj
        .program("call_kfunc")
        .unwrap()
        .test_run(TestRun::with_ctx(&mut ctx))
        .unwrap();
    assert_eq!(r.retval, 0, "bpf_task_from_pid found this process");
    assert_eq!(obj.global::<i32>("found_pid").unwrap(), pid);
}

#[test]
fn typed_ksym_resolves_or_names_the_kernel_limit() {
    if !common::privileged() {
        return;
    }
    // bpf_prog_active is a VAR in vmlinux BTF; the kernel finds its address only with
    // CONFIG_KALLSYMS_ALL (absent on the CI kernel). Either it loads and runs, or the error
    // names the program and the kernel's refusal.
    match Loader::new().load(&spec("tests/bpf/ksym_typed.bpf.o")) {
        Ok(obj) => assert_eq!(run_syscall(&obj, "read_typed_ksym"), 0),
        Err(e) => {
            assert_eq!(e.program(), Some("read_typed_ksym"), "{e}");
            assert!(e.to_string().contains("KALLSYMS_ALL"), "{e}");
        }
    }
}

#[test]
fn map_pinned_by_name_is_reused() {
    if !common::privileged() {
        return;
    }
    let dir = common::PinDir::new("loader");
    let first = load("tests/bpf/maps.bpf.o", Loader::new().pin_root(dir.path()));
    assert_eq!(first.pinned_maps(), &[dir.join("pinned")]);
    let id = first.map("pinned").unwrap().info().unwrap().id;
    first
        .map("pinned")
        .unwrap()
        .update(
            &7u32.to_ne_bytes(),
            &70u32.to_ne_bytes(),
            Default::default(),
        )
        .unwrap();
    drop(first);
    let second = load("tests/bpf/maps.bpf.o", Loader::new().pin_root(dir.path()));
    assert!(second.pinned_maps().is_empty(), "reused, not pinned again");
    let m = second.map("pinned").unwrap();
    assert_eq!(m.info().unwrap().id, id);
    assert_eq!(
        m.get(&7u32.to_ne_bytes()).unwrap(),
        Some(70u32.to_ne_bytes().to_vec())
    );
    // An incompatible definition is refused, naming the map and the difference.
    let err = Loader::new()
        .pin_root(dir.path())
        .map_max_entries("pinned", 9)
        .load(&spec("tests/bpf/maps.bpf.o"))
        .unwrap_err();
    assert!(matches!(err, LoadError::PinIncompatible { .. }), "{err}");
    assert!(err.to_string().contains("max_entries"), "{err}");
}

#[test]
fn btf_maps_map_in_map_and_prog_array_slots() {
    if !common::privileged() {
        return;
    }
    let dir = common::PinDir::new("mapsrun");
    let obj = load("tests/bpf/maps.bpf.o", Loader::new().pin_root(dir.path()));
    let r = obj
        .program("use_maps")
        .unwrap()
        .test_run(TestRun::with_data(&ipv4_udp_frame()))
        .unwrap();
    // The tail call through `jumps[1]` (an initial slot) returns XDP_DROP.
    assert_eq!(r.retval, 1);
    let key = 0u32.to_ne_bytes();
    assert_eq!(
        obj.map("hash").unwrap().get(&key).unwrap(),
        Some(1u64.to_ne_bytes().to_vec())
    );
    // outer[0] = inner_a, incremented through the map of maps.
    assert_eq!(
        obj.map("inner_a").unwrap().get(&key).unwrap(),
        Some(1u32.to_ne_bytes().to_vec())
    );
    assert_eq!(
        obj.map("inner_b").unwrap().get(&key).unwrap(),
        Some(0u32.to_ne_bytes().to_vec())
    );
}

#[test]
fn legacy_maps_object() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/legacy_maps.bpf.o", Loader::new());
    let frame = ipv4_udp_frame();
    let p = obj.program("use_legacy").unwrap();
    p.test_run(TestRun::with_data(&frame)).unwrap();
    p.test_run(TestRun::with_data(&frame)).unwrap();
    let key = 0u32.to_ne_bytes();
    assert_eq!(
        obj.map("legacy_hash").unwrap().get(&key).unwrap(),
        Some(2u64.to_ne_bytes().to_vec())
    );
    let seen = obj.map("legacy_array").unwrap().get(&key).unwrap().unwrap();
    assert_eq!(
        u32::from_ne_bytes(seen[..4].try_into().unwrap()),
        frame.len() as u32 - 14
    ); // skb->len: the frame without its Ethernet header
}

#[test]
fn several_programs_in_one_section() {
    if !common::privileged() {
        return;
    }
    use rawbpf::sys::mount::tracepoint_id;
    use rawbpf::sys::perf_event::{self as sys, PerfEventAttr};
    use std::os::fd::AsFd;
    let obj = load("tests/bpf/multi.bpf.o", Loader::new());
    let frame = ipv4_udp_frame();
    let r1 = obj
        .program("xdp_first")
        .unwrap()
        .test_run(TestRun::with_data(&frame))
        .unwrap();
    let r2 = obj
        .program("xdp_second")
        .unwrap()
        .test_run(TestRun::with_data(&frame))
        .unwrap();
    assert_eq!((r1.retval, r2.retval), (2, 1)); // XDP_PASS, XDP_DROP
    assert_eq!(obj.global::<u64>("xdp_first_runs").unwrap(), 1);
    assert_eq!(obj.global::<u64>("xdp_second_runs").unwrap(), 1);
    // Both tracepoint programs fire on getppid (from this thread, and maybe others: the
    // programs count every call system-wide).
    let id = tracepoint_id("syscalls", "sys_enter_getppid").expect("tracepoint id");
    let attr = PerfEventAttr {
        type_: sys::PERF_TYPE_TRACEPOINT,
        config: id,
        sample_period: 1,
        wakeup_events: 1,
        ..Default::default()
    };
    let mut events = Vec::new();
    for name in ["tp_first", "tp_second"] {
        let fd = sys::perf_event_open(&attr, 0, -1, None, 0).expect("perf_event_open");
        sys::perf_event_set_bpf(fd.as_fd(), obj.program(name).unwrap().as_fd()).expect("SET_BPF");
        sys::perf_event_enable(fd.as_fd()).expect("enable");
        events.push(fd);
    }
    for _ in 0..3 {
        nix::unistd::getppid();
    }
    drop(events);
    assert!(obj.global::<u64>("tp_first_runs").unwrap() >= 3);
    assert!(obj.global::<u64>("tp_second_runs").unwrap() >= 3);
}

#[test]
fn xdp_hello_counter_through_test_run() {
    if !common::privileged() {
        return;
    }
    let obj = load("examples/xdp_hello/xdp_hello.bpf.o", Loader::new());
    let p = obj.program("hello").unwrap();
    for _ in 0..3 {
        let r = p.test_run(TestRun::with_data(&ipv4_udp_frame())).unwrap();
        assert_eq!(r.retval, 2); // XDP_PASS
    }
    assert_eq!(obj.global::<i32>("counter").unwrap(), 3);
    assert_eq!(obj.map(".bss").unwrap().name(), "xdp_hell.bss");
}

#[test]
fn errors_name_what_is_missing() {
    if !common::privileged() {
        return;
    }
    let obj = load(
        "tests/bpf/subprog.bpf.o",
        Loader::new().autoload("no_calls", false),
    );
    let err = obj.program("no_calls").unwrap_err();
    assert!(err.to_string().contains("call_subprogs"), "{err}");
    let err = Loader::new()
        .map_max_entries("nope", 1)
        .load(&spec("tests/bpf/subprog.bpf.o"))
        .unwrap_err();
    assert!(
        matches!(err, LoadError::NotFound { kind: "map", .. }),
        "{err}"
    );
}

#[test]
fn verifier_rejection_names_the_program_and_keeps_the_log_and_unpins() {
    if !common::privileged() {
        return;
    }
    let dir = common::PinDir::new("reject");
    let err = Loader::new()
        .pin_root(dir.path())
        .load(&spec("tests/bpf/rejected.bpf.o"))
        .unwrap_err();
    assert_eq!(err.program(), Some("no_null_check"), "{err}");
    let log = err.verifier_log().expect("a verifier log");
    assert!(log.as_str().contains("invalid mem access"), "{log:?}");
    assert!(log.lines().count() > 3, "the whole log, not a summary");
    assert!(err.to_string().contains("no_null_check"), "{err}");
    // The map this failed load pinned by name was unpinned again.
    assert!(!dir.join("rejected_pinned").exists());
    // Without the bad program, the object loads.
    let obj = load(
        "tests/bpf/rejected.bpf.o",
        Loader::new()
            .pin_root(dir.path())
            .autoload("no_null_check", false),
    );
    assert!(obj.program("fine").is_ok());
    assert!(dir.join("rejected_pinned").exists());
}

#[test]
fn execsnoop_filter_set_before_load() {
    if !common::privileged() {
        return;
    }
    use rawbpf::sys::mount::tracepoint_id;
    use rawbpf::sys::perf_event::{self as pe, PerfEventAttr};
    use std::os::fd::AsFd;

    let run = |uid: u32| -> u64 {
        let obj = load(
            "tests/bpf/execsnoop.bpf.o",
            Loader::new()
                .set_global("targ_uid", &uid)
                .load_only("tracepoint__syscalls__sys_enter_execve"),
        );
        let id = tracepoint_id("syscalls", "sys_enter_execve").expect("tracepoint id");
        let attr = PerfEventAttr {
            type_: pe::PERF_TYPE_TRACEPOINT,
            config: id,
            sample_period: 1,
            wakeup_events: 1,
            ..Default::default()
        };
        let prog = obj
            .program("tracepoint__syscalls__sys_enter_execve")
            .unwrap();
        // A tracepoint's BPF programs run for every hit, on any CPU: one event holds it.
        let fd = pe::perf_event_open(&attr, -1, 0, None, 0).expect("perf_event_open");
        pe::perf_event_set_bpf(fd.as_fd(), prog.as_fd()).expect("SET_BPF");
        pe::perf_event_enable(fd.as_fd()).expect("enable");
        for _ in 0..3 {
            std::process::Command::new("/bin/true")
                .status()
                .expect("run /bin/true");
        }
        drop(fd);
        obj.global::<u64>("execs_seen").unwrap()
    };
    // Our execs run as root (uid 0): seen with targ_uid 0, filtered out for another uid.
    assert!(run(0) >= 3);
    assert_eq!(run(54321), 0);
}

#[test]
fn tool_sized_maps_and_syscall_wrapper_kconfig() {
    if !common::privileged() {
        return;
    }
    let s = spec("tests/bpf/hello_buffer_config.bpf.o");
    // Declared without value size / entries: the kernel refuses it as is, naming the map.
    let err = Loader::new().load(&s).unwrap_err();
    assert!(
        matches!(&err, LoadError::Map { map, .. } if map == "stacks"),
        "{err}"
    );
    let obj = Loader::new()
        .map_value_size("stacks", 127 * 8)
        .map_max_entries("stacks", 64)
        .load(&s)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(obj.map("stacks").unwrap().value_size(), 127 * 8);
    // The perf event array is sized to the possible CPUs, as libbpf does.
    assert_eq!(
        obj.map("output").unwrap().max_entries() as usize,
        rawbpf::map::possible_cpus().unwrap()
    );
    assert_eq!(
        obj.program("hello").unwrap().program_type(),
        rawbpf::prog::ProgramType::KPROBE
    );
    let kconfig = obj
        .map(".kconfig")
        .unwrap()
        .get(&0u32.to_ne_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(kconfig[0], 1, "LINUX_HAS_SYSCALL_WRAPPER on x86_64 6.18");
}

#[test]
fn kconfig_values_of_every_kind() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/kconfig_more.bpf.o", Loader::new());
    assert_eq!(run_syscall(&obj, "read_kconfig"), 0);
    let config = kernel_config();
    let get = |k: &str| {
        config
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")).map(str::to_owned))
    };
    assert_eq!(obj.global::<u32>("has_cookie").unwrap(), 1);
    assert_eq!(obj.global::<u32>("has_wrapper").unwrap(), 1);
    let jit = match get("CONFIG_BPF_JIT").as_deref() {
        Some("y") => 1,
        Some("m") => 2,
        _ => 0,
    };
    assert_eq!(obj.global::<u32>("bpf_jit").unwrap(), jit);
    let hz: i32 = get("CONFIG_HZ").map_or(0, |v| v.parse().unwrap());
    assert_eq!(obj.global::<i32>("hz").unwrap(), hz);
    assert_eq!(obj.global::<i32>("no_such_option").unwrap(), 0);
    let host = get("CONFIG_DEFAULT_HOSTNAME").unwrap_or_default();
    let host = host.trim_matches('"');
    let got = obj.global::<[u8; 16]>("hostname").unwrap();
    let end = got.iter().position(|b| *b == 0).unwrap_or(16);
    assert_eq!(std::str::from_utf8(&got[..end]).unwrap(), host);
}

/// The running kernel's config text, from the same places the loader reads it:
/// `/proc/config.gz` (through `zcat`), else `/boot/config-$(uname -r)`.
fn kernel_config() -> String {
    if let Ok(out) = std::process::Command::new("zcat")
        .arg("/proc/config.gz")
        .output()
    {
        if out.status.success() && !out.stdout.is_empty() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
    }
    let release = nix::sys::utsname::uname().expect("uname");
    let path = format!("/boot/config-{}", release.release().to_string_lossy());
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no kernel config: /proc/config.gz or {path}: {e}"))
}

#[test]
fn tp_btf_program_gets_its_attach_btf_id_and_fires() {
    if !common::privileged() {
        return;
    }
    use rawbpf::sys::{self, AttachTarget, AttachType};
    use std::os::fd::AsFd;
    let obj = load(
        "tests/bpf/execsnoop.bpf.o",
        Loader::new().load_only("handle_exec"),
    );
    let prog = obj.program("handle_exec").unwrap();
    assert_eq!(prog.expected_attach_type(), Some(AttachType::TRACE_RAW_TP));
    // LINK_CREATE(BPF_TRACE_RAW_TP): the kernel takes the target from the attach_btf_id the
    // loader gave (btf_trace_sched_process_exec).
    let link = sys::link_create(
        prog.as_fd(),
        AttachTarget::None,
        AttachType::TRACE_RAW_TP,
        0,
    )
    .expect("LINK_CREATE");
    for _ in 0..2 {
        std::process::Command::new("/bin/true")
            .status()
            .expect("run /bin/true");
    }
    drop(link);
    assert!(obj.global::<u64>("exec_btf_seen").unwrap() >= 2);
}

/// The number of system calls this thread makes while `f` runs, counted by a perf event on
/// the `raw_syscalls:sys_enter` tracepoint (includes the one that disables the counter).
fn syscalls_during(f: impl FnOnce()) -> u64 {
    use rawbpf::sys::mount::tracepoint_id;
    use rawbpf::sys::perf_event::{
        PERF_TYPE_TRACEPOINT, PerfEventAttr, attr_flags, perf_event_disable, perf_event_enable,
        perf_event_open,
    };
    use std::io::Read;
    use std::os::fd::AsFd;

    let attr = PerfEventAttr {
        type_: PERF_TYPE_TRACEPOINT,
        config: tracepoint_id("raw_syscalls", "sys_enter").expect("sys_enter tracepoint id"),
        flags: attr_flags::DISABLED,
        ..Default::default()
    };
    let fd = perf_event_open(&attr, 0, -1, None, 0).expect("perf_event_open(sys_enter)");
    perf_event_enable(fd.as_fd()).expect("enable");
    f();
    perf_event_disable(fd.as_fd()).expect("disable");
    let mut count = [0u8; 8];
    std::fs::File::from(fd)
        .read_exact(&mut count)
        .expect("read counter");
    u64::from_ne_bytes(count)
}

/// mmap_globals.bpf.o's `bump_locked` is a sleepable (`SEC("syscall")`) program that takes a
/// spin lock: `true` if the kernel allows that; otherwise checks that the verifier rejects
/// exactly that program and says so.
fn spin_lock_gate(test: &str) -> bool {
    if common::have(test, "sleepable_spin_lock") {
        return true;
    }
    let err = Loader::new()
        .load(&spec("tests/bpf/mmap_globals.bpf.o"))
        .expect_err("bump_locked on a kernel without spin locks in sleepable programs");
    assert_eq!(err.program(), Some("bump_locked"), "{err}");
    assert!(err.verifier_log().is_some(), "{err}");
    false
}

#[test]
fn globals_are_read_and_written_through_the_mmap() {
    if !common::privileged() {
        return;
    }
    let spec = spec("tests/bpf/mmap_globals.bpf.o");
    // bump_locked (a sleepable program taking a spin lock) is not needed here: leave it out
    // where the kernel refuses it.
    let mut loader = Loader::new();
    if !spin_lock_gate("globals_are_read_and_written_through_the_mmap") {
        loader = loader.load_only("bump");
    }
    let obj = loader
        .load(&spec)
        .unwrap_or_else(|e| panic!("{e}\n{:?}", e.verifier_log()));
    let var = |section: &str, name: &str| {
        let m = spec
            .maps
            .iter()
            .find(|m| m.name.ends_with(section))
            .unwrap();
        m.variable(name).unwrap().offset as usize
    };

    // A program increments a .bss counter; reads through the mapping see every run.
    let bss = obj.mmap(".bss").expect("mmap .bss");
    assert!(bss.is_writable());
    let counter_at = var(".bss", "bss_counter");
    let read_counter = || {
        let mut b = [0u8; 8];
        bss.read(counter_at, &mut b).unwrap();
        u64::from_ne_bytes(b)
    };
    assert_eq!(read_counter(), 0);
    for i in 1..=5u64 {
        assert_eq!(run_syscall(&obj, "bump"), 77 + 3);
        assert_eq!(read_counter(), i);
        assert_eq!(obj.global::<u64>("bss_counter").unwrap(), i);
    }

    // Reading a global costs no syscall; the lookup it replaced costs one per read (which
    // also shows the counter counts).
    let reads = 200;
    let through_mmap = syscalls_during(|| {
        for _ in 0..reads {
            assert_eq!(obj.global::<u64>("bss_counter").unwrap(), 5);
        }
    });
    assert!(
        through_mmap <= 5,
        "{through_mmap} syscalls for {reads} reads"
    );
    let bss_map = obj.map(".bss").unwrap();
    let through_lookup = syscalls_during(|| {
        for _ in 0..reads {
            bss_map.get(&0u32.to_ne_bytes()).unwrap().unwrap();
        }
    });
    assert!(through_lookup >= reads, "{through_lookup} syscalls");
    eprintln!("syscalls for {reads} reads: {through_mmap} mmap, {through_lookup} lookup");

    // Written through the mapping, seen by the program (.data -> .bss), both as a whole word
    // and as bytes inside a word.
    obj.set_global("data_input", &1234u64).unwrap();
    obj.set_global("data_bytes", &[10u8, 20, 30, 40, 50])
        .unwrap();
    let data = obj.mmap(".data").unwrap();
    let mut b = [0u8; 8];
    data.read(var(".data", "data_input"), &mut b).unwrap();
    assert_eq!(u64::from_ne_bytes(b), 1234);
    data.write(var(".data", "data_bytes") + 4, &[60]).unwrap();
    run_syscall(&obj, "bump");
    assert_eq!(obj.global::<u64>("bss_seen_input").unwrap(), 1234);
    assert_eq!(
        obj.global::<u32>("bss_seen_bytes").unwrap(),
        10 + 20 + 30 + 40 + 60
    );
    assert_eq!(read_counter(), 6);

    // .rodata: mapped read-only, readable, never writable.
    let ro = obj.mmap(".rodata").unwrap();
    assert!(!ro.is_writable());
    ro.read(var(".rodata", "ro_value"), &mut b).unwrap();
    assert_eq!(u64::from_ne_bytes(b), 77);
    assert_eq!(obj.global::<[u32; 3]>("ro_small").unwrap(), [1, 2, 3]);
    assert_eq!(ro.write(0, &[1]).unwrap_err(), rawbpf::sys::Errno::EACCES);
    let err = obj.set_global("ro_value", &1u64).unwrap_err();
    assert!(
        matches!(&err, LoadError::Global { what, .. } if what.contains("set it before load")),
        "{err}"
    );
    assert_eq!(obj.global::<u64>("ro_value").unwrap(), 77);

    // Out of bounds: errors, not panics.
    let len = bss.len();
    assert_eq!(len % 8, 0);
    let erange = rawbpf::sys::Errno::from_raw(libc::ERANGE);
    assert_eq!(bss.read(len, &mut [0u8; 1]).unwrap_err(), erange);
    assert_eq!(bss.read(len - 4, &mut [0u8; 8]).unwrap_err(), erange);
    assert_eq!(bss.read(usize::MAX, &mut [0u8; 2]).unwrap_err(), erange);
    assert_eq!(bss.write(len - 1, &[0, 0]).unwrap_err(), erange);
    assert_eq!(bss.write(usize::MAX, &[0]).unwrap_err(), erange);
    assert_eq!(bss.read(len + 1, &mut []).unwrap_err(), erange);
    bss.read(len, &mut []).unwrap();
    assert_eq!(read_counter(), 6);

    // A taken map loses the object's mapping: it can be frozen again.
    let mut obj = obj;
    let data_map = obj.take_map(".data").unwrap();
    data_map.freeze().unwrap();
    assert!(obj.mmap(".data").is_err());
}

#[test]
fn globals_next_to_a_spin_lock_fall_back_to_lookup_and_update() {
    if !common::privileged() {
        return;
    }
    if !spin_lock_gate("globals_next_to_a_spin_lock_fall_back_to_lookup_and_update") {
        return;
    }
    let obj = load("tests/bpf/mmap_globals.bpf.o", Loader::new());
    // The kernel refuses to mmap a map whose value holds a spin lock.
    let err = obj.mmap(".data.locked").unwrap_err();
    assert!(
        matches!(&err, LoadError::Global { what, .. } if what.contains("cannot be mmapped")),
        "{err}"
    );
    assert_eq!(obj.global::<u64>("locked_value").unwrap(), 3);
    run_syscall(&obj, "bump_locked");
    assert_eq!(obj.global::<u64>("locked_value").unwrap(), 13);
    obj.set_global("locked_value", &100u64).unwrap();
    run_syscall(&obj, "bump_locked");
    assert_eq!(obj.global::<u64>("locked_value").unwrap(), 110);
    // The other data maps are still mapped.
    assert!(obj.mmap(".bss").is_ok());
}
