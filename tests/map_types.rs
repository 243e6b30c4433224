//! Typed views of the socket, device, stack trace, local storage and arena maps against the
//! running kernel, each doing real operations: sockets of a loopback TCP connection in a
//! network namespace of the test's own, stacks captured by a program the test triggers,
//! values hung off a task, an inode, a socket and a cgroup, arena memory shared with programs.
//! Plus lookup-and-delete where the kernel has it, and its clean error where it does not.

mod common;

use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use rawbpf::Error;
use rawbpf::insn::{Insn, Reg};
use rawbpf::loader::{Loader, Object};
use rawbpf::map::{
    ANY, Arena, BuildIdStatus, CgrpStorage, CpuMap, DevMap, HashMap, InodeStorage, Map, MapOptions,
    MapType, PerCpuHashMap, RedirectEntry, SkStorage, SockHash, SockMap, StackTrace, TaskStorage,
    UpdateFlags, XskMap, possible_cpus,
};
use rawbpf::obj::ObjectSpec;
use rawbpf::prog::{AttachType, Program, ProgramOptions, ProgramType, TestRun};
use rawbpf::sys::Errno;

fn create(t: MapType, k: u32, v: u32, n: u32) -> Map {
    Map::create(&MapOptions::new(t, k, v, n).name(&common::unique_name("mt")))
        .unwrap_or_else(|e| panic!("create {t:?}: {e}"))
}

fn spec(file: &str) -> ObjectSpec {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    ObjectSpec::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn errno_of(e: &Error) -> Option<Errno> {
    match e {
        Error::Syscall { errno, .. } | Error::Refused { errno, .. } => Some(*errno),
        _ => None,
    }
}

/// Whether the kernel has map type `t`; prints the skip line when it does not (after checking
/// that creating one gives the clean error).
fn have_map(test: &str, t: MapType) -> bool {
    let r = rawbpf::features::map_type(t);
    common::supported(test, &format!("map_type {t:?}"), "features::map_type", r)
}

/// `SO_COOKIE` of a socket.
fn cookie(s: &impl AsFd) -> u64 {
    let mut v = 0u64;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: SO_COOKIE writes a u64 into `v`, whose size `len` gives.
    let rc = unsafe {
        libc::getsockopt(
            s.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_COOKIE,
            (&raw mut v).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "SO_COOKIE: {}", std::io::Error::last_os_error());
    v
}

/// A connected loopback TCP pair (client, server side) inside the current netns.
fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (s, _) = l.accept().expect("accept");
    (c, s)
}

/// Asserts that a socket closed by this process leaves the map. The socket is closed when the
/// last fd of it is: another test's `fork()` may hold a copy for a moment, until its `exec`
/// closes it (close-on-exec), so this waits up to a second.
#[track_caller]
fn assert_gone(mut get: impl FnMut() -> Option<u64>) {
    for _ in 0..100 {
        if get().is_none() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the closed socket is still in the map");
}

/// Sockmap and sockhash: established loopback TCP sockets go in, their cookies come out, and
/// the kernel drops a socket from the map when it is closed.
#[test]
fn sockmap_and_sockhash() {
    if !common::privileged() {
        return;
    }
    if !have_map("sockmap_and_sockhash", MapType::SOCKMAP)
        || !have_map("sockmap_and_sockhash", MapType::SOCKHASH)
    {
        return;
    }
    common::in_netns(|| {
        let (client, server) = tcp_pair();
        let sm = SockMap::new(create(MapType::SOCKMAP, 4, 8, 4)).expect("view");
        sm.set(0, &client, ANY).expect("insert client socket");
        sm.set(1, &server, ANY).expect("insert server socket");
        assert_eq!(sm.get(0).expect("get"), Some(cookie(&client)));
        assert_eq!(sm.get(1).expect("get"), Some(cookie(&server)));
        assert_ne!(cookie(&client), cookie(&server));
        assert_eq!(sm.get(2).expect("get"), None, "an empty slot is None");
        // NOEXIST on a taken slot.
        let e = sm.set(0, &server, UpdateFlags::NOEXIST).unwrap_err();
        assert_eq!(errno_of(&e), Some(Errno::EEXIST), "{e}");
        // A non-socket fd is refused.
        let file = std::fs::File::open("/proc/self/stat").expect("open");
        assert!(sm.set(3, &file, ANY).is_err(), "a file is not a socket");
        assert!(sm.remove(1).expect("remove"));
        assert!(!sm.remove(1).expect("remove again"));
        // Closing the socket removes it from the map (sock_map_close).
        drop(client);
        assert_gone(|| sm.get(0).expect("get after close"));

        // The server side of a closed connection (CLOSE_WAIT) is no longer accepted.
        let e = sm.set(2, &server, ANY).unwrap_err();
        assert_eq!(errno_of(&e), Some(Errno::EOPNOTSUPP), "{e}");
        let (_client, server) = tcp_pair();

        // 4-byte values: updates work, the kernel reports no cookie.
        let small = SockMap::new(create(MapType::SOCKMAP, 4, 4, 2)).expect("view");
        small.set(0, &server, ANY).expect("insert");
        assert!(matches!(small.get(0), Err(Error::InvalidArgument(_))));
        assert!(SockMap::new(create(MapType::SOCKMAP, 4, 8, 1)).is_ok());
        assert!(
            SockMap::new(create(MapType::HASH, 4, 8, 1)).is_err(),
            "a hash is not a sockmap"
        );

        let sh = SockHash::<[u8; 6]>::new(create(MapType::SOCKHASH, 6, 8, 8)).expect("view");
        let key = *b"peer-1";
        sh.insert(&key, &server, ANY).expect("insert");
        assert_eq!(sh.get(&key).expect("get"), Some(cookie(&server)));
        assert_eq!(sh.get(b"nobody").expect("get"), None);
        assert_eq!(
            sh.keys().map(|k| k.expect("key")).collect::<Vec<_>>(),
            [key]
        );
        drop(server);
        assert_gone(|| sh.get(&key).expect("get after close"));
    });
}

/// An XDP program loaded for entries of a devmap or cpumap (`BPF_XDP_DEVMAP`/`CPUMAP`).
fn xdp_entry_prog(t: AttachType) -> Program {
    Program::load(
        ProgramType::XDP,
        &[Insn::mov64_imm(Reg::R0, 2), Insn::exit()],
        &ProgramOptions::default()
            .name("mt_entry")
            .license("GPL")
            .expected_attach_type(t),
    )
    .unwrap_or_else(|e| panic!("load XDP program for {t:?}: {e}"))
}

/// Devmap, devmap hash and cpumap: interface indices, queue sizes and entry programs go in,
/// and come back as the kernel stores them (the program as its id).
#[test]
fn devmap_and_cpumap() {
    if !common::privileged() {
        return;
    }
    for t in [MapType::DEVMAP, MapType::DEVMAP_HASH, MapType::CPUMAP] {
        if !have_map("devmap_and_cpumap", t) {
            return;
        }
    }
    common::in_netns(|| {
        let lo = nix::net::if_::if_nametoindex("lo").expect("lo");
        let none: Option<&Program> = None;
        let dev_prog = xdp_entry_prog(AttachType::XDP_DEVMAP);
        let dev_prog_id = dev_prog.info().expect("info").id;

        let dm = DevMap::new(create(MapType::DEVMAP, 4, 8, 4)).expect("view");
        dm.set(0, lo, none, ANY).expect("set lo");
        dm.set(1, lo, Some(&dev_prog), ANY)
            .expect("set lo with program");
        assert_eq!(
            dm.get(0).expect("get"),
            Some(RedirectEntry {
                target: lo,
                prog_id: None
            })
        );
        assert_eq!(
            dm.get(1).expect("get"),
            Some(RedirectEntry {
                target: lo,
                prog_id: Some(dev_prog_id)
            })
        );
        assert_eq!(dm.get(2).expect("get"), None);
        let e = dm.set(2, 999_999, none, ANY).unwrap_err();
        assert_eq!(errno_of(&e), Some(Errno::EINVAL), "no such interface: {e}");
        assert!(dm.remove(1).expect("remove"));
        assert_eq!(dm.get(1).expect("get"), None);

        // 4-byte values: no room for a program.
        let dm4 = DevMap::new(create(MapType::DEVMAP, 4, 4, 2)).expect("view");
        dm4.set(0, lo, none, ANY).expect("set");
        assert_eq!(
            dm4.get(0).expect("get").map(|e| e.target),
            Some(lo),
            "4-byte devmap value"
        );
        assert!(matches!(
            dm4.set(1, lo, Some(&dev_prog), ANY),
            Err(Error::InvalidArgument(_))
        ));

        let dh = DevMap::new(create(MapType::DEVMAP_HASH, 4, 8, 4)).expect("view");
        dh.set(4242, lo, none, ANY).expect("set");
        assert_eq!(
            dh.keys().map(|k| k.expect("key")).collect::<Vec<_>>(),
            [4242]
        );
        assert_eq!(dh.get(4242).expect("get").map(|e| e.target), Some(lo));
        assert_eq!(dh.get(1).expect("get"), None);

        let cpus = possible_cpus().expect("cpus") as u32;
        let cpu_prog = xdp_entry_prog(AttachType::XDP_CPUMAP);
        let cpu_prog_id = cpu_prog.info().expect("info").id;
        let cm = CpuMap::new(create(MapType::CPUMAP, 4, 8, cpus)).expect("view");
        cm.set(0, 192, none, ANY).expect("enable cpu 0");
        assert_eq!(
            cm.get(0).expect("get"),
            Some(RedirectEntry {
                target: 192,
                prog_id: None
            })
        );
        cm.set(0, 256, Some(&cpu_prog), ANY)
            .expect("cpu 0 with program");
        assert_eq!(
            cm.get(0).expect("get"),
            Some(RedirectEntry {
                target: 256,
                prog_id: Some(cpu_prog_id)
            })
        );
        // A devmap program is not a cpumap program.
        assert!(cm.set(0, 256, Some(&dev_prog), ANY).is_err());
        assert!(cm.set(cpus, 192, none, ANY).is_err(), "past the last CPU");
        if cpus > 1 {
            assert_eq!(cm.get(1).expect("get"), None, "cpu 1 not enabled");
        }
        cm.remove(0).expect("disable");
        assert_eq!(cm.get(0).expect("get"), None);
    });
}

/// An AF_XDP socket (unbound).
fn xsk_socket() -> std::io::Result<OwnedFd> {
    // SAFETY: socket(2) takes integers; on success it returns a new fd that we own.
    let fd = unsafe { libc::socket(libc::AF_XDP, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh fd nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Xskmap: an AF_XDP socket goes in and out; user space cannot look it up (the kernel says
/// EOPNOTSUPP) and a non-XDP socket is refused.
#[test]
fn xskmap() {
    if !common::privileged() || !have_map("xskmap", MapType::XSKMAP) {
        return;
    }
    let xm = XskMap::new(create(MapType::XSKMAP, 4, 4, 4)).expect("view");
    let xsk = xsk_socket().expect("socket(AF_XDP)");
    xm.set(0, &xsk, ANY).expect("insert AF_XDP socket");
    let mut v = [0u8; 4];
    let e = xm.map().lookup(&0u32.to_ne_bytes(), &mut v).unwrap_err();
    assert_eq!(errno_of(&e), Some(Errno::EOPNOTSUPP), "{e}");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0");
    if let Ok(udp) = udp {
        assert!(xm.set(1, &udp, ANY).is_err(), "a UDP socket is not AF_XDP");
    }
    xm.remove(0).expect("remove");
    xm.remove(0).expect("remove an empty slot");
    xm.set(0, &xsk, UpdateFlags::NOEXIST)
        .expect("the slot is free again");
}

/// Calls getppid with a `syscall` instruction in this function, so that the user stack's
/// innermost frame is an address of the test executable. Returns that address's neighbour
/// (the instruction after `syscall`, which is what the kernel records as the user IP).
#[inline(never)]
fn getppid_here() -> u64 {
    let ret: u64;
    let after: u64;
    // SAFETY: getppid takes no arguments and only returns a value in rax; the syscall
    // instruction clobbers rcx and r11, declared here. `lea` only computes an address.
    unsafe {
        std::arch::asm!(
            "syscall",
            "2:",
            "lea {after}, [rip + 2b]",
            after = out(reg) after,
            inlateout("rax") libc::SYS_getppid as u64 => ret,
            out("rcx") _,
            out("r11") _,
        );
    }
    // (No libc getppid() here: it would fire the program again from another place.)
    assert!(ret as i32 > 0, "getppid: {ret}");
    after
}

/// The executable mapping of `/proc/self/exe` that holds `addr`: (start, file offset).
fn exe_mapping_of(addr: u64) -> Option<(u64, u64)> {
    let exe = std::fs::read_link("/proc/self/exe").ok()?;
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (range, perms, off, path) = (f.first()?, f.get(1)?, f.get(2)?, f.get(5)?);
        let (a, b) = range.split_once('-')?;
        let (a, b) = (
            u64::from_str_radix(a, 16).ok()?,
            u64::from_str_radix(b, 16).ok()?,
        );
        (perms.contains('x') && Path::new(path) == exe && (a..b).contains(&addr))
            .then(|| (a, u64::from_str_radix(off, 16).unwrap_or(0)))
    })
}

/// The GNU build id of the running executable.
fn own_build_id() -> Vec<u8> {
    use object::{Object as _, ObjectSection as _};
    let data = std::fs::read("/proc/self/exe").expect("read /proc/self/exe");
    let file = object::File::parse(&*data).expect("parse own ELF");
    let sec = file
        .section_by_name(".note.gnu.build-id")
        .expect("the test executable has a .note.gnu.build-id");
    let note = sec.data().expect("note data");
    // Elf64_Nhdr: namesz, descsz, type; name "GNU\0"; then the id.
    let namesz = u32::from_ne_bytes(note[0..4].try_into().unwrap()) as usize;
    let descsz = u32::from_ne_bytes(note[4..8].try_into().unwrap()) as usize;
    let start = 12 + namesz.div_ceil(4) * 4;
    note[start..start + descsz].to_vec()
}

/// The kernel symbol that contains `addr`, from /proc/kallsyms.
fn ksym_of(addr: u64, syms: &[(u64, String)]) -> Option<&str> {
    let i = syms.partition_point(|(a, _)| *a <= addr);
    (i > 0).then(|| syms[i - 1].1.as_str())
}

fn kallsyms() -> Vec<(u64, String)> {
    let text = std::fs::read_to_string("/proc/kallsyms").expect("read /proc/kallsyms");
    let mut v: Vec<(u64, String)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let a = u64::from_str_radix(f.next()?, 16).ok()?;
            let t = f.next()?;
            let n = f.next()?;
            (a != 0 && matches!(t, "t" | "T")).then(|| (a, n.to_string()))
        })
        .collect();
    v.sort_unstable();
    v
}

/// Loads map_types.bpf.o for this process.
fn load_map_types() -> Object {
    Loader::new()
        .set_global("target_tgid", &std::process::id())
        .load(&spec("tests/bpf/map_types.bpf.o"))
        .expect("load map_types.bpf.o")
}

/// Stack traces: a raw tracepoint on sys_enter records this thread's kernel stack, user stack
/// and build-id user stack when it calls getppid; the kernel stack walks through the syscall
/// entry, the user stack's innermost frame is the instruction after our `syscall`, and the
/// build-id frame names our executable's build id and the file offset of that instruction.
#[test]
fn stack_traces() {
    if !common::privileged() || !have_map("stack_traces", MapType::STACK_TRACE) {
        return;
    }
    let obj = load_map_types();
    let prog = obj.program("stack_on_getppid").expect("program");
    let _link = rawbpf::sys::raw_tracepoint_open(prog.as_fd(), Some(c"sys_enter"), 0)
        .expect("attach raw_tp/sys_enter");
    let ids = obj.map("ids").expect("ids");
    let id = |slot: u32| -> i64 {
        let v = ids.get(&slot.to_ne_bytes()).expect("lookup").expect("slot");
        i64::from_ne_bytes(v.try_into().unwrap())
    };
    let stacks = StackTrace::new(obj.map("stacks").expect("stacks")).expect("view");
    let build_ids = StackTrace::new(obj.map("build_ids").expect("build_ids")).expect("view");
    assert!(!stacks.is_build_id() && build_ids.is_build_id());
    assert_eq!(stacks.max_depth(), 127);
    assert_eq!(build_ids.max_depth(), 127);

    // The build id may be unreadable at one call (the mmap lock taken by another thread):
    // that frame then has status IP. Try a few times (BPF_F_REUSE_STACKID replaces it).
    let own = own_build_id();
    let mut found = None;
    for _ in 0..2000 {
        let ip = getppid_here();
        let bid = id(2);
        assert!(bid >= 0, "bpf_get_stackid on the build-id map: {bid}");
        let frames = build_ids
            .get_build_ids(bid as u32)
            .expect("lookup")
            .expect("the build-id stack exists");
        assert!(!frames.is_empty());
        if frames[0].status == BuildIdStatus::Valid {
            found = Some((ip, frames[0]));
            break;
        }
        assert_eq!(frames[0].status, BuildIdStatus::Ip);
        assert_eq!(frames[0].offset, ip, "an IP frame holds the address");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(id(3) >= 1, "the program ran");
    let (ip, frame) = found.expect("a build-id frame of our executable within 2000 calls");
    assert_eq!(&frame.build_id[..own.len()], own.as_slice());
    let (start, file_off) = exe_mapping_of(ip).expect("the IP is in our executable");
    assert_eq!(frame.offset, ip - start + file_off, "file offset of the IP");

    // The address stacks of the last call. Both go into one 64-bucket map with
    // BPF_F_REUSE_STACKID: when they hash to the same bucket, the user stack replaces the
    // kernel one and both ids are the same. Call again until they differ (1 in 64 calls).
    let mut tries = 0;
    while id(0) == id(1) && tries < 100 {
        assert_eq!(getppid_here(), ip, "the same call site");
        tries += 1;
    }
    let kid = id(0);
    let uid = id(1);
    assert_ne!(kid, uid, "kernel and user stacks in different buckets");
    assert!(kid >= 0 && uid >= 0, "stack ids {kid} {uid}");
    let kstack = stacks
        .get(kid as u32)
        .expect("lookup")
        .expect("kernel stack");
    assert!(!kstack.is_empty());
    assert!(
        kstack.iter().all(|a| *a >= 0xffff_8000_0000_0000),
        "kernel addresses: {kstack:x?}"
    );
    let syms = kallsyms();
    let names: Vec<&str> = kstack.iter().filter_map(|a| ksym_of(*a, &syms)).collect();
    assert!(
        names.iter().any(|n| n.contains("do_syscall_64")),
        "the kernel stack passes the syscall entry: {names:?}"
    );
    let ustack = stacks.get(uid as u32).expect("lookup").expect("user stack");
    assert_eq!(ustack[0], ip, "innermost user frame: after our syscall");
    assert!(matches!(
        stacks.get_build_ids(kid as u32),
        Err(Error::InvalidArgument(_))
    ));

    let all: Vec<u32> = stacks.ids().map(|k| k.expect("id")).collect();
    assert!(all.contains(&(kid as u32)) && all.contains(&(uid as u32)));
    // Lookup-and-delete of a stack: the frames, then nothing.
    match stacks.take(uid as u32) {
        Ok(frames) => {
            assert_eq!(frames.as_ref(), Some(&ustack));
            assert_eq!(stacks.get(uid as u32).expect("lookup"), None);
            assert_eq!(stacks.take(uid as u32).expect("take again"), None);
        }
        Err(Error::Unsupported { feature, .. }) => {
            eprintln!("stack_traces: {feature} unsupported on this kernel");
        }
        Err(e) => panic!("take: {e}"),
    }
    assert!(stacks.remove(kid as u32).expect("remove"));
    assert_eq!(stacks.get(kid as u32).expect("lookup"), None);
    assert!(!stacks.remove(kid as u32).expect("remove again"));
}

/// Task, inode, socket and cgroup storage: values hung off kernel objects through the fds
/// that name them, shared by every fd of the same object, gone with the object.
#[test]
fn local_storages() {
    if !common::privileged() {
        return;
    }
    let obj = load_map_types();
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    #[repr(C)]
    struct Owned {
        tag: u64,
        count: u32,
        pad: u32,
    }
    rawbpf::impl_pod!(Owned { tag, count, pad });
    let val = |tag, count| Owned { tag, count, pad: 0 };

    // Task storage, keyed by pidfd.
    let task = TaskStorage::<Owned, _>::new(obj.map("task_store").expect("map")).expect("view");
    let me = std::process::id();
    assert_eq!(task.get_pid(me).expect("get"), None);
    task.insert_pid(me, &val(1, 2), ANY).expect("insert");
    assert_eq!(task.get_pid(me).expect("get"), Some(val(1, 2)));
    let e = task
        .insert_pid(me, &val(3, 4), UpdateFlags::NOEXIST)
        .unwrap_err();
    assert_eq!(errno_of(&e), Some(Errno::EEXIST), "{e}");
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let child_fd = rawbpf::map::pidfd(child.id()).expect("pidfd");
    task.insert(&child_fd, &val(9, 9), ANY)
        .expect("insert child");
    assert_eq!(task.get(&child_fd).expect("get"), Some(val(9, 9)));
    assert_eq!(task.get_pid(me).expect("get"), Some(val(1, 2)), "per task");
    child.kill().expect("kill");
    child.wait().expect("wait");
    // The task is gone, and its storage with it.
    match task.get(&child_fd) {
        Ok(v) => assert_eq!(v, None, "storage of a dead task"),
        Err(e) => assert_eq!(errno_of(&e), Some(Errno::from_raw(libc::ESRCH)), "{e}"),
    }
    assert!(
        task.remove(&rawbpf::map::pidfd(me).expect("pidfd"))
            .expect("remove")
    );
    assert_eq!(task.get_pid(me).expect("get"), None);

    // Socket storage.
    let sk = SkStorage::<Owned, _>::new(obj.map("sk_store").expect("map")).expect("view");
    let a = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let b = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    sk.insert(&a, &val(10, 1), ANY).expect("insert a");
    sk.insert(&b, &val(20, 2), ANY).expect("insert b");
    assert_eq!(sk.get(&a).expect("get"), Some(val(10, 1)));
    assert_eq!(sk.get(&b).expect("get"), Some(val(20, 2)));
    let a2 = a.try_clone().expect("dup");
    assert_eq!(sk.get(&a2).expect("get through a dup"), Some(val(10, 1)));
    assert!(sk.remove(&a).expect("remove"));
    assert_eq!(sk.get(&a2).expect("get"), None);
    let file = std::fs::File::open("/proc/self/stat").expect("open");
    assert!(sk.get(&file).is_err(), "a file is not a socket");

    // Inode storage: every fd of the file sees the same value. It needs the BPF LSM active
    // (the inode's security blob holds the storage).
    let ino = InodeStorage::<Owned, _>::new(obj.map("inode_store").expect("map")).expect("view");
    let path = std::env::temp_dir().join(common::unique_name("mtino"));
    std::fs::write(&path, b"x").expect("write temp file");
    let f1 = std::fs::File::open(&path).expect("open");
    let f2 = std::fs::File::open(&path).expect("open again");
    let _ = std::fs::remove_file(&path);
    let lsms = std::fs::read_to_string("/sys/kernel/security/lsm").unwrap_or_default();
    match ino.insert(&f1, &val(5, 5), ANY) {
        Ok(()) => {
            assert_eq!(
                ino.get(&f2).expect("get"),
                Some(val(5, 5)),
                "one value per inode"
            );
            let other = std::fs::File::open("/proc/self/stat").expect("open");
            assert_eq!(ino.get(&other).expect("get"), None);
            assert!(ino.remove(&f2).expect("remove"));
            assert_eq!(ino.get(&f1).expect("get"), None);
        }
        Err(e) if !lsms.split(',').any(|l| l.trim() == "bpf") => {
            eprintln!(
                "local_storages: inode storage needs the BPF LSM, not active here (lsm={}): {e}",
                lsms.trim()
            );
            assert_eq!(errno_of(&e), Some(Errno::EBADF), "{e}");
        }
        Err(e) => panic!("inode storage with the BPF LSM active: {e}"),
    }

    // Cgroup storage (Linux 6.2), keyed by a cgroup v2 directory fd.
    let probe = rawbpf::features::map_type(MapType::CGRP_STORAGE);
    if !common::supported(
        "local_storages",
        "cgrp_storage",
        "features::map_type(CGRP_STORAGE)",
        probe,
    ) {
        let e = Loader::new()
            .load(&spec("tests/bpf/map_types_cgrp.bpf.o"))
            .expect_err("no cgroup storage on this kernel");
        assert!(
            e.errno() == Some(Errno::EINVAL) || e.is_not_supported(),
            "{e}"
        );
        return;
    }
    let cgrp = Loader::new()
        .load(&spec("tests/bpf/map_types_cgrp.bpf.o"))
        .expect("load map_types_cgrp.bpf.o");
    let cg = CgrpStorage::<Owned, _>::new(cgrp.map("cgrp_store").expect("map")).expect("view");
    let dir = common::cgroup2_root().join(common::unique_name("mtcg"));
    std::fs::create_dir(&dir).expect("mkdir cgroup");
    struct RmDir(std::path::PathBuf);
    impl Drop for RmDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
        }
    }
    let _rm = RmDir(dir.clone());
    let d1 = std::fs::File::open(&dir).expect("open cgroup dir");
    let d2 = std::fs::File::open(&dir).expect("open cgroup dir again");
    cg.insert(&d1, &val(77, 7), ANY).expect("insert cgroup");
    assert_eq!(
        cg.get(&d2).expect("get"),
        Some(val(77, 7)),
        "one value per cgroup"
    );
    let root = std::fs::File::open(common::cgroup2_root()).expect("open cgroup root");
    assert_eq!(cg.get(&root).expect("get root"), None);
    assert!(cg.remove(&d2).expect("remove"));
}

/// Lookup-and-delete: hash maps (plain, LRU, per-CPU) give the value and lose the key; an
/// array, which the kernel has no lookup-and-delete for, gives the clean Unsupported error.
#[test]
fn lookup_and_delete() {
    if !common::privileged() {
        return;
    }
    for t in [MapType::HASH, MapType::LRU_HASH] {
        let h = HashMap::<u32, u64>::new(create(t, 4, 8, 8)).expect("view");
        h.insert(&1, &11, ANY).expect("insert");
        assert_eq!(h.take(&1).expect("take"), Some(11), "{t:?}");
        assert_eq!(h.get(&1).expect("get"), None, "{t:?}");
        assert_eq!(h.take(&1).expect("take absent"), None, "{t:?}");
    }
    let cpus = possible_cpus().expect("cpus");
    for t in [MapType::PERCPU_HASH, MapType::LRU_PERCPU_HASH] {
        let h = PerCpuHashMap::<u32, u32>::new(create(t, 4, 4, 8)).expect("view");
        let vals: Vec<u32> = (0..cpus as u32).map(|c| 100 + c).collect();
        h.insert(&5, &vals, ANY).expect("insert");
        assert_eq!(h.take(&5).expect("take").map(|v| v.0), Some(vals), "{t:?}");
        assert_eq!(h.get(&5).expect("get"), None, "{t:?}");
    }
    let arr = create(MapType::ARRAY, 4, 8, 2);
    let mut v = [0u8; 8];
    match arr.lookup_and_delete(&0u32.to_ne_bytes(), &mut v) {
        Err(Error::Unsupported { feature, hint }) => {
            assert!(feature.contains("LOOKUP_AND_DELETE"), "{feature}");
            assert!(hint.contains("ARRAY"), "{hint}");
        }
        r => panic!("lookup_and_delete on an array: {r:?}"),
    }
}

/// Arena: memory shared between a program and user space. The program takes a page and writes
/// a marker that user space reads at the pointer the program left; user space writes numbers
/// into the page that the program's next run adds up. On a kernel without arenas, or where a security policy
/// refuses them, the clean error.
#[test]
fn arena() {
    if !common::privileged() {
        return;
    }
    let probe = rawbpf::features::arena();
    if probe.is_err() {
        let e = Arena::create(&common::unique_name("arena"), 1, None).unwrap_err();
        if e.errno() == Some(Errno::EPERM) {
            // A security policy (this host's BPF LSM) refuses arena maps even to root:
            // creating one fails with a clean EPERM, and so does loading an object with one.
            let e = Loader::new()
                .load(&spec("tests/bpf/arena.bpf.o"))
                .expect_err("arena.bpf.o cannot load");
            assert_eq!(e.errno(), Some(Errno::EPERM), "{e}");
            eprintln!("arena: arena maps refused on this machine (probe: features::arena): {e}");
            return;
        }
        assert!(
            e.is_not_supported() || e.errno() == Some(Errno::EINVAL),
            "an arena on a kernel without arenas: {e}"
        );
        assert!(!common::supported(
            "arena",
            "arena",
            "features::arena",
            probe
        ));
        return;
    }

    // A standalone arena: typed reads and writes, bounds.
    let a = Arena::create(&common::unique_name("arena"), 2, None).expect("create arena");
    let page = a.page_size();
    assert_eq!(a.len(), 2 * page);
    assert_eq!(a.read::<u64>(0).expect("read fresh page"), 0);
    a.write(page - 4, &0xdead_beefu32).expect("write");
    a.write(2 * page - 8, &7u64).expect("write last word");
    assert_eq!(a.read::<u32>(page - 4).expect("read"), 0xdead_beef);
    assert_eq!(
        a.read_ptr::<u64>(a.addr() + 2 * page as u64 - 8)
            .expect("read"),
        7
    );
    assert!(matches!(
        a.read::<u64>(2 * page - 4),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        a.read_ptr::<u8>(a.addr() - 1),
        Err(Error::InvalidArgument(_))
    ));
    assert_eq!(a.offset_of(a.addr() + 5), Some(5));

    // With programs, at the fixed address of map_extra.
    let obj = Loader::new()
        .load(&spec("tests/bpf/arena.bpf.o"))
        .expect("load arena.bpf.o");
    let arena = Arena::new(obj.map("arena").expect("map")).expect("map the arena");
    assert_eq!(arena.addr(), 0x1000_0000, "the arena sits at its map_extra");
    let run = |name: &str| {
        obj.program(name)
            .expect("program")
            .test_run(TestRun::default())
            .expect("test_run")
            .retval
    };
    assert_eq!(run("arena_step"), 0, "bpf_arena_alloc_pages");
    let page_addr: u64 = obj.global("page_addr").expect("page_addr");
    assert_eq!(
        arena.read_ptr::<u64>(page_addr).expect("read"),
        0x5eed_0fa7_e4a0,
        "the program's write, seen through our mapping"
    );
    let mut want = 0u64;
    for i in 1..=10u64 {
        arena.write_ptr(page_addr + 8 * i, &(i * i)).expect("write");
        want += i * i;
    }
    obj.set_global("words", &10u32).expect("words");
    assert_eq!(run("arena_step"), 0);
    assert_eq!(obj.global::<u64>("total").expect("total"), want);
}
