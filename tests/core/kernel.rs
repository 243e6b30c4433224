//! As root: CO-RE through the loader, against the running kernel's BTF (programs that read
//! `task_struct` & co. on `sys_enter` of the test's own thread) and against a user-named
//! target BTF (the layouts of `core_target_a/b.bpf.o`).

use std::os::fd::{AsFd, OwnedFd};

use rawbpf::btf::core::CoreError;
use rawbpf::btf::{Btf, CoreReloKind, Kind};
use rawbpf::loader::{LoadError, Loader, Object};
use rawbpf::obj::ObjectSpec;
use rawbpf::prog::TestRun;

use super::common;
use super::unit::{TARGET_A, TARGET_B, btf_of, spec};

const KERNEL: &[u8] = include_bytes!("../bpf/core_kernel.bpf.o");
const LAYOUT: &[u8] = include_bytes!("../bpf/core_layout.bpf.o");

/// Runs `f` on a new thread named `name` (its `comm`), so each test has its own tid.
fn on_thread<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("test thread panicked")
}

fn gettid() -> u32 {
    nix::unistd::gettid().as_raw() as u32
}

/// Loads program `prog` of core_kernel.bpf.o filtered on this thread, attaches it (the link
/// detaches on drop), and makes a few syscalls.
fn run_on_sys_enter(prog: &str) -> (Object, OwnedFd) {
    let spec = spec("core_kernel", KERNEL);
    let obj = Loader::new()
        .set_global("target_tid", &gettid())
        .load_only(prog)
        .load(&spec)
        .unwrap_or_else(|e| panic!("load {prog}: {e}"));
    let p = obj.program(prog).expect("program");
    let link = rawbpf::sys::raw_tracepoint_open(p.as_fd(), None, 0).expect("attach tp_btf");
    for _ in 0..3 {
        let _ = nix::unistd::getppid();
    }
    (obj, link)
}

fn u32_of(obj: &Object, name: &str) -> u32 {
    obj.global(name).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn task_struct_reads_match_user_space() {
    if !common::privileged() {
        return;
    }
    on_thread("rawbpf-core-rd", || {
        let (obj, link) = run_on_sys_enter("read_task");
        drop(link);
        assert!(u32_of(&obj, "task_hits") >= 1);
        assert_eq!(
            u32_of(&obj, "r_pid"),
            gettid(),
            "task->pid is the thread id"
        );
        assert_eq!(u32_of(&obj, "r_tgid"), std::process::id(), "task->tgid");
        assert_eq!(
            u32_of(&obj, "r_ppid"),
            nix::unistd::getppid().as_raw() as u32,
            "task->real_parent->tgid"
        );
        assert_eq!(
            u32_of(&obj, "r_uid"),
            nix::unistd::getuid().as_raw(),
            "cred->uid"
        );
        let comm = obj.global_bytes("r_comm").expect("r_comm");
        let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
        assert_eq!(&comm[..end], b"rawbpf-core-rd", "task->comm");
    });
}

#[test]
fn existence_size_and_enum_answers() {
    if !common::privileged() {
        return;
    }
    on_thread("rawbpf-core-ans", || {
        let (obj, link) = run_on_sys_enter("answers");
        drop(link);
        assert!(u32_of(&obj, "ans_hits") >= 1);
        let kernel = Btf::from_kernel().expect("kernel BTF");
        let task = kernel
            .find_by_name_kind("task_struct", Kind::Struct)
            .expect("task_struct");
        let tgid = task
            .as_composite()
            .and_then(|c| c.member("tgid"))
            .expect("tgid");
        let expect = [
            ("fe_pid", 1),
            ("fe_fake", 0),
            ("te_task", 1),
            ("te_fake", 0),
            ("tm_list", 1),
            ("tm_bad", 0),
            ("ev_rb", 1),
            ("ev_none", 0),
            ("fs_pid", 4),
            ("fs_comm", 16),
            ("off_tgid", tgid.bit_offset() / 8),
            ("ts_task", task.size().expect("size")),
        ];
        for (name, want) in expect {
            assert_eq!(u32_of(&obj, name), want, "{name}");
        }
        // BPF_MAP_TYPE_RINGBUF is 27 in the kernel (local value 99).
        assert_eq!(obj.global::<u64>("val_rb").expect("val_rb"), 27);
    });
}

/// Loads program `prog` of core_layout.bpf.o with `target`'s BTF as CO-RE target.
fn load_layout(prog: &str, target: &[u8]) -> Result<Object, LoadError> {
    let btf = btf_of(&spec("target", target));
    Loader::new()
        .target_btf(btf)
        .load_only(prog)
        .load(&spec("core_layout", LAYOUT))
}

fn run_layout(target: &[u8]) -> Vec<(String, u64)> {
    let obj = load_layout("layout", target).expect("load layout");
    let p = obj.program("layout").expect("program");
    let mut ctx = [0u8; 8];
    p.test_run(TestRun::with_ctx(&mut ctx)).expect("test_run");
    [
        "off_a",
        "off_c",
        "off_u1",
        "off_arr2",
        "size_foo",
        "size_c",
        "has_missing",
        "green",
        "has_blue",
        "lshift_bf2",
        "rshift_bf2",
    ]
    .iter()
    .map(|n| (n.to_string(), obj.global::<u64>(n).expect("global")))
    .collect()
}

#[test]
fn user_named_target_btf_gives_its_layout() {
    if !common::privileged() {
        return;
    }
    let got = run_layout(TARGET_A);
    let want: Vec<(String, u64)> = [
        ("off_a", 8),
        ("off_c", 16),
        ("off_u1", 40),
        ("off_arr2", 56),
        ("size_foo", 88),
        ("size_c", 8),
        ("has_missing", 0),
        ("green", 20),
        ("has_blue", 0),
        ("lshift_bf2", 45),
        ("rshift_bf2", 52),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), *v))
    .collect();
    assert_eq!(got, want, "layout A");
    let got = run_layout(TARGET_B);
    let want: Vec<(String, u64)> = [
        ("off_a", 0),
        ("off_c", 16),
        ("off_u1", 32),
        ("off_arr2", 48),
        ("size_foo", 72),
        ("size_c", 4),
        ("has_missing", 1),
        ("green", 2),
        ("has_blue", 1),
        ("lshift_bf2", 56),
        ("rshift_bf2", 59),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), *v))
    .collect();
    assert_eq!(got, want, "layout B");
}

#[test]
fn reaching_a_poisoned_relocation_names_it() {
    if !common::privileged() {
        return;
    }
    // Layout B has `missing`: loads.
    load_layout("poisoned", TARGET_B).expect("layout B has foo.missing");
    // Layout A lacks it: the verifier rejects the poisoned instruction, and the error names
    // the relocation rather than the raw "invalid func unknown#195896080".
    let err = load_layout("poisoned", TARGET_A).expect_err("foo.missing is poisoned");
    let msg = err.to_string();
    let LoadError::Program { source, .. } = &err else {
        panic!("{err:?}")
    };
    let LoadError::Core {
        source: CoreError::Poisoned { kind, relo, .. },
        log: Some(log),
    } = &**source
    else {
        panic!("{source:?}")
    };
    assert_eq!(*kind, CoreReloKind::FieldByteOffset);
    assert!(relo.starts_with("struct foo.missing"), "{relo}");
    assert!(
        log.as_str().contains("unknown#195896080"),
        "{}",
        log.as_str()
    );
    assert!(msg.contains("struct foo.missing"), "{msg}");
    assert!(err.verifier_log().is_some());
}

#[test]
fn bench_object_relocates_against_the_kernel_without_poison() {
    // No root needed: only reads /sys/kernel/btf/vmlinux.
    let Ok(kernel) = Btf::from_kernel() else {
        return;
    };
    let spec = ObjectSpec::parse_named("core", include_bytes!("../../benches/bpf/core.bpf.o"))
        .expect("core.bpf.o");
    let local = btf_of(&spec);
    let mut r = rawbpf::btf::core::Relocator::new(&local, &kernel);
    let mut n = 0;
    for p in &spec.programs {
        let mut linked = rawbpf::obj::link_program(&spec, p).expect("link");
        let fixups = r
            .relocate(&mut linked.insns, &linked.core_relos)
            .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        assert!(fixups.iter().all(|f| !f.poison), "{}: {fixups:#?}", p.name);
        n += fixups.len();
    }
    assert_eq!(n, 67);
}
