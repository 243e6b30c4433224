//! Issue 12: the classes of objects written for libbpf (or aya, cilium/ebpf) that the loader
//! got wrong, each reproduced by a small object of tests/bpf/gap_*.bpf.c, loaded and run
//! against the kernel where it loads, and parsed (or refused) as libbpf does where it must not.

mod common;

use std::path::{Path, PathBuf};

use rawbpf::btf::core::CoreError;
use rawbpf::btf::{Btf, FuncLinkage, Kind};
use rawbpf::loader::{LoadError, Loader, Object};
use rawbpf::map::MapType;
use rawbpf::obj::{ObjError, ObjectSpec};
use rawbpf::prog::TestRun;

fn path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(file)
}

fn spec(file: &str) -> ObjectSpec {
    let p = path(file);
    ObjectSpec::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn load(file: &str, loader: Loader) -> Object {
    loader
        .load(&spec(file))
        .unwrap_or_else(|e| panic!("{file}: {e}\n{:?}", e.verifier_log()))
}

/// Runs a `SEC("syscall")` program once with `ctx`; returns its return value.
fn run_syscall(obj: &Object, prog: &str, ctx: &mut [u8]) -> u32 {
    obj.program(prog)
        .expect("program")
        .test_run(TestRun::with_ctx(ctx))
        .expect("test_run")
        .retval
}

// ---- 1. a kfunc's address --------------------------------------------------------------

/// `bpf_ksym_exists(kfunc)` is 1 for a kfunc the kernel has and 0 for a missing weak one; the
/// call it guards runs when the kfunc exists and is dead code (never checked) when not. (On
/// kernels whose verifier refuses a FUNC in a BTF-id `ld_imm64`, probe `kfunc_address`, the
/// address of an existing kfunc is the constant 1: same answers.)
#[test]
fn kfunc_address_is_its_btf_id_or_0_when_weak_and_missing() {
    if !common::privileged() {
        return;
    }
    let test = "kfunc_address_is_its_btf_id_or_0_when_weak_and_missing";
    if !common::have(test, "kfunc_address") {
        eprintln!("{test}: addresses of existing kfuncs are the constant 1 here");
    }
    let has = common::supported(
        test,
        "kfunc:bpf_task_from_pid",
        "features::kfunc(\"bpf_task_from_pid\")",
        rawbpf::features::kfunc("bpf_task_from_pid"),
    );
    let obj = load("tests/bpf/gap_kfunc_addr.bpf.o", Loader::new());
    let pid = std::process::id() as i32;
    let mut ctx = pid.to_ne_bytes();
    assert_eq!(run_syscall(&obj, "kfunc_addr", &mut ctx), 0);
    assert_eq!(
        obj.global::<i32>("has_task_from_pid").unwrap(),
        i32::from(has)
    );
    assert_eq!(obj.global::<i32>("has_missing").unwrap(), 0);
    assert_eq!(obj.global::<i32>("called_missing").unwrap(), 0);
    // The guarded call ran (and found this process) exactly when the kfunc exists.
    let found = obj.global::<i32>("found_pid").unwrap();
    assert_eq!(found, if has { pid } else { 0 });
}

// ---- 2. hidden global subprograms -------------------------------------------------------

/// The FUNC of a `__hidden` global subprogram is static in the BTF sent to the kernel, as
/// libbpf makes it (the object's own BTF says global).
#[test]
fn hidden_subprogram_is_static_in_the_kernel_btf() {
    let spec = spec("tests/bpf/gap_hidden.bpf.o");
    let btf = Btf::parse(spec.btf.as_deref().expect("btf")).unwrap();
    let f = btf
        .find_by_name_kind("read_twice", Kind::Func)
        .expect("FUNC read_twice");
    assert_eq!(f.as_func().unwrap().linkage(), FuncLinkage::Static);
    let raw = Btf::from_file(path("tests/bpf/gap_hidden.bpf.o")).unwrap();
    let g = raw.find_by_name_kind("read_twice", Kind::Func).unwrap();
    assert_eq!(g.as_func().unwrap().linkage(), FuncLinkage::Global);
    // The entry point stays global.
    let e = btf.find_by_name_kind("call_hidden", Kind::Func).unwrap();
    assert_eq!(e.as_func().unwrap().linkage(), FuncLinkage::Global);
}

/// Checked with its caller, the hidden subprogram's pointer argument is the caller's stack
/// slot: the program loads and computes 21 + 21.
#[test]
fn hidden_subprogram_is_verified_with_its_caller() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/gap_hidden.bpf.o", Loader::new());
    assert_eq!(run_syscall(&obj, "call_hidden", &mut [0u8; 8]), 42);
    assert_eq!(obj.global::<i32>("seen").unwrap(), 42);
}

// ---- 3. map definitions with types the kernel refuses -----------------------------------

fn map_types_obj() -> Object {
    load("tests/bpf/gap_map_types.bpf.o", Loader::new())
}

/// Ring buffers declared with `__type(value, …)` (and a key) are created with key and value
/// size 0 and no BTF ids, and work: a record sent through each waits in it.
#[test]
fn ringbuf_with_key_and_value_types() {
    if !common::privileged() {
        return;
    }
    let obj = map_types_obj();
    for name in ["typed_rb", "keyed_rb"] {
        let info = obj.map(name).unwrap().info().unwrap();
        assert_eq!(info.map_type, MapType::RINGBUF, "{name}");
        assert_eq!((info.key_size, info.value_size), (0, 0), "{name}");
        assert_eq!(info.max_entries, 4096, "{name}");
        assert_eq!(
            (info.btf_key_type_id, info.btf_value_type_id),
            (0, 0),
            "{name}"
        );
    }
    assert_eq!(run_syscall(&obj, "emit", &mut [0u8; 8]), 0);
    // One 24-byte event with its 8-byte header; one 4-byte key, rounded up to 8, with its header.
    assert_eq!(obj.global::<u64>("avail_typed").unwrap(), 32);
    assert_eq!(obj.global::<u64>("avail_keyed").unwrap(), 16);
}

/// A user ring buffer declared with a value type is created with key and value size 0.
#[test]
fn user_ringbuf_with_a_value_type() {
    if !common::privileged() {
        return;
    }
    let obj = map_types_obj();
    let info = obj.map("typed_urb").unwrap().info().unwrap();
    assert_eq!(info.map_type, MapType::USER_RINGBUF);
    assert_eq!((info.key_size, info.value_size), (0, 0));
    assert_eq!(info.max_entries, 4096);
    assert_eq!((info.btf_key_type_id, info.btf_value_type_id), (0, 0));
}

/// A perf event array declared with an 8-byte key type and the event struct as value type
/// holds 4-byte perf event fds under 4-byte keys: it is created so, without BTF ids.
#[test]
fn perf_event_array_with_key_and_value_types() {
    if !common::privileged() {
        return;
    }
    let obj = map_types_obj();
    let info = obj.map("typed_perf").unwrap().info().unwrap();
    assert_eq!(info.map_type, MapType::PERF_EVENT_ARRAY);
    assert_eq!((info.key_size, info.value_size), (4, 4));
    assert_eq!(info.max_entries, 2);
    assert_eq!((info.btf_key_type_id, info.btf_value_type_id), (0, 0));
}

/// A struct_ops map defined in `.maps` with the kernel struct it implements as value type is
/// created with a 4-byte key and the kernel's `struct bpf_struct_ops_<name>` as value (its
/// size, by vmlinux BTF id), as the kernel wants.
#[test]
fn struct_ops_map_with_key_and_value_types() {
    if !common::privileged() {
        return;
    }
    let kernel = Btf::from_kernel().unwrap();
    let Some(wrapper) = kernel.find_by_name_kind("bpf_struct_ops_bpf_dummy_ops", Kind::Struct)
    else {
        let e = Loader::new()
            .load(&spec("tests/bpf/gap_struct_ops_map.bpf.o"))
            .expect_err("no bpf_dummy_ops in this kernel");
        assert!(
            matches!(e, LoadError::Unsupported { .. }) && e.to_string().contains("bpf_dummy_ops"),
            "{e}"
        );
        eprintln!(
            "struct_ops_map_with_key_and_value_types: struct_ops bpf_dummy_ops unsupported on this kernel (probe: vmlinux BTF has no bpf_struct_ops_bpf_dummy_ops)"
        );
        return;
    };
    let obj = load("tests/bpf/gap_struct_ops_map.bpf.o", Loader::new());
    let info = obj.map("dummy_ops").unwrap().info().unwrap();
    assert_eq!(info.map_type, MapType::STRUCT_OPS);
    assert_eq!(info.key_size, 4);
    assert_eq!(
        info.value_size,
        wrapper.as_composite().unwrap().byte_size(),
        "the kernel's bpf_struct_ops_bpf_dummy_ops"
    );
    assert_eq!(info.btf_vmlinux_value_type_id, wrapper.id());
    assert_eq!(info.max_entries, 1);
}

// ---- 4. static map definitions -----------------------------------------------------------

/// A `static` map definition is refused as libbpf refuses it, with an error that says to drop
/// `static`.
#[test]
fn static_map_definition_is_refused() {
    let e = ObjectSpec::open(path("tests/bpf/gap_static_map.bpf.o"))
        .expect_err("static maps are refused");
    let msg = e.to_string();
    assert!(
        matches!(&e, ObjError::Map { map, .. } if map == "hidden_counts"),
        "{e:?}"
    );
    assert!(msg.contains("drop `static`"), "{msg}");
}

// ---- 5. 64-bit map_extra -------------------------------------------------------------------

/// `__ulong(map_extra, …)` parses to its 64-bit value (ENUM64), and a 32-bit one (ENUM) and
/// `__uint(map_extra, …)` to theirs.
#[test]
fn map_extra_ulong_parses() {
    let arena = spec("tests/bpf/gap_arena.bpf.o");
    let arena = arena.map("arena").expect("arena");
    assert_eq!(arena.map_type, MapType::ARENA.raw());
    assert_eq!(arena.map_extra, 0x7f00_0000_0000);
    assert_eq!(arena.max_entries, 4);
    let spec = spec("tests/bpf/gap_map_extra.bpf.o");
    assert_eq!(spec.map("bloom_uint").unwrap().map_extra, 3);
    assert_eq!(spec.map("bloom_ulong").unwrap().map_extra, 5);
}

/// Bloom filters are created with their map_extra (3 and 5 hash functions) and work.
#[test]
fn map_extra_reaches_the_kernel() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/gap_map_extra.bpf.o", Loader::new());
    for (name, extra) in [("bloom_uint", 3), ("bloom_ulong", 5)] {
        let info = obj.map(name).unwrap().info().unwrap();
        assert_eq!(info.map_type, MapType::BLOOM_FILTER, "{name}");
        assert_eq!(info.map_extra, extra, "{name}");
    }
    // The program pushes 42 into both filters, then finds it in the second (XDP_PASS).
    let r = obj
        .program("touch")
        .unwrap()
        .test_run(TestRun::with_data(&[0u8; 64]))
        .expect("test_run");
    assert_eq!(r.retval, 2);
}

/// An arena is created at the 64-bit address of its `__ulong(map_extra, …)` (run it on a
/// kernel that allows arenas: `ci/vm-test 6.12 -- loader_gaps`).
#[test]
fn arena_map_extra_reaches_the_kernel() {
    if !common::privileged() {
        return;
    }
    let test = "arena_map_extra_reaches_the_kernel";
    let s = spec("tests/bpf/gap_arena.bpf.o");
    let probe = rawbpf::features::arena();
    let refused = matches!(&probe, Err(e) if e.errno() == Some(rawbpf::sys::Errno::EPERM));
    if refused || !common::supported(test, "arena", "features::arena", probe) {
        if refused {
            eprintln!("{test}: arena refused on this machine (probe: features::arena: EPERM)");
        }
        let e = Loader::new()
            .load(&s)
            .expect_err("arena maps are refused here");
        assert!(
            matches!(&e, LoadError::Map { map, .. } if map == "arena"),
            "{e}"
        );
        return;
    }
    let obj = Loader::new()
        .load(&s)
        .unwrap_or_else(|e| panic!("{e}\n{:?}", e.verifier_log()));
    let arena = obj.map("arena").unwrap().info().unwrap();
    assert_eq!(arena.map_type, MapType::ARENA);
    assert_eq!(arena.map_extra, 0x7f00_0000_0000);
    assert_eq!(arena.max_entries, 4);
}

// ---- 7. CO-RE candidate narrowing ---------------------------------------------------------

fn narrow_target() -> Btf<'static> {
    // An ELF object's .BTF, taken as is (item 9).
    Btf::from_file(path("tests/bpf/gap_core_target.bpf.o")).expect("target BTF")
}

/// A relocation that matches one flavor of the target loads, relocated to that flavor.
#[test]
fn core_single_field_matches_one_flavor() {
    if !common::privileged() {
        return;
    }
    let obj = load(
        "tests/bpf/gap_core_narrow.bpf.o",
        Loader::new()
            .target_btf(narrow_target())
            .load_only("read_a_only"),
    );
    assert_eq!(run_syscall(&obj, "read_a_only", &mut [0u8; 8]), 0);
    assert_eq!(
        obj.global::<u32>("off_a").unwrap(),
        8,
        "a of gap_pair___has_a"
    );
    // The decision is kept on the object.
    let fixups = obj.core_fixups("read_a_only");
    assert_eq!(fixups.len(), 1, "{fixups:?}");
    assert_eq!((fixups[0].local_value, fixups[0].target_value), (0, 8));
    assert!(!fixups[0].poison);
    assert!(
        fixups[0]
            .target_description
            .as_deref()
            .is_some_and(|d| d.contains("gap_pair___has_a")),
        "{:?}",
        fixups[0]
    );
}

/// After `a` matched only the first flavor, the candidates of `struct gap_pair` are narrowed
/// to it: `b` matches none of them and is poisoned, so the program fails to load, as with
/// libbpf. The error keeps the decisions.
#[test]
fn core_narrowing_poisons_a_field_of_another_flavor() {
    if !common::privileged() {
        return;
    }
    let e = Loader::new()
        .target_btf(narrow_target())
        .load_only("read_a_then_b")
        .load(&spec("tests/bpf/gap_core_narrow.bpf.o"))
        .expect_err("b matches no candidate left after a");
    let LoadError::Program {
        program, source, ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(program, "read_a_then_b");
    assert!(
        matches!(
            &**source,
            LoadError::Core {
                source: CoreError::Poisoned { index: 1, .. },
                ..
            }
        ),
        "{e}"
    );
    let fixups = e.core_fixups();
    assert_eq!(fixups.len(), 2, "{fixups:?}");
    assert!(!fixups[0].poison && fixups[0].target_value == 8);
    assert!(
        fixups[1].poison && fixups[1].target_type.is_none(),
        "{:?}",
        fixups[1]
    );
    assert!(
        fixups[1].to_string().contains("no candidate matched"),
        "{}",
        fixups[1]
    );
}

/// The candidate list is one per object, as libbpf's: on its own, `read_b_only` relocates `b`
/// to the second flavor; loaded with `read_a_only`, whose `a` is relocated first and narrows
/// the list to the first flavor, its `b` is poisoned and the load fails.
#[test]
fn core_narrowing_spans_the_object() {
    if !common::privileged() {
        return;
    }
    let obj = load(
        "tests/bpf/gap_core_narrow.bpf.o",
        Loader::new()
            .target_btf(narrow_target())
            .load_only("read_b_only"),
    );
    assert_eq!(run_syscall(&obj, "read_b_only", &mut [0u8; 8]), 0);
    assert_eq!(
        obj.global::<u32>("off_b").unwrap(),
        12,
        "b of gap_pair___has_b"
    );

    let e = Loader::new()
        .target_btf(narrow_target())
        .autoload("read_a_then_b", false)
        .load(&spec("tests/bpf/gap_core_narrow.bpf.o"))
        .expect_err("read_a_only narrowed gap_pair to the flavor without b");
    assert_eq!(e.program(), Some("read_b_only"), "{e}");
    assert!(
        matches!(&e, LoadError::Program { source, .. }
            if matches!(&**source, LoadError::Core { source: CoreError::Poisoned { .. }, .. })),
        "{e}"
    );
    assert!(
        e.core_fixups().iter().all(|f| f.poison),
        "{:?}",
        e.core_fixups()
    );
}

// ---- 9. owned Btf from an ELF or raw BTF ---------------------------------------------------

/// `Btf::from_file` takes an ELF object (its `.BTF`) or raw BTF, as `btf__parse` does.
#[test]
fn btf_from_elf_or_raw_file() {
    let elf = narrow_target();
    assert!(
        elf.find_by_name_kind("gap_pair___has_b", Kind::Struct)
            .is_some()
    );
    let raw_path = std::env::temp_dir().join(common::unique_name("gap_raw_btf"));
    std::fs::write(&raw_path, elf.raw_bytes()).unwrap();
    let raw = Btf::from_file(&raw_path);
    let _ = std::fs::remove_file(&raw_path);
    let raw = raw.expect("raw BTF");
    assert_eq!(raw.last_id(), elf.last_id());
    assert_eq!(raw.raw_bytes(), elf.raw_bytes());
    let e = Btf::from_bytes(b"\x7fELF not really".to_vec()).expect_err("not an ELF");
    assert!(
        e.to_string().contains("ELF") || e.to_string().contains("elf"),
        "{e}"
    );
}

// ---- 11. a loaded program knows its SEC() -------------------------------------------------

#[test]
fn loaded_program_knows_its_section() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/gap_hidden.bpf.o", Loader::new());
    assert_eq!(
        obj.program("call_hidden").unwrap().section(),
        Some("syscall")
    );
}

// ---- 6. veristat --size-maps ---------------------------------------------------------------

/// `veristat --help` says what `--size-maps` gives: libbpf tools' 10240 entries and 256 KiB
/// ring buffers. (The example is built by a plain `cargo test`; `cargo test --test
/// loader_gaps` alone does not build it.)
#[test]
fn veristat_help_says_how_maps_are_sized() {
    let exe = std::env::current_exe().unwrap();
    let Some(bin) = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("examples/veristat"))
        .filter(|p| p.exists())
    else {
        eprintln!("veristat_help_says_how_maps_are_sized: examples/veristat not built");
        return;
    };
    let out = std::process::Command::new(bin)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--size-maps"), "{help}");
    assert!(help.contains("10240 entries"), "{help}");
    assert!(help.contains("256 KiB"), "{help}");
}

/// Kfuncs of a kernel module (nf_conntrack's conntrack lookup): resolved in the module's BTF,
/// called with the module BTF's fd in `fd_array`, and their address checked; without the
/// module, 0 and dead code. Run with the module loaded:
/// `RAWBPF_VM_MODULES="nf_conntrack" ci/vm-test 6.12` (see the report of issue 12).
#[test]
fn module_kfunc_is_called_through_its_btf_fd() {
    if !common::privileged() {
        return;
    }
    let test = "module_kfunc_is_called_through_its_btf_fd";
    let has = common::supported(
        test,
        "kfunc:bpf_xdp_ct_lookup",
        "features::kfunc(\"bpf_xdp_ct_lookup\")",
        rawbpf::features::kfunc("bpf_xdp_ct_lookup"),
    );
    let obj = load("tests/bpf/gap_module_kfunc.bpf.o", Loader::new());
    let r = obj
        .program("ct_lookup")
        .unwrap()
        .test_run(TestRun::with_data(&[0u8; 64]))
        .expect("test_run");
    assert_eq!(r.retval, 2, "XDP_PASS");
    assert_eq!(obj.global::<i32>("has_ct_lookup").unwrap(), i32::from(has));
    assert_eq!(obj.global::<i32>("found").unwrap(), 0);
    // The lookup ran (ENOENT: no connection has an all-zero tuple) exactly when it exists.
    let expected = if has { -libc::ENOENT } else { 1 };
    assert_eq!(obj.global::<i32>("lookup_error").unwrap(), expected);
}
