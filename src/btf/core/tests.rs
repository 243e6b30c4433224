//! Crafted BTF that would make the comparisons explode: they must end, quickly, with an error
//! or an answer.

use super::{CoreError, Relocator};
use crate::btf::CoreRelo;
use crate::btf::{Btf, BtfBuilder, CoreReloKind, NewMember};

/// A struct `s` of 64 members `m`, each of type `s` itself; a func proto `p` whose 64
/// parameters are pointers to `p`; a struct `a` whose 64 anonymous members are `a`.
/// Returns the BTF and the string offsets of `"0"` and `"0:0"`.
fn explosive() -> (Vec<u8>, u32, u32, [u32; 3]) {
    let mut b = BtfBuilder::new();
    let zero = b.add_string("0");
    let zero_zero = b.add_string("0:0");
    let s = b.next_id();
    let members: Vec<NewMember<'_>> = (0..64).map(|_| NewMember::new("m", s, 0)).collect();
    assert_eq!(b.add_struct("s", 8, &members).expect("s"), s);
    let p = b.next_id();
    let ptr = p + 1;
    let params: Vec<(&str, u32)> = (0..64).map(|_| ("x", ptr)).collect();
    assert_eq!(b.add_func_proto(ptr, &params).expect("p"), p);
    assert_eq!(b.add_ptr(p), ptr);
    let td = b.add_typedef("p", ptr);
    let a = b.next_id();
    let anon: Vec<NewMember<'_>> = (0..64).map(|_| NewMember::new("", a, 0)).collect();
    assert_eq!(b.add_struct("a", 8, &anon).expect("a"), a);
    (b.encode(), zero, zero_zero, [s, td, a])
}

#[test]
fn self_similar_types_end_with_an_error() {
    let (bytes, zero, zero_zero, [s, td, a]) = explosive();
    let btf = Btf::parse(&bytes).expect("parse");
    let mut r = Relocator::new(&btf, &btf);
    let relo = |type_id, access_str_off, kind| CoreRelo {
        insn: 0,
        type_id,
        access_str_off,
        kind,
    };
    let start = std::time::Instant::now();
    for (i, rel) in [
        relo(s, zero, CoreReloKind::TypeMatches),
        relo(td, zero, CoreReloKind::TypeExists),
        relo(td, zero, CoreReloKind::TypeMatches),
        relo(a, zero_zero, CoreReloKind::FieldByteOffset),
        relo(s, zero_zero, CoreReloKind::FieldByteOffset),
    ]
    .iter()
    .enumerate()
    {
        match r.compute(i, rel) {
            Ok(_) | Err(CoreError::Invalid { .. }) => {}
            Err(e) => panic!("{i}: {e}"),
        }
    }
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
}

/// Offsets that would overflow 64 bits (a huge first index into a 4 GiB struct, array steps
/// on top) are an invalid relocation, not an arithmetic overflow.
#[test]
fn huge_offsets_are_invalid() {
    let mut b = BtfBuilder::new();
    let huge_first = b.add_string("2147483647");
    let deep = b.add_string("0:0:2147483647");
    let u8_ = b.add_int("u8", 1, crate::btf::IntEncoding::empty());
    let big = b.add_array(u8_, u8_, u32::MAX);
    let arr = b.add_array(big, u8_, u32::MAX);
    let s = b
        .add_struct("s", u32::MAX, &[NewMember::new("a", arr, 0)])
        .expect("s");
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).expect("parse");
    let mut r = Relocator::new(&btf, &btf);
    for (i, access_str_off) in [huge_first, deep].into_iter().enumerate() {
        let relo = CoreRelo {
            insn: 0,
            type_id: s,
            access_str_off,
            kind: CoreReloKind::FieldByteOffset,
        };
        match r.compute(i, &relo) {
            Err(CoreError::Invalid { .. }) => {}
            other => panic!("{i}: {other:?}"),
        }
    }
}

/// libbpf's candidate narrowing: local `struct s { int a; int b; }` against a target with
/// `s___1 { a }` and `s___2 { b }`. Once `a` matched only `s___1`, the candidates of `s` are
/// that one: `b` is then poisoned. A fresh relocator (no narrowing yet) matches `b` to `s___2`.
#[test]
fn candidates_are_narrowed_per_root_type() {
    let mut t = BtfBuilder::new();
    let int = t.add_int("int", 4, crate::btf::IntEncoding::SIGNED);
    t.add_struct("s___1", 8, &[NewMember::new("a", int, 32)])
        .expect("s___1");
    t.add_struct("s___2", 4, &[NewMember::new("b", int, 0)])
        .expect("s___2");
    let target_bytes = t.encode();
    let target = Btf::parse(&target_bytes).expect("target");

    let mut l = BtfBuilder::new();
    let int = l.add_int("int", 4, crate::btf::IntEncoding::SIGNED);
    let s = l
        .add_struct(
            "s",
            8,
            &[NewMember::new("a", int, 0), NewMember::new("b", int, 32)],
        )
        .expect("s");
    let a = l.add_string("0:0");
    let b = l.add_string("0:1");
    let local_bytes = l.encode();
    let local = Btf::parse(&local_bytes).expect("local");
    let relo = |access_str_off| CoreRelo {
        insn: 0,
        type_id: s,
        access_str_off,
        kind: CoreReloKind::FieldByteOffset,
    };

    let mut r = Relocator::new(&local, &target);
    let fa = r.compute(0, &relo(a)).expect("a");
    assert_eq!((fa.poison, fa.target_value), (false, 4));
    let fb = r.compute(1, &relo(b)).expect("b");
    assert!(fb.poison && fb.target_type.is_none(), "{fb:?}");

    let mut fresh = Relocator::new(&local, &target);
    let fb = fresh.compute(0, &relo(b)).expect("b alone");
    assert_eq!((fb.poison, fb.target_value), (false, 0));
    assert!(fb.to_string().contains("s___2"), "{fb}");
}
