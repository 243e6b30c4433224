//! The networking and cgroup attach families against the running kernel: XDP (link and
//! netlink), tcx and classic tc, cgroup hooks (links and `PROG_ATTACH`), sk_lookup and
//! flow_dissector on a netns, netfilter, socket filters, reuseport and sockmaps.
//!
//! Every test attaches a program of `tests/bpf/net_count.bpf.c` that counts its runs
//! (`counts[i]`) and records what it saw (`last[i]`), triggers it, checks both, detaches, and
//! checks that it stopped. Packets only move inside a network namespace the test makes
//! (`common::in_netns`); cgroup tests make their own child cgroup. Work that must happen in
//! another process (joining a cgroup, pinning a link that must outlive its creator) runs in a
//! child: this test binary re-executed on the `child_entry` test, driven by the
//! `RAWBPF_NET_CHILD` environment variable.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rawbpf::link::{
    CgroupAttachMode, Link, LinkDetails, LinkType, NetfilterHook, NetfilterOptions,
    NetfilterProtocol, TcAttachPoint, TcHook, TcxAnchor, TcxOptions, XdpFlags,
};
use rawbpf::map::Map;
use rawbpf::prog::AttachType;
use rawbpf::{Loader, Object, ObjectSpec};

const OBJ: &[u8] = include_bytes!("bpf/net_count.bpf.o");

// Program numbers (the index each one counts at), as in net_count.bpf.c.
const XDP_A: u32 = 0;
const XDP_B: u32 = 1;
const TC_A: u32 = 2;
const TC_B: u32 = 3;
const CG_SKB: u32 = 4;
const CG_SOCK: u32 = 5;
const CG_CONNECT4: u32 = 6;
const CG_SENDMSG4: u32 = 7;
const CG_SOCKOPS: u32 = 8;
const CG_SYSCTL: u32 = 9;
const CG_DEV: u32 = 10;
const CG_GETSOCKOPT: u32 = 11;
const SK_LOOKUP: u32 = 12;
const FLOW: u32 = 13;
const NF: u32 = 14;
const SOCK_FILTER: u32 = 15;
const REUSEPORT: u32 = 16;
const SK_MSG: u32 = 17;
const SK_SKB: u32 = 18;

/// Loads the maps and only the programs `progs` (so a kernel without, say, netfilter can
/// still run the others).
fn load(progs: &[&str]) -> Object {
    let spec = ObjectSpec::parse(OBJ).expect("parse net_count.bpf.o");
    let mut loader = Loader::new().load_only(progs[0]);
    for p in &progs[1..] {
        loader = loader.autoload(p, true);
    }
    loader.load(&spec).expect("load net_count.bpf.o")
}

fn read(map: &Map, i: u32) -> u64 {
    let v = map
        .get(&i.to_ne_bytes())
        .expect("lookup")
        .expect("array element");
    u64::from_ne_bytes(v[..8].try_into().expect("8 bytes"))
}

fn count(obj: &Object, i: u32) -> u64 {
    read(obj.map("counts").expect("counts"), i)
}

fn last(obj: &Object, i: u32) -> u64 {
    read(obj.map("last").expect("last"), i)
}

/// `count(obj, i)` once it reaches `want`, or after 2 s (work done in softirq, e.g. veth's
/// NAPI, may land just after the send returns).
fn count_reaching(obj: &Object, i: u32, want: u64) -> u64 {
    for _ in 0..200 {
        let n = count(obj, i);
        if n >= want {
            return n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    count(obj, i)
}

/// Drops `link` and waits until the kernel has let it go (its id no longer opens): some
/// kernels (Debian's 6.1) release a link whose last fd closed from a work item, a moment
/// after `close` returns.
fn drop_link(link: Link) {
    let id = link.info().expect("link info").id;
    drop(link);
    wait_link_gone(id);
}

fn wait_link_gone(id: u32) {
    for _ in 0..300 {
        if Link::from_id(id).is_err() {
            // The release runs right after the id is freed, in the same call.
            std::thread::sleep(Duration::from_millis(10));
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("link {id} still exists 3 s after its last fd was closed");
}

fn lo() -> u32 {
    nix::net::if_::if_nametoindex("lo").expect("lo")
}

/// Sends `n` UDP datagrams to a socket bound on 127.0.0.1 and receives them: traffic on the
/// current namespace's `lo`. Returns the receiver's port.
fn udp_ping(n: usize) -> u16 {
    let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    rx.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let port = rx.local_addr().expect("addr").port();
    let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let mut buf = [0u8; 64];
    for _ in 0..n {
        tx.send_to(b"ping", ("127.0.0.1", port)).expect("send");
        rx.recv(&mut buf).expect("recv");
    }
    port
}

/// Runs this test binary's `child_entry` with `RAWBPF_NET_CHILD=action`, from the calling
/// thread (so in its network namespace), and asserts that it succeeded.
fn run_child(action: &str) {
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new(exe)
        .args([
            "--exact",
            "child_entry",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("RAWBPF_NET_CHILD", action)
        .output()
        .expect("spawn child");
    assert!(
        out.status.success(),
        "child {action:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Not a test: the body of the child processes the tests start (see the module docs).
#[test]
#[ignore = "run by the other tests as a child process"]
fn child_entry() {
    let Ok(action) = std::env::var("RAWBPF_NET_CHILD") else {
        eprintln!("child_entry: only runs as a child of the link_net tests");
        return;
    };
    let parts: Vec<&str> = action.split('|').collect();
    match parts[..] {
        ["pin-xdp", dir] => {
            let obj = load(&["xdp_a"]);
            let link = obj
                .program("xdp_a")
                .expect("xdp_a")
                .attach_xdp(lo(), XdpFlags::SKB_MODE)
                .expect("attach_xdp");
            obj.map("counts")
                .expect("counts")
                .pin(Path::new(dir).join("counts"))
                .expect("pin map");
            link.pin(Path::new(dir).join("link")).expect("pin link");
        }
        ["pin-tcx", dir] => {
            let obj = load(&["tc_a"]);
            let link = obj
                .program("tc_a")
                .expect("tc_a")
                .attach_tcx(lo(), TcAttachPoint::Ingress, &TcxOptions::default())
                .expect("attach_tcx");
            obj.map("counts")
                .expect("counts")
                .pin(Path::new(dir).join("counts"))
                .expect("pin map");
            link.pin(Path::new(dir).join("link")).expect("pin link");
        }
        ["pin-cgroup", dir, cgroup] => {
            let obj = load(&["cg_sock"]);
            let cg = File::open(cgroup).expect("open cgroup");
            let link = obj
                .program("cg_sock")
                .expect("cg_sock")
                .attach_cgroup(&cg)
                .expect("attach_cgroup");
            obj.map("counts")
                .expect("counts")
                .pin(Path::new(dir).join("counts"))
                .expect("pin map");
            link.pin(Path::new(dir).join("link")).expect("pin link");
        }
        ["pin-netns", dir] => {
            let obj = load(&["sk_lookup_count"]);
            let link = obj
                .program("sk_lookup_count")
                .expect("sk_lookup_count")
                .attach_netns(this_netns())
                .expect("attach_netns");
            pin_both(&obj, &link, dir);
        }
        ["pin-netfilter", dir] => {
            let obj = load(&["nf_count"]);
            let opts = NetfilterOptions::new(NetfilterProtocol::Ipv4, NetfilterHook::LocalIn, -100);
            let link = obj
                .program("nf_count")
                .expect("nf_count")
                .attach_netfilter(&opts)
                .expect("attach_netfilter");
            pin_both(&obj, &link, dir);
        }
        ["cgroup-work", cgroup] => cgroup_work(Path::new(cgroup)),
        _ => panic!("unknown child action {action:?}"),
    }
}

/// Pins `obj`'s counts map and `link` in `dir` (in a child that then exits).
fn pin_both(obj: &Object, link: &Link, dir: &str) {
    let dir = Path::new(dir);
    obj.map("counts")
        .expect("counts")
        .pin(dir.join("counts"))
        .expect("pin map");
    link.pin(dir.join("link")).expect("pin link");
}

/// In a network namespace: a child process attaches `counts[i]`'s program with `action`
/// and pins the link; after it exited, the program still runs on `udp_ping`, until the pin
/// and the last fd go.
fn pinned_outlives_child(test: &str, action: &str, i: u32, link_type: LinkType) {
    let dir = common::PinDir::new(test);
    run_child(&format!("{action}|{}", dir.path().display()));
    let counts = Map::from_pin(dir.join("counts")).expect("counts pin");
    let link = Link::from_pin(dir.join("link")).expect("link pin");
    assert_eq!(link.info().expect("info").link_type, link_type);
    let n = read(&counts, i);
    udp_ping(2);
    assert!(read(&counts, i) >= n + 2, "the pinned link's program runs");
    std::fs::remove_file(dir.join("link")).expect("unpin");
    drop_link(link);
    let n = read(&counts, i);
    udp_ping(2);
    assert_eq!(
        read(&counts, i),
        n,
        "detached once the pin and the last fd went"
    );
}

/// A child cgroup of this test, removed on drop (after its processes have exited).
struct TestCgroup(PathBuf);

impl TestCgroup {
    fn new(test: &str) -> Self {
        let p = common::cgroup2_root().join(format!("rawbpf-{}", common::unique_name(test)));
        std::fs::create_dir(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        TestCgroup(p)
    }

    fn open(&self) -> File {
        File::open(&self.0).expect("open cgroup dir")
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() || !self.0.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

const CG_UDP_PORT: u16 = 4242;
const CG_SENDTO_PORT: u16 = 4343;

/// In a child process: joins `cgroup`, then, in this order, makes a TCP connection over lo
/// (sock_create, connect4, sockops), connects a UDP socket to 127.0.0.1:4242 and sends on it
/// (connect4, cgroup_skb egress), sends from an unconnected UDP socket to 127.0.0.1:4343
/// (sock_create, sendmsg4), calls getsockopt(SO_TYPE), reads a sysctl, opens /dev/null.
fn cgroup_work(cgroup: &Path) {
    std::fs::write(cgroup.join("cgroup.procs"), std::process::id().to_string())
        .expect("join the cgroup");
    let l = TcpListener::bind("127.0.0.1:0").expect("listen");
    let c = TcpStream::connect(l.local_addr().expect("addr")).expect("tcp connect");
    let (s, _) = l.accept().expect("accept");
    drop((c, s));
    let u = UdpSocket::bind("127.0.0.1:0").expect("bind");
    u.connect(("127.0.0.1", CG_UDP_PORT)).expect("udp connect");
    let _ = u.send(b"x");
    let u2 = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let _ = u2.send_to(b"y", ("127.0.0.1", CG_SENDTO_PORT));
    let t =
        nix::sys::socket::getsockopt(&u2, nix::sys::socket::sockopt::SockType).expect("getsockopt");
    assert_eq!(t, nix::sys::socket::SockType::Datagram);
    let mut s = String::new();
    File::open("/proc/sys/net/ipv4/ip_forward")
        .expect("open sysctl")
        .read_to_string(&mut s)
        .expect("read sysctl");
    File::open("/dev/null").expect("open /dev/null");
}

// ------------------------------------------------------------------------------------ XDP

#[test]
fn xdp_link_and_netlink() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let lo = lo();
        let obj = load(&["xdp_a", "xdp_b"]);
        let a = obj.program("xdp_a").expect("xdp_a");
        let b = obj.program("xdp_b").expect("xdp_b");
        let (a_id, b_id) = (a.info().expect("info").id, b.info().expect("info").id);
        assert!(rawbpf::link::xdp_query(lo).expect("query").is_empty());

        // The automatic choice takes a link where the kernel has XDP links.
        match a
            .attach_xdp_auto(lo, XdpFlags::SKB_MODE)
            .expect("attach_xdp_auto")
        {
            rawbpf::link::XdpAttach::Link(l) => {
                assert_eq!(l.info().expect("info").link_type, LinkType::XDP);
                drop_link(l);
            }
            other => panic!("a kernel with XDP links got {other:?}"),
        }
        assert!(rawbpf::link::xdp_query(lo).expect("query").is_empty());

        // Through a link.
        let link = a.attach_xdp(lo, XdpFlags::SKB_MODE).expect("attach_xdp");
        assert_eq!(
            rawbpf::link::xdp_query(lo).expect("query").generic,
            Some(a_id)
        );
        udp_ping(3);
        assert!(
            count(&obj, XDP_A) >= 3,
            "xdp_a ran {} times",
            count(&obj, XDP_A)
        );
        assert_eq!(last(&obj, XDP_A), u64::from(lo), "ingress_ifindex");
        // netlink cannot take over a link's hook.
        assert!(b.attach_xdp_netlink(lo, XdpFlags::SKB_MODE).is_err());
        drop_link(link);
        assert!(rawbpf::link::xdp_query(lo).expect("query").is_empty());
        let n = count(&obj, XDP_A);
        udp_ping(2);
        assert_eq!(
            count(&obj, XDP_A),
            n,
            "xdp_a ran after its link was dropped"
        );

        // Through netlink: attach, replace with an expected old program, query, detach.
        let mut att = a
            .attach_xdp_netlink(lo, XdpFlags::SKB_MODE)
            .expect("netlink attach");
        let q = rawbpf::link::xdp_query(lo).expect("query");
        assert_eq!(q.generic, Some(a_id));
        assert_eq!(q.driver, None);
        // iproute2 sees it too.
        let out = Command::new("ip")
            .args(["link", "show", "dev", "lo"])
            .output()
            .expect("run ip");
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            shown.contains("xdpgeneric") && shown.contains(&format!("id {a_id}")),
            "ip link show: {shown}"
        );
        udp_ping(2);
        assert_eq!(
            count(&obj, XDP_A),
            n + 2,
            "two datagrams, each seen once at lo ingress"
        );
        // A replace that expects the wrong old program is refused.
        let e = a
            .replace_xdp_netlink(lo, XdpFlags::SKB_MODE, b)
            .expect_err("b is not attached");
        assert!(e.to_string().contains("IFLA_XDP"), "{e}");
        assert_eq!(
            rawbpf::link::xdp_query(lo).expect("query").generic,
            Some(a_id)
        );
        att.replace(b).expect("replace a -> b");
        assert_eq!(
            rawbpf::link::xdp_query(lo).expect("query").generic,
            Some(b_id)
        );
        let (na, nb) = (count(&obj, XDP_A), count(&obj, XDP_B));
        udp_ping(1);
        assert_eq!(count(&obj, XDP_A), na, "a was replaced");
        assert!(count(&obj, XDP_B) > nb, "b runs");
        assert_eq!(last(&obj, XDP_B), u64::from(lo));
        // UPDATE_IF_NOEXIST refuses while b is there.
        assert!(
            a.attach_xdp_netlink(lo, XdpFlags::SKB_MODE | XdpFlags::UPDATE_IF_NOEXIST)
                .is_err()
        );
        drop(att);
        assert!(rawbpf::link::xdp_query(lo).expect("query").is_empty());
        let nb = count(&obj, XDP_B);
        udp_ping(2);
        assert_eq!(
            count(&obj, XDP_B),
            nb,
            "b ran after its attachment was dropped"
        );

        // Replaced by someone else: dropping our handle leaves their program in place.
        let ours = a
            .attach_xdp_netlink(lo, XdpFlags::SKB_MODE)
            .expect("attach a");
        let theirs = b
            .replace_xdp_netlink(lo, XdpFlags::SKB_MODE, a)
            .expect("replace a (expected) with b");
        drop(ours);
        assert_eq!(
            rawbpf::link::xdp_query(lo).expect("query").generic,
            Some(b_id)
        );
        // Forgotten, then detached by hand.
        theirs.forget();
        assert_eq!(
            rawbpf::link::xdp_query(lo).expect("query").generic,
            Some(b_id)
        );
        rawbpf::link::xdp_detach(lo, XdpFlags::SKB_MODE).expect("xdp_detach");
        assert!(rawbpf::link::xdp_query(lo).expect("query").is_empty());

        // Driver mode: lo has no native XDP, and says so.
        let e = a
            .attach_xdp_netlink(lo, XdpFlags::DRV_MODE)
            .expect_err("lo has no native XDP");
        assert!(e.to_string().contains("RTM_SETLINK"), "{e}");
    });
}

#[test]
fn xdp_missing_interface() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let obj = load(&["xdp_a"]);
        let a = obj.program("xdp_a").expect("xdp_a");
        for ifindex in [0, 999_999] {
            let e = a
                .attach_xdp(ifindex, XdpFlags::SKB_MODE)
                .expect_err("no such interface");
            let s = e.to_string();
            assert!(s.contains("no network interface has this ifindex"), "{s}");
            assert!(!s.contains("type/expected attach type"), "{s}");
            let e = a
                .attach_xdp_netlink(ifindex, XdpFlags::SKB_MODE)
                .expect_err("no such interface");
            assert!(e.to_string().contains("no network interface"), "{e}");
            assert!(rawbpf::link::xdp_query(ifindex).is_err());
        }
    });
}

#[test]
fn xdp_pinned_link_outlives_its_process() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let dir = common::PinDir::new("xdppin");
        run_child(&format!("pin-xdp|{}", dir.path().display()));
        // The child has exited; its link is still attached through the pin.
        let counts = Map::from_pin(dir.join("counts")).expect("counts pin");
        let link = Link::from_pin(dir.join("link")).expect("link pin");
        assert_eq!(
            link.info().expect("info").details,
            LinkDetails::Xdp { ifindex: lo() }
        );
        let n = read(&counts, XDP_A);
        udp_ping(2);
        assert!(
            read(&counts, XDP_A) >= n + 2,
            "the pinned link's program runs"
        );
        std::fs::remove_file(dir.join("link")).expect("unpin");
        drop_link(link);
        assert!(rawbpf::link::xdp_query(lo()).expect("query").is_empty());
        let n = read(&counts, XDP_A);
        udp_ping(2);
        assert_eq!(
            read(&counts, XDP_A),
            n,
            "detached once the pin and the last fd went"
        );
    });
}

// ------------------------------------------------------------------------------------- TC

fn tcx_supported(test: &str) -> bool {
    common::have(test, "tcx")
}

#[test]
fn tcx_links_order_query_replace() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let lo = lo();
        let obj = load(&["tc_a", "tc_b"]);
        let a = obj.program("tc_a").expect("tc_a");
        let b = obj.program("tc_b").expect("tc_b");
        if !tcx_supported("tcx_links_order_query_replace") {
            let e = a
                .attach_tcx(lo, TcAttachPoint::Ingress, &TcxOptions::default())
                .expect_err("no tcx");
            assert!(e.is_not_supported(), "{e}");
            return;
        }
        let (a_id, b_id) = (a.info().expect("info").id, b.info().expect("info").id);
        let la = a
            .attach_tcx(lo, TcAttachPoint::Ingress, &TcxOptions::default())
            .expect("attach a");
        // b goes before a.
        let lb = b
            .attach_tcx(
                lo,
                TcAttachPoint::Ingress,
                &TcxOptions {
                    anchor: TcxAnchor::BeforeProgram(a),
                    expected_revision: 0,
                },
            )
            .expect("attach b before a");
        let q = rawbpf::link::tcx_query(lo, TcAttachPoint::Ingress).expect("query");
        assert_eq!(q.prog_ids, vec![b_id, a_id]);
        assert_eq!(
            q.link_ids,
            vec![lb.info().expect("info").id, la.info().expect("info").id]
        );
        assert!(matches!(
            la.info().expect("info").details,
            LinkDetails::IdAttach { id_or_ifindex, attach_type } if id_or_ifindex == lo && attach_type == AttachType::TCX_INGRESS
        ));
        // A stale expected revision is refused.
        let e = a
            .attach_tcx(
                lo,
                TcAttachPoint::Egress,
                &TcxOptions {
                    anchor: TcxAnchor::Last,
                    expected_revision: 12345,
                },
            )
            .expect_err("stale revision");
        assert!(e.to_string().contains("BPF_LINK_CREATE"), "{e}");

        udp_ping(1);
        assert_eq!(count(&obj, TC_A), 1, "one datagram at lo ingress");
        assert_eq!(count(&obj, TC_B), 1);
        assert!(last(&obj, TC_B) < last(&obj, TC_A), "b ran before a");

        // Reorder: drop b, attach it after a (by link).
        drop_link(lb);
        let lb = b
            .attach_tcx(
                lo,
                TcAttachPoint::Ingress,
                &TcxOptions {
                    anchor: TcxAnchor::AfterLink(&la),
                    expected_revision: 0,
                },
            )
            .expect("attach b after a");
        let q = rawbpf::link::tcx_query(lo, TcAttachPoint::Ingress).expect("query");
        assert_eq!(q.prog_ids, vec![a_id, b_id]);
        udp_ping(1);
        assert!(last(&obj, TC_A) < last(&obj, TC_B), "a ran before b");
        // First, and after a program given by id.
        drop_link(lb);
        let lb = b
            .attach_tcx(
                lo,
                TcAttachPoint::Ingress,
                &TcxOptions {
                    anchor: TcxAnchor::First,
                    expected_revision: 0,
                },
            )
            .expect("attach b first");
        let q = rawbpf::link::tcx_query(lo, TcAttachPoint::Ingress).expect("query");
        assert_eq!(q.prog_ids, vec![b_id, a_id]);
        drop_link(lb);
        let lb = b
            .attach_tcx(
                lo,
                TcAttachPoint::Ingress,
                &TcxOptions {
                    anchor: TcxAnchor::AfterProgramId(a_id),
                    expected_revision: q.revision + 1, // dropping lb bumped it once
                },
            )
            .expect("attach b after a's id, at the expected revision");
        assert_eq!(
            rawbpf::link::tcx_query(lo, TcAttachPoint::Ingress)
                .expect("query")
                .prog_ids,
            vec![a_id, b_id]
        );
        // LINK_UPDATE with BPF_F_REPLACE on a tcx link: a's link now runs b.
        drop_link(lb);
        let e = la.update(b, Some(b)).expect_err("la does not run b");
        assert!(e.to_string().contains("BPF_LINK_UPDATE"), "{e}");
        la.update(b, Some(a)).expect("update a -> b");
        assert_eq!(
            rawbpf::link::tcx_query(lo, TcAttachPoint::Ingress)
                .expect("query")
                .prog_ids,
            vec![b_id]
        );
        let (na, nb) = (count(&obj, TC_A), count(&obj, TC_B));
        udp_ping(1);
        assert_eq!(
            (count(&obj, TC_A), count(&obj, TC_B)),
            (na, nb + 1),
            "the link runs b"
        );
        la.update(a, None).expect("back to a");

        drop_link(la);
        assert!(
            rawbpf::link::tcx_query(lo, TcAttachPoint::Ingress)
                .expect("query")
                .prog_ids
                .is_empty()
        );
        let (na, nb) = (count(&obj, TC_A), count(&obj, TC_B));
        udp_ping(2);
        assert_eq!(
            (count(&obj, TC_A), count(&obj, TC_B)),
            (na, nb),
            "ran after detach"
        );

        // PROG_ATTACH path, and BPF_F_REPLACE.
        let pa = a
            .attach_tcx_legacy(lo, TcAttachPoint::Egress, &TcxOptions::default(), None)
            .expect("prog_attach a");
        let q = rawbpf::link::tcx_query(lo, TcAttachPoint::Egress).expect("query");
        assert_eq!(
            (q.prog_ids.clone(), q.link_ids.clone()),
            (vec![a_id], vec![0])
        );
        udp_ping(1);
        assert_eq!(count(&obj, TC_A), na + 1, "one datagram at lo egress");
        let pb = b
            .attach_tcx_legacy(lo, TcAttachPoint::Egress, &TcxOptions::default(), Some(a))
            .expect("replace a with b");
        assert_eq!(
            rawbpf::link::tcx_query(lo, TcAttachPoint::Egress)
                .expect("query")
                .prog_ids,
            vec![b_id]
        );
        udp_ping(1);
        assert_eq!(count(&obj, TC_A), na + 1, "a was replaced");
        assert_eq!(count(&obj, TC_B), nb + 1);
        pa.forget(); // a is no longer attached
        drop(pb);
        assert!(
            rawbpf::link::tcx_query(lo, TcAttachPoint::Egress)
                .expect("query")
                .prog_ids
                .is_empty()
        );
        udp_ping(1);
        assert_eq!(
            count(&obj, TC_B),
            nb + 1,
            "b ran after its handle was dropped"
        );
    });
}

#[test]
fn tcx_pinned_link_outlives_its_process() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        if !tcx_supported("tcx_pinned_link_outlives_its_process") {
            return;
        }
        let dir = common::PinDir::new("tcxpin");
        run_child(&format!("pin-tcx|{}", dir.path().display()));
        let counts = Map::from_pin(dir.join("counts")).expect("counts pin");
        let link = Link::from_pin(dir.join("link")).expect("link pin");
        assert_eq!(link.info().expect("info").link_type, LinkType::TCX);
        let n = read(&counts, TC_A);
        udp_ping(2);
        assert_eq!(read(&counts, TC_A), n + 2, "the pinned link's program runs");
        std::fs::remove_file(dir.join("link")).expect("unpin");
        drop_link(link);
        udp_ping(2);
        assert_eq!(
            read(&counts, TC_A),
            n + 2,
            "detached once the pin and the last fd went"
        );
    });
}

#[test]
fn tc_clsact_filters() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let lo = lo();
        let obj = load(&["tc_a", "tc_b"]);
        let a = obj.program("tc_a").expect("tc_a");
        let b = obj.program("tc_b").expect("tc_b");
        let (a_id, b_id) = (a.info().expect("info").id, b.info().expect("info").id);

        // No qdisc yet: attaching says what is missing.
        let e = a
            .attach_tc(lo, TcAttachPoint::Ingress, 1, 1)
            .expect_err("no clsact yet");
        assert!(e.to_string().contains("RTM_NEWTFILTER"), "{e}");

        let hook = TcHook::clsact(lo).expect("clsact");
        assert!(hook.created());
        assert!(
            !TcHook::clsact(lo).expect("clsact again").created(),
            "already there"
        );
        let fa = a
            .attach_tc(lo, TcAttachPoint::Ingress, 1, 1)
            .expect("attach a");
        assert_eq!((fa.handle(), fa.priority()), (1, 1));
        let fb = b
            .attach_tc(lo, TcAttachPoint::Ingress, 0, 2)
            .expect("attach b");
        assert_ne!(fb.handle(), 0, "the kernel picked a handle");
        assert_eq!(fb.priority(), 2);
        // Same handle and priority again: EEXIST.
        let e = b
            .attach_tc(lo, TcAttachPoint::Ingress, 1, 1)
            .expect_err("taken");
        assert!(e.to_string().contains("RTM_NEWTFILTER"), "{e}");

        let list = rawbpf::link::tc_filters(lo, TcAttachPoint::Ingress).expect("list");
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!(
            (list[0].handle, list[0].priority, list[0].prog_id),
            (1, 1, a_id)
        );
        assert_eq!((list[1].priority, list[1].prog_id), (2, b_id));
        assert!(
            list.iter().all(|f| f.kind == "bpf" && f.direct_action),
            "{list:?}"
        );
        // iproute2 reads the same filters back.
        let out = Command::new("tc")
            .args(["filter", "show", "dev", "lo", "ingress"])
            .output()
            .expect("run tc");
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(
            shown.contains(&format!("tc_a:[{a_id}]")) && shown.contains("direct-action"),
            "tc filter show: {shown}"
        );
        assert!(
            rawbpf::link::tc_filters(lo, TcAttachPoint::Egress)
                .expect("list")
                .is_empty()
        );

        udp_ping(1);
        assert_eq!((count(&obj, TC_A), count(&obj, TC_B)), (1, 1));
        assert!(
            last(&obj, TC_A) < last(&obj, TC_B),
            "priority 1 runs before 2"
        );

        // Replace a's filter (handle 1, priority 1) with b.
        let fb1 = b
            .replace_tc(lo, TcAttachPoint::Ingress, 1, 1)
            .expect("replace");
        fa.forget();
        let list = rawbpf::link::tc_filters(lo, TcAttachPoint::Ingress).expect("list");
        assert_eq!((list[0].handle, list[0].prog_id), (1, b_id));
        udp_ping(1);
        assert_eq!(
            (count(&obj, TC_A), count(&obj, TC_B)),
            (1, 3),
            "b twice, a no more"
        );

        drop((fb1, fb));
        assert!(
            rawbpf::link::tc_filters(lo, TcAttachPoint::Ingress)
                .expect("list")
                .is_empty()
        );
        udp_ping(2);
        assert_eq!(
            (count(&obj, TC_A), count(&obj, TC_B)),
            (1, 3),
            "ran after the filters went"
        );
        drop(hook);
        assert!(
            TcHook::clsact(lo).expect("clsact").created(),
            "the qdisc was removed"
        );
    });
}

// --------------------------------------------------------------------------------- cgroup

#[test]
fn cgroup_links_and_prog_attach() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let names = [
            "cg_skb",
            "cg_sock",
            "cg_connect4",
            "cg_sendmsg4",
            "cg_sockops",
            "cg_sysctl",
            "cg_dev",
            "cg_getsockopt",
        ];
        let obj = load(&names);
        let cg = TestCgroup::new("cglink");
        let fd = cg.open();
        let p = |n: &str| obj.program(n).expect(n);

        // Half through links, half through PROG_ATTACH in each mode.
        let links: Vec<Link> = ["cg_skb", "cg_sock", "cg_connect4", "cg_sockops"]
            .iter()
            .map(|n| {
                p(n).attach_cgroup(&fd)
                    .unwrap_or_else(|e| panic!("{n}: {e}"))
            })
            .collect();
        let legacy = vec![
            p("cg_sendmsg4")
                .attach_cgroup_legacy(&fd, CgroupAttachMode::Multi, None)
                .expect("sendmsg4"),
            p("cg_sysctl")
                .attach_cgroup_legacy(&fd, CgroupAttachMode::Override, None)
                .expect("sysctl"),
            p("cg_dev")
                .attach_cgroup_legacy(&fd, CgroupAttachMode::Single, None)
                .expect("dev"),
            p("cg_getsockopt")
                .attach_cgroup_legacy(&fd, CgroupAttachMode::Multi, None)
                .expect("getsockopt"),
        ];
        let id = |n: &str| p(n).info().expect("info").id;
        assert_eq!(
            rawbpf::link::cgroup_query(&fd, AttachType::CGROUP_INET4_CONNECT).expect("query"),
            vec![id("cg_connect4")]
        );
        assert_eq!(
            rawbpf::link::cgroup_query(&fd, AttachType::CGROUP_UDP4_SENDMSG).expect("query"),
            vec![id("cg_sendmsg4")]
        );
        assert!(matches!(
            links[0].info().expect("info").details,
            LinkDetails::Cgroup { attach_type, .. } if attach_type == AttachType::CGROUP_INET_EGRESS
        ));
        // Not a cgroup v2 directory.
        let tmp = File::open(std::env::temp_dir()).expect("open temp dir");
        let e = p("cg_sock").attach_cgroup(&tmp).expect_err("not a cgroup");
        assert!(e.to_string().contains("not a cgroup v2 directory"), "{e}");
        let e = p("cg_sock")
            .attach_cgroup_legacy(&tmp, CgroupAttachMode::Multi, None)
            .expect_err("not a cgroup");
        assert!(e.to_string().contains("not a cgroup v2 directory"), "{e}");
        // A single-mode hook takes no second program.
        assert!(
            p("cg_dev")
                .attach_cgroup_legacy(&fd, CgroupAttachMode::Multi, None)
                .is_err()
        );

        run_child(&format!("cgroup-work|{}", cg.path()));
        for (i, what) in [
            (CG_SKB, "cgroup_skb egress"),
            (CG_SOCK, "sock_create"),
            (CG_CONNECT4, "connect4"),
            (CG_SENDMSG4, "sendmsg4"),
            (CG_SOCKOPS, "sockops"),
            (CG_SYSCTL, "sysctl"),
            (CG_DEV, "device"),
            (CG_GETSOCKOPT, "getsockopt"),
        ] {
            assert!(count(&obj, i) > 0, "{what} did not run");
        }
        assert_eq!(
            last(&obj, CG_SKB),
            u64::from(0x0800u16.to_be()),
            "skb->protocol ETH_P_IP"
        );
        assert_eq!(
            last(&obj, CG_SOCK),
            libc::IPPROTO_UDP as u64,
            "last socket: UDP"
        );
        assert_eq!(
            last(&obj, CG_CONNECT4),
            u64::from(CG_UDP_PORT.to_be()),
            "user_port"
        );
        assert_eq!(
            last(&obj, CG_SENDMSG4),
            u64::from(CG_SENDTO_PORT.to_be()),
            "user_port"
        );
        assert_eq!(last(&obj, CG_SYSCTL), 0, "a read");
        assert_eq!(last(&obj, CG_DEV), (1 << 32) | 3, "/dev/null is 1:3");
        assert_eq!(last(&obj, CG_GETSOCKOPT), libc::SO_TYPE as u64);

        // BPF_F_REPLACE: cg_getsockopt's slot taken over by a second load of it.
        let obj2 = load(&["cg_getsockopt", "cg_connect4"]);
        // Effective programs include the ancestors' (none of ours at the root).
        assert_eq!(
            rawbpf::link::cgroup_query_effective(&fd, AttachType::CGROUP_INET4_CONNECT)
                .expect("query")
                .last(),
            Some(&id("cg_connect4"))
        );
        let root = File::open(common::cgroup2_root()).expect("open cgroup2 root");
        assert!(
            !rawbpf::link::cgroup_query(&root, AttachType::CGROUP_INET4_CONNECT)
                .expect("query root")
                .contains(&id("cg_connect4"))
        );
        // LINK_UPDATE with BPF_F_REPLACE on a cgroup link.
        let c2 = obj2.program("cg_connect4").expect("cg_connect4");
        links[2]
            .update(c2, Some(p("cg_connect4")))
            .expect("update connect4 link");
        assert_eq!(
            rawbpf::link::cgroup_query(&fd, AttachType::CGROUP_INET4_CONNECT).expect("query"),
            vec![c2.info().expect("info").id]
        );
        assert!(links[2].update(c2, Some(p("cg_connect4"))).is_err());
        links[2]
            .update(p("cg_connect4"), None)
            .expect("update back");
        let g2 = obj2.program("cg_getsockopt").expect("cg_getsockopt");
        let replaced = g2
            .attach_cgroup_legacy(&fd, CgroupAttachMode::Multi, Some(p("cg_getsockopt")))
            .expect("replace");
        assert_eq!(
            rawbpf::link::cgroup_query(&fd, AttachType::CGROUP_GETSOCKOPT).expect("query"),
            vec![g2.info().expect("info").id]
        );

        let before: Vec<u64> = (CG_SKB..=CG_GETSOCKOPT).map(|i| count(&obj, i)).collect();
        links.into_iter().for_each(drop_link);
        drop(legacy);
        drop(replaced);
        for t in [
            AttachType::CGROUP_INET4_CONNECT,
            AttachType::CGROUP_UDP4_SENDMSG,
            AttachType::CGROUP_DEVICE,
            AttachType::CGROUP_GETSOCKOPT,
        ] {
            assert!(
                rawbpf::link::cgroup_query(&fd, t)
                    .expect("query")
                    .is_empty(),
                "{t:?}"
            );
        }
        run_child(&format!("cgroup-work|{}", cg.path()));
        let after: Vec<u64> = (CG_SKB..=CG_GETSOCKOPT).map(|i| count(&obj, i)).collect();
        assert_eq!(before, after, "a program ran after it was detached");
        assert_eq!(count(&obj2, CG_GETSOCKOPT), 0);
    });
}

#[test]
fn cgroup_pinned_link_outlives_its_process() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let cg = TestCgroup::new("cgpin");
        let dir = common::PinDir::new("cgpin");
        run_child(&format!(
            "pin-cgroup|{}|{}",
            dir.path().display(),
            cg.path()
        ));
        let counts = Map::from_pin(dir.join("counts")).expect("counts pin");
        let link = Link::from_pin(dir.join("link")).expect("link pin");
        assert_eq!(link.info().expect("info").link_type, LinkType::CGROUP);
        run_child(&format!("cgroup-work|{}", cg.path()));
        let n = read(&counts, CG_SOCK);
        assert!(n >= 3, "sock_create ran {n} times for the child's sockets");
        std::fs::remove_file(dir.join("link")).expect("unpin");
        drop_link(link);
        run_child(&format!("cgroup-work|{}", cg.path()));
        assert_eq!(
            read(&counts, CG_SOCK),
            n,
            "detached once the pin and the last fd went"
        );
    });
}

// ---------------------------------------------------------------------------------- netns

fn this_netns() -> File {
    File::open("/proc/thread-self/ns/net").expect("open /proc/thread-self/ns/net")
}

#[test]
fn netns_sk_lookup() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let obj = load(&["sk_lookup_count"]);
        let p = obj.program("sk_lookup_count").expect("sk_lookup_count");
        let ns = this_netns();
        let link = p.attach_netns(&ns).expect("attach_netns");
        assert_eq!(link.info().expect("info").link_type, LinkType::NETNS);
        assert_eq!(
            rawbpf::link::netns_query(&ns, AttachType::SK_LOOKUP).expect("query"),
            vec![p.info().expect("info").id]
        );
        assert!(
            p.attach_netns_legacy().is_err(),
            "sk_lookup has no PROG_ATTACH"
        );
        let port = udp_ping(2);
        assert!(count(&obj, SK_LOOKUP) >= 2);
        assert_eq!(
            last(&obj, SK_LOOKUP),
            u64::from(port),
            "local_port (host order)"
        );
        drop_link(link);
        assert!(
            rawbpf::link::netns_query(&ns, AttachType::SK_LOOKUP)
                .expect("query")
                .is_empty()
        );
        let n = count(&obj, SK_LOOKUP);
        udp_ping(2);
        assert_eq!(count(&obj, SK_LOOKUP), n);
    });
}

/// Adds a veth pair `a`/`b` (both up, in the current netns, 4 tx and rx queues each), with `ip`
/// run from the calling thread.
fn veth_pair(a: &str, b: &str) {
    // No IPv6 autoconfiguration traffic on the new devices (when the kernel has IPv6).
    let _ = std::fs::write("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    for args in [
        vec![
            "link",
            "add",
            a,
            "numtxqueues",
            "4",
            "numrxqueues",
            "4",
            "type",
            "veth",
            "peer",
            "name",
            b,
            "numtxqueues",
            "4",
            "numrxqueues",
            "4",
        ],
        vec!["link", "set", a, "up"],
        vec!["link", "set", b, "up"],
    ] {
        let out = Command::new("ip").args(&args).output().expect("run ip");
        assert!(
            out.status.success(),
            "ip {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Frames sent before the link watcher has activated the qdiscs are dropped: wait until
    // both ends are operationally up.
    for dev in [a, b] {
        let up = (0..300).any(|_| {
            let out = Command::new("ip")
                .args(["-o", "link", "show", "dev", dev])
                .output()
                .expect("run ip");
            let up = String::from_utf8_lossy(&out.stdout).contains("state UP");
            if !up {
                std::thread::sleep(Duration::from_millis(10));
            }
            up
        });
        assert!(up, "{dev} did not come up");
    }
}

/// Sends `n` Ethernet frames (IPv4/UDP, to a MAC nobody has) out of `ifname` through an
/// `AF_PACKET` socket. A packet socket's frames carry no socket hash, so on a multi-queue
/// device picking the tx queue hashes the frame, which runs the netns's flow dissector.
fn send_frames(ifname: &str, n: usize) {
    let ifindex = nix::net::if_::if_nametoindex(ifname).expect("ifindex");
    let mut f = [0u8; 14 + 20 + 8 + 4];
    f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x02]);
    f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&32u16.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&[169, 254, 77, 1]);
    ip[16..20].copy_from_slice(&[169, 254, 77, 2]);
    f[34..36].copy_from_slice(&1234u16.to_be_bytes());
    f[36..38].copy_from_slice(&9u16.to_be_bytes());
    f[38..40].copy_from_slice(&12u16.to_be_bytes());
    // SAFETY: plain socket(2); the fd is closed below.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    assert!(
        fd >= 0,
        "socket(AF_PACKET): {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: sockaddr_ll is plain data; all-zero is valid.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = (libc::ETH_P_IP as u16).to_be();
    sll.sll_ifindex = ifindex as i32;
    sll.sll_halen = 6;
    sll.sll_addr[..6].copy_from_slice(&f[..6]);
    for _ in 0..n {
        // SAFETY: `f` and `sll` are live for the call, with the lengths given.
        let r = unsafe {
            libc::sendto(
                fd,
                f.as_ptr() as *const libc::c_void,
                f.len(),
                0,
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        assert_eq!(
            r as usize,
            f.len(),
            "sendto: {}",
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: our fd, closed once.
    unsafe { libc::close(fd) };
}

#[test]
fn netns_flow_dissector() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let obj = load(&["flow_count"]);
        let p = obj.program("flow_count").expect("flow_count");
        let ns = this_netns();
        veth_pair("fdv0", "fdv1");
        let send = || send_frames("fdv0", 3);
        for legacy in [false, true] {
            let before = count(&obj, FLOW);
            let (link, legacy_handle) = if legacy {
                (None, Some(p.attach_netns_legacy().expect("prog_attach")))
            } else {
                (Some(p.attach_netns(&ns).expect("attach_netns")), None)
            };
            assert_eq!(
                rawbpf::link::netns_query(&ns, AttachType::FLOW_DISSECTOR).expect("query"),
                vec![p.info().expect("info").id]
            );
            send();
            // At least once per frame (here also on the peer's side).
            assert!(
                count(&obj, FLOW) >= before + 3,
                "the flow dissector ran {} times for 3 frames (legacy: {legacy})",
                count(&obj, FLOW) - before
            );
            assert_eq!(last(&obj, FLOW), u64::from(0x0800u16.to_be()), "ETH_P_IP");
            if let Some(l) = link {
                drop_link(l);
            }
            drop(legacy_handle);
            assert!(
                rawbpf::link::netns_query(&ns, AttachType::FLOW_DISSECTOR)
                    .expect("query")
                    .is_empty()
            );
            let n = count(&obj, FLOW);
            send();
            assert_eq!(count(&obj, FLOW), n, "ran after detach (legacy: {legacy})");
        }
    });
}

// ------------------------------------------------------------------------------ netfilter

#[test]
fn netfilter_link() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let test = "netfilter_link";
        let supported = common::have(test, "netfilter");
        let spec = ObjectSpec::parse(OBJ).expect("parse");
        let loaded = Loader::new().load_only("nf_count").load(&spec);
        if !supported {
            // Either the program type or the link is missing; both say so cleanly.
            if let Ok(obj) = loaded {
                let opts =
                    NetfilterOptions::new(NetfilterProtocol::Ipv4, NetfilterHook::LocalIn, -128);
                let e = obj
                    .program("nf_count")
                    .expect("nf_count")
                    .attach_netfilter(&opts)
                    .expect_err("no netfilter links");
                assert!(e.is_not_supported(), "{e}");
            }
            return;
        }
        let obj = loaded.expect("load nf_count");
        let p = obj.program("nf_count").expect("nf_count");
        let opts = NetfilterOptions::new(NetfilterProtocol::Ipv4, NetfilterHook::LocalIn, -128);
        let link = p.attach_netfilter(&opts).expect("attach_netfilter");
        match link.info().expect("info").details {
            LinkDetails::Netfilter {
                pf,
                hooknum,
                priority,
                ..
            } => {
                assert_eq!((pf, hooknum, priority), (2, 1, -128));
            }
            d => panic!("unexpected details {d:?}"),
        }
        udp_ping(3);
        assert!(
            count(&obj, NF) >= 3,
            "LOCAL_IN saw {} packets",
            count(&obj, NF)
        );
        drop_link(link);
        let n = count(&obj, NF);
        udp_ping(2);
        assert_eq!(count(&obj, NF), n);
    });
}

// -------------------------------------------------------------------------------- sockets

#[test]
fn socket_filter_and_reuseport() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let obj = load(&["sock_filter", "reuseport_count"]);
        let f = obj.program("sock_filter").expect("sock_filter");
        let rx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        rx.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let addr = rx.local_addr().expect("addr");
        let tx = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let att = f.attach_socket_filter(&rx).expect("SO_ATTACH_BPF");
        let mut buf = [0u8; 64];
        tx.send_to(b"hello", addr).expect("send");
        assert_eq!(
            rx.recv(&mut buf).expect("recv"),
            5,
            "the filter keeps the whole packet"
        );
        assert_eq!(count(&obj, SOCK_FILTER), 1);
        assert_eq!(last(&obj, SOCK_FILTER), 8 + 5, "UDP header + payload");
        att.detach().expect("SO_DETACH_BPF");
        tx.send_to(b"again", addr).expect("send");
        rx.recv(&mut buf).expect("recv");
        assert_eq!(count(&obj, SOCK_FILTER), 1, "ran after detach");
        // Drop detaches too.
        let att = f.attach_socket_filter(&rx).expect("SO_ATTACH_BPF");
        tx.send_to(b"x", addr).expect("send");
        rx.recv(&mut buf).expect("recv");
        assert_eq!(count(&obj, SOCK_FILTER), 2);
        drop(att);
        tx.send_to(b"y", addr).expect("send");
        rx.recv(&mut buf).expect("recv");
        assert_eq!(count(&obj, SOCK_FILTER), 2, "ran after drop");
        assert!(
            obj.program("reuseport_count")
                .expect("p")
                .attach_socket_filter(&rx)
                .is_err(),
            "wrong program type"
        );

        // Reuseport: two sockets in one group, the program picks (here: leaves it to the
        // kernel's hash).
        use nix::sys::socket::{self as s, sockopt};
        let mk = || {
            let fd = s::socket(
                s::AddressFamily::Inet,
                s::SockType::Datagram,
                s::SockFlag::SOCK_CLOEXEC,
                None,
            )
            .expect("socket");
            s::setsockopt(&fd, sockopt::ReusePort, &true).expect("SO_REUSEPORT");
            fd
        };
        let (g1, g2) = (mk(), mk());
        let any = s::SockaddrIn::new(127, 0, 0, 1, 0);
        s::bind(g1.as_raw_fd(), &any).expect("bind");
        let port = s::getsockname::<s::SockaddrIn>(g1.as_raw_fd())
            .expect("name")
            .port();
        s::bind(g2.as_raw_fd(), &s::SockaddrIn::new(127, 0, 0, 1, port)).expect("bind");
        let r = obj.program("reuseport_count").expect("reuseport_count");
        let ra = r.attach_reuseport(&g1).expect("SO_ATTACH_REUSEPORT_EBPF");
        tx.send_to(b"1234567", ("127.0.0.1", port)).expect("send");
        assert_eq!(count(&obj, REUSEPORT), 1);
        assert_eq!(
            last(&obj, REUSEPORT),
            8 + 7,
            "ctx->len: UDP header + payload"
        );
        ra.detach().expect("SO_DETACH_REUSEPORT_BPF");
        tx.send_to(b"1234567", ("127.0.0.1", port)).expect("send");
        assert_eq!(count(&obj, REUSEPORT), 1, "ran after detach");
    });
}

/// A connected TCP pair over lo: (client, server side).
fn tcp_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").expect("listen");
    let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (s, _) = l.accept().expect("accept");
    s.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    c.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    (c, s)
}

fn map_add_sock(map: &Map, key: u32, sock: &impl std::os::fd::AsRawFd) {
    let v = (sock.as_raw_fd() as u32).to_ne_bytes();
    map.update(&key.to_ne_bytes(), &v, Default::default())
        .expect("sockmap update");
}

#[test]
fn sockmap_sk_msg_and_sk_skb() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let obj = load(&["msg_count", "skb_verdict"]);
        let msg = obj.program("msg_count").expect("msg_count");
        let sock_map = obj.map("sock_map").expect("sock_map");

        // sk_msg through PROG_ATTACH: runs on sendmsg of a socket in the map.
        let att = msg.attach_sockmap(sock_map).expect("attach sk_msg");
        assert_eq!(
            rawbpf::link::sockmap_query(sock_map, AttachType::SK_MSG_VERDICT).expect("query"),
            vec![msg.info().expect("info").id]
        );
        let (mut c, mut s) = tcp_pair();
        map_add_sock(sock_map, 0, &c);
        c.write_all(b"hello").expect("write");
        let mut buf = [0u8; 16];
        assert_eq!(s.read(&mut buf).expect("read"), 5);
        assert_eq!(&buf[..5], b"hello", "SK_PASS delivers the data");
        assert_eq!(count(&obj, SK_MSG), 1);
        assert_eq!(last(&obj, SK_MSG), 5, "msg->size");
        drop(att);
        assert!(
            rawbpf::link::sockmap_query(sock_map, AttachType::SK_MSG_VERDICT)
                .expect("query")
                .is_empty()
        );
        // A socket added after the detach runs nothing.
        let (mut c2, mut s2) = tcp_pair();
        map_add_sock(sock_map, 1, &c2);
        c2.write_all(b"later").expect("write");
        assert_eq!(s2.read(&mut buf).expect("read"), 5);
        assert_eq!(count(&obj, SK_MSG), 1, "ran after detach");
        drop((c, s, c2, s2));

        // sk_skb stream verdict through a sockmap link (6.10+), else PROG_ATTACH.
        let skb = obj.program("skb_verdict").expect("skb_verdict");
        let skb_map = obj.map("skb_map").expect("skb_map");
        let have_link = common::supported(
            "sockmap_sk_msg_and_sk_skb",
            "sockmap_link",
            "features::link_type(LinkType::SOCKMAP)",
            rawbpf::features::link_type(LinkType::SOCKMAP),
        );
        let (link, legacy_handle) = if have_link {
            let l = skb.attach_sockmap_link(skb_map).expect("sockmap link");
            assert_eq!(l.info().expect("info").link_type, LinkType::SOCKMAP);
            (Some(l), None)
        } else {
            (
                None,
                Some(skb.attach_sockmap(skb_map).expect("attach sk_skb")),
            )
        };
        let (mut c, mut s) = tcp_pair();
        map_add_sock(skb_map, 0, &s);
        c.write_all(b"verdict!").expect("write");
        let n = s.read(&mut buf).expect("read");
        assert_eq!(&buf[..n], b"verdict!", "SK_PASS delivers the data");
        assert_eq!(count(&obj, SK_SKB), 1);
        assert_eq!(last(&obj, SK_SKB), 8, "skb->len");
        if let Some(l) = link {
            drop_link(l);
        }
        drop(legacy_handle);
        let (mut c2, mut s2) = tcp_pair();
        map_add_sock(skb_map, 1, &s2);
        c2.write_all(b"x").expect("write");
        assert_eq!(s2.read(&mut buf).expect("read"), 1);
        assert_eq!(count(&obj, SK_SKB), 1, "ran after detach");
        drop((c, s, c2, s2));
    });
}

#[test]
fn xdp_driver_mode_on_veth() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        let obj = load(&["xdp_a", "xdp_b"]);
        let a = obj.program("xdp_a").expect("xdp_a");
        let b = obj.program("xdp_b").expect("xdp_b");
        let (a_id, b_id) = (a.info().expect("info").id, b.info().expect("info").id);
        veth_pair("xdv0", "xdv1");
        let rx = nix::net::if_::if_nametoindex("xdv1").expect("xdv1");

        // Native XDP through a link: frames sent on xdv0 arrive at xdv1.
        let link = a
            .attach_xdp(rx, XdpFlags::DRV_MODE)
            .expect("attach_xdp native");
        let q = rawbpf::link::xdp_query(rx).expect("query");
        assert_eq!((q.driver, q.generic), (Some(a_id), None));
        send_frames("xdv0", 3);
        assert_eq!(
            count_reaching(&obj, XDP_A, 3),
            3,
            "native XDP saw the 3 frames"
        );
        assert_eq!(last(&obj, XDP_A), u64::from(rx), "ingress_ifindex");
        drop_link(link);
        assert!(rawbpf::link::xdp_query(rx).expect("query").is_empty());
        send_frames("xdv0", 2);
        std::thread::sleep(Duration::from_millis(100)); // let veth's NAPI run
        assert_eq!(count(&obj, XDP_A), 3, "ran after the link was dropped");

        // Native XDP through netlink; generic mode cannot join it, and the kernel says why.
        let att = b
            .attach_xdp_netlink(rx, XdpFlags::DRV_MODE)
            .expect("netlink native");
        assert_eq!(
            rawbpf::link::xdp_query(rx).expect("query").driver,
            Some(b_id)
        );
        send_frames("xdv0", 2);
        assert_eq!(count_reaching(&obj, XDP_B, 2), 2);
        let e = a
            .attach_xdp_netlink(rx, XdpFlags::SKB_MODE)
            .expect_err("native and generic at once");
        assert!(
            matches!(&e, rawbpf::Error::Refused { what, .. } if !what.is_empty()),
            "the kernel's extended-ACK message: {e}"
        );
        // Offload needs a program loaded for the device's NIC.
        let e = a
            .attach_xdp_netlink(rx, XdpFlags::HW_MODE)
            .expect_err("no offload on veth");
        assert!(e.to_string().contains("RTM_SETLINK"), "{e}");
        drop(att);
        assert!(rawbpf::link::xdp_query(rx).expect("query").is_empty());
        // Too few rx queues for the peer's tx queues: the error says so.
        let out = Command::new("ip")
            .args([
                "link",
                "add",
                "xev0",
                "numtxqueues",
                "4",
                "type",
                "veth",
                "peer",
                "name",
                "xev1",
                "numrxqueues",
                "1",
            ])
            .output()
            .expect("run ip");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let small = nix::net::if_::if_nametoindex("xev1").expect("xev1");
        let e = a
            .attach_xdp(small, XdpFlags::DRV_MODE)
            .expect_err("1 rx queue, peer has 4 tx queues");
        assert!(e.to_string().contains("too few queues"), "{e}");
        send_frames("xdv0", 2);
        assert_eq!(
            count(&obj, XDP_B),
            2,
            "ran after the attachment was dropped"
        );
    });
}

#[test]
fn netns_pinned_link_outlives_its_process() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        pinned_outlives_child("nspin", "pin-netns", SK_LOOKUP, LinkType::NETNS);
    });
}

#[test]
fn netfilter_pinned_link_outlives_its_process() {
    if !common::privileged() {
        return;
    }
    common::in_netns(|| {
        if !common::have("netfilter_pinned_link_outlives_its_process", "netfilter") {
            return;
        }
        pinned_outlives_child("nfpin", "pin-netfilter", NF, LinkType::NETFILTER);
    });
}
