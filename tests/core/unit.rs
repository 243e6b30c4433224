//! The CO-RE engine alone: `core_local.bpf.o` relocated against the `.BTF` of
//! `core_target_a.bpf.o` and `core_target_b.bpf.o`, every fixup asserted, then applied.

use rawbpf::btf::core::{
    CoreError, Fixup, POISON_HELPER, Relocator, apply_fixup, poisoned_fixup, poisoned_insn_in_log,
};
use rawbpf::btf::{Btf, CoreReloKind, CoreReloKind::*};
use rawbpf::insn::Insn;
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

/// What a relocation must resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    /// Patched to this value.
    Val(u64),
    /// This value, but a load/store of the field is poisoned (unsafe size change).
    Memsz(u64),
    /// Poisoned: no candidate.
    Poison,
}
use Res::*;

/// (program, instruction, kind, local access, value the object holds, result)
type Expect = (&'static str, usize, CoreReloKind, &'static str, u64, Res);

// Layout A moves every field, shrinks a signed int, widens an unsigned one, widens and moves
// bitfields, nests the anonymous union in an anonymous struct, drops `missing`, renumbers
// and drops enumerators, gives `struct amb` two disagreeing candidates.
const TARGET_A_FIXUPS: &[Expect] = &[
    ("fields", 1, FieldByteOffset, "struct foo.c", 16, Val(16)),
    ("fields", 2, FieldByteOffset, "struct foo.d", 20, Memsz(12)),
    ("fields", 4, FieldByteOffset, "struct foo.u1", 32, Val(40)),
    (
        "fields",
        6,
        FieldByteOffset,
        "struct foo.arr[2]",
        48,
        Val(56),
    ),
    ("fields", 8, FieldByteOffset, "struct foo.b", 8, Val(0)),
    ("fields", 9, FieldByteOffset, "struct foo.a", 0, Val(8)),
    ("fields", 10, FieldByteOffset, "struct foo.p", 56, Val(80)),
    ("fields", 17, FieldByteOffset, "struct bar.y", 4, Val(8)),
    ("fields", 34, FieldByteSize, "struct foo.b", 8, Val(8)),
    ("fields", 36, FieldExists, "struct foo.missing", 1, Val(0)),
    (
        "fields",
        39,
        FieldByteOffset,
        "struct foo.missing",
        64,
        Poison,
    ),
    (
        "bitfields",
        3,
        FieldByteOffset,
        "struct foo.bf1",
        24,
        Val(28),
    ),
    ("bitfields", 8, FieldByteSize, "struct foo.bf1", 4, Val(4)),
    (
        "bitfields",
        11,
        FieldLshiftU64,
        "struct foo.bf1",
        61,
        Val(57),
    ),
    ("bitfields", 12, FieldSigned, "struct foo.bf1", 0, Val(0)),
    (
        "bitfields",
        14,
        FieldRshiftU64,
        "struct foo.bf1",
        61,
        Val(57),
    ),
    (
        "bitfields",
        16,
        FieldRshiftU64,
        "struct foo.bf1",
        61,
        Val(57),
    ),
    (
        "bitfields",
        19,
        FieldByteOffset,
        "struct foo.bf2",
        24,
        Val(28),
    ),
    ("bitfields", 23, FieldByteSize, "struct foo.bf2", 4, Val(4)),
    (
        "bitfields",
        27,
        FieldLshiftU64,
        "struct foo.bf2",
        56,
        Val(45),
    ),
    ("bitfields", 28, FieldSigned, "struct foo.bf2", 1, Val(1)),
    (
        "bitfields",
        30,
        FieldRshiftU64,
        "struct foo.bf2",
        59,
        Val(52),
    ),
    (
        "bitfields",
        32,
        FieldRshiftU64,
        "struct foo.bf2",
        59,
        Val(52),
    ),
    ("types", 0, TypeExists, "struct foo", 1, Val(1)),
    ("types", 1, TypeExists, "struct nothere", 1, Val(0)),
    ("types", 3, TypeSize, "struct foo", 72, Val(88)),
    ("types", 5, TypeMatches, "struct tm", 1, Val(1)),
    ("types", 7, TypeIdLocal, "struct foo", 6, Val(6)),
    ("types", 10, TypeIdTarget, "struct foo", 6, Val(5)),
    ("enums", 0, EnumvalExists, "enum color::BLUE", 1, Val(0)),
    ("enums", 2, EnumvalValue, "enum color::GREEN", 2, Val(20)),
    // Unsigned 32-bit enum values are zero-extended on both sides.
    (
        "enums",
        5,
        EnumvalValue,
        "enum big::BIGV",
        0x8000_0000,
        Val(0xffff_fff0),
    ),
    (
        "enums",
        8,
        EnumvalValue,
        "enum huge::HUGEV",
        0x1_2345_6789,
        Val(0xabcd_ef01_2345),
    ),
    ("misc", 3, FieldByteOffset, "struct flex.n", 0, Memsz(0)),
    ("misc", 6, FieldByteOffset, "struct nothere.z", 0, Poison),
    (
        "misc",
        7,
        FieldByteOffset,
        "struct flex.data[3]",
        16,
        Val(20),
    ),
    (
        "misc",
        8,
        FieldByteOffset,
        "struct fl___local.only",
        0,
        Val(8),
    ),
    ("ambiguous", 3, FieldByteOffset, "struct same.v", 0, Val(0)),
];

// Layout B is the local layout under a flavored name (`struct foo___v2`), with a signedness
// change that fails TYPE_MATCHES and no `struct amb`/`struct same` at all.
const TARGET_B_FIXUPS: &[Expect] = &[
    ("fields", 1, FieldByteOffset, "struct foo.c", 16, Val(16)),
    ("fields", 2, FieldByteOffset, "struct foo.d", 20, Val(20)),
    ("fields", 4, FieldByteOffset, "struct foo.u1", 32, Val(32)),
    (
        "fields",
        6,
        FieldByteOffset,
        "struct foo.arr[2]",
        48,
        Val(48),
    ),
    ("fields", 8, FieldByteOffset, "struct foo.b", 8, Val(8)),
    ("fields", 9, FieldByteOffset, "struct foo.a", 0, Val(0)),
    ("fields", 10, FieldByteOffset, "struct foo.p", 56, Val(56)),
    ("fields", 17, FieldByteOffset, "struct bar.y", 4, Val(4)),
    ("fields", 34, FieldByteSize, "struct foo.b", 8, Val(8)),
    ("fields", 36, FieldExists, "struct foo.missing", 1, Val(1)),
    (
        "fields",
        39,
        FieldByteOffset,
        "struct foo.missing",
        64,
        Val(64),
    ),
    (
        "bitfields",
        3,
        FieldByteOffset,
        "struct foo.bf1",
        24,
        Val(24),
    ),
    ("bitfields", 8, FieldByteSize, "struct foo.bf1", 4, Val(4)),
    (
        "bitfields",
        11,
        FieldLshiftU64,
        "struct foo.bf1",
        61,
        Val(61),
    ),
    ("bitfields", 12, FieldSigned, "struct foo.bf1", 0, Val(0)),
    (
        "bitfields",
        14,
        FieldRshiftU64,
        "struct foo.bf1",
        61,
        Val(61),
    ),
    (
        "bitfields",
        16,
        FieldRshiftU64,
        "struct foo.bf1",
        61,
        Val(61),
    ),
    (
        "bitfields",
        19,
        FieldByteOffset,
        "struct foo.bf2",
        24,
        Val(24),
    ),
    ("bitfields", 23, FieldByteSize, "struct foo.bf2", 4, Val(4)),
    (
        "bitfields",
        27,
        FieldLshiftU64,
        "struct foo.bf2",
        56,
        Val(56),
    ),
    ("bitfields", 28, FieldSigned, "struct foo.bf2", 1, Val(1)),
    (
        "bitfields",
        30,
        FieldRshiftU64,
        "struct foo.bf2",
        59,
        Val(59),
    ),
    (
        "bitfields",
        32,
        FieldRshiftU64,
        "struct foo.bf2",
        59,
        Val(59),
    ),
    ("types", 0, TypeExists, "struct foo", 1, Val(1)),
    ("types", 1, TypeExists, "struct nothere", 1, Val(0)),
    ("types", 3, TypeSize, "struct foo", 72, Val(72)),
    ("types", 5, TypeMatches, "struct tm", 1, Val(0)),
    ("types", 7, TypeIdLocal, "struct foo", 6, Val(6)),
    ("types", 10, TypeIdTarget, "struct foo", 6, Val(5)),
    ("enums", 0, EnumvalExists, "enum color::BLUE", 1, Val(1)),
    ("enums", 2, EnumvalValue, "enum color::GREEN", 2, Val(2)),
    (
        "enums",
        5,
        EnumvalValue,
        "enum big::BIGV",
        0x8000_0000,
        Val(0x8000_0000),
    ),
    (
        "enums",
        8,
        EnumvalValue,
        "enum huge::HUGEV",
        0x1_2345_6789,
        Val(0x1_2345_6789),
    ),
    ("misc", 3, FieldByteOffset, "struct flex.n", 0, Val(0)),
    ("misc", 6, FieldByteOffset, "struct nothere.z", 0, Poison),
    (
        "misc",
        7,
        FieldByteOffset,
        "struct flex.data[3]",
        16,
        Val(16),
    ),
    (
        "misc",
        8,
        FieldByteOffset,
        "struct fl___local.only",
        0,
        Val(0),
    ),
    ("ambiguous", 2, FieldByteOffset, "struct amb.v", 0, Poison),
    ("ambiguous", 3, FieldByteOffset, "struct same.v", 0, Poison),
];

/// Every relocation of every program of the local object, computed one by one against
/// `target`: (program, result).
fn compute_all(target: &[u8]) -> Vec<(String, Result<Fixup, CoreError>)> {
    let local = spec("core_local", LOCAL);
    let lbtf = btf_of(&local);
    let tbtf = btf_of(&spec("target", target));
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

fn check(target: &[u8], expected: &[Expect], errors: usize) {
    let all = compute_all(target);
    let fixups: Vec<(&str, &Fixup)> = all
        .iter()
        .filter_map(|(p, r)| r.as_ref().ok().map(|f| (p.as_str(), f)))
        .collect();
    assert_eq!(all.len() - fixups.len(), errors, "errors: {all:#?}");
    assert_eq!(fixups.len(), expected.len(), "fixups: {fixups:#?}");
    for (&(prog, insn, kind, desc, local, res), (p, f)) in expected.iter().zip(&fixups) {
        let at = format!("{prog} insn {insn} {kind:?} {desc}: {f:?}");
        assert_eq!((*p, f.insn, f.kind), (prog, insn, kind), "{at}");
        assert_eq!(f.description.split(" (").next(), Some(desc), "{at}");
        assert_eq!(f.local_value, local, "{at}");
        let got = if f.poison {
            Poison
        } else if f.fail_memsz_adjust {
            Memsz(f.target_value)
        } else {
            Val(f.target_value)
        };
        assert_eq!(got, res, "{at}");
    }
}

#[test]
fn every_fixup_against_layout_a() {
    check(TARGET_A, TARGET_A_FIXUPS, 1);
}

#[test]
fn every_fixup_against_layout_b() {
    check(TARGET_B, TARGET_B_FIXUPS, 0);
}

#[test]
fn ambiguous_candidates_are_an_error_naming_them() {
    let all = compute_all(TARGET_A);
    let err = all
        .iter()
        .find_map(|(p, r)| (p == "ambiguous").then(|| r.as_ref().err()).flatten())
        .expect("struct amb is ambiguous");
    let CoreError::Ambiguous {
        relo, candidates, ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(relo.starts_with("struct amb.v"), "{relo}");
    assert_eq!(candidates.len(), 2, "{candidates:?}");
    assert!(candidates[0].contains("struct amb.v") && candidates[0].ends_with("= 8"));
    assert!(candidates[1].contains("struct amb___two.v") && candidates[1].ends_with("= 0"));
    let msg = err.to_string();
    assert!(
        msg.contains("ambiguous") && msg.contains("amb___two"),
        "{msg}"
    );
}

/// Relocates one program of the local object against `target`, returning the patched
/// instructions and the fixups.
fn relocate(prog: &str, target: &[u8]) -> (Vec<Insn>, Vec<Insn>, Vec<Fixup>) {
    let local = spec("core_local", LOCAL);
    let lbtf = btf_of(&local);
    let tbtf = btf_of(&spec("target", target));
    let mut r = Relocator::new(&lbtf, &tbtf);
    let linked = link_program(&local, local.program(prog).expect("program")).expect("link");
    let mut insns = linked.insns.clone();
    let fixups = r
        .relocate(&mut insns, &linked.core_relos)
        .expect("relocate");
    (linked.insns, insns, fixups)
}

fn is_poisoned(i: &Insn) -> bool {
    i.code == 0x85 && i.imm == POISON_HELPER && i.regs == 0 && i.off == 0
}

#[test]
fn applied_loads_are_moved_resized_or_poisoned() {
    let (before, after, fixups) = relocate("fields", TARGET_A);
    // f->c: `unsigned int` at 16 becomes `unsigned long` at 16: the u32 load becomes a u64 one.
    assert_eq!((before[1].code, before[1].off), (0x61, 16));
    assert_eq!((after[1].code, after[1].off), (0x79, 16));
    // f->d: `int` at 20 becomes `short`: a resized load would lose the sign, so it is poisoned.
    assert!(is_poisoned(&after[2]), "{:?}", after[2]);
    // f->a: moved from 0 to 8, same size.
    assert_eq!((after[9].code, after[9].off), (0x61, 8));
    // f->u1 through the anonymous struct and union: 32 -> 40.
    assert_eq!(after[4].off, 40);
    // f->missing, guarded by bpf_core_field_exists: the existence check reads 0 and the load
    // is poisoned.
    assert_eq!(after[36].imm, 0);
    assert!(is_poisoned(&after[39]));
    // Instructions without relocations are untouched.
    let touched: Vec<usize> = fixups.iter().map(|f| f.insn).collect();
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        if !touched.contains(&i) {
            assert_eq!(b, a, "insn {i}");
        }
    }
    // Against layout B nothing changes.
    let (before, after, _) = relocate("fields", TARGET_B);
    assert_eq!(before, after);
}

#[test]
fn applied_enum_values_fill_both_halves_of_ld_imm64() {
    let (_, after, _) = relocate("enums", TARGET_A);
    assert_eq!(after[0].imm, 0); // BLUE is gone
    assert_eq!(after[2].imm, 20);
    assert_eq!(after[3].imm, 0);
    assert_eq!((after[5].imm as u32, after[6].imm), (0xffff_fff0, 0));
    assert_eq!((after[8].imm as u32, after[9].imm), (0xef01_2345, 0xabcd));
}

#[test]
fn applied_bitfield_shifts_and_types() {
    let (_, after, _) = relocate("bitfields", TARGET_A);
    assert_eq!(after[3].imm, 28);
    assert_eq!(after[11].imm, 57);
    assert_eq!(after[27].imm, 45);
    assert_eq!((after[30].imm, after[32].imm), (52, 52));
    let (_, after, _) = relocate("types", TARGET_A);
    assert_eq!(after[1].imm, 0); // struct nothere
    assert_eq!(after[3].imm, 88);
    assert_eq!(after[10].imm, 5); // TYPE_ID_TARGET: the target's id of struct foo
}

#[test]
fn poisoned_ld_imm64_poisons_both_halves() {
    let (insns, _, _) = relocate("enums", TARGET_B);
    let mut insns = insns;
    let f = Fixup {
        poison: true,
        ..compute_all(TARGET_B)
            .into_iter()
            .find_map(|(p, r)| (p == "enums").then_some(r.ok()).flatten())
            .expect("fixup")
    };
    assert_eq!(f.insn, 0);
    apply_fixup(&mut insns, &f).expect("apply");
    assert!(is_poisoned(&insns[0]) && is_poisoned(&insns[1]));
}

#[test]
fn verifier_log_maps_back_to_the_relocation() {
    let (_, _, fixups) = relocate("misc", TARGET_A);
    let poisoned = fixups
        .iter()
        .find(|f| f.poison)
        .expect("nothere.z is poisoned");
    let log = format!(
        "0: R1=ctx() R10=fp0\n; r += n->z;\n{0}: (85) call unknown#195896080\ninvalid func unknown#195896080\nprocessed 7 insns\n",
        poisoned.insn
    );
    assert_eq!(poisoned_insn_in_log(&log), Some(poisoned.insn));
    assert_eq!(poisoned_fixup(&fixups, poisoned.insn), Some(poisoned));
    let err = CoreError::from_verifier_log(&log, &fixups).expect("mapped");
    let msg = err.to_string();
    assert!(
        msg.contains("struct nothere.z") && msg.contains("FieldByteOffset"),
        "{msg}"
    );
    assert_eq!(
        poisoned_insn_in_log("0: (85) call bpf_foo#1\ninvalid func"),
        None
    );
}
