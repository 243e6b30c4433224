//! Workload group `maps` of ../shared/bench/README.md.

use crate::harness::{Cli, emit_unsupported};

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    for w in WORKLOADS {
        if cli.wants("maps", w) {
            emit_unsupported(w, "not implemented in rawbpf yet");
        }
    }
}

const WORKLOADS: &[&str] = &[
    "hash_update",
    "hash_lookup",
    "hash_lookup_batch",
    "hash_iter",
    "array_update",
    "array_lookup",
];
