//! Workload group `obj` of ../shared/bench/README.md (W2). `obj_open_core` times the
//! userspace parse of `core.bpf.o` (read the file, `ObjectSpec::open`, link every program,
//! drop); `obj_load_core` needs the loader, which is not written yet.

use crate::harness::{Cli, bpf_obj, emit, emit_unsupported, ns_since, sample};
use rawbpf::obj::{ObjectSpec, link_program};
use serde_json::json;
use std::hint::black_box;
use std::time::Instant;

/// `contract` warm-up and timed iterations for W2.
const WARMUP: usize = 3;
const ITERS: usize = 30;

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    if cli.wants("obj", "obj_open_core") {
        let path = bpf_obj("core.bpf.o");
        let mut counts = (0usize, 0usize, 0usize);
        let s = sample(WARMUP, ITERS, || {
            let t = Instant::now();
            let spec = ObjectSpec::open(&path)
                .unwrap_or_else(|e| panic!("obj_open_core: {}: {e}", path.display()));
            let mut core = 0;
            for p in &spec.programs {
                let linked = link_program(&spec, p).expect("link");
                core += linked.core_relos.len();
            }
            counts = (spec.programs.len(), spec.maps.len(), core);
            drop(black_box(spec));
            ns_since(t)
        });
        emit(
            "obj_open_core",
            &s,
            None,
            json!({"api": "ObjectSpec::open + link_program per program",
                   "programs": counts.0, "maps": counts.1, "core_relos": counts.2}),
        );
    }
    if cli.wants("obj", "obj_load_core") {
        emit_unsupported(
            "obj_load_core",
            "the loader (maps, CO-RE, PROG_LOAD) is not implemented in rawbpf yet",
        );
    }
}
