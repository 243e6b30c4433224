//! Fuzzes ELF object parsing, linking and relocation: arbitrary bytes must give an
//! `ObjectSpec` or an `ObjError`, never a panic, and everything done with a parsed spec
//! (linking every program, applying relocations) must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rawbpf::obj::{ExternValue, ObjectSpec, apply_relocations, link_program};

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = ObjectSpec::parse(data) else {
        return;
    };
    for prog in &spec.programs {
        let _ = prog.section_def();
        if let Ok(mut linked) = link_program(&spec, prog) {
            let _ = apply_relocations(
                &prog.name,
                &mut linked.insns,
                &linked.relocations,
                &|map| Some(map as i32 + 3),
                &|_| Some(ExternValue::Address(0)),
            );
        }
    }
});
