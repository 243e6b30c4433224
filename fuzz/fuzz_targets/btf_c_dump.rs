//! Arbitrary bytes as BTF (and as split BTF over a base cut from the same bytes) written as a C
//! header: sorted, in id order, and from a few root ids. Errors are fine; nothing may panic or
//! hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rawbpf::btf::{Btf, CDumpOptions, write_c_header};
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, rest)) = data.split_first() else { return };
    if let Ok(btf) = Btf::parse(rest) {
        dump(&btf, knobs);
    }
    // The next byte says where to cut: base BTF before, split BTF after.
    let Some((&cut, rest)) = rest.split_first() else { return };
    let cut = (cut as usize * 4).min(rest.len());
    let (base, split) = rest.split_at(cut);
    let Ok(base) = Btf::parse(base) else { return };
    if let Ok(s) = Btf::parse_split(split, Arc::new(base)) {
        dump(&s, knobs);
    }
});

fn dump(btf: &Btf<'_>, knobs: u8) {
    let mut sink = std::io::sink();
    let _ = write_c_header(btf, &mut sink, &CDumpOptions::new());
    let _ = write_c_header(btf, &mut sink, &CDumpOptions::new().sorted(false).kfuncs(knobs & 1 == 0));
    // Roots: every `step`-th id from the last one down, and one past the end.
    let last = btf.last_id();
    let step = (knobs >> 1) as u32 + 1;
    let roots = (0..=last).rev().step_by(step as usize).chain([last + 1]);
    let _ = write_c_header(btf, &mut sink, &CDumpOptions::new().root_ids(roots));
}
