//! The typed single-element paths (`Array::get/set`, `HashMap::get/insert`) for values of
//! every buffer size they use (up to 8, 16 and 64 bytes on the stack, larger on the heap),
//! and the errors those paths give for a wrong index or a key on a key-less map.

mod common;

use rawbpf::Error;
use rawbpf::map::{ANY, Array, HashMap, Map, MapOptions, MapType};

fn name(p: &str) -> String {
    common::unique_name(p)
}

fn roundtrip_array<V: rawbpf::map::Pod + PartialEq + std::fmt::Debug + Default>(
    make: impl Fn(u32) -> V,
) {
    let a = Array::<V>::create(&name("arr"), 5).expect("create array");
    for i in 0..5 {
        assert_eq!(a.get(i).unwrap(), V::default(), "index {i} starts zeroed");
    }
    for i in 0..5 {
        a.set(i, &make(i), ANY).unwrap();
    }
    for i in 0..5 {
        assert_eq!(a.get(i).unwrap(), make(i), "index {i}");
    }
    // Past the end: the same typed error from get and set, not a panic or a bare errno.
    for e in [a.get(5).unwrap_err(), a.set(5, &make(5), ANY).unwrap_err()] {
        match &e {
            Error::InvalidArgument(m) => assert!(m.contains("index 5 out of bounds"), "{m}"),
            other => panic!("index 5: {other:?}"),
        }
    }
    assert!(a.get(u32::MAX).is_err());
}

fn roundtrip_hash<K, V>(key: impl Fn(u32) -> K, val: impl Fn(u32) -> V)
where
    K: rawbpf::map::Pod,
    V: rawbpf::map::Pod + PartialEq + std::fmt::Debug,
{
    let h = HashMap::<K, V>::create(&name("hash"), 64).expect("create hash");
    for i in 0..20 {
        h.insert(&key(i), &val(i), ANY).unwrap();
    }
    for i in 0..20 {
        assert_eq!(h.get(&key(i)).unwrap(), Some(val(i)), "key {i}");
    }
    assert_eq!(h.get(&key(1000)).unwrap(), None);
    assert!(h.remove(&key(3)).unwrap());
    assert_eq!(h.get(&key(3)).unwrap(), None);
}

#[test]
fn typed_values_of_every_buffer_size() {
    if !common::privileged() {
        return;
    }
    roundtrip_array(|i| i as u8 ^ 0x5a);
    roundtrip_array(|i| u64::from(i) * 0x0101_0101_0101 + 7);
    roundtrip_array(|i| [u32::from(i == 2) + i * 3; 4]); // 16 bytes
    roundtrip_array(|i| [u64::from(i) << 40 | 9; 8]); // 64 bytes
    roundtrip_array(|i| [u64::from(i ^ 0xdead_beef); 32]); // 256 bytes: the heap
    roundtrip_hash(|i| i, |i| u64::from(i) * 11);
    roundtrip_hash(|i| [i, !i, i * 7], |i| [u16::try_from(i).unwrap(); 30]);
    roundtrip_hash(|i| [u64::from(i); 9], |i| [u64::from(i) + 1; 12]);
}

#[test]
fn keys_on_keyless_maps_and_wrong_key_sizes_are_named() {
    if !common::privileged() {
        return;
    }
    let q = Map::create(&MapOptions::new(MapType::QUEUE, 0, 8, 4).name(&name("q"))).unwrap();
    q.update(&[], &5u64.to_ne_bytes(), ANY).unwrap();
    let mut v = [0u8; 8];
    let e = q.lookup(&[1, 2, 3, 4], &mut v).unwrap_err();
    assert!(e.to_string().contains("has no keys"), "{e}");
    assert!(q.lookup(&[], &mut v).unwrap(), "peek");
    assert_eq!(u64::from_ne_bytes(v), 5);
    let h = Map::create(&MapOptions::new(MapType::HASH, 4, 8, 4).name(&name("h"))).unwrap();
    let e = h.lookup(&[1, 2], &mut v).unwrap_err();
    assert!(e.to_string().contains("key of 2 bytes"), "{e}");
    let e = h.lookup(&[], &mut v).unwrap_err();
    assert!(e.to_string().contains("key of 0 bytes"), "{e}");
    let e = h.lookup(&[0; 4], &mut [0u8; 7]).unwrap_err();
    assert!(e.to_string().contains("value buffer of 7 bytes"), "{e}");
}
