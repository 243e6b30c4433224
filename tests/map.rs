//! Maps against the running kernel: every map type this kernel supports, byte-level and typed
//! operations, batch ops, per-CPU values, freeze, pin/reopen/by id.

mod common;

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use rawbpf::Error;
use rawbpf::insn::{Insn, JmpOp, Reg, Size};
use rawbpf::map::{
    ANY, Array, BatchCursor, BloomFilter, HashMap, LpmKey, LpmTrie, Map, MapFlags, MapOfMaps,
    MapOptions, MapType, PerCpuArray, PerCpuHashMap, ProgArray, Queue, Stack, UpdateFlags,
    possible_cpus,
};
use rawbpf::prog::{Program, ProgramOptions, ProgramType, TestRun};

fn create(t: MapType, k: u32, v: u32, n: u32) -> Map {
    Map::create(&MapOptions::new(t, k, v, n).name(&common::unique_name("t")))
        .unwrap_or_else(|e| panic!("create {t:?}: {e}"))
}

fn create_with(opts: MapOptions<'_>) -> Map {
    let t = opts.map_type;
    Map::create(&opts).unwrap_or_else(|e| panic!("create {t:?}: {e}"))
}

/// A socket filter returning 0 (for prog arrays).
fn ret0_prog() -> Program {
    Program::load(
        ProgramType::SOCKET_FILTER,
        &[Insn::mov64_imm(Reg::R0, 0), Insn::exit()],
        &ProgramOptions::default().name("ret0"),
    )
    .expect("load socket filter")
}

/// Exercises the plain hash-like types through bytes and a typed view.
#[test]
fn hash_like_types() {
    if !common::privileged() {
        return;
    }
    for t in [MapType::HASH, MapType::LRU_HASH] {
        let m = HashMap::<u32, u64>::new(create(t, 4, 8, 64)).expect("view");
        for k in 0..10u32 {
            m.insert(&k, &(u64::from(k) * 7), ANY).expect("insert");
        }
        assert_eq!(m.get(&3).expect("get"), Some(21));
        assert_eq!(
            m.get(&99).expect("get"),
            None,
            "{t:?}: a missing key is Ok(None)"
        );
        let mut keys: Vec<u32> = m.keys().map(|k| k.expect("key")).collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..10).collect::<Vec<_>>());
        assert!(m.remove(&3).expect("remove"));
        assert!(!m.remove(&3).expect("remove again"));
        assert_eq!(m.take(&4).expect("take"), Some(28));
        assert_eq!(m.get(&4).expect("get"), None);
        // NOEXIST on an existing key says so.
        let e = m
            .insert(&5, &0, UpdateFlags::NOEXIST)
            .expect_err("NOEXIST on existing key");
        assert!(e.to_string().contains("EEXIST"), "{e}");
        assert_eq!(m.iter().count(), 8);
    }
    // Byte-level checks on sizes.
    let m = create(MapType::HASH, 4, 8, 4);
    let e = m.update(&[0; 3], &[0; 8], ANY).expect_err("short key");
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
    let e = m.update(&[0; 4], &[0; 4], ANY).expect_err("short value");
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
}

#[test]
fn array_and_per_cpu_types() {
    if !common::privileged() {
        return;
    }
    let cpus = possible_cpus().expect("possible cpus");
    let a = Array::<[u8; 12]>::new(create(MapType::ARRAY, 4, 12, 8)).expect("view");
    a.set(2, &[9; 12], ANY).expect("set");
    assert_eq!(a.get(2).expect("get"), [9; 12]);
    assert_eq!(a.get(3).expect("get"), [0; 12]);
    assert!(matches!(a.get(8), Err(Error::InvalidArgument(_))));
    assert_eq!(a.iter().count(), 8);

    // A 12-byte value takes a 16-byte slot per CPU.
    let m = create(MapType::PERCPU_ARRAY, 4, 12, 4);
    assert_eq!(m.value_buf_size(), 16 * cpus);
    let pa = PerCpuArray::<[u32; 3], _>::new(&m).expect("view");
    let vals: Vec<[u32; 3]> = (0..cpus as u32).map(|c| [c, c + 1, c + 2]).collect();
    pa.set(1, &vals, ANY).expect("set");
    assert_eq!(pa.get(1).expect("get").0, vals);
    assert!(pa.set(1, &vals[..1], ANY).is_err() || cpus == 1);

    for t in [MapType::PERCPU_HASH, MapType::LRU_PERCPU_HASH] {
        let h = PerCpuHashMap::<u64, u32>::new(create(t, 8, 4, 16)).expect("view");
        let vals: Vec<u32> = (0..cpus as u32).map(|c| 100 + c).collect();
        h.insert(&42, &vals, ANY).expect("insert");
        assert_eq!(h.get(&42).expect("get").expect("present").0, vals);
        assert_eq!(h.get(&43).expect("get"), None);
        assert_eq!(
            h.keys().map(|k| k.expect("key")).collect::<Vec<_>>(),
            vec![42]
        );
        assert!(h.remove(&42).expect("remove"));
    }
}

/// A raw tracepoint program that stores `smp_processor_id() + 100` into its CPU's slot of a
/// per-CPU array, run with test_run on each CPU in turn.
#[test]
fn per_cpu_values_written_by_a_program_on_each_cpu() {
    if !common::privileged() {
        return;
    }
    let cpus = possible_cpus().expect("cpus");
    let map = create(MapType::PERCPU_ARRAY, 4, 8, 1);
    let ld = Insn::ld_map_fd(Reg::R1, map.as_raw_fd());
    let insns = [
        Insn::st_mem(Size::W, Reg::R10, -4, 0),
        Insn::mov64_reg(Reg::R2, Reg::R10),
        Insn::alu64_imm(rawbpf::insn::AluOp::Add, Reg::R2, -4),
        ld[0],
        ld[1],
        Insn::call_helper(1), // map_lookup_elem
        Insn::jmp_imm(JmpOp::Eq, Reg::R0, 0, 4),
        Insn::mov64_reg(Reg::R6, Reg::R0),
        Insn::call_helper(8), // get_smp_processor_id
        Insn::alu64_imm(rawbpf::insn::AluOp::Add, Reg::R0, 100),
        Insn::stx_mem(Size::DW, Reg::R6, Reg::R0, 0),
        Insn::mov64_imm(Reg::R0, 0),
        Insn::exit(),
    ];
    let prog = Program::load(
        ProgramType::RAW_TRACEPOINT,
        &insns,
        &ProgramOptions::default().name("percpu"),
    )
    .expect("load raw_tp");
    let online = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(cpus);
    for cpu in 0..online as u32 {
        let mut ctx = [0u8; 8];
        let r = prog
            .test_run(TestRun::with_ctx(&mut ctx).cpu(cpu))
            .expect("test_run on cpu");
        assert_eq!(r.retval, 0);
    }
    let values = PerCpuArray::<u64, _>::new(&map)
        .expect("view")
        .get(0)
        .expect("get");
    assert_eq!(values.len(), cpus);
    for (cpu, v) in values.iter().enumerate() {
        let want = if cpu < online { cpu as u64 + 100 } else { 0 };
        assert_eq!(*v, want, "cpu {cpu}");
    }
}

#[test]
fn lpm_trie_queue_stack_bloom() {
    if !common::privileged() {
        return;
    }
    let t = LpmTrie::<[u8; 4], u32>::new(create_with(
        MapOptions::new(MapType::LPM_TRIE, 8, 4, 16)
            .name("lpm")
            .flags(MapFlags::NO_PREALLOC),
    ))
    .expect("view");
    t.insert(&LpmKey::new(8, [10, 0, 0, 0]), &1, ANY)
        .expect("insert /8");
    t.insert(&LpmKey::new(16, [10, 1, 0, 0]), &2, ANY)
        .expect("insert /16");
    assert_eq!(
        t.get(&LpmKey::new(32, [10, 1, 2, 3])).expect("get"),
        Some(2)
    );
    assert_eq!(
        t.get(&LpmKey::new(32, [10, 2, 2, 3])).expect("get"),
        Some(1)
    );
    assert_eq!(t.get(&LpmKey::new(32, [11, 0, 0, 1])).expect("get"), None);
    assert!(t.remove(&LpmKey::new(16, [10, 1, 0, 0])).expect("remove"));
    assert_eq!(
        t.get(&LpmKey::new(32, [10, 1, 2, 3])).expect("get"),
        Some(1)
    );

    let q = Queue::<u32>::new(create(MapType::QUEUE, 0, 4, 3)).expect("queue");
    let s = Stack::<u32>::new(create(MapType::STACK, 0, 4, 3)).expect("stack");
    for v in 1..=3 {
        q.push(&v, ANY).expect("push");
        s.push(&v, ANY).expect("push");
    }
    assert!(q.push(&4, ANY).is_err(), "a full queue refuses");
    q.push(&4, UpdateFlags::EXIST)
        .expect("EXIST drops the oldest");
    assert_eq!(q.peek().expect("peek"), Some(2));
    assert_eq!(
        [q.pop(), q.pop(), q.pop(), q.pop()].map(|r| r.expect("pop")),
        [Some(2), Some(3), Some(4), None]
    );
    assert_eq!(
        [s.pop(), s.pop(), s.pop(), s.pop()].map(|r| r.expect("pop")),
        [Some(3), Some(2), Some(1), None]
    );

    let b = BloomFilter::<u64>::new(create_with(
        MapOptions::new(MapType::BLOOM_FILTER, 0, 8, 100).map_extra(3),
    ))
    .expect("bloom");
    for v in [5u64, 50, 500] {
        b.insert(&v).expect("insert");
    }
    assert!(b.contains(&50).expect("contains"));
    assert!(
        !b.contains(&51).expect("contains"),
        "absent value (no false positive expected at this size)"
    );
}

#[test]
fn fd_maps() {
    if !common::privileged() {
        return;
    }
    let cpus = possible_cpus().expect("cpus") as u32;
    // prog_array: fds in, ids out.
    let pa = ProgArray::new(create(MapType::PROG_ARRAY, 4, 4, 4)).expect("view");
    let p = ret0_prog();
    pa.set(1, &p).expect("set");
    assert_eq!(pa.get(1).expect("get"), Some(p.info().expect("info").id));
    assert!(pa.clear(1).expect("clear"));
    assert!(!pa.clear(1).expect("clear again"));

    // map-in-map: inner map fds in, ids out.
    let inner = create(MapType::ARRAY, 4, 8, 2);
    let inner_id = inner.info().expect("info").id;
    for t in [MapType::ARRAY_OF_MAPS, MapType::HASH_OF_MAPS] {
        let outer = create_with(
            MapOptions::new(t, 4, 4, 4)
                .name("outer")
                .inner_map(inner.as_fd()),
        );
        let mm = MapOfMaps::<u32, _>::new(&outer).expect("view");
        mm.set(&2, &inner, ANY).expect("set inner");
        let id = mm.get(&2).expect("get").expect("present");
        assert_eq!(id, inner_id);
        assert_eq!(
            Map::from_id(id)
                .expect("open inner by id")
                .info()
                .expect("info")
                .id,
            inner_id
        );
        assert!(mm.remove(&2).expect("remove"));
    }

    // perf_event_array, cgroup_array, stack_trace, reuseport_sockarray: empty slots.
    for (t, v) in [
        (MapType::PERF_EVENT_ARRAY, 4),
        (MapType::CGROUP_ARRAY, 4),
        (MapType::STACK_TRACE, 8 * 127),
        (MapType::REUSEPORT_SOCKARRAY, 8),
    ] {
        let m = create(t, 4, v, cpus.max(2));
        assert!(
            !m.delete(&0u32.to_ne_bytes())
                .expect("delete of an empty slot"),
            "{t:?}"
        );
    }
    // cgroup_array takes a cgroup2 directory fd.
    let cg = create(MapType::CGROUP_ARRAY, 4, 4, 2);
    if let Ok(dir) = std::fs::File::open("/sys/fs/cgroup/unified") {
        cg.update(
            &0u32.to_ne_bytes(),
            &(dir.as_raw_fd() as u32).to_ne_bytes(),
            ANY,
        )
        .expect("cgroup fd in");
        assert!(cg.delete(&0u32.to_ne_bytes()).expect("delete"));
    }
}

#[test]
fn network_maps() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        // An established TCP connection on the namespace's loopback for the socket maps.
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
        let c = std::net::TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
        let (_s, _) = l.accept().expect("accept");
        let sock = c.as_raw_fd() as u64;
        for t in [MapType::SOCKMAP, MapType::SOCKHASH] {
            let m = create(t, 4, 8, 4);
            m.update(&1u32.to_ne_bytes(), &sock.to_ne_bytes(), ANY)
                .expect("socket in");
            assert!(m.delete(&1u32.to_ne_bytes()).expect("delete"));
        }
        // devmap, devmap_hash: ifindex values (lo is 1 in a new netns).
        for t in [MapType::DEVMAP, MapType::DEVMAP_HASH] {
            let m = create(t, 4, 4, 4);
            m.update(&0u32.to_ne_bytes(), &1u32.to_ne_bytes(), ANY)
                .expect("ifindex in");
            let mut v = [0u8; 4];
            assert!(m.lookup(&0u32.to_ne_bytes(), &mut v).expect("lookup"));
            assert_eq!(u32::from_ne_bytes(v), 1);
        }
        // cpumap: the value is the queue size.
        let m = create(MapType::CPUMAP, 4, 4, 2);
        m.update(&0u32.to_ne_bytes(), &192u32.to_ne_bytes(), ANY)
            .expect("qsize in");
        let mut v = [0u8; 4];
        assert!(m.lookup(&0u32.to_ne_bytes(), &mut v).expect("lookup"));
        assert_eq!(u32::from_ne_bytes(v), 192);
        // xskmap: an (unbound) AF_XDP socket is accepted.
        let m = create(MapType::XSKMAP, 4, 4, 2);
        let xsk = xdp_socket().expect("socket(AF_XDP)");
        m.update(
            &0u32.to_ne_bytes(),
            &(xsk.as_raw_fd() as u32).to_ne_bytes(),
            ANY,
        )
        .expect("xsk in");
        m.delete(&0u32.to_ne_bytes()).expect("delete");
    });
}

fn xdp_socket() -> std::io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: socket(2) has no pointer arguments; a non-negative result is a new fd we own.
    let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[test]
fn special_maps_create() {
    if !common::privileged() {
        return;
    }
    let page = 4096u32;
    for (t, k, v, n, f, extra) in [
        (MapType::RINGBUF, 0, 0, 16 * page, MapFlags::empty(), 0u64),
        (MapType::USER_RINGBUF, 0, 0, 16 * page, MapFlags::empty(), 0),
        (MapType::CGROUP_STORAGE, 16, 8, 0, MapFlags::empty(), 0),
        (MapType::ARENA, 0, 0, 4, MapFlags::MMAPABLE, 0),
    ] {
        if t == MapType::ARENA && !common::have("special_maps_create", "arena") {
            let opts = MapOptions::new(t, k, v, n).name("special").flags(f);
            let e = Map::create(&opts).expect_err("an arena where the probe says there is none");
            if rawbpf::features::arena().is_err_and(|p| p.is_refused_by_policy()) {
                // The kernel has arenas but the machine's policy refuses them to root: the
                // create says so, as the probe did.
                assert!(e.is_refused_by_policy(), "{e:?}");
                assert!(e.to_string().contains("refused on this machine"), "{e}");
            } else {
                // The kernel does not know the map type: a plain EINVAL from BPF_MAP_CREATE.
                assert_eq!(e.errno(), Some(rawbpf::sys::Errno::EINVAL), "{e}");
            }
            continue;
        }
        let m = create_with(
            MapOptions::new(t, k, v, n)
                .name("special")
                .flags(f)
                .map_extra(extra),
        );
        let info = m.info().expect("info");
        assert_eq!(info.map_type, t);
        assert_eq!(info.max_entries, n);
        assert!(
            Map::ids().any(|id| id.expect("id") == info.id),
            "{t:?} listed by id"
        );
    }
    // cgroup_storage: a missing key is Ok(None).
    let m = create(MapType::CGROUP_STORAGE, 16, 8, 0);
    assert_eq!(m.get(&[0; 16]).expect("lookup"), None);
    assert_eq!(m.keys().count(), 0);
}

#[test]
fn batch_ops_agree_with_single_ops() {
    if !common::privileged() {
        return;
    }
    const N: u32 = 100_000;
    let map = create(MapType::HASH, 4, 8, N);
    let keys: Vec<u8> = (0..N).flat_map(|k| k.to_ne_bytes()).collect();
    let vals: Vec<u8> = (0..N)
        .flat_map(|k| (u64::from(k) * 3 + 1).to_ne_bytes())
        .collect();
    assert_eq!(
        map.update_batch(&keys, &vals, ANY).expect("update_batch"),
        N as usize
    );
    let h = HashMap::<u32, u64, _>::new(&map).expect("view");
    for k in (0..N).step_by(997) {
        assert_eq!(h.get(&k).expect("get"), Some(u64::from(k) * 3 + 1));
    }
    // A complete dump in 8192-element calls, despite short batches in the middle.
    let dump = |m: &Map, and_delete: bool| -> Vec<(u32, u64)> {
        let mut cur = BatchCursor::new(m);
        let mut kb = vec![0u8; 8192 * 4];
        let mut vb = vec![0u8; 8192 * 8];
        let mut out = Vec::new();
        while !cur.done() {
            let n = if and_delete {
                m.lookup_and_delete_batch(&mut cur, &mut kb, &mut vb)
            } else {
                m.lookup_batch(&mut cur, &mut kb, &mut vb)
            }
            .expect("batch");
            for i in 0..n {
                let k = u32::from_ne_bytes(kb[i * 4..i * 4 + 4].try_into().expect("4"));
                let v = u64::from_ne_bytes(vb[i * 8..i * 8 + 8].try_into().expect("8"));
                out.push((k, v));
            }
        }
        out.sort_unstable();
        out
    };
    let all = dump(&map, false);
    assert_eq!(all.len(), N as usize);
    assert!(
        all.iter()
            .enumerate()
            .all(|(i, (k, v))| *k == i as u32 && *v == u64::from(*k) * 3 + 1)
    );
    // delete_batch of the first half, then single lookups agree.
    let half = (N / 2) as usize;
    assert_eq!(
        map.delete_batch(&keys[..half * 4]).expect("delete_batch"),
        half
    );
    assert_eq!(h.get(&0).expect("get"), None);
    assert_eq!(
        h.get(&(N - 1)).expect("get"),
        Some(u64::from(N - 1) * 3 + 1)
    );
    // lookup_and_delete_batch drains the rest.
    let rest = dump(&map, true);
    assert_eq!(rest.len(), N as usize - half);
    assert_eq!(map.keys().count(), 0);

    // Array lookup batch.
    let arr = create(MapType::ARRAY, 4, 8, 1000);
    let akeys: Vec<u8> = (0..1000u32).flat_map(|k| k.to_ne_bytes()).collect();
    let avals: Vec<u8> = (0..1000u64).flat_map(|k| (k + 5).to_ne_bytes()).collect();
    arr.update_batch(&akeys, &avals, ANY)
        .expect("array update_batch");
    let d = dump(&arr, false);
    assert_eq!(d.len(), 1000);
    assert!(d.iter().all(|(k, v)| *v == u64::from(*k) + 5));
}

#[test]
fn freeze_then_update_says_frozen() {
    if !common::privileged() {
        return;
    }
    let m = create(MapType::ARRAY, 4, 4, 1);
    m.update(&0u32.to_ne_bytes(), &7u32.to_ne_bytes(), ANY)
        .expect("update before freeze");
    m.freeze().expect("freeze");
    let e = m
        .update(&0u32.to_ne_bytes(), &8u32.to_ne_bytes(), ANY)
        .expect_err("update after freeze");
    assert!(matches!(e, Error::Refused { .. }), "{e:?}");
    assert!(e.to_string().contains("frozen"), "{e}");
    assert!(!e.to_string().contains("ulimit"), "{e}");
    assert_eq!(
        m.get(&0u32.to_ne_bytes()).expect("lookup still works"),
        Some(7u32.to_ne_bytes().to_vec())
    );
    // Another handle to the same frozen map says so too.
    let again = Map::from_id(m.info().expect("info").id).expect("by id");
    let e = again
        .update(&0u32.to_ne_bytes(), &8u32.to_ne_bytes(), ANY)
        .expect_err("update after freeze");
    assert!(e.to_string().contains("frozen"), "{e}");
}

#[test]
fn pin_reopen_and_by_id() {
    if !common::privileged() {
        return;
    }
    let dir = common::PinDir::new("map");
    let m = create(MapType::HASH, 4, 4, 8);
    let path = dir.join("m");
    m.pin(&path).expect("pin");
    let e = m.pin(&path).expect_err("pin twice");
    assert!(e.to_string().contains("EEXIST"), "{e}");
    let reopened = Map::from_pin(&path).expect("from_pin");
    m.update(&1u32.to_ne_bytes(), &2u32.to_ne_bytes(), ANY)
        .expect("update");
    assert_eq!(
        reopened.get(&1u32.to_ne_bytes()).expect("get"),
        Some(2u32.to_ne_bytes().to_vec())
    );
    let info = m.info().expect("info");
    assert_eq!(reopened.info().expect("info").id, info.id);
    assert_eq!(reopened.name(), m.name());
    assert_eq!(
        (
            reopened.key_size(),
            reopened.value_size(),
            reopened.map_type()
        ),
        (4, 4, MapType::HASH)
    );
    assert!(Map::ids().any(|id| id.expect("id") == info.id));
    let by_id = Map::from_id(info.id).expect("from_id");
    assert_eq!(
        by_id.get(&1u32.to_ne_bytes()).expect("get"),
        Some(2u32.to_ne_bytes().to_vec())
    );
    // Read-only open refuses writes and says why.
    let ro = Map::from_pin_with(&path, MapFlags::RDONLY).expect("read-only open");
    let e = ro
        .update(&1u32.to_ne_bytes(), &3u32.to_ne_bytes(), ANY)
        .expect_err("write through a read-only fd");
    assert!(e.to_string().contains("read-only"), "{e}");
    let e = Map::from_pin(dir.join("missing")).expect_err("missing pin");
    assert!(e.to_string().contains("ENOENT"), "{e}");
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Flow {
    saddr: u32,
    dport: u16,
    proto: u8,
    packets: u64,
}
rawbpf::impl_pod!(Flow {
    saddr,
    dport,
    proto,
    packets
});

#[test]
fn user_struct_values() {
    if !common::privileged() {
        return;
    }
    let m = HashMap::<u32, Flow>::create(&common::unique_name("flow"), 8).expect("create");
    assert_eq!(m.map().value_size(), 16);
    let f = Flow {
        saddr: 0x0a000001,
        dport: 443,
        proto: 6,
        packets: 9,
    };
    m.insert(&1, &f, ANY).expect("insert");
    assert_eq!(m.get(&1).expect("get"), Some(f));
    assert!(
        HashMap::<u64, Flow>::new(m.into_inner()).is_err(),
        "wrong key type is refused"
    );
}

/// A minimal BTF blob with one type, `[1] INT 'int' size=4 bits=32 signed`, for the key and
/// value of local-storage maps.
fn int_btf() -> OwnedFd {
    let strings = b"\0int\0";
    let mut types = Vec::new();
    for w in [1u32, (1 << 24), 4, (1 << 24) | 32] {
        // name_off=1 "int", info: kind INT, size 4, encoding SIGNED, bits 32
        types.extend_from_slice(&w.to_ne_bytes());
    }
    let mut blob = Vec::new();
    blob.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    blob.extend_from_slice(&[1, 0]); // version, flags
    for w in [
        24u32,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        blob.extend_from_slice(&w.to_ne_bytes());
    }
    blob.extend_from_slice(&types);
    blob.extend_from_slice(strings);
    let mut args = rawbpf::sys::BtfLoadArgs {
        data: &blob,
        ..Default::default()
    };
    rawbpf::sys::btf_load(&mut args).expect("BTF_LOAD")
}

fn pidfd_self() -> OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open has no pointer arguments; a non-negative result is a new fd we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    assert!(fd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
    // SAFETY: `fd` was just created and nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

/// task/cgrp/inode/sk storage: BTF-described maps keyed by a pidfd, a cgroup dir fd, a file
/// fd and a socket fd.
#[test]
fn local_storage_maps() {
    if !common::privileged() {
        return;
    }
    let btf = int_btf();
    let pidfd = pidfd_self();
    let cgroup = std::fs::File::open(common::cgroup2_root()).expect("cgroup2 dir");
    let file = std::fs::File::open("/proc/self/exe").expect("a file");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("socket");
    for (t, owner) in [
        (MapType::TASK_STORAGE, pidfd.as_raw_fd()),
        (MapType::CGRP_STORAGE, cgroup.as_raw_fd()),
        (MapType::INODE_STORAGE, file.as_raw_fd()),
        (MapType::SK_STORAGE, sock.as_raw_fd()),
    ] {
        if t == MapType::CGRP_STORAGE {
            let probe = rawbpf::features::map_type(t);
            if !common::supported(
                "local_storage_maps",
                "cgrp_storage",
                "features::map_type(CGRP_STORAGE)",
                probe,
            ) {
                let opts = MapOptions::new(t, 4, 4, 0)
                    .name("storage")
                    .flags(MapFlags::NO_PREALLOC)
                    .btf(btf.as_fd(), 1, 1);
                let e = Map::create(&opts).expect_err("cgroup storage on a kernel without it");
                assert_eq!(e.errno(), Some(rawbpf::sys::Errno::EINVAL), "{e}");
                continue;
            }
        }
        let m = create_with(
            MapOptions::new(t, 4, 4, 0)
                .name("storage")
                .flags(MapFlags::NO_PREALLOC)
                .btf(btf.as_fd(), 1, 1),
        );
        let key = (owner as u32).to_ne_bytes();
        assert_eq!(m.get(&key).expect("lookup"), None, "{t:?}: no storage yet");
        m.update(&key, &77u32.to_ne_bytes(), ANY)
            .unwrap_or_else(|e| panic!("{t:?}: {e}"));
        assert_eq!(
            m.get(&key).expect("lookup"),
            Some(77u32.to_ne_bytes().to_vec()),
            "{t:?}"
        );
        assert!(m.delete(&key).expect("delete"), "{t:?}");
        assert_eq!(m.info().expect("info").btf_value_type_id, 1);
    }
}

/// A batch smaller than a hash bucket gets ENOSPC with a hint, and a larger one resumes.
#[test]
fn batch_smaller_than_a_bucket() {
    if !common::privileged() {
        return;
    }
    let m = create(MapType::HASH, 4, 4, 64);
    let keys: Vec<u8> = (0..64u32).flat_map(|k| k.to_ne_bytes()).collect();
    m.update_batch(&keys, &keys, ANY).expect("fill");
    let mut cur = BatchCursor::new(&m);
    let (mut k1, mut v1) = ([0u8; 4], [0u8; 4]);
    let mut seen = 0;
    // 64 keys in 64 buckets: some bucket holds two or more, so one-element batches fail there.
    let err = loop {
        match m.lookup_batch(&mut cur, &mut k1, &mut v1) {
            Ok(n) => seen += n,
            Err(e) => break Some(e),
        }
        if cur.done() {
            break None;
        }
    };
    // (64 random hashes into 64 buckets all distinct has probability 64!/64^64, about 1e-27.)
    let e = err.expect("a one-element batch meets a bigger bucket");
    {
        assert_eq!(e.errno(), Some(rawbpf::sys::Errno::ENOSPC), "{e}");
        assert!(e.to_string().contains("larger buffers"), "{e}");
        // The cursor did not move: a bigger buffer continues from the same bucket.
        let (mut kb, mut vb) = (vec![0u8; 64 * 4], vec![0u8; 64 * 4]);
        while !cur.done() {
            seen += m.lookup_batch(&mut cur, &mut kb, &mut vb).expect("resume");
        }
    }
    assert_eq!(seen, 64);
}

/// `[id] STRUCT 'name' size=N …` of vmlinux BTF, from `bpftool btf dump`.
fn vmlinux_struct(name: &str) -> Option<(u32, u32)> {
    let out = std::process::Command::new("bpftool")
        .args(["btf", "dump", "file", "/sys/kernel/btf/vmlinux"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let needle = format!("STRUCT '{name}' ");
    let line = text.lines().find(|l| l.contains(&needle))?;
    let id = line.strip_prefix('[')?.split(']').next()?.parse().ok()?;
    let size = line
        .split("size=")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((id, size))
}

/// A struct_ops map for `tcp_congestion_ops` (created empty: filling it needs programs).
#[test]
fn struct_ops_map_create() {
    if !common::privileged() {
        return;
    }
    let Some((id, size)) = vmlinux_struct("bpf_struct_ops_tcp_congestion_ops") else {
        eprintln!("bpftool or the struct_ops type is missing: skipped");
        return;
    };
    // The kernel wants some BTF fd with the vmlinux value type id (libbpf passes the
    // object's); no key/value type ids.
    let btf = int_btf();
    let mut o = MapOptions::new(MapType::STRUCT_OPS, 4, size, 1)
        .name("cc")
        .btf_vmlinux_value_type_id(id);
    o.btf = Some(btf.as_fd());
    let m = create_with(o);
    let info = m.info().expect("info");
    assert_eq!(
        (
            info.map_type,
            info.value_size,
            info.btf_vmlinux_value_type_id
        ),
        (MapType::STRUCT_OPS, size, id)
    );
}

#[test]
fn mmapable_array_through_the_mapping() {
    if !common::privileged() {
        return;
    }
    use rawbpf::map::MapMmap;
    use rawbpf::sys::Errno;
    fn send_sync<T: Send + Sync>() {}
    send_sync::<MapMmap>();

    // value_size 12: elements 16 bytes apart.
    let map = create_with(
        MapOptions::new(MapType::ARRAY, 4, 12, 3)
            .name(&common::unique_name("mm"))
            .flags(MapFlags::MMAPABLE),
    );
    let mem = map.mmap().unwrap();
    assert!(mem.is_writable());
    assert_eq!(mem.value_stride(), 16);
    assert_eq!(mem.len(), 48);

    // Written through the mapping, seen by a lookup; updated by syscall, seen in the mapping.
    let v1: Vec<u8> = (1..=12).collect();
    mem.write(16, &v1).unwrap();
    assert_eq!(map.get(&1u32.to_ne_bytes()).unwrap().unwrap(), v1);
    let v2: Vec<u8> = (100..112).collect();
    map.update(&2u32.to_ne_bytes(), &v2, UpdateFlags::empty())
        .unwrap();
    assert_eq!(mem.read_vec(32, 12).unwrap(), v2);

    // Partial-word writes keep the bytes around them.
    mem.write(19, &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        .unwrap();
    let mut want = v1.clone();
    want[3..9].copy_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
    assert_eq!(map.get(&1u32.to_ne_bytes()).unwrap().unwrap(), want);
    let mut one = [0u8; 1];
    mem.read(24, &mut one).unwrap();
    assert_eq!(one[0], 0xff);

    // Out of bounds: errors, never panics; nothing written.
    let erange = Errno::from_raw(libc::ERANGE);
    assert_eq!(mem.read(48, &mut one).unwrap_err(), erange);
    assert_eq!(mem.read(44, &mut [0u8; 5]).unwrap_err(), erange);
    assert_eq!(mem.write(40, &[1u8; 9]).unwrap_err(), erange);
    assert_eq!(mem.write(usize::MAX - 1, &[1u8; 4]).unwrap_err(), erange);
    assert_eq!(mem.read_vec(0, 49).unwrap_err(), erange);
    assert_eq!(mem.read_vec(32, 12).unwrap(), v2);

    // Threads writing different bytes of one word never undo each other.
    std::thread::scope(|s| {
        for t in 0..4usize {
            let mem = &mem;
            s.spawn(move || {
                for i in 0..=200u8 {
                    mem.write(t, &[i]).unwrap();
                }
            });
        }
    });
    assert_eq!(mem.read_vec(0, 4).unwrap(), [200; 4]);

    // A writable mapping keeps the map from being frozen.
    let err = map.freeze().unwrap_err();
    assert_eq!(err.errno(), Some(Errno::EBUSY), "{err}");
    drop(mem);
    map.freeze().unwrap();
    // Frozen: Map::mmap maps read-only; a writable mapping is refused by the kernel.
    let ro = map.mmap().unwrap();
    assert!(!ro.is_writable());
    assert_eq!(ro.write(0, &[1]).unwrap_err(), Errno::EACCES);
    assert_eq!(ro.read_vec(32, 12).unwrap(), v2);
    let fd = rawbpf::sys::MapFd::from_fd(map.as_fd().try_clone_to_owned().unwrap()).unwrap();
    assert_eq!(MapMmap::read_write(&fd).unwrap_err(), Errno::EPERM);
    // The mapping keeps the map alive after every fd is closed.
    drop(fd);
    drop(map);
    assert_eq!(ro.read_vec(16, 3).unwrap(), [1, 2, 3]);

    // Only mmapable arrays can be mapped.
    let plain = create(MapType::ARRAY, 4, 8, 2);
    assert!(matches!(plain.mmap(), Err(Error::InvalidArgument(_))));
    let hash = create(MapType::HASH, 4, 8, 2);
    assert!(matches!(
        hash.mmap_read_only(),
        Err(Error::InvalidArgument(_))
    ));
    let fd = rawbpf::sys::MapFd::from_fd(plain.as_fd().try_clone_to_owned().unwrap()).unwrap();
    assert_eq!(MapMmap::read_only(&fd).unwrap_err(), Errno::EINVAL);
}

#[test]
fn rdonly_prog_array_is_mapped_read_only() {
    if !common::privileged() {
        return;
    }
    let map = create_with(
        MapOptions::new(MapType::ARRAY, 4, 8, 1)
            .name(&common::unique_name("mmro"))
            .flags(MapFlags::MMAPABLE | MapFlags::RDONLY_PROG),
    );
    map.update(
        &0u32.to_ne_bytes(),
        &9u64.to_ne_bytes(),
        UpdateFlags::empty(),
    )
    .unwrap();
    let mem = map.mmap().unwrap();
    assert!(!mem.is_writable());
    assert_eq!(mem.read_vec(0, 8).unwrap(), 9u64.to_ne_bytes());
    // A read-only mapping does not keep the map from being frozen.
    map.freeze().unwrap();
    assert_eq!(mem.read_vec(0, 8).unwrap(), 9u64.to_ne_bytes());
}
