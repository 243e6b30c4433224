//! Malformed input: errors name what is wrong; nothing panics or allocates wildly.

use super::*;

fn parse_err(bytes: &[u8]) -> ObjError {
    ObjectSpec::parse(bytes).expect_err("must fail")
}

/// Finds the section header of `name`; returns its file offset.
fn shdr(bytes: &[u8], name: &str) -> usize {
    let u16_at = |o: usize| u16::from_le_bytes(bytes[o..o + 2].try_into().unwrap()) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap()) as usize;
    let shoff = u64_at(0x28);
    let (shnum, shstrndx) = (u16_at(0x3c), u16_at(0x3e));
    let strtab = u64_at(shoff + shstrndx * 64 + 24);
    (0..shnum)
        .map(|i| shoff + i * 64)
        .find(|&h| {
            let n = strtab + u32_at(h);
            bytes[n..].split(|&b| b == 0).next() == Some(name.as_bytes())
        })
        .unwrap_or_else(|| panic!("no section {name}"))
}

#[test]
fn garbage_and_truncation_never_panic() {
    assert!(matches!(parse_err(b""), ObjError::NotElf { .. }));
    assert!(matches!(
        parse_err(b"definitely not an ELF file"),
        ObjError::NotElf { .. }
    ));
    // Every truncation of a real object is an error, never a panic.
    for len in 0..XDP_HELLO.len() {
        let _ = ObjectSpec::parse(&XDP_HELLO[..len]);
    }
    // Deterministic byte corruption over every object.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for (_, bytes) in ALL {
        for _ in 0..300 {
            let mut b = bytes.to_vec();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x as usize) % b.len();
                b[at] = (x >> 32) as u8;
            }
            if let Ok(s) = ObjectSpec::parse(&b) {
                for p in &s.programs {
                    if let Ok(mut l) = link_program(&s, p) {
                        let _ = apply_relocations(
                            &p.name,
                            &mut l.insns,
                            &l.relocations,
                            &|_| Some(1),
                            &|_| Some(ExternValue::Address(0)),
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn not_bpf_machine() {
    let mut b = XDP_HELLO.to_vec();
    b[0x12] = 62; // EM_X86_64
    b[0x13] = 0;
    let e = parse_err(&b);
    assert!(matches!(e, ObjError::NotBpf { machine: 62 }), "{e}");
}

#[test]
fn section_past_the_end() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, "xdp");
    b[h + 24..h + 32].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let e = parse_err(&b);
    assert!(e.to_string().contains("xdp"), "{e}");
}

#[test]
fn code_size_not_multiple_of_8() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, "xdp");
    let size = u64::from_le_bytes(b[h + 32..h + 40].try_into().unwrap());
    b[h + 32..h + 40].copy_from_slice(&(size - 3).to_le_bytes());
    let e = parse_err(&b);
    assert!(
        e.to_string().contains("multiple of 8") && e.to_string().contains("xdp"),
        "{e}"
    );
}

#[test]
fn relocation_outside_section() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".relxdp");
    let off = u64::from_le_bytes(b[h + 24..h + 32].try_into().unwrap()) as usize;
    b[off..off + 8].copy_from_slice(&0x10_0000u64.to_le_bytes());
    let e = parse_err(&b);
    assert!(
        matches!(e, ObjError::Relocation { ref section, .. } if section == "xdp"),
        "{e}"
    );
}

#[test]
fn unknown_relocation_type() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".relxdp");
    let off = u64::from_le_bytes(b[h + 24..h + 32].try_into().unwrap()) as usize;
    b[off + 8..off + 12].copy_from_slice(&77u32.to_le_bytes()); // r_info low half = type
    let e = parse_err(&b);
    assert!(
        e.to_string().contains("unsupported relocation type 77"),
        "{e}"
    );
}

#[test]
fn relocation_to_missing_symbol() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".relxdp");
    let off = u64::from_le_bytes(b[h + 24..h + 32].try_into().unwrap()) as usize;
    b[off + 12..off + 16].copy_from_slice(&9999u32.to_le_bytes()); // r_info high half = symbol
    let e = parse_err(&b);
    assert!(e.to_string().contains("symbol #9999"), "{e}");
}

#[test]
fn huge_bss_is_refused_without_allocating() {
    let mut b = XDP_HELLO.to_vec();
    let h = shdr(&b, ".bss");
    b[h + 32..h + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let e = parse_err(&b);
    assert!(e.to_string().contains(".bss"), "{e}");
}
