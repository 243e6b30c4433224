//! Chapter 4 of "Learning eBPF" in Rust (hello-buffer-config): an execve tracer that sends
//! one record per `execve(2)` through a perf buffer and reads a per-uid message from a hash
//! map that user space fills.
//!
//! `cargo run --example kprobe_execve -- [--count N] [--ringbuf] [--no-fallback]
//! [--message MSG] [--path SUBSTR]` (as root). It loads `kprobe_execve.bpf.o`, puts MSG
//! (default "Hey root!" for root, "Hi user UID" otherwise) in `my_config` for the current uid,
//! attaches `SEC("ksyscall/execve")` and prints `pid uid comm path message` for every exec until
//! Ctrl-C, or until N lines are printed. `--path` prints only execs whose path contains
//! SUBSTR.
//!
//! On a kernel without kprobes (CONFIG_KPROBES=n) it says so and attaches the same record
//! maker to the `syscalls/sys_enter_execve` tracepoint instead, unless `--no-fallback` is
//! given. `--ringbuf` sends the records through the BPF ring buffer `events` instead of the
//! perf buffer `output` (a `.rodata` switch set before load).

use std::time::Duration;

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use rawbpf::link::ProbeOptions;
use rawbpf::map::{ANY, HashMap, PerfBuffer, PerfBufferOptions, PerfRecord, RingBuf};
use rawbpf::{Loader, ObjectSpec};

const OBJECT: &[u8] = include_bytes!("kprobe_execve.bpf.o");

/// `struct data_t` of the BPF program: pid, uid, comm[16], message[12], path[64].
const RECORD_LEN: usize = 100;

/// `struct user_msg_t`, the value of `my_config`: a NUL-terminated message.
type UserMsg = [u8; 12];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    count: Option<u64>,
    ringbuf: bool,
    fallback: bool,
    message: Option<String>,
    path: Option<String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: kprobe_execve [--count N] [--ringbuf] [--no-fallback] [--message MSG] [--path SUBSTR]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        count: None,
        ringbuf: false,
        fallback: true,
        message: None,
        path: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--count" => {
                a.count = Some(
                    it.next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| usage()),
                )
            }
            "--ringbuf" => a.ringbuf = true,
            "--no-fallback" => a.fallback = false,
            "--message" => a.message = Some(it.next().unwrap_or_else(|| usage())),
            "--path" => a.path = Some(it.next().unwrap_or_else(|| usage())),
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    a
}

/// A NUL-terminated C string field as text.
fn c_str(b: &[u8]) -> String {
    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// One record as the line the example prints: `pid uid comm path message`.
fn format_record(r: &[u8]) -> Option<(String, String)> {
    if r.len() < RECORD_LEN {
        return None;
    }
    let pid = i32::from_ne_bytes(r[0..4].try_into().ok()?);
    let uid = i32::from_ne_bytes(r[4..8].try_into().ok()?);
    let comm = c_str(&r[8..24]);
    let message = c_str(&r[24..36]);
    let path = c_str(&r[36..100]);
    Some((format!("{pid} {uid} {comm} {path} {message}"), path))
}

/// Where records come from.
enum Events {
    Perf(PerfBuffer),
    Ring(RingBuf),
}

fn run() -> Res<()> {
    let args = parse_args();
    let uid = nix::unistd::getuid().as_raw();
    let message = args.message.clone().unwrap_or_else(|| {
        if uid == 0 {
            "Hey root!".to_string()
        } else {
            format!("Hi user {uid}")
        }
    });
    if message.len() > 11 {
        return Err(format!("--message: at most 11 bytes, got {:?}", message).into());
    }

    let spec = ObjectSpec::parse_named("kprobe_execve", OBJECT)?;
    let obj = Loader::new()
        .set_global("use_ringbuf", &u8::from(args.ringbuf))
        .load(&spec)?;

    let mut msg = UserMsg::default();
    msg[..message.len()].copy_from_slice(message.as_bytes());
    let config: HashMap<u32, UserMsg, _> = HashMap::new(obj.map("my_config")?)?;
    config.insert(&uid, &msg, ANY)?;

    // Attach: the kprobe on the execve syscall, or the tracepoint where there are no kprobes.
    let kprobe = obj.program("hello")?;
    let _link = match kprobe.attach_ksyscall("execve", false, &ProbeOptions::default()) {
        Ok(link) => {
            println!("attached ksyscall/execve (kprobe on the execve system call)");
            link
        }
        Err(e) if e.is_not_supported() && args.fallback => {
            println!("kprobes are not available on this kernel ({e})");
            let link = obj
                .program("hello_tp")?
                .attach_tracepoint("syscalls", "sys_enter_execve")?;
            println!("falling back to the tracepoint syscalls/sys_enter_execve");
            link
        }
        Err(e) => return Err(e.into()),
    };

    let mut events = if args.ringbuf {
        Events::Ring(RingBuf::new(obj.map("events")?)?)
    } else {
        Events::Perf(PerfBuffer::new(
            obj.map("output")?,
            PerfBufferOptions::default(),
        )?)
    };
    println!(
        "message for uid {uid}: {message:?}; reading the {} (Ctrl-C to stop)",
        if args.ringbuf {
            "ring buffer `events`"
        } else {
            "perf buffer `output`"
        }
    );

    // Ctrl-C and SIGTERM arrive on a signalfd, so the guards above detach on the way out.
    let mut signals = SigSet::empty();
    signals.add(Signal::SIGINT);
    signals.add(Signal::SIGTERM);
    signals.thread_block()?;
    let sigfd = SignalFd::with_flags(&signals, SfdFlags::SFD_NONBLOCK)?;

    let printed = std::cell::Cell::new(0u64);
    let mut lost = 0u64;
    let want = args.count.unwrap_or(u64::MAX);
    let on_record = |r: &[u8]| {
        if printed.get() >= want {
            return;
        }
        if let Some((line, path)) = format_record(r) {
            if args.path.as_deref().is_none_or(|p| path.contains(p)) {
                println!("{line}");
                printed.set(printed.get() + 1);
            }
        }
    };
    while printed.get() < want {
        let timeout = Some(Duration::from_millis(200));
        match &mut events {
            Events::Perf(pb) => {
                pb.poll(timeout, |ev| match ev {
                    PerfRecord::Sample { data, .. } => on_record(data),
                    PerfRecord::Lost { count, .. } => lost += count,
                })?;
            }
            Events::Ring(rb) => {
                rb.poll(timeout, on_record)?;
            }
        }
        if sigfd.read_signal()?.is_some() {
            break;
        }
    }
    if lost > 0 {
        eprintln!("{lost} records lost (the perf buffer was full)");
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("kprobe_execve: {e}");
        std::process::exit(1);
    }
}
