//! Pure parsing tests of the committed BPF objects (no root, no kernel): programs, maps,
//! variables, relocations, linking (here); BTF-described maps, externs, `.BTF.ext` and the
//! prepared BTF (`object/btf.rs`); malformed input (`object/malformed.rs`).

#[path = "object/malformed.rs"]
mod malformed;
#[path = "object/btf.rs"]
mod with_btf;

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
            btf_fd: 0,
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
