//! What the object's BTF adds: BTF-defined maps, typed variables, externs, `.BTF.ext`, and
//! the BTF prepared for the kernel.

use super::*;

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
