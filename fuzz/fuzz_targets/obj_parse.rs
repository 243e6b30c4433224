//! Fuzzes ELF object parsing, linking and relocation: arbitrary bytes must give an
//! `ObjectSpec` or an `ObjError`, never a panic, and everything done with a parsed spec
//! (linking every program, applying relocations) must not panic either. The relocation
//! callbacks fail too (no fd for a map, no value for an extern) as the last byte of the
//! input decides, so their error branches run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rawbpf::obj::{ExternValue, ObjectSpec, apply_relocations, link_program};

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = ObjectSpec::parse(data) else {
        return;
    };
    let knob = data.last().copied().unwrap_or(0);
    for prog in &spec.programs {
        let _ = prog.section_def();
        if let Ok(mut linked) = link_program(&spec, prog) {
            let _ = apply_relocations(
                &prog.name,
                &mut linked.insns,
                &linked.relocations,
                &|map| (knob & 1 == 0 || map % 2 == 0).then_some(map as i32 + 3),
                &|ext| match (knob >> 1) % 4 {
                    0 => Some(ExternValue::Address(0)),
                    1 => None,
                    2 => Some(ExternValue::BtfVar {
                        btf_id: ext as u32 + 1,
                        btf_fd: 0,
                    }),
                    _ => Some(ExternValue::MissingKfunc),
                },
            );
        }
    }
});
