//! The consumer over rings built in anonymous memory (laid out as the kernel lays out a ring
//! buffer, data mapped twice), good and corrupted.

use super::*;
use std::sync::atomic::Ordering::Release;

const SIZE: usize = 16 * 1024;

fn fake() -> RingCore {
    fake_at(0)
}

/// A fake ring whose consumer and producer positions both start at `pos`.
fn fake_at(pos: u64) -> RingCore {
    let (cons, prod) = SharedMapping::fake_ring(SIZE);
    cons.u64_at(0).unwrap().store(pos, Release);
    prod.u64_at(0).unwrap().store(pos, Release);
    RingCore::new(cons, prod, SIZE, "ring buffer \"fake\"".into()).unwrap()
}

/// Writes a record header `hdr` and `data` at position `pos` (as a producer would).
fn put(core: &RingCore, pos: u64, hdr: u32, data: &[u8]) {
    let off = core.data_off + (pos & core.mask) as usize;
    core.test_write(off + 8, data);
    core.prod_map.u32_at(off).unwrap().store(hdr, Release);
}

fn set_prod(core: &RingCore, p: u64) {
    core.prod_map.u64_at(0).unwrap().store(p, Release);
}

fn published(core: &RingCore) -> u64 {
    core.cons_map.u64_at(0).unwrap().load(Ordering::Acquire)
}

fn collect(core: &mut RingCore) -> Result<Vec<Vec<u8>>> {
    let mut v = Vec::new();
    core.consume(usize::MAX, &mut |r| v.push(r.to_vec()))?;
    Ok(v)
}

#[test]
fn records_discards_and_wrap() {
    let mut c = fake();
    put(&c, 0, 5, b"hello");
    put(&c, 16, 3 | DISCARD_BIT, b"xyz");
    put(&c, 32, 8, &7u64.to_ne_bytes());
    set_prod(&c, 48);
    assert_eq!(
        collect(&mut c).unwrap(),
        vec![b"hello".to_vec(), 7u64.to_ne_bytes().to_vec()]
    );
    assert_eq!(published(&c), 48);
    assert!(collect(&mut c).unwrap().is_empty());

    // A record that wraps around the end of the data area comes back as one slice.
    let pos = (SIZE as u64 * 5) - 16; // its header 16 bytes before the end
    let c = fake_at(pos);
    let mut c = c;
    let data: Vec<u8> = (0..100u8).collect();
    // Write the wrapping record through the second copy of the data area.
    let off = c.data_off + (pos & c.mask) as usize;
    c.test_write(off + 8, &data);
    c.prod_map.u32_at(off).unwrap().store(100, Release);
    set_prod(&c, pos + record_span(100));
    // The bytes past the end landed at the start of the data area (the alias).
    let head = c.test_read(c.data_off, 8);
    assert_eq!(head, data[8..16].to_vec());
    assert_eq!(collect(&mut c).unwrap(), vec![data]);
    assert_eq!(published(&c), pos + record_span(100));
}

#[test]
fn busy_record_stops_and_resumes() {
    let mut c = fake();
    put(&c, 0, 4, b"aaaa");
    put(&c, 16, 4 | BUSY_BIT, b"bbbb");
    put(&c, 32, 4, b"cccc");
    set_prod(&c, 48);
    assert_eq!(collect(&mut c).unwrap(), vec![b"aaaa".to_vec()]);
    assert_eq!(published(&c), 16);
    // Safe to sleep: the busy record sits at the published position.
    assert!(!c.pending_before_sleep().unwrap());
    c.prod_map
        .u32_at(c.data_off + 16)
        .unwrap()
        .store(4, Release);
    assert!(c.pending_before_sleep().unwrap());
    assert_eq!(
        collect(&mut c).unwrap(),
        vec![b"bbbb".to_vec(), b"cccc".to_vec()]
    );
    assert_eq!(published(&c), 48);
}

#[test]
fn discarded_tail_is_published_before_sleep() {
    let mut c = fake();
    put(&c, 0, 4 | DISCARD_BIT, b"dddd");
    set_prod(&c, 16);
    assert!(!c.pending_before_sleep().unwrap());
    assert_eq!(published(&c), 16);
}

#[test]
fn next_record_gives_space_back_on_drop() {
    let (cons, prod) = SharedMapping::fake_ring(SIZE);
    let core = RingCore::new(cons, prod, SIZE, "fake".into()).unwrap();
    put(&core, 0, 2, b"ab");
    put(&core, 16, 2, b"cd");
    set_prod(&core, 32);
    let mut core = core;
    let f = core.next().unwrap().unwrap();
    assert_eq!(core.record(f).unwrap(), b"ab");
    assert_eq!(published(&core), 0);
    {
        let rec = RingRecord {
            core: &mut core,
            found: f,
        };
        assert_eq!(&rec[..], b"ab");
    }
    assert_eq!(published(&core), 16);
}

#[test]
fn producer_position_backwards_is_an_error() {
    let mut c = fake();
    put(&c, 0, 4, b"aaaa");
    set_prod(&c, 16);
    assert_eq!(collect(&mut c).unwrap().len(), 1);
    set_prod(&c, 8);
    let e = collect(&mut c).unwrap_err();
    assert!(matches!(e, Error::CorruptBuffer { .. }), "{e}");
    assert!(e.to_string().contains("backwards"), "{e}");
    // It stays an error; no endless loop, no record.
    assert!(collect(&mut c).is_err());
    assert!(c.pending_before_sleep().is_err());
}

#[test]
fn producer_too_far_ahead_is_an_error() {
    let mut c = fake();
    set_prod(&c, SIZE as u64 + 8);
    let e = collect(&mut c).unwrap_err();
    assert!(matches!(e, Error::CorruptBuffer { .. }), "{e}");
    // Also when found at creation.
    let (cons, prod) = SharedMapping::fake_ring(SIZE);
    prod.u64_at(0).unwrap().store(SIZE as u64 * 2, Release);
    assert!(matches!(
        RingCore::new(cons, prod, SIZE, "fake".into()),
        Err(Error::CorruptBuffer { .. })
    ));
    // A consumer position ahead of the producer is the same as the producer going backwards.
    let (cons, prod) = SharedMapping::fake_ring(SIZE);
    cons.u64_at(0).unwrap().store(64, Release);
    assert!(RingCore::new(cons, prod, SIZE, "fake".into()).is_err());
}

#[test]
fn record_past_the_producer_position_is_an_error() {
    let mut c = fake();
    put(&c, 0, 4, b"good");
    put(&c, 16, 64, b"short"); // claims 64 bytes, only 16 published after it
    set_prod(&c, 32);
    let mut got = Vec::new();
    let e = c
        .consume(usize::MAX, &mut |r| got.push(r.to_vec()))
        .unwrap_err();
    assert!(matches!(e, Error::CorruptBuffer { .. }), "{e}");
    assert!(e.to_string().contains("past the producer position"), "{e}");
    // The good record before it was delivered and its space given back.
    assert_eq!(got, vec![b"good".to_vec()]);
    assert_eq!(published(&c), 16);
    assert!(collect(&mut c).is_err());
}

#[test]
fn header_larger_than_the_ring_is_an_error() {
    let mut c = fake();
    // The largest length a header can hold, the producer as far ahead as allowed.
    put(&c, 0, !(BUSY_BIT | DISCARD_BIT), b"");
    set_prod(&c, SIZE as u64);
    assert!(matches!(collect(&mut c), Err(Error::CorruptBuffer { .. })));
    // A zero-length record is fine (8 bytes of header) and moves on.
    let mut c = fake();
    put(&c, 0, 0, b"");
    set_prod(&c, 8);
    assert_eq!(collect(&mut c).unwrap(), vec![Vec::<u8>::new()]);
}

#[test]
fn max_limits_the_batch() {
    let mut c = fake();
    for i in 0..10u64 {
        put(&c, i * 16, 8, &i.to_ne_bytes());
    }
    set_prod(&c, 160);
    let mut got = Vec::new();
    assert_eq!(c.consume(3, &mut |r| got.push(r[0])).unwrap(), 3);
    assert_eq!(published(&c), 48);
    assert_eq!(c.consume(usize::MAX, &mut |r| got.push(r[0])).unwrap(), 7);
    assert_eq!(got, (0..10).collect::<Vec<u8>>());
}

#[test]
fn misaligned_consumer_position_is_an_error() {
    let (cons, prod) = SharedMapping::fake_ring(SIZE);
    cons.u64_at(0).unwrap().store(12, Release);
    prod.u64_at(0).unwrap().store(12, Release);
    let e = RingCore::new(cons, prod, SIZE, "fake".into()).unwrap_err();
    assert!(e.to_string().contains("aligned"), "{e}");
}

#[test]
fn runs_of_one_length_with_changes_discards_busy_wrap_and_bad_records() {
    // Records of one length (a run), broken by another length, a discarded record of the
    // run's length, zero-length records and a wrap; every record in order, the discarded
    // one skipped.
    let pos = SIZE as u64 * 3 - 5 * 16;
    let mut c = fake_at(pos);
    let mut p = pos;
    let mut want = Vec::new();
    let mut rec = |c: &RingCore, p: &mut u64, hdr: u32, data: &[u8], keep: bool| {
        put(c, *p, hdr, data);
        *p += record_span(u64::from(hdr & !(BUSY_BIT | DISCARD_BIT)));
        if keep {
            want.push(data.to_vec());
        }
    };
    for i in 0..3u8 {
        rec(&c, &mut p, 8, &[i; 8], true);
    }
    rec(&c, &mut p, 8 | DISCARD_BIT, &[9; 8], false);
    rec(&c, &mut p, 20, &[4; 20], true); // 32 bytes: wraps around the end
    for i in 5..8u8 {
        rec(&c, &mut p, 8, &[i; 8], true);
    }
    rec(&c, &mut p, 0, &[], true);
    rec(&c, &mut p, 0, &[], true);
    rec(&c, &mut p, 8, &[10; 8], true);
    set_prod(&c, p);
    assert_eq!(collect(&mut c).unwrap(), want);
    assert_eq!(published(&c), p);

    // A busy record in the middle of a run stops the batch at it.
    let mut c = fake();
    for i in 0..5u64 {
        let busy = if i == 3 { BUSY_BIT } else { 0 };
        put(&c, i * 16, 8 | busy, &i.to_ne_bytes());
    }
    set_prod(&c, 80);
    let got: Vec<u8> = collect(&mut c).unwrap().iter().map(|r| r[0]).collect();
    assert_eq!(got, vec![0, 1, 2]);
    assert_eq!(published(&c), 48);

    // A run whose next record would end past the producer position: an error, never a
    // read past it; the records before it are delivered.
    let mut c = fake();
    for i in 0..3u64 {
        put(&c, i * 16, 8, &i.to_ne_bytes());
    }
    set_prod(&c, 40);
    let mut got = Vec::new();
    let e = c.consume(usize::MAX, &mut |r| got.push(r[0])).unwrap_err();
    assert!(e.to_string().contains("past the producer position"), "{e}");
    assert_eq!(got, vec![0, 1]);
    assert_eq!(published(&c), 32);
}
