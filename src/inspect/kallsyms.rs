//! [`KernelSymbols`]: `/proc/kallsyms` by address, for naming call targets.

use crate::error::{Error, Result};

/// Kernel symbols by address, as bpftool loads them for its disassembly: every symbol with a
/// non-zero address (BPF programs' `bpf_prog_<tag>_<name>` included), and `__bpf_call_base`,
/// the base of helper and kfunc call offsets in translated programs.
#[derive(Clone, Debug, Default)]
pub struct KernelSymbols {
    /// (address, name), sorted by address; the first symbol listed at an address wins.
    syms: Vec<(u64, String)>,
    call_base: Option<u64>,
}

impl KernelSymbols {
    /// Reads `/proc/kallsyms`.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::InvalidArgument`] if every address reads
    /// as zero (no `CAP_SYSLOG`, or `kernel.kptr_restrict`).
    pub fn read() -> Result<KernelSymbols> {
        let text = std::fs::read_to_string("/proc/kallsyms")
            .map_err(|e| Error::io("/proc/kallsyms", e))?;
        let syms = KernelSymbols::parse(&text);
        if syms.syms.is_empty() {
            return Err(Error::InvalidArgument(
                "/proc/kallsyms shows only zero addresses (needs CAP_SYSLOG, or \
                 kernel.kptr_restrict is set)"
                    .to_string(),
            ));
        }
        Ok(syms)
    }

    /// Parses `ADDR TYPE NAME [\[MODULE\]]` lines; lines that do not parse and zero
    /// addresses are skipped.
    pub fn parse(text: &str) -> KernelSymbols {
        let mut syms = Vec::new();
        let mut call_base = None;
        for line in text.lines() {
            let mut f = line.split_ascii_whitespace();
            let (Some(addr), Some(_ty), Some(name)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            if addr == 0 {
                continue;
            }
            if name == "__bpf_call_base" {
                call_base = Some(addr);
            }
            syms.push((addr, name.to_string()));
        }
        // Stable: the first name listed at an address comes first.
        syms.sort_by_key(|(a, _)| *a);
        KernelSymbols { syms, call_base }
    }

    /// The symbol at exactly `addr`.
    pub fn name_at(&self, addr: u64) -> Option<&str> {
        let i = self.syms.partition_point(|(a, _)| *a < addr);
        self.syms
            .get(i)
            .filter(|(a, _)| *a == addr)
            .map(|(_, n)| n.as_str())
    }

    /// The symbol whose range holds `addr` (the last one at or below it), with the offset.
    pub fn containing(&self, addr: u64) -> Option<(&str, u64)> {
        let i = self.syms.partition_point(|(a, _)| *a <= addr);
        let (start, _) = self.syms.get(i.checked_sub(1)?)?;
        // The first name listed at that address.
        let (a, n) = &self.syms[self.syms.partition_point(|(a, _)| a < start)];
        Some((n.as_str(), addr - a))
    }

    /// The address of `__bpf_call_base`: a helper or kfunc call in a translated program has
    /// `imm` = target − this.
    pub fn call_base(&self) -> Option<u64> {
        self.call_base
    }

    /// The number of symbols.
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_search() {
        let k = KernelSymbols::parse(
            "ffffffff81000000 T _text\n\
             ffffffff81200000 T __bpf_call_base\n\
             ffffffff81200040 T bpf_map_lookup_elem\n\
             ffffffff81200040 t alias_second\n\
             0000000000000000 T zero\n\
             ffffffffc0001000 t bpf_prog_0123456789abcdef_f\t[bpf]\n\
             junk\n",
        );
        assert_eq!(k.len(), 5);
        assert_eq!(k.call_base(), Some(0xffff_ffff_8120_0000));
        assert_eq!(
            k.name_at(0xffff_ffff_8120_0040),
            Some("bpf_map_lookup_elem")
        );
        assert_eq!(k.name_at(0xffff_ffff_8120_0041), None);
        assert_eq!(
            k.name_at(0xffff_ffff_c000_1000),
            Some("bpf_prog_0123456789abcdef_f")
        );
        assert_eq!(
            k.containing(0xffff_ffff_8120_0044),
            Some(("bpf_map_lookup_elem", 4))
        );
        assert_eq!(k.containing(1), None);
    }
}
