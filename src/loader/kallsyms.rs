//! `/proc/kallsyms`: addresses of kernel symbols, for typeless `.ksyms` externs
//! (`extern const void sym __ksym;`), and for naming call targets in disassembly.

use std::collections::HashMap;

/// Kernel symbol addresses by name (the first address a name has; module symbols included).
#[derive(Debug, Default, Clone)]
pub(crate) struct Kallsyms {
    by_name: HashMap<String, u64>,
}

impl Kallsyms {
    /// Reads `/proc/kallsyms`. Addresses read as zero without CAP_SYSLOG / with
    /// `kptr_restrict`, which this returns as an error so a caller can say why.
    pub(crate) fn read() -> std::io::Result<Kallsyms> {
        let text = std::fs::read_to_string("/proc/kallsyms")?;
        let syms = Self::parse(&text);
        if !syms.by_name.is_empty() && syms.by_name.values().all(|&a| a == 0) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "/proc/kallsyms shows only zero addresses (needs CAP_SYSLOG, or kernel.kptr_restrict is set)",
            ));
        }
        Ok(syms)
    }

    /// Parses `ADDR TYPE NAME [\[MODULE\]]` lines.
    pub(crate) fn parse(text: &str) -> Kallsyms {
        let mut by_name = HashMap::new();
        for line in text.lines() {
            let mut f = line.split_ascii_whitespace();
            let (Some(addr), Some(_ty), Some(name)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            by_name.entry(name.to_string()).or_insert(addr);
        }
        Kallsyms { by_name }
    }

    /// The address of `name`.
    pub(crate) fn address(&self, name: &str) -> Option<u64> {
        self.by_name.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines() {
        let k = Kallsyms::parse(
            "ffffffff81000000 T _text\nffffffff81001000 t helper\tmodx\nbad line\nzz T bad\n",
        );
        assert_eq!(k.address("_text"), Some(0xffff_ffff_8100_0000));
        assert_eq!(k.address("helper"), Some(0xffff_ffff_8100_1000));
        assert_eq!(k.address("bad"), None);
    }

    #[test]
    fn reads_the_running_kernel() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let k = Kallsyms::read().expect("kallsyms");
        assert!(k.address("bpf_prog_put").is_some_and(|a| a != 0));
    }
}
