//! Formatting on hand-built types, checked against what bpftool's JSON dumper prints.

use super::*;
use crate::btf::{BtfBuilder, IntEncoding, NewMember, VarLinkage, VarSecinfo};

struct Fixture {
    bytes: Vec<u8>,
    value: TypeId,
}

fn fixture() -> Fixture {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let u32_ = b.add_int("unsigned int", 4, IntEncoding::empty());
    let chr = b.add_int("char", 1, IntEncoding::SIGNED);
    let u8_ = b.add_int("unsigned char", 1, IntEncoding::empty());
    let boolean = b.add_int("_Bool", 1, IntEncoding::BOOL);
    let u128_ = b.add_int("unsigned __int128", 16, IntEncoding::empty());
    let cchr = b.add_const(chr);
    let name = b.add_array(cchr, int, 8);
    let raw = b.add_array(u8_, int, 3);
    let color = b
        .add_enum("color", 4, false, &[("RED", 0), ("GREEN", 1)])
        .unwrap();
    let ptr = b.add_ptr(int);
    // A legacy bitfield INT no member uses: it only takes an id (the others keep theirs).
    b.add_int_bits("u3", 4, IntEncoding::empty(), 0, 3);
    let anon = b
        .add_union(
            "",
            4,
            &[NewMember::new("x", u32_, 0), NewMember::new("y", int, 0)],
        )
        .unwrap();
    let td = b.add_typedef("s32", int);
    let value = b
        .add_struct(
            "val",
            64,
            &[
                NewMember::new("i", td, 0),
                NewMember::new("name", name, 32),
                NewMember::new("raw", raw, 96),
                NewMember::bitfield("flags", u32_, 128, 3),
                NewMember::bitfield("mode", u32_, 131, 5),
                NewMember::new("c1", color, 160),
                NewMember::new("c2", color, 192),
                NewMember::new("", anon, 224),
                NewMember::new("p", ptr, 256),
                NewMember::new("ok", boolean, 320),
                NewMember::new("big", u128_, 384),
            ],
        )
        .unwrap();
    Fixture {
        bytes: b.encode(),
        value,
    }
}

fn value_bytes() -> Vec<u8> {
    let mut v = vec![0u8; 64];
    v[0..4].copy_from_slice(&(-5i32).to_ne_bytes());
    v[4..9].copy_from_slice(b"eth0\0");
    v[9..12].copy_from_slice(&[0xff; 3]); // garbage after the NUL: still a string
    v[12..15].copy_from_slice(&[1, 2, 3]);
    v[16] = 0b1010_1101; // flags = 0b101, mode = 0b10101
    v[20..24].copy_from_slice(&1u32.to_ne_bytes());
    v[24..28].copy_from_slice(&7u32.to_ne_bytes());
    v[28..32].copy_from_slice(&0xffff_fffeu32.to_ne_bytes());
    v[32..40].copy_from_slice(&0xdead_beefu64.to_ne_bytes());
    v[40] = 1;
    v[48..64].copy_from_slice(&((1u128 << 64) | 0x10).to_ne_bytes());
    v
}

#[test]
fn struct_like_bpftool() {
    let f = fixture();
    let btf = Btf::parse(&f.bytes).unwrap();
    let s = format_value(&btf, f.value, &value_bytes()).unwrap();
    assert_eq!(
        s,
        concat!(
            r#"{"i":-5,"name":"eth0","raw":[1,2,3],"flags":"0x5","mode":"0x15","c1":"GREEN","c2":7,"#,
            r#""":{"x":4294967294,"y":-2},"p":3735928559,"ok":true,"big":"0x10000000000000010"}"#
        )
    );
    // Valid JSON.
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["name"], "eth0");
}

#[test]
fn char_array_rules() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let chr = b.add_int("char", 1, IntEncoding::SIGNED);
    let arr = b.add_array(chr, int, 4);
    let td = b.add_typedef("char_t", chr);
    let arr_td = b.add_array(td, int, 2);
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    assert_eq!(format_value(&btf, arr, b"ab\0z").unwrap(), r#""ab""#);
    assert_eq!(format_value(&btf, arr, b"a\"\\\0").unwrap(), r#""a\"\\""#);
    // No NUL inside the array: a list of numbers.
    assert_eq!(format_value(&btf, arr, b"abcd").unwrap(), "[97,98,99,100]");
    // A non-printable byte before the NUL: a list.
    assert_eq!(format_value(&btf, arr, b"a\x01\0\0").unwrap(), "[97,1,0,0]");
    assert_eq!(
        format_value(&btf, arr, b"\xff\0\0\0").unwrap(),
        "[-1,0,0,0]"
    );
    // A typedef of char does not count.
    assert_eq!(format_value(&btf, arr_td, b"a\0").unwrap(), "[97,0]");
}

#[test]
fn legacy_int_bitfield_and_enum_signedness() {
    let mut b = BtfBuilder::new();
    let u3 = b.add_int_bits("u3", 4, IntEncoding::empty(), 0, 3);
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let st = b
        .add_struct(
            "s",
            4,
            &[
                NewMember::new("a", u3, 0),
                NewMember::new("b", u3, 3),
                NewMember::new("c", int, 0),
            ],
        )
        .unwrap();
    let e = b.add_enum("e", 4, true, &[("NEG", -1)]).unwrap();
    let e1 = b.add_enum("small", 1, false, &[("HI", 0xff)]).unwrap();
    let e64 = b.add_enum64("e64", 8, false, &[("BIG", 1 << 40)]).unwrap();
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    assert_eq!(
        format_value(&btf, st, &[0b0010_1110, 0, 0, 0]).unwrap(),
        r#"{"a":"0x6","b":"0x5","c":46}"#
    );
    assert_eq!(
        format_value(&btf, e, &(-1i32).to_ne_bytes()).unwrap(),
        r#""NEG""#
    );
    assert_eq!(format_value(&btf, e, &5i32.to_ne_bytes()).unwrap(), "5");
    // bpftool reads a 1-byte enum as signed: 0xff is -1, which does not equal 255.
    assert_eq!(format_value(&btf, e1, &[0xff]).unwrap(), "-1");
    assert_eq!(
        format_value(&btf, e64, &(1u64 << 40).to_ne_bytes()).unwrap(),
        r#""BIG""#
    );
    assert_eq!(
        format_value(&btf, e64, &u64::MAX.to_ne_bytes()).unwrap(),
        "-1"
    );
}

#[test]
fn var_datasec_percpu() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let u16_ = b.add_int("short unsigned int", 2, IntEncoding::empty());
    let v1 = b.add_var("a", int, VarLinkage::GlobalAllocated);
    let v2 = b.add_var("b", u16_, VarLinkage::Static);
    let ds = b
        .add_datasec(
            ".data",
            8,
            &[
                VarSecinfo {
                    type_id: v1,
                    offset: 0,
                    size: 4,
                },
                VarSecinfo {
                    type_id: v2,
                    offset: 4,
                    size: 2,
                },
            ],
        )
        .unwrap();
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    let mut data = vec![0u8; 8];
    data[0..4].copy_from_slice(&3i32.to_ne_bytes());
    data[4..6].copy_from_slice(&65535u16.to_ne_bytes());
    assert_eq!(
        format_value(&btf, ds, &data).unwrap(),
        r#"{".data":[{"a":3},{"b":65535}]}"#
    );
    // Two CPUs, 2-byte values in 8-byte slots.
    let mut pc = vec![0u8; 16];
    pc[0..2].copy_from_slice(&1u16.to_ne_bytes());
    pc[8..10].copy_from_slice(&2u16.to_ne_bytes());
    assert_eq!(
        format_percpu_value(&btf, u16_, &pc, 2).unwrap(),
        r#"[{"cpu":0,"value":1},{"cpu":1,"value":2}]"#
    );
    assert!(matches!(
        format_percpu_value(&btf, u16_, &pc[..9], 2),
        Err(BtfError::ValueTooShort { need: 16, .. })
    ));
}

#[test]
fn bad_values() {
    let f = fixture();
    let btf = Btf::parse(&f.bytes).unwrap();
    assert!(matches!(
        format_value(&btf, f.value, &[0; 10]),
        Err(BtfError::ValueTooShort {
            need: 64,
            len: 10,
            ..
        })
    ));
    assert!(matches!(
        format_value(&btf, 0, &[]),
        Err(BtfError::WrongKind { .. })
    ));
    assert!(matches!(
        format_value(&btf, 999, &[]),
        Err(BtfError::TypeIdOutOfRange { .. })
    ));
    // A struct that contains itself.
    let mut b = BtfBuilder::new();
    b.add_raw(0, (Kind::Struct as u32) << 24 | 1, 4, &[0, 1, 0]);
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    assert!(matches!(
        format_value(&btf, 1, &[0; 4]),
        Err(BtfError::Loop { .. })
    ));
}
