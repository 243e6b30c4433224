//! Workload group `btf` of ../shared/bench/README.md.

use crate::harness::{Cli, emit_unsupported};

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    for w in WORKLOADS {
        if cli.wants("btf", w) {
            emit_unsupported(w, "not implemented in rawbpf yet");
        }
    }
}

const WORKLOADS: &[&str] = &["btf_parse", "btf_vmlinux"];

/// `workloads rss btf_parse|btf_vmlinux|baseline`: one parse + lookup in a fresh process.
pub fn rss(mode: &str) {
    crate::harness::emit_rss(
        mode,
        0,
        serde_json::json!({"unsupported": "not implemented in rawbpf yet"}),
    );
}
