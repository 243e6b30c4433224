//! BTF against the running kernel: vmlinux parsed by rawbpf agrees with bpftool.

mod common;

use rawbpf::btf::{Btf, Kind, TypeView};
use std::process::Command;
use std::sync::Arc;

/// `bpftool btf dump file /sys/kernel/btf/vmlinux format raw`, or `None` (skip) without bpftool.
fn bpftool_raw_dump() -> Option<String> {
    match Command::new("bpftool")
        .args([
            "btf",
            "dump",
            "file",
            "/sys/kernel/btf/vmlinux",
            "format",
            "raw",
        ])
        .output()
    {
        Ok(out) if out.status.success() => {
            Some(String::from_utf8(out.stdout).expect("bpftool output is UTF-8"))
        }
        Ok(out) => panic!("bpftool failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            if common::privilege_required() {
                panic!(
                    "bpftool not runnable ({e}) and RAWBPF_REQUIRE_PRIVILEGED=1 forbids skipping"
                );
            }
            eprintln!("SKIPPED: bpftool not runnable: {e}");
            None
        }
    }
}

fn field<'s>(line: &'s str, key: &str) -> Option<&'s str> {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn vmlinux_agrees_with_bpftool() {
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("SKIPPED: no /sys/kernel/btf/vmlinux");
        return;
    }
    let Some(dump) = bpftool_raw_dump() else {
        return;
    };
    let btf = Btf::from_kernel().expect("parse vmlinux BTF");
    let mut types = btf.types();
    let mut current: Option<rawbpf::btf::Type<'_>> = None;
    let mut member = 0usize;
    let (mut n_types, mut n_members) = (0, 0);
    for line in dump.lines() {
        if let Some(rest) = line.strip_prefix('[') {
            let (id, rest) = rest.split_once("] ").expect("[id] KIND");
            let kind = rest.split_whitespace().next().expect("kind");
            let name = rest.split('\'').nth(1).expect("quoted name");
            let t = types.next().expect("bpftool has more types than rawbpf");
            assert_eq!(t.id().to_string(), id);
            assert_eq!(t.kind().name(), kind, "kind of [{id}]");
            let ours = t.name().expect("name");
            assert_eq!(
                if ours.is_empty() { "(anon)" } else { ours },
                name,
                "name of [{id}]"
            );
            if let Some(size) = field(rest, "size") {
                assert_eq!(
                    btf.size_of(t.id()).expect("size").to_string(),
                    size,
                    "size of [{id}]"
                );
            }
            if let Some(vlen) = field(rest, "vlen") {
                assert_eq!(t.vlen().to_string(), vlen, "vlen of [{id}]");
            }
            current = Some(t);
            member = 0;
            n_types += 1;
        } else if let Some(t) = current.filter(|t| t.is_composite()) {
            let m = t
                .as_composite()
                .unwrap()
                .members()
                .nth(member)
                .expect("member");
            member += 1;
            let name = line.split('\'').nth(1).expect("member name");
            assert_eq!(
                m.name().unwrap(),
                if name == "(anon)" { "" } else { name },
                "member of [{}]",
                t.id()
            );
            assert_eq!(field(line, "type_id").unwrap(), m.type_id().to_string());
            assert_eq!(
                field(line, "bits_offset").unwrap(),
                m.bit_offset().to_string()
            );
            assert_eq!(
                field(line, "bitfield_size").unwrap_or("0"),
                m.bitfield_size().to_string()
            );
            n_members += 1;
        }
    }
    assert!(types.next().is_none(), "rawbpf has more types than bpftool");
    assert!(
        n_types > 1000 && n_members > 1000,
        "{n_types} types, {n_members} members"
    );

    // The fact the brief asks for: task_struct.pid's offset, as bpftool prints it.
    let in_dump = dump
        .split("STRUCT 'task_struct' ")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.trim_start().starts_with("'pid' ")))
        .and_then(|l| field(l, "bits_offset"))
        .expect("bpftool shows task_struct.pid");
    let task = btf
        .find_by_name_kind("task_struct", Kind::Struct)
        .expect("task_struct");
    let pid = task
        .as_composite()
        .unwrap()
        .member("pid")
        .expect("pid member");
    assert_eq!(pid.bit_offset().to_string(), in_dump);
    assert_eq!(btf.size_of(pid.type_id()).unwrap(), 4);
}

#[test]
fn kernel_btf_is_cached_and_views_every_kind() {
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        eprintln!("SKIPPED: no /sys/kernel/btf/vmlinux");
        return;
    }
    let a = Btf::from_kernel().unwrap();
    let b = Btf::from_kernel().unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    let fresh = Btf::from_kernel_uncached().unwrap();
    assert_eq!(fresh.len(), a.len());
    // Every type resolves its names, and sized kinds resolve a size without error.
    for t in a.types() {
        t.name().unwrap();
        match t.view() {
            TypeView::Struct(c) | TypeView::Union(c) => {
                for m in c.members() {
                    m.name().unwrap();
                    a.type_by_id(m.type_id()).unwrap();
                }
            }
            TypeView::Enum(e) | TypeView::Enum64(e) => {
                for v in e.values() {
                    v.name().unwrap();
                }
            }
            TypeView::FuncProto(p) => {
                for q in p.params() {
                    q.name().unwrap();
                }
            }
            _ => {}
        }
        if matches!(
            t.kind(),
            Kind::Struct | Kind::Union | Kind::Int | Kind::Ptr | Kind::Enum
        ) {
            a.size_of(t.id()).unwrap();
            a.align_of(t.id()).unwrap();
        }
    }
}

mod kernel_load {
    use super::common;
    use rawbpf::btf::{
        Btf, BtfBuilder, BtfHandle, BtfHandleError, FuncLinkage, IntEncoding, KernelBtfFeatures,
        Kind, NewMember, VarLinkage, VarSecinfo, sanitize,
    };

    /// Object-like BTF using every kind an object carries.
    fn object_btf() -> Vec<u8> {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let uint = b.add_int("unsigned int", 4, IntEncoding::empty());
        let chr = b.add_int("char", 1, IntEncoding::SIGNED);
        let arr = b.add_array(chr, int, 16);
        let ptr = b.add_ptr(int);
        let st = b
            .add_struct(
                "val",
                32,
                &[
                    NewMember::new("a", int, 0),
                    NewMember::bitfield("flags", uint, 32, 3),
                    NewMember::new("name", arr, 64),
                    NewMember::new("p", ptr, 192),
                ],
            )
            .unwrap();
        let proto = b.add_func_proto(int, &[("ctx", ptr)]).unwrap();
        let func = b.add_func("prog", proto, FuncLinkage::Global);
        b.add_decl_tag("tag", func, 0, false);
        let var = b.add_var("counter", st, VarLinkage::GlobalAllocated);
        b.add_datasec(
            ".data",
            32,
            &[VarSecinfo {
                type_id: var,
                offset: 0,
                size: 32,
            }],
        )
        .unwrap();
        b.add_float("double", 8);
        b.add_enum64("big", 8, false, &[("B", 1 << 40)]).unwrap();
        b.add_enum("e", 4, true, &[("NEG", -1)]).unwrap();
        b.encode()
    }

    #[test]
    fn load_and_read_back() {
        if !common::privileged() {
            return;
        }
        let bytes = object_btf();
        let h = BtfHandle::load(&bytes).expect("BTF_LOAD");
        let info = h.info().unwrap();
        assert!(!info.kernel_btf);
        assert_eq!(info.size as usize, bytes.len());
        assert_eq!(
            h.raw_bytes().unwrap(),
            bytes,
            "the kernel's copy equals what was loaded"
        );
        let back = h.to_btf().unwrap();
        assert_eq!(
            back.id_by_name_kind("val", Kind::Struct),
            Btf::parse(&bytes)
                .unwrap()
                .id_by_name_kind("val", Kind::Struct)
        );
        // By id, and listed among all BTF ids.
        assert!(BtfHandle::ids().unwrap().contains(&info.id));
        let again = BtfHandle::from_id(info.id).unwrap();
        assert_eq!(again.raw_bytes().unwrap(), bytes);
    }

    #[test]
    fn sanitized_btf_loads() {
        if !common::privileged() {
            return;
        }
        let bytes = object_btf();
        let btf = Btf::parse(&bytes).unwrap();
        for f in [
            KernelBtfFeatures::NONE,
            KernelBtfFeatures {
                enum64: false,
                ..KernelBtfFeatures::ALL
            },
            KernelBtfFeatures {
                datasec: false,
                float: false,
                ..KernelBtfFeatures::ALL
            },
            KernelBtfFeatures {
                func_global: false,
                decl_tag: false,
                type_tag: false,
                ..KernelBtfFeatures::ALL
            },
        ] {
            let clean = sanitize(&btf, f).unwrap();
            let h = BtfHandle::load(&clean).unwrap_or_else(|e| panic!("{f:?}: {e}"));
            assert_eq!(h.raw_bytes().unwrap(), clean);
        }
    }

    #[test]
    fn rejected_btf_carries_the_log() {
        if !common::privileged() {
            return;
        }
        // A PTR to a type that does not exist.
        let mut b = BtfBuilder::new();
        b.add_int("int", 4, IntEncoding::SIGNED);
        b.add_ptr(42);
        let err = BtfHandle::load(&b.encode()).unwrap_err();
        let BtfHandleError::Rejected { log, .. } = &err else {
            panic!("{err}")
        };
        assert!(!log.is_empty(), "{err}");
        assert!(err.to_string().contains("BPF_BTF_LOAD"), "{err}");
        assert!(matches!(
            BtfHandle::from_id(u32::MAX),
            Err(BtfHandleError::Syscall { .. })
        ));
    }

    #[test]
    fn vmlinux_by_id_matches_sysfs() {
        if !common::privileged() {
            return;
        }
        let vmlinux = BtfHandle::ids()
            .unwrap()
            .into_iter()
            .filter_map(|id| BtfHandle::from_id(id).ok())
            .find(|h| h.info().is_ok_and(|i| i.kernel_btf && i.name == "vmlinux"))
            .expect("vmlinux BTF object");
        let from_kernel = vmlinux.to_btf().unwrap();
        let sysfs = Btf::from_kernel().unwrap();
        assert_eq!(from_kernel.len(), sysfs.len());
        assert_eq!(from_kernel.raw_bytes(), sysfs.raw_bytes());
    }
}

/// `tests/data/btf_sample.bpf.o`, built by `clang-19 -O2 -g -target bpf -c btf_sample.bpf.c`.
mod clang_object {
    use rawbpf::btf::{Btf, BtfExt, CoreReloKind, Kind, TypeView, VarLinkage, format_value};

    const OBJ: &[u8] = include_bytes!("data/btf_sample.bpf.o");

    #[test]
    fn btf_and_ext_of_a_clang_object() {
        let btf = Btf::from_elf(OBJ).unwrap();
        // The BTF-defined map: __uint(max_entries, 16) is `int (*max_entries)[16]`.
        let maps = btf
            .find_by_name_kind(".maps", Kind::Datasec)
            .expect(".maps");
        let var = maps.as_datasec().unwrap().vars().next().unwrap();
        let v = btf.type_by_id(var.type_id).unwrap();
        assert_eq!(v.name().unwrap(), "m");
        assert_eq!(v.as_var().unwrap().linkage(), VarLinkage::GlobalAllocated);
        let def = btf
            .skip_mods_and_typedefs(v.as_var().unwrap().type_id())
            .unwrap();
        let me = def.as_composite().unwrap().member("max_entries").unwrap();
        let ptr = btf.type_by_id(me.type_id()).unwrap();
        let arr = btf
            .type_by_id(ptr.ref_type().unwrap())
            .unwrap()
            .as_array()
            .unwrap();
        assert_eq!(arr.nelems(), 16);
        // Bitfields with kind_flag, as clang emits them.
        let task = btf.find_by_name_kind("task", Kind::Struct).unwrap();
        let TypeView::Struct(c) = task.view() else {
            panic!()
        };
        assert!(task.kind_flag());
        let mode = c.member("mode").unwrap();
        assert_eq!((mode.bit_offset(), mode.bitfield_size()), (35, 5));
        let mut value = [0u8; 24];
        value[0] = 7;
        value[4] = 0b1010_1101;
        assert_eq!(c.member("comm").unwrap().bit_offset(), 40); // right after the 8 bitfield bits
        value[5..8].copy_from_slice(b"sh\0");
        assert_eq!(
            format_value(&btf, task.id(), &value).unwrap(),
            r#"{"pid":7,"flags":"0x5","mode":"0x15","comm":"sh"}"#
        );

        let ext = BtfExt::from_elf(OBJ).unwrap().expect(".BTF.ext");
        let fi = ext.func_info().next().unwrap();
        assert_eq!(fi.sec_name(&btf).unwrap(), "tracepoint/x");
        let f = btf
            .type_by_id(fi.records().next().unwrap().type_id)
            .unwrap();
        assert_eq!((f.kind(), f.name().unwrap()), (Kind::Func, "prog"));
        assert!(!ext.line_info().next().unwrap().is_empty());
        let relos: Vec<_> = ext.core_relos().flat_map(|s| s.records()).collect();
        assert!(
            relos
                .iter()
                .any(|r| r.kind == CoreReloKind::FieldByteOffset)
        );
        let access = btf.string(relos[0].access_str_off).unwrap();
        assert!(access.starts_with("0:"), "{access}");
    }
}

/// format_value against `bpftool map dump -j`'s `formatted` field, on real maps.
mod against_bpftool {
    use super::common;
    use rawbpf::btf::{
        BtfBuilder, BtfHandle, IntEncoding, NewMember, format_percpu_value, format_value,
    };
    use rawbpf::sys::{self, ElemFlags, MapCreateArgs, MapType};
    use serde_json::Value;
    use std::os::fd::AsFd;
    use std::process::Command;

    fn bpftool_formatted(map_id: u32) -> Option<Value> {
        let out = match Command::new("bpftool")
            .args(["map", "dump", "id", &map_id.to_string(), "-j"])
            .output()
        {
            Ok(o) => o,
            Err(e) => {
                assert!(!common::privilege_required(), "bpftool not runnable: {e}");
                eprintln!("SKIPPED: bpftool not runnable: {e}");
                return None;
            }
        };
        assert!(
            out.status.success(),
            "bpftool: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("bpftool prints JSON");
        Some(v[0]["formatted"].clone())
    }

    #[test]
    fn struct_value_matches_bpftool() {
        if !common::privileged() {
            return;
        }
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let uint = b.add_int("unsigned int", 4, IntEncoding::empty());
        let chr = b.add_int("char", 1, IntEncoding::SIGNED);
        let u8_ = b.add_int("unsigned char", 1, IntEncoding::empty());
        let u64_ = b.add_int("long long unsigned int", 8, IntEncoding::empty());
        let boolean = b.add_int("_Bool", 1, IntEncoding::BOOL);
        let name = b.add_array(chr, int, 8);
        let raw = b.add_array(u8_, int, 3);
        let color = b
            .add_enum("color", 4, false, &[("RED", 0), ("GREEN", 1)])
            .unwrap();
        let e64 = b.add_enum64("big", 8, false, &[("HUGE", 1 << 40)]).unwrap();
        let anon = b
            .add_union(
                "",
                4,
                &[NewMember::new("x", uint, 0), NewMember::new("y", int, 0)],
            )
            .unwrap();
        let value = b
            .add_struct(
                "val",
                48,
                &[
                    NewMember::new("i", int, 0),
                    NewMember::new("name", name, 32),
                    NewMember::new("raw", raw, 96),
                    NewMember::bitfield("flags", uint, 128, 3),
                    NewMember::bitfield("mode", uint, 131, 5),
                    NewMember::new("c1", color, 160),
                    NewMember::new("c2", color, 192),
                    NewMember::new("", anon, 224),
                    NewMember::new("big", e64, 256),
                    NewMember::new("n", u64_, 320),
                    NewMember::new("ok", boolean, 352),
                ],
            )
            .unwrap();
        let bytes = b.encode();
        let btf = rawbpf::btf::Btf::parse(&bytes).unwrap();
        let handle = BtfHandle::load(&bytes).unwrap();
        let map = sys::map_create(&MapCreateArgs {
            map_type: MapType::ARRAY,
            key_size: 4,
            value_size: 48,
            max_entries: 1,
            name: "btf_fmt",
            btf: Some(handle.as_fd()),
            btf_key_type_id: int,
            btf_value_type_id: value,
            ..Default::default()
        })
        .expect("map with BTF");
        let mut v = [0u8; 48];
        v[0..4].copy_from_slice(&(-5i32).to_ne_bytes());
        v[4..9].copy_from_slice(b"eth0\0");
        v[12..15].copy_from_slice(&[1, 2, 3]);
        v[16] = 0b1010_1101;
        v[20..24].copy_from_slice(&1u32.to_ne_bytes());
        v[24..28].copy_from_slice(&7u32.to_ne_bytes());
        v[28..32].copy_from_slice(&0xffff_fffeu32.to_ne_bytes());
        v[32..40].copy_from_slice(&(1u64 << 40).to_ne_bytes());
        v[40..44].copy_from_slice(&u32::MAX.to_ne_bytes()); // n: 8 bytes at bit 320 = byte 40
        v[44] = 1;
        sys::map_update_elem(&map, &0u32.to_ne_bytes(), &v, ElemFlags::empty()).unwrap();
        let id = sys::map_info(map.as_fd()).unwrap().id;
        let Some(formatted) = bpftool_formatted(id) else {
            return;
        };
        let ours: Value = serde_json::from_str(&format_value(&btf, value, &v).unwrap()).unwrap();
        assert_eq!(formatted["value"], ours, "bpftool vs rawbpf");
        let key: Value = serde_json::from_str(&format_value(&btf, int, &[0; 4]).unwrap()).unwrap();
        assert_eq!(formatted["key"], key);
    }

    #[test]
    fn percpu_value_matches_bpftool() {
        if !common::privileged() {
            return;
        }
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let u16_ = b.add_int("short unsigned int", 2, IntEncoding::empty());
        let bytes = b.encode();
        let btf = rawbpf::btf::Btf::parse(&bytes).unwrap();
        let handle = BtfHandle::load(&bytes).unwrap();
        let map = sys::map_create(&MapCreateArgs {
            map_type: MapType::PERCPU_ARRAY,
            key_size: 4,
            value_size: 2,
            max_entries: 1,
            name: "btf_pcpu",
            btf: Some(handle.as_fd()),
            btf_key_type_id: int,
            btf_value_type_id: u16_,
            ..Default::default()
        })
        .expect("percpu map with BTF");
        let ncpus = sys::cpus::possible_cpus().unwrap();
        let mut v = vec![0u8; 8 * ncpus];
        for cpu in 0..ncpus {
            v[cpu * 8..cpu * 8 + 2].copy_from_slice(&(100 + cpu as u16).to_ne_bytes());
        }
        sys::map_update_elem(&map, &0u32.to_ne_bytes(), &v, ElemFlags::empty()).unwrap();
        let id = sys::map_info(map.as_fd()).unwrap().id;
        let Some(formatted) = bpftool_formatted(id) else {
            return;
        };
        let ours: Value =
            serde_json::from_str(&format_percpu_value(&btf, u16_, &v, ncpus).unwrap()).unwrap();
        assert_eq!(formatted["values"], ours, "bpftool vs rawbpf");
    }
}
