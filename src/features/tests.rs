//! Each probe answers consistently (its second answer is the cached first), and on a kernel
//! listed in `RAWBPF_EXPECT_FEATURES` as having a feature, says it is there.

use super::*;

fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Whether `RAWBPF_EXPECT_FEATURES` (comma-separated [`ALL`] names) lists `feature`.
pub(crate) fn expected(feature: &str) -> bool {
    std::env::var("RAWBPF_EXPECT_FEATURES").is_ok_and(|v| v.split(',').any(|f| f.trim() == feature))
}

/// The gate of a test that needs `feature` ([`ALL`] name): `true` when the probe says it is
/// there; `false` after saying on stderr that it is not (a failure when the environment
/// expects it); a panic when the probe is inconclusive.
pub(crate) fn have(test: &str, feature: &str) -> bool {
    match by_name(feature).unwrap_or_else(|| panic!("no feature probe named {feature:?}")) {
        Ok(()) => true,
        Err(e) if e.is_not_supported() || e.is_refused_by_policy() => {
            assert!(
                !expected(feature),
                "{test}: RAWBPF_EXPECT_FEATURES lists {feature}, but the probe says: {e}"
            );
            let what = if e.is_refused_by_policy() {
                "refused on this machine"
            } else {
                "unsupported on this kernel"
            };
            eprintln!("{test}: {feature} {what} (probe: features::{feature}): {e}");
            false
        }
        Err(e) => panic!("{test}: the {feature} probe is inconclusive: {e}"),
    }
}

/// Runs `f` twice and checks both answers agree (the second is the cached first).
fn consistent(name: &str, f: impl Fn() -> Result<()>) -> Result<()> {
    let a = f();
    let b = f();
    assert_eq!(
        format!("{a:?}"),
        format!("{b:?}"),
        "{name}: the cached answer differs"
    );
    if let Err(e) = &a {
        assert!(
            e.is_not_supported() || e.is_refused_by_policy() || !root(),
            "{name}: inconclusive as root: {e}"
        );
    }
    a
}

#[test]
fn named_probes_are_consistent_and_meet_expectations() {
    if !root() {
        return;
    }
    for (name, f) in ALL {
        let r = consistent(name, f);
        assert_eq!(
            format!("{r:?}"),
            format!("{:?}", by_name(name).expect("listed")),
            "{name}"
        );
        match r {
            Ok(()) => eprintln!("feature {name}: available"),
            Err(e) => {
                assert!(
                    !expected(name),
                    "RAWBPF_EXPECT_FEATURES lists {name}, but: {e}"
                );
                eprintln!("feature {name}: unsupported ({e})");
            }
        }
    }
    assert!(by_name("no_such_feature").is_none());
}

#[test]
fn kprobes_probe() {
    if !root() {
        return;
    }
    let r = consistent("kprobes", kprobes);
    assert_eq!(
        r.is_ok(),
        crate::sys::perf_event::pmu_type("kprobe").is_ok()
    );
}

#[test]
fn trampolines_probe() {
    if !root() {
        return;
    }
    if let Err(e) = consistent("trampolines", trampolines) {
        assert!(e.to_string().contains("trampolines"), "{e}");
    }
}

#[test]
fn module_btf_probe() {
    if !root() {
        return;
    }
    let r = consistent("module_btf", module_btf);
    let listed = crate::btf::kernel_modules_with_btf().is_ok_and(|m| !m.is_empty());
    assert_eq!(r.is_ok(), listed);
}

#[test]
fn btf_probes_agree_with_the_kernel_btf() {
    if !root() {
        return;
    }
    let btf = Btf::from_kernel().expect("kernel BTF");
    let cases: [(&str, Probe, bool); 7] = [
        (
            "bpf_cookie",
            bpf_cookie,
            enum_has_name(&btf, "bpf_func_id", "BPF_FUNC_get_attach_cookie"),
        ),
        (
            "log_true_size",
            log_true_size,
            has_member(&btf, "bpf_attr", "log_true_size"),
        ),
        (
            "perf_event_link_info",
            perf_event_link_info,
            has_member(&btf, "bpf_link_info", "perf_event"),
        ),
        (
            "prog_stream",
            prog_stream,
            enum_has_name(&btf, "bpf_cmd", "BPF_PROG_STREAM_READ_BY_FD"),
        ),
        (
            "tcx",
            tcx,
            enum_has_name(&btf, "bpf_attach_type", "BPF_TCX_INGRESS"),
        ),
        (
            "uprobe_multi",
            uprobe_multi,
            enum_has_name(&btf, "bpf_link_type", "BPF_LINK_TYPE_UPROBE_MULTI"),
        ),
        (
            "netfilter",
            netfilter,
            enum_has_name(&btf, "bpf_prog_type", "BPF_PROG_TYPE_NETFILTER"),
        ),
    ];
    for (name, f, known) in cases {
        let r = consistent(name, f);
        assert_eq!(r.is_ok(), known, "{name}: {r:?}");
    }
    // Things every kernel with BTF has, and things none has.
    assert!(has_member(&btf, "bpf_attr", "prog_type"));
    assert!(!has_member(&btf, "bpf_attr", "no_such_member"));
    assert!(enum_has_name(&btf, "bpf_cmd", "BPF_MAP_CREATE"));
    assert_eq!(
        enum_knows_value(&btf, "bpf_attach_type", 100_000),
        Some(false)
    );
    assert_eq!(enum_knows_value(&btf, "no_such_enum", 0), None);
}

#[test]
fn path_fd_probe() {
    if !root() {
        return;
    }
    if let Err(e) = consistent("path_fd", path_fd) {
        assert!(e.to_string().contains("BPF_F_PATH_FD"), "{e}");
    }
}

#[test]
fn arena_probe() {
    if !root() {
        return;
    }
    let r = consistent("arena", arena);
    assert_eq!(format!("{r:?}"), format!("{:?}", map_type(MapType::ARENA)));
}

#[test]
fn prog_type_probes() {
    if !root() {
        return;
    }
    // Every kernel rawbpf supports has these.
    for t in [
        ProgType::SOCKET_FILTER,
        ProgType::KPROBE,
        ProgType::SCHED_CLS,
        ProgType::XDP,
        ProgType::TRACEPOINT,
        ProgType::CGROUP_SKB,
        ProgType::CGROUP_SOCK_ADDR,
        ProgType::CGROUP_SOCKOPT,
        ProgType::SK_LOOKUP,
        ProgType::SYSCALL,
        ProgType::TRACING,
    ] {
        consistent(&format!("{t:?}"), || prog_type(t)).unwrap_or_else(|e| panic!("{t:?}: {e}"));
    }
    // Every type rawbpf names gets an answer, never an inconclusive one as root.
    for t in 1..=32 {
        let r = consistent(&format!("{:?}", ProgType(t)), || prog_type(ProgType(t)));
        eprintln!("prog type {:?}: {r:?}", ProgType(t));
    }
    // The type after the last one the kernel knows.
    let e = prog_type(ProgType(63)).expect_err("program type 63");
    assert!(e.is_not_supported(), "{e}");
    assert!(prog_type(ProgType(1000)).is_err_and(|e| e.is_not_supported()));
}

#[test]
fn map_type_probes() {
    if !root() {
        return;
    }
    for t in [
        MapType::HASH,
        MapType::ARRAY,
        MapType::PROG_ARRAY,
        MapType::PERF_EVENT_ARRAY,
        MapType::STACK_TRACE,
        MapType::LPM_TRIE,
        MapType::ARRAY_OF_MAPS,
        MapType::HASH_OF_MAPS,
        MapType::SOCKMAP,
        MapType::CPUMAP,
        MapType::CGROUP_STORAGE,
        MapType::QUEUE,
        MapType::SK_STORAGE,
        MapType::RINGBUF,
        MapType::BLOOM_FILTER,
        MapType::USER_RINGBUF,
    ] {
        consistent(&format!("{t:?}"), || map_type(t)).unwrap_or_else(|e| panic!("{t:?}: {e}"));
    }
    for t in 1..=33 {
        let r = consistent(&format!("{:?}", MapType(t)), || map_type(MapType(t)));
        eprintln!("map type {:?}: {r:?}", MapType(t));
    }
    let e = map_type(MapType(63)).expect_err("map type 63");
    assert!(e.is_not_supported(), "{e}");
}

#[test]
fn attach_and_link_type_probes() {
    if !root() {
        return;
    }
    attach_type(AttachType::CGROUP_INET_INGRESS).expect("CGROUP_INET_INGRESS");
    attach_type(AttachType::TRACE_FENTRY).expect("TRACE_FENTRY");
    link_type(LinkType::RAW_TRACEPOINT).expect("RAW_TRACEPOINT links");
    assert!(attach_type(AttachType(127)).is_err_and(|e| e.is_not_supported()));
    assert!(attach_type(AttachType(5000)).is_err_and(|e| e.is_not_supported()));
    assert!(link_type(LinkType(63)).is_err_and(|e| e.is_not_supported()));
}

#[test]
fn kfunc_probe() {
    if !root() {
        return;
    }
    // A function every kernel with BTF has, and one none has.
    consistent("kfunc schedule", || kfunc("schedule")).expect("schedule is in every kernel's BTF");
    let e =
        consistent("kfunc none", || kfunc("rawbpf_no_such_kfunc")).expect_err("no such function");
    assert!(e.to_string().contains("rawbpf_no_such_kfunc"), "{e}");
    if expected("kfunc:bpf_task_from_pid") {
        kfunc("bpf_task_from_pid").expect("bpf_task_from_pid");
    }
}

#[test]
fn cached_outcomes_give_back_the_error() {
    let o = Outcome::from_error(
        Error::MissingCapability {
            call: "BPF_PROG_LOAD",
            capability: "CAP_BPF",
            context: None,
        },
        "x",
    );
    let e = o.result().expect_err("inconclusive");
    assert_eq!(e.errno(), Some(Errno::EPERM));
    assert!(!e.is_not_supported());
    let o = Outcome::from_error(
        Error::Unsupported {
            feature: "tcx",
            hint: "h".into(),
        },
        "x",
    );
    assert!(
        o.result()
            .is_err_and(|e| e.is_not_supported() && e.to_string().contains("tcx"))
    );
    let o = Outcome::from_error(
        Error::io("/p", std::io::Error::from_raw_os_error(libc::ENOENT)),
        "x",
    );
    assert_eq!(o.result().unwrap_err().errno(), Some(Errno::ENOENT));
    assert!(Outcome::Available.result().is_ok());
}

#[test]
fn policy_refusals_are_definite_and_say_so() {
    let o = Outcome::Refused {
        feature: "arena maps",
        call: "BPF_MAP_CREATE",
    };
    let e = o.result().expect_err("refused");
    assert!(e.is_refused_by_policy(), "{e:?}");
    assert!(!e.is_not_supported(), "{e:?}");
    assert_eq!(e.errno(), Some(Errno::EPERM));
    let msg = e.to_string();
    assert!(msg.contains("refused on this machine"), "{msg}");
    assert!(msg.contains("EPERM with every capability"), "{msg}");
    assert!(msg.contains("arena maps"), "{msg}");
    // Cached and converted back, it stays a definite refusal.
    let back = Outcome::from_error(e, "x");
    assert!(
        matches!(
            back,
            Outcome::Refused {
                feature: "arena maps",
                ..
            }
        ),
        "{back:?}"
    );
    // EPERM is a refusal only when no capability is missing: as root (every capability), a
    // probe's EPERM is the policy's; without CAP_BPF it stays inconclusive.
    let o = Outcome::failed("arena maps", "BPF_MAP_CREATE", Errno::EPERM, &[]);
    if root() {
        assert!(matches!(o, Outcome::Refused { .. }), "{o:?}");
    } else {
        assert!(matches!(o, Outcome::Syscall { .. }), "{o:?}");
    }
    let o = Outcome::failed("arena maps", "BPF_MAP_CREATE", Errno::ENOMEM, &[]);
    assert!(matches!(o, Outcome::Syscall { .. }), "{o:?}");
}

#[test]
fn sleepable_spin_lock_probe() {
    if !root() {
        return;
    }
    if let Err(e) = consistent("sleepable_spin_lock", sleepable_spin_lock) {
        assert!(e.to_string().contains("spin"), "{e}");
    }
}
