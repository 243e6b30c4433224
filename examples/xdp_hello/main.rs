//! Chapter 3 of "Learning eBPF" in Rust: an XDP program that says "Hello World" for every
//! packet it sees and counts them in a global variable.
//!
//! `cargo run --example xdp_hello [IFACE]` (as root; IFACE defaults to `lo`): loads
//! `xdp_hello.bpf.o`, pins the program at `/sys/fs/bpf/hello`, attaches it (generic XDP) to
//! the interface, sends a few UDP datagrams to 127.0.0.1, prints the `.bss` counter and the
//! program's `bpf_printk` lines from the trace pipe, then detaches and unpins — also when
//! something fails on the way (guards).

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rawbpf::sys::caps::{self, CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN};
use rawbpf::{Loader, ObjectSpec, XdpFlags};

const OBJECT: &[u8] = include_bytes!("xdp_hello.bpf.o");
/// The pin's name under bpffs (`/sys/fs/bpf`, mounted if missing).
const PIN_NAME: &str = "hello";
const PACKETS: usize = 5;

/// Removes a pin when dropped.
struct Unpin(PathBuf);

impl Drop for Unpin {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Ok(()) => println!("unpinned {}", self.0.display()),
            Err(e) => eprintln!("could not unpin {}: {e}", self.0.display()),
        }
    }
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn check_privileges() -> Res<()> {
    let have = caps::effective_capabilities().map_err(|e| format!("capget: {e}"))?;
    let missing: Vec<&str> = [CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN]
        .into_iter()
        .filter(|c| !have.has(*c))
        .filter_map(caps::cap_name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "this example needs CAP_BPF (load), CAP_NET_ADMIN (attach XDP) and CAP_SYS_ADMIN (pin in /sys/fs/bpf, read the trace pipe); missing: {}. Run it as root: sudo -E cargo run --example xdp_hello",
            missing.join(", ")
        )
        .into())
    }
}

/// Whether a trace line is our program's "Hello World", printed in this process (the
/// loopback packets are processed in the sender's context: `comm-PID` starts the line).
fn ours(line: &str, pid: u32) -> bool {
    line.contains("Hello World") && line.contains(&format!("-{pid} "))
}

/// Reads our `bpf_printk` lines from the trace pipe for at most `limit`, stopping early once
/// `want` have arrived.
fn hello_lines(pipe: &mut std::fs::File, want: usize, limit: Duration) -> Vec<String> {
    let pid = std::process::id();
    let start = Instant::now();
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    let count = |t: &str| t.lines().filter(|l| ours(l, pid)).count();
    while start.elapsed() < limit && count(&text) < want {
        match pipe.read(&mut buf) {
            Ok(n) if n > 0 => text.push_str(&String::from_utf8_lossy(&buf[..n])),
            // Empty (EAGAIN) or EOF: wait a little.
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    text.lines()
        .filter(|l| ours(l, pid))
        .map(|l| l.trim().to_owned())
        .collect()
}

fn run() -> Res<()> {
    check_privileges()?;
    let iface = std::env::args().nth(1).unwrap_or_else(|| "lo".into());
    let ifindex = nix::net::if_::if_nametoindex(iface.as_str())
        .map_err(|e| format!("no interface `{iface}`: {e}"))?;

    let spec = ObjectSpec::parse_named("xdp_hello", OBJECT)?;
    let obj = Loader::new().load(&spec)?;
    let prog = obj.program("hello")?;
    println!(
        "loaded `hello` ({:?}, id {})",
        prog.program_type(),
        prog.info()?.id
    );

    let pin = rawbpf::sys::mount::bpffs_root()?.join(PIN_NAME);
    if pin.exists() {
        return Err(format!("{} already exists: remove it first (rm {0})", pin.display()).into());
    }
    prog.pin(&pin)?;
    let _unpin = Unpin(pin.clone());
    println!("pinned at {}", pin.display());

    // Open the trace pipe before the traffic, non-blocking so reads never hang.
    let trace = rawbpf::sys::mount::tracefs_root()?.join("trace_pipe");
    let mut pipe = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&trace)
        .map_err(|e| format!("{}: {e}", trace.display()))?;

    let link = prog.attach_xdp(ifindex, XdpFlags::SKB_MODE)?;
    println!("attached to {iface} (ifindex {ifindex}, generic XDP)");

    let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let target = sock.local_addr()?;
    for i in 0..PACKETS {
        sock.send_to(format!("hello {i}").as_bytes(), target)?;
    }
    println!("sent {PACKETS} UDP datagrams to {target}");

    let lines = hello_lines(&mut pipe, PACKETS, Duration::from_secs(2));
    drop(link);
    println!("detached from {iface}");

    let counter: i32 = obj.global("counter")?;
    println!("counter (.bss) = {counter}");
    println!("trace pipe ({} lines):", lines.len());
    for l in &lines {
        println!("  {l}");
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("xdp_hello: {e}");
        std::process::exit(1);
    }
}
