//! Tests of the link, BTF and miscellaneous commands against the running kernel (root only).

use std::os::fd::{AsFd, AsRawFd};

use super::perf_event::*;
use super::tests::{ret_prog, root};
use super::*;

fn load(prog_type: ProgType, imm: i32) -> std::os::fd::OwnedFd {
    load_as(prog_type, AttachType::default(), imm)
}

#[test]
fn tracepoint_link_and_queries() {
    if !root() {
        return;
    }
    let Ok(id) = mount::tracepoint_id("syscalls", "sys_enter_getppid") else {
        return;
    };
    let prog = load(ProgType::TRACEPOINT, 0);
    let attr = PerfEventAttr {
        type_: PERF_TYPE_TRACEPOINT,
        config: id,
        sample_period: 1,
        wakeup_events: 1,
        ..Default::default()
    };
    let pe = perf_event_open(&attr, -1, 0, None, 0).unwrap();
    let link = link_create_perf_event(prog.as_fd(), pe.as_fd(), 42).unwrap();
    assert_eq!(fd_kind(link.as_fd()).unwrap(), FdKind::Link);
    let info = link_info(link.as_fd()).unwrap();
    assert_eq!(info.type_, LinkType::PERF_EVENT);
    assert_eq!(info.prog_id, prog_info(prog.as_fd()).unwrap().id);
    let mut name = [0u8; 64];
    let info = link_info_with(
        link.as_fd(),
        LinkInfoBufs {
            name: Some(&mut name),
            ..Default::default()
        },
    )
    .unwrap();
    if crate::features::tests::have("tracepoint_link_and_queries", "perf_event_link_info") {
        assert_eq!(
            PerfEventType(info.perf_event().type_),
            PerfEventType::TRACEPOINT
        );
        assert!(
            name.starts_with(b"sys_enter_getppid\0"),
            "{:?}",
            String::from_utf8_lossy(&name)
        );
        assert_eq!(info.perf_event().word3, 42, "cookie");
    } else {
        // The kernel describes the link by type and program only.
        assert_eq!(
            PerfEventType(info.perf_event().type_),
            PerfEventType::UNSPEC
        );
        assert_eq!(name[0], 0, "the name buffer stays untouched");
    }

    // The link is listed by id and can be reopened.
    let lid = info.id;
    let again = link_get_fd_by_id(lid, ObjFlags::empty(), None).unwrap();
    assert_eq!(link_info(again.as_fd()).unwrap().id, lid);
    let mut cur = 0;
    let mut seen = false;
    while let Some(n) = link_get_next_id(cur).unwrap() {
        seen |= n == lid;
        cur = n;
    }
    assert!(seen);

    // task_fd_query on our own perf event fds: the linked one and one attached by ioctl.
    let prog2 = load(ProgType::TRACEPOINT, 0);
    let pe2 = perf_event_open(&attr, -1, 0, None, 0).unwrap();
    perf_event_set_bpf(pe2.as_fd(), prog2.as_fd()).unwrap();
    for (fd, p) in [(&pe, &prog), (&pe2, &prog2)] {
        let mut tp = [0u8; 64];
        let q = task_fd_query(std::process::id(), fd.as_raw_fd(), &mut tp).unwrap();
        assert_eq!(q.fd_type, TaskFdType::TRACEPOINT);
        assert_eq!(q.prog_id, prog_info(p.as_fd()).unwrap().id);
        assert!(tp.starts_with(b"sys_enter_getppid\0"));
    }
    // perf-event links cannot be detached, only closed.
    assert_eq!(link_detach(link.as_fd()), Err(Errno::EOPNOTSUPP));
}

#[test]
fn raw_tracepoint_and_stats() {
    if !root() {
        return;
    }
    let prog = load(ProgType::RAW_TRACEPOINT, 0);
    let link = raw_tracepoint_open(prog.as_fd(), Some(c"sys_enter"), 0).unwrap();
    let mut name = [0u8; 32];
    let info = link_info_with(
        link.as_fd(),
        LinkInfoBufs {
            name: Some(&mut name),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(info.type_, LinkType::RAW_TRACEPOINT);
    assert!(name.starts_with(b"sys_enter\0"));

    // Stats count test runs while the stats fd is open.
    let stats = enable_stats(StatsType::RUN_TIME).unwrap();
    let ctx = &mut [0u8; 16];
    let out = prog_test_run(
        prog.as_fd(),
        &mut TestRunArgs {
            ctx_in: Some(ctx),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.retval, 0);
    assert!(prog_info(prog.as_fd()).unwrap().run_cnt >= 1);
    drop(stats);
}

#[test]
fn btf_load_and_info() {
    if !root() {
        return;
    }
    // Header, one `int` type (INT, 4 bytes, 32 bits), strings "\0int\0".
    let mut blob = Vec::new();
    for v in [
        0xeb9fu16.to_le_bytes().as_slice(),
        &[1, 0],
        &24u32.to_le_bytes(),
    ] {
        blob.extend_from_slice(v);
    }
    for v in [0u32, 16, 16, 5] {
        blob.extend_from_slice(&v.to_le_bytes());
    }
    for v in [1u32, 1 << 24, 4, 32] {
        blob.extend_from_slice(&v.to_le_bytes());
    }
    blob.extend_from_slice(b"\0int\0");
    let mut log = vec![0u8; 1024];
    let mut args = BtfLoadArgs {
        data: &blob,
        log: Some(&mut log),
        log_level: 1,
        ..Default::default()
    };
    let btf = btf_load(&mut args).unwrap();
    assert_eq!(fd_kind(btf.as_fd()).unwrap(), FdKind::Btf);
    let mut data = vec![0u8; blob.len()];
    let info = btf_info(btf.as_fd(), Some(&mut data), None).unwrap();
    assert_eq!(info.btf_size as usize, blob.len());
    assert_eq!(data, blob);
    assert_eq!(info.kernel_btf, 0);
    let mut cur = 0;
    let mut seen = false;
    while let Some(n) = btf_get_next_id(cur).unwrap() {
        seen |= n == info.id;
        cur = n;
    }
    assert!(seen);
    assert!(btf_get_fd_by_id(info.id, ObjFlags::empty(), None).is_ok());

    // Loading garbage fails with a log.
    let mut log = vec![0u8; 1024];
    let mut args = BtfLoadArgs {
        data: &blob[..30],
        log: Some(&mut log),
        log_level: 1,
        ..Default::default()
    };
    assert!(btf_load(&mut args).is_err());
}

#[test]
fn bind_map_and_raw_info() {
    if !root() {
        return;
    }
    let prog = load(ProgType::SOCKET_FILTER, 1);
    let m = map_create(&MapCreateArgs {
        map_type: MapType::ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(prog_info(prog.as_fd()).unwrap().nr_map_ids, 0);
    prog_bind_map(prog.as_fd(), m.as_fd()).unwrap();
    let mut ids = [0u32; 4];
    let info = prog_info_with(
        prog.as_fd(),
        ProgInfoBufs {
            map_ids: Some(&mut ids),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(info.nr_map_ids, 1);
    assert_eq!(ids[0], map_info(m.as_fd()).unwrap().id);
    let mut raw = [0xffu8; 16];
    let n = obj_get_info_by_fd(m.as_fd(), &mut raw).unwrap();
    assert_eq!(n, 16);
    assert_eq!(
        u32::from_ne_bytes(raw[0..4].try_into().unwrap()),
        MapType::ARRAY.0
    );
    // Nothing was written to the program's stderr stream.
    let mut buf = [0u8; 64];
    let want = if crate::features::tests::have("bind_map_and_raw_info", "prog_stream") {
        Ok(0)
    } else {
        Err(Errno::EINVAL) // an unknown bpf(2) command
    };
    assert_eq!(
        prog_stream_read_by_fd(prog.as_fd(), StreamId::STDERR, &mut buf),
        want
    );
    // Tokens cannot be created in the initial user namespace.
    if let Ok(root) = mount::bpffs_root() {
        let dir = std::fs::File::open(root).unwrap();
        assert!(token_create(dir.as_fd()).is_err());
    }
    // Not a map: MapFd refuses it.
    assert_eq!(MapFd::from_fd(prog).unwrap_err(), Errno::EINVAL);
}

fn load_as(prog_type: ProgType, expected: AttachType, imm: i32) -> std::os::fd::OwnedFd {
    let insns = ret_prog(imm);
    let mut args = ProgLoadArgs {
        prog_type,
        insns: &insns,
        license: c"GPL",
        expected_attach_type: expected,
        ..Default::default()
    };
    prog_load(&mut args).expect("prog_load")
}

/// Runs `f` on a thread of its own in a fresh network namespace (whose `lo` has ifindex 1).
fn in_new_netns(f: impl FnOnce() + Send + 'static) {
    std::thread::spawn(move || {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET)");
        f()
    })
    .join()
    .expect("netns thread panicked");
}

#[test]
fn netns_links_xdp_tcx_netfilter() {
    if !root() {
        return;
    }
    in_new_netns(|| {
        let lo = AttachTarget::Ifindex(1);
        // XDP link, update, detach.
        let x1 = load_as(ProgType::XDP, AttachType::XDP, 2);
        let x2 = load_as(ProgType::XDP, AttachType::XDP, 2);
        let link = link_create(x1.as_fd(), lo, AttachType::XDP, 0).unwrap();
        let info = link_info(link.as_fd()).unwrap();
        assert_eq!((info.type_, info.xdp().ifindex), (LinkType::XDP, 1));
        assert_eq!(
            link_update(link.as_fd(), x2.as_fd(), Some(x2.as_fd())),
            Err(Errno::EPERM)
        );
        link_update(link.as_fd(), x2.as_fd(), Some(x1.as_fd())).unwrap();
        assert_eq!(
            link_info(link.as_fd()).unwrap().prog_id,
            prog_info(x2.as_fd()).unwrap().id
        );
        link_detach(link.as_fd()).unwrap();
        tcx_part(lo);
        netfilter_part();
    });
}

/// tcx: one program by link, one by PROG_ATTACH after it, then query.
fn tcx_part(lo: AttachTarget<'_>) {
    if !crate::features::tests::have("netns_links_xdp_tcx_netfilter", "tcx") {
        // The kernel rejects the attach type it does not know.
        let t = load_as(ProgType::SCHED_CLS, AttachType::TCX_INGRESS, 0);
        let e = link_create_mprog(
            t.as_fd(),
            lo,
            AttachType::TCX_INGRESS,
            AttachFlags::empty(),
            Relative::None,
            0,
        );
        assert_eq!(e.unwrap_err(), Errno::EINVAL);
        return;
    }
    {
        let t1 = load_as(ProgType::SCHED_CLS, AttachType::TCX_INGRESS, 0);
        let t2 = load_as(ProgType::SCHED_CLS, AttachType::TCX_INGRESS, 0);
        let tl = link_create_mprog(
            t1.as_fd(),
            lo,
            AttachType::TCX_INGRESS,
            AttachFlags::empty(),
            Relative::None,
            0,
        )
        .unwrap();
        let li = link_info(tl.as_fd()).unwrap();
        assert_eq!(li.type_, LinkType::TCX);
        assert_eq!(
            (li.id_attach().id_or_ifindex, li.id_attach().attach_type),
            (1, AttachType::TCX_INGRESS)
        );
        let id1 = prog_info(t1.as_fd()).unwrap().id;
        let id2 = prog_info(t2.as_fd()).unwrap().id;
        let opts = ProgAttachOpts {
            flags: AttachFlags::AFTER,
            relative: Relative::Id(id1),
            ..Default::default()
        };
        prog_attach(lo, t2.as_fd(), AttachType::TCX_INGRESS, &opts).unwrap();
        let (mut progs, mut links) = ([0u32; 4], [0u32; 4]);
        let bufs = ProgQueryBufs {
            prog_ids: Some(&mut progs),
            link_ids: Some(&mut links),
            ..Default::default()
        };
        let q = prog_query(lo, AttachType::TCX_INGRESS, 0, bufs).unwrap();
        assert_eq!(q.prog_cnt, 2);
        assert_eq!(&progs[..2], &[id1, id2]);
        assert_eq!(&links[..2], &[li.id, 0]);
        assert!(q.revision > 0);
        prog_detach(
            lo,
            Some(t2.as_fd()),
            AttachType::TCX_INGRESS,
            &ProgAttachOpts::default(),
        )
        .unwrap();
        let q = prog_query(lo, AttachType::TCX_INGRESS, 0, ProgQueryBufs::default()).unwrap();
        assert_eq!(q.prog_cnt, 1);
    }
}

/// Netfilter: NFPROTO_IPV4, NF_INET_LOCAL_IN, priority -128.
fn netfilter_part() {
    if !crate::features::tests::have("netns_links_xdp_tcx_netfilter", "netfilter") {
        // The kernel does not know the program type.
        let insns = [
            Insn {
                code: 0xb7,
                regs: 0,
                off: 0,
                imm: 1,
            },
            Insn {
                code: 0x95,
                regs: 0,
                off: 0,
                imm: 0,
            },
        ];
        let mut args = ProgLoadArgs {
            prog_type: ProgType::NETFILTER,
            insns: &insns,
            license: c"GPL",
            expected_attach_type: AttachType::NETFILTER,
            ..Default::default()
        };
        assert_eq!(prog_load(&mut args).unwrap_err(), Errno::EINVAL);
        return;
    }
    {
        let nf = load_as(ProgType::NETFILTER, AttachType::NETFILTER, 1);
        let nl = link_create_netfilter(nf.as_fd(), 2, 1, -128, 0).unwrap();
        let ni = link_info(nl.as_fd()).unwrap();
        assert_eq!(ni.type_, LinkType::NETFILTER);
        assert_eq!(
            (
                ni.netfilter().pf,
                ni.netfilter().hooknum,
                ni.netfilter().priority
            ),
            (2, 1, -128)
        );
    }
}

#[inline(never)]
#[unsafe(no_mangle)]
extern "C" fn rawbpf_sys_uprobe_target(x: u64) -> u64 {
    std::hint::black_box(x.wrapping_mul(3))
}

/// The binary and file offset that hold `addr`, from `/proc/self/maps`.
fn file_offset_of(addr: usize) -> (std::ffi::CString, u64) {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(range), Some(off), Some(path)) = (f.first(), f.get(2), f.get(5)) else {
            continue;
        };
        let (s, e) = range.split_once('-').unwrap();
        let (s, e) = (
            usize::from_str_radix(s, 16).unwrap(),
            usize::from_str_radix(e, 16).unwrap(),
        );
        if (s..e).contains(&addr) {
            let off = u64::from_str_radix(off, 16).unwrap();
            return (
                std::ffi::CString::new(*path).unwrap(),
                (addr - s) as u64 + off,
            );
        }
    }
    panic!("{addr:#x} not in /proc/self/maps");
}

#[test]
fn uprobes_single_and_multi() {
    if !root() || perf_event::pmu_type("uprobe").is_err() {
        return;
    }
    let target: extern "C" fn(u64) -> u64 = rawbpf_sys_uprobe_target;
    let (path, offset) = file_offset_of(target as usize);
    let stats = enable_stats(StatsType::RUN_TIME).unwrap();

    // Single uprobe through the PMU, attached by a perf-event link.
    let p1 = load(ProgType::KPROBE, 0);
    let probe = ProbeAttr::uprobe(&path, offset, false, 0).unwrap();
    let pe = perf_event_open_probe(&probe, std::process::id() as i32, -1, None, 0).unwrap();
    let _l1 = link_create_perf_event(p1.as_fd(), pe.as_fd(), 7).unwrap();

    if !crate::features::tests::have("uprobes_single_and_multi", "uprobe_multi") {
        // The single uprobe still fires; a uprobe.multi link is refused as an unknown
        // attach type (at load or at link time).
        for i in 0..3 {
            std::hint::black_box(target)(i);
        }
        assert!(prog_info(p1.as_fd()).unwrap().run_cnt >= 3);
        let insns = [
            Insn {
                code: 0xb7,
                regs: 0,
                off: 0,
                imm: 0,
            },
            Insn {
                code: 0x95,
                regs: 0,
                off: 0,
                imm: 0,
            },
        ];
        let mut load = ProgLoadArgs {
            prog_type: ProgType::KPROBE,
            insns: &insns,
            license: c"GPL",
            expected_attach_type: AttachType::TRACE_UPROBE_MULTI,
            ..Default::default()
        };
        let e = prog_load(&mut load).and_then(|p2| {
            let args = UprobeMultiArgs {
                path: &path,
                offsets: &[offset],
                pid: std::process::id(),
                ..Default::default()
            };
            link_create_uprobe_multi(p2.as_fd(), AttachType::TRACE_UPROBE_MULTI, &args)
        });
        assert_eq!(e.unwrap_err(), Errno::EINVAL);
        return;
    }

    // uprobe.multi on the same function.
    let p2 = load_as(ProgType::KPROBE, AttachType::TRACE_UPROBE_MULTI, 0);
    let args = UprobeMultiArgs {
        path: &path,
        offsets: &[offset],
        cookies: &[9],
        pid: std::process::id(),
        ..Default::default()
    };
    let l2 = link_create_uprobe_multi(p2.as_fd(), AttachType::TRACE_UPROBE_MULTI, &args).unwrap();

    for i in 0..3 {
        std::hint::black_box(target)(i);
    }
    assert!(prog_info(p1.as_fd()).unwrap().run_cnt >= 3);
    assert!(prog_info(p2.as_fd()).unwrap().run_cnt >= 3);
    drop(stats);

    let mut name = vec![0u8; 4096];
    let (mut offs, mut cookies) = ([0u64; 2], [0u64; 2]);
    let bufs = LinkInfoBufs {
        name: Some(&mut name),
        offsets: Some(&mut offs),
        cookies: Some(&mut cookies),
        ..Default::default()
    };
    let info = link_info_with(l2.as_fd(), bufs).unwrap();
    assert_eq!(info.type_, LinkType::UPROBE_MULTI);
    assert_eq!(info.uprobe_multi().count, 1);
    assert_eq!((offs[0], cookies[0]), (offset, 9));
    let canonical = std::fs::canonicalize(path.to_str().unwrap()).unwrap();
    assert!(
        name.starts_with(canonical.to_str().unwrap().as_bytes()),
        "{}",
        String::from_utf8_lossy(&name)
    );
}

/// The id of the `FUNC` type named `name` in the running kernel's BTF (a minimal walk of the
/// type section; enough for a test).
fn vmlinux_func_id(name: &str) -> Option<u32> {
    let b = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
    let u32_at =
        |o: usize| -> Option<u32> { Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?)) };
    let hdr_len = u32_at(4)? as usize;
    let (type_off, type_len, str_off) = (
        u32_at(8)? as usize,
        u32_at(12)? as usize,
        u32_at(16)? as usize,
    );
    let types = hdr_len + type_off;
    let strs = hdr_len + str_off;
    let (mut o, mut id) = (types, 1u32);
    while o < types + type_len {
        let (name_off, info) = (u32_at(o)? as usize, u32_at(o + 4)?);
        let (kind, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
        if kind == 12 {
            let s = &b[strs + name_off..];
            let end = s.iter().position(|&c| c == 0)?;
            if &s[..end] == name.as_bytes() {
                return Some(id);
            }
        }
        o += 12
            + match kind {
                1 | 14 | 17 => 4,
                3 => 12,
                4 | 5 | 15 | 19 => 12 * vlen,
                6 | 13 => 8 * vlen,
                _ => 0,
            };
        id += 1;
    }
    None
}

#[test]
fn iterator_link() {
    if !root() {
        return;
    }
    let Some(btf_id) = vmlinux_func_id("bpf_iter_bpf_map") else {
        return;
    };
    let insns = [
        Insn {
            code: 0xb7,
            regs: 0,
            off: 0,
            imm: 0,
        },
        Insn {
            code: 0x95,
            regs: 0,
            off: 0,
            imm: 0,
        },
    ];
    let mut log = vec![0u8; 8192];
    let mut args = ProgLoadArgs {
        prog_type: ProgType::TRACING,
        expected_attach_type: AttachType::TRACE_ITER,
        attach_btf_id: btf_id,
        insns: &insns,
        license: c"GPL",
        log: Some(&mut log),
        log_level: 1,
        ..Default::default()
    };
    let prog =
        prog_load(&mut args).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&log)));
    let link = link_create_iter(prog.as_fd(), None).unwrap();
    let mut name = [0u8; 32];
    let info = link_info_with(
        link.as_fd(),
        LinkInfoBufs {
            name: Some(&mut name),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(info.type_, LinkType::ITER);
    assert!(
        name.starts_with(b"bpf_map\0"),
        "{:?}",
        String::from_utf8_lossy(&name)
    );
    let it = iter_create(link.as_fd()).unwrap();
    assert_eq!(fd_kind(it.as_fd()).unwrap(), FdKind::Iter);
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut std::fs::File::from(it), &mut out).unwrap();
    assert!(out.is_empty());
}

#[test]
fn cgroup_attach_query_detach() {
    if !root() {
        return;
    }
    let Some(cg2) = mount::find_mounts("cgroup2")
        .ok()
        .and_then(|m| m.into_iter().next())
    else {
        return;
    };
    let dir = cg2.join(format!("rawbpf_sys_{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    struct Rmdir(std::path::PathBuf);
    impl Drop for Rmdir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let _g = Rmdir(dir.clone());
    {
        let cg = std::fs::File::open(&dir).unwrap();
        let target = AttachTarget::Fd(cg.as_fd());
        let p1 = load_as(ProgType::CGROUP_SKB, AttachType::CGROUP_INET_INGRESS, 1);
        let p2 = load_as(ProgType::CGROUP_SKB, AttachType::CGROUP_INET_INGRESS, 1);
        let opts = ProgAttachOpts {
            flags: AttachFlags::ALLOW_MULTI,
            ..Default::default()
        };
        prog_attach(target, p1.as_fd(), AttachType::CGROUP_INET_INGRESS, &opts).unwrap();
        let link = link_create(p2.as_fd(), target, AttachType::CGROUP_INET_INGRESS, 0).unwrap();
        let li = link_info(link.as_fd()).unwrap();
        assert_eq!(
            (li.type_, li.cgroup().attach_type),
            (LinkType::CGROUP, AttachType::CGROUP_INET_INGRESS)
        );

        let mut ids = [0u32; 4];
        let mut flags = [0u32; 4];
        let bufs = ProgQueryBufs {
            prog_ids: Some(&mut ids),
            prog_attach_flags: Some(&mut flags),
            ..Default::default()
        };
        let q = prog_query(target, AttachType::CGROUP_INET_INGRESS, 0, bufs).unwrap();
        assert_eq!(q.prog_cnt, 2);
        let mut got = ids[..2].to_vec();
        got.sort();
        let mut want = vec![
            prog_info(p1.as_fd()).unwrap().id,
            prog_info(p2.as_fd()).unwrap().id,
        ];
        want.sort();
        assert_eq!(got, want);
        // Too small a buffer: ENOSPC, and only one id written.
        let mut one = [0u32; 1];
        let e = prog_query(
            target,
            AttachType::CGROUP_INET_INGRESS,
            0,
            ProgQueryBufs {
                prog_ids: Some(&mut one),
                ..Default::default()
            },
        );
        assert_eq!(e, Err(Errno::ENOSPC));

        prog_detach(
            target,
            Some(p1.as_fd()),
            AttachType::CGROUP_INET_INGRESS,
            &ProgAttachOpts::default(),
        )
        .unwrap();
        link_detach(link.as_fd()).unwrap();
        let q = prog_query(
            target,
            AttachType::CGROUP_INET_INGRESS,
            0,
            ProgQueryBufs::default(),
        )
        .unwrap();
        assert_eq!(q.prog_cnt, 0);
    }
}
