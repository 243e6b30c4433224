//! Table tests for the `SEC()` names libbpf understands, legacy spellings and bad names.

use super::target::parse_c_int;
use super::*;

fn def(name: &str) -> SectionDef<'_> {
    parse_section(name).unwrap_or_else(|| panic!("{name:?} should parse"))
}

/// (name, prog type, expected attach type, flags without LEGACY/NO_AUTOLOAD).
#[rustfmt::skip]
fn kinds() -> Vec<(&'static str, u32, u32, SecFlags)> {
    let n = SecFlags::empty();
    let att = SecFlags::ATTACHABLE;
    let att_opt = SecFlags::ATTACHABLE | SecFlags::EXP_ATTACH_OPT;
    let btf = SecFlags::ATTACH_BTF;
    let slp = SecFlags::SLEEPABLE;
    let frags = SecFlags::XDP_FRAGS;
    vec![
        ("socket", pt::SOCKET_FILTER, 0, n),
        ("sk_reuseport/migrate", pt::SK_REUSEPORT, at::SK_REUSEPORT_SELECT_OR_MIGRATE, att),
        ("sk_reuseport", pt::SK_REUSEPORT, at::SK_REUSEPORT_SELECT, att),
        ("kprobe/do_unlinkat", pt::KPROBE, 0, n),
        ("kretprobe/do_unlinkat", pt::KPROBE, 0, n),
        ("uprobe//bin/bash:readline", pt::KPROBE, 0, n),
        ("uprobe.s//bin/bash:readline", pt::KPROBE, 0, slp),
        ("uretprobe//bin/bash:readline", pt::KPROBE, 0, n),
        ("uretprobe.s//bin/bash:readline", pt::KPROBE, 0, slp),
        ("kprobe.multi/vfs_*", pt::KPROBE, at::TRACE_KPROBE_MULTI, n),
        ("kretprobe.multi/vfs_*", pt::KPROBE, at::TRACE_KPROBE_MULTI, n),
        ("kprobe.session/vfs_read", pt::KPROBE, at::TRACE_KPROBE_SESSION, n),
        ("uprobe.multi//lib/libc.so.6:malloc*", pt::KPROBE, at::TRACE_UPROBE_MULTI, n),
        ("uretprobe.multi//lib/libc.so.6:malloc", pt::KPROBE, at::TRACE_UPROBE_MULTI, n),
        ("uprobe.multi.s//lib/libc.so.6:free", pt::KPROBE, at::TRACE_UPROBE_MULTI, slp),
        ("uretprobe.multi.s//lib/libc.so.6:free", pt::KPROBE, at::TRACE_UPROBE_MULTI, slp),
        ("uprobe.session//bin/bash:main", pt::KPROBE, at::TRACE_UPROBE_SESSION, n),
        ("uprobe.session.s//bin/bash:main", pt::KPROBE, at::TRACE_UPROBE_SESSION, slp),
        ("ksyscall/execve", pt::KPROBE, 0, n),
        ("kretsyscall/execve", pt::KPROBE, 0, n),
        ("usdt//usr/lib/libc.so.6:libc:setjmp", pt::KPROBE, 0, SecFlags::USDT),
        ("usdt.s//usr/lib/libc.so.6:libc:setjmp", pt::KPROBE, 0, SecFlags::USDT | slp),
        ("tc/ingress", pt::SCHED_CLS, at::TCX_INGRESS, n),
        ("tc/egress", pt::SCHED_CLS, at::TCX_EGRESS, n),
        ("tcx/ingress", pt::SCHED_CLS, at::TCX_INGRESS, n),
        ("tcx/egress", pt::SCHED_CLS, at::TCX_EGRESS, n),
        ("tc", pt::SCHED_CLS, 0, n),
        ("classifier", pt::SCHED_CLS, 0, n),
        ("action", pt::SCHED_ACT, 0, n),
        ("netkit/primary", pt::SCHED_CLS, at::NETKIT_PRIMARY, n),
        ("netkit/peer", pt::SCHED_CLS, at::NETKIT_PEER, n),
        ("tracepoint/syscalls/sys_enter_execve", pt::TRACEPOINT, 0, n),
        ("tp/sched/sched_switch", pt::TRACEPOINT, 0, n),
        ("tracepoint.s/syscalls/sys_enter_openat", pt::TRACEPOINT, 0, slp),
        ("tp.s/syscalls/sys_enter_openat", pt::TRACEPOINT, 0, slp),
        ("raw_tracepoint.s/sys_enter", pt::RAW_TRACEPOINT, 0, slp),
        ("raw_tp.s/sys_enter", pt::RAW_TRACEPOINT, 0, slp),
        ("tp_btf.s/sys_enter", pt::TRACING, at::TRACE_RAW_TP, btf | slp),
        ("fsession/do_unlinkat", pt::TRACING, at::TRACE_FSESSION, btf),
        ("fsession.s/do_unlinkat", pt::TRACING, at::TRACE_FSESSION, btf | slp),
        ("fentry.multi/bpf_fentry_test*", pt::TRACING, at::TRACE_FENTRY_MULTI, n),
        ("fexit.multi/bpf_fentry_test*", pt::TRACING, at::TRACE_FEXIT_MULTI, n),
        ("fsession.multi/bpf_fentry_test*", pt::TRACING, at::TRACE_FSESSION_MULTI, n),
        ("fentry.multi.s/bpf_fentry_test*", pt::TRACING, at::TRACE_FENTRY_MULTI, slp),
        ("fexit.multi.s/bpf_fentry_test*", pt::TRACING, at::TRACE_FEXIT_MULTI, slp),
        ("fsession.multi.s/bpf_fentry_test*", pt::TRACING, at::TRACE_FSESSION_MULTI, slp),
        ("raw_tracepoint/sched_switch", pt::RAW_TRACEPOINT, 0, n),
        ("raw_tp/sched_switch", pt::RAW_TRACEPOINT, 0, n),
        ("raw_tracepoint.w/bpf_testmod_test_writable_bare", pt::RAW_TRACEPOINT_WRITABLE, 0, n),
        ("raw_tp.w/bpf_testmod_test_writable_bare", pt::RAW_TRACEPOINT_WRITABLE, 0, n),
        ("tp_btf/sched_switch", pt::TRACING, at::TRACE_RAW_TP, btf),
        ("fentry/do_unlinkat", pt::TRACING, at::TRACE_FENTRY, btf),
        ("fmod_ret/security_file_open", pt::TRACING, at::MODIFY_RETURN, btf),
        ("fexit/do_unlinkat", pt::TRACING, at::TRACE_FEXIT, btf),
        ("fentry.s/do_unlinkat", pt::TRACING, at::TRACE_FENTRY, btf | slp),
        ("fmod_ret.s/security_file_open", pt::TRACING, at::MODIFY_RETURN, btf | slp),
        ("fexit.s/do_unlinkat", pt::TRACING, at::TRACE_FEXIT, btf | slp),
        ("freplace/handle_packet", pt::EXT, 0, btf),
        ("lsm/file_open", pt::LSM, at::LSM_MAC, btf),
        ("lsm.s/file_open", pt::LSM, at::LSM_MAC, btf | slp),
        ("lsm_cgroup/socket_bind", pt::LSM, at::LSM_CGROUP, btf),
        ("iter/task", pt::TRACING, at::TRACE_ITER, btf),
        ("iter.s/task_file", pt::TRACING, at::TRACE_ITER, btf | slp),
        ("syscall", pt::SYSCALL, 0, slp),
        ("xdp.frags/devmap", pt::XDP, at::XDP_DEVMAP, frags),
        ("xdp/devmap", pt::XDP, at::XDP_DEVMAP, att),
        ("xdp.frags/cpumap", pt::XDP, at::XDP_CPUMAP, frags),
        ("xdp/cpumap", pt::XDP, at::XDP_CPUMAP, att),
        ("xdp.frags", pt::XDP, at::XDP, frags),
        ("xdp", pt::XDP, at::XDP, att_opt),
        ("perf_event", pt::PERF_EVENT, 0, n),
        ("lwt_in", pt::LWT_IN, 0, n),
        ("lwt_out", pt::LWT_OUT, 0, n),
        ("lwt_xmit", pt::LWT_XMIT, 0, n),
        ("lwt_seg6local", pt::LWT_SEG6LOCAL, 0, n),
        ("sockops", pt::SOCK_OPS, at::CGROUP_SOCK_OPS, att_opt),
        ("sk_skb/stream_parser", pt::SK_SKB, at::SK_SKB_STREAM_PARSER, att_opt),
        ("sk_skb/stream_verdict", pt::SK_SKB, at::SK_SKB_STREAM_VERDICT, att_opt),
        ("sk_skb/verdict", pt::SK_SKB, at::SK_SKB_VERDICT, att_opt),
        ("sk_skb", pt::SK_SKB, 0, n),
        ("sk_msg", pt::SK_MSG, at::SK_MSG_VERDICT, att_opt),
        ("lirc_mode2", pt::LIRC_MODE2, at::LIRC_MODE2, att_opt),
        ("flow_dissector", pt::FLOW_DISSECTOR, at::FLOW_DISSECTOR, att_opt),
        ("cgroup_skb/ingress", pt::CGROUP_SKB, at::CGROUP_INET_INGRESS, att_opt),
        ("cgroup_skb/egress", pt::CGROUP_SKB, at::CGROUP_INET_EGRESS, att_opt),
        ("cgroup/skb", pt::CGROUP_SKB, 0, n),
        ("cgroup/sock_create", pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_CREATE, att),
        ("cgroup/sock_release", pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_RELEASE, att),
        ("cgroup/sock", pt::CGROUP_SOCK, at::CGROUP_INET_SOCK_CREATE, att_opt),
        ("cgroup/post_bind4", pt::CGROUP_SOCK, at::CGROUP_INET4_POST_BIND, att),
        ("cgroup/post_bind6", pt::CGROUP_SOCK, at::CGROUP_INET6_POST_BIND, att),
        ("cgroup/bind4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_BIND, att),
        ("cgroup/bind6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_BIND, att),
        ("cgroup/connect4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_CONNECT, att),
        ("cgroup/connect6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_CONNECT, att),
        ("cgroup/connect_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_CONNECT, att),
        ("cgroup/sendmsg4", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP4_SENDMSG, att),
        ("cgroup/sendmsg6", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP6_SENDMSG, att),
        ("cgroup/sendmsg_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_SENDMSG, att),
        ("cgroup/recvmsg4", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP4_RECVMSG, att),
        ("cgroup/recvmsg6", pt::CGROUP_SOCK_ADDR, at::CGROUP_UDP6_RECVMSG, att),
        ("cgroup/recvmsg_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_RECVMSG, att),
        ("cgroup/getpeername4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_GETPEERNAME, att),
        ("cgroup/getpeername6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_GETPEERNAME, att),
        ("cgroup/getpeername_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_GETPEERNAME, att),
        ("cgroup/getsockname4", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET4_GETSOCKNAME, att),
        ("cgroup/getsockname6", pt::CGROUP_SOCK_ADDR, at::CGROUP_INET6_GETSOCKNAME, att),
        ("cgroup/getsockname_unix", pt::CGROUP_SOCK_ADDR, at::CGROUP_UNIX_GETSOCKNAME, att),
        ("cgroup/sysctl", pt::CGROUP_SYSCTL, at::CGROUP_SYSCTL, att),
        ("cgroup/getsockopt", pt::CGROUP_SOCKOPT, at::CGROUP_GETSOCKOPT, att),
        ("cgroup/setsockopt", pt::CGROUP_SOCKOPT, at::CGROUP_SETSOCKOPT, att),
        ("cgroup/dev", pt::CGROUP_DEVICE, at::CGROUP_DEVICE, att_opt),
        ("struct_ops/dctcp_init", pt::STRUCT_OPS, 0, n),
        ("struct_ops.s/test_1", pt::STRUCT_OPS, 0, slp),
        ("sk_lookup", pt::SK_LOOKUP, at::SK_LOOKUP, att),
        ("netfilter", pt::NETFILTER, at::NETFILTER, n),
    ]
}

#[test]
fn every_libbpf_kind() {
    for (name, prog_type, attach, flags) in kinds() {
        let d = def(name);
        assert_eq!(
            (d.prog_type, d.expected_attach_type, d.flags),
            (prog_type, attach, flags),
            "{name}"
        );
        assert_ne!(d.attach, Attach::Invalid(""), "{name}");
        assert!(
            !matches!(d.attach, Attach::Invalid(_)),
            "{name}: {:?}",
            d.attach
        );
    }
}

#[test]
fn every_table_pattern_parses_bare() {
    for pat in section_patterns() {
        let bare = pat.trim_end_matches('+');
        let d = def(bare);
        assert_eq!(d.pattern, pat, "{bare}");
        assert_eq!(d.attach, Attach::Manual, "{bare}");
        assert!(!d.auto_attach(), "{bare}");
    }
    // kinds() covers every table entry exactly once.
    let mut covered: Vec<&str> = kinds().iter().map(|k| def(k.0).pattern).collect();
    let mut all: Vec<&str> = section_patterns().collect();
    covered.sort_unstable();
    all.sort_unstable();
    assert_eq!(covered, all);
    // libbpf's development branch has 116 entries.
    assert_eq!(all.len(), 116);
}

#[test]
fn targets() {
    let cases: Vec<(&str, Attach<'_>)> = vec![
        (
            "kprobe/do_unlinkat",
            Attach::Kprobe {
                func: "do_unlinkat",
                offset: 0,
                retprobe: false,
            },
        ),
        (
            "kprobe/tcp_v4_connect+0x10",
            Attach::Kprobe {
                func: "tcp_v4_connect",
                offset: 16,
                retprobe: false,
            },
        ),
        (
            "kprobe/foo.isra.0",
            Attach::Kprobe {
                func: "foo.isra.0",
                offset: 0,
                retprobe: false,
            },
        ),
        (
            "kretprobe/do_unlinkat",
            Attach::Kprobe {
                func: "do_unlinkat",
                offset: 0,
                retprobe: true,
            },
        ),
        (
            "ksyscall/execve",
            Attach::Ksyscall {
                name: "execve",
                retprobe: false,
            },
        ),
        (
            "kretsyscall/openat",
            Attach::Ksyscall {
                name: "openat",
                retprobe: true,
            },
        ),
        (
            "kprobe.multi/vfs_*",
            Attach::KprobeMulti {
                pattern: "vfs_*",
                retprobe: false,
                session: false,
            },
        ),
        (
            "kretprobe.multi/tcp_?",
            Attach::KprobeMulti {
                pattern: "tcp_?",
                retprobe: true,
                session: false,
            },
        ),
        (
            "kprobe.session/vfs_read",
            Attach::KprobeMulti {
                pattern: "vfs_read",
                retprobe: false,
                session: true,
            },
        ),
        (
            "uprobe//usr/bin/bash:readline",
            Attach::Uprobe {
                binary: "/usr/bin/bash",
                func: Some("readline"),
                offset: 0,
                retprobe: false,
            },
        ),
        (
            "uprobe.s/libc.so.6:malloc+4",
            Attach::Uprobe {
                binary: "libc.so.6",
                func: Some("malloc"),
                offset: 4,
                retprobe: false,
            },
        ),
        (
            "uprobe//bin/true:0x1234",
            Attach::Uprobe {
                binary: "/bin/true",
                func: None,
                offset: 0x1234,
                retprobe: false,
            },
        ),
        (
            "uretprobe//bin/bash:readline",
            Attach::Uprobe {
                binary: "/bin/bash",
                func: Some("readline"),
                offset: 0,
                retprobe: true,
            },
        ),
        (
            "uprobe.multi//lib/libc.so.6:str*",
            Attach::UprobeMulti {
                binary: "/lib/libc.so.6",
                pattern: "str*",
                retprobe: false,
                session: false,
            },
        ),
        (
            "uretprobe.multi.s//lib/libc.so.6:free",
            Attach::UprobeMulti {
                binary: "/lib/libc.so.6",
                pattern: "free",
                retprobe: true,
                session: false,
            },
        ),
        (
            "uprobe.session.s//bin/x:f",
            Attach::UprobeMulti {
                binary: "/bin/x",
                pattern: "f",
                retprobe: false,
                session: true,
            },
        ),
        (
            "usdt//usr/lib/libc.so.6:libc:setjmp",
            Attach::Usdt {
                binary: "/usr/lib/libc.so.6",
                provider: "libc",
                name: "setjmp",
            },
        ),
        (
            "tracepoint/syscalls/sys_enter_execve",
            Attach::Tracepoint {
                category: "syscalls",
                name: "sys_enter_execve",
            },
        ),
        (
            "tp/sched/sched_switch",
            Attach::Tracepoint {
                category: "sched",
                name: "sched_switch",
            },
        ),
        (
            "raw_tp/sched_switch",
            Attach::RawTracepoint {
                name: "sched_switch",
            },
        ),
        (
            "raw_tracepoint.w/foo",
            Attach::RawTracepoint { name: "foo" },
        ),
        (
            "fentry/do_unlinkat",
            Attach::Btf {
                module: None,
                name: "do_unlinkat",
            },
        ),
        (
            "fentry/bpf_testmod:bpf_testmod_test_read",
            Attach::Btf {
                module: Some("bpf_testmod"),
                name: "bpf_testmod_test_read",
            },
        ),
        (
            "lsm/file_open",
            Attach::Btf {
                module: None,
                name: "file_open",
            },
        ),
        (
            "iter/task",
            Attach::Btf {
                module: None,
                name: "task",
            },
        ),
        (
            "struct_ops/dctcp_init",
            Attach::StructOps { name: "dctcp_init" },
        ),
        ("xdp", Attach::Manual),
        ("cgroup/connect4", Attach::Manual),
    ];
    for (name, want) in cases {
        assert_eq!(def(name).attach, want, "{name}");
    }
}

#[test]
fn btf_target_names_use_libbpf_prefixes() {
    assert_eq!(
        def("tp_btf/sched_switch").btf_target_name().as_deref(),
        Some("btf_trace_sched_switch")
    );
    assert_eq!(
        def("lsm.s/file_open").btf_target_name().as_deref(),
        Some("bpf_lsm_file_open")
    );
    assert_eq!(
        def("lsm_cgroup/socket_bind").btf_target_name().as_deref(),
        Some("bpf_lsm_socket_bind")
    );
    assert_eq!(
        def("iter/task").btf_target_name().as_deref(),
        Some("bpf_iter_task")
    );
    assert_eq!(
        def("fexit/do_unlinkat").btf_target_name().as_deref(),
        Some("do_unlinkat")
    );
    assert_eq!(
        def("freplace/xdp_func").btf_target_name().as_deref(),
        Some("xdp_func")
    );
    assert_eq!(def("kprobe/x").btf_target_name(), None);
}

#[test]
fn prog_flags_and_auto_attach() {
    assert_eq!(def("fentry.s/x").prog_flags(), BPF_F_SLEEPABLE);
    assert_eq!(def("syscall").prog_flags(), BPF_F_SLEEPABLE);
    assert_eq!(def("xdp.frags").prog_flags(), BPF_F_XDP_HAS_FRAGS);
    assert_eq!(def("xdp").prog_flags(), 0);
    assert!(def("kprobe/x").auto_attach());
    assert!(!def("kprobe").auto_attach());
    assert!(!def("tc/ingress").auto_attach());
}

#[test]
fn malformed_targets_are_invalid_not_errors() {
    for name in [
        "kprobe/",
        "kprobe/foo+bar",
        "kprobe/foo-bar",
        "kretprobe/foo+8",
        "uprobe/",
        "uprobe//bin/bash",
        "uprobe//bin/bash:",
        "uprobe/:main",
        "uprobe//bin/bash:main+zz",
        "uretprobe//bin/bash:main+8",
        "kprobe.multi/",
        "kprobe.multi/a:b",
        "uprobe.multi//bin/bash",
        "usdt//bin/x:prov",
        "usdt//bin/x:prov:name:extra",
        "usdt//bin/x::name",
        "tracepoint/syscalls",
        "tp/syscalls/",
        "tp//name",
        "raw_tp/",
        "fentry/",
        "fentry/:f",
        "ksyscall/",
        "struct_ops/",
    ] {
        let d = def(name);
        assert!(
            matches!(d.attach, Attach::Invalid(_)),
            "{name}: {:?}",
            d.attach
        );
        assert!(!d.auto_attach());
    }
}

#[test]
fn legacy_spellings() {
    for (name, prog_type, attach) in [
        ("socket/filter", pt::SOCKET_FILTER, 0),
        ("xdp/pass", pt::XDP, at::XDP),
        ("xdp.frags/pass", pt::XDP, at::XDP),
        ("classifier/ingress", pt::SCHED_CLS, 0),
        ("tc/my_prog", pt::SCHED_CLS, 0),
        ("action/x", pt::SCHED_ACT, 0),
        ("sk_msg/redir", pt::SK_MSG, at::SK_MSG_VERDICT),
        (
            "sk_skb/stream_parser/p",
            pt::SK_SKB,
            at::SK_SKB_STREAM_PARSER,
        ),
        ("sk_skb/other", pt::SK_SKB, 0),
        (
            "cgroup/connect4/x",
            pt::CGROUP_SOCK_ADDR,
            at::CGROUP_INET4_CONNECT,
        ),
        (
            "cgroup_skb/ingress/count",
            pt::CGROUP_SKB,
            at::CGROUP_INET_INGRESS,
        ),
        ("sk_lookup/dispatch", pt::SK_LOOKUP, at::SK_LOOKUP),
        ("perf_event/cycles", pt::PERF_EVENT, 0),
    ] {
        let d = def(name);
        assert_eq!(
            (d.prog_type, d.expected_attach_type),
            (prog_type, attach),
            "{name}"
        );
        assert!(d.flags.contains(SecFlags::LEGACY), "{name}");
        assert_eq!(d.attach, Attach::Manual);
    }
    assert!(!def("xdp").flags.contains(SecFlags::LEGACY));
    assert!(!def("xdp/devmap").flags.contains(SecFlags::LEGACY));
}

#[test]
fn question_mark_means_no_autoload() {
    let d = def("?kprobe/do_sys_open");
    assert!(d.flags.contains(SecFlags::NO_AUTOLOAD));
    assert_eq!(
        d.attach,
        Attach::Kprobe {
            func: "do_sys_open",
            offset: 0,
            retprobe: false
        }
    );
    assert!(!def("kprobe/x").flags.contains(SecFlags::NO_AUTOLOAD));
    assert!(parse_section("?").is_none());
    assert!(parse_section("??xdp").is_none());
}

#[test]
fn unknown_names_are_none() {
    for name in [
        "",
        "/",
        ".text",
        ".maps",
        "license",
        ".rodata",
        ".BTF",
        "kprobex",
        "kprobefoo/bar",
        "xdp_devmap",
        "xdp/",
        "socket/",
        "socketx",
        "tcx",
        "tcx/",
        "tcx/other",
        "cgroup",
        "cgroup/",
        "cgroup/unknown",
        "cgroup_skb",
        "netkit",
        "fentry.x/foo",
        "uprobe.foo/x",
        "XDP",
        " xdp",
        "xdp ",
        "\0",
        "ü/ö",
    ] {
        assert_eq!(parse_section(name), None, "{name:?}");
    }
}

#[test]
fn no_panic_on_arbitrary_names() {
    let pieces = [
        "", "/", ":", "+", "+0x", "kprobe", "uprobe", "usdt", "tp", "é", "?", "0", "xdp", ".s",
    ];
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let name = format!("{a}{b}{c}");
                let _ = parse_section(&name);
            }
        }
    }
}

#[test]
fn c_integers() {
    assert_eq!(parse_c_int("10"), Some(10));
    assert_eq!(parse_c_int("0x1f"), Some(31));
    assert_eq!(parse_c_int("010"), Some(8));
    assert_eq!(parse_c_int("0"), Some(0));
    assert_eq!(parse_c_int(""), None);
    assert_eq!(parse_c_int("0x"), None);
    assert_eq!(parse_c_int("+5"), None);
    assert_eq!(parse_c_int("08"), None);
    assert_eq!(parse_c_int("99999999999999999999999"), None);
}
