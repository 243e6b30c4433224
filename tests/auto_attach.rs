//! Auto-attach (as root): `Program::attach` and `Object::attach_all` read each program's
//! target from its `SEC()` name, as libbpf's `bpf_program__attach` and skeleton attach do
//! (tests/bpf/auto_attach.bpf.c). Every attached program must really run (its counter moves
//! by exactly the number of triggers), the programs whose names give no target must be
//! skipped with a reason that names what they need, and dropping the attachments must stop
//! every program.
//!
//! ksyscall needs kprobes and fentry needs BPF trampolines: where the kernel lacks them (this
//! CI host), those programs are left out of the load and a direct `Program::attach` of the
//! ksyscall program must give the clean `Unsupported`; the VM guests have both and expect them.

mod common;

use rawbpf::loader::{Loader, Object};
use rawbpf::obj::ObjectSpec;
use rawbpf::{Error, features};

const OBJ: &str = "tests/bpf/auto_attach.bpf.o";
const TRIGGERS: u64 = 4;

const H_TP: usize = 0;
const H_RAW_TP: usize = 1;
const H_TP_BTF: usize = 2;
const H_UPROBE: usize = 3;
const H_KSYSCALL: usize = 4;
const H_FENTRY: usize = 5;
const H_ITER: usize = 6;

fn hits(obj: &Object) -> [u64; 8] {
    let b = obj.global_bytes("hits").expect("hits");
    let mut out = [0u64; 8];
    for (i, c) in b.chunks_exact(8).take(8).enumerate() {
        out[i] = u64::from_ne_bytes(c.try_into().expect("8 bytes"));
    }
    out
}

/// `getppid(2)` (tracepoint, raw_tp, tp_btf, ksyscall), libc `getpid()` (the uprobe) and an
/// `unlink(2)` of a missing file (fentry on do_unlinkat), `TRIGGERS` times each.
fn trigger() {
    let missing = std::env::temp_dir().join(format!(
        "rawbpf-auto-{}-missing",
        common::unique_name("auto")
    ));
    for _ in 0..TRIGGERS {
        let _ = nix::unistd::getppid();
        let _ = nix::unistd::getpid();
        let _ = std::fs::remove_file(&missing);
    }
}

#[test]
fn auto_attach_all_from_section_names() {
    if !common::privileged() {
        return;
    }
    let kprobes = common::have("auto_attach_all_from_section_names", "kprobes");
    let trampolines = common::have("auto_attach_all_from_section_names", "trampolines");
    let spec = ObjectSpec::open(OBJ).expect("open auto_attach.bpf.o");
    let mut loader = Loader::new().autoload("on_fentry", trampolines);
    if !kprobes {
        // Loads everywhere (the program type exists), but cannot attach: checked below.
        let obj = Loader::new()
            .load_only("on_ksyscall")
            .load(&spec)
            .expect("load on_ksyscall");
        let e = obj
            .program("on_ksyscall")
            .expect("on_ksyscall")
            .attach()
            .expect_err("a ksyscall attach without kprobes");
        assert!(e.is_not_supported(), "{e:?}");
        assert!(e.to_string().contains("kprobes"), "{e}");
        loader = loader.autoload("on_ksyscall", false);
    }
    let obj = loader.load(&spec).expect("load auto_attach.bpf.o");
    obj.set_global("target_tgid", &std::process::id())
        .expect("set target_tgid");

    let all = obj.attach_all().expect("attach_all");
    let mut attached: Vec<&str> = all.links.iter().map(|(n, _)| n.as_str()).collect();
    attached.sort_unstable();
    let mut want = vec!["on_iter", "on_raw_tp", "on_tp", "on_tp_btf", "on_uprobe"];
    if kprobes {
        want.push("on_ksyscall");
    }
    if trampolines {
        want.push("on_fentry");
    }
    want.sort_unstable();
    assert_eq!(attached, want);

    // The programs whose names give no target are reported, with what they need.
    let mut skipped: Vec<(&str, String)> = all
        .skipped
        .iter()
        .map(|(n, e)| (n.as_str(), e.to_string()))
        .collect();
    skipped.sort();
    assert_eq!(
        skipped.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        ["needs_cgroup", "needs_func", "needs_iface"]
    );
    for (name, msg) in &skipped {
        let need = match *name {
            "needs_cgroup" => "a cgroup",
            "needs_func" => "a function",
            _ => "a network interface",
        };
        assert!(
            msg.contains(need) && msg.contains("cannot be attached from its section name"),
            "{name}: {msg}"
        );
    }
    assert!(
        all.skipped
            .iter()
            .all(|(_, e)| matches!(e, Error::NoAutoAttach { .. }))
    );

    let before = hits(&obj);
    trigger();
    let after = hits(&obj);
    let moved = |slot: usize| after[slot] - before[slot];
    assert_eq!(moved(H_TP), TRIGGERS, "tp/syscalls/sys_enter_getppid");
    assert_eq!(moved(H_RAW_TP), TRIGGERS, "raw_tp/sys_enter");
    assert_eq!(moved(H_TP_BTF), TRIGGERS, "tp_btf/sys_enter");
    assert!(
        moved(H_UPROBE) >= TRIGGERS,
        "uprobe/libc.so.6:getpid: {}",
        moved(H_UPROBE)
    );
    if kprobes {
        assert_eq!(moved(H_KSYSCALL), TRIGGERS, "ksyscall/getppid");
    }
    if trampolines {
        assert_eq!(moved(H_FENTRY), TRIGGERS, "fentry/do_unlinkat");
    }

    // The iterator link reads: iter/task visits this process's threads.
    let iter = all.link("on_iter").expect("on_iter attached");
    let rawbpf::link::AnyLink::Iter(it) = iter else {
        panic!("iter/task gives an iterator link: {iter:?}");
    };
    it.open()
        .expect("open the iterator")
        .read_all()
        .expect("read it");
    assert!(hits(&obj)[H_ITER] >= 1, "iter/task saw this process");

    // Dropping the attachments detaches every program.
    drop(all);
    let before = hits(&obj);
    trigger();
    let after = hits(&obj);
    for slot in [H_TP, H_RAW_TP, H_TP_BTF, H_UPROBE, H_KSYSCALL, H_FENTRY] {
        assert_eq!(
            after[slot], before[slot],
            "slot {slot} still counts after drop"
        );
    }
}

#[test]
fn auto_attach_single_program_and_errors() {
    if !common::privileged() {
        return;
    }
    let spec = ObjectSpec::open(OBJ).expect("open auto_attach.bpf.o");
    let obj = Loader::new()
        .load_only("on_tp")
        .autoload("needs_iface", true)
        .load(&spec)
        .expect("load");
    obj.set_global("target_tgid", &std::process::id())
        .expect("set target_tgid");
    let link = obj
        .program("on_tp")
        .expect("on_tp")
        .attach()
        .expect("attach on_tp");
    assert!(matches!(link, rawbpf::link::AnyLink::Perf(_)), "{link:?}");
    let before = hits(&obj)[H_TP];
    trigger();
    assert_eq!(hits(&obj)[H_TP] - before, TRIGGERS);
    drop(link);
    let before = hits(&obj)[H_TP];
    trigger();
    assert_eq!(hits(&obj)[H_TP], before, "stopped after drop");

    let e = obj
        .program("needs_iface")
        .expect("needs_iface")
        .attach()
        .expect_err("XDP needs an interface");
    let msg = e.to_string();
    assert!(
        msg.contains("SEC(\"xdp\")") && msg.contains("attach_xdp"),
        "{msg}"
    );

    // A program made by hand has no section name to read.
    let p = rawbpf::Program::load(
        rawbpf::prog::ProgramType::XDP,
        &[
            rawbpf::insn::Insn::mov64_imm(rawbpf::insn::Reg::R0, 2),
            rawbpf::insn::Insn::exit(),
        ],
        &rawbpf::ProgramOptions::default(),
    )
    .expect("load by hand");
    assert!(matches!(p.attach(), Err(Error::NoAutoAttach { .. })));
    let _ = features::kprobes();
}
