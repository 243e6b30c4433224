//! The perf ring reader over rings built in anonymous memory, good and corrupted.

use super::*;
use std::sync::atomic::Ordering::Release;

const PAGES: usize = 1;

fn fake() -> PerfRing {
    let page = page_size();
    let m = SharedMapping::fake(page * (1 + PAGES));
    PerfRing::new(m, page * PAGES, 3, "perf buffer \"fake\" (CPU 3)".into()).unwrap()
}

/// Writes `bytes` at ring position `pos` (wrapping as the kernel does).
fn write(r: &PerfRing, pos: u64, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        let off = r.data_off + ((pos + i as u64) & (r.data_size - 1)) as usize;
        r.test_write_byte(off, *b);
    }
}

fn sample(data: &[u8]) -> Vec<u8> {
    let raw = (data.len() + 4).div_ceil(8) * 8 - 4;
    let size = 8 + 4 + raw;
    let mut v = Vec::new();
    v.extend_from_slice(&PERF_RECORD_SAMPLE.to_ne_bytes());
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&(size as u16).to_ne_bytes());
    v.extend_from_slice(&(raw as u32).to_ne_bytes());
    v.extend_from_slice(data);
    v.resize(size, 0);
    v
}

fn lost(n: u64) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&PERF_RECORD_LOST.to_ne_bytes());
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&24u16.to_ne_bytes());
    v.extend_from_slice(&77u64.to_ne_bytes());
    v.extend_from_slice(&n.to_ne_bytes());
    v
}

fn set_head(r: &PerfRing, h: u64) {
    r.map.u64_at(DATA_HEAD).unwrap().store(h, Release);
}

fn tail(r: &PerfRing) -> u64 {
    r.map.u64_at(DATA_TAIL).unwrap().load(Ordering::Acquire)
}

#[derive(Debug, PartialEq)]
enum Got {
    S(u32, Vec<u8>),
    L(u32, u64),
}

fn collect(r: &mut PerfRing) -> Result<Vec<Got>> {
    let mut v = Vec::new();
    let mut scratch = Vec::new();
    r.consume(&mut scratch, &mut |e| {
        v.push(match e {
            PerfRecord::Sample { cpu, data } => Got::S(cpu, data.to_vec()),
            PerfRecord::Lost { cpu, count } => Got::L(cpu, count),
        })
    })?;
    Ok(v)
}

#[test]
fn samples_lost_and_wrap() {
    let mut r = fake();
    let mut pos = 0u64;
    let s1 = sample(b"hello");
    write(&r, pos, &s1);
    pos += s1.len() as u64;
    let l = lost(5);
    write(&r, pos, &l);
    pos += 24;
    set_head(&r, pos);
    let got = collect(&mut r).unwrap();
    assert_eq!(
        got,
        vec![Got::S(3, b"hello\0\0\0\0\0\0\0".to_vec()), Got::L(3, 5)]
    );
    assert_eq!(tail(&r), pos);
    assert_eq!(r.lost, 5);

    // Fill up to just before the end, then a record that wraps.
    let size = r.data_size;
    let filler = sample(&vec![1u8; (size - pos) as usize - 40 - 12]);
    write(&r, pos, &filler);
    pos += filler.len() as u64;
    assert_eq!(size - pos, 40);
    set_head(&r, pos);
    assert_eq!(collect(&mut r).unwrap().len(), 1);
    let data: Vec<u8> = (0..100u8).collect();
    let wrap = sample(&data);
    write(&r, pos, &wrap);
    pos += wrap.len() as u64;
    set_head(&r, pos);
    let got = collect(&mut r).unwrap();
    let mut want = data.clone();
    want.resize(100, 0);
    match &got[..] {
        [Got::S(3, d)] => assert_eq!(&d[..100], &want[..]),
        other => panic!("{other:?}"),
    }
    assert_eq!(tail(&r), pos);
}

#[test]
fn head_backwards_or_too_far_is_an_error() {
    let mut r = fake();
    let s = sample(b"x");
    write(&r, 0, &s);
    set_head(&r, 16);
    assert_eq!(collect(&mut r).unwrap().len(), 1);
    set_head(&r, 8);
    let e = collect(&mut r).unwrap_err();
    assert!(matches!(e, Error::CorruptBuffer { .. }), "{e}");
    let mut r = fake();
    set_head(&r, r.data_size + 8);
    assert!(matches!(collect(&mut r), Err(Error::CorruptBuffer { .. })));
    assert!(r.readable().is_err());
}

#[test]
fn bad_record_sizes_are_errors() {
    // Zero size: would loop forever.
    let mut r = fake();
    write(&r, 0, &[9, 0, 0, 0, 0, 0, 0, 0]);
    set_head(&r, 8);
    assert!(matches!(collect(&mut r), Err(Error::CorruptBuffer { .. })));
    // Not a multiple of 8.
    let mut r = fake();
    let mut s = sample(b"abc");
    s[6] = 13;
    write(&r, 0, &s);
    set_head(&r, 16);
    assert!(matches!(collect(&mut r), Err(Error::CorruptBuffer { .. })));
    // Past the head.
    let mut r = fake();
    let s = sample(&[7u8; 60]);
    write(&r, 0, &s);
    set_head(&r, 32);
    let e = collect(&mut r).unwrap_err();
    assert!(e.to_string().contains("past data_head"), "{e}");
    // A sample whose raw size runs past its record.
    let mut r = fake();
    let mut s = sample(b"abcd");
    s[8..12].copy_from_slice(&1000u32.to_ne_bytes());
    write(&r, 0, &s);
    set_head(&r, s.len() as u64);
    let e = collect(&mut r).unwrap_err();
    assert!(e.to_string().contains("claims 1000"), "{e}");
    // A lost record too short for its count.
    let mut r = fake();
    let mut l = lost(3);
    l[6..8].copy_from_slice(&16u16.to_ne_bytes());
    write(&r, 0, &l[..16]);
    set_head(&r, 16);
    assert!(matches!(collect(&mut r), Err(Error::CorruptBuffer { .. })));
    // The records before a bad one are delivered and the tail published up to it.
    let mut r = fake();
    let good = sample(b"ok");
    write(&r, 0, &good);
    write(&r, 16, &[9, 0, 0, 0, 0, 0, 0, 0]);
    set_head(&r, 24);
    let mut n = 0;
    let mut scratch = Vec::new();
    assert!(r.consume(&mut scratch, &mut |_| n += 1).is_err());
    assert_eq!(n, 1);
    assert_eq!(tail(&r), 16);
}

#[test]
fn other_record_types_are_skipped() {
    let mut r = fake();
    let mut throttle = vec![0u8; 24];
    throttle[0] = 5; // PERF_RECORD_THROTTLE
    throttle[6] = 24;
    write(&r, 0, &throttle);
    let s = sample(b"after");
    write(&r, 24, &s);
    set_head(&r, 24 + s.len() as u64);
    assert_eq!(
        collect(&mut r).unwrap(),
        vec![Got::S(3, b"after\0\0\0\0\0\0\0".to_vec())]
    );
}

#[test]
fn cpu_lists() {
    assert_eq!(parse_cpu_ids("0-1\n"), Some(vec![0, 1]));
    assert_eq!(parse_cpu_ids("0,2-4"), Some(vec![0, 2, 3, 4]));
    assert_eq!(parse_cpu_ids("3-1"), None);
    assert_eq!(parse_cpu_ids("x"), None);
}

#[test]
fn misaligned_tail_is_an_error() {
    let page = page_size();
    let m = SharedMapping::fake(page * 2);
    m.u64_at(DATA_TAIL).unwrap().store(4, Release);
    let e = PerfRing::new(m, page, 0, "fake".into()).unwrap_err();
    assert!(e.to_string().contains("aligned"), "{e}");
}

#[test]
fn short_samples_are_errors_even_at_the_end_of_the_ring() {
    // A sample record of 8 bytes (a header, no raw length) in the ring's last 8 bytes: the
    // raw length would lie past the data area; it must be an error, never a read out of it.
    let data = page_size() * PAGES;
    let mut r = fake();
    let end = data as u64 - 8;
    r.tail = end;
    let mut h = Vec::new();
    h.extend_from_slice(&PERF_RECORD_SAMPLE.to_ne_bytes());
    h.extend_from_slice(&0u16.to_ne_bytes());
    h.extend_from_slice(&8u16.to_ne_bytes());
    write(&r, end, &h);
    set_head(&r, end + 8);
    let e = collect(&mut r).unwrap_err();
    assert!(e.to_string().contains("sample at"), "{e}");
    // The same in the middle of the ring.
    let mut r = fake();
    write(&r, 0, &h);
    set_head(&r, 8);
    let e = collect(&mut r).unwrap_err();
    assert!(e.to_string().contains("sample at"), "{e}");
    // A 16-byte sample whose raw length (5) runs past it by one byte.
    let mut r = fake();
    let mut s = h.clone();
    s[6..8].copy_from_slice(&16u16.to_ne_bytes());
    s.extend_from_slice(&5u32.to_ne_bytes());
    s.extend_from_slice(&[1, 2, 3, 4]);
    write(&r, 0, &s);
    set_head(&r, 16);
    let e = collect(&mut r).unwrap_err();
    assert!(e.to_string().contains("claims 5"), "{e}");
    // With a raw length of 4 it is a good 4-byte sample.
    let mut r = fake();
    s[8..12].copy_from_slice(&4u32.to_ne_bytes());
    write(&r, 0, &s);
    set_head(&r, 16);
    assert_eq!(collect(&mut r).unwrap(), vec![Got::S(3, vec![1, 2, 3, 4])]);
}

#[test]
fn runs_of_one_size_with_changes_wraps_and_bad_records() {
    // Samples of one size (a run), then another size, a lost record, more of the first size,
    // with the ring wrapping in the middle of a run: every record in order, the wrapped one
    // copied.
    let mut r = fake();
    let size = r.data_size;
    let mut pos = size - 3 * 24 - 40; // three 24-byte samples fit before the end, then 40 bytes
    r.tail = pos;
    let mut want = Vec::new();
    let mut put = |r: &PerfRing, pos: &mut u64, rec: Vec<u8>, got: Got| {
        write(r, *pos, &rec);
        *pos += rec.len() as u64;
        want.push(got);
    };
    for i in 0..3u8 {
        put(&r, &mut pos, sample(&[i; 12]), Got::S(3, vec![i; 12]));
    }
    // 40 bytes left: a 32-byte sample of another size, then an 8-byte-short run end: the
    // next 24-byte sample wraps (8 bytes at the end, 16 at the start).
    put(&r, &mut pos, sample(&[7; 20]), Got::S(3, vec![7; 20]));
    put(&r, &mut pos, sample(&[8; 12]), Got::S(3, vec![8; 12]));
    put(&r, &mut pos, lost(4), Got::L(3, 4));
    for i in 10..14u8 {
        put(&r, &mut pos, sample(&[i; 12]), Got::S(3, vec![i; 12]));
    }
    set_head(&r, pos);
    assert_eq!(collect(&mut r).unwrap(), want);
    assert_eq!(tail(&r), pos);
    assert_eq!(r.lost, 4);

    // In a run, a record whose header matches the run but whose raw length runs past it is
    // an error; the records before it are delivered and the tail stops at it.
    let mut r = fake();
    let mut pos = 0;
    for i in 0..3u8 {
        write(&r, pos, &sample(&[i; 12]));
        pos += 24;
    }
    let mut s = sample(&[9; 12]);
    s[8..12].copy_from_slice(&13u32.to_ne_bytes());
    write(&r, pos, &s);
    set_head(&r, pos + 24);
    let mut n = 0;
    let mut scratch = Vec::new();
    let e = r.consume(&mut scratch, &mut |_| n += 1).unwrap_err();
    assert!(e.to_string().contains("claims 13"), "{e}");
    assert_eq!(n, 3);
    assert_eq!(tail(&r), pos);

    // A run that reaches past the head: the last record's header matches the run but the
    // head cuts it: an error, never a read past the head.
    let mut r = fake();
    for i in 0..3u64 {
        write(&r, i * 24, &sample(&[1; 12]));
    }
    set_head(&r, 2 * 24 + 16);
    let e = collect(&mut r).unwrap_err();
    assert!(e.to_string().contains("past data_head"), "{e}");
    assert_eq!(tail(&r), 48);
}

#[test]
fn positions_near_the_top_of_u64() {
    // A data_tail (as a corrupt or very long-lived ring could have) in the last lap below
    // 2^64: records are read, nothing overflows.
    let page = page_size();
    let m = SharedMapping::fake(page * (1 + PAGES));
    let start = u64::MAX - 7 - 4 * 24;
    m.u64_at(DATA_TAIL).unwrap().store(start, Release);
    let mut r = PerfRing::new(m, page * PAGES, 1, "top".into()).unwrap();
    let mut pos = start;
    for i in 0..4u8 {
        write(&r, pos, &sample(&[i; 12]));
        pos += 24;
    }
    set_head(&r, pos);
    let got = collect(&mut r).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(got[3], Got::S(1, vec![3; 12]));
    assert_eq!(tail(&r), u64::MAX - 7);
}
