//! Pure parsing tests of the committed BPF objects (no root, no kernel): programs, maps,
//! variables, relocations, linking, and malformed input.

use rawbpf::insn::Insn;
use rawbpf::obj::{
    ExternKind, ExternValue, InitSlot, MapKind, ObjError, ObjectSpec, Pinning, RelocKind,
    apply_relocations, link_program,
};

const XDP_HELLO: &[u8] = include_bytes!("../examples/xdp_hello/xdp_hello.bpf.o");
const GLOBALS: &[u8] = include_bytes!("bpf/globals.bpf.o");
const SUBPROG: &[u8] = include_bytes!("bpf/subprog.bpf.o");
const MAPS: &[u8] = include_bytes!("bpf/maps.bpf.o");
const LEGACY: &[u8] = include_bytes!("bpf/legacy_maps.bpf.o");
const MULTI: &[u8] = include_bytes!("bpf/multi.bpf.o");
const EXTERNS: &[u8] = include_bytes!("bpf/externs.bpf.o");
const KSYM_TYPED: &[u8] = include_bytes!("bpf/ksym_typed.bpf.o");

const ALL: &[(&str, &[u8])] = &[
    ("xdp_hello", XDP_HELLO),
    ("globals", GLOBALS),
    ("subprog", SUBPROG),
    ("maps", MAPS),
    ("legacy_maps", LEGACY),
    ("multi", MULTI),
    ("externs", EXTERNS),
    ("ksym_typed", KSYM_TYPED),
];

fn spec(name: &str, bytes: &[u8]) -> ObjectSpec {
    ObjectSpec::parse_named(name, bytes).unwrap_or_else(|e| panic!("parse {name}: {e}"))
}

fn src_reg(i: &Insn) -> u8 {
    i.regs >> 4
}

const BPF_MAP_TYPE_HASH: u32 = 1;
const BPF_MAP_TYPE_ARRAY: u32 = 2;

#[test]
fn xdp_hello_programs_and_data() {
    let s = spec("xdp_hello", XDP_HELLO);
    assert_eq!(s.name, "xdp_hello");
    assert_eq!(s.license, "Dual MIT/GPL");
    assert_eq!(s.programs.len(), 1);
    let p = s.program("hello").expect("hello program");
    assert_eq!(p.section, "xdp");
    assert!(p.global);
    assert!((6..40).contains(&p.insns.len()), "{} insns", p.insns.len());
    assert_eq!(p.license, "Dual MIT/GPL");
    assert!(s.subprograms.is_empty());
    assert!(s.btf.as_ref().is_some_and(|b| b.len() > 24));
    assert!(s.btf_ext.is_some());

    let bss = s.data_map(".bss").expect(".bss map");
    assert_eq!(bss.name, "xdp_hell.bss");
    assert_eq!(
        (bss.map_type, bss.key_size, bss.value_size, bss.max_entries),
        (BPF_MAP_TYPE_ARRAY, 4, 4, 1)
    );
    assert_eq!(bss.flags, 0x400);
    assert!(!bss.freeze);
    assert_eq!(bss.data.as_deref(), Some(&[0u8; 4][..]));
    let counter = bss.variable("counter").expect("counter variable");
    assert_eq!((counter.offset, counter.size), (0, 4));

    let ro = s
        .data_map(".rodata")
        .expect(".rodata map (bpf_printk format)");
    assert_eq!(ro.name, "xdp_hell.rodata");
    assert_eq!(ro.flags, 0x480);
    assert!(ro.freeze);
    assert_eq!(ro.data.as_deref(), Some(&b"Hello World %d\0"[..]));

    // The same object under libbpf's "hello" name gives "hello.bss".
    let named = spec("hello", XDP_HELLO);
    assert!(named.map("hello.bss").is_some());
    assert!(named.map("hello.rodata").is_some());

    // Both relocations are global data: the counter (variable symbol) and the format string
    // (section symbol, offset in imm).
    let bss_idx = s
        .maps
        .iter()
        .position(|m| m.name == "xdp_hell.bss")
        .unwrap();
    let ro_idx = s
        .maps
        .iter()
        .position(|m| m.name == "xdp_hell.rodata")
        .unwrap();
    let kinds: Vec<_> = p
        .relocations
        .iter()
        .map(|r| (r.symbol.as_str(), r.kind))
        .collect();
    assert!(
        kinds.contains(&(
            "counter",
            RelocKind::MapValue {
                map: bss_idx,
                offset: 0
            }
        )),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(
            ".rodata",
            RelocKind::MapValue {
                map: ro_idx,
                offset: 0
            }
        )),
        "{kinds:?}"
    );
}

#[test]
fn open_uses_basename_up_to_first_dot() {
    let s = ObjectSpec::open(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/bpf/globals.bpf.o"
    ))
    .expect("open");
    assert_eq!(s.name, "globals");
    assert_eq!(s, spec("globals", GLOBALS), "open and parse_named agree");
    let e = ObjectSpec::open("/nonexistent/x.bpf.o").unwrap_err();
    assert!(matches!(e, ObjError::Io { .. }), "{e}");
    assert!(e.to_string().contains("/nonexistent/x.bpf.o"));
}

#[test]
fn parsing_is_deterministic_and_alignment_free() {
    for (name, bytes) in ALL {
        let a = spec(name, bytes);
        // Same bytes at an odd address.
        let mut shifted = vec![0u8; bytes.len() + 1];
        shifted[1..].copy_from_slice(bytes);
        let b = spec(name, &shifted[1..]);
        assert_eq!(a, b, "{name}");
    }
}

#[test]
fn globals_sections_become_maps() {
    let s = spec("globals", GLOBALS);
    let names: Vec<_> = s.maps.iter().map(|m| m.name.as_str()).collect();
    for want in [
        "globals.rodata",
        "globals.data",
        "globals.bss",
        ".data.custom",
        ".rodata.custom",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let ro = s.map("globals.rodata").unwrap();
    assert_eq!(ro.flags, 0x480);
    assert!(ro.freeze);
    let magic = ro.variable("magic").expect("magic");
    assert_eq!((magic.offset, magic.size), (0, 4));
    let pair = ro.variable("rodata_pair").expect("rodata_pair");
    let data = ro.data.as_ref().unwrap();
    let off = pair.offset as usize;
    assert_eq!(
        u64::from_le_bytes(data[off..off + 8].try_into().unwrap()),
        11
    );
    assert_eq!(
        u64::from_le_bytes(data[off + 8..off + 16].try_into().unwrap()),
        22
    );

    let d = s.map("globals.data").unwrap();
    assert_eq!(d.flags, 0x400);
    assert!(!d.freeze);
    let v = d.variable("data_var").unwrap();
    let data = d.data.as_ref().unwrap();
    assert_eq!(
        u32::from_le_bytes(data[v.offset as usize..][..4].try_into().unwrap()),
        7
    );

    let custom = s.map(".data.custom").unwrap();
    assert_eq!(custom.data.as_deref().map(|d| d.len()), Some(16));
    assert_eq!(custom.flags, 0x400);
    let cro = s.map(".rodata.custom").unwrap();
    assert_eq!(cro.flags, 0x480);
    assert_eq!(cro.data.as_deref(), Some(&b"rawbpf!\0"[..]));

    let bss = s.map("globals.bss").unwrap();
    assert!(bss.data.as_ref().unwrap().iter().all(|&b| b == 0));
    assert!(bss.variable("bss_var").is_some() && bss.variable("bss_seen_magic").is_some());

    let p = s.program("read_globals").unwrap();
    assert_eq!(p.section, "syscall");
    let sock = s.program("sock_globals").unwrap();
    assert_eq!(sock.section, "socket");
    // Every relocation of read_globals is a map value inside its map.
    for r in &p.relocations {
        let RelocKind::MapValue { map, offset } = r.kind else {
            panic!("unexpected {r:?}");
        };
        assert!(offset < s.maps[map].value_size, "{r:?}");
        if let Some(v) = s.maps[map].variable(&r.symbol) {
            assert_eq!(v.offset, offset, "{r:?}");
        }
    }
}

#[test]
fn multi_programs_per_section() {
    let s = spec("multi", MULTI);
    let progs: Vec<_> = s
        .programs
        .iter()
        .map(|p| (p.name.as_str(), p.section.as_str()))
        .collect();
    assert_eq!(
        progs,
        [
            ("xdp_first", "xdp"),
            ("xdp_second", "xdp"),
            ("tp_first", "tp/syscalls/sys_enter_getppid"),
            ("tp_second", "tp/syscalls/sys_enter_getppid"),
        ]
    );
    let a = s.program("xdp_first").unwrap();
    let b = s.program("xdp_second").unwrap();
    assert_eq!(a.section_offset, 0);
    assert_eq!(b.section_offset, a.insns.len());
    for p in &s.programs {
        // Each program ends with exit and owns only relocations of its own instructions.
        assert_eq!(p.insns.last().map(|i| i.code), Some(0x95), "{}", p.name);
        assert!(p.relocations.iter().all(|r| r.insn < p.insns.len()));
        assert_eq!(p.relocations.len(), 1, "{}: {:?}", p.name, p.relocations);
        let var = p.name.to_owned() + "_runs";
        assert_eq!(p.relocations[0].symbol, var);
    }
}

#[test]
fn subprograms_are_linked_once_with_right_offsets() {
    let s = spec("subprog", SUBPROG);
    let subs: Vec<_> = s.subprograms.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(subs, ["loop_cb", "add_two", "add_one"]);
    assert!(
        s.subprograms
            .iter()
            .all(|p| p.section == ".text" && !p.global)
    );

    let p = s.program("call_subprogs").unwrap();
    let l = link_program(&s, p).expect("link");
    let names: Vec<_> = l.subprograms.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["loop_cb", "add_two", "add_one"],
        "each reached subprogram appended once"
    );
    let total: usize = p.insns.len() + s.subprograms.iter().map(|s| s.insns.len()).sum::<usize>();
    assert_eq!(l.insns.len(), total);
    let start = |n: &str| l.subprograms.iter().find(|(m, _)| m == n).unwrap().1;

    // Every pseudo call and callback address now points at the start of an appended function.
    let starts: Vec<usize> = l.subprograms.iter().map(|(_, s)| *s).collect();
    let mut calls = 0;
    let mut callbacks = 0;
    for (i, insn) in l.insns.iter().enumerate() {
        let target = (i as i64 + 1 + i64::from(insn.imm)) as usize;
        if insn.code == 0x85 && src_reg(insn) == 1 {
            calls += 1;
            assert!(starts.contains(&target), "call at {i} -> {target}");
        }
        if insn.code == 0x18 && src_reg(insn) == 4 {
            callbacks += 1;
            assert_eq!(target, start("loop_cb"), "callback at {i}");
        }
    }
    assert_eq!(calls, 3, "program -> add_two, add_two -> add_one twice");
    assert_eq!(callbacks, 1);
    // Only the data relocations remain, shifted with their functions.
    assert!(
        l.relocations
            .iter()
            .all(|r| matches!(r.kind, RelocKind::MapValue { .. }))
    );
    assert_eq!(l.relocations.len(), 2);

    // A second program reaching only add_one gets only add_one.
    let l2 = link_program(&s, s.program("call_add_one").unwrap()).unwrap();
    assert_eq!(l2.subprograms.len(), 1);
    assert_eq!(l2.subprograms[0].0, "add_one");
    let call = l2
        .insns
        .iter()
        .position(|i| i.code == 0x85 && src_reg(i) == 1)
        .unwrap();
    assert_eq!(
        call as i64 + 1 + i64::from(l2.insns[call].imm),
        l2.subprograms[0].1 as i64
    );

    let l3 = link_program(&s, s.program("no_calls").unwrap()).unwrap();
    assert!(l3.subprograms.is_empty());
    assert_eq!(l3.insns, s.program("no_calls").unwrap().insns);
}

#[test]
fn legacy_maps_section() {
    let s = spec("legacy_maps", LEGACY);
    let h = s.map("legacy_hash").expect("legacy_hash");
    assert_eq!(h.kind, MapKind::Legacy);
    assert_eq!(
        (h.map_type, h.key_size, h.value_size, h.max_entries, h.flags),
        (BPF_MAP_TYPE_HASH, 4, 8, 32, 0)
    );
    let a = s.map("legacy_array").expect("legacy_array");
    assert_eq!(
        (a.map_type, a.key_size, a.value_size, a.max_entries),
        (BPF_MAP_TYPE_ARRAY, 4, 4, 2)
    );
    let p = s.program("use_legacy").unwrap();
    assert_eq!(p.section, "socket");
    let hi = s.maps.iter().position(|m| m.name == "legacy_hash").unwrap();
    let ai = s
        .maps
        .iter()
        .position(|m| m.name == "legacy_array")
        .unwrap();
    let maps: Vec<_> = p.relocations.iter().map(|r| r.kind).collect();
    assert_eq!(
        maps.iter()
            .filter(|k| **k == RelocKind::Map { map: hi })
            .count(),
        2
    );
    assert_eq!(
        maps.iter()
            .filter(|k| **k == RelocKind::Map { map: ai })
            .count(),
        1
    );
}

#[test]
fn externs_are_classified() {
    let s = spec("externs", EXTERNS);
    let ext = |n: &str| {
        let i = s
            .externs
            .iter()
            .position(|e| e.name == n)
            .unwrap_or_else(|| panic!("extern {n}"));
        (i, &s.externs[i])
    };
    let (_, kv) = ext("LINUX_KERNEL_VERSION");
    assert!(!kv.weak);
    let ExternKind::Kconfig {
        map,
        offset: kv_off,
        ..
    } = kv.kind
    else {
        panic!("{kv:?}")
    };
    let kconfig = &s.maps[map];
    assert_eq!(kconfig.kind, MapKind::Kconfig);
    assert_eq!(kconfig.name, "externs.kconfig");
    assert_eq!(kconfig.flags, 0x480);
    assert!(kconfig.freeze);
    let (_, cfg) = ext("CONFIG_BPF_SYSCALL");
    assert!(cfg.weak);
    assert!(matches!(cfg.kind, ExternKind::Kconfig { .. }));

    assert!(matches!(ext("schedule").1.kind, ExternKind::Ksym { .. }));
    let (_, missing) = ext("rawbpf_no_such_symbol");
    assert!(missing.weak);
    let (acq, a) = ext("bpf_task_acquire");
    assert!(matches!(a.kind, ExternKind::Kfunc { .. }));
    let (rel, r) = ext("bpf_task_release");
    assert!(matches!(r.kind, ExternKind::Kfunc { .. }));

    // Kconfig reads became map values on the .kconfig map; kfunc calls are kfunc relocations.
    let p = s.program("read_externs").unwrap();
    assert!(
        p.relocations
            .iter()
            .any(|r| r.symbol == "LINUX_KERNEL_VERSION"
                && r.kind
                    == RelocKind::MapValue {
                        map,
                        offset: kv_off
                    })
    );
    let t = s.program("on_newtask").unwrap();
    assert_eq!(t.section, "tp_btf/task_newtask");
    let kfuncs: Vec<_> = t
        .relocations
        .iter()
        .filter_map(|r| match r.kind {
            RelocKind::Kfunc { ext } => Some(ext),
            _ => None,
        })
        .collect();
    assert_eq!(kfuncs, [acq, rel]);
}

#[test]
fn apply_patches_maps_and_externs() {
    let s = spec("externs", EXTERNS);
    let p = s.program("read_externs").unwrap();
    let mut l = link_program(&s, p).unwrap();
    let ext_of = |n: &str| s.externs.iter().position(|e| e.name == n).unwrap();
    let (sched, missing) = (ext_of("schedule"), ext_of("rawbpf_no_such_symbol"));
    let fd = |m: usize| Some(100 + m as i32);
    let ext = |e: usize| {
        Some(if e == sched {
            ExternValue::Address(0xffff_ffff_8100_1234)
        } else if e == missing {
            ExternValue::Address(0)
        } else {
            return None;
        })
    };
    apply_relocations(&p.name, &mut l.insns, &l.relocations, &fd, &ext).expect("apply");
    for r in &l.relocations {
        let (a, b) = (l.insns[r.insn], l.insns[r.insn + 1]);
        match r.kind {
            RelocKind::MapValue { map, offset } => {
                assert_eq!(
                    (src_reg(&a), a.imm, b.imm),
                    (2, 100 + map as i32, offset as i32),
                    "{r:?}"
                );
            }
            RelocKind::Ksym { ext } if ext == sched => {
                assert_eq!(
                    (src_reg(&a), a.imm as u32, b.imm as u32),
                    (0, 0x8100_1234, 0xffff_ffff)
                );
            }
            RelocKind::Ksym { .. } => assert_eq!((a.imm, b.imm), (0, 0)),
            k => panic!("unexpected {k:?}"),
        }
    }

    // Kfuncs: the call gets the BTF id; a missing value is an error naming the extern.
    let t = s.program("on_newtask").unwrap();
    let mut lt = link_program(&s, t).unwrap();
    let err = apply_relocations(
        &t.name,
        &mut lt.insns.clone(),
        &lt.relocations,
        &fd,
        &|_| None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("bpf_task_acquire"), "{err}");
    let kf = |e: usize| {
        Some(ExternValue::Kfunc {
            btf_id: 60000 + e as u32,
            fd_index: 0,
        })
    };
    apply_relocations(&t.name, &mut lt.insns, &lt.relocations, &fd, &kf).unwrap();
    for r in &lt.relocations {
        if let RelocKind::Kfunc { ext } = r.kind {
            let i = lt.insns[r.insn];
            assert_eq!(
                (i.code, src_reg(&i), i.imm, i.off),
                (0x85, 2, 60000 + ext as i32, 0)
            );
        }
    }
}

#[test]
fn unlinked_calls_are_refused_by_apply() {
    let s = spec("subprog", SUBPROG);
    let p = s.program("call_add_one").unwrap();
    let mut insns = p.insns.clone();
    let e = apply_relocations(&p.name, &mut insns, &p.relocations, &|_| Some(3), &|_| None)
        .unwrap_err();
    assert!(e.to_string().contains("link_program"), "{e}");
}

#[test]
fn btf_defined_maps() {
    let s = spec("maps", MAPS);
    let m = |n: &str| s.map(n).unwrap_or_else(|| panic!("map {n}"));
    let idx = |n: &str| s.maps.iter().position(|x| x.name == n).unwrap();
    for name in [
        "hash", "array", "percpu", "events", "bloom", "pinned", "inner_a", "inner_b", "outer",
        "jumps",
    ] {
        assert_eq!(m(name).kind, MapKind::Btf, "{name}");
    }
    let shape = |n: &str| {
        let x = m(n);
        (x.map_type, x.key_size, x.value_size, x.max_entries, x.flags)
    };
    assert_eq!(
        shape("hash"),
        (BPF_MAP_TYPE_HASH, 4, 8, 16, 1 /* BPF_F_NO_PREALLOC */)
    );
    assert_eq!(shape("array"), (BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0));
    assert_eq!(shape("percpu"), (6 /* PERCPU_ARRAY */, 4, 8, 2, 0));
    assert_eq!(shape("events"), (27 /* RINGBUF */, 0, 0, 4096, 0));
    assert_eq!(shape("bloom"), (30 /* BLOOM_FILTER */, 0, 4, 16, 0));
    assert_eq!(m("bloom").map_extra, 3);
    assert_eq!(m("pinned").pinning, Pinning::ByName);
    assert_eq!(m("hash").pinning, Pinning::None);

    // Key/value given as types keep their BTF ids; sizes given as numbers have none.
    let btf = rawbpf::btf::Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    let value_ty = btf.type_by_id(m("array").value_type_id.unwrap()).unwrap();
    assert_eq!(value_ty.name().unwrap(), "value");
    assert!(m("hash").key_type_id.is_some());
    assert_eq!(
        (m("percpu").key_type_id, m("percpu").value_type_id),
        (None, None)
    );

    // Map-in-map: inner template and initial slots.
    let outer = m("outer");
    assert_eq!(
        (
            outer.map_type,
            outer.key_size,
            outer.value_size,
            outer.max_entries
        ),
        (12, 4, 4, 4)
    );
    let inner = outer.inner.as_deref().expect("inner map template");
    assert_eq!(
        (
            inner.map_type,
            inner.key_size,
            inner.value_size,
            inner.max_entries
        ),
        (BPF_MAP_TYPE_ARRAY, 4, 4, 1)
    );
    assert_eq!(
        outer.init_slots,
        [
            (0, InitSlot::Map(idx("inner_a"))),
            (2, InitSlot::Map(idx("inner_b")))
        ]
    );

    // Prog array with an initial slot naming a program of the object.
    let jumps = m("jumps");
    assert_eq!(
        (
            jumps.map_type,
            jumps.key_size,
            jumps.value_size,
            jumps.max_entries
        ),
        (3, 4, 4, 4)
    );
    assert_eq!(
        jumps.init_slots,
        [(1, InitSlot::Program("tail_target".into()))]
    );
    assert!(s.program("tail_target").is_some());

    let p = s.program("use_maps").unwrap();
    let refs: Vec<_> = p
        .relocations
        .iter()
        .filter_map(|r| match r.kind {
            RelocKind::Map { map } => Some((r.symbol.as_str(), map)),
            _ => None,
        })
        .collect();
    for name in [
        "hash", "array", "percpu", "events", "bloom", "pinned", "outer", "jumps",
    ] {
        assert!(
            refs.contains(&(name, idx(name))),
            "{name} not referenced: {refs:?}"
        );
    }
}

#[test]
fn data_variables_carry_btf_types() {
    let s = spec("globals", GLOBALS);
    let btf = rawbpf::btf::Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    let ro = s.map("globals.rodata").unwrap();
    let ds = btf
        .type_by_id(ro.value_type_id.expect("DATASEC id"))
        .unwrap();
    assert_eq!(ds.name().unwrap(), ".rodata");
    let magic = ro.variable("magic").unwrap();
    let t = btf.skip_mods_and_typedefs(magic.type_id.unwrap()).unwrap();
    assert_eq!(btf.size_of(t.id()).unwrap(), 4);
    let bss = s.map("globals.bss").unwrap();
    let names: Vec<_> = bss
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.offset, v.size))
        .collect();
    assert_eq!(names, [("bss_seen_magic", 0, 4), ("bss_var", 8, 8)]);
}

#[test]
fn kconfig_layout_follows_btf_sizes() {
    let s = spec("externs", EXTERNS);
    let get = |n: &str| s.externs.iter().find(|e| e.name == n).unwrap().kind;
    let ExternKind::Kconfig {
        map,
        offset: o1,
        size: s1,
        type_id: Some(_),
    } = get("LINUX_KERNEL_VERSION")
    else {
        panic!()
    };
    let ExternKind::Kconfig {
        offset: o2,
        size: s2,
        ..
    } = get("CONFIG_BPF_SYSCALL")
    else {
        panic!()
    };
    assert_eq!((o1, s1, o2, s2), (0, 4, 4, 1));
    assert!(s.maps[map].value_size >= 5);
    assert!(
        matches!(get("schedule"), ExternKind::Ksym { type_id: None }),
        "typeless ksym"
    );
    assert!(matches!(
        get("bpf_task_acquire"),
        ExternKind::Kfunc { type_id: Some(_) }
    ));
}

// ---- malformed input ----

fn parse_err(bytes: &[u8]) -> ObjError {
    ObjectSpec::parse(bytes).expect_err("must fail")
}

/// Finds the section header of `name`; returns its file offset.
fn shdr(bytes: &[u8], name: &str) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes(bytes[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let shoff = u64_at(0x28);
    let (shnum, shstrndx) = (u16_at(0x3c), u16_at(0x3e));
    let strtab = u64_at(shoff + shstrndx * 64 + 24);
    (0..shnum)
        .map(|i| shoff + i * 64)
        .find(|&h| {
            let n = strtab + u32_at(h);
            bytes[n..].split(|&b| b == 0).next() == Some(name.as_bytes())
        })
        .unwrap_or_else(|| panic!("no section {name}"))
}

#[test]
fn garbage_and_truncation_never_panic() {
    assert!(matches!(parse_err(b""), ObjError::Elf { .. }));
    assert!(matches!(
        parse_err(b"definitely not an ELF file"),
        ObjError::Elf { .. }
    ));
    // Every truncation of a real object is an error, never a panic.
    for len in 0..XDP_HELLO.len() {
        let _ = ObjectSpec::parse(&XDP_HELLO[..len]);
    }
    // Deterministic byte corruption over every object.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for (_, bytes) in ALL {
        for _ in 0..300 {
            let mut b = bytes.to_vec();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x as usize) % b.len();
                b[at] = (x >> 32) as u8;
            }
            if let Ok(s) = ObjectSpec::parse(&b) {
                for p in &s.programs {
                    if let Ok(mut l) = link_program(&s, p) {
                        let _ = apply_relocations(
                            &p.name,
                            &mut l.insns,
                            &l.relocations,
                            &|_| Some(1),
                            &|_| Some(ExternValue::Address(0)),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn not_bpf_machine() {
    let mut b = XDP_HELLO.to_vec();
    b[0x12] = 62; // EM_X86_64
    b[0x13] = 0;
    let e = parse_err(&b);
    assert!(matches!(e, ObjError::NotBpf { machine: 62 }), "{e}");
}

#[test]
fn section_past_the_end() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, "xdp");
    b[h + 24..h + 32].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let e = parse_err(&b);
    assert!(e.to_string().contains("xdp"), "{e}");
}

#[test]
fn code_size_not_multiple_of_8() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, "xdp");
    let size = u64::from_le_bytes(b[h + 32..h + 40].try_into().unwrap());
    b[h + 32..h + 40].copy_from_slice(&(size - 3).to_le_bytes());
    let e = parse_err(&b);
    assert!(
        e.to_string().contains("multiple of 8") && e.to_string().contains("xdp"),
        "{e}"
    );
}

#[test]
fn relocation_outside_section() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".relxdp");
    let off = u64::from_le_bytes(b[h + 24..h + 32].try_into().unwrap()) as usize;
    b[off..off + 8].copy_from_slice(&0x10_0000u64.to_le_bytes());
    let e = parse_err(&b);
    assert!(
        matches!(e, ObjError::Relocation { ref section, .. } if section == "xdp"),
        "{e}"
    );
}

#[test]
fn unknown_relocation_type() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".relxdp");
    let off = u64::from_le_bytes(b[h + 24..h + 32].try_into().unwrap()) as usize;
    b[off + 8..off + 12].copy_from_slice(&77u32.to_le_bytes()); // r_info low half = type
    let e = parse_err(&b);
    assert!(
        e.to_string().contains("unsupported relocation type 77"),
        "{e}"
    );
}

#[test]
fn relocation_to_missing_symbol() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".relxdp");
    let off = u64::from_le_bytes(b[h + 24..h + 32].try_into().unwrap()) as usize;
    b[off + 12..off + 16].copy_from_slice(&9999u32.to_le_bytes()); // r_info high half = symbol
    let e = parse_err(&b);
    assert!(e.to_string().contains("symbol #9999"), "{e}");
}

#[test]
fn section_definitions() {
    use rawbpf::obj::section::prog_type;
    let ty = |bytes: &[u8], name: &str, prog: &str| {
        let s = spec(name, bytes);
        let p = s.program(prog).unwrap_or_else(|| panic!("{prog}"));
        p.section_def().map(|d| d.prog_type)
    };
    assert_eq!(ty(XDP_HELLO, "xdp_hello", "hello"), Some(prog_type::XDP));
    assert_eq!(ty(MULTI, "multi", "tp_second"), Some(prog_type::TRACEPOINT));
    assert_eq!(
        ty(GLOBALS, "globals", "read_globals"),
        Some(prog_type::SYSCALL)
    );
    assert_eq!(
        ty(GLOBALS, "globals", "sock_globals"),
        Some(prog_type::SOCKET_FILTER)
    );
    assert_eq!(
        ty(EXTERNS, "externs", "on_newtask"),
        Some(prog_type::TRACING)
    );
    let s = spec("subprog", SUBPROG);
    assert!(s.subprograms.iter().all(|p| p.section_def().is_none()));
}

#[test]
fn huge_bss_is_refused_without_allocating() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".bss");
    b[h + 32..h + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let e = parse_err(&b);
    assert!(e.to_string().contains(".bss"), "{e}");
}

#[test]
fn btf_ext_records_follow_functions() {
    let s = spec("subprog", SUBPROG);
    for p in s.programs.iter().chain(&s.subprograms) {
        assert_eq!(p.func_info.len(), 1, "{}", p.name);
        assert_eq!(p.func_info[0].insn, 0, "{}", p.name);
        assert!(!p.line_info.is_empty(), "{}", p.name);
        assert!(
            p.line_info
                .iter()
                .all(|l| (l.insn as usize) < p.insns.len())
        );
        assert!(p.line_info.windows(2).all(|w| w[0].insn <= w[1].insn));
    }
    let btf = rawbpf::btf::Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    let p = s.program("call_subprogs").unwrap();
    let l = link_program(&s, p).unwrap();
    // One func_info per function, at the start of each, naming the function's BTF FUNC.
    let starts: Vec<u32> = l.func_info.iter().map(|f| f.insn).collect();
    let mut want = vec![0u32];
    want.extend(l.subprograms.iter().map(|(_, at)| *at as u32));
    assert_eq!(starts, want);
    let names: Vec<_> = l
        .func_info
        .iter()
        .map(|f| {
            btf.type_by_id(f.type_id)
                .unwrap()
                .name()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["call_subprogs", "loop_cb", "add_two", "add_one"]);
    assert!(l.line_info.windows(2).all(|w| w[0].insn <= w[1].insn));
    assert!(
        l.line_info
            .iter()
            .all(|r| (r.insn as usize) < l.insns.len())
    );

    // CO-RE: `acquired->pid` on a preserve_access_index struct is a field-offset relocation.
    let s = spec("externs", EXTERNS);
    let t = s.program("on_newtask").unwrap();
    assert!(!t.core_relos.is_empty());
    let btf = rawbpf::btf::Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    let r = t.core_relos[0];
    assert_eq!(r.kind, rawbpf::btf::CoreReloKind::FieldByteOffset);
    assert_eq!(
        btf.type_by_id(r.type_id).unwrap().name().unwrap(),
        "task_struct"
    );
    assert!((r.insn as usize) < t.insns.len());
}

#[test]
fn rodata_variables_can_be_set_before_load() {
    let mut s = spec("globals", GLOBALS);
    let ro = s
        .maps
        .iter_mut()
        .find(|m| m.name == "globals.rodata")
        .unwrap();
    assert_eq!(ro.variable_data("magic"), Some(&[0u8; 4][..]));
    ro.set_variable("magic", &0xdead_beefu32.to_le_bytes())
        .expect("set magic");
    assert_eq!(
        ro.variable_data("magic"),
        Some(&0xdead_beefu32.to_le_bytes()[..])
    );
    // rodata_pair is untouched.
    assert_eq!(
        ro.variable_data("rodata_pair").unwrap()[..8],
        11u64.to_le_bytes()
    );
    let e = ro.set_variable("magic", &[1, 2]).unwrap_err();
    assert!(e.to_string().contains("4 bytes"), "{e}");
    let e = ro.set_variable("nope", &[0; 4]).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
}

#[test]
fn typed_ksym() {
    let s = spec("ksym_typed", KSYM_TYPED);
    let i = s
        .externs
        .iter()
        .position(|e| e.name == "bpf_prog_active")
        .expect("extern");
    let ExternKind::Ksym { type_id: Some(t) } = s.externs[i].kind else {
        panic!("{:?}", s.externs[i])
    };
    let btf = rawbpf::btf::Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    assert_eq!(btf.size_of(t).unwrap(), 4, "int");
    let p = s.program("read_typed_ksym").unwrap();
    let mut l = link_program(&s, p).unwrap();
    let ext = |e: usize| {
        (e == i).then_some(ExternValue::BtfVar {
            btf_id: 13780,
            btf_fd: 0,
        })
    };
    apply_relocations(
        &p.name,
        &mut l.insns,
        &l.relocations,
        &|m| Some(10 + m as i32),
        &ext,
    )
    .unwrap();
    let r = l
        .relocations
        .iter()
        .find(|r| r.kind == RelocKind::Ksym { ext: i })
        .expect("ksym reloc");
    let (a, b) = (l.insns[r.insn], l.insns[r.insn + 1]);
    assert_eq!((src_reg(&a), a.imm, b.imm), (3, 13780, 0));
}

#[test]
fn string_section_is_a_read_only_map() {
    let s = spec("globals", GLOBALS);
    let m = s.data_map(".rodata.str1.1").expect(".rodata.str1.1 map");
    assert_eq!(m.name, ".rodata.str1.1");
    assert_eq!(m.flags, 0x480);
    assert!(m.freeze);
    assert_eq!(m.data.as_deref(), Some(&b"rawbpf globals %u\n\0"[..]));
    let idx = s
        .maps
        .iter()
        .position(|x| x.name == ".rodata.str1.1")
        .unwrap();
    let p = s.program("read_globals").unwrap();
    assert!(p.relocations.iter().any(|r| r.symbol == ".rodata.str1.1"
        && r.kind
            == RelocKind::MapValue {
                map: idx,
                offset: 0
            }));
}

/// The DATASEC named `name` and its `(var name, offset, size)` entries.
fn datasec(btf: &rawbpf::btf::Btf<'_>, name: &str) -> (u32, Vec<(String, u32, u32)>) {
    let t = btf
        .types()
        .find(|t| t.as_datasec().is_some() && t.name().ok() == Some(name))
        .unwrap_or_else(|| panic!("DATASEC {name}"));
    let ds = t.as_datasec().unwrap();
    let vars = ds
        .vars()
        .map(|v| {
            let n = btf
                .type_by_id(v.type_id)
                .unwrap()
                .name()
                .unwrap()
                .to_owned();
            (n, v.offset, v.size)
        })
        .collect();
    (ds.byte_size(), vars)
}

#[test]
fn btf_is_prepared_for_the_kernel() {
    use rawbpf::btf::{Btf, FuncLinkage, TypeView, VarLinkage};
    // Data sections: sizes and offsets from the ELF (clang leaves zeros).
    let s = spec("globals", GLOBALS);
    let btf = Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    let (size, vars) = datasec(&btf, ".bss");
    assert_eq!(size, 16);
    assert_eq!(
        vars,
        [("bss_seen_magic".into(), 0, 4), ("bss_var".into(), 8, 8)]
    );
    let (size, vars) = datasec(&btf, ".rodata");
    assert_eq!(size, s.map("globals.rodata").unwrap().value_size);
    assert_eq!(vars[1], ("rodata_pair".into(), 8, 16));

    // Externs: .kconfig at our offsets with allocated VARs; .ksyms as int VARs, kfuncs
    // replaced by a dummy VAR and given global linkage.
    let s = spec("externs", EXTERNS);
    let btf = Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    let (size, vars) = datasec(&btf, ".kconfig");
    assert_eq!(size, s.map("externs.kconfig").unwrap().value_size);
    assert_eq!(
        vars,
        [
            ("LINUX_KERNEL_VERSION".into(), 0, 4),
            ("CONFIG_BPF_SYSCALL".into(), 4, 1)
        ]
    );
    let (size, vars) = datasec(&btf, ".ksyms");
    assert_eq!(size, 4 * vars.len() as u32);
    for (i, (name, off, sz)) in vars.iter().enumerate() {
        assert_eq!((*off, *sz), (4 * i as u32, 4), "{name}");
        assert!(
            name == "dummy_ksym" || name == "schedule" || name == "rawbpf_no_such_symbol",
            "{name}"
        );
    }
    for t in btf.types() {
        match t.view() {
            TypeView::Var(v) => assert_ne!(v.linkage(), VarLinkage::GlobalExtern, "{:?}", t.name()),
            TypeView::Func(f) => assert_ne!(f.linkage(), FuncLinkage::Extern, "{:?}", t.name()),
            _ => {}
        }
    }
    // Type ids are unchanged: the kfunc FUNCs are where the extern specs say.
    for e in &s.externs {
        if let ExternKind::Kfunc {
            type_id: Some(proto),
        } = e.kind
        {
            assert!(
                matches!(
                    btf.type_by_id(proto).unwrap().view(),
                    TypeView::FuncProto(_)
                ),
                "{}",
                e.name
            );
        }
    }
}
