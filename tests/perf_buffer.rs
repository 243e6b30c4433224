//! Perf buffers end to end (as root): tests/bpf/perf_buffer.bpf.c writes sequenced samples
//! with `bpf_perf_event_output(BPF_F_CURRENT_CPU)` (a socket filter run with
//! BPF_PROG_TEST_RUN on the CPU its thread is pinned to); [`PerfBuffer`] reads them and checks
//! every sequence number and byte, and the exact number of samples the kernel dropped.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use rawbpf::Error;
use rawbpf::loader::{Loader, Object};
use rawbpf::map::{PerfBuffer, PerfBufferOptions, PerfRecord};
use rawbpf::obj::ObjectSpec;
use rawbpf::prog::TestRun;

const MULT: u64 = 0x9E37_79B9_7F4A_7C15;
const EVENT: usize = 40;
/// A sample record: 8-byte header, 4-byte size, 40 bytes padded to 44.
const RECORD: usize = 56;

fn load() -> Object {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf/perf_buffer.bpf.o");
    let spec = ObjectSpec::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    Loader::new()
        .load(&spec)
        .unwrap_or_else(|e| panic!("perf_buffer.bpf.o: {e}\n{:?}", e.verifier_log()))
}

/// Runs `produce` once: `n` samples from `start` on, as `producer`; returns how many it wrote.
fn produce(obj: &Object, start: u64, n: u32, producer: u32, keep_going: bool) -> u32 {
    let mut pkt = [0u8; 14 + 24];
    pkt[12] = 0x88;
    pkt[13] = 0xb5;
    pkt[14..22].copy_from_slice(&start.to_ne_bytes());
    pkt[22..26].copy_from_slice(&n.to_ne_bytes());
    pkt[26..30].copy_from_slice(&producer.to_ne_bytes());
    pkt[30..34].copy_from_slice(&u32::from(keep_going).to_ne_bytes());
    obj.program("produce")
        .unwrap()
        .test_run(TestRun::with_data(&pkt))
        .expect("test_run produce")
        .retval
}

/// (seq, producer, cpu) of a sample, checked against its checksum, fill and padding.
fn decode(d: &[u8]) -> (u64, u32, u32) {
    assert_eq!(
        d.len(),
        EVENT + 4,
        "raw size: the event padded to fill 8-byte words"
    );
    let u64_at = |o: usize| u64::from_ne_bytes(d[o..o + 8].try_into().unwrap());
    let seq = u64_at(0);
    let producer = u32::from_ne_bytes(d[8..12].try_into().unwrap());
    let cpu = u32::from_ne_bytes(d[12..16].try_into().unwrap());
    assert_eq!(
        u64_at(16),
        seq.wrapping_mul(MULT) ^ u64::from(producer),
        "checksum of {seq}"
    );
    assert_eq!((u64_at(24), u64_at(32)), (seq, !seq), "fill of {seq}");
    (seq, producer, cpu)
}

fn pin_to_cpu(cpu: usize) -> bool {
    let mut set = nix::sched::CpuSet::new();
    set.set(cpu).is_ok()
        && nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).is_ok()
}

fn online_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn readable(fd: &impl std::os::fd::AsFd) -> bool {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::ZERO).unwrap() == 1
}

#[test]
fn one_million_samples_from_two_producers_on_two_cpus() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    // Wake the consumer every 64 samples (not every one) to keep the test fast.
    let opts = PerfBufferOptions::default().pages(256).wakeup_events(64);
    let mut pb = PerfBuffer::new(obj.map("pb").unwrap(), opts).unwrap();
    let cpus: Vec<u32> = pb.cpus().collect();
    assert_eq!(cpus.len(), online_cpus());
    const PER_PRODUCER: u64 = 500_000;
    let ncpu = online_cpus();
    let t0 = Instant::now();
    let (next, lost_records) = std::thread::scope(|s| {
        for p in 0..2u32 {
            let obj = &obj;
            s.spawn(move || {
                assert!(pin_to_cpu(p as usize % ncpu), "pin producer {p}");
                let mut done = 0u64;
                while done < PER_PRODUCER {
                    let n = (PER_PRODUCER - done).min(4096) as u32;
                    let got = produce(obj, done, n, p, false);
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
        let mut next = [0u64; 2];
        let mut lost_records = [0u64; 2];
        while next.iter().sum::<u64>() < 2 * PER_PRODUCER {
            pb.poll(Some(Duration::from_millis(100)), |e| match e {
                PerfRecord::Sample { cpu, data } => {
                    let (seq, p, on) = decode(data);
                    let p = p as usize;
                    assert_eq!(
                        seq, next[p],
                        "producer {p}: expected {}, got {seq}",
                        next[p]
                    );
                    assert_eq!(on, cpu, "a sample from CPU {on} in the ring of CPU {cpu}");
                    if ncpu >= 2 {
                        assert_eq!(cpu as usize, p, "producer {p} is pinned to CPU {p}");
                    }
                    next[p] += 1;
                }
                PerfRecord::Lost { cpu, count } => lost_records[cpu as usize % 2] += count,
            })
            .unwrap();
            assert!(
                t0.elapsed() < Duration::from_secs(120),
                "consumer stalled at {next:?}"
            );
        }
        (next, lost_records)
    });
    assert_eq!(next, [PER_PRODUCER, PER_PRODUCER]);
    // A LOST record comes before the next sample, so every drop is reported by now, and the
    // program retried every dropped sample: no sequence number is missing.
    let failures: [u64; 2] = obj.global("output_failures").unwrap();
    if ncpu >= 2 {
        assert_eq!(
            lost_records, failures,
            "LOST records count exactly the failed outputs"
        );
        for (cpu, f) in failures.iter().enumerate() {
            assert_eq!(pb.lost(cpu as u32), Some(*f));
        }
    }
    assert_eq!(pb.lost_total(), failures.iter().sum::<u64>());
    eprintln!(
        "1M samples in {:?}, dropped and retried {failures:?}",
        t0.elapsed()
    );
}

#[test]
fn lost_samples_are_counted_exactly_and_records_wrap() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut pb = PerfBuffer::new(
        obj.map("pb").unwrap(),
        PerfBufferOptions::default().pages(1),
    )
    .unwrap();
    let page = 4096; // the machine's page size is checked below through the capacity
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(pin_to_cpu(0));
            // 4096 / 56: 73 samples fit (the kernel keeps one byte free); 127 are dropped.
            let wrote = produce(&obj, 0, 200, 0, true);
            assert_eq!(wrote as usize, (page - 1) / RECORD);
            let failures: [u64; 2] = obj.global("output_failures").unwrap();
            assert_eq!(failures[0], 200 - u64::from(wrote));
            let mut seqs = Vec::new();
            pb.consume(|e| match e {
                PerfRecord::Sample { cpu: 0, data } => seqs.push(decode(data).0),
                other => panic!("{other:?}"),
            })
            .unwrap();
            assert_eq!(seqs, (0..u64::from(wrote)).collect::<Vec<_>>());
            assert_eq!(pb.lost(0), Some(0), "not reported until the next sample");

            // The next sample is preceded by a LOST record with the exact count; it starts 8
            // bytes before the end of the ring and wraps.
            assert_eq!(produce(&obj, u64::from(wrote), 1, 0, true), 1);
            let mut got = Vec::new();
            pb.consume(|e| {
                got.push(match e {
                    PerfRecord::Sample { cpu, data } => (cpu, 'S', decode(data).0),
                    PerfRecord::Lost { cpu, count } => (cpu, 'L', count),
                })
            })
            .unwrap();
            assert_eq!(got, vec![(0, 'L', 127), (0, 'S', u64::from(wrote))]);
            assert_eq!(pb.lost(0), Some(127));
            assert_eq!(pb.lost(1).unwrap_or(0), 0);

            // Rounds of samples through the one-page ring: many straddle its end, each comes
            // back whole (through the scratch copy) and in order.
            let mut seq = u64::from(wrote) + 1;
            for round in 0..40u32 {
                let n = 31 + round % 13;
                assert_eq!(produce(&obj, seq, n, 0, false), n);
                let mut k = 0;
                pb.consume(|e| match e {
                    PerfRecord::Sample { data, .. } => {
                        assert_eq!(decode(data).0, seq + k);
                        k += 1;
                    }
                    other => panic!("{other:?}"),
                })
                .unwrap();
                assert_eq!(k, u64::from(n));
                seq += u64::from(n);
            }
            assert!(
                seq as usize * RECORD > 15 * page,
                "the ring wrapped many times"
            );
            assert_eq!(pb.lost_total(), 127);
        });
    });
}

#[test]
fn poll_wakes_on_a_sample_and_the_fd_is_readable() {
    if !common::privileged() {
        return;
    }
    let obj = load();
    let mut pb = PerfBuffer::new(obj.map("pb").unwrap(), PerfBufferOptions::default()).unwrap();
    assert!(matches!(
        PerfBuffer::new(
            obj.map("pb").unwrap(),
            PerfBufferOptions::default().pages(3)
        ),
        Err(Error::InvalidArgument(_))
    ));
    assert!(!readable(&pb));
    let t = Instant::now();
    assert_eq!(
        pb.poll(Some(Duration::from_millis(30)), |e| panic!("{e:?}"))
            .unwrap(),
        0
    );
    assert!(t.elapsed() >= Duration::from_millis(30));

    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(pin_to_cpu(online_cpus() - 1));
            std::thread::sleep(Duration::from_millis(100));
            assert_eq!(produce(&obj, 9, 3, 1, false), 3);
        });
        let t = Instant::now();
        let mut seqs = Vec::new();
        while seqs.len() < 3 {
            pb.poll(Some(Duration::from_secs(10)), |e| match e {
                PerfRecord::Sample { cpu, data } => {
                    assert_eq!(cpu as usize, online_cpus() - 1);
                    seqs.push(decode(data).0);
                }
                other => panic!("{other:?}"),
            })
            .unwrap();
        }
        assert_eq!(seqs, vec![9, 10, 11]);
        assert!(t.elapsed() < Duration::from_secs(5), "woken by the sample");
    });
    // Readable through the epoll fd of AsFd after a sample (wakeup_events = 1).
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(pin_to_cpu(0));
            produce(&obj, 1, 1, 0, false);
        });
    });
    assert!(readable(&pb));
    let mut n = 0;
    pb.consume_cpu(0, |_| n += 1).unwrap();
    assert_eq!(n, 1);
    // Dropping the buffer deletes its fds from the map: the program's output then fails.
    drop(pb);
    assert_eq!(produce(&obj, 0, 1, 0, false), 0);
}
