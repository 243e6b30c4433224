//! Programs against the running kernel: hand-assembled programs loaded and run with
//! test_run, verifier logs and statistics, pin/reopen/by id/info, and what this kernel
//! refuses.

mod common;

use std::os::fd::AsRawFd;

use rawbpf::Error;
use rawbpf::insn::{AluOp, Insn, JmpOp, Reg, Size};
use rawbpf::map::{Map, MapOptions, MapType};
use rawbpf::prog::{AttachType, LogLevel, Program, ProgramOptions, ProgramType, TestRun};
use rawbpf::sys::ProgFlags;

/// An Ethernet + IPv4 + UDP frame of `len` bytes (contents don't matter to these programs).
fn frame(len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len];
    f[12] = 0x08; // ethertype IPv4
    f[14] = 0x45;
    for (i, b) in f.iter_mut().enumerate().skip(34) {
        *b = i as u8;
    }
    f
}

fn opts(name: &str) -> ProgramOptions<'static> {
    ProgramOptions::default().name(name)
}

#[test]
fn socket_filter_returns_skb_len() {
    if !common::privileged() {
        return;
    }
    // r0 = skb->len; exit
    let insns = [Insn::ldx_mem(Size::W, Reg::R0, Reg::R1, 0), Insn::exit()];
    let p = Program::load(ProgramType::SOCKET_FILTER, &insns, &opts("sklen")).expect("load");
    let data = frame(64);
    let r = p
        .test_run(TestRun::with_data(&data).repeat(10))
        .expect("test_run");
    assert_eq!(
        r.retval,
        64 - 14,
        "skb->len is the frame without its Ethernet header"
    );
}

#[test]
fn xdp_rewrites_a_byte_and_returns_tx() {
    if !common::privileged() {
        return;
    }
    let insns = [
        Insn::ldx_mem(Size::W, Reg::R2, Reg::R1, 0), // data
        Insn::ldx_mem(Size::W, Reg::R3, Reg::R1, 4), // data_end
        Insn::mov64_reg(Reg::R4, Reg::R2),
        Insn::alu64_imm(AluOp::Add, Reg::R4, 1),
        Insn::jmp_reg(JmpOp::Gt, Reg::R4, Reg::R3, 3),
        Insn::st_mem(Size::B, Reg::R2, 0, 0xab),
        Insn::mov64_imm(Reg::R0, 3), // XDP_TX
        Insn::exit(),
        Insn::mov64_imm(Reg::R0, 1), // XDP_DROP
        Insn::exit(),
    ];
    let p = Program::load(ProgramType::XDP, &insns, &opts("xdptx")).expect("load xdp");
    let data = frame(64);
    let mut out = vec![0u8; 128];
    let r = p
        .test_run(TestRun::with_data(&data).data_out(&mut out))
        .expect("test_run");
    assert_eq!(r.retval, 3, "XDP_TX");
    assert_eq!(r.data_size_out, 64);
    assert_eq!(out[0], 0xab);
    assert_eq!(&out[1..64], &data[1..]);
}

#[test]
fn syscall_program_with_ctx_in_only() {
    if !common::privileged() {
        return;
    }
    // ctx[1] = ctx[0] * 2; return 7
    let insns = [
        Insn::ldx_mem(Size::DW, Reg::R2, Reg::R1, 0),
        Insn::alu64_imm(AluOp::Mul, Reg::R2, 2),
        Insn::stx_mem(Size::DW, Reg::R1, Reg::R2, 8),
        Insn::mov64_imm(Reg::R0, 7),
        Insn::exit(),
    ];
    let p = Program::load(
        ProgramType::SYSCALL,
        &insns,
        &opts("sysc").flags(ProgFlags::SLEEPABLE),
    )
    .expect("load");
    let mut ctx = [0u8; 16];
    ctx[..8].copy_from_slice(&21u64.to_ne_bytes());
    let r = p.test_run(TestRun::with_ctx(&mut ctx)).expect("test_run");
    assert_eq!(r.retval, 7);
    assert_eq!(
        u64::from_ne_bytes(ctx[8..].try_into().expect("8")),
        42,
        "written back into ctx_in"
    );
    // The kernel refuses ctx_out, data and repeat for syscall programs.
    let mut ctx = [0u8; 16];
    let mut out = [0u8; 16];
    let e = p
        .test_run(TestRun::with_ctx(&mut ctx).ctx_out(&mut out))
        .expect_err("ctx_out");
    assert_eq!(e.errno(), Some(rawbpf::sys::Errno::EINVAL), "{e}");
    let e = p
        .test_run(TestRun::with_data(&[0; 16]))
        .expect_err("data_in");
    assert_eq!(e.errno(), Some(rawbpf::sys::Errno::EINVAL), "{e}");
}

#[test]
fn verifier_rejection_carries_the_log() {
    if !common::privileged() {
        return;
    }
    // exit without setting r0
    let e = Program::load(ProgramType::SOCKET_FILTER, &[Insn::exit()], &opts("bad"))
        .expect_err("must be rejected");
    let Error::Verifier { log, name, .. } = &e else {
        panic!("not a verifier error: {e:?}")
    };
    assert_eq!(name.as_deref(), Some("bad"));
    assert!(log.as_str().contains("R0 !read_ok"), "log: {log:?}");
    assert!(e.to_string().contains("R0 !read_ok"), "display: {e}");
    assert!(
        format!("{e:?}").contains("\n"),
        "Debug prints the log unescaped"
    );
    // An out-of-bounds stack read.
    let insns = [Insn::ldx_mem(Size::DW, Reg::R0, Reg::R10, 8), Insn::exit()];
    let e = Program::load(ProgramType::SOCKET_FILTER, &insns, &opts("oob")).expect_err("rejected");
    assert!(matches!(e, Error::Verifier { .. }), "{e:?}");
}

#[test]
fn verifier_stats_and_growing_log() {
    if !common::privileged() {
        return;
    }
    let insns = [
        Insn::mov64_imm(Reg::R0, 0),
        Insn::jmp_imm(JmpOp::Eq, Reg::R1, 0, 1),
        Insn::mov64_imm(Reg::R0, 1),
        Insn::exit(),
    ];
    let p = Program::load(ProgramType::SOCKET_FILTER, &insns, &opts("stats")).expect("load");
    let st = p.verifier_stats().expect("stats kept on success");
    assert!(st.insns_processed >= 4, "{st:?}");
    assert!(st.insn_limit >= 1_000_000, "{st:?}");
    assert!(st.verification_time_usec.is_some(), "{st:?}");
    // A detailed log in a buffer far too small: it grows until the whole log fits.
    let mut o =
        opts("biglog").log_level(LogLevel::BRANCH | LogLevel::INSTRUCTION | LogLevel::STATS);
    o.log_size = 128;
    let many: Vec<Insn> = (0..200)
        .map(|i| Insn::mov64_imm(Reg::R0, i))
        .chain(std::iter::once(Insn::exit()))
        .collect();
    let p = Program::load(ProgramType::SOCKET_FILTER, &many, &o).expect("load with growing log");
    let log = p.verifier_log().expect("log kept");
    assert!(log.len() > 128, "log grew: {} bytes", log.len());
    assert!(log.contains("r0 = 199"), "whole log kept");
    assert!(p.verifier_stats().expect("stats").insns_processed >= 201);
}

#[test]
fn pin_reopen_by_id_and_info() {
    if !common::privileged() {
        return;
    }
    let map = Map::create(&MapOptions::new(MapType::ARRAY, 4, 8, 1).name("pmap")).expect("map");
    let ld = Insn::ld_map_fd(Reg::R1, map.as_raw_fd());
    let insns = [
        Insn::st_mem(Size::W, Reg::R10, -4, 0),
        Insn::mov64_reg(Reg::R2, Reg::R10),
        Insn::alu64_imm(AluOp::Add, Reg::R2, -4),
        ld[0],
        ld[1],
        Insn::call_helper(1),
        Insn::mov64_imm(Reg::R0, 0),
        Insn::exit(),
    ];
    let p = Program::load(ProgramType::SOCKET_FILTER, &insns, &opts("withmap")).expect("load");
    let info = p.info().expect("info");
    assert_eq!(info.name, "withmap");
    assert_eq!(info.prog_type, ProgramType::SOCKET_FILTER);
    assert_eq!(info.map_ids, vec![map.info().expect("map info").id]);
    assert_ne!(info.tag, [0; 8]);
    assert_eq!(info.tag_hex().len(), 16);
    assert!(info.xlated_len >= 8 * 8 && info.jited_len > 0, "{info:?}");
    assert!(info.verified_insns > 0 && info.gpl_compatible, "{info:?}");
    assert!(Program::ids().any(|id| id.expect("id") == info.id));

    let dir = common::PinDir::new("prog");
    p.pin(dir.join("p")).expect("pin");
    let again = Program::from_pin(dir.join("p")).expect("from_pin");
    let by_id = Program::from_id(info.id).expect("from_id");
    for q in [&again, &by_id] {
        let i = q.info().expect("info");
        assert_eq!((i.id, i.tag, &i.name), (info.id, info.tag, &info.name));
        assert_eq!(q.program_type(), ProgramType::SOCKET_FILTER);
    }
    assert_eq!(
        again
            .test_run(TestRun::with_data(&frame(64)))
            .expect("run")
            .retval,
        0
    );
    let e = Program::from_id(u32::MAX).expect_err("no such id");
    assert!(e.to_string().contains("ENOENT"), "{e}");
}

/// On this kernel programs needing a BPF trampoline are refused with EPERM before
/// verification: the error must say so, not blame privileges.
#[test]
fn fentry_is_unsupported_on_this_kernel() {
    if !common::privileged() {
        return;
    }
    let btf_id = bpftool_func_id("bpf_fentry_test1").unwrap_or(1);
    let o = opts("fentry")
        .expected_attach_type(AttachType::TRACE_FENTRY)
        .attach_btf_id(btf_id, None);
    let insns = [Insn::mov64_imm(Reg::R0, 0), Insn::exit()];
    match Program::load(ProgramType::TRACING, &insns, &o) {
        Ok(_) => eprintln!("this kernel loads fentry programs: nothing to check"),
        Err(e) => {
            assert!(e.is_not_supported(), "{e:?}");
            let s = e.to_string();
            assert!(s.contains("trampolines"), "{s}");
            assert!(!s.contains("ulimit"), "{s}");
        }
    }
}

/// The BTF id of the kernel function `name`, from `bpftool btf dump`.
fn bpftool_func_id(name: &str) -> Option<u32> {
    let out = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let needle = format!("FUNC '{name}'");
    let line = text.lines().find(|l| l.contains(&needle))?;
    line.strip_prefix('[')?.split(']').next()?.parse().ok()
}

#[test]
fn test_run_unsupported_type_is_not_supported() {
    if !common::privileged() {
        return;
    }
    let p = Program::load(
        ProgramType::TRACEPOINT,
        &[Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
        &opts("tp"),
    )
    .expect("load tracepoint prog");
    let e = p
        .test_run(TestRun::with_ctx(&mut [0u8; 8]))
        .expect_err("no test_run for tracepoints");
    assert!(e.is_not_supported(), "{e:?}");
}

/// An EPERM that comes from a missing capability names the capability.
#[test]
fn missing_capability_is_named() {
    if !common::privileged() {
        return;
    }
    use rawbpf::sys::caps::{CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN, drop_effective_capabilities};
    // Without CAP_NET_ADMIN (and CAP_SYS_ADMIN), an XDP program cannot be loaded.
    std::thread::spawn(|| {
        drop_effective_capabilities(&[CAP_NET_ADMIN, CAP_SYS_ADMIN]).expect("capset");
        let e = Program::load(
            ProgramType::XDP,
            &[Insn::mov64_imm(Reg::R0, 2), Insn::exit()],
            &opts("nocap"),
        )
        .expect_err("XDP load without CAP_NET_ADMIN");
        assert!(
            matches!(
                e,
                Error::MissingCapability {
                    capability: "CAP_NET_ADMIN",
                    ..
                }
            ),
            "{e:?}"
        );
        // A socket filter needs only CAP_BPF, which is still there.
        Program::load(
            ProgramType::SOCKET_FILTER,
            &[Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
            &opts("cap"),
        )
        .expect("socket filter with CAP_BPF");
        // Without CAP_BPF too, not even a map.
        drop_effective_capabilities(&[CAP_BPF]).expect("capset");
        let e = Map::create(&MapOptions::new(MapType::ARRAY, 4, 4, 1))
            .expect_err("map without CAP_BPF");
        assert!(
            matches!(
                e,
                Error::MissingCapability {
                    capability: "CAP_BPF",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("CAP_BPF"), "{e}");
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e));
}

/// Run statistics show up in the info while `BPF_ENABLE_STATS` is on.
#[test]
fn run_stats_in_info() {
    if !common::privileged() {
        return;
    }
    let p = Program::load(
        ProgramType::SOCKET_FILTER,
        &[Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
        &opts("stats"),
    )
    .expect("load");
    let stats =
        rawbpf::sys::enable_stats(rawbpf::sys::StatsType::RUN_TIME).expect("BPF_ENABLE_STATS");
    p.test_run(TestRun::with_data(&frame(64)).repeat(100))
        .expect("run");
    let info = p.info().expect("info");
    drop(stats);
    assert!(info.run_cnt >= 100, "{info:?}");
    assert!(info.run_time_ns > 0, "{info:?}");
    assert!(info.load_time.as_nanos() > 0);
}
