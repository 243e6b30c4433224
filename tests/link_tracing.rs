//! Tracing links against the running kernel (as root): raw tracepoints, tp_btf, fentry/fexit/
//! fmod_ret, LSM, freplace, iterators and syscall programs (tests/bpf/link_tracing.bpf.c), and
//! struct_ops (tests/bpf/struct_ops_*.bpf.c). Each test attaches, triggers (getppid, unlink,
//! open, a TCP transfer, BPF_PROG_TEST_RUN), checks what the program counted or recorded,
//! detaches and checks that it stopped.
//!
//! Kernels that refuse BPF trampolines (this CI host) must refuse fentry/fexit/fmod_ret/LSM/
//! freplace with `Error::Unsupported` naming them; the VM guests (`ci/vm-test 6.12 --
//! link_tracing`) have them and list `trampolines` in `RAWBPF_EXPECT_FEATURES`.

mod common;

use std::io::Read;
use std::time::Duration;

use rawbpf::link::{IterOptions, Link, LinkType};
use rawbpf::loader::{LoadError, Loader, Object};
use rawbpf::map::Map;
use rawbpf::obj::ObjectSpec;
use rawbpf::prog::TestRun;

const OBJ: &str = "tests/bpf/link_tracing.bpf.o";

fn spec() -> ObjectSpec {
    ObjectSpec::open(OBJ).expect("parse link_tracing.bpf.o")
}

fn gettid() -> u32 {
    nix::unistd::gettid().as_raw() as u32
}

/// Loads only `progs` of the object, counting for this thread (`tid`, 0 = every thread).
fn load_for(progs: &[&str], tid: u32) -> Result<Object, LoadError> {
    let mut l = Loader::new()
        .set_global("target_tid", &tid)
        .set_global("target_tgid", &std::process::id());
    for (i, p) in progs.iter().enumerate() {
        l = if i == 0 {
            l.load_only(p)
        } else {
            l.autoload(p, true)
        };
    }
    l.load(&spec())
}

fn load(progs: &[&str]) -> Object {
    load_for(progs, gettid()).expect("load link_tracing.bpf.o")
}

fn getppid() {
    // SAFETY-free: nix wraps the syscall; glibc does not cache getppid.
    let _ = nix::unistd::getppid();
}

fn count(obj: &Object, var: &str) -> u64 {
    obj.global::<u64>(var).expect(var)
}

/// The load error of a trampoline program on a kernel without trampolines must be the clean
/// `Unsupported` naming them.
fn assert_trampoline_unsupported(r: Result<Object, LoadError>, what: &str) {
    let e = r.expect_err("a trampoline program loaded on a kernel whose probe says no");
    let s = e.to_string();
    assert!(
        matches!(&e, LoadError::Kernel(rawbpf::Error::Unsupported { .. }))
            || matches!(&e, LoadError::Program { .. } if s.contains("not supported")),
        "{what}: expected Unsupported, got {e:?}"
    );
    assert!(s.contains("BPF trampolines"), "{what}: {s}");
}

#[test]
fn link_tracing_raw_tp_counts_and_detaches() {
    if !common::privileged() {
        return;
    }
    let obj = load(&["raw_tp_getppid"]);
    let prog = obj.program("raw_tp_getppid").unwrap();
    let link = prog
        .attach_raw_tracepoint("sys_enter")
        .expect("attach raw_tp");
    let info = link.info().expect("link info");
    assert_eq!(info.link_type, LinkType::RAW_TRACEPOINT);
    assert_eq!(info.prog_id, prog.info().unwrap().id);
    for _ in 0..5 {
        getppid();
    }
    assert_eq!(count(&obj, "raw_tp_hits"), 5);
    drop(link);
    getppid();
    getppid();
    assert_eq!(
        count(&obj, "raw_tp_hits"),
        5,
        "counted after the link was dropped"
    );

    // An explicit detach keeps the fd but stops the program.
    let link = prog
        .attach_raw_tracepoint("sys_enter")
        .expect("attach again");
    getppid();
    assert_eq!(count(&obj, "raw_tp_hits"), 6);
    match link.detach() {
        Ok(()) => {
            getppid();
            assert_eq!(count(&obj, "raw_tp_hits"), 6, "counted after LINK_DETACH");
        }
        Err(e) => assert!(e.to_string().contains("BPF_LINK_DETACH"), "{e}"),
    }

    // Bad names and types are clean errors.
    let e = prog
        .attach_raw_tracepoint("no_such_tracepoint_rawbpf")
        .expect_err("unknown tracepoint");
    assert!(e.to_string().contains("BPF_RAW_TRACEPOINT_OPEN"), "{e}");
    let e = prog.attach_tp_btf().expect_err("raw_tp is not tp_btf");
    assert!(matches!(e, rawbpf::Error::InvalidArgument(_)), "{e}");
}

#[test]
fn link_tracing_tp_btf_counts_and_detaches() {
    if !common::privileged() {
        return;
    }
    let obj = load(&["tp_btf_getppid"]);
    let prog = obj.program("tp_btf_getppid").unwrap();
    let link = prog.attach_tp_btf().expect("attach tp_btf");
    assert_eq!(link.info().unwrap().link_type, LinkType::RAW_TRACEPOINT);
    for _ in 0..3 {
        getppid();
    }
    assert_eq!(count(&obj, "tp_btf_hits"), 3);
    drop(link);
    getppid();
    assert_eq!(
        count(&obj, "tp_btf_hits"),
        3,
        "counted after the link was dropped"
    );
    let e = prog
        .attach_raw_tracepoint("sys_enter")
        .expect_err("tp_btf is not raw_tp");
    assert!(matches!(e, rawbpf::Error::InvalidArgument(_)), "{e}");
}

/// Cookies on raw_tp and tp_btf links (kernels with `raw_tracepoint.cookie`, 6.10+).
#[test]
fn link_tracing_raw_tp_cookies() {
    if !common::privileged() || !common::have("link_tracing_raw_tp_cookies", "raw_tp_cookie") {
        return;
    }
    let obj = load(&["raw_tp_cookie", "tp_btf_cookie"]);
    let a = obj
        .program("raw_tp_cookie")
        .unwrap()
        .attach_raw_tracepoint_with_cookie("sys_enter", 0x1234_5678_9abc)
        .expect("raw_tp with cookie");
    let b = obj
        .program("tp_btf_cookie")
        .unwrap()
        .attach_tp_btf_with_cookie(77)
        .expect("tp_btf with cookie");
    getppid();
    assert_eq!(count(&obj, "raw_tp_cookie_hits"), 1);
    assert_eq!(count(&obj, "raw_tp_cookie_seen"), 0x1234_5678_9abc);
    assert_eq!(count(&obj, "tp_btf_cookie_seen"), 77);
    drop((a, b));
    getppid();
    assert_eq!(count(&obj, "raw_tp_cookie_hits"), 1);
}

/// fentry (with a cookie) and fexit on do_unlinkat: unlink of a missing file.
#[test]
fn link_tracing_fentry_fexit() {
    if !common::privileged() {
        return;
    }
    if !common::have("link_tracing_fentry_fexit", "trampolines") {
        assert_trampoline_unsupported(load_for(&["fentry_unlinkat"], gettid()), "fentry");
        assert_trampoline_unsupported(load_for(&["fexit_unlinkat"], gettid()), "fexit");
        return;
    }
    let obj = load(&["fentry_unlinkat", "fexit_unlinkat"]);
    let cookie = common::have("link_tracing_fentry_fexit", "bpf_cookie");
    let entry = obj.program("fentry_unlinkat").unwrap();
    let fentry = if cookie {
        entry.attach_trace_with_cookie(0xfe)
    } else {
        entry.attach_trace()
    }
    .expect("attach fentry");
    let fexit = obj
        .program("fexit_unlinkat")
        .unwrap()
        .attach_trace()
        .expect("attach fexit");
    assert_eq!(fexit.info().unwrap().link_type, LinkType::TRACING);
    let missing = format!("/tmp/rawbpf-missing-{}", common::unique_name("unl"));
    for _ in 0..3 {
        let e = std::fs::remove_file(&missing).expect_err("the file does not exist");
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    }
    assert_eq!(count(&obj, "fentry_hits"), 3);
    assert_eq!(count(&obj, "fexit_hits"), 3);
    assert_eq!(
        obj.global::<i64>("fexit_ret").unwrap(),
        -i64::from(libc::ENOENT)
    );
    if cookie {
        assert_eq!(count(&obj, "fentry_cookie_seen"), 0xfe);
    }
    drop((fentry, fexit));
    let _ = std::fs::remove_file(&missing);
    assert_eq!(
        count(&obj, "fentry_hits"),
        3,
        "fentry ran after its link was dropped"
    );
    assert_eq!(
        count(&obj, "fexit_hits"),
        3,
        "fexit ran after its link was dropped"
    );
}

/// fmod_ret on security_file_open: while attached, open() fails with EPERM in this thread
/// (and only here); afterwards it works again.
#[test]
fn link_tracing_fmod_ret() {
    if !common::privileged() {
        return;
    }
    if !common::have("link_tracing_fmod_ret", "trampolines") {
        assert_trampoline_unsupported(load_for(&["fmod_ret_open"], gettid()), "fmod_ret");
        return;
    }
    let obj = load(&["fmod_ret_open"]);
    let prog = obj.program("fmod_ret_open").unwrap();
    std::fs::File::open("/proc/self/stat").expect("open before attach");
    let link = prog.attach_trace().expect("attach fmod_ret");
    for _ in 0..2 {
        let e = std::fs::File::open("/proc/self/stat").expect_err("open while modified");
        assert_eq!(e.raw_os_error(), Some(libc::EPERM), "{e}");
    }
    assert_eq!(count(&obj, "fmod_ret_hits"), 2);
    // Other threads are not affected.
    std::thread::spawn(|| std::fs::File::open("/proc/self/stat").map(drop))
        .join()
        .unwrap()
        .expect("open in another thread");
    drop(link);
    std::fs::File::open("/proc/self/stat").expect("open after the link was dropped");
    assert_eq!(count(&obj, "fmod_ret_hits"), 2);
}

/// Whether the BPF LSM is active (`bpf` in the LSM list), without which LSM programs attach
/// but never run.
fn bpf_lsm_active() -> bool {
    if let Ok(l) = std::fs::read_to_string("/sys/kernel/security/lsm") {
        return l.split(',').any(|x| x.trim() == "bpf");
    }
    std::fs::read_to_string("/proc/cmdline").is_ok_and(|c| {
        c.split_whitespace()
            .filter_map(|w| w.strip_prefix("lsm="))
            .any(|l| l.split(',').any(|x| x == "bpf"))
    })
}

#[test]
fn link_tracing_lsm_file_open() {
    if !common::privileged() {
        return;
    }
    if !common::have("link_tracing_lsm_file_open", "trampolines") {
        assert_trampoline_unsupported(load_for(&["lsm_file_open"], gettid()), "lsm");
        return;
    }
    if !bpf_lsm_active() {
        eprintln!(
            "link_tracing_lsm_file_open: the BPF LSM is not active on this kernel (probe: bpf in /sys/kernel/security/lsm or lsm= of /proc/cmdline)"
        );
        return;
    }
    let obj = load(&["lsm_file_open"]);
    let cookie = common::have("link_tracing_lsm_file_open", "bpf_cookie");
    let prog = obj.program("lsm_file_open").unwrap();
    let link = if cookie {
        prog.attach_lsm_with_cookie(9)
    } else {
        prog.attach_lsm()
    }
    .expect("attach lsm");
    for _ in 0..3 {
        std::fs::File::open("/proc/self/stat").expect("open");
    }
    assert_eq!(count(&obj, "lsm_hits"), 3);
    if cookie {
        assert_eq!(count(&obj, "lsm_cookie_seen"), 9);
    }
    drop(link);
    std::fs::File::open("/proc/self/stat").expect("open");
    assert_eq!(
        count(&obj, "lsm_hits"),
        3,
        "the hook ran after its link was dropped"
    );
}

/// freplace: new_pick replaces the global function `pick` of freplace_target.bpf.o's XDP
/// program, whose verdict turns from XDP_PASS to XDP_DROP while the link lives.
#[test]
fn link_tracing_freplace() {
    if !common::privileged() {
        return;
    }
    let target_obj = Loader::new()
        .load(&ObjectSpec::open("tests/bpf/freplace_target.bpf.o").expect("parse"))
        .expect("load freplace_target");
    let target = target_obj.program("freplace_entry").unwrap();
    let verdict = || {
        target
            .test_run(TestRun::with_data(&[0u8; 64]))
            .expect("test_run")
            .retval
    };
    assert_eq!(verdict(), 2, "XDP_PASS before");
    let loaded = Loader::new()
        .load_only("new_pick")
        .freplace_target("new_pick", target, None)
        .load(&spec());
    if !common::have("link_tracing_freplace", "trampolines") {
        assert_trampoline_unsupported(loaded, "freplace");
        return;
    }
    let obj = loaded.expect("load freplace program");
    let link = obj
        .program("new_pick")
        .unwrap()
        .attach_freplace()
        .expect("attach freplace");
    assert_eq!(verdict(), 1, "XDP_DROP while replaced");
    drop(link);
    assert_eq!(verdict(), 2, "XDP_PASS after the link was dropped");

    // The same program replacing `pick` of another instance of the target.
    let other_obj = Loader::new()
        .load(&ObjectSpec::open("tests/bpf/freplace_target.bpf.o").expect("parse"))
        .expect("load a second freplace_target");
    let other = other_obj.program("freplace_entry").unwrap();
    let other_verdict = || {
        other
            .test_run(TestRun::with_data(&[0u8; 64]))
            .expect("test_run")
            .retval
    };
    let link = obj
        .program("new_pick")
        .unwrap()
        .attach_freplace_to(other, "pick")
        .expect("attach freplace to another target");
    assert_eq!(other_verdict(), 1, "XDP_DROP in the other target");
    assert_eq!(verdict(), 2, "the load-time target is not affected");
    drop(link);
    assert_eq!(other_verdict(), 2);
    let e = obj
        .program("new_pick")
        .unwrap()
        .attach_freplace_to(other, "no_such_func")
        .expect_err("unknown function");
    assert!(matches!(e, rawbpf::Error::InvalidArgument(_)), "{e}");

    // Without a target program the loader says what is missing.
    let e = Loader::new()
        .load_only("new_pick")
        .load(&spec())
        .expect_err("freplace without a target");
    assert!(e.to_string().contains("freplace_target"), "{e}");
}

/// iter/task: the program prints a line for this process; read it through ITER_CREATE, from
/// a pid-filtered iterator, and from the pinned link's file.
#[test]
fn link_tracing_iter_task() {
    if !common::privileged() {
        return;
    }
    let obj = load(&["dump_task"]);
    let prog = obj.program("dump_task").unwrap();
    let pid = std::process::id();
    let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
    let line = format!("rawbpf-iter tgid={pid} comm={}\n", comm.trim_end());

    let it = prog
        .attach_iter(IterOptions::default())
        .expect("attach iter");
    assert_eq!(it.info().unwrap().link_type, LinkType::ITER);
    let text = it.open().expect("iter open").read_all().expect("read");
    assert_eq!(text.matches(&line).count(), 1, "{text:?} lacks {line:?}");
    // Each open is a new run.
    let mut again = String::new();
    it.open().unwrap().read_to_string(&mut again).unwrap();
    assert!(again.contains(&line));

    // Only this process's tasks.
    let only = prog
        .attach_iter(IterOptions::Task { tid: 0, pid })
        .expect("attach iter with a pid");
    let text = only.open().unwrap().read_all().unwrap();
    assert_eq!(
        text, line,
        "a pid-filtered task iterator printed more than this process"
    );

    let dir = common::PinDir::new("iter");
    it.pin(dir.join("tasks")).expect("pin iterator link");
    let pinned = std::fs::read_to_string(dir.join("tasks")).expect("read the pin");
    assert!(pinned.contains(&line), "{pinned:?}");
    let reopened = rawbpf::link::IterLink::from_pin(dir.join("tasks")).expect("from_pin");
    assert!(reopened.open().unwrap().read_all().unwrap().contains(&line));

    let e = obj
        .program("dump_task")
        .unwrap()
        .attach_raw_tracepoint("sys_enter")
        .expect_err("iter is not raw_tp");
    assert!(matches!(e, rawbpf::Error::InvalidArgument(_)), "{e}");
}

/// A syscall program through BPF_PROG_TEST_RUN: it writes into its context, which the kernel
/// copies back.
#[test]
fn link_tracing_syscall_prog() {
    if !common::privileged() {
        return;
    }
    let obj = load(&["syscall_sum"]);
    let mut ctx = [0u8; 24];
    ctx[..8].copy_from_slice(&40u64.to_ne_bytes());
    ctx[8..16].copy_from_slice(&2u64.to_ne_bytes());
    let r = obj
        .program("syscall_sum")
        .unwrap()
        .test_run(TestRun::with_ctx(&mut ctx))
        .expect("test_run");
    assert_eq!(r.retval, 42);
    assert_eq!(u64::from_ne_bytes(ctx[16..].try_into().unwrap()), 42);
}

const CHILD_ENV: &str = "RAWBPF_LINK_TRACING_CHILD_DIR";

/// Not a test on its own: the child process of `link_tracing_pinned_link_outlives_process`
/// (which sets CHILD_ENV) attaches the raw_tp program for every thread, pins the link and the
/// counters and exits.
#[test]
fn link_tracing_child_pins_link() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let obj = load_for(&["raw_tp_getppid"], 0).expect("child: load");
    let link = obj
        .program("raw_tp_getppid")
        .unwrap()
        .attach_raw_tracepoint("sys_enter")
        .expect("child: attach");
    link.pin(dir.join("link")).expect("child: pin link");
    let bss = obj
        .maps()
        .find(|(n, _)| n.ends_with(".bss"))
        .expect("child: .bss")
        .1;
    bss.pin(dir.join("bss")).expect("child: pin .bss");
    getppid();
}

#[test]
fn link_tracing_pinned_link_outlives_process() {
    if !common::privileged() {
        return;
    }
    let dir = common::PinDir::new("rawtp");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "link_tracing_child_pins_link", "--nocapture"])
        .env(CHILD_ENV, dir.path())
        .status()
        .expect("run the child");
    assert!(status.success(), "child failed: {status}");

    let off = spec()
        .maps
        .iter()
        .find(|m| m.name.ends_with(".bss"))
        .and_then(|m| m.variable("raw_tp_hits"))
        .expect("raw_tp_hits in .bss")
        .offset as usize;
    let bss = Map::from_pin(dir.join("bss")).expect("open pinned .bss");
    let hits = || {
        let v = bss.get(&0u32.to_ne_bytes()).unwrap().expect("element 0");
        u64::from_ne_bytes(v[off..off + 8].try_into().unwrap())
    };
    let link = Link::from_pin(dir.join("link")).expect("the pinned link outlived its process");
    assert_eq!(link.info().unwrap().link_type, LinkType::RAW_TRACEPOINT);
    drop(link);
    let before = hits();
    assert!(before >= 1, "the child's own getppid was not counted");
    getppid();
    assert!(
        hits() > before,
        "the pinned link does not run after its process exited"
    );

    // Removing the pin lets the link go (the kernel frees it asynchronously).
    std::fs::remove_file(dir.join("link")).unwrap();
    let stopped = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        let a = hits();
        getppid();
        hits() == a
    });
    assert!(
        stopped,
        "the program still runs after its link's pin was removed"
    );
}

/// A TCP connection over `lo` of a fresh netns with congestion control `cc`: sends 4 MiB
/// through it and returns the congestion control the socket reports, or the setsockopt error.
fn tcp_transfer_with(cc: String) -> std::io::Result<String> {
    use nix::sys::socket::{getsockopt, setsockopt, sockopt::TcpCongestion};
    use std::io::Write;
    common::in_netns(move || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let reader = std::thread::spawn(move || -> std::io::Result<usize> {
            let (mut s, _) = listener.accept()?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf)
        });
        let mut client = std::net::TcpStream::connect(addr)?;
        setsockopt(&client, TcpCongestion, &std::ffi::OsString::from(&cc))?;
        let chunk = vec![0x5au8; 64 * 1024];
        for _ in 0..64 {
            client.write_all(&chunk)?;
        }
        let now = getsockopt(&client, TcpCongestion)?;
        drop(client);
        assert_eq!(reader.join().unwrap()?, 64 * chunk.len());
        Ok(now.to_string_lossy().trim_end_matches('\0').to_owned())
    })
}

/// struct_ops: registers struct_ops_cc.h's congestion control under a unique name, runs a
/// loopback TCP transfer with it in a netns, checks that its init and cong_avoid ran and that
/// the name is gone after the registration is dropped.
fn struct_ops_cc(test: &str, obj_file: &str, link: bool) {
    let spec = ObjectSpec::open(obj_file).expect("parse");
    let st = &spec.struct_ops[0];
    assert_eq!(st.name, "rawbpf_cc");
    assert_eq!(st.type_name, "tcp_congestion_ops");
    assert_eq!(st.is_link(), link);
    assert_eq!(
        st.member_of_program("rb_cong_avoid")
            .map(|m| m.name.as_str()),
        Some("cong_avoid")
    );
    let loaded = Loader::new().load(&spec);
    if link && !common::have(test, "struct_ops_link") {
        let e = loaded.expect_err("a .struct_ops.link map on a kernel without struct_ops links");
        assert!(e.to_string().contains("struct_ops links"), "{e}");
        return;
    }
    let mut obj = loaded.expect("load struct_ops object");
    let name = common::unique_name("rbcc");
    let ops = obj.struct_ops_mut("rawbpf_cc").expect("struct_ops map");
    assert_eq!(ops.is_link(), link);
    assert!(
        ops.data().windows(10).any(|w| w == b"rawbpf_cc\0"),
        "the object's name member was not copied into the kernel struct"
    );
    ops.set_member("name", format!("{name}\0").as_bytes())
        .expect("set name");
    let ops = obj.struct_ops("rawbpf_cc").unwrap();
    let reg = ops.attach().expect("attach struct_ops");
    if link {
        let l = reg.link().expect("a link");
        assert_eq!(l.info().unwrap().link_type, LinkType::STRUCT_OPS);
    }
    let now = tcp_transfer_with(name.clone()).expect("TCP transfer with our congestion control");
    assert_eq!(now, name);
    assert!(
        obj.global::<u64>("init_calls").unwrap() >= 1,
        "init did not run"
    );
    let avoided = obj.global::<u64>("cong_avoid_calls").unwrap();
    assert!(avoided >= 1, "cong_avoid did not run");
    drop(reg);
    // Unregistered: the name is unknown again (the kernel may take a moment to let go).
    let gone = (0..50).any(|_| match tcp_transfer_with(name.clone()) {
        Err(e) => e.raw_os_error() == Some(libc::ENOENT),
        Ok(_) => {
            std::thread::sleep(Duration::from_millis(20));
            false
        }
    });
    assert!(
        gone,
        "{test}: congestion control {name} still registered after drop"
    );
}

#[test]
fn link_tracing_struct_ops_link() {
    if !common::privileged() {
        return;
    }
    struct_ops_cc(
        "link_tracing_struct_ops_link",
        "tests/bpf/struct_ops_link.bpf.o",
        true,
    );
}

#[test]
fn link_tracing_struct_ops_map() {
    if !common::privileged() {
        return;
    }
    struct_ops_cc(
        "link_tracing_struct_ops_map",
        "tests/bpf/struct_ops_legacy.bpf.o",
        false,
    );
}

/// The newer SEC() kinds: a kernel that has the feature loads (and, for raw_tp.s/tp_btf.s,
/// runs) the program; one that lacks it refuses the load with `Unsupported` naming it.
#[test]
fn link_tracing_new_section_kinds() {
    if !common::privileged() {
        return;
    }
    let test = "link_tracing_new_section_kinds";
    let unsupported = |prog: &str, feature: &str| {
        let e = load_for(&[prog], gettid()).expect_err(prog);
        let s = e.to_string();
        assert!(s.contains("not supported"), "{prog}: {e:?}");
        assert!(s.contains(feature), "{prog}: {s}");
    };
    let sleepable = rawbpf::features::sleepable_tracepoints();
    if common::supported(
        test,
        "sleepable_tracepoints",
        "features::sleepable_tracepoints",
        sleepable,
    ) {
        load_for(&["tp_sleepable"], gettid()).expect("tp.s loads");
        let obj = load(&["raw_tp_sleepable", "tp_btf_sleepable"]);
        let a = obj
            .program("raw_tp_sleepable")
            .unwrap()
            .attach_raw_tracepoint("sys_enter")
            .expect("raw_tp.s");
        let b = obj
            .program("tp_btf_sleepable")
            .unwrap()
            .attach_tp_btf()
            .expect("tp_btf.s");
        getppid();
        assert_eq!(count(&obj, "raw_tp_s_hits"), 1);
        assert_eq!(count(&obj, "tp_btf_s_hits"), 1);
        drop((a, b));
        getppid();
        assert_eq!(count(&obj, "raw_tp_s_hits"), 1);
    } else {
        for p in ["tp_sleepable", "raw_tp_sleepable", "tp_btf_sleepable"] {
            unsupported(p, "sleepable tracepoint programs");
        }
    }
    if common::supported(
        test,
        "fsession",
        "features::fsession",
        rawbpf::features::fsession(),
    ) {
        let obj = load(&["fsession_unlinkat"]);
        let link = obj
            .program("fsession_unlinkat")
            .unwrap()
            .attach_trace()
            .expect("attach fsession");
        let _ = std::fs::remove_file(format!("/tmp/rawbpf-missing-{}", common::unique_name("fs")));
        assert_eq!(count(&obj, "fsession_hits"), 2, "entry and exit");
        drop(link);
    } else {
        unsupported("fsession_unlinkat", "");
    }
    // Always refused for now: rawbpf does not create multi-function tracing links (and a
    // kernel without trampolines or without BPF_TRACE_FENTRY_MULTI says so first).
    let e = load_for(&["fentry_multi"], gettid()).expect_err("fentry.multi");
    let s = e.to_string();
    assert!(s.contains("not supported"), "{e:?}");
    assert!(
        s.contains("multi-function tracing") || s.contains("trampolines"),
        "{s}"
    );
}

/// iter/bpf_map_elem with a map parameter: one line per element of the map given at attach.
#[test]
fn link_tracing_iter_map_elems() {
    if !common::privileged() {
        return;
    }
    use std::os::fd::AsFd;
    let obj = match load_for(&["dump_map"], gettid()) {
        Ok(o) => o,
        // This CI host refuses bpf_map_elem iterator programs at load with EPERM before
        // verifying a single instruction (iter/task loads); the VM kernels load them and list
        // `iter_map_elem` in RAWBPF_EXPECT_FEATURES.
        Err(e) if e.errno() == Some(rawbpf::sys::Errno::EPERM) => {
            assert!(
                !common::expected("iter_map_elem"),
                "RAWBPF_EXPECT_FEATURES lists iter_map_elem, but the load was refused: {e}"
            );
            eprintln!(
                "link_tracing_iter_map_elems: iter_map_elem refused on this machine (probe: the load of iter/bpf_map_elem): {e}"
            );
            return;
        }
        Err(e) => panic!("load dump_map: {e}"),
    };
    let map = obj.map("iter_map").expect("iter_map");
    for (k, v) in [(1u32, 10u64), (2, 20), (7, 70)] {
        map.update(&k.to_ne_bytes(), &v.to_ne_bytes(), Default::default())
            .expect("update");
    }
    let prog = obj.program("dump_map").unwrap();
    let it = prog
        .attach_iter(IterOptions::Map(map.as_fd()))
        .expect("attach bpf_map_elem iterator");
    let text = it.open().unwrap().read_all().unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, ["k=1 v=10", "k=2 v=20", "k=7 v=70"]);
    map.delete(&2u32.to_ne_bytes()).unwrap();
    let text = it.open().unwrap().read_all().unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    // This iterator needs a map: without one the kernel refuses the link.
    let e = prog
        .attach_iter(IterOptions::default())
        .expect_err("bpf_map_elem without a map");
    assert!(e.to_string().contains("BPF_LINK_CREATE"), "{e}");
}

/// Pure parsing (no kernel): the struct_ops variable, its members and which program each
/// function pointer names, as the object says.
#[test]
fn link_tracing_struct_ops_spec() {
    for (file, section) in [
        ("tests/bpf/struct_ops_link.bpf.o", ".struct_ops.link"),
        ("tests/bpf/struct_ops_legacy.bpf.o", ".struct_ops"),
    ] {
        let spec = ObjectSpec::open(file).expect("parse");
        assert_eq!(spec.struct_ops.len(), 1, "{file}");
        let st = &spec.struct_ops[0];
        assert_eq!(st.section, section);
        assert_eq!(st.data.len(), 8 * 4 + 16, "four pointers and char name[16]");
        let members: Vec<(&str, u32, u32, bool, Option<&str>)> = st
            .members
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.offset,
                    m.size,
                    m.is_func_ptr,
                    m.program.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            members,
            [
                ("ssthresh", 0, 8, true, Some("rb_ssthresh")),
                ("cong_avoid", 8, 8, true, Some("rb_cong_avoid")),
                ("undo_cwnd", 16, 8, true, Some("rb_undo_cwnd")),
                ("init", 24, 8, true, Some("rb_init")),
                ("name", 32, 16, false, None),
            ]
        );
        assert_eq!(&st.data[32..42], b"rawbpf_cc\0");
        // The struct_ops programs are ordinary programs of the spec.
        for p in ["rb_init", "rb_ssthresh", "rb_cong_avoid", "rb_undo_cwnd"] {
            let def = spec.program(p).expect(p).section_def().unwrap();
            assert_eq!(def.pattern, "struct_ops+");
        }
    }
    // Objects without struct_ops variables have none.
    assert!(spec().struct_ops.is_empty());
}

/// A struct_ops link switched to another object's ops of the same name (`BPF_LINK_UPDATE`):
/// new connections run the second object's programs, not the first's.
#[test]
fn link_tracing_struct_ops_link_update() {
    let test = "link_tracing_struct_ops_link_update";
    if !common::privileged() || !common::have(test, "struct_ops_link") {
        return;
    }
    let spec = ObjectSpec::open("tests/bpf/struct_ops_link.bpf.o").expect("parse");
    let name = common::unique_name("rbup");
    let load_named = || {
        let mut obj = Loader::new().load(&spec).expect("load");
        obj.struct_ops_mut("rawbpf_cc")
            .unwrap()
            .set_member("name", format!("{name}\0").as_bytes())
            .unwrap();
        obj
    };
    let (a, b) = (load_named(), load_named());
    let reg = a
        .struct_ops("rawbpf_cc")
        .unwrap()
        .attach()
        .expect("attach a");
    tcp_transfer_with(name.clone()).expect("transfer with a");
    let a_inits = a.global::<u64>("init_calls").unwrap();
    assert!(a_inits >= 1);
    assert_eq!(b.global::<u64>("init_calls").unwrap(), 0);

    reg.update(b.struct_ops("rawbpf_cc").unwrap())
        .expect("update the link to b");
    tcp_transfer_with(name.clone()).expect("transfer with b");
    assert!(
        b.global::<u64>("init_calls").unwrap() >= 1,
        "b's init did not run"
    );
    assert_eq!(
        a.global::<u64>("init_calls").unwrap(),
        a_inits,
        "a still runs"
    );
    drop(reg);
}
