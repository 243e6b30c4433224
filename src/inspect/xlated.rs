//! [`XlatedDump`]: a translated program printed as `bpftool prog dump xlated` prints it.

use std::fmt;

use super::{KernelSymbols, func_signature};
use crate::btf::{Btf, BtfHandle};
use crate::error::Result;
use crate::insn::{Disassembly, Insn, PSEUDO_CALL};
use crate::prog::{Program, XlatedProgram};

/// A loaded program's translated instructions with what bpftool prints around them:
///
/// ```text
/// int drain(void * ctx):
/// ; return bpf_user_ringbuf_drain(&urb, drain_one, (void *)0, 0);
///    0: (18) r1 = map[id:2152]
///    2: (18) r2 = subprog[+5]
///    6: (85) call bpf_user_ringbuf_drain#397808
/// ```
///
/// - a function's signature from the program's BTF (`func_info`) before its first
///   instruction, and the source line (`line_info`, leading blanks trimmed) before the first
///   instruction of each line record;
/// - `ld_imm64` map references as `map[id:N]` / `map[id:N][0]+OFF` (the kernel reports ids);
/// - helper and kfunc calls named by the kernel symbol at `__bpf_call_base + imm`
///   (`call bpf_map_lookup_elem#<imm>`), or the address when no symbol is there;
/// - bpf-to-bpf calls as `call pc+OFF#bpf_prog_<tag>_<name>` (the subprogram's JITed symbol),
///   or `call pc+OFF` for an interpreted program.
///
/// Its [`Display`](fmt::Display) is the dump.
#[derive(Debug)]
pub struct XlatedDump {
    prog: XlatedProgram,
    btf: Option<Btf<'static>>,
    syms: Option<KernelSymbols>,
    linum: bool,
}

impl XlatedDump {
    /// Reads `prog`'s translated instructions, its BTF (if any) and `/proc/kallsyms` (if
    /// readable: without it, calls print as the kernel's disassembler prints them alone).
    ///
    /// # Errors
    /// As [`Program::xlated`]; a program BTF that cannot be read or parsed.
    pub fn of_program(prog: &Program) -> Result<XlatedDump> {
        let x = prog.xlated()?;
        let btf = if x.btf_id != 0 {
            Some(BtfHandle::from_id(x.btf_id)?.to_btf()?)
        } else {
            None
        };
        Ok(XlatedDump::new(x, btf, KernelSymbols::read().ok()))
    }

    /// A dump of `prog` with the given BTF (the program's, for signatures and source lines)
    /// and kernel symbols (for call names).
    pub fn new(
        prog: XlatedProgram,
        btf: Option<Btf<'static>>,
        syms: Option<KernelSymbols>,
    ) -> XlatedDump {
        XlatedDump {
            prog,
            btf,
            syms,
            linum: false,
        }
    }

    /// Also print each source line's file, line and column, as `bpftool prog dump xlated …
    /// linum` does: `; LINE [file:FILE line_num:N line_col:C]`.
    pub fn linum(mut self, on: bool) -> Self {
        self.linum = on;
        self
    }

    /// The program.
    pub fn program(&self) -> &XlatedProgram {
        &self.prog
    }

    /// The name of a call's target as bpftool's `print_call` gives it (`None`: the kernel
    /// disassembler's own text).
    fn call_name(&self, insn: &Insn) -> Option<String> {
        let ksyms = &self.prog.jited_ksyms;
        if insn.src() == PSEUDO_CALL {
            if ksyms.is_empty() {
                return Some(format!("{:+}", insn.off));
            }
            let addr = ksyms.get(insn.imm as u32 as usize).copied();
            let sym = addr.and_then(|a| self.syms.as_ref()?.name_at(a));
            return Some(match (sym, addr) {
                (Some(s), _) => format!("{:+}#{s}", insn.off),
                (None, a) => format!("{:+}#{:#x}", insn.off, a.unwrap_or(0)),
            });
        }
        let syms = self.syms.as_ref()?;
        let addr = syms.call_base()?.wrapping_add(insn.imm as i64 as u64);
        Some(match syms.name_at(addr) {
            Some(s) => s.to_string(),
            None => format!("{addr:#x}"),
        })
    }
}

impl fmt::Display for XlatedDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let insns = &self.prog.insns;
        let resolver = |i: &Insn| self.call_name(i);
        let mut funcs = self.prog.func_info.iter().peekable();
        let lines = &self.prog.line_info;
        let mut line_from = 0usize;
        let mut skip = false;
        for (i, insn) in insns.iter().enumerate() {
            if skip {
                skip = false;
                continue;
            }
            if let Some(btf) = &self.btf {
                if let Some(rec) = funcs.peek() {
                    if rec.insn_off as usize == i {
                        if let Some(sig) = func_signature(btf, rec.type_id) {
                            if !sig.is_empty() {
                                writeln!(f, "{sig}:")?;
                            }
                        }
                        funcs.next();
                    }
                }
                // libbpf's bpf_prog_linfo__lfind: the first record at this instruction,
                // searching from the count of lines printed so far.
                if let Some(rec) = lines
                    .iter()
                    .skip(line_from)
                    .take_while(|l| l.insn_off as usize <= i)
                    .find(|l| l.insn_off as usize == i)
                {
                    if let Ok(text) = btf.string(rec.line_off) {
                        let text = text.trim_start_matches([' ', '\t', '\n', '\r']);
                        if self.linum {
                            let file = btf.string(rec.file_name_off).unwrap_or("");
                            writeln!(
                                f,
                                "; {text} [file:{file} line_num:{} line_col:{}]",
                                rec.line_num, rec.line_col
                            )?;
                        } else {
                            writeln!(f, "; {text}")?;
                        }
                    }
                    line_from += 1;
                }
            }
            let wide = insn.is_ld_imm64();
            let end = if wide { i + 2 } else { i + 1 };
            let one = Disassembly::new(&insns[i..end.min(insns.len())])
                .map_ids()
                .resolve_calls(&resolver)
                .to_string();
            // The listing of one instruction (or ld_imm64 pair) starts with its index 0.
            let text = one.lines().next().unwrap_or("");
            let text = text
                .trim_start()
                .strip_prefix("0:")
                .unwrap_or(text)
                .trim_start();
            writeln!(f, "{i:4}: {text}")?;
            skip = wide;
        }
        Ok(())
    }
}
