//! Workload `btf_dump_c` (group `btf`): the C header (`vmlinux.h`) of the kernel's BTF,
//! written to a buffer in bpftool's sorted order (`rawbpf::btf::write_c_header`). The BTF is
//! opened once outside the timed part; each iteration dumps all of it.

use crate::harness::{Cli, emit, ns_since, sample, vmlinux_btf_path};
use rawbpf::btf::{Btf, CDumpOptions, write_c_header};
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

const WARMUP: usize = 2;
const ITERS: usize = 15;

/// Runs `btf_dump_c` if wanted.
pub fn run(cli: &Cli) {
    if !cli.wants("btf", "btf_dump_c") {
        return;
    }
    let btf = Btf::from_file(vmlinux_btf_path()).unwrap_or_else(|e| panic!("btf_dump_c: {e}"));
    let opts = CDumpOptions::new();
    let mut buf = Vec::with_capacity(4 << 20);
    let s = sample(WARMUP, ITERS, || {
        buf.clear();
        let t = Instant::now();
        write_c_header(&btf, &mut buf, &opts).unwrap_or_else(|e| panic!("btf_dump_c: {e}"));
        black_box(&buf);
        ns_since(t)
    });
    emit(
        "btf_dump_c",
        &s,
        Some(btf.len() as u64),
        json!({"api": "write_c_header (sorted, kfuncs)", "bytes": buf.len()}),
    );
}
