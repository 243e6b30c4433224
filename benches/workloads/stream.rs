//! The W3/W5 protocol of ../shared/bench (`bench_common`'s `SeqCheck`, `producer_packet`,
//! `produce`, `stream_iteration`), rewritten here with the same behaviour: the producer program
//! is driven by BPF_PROG_TEST_RUN with a 30-byte packet, the remainder re-issued after a full
//! buffer, every event checked for size and sequence.
#![allow(dead_code)]

use rawbpf::Program;
use rawbpf::prog::TestRun;
use std::time::Instant;

/// `bench_common::contract` values for W3/W5.
pub mod contract {
    pub const RINGBUF_OBJ: &str = "ringbuf.bpf.o";
    pub const RINGBUF_MAP: &str = "rb";
    pub const RINGBUF_PROG: &str = "rb_produce";
    pub const PERFBUF_OBJ: &str = "perfbuf.bpf.o";
    pub const PERFBUF_MAP: &str = "pb";
    pub const PERFBUF_PROG: &str = "pb_produce";
    pub const PERFBUF_PAGES: usize = 4096;
    pub const EVENT_SIZE: usize = 64;
    pub const EVENTS_PER_RUN: u32 = 4096;
    pub const STREAM_EVENTS: u64 = 10_000_000;
    pub const STREAM_WARMUP: usize = 1;
    pub const STREAM_ITERS: usize = 5;
    pub const DRAIN_EVENTS: u64 = 200_000;
    pub const DRAIN_WARMUP: usize = 2;
    pub const DRAIN_ITERS: usize = 20;
    pub const PERF_STREAM_EVENTS: u64 = 500_000;
    pub const PERF_STREAM_WARMUP: usize = 1;
    pub const PERF_STREAM_ITERS: usize = 3;
    pub const PERF_DRAIN_EVENTS: u64 = 100_000;
    pub const PERF_DRAIN_WARMUP: usize = 1;
    pub const PERF_DRAIN_ITERS: usize = 10;
    pub const PRODUCER_CPU: usize = 0;
    pub const CONSUMER_CPU: usize = 1;
}
use contract as c;

/// Checks an event stream: size 64 (perf samples: up to 7 bytes of padding more), sequence
/// strictly consecutive.
#[derive(Default, Debug, Clone, Copy)]
pub struct SeqCheck {
    pub next: u64,
    pub count: u64,
    pub waits: u64,
    pub gaps: u64,
    pub dups_or_reorders: u64,
    pub bad_size: u64,
}

impl SeqCheck {
    pub fn starting_at(start: u64) -> Self {
        SeqCheck {
            next: start,
            ..Default::default()
        }
    }

    #[inline(always)]
    pub fn check(&mut self, data: &[u8]) {
        self.count += 1;
        if data.len() < 8 {
            self.bad_size += 1;
            return;
        }
        if data.len() < c::EVENT_SIZE || data.len() > c::EVENT_SIZE + 7 {
            self.bad_size += 1;
        }
        let seq = u64::from_le_bytes(data[..8].try_into().unwrap());
        if seq != self.next {
            if seq > self.next {
                self.gaps += seq - self.next;
            } else {
                self.dups_or_reorders += 1;
            }
        }
        self.next = seq + 1;
    }

    pub fn ok(&self, expected: u64) -> bool {
        self.count == expected && self.gaps == 0 && self.dups_or_reorders == 0 && self.bad_size == 0
    }
}

/// Exits with status 3 when a stream check failed (the numbers would mean nothing).
pub fn require_ok(workload: &str, check: &SeqCheck, expected: u64) {
    if !check.ok(expected) {
        eprintln!("rawbpf/{workload}: event stream check FAILED (expected {expected}): {check:?}");
        std::process::exit(3);
    }
}

/// The producer's test-run packet: Ethernet header (ethertype 0x88b5), then
/// `{ u64 start; u32 n; u32 pad; }`.
pub fn producer_packet(start: u64, n: u32) -> [u8; 30] {
    let mut p = [0u8; 30];
    p[12] = 0x88;
    p[13] = 0xb5;
    p[14..22].copy_from_slice(&start.to_le_bytes());
    p[22..26].copy_from_slice(&n.to_le_bytes());
    p
}

/// Runs the producer program once on `pkt`; returns the events it wrote.
pub fn run_once(prog: &Program, pkt: &[u8]) -> u32 {
    prog.test_run(TestRun::with_data(pkt))
        .expect("BPF_PROG_TEST_RUN")
        .retval
}

#[derive(Default, Debug, Clone, Copy)]
pub struct ProducerStats {
    pub runs: u64,
    pub short_runs: u64,
}

/// Writes `total` events from `start` on, re-issuing the remainder after a full buffer.
pub fn produce(prog: &Program, start: u64, total: u64) -> ProducerStats {
    let mut st = ProducerStats::default();
    let mut done = 0u64;
    while done < total {
        let n = (total - done).min(c::EVENTS_PER_RUN as u64) as u32;
        let got = run_once(prog, &producer_packet(start + done, n));
        st.runs += 1;
        assert!(got <= n, "producer returned {got} > {n}");
        done += got as u64;
        if got < n {
            st.short_runs += 1;
            std::thread::yield_now();
        }
    }
    st
}

fn ncpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Pins the calling thread to `cpu` (no-op on one CPU); returns the previous mask.
pub fn pin(cpu: usize) -> Option<nix::sched::CpuSet> {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;
    if ncpus() < 2 {
        return None;
    }
    let old = sched_getaffinity(Pid::from_raw(0)).ok()?;
    let mut set = CpuSet::new();
    set.set(cpu % ncpus()).ok()?;
    sched_setaffinity(Pid::from_raw(0), &set).ok()?;
    Some(old)
}

pub fn unpin(old: Option<nix::sched::CpuSet>) {
    if let Some(old) = old {
        let _ = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &old);
    }
}

/// One streaming iteration: `producer` on a thread pinned to CPU 0, `consumer` on the calling
/// thread pinned to CPU 1; the time from starting the producer to the consumer's end.
pub fn stream_iteration<C, P>(producer: P, consumer: C) -> (u64, SeqCheck, ProducerStats)
where
    P: FnOnce() -> ProducerStats + Send,
    C: FnOnce() -> SeqCheck,
{
    let old = pin(c::CONSUMER_CPU);
    let t0 = Instant::now();
    let (check, pst) = std::thread::scope(|s| {
        let h = s.spawn(move || {
            let old = pin(c::PRODUCER_CPU);
            let r = producer();
            unpin(old);
            r
        });
        let check = consumer();
        (check, h.join().expect("producer panicked"))
    });
    let ns = t0.elapsed().as_nanos() as u64;
    unpin(old);
    (ns, check, pst)
}

/// Median of `v` after the first `skip` values.
pub fn median_skip(v: &[u64], skip: usize) -> u64 {
    let mut x = v[skip.min(v.len())..].to_vec();
    x.sort_unstable();
    crate::harness::percentile(&x, 0.5).round() as u64
}
