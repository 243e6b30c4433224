//! The CO-RE engine alone: `core_local.bpf.o` relocated against the `.BTF` of
//! `core_target_a.bpf.o` and `core_target_b.bpf.o`, every fixup asserted.

use rawbpf::btf::core::{CoreError, Fixup, Relocator};
use rawbpf::btf::{Btf, CoreReloKind};
use rawbpf::obj::{ObjectSpec, link_program};

pub const LOCAL: &[u8] = include_bytes!("../bpf/core_local.bpf.o");
pub const TARGET_A: &[u8] = include_bytes!("../bpf/core_target_a.bpf.o");
pub const TARGET_B: &[u8] = include_bytes!("../bpf/core_target_b.bpf.o");

pub fn spec(name: &str, bytes: &[u8]) -> ObjectSpec {
    ObjectSpec::parse_named(name, bytes).unwrap_or_else(|e| panic!("parse {name}: {e}"))
}

pub fn btf_of(spec: &ObjectSpec) -> Btf<'static> {
    Btf::parse_owned(spec.btf.clone().expect("object has .BTF")).expect("parse .BTF")
}

/// Every relocation of every program of the local object, computed one by one against
/// `target`: (program, result).
fn compute_all(target: &[u8]) -> Vec<(String, Result<Fixup, CoreError>)> {
    let local = spec("core_local", LOCAL);
    let lbtf = btf_of(&local);
    let tspec = spec("target", target);
    let tbtf = btf_of(&tspec);
    let mut r = Relocator::new(&lbtf, &tbtf);
    let mut out = Vec::new();
    for p in &local.programs {
        let linked = link_program(&local, p).expect("link");
        for (i, relo) in linked.core_relos.iter().enumerate() {
            out.push((p.name.clone(), r.compute(i, relo)));
        }
    }
    out
}

#[test]
fn dump() {
    for (p, r) in compute_all(TARGET_A) {
        match r {
            Ok(f) => println!(
                "{p} insn {} {:?} {} -> {:?} local {} target {} poison {} sz {}/{} memsz {}",
                f.insn,
                f.kind,
                f.description,
                f.target_description,
                f.local_value,
                f.target_value,
                f.poison,
                f.local_size,
                f.target_size,
                f.fail_memsz_adjust
            ),
            Err(e) => println!("{p} ERR {e}"),
        }
    }
    let _ = CoreReloKind::FieldExists;
}
