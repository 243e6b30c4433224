//! Unit tests of the pure parts of the loader (no kernel needed).

use super::*;
use crate::obj::ObjectSpec;

fn spec(file: &str) -> ObjectSpec {
    ObjectSpec::open(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).expect("object")
}

#[test]
fn set_global_is_applied_to_the_data_map_and_size_checked() {
    let s = spec("tests/bpf/globals.bpf.o");
    let specs = Loader::new()
        .set_global("magic", &0x1234_5678u32)
        .set_global("bss_var", &9u64)
        .map_specs(&s, None)
        .expect("map specs");
    let ro = specs.iter().find(|m| m.name.ends_with(".rodata")).unwrap();
    let v = ro.variable("magic").unwrap();
    let data = ro.data.as_ref().unwrap();
    assert_eq!(
        &data[v.offset as usize..v.offset as usize + 4],
        &0x1234_5678u32.to_ne_bytes()
    );
    let bss = specs.iter().find(|m| m.name.ends_with(".bss")).unwrap();
    let v = bss.variable("bss_var").unwrap();
    let data = bss.data.as_ref().unwrap();
    assert_eq!(
        &data[v.offset as usize..v.offset as usize + 8],
        &9u64.to_ne_bytes()
    );

    let err = Loader::new()
        .set_global("magic", &1u8)
        .map_specs(&s, None)
        .unwrap_err();
    assert!(
        matches!(&err, LoadError::Global { name, .. } if name == "magic"),
        "{err}"
    );
    assert!(err.to_string().contains("4 bytes"), "{err}");
    let err = Loader::new()
        .set_global("nope", &1u8)
        .map_specs(&s, None)
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn map_overrides_apply_and_unknown_maps_are_named() {
    let s = spec("tests/bpf/maps.bpf.o");
    let specs = Loader::new()
        .map_max_entries("hash", 99)
        .map_value_size("array", 32)
        .map_flags("hash", 0)
        .map_specs(&s, None)
        .unwrap();
    let hash = specs.iter().find(|m| m.name == "hash").unwrap();
    assert_eq!((hash.max_entries, hash.flags), (99, 0));
    assert_eq!(
        specs.iter().find(|m| m.name == "array").unwrap().value_size,
        32
    );
    let err = Loader::new()
        .map_max_entries("hsah", 1)
        .map_specs(&s, None)
        .unwrap_err();
    assert!(matches!(err, LoadError::NotFound { kind: "map", .. }));
    assert!(
        err.to_string().contains("hash"),
        "lists the maps there are: {err}"
    );
}

#[test]
fn autoload_and_load_only() {
    let s = spec("tests/bpf/subprog.bpf.o");
    let p = |n: &str| s.program(n).unwrap();
    let l = Loader::new().autoload("no_calls", false);
    assert!(l.autoloads(p("call_subprogs")));
    assert!(!l.autoloads(p("no_calls")));
    let l = Loader::new()
        .autoload("no_calls", false)
        .load_only("call_add_one");
    assert!(l.autoloads(p("call_add_one")));
    assert!(!l.autoloads(p("call_subprogs")));
    assert!(!l.autoloads(p("no_calls")));
}

#[test]
fn attach_targets_get_libbpf_prefixes() {
    let s = spec("tests/bpf/execsnoop.bpf.o");
    let prog = s.program("handle_exec").unwrap();
    let kernel = match Btf::from_kernel() {
        Ok(k) => k,
        Err(_) => return, // no kernel BTF on this machine
    };
    let params = programs::load_params(prog, None, &kernel).expect("params");
    let want = kernel
        .id_by_name_kind("btf_trace_sched_process_exec", crate::btf::Kind::Typedef)
        .unwrap();
    assert_eq!(params.attach_btf_id, want);
    assert_eq!(params.prog_type, ProgramType::TRACING);
    // An override of the target goes through the same prefixing.
    let ov = ProgramOverride {
        attach_target: Some("sched_process_fork".into()),
        ..Default::default()
    };
    let params = programs::load_params(prog, Some(&ov), &kernel).expect("params");
    let want = kernel
        .id_by_name_kind("btf_trace_sched_process_fork", crate::btf::Kind::Typedef)
        .unwrap();
    assert_eq!(params.attach_btf_id, want);
    let ov = ProgramOverride {
        attach_target: Some("no_such_tracepoint_anywhere".into()),
        ..Default::default()
    };
    let err = programs::load_params(prog, Some(&ov), &kernel)
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("btf_trace_no_such_tracepoint_anywhere"),
        "{err}"
    );
}

#[test]
fn kconfig_data_fills_the_kconfig_map() {
    let s = spec("tests/bpf/kconfig_more.bpf.o");
    let Ok(kernel) = Btf::from_kernel() else {
        return;
    };
    let obj_btf = Btf::parse(s.btf.as_deref().unwrap()).unwrap();
    if kconfig::KernelConfig::from_running_kernel().is_none() {
        return;
    }
    let (map, data) = externs::kconfig_data(&s, Some(&obj_btf), &kernel)
        .unwrap()
        .expect("a .kconfig map");
    assert_eq!(s.maps[map].kind, MapKind::Kconfig);
    assert_eq!(data.len(), s.maps[map].value_size as usize);
}

/// Map definitions with types the kernel refuses get the shape it wants.
#[test]
fn kernel_shape_of_maps_with_refused_types() {
    use crate::btf::{BtfBuilder, IntEncoding, NewMember};
    use crate::map::MapType;
    use crate::obj::{MapKind, MapSpec};

    // Object BTF: a u32 and `struct my_ops`; kernel BTF: `struct bpf_struct_ops_my_ops`.
    let mut o = BtfBuilder::new();
    let u32_ = o.add_int("u32", 4, IntEncoding::empty());
    let ops = o.add_struct("my_ops", 8, &[]).unwrap();
    let obj_bytes = o.encode();
    let obj = Btf::parse(&obj_bytes).unwrap();
    let mut k = BtfBuilder::new();
    let int = k.add_int("int", 4, IntEncoding::SIGNED);
    let wrapper = k
        .add_struct("bpf_struct_ops_my_ops", 48, &[NewMember::new("x", int, 0)])
        .unwrap();
    let kernel_bytes = k.encode();
    let kernel = Btf::parse(&kernel_bytes).unwrap();

    let map = |t: MapType, key: u32, value: u32| {
        let mut m = MapSpec::new("m", MapKind::Btf);
        m.map_type = t.raw();
        m.key_size = key;
        m.value_size = value;
        m.key_type_id = (key != 0).then_some(u32_);
        m.value_type_id = Some(if t == MapType::STRUCT_OPS { ops } else { u32_ });
        m
    };
    let shape = |mut m: MapSpec| {
        let v = maps::kernel_shape(&mut m, Some(&obj), &kernel).expect("shape");
        (m.key_size, m.value_size, m.key_type_id, m.value_type_id, v)
    };
    assert_eq!(shape(map(MapType::RINGBUF, 4, 4)), (0, 0, None, None, 0));
    assert_eq!(
        shape(map(MapType::USER_RINGBUF, 0, 4)),
        (0, 0, None, None, 0)
    );
    assert_eq!(
        shape(map(MapType::PERF_EVENT_ARRAY, 8, 24)),
        (4, 4, None, None, 0)
    );
    assert_eq!(
        shape(map(MapType::STRUCT_OPS, 4, 8)),
        (4, 48, None, None, wrapper)
    );
    assert_eq!(shape(map(MapType::QUEUE, 0, 4)), (0, 4, None, None, 0));
    // Maps the kernel takes with BTF keep it.
    assert_eq!(
        shape(map(MapType::HASH, 4, 4)),
        (4, 4, Some(u32_), Some(u32_), 0)
    );
    // A struct_ops type the kernel lacks is a clear error.
    let mut none = map(MapType::STRUCT_OPS, 4, 8);
    let e = maps::kernel_shape(&mut none, Some(&obj), &obj).unwrap_err();
    assert!(e.to_string().contains("bpf_struct_ops_my_ops"), "{e}");
}
