//! The async streams (feature `tokio`, as root): [`AsyncRingBuf`] and [`AsyncPerfBuffer`]
//! yield every event a program writes (checked by sequence number) under a tokio runtime while
//! a producer thread runs; [`AsyncUserRingBuf::reserve`] waits until a program drains room.
#![cfg(feature = "tokio")]

mod common;

use std::future::poll_fn;
use std::path::Path;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures_core::Stream;
use rawbpf::loader::{Loader, Object};
use rawbpf::map::{
    AsyncPerfBuffer, AsyncRingBuf, AsyncUserRingBuf, MapType, OwnedPerfRecord, PerfBuffer,
    PerfBufferOptions, RingBuf, UserRingBuf,
};
use rawbpf::obj::ObjectSpec;
use rawbpf::prog::TestRun;

const MULT: u64 = 0x9E37_79B9_7F4A_7C15;

fn load(file: &str) -> Object {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let spec = ObjectSpec::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Loader::new()
        .load(&spec)
        .unwrap_or_else(|e| panic!("{file}: {e}\n{:?}", e.verifier_log()))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

/// ringbuf.bpf.c's `produce`: `n` events from `start` on; returns how many it wrote.
fn rb_produce(obj: &Object, start: u64, n: u32) -> u32 {
    let mut ctx = [0u8; 32];
    ctx[0..8].copy_from_slice(&start.to_ne_bytes());
    ctx[8..12].copy_from_slice(&n.to_ne_bytes());
    obj.program("produce")
        .unwrap()
        .test_run(TestRun::with_ctx(&mut ctx))
        .unwrap()
        .retval
}

/// perf_buffer.bpf.c's `produce`.
fn pb_produce(obj: &Object, start: u64, n: u32) -> u32 {
    let mut pkt = [0u8; 38];
    pkt[12] = 0x88;
    pkt[13] = 0xb5;
    pkt[14..22].copy_from_slice(&start.to_ne_bytes());
    pkt[22..26].copy_from_slice(&n.to_ne_bytes());
    obj.program("produce")
        .unwrap()
        .test_run(TestRun::with_data(&pkt))
        .unwrap()
        .retval
}

fn seq_of(d: &[u8]) -> u64 {
    let seq = u64::from_ne_bytes(d[0..8].try_into().unwrap());
    let check = u64::from_ne_bytes(d[16..24].try_into().unwrap());
    assert_eq!(check, seq.wrapping_mul(MULT), "checksum of {seq}");
    seq
}

/// Produces `total` events in runs of up to 4096, retrying after a full buffer.
fn drive(total: u64, mut run: impl FnMut(u64, u32) -> u32) {
    let t0 = Instant::now();
    let mut done = 0;
    while done < total {
        let n = (total - done).min(4096) as u32;
        let got = run(done, n);
        done += u64::from(got);
        if got < n {
            std::thread::sleep(Duration::from_micros(200));
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "producer stalled at {done}"
        );
    }
}

#[test]
fn ring_buffer_stream_yields_every_event() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/ringbuf.bpf.o");
    const TOTAL: u64 = 200_000;
    std::thread::scope(|s| {
        s.spawn(|| drive(TOTAL, |start, n| rb_produce(&obj, start, n)));
        runtime().block_on(async {
            let mut events =
                AsyncRingBuf::new(RingBuf::new(obj.map("rb").unwrap()).unwrap()).unwrap();
            let mut want = 0u64;
            // Half through the Stream (owned records), half through the zero-copy consume.
            while want < TOTAL / 2 {
                let rec = tokio::time::timeout(Duration::from_secs(30), next(&mut events))
                    .await
                    .expect("an event within 30 s")
                    .expect("the stream does not end")
                    .unwrap();
                assert_eq!(seq_of(&rec), want);
                want += 1;
            }
            while want < TOTAL {
                let n = tokio::time::timeout(
                    Duration::from_secs(30),
                    events.consume(|r| {
                        assert_eq!(seq_of(r), want);
                        want += 1;
                    }),
                )
                .await
                .expect("events within 30 s")
                .unwrap();
                assert!(n > 0);
            }
            // Nothing more: the stream waits (does not spin, does not end).
            assert!(
                tokio::time::timeout(Duration::from_millis(50), next(&mut events))
                    .await
                    .is_err()
            );
            assert_eq!(events.get_ref().pending_bytes(), 0);
        });
    });
}

#[test]
fn perf_buffer_stream_yields_every_sample_and_lost_counts() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/perf_buffer.bpf.o");
    const TOTAL: u64 = 50_000;
    let pb = PerfBuffer::new(
        obj.map("pb").unwrap(),
        PerfBufferOptions::default().pages(16),
    )
    .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            // One producer pinned to one CPU: its samples share one ring, in order.
            let mut set = nix::sched::CpuSet::new();
            set.set(0).unwrap();
            nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).unwrap();
            drive(TOTAL, |start, n| pb_produce(&obj, start, n))
        });
        runtime().block_on(async {
            let mut events = AsyncPerfBuffer::new(pb).unwrap();
            // A full ring is reported as Lost, and the driver re-sends from the dropped
            // sequence number: every number arrives exactly once, in order.
            let mut want = 0u64;
            let mut lost = 0u64;
            while want < TOTAL {
                match tokio::time::timeout(Duration::from_secs(30), next(&mut events))
                    .await
                    .expect("a sample within 30 s")
                    .expect("the stream does not end")
                    .unwrap()
                {
                    OwnedPerfRecord::Sample { cpu, data } => {
                        assert_eq!(cpu, 0);
                        assert_eq!(seq_of(&data), want);
                        want += 1;
                    }
                    OwnedPerfRecord::Lost { count, .. } => lost += count,
                }
            }
            assert_eq!(lost, events.get_ref().lost_total());
        });
    });
}

#[test]
fn user_ring_buffer_async_reserve_waits_for_a_drain() {
    if !common::privileged() {
        return;
    }
    let probe = rawbpf::features::map_type(MapType::USER_RINGBUF);
    if !common::supported(
        "user_ring_buffer_async_reserve",
        "user_ringbuf",
        "features::map_type(USER_RINGBUF)",
        probe,
    ) {
        return;
    }
    let obj = load("tests/bpf/ringbuf.bpf.o");
    let drain = || {
        let mut ctx = [0u8; 8];
        obj.program("drain")
            .unwrap()
            .test_run(TestRun::with_ctx(&mut ctx))
            .unwrap()
            .retval
    };
    let rt = runtime();
    let mut rb = rt
        .block_on(async {
            AsyncUserRingBuf::new(UserRingBuf::new(obj.map("urb").unwrap()).unwrap())
        })
        .unwrap();
    let rb2 = UserRingBuf::new(obj.map("urb").unwrap());
    assert!(rb2.is_err(), "one producer per map");
    let mut seq = 0u64;
    let write = |rb: &UserRingBuf, seq: &mut u64| -> bool {
        match rb.reserve(16).unwrap() {
            Some(mut r) => {
                r[..8].copy_from_slice(&seq.to_ne_bytes());
                r[8..].copy_from_slice(&seq.wrapping_mul(MULT).to_ne_bytes());
                r.submit();
                *seq += 1;
                true
            }
            None => false,
        }
    };
    while write(rb.get_ref(), &mut seq) {}
    std::thread::scope(|s| {
        let drainer = s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            drain()
        });
        rt.block_on(async {
            let t = Instant::now();
            let mut r = tokio::time::timeout(Duration::from_secs(10), rb.reserve(16))
                .await
                .expect("room within 10 s")
                .unwrap();
            assert!(
                t.elapsed() >= Duration::from_millis(50),
                "there was no room before the drain"
            );
            r[..8].copy_from_slice(&seq.to_ne_bytes());
            r[8..].copy_from_slice(&seq.wrapping_mul(MULT).to_ne_bytes());
            r.submit();
            seq += 1;
        });
        assert!(drainer.join().unwrap() > 0);
    });
    drain();
    assert_eq!(obj.global::<u64>("drained").unwrap(), seq);
    assert_eq!(obj.global::<u64>("drain_bad").unwrap(), 0);
    // Outside a runtime, registering is a clean error.
    let plain = rb.into_inner();
    let e = AsyncUserRingBuf::new(plain).unwrap_err();
    assert!(e.to_string().contains("tokio runtime"), "{e}");
}
