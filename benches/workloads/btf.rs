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

/// `btf_parse`: read the file and parse it.
fn parse() -> Btf<'static> {
    Btf::from_file(vmlinux_btf_path()).unwrap_or_else(|e| panic!("btf_parse: {e}"))
}

/// `btf_vmlinux`: the running kernel's BTF (mmapped, uncached).
fn vmlinux() -> Btf<'static> {
    Btf::from_kernel_uncached().unwrap_or_else(|e| panic!("btf_vmlinux: {e}"))
}

/// How a workload opens the BTF.
type Open = fn() -> Btf<'static>;

/// The workloads: name, how the BTF is opened, what the JSON says it measures.
const WORKLOADS: [(&str, Open, &str); 2] = [
    ("btf_parse", parse, "Btf::from_file + id_by_name_kind"),
    (
        "btf_vmlinux",
        vmlinux,
        "Btf::from_kernel_uncached + id_by_name_kind",
    ),
];

/// The id of `task_struct`.
fn look_up(btf: &Btf<'_>) -> u32 {
    btf.id_by_name_kind(TYPE_NAME, Kind::Struct)
        .expect("task_struct not found")
}

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    for (name, open, api) in WORKLOADS {
        if cli.wants("btf", name) {
            let mut id = 0;
            let s = sample(WARMUP, ITERS, || {
                let t = Instant::now();
                id = black_box(look_up(&open()));
                ns_since(t)
            });
            emit(name, &s, None, json!({"api": api, "type_id": id}));
        }
    }
}

/// `workloads rss btf_parse|btf_vmlinux|baseline`: one parse + lookup in a fresh process,
/// peak RSS read while the BTF is alive.
pub fn rss(mode: &str) {
    let Some(&(_, open, _)) = WORKLOADS.iter().find(|w| w.0 == mode) else {
        return emit_rss("baseline", 0, json!({}));
    };
    let t = Instant::now();
    let btf = open();
    let id = look_up(&btf);
    let ns = ns_since(t);
    emit_rss(mode, ns, json!({"type_id": id}));
    drop(black_box(btf));
}
