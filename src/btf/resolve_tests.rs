//! Sizes and alignment: pointer size from the BTF's `long`, and linear work on hostile DAGs.

use crate::btf::{Btf, BtfBuilder, IntEncoding, NewMember, TypeId};
use crate::work::measure;

/// `levels` unions, each with two members of the union below it (a DAG, no cycle): a walk
/// that does not remember what it resolved visits 2^levels members.
fn union_dag(levels: usize) -> (Vec<u8>, TypeId) {
    let mut b = BtfBuilder::new();
    let mut below = b.add_int("int", 4, IntEncoding::SIGNED);
    for i in 0..levels {
        let name = format!("u{i}");
        let members = [NewMember::new("a", below, 0), NewMember::new("b", below, 0)];
        below = b.add_union(&name, 4, &members).expect("union");
    }
    (b.encode(), below)
}

#[test]
fn align_of_a_union_dag_is_linear() {
    let (small, top_small) = union_dag(30);
    let (big, top_big) = union_dag(60);
    let small = Btf::parse(&small).expect("parse");
    let big = Btf::parse(&big).expect("parse");
    let (a, steps_small) = measure(|| small.align_of(top_small));
    assert_eq!(a.expect("align"), 4);
    let (a, steps_big) = measure(|| big.align_of(top_big));
    assert_eq!(a.expect("align"), 4);
    // Linear: twice the levels, about twice the work (2^30 times more if exponential).
    assert!(
        steps_big <= 2 * steps_small + 8,
        "{steps_small} -> {steps_big} steps"
    );
    assert!(steps_big <= 4 * 61, "{steps_big} steps for 61 types");
    // size_of follows one chain: constant here.
    let (s, steps) = measure(|| big.size_of(top_big));
    assert_eq!(s.expect("size"), 4);
    assert!(steps <= 2, "{steps}");
}

/// A struct nested deeper than the resolve depth is a `Loop` error, not a stack overflow.
#[test]
fn align_of_too_deep_is_an_error() {
    let (bytes, top) = union_dag(200);
    let btf = Btf::parse(&bytes).expect("parse");
    assert!(matches!(
        btf.align_of(top),
        Err(crate::btf::BtfError::Loop { .. })
    ));
}

/// A 32-bit target: `long` of 4 bytes makes pointers 4 bytes for size and alignment.
fn with_long(size: u32, name: &str) -> (Vec<u8>, TypeId, TypeId) {
    let mut b = BtfBuilder::new();
    let long = b.add_int(name, size, IntEncoding::SIGNED);
    let void_ptr = b.add_ptr(0);
    let arr = b.add_array(void_ptr, long, 3);
    let s = b
        .add_struct(
            "s",
            3 * size,
            &[
                NewMember::new("a", long, 0),
                NewMember::new("p", void_ptr, 8 * size),
                NewMember::new("b", long, 16 * size),
            ],
        )
        .expect("s");
    let _ = arr;
    (b.encode(), void_ptr, s)
}

#[test]
fn pointer_size_comes_from_long() {
    for (size, name) in [
        (4, "long int"),
        (8, "long"),
        (4, "unsigned long"),
        (4, "long unsigned int"),
    ] {
        let (bytes, ptr, s) = with_long(size, name);
        let btf = Btf::parse(&bytes).expect("parse");
        assert_eq!(btf.pointer_size(), size, "{name}");
        assert_eq!(btf.size_of(ptr).expect("ptr"), size);
        assert_eq!(btf.size_of(ptr + 1).expect("array"), 3 * size);
        assert_eq!(btf.align_of(ptr).expect("ptr"), size);
        assert_eq!(btf.size_of(s).expect("s"), 3 * size);
        assert_eq!(btf.align_of(s).expect("s"), size);
    }
    // No `long`: BPF's 8 bytes. A `long` of another size is ignored, as libbpf does.
    let mut b = BtfBuilder::new();
    b.add_int("long", 2, IntEncoding::SIGNED);
    let p = b.add_ptr(0);
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).expect("parse");
    assert_eq!(btf.pointer_size(), 8);
    assert_eq!(btf.size_of(p).expect("ptr"), 8);
    // An 8-byte int aligns to 4 on a 32-bit target.
    let mut b = BtfBuilder::new();
    b.add_int("long", 4, IntEncoding::SIGNED);
    let ll = b.add_int("long long", 8, IntEncoding::SIGNED);
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).expect("parse");
    assert_eq!(btf.align_of(ll).expect("long long"), 4);
}

/// Split BTF without its own `long` takes the base's.
#[test]
fn split_btf_takes_the_base_pointer_size() {
    let (bytes, _, _) = with_long(4, "long");
    let base = std::sync::Arc::new(Btf::parse(&bytes).expect("base"));
    let mut b = BtfBuilder::new_split(&base);
    let p = b.add_ptr(0);
    let split = b.encode();
    let btf = Btf::parse_split(&split, base).expect("split");
    assert_eq!(btf.size_of(p).expect("ptr"), 4);
}
