//! Entry points for the fuzz targets in `fuzz/`: the crate's pure parsers and the loader's
//! pure stages, reachable without making internals public. Hidden from the docs; not an API,
//! may change at any time.

pub use crate::loader::fuzz_stages::{gunzip, kallsyms, kconfig, loader_stages, mini_kernel_btf};

/// `/proc/self/mountinfo` text: parsed; returns the number of entries.
pub fn mountinfo(text: &str) -> usize {
    crate::sys::mount::parse_mountinfo(text).len()
}

/// A verifier log: statistics, summary line, the instruction a CO-RE poison call failed at.
pub fn verifier_log(text: &str) -> usize {
    let stats = crate::prog::VerifierStats::parse(text);
    let log = crate::error::VerifierLog::new(text.to_owned());
    let summary = log.summary().len();
    let poisoned = crate::btf::core::poisoned_insn_in_log(text);
    summary + stats.map_or(0, |s| s.insns_processed as usize) + poisoned.unwrap_or(0)
}

/// Instruction bytes: decoded, each instruction decoded as an operation, and disassembled
/// (plain, with map ids, and with a call resolver). Returns the length of the listing.
pub fn disasm(bytes: &[u8]) -> usize {
    use crate::insn::{Disassembly, Insn, Op, decode};
    let n = bytes.len() / 8 * 8;
    let Ok(insns) = decode(&bytes[..n]) else {
        return 0;
    };
    let mut i = 0;
    while i < insns.len() {
        i += Op::decode(&insns[i..]).map_or(1, |(_, used)| used.max(1));
    }
    let resolver = |insn: &Insn| (insn.imm % 3 == 0).then(|| format!("fn{}", insn.imm));
    let plain = Disassembly::new(&insns).to_string();
    let ids = Disassembly::new(&insns).map_ids().to_string();
    let named = Disassembly::new(&insns)
        .resolve_calls(&resolver)
        .to_string();
    plain.len() + ids.len() + named.len()
}
