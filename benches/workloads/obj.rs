//! Workload group `obj` of ../shared/bench/README.md (W2), over `core.bpf.o` (4 programs, 67
//! CO-RE relocations, 4 maps, global data).
//!
//! - `obj_open_core`: the userspace parse only: read the file, `ObjectSpec::open` (ELF,
//!   BTF, `.BTF.ext` records per function, maps, relocation records), drop. Linking
//!   subprograms into programs is part of loading, as in libbpf (`bpf_object__load`).
//! - `obj_load_core`: open the ELF, parse the kernel's BTF anew (not the process-wide cache:
//!   a fresh process would have to), load everything with the [`Loader`] (object BTF, maps,
//!   CO-RE against that kernel BTF, all 4 programs through the verifier), drop. Phases:
//!   `open` (ELF parse), `kernel_btf` (mmap + parse of /sys/kernel/btf/vmlinux), `load`
//!   (BTF_LOAD, MAP_CREATE, CO-RE, PROG_LOAD), `close`. `extra.core_relocate_median_ns` is
//!   the CO-RE part of `load`, measured on its own after each timed iteration (same fresh
//!   kernel BTF, not counted in the total).

use crate::harness::{Cli, bpf_obj, emit, ns_since, percentile, sample};
use rawbpf::btf::Btf;
use rawbpf::btf::core::Relocator;
use rawbpf::loader::Loader;
use rawbpf::obj::{ObjectSpec, link_program};
use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

/// `contract` warm-up and timed iterations for W2.
const WARMUP: usize = 3;
const ITERS: usize = 30;

fn median(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    percentile(v, 0.5).round() as u64
}

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    let path = bpf_obj("core.bpf.o");
    if cli.wants("obj", "obj_open_core") {
        let mut counts = (0usize, 0usize, 0usize);
        let s = sample(WARMUP, ITERS, || {
            let t = Instant::now();
            let spec = ObjectSpec::open(&path)
                .unwrap_or_else(|e| panic!("obj_open_core: {}: {e}", path.display()));
            let core = spec
                .programs
                .iter()
                .chain(&spec.subprograms)
                .map(|p| p.core_relos.len())
                .sum();
            counts = (spec.programs.len(), spec.maps.len(), core);
            drop(black_box(spec));
            ns_since(t)
        });
        emit(
            "obj_open_core",
            &s,
            None,
            json!({"api": "ObjectSpec::open + drop",
                   "programs": counts.0, "maps": counts.1, "core_relos": counts.2}),
        );
    }
    if cli.wants("obj", "obj_load_core") {
        let (mut open, mut kbtf, mut load, mut close, mut core) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut programs = 0;
        let mut i = 0;
        let s = sample(WARMUP, ITERS, || {
            let t0 = Instant::now();
            let spec = ObjectSpec::open(&path)
                .unwrap_or_else(|e| panic!("obj_load_core: {}: {e}", path.display()));
            let t1 = Instant::now();
            let kernel = Arc::new(Btf::from_kernel_uncached().expect("kernel BTF"));
            let t2 = Instant::now();
            let obj = Loader::new()
                .kernel_btf(Arc::clone(&kernel))
                .load(&spec)
                .unwrap_or_else(|e| panic!("obj_load_core: {e}"));
            let t3 = Instant::now();
            programs = obj.programs().count();
            drop(obj);
            drop(spec);
            let t4 = Instant::now();
            // Untimed: the CO-RE part of `load`, alone, against another fresh kernel BTF.
            let total = (t4 - t0).as_nanos() as u64;
            let spec = ObjectSpec::open(&path).expect("open");
            let kernel = Btf::from_kernel_uncached().expect("kernel BTF");
            let local = Btf::parse(spec.btf.as_deref().unwrap_or_default()).expect("obj BTF");
            let linked: Vec<_> = spec
                .programs
                .iter()
                .map(|p| link_program(&spec, p).expect("link"))
                .collect();
            let tc = Instant::now();
            let mut r = Relocator::new(&local, &kernel);
            r.prefetch(
                linked
                    .iter()
                    .flat_map(|l| l.core_relos.iter().map(|c| c.type_id)),
            );
            for mut l in linked {
                black_box(r.relocate(&mut l.insns, &l.core_relos).expect("CO-RE"));
            }
            let core_ns = ns_since(tc);
            i += 1;
            if i > WARMUP {
                open.push((t1 - t0).as_nanos() as u64);
                kbtf.push((t2 - t1).as_nanos() as u64);
                load.push((t3 - t2).as_nanos() as u64);
                close.push((t4 - t3).as_nanos() as u64);
                core.push(core_ns);
            }
            total
        });
        emit(
            "obj_load_core",
            &s,
            None,
            json!({"api": "ObjectSpec::open + Btf::from_kernel_uncached + Loader::kernel_btf().load + drop",
                   "programs": programs,
                   "phase_median_ns": {
                       "open": median(&mut open),
                       "kernel_btf": median(&mut kbtf),
                       "load": median(&mut load),
                       "close": median(&mut close),
                   },
                   "core_relocate_median_ns": median(&mut core)}),
        );
    }
}
