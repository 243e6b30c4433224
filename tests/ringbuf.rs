//! Ring buffers end to end (as root): tests/bpf/ringbuf.bpf.c writes sequenced events through
//! `bpf_ringbuf_reserve`/`submit`/`discard` (a syscall program run with BPF_PROG_TEST_RUN, on
//! the CPU its thread is pinned to), [`RingBuf`] and [`RingBuffers`] read them and check every
//! sequence number and byte; the user ring buffer is filled by [`UserRingBuf`] and drained by
//! `bpf_user_ringbuf_drain`, which checks every record.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use rawbpf::Error;
use rawbpf::loader::{Loader, Object};
use rawbpf::map::{MapType, RingBuf, RingBuffers, UserRingBuf};
use rawbpf::obj::ObjectSpec;
use rawbpf::prog::TestRun;

const MULT: u64 = 0x9E37_79B9_7F4A_7C15;
const EVENT: usize = 40;
/// Record span of an event: 8-byte header + 40 bytes.
const SPAN: usize = 48;

fn load() -> Object {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/ringbuf.bpf.o");
    let spec = ObjectSpec::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Loader::new()
        .load(&spec)
        .unwrap_or_else(|e| panic!("ringbuf.bpf.o: {e}\n{:?}", e.verifier_log()))
}

/// `struct args` of ringbuf.bpf.c.
#[derive(Clone, Copy, Default)]
struct Args {
    start: u64,
    n: u32,
    producer: u32,
    discard_every: u32,
    small: bool,
    keep_going: bool,
}

/// Runs `produce` once with `a`; returns the number of events it wrote (or discarded).
fn produce(obj: &Object, a: Args) -> u32 {
    let mut ctx = [0u8; 32];
    ctx[0..8].copy_from_slice(&a.start.to_ne_bytes());
    ctx[8..12].copy_from_slice(&a.n.to_ne_bytes());
    ctx[12..16].copy_from_slice(&a.producer.to_ne_bytes());
    ctx[16..20].copy_from_slice(&a.discard_every.to_ne_bytes());
    ctx[20..24].copy_from_slice(&u32::from(a.small).to_ne_bytes());
    ctx[24..28].copy_from_slice(&u32::from(a.keep_going).to_ne_bytes());
    obj.program("produce")
        .unwrap()
        .test_run(TestRun::with_ctx(&mut ctx))
        .expect("test_run produce")
        .retval
}

/// A decoded event, checked against its checksum and fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Event {
    seq: u64,
    producer: u32,
    cpu: u32,
}

fn decode(r: &[u8]) -> Event {
    assert_eq!(r.len(), EVENT, "record size");
    let u64_at = |o: usize| u64::from_ne_bytes(r[o..o + 8].try_into().unwrap());
    let seq = u64_at(0);
    let producer = u32::from_ne_bytes(r[8..12].try_into().unwrap());
    let cpu = u32::from_ne_bytes(r[12..16].try_into().unwrap());
    assert_eq!(
        u64_at(16),
        seq.wrapping_mul(MULT) ^ u64::from(producer),
        "checksum of {seq}"
    );
    assert_eq!(u64_at(24), seq, "fill[0] of {seq}");
    assert_eq!(u64_at(32), !seq, "fill[1] of {seq}");
    Event { seq, producer, cpu }
}

fn pin_to_cpu(cpu: usize) -> bool {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).is_ok()
        && nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).is_ok()
}

fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn sequenced_events_with_discards() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut ring = RingBuf::new(obj.map("rb").unwrap()).unwrap();
    assert_eq!(ring.size(), 256 * 1024);
    let n = 1000;
    let a = Args {
        start: 5000,
        n,
        discard_every: 7,
        ..Default::default()
    };
    assert_eq!(produce(&obj, a), n);
    let mut got = Vec::new();
    let k = ring.consume(|r| got.push(decode(r).seq)).unwrap();
    let want: Vec<u64> = (5000..5000 + u64::from(n)).filter(|s| s % 7 != 0).collect();
    assert_eq!(k, want.len());
    assert_eq!(got, want);
    let discarded: [u64; 2] = obj.global("discarded").unwrap();
    assert_eq!(discarded[0], u64::from(n) - want.len() as u64);
    // Everything consumed: nothing pending, and the consumer position was given back.
    assert_eq!(ring.pending_bytes(), 0);
    assert_eq!(ring.consume(|_| panic!("no more records")).unwrap(), 0);
    assert!(!ring.ready().unwrap());

    // One record at a time.
    produce(
        &obj,
        Args {
            start: 1,
            n: 3,
            ..Default::default()
        },
    );
    let mut seqs = Vec::new();
    while let Some(r) = ring.next_record().unwrap() {
        seqs.push(decode(&r).seq);
    }
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(ring.pending_bytes(), 0);
}

#[test]
fn one_million_events_from_two_producers_on_two_cpus() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut ring = RingBuf::new(obj.map("rb").unwrap()).unwrap();
    const PER_PRODUCER: u64 = 500_000;
    let two_cpus = online_cpus() >= 2;
    let t0 = Instant::now();
    let (next, waits) = std::thread::scope(|s| {
        for p in 0..2u32 {
            let obj = &obj;
            s.spawn(move || {
                let pinned = pin_to_cpu(p as usize % online_cpus());
                assert!(pinned || !two_cpus, "pin producer {p}");
                let mut done = 0u64;
                while done < PER_PRODUCER {
                    let n = (PER_PRODUCER - done).min(4096) as u32;
                    let got = produce(
                        obj,
                        Args {
                            start: done,
                            n,
                            producer: p,
                            ..Default::default()
                        },
                    );
                    done += u64::from(got);
                    if got < n {
                        std::thread::yield_now(); // the ring is full: let the consumer run
                    }
                    assert!(
                        t0.elapsed() < Duration::from_secs(120),
                        "producer {p} stalled"
                    );
                }
            });
        }
        // The consumer: every producer's sequence must be 0, 1, 2, … with nothing missing,
        // repeated or out of order, each event from its producer's CPU.
        let mut next = [0u64; 2];
        let mut waits = 0u64;
        while next.iter().sum::<u64>() < 2 * PER_PRODUCER {
            let n = ring
                .poll(Some(Duration::from_millis(100)), |r| {
                    let e = decode(r);
                    let p = e.producer as usize;
                    assert_eq!(
                        e.seq, next[p],
                        "producer {p}: expected {}, got {}",
                        next[p], e.seq
                    );
                    if two_cpus {
                        assert_eq!(e.cpu, e.producer, "producer {p} ran on CPU {}", e.cpu);
                    }
                    next[p] += 1;
                })
                .unwrap();
            if n == 0 {
                waits += 1;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "consumer stalled at {next:?}"
            );
        }
        (next, waits)
    });
    assert_eq!(next, [PER_PRODUCER, PER_PRODUCER]);
    assert_eq!(ring.consume(|_| panic!("an extra event")).unwrap(), 0);
    let failures: [u64; 2] = obj.global("reserve_failures").unwrap();
    eprintln!(
        "1M events in {:?}, {waits} empty polls, reservation failures (ring full) {failures:?}",
        t0.elapsed()
    );
}

#[test]
fn reservation_failures_are_counted_exactly_and_records_wrap() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut ring = RingBuf::new(obj.map("rb_small").unwrap()).unwrap();
    assert_eq!(ring.size(), 4096);
    // 4096 / 48 = 85 records fit; the other 115 reservations return NULL.
    let wrote = produce(
        &obj,
        Args {
            n: 200,
            small: true,
            keep_going: true,
            ..Default::default()
        },
    );
    assert_eq!(wrote as usize, 4096 / SPAN);
    let failures: [u64; 2] = obj.global("reserve_failures").unwrap();
    assert_eq!(failures[0], 200 - u64::from(wrote));
    let mut got = Vec::new();
    ring.consume(|r| got.push(decode(r).seq)).unwrap();
    assert_eq!(got, (0..u64::from(wrote)).collect::<Vec<_>>());

    // Round after round, records straddle the end of the ring (48 does not divide 4096):
    // each comes back whole and in order.
    let mut seq = u64::from(wrote);
    for round in 0..50 {
        let n = 37 + round % 11;
        assert_eq!(
            produce(
                &obj,
                Args {
                    start: seq,
                    n,
                    small: true,
                    ..Default::default()
                }
            ),
            n
        );
        let mut k = 0;
        ring.consume(|r| {
            assert_eq!(decode(r).seq, seq + k);
            k += 1;
        })
        .unwrap();
        assert_eq!(k, u64::from(n));
        seq += u64::from(n);
    }
    // 50 rounds moved about 100 KiB through a 4 KiB ring: it wrapped about 25 times.
    assert!(seq as usize * SPAN > 20 * 4096);
    let failures: [u64; 2] = obj.global("reserve_failures").unwrap();
    assert_eq!(
        failures[0],
        200 - u64::from(wrote),
        "no failure while there was room"
    );
}

#[test]
fn several_rings_on_one_epoll_set() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut set = RingBuffers::new().unwrap();
    let big = set
        .add(RingBuf::new(obj.map("rb").unwrap()).unwrap())
        .unwrap();
    let small = set
        .add(RingBuf::new(obj.map("rb_small").unwrap()).unwrap())
        .unwrap();
    assert_eq!((big, small, set.len()), (0, 1, 2));
    // One consumer per map in a process.
    let again = RingBuf::new(obj.map("rb").unwrap()).unwrap_err();
    assert!(
        again.to_string().contains("already has a consumer"),
        "{again}"
    );
    // The wrong map type.
    assert!(matches!(
        RingBuf::new(obj.map("urb").unwrap()),
        Err(Error::InvalidArgument(_))
    ));

    // Nothing yet: poll times out, and the epoll fd is not readable.
    let t = Instant::now();
    assert_eq!(
        set.poll(Some(Duration::from_millis(50)), |_, _| panic!("no record"))
            .unwrap(),
        0
    );
    assert!(t.elapsed() >= Duration::from_millis(50));
    assert!(!readable(&set));

    produce(
        &obj,
        Args {
            start: 100,
            n: 10,
            ..Default::default()
        },
    );
    produce(
        &obj,
        Args {
            start: 200,
            n: 5,
            small: true,
            ..Default::default()
        },
    );
    assert!(readable(&set), "the epoll fd is readable after a commit");
    let mut got: Vec<(usize, u64)> = Vec::new();
    let n = set
        .poll(Some(Duration::from_secs(5)), |i, r| {
            got.push((i, decode(r).seq))
        })
        .unwrap();
    assert_eq!(n, 15);
    let want: Vec<(usize, u64)> = (100..110)
        .map(|s| (big, s))
        .chain((200..205).map(|s| (small, s)))
        .collect();
    assert_eq!(got, want);

    // A producer that starts while the consumer sleeps wakes it.
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            produce(
                &obj,
                Args {
                    start: 7,
                    n: 1,
                    small: true,
                    ..Default::default()
                },
            );
        });
        let t = Instant::now();
        let mut got = Vec::new();
        let n = set
            .poll(Some(Duration::from_secs(10)), |i, r| {
                got.push((i, decode(r).seq))
            })
            .unwrap();
        assert_eq!((n, got), (1, vec![(small, 7)]));
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "woken by the commit, not the timeout"
        );
    });
    // Dropping the set releases the rings: a new consumer can take over.
    drop(set);
    RingBuf::new(obj.map("rb").unwrap()).unwrap();
}

fn readable(fd: &impl std::os::fd::AsFd) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::ZERO).unwrap() == 1
}

#[test]
fn single_ring_poll_waits_for_a_commit() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut ring = RingBuf::new(obj.map("rb").unwrap()).unwrap();
    assert!(!readable(&ring));
    let t = Instant::now();
    assert_eq!(
        ring.poll(Some(Duration::from_millis(30)), |_| panic!())
            .unwrap(),
        0
    );
    assert!(t.elapsed() >= Duration::from_millis(30));
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            produce(
                &obj,
                Args {
                    start: 42,
                    n: 2,
                    ..Default::default()
                },
            );
        });
        let mut got = Vec::new();
        while got.len() < 2 {
            ring.poll(Some(Duration::from_secs(10)), |r| got.push(decode(r).seq))
                .unwrap();
        }
        assert_eq!(got, vec![42, 43]);
    });
}

/// Fills `rb` with `n` user records from `*seq` on (16 bytes: seq, seq * MULT); discards
/// every record whose seq is a multiple of `discard_every` after writing it (the kernel skips
/// it, so `seq` does not advance for it). Returns how many were submitted.
fn fill_user_ring(rb: &UserRingBuf, seq: &mut u64, n: u64, wait: Option<Duration>) -> u64 {
    let mut submitted = 0;
    for _ in 0..n {
        let rec = match wait {
            None => rb.reserve(16).unwrap(),
            Some(t) => rb.reserve_wait(16, Some(t)).unwrap(),
        };
        let Some(mut rec) = rec else { break };
        rec[..8].copy_from_slice(&seq.to_ne_bytes());
        rec[8..].copy_from_slice(&seq.wrapping_mul(MULT).to_ne_bytes());
        rec.submit();
        *seq += 1;
        submitted += 1;
    }
    submitted
}

fn drain(obj: &Object) -> u32 {
    let mut ctx = [0u8; 8];
    obj.program("drain")
        .unwrap()
        .test_run(TestRun::with_ctx(&mut ctx))
        .expect("test_run drain")
        .retval
}

#[test]
fn user_ring_buffer_drained_by_a_program() {
    if !common::privileged() {
        return;
    }
    let probe = rawbpf::features::map_type(MapType::USER_RINGBUF);
    if !common::supported(
        "user_ring_buffer_drained_by_a_program",
        "user_ringbuf",
        "features::map_type(USER_RINGBUF)",
        probe,
    ) {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/ringbuf.bpf.o");
        let e = Loader::new()
            .load(&ObjectSpec::open(&p).unwrap())
            .unwrap_err();
        assert!(rawbpf::Error::from(e).is_not_supported());
        return;
    }
    let obj = load();
    let rb = UserRingBuf::new(obj.map("urb").unwrap()).unwrap();
    assert_eq!(rb.size(), 16 * 1024);
    assert!(matches!(
        UserRingBuf::new(obj.map("rb").unwrap()),
        Err(Error::InvalidArgument(_))
    ));
    let again = UserRingBuf::new(obj.map("urb").unwrap()).unwrap_err();
    assert!(
        again.to_string().contains("already has a producer"),
        "{again}"
    );

    // Fill the ring (16 KiB / 24-byte spans = 682 records), interleaved with discarded records
    // the program never sees; drain; repeat until 5000 records went through.
    let mut seq = 0u64;
    let mut drained = 0u64;
    let total = 5000;
    while seq < total {
        let d = rb.reserve(32).unwrap();
        if let Some(mut d) = d {
            d.fill(0xee); // garbage that would fail the program's check
            d.discard();
        }
        let want = total - seq;
        fill_user_ring(&rb, &mut seq, want, None);
        assert!(
            rb.reserve(16).unwrap().is_none() || seq == total,
            "the ring was full"
        );
        drained += u64::from(drain(&obj));
    }
    drained += u64::from(drain(&obj));
    assert_eq!(drained, total);
    assert_eq!(obj.global::<u64>("drained").unwrap(), total);
    assert_eq!(obj.global::<u64>("drain_next").unwrap(), total);
    assert_eq!(
        obj.global::<u64>("drain_bad").unwrap(),
        0,
        "every record in order and intact"
    );
    assert_eq!(rb.free_bytes().unwrap(), rb.size() as u64);

    // A blocking reserve on a full ring returns when the program drains it.
    fill_user_ring(&rb, &mut seq, 10_000, None);
    assert!(rb.reserve(16).unwrap().is_none());
    std::thread::scope(|s| {
        let drainer = s.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            drain(&obj)
        });
        let t = Instant::now();
        let n = fill_user_ring(&rb, &mut seq, 1, Some(Duration::from_secs(10)));
        assert_eq!(n, 1);
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(drainer.join().unwrap() > 0);
    });
    assert_eq!(
        rb.reserve_wait(rb.size(), Some(Duration::ZERO))
            .err()
            .map(|e| e.to_string().contains("at most")),
        Some(true)
    );
    drain(&obj);
    assert_eq!(obj.global::<u64>("drained").unwrap(), seq);
    assert_eq!(obj.global::<u64>("drain_bad").unwrap(), 0);
}
