//! Parses arbitrary bytes as BTF (and as .BTF.ext), walks every type, resolves sizes, looks
//! names up, formats a value of every type, sanitizes and re-encodes. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use rawbpf::btf::{Btf, BtfBuilder, BtfExt, KernelBtfFeatures, TypeView, format_value, sanitize};

fuzz_target!(|data: &[u8]| {
    if let Ok(ext) = BtfExt::parse(data) {
        for s in ext.func_info() {
            s.records().for_each(drop);
        }
        for s in ext.line_info() {
            s.records().for_each(drop);
        }
        for s in ext.core_relos() {
            s.records().for_each(drop);
        }
    }
    split(data);
    let Ok(btf) = Btf::parse(data) else { return };
    walk(&btf, data);
    if let Ok(clean) = sanitize(&btf, KernelBtfFeatures::NONE) {
        if let Ok(b2) = Btf::parse(&clean) {
            walk(&b2, data);
        }
    }
    let re = BtfBuilder::extend(&btf).encode();
    assert!(Btf::parse(&re).is_ok(), "re-encoded BTF must parse");
});

/// The first byte says where to cut: base BTF before, split BTF after.
fn split(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else { return };
    let cut = (cut as usize * 4).min(rest.len());
    let (base, split) = rest.split_at(cut);
    let Ok(base) = Btf::parse(base) else { return };
    let base = Arc::new(base);
    if let Ok(s) = Btf::parse_split(split, base.clone()) {
        walk(&s, data);
        s.all_types().for_each(drop);
    }
    let mut b = BtfBuilder::new_split(&base);
    b.add_ptr(base.last_id());
    let bytes = b.encode();
    let s = Btf::parse_split(&bytes, base).expect("built split BTF parses");
    walk(&s, data);
}

fn walk(btf: &Btf<'_>, data: &[u8]) {
    let mut names = Vec::new();
    for t in btf.types() {
        let _ = t.name();
        let _ = btf.size_of(t.id());
        let _ = btf.align_of(t.id());
        let _ = btf.skip_mods_and_typedefs(t.id());
        match t.view() {
            TypeView::Struct(c) | TypeView::Union(c) => {
                for m in c.members() {
                    let _ = (m.name(), m.bit_offset(), m.bitfield_size(), btf.type_by_id(m.type_id()));
                }
            }
            TypeView::Enum(e) | TypeView::Enum64(e) => {
                for v in e.values() {
                    let _ = (v.name(), v.value_i64());
                }
            }
            TypeView::FuncProto(p) => {
                for q in p.params() {
                    let _ = q.name();
                }
            }
            TypeView::Datasec(d) => d.vars().for_each(drop),
            _ => {}
        }
        let _ = format_value(btf, t.id(), data);
        if names.len() < 8 {
            if let Ok(n) = t.name() {
                names.push((n, t.kind()));
            }
        }
    }
    // Twice: the first lookup scans, later ones use the index.
    for _ in 0..2 {
        for (n, k) in &names {
            assert!(btf.find_all(n, *k).any(|t| t.name().ok() == Some(*n)));
            btf.find_by_essential_name(n, None).for_each(drop);
        }
    }
}
