//! Bad input (malformed relocation records, self-similar access strings) and module BTF
//! candidates, against the committed objects (no root).

use rawbpf::btf::core::{CoreError, Fixup, Relocator};
use rawbpf::btf::{Btf, CoreReloKind, CoreReloKind::*};
use rawbpf::obj::{CoreRelo, link_program};

use super::unit::{LOCAL, TARGET_A, btf_of, spec};

/// A relocation record with its fields replaced.
fn relo(insn: u32, type_id: u32, access_str_off: u32, kind: CoreReloKind) -> CoreRelo {
    CoreRelo {
        insn,
        type_id,
        access_str_off,
        kind,
    }
}

#[test]
fn malformed_records_are_typed_errors() {
    let local = spec("core_local", LOCAL);
    let lbtf = btf_of(&local);
    let tbtf = btf_of(&spec("target", TARGET_A));
    let mut r = Relocator::new(&lbtf, &tbtf);
    let p = link_program(&local, local.program("fields").expect("p")).expect("link");
    let good = p.core_relos[0];
    let foo = lbtf.type_by_id(good.type_id).expect("foo");
    // The type's name is not an access string.
    let e = r.compute(0, &relo(good.insn, good.type_id, foo.name_off(), good.kind));
    assert!(matches!(e, Err(CoreError::Invalid { .. })), "{e:?}");
    // Type id out of range.
    let e = r.compute(0, &relo(good.insn, 100_000, good.access_str_off, good.kind));
    assert!(matches!(e, Err(CoreError::Btf { .. })), "{e:?}");
    // String offset out of range.
    let e = r.compute(0, &relo(good.insn, good.type_id, 1 << 30, good.kind));
    assert!(matches!(e, Err(CoreError::Btf { .. })), "{e:?}");
    // Unknown kind.
    let e = r.compute(
        0,
        &relo(good.insn, good.type_id, good.access_str_off, Unknown(99)),
    );
    assert!(matches!(e, Err(CoreError::Invalid { .. })), "{e:?}");
    // A type relocation with a field access string.
    let e = r.compute(
        0,
        &relo(good.insn, good.type_id, good.access_str_off, TypeSize),
    );
    assert!(matches!(e, Err(CoreError::Invalid { .. })), "{e:?}");
    // An enum relocation on a struct.
    let e = r.compute(
        0,
        &relo(good.insn, good.type_id, good.access_str_off, EnumvalValue),
    );
    assert!(matches!(e, Err(CoreError::Invalid { .. })), "{e:?}");
    // Record pointing outside the program.
    let mut insns = p.insns.clone();
    let e = r.relocate(
        &mut insns,
        &[relo(10_000, good.type_id, good.access_str_off, good.kind)],
    );
    assert!(matches!(e, Err(CoreError::Invalid { .. })), "{e:?}");
    // Record pointing at the wrong instruction: the exit has no offset to patch, a load of
    // another field holds another offset.
    let exit = insns.iter().position(|i| i.code == 0x95).expect("exit") as u32;
    for at in [exit, 9] {
        let e = r.relocate(
            &mut insns,
            &[relo(at, good.type_id, good.access_str_off, good.kind)],
        );
        assert!(
            matches!(e, Err(CoreError::Patch { .. })),
            "insn {at}: {e:?}"
        );
    }
    assert_eq!(
        insns, p.insns,
        "failed relocations leave the program unchanged"
    );
}

#[test]
fn access_strings_are_checked() {
    let local = spec("core_local", LOCAL);
    let lbtf = btf_of(&local);
    let tbtf = btf_of(&spec("target", TARGET_A));
    // Build a BTF whose strings hold bad access strings, over the local types.
    let mut r = Relocator::new(&lbtf, &tbtf);
    let p = link_program(&local, local.program("fields").expect("p")).expect("link");
    let good = p.core_relos[0];
    // Every string of the BTF is either a name, a path or a valid access: none may panic.
    let strings = lbtf.raw_bytes();
    for off in 0..strings.len() as u32 {
        let _ = r.compute(0, &relo(good.insn, good.type_id, off, good.kind));
        let _ = r.compute(0, &relo(good.insn, 1, off, FieldExists));
    }
}

#[test]
fn module_btf_is_searched_only_for_types_vmlinux_lacks() {
    use rawbpf::btf::{BtfBuilder, IntEncoding, Kind, NewMember};
    use std::sync::Arc;
    let local = spec("core_local", LOCAL);
    let lbtf = btf_of(&local);
    let base = Arc::new(btf_of(&spec("target", TARGET_A)));
    // A "module" split over layout A: `struct nothere` (absent from A) with `z` at 4, and a
    // `struct foo` that must be ignored because A has one.
    let mut b = BtfBuilder::new_split(&base);
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let nothere = b
        .add_struct(
            "nothere",
            8,
            &[NewMember::new("pad", int, 0), NewMember::new("z", int, 32)],
        )
        .expect("nothere");
    b.add_struct("foo", 4, &[NewMember::new("a", int, 0)])
        .expect("foo");
    let module = Btf::parse_split_owned(b.encode(), Arc::clone(&base)).expect("split");
    assert!(module.find_by_name_kind("nothere", Kind::Struct).is_some());
    let mut r = Relocator::new(&lbtf, &base).with_modules(vec![&module]);
    let p = link_program(&local, local.program("misc").expect("misc")).expect("link");
    let fixups: Vec<Fixup> = p
        .core_relos
        .iter()
        .enumerate()
        .map(|(i, c)| r.compute(i, c).expect("compute"))
        .collect();
    let z = fixups
        .iter()
        .find(|f| f.description.starts_with("struct nothere.z"))
        .expect("nothere.z");
    assert!(!z.poison, "{z:?}");
    assert_eq!(
        (z.target_btf, z.target_type, z.target_value),
        (1, Some(nothere), 4)
    );
    let fields = link_program(&local, local.program("fields").expect("fields")).expect("link");
    let a = fields
        .core_relos
        .iter()
        .enumerate()
        .map(|(i, c)| r.compute(i, c).expect("compute"))
        .find(|f| f.description.starts_with("struct foo.a ("))
        .expect("foo.a");
    assert_eq!((a.target_btf, a.target_value), (0, 8), "vmlinux's foo wins");
}
