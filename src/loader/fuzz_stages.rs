//! The loader's pure stages in one call, for the fuzz targets in `fuzz/` (hidden; not an API).
//!
//! [`loader_stages`] runs everything [`Loader::load`](super::Loader::load) does before and
//! around its system calls, on a parsed object, against a fixed kernel BTF, kernel config and
//! kallsyms: the object BTF as it would be sent (sanitized for no features and for all),
//! `.kconfig` encoding, ksym/kfunc resolution, the effective map definitions under overrides
//! (with the checks made before `BPF_MAP_CREATE`), linking and relocation of every program,
//! CO-RE against a target BTF, the `func_info`/`line_info` it would send, and load parameters.
//! Every failure is an error value; nothing may panic or run for long.

use std::sync::{Arc, OnceLock};

use crate::btf::core::{Relocator, apply_fixup};
use crate::btf::{Btf, BtfBuilder, FuncLinkage, IntEncoding, KernelBtfFeatures, NewMember};
use crate::btf::{VarLinkage, sanitize};
use crate::obj::{ObjectSpec, apply_relocations, link_program};

use super::kallsyms::Kallsyms;
use super::kconfig::KernelConfig;
use super::{Loader, externs, maps, programs};

/// A small kernel BTF: the types, kfuncs, variables and attach targets the test objects name
/// (`task_struct`, `bpf_task_from_pid`, `bpf_prog_active`, `btf_trace_sched_switch`, …).
pub fn mini_kernel_btf() -> Arc<Btf<'static>> {
    static K: OnceLock<Arc<Btf<'static>>> = OnceLock::new();
    Arc::clone(K.get_or_init(|| {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let long = b.add_int("long", 8, IntEncoding::SIGNED);
        let char_ = b.add_int("char", 1, IntEncoding::CHAR);
        let u64_ = b.add_int("long long unsigned int", 8, IntEncoding::empty());
        let comm = b.add_array(char_, int, 16);
        let task = b.next_id();
        let task_ptr = task + 1;
        b.add_struct(
            "task_struct",
            64,
            &[
                NewMember::new("pid", int, 0),
                NewMember::new("tgid", int, 32),
                NewMember::new("real_parent", task_ptr, 64),
                NewMember::new("comm", comm, 128),
                NewMember::new("flags", long, 256),
                NewMember::new("start_time", u64_, 320),
            ],
        )
        .expect("task_struct");
        b.add_ptr(task);
        let proto = b.add_func_proto(task_ptr, &[("pid", int)]).expect("proto");
        b.add_func("bpf_task_from_pid", proto, FuncLinkage::Global);
        let release = b.add_func_proto(0, &[("p", task_ptr)]).expect("proto");
        b.add_func("bpf_task_release", release, FuncLinkage::Global);
        b.add_var("bpf_prog_active", int, VarLinkage::GlobalAllocated);
        b.add_var("runqueues", long, VarLinkage::GlobalAllocated);
        let tp = b.add_func_proto(0, &[("ctx", u64_)]).expect("proto");
        let tp_ptr = b.add_ptr(tp);
        b.add_typedef("btf_trace_sched_switch", tp_ptr);
        b.add_func("bpf_lsm_file_open", tp, FuncLinkage::Global);
        b.add_func("do_unlinkat", tp, FuncLinkage::Global);
        b.add_enum(
            "bpf_map_type",
            4,
            false,
            &[("BPF_MAP_TYPE_UNSPEC", 0), ("BPF_MAP_TYPE_RINGBUF", 27)],
        )
        .expect("enum");
        Arc::new(Btf::parse_owned(b.encode()).expect("mini kernel BTF"))
    }))
}

const CONFIG: &str = "CONFIG_BPF=y\nCONFIG_BPF_SYSCALL=y\nCONFIG_BPF_JIT=y\nCONFIG_HZ=250\n\
CONFIG_HZ_250=y\nCONFIG_DEFAULT_HOSTNAME=\"(none)\"\nCONFIG_MODULES=m\nCONFIG_NR_CPUS=0x40\n\
CONFIG_NEG=-1\n# CONFIG_KPROBES is not set\nCONFIG_STR=\"a\\\"b\"\n";

const KALLSYMS: &str = "ffffffff81000000 T _text\nffffffff81001000 t bpf_prog_put\n\
ffffffff81002000 D bpf_prog_active\nffffffff81003000 T bpf_get_current_task\n";

/// Runs the loader's pure stages on `spec`; `knobs` picks overrides and features. Returns the
/// number of stages that succeeded (the fuzz target ignores it; tests can look).
pub fn loader_stages(spec: &ObjectSpec, knobs: &[u8], targets: &[&Btf<'_>]) -> usize {
    let kernel = mini_kernel_btf();
    let knob = |i: usize| knobs.get(i).copied().unwrap_or(0);
    let mut ok = 0;
    // Stage 2: the object BTF as it would be sent.
    let obj_btf = spec.btf.as_deref().and_then(|b| Btf::parse(b).ok());
    if let Some(b) = &obj_btf {
        for f in [KernelBtfFeatures::NONE, KernelBtfFeatures::ALL] {
            if let Ok(clean) = sanitize(b, f) {
                assert!(Btf::parse(&clean).is_ok(), "sanitized BTF must parse");
                ok += 1;
            }
        }
    }
    // Stage 3: externs.
    let kconfig = externs::kconfig_data_with(spec, obj_btf.as_ref(), &kernel, || {
        (knob(0) & 1 == 0).then(|| KernelConfig::parse(CONFIG))
    });
    let ksyms = externs::resolve_ksyms_with(spec, &kernel, || Ok(Kallsyms::parse(KALLSYMS)));
    ok += kconfig.is_ok() as usize + ksyms.is_ok() as usize;
    let ksyms = ksyms.unwrap_or_default();
    // Stage 4: map definitions under overrides, checked as before MAP_CREATE.
    let mut loader = Loader::new();
    if let Some(m) = spec.maps.get(usize::from(knob(1)) % spec.maps.len().max(1)) {
        let n = u32::from_le_bytes([knob(2), knob(3), knob(4), knob(5)]);
        loader = match knob(6) % 4 {
            0 => loader.map_max_entries(&m.name, n),
            1 => loader.map_value_size(&m.name, n),
            2 => loader.map_flags(&m.name, n),
            _ => loader,
        };
        if let Some(v) = m.variables.first() {
            let len = if knob(6) & 4 != 0 {
                v.size as usize + 1
            } else {
                v.size as usize
            };
            loader = loader.set_global_bytes(&v.name, &vec![0xa5; len.min(1 << 16)]);
        }
    }
    if let Ok(specs) = loader.map_specs(spec, kconfig.ok().flatten()) {
        ok += 1;
        for m in &specs {
            let _ = maps::check_before_create(m);
        }
    }
    // Stage 5: link, relocate, CO-RE, what would be sent.
    for p in &spec.programs {
        let Ok(mut linked) = link_program(spec, p) else {
            continue;
        };
        let relocs = std::mem::take(&mut linked.relocations);
        if apply_relocations(
            &p.name,
            &mut linked.insns,
            &relocs,
            &|i| Some(i as i32 + 3),
            &|i| ksyms.values.get(i).copied().flatten(),
        )
        .is_ok()
        {
            ok += 1;
        }
        let _ = programs::encode_func_info(&linked);
        let _ = programs::encode_line_info(&linked);
        let _ = programs::load_params(p, None, &kernel);
        if let Some(local) = &obj_btf {
            for target in targets.iter().copied().chain([&*kernel, local]) {
                let mut r = Relocator::new(local, target);
                let mut insns = linked.insns.clone();
                if r.relocate(&mut insns, &linked.core_relos).is_ok() {
                    ok += 1;
                }
                for (i, c) in linked.core_relos.iter().enumerate() {
                    if let Ok(f) = r.compute(i, c) {
                        let mut insns = linked.insns.clone();
                        let _ = apply_fixup(&mut insns, &f);
                    }
                }
            }
        }
    }
    ok
}

/// `/proc/kallsyms` text: parsed, every name looked up. Returns how many names resolve.
pub fn kallsyms(text: &str) -> usize {
    let k = Kallsyms::parse(text);
    text.lines()
        .filter_map(|l| l.split_ascii_whitespace().nth(2))
        .filter(|n| k.address(n).is_some())
        .count()
}

/// Kernel config text: parsed, every value encoded for every extern type a `.kconfig` extern
/// can have (each into a slot of exactly its size). Returns how many encodings succeed.
pub fn kconfig(text: &str) -> usize {
    use super::kconfig::{KconfigType, encode};
    let cfg = KernelConfig::parse(text);
    let mut ok = 0;
    let types = [
        (KconfigType::Bool, 1),
        (KconfigType::Char, 1),
        (KconfigType::Tristate, 4),
        (
            KconfigType::Int {
                size: 1,
                signed: true,
            },
            1,
        ),
        (
            KconfigType::Int {
                size: 2,
                signed: false,
            },
            2,
        ),
        (
            KconfigType::Int {
                size: 4,
                signed: true,
            },
            4,
        ),
        (
            KconfigType::Int {
                size: 8,
                signed: false,
            },
            8,
        ),
        (
            KconfigType::Int {
                size: 8,
                signed: true,
            },
            8,
        ),
        (KconfigType::CharArray { len: 1 }, 1),
        (KconfigType::CharArray { len: 16 }, 16),
    ];
    for line in text.lines() {
        let name = line
            .trim()
            .trim_start_matches("# ")
            .split(['=', ' '])
            .next()
            .unwrap_or("");
        let Some(v) = cfg.get(name) else { continue };
        for (ty, size) in types {
            let mut slot = vec![0u8; size];
            ok += encode(name, v, ty, &mut slot).is_ok() as usize;
        }
    }
    ok
}

/// The gzip reader behind `/proc/config.gz`.
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, String> {
    super::inflate::gunzip(data).map_err(|e| e.to_string())
}
