//! [`XlatedDump`]: a translated program printed as `bpftool prog dump xlated` prints it.

use std::fmt;

use super::{KernelSymbols, func_signature, json};
use crate::btf::{Btf, BtfHandle};
use crate::error::Result;
use crate::insn::{Disassembly, Insn, PSEUDO_CALL};
use crate::prog::{LineInfo, Program, XlatedProgram};

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

/// One instruction of the dump with what is printed before it.
struct Entry<'a> {
    index: usize,
    /// The function signature, at a function's first instruction.
    sig: Option<String>,
    /// The source line record starting at this instruction.
    line: Option<&'a LineInfo>,
    /// `(code) text`, as the kernel disassembler prints it.
    text: String,
}

impl XlatedDump {
    fn entries(&self) -> Vec<Entry<'_>> {
        let insns = &self.prog.insns;
        let resolver = |i: &Insn| self.call_name(i);
        let mut funcs = self.prog.func_info.iter().peekable();
        let lines = &self.prog.line_info;
        let mut line_from = 0usize;
        let mut out = Vec::with_capacity(insns.len());
        let mut i = 0;
        while let Some(insn) = insns.get(i) {
            let mut e = Entry {
                index: i,
                sig: None,
                line: None,
                text: String::new(),
            };
            if let Some(btf) = &self.btf {
                if let Some(rec) = funcs.peek() {
                    if rec.insn_off as usize == i {
                        e.sig = func_signature(btf, rec.type_id).filter(|s| !s.is_empty());
                        funcs.next();
                    }
                }
                // libbpf's bpf_prog_linfo__lfind: the first record at this instruction,
                // searching from the count of lines printed so far.
                e.line = lines
                    .iter()
                    .skip(line_from)
                    .take_while(|l| l.insn_off as usize <= i)
                    .find(|l| l.insn_off as usize == i);
                if e.line.is_some() {
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
            e.text = text
                .trim_start()
                .strip_prefix("0:")
                .unwrap_or(text)
                .trim_start()
                .to_string();
            out.push(e);
            i = end;
        }
        out
    }

    fn line_text(&self, rec: &LineInfo) -> Option<&str> {
        let btf = self.btf.as_ref()?;
        let text = btf.string(rec.line_off).ok()?;
        Some(text.trim_start_matches([' ', '\t', '\n', '\r']))
    }

    /// The dump as `bpftool -j prog dump xlated` prints it: an array with one object per
    /// instruction, `{"proto":SIG,"src":LINE,"disasm":"(code) text"}` (`proto` and `src` only
    /// where the text dump has those lines; with [`XlatedDump::linum`], also `file`,
    /// `line_num` and `line_col`, each when non-empty/non-zero).
    pub fn to_json(&self) -> String {
        let mut out = String::from("[");
        for (k, e) in self.entries().iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            out.push('{');
            if let Some(sig) = &e.sig {
                out.push_str(&format!("\"proto\":{},", json::string(sig)));
            }
            if let (Some(rec), Some(btf)) = (e.line, &self.btf) {
                if let Some(text) = self.line_text(rec) {
                    out.push_str(&format!("\"src\":{},", json::string(text)));
                }
                if self.linum {
                    if let Ok(file) = btf.string(rec.file_name_off) {
                        out.push_str(&format!("\"file\":{},", json::string(file)));
                    }
                    if rec.line_num != 0 {
                        out.push_str(&format!("\"line_num\":{},", rec.line_num));
                    }
                    if rec.line_col != 0 {
                        out.push_str(&format!("\"line_col\":{},", rec.line_col));
                    }
                }
            }
            out.push_str(&format!("\"disasm\":{}}}", json::string(&e.text)));
        }
        out.push(']');
        out
    }
}

impl fmt::Display for XlatedDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in self.entries() {
            if let Some(sig) = &e.sig {
                writeln!(f, "{sig}:")?;
            }
            if let Some(rec) = e.line {
                if let Some(text) = self.line_text(rec) {
                    if self.linum {
                        let file = self
                            .btf
                            .as_ref()
                            .and_then(|b| b.string(rec.file_name_off).ok())
                            .unwrap_or("");
                        writeln!(
                            f,
                            "; {text} [file:{file} line_num:{} line_col:{}]",
                            rec.line_num, rec.line_col
                        )?;
                    } else {
                        writeln!(f, "; {text}")?;
                    }
                }
            }
            writeln!(f, "{:4}: {}", e.index, e.text)?;
        }
        Ok(())
    }
}
