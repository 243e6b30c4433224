//! The loader's pure stages on a parsed object: the BTF it would send (sanitized), `.kconfig`
//! encoding and ksym/kfunc resolution against a fixed kernel BTF, config and kallsyms, map
//! definitions under overrides (checked as before `BPF_MAP_CREATE`), linking, relocation,
//! CO-RE of every program against fixed targets, the `func_info`/`line_info` and load
//! parameters. Nothing may panic.
//!
//! Input: `[8 knob bytes][ELF object]`; the knobs pick a map override and the config.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rawbpf::btf::Btf;
use rawbpf::obj::ObjectSpec;

const TARGET_A: &[u8] = include_bytes!("../../tests/bpf/core_target_a.bpf.o");
const TARGET_B: &[u8] = include_bytes!("../../tests/bpf/core_target_b.bpf.o");

fn targets() -> &'static [Btf<'static>] {
    static T: OnceLock<Vec<Btf<'static>>> = OnceLock::new();
    T.get_or_init(|| {
        [TARGET_A, TARGET_B]
            .iter()
            .map(|o| Btf::from_elf(o).expect("target BTF"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (knobs, obj) = data.split_at(8);
    let Ok(spec) = ObjectSpec::parse(obj) else {
        return;
    };
    let t: Vec<&Btf<'_>> = targets().iter().collect();
    let _ = rawbpf::__fuzz::loader_stages(&spec, knobs, &t);
});
