//! Fuzzes CO-RE relocation of (object, target BTF) pairs: the object's BTF, its relocation
//! records and the target BTF are taken from the input; the instructions are those of
//! `tests/bpf/core_local.bpf.o`. Computing and applying every relocation must give fixups or
//! a `CoreError`, never a panic.
//!
//! Input layout: `[u16 local_len][u16 relo_len][local BTF][relo records][target BTF]`, each
//! record 16 bytes (`insn, type_id, access_str_off, kind`, little-endian u32s). With no
//! records, the object's own records are used.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rawbpf::btf::core::{Relocator, apply_fixup};
use rawbpf::btf::{Btf, CoreReloKind};
use rawbpf::insn::Insn;
use rawbpf::obj::{CoreRelo, ObjectSpec, link_program};

const LOCAL: &[u8] = include_bytes!("../../tests/bpf/core_local.bpf.o");

/// The linked programs of the local object: instructions and CO-RE records.
fn programs() -> &'static [(Vec<Insn>, Vec<CoreRelo>)] {
    static P: OnceLock<Vec<(Vec<Insn>, Vec<CoreRelo>)>> = OnceLock::new();
    P.get_or_init(|| {
        let spec = ObjectSpec::parse(LOCAL).expect("core_local.bpf.o parses");
        spec.programs
            .iter()
            .filter_map(|p| link_program(&spec, p).ok())
            .map(|l| (l.insns, l.core_relos))
            .collect()
    })
}

fn u16_at(d: &[u8], at: usize) -> usize {
    d.get(at..at + 2)
        .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as usize)
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([d[at], d[at + 1], d[at + 2], d[at + 3]])
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let (local_len, relo_len) = (u16_at(data, 0), u16_at(data, 2));
    let rest = &data[4..];
    if local_len + relo_len > rest.len() {
        return;
    }
    let (local_bytes, rest) = rest.split_at(local_len);
    let (relo_bytes, target_bytes) = rest.split_at(relo_len);
    let (Ok(local), Ok(target)) = (Btf::parse(local_bytes), Btf::parse(target_bytes)) else {
        return;
    };
    let records: Vec<CoreRelo> = relo_bytes
        .chunks_exact(16)
        .map(|r| CoreRelo {
            insn: u32_at(r, 0) % 512,
            type_id: u32_at(r, 4),
            access_str_off: u32_at(r, 8),
            kind: CoreReloKind::from_raw(u32_at(r, 12) % 16),
        })
        .collect();
    let mut relocator = Relocator::new(&local, &target);
    for (insns, relos) in programs() {
        let relos = if records.is_empty() { relos } else { &records };
        let mut patched = insns.clone();
        let _ = relocator.relocate(&mut patched, relos);
        // Each record alone too, so one failure does not hide the others.
        for (i, r) in relos.iter().enumerate() {
            if let Ok(f) = relocator.compute(i, r) {
                let mut patched = insns.clone();
                let _ = apply_fixup(&mut patched, &f);
            }
        }
    }
});
