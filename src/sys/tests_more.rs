//! Tests of the link, BTF and miscellaneous commands against the running kernel (root only).

use std::os::fd::{AsFd, AsRawFd};

use super::perf_event::*;
use super::*;

fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn load(prog_type: ProgType, imm: i32) -> std::os::fd::OwnedFd {
    let insns = [
        Insn {
            code: 0xb7,
            regs: 0,
            off: 0,
            imm,
        },
        Insn {
            code: 0x95,
            regs: 0,
            off: 0,
            imm: 0,
        },
    ];
    prog_load(&mut ProgLoadArgs {
        prog_type,
        insns: &insns,
        license: c"GPL",
        ..Default::default()
    })
    .expect("prog_load")
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
    // Not a map: MapFd refuses it.
    assert_eq!(MapFd::from_fd(prog).unwrap_err(), Errno::EINVAL);
}
