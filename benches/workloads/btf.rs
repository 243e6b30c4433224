//! Workload group `btf` of ../shared/bench/README.md (W1): parse the kernel's BTF and look up
//! `task_struct` (STRUCT).

use crate::harness::{Cli, emit, emit_rss, ns_since, sample, vmlinux_btf_path};
use rawbpf::btf::{Btf, Kind};
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

/// `contract::BTF_TYPE_NAME`
const TYPE_NAME: &str = "task_struct";
/// `contract::BTF_WARMUP`, `contract::BTF_ITERS`
const WARMUP: usize = 3;
const ITERS: usize = 30;

/// `btf_parse`: read the file, parse, look up.
fn parse_once() -> u32 {
    let path = vmlinux_btf_path();
    let btf = Btf::from_file(&path).unwrap_or_else(|e| panic!("btf_parse: {e}"));
    btf.id_by_name_kind(TYPE_NAME, Kind::Struct)
        .expect("task_struct not found")
}

/// `btf_vmlinux`: the running kernel's BTF (mmapped, uncached), look up.
fn vmlinux_once() -> u32 {
    let btf = Btf::from_kernel_uncached().unwrap_or_else(|e| panic!("btf_vmlinux: {e}"));
    btf.id_by_name_kind(TYPE_NAME, Kind::Struct)
        .expect("task_struct not found")
}

fn timed(f: fn() -> u32, id: &mut u32) -> u64 {
    let t = Instant::now();
    *id = black_box(f());
    ns_since(t)
}

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    let mut id = 0;
    if cli.wants("btf", "btf_parse") {
        let s = sample(WARMUP, ITERS, || timed(parse_once, &mut id));
        emit(
            "btf_parse",
            &s,
            None,
            json!({"api": "Btf::from_file + id_by_name_kind", "type_id": id}),
        );
    }
    if cli.wants("btf", "btf_vmlinux") {
        let s = sample(WARMUP, ITERS, || timed(vmlinux_once, &mut id));
        emit(
            "btf_vmlinux",
            &s,
            None,
            json!({"api": "Btf::from_kernel_uncached + id_by_name_kind", "type_id": id}),
        );
    }
}

/// `workloads rss btf_parse|btf_vmlinux|baseline`: one parse + lookup in a fresh process,
/// peak RSS read while the BTF is alive.
pub fn rss(mode: &str) {
    let t = Instant::now();
    match mode {
        "btf_parse" => {
            let btf = Btf::from_file(vmlinux_btf_path()).expect("parse");
            let id = btf
                .id_by_name_kind(TYPE_NAME, Kind::Struct)
                .expect("task_struct");
            let ns = ns_since(t);
            emit_rss(mode, ns, json!({"type_id": id}));
            drop(black_box(btf));
        }
        "btf_vmlinux" => {
            let btf = Btf::from_kernel_uncached().expect("parse");
            let id = btf
                .id_by_name_kind(TYPE_NAME, Kind::Struct)
                .expect("task_struct");
            let ns = ns_since(t);
            emit_rss(mode, ns, json!({"type_id": id}));
            drop(black_box(btf));
        }
        _ => emit_rss("baseline", 0, json!({})),
    }
}
