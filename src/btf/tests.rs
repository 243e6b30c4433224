//! Unit tests of parsing, views, lookup, resolution and bad input, on hand-built BTF.

use super::*;

fn sample() -> (Vec<u8>, [TypeId; 8]) {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let uint = b.add_int("unsigned int", 4, IntEncoding::empty());
    let ptr = b.add_ptr(int);
    let arr = b.add_array(int, uint, 4);
    let st = b
        .add_struct(
            "foo",
            24,
            &[
                NewMember::new("a", int, 0),
                NewMember::bitfield("b", uint, 32, 3),
                NewMember::bitfield("c", uint, 35, 5),
                NewMember::new("p", ptr, 64),
                NewMember::new("arr", arr, 128),
            ],
        )
        .unwrap();
    let en = b
        .add_enum("color", 4, true, &[("RED", -1), ("GREEN", 2)])
        .unwrap();
    let cst = b.add_const(st);
    let td = b.add_typedef("foo_t", cst);
    (b.encode(), [int, uint, ptr, arr, st, en, cst, td])
}

#[test]
fn parse_and_view() {
    let (bytes, [int, _uint, ptr, arr, st, en, cst, td]) = sample();
    let btf = Btf::parse(&bytes).unwrap();
    assert_eq!(btf.len(), 8);
    assert_eq!(btf.last_id(), 8);
    assert_eq!(btf.type_by_id(0).unwrap().kind(), Kind::Void);
    let t = btf.type_by_id(int).unwrap();
    assert_eq!(t.name().unwrap(), "int");
    let i = t.as_int().unwrap();
    assert!(i.is_signed());
    assert_eq!((i.byte_size(), i.bits(), i.bit_offset()), (4, 32, 0));
    assert_eq!(btf.type_by_id(ptr).unwrap().ref_type(), Some(int));
    let a = btf.type_by_id(arr).unwrap().as_array().unwrap();
    assert_eq!((a.elem_type(), a.nelems()), (int, 4));
    let s = btf.type_by_id(st).unwrap();
    assert_eq!(s.kind(), Kind::Struct);
    assert!(s.kind_flag());
    let c = s.as_composite().unwrap();
    let ms: Vec<_> = c
        .members()
        .map(|m| (m.name().unwrap(), m.bit_offset(), m.bitfield_size()))
        .collect();
    assert_eq!(
        ms,
        [
            ("a", 0, 0),
            ("b", 32, 3),
            ("c", 35, 5),
            ("p", 64, 0),
            ("arr", 128, 0)
        ]
    );
    assert_eq!(c.member("p").unwrap().type_id(), ptr);
    assert_eq!(c.member_at(4).unwrap().name().unwrap(), "arr");
    assert!(c.member_at(5).is_none());
    let e = btf.type_by_id(en).unwrap().as_enum().unwrap();
    assert!(e.is_signed());
    let vs: Vec<_> = e
        .values()
        .map(|v| (v.name().unwrap(), v.value_i64()))
        .collect();
    assert_eq!(vs, [("RED", -1), ("GREEN", 2)]);
    assert_eq!(e.value_at(1).unwrap().value_i64(), 2);
    assert!(e.value_at(2).is_none());
    assert_eq!(btf.skip_mods(cst).unwrap().id(), st);
    assert_eq!(btf.skip_mods_and_typedefs(td).unwrap().id(), st);
    assert_eq!(btf.size_of(td).unwrap(), 24);
    assert_eq!(btf.size_of(arr).unwrap(), 16);
    assert_eq!(btf.align_of(st).unwrap(), 8);
    assert!(matches!(
        btf.size_of(0),
        Err(BtfError::BadSize { id: 0, .. })
    ));
    let ids: Vec<_> = btf.types().map(|t| t.id()).collect();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());
}

#[test]
fn lookup_scan_then_index() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let mut structs = Vec::new();
    for i in 0..100 {
        structs.push(
            b.add_struct(&format!("s{i}"), 4, &[NewMember::new("x", int, 0)])
                .unwrap(),
        );
    }
    let dup = b.add_struct("s7", 8, &[]).unwrap();
    let fl = b.add_struct("s7___flavor", 8, &[]).unwrap();
    b.add_typedef("s7", int);
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    // First lookup: linear scan; later ones: the index. Same answers.
    for _ in 0..3 {
        let all: Vec<_> = btf.find_all("s7", Kind::Struct).map(|t| t.id()).collect();
        assert_eq!(all, [structs[7], dup]);
        assert_eq!(btf.id_by_name_kind("s7___flavor", Kind::Struct), Some(fl));
        assert_eq!(btf.id_by_name_kind("s42", Kind::Struct), Some(structs[42]));
        assert_eq!(btf.id_by_name_kind("s42", Kind::Union), None);
        assert_eq!(btf.id_by_name_kind("nope", Kind::Struct), None);
        assert_eq!(btf.find_all_any_kind("s7").count(), 3);
        assert_eq!(btf.find_all("", Kind::Struct).count(), 0);
        assert_eq!(btf.find_all("", Kind::Int).count(), 0);
        let ess: Vec<_> = btf
            .find_by_essential_name("s7___other", Some(Kind::Struct))
            .map(|t| t.id())
            .collect();
        assert_eq!(ess, [structs[7], dup, fl]);
    }
}

#[test]
fn essential_names() {
    assert_eq!(essential_name("task_struct___v2"), "task_struct");
    assert_eq!(essential_name("task_struct"), "task_struct");
    assert_eq!(essential_name("a___b___c"), "a___b");
    assert_eq!(essential_name("____x"), "____x");
    assert_eq!(essential_name("x____y"), "x____y");
    assert_eq!(essential_name("s___"), "s___");
}

#[test]
fn split_btf() {
    let (base_bytes, [int, ..]) = sample();
    let base = std::sync::Arc::new(Btf::parse(&base_bytes).unwrap());
    let mut b = BtfBuilder::new_split(&base);
    let p = b.add_ptr(int);
    let s = b
        .add_struct("modstruct", 8, &[NewMember::new("int", p, 0)])
        .unwrap();
    assert_eq!(p, 9);
    let split_bytes = b.encode();
    let split = Btf::parse_split(&split_bytes, base.clone()).unwrap();
    assert_eq!(split.first_id(), 9);
    assert_eq!(split.last_id(), 10);
    let t = split.type_by_id(s).unwrap();
    assert_eq!(t.name().unwrap(), "modstruct");
    // The member name "int" is deduplicated against the base's strings? No: the builder
    // dedups only its own strings; both resolve.
    let m = t.as_composite().unwrap().members().next().unwrap();
    assert_eq!(m.name().unwrap(), "int");
    assert_eq!(split.type_by_id(int).unwrap().name().unwrap(), "int");
    assert_eq!(split.skip_mods(p).unwrap().ref_type(), Some(int));
    assert_eq!(split.id_by_name_kind("foo", Kind::Struct), Some(5));
    assert_eq!(split.id_by_name_kind("modstruct", Kind::Struct), Some(s));
    assert_eq!(split.all_types().count(), 10);
    assert!(matches!(
        split.type_by_id(11),
        Err(BtfError::TypeIdOutOfRange {
            id: 11,
            last: 10,
            ..
        })
    ));
    // A base name offset used from the split blob.
    let mut b2 = BtfBuilder::new_split(&base);
    b2.add_raw(
        base.type_by_id(int).unwrap().name_off(),
        (Kind::Typedef as u32) << 24,
        int,
        &[],
    );
    let bytes2 = b2.encode();
    let split2 = std::sync::Arc::new(Btf::parse_split(&bytes2, base).unwrap());
    assert_eq!(split2.type_by_id(9).unwrap().name().unwrap(), "int");
    // Split over split: lookups search the whole chain, base first.
    let mut b3 = BtfBuilder::new_split(&split2);
    let top = b3.add_typedef("int", int);
    let bytes3 = b3.encode();
    let split3 = Btf::parse_split(&bytes3, split2).unwrap();
    assert_eq!(split3.first_id(), 10);
    for _ in 0..2 {
        let all: Vec<_> = split3.find_all_any_kind("int").map(|t| t.id()).collect();
        assert_eq!(all, [int, 9, top]);
    }
}

#[test]
fn every_kind_views() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let fwd = b.add_fwd("u", true);
    let vol = b.add_volatile(int);
    let res = b.add_restrict(vol);
    let proto = b.add_func_proto(int, &[("x", int), ("", 0)]).unwrap();
    let func = b.add_func("f", proto, FuncLinkage::Global);
    let var = b.add_var("v", int, VarLinkage::GlobalAllocated);
    let ds = b
        .add_datasec(
            ".data",
            4,
            &[VarSecinfo {
                type_id: var,
                offset: 0,
                size: 4,
            }],
        )
        .unwrap();
    let fl = b.add_float("double", 8);
    let dt = b.add_decl_tag("tag", func, 0, false);
    let da = b.add_decl_tag("noinline", func, -1, true);
    let tt = b.add_type_tag("user", int, false);
    let ta = b.add_type_tag("address_space(1)", int, true);
    let e64 = b.add_enum64("big", 8, false, &[("X", u64::MAX)]).unwrap();
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    let k = |id| btf.type_by_id(id).unwrap();
    assert!(matches!(k(fwd).view(), TypeView::Fwd(f) if f.is_union()));
    assert!(matches!(k(res).view(), TypeView::Restrict(r) if r.target() == vol));
    let TypeView::FuncProto(p) = k(proto).view() else {
        panic!()
    };
    assert!(p.is_variadic());
    assert_eq!(p.params().next().unwrap().name().unwrap(), "x");
    let TypeView::Func(f) = k(func).view() else {
        panic!()
    };
    assert_eq!((f.proto(), f.linkage()), (proto, FuncLinkage::Global));
    let TypeView::Var(v) = k(var).view() else {
        panic!()
    };
    assert_eq!(v.linkage(), VarLinkage::GlobalAllocated);
    let TypeView::Datasec(d) = k(ds).view() else {
        panic!()
    };
    assert_eq!(
        d.vars().collect::<Vec<_>>(),
        [VarSecinfo {
            type_id: var,
            offset: 0,
            size: 4
        }]
    );
    assert!(matches!(k(fl).view(), TypeView::Float(f) if f.byte_size() == 8));
    assert!(
        matches!(k(dt).view(), TypeView::DeclTag(d) if d.component_idx() == 0 && !d.is_attribute())
    );
    assert!(
        matches!(k(da).view(), TypeView::DeclTag(d) if d.component_idx() == -1 && d.is_attribute())
    );
    assert!(matches!(k(tt).view(), TypeView::TypeTag(t) if !t.is_attribute() && t.target() == int));
    assert!(matches!(k(ta).view(), TypeView::TypeTag(t) if t.is_attribute()));
    assert_eq!(btf.skip_mods(ta).unwrap().id(), int);
    let TypeView::Enum64(e) = k(e64).view() else {
        panic!()
    };
    assert_eq!(e.values().next().unwrap().value_u64(), u64::MAX);
    assert_eq!(btf.size_of(var).unwrap(), 4);
    assert_eq!(btf.size_of(res).unwrap(), 4);
}

#[test]
fn extend_existing() {
    let (bytes, [int, ..]) = sample();
    let btf = Btf::parse(&bytes).unwrap();
    let mut b = BtfBuilder::extend(&btf);
    assert_eq!(b.add_string("int"), btf.type_by_id(int).unwrap().name_off());
    let p = b.add_ptr(int);
    assert_eq!(p, 9);
    let out = b.encode();
    let btf2 = Btf::parse(&out).unwrap();
    assert_eq!(btf2.len(), 9);
    assert_eq!(btf2.type_by_id(5).unwrap().name().unwrap(), "foo");
}

// ---- bad input ----

fn header(type_len: u32, str_len: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    v.extend_from_slice(&[1, 0]);
    for w in [24u32, 0, type_len, type_len, str_len] {
        v.extend_from_slice(&w.to_ne_bytes());
    }
    v
}

fn words(v: &mut Vec<u8>, ws: &[u32]) {
    for w in ws {
        v.extend_from_slice(&w.to_ne_bytes());
    }
}

#[test]
fn truncated_header() {
    let (bytes, _) = sample();
    for n in [0, 1, 8, 23] {
        let e = Btf::parse(&bytes[..n]).unwrap_err();
        assert!(
            matches!(
                e,
                BtfError::Truncated {
                    offset: 0,
                    need: 24,
                    ..
                }
            ),
            "{e}"
        );
    }
    // Sections past the end.
    let e = Btf::parse(&bytes[..bytes.len() - 1]).unwrap_err();
    assert!(
        matches!(
            e,
            BtfError::Truncated {
                what: "string section",
                ..
            }
        ),
        "{e}"
    );
    let mut bad = bytes.clone();
    bad[0] = 0;
    assert!(matches!(Btf::parse(&bad), Err(BtfError::BadMagic { .. })));
    let mut bad = bytes.clone();
    bad[2] = 2;
    assert!(matches!(
        Btf::parse(&bad),
        Err(BtfError::BadHeader { offset: 2, .. })
    ));
}

#[test]
fn truncated_type() {
    // A STRUCT claiming 2 members but holding only one.
    let mut v = header(12 + 12, 4);
    words(&mut v, &[1, (4 << 24) | 2, 8, 1, 0, 0]);
    v.extend_from_slice(b"\0ab\0");
    let e = Btf::parse(&v).unwrap_err();
    assert!(
        matches!(
            e,
            BtfError::Truncated {
                offset: 24,
                what: "STRUCT",
                need: 36,
                have: 24
            }
        ),
        "{e}"
    );
    // Half a btf_type.
    let mut v = header(6, 1);
    v.extend_from_slice(&[0; 6]);
    v.push(0);
    assert!(matches!(
        Btf::parse(&v),
        Err(BtfError::Truncated {
            what: "btf_type",
            ..
        })
    ));
}

#[test]
fn string_offset_out_of_range() {
    let mut v = header(16, 4);
    words(&mut v, &[100, 1 << 24, 4, 32]);
    v.extend_from_slice(b"\0ab\0");
    let e = Btf::parse(&v).unwrap_err();
    assert!(
        matches!(
            e,
            BtfError::StringOutOfRange {
                str_off: 100,
                len: 4,
                id: Some(1)
            }
        ),
        "{e}"
    );
    // A member name out of range is found when read.
    let mut v = header(24, 4);
    words(&mut v, &[1, (4 << 24) | 1, 4, 99, 0, 0]);
    v.extend_from_slice(b"\0ab\0");
    let btf = Btf::parse(&v).unwrap();
    let m = btf
        .type_by_id(1)
        .unwrap()
        .as_composite()
        .unwrap()
        .members()
        .next()
        .unwrap();
    assert!(matches!(
        m.name(),
        Err(BtfError::StringOutOfRange {
            str_off: 99,
            id: Some(1),
            ..
        })
    ));
    // Unterminated string section.
    let mut v = header(0, 3);
    v.extend_from_slice(b"\0ab");
    assert!(matches!(Btf::parse(&v), Err(BtfError::BadHeader { .. })));
}

#[test]
fn type_id_out_of_range_and_unknown_kind() {
    let mut v = header(12, 1);
    words(&mut v, &[0, 2 << 24, 7]); // PTR to 7
    v.push(0);
    let btf = Btf::parse(&v).unwrap();
    assert!(matches!(
        btf.type_by_id(2),
        Err(BtfError::TypeIdOutOfRange {
            id: 2,
            last: 1,
            from: None
        })
    ));
    let e = btf.skip_mods_and_typedefs(1).unwrap().ref_type().unwrap();
    assert_eq!(e, 7);
    assert!(matches!(btf.size_of(1), Ok(8)));
    let mut v = header(12, 1);
    words(&mut v, &[0, 8 << 24, 7]); // TYPEDEF of 7
    v.push(0);
    let btf = Btf::parse(&v).unwrap();
    assert!(matches!(
        btf.size_of(1),
        Err(BtfError::TypeIdOutOfRange {
            id: 7,
            from: Some(1),
            ..
        })
    ));
    let mut v = header(12, 1);
    words(&mut v, &[0, 25 << 24, 0]);
    v.push(0);
    assert!(matches!(
        Btf::parse(&v),
        Err(BtfError::UnknownKind {
            id: 1,
            offset: 24,
            kind: 25
        })
    ));
}

#[test]
fn loop_in_type_graph() {
    let mut b = BtfBuilder::new();
    b.add_raw(0, (Kind::Const as u32) << 24, 2, &[]);
    b.add_raw(0, (Kind::Volatile as u32) << 24, 1, &[]);
    b.add_raw(0, (Kind::Array as u32) << 24, 0, &[3, 3, 2]);
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    assert!(matches!(btf.skip_mods(1), Err(BtfError::Loop { .. })));
    assert!(matches!(btf.size_of(1), Err(BtfError::Loop { .. })));
    assert!(matches!(
        btf.size_of(3),
        Err(BtfError::Loop { .. }) | Err(BtfError::BadSize { .. })
    ));
    assert!(matches!(btf.align_of(3), Err(BtfError::Loop { .. })));
}

#[test]
fn impossible_size() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let a = b.add_array(int, int, 0x8000_0000);
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).unwrap();
    assert!(matches!(btf.size_of(a), Err(BtfError::BadSize { id, .. }) if id == a));
}

#[test]
fn only_handle_rs_talks_to_the_kernel() {
    let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/btf")];
    let mut files = Vec::new();
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name == "handle.rs" || name == "tests.rs" {
            continue;
        }
        let mut text = std::fs::read_to_string(&p).unwrap();
        if name == "kernel.rs" {
            // kernel.rs maps /sys/kernel/btf files through sys's safe mmap, nothing else.
            text = text.replace("crate::sys::mmap::map_sysfs_file", "");
        }
        assert!(
            !text.contains("crate::sys"),
            "{name} uses crate::sys: only handle.rs may (and kernel.rs for map_sysfs_file)"
        );
    }
}

#[test]
fn builder_fixups() {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let v = b.add_var("x", int, VarLinkage::GlobalAllocated);
    let ds = b
        .add_datasec(
            ".data",
            0,
            &[VarSecinfo {
                type_id: v,
                offset: 0,
                size: 4,
            }],
        )
        .unwrap();
    let proto = b.add_func_proto(int, &[]).unwrap();
    let f = b.add_func("f", proto, FuncLinkage::Global);
    let btf = Btf::parse_owned(b.encode()).unwrap();
    let mut b = BtfBuilder::extend(&btf);
    b.set_datasec(
        ds,
        16,
        &[VarSecinfo {
            type_id: v,
            offset: 8,
            size: 4,
        }],
    )
    .unwrap();
    b.set_func_linkage(f, FuncLinkage::Static).unwrap();
    b.set_var_linkage(v, VarLinkage::Static).unwrap();
    assert!(matches!(
        b.set_datasec(f, 1, &[]),
        Err(BtfError::WrongKind { .. })
    ));
    assert!(matches!(
        b.set_datasec(ds, 1, &[]),
        Err(BtfError::Encode { .. })
    ));
    assert!(matches!(
        b.set_var_linkage(99, VarLinkage::Static),
        Err(BtfError::TypeIdOutOfRange { .. })
    ));
    let out = Btf::parse_owned(b.encode()).unwrap();
    let d = out.type_by_id(ds).unwrap().as_datasec().unwrap();
    assert_eq!(d.byte_size(), 16);
    assert_eq!(d.vars().next().unwrap().offset, 8);
    assert_eq!(
        out.type_by_id(f).unwrap().as_func().unwrap().linkage(),
        FuncLinkage::Static
    );
    assert_eq!(
        out.type_by_id(v).unwrap().as_var().unwrap().linkage(),
        VarLinkage::Static
    );
}

#[test]
fn btf_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Btf<'static>>();
    check::<Btf<'_>>();
}
