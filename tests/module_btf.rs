//! CO-RE against kernel modules' split BTF. `tests/bpf/core_module.bpf.o` asks about
//! `struct veth_priv`/`struct veth_rq` (veth.ko) and `struct tcf_bpf` (act_bpf.ko). On
//! Debian's kernels (ci/vm-test's guests, which load both modules at boot) only the modules'
//! BTF (`/sys/kernel/btf/veth`, `/sys/kernel/btf/act_bpf`) has them: the loader must find
//! the candidates there, since vmlinux has none, and every answer must equal what that BTF
//! says, read here member by member. A kernel may also have them built in (then vmlinux's
//! types are used: this host has veth built in) or not at all (existence answers 0, and a
//! program asking offsets or sizes is rejected with a CO-RE error naming the relocation it
//! reaches: this host has no act_bpf).
//!
//! `RAWBPF_EXPECT_FEATURES` containing `module_btf` makes "no BTF for veth.ko" a failure.

mod common;

use std::path::Path;

use rawbpf::btf::core::{CoreError, Relocator};
use rawbpf::btf::{Btf, CoreReloKind, Kind, kernel_modules_with_btf};
use rawbpf::loader::{LoadError, Loader, Object};
use rawbpf::obj::{ObjectSpec, link_program};
use rawbpf::prog::TestRun;

const OBJ: &[u8] = include_bytes!("bpf/core_module.bpf.o");
const PROBE: &str = "/sys/kernel/btf/veth";

fn spec() -> ObjectSpec {
    ObjectSpec::parse_named("core_module", OBJ).expect("parse core_module.bpf.o")
}

/// Where the running kernel's BTF has a struct.
enum Origin {
    /// In vmlinux (the module is built in).
    Vmlinux(std::sync::Arc<Btf<'static>>),
    /// In the split BTF of module `name`, the `index`-th (1-based) of
    /// [`kernel_modules_with_btf`], which is how the relocator numbers them.
    Module {
        name: &'static str,
        index: usize,
        btf: Box<Btf<'static>>,
    },
    /// Nowhere.
    Nowhere,
}

impl Origin {
    fn btf(&self) -> Option<&Btf<'static>> {
        match self {
            Origin::Vmlinux(b) => Some(b),
            Origin::Module { btf, .. } => Some(btf),
            Origin::Nowhere => None,
        }
    }

    /// The relocator's `Fixup::target_btf` for a candidate found here.
    fn target_btf(&self) -> Option<usize> {
        match self {
            Origin::Vmlinux(_) => Some(0),
            Origin::Module { index, .. } => Some(*index),
            Origin::Nowhere => None,
        }
    }
}

/// Finds `struct strukt` in vmlinux, else in module `module`'s BTF, independently of CO-RE.
fn origin(strukt: &str, module: &'static str) -> Origin {
    let Ok(vmlinux) = Btf::from_kernel() else {
        return Origin::Nowhere;
    };
    if vmlinux.find_by_name_kind(strukt, Kind::Struct).is_some() {
        return Origin::Vmlinux(vmlinux);
    }
    let index = kernel_modules_with_btf()
        .unwrap_or_default()
        .iter()
        .position(|m| m == module);
    let Some(index) = index else {
        return Origin::Nowhere;
    };
    let btf = Btf::from_kernel_module(module).unwrap_or_else(|e| panic!("{module} BTF: {e}"));
    let t = btf
        .find_by_name_kind(strukt, Kind::Struct)
        .unwrap_or_else(|| panic!("{module}'s BTF lacks struct {strukt}"));
    assert!(
        t.id() >= btf.first_id(),
        "struct {strukt} is in the split part of {module}'s BTF"
    );
    Origin::Module {
        name: module,
        index: index + 1,
        btf: Box::new(btf),
    }
}

/// veth's types: where they are. Fails the test when the kernel has no BTF for veth.ko but
/// `RAWBPF_EXPECT_FEATURES` says it must (Debian's kernels build veth as a module).
fn veth_origin() -> Origin {
    let o = origin("veth_priv", "veth");
    let expected = std::env::var("RAWBPF_EXPECT_FEATURES")
        .is_ok_and(|v| v.split(',').any(|f| f.trim() == "module_btf"));
    if !Path::new(PROBE).exists() {
        assert!(
            !expected,
            "RAWBPF_EXPECT_FEATURES says this kernel has module BTF, but {PROBE} does not exist (is veth.ko loaded?)"
        );
        eprintln!("module_btf: no module BTF on this kernel (probe: {PROBE})");
    } else if expected {
        assert!(
            matches!(o, Origin::Module { name: "veth", .. }),
            "{PROBE} exists, yet veth_priv is not (only) in it"
        );
    }
    o
}

fn act_origin() -> Origin {
    origin("tcf_bpf", "act_bpf")
}

fn member<'b>(btf: &'b Btf<'_>, strukt: &str, field: &str) -> Option<rawbpf::btf::Member<'b>> {
    btf.find_by_name_kind(strukt, Kind::Struct)?
        .as_composite()?
        .member(field)
}

/// Byte offset of `strukt.field`, read from the BTF.
fn offset(btf: &Btf<'_>, strukt: &str, field: &str) -> u32 {
    let m = member(btf, strukt, field).unwrap_or_else(|| panic!("BTF: no {strukt}.{field}"));
    assert_eq!(m.bit_offset() % 8, 0, "{strukt}.{field} is a bitfield");
    m.bit_offset() / 8
}

fn struct_size(btf: &Btf<'_>, strukt: &str) -> u32 {
    btf.find_by_name_kind(strukt, Kind::Struct)
        .and_then(|t| t.as_composite())
        .map(|c| c.byte_size())
        .unwrap_or_else(|| panic!("BTF: no struct {strukt}"))
}

fn load(prog: &str) -> Result<Object, LoadError> {
    Loader::new().load_only(prog).load(&spec())
}

fn load_ok(prog: &str) -> Object {
    load(prog).unwrap_or_else(|e| panic!("{prog}: {e}\n{:?}", e.verifier_log()))
}

/// Runs `SEC("syscall")` program `prog` once.
fn run(obj: &Object, prog: &str) {
    let mut ctx = [0u8; 8];
    let r = obj
        .program(prog)
        .expect("program")
        .test_run(TestRun::with_ctx(&mut ctx))
        .expect("BPF_PROG_TEST_RUN");
    assert_eq!(r.retval, 0);
}

fn globals(obj: &Object, names: &[&str]) -> Vec<(String, u32)> {
    names
        .iter()
        .map(|n| (n.to_string(), obj.global::<u32>(n).expect(n)))
        .collect()
}

fn named(pairs: &[(&str, u32)]) -> Vec<(String, u32)> {
    pairs.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

/// The program that reaches a relocation of a type no BTF has is rejected, and the error
/// names that relocation (its first instruction, `insn` 0).
fn assert_poisoned(prog: &str, relo: &str) {
    let err = load(prog).expect_err("its relocations are poisoned");
    let msg = err.to_string();
    let LoadError::Program {
        program, source, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(program, prog);
    let LoadError::Core {
        source:
            CoreError::Poisoned {
                insn,
                kind,
                relo: r,
                ..
            },
        log: Some(log),
    } = &**source
    else {
        panic!("{source:?}")
    };
    assert_eq!(*insn, 0);
    assert_eq!(*kind, CoreReloKind::FieldByteOffset);
    assert_eq!(r, relo);
    assert!(
        log.as_str().contains("unknown#195896080"),
        "{}",
        log.as_str()
    );
    assert!(msg.contains(relo), "{msg}");
}

fn describe(o: &Origin) -> String {
    match o {
        Origin::Vmlinux(_) => "vmlinux".into(),
        Origin::Module { name, index, .. } => format!("module {name} (#{index})"),
        Origin::Nowhere => "no BTF".into(),
    }
}

#[test]
fn existence_questions_are_answered_from_the_btf_that_has_the_type() {
    if !common::privileged() {
        return;
    }
    let veth = veth_origin();
    let act = act_origin();
    let obj = load_ok("probe_module");
    run(&obj, "probe_module");
    let got = globals(
        &obj,
        &[
            "te_priv",
            "te_rq",
            "te_act",
            "te_none",
            "fe_rq",
            "fe_headroom",
            "fe_page_pool",
            "fe_act_name",
            "fe_fake",
            "probe_runs",
        ],
    );
    let has_veth = u32::from(veth.btf().is_some());
    let has_act = u32::from(act.btf().is_some());
    let page_pool = veth
        .btf()
        .is_some_and(|b| member(b, "veth_rq", "page_pool").is_some());
    let want = named(&[
        ("te_priv", has_veth),
        ("te_rq", has_veth),
        ("te_act", has_act),
        ("te_none", 0),
        ("fe_rq", has_veth),
        ("fe_headroom", has_veth),
        // 6.12's veth_rq has a page_pool, 6.1's does not.
        ("fe_page_pool", u32::from(page_pool)),
        ("fe_act_name", has_act),
        ("fe_fake", 0),
        ("probe_runs", 1),
    ]);
    assert_eq!(got, want);
    eprintln!(
        "module_btf: veth types in {}, tcf_bpf in {}; veth_rq.page_pool {}",
        describe(&veth),
        describe(&act),
        if page_pool { "present" } else { "absent" }
    );
}

#[test]
fn veth_offsets_and_sizes_are_those_of_its_btf() {
    if !common::privileged() {
        return;
    }
    let o = veth_origin();
    let Some(btf) = o.btf() else {
        // No BTF has veth_priv: its offsets are poisoned; the first reached is `peer`'s.
        assert_poisoned("veth_layout", "struct veth_priv.peer (0:3)");
        return;
    };
    let obj = load_ok("veth_layout");
    run(&obj, "veth_layout");
    let got = globals(
        &obj,
        &[
            "off_peer",
            "off_dropped",
            "off_rq",
            "off_headroom",
            "sz_headroom",
            "sz_priv",
            "off_rq_xdp_prog",
            "layout_runs",
        ],
    );
    let headroom = member(btf, "veth_priv", "requested_headroom").expect("requested_headroom");
    let want = named(&[
        ("off_peer", offset(btf, "veth_priv", "peer")),
        ("off_dropped", offset(btf, "veth_priv", "dropped")),
        ("off_rq", offset(btf, "veth_priv", "rq")),
        (
            "off_headroom",
            offset(btf, "veth_priv", "requested_headroom"),
        ),
        (
            "sz_headroom",
            btf.size_of(headroom.type_id()).expect("size"),
        ),
        ("sz_priv", struct_size(btf, "veth_priv")),
        ("off_rq_xdp_prog", offset(btf, "veth_rq", "xdp_prog")),
        ("layout_runs", 1),
    ]);
    assert_eq!(got, want, "veth types in {}", describe(&o));
    eprintln!("module_btf: veth types in {}: {got:?}", describe(&o));
    // The local declaration has other offsets: the values are not the compiler's.
    assert_ne!(got[0].1, 24, "off_peer left as compiled");
}

#[test]
fn act_bpf_offsets_and_sizes_are_those_of_its_btf() {
    if !common::privileged() {
        return;
    }
    let o = act_origin();
    let Some(btf) = o.btf() else {
        assert_poisoned("act_layout", "struct tcf_bpf.filter (0:2)");
        return;
    };
    let obj = load_ok("act_layout");
    run(&obj, "act_layout");
    let got = globals(
        &obj,
        &[
            "off_act_filter",
            "off_act_ops",
            "off_act_name",
            "sz_act",
            "act_runs",
        ],
    );
    let want = named(&[
        ("off_act_filter", offset(btf, "tcf_bpf", "filter")),
        ("off_act_ops", offset(btf, "tcf_bpf", "bpf_ops")),
        ("off_act_name", offset(btf, "tcf_bpf", "bpf_name")),
        ("sz_act", struct_size(btf, "tcf_bpf")),
        ("act_runs", 1),
    ]);
    assert_eq!(got, want, "tcf_bpf in {}", describe(&o));
    eprintln!("module_btf: tcf_bpf in {}: {got:?}", describe(&o));
}

#[test]
fn fixups_name_the_btf_their_candidate_comes_from() {
    // No root needed: the relocator reads /sys/kernel/btf, as the loader's does.
    let Ok(vmlinux) = Btf::from_kernel() else {
        return;
    };
    let veth = veth_origin();
    let act = act_origin();
    let spec = spec();
    let local = Btf::parse_owned(spec.btf.clone().expect(".BTF")).expect("parse .BTF");
    let mut relocator = Relocator::new(&local, &vmlinux).with_kernel_modules();
    let mut seen = 0;
    for p in &spec.programs {
        let mut linked = link_program(&spec, p).expect("link");
        let fixups = relocator
            .relocate(&mut linked.insns, &linked.core_relos)
            .unwrap_or_else(|e| panic!("{}: {e}", p.name));
        for f in &fixups {
            seen += 1;
            let d = f.description.as_str();
            let o = if d.starts_with("struct veth_") {
                &veth
            } else if d.starts_with("struct tcf_bpf") {
                &act
            } else {
                assert!(d.starts_with("struct rawbpf_no_such_module_type"), "{f:?}");
                &Origin::Nowhere
            };
            let exists = matches!(f.kind, CoreReloKind::TypeExists | CoreReloKind::FieldExists);
            // Which relocations have a match: all where the type is, except the field no
            // kernel has and veth_rq.page_pool where veth_rq lacks it.
            let matched = o.btf().is_some_and(|b| {
                !d.starts_with("struct veth_priv___rawbpf.no_such_field")
                    && (!d.starts_with("struct veth_rq.page_pool")
                        || member(b, "veth_rq", "page_pool").is_some())
            });
            if !matched {
                // As in libbpf: type-based answers (existence, size) are a clean 0, field
                // existence too; a field's offset or size is poisoned.
                let type_based =
                    matches!(f.kind, CoreReloKind::TypeExists | CoreReloKind::TypeSize);
                assert_eq!(f.target_type, None, "{f:?}");
                assert_eq!(f.poison, !(exists || type_based), "{f:?}");
                if !f.poison {
                    assert_eq!(f.target_value, 0, "{f:?}");
                }
                continue;
            }
            let btf = o.btf().expect("matched");
            assert!(!f.poison, "{f:?}");
            // The candidate says which BTF it is in: the module's own number, and its id is
            // in that module's split part.
            assert_eq!(Some(f.target_btf), o.target_btf(), "{f:?}");
            let id = f.target_type.expect("a candidate matched");
            if let Origin::Module { .. } = o {
                assert!(id >= btf.first_id(), "{f:?}");
            }
            let name = btf.type_by_id(id).and_then(|t| t.name()).expect("name");
            let root = d.split(['.', ' ']).nth(1).expect("struct name");
            assert_eq!(name, root.split("___").next().unwrap_or(root), "{f:?}");
            if exists {
                assert_eq!(f.target_value, 1, "{f:?}");
            }
        }
    }
    // probe_module: 9, veth_layout: 7, act_layout: 4.
    assert_eq!(seen, 20);
}
