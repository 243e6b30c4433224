//! Tests of the raw layer against the running kernel; the ones that need root return early
//! without it.

use std::ffi::CString;
use std::os::fd::AsFd;

use super::*;

pub(super) fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `r0 = imm; exit`.
pub(super) fn ret_prog(imm: i32) -> [Insn; 2] {
    [
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
    ]
}

fn hash(key_size: u32, value_size: u32) -> MapFd {
    map_create(&MapCreateArgs {
        map_type: MapType::HASH,
        key_size,
        value_size,
        max_entries: 8,
        name: "sys_test_hash",
        ..Default::default()
    })
    .expect("map_create")
}

#[test]
fn map_elements() {
    if !root() {
        return;
    }
    let m = hash(4, 8);
    assert_eq!((m.key_size(), m.value_size(), m.value_len()), (4, 8, 8));
    let k1 = 1u32.to_ne_bytes();
    let k2 = 2u32.to_ne_bytes();
    let mut v = [0u8; 8];
    assert_eq!(
        map_lookup_elem(&m, &k1, &mut v, ElemFlags::empty()),
        Err(Errno::ENOENT)
    );
    map_update_elem(&m, &k1, &11u64.to_ne_bytes(), ElemFlags::empty()).unwrap();
    map_update_elem(&m, &k2, &22u64.to_ne_bytes(), ElemFlags::NOEXIST).unwrap();
    assert_eq!(
        map_update_elem(&m, &k2, &0u64.to_ne_bytes(), ElemFlags::NOEXIST),
        Err(Errno::EEXIST)
    );
    map_lookup_elem(&m, &k1, &mut v, ElemFlags::empty()).unwrap();
    assert_eq!(u64::from_ne_bytes(v), 11);
    // Wrong sizes never reach the kernel.
    assert_eq!(
        map_lookup_elem(&m, &k1, &mut [0u8; 4], ElemFlags::empty()),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        map_update_elem(&m, &[0u8; 8], &v, ElemFlags::empty()),
        Err(Errno::EINVAL)
    );
    // Iterate.
    let mut keys = Vec::new();
    let mut cur: Option<[u8; 4]> = None;
    loop {
        let mut next = [0u8; 4];
        match map_get_next_key(&m, cur.as_ref().map(|c| &c[..]), &mut next) {
            Ok(()) => {
                keys.push(u32::from_ne_bytes(next));
                cur = Some(next);
            }
            Err(Errno::ENOENT) => break,
            Err(e) => panic!("{e}"),
        }
    }
    keys.sort();
    assert_eq!(keys, [1, 2]);
    map_lookup_and_delete_elem(&m, &k2, &mut v, ElemFlags::empty()).unwrap();
    assert_eq!(u64::from_ne_bytes(v), 22);
    map_delete_elem(&m, &k1).unwrap();
    assert_eq!(map_delete_elem(&m, &k1), Err(Errno::ENOENT));

    // Batches.
    let keys: Vec<u8> = (10u32..14).flat_map(|k| k.to_ne_bytes()).collect();
    let vals: Vec<u8> = (10u64..14).flat_map(|v| (v * 100).to_ne_bytes()).collect();
    assert_eq!(
        map_update_batch(&m, &keys, &vals, ElemFlags::empty()),
        Ok(4)
    );
    let mut out_keys = vec![0u8; 8 * 4];
    let mut out_vals = vec![0u8; 8 * 8];
    let mut cursor = vec![0u8; m.batch_cursor_len()];
    let n = match map_lookup_batch(
        &m,
        None,
        &mut cursor,
        &mut out_keys,
        &mut out_vals,
        ElemFlags::empty(),
    ) {
        Ok(n) => n,
        Err(BatchError {
            errno: Errno::ENOENT,
            count,
        }) => count,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(n, 4);
    for i in 0..4 {
        let k = u32::from_ne_bytes(out_keys[i * 4..i * 4 + 4].try_into().unwrap());
        let v = u64::from_ne_bytes(out_vals[i * 8..i * 8 + 8].try_into().unwrap());
        assert_eq!(v, k as u64 * 100);
    }
    assert_eq!(map_delete_batch(&m, &keys, ElemFlags::empty()), Ok(4));

    // Info and MapFd from a plain fd.
    let info = map_info(m.as_fd()).unwrap();
    assert_eq!(
        (info.type_, info.key_size, info.value_size, info.max_entries),
        (MapType::HASH, 4, 8, 8)
    );
    assert_eq!(info.name_str(), "sys_test_hash");
    let again = map_get_fd_by_id(info.id, ObjFlags::empty(), None).unwrap();
    assert_eq!((again.key_size(), again.value_size()), (4, 8));
    let m2 = MapFd::from_fd(m.try_clone().unwrap().into_fd()).unwrap();
    assert_eq!(m2.max_entries(), 8);
    let mut cur = 0;
    let mut seen = false;
    while let Some(n) = map_get_next_id(cur).unwrap() {
        seen |= n == info.id;
        cur = n;
    }
    assert!(seen);
    map_freeze(m.as_fd()).unwrap();
    assert_eq!(
        map_update_elem(&m, &k1, &v, ElemFlags::empty()),
        Err(Errno::EPERM)
    );
}

#[test]
fn per_cpu_and_keyless() {
    if !root() {
        return;
    }
    let ncpu = cpus::possible_cpus().unwrap();
    let m = map_create(&MapCreateArgs {
        map_type: MapType::PERCPU_ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(m.value_len(), 8 * ncpu);
    let mut v = vec![0u8; m.value_len()];
    map_lookup_elem(&m, &0u32.to_ne_bytes(), &mut v, ElemFlags::empty()).unwrap();
    assert_eq!(
        map_lookup_elem(&m, &0u32.to_ne_bytes(), &mut [0u8; 4], ElemFlags::empty()),
        Err(Errno::EINVAL)
    );

    let q = map_create(&MapCreateArgs {
        map_type: MapType::QUEUE,
        key_size: 0,
        value_size: 4,
        max_entries: 4,
        ..Default::default()
    })
    .unwrap();
    map_update_elem(&q, &[], &7u32.to_ne_bytes(), ElemFlags::empty()).unwrap();
    let mut out = [0u8; 4];
    map_lookup_and_delete_elem(&q, &[], &mut out, ElemFlags::empty()).unwrap();
    assert_eq!(u32::from_ne_bytes(out), 7);
    assert_eq!(
        map_lookup_and_delete_elem(&q, &[], &mut out, ElemFlags::empty()),
        Err(Errno::ENOENT)
    );
}

#[test]
fn prog_load_test_run_info() {
    if !root() {
        return;
    }
    let insns = ret_prog(2);
    let mut log = vec![0u8; 4096];
    let mut args = ProgLoadArgs {
        prog_type: ProgType::SOCKET_FILTER,
        insns: &insns,
        license: c"GPL",
        log: Some(&mut log),
        log_level: 1,
        name: "sys_test_ret2",
        ..Default::default()
    };
    let prog = prog_load(&mut args).expect("prog_load");
    if crate::features::tests::have("prog_load_test_run_info", "log_true_size") {
        assert!(args.log_true_size > 0);
    } else {
        // The kernel neither knows nor writes the field.
        assert_eq!(args.log_true_size, 0);
    }
    let mut pkt = [0u8; 64];
    pkt[12] = 0x08;
    let out = prog_test_run(
        prog.as_fd(),
        &mut TestRunArgs {
            data_in: &pkt,
            repeat: 1,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(out.retval, 2);

    let mut xlated = vec![0u8; 64];
    let info = prog_info_with(
        prog.as_fd(),
        ProgInfoBufs {
            xlated: Some(&mut xlated),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(info.type_, ProgType::SOCKET_FILTER);
    assert_eq!(info.name_str(), "sys_test_ret2");
    assert_eq!(info.xlated_prog_len, 16);
    assert_eq!(&xlated[..2], &[0xb7, 0]);
    assert!(info.is_gpl_compatible());
    let by_id = prog_get_fd_by_id(info.id, ObjFlags::empty(), None).unwrap();
    assert_eq!(prog_info(by_id.as_fd()).unwrap().id, info.id);
    assert_eq!(fd_kind(prog.as_fd()).unwrap(), FdKind::Prog);

    // A rejected program reports through the log.
    let bad = [Insn {
        code: 0x95,
        regs: 0,
        off: 0,
        imm: 0,
    }];
    let mut log = vec![0u8; 4096];
    let mut args = ProgLoadArgs {
        prog_type: ProgType::SOCKET_FILTER,
        insns: &bad,
        license: c"GPL",
        log: Some(&mut log),
        log_level: 1,
        ..Default::default()
    };
    assert_eq!(prog_load(&mut args).unwrap_err(), Errno::EACCES);
    assert!(String::from_utf8_lossy(&log).contains("R0 !read_ok"));

    // Ids iterate.
    let mut id = 0;
    let mut seen = false;
    while let Some(next) = prog_get_next_id(id).unwrap() {
        seen |= next == info.id;
        id = next;
    }
    assert!(seen);
}

#[test]
fn pin_and_get() {
    if !root() {
        return;
    }
    let Ok(root) = mount::bpffs_root() else {
        return;
    };
    let dir = root.join(format!("rawbpf_sys_{}", std::process::id()));
    std::fs::create_dir(&dir).unwrap();
    struct Cleanup(std::path::PathBuf);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _g = Cleanup(dir.clone());
    let m = hash(4, 4);
    let path = CString::new(dir.join("m").into_os_string().into_encoded_bytes()).unwrap();
    obj_pin(m.as_fd(), &path, None).unwrap();
    let fd = obj_get(&path, ObjFlags::empty(), None).unwrap();
    let m2 = MapFd::from_fd(fd).unwrap();
    map_update_elem(
        &m,
        &1u32.to_ne_bytes(),
        &5u32.to_ne_bytes(),
        ElemFlags::empty(),
    )
    .unwrap();
    let mut v = [0u8; 4];
    map_lookup_elem(&m2, &1u32.to_ne_bytes(), &mut v, ElemFlags::empty()).unwrap();
    assert_eq!(u32::from_ne_bytes(v), 5);
    // Relative to a directory fd.
    let d = std::fs::File::open(&dir).unwrap();
    if !crate::features::tests::have("pin_and_get", "path_fd") {
        // The kernel rejects BPF_F_PATH_FD as an unknown flag.
        assert_eq!(
            obj_pin(m.as_fd(), c"m2", Some(d.as_fd())),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            obj_get(c"m", ObjFlags::RDONLY, Some(d.as_fd())).unwrap_err(),
            Errno::EINVAL
        );
        return;
    }
    obj_pin(m.as_fd(), c"m2", Some(d.as_fd())).unwrap();
    assert!(obj_get(c"m2", ObjFlags::RDONLY, Some(d.as_fd())).is_ok());
}
