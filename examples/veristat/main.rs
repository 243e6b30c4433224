//! A small veristat: loads every program of each object on its own (with all the object's
//! maps) and prints one CSV line per program:
//!
//! ```text
//! file_name,prog_name,prog_type,verdict,total_insns,error
//! ```
//!
//! `verdict` is `success` or `failure` (also for an object that cannot be opened), or
//! `skipped` for an object without programs (one row, with an empty `prog_name`);
//! `total_insns` is the number of instructions the verifier processed (from its statistics);
//! `error` is the first line of the loader's error and the verifier's last line, if any.
//!
//! Exits with status 1 when any row is a `failure` (as veristat does), 2 on bad arguments,
//! 0 otherwise.
//!
//! `cargo run --release --example veristat -- [--btf TARGET_BTF] [--size-maps] OBJ...`
//!
//! `--btf` relocates CO-RE against a BTF file instead of the running kernel's; `--size-maps`
//! gives maps declared with 0 entries the size tools written for libbpf give them (10240
//! entries; ring buffers 256 KiB) and stack-trace maps without a value size one
//! (127 frames of 8 bytes), as those tools do before load. Maps pinned by name go to a private directory under
//! `/sys/fs/bpf`, removed at the end.

use std::path::{Path, PathBuf};

use rawbpf::btf::Btf;
use rawbpf::map::MapType;
use rawbpf::obj::{MapKind, ObjectSpec};
use rawbpf::prog::{ProgramType, VerifierStats};
use rawbpf::{LoadError, Loader};

/// `PERF_MAX_STACK_DEPTH` frames of 8 bytes: what tools give a stack-trace map's value.
const STACK_VALUE_SIZE: u32 = 127 * 8;

/// `--size-maps`: the entries tools written for libbpf give maps sized at run time.
const DEFAULT_ENTRIES: u32 = 10240;

/// `--size-maps`: the size of ring buffers declared without one (256 KiB).
const RINGBUF_BYTES: u32 = 256 * 1024;

struct Args {
    btf: Option<PathBuf>,
    size_maps: bool,
    files: Vec<PathBuf>,
}

const USAGE: &str = "usage: veristat [--btf TARGET_BTF] [--size-maps] OBJ...";

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2)
}

fn help() -> ! {
    println!(
        "{USAGE}

Loads every program of each object on its own (with all the object's maps) and prints
one CSV line per program: file_name,prog_name,prog_type,verdict,total_insns,error

  --btf TARGET_BTF  relocate CO-RE against this BTF (raw BTF, or an ELF object's .BTF)
                    instead of the running kernel's
  --size-maps       size maps declared without a size as tools written for libbpf do:
                    {DEFAULT_ENTRIES} entries, ring buffers {} KiB, stack-trace values
                    {STACK_VALUE_SIZE} bytes (127 frames)
  -h, --help        this help",
        RINGBUF_BYTES / 1024
    );
    std::process::exit(0)
}

fn parse_args() -> Args {
    let mut a = Args {
        btf: None,
        size_maps: false,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--btf" => a.btf = Some(it.next().unwrap_or_else(|| usage()).into()),
            "--size-maps" => a.size_maps = true,
            "-h" | "--help" => help(),
            s if s.starts_with('-') => usage(),
            _ => a.files.push(arg.into()),
        }
    }
    if a.files.is_empty() {
        usage();
    }
    a
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

fn prog_type_name(t: ProgramType) -> String {
    let d = format!("{t:?}");
    d.strip_prefix("BPF_PROG_TYPE_")
        .unwrap_or(&d)
        .to_ascii_lowercase()
}

/// What tools set before load: sizes for maps declared without them.
fn size_maps(mut loader: Loader, spec: &ObjectSpec) -> Loader {
    for m in &spec.maps {
        if !matches!(m.kind, MapKind::Btf | MapKind::Legacy) {
            continue;
        }
        let t = MapType(m.map_type);
        if t == MapType::STACK_TRACE && m.value_size == 0 {
            loader = loader.map_value_size(&m.name, STACK_VALUE_SIZE);
        }
        if m.max_entries == 0 {
            let n = match t {
                MapType::RINGBUF | MapType::USER_RINGBUF => Some(RINGBUF_BYTES),
                // Local storage maps must have 0 entries; perf arrays are sized by the loader.
                MapType::SK_STORAGE
                | MapType::INODE_STORAGE
                | MapType::TASK_STORAGE
                | MapType::CGRP_STORAGE
                | MapType::CGROUP_STORAGE
                | MapType::PERCPU_CGROUP_STORAGE
                | MapType::PERF_EVENT_ARRAY
                | MapType::STRUCT_OPS => None,
                _ => Some(DEFAULT_ENTRIES),
            };
            if let Some(n) = n {
                loader = loader.map_max_entries(&m.name, n);
            }
        }
    }
    loader
}

/// The error column: our error's first line, then the verifier's last line.
fn error_text(e: &LoadError) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").trim().to_owned();
    match e.verifier_log() {
        Some(log) if !first.contains(log.summary()) => format!("{first} | {}", log.summary()),
        _ => first,
    }
}

/// Removes the pin directory (and whatever this run pinned in it) on drop.
struct PinRoot(PathBuf);

impl Drop for PinRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() {
    let args = parse_args();
    let mut base = Loader::new();
    if let Some(path) = &args.btf {
        match Btf::from_file(path) {
            Ok(b) => base = base.target_btf(b),
            Err(e) => {
                eprintln!("veristat: {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    }
    let pins = PinRoot(Path::new("/sys/fs/bpf").join(format!("veristat-{}", std::process::id())));
    base = base.pin_root(&pins.0);

    println!("file_name,prog_name,prog_type,verdict,total_insns,error");
    let mut failures = 0usize;
    for file in &args.files {
        let file_name = file.file_name().map_or_else(
            || file.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        );
        let spec = match ObjectSpec::open(file) {
            Ok(s) => s,
            Err(e) => {
                println!("{},,,failure,0,{}", csv(&file_name), csv(&e.to_string()));
                failures += 1;
                continue;
            }
        };
        if spec.programs.is_empty() {
            println!(
                "{},,,skipped,0,the object has no programs (no functions in SEC() sections)",
                csv(&file_name)
            );
            continue;
        }
        let mut loader = base.clone();
        if args.size_maps {
            loader = size_maps(loader, &spec);
        }
        for p in &spec.programs {
            let prog_type = p.section_def().map_or_else(
                || "unknown".to_owned(),
                |d| prog_type_name(ProgramType(d.prog_type)),
            );
            let (verdict, insns, error) = match loader.clone().load_only(&p.name).load(&spec) {
                Ok(obj) => {
                    let insns = obj
                        .program(&p.name)
                        .ok()
                        .and_then(|prog| prog.verifier_stats())
                        .map_or(0, |s| s.insns_processed);
                    for pin in obj.pinned_maps() {
                        let _ = std::fs::remove_file(pin);
                    }
                    ("success", insns, String::new())
                }
                Err(e) => {
                    let insns = e
                        .verifier_log()
                        .and_then(|l| VerifierStats::parse(l.as_str()))
                        .map_or(0, |s| s.insns_processed);
                    failures += 1;
                    ("failure", insns, error_text(&e))
                }
            };
            println!(
                "{},{},{},{verdict},{insns},{}",
                csv(&file_name),
                csv(&p.name),
                csv(&prog_type),
                csv(&error)
            );
        }
    }
    drop(pins);
    if failures > 0 {
        eprintln!("veristat: {failures} failure(s)");
        std::process::exit(1);
    }
}
