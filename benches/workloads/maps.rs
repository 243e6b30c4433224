//! Workload group `maps` (W4) of ../shared/bench/README.md: single-element update/lookup on a
//! 1M-entry hash map and array, a whole-map batch dump and a get_next_key dump.
//!
//! rawbpf creates the two maps itself (`BPF_MAP_CREATE`, as the `raw` floor does): the
//! workload measures map operations, not object loading.

use crate::harness::{Cli, emit, emit_unsupported, q, sample_whole};
use rawbpf::map::{ANY, Array, BatchCursor, HashMap, Map, MapOptions, MapType};
use serde_json::json;

/// The parameters of `bench_common::contract` (../shared/bench/common/src/lib.rs) for W4.
mod contract {
    pub const HASH_MAP: &str = "hash_map";
    pub const ARRAY_MAP: &str = "array_map";
    pub const MAP_MAX_ENTRIES: u32 = 1 << 20;
    pub const MAP_KEYS: u32 = 1_000_000;
    pub const MAP_OPS: u32 = 250_000;
    pub const MAP_KEY_STRIDE: u32 = 4;
    pub const MAP_WARMUP: usize = 1;
    pub const MAP_ITERS: usize = 5;
    pub const MAP_BATCH: u32 = 8192;
    pub const MAP_DUMP_WARMUP: usize = 1;
    pub const MAP_DUMP_ITERS: usize = 3;

    /// Value stored for `key` in pass `pass`.
    #[inline(always)]
    pub fn map_value(key: u32, pass: u64) -> u64 {
        (key as u64) * 3 + pass
    }

    /// The i-th key touched by single-element workloads.
    #[inline(always)]
    pub fn map_op_key(i: u32) -> u32 {
        i * MAP_KEY_STRIDE
    }
}
use contract as c;

const WORKLOADS: &[&str] = &[
    "hash_update",
    "hash_lookup",
    "hash_lookup_batch",
    "hash_iter",
    "array_update",
    "array_lookup",
];

/// Runs the wanted workloads of this group.
pub fn run(cli: &Cli) {
    let wanted: Vec<&str> = WORKLOADS
        .iter()
        .copied()
        .filter(|w| cli.wants("maps", w))
        .collect();
    if wanted.is_empty() {
        return;
    }
    if let Err(e) = run_wanted(&wanted) {
        eprintln!("maps: {e}");
        for w in wanted {
            emit_unsupported(w, &format!("failed: {e}"));
        }
    }
}

fn create(t: MapType, name: &str) -> rawbpf::Result<Map> {
    Map::create(&MapOptions::new(t, 4, 8, c::MAP_MAX_ENTRIES).name(name))
}

/// Untimed prefill: keys `0..n` with pass-0 values, in update batches.
fn prefill(map: &Map, n: u32) -> rawbpf::Result<()> {
    let chunk = 65_536u32;
    let mut keys = Vec::with_capacity(chunk as usize * 4);
    let mut vals = Vec::with_capacity(chunk as usize * 8);
    let mut start = 0;
    while start < n {
        let end = (start + chunk).min(n);
        keys.clear();
        vals.clear();
        for k in start..end {
            keys.extend_from_slice(&k.to_ne_bytes());
            vals.extend_from_slice(&c::map_value(k, 0).to_ne_bytes());
        }
        map.update_batch(&keys, &vals, ANY)?;
        start = end;
    }
    Ok(())
}

fn run_wanted(wanted: &[&str]) -> rawbpf::Result<()> {
    let wants = |w: &str| wanted.contains(&w);
    let nkeys = q(c::MAP_KEYS, 100_000);
    let nops = q(c::MAP_OPS, 25_000);
    let iters = q(c::MAP_ITERS, 2);
    let dump_iters = q(c::MAP_DUMP_ITERS, 1);
    let want_hash = wanted.iter().any(|w| w.starts_with("hash_"));
    let want_array = wanted.iter().any(|w| w.starts_with("array_"));

    if want_hash {
        let hmap = create(MapType::HASH, c::HASH_MAP)?;
        prefill(&hmap, nkeys)?;
        let hash = HashMap::<u32, u64, _>::new(&hmap)?;
        let mut pass = 0u64;
        if wants("hash_update") {
            let s = sample_whole(c::MAP_WARMUP, iters, || {
                pass += 1;
                for i in 0..nops {
                    let k = c::map_op_key(i);
                    hash.insert(&k, &c::map_value(k, pass), ANY)
                        .expect("BPF_MAP_UPDATE_ELEM");
                }
            });
            emit(
                "hash_update",
                &s,
                Some(nops as u64),
                json!({"api": "HashMap::<u32,u64>::insert(BPF_ANY), existing keys", "map_entries": nkeys}),
            );
        }
        if wants("hash_lookup") {
            let s = sample_whole(c::MAP_WARMUP, iters, || {
                for i in 0..nops {
                    let k = c::map_op_key(i);
                    let v = hash.get(&k).expect("BPF_MAP_LOOKUP_ELEM");
                    assert_eq!(v, Some(c::map_value(k, pass)));
                }
            });
            emit(
                "hash_lookup",
                &s,
                Some(nops as u64),
                json!({"api": "HashMap::<u32,u64>::get (allocation-free)", "map_entries": nkeys}),
            );
        }
        if wants("hash_lookup_batch") {
            let batch = c::MAP_BATCH as usize;
            let mut keys = vec![0u8; batch * 4];
            let mut vals = vec![0u8; batch * 8];
            let mut cursor = BatchCursor::new(&hmap);
            let s = sample_whole(c::MAP_DUMP_WARMUP, dump_iters, || {
                cursor.reset();
                let mut seen = 0u64;
                let mut sum = 0u64;
                while !cursor.done() {
                    let n = hmap
                        .lookup_batch(&mut cursor, &mut keys, &mut vals)
                        .expect("BPF_MAP_LOOKUP_BATCH");
                    for i in 0..n {
                        let k = u32::from_ne_bytes([
                            keys[i * 4],
                            keys[i * 4 + 1],
                            keys[i * 4 + 2],
                            keys[i * 4 + 3],
                        ]);
                        let mut v = [0u8; 8];
                        v.copy_from_slice(&vals[i * 8..i * 8 + 8]);
                        sum = sum.wrapping_add(u64::from_ne_bytes(v) ^ k as u64);
                    }
                    seen += n as u64;
                }
                assert_eq!(seen, nkeys as u64, "incomplete batch dump");
                std::hint::black_box(sum);
            });
            emit(
                "hash_lookup_batch",
                &s,
                Some(nkeys as u64),
                json!({"api": "Map::lookup_batch + BatchCursor", "batch": c::MAP_BATCH}),
            );
        }
        if wants("hash_iter") {
            let s = sample_whole(c::MAP_DUMP_WARMUP, dump_iters, || {
                let mut key = [0u8; 4];
                let mut next = [0u8; 4];
                let mut v = [0u8; 8];
                let mut have = false;
                let mut cnt = 0u64;
                while hmap
                    .next_key(if have { Some(&key[..]) } else { None }, &mut next)
                    .expect("BPF_MAP_GET_NEXT_KEY")
                {
                    key = next;
                    have = true;
                    assert!(
                        hmap.lookup(&key, &mut v).expect("BPF_MAP_LOOKUP_ELEM"),
                        "key vanished"
                    );
                    cnt += 1;
                }
                assert_eq!(cnt, nkeys as u64);
            });
            emit(
                "hash_iter",
                &s,
                Some(nkeys as u64),
                json!({"api": "Map::next_key + Map::lookup per entry (allocation-free)"}),
            );
        }
    }

    if want_array {
        let amap = create(MapType::ARRAY, c::ARRAY_MAP)?;
        prefill(&amap, nkeys)?;
        let array = Array::<u64, _>::new(&amap)?;
        let mut apass = 0u64;
        if wants("array_update") {
            let s = sample_whole(c::MAP_WARMUP, iters, || {
                apass += 1;
                for i in 0..nops {
                    let k = c::map_op_key(i);
                    array
                        .set(k, &c::map_value(k, apass), ANY)
                        .expect("BPF_MAP_UPDATE_ELEM");
                }
            });
            emit(
                "array_update",
                &s,
                Some(nops as u64),
                json!({"api": "Array::<u64>::set(BPF_ANY)"}),
            );
        }
        if wants("array_lookup") {
            let s = sample_whole(c::MAP_WARMUP, iters, || {
                for i in 0..nops {
                    let k = c::map_op_key(i);
                    assert_eq!(
                        array.get(k).expect("BPF_MAP_LOOKUP_ELEM"),
                        c::map_value(k, apass)
                    );
                }
            });
            emit(
                "array_lookup",
                &s,
                Some(nops as u64),
                json!({"api": "Array::<u64>::get (allocation-free)"}),
            );
        }
    }
    Ok(())
}
