//! Writes the C header (`vmlinux.h`) for a BTF to stdout, as
//! `bpftool btf dump file FILE format c` does, without bpftool.
//!
//! ```text
//! cargo run --release --example btf_dump -- FILE [--base BASE_FILE] [--unsorted]
//! ```
//! FILE is raw BTF (e.g. `/sys/kernel/btf/vmlinux`), or an ELF object or kernel module with a
//! `.BTF` section. Module BTF is split BTF: give its vmlinux with `--base`; for
//! `/sys/kernel/btf/MODULE` the running kernel's vmlinux is the default base, as in bpftool.

use rawbpf::btf::{Btf, CDumpOptions, write_c_header};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage: btf_dump FILE [--base BASE_FILE] [--unsorted]";

/// Raw BTF or the `.BTF` of an ELF file, over `base` if given.
fn open<'a>(bytes: &'a [u8], base: Option<Arc<Btf<'a>>>) -> Result<Btf<'a>, String> {
    let elf = bytes.starts_with(b"\x7fELF");
    let r = match (elf, base) {
        (true, Some(b)) => Btf::from_elf_split(bytes, b),
        (true, None) => Btf::from_elf(bytes),
        (false, Some(b)) => Btf::parse_split(bytes, b),
        (false, None) => Btf::parse(bytes),
    };
    r.map_err(|e| e.to_string())
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn run() -> Result<(), String> {
    let mut file = None;
    let mut base_file = None;
    let mut sorted = true;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--base" | "-B" => base_file = Some(args.next().ok_or(USAGE)?),
            "--unsorted" => sorted = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ if file.is_none() && !a.starts_with('-') => file = Some(a),
            _ => return Err(USAGE.into()),
        }
    }
    let file = file.ok_or(USAGE)?;
    let vmlinux = "/sys/kernel/btf/vmlinux";
    if base_file.is_none() && file.starts_with("/sys/kernel/btf/") && file != vmlinux {
        base_file = Some(vmlinux.to_string());
    }
    // The running kernel's own BTF files are mapped rather than read.
    if base_file.is_none() && file == vmlinux {
        return dump(
            &Btf::from_kernel_uncached().map_err(|e| e.to_string())?,
            sorted,
        );
    }
    if base_file.as_deref() == Some(vmlinux) && file.starts_with("/sys/kernel/btf/") {
        let module = &file["/sys/kernel/btf/".len()..];
        return dump(
            &Btf::from_kernel_module(module).map_err(|e| e.to_string())?,
            sorted,
        );
    }
    let base_bytes = base_file.as_deref().map(read).transpose()?;
    let bytes = read(&file)?;
    let base = match &base_bytes {
        Some(b) => Some(Arc::new(open(b, None).map_err(|e| format!("base: {e}"))?)),
        None => None,
    };
    let btf = open(&bytes, base).map_err(|e| format!("{file}: {e}"))?;
    dump(&btf, sorted)
}

fn dump(btf: &Btf<'_>, sorted: bool) -> Result<(), String> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write_c_header(btf, &mut out, &CDumpOptions::new().sorted(sorted))
        .map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("btf_dump: {e}");
            ExitCode::FAILURE
        }
    }
}
