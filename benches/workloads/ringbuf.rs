//! Workload group `ringbuf` of ../shared/bench/README.md.

use crate::harness::{Cli, emit_unsupported};

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    for w in WORKLOADS {
        if cli.wants("ringbuf", w) {
            emit_unsupported(w, "not implemented in rawbpf yet");
        }
    }
}

const WORKLOADS: &[&str] = &["ringbuf_stream", "ringbuf_drain"];
