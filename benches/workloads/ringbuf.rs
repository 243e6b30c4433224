//! Workload group `ringbuf` (W3) of ../shared/bench/README.md: `rb_produce` (a socket filter
//! run with BPF_PROG_TEST_RUN) writes 64-byte sequenced events into the 16 MiB ring buffer
//! `rb`; [`RingBuf`] reads them in place.
//!
//! - `ringbuf_stream`: producer thread on CPU 0, consumer on CPU 1 calling
//!   [`RingBuf::poll`] (100 ms) until it has seen 10,000,000 events.
//! - `ringbuf_drain`: 200,000 events produced beforehand (untimed), drained with the
//!   non-blocking [`RingBuf::consume`].

use crate::harness::{Cli, bpf_obj, emit, emit_unsupported, ns_since, percentile, q, sample};
use crate::stream::{self, SeqCheck, contract as c, median_skip, require_ok};
use rawbpf::loader::Loader;
use rawbpf::map::RingBuf;
use rawbpf::obj::ObjectSpec;
use serde_json::json;
use std::time::{Duration, Instant};

const WORKLOADS: &[&str] = &["ringbuf_stream", "ringbuf_drain"];

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    let wanted: Vec<&str> = WORKLOADS
        .iter()
        .copied()
        .filter(|w| cli.wants("ringbuf", w))
        .collect();
    if wanted.is_empty() {
        return;
    }
    if let Err(e) = run_wanted(&wanted) {
        eprintln!("ringbuf: {e}");
        for w in wanted {
            emit_unsupported(w, &format!("failed: {e}"));
        }
    }
}

fn run_wanted(wanted: &[&str]) -> rawbpf::Result<()> {
    let spec = ObjectSpec::open(bpf_obj(c::RINGBUF_OBJ))?;
    let obj = Loader::new().load(&spec)?;
    let prog = obj.program(c::RINGBUF_PROG)?;
    let mut ring = RingBuf::new(obj.map(c::RINGBUF_MAP)?)?;
    let mut seq = 0u64;

    if wanted.contains(&"ringbuf_stream") {
        let total = q(c::STREAM_EVENTS, 500_000);
        let (mut waits, mut fulls) = (vec![], vec![]);
        let s = sample(c::STREAM_WARMUP, q(c::STREAM_ITERS, 2), || {
            let start = seq;
            seq += total;
            let ring = &mut ring;
            let (ns, got, pst) = stream::stream_iteration(
                move || stream::produce(prog, start, total),
                move || {
                    let mut chk = SeqCheck::starting_at(start);
                    let t = Instant::now();
                    while chk.count < total {
                        ring.poll(Some(Duration::from_millis(100)), |d| chk.check(d))
                            .expect("RingBuf::poll");
                        chk.waits += 1;
                        assert!(t.elapsed().as_secs() < 120, "ringbuf stream stalled");
                    }
                    chk
                },
            );
            require_ok("ringbuf_stream", &got, total);
            waits.push(got.waits);
            fulls.push(pst.short_runs);
            ns
        });
        emit(
            "ringbuf_stream",
            &s,
            Some(total),
            json!({"api": "RingBuf::poll(100ms) (zero-copy callback)",
                "consumer_waits_median": median_skip(&waits, c::STREAM_WARMUP),
                "producer_full_retries_median": median_skip(&fulls, c::STREAM_WARMUP)}),
        );
    }
    if wanted.contains(&"ringbuf_drain") {
        let total = q(c::DRAIN_EVENTS, 50_000);
        let mut fill = vec![];
        let s = sample(c::DRAIN_WARMUP, q(c::DRAIN_ITERS, 3), || {
            let start = seq;
            seq += total;
            let tf = Instant::now();
            let pst = stream::produce(prog, start, total);
            fill.push(ns_since(tf));
            assert_eq!(pst.short_runs, 0, "drain fill did not fit the buffer");
            let mut chk = SeqCheck::starting_at(start);
            let t = Instant::now();
            ring.consume(|d| chk.check(d)).expect("RingBuf::consume");
            let ns = ns_since(t);
            require_ok("ringbuf_drain", &chk, total);
            ns
        });
        fill.sort_unstable();
        let fill_med = percentile(&fill, 0.5);
        emit(
            "ringbuf_drain",
            &s,
            Some(total),
            json!({"api": "RingBuf::consume (zero-copy callback)",
                "producer_alone_ns_per_event": (fill_med / total as f64 * 100.0).round() / 100.0}),
        );
    }
    Ok(())
}
