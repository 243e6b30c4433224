//! CO-RE against a target whose pointers are 4 bytes (the size of its `long`, as libbpf's
//! `btf__pointer_size` takes it): field offsets, `FIELD_BYTE_SIZE` and the size of the load
//! follow the target's pointer size (an 8-byte load of a 4-byte pointer would read the next
//! field too).

use rawbpf::btf::core::{Relocator, apply_fixup};
use rawbpf::btf::{Btf, BtfBuilder, CoreReloKind, IntEncoding, NewMember};
use rawbpf::insn::Insn;
use rawbpf::obj::CoreRelo;

/// `struct s { long a; void *p; long b; }` with `long` (and so pointers) of `long_size`
/// bytes; returns the BTF, the id of `s` and the string offset of `"0:1"` (member `p`).
fn btf(long_size: u32) -> (Vec<u8>, u32, u32) {
    let mut b = BtfBuilder::new();
    let access = b.add_string("0:1");
    let long = b.add_int("long", long_size, IntEncoding::SIGNED);
    let ptr = b.add_ptr(0);
    let bits = 8 * long_size;
    let s = b
        .add_struct(
            "s",
            3 * long_size,
            &[
                NewMember::new("a", long, 0),
                NewMember::new("p", ptr, bits),
                NewMember::new("b", long, 2 * bits),
            ],
        )
        .expect("s");
    (b.encode(), s, access)
}

const LDX_DW: u8 = 0x79; // r0 = *(u64 *)(r1 + off)
const LDX_W: u8 = 0x61; // r0 = *(u32 *)(r1 + off)
const MOV64_IMM: u8 = 0xb7;

#[test]
fn four_byte_pointers_resize_offsets_sizes_and_loads() {
    let (local_bytes, local_s, access) = btf(8);
    let (target_bytes, _, _) = btf(4);
    let local = Btf::parse(&local_bytes).unwrap();
    let target = Btf::parse(&target_bytes).unwrap();
    assert_eq!(local.pointer_size(), 8);
    assert_eq!(target.pointer_size(), 4);

    let mut insns = vec![
        Insn {
            code: LDX_DW,
            regs: 1 << 4,
            off: 8,
            imm: 0,
        },
        Insn {
            code: MOV64_IMM,
            regs: 0,
            off: 0,
            imm: 8,
        },
    ];
    let relos = [
        CoreRelo {
            insn: 0,
            type_id: local_s,
            access_str_off: access,
            kind: CoreReloKind::FieldByteOffset,
        },
        CoreRelo {
            insn: 1,
            type_id: local_s,
            access_str_off: access,
            kind: CoreReloKind::FieldByteSize,
        },
    ];
    let mut r = Relocator::new(&local, &target);
    let off = r.compute(0, &relos[0]).unwrap();
    assert_eq!((off.local_value, off.target_value), (8, 4));
    assert_eq!((off.local_size, off.target_size), (8, 4), "mem_sz 8 -> 4");
    let size = r.compute(1, &relos[1]).unwrap();
    assert_eq!((size.local_value, size.target_value), (8, 4));
    apply_fixup(&mut insns, &off).unwrap();
    apply_fixup(&mut insns, &size).unwrap();
    assert_eq!(insns[0].code, LDX_W, "the 8-byte load becomes a 4-byte one");
    assert_eq!(insns[0].off, 4);
    assert_eq!(insns[1].imm, 4);

    // The same object against an 8-byte target changes nothing.
    let mut same = Relocator::new(&local, &local);
    let f = same.compute(0, &relos[0]).unwrap();
    assert_eq!((f.target_value, f.target_size), (8, 8));
}
