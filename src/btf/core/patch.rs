//! Applying a computed [`Fixup`] to the instructions (`bpf_core_patch_insn`), poisoning, and
//! finding a poisoned instruction in a verifier log.

use super::{CoreError, Fixup};
use crate::insn::Insn;

/// The helper id a poisoned instruction calls (`0xbad2310`, "bad relo"), as libbpf does.
pub const POISON_HELPER: i32 = 0xbad2310;

const CLASS_LD: u8 = 0x00;
const CLASS_LDX: u8 = 0x01;
const CLASS_ST: u8 = 0x02;
const CLASS_STX: u8 = 0x03;
const CLASS_ALU: u8 = 0x04;
const CLASS_ALU64: u8 = 0x07;
const LD_IMM64: u8 = 0x18;
const JMP_CALL: u8 = 0x85;

fn poison(insn: &mut Insn) {
    *insn = Insn {
        code: JMP_CALL,
        regs: 0,
        off: 0,
        imm: POISON_HELPER,
    };
}

/// Bytes moved by a load/store of size field `code & 0x18`.
fn mem_bytes(code: u8) -> u32 {
    match code & 0x18 {
        0x00 => 4,
        0x08 => 2,
        0x10 => 1,
        _ => 8,
    }
}

fn mem_size_bits(bytes: u32) -> Option<u8> {
    Some(match bytes {
        4 => 0x00,
        2 => 0x08,
        1 => 0x10,
        8 => 0x18,
        _ => return None,
    })
}

/// Patches `insns[fix.insn]` (and the second half of an ld_imm64) with `fix`.
///
/// A poisoned fixup turns the instruction into a call to helper [`POISON_HELPER`] (both
/// halves of an ld_imm64), so the program fails verification only if it can reach it.
///
/// # Errors
/// [`CoreError::Patch`] if the instruction is outside `insns`, is not of a patchable form
/// (ALU with immediate, LDX/ST/STX, ld_imm64), holds a value other than the one the object's
/// own BTF gives (the record points at the wrong instruction), or the new value does not fit.
pub fn apply_fixup(insns: &mut [Insn], fix: &Fixup) -> Result<(), CoreError> {
    let err = |what: String| CoreError::Patch {
        index: fix.index,
        insn: fix.insn,
        relo: fix.description.clone(),
        what,
    };
    let n = insns.len();
    let i = fix.insn;
    let Some(&insn) = insns.get(i) else {
        return Err(err(format!("instruction outside the program of {n}")));
    };
    let is_ld_imm64 = insn.code == LD_IMM64;
    if fix.poison {
        if is_ld_imm64 {
            let second = insns
                .get_mut(i + 1)
                .ok_or_else(|| err("ld_imm64 without its second half".into()))?;
            poison(second);
        }
        poison(&mut insns[i]);
        return Ok(());
    }
    let (orig, new) = (fix.local_value, fix.target_value);
    match insn.code & 0x07 {
        CLASS_ALU | CLASS_ALU64 => {
            if insn.code & 0x08 != 0 {
                return Err(err(
                    "ALU instruction has a register source, no immediate".into()
                ));
            }
            let imm = insn.imm;
            if fix.validate && imm as i64 as u64 != orig && imm as u32 as u64 != orig {
                return Err(err(format!(
                    "instruction holds immediate {imm}, expected {orig} (wrong instruction?)"
                )));
            }
            insns[i].imm = new as i32;
        }
        CLASS_LDX | CLASS_ST | CLASS_STX => {
            let off = insn.off;
            if fix.validate && off as i64 as u64 != orig {
                return Err(err(format!(
                    "load/store offset is {off}, expected {orig} (wrong instruction?)"
                )));
            }
            if new > i16::MAX as u64 {
                return Err(err(format!("offset {new} does not fit a load/store")));
            }
            if fix.fail_memsz_adjust {
                // The field's size changed in a way a resized load cannot hide: poison.
                poison(&mut insns[i]);
                return Ok(());
            }
            insns[i].off = new as i16;
            if fix.local_size != fix.target_size {
                let have = mem_bytes(insn.code);
                if have != fix.local_size {
                    return Err(err(format!(
                        "load/store of {have} bytes, the field has {}",
                        fix.local_size
                    )));
                }
                let bits = mem_size_bits(fix.target_size).ok_or_else(|| {
                    err(format!(
                        "field of {} bytes cannot be loaded",
                        fix.target_size
                    ))
                })?;
                insns[i].code = (insn.code & !0x18) | bits;
            }
        }
        CLASS_LD if is_ld_imm64 => {
            let Some(&hi) = insns.get(i + 1) else {
                return Err(err("ld_imm64 without its second half".into()));
            };
            if insn.regs >> 4 != 0 || insn.off != 0 || hi.code != 0 || hi.regs != 0 || hi.off != 0 {
                return Err(err("ld_imm64 of an unexpected form".into()));
            }
            let imm = (insn.imm as u32 as u64) | ((hi.imm as u32 as u64) << 32);
            if fix.validate && imm != orig {
                return Err(err(format!(
                    "ld_imm64 holds {imm}, expected {orig} (wrong instruction?)"
                )));
            }
            insns[i].imm = new as u32 as i32;
            insns[i + 1].imm = (new >> 32) as u32 as i32;
        }
        _ => {
            return Err(err(format!(
                "instruction with opcode {:#04x} cannot be relocated",
                insn.code
            )));
        }
    }
    Ok(())
}

/// The instruction index of a poisoned CO-RE instruction the verifier rejected, from its log
/// (`"12: (85) call unknown#195896080"` followed by `"invalid func unknown#195896080"`).
pub fn poisoned_insn_in_log(log: &str) -> Option<usize> {
    let needle = format!("invalid func unknown#{POISON_HELPER}");
    let call = format!("call unknown#{POISON_HELPER}");
    let mut last_call = None;
    for line in log.lines() {
        if line.contains(&needle) {
            return last_call;
        }
        if line.contains(&call) {
            let idx = line.split(':').next()?.trim();
            last_call = idx.parse().ok();
        }
    }
    None
}

/// The fixup that poisoned instruction `insn` (or the ld_imm64 it is the second half of).
pub fn poisoned_fixup(fixups: &[Fixup], insn: usize) -> Option<&Fixup> {
    fixups
        .iter()
        .find(|f| (f.poison || f.fail_memsz_adjust) && (f.insn == insn || f.insn + 1 == insn))
}
