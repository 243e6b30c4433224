//! Unit tests: byte codec, decoded view, builders and disassembly text (formats of the
//! kernel's `kernel/bpf/disasm.c` and bpftool's `xlated_dumper.c`).

use super::*;

const R0: Reg = Reg::R0;
const R1: Reg = Reg::R1;
const R2: Reg = Reg::R2;
const R3: Reg = Reg::R3;
const R6: Reg = Reg::R6;
const R10: Reg = Reg::R10;

/// One builder per instruction form, with its expected disassembly text.
fn samples() -> Vec<(Insn, &'static str)> {
    vec![
        (Insn::mov64_imm(R0, 2), "r0 = 2"),
        (Insn::mov64_imm(R0, -1), "r0 = -1"),
        (Insn::mov64_reg(R6, R1), "r6 = r1"),
        (Insn::mov32_imm(R0, 7), "w0 = 7"),
        (Insn::mov32_reg(R2, R3), "w2 = w3"),
        (Insn::alu32_imm(AluOp::Add, R0, 1), "w0 += 1"),
        (Insn::alu64_imm(AluOp::Sub, R1, 4), "r1 -= 4"),
        (Insn::alu64_reg(AluOp::Mul, R1, R2), "r1 *= r2"),
        (Insn::alu64_imm(AluOp::Div, R1, 3), "r1 /= 3"),
        (Insn::alu64_imm(AluOp::SDiv, R1, 3), "r1 s/= 3"),
        (Insn::alu32_reg(AluOp::SMod, R1, R2), "w1 s%= w2"),
        (Insn::alu64_imm(AluOp::Mod, R1, 3), "r1 %= 3"),
        (Insn::alu64_imm(AluOp::Or, R1, 8), "r1 |= 8"),
        (Insn::alu64_imm(AluOp::And, R1, 255), "r1 &= 255"),
        (Insn::alu64_imm(AluOp::Lsh, R1, 32), "r1 <<= 32"),
        (Insn::alu64_imm(AluOp::Rsh, R1, 32), "r1 >>= 32"),
        (Insn::alu64_imm(AluOp::Arsh, R1, 32), "r1 s>>= 32"),
        (Insn::alu32_reg(AluOp::Xor, R0, R0), "w0 ^= w0"),
        (Insn::neg64(R1), "r1 = -r1"),
        (Insn::neg32(R1), "w1 = -w1"),
        (Insn::movsx64_reg(R1, R2, 32), "r1 = (s32)r2"),
        (Insn::movsx32_reg(R1, R2, 8), "w1 = (s8)w2"),
        (Insn::to_be(R1, 16), "r1 = be16 r1"),
        (Insn::to_le(R1, 32), "r1 = le32 r1"),
        (Insn::bswap(R1, 64), "r1 = bswap64 r1"),
        (
            Insn::new(0xbf, 1, 2, 1, 1),
            "r1 = addr_space_cast(r2, 0, 1)",
        ),
        (Insn::ldx_mem(Size::W, R3, R6, 0), "r3 = *(u32 *)(r6 +0)"),
        (
            Insn::ldx_mem(Size::DW, R1, R10, -8),
            "r1 = *(u64 *)(r10 -8)",
        ),
        (Insn::ldx_mem(Size::B, R1, R2, 3), "r1 = *(u8 *)(r2 +3)"),
        (Insn::ldx_memsx(Size::H, R1, R2, 2), "r1 = *(s16 *)(r2 +2)"),
        (
            Insn::stx_mem(Size::DW, R10, R1, -8),
            "*(u64 *)(r10 -8) = r1",
        ),
        (Insn::st_mem(Size::W, R10, -4, 0), "*(u32 *)(r10 -4) = 0"),
        (Insn::st_mem(Size::H, R1, 2, -3), "*(u16 *)(r1 +2) = -3"),
        (
            Insn::atomic_add(Size::DW, R1, R2, 0),
            "lock *(u64 *)(r1 +0) += r2",
        ),
        (
            Insn::atomic(Size::W, AtomicOp::Or { fetch: false }, R1, R2, 4),
            "lock *(u32 *)(r1 +4) |= r2",
        ),
        (
            Insn::atomic_fetch_add(Size::DW, R1, R2, 0),
            "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)",
        ),
        (
            Insn::atomic(Size::W, AtomicOp::Xor { fetch: true }, R1, R2, -4),
            "r2 = atomic_fetch_xor((u32 *)(r1 -4), r2)",
        ),
        (
            Insn::atomic_xchg(Size::DW, R1, R2, 8),
            "r2 = atomic64_xchg((u64 *)(r1 +8), r2)",
        ),
        (
            Insn::atomic_cmpxchg(Size::W, R1, R2, 0),
            "r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r2)",
        ),
        (
            Insn::load_acquire(Size::DW, R0, R1, 8),
            "r0 = load_acquire((u64 *)(r1 +8))",
        ),
        (
            Insn::store_release(Size::W, R1, R2, 0),
            "store_release((u32 *)(r1 +0), r2)",
        ),
        (Insn::jmp_imm(JmpOp::Gt, R1, 3, 2), "if r1 > 0x3 goto pc+2"),
        (
            Insn::jmp_imm(JmpOp::Eq, R0, -1, -5),
            "if r0 == 0xffffffff goto pc-5",
        ),
        (
            Insn::jmp_reg(JmpOp::Sge, R1, R2, 1),
            "if r1 s>= r2 goto pc+1",
        ),
        (
            Insn::jmp32_imm(JmpOp::Set, R1, 16, 0),
            "if w1 & 0x10 goto pc+0",
        ),
        (
            Insn::jmp32_reg(JmpOp::Slt, R1, R2, 4),
            "if w1 s< w2 goto pc+4",
        ),
        (Insn::jmp_imm(JmpOp::Ne, R1, 0, 1), "if r1 != 0x0 goto pc+1"),
        (Insn::ja(-3), "goto pc-3"),
        (Insn::gotol(70000), "gotol pc+70000"),
        (Insn::may_goto(5), "may_goto pc+5"),
        (Insn::call_helper(1), "call bpf_map_lookup_elem#1"),
        (Insn::call_helper(6), "call bpf_trace_printk#6"),
        (Insn::call_helper(211), "call bpf_cgrp_storage_delete#211"),
        (Insn::call_helper(5000), "call unknown#5000"),
        (Insn::call_pseudo(5), "call pc+5"),
        (Insn::call_pseudo(-12), "call pc-12"),
        (Insn::kfunc_call(1234), "call kernel-function#1234"),
        (Insn::exit(), "exit"),
        (Insn::new(0x20, 0, 0, 0, 12), "r0 = *(u32 *)skb[12]"),
        (Insn::new(0x48, 0, 7, 0, 2), "r0 = *(u16 *)skb[r7 + 2]"),
        (Insn::new(0xc2, 0, 0, 0, 0), "nospec"),
    ]
}

#[test]
fn disassembles_each_form() {
    for (insn, want) in samples() {
        assert_eq!(insn.to_string(), want, "{insn:?}");
    }
}

#[test]
fn bytes_round_trip_every_sample() {
    for (insn, _) in samples() {
        assert_eq!(Insn::from_bytes(insn.to_bytes()), insn);
    }
    let all: Vec<Insn> = samples().into_iter().map(|(i, _)| i).collect();
    assert_eq!(decode(&encode(&all)).expect("whole insns"), all);
}

#[test]
fn decoded_view_round_trips_fields() {
    for (insn, _) in samples() {
        assert_ne!(insn.op(), Op::Unknown, "{insn:?}");
    }
    assert_eq!(
        Insn::alu64_imm(AluOp::SDiv, R1, 3).op(),
        Op::Alu {
            wide: true,
            op: AluOp::SDiv,
            dst: 1,
            src: Operand::Imm(3)
        }
    );
    assert_eq!(
        Insn::stx_mem(Size::H, R10, R2, -2).op(),
        Op::Store {
            size: Size::H,
            dst: 10,
            off: -2,
            src: Operand::Reg(2)
        }
    );
    assert_eq!(
        Insn::kfunc_call_module(99, 2).op(),
        Op::Call(CallKind::Kfunc {
            btf_id: 99,
            module: 2
        })
    );
    assert_eq!(
        Insn::gotol(-1).op(),
        Op::Ja {
            off: -1,
            long: true
        }
    );
    assert_eq!(
        Insn::bswap(R3, 16).op(),
        Op::Endian {
            to_be: None,
            dst: 3,
            bits: 16
        }
    );
    for op in [
        AtomicOp::Add { fetch: true },
        AtomicOp::And { fetch: false },
        AtomicOp::Xchg,
        AtomicOp::CmpXchg,
        AtomicOp::LoadAcquire,
        AtomicOp::StoreRelease,
    ] {
        assert_eq!(AtomicOp::from_imm(op.imm()), Some(op));
    }
}

#[test]
fn little_endian_layout() {
    let i = Insn::new(0xb7, 1, 2, -2, 0x0102_0304);
    assert_eq!(
        i.to_bytes(),
        [0xb7, 0x21, 0xfe, 0xff, 0x04, 0x03, 0x02, 0x01]
    );
    assert_eq!((i.dst(), i.src()), (1, 2));
    let mut j = i;
    j.set_dst(9);
    j.set_src(10);
    assert_eq!((j.dst(), j.src(), j.regs), (9, 10, 0xa9));
    assert_eq!(i.class(), opcode::ALU64);
}

#[test]
fn decode_rejects_partial_insn() {
    assert_eq!(decode(&[0u8; 12]), Err(InsnError::BadLength { len: 12 }));
    assert_eq!(decode(&[0u8; 7]), Err(InsnError::BadLength { len: 7 }));
    assert_eq!(decode(&[]), Ok(vec![]));
    assert!(
        InsnError::BadLength { len: 12 }
            .to_string()
            .contains("multiple of 8")
    );
}

#[test]
fn ld_imm64_pairs() {
    let pair = Insn::ld_imm64(R1, 0x1122_3344_5566_7788);
    assert!(pair[0].is_ld_imm64() && !pair[1].is_ld_imm64());
    assert_eq!(pair[0].code, 0x18);
    assert_eq!(pair[0].imm64(&pair[1]), 0x1122_3344_5566_7788);
    assert_eq!(
        Op::decode(&pair),
        Ok((
            Op::LdImm64 {
                dst: 1,
                pseudo: 0,
                imm: 0x1122_3344_5566_7788
            },
            2
        ))
    );
    assert_eq!(
        Op::decode(&pair[..1]),
        Err(InsnError::TruncatedLdImm64 { index: 0 })
    );
    assert_eq!(disassemble(&pair), "   0: (18) r1 = 0x1122334455667788\n");
    assert_eq!(
        disassemble(&Insn::ld_imm64(R1, 0x1234)),
        "   0: (18) r1 = 0x1234\n"
    );
    let neg = Insn::ld_imm64(R2, u64::MAX);
    assert_eq!(neg[0].imm64(&neg[1]), u64::MAX);

    let fd = Insn::ld_map_fd(R1, 5);
    assert!(fd[0].is_ld_map_fd());
    assert_eq!(fd[0].src(), PSEUDO_MAP_FD);
    assert_eq!(disassemble(&fd), "   0: (18) r1 = map[fd:5]\n");
    assert_eq!(
        Disassembly::new(&fd).map_ids().to_string(),
        "   0: (18) r1 = map[id:5]\n"
    );
    let val = Insn::ld_map_value(R2, 4, 16);
    assert_eq!(disassemble(&val), "   0: (18) r2 = map[fd:4][0]+16\n");
    assert_eq!(
        disassemble(&Insn::ld_map_idx(R1, 3)),
        "   0: (18) r1 = map[idx:3]\n"
    );
    assert_eq!(
        disassemble(&Insn::ld_map_idx_value(R1, 3, 8)),
        "   0: (18) r1 = map[idx:3]+8\n"
    );
    assert_eq!(
        disassemble(&Insn::ld_func(R2, 6)),
        "   0: (18) r2 = subprog[+6]\n"
    );
    assert_eq!(disassemble(&pair[..1]), "   0: (18) <truncated ld_imm64>\n");
}

#[test]
fn program_listing_skips_second_half() {
    let mut prog = vec![Insn::mov64_imm(R0, 0)];
    prog.extend(Insn::ld_map_fd(R1, 3));
    prog.extend([
        Insn::mov64_reg(R2, R10),
        Insn::alu64_imm(AluOp::Add, R2, -4),
        Insn::call_helper(1),
        Insn::jmp_imm(JmpOp::Eq, R0, 0, 1),
        Insn::atomic_add(Size::DW, R0, R1, 0),
        Insn::exit(),
    ]);
    let want = "   0: (b7) r0 = 0
   1: (18) r1 = map[fd:3]
   3: (bf) r2 = r10
   4: (07) r2 += -4
   5: (85) call bpf_map_lookup_elem#1
   6: (15) if r0 == 0x0 goto pc+1
   7: (db) lock *(u64 *)(r0 +0) += r1
   8: (95) exit
";
    assert_eq!(disassemble(&prog), want);
}

#[test]
fn call_resolver_names_non_helper_calls() {
    let prog = [
        Insn::kfunc_call(77),
        Insn::call_pseudo(3),
        Insn::call_helper(1),
        Insn::call_helper(9999),
    ];
    let resolve = |i: &Insn| match i.imm {
        77 => Some("bpf_obj_new_impl".to_string()),
        9999 => Some("__htab_map_lookup_elem".to_string()),
        _ => None,
    };
    let text = Disassembly::new(&prog).resolve_calls(&resolve).to_string();
    assert_eq!(
        text,
        "   0: (85) call bpf_obj_new_impl#77
   1: (85) call pc+3
   2: (85) call bpf_map_lookup_elem#1
   3: (85) call __htab_map_lookup_elem#9999
"
    );
}

#[test]
fn unknown_encodings_never_panic() {
    for code in 0..=255u8 {
        for regs in [0u8, 0x12, 0xff] {
            for (off, imm) in [(0, 0), (1, 1), (8, 0x100), (-1, -1), (16, 0xf1)] {
                let i = Insn {
                    code,
                    regs,
                    off,
                    imm,
                };
                let _ = i.to_string();
                let _ = disassemble(&[i, i]);
                let _ = Op::decode(&[i]);
            }
        }
    }
    assert_eq!(Insn::new(0x61 | 0x80, 0, 0, 0, 0).to_string(), "BUG_ldx_e1");
    assert_eq!(
        disassemble(&[Insn::new(0xdb, 1, 2, 0, 0x77)]),
        "   0: BUG_db\n"
    );
}

#[test]
fn helper_table() {
    assert_eq!(HELPER_COUNT, 212);
    assert_eq!(helper_name(0), Some("bpf_unspec"));
    assert_eq!(helper_name(1), Some("bpf_map_lookup_elem"));
    assert_eq!(helper_name(14), Some("bpf_get_current_pid_tgid"));
    assert_eq!(helper_name(130), Some("bpf_ringbuf_output"));
    assert_eq!(helper_name(209), Some("bpf_user_ringbuf_drain"));
    assert_eq!(helper_name(210), Some("bpf_cgrp_storage_get"));
    assert_eq!(helper_name(212), None);
    assert_eq!(helper_name(-1), None);
    assert_eq!(helper_id("bpf_ktime_get_ns"), Some(5));
    assert_eq!(helper_id("ringbuf_reserve"), Some(131));
    assert_eq!(helper_id("nope"), None);
}

#[test]
fn predicates() {
    assert!(Insn::call_helper(1).is_helper_call());
    assert!(Insn::call_pseudo(1).is_pseudo_call());
    assert!(Insn::kfunc_call(1).is_kfunc_call());
    assert!(Insn::exit().is_exit());
    assert!(Insn::ja(1).is_jump_off());
    assert!(Insn::jmp32_imm(JmpOp::Eq, R1, 0, 1).is_jump_off());
    assert!(!Insn::gotol(1).is_jump_off());
    assert!(!Insn::exit().is_jump_off());
    assert!(Insn::alu32_imm(AluOp::Add, R1, 1).is_alu());
    assert_eq!(Reg::new(11), None);
    assert_eq!(Reg::new(10), Some(Reg::FP));
}
