//! The examples, run as a user runs them (as root): `examples/kprobe_execve` (the book's
//! hello-buffer-config) must print one line per exec with the right pid, uid, path and the
//! configured message, through the perf buffer and through the ring buffer. On a kernel
//! without kprobes (this CI host) it must say so and use the tracepoint fallback, or fail
//! with `--no-fallback`; on kernels with kprobes (the VM guests, where RAWBPF_EXPECT_FEATURES
//! lists them) it must have used the kprobe.
//!
//! `cargo test` builds the examples next to the test binaries (target/<profile>/examples), and
//! ci/vm-test packs them into its guests at the same paths.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The example binary `name`, built by `cargo test` next to this test binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let p = dir.join("examples").join(name);
    assert!(
        p.exists(),
        "{} is missing: `cargo test` builds the examples (run it, or cargo build --examples)",
        p.display()
    );
    p
}

/// Kills and reaps the example if the test fails half way.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory of our own with a symlink to this test binary (a program that exits at once
/// with `--list`): its path is what the traced exec reports.
struct ExecTarget {
    dir: PathBuf,
    link: PathBuf,
}

impl ExecTarget {
    fn new() -> Self {
        let dir = PathBuf::from(format!("/tmp/{}", common::unique_name("kpx")));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let link = dir.join("t");
        std::os::unix::fs::symlink(std::env::current_exe().expect("exe"), &link).expect("symlink");
        ExecTarget { dir, link }
    }
}

impl Drop for ExecTarget {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs kprobe_execve with `args`, execs the target once it is ready, and returns (its
/// startup lines, the record line, the pids of the execs made, the target path).
fn trace_one_exec(args: &[&str]) -> (Vec<String>, String, Vec<u32>, String) {
    let target = ExecTarget::new();
    let path = target.link.to_str().expect("utf-8").to_owned();
    let mut child = Command::new(example("kprobe_execve"))
        .args(args)
        .args(["--count", "1", "--path", &path])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn kprobe_execve");
    let out = child.stdout.take().expect("stdout");
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.expect("read a line")).is_err() {
                break;
            }
        }
    });
    let mut startup = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| {
                panic!("kprobe_execve never got ready ({e}); it said: {startup:?}")
            });
        let ready = line.contains("(Ctrl-C to stop)");
        startup.push(line);
        if ready {
            break;
        }
    }
    // Exec the target until a record arrives (at most 3 times, 20 s each): the program reads
    // the path with bpf_probe_read_user_str, which cannot fault a page in, so one exec's
    // record may rarely carry no path and not match --path; a record must still arrive.
    let mut pids = Vec::new();
    let mut record = None;
    for _ in 0..3 {
        let mut exec = Command::new(&target.link)
            .arg("--list")
            .stdout(Stdio::null())
            .spawn()
            .expect("exec the target");
        pids.push(exec.id());
        exec.wait().expect("wait for the target");
        if let Ok(line) = rx.recv_timeout(Duration::from_secs(20)) {
            record = Some(line);
            break;
        }
    }
    let record =
        record.unwrap_or_else(|| panic!("no record for 3 execs of {path}; startup: {startup:?}"));
    let mut running = running;
    let st = running.0.wait().expect("wait kprobe_execve");
    assert!(st.success(), "kprobe_execve --count 1 exited with {st}");
    (startup, record, pids, path)
}

/// Checks a record line `pid uid comm path message` against what the test did.
fn check_record(record: &str, pids: &[u32], path: &str, message: &str) {
    let f: Vec<&str> = record.split(' ').collect();
    assert!(f.len() >= 5, "record line {record:?}");
    assert!(
        pids.iter().any(|p| f[0] == p.to_string()),
        "pid in {record:?}: one of {pids:?}"
    );
    assert_eq!(
        f[1],
        nix::unistd::getuid().as_raw().to_string(),
        "uid in {record:?}"
    );
    assert!(!f[2].is_empty(), "comm in {record:?}");
    assert_eq!(f[3], path, "path in {record:?}");
    assert_eq!(f[4..].join(" "), message, "message in {record:?}");
}

/// Which attach the example must have used on this kernel, checked on its startup lines.
fn check_attach(startup: &[String]) {
    let text = startup.join("\n");
    if common::have("kprobe_execve", "kprobes") {
        assert!(text.contains("attached ksyscall/execve"), "{text}");
        assert!(!text.contains("falling back"), "{text}");
    } else {
        assert!(text.contains("kprobes are not available"), "{text}");
        assert!(
            text.contains("falling back to the tracepoint syscalls/sys_enter_execve"),
            "{text}"
        );
    }
}

#[test]
fn kprobe_execve_perf_buffer() {
    if !common::privileged() {
        return;
    }
    let (startup, record, pids, path) = trace_one_exec(&["--message", "Hi test"]);
    check_attach(&startup);
    assert!(
        startup.iter().any(|l| l.contains("perf buffer `output`")),
        "{startup:?}"
    );
    check_record(&record, &pids, &path, "Hi test");
}

#[test]
fn kprobe_execve_ring_buffer() {
    if !common::privileged() {
        return;
    }
    let (startup, record, pids, path) = trace_one_exec(&["--ringbuf"]);
    check_attach(&startup);
    assert!(
        startup.iter().any(|l| l.contains("ring buffer `events`")),
        "{startup:?}"
    );
    let default = if nix::unistd::getuid().is_root() {
        "Hey root!".to_string()
    } else {
        format!("Hi user {}", nix::unistd::getuid())
    };
    check_record(&record, &pids, &path, &default);
}

#[test]
fn kprobe_execve_no_fallback() {
    if !common::privileged() {
        return;
    }
    if common::have("kprobe_execve_no_fallback", "kprobes") {
        // With kprobes there is nothing to fall back from: the other tests check the kprobe.
        return;
    }
    let out = Command::new(example("kprobe_execve"))
        .args(["--no-fallback", "--count", "1"])
        .output()
        .expect("run kprobe_execve");
    assert!(
        !out.status.success(),
        "--no-fallback without kprobes must fail"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kprobes"), "{err}");
}
