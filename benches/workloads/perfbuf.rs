//! Workload group `perfbuf` (W5) of ../shared/bench/README.md: `pb_produce` writes 64-byte
//! sequenced samples with `bpf_perf_event_output(BPF_F_CURRENT_CPU)` into the perf event array
//! `pb`; [`PerfBuffer`] (4096 pages per CPU, `wakeup_events = 1`) reads them.
//!
//! - `perfbuf_stream`: producer thread on CPU 0, consumer on CPU 1 calling
//!   [`PerfBuffer::poll`] (100 ms) until it has seen 500,000 samples.
//! - `perfbuf_drain`: 100,000 samples produced beforehand on CPU 0 (untimed), drained with
//!   [`PerfBuffer::consume`] over every CPU's ring.

use crate::harness::{Cli, bpf_obj, emit, emit_unsupported, ns_since, percentile, q, sample};
use crate::stream::{self, SeqCheck, contract as c, median_skip, require_ok};
use rawbpf::loader::Loader;
use rawbpf::map::{PerfBuffer, PerfBufferOptions, PerfRecord};
use rawbpf::obj::ObjectSpec;
use serde_json::json;
use std::time::{Duration, Instant};

const WORKLOADS: &[&str] = &["perfbuf_stream", "perfbuf_drain"];

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    let wanted: Vec<&str> = WORKLOADS
        .iter()
        .copied()
        .filter(|w| cli.wants("perfbuf", w))
        .collect();
    if wanted.is_empty() {
        return;
    }
    if let Err(e) = run_wanted(&wanted) {
        eprintln!("perfbuf: {e}");
        for w in wanted {
            emit_unsupported(w, &format!("failed: {e}"));
        }
    }
}

#[inline(always)]
fn check(chk: &mut SeqCheck, e: PerfRecord<'_>) {
    match e {
        PerfRecord::Sample { data, .. } => chk.check(data),
        PerfRecord::Lost { cpu, count } => {
            eprintln!("rawbpf perfbuf: {count} samples lost on CPU {cpu}");
            std::process::exit(3);
        }
    }
}

fn run_wanted(wanted: &[&str]) -> rawbpf::Result<()> {
    let spec = ObjectSpec::open(bpf_obj(c::PERFBUF_OBJ))?;
    let obj = Loader::new().load(&spec)?;
    let prog = obj.program(c::PERFBUF_PROG)?;
    let opts = PerfBufferOptions::default()
        .pages(c::PERFBUF_PAGES)
        .wakeup_events(1);
    let mut pb = PerfBuffer::new(obj.map(c::PERFBUF_MAP)?, opts)?;
    let mut seq = 0u64;

    if wanted.contains(&"perfbuf_stream") {
        let total = q(c::PERF_STREAM_EVENTS, 50_000);
        let (mut waits, mut fulls) = (vec![], vec![]);
        let s = sample(c::PERF_STREAM_WARMUP, q(c::PERF_STREAM_ITERS, 2), || {
            let start = seq;
            seq += total;
            let pb = &mut pb;
            let (ns, got, pst) = stream::stream_iteration(
                move || stream::produce(prog, start, total),
                move || {
                    let mut chk = SeqCheck::starting_at(start);
                    let t = Instant::now();
                    while chk.count < total {
                        pb.poll(Some(Duration::from_millis(100)), |e| check(&mut chk, e))
                            .expect("PerfBuffer::poll");
                        chk.waits += 1;
                        assert!(t.elapsed().as_secs() < 120, "perfbuf stream stalled");
                    }
                    chk
                },
            );
            require_ok("perfbuf_stream", &got, total);
            waits.push(got.waits);
            fulls.push(pst.short_runs);
            ns
        });
        emit(
            "perfbuf_stream",
            &s,
            Some(total),
            json!({"api": "PerfBuffer::poll(100ms) (zero-copy callback)",
                "pages_per_cpu": c::PERFBUF_PAGES,
                "consumer_waits_median": median_skip(&waits, c::PERF_STREAM_WARMUP),
                "producer_full_retries_median": median_skip(&fulls, c::PERF_STREAM_WARMUP)}),
        );
    }
    if wanted.contains(&"perfbuf_drain") {
        let total = q(c::PERF_DRAIN_EVENTS, 20_000);
        let mut fill = vec![];
        let s = sample(c::PERF_DRAIN_WARMUP, q(c::PERF_DRAIN_ITERS, 3), || {
            let start = seq;
            seq += total;
            let old = stream::pin(c::PRODUCER_CPU);
            let tf = Instant::now();
            let pst = stream::produce(prog, start, total);
            fill.push(ns_since(tf));
            stream::unpin(old);
            assert_eq!(pst.short_runs, 0, "drain fill did not fit the buffer");
            let mut chk = SeqCheck::starting_at(start);
            let t = Instant::now();
            pb.consume(|e| check(&mut chk, e))
                .expect("PerfBuffer::consume");
            let ns = ns_since(t);
            require_ok("perfbuf_drain", &chk, total);
            ns
        });
        fill.sort_unstable();
        let fill_med = percentile(&fill, 0.5);
        emit(
            "perfbuf_drain",
            &s,
            Some(total),
            json!({"api": "PerfBuffer::consume over every CPU's ring (zero-copy callback)",
                "producer_alone_ns_per_event": (fill_med / total as f64 * 100.0).round() / 100.0}),
        );
    }
    Ok(())
}
