//! Verifier log levels and the statistics the verifier prints at the end of a log.

bitflags::bitflags! {
    /// `log_level` of `BPF_PROG_LOAD`.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct LogLevel: u32 {
        /// `BPF_LOG_LEVEL1`: every instruction the verifier walks, with register state at
        /// branches.
        const BRANCH = 1;
        /// `BPF_LOG_LEVEL2`: register state after every instruction (very large).
        const INSTRUCTION = 2;
        /// `BPF_LOG_STATS`: only the statistics lines (cheap).
        const STATS = 4;
        /// `BPF_LOG_FIXED`: do not rotate the log when it fills up (since Linux 6.4 the log
        /// keeps its tail by default).
        const FIXED = 8;
    }
}

/// What the verifier reported about a successful load (parsed from the last lines of a log
/// at [`LogLevel::STATS`] or higher).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifierStats {
    /// "processed N insns": instructions the verifier walked (counting revisits).
    pub insns_processed: u64,
    /// "(limit N)": the complexity limit.
    pub insn_limit: u64,
    /// "max_states_per_insn N".
    pub max_states_per_insn: u64,
    /// "total_states N".
    pub total_states: u64,
    /// "peak_states N".
    pub peak_states: u64,
    /// "mark_read N".
    pub mark_read: u64,
    /// "verification time N usec".
    pub verification_time_usec: Option<u64>,
    /// "stack depth N+M…": stack depth per subprogram, in bytes.
    pub stack_depth: Vec<u32>,
}

impl VerifierStats {
    /// Parses the statistics lines of a verifier log; `None` when the log has no
    /// "processed … insns" line.
    pub fn parse(log: &str) -> Option<VerifierStats> {
        let mut st = VerifierStats::default();
        let mut found = false;
        for line in log.lines().rev().take(16) {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("processed ") {
                found = true;
                let words: Vec<&str> = rest.split_whitespace().collect();
                let num = |i: usize| -> u64 {
                    words
                        .get(i)
                        .map(|w| w.trim_matches(|c: char| !c.is_ascii_digit()))
                        .and_then(|w| w.parse().ok())
                        .unwrap_or(0)
                };
                st.insns_processed = num(0);
                for (i, w) in words.iter().enumerate() {
                    match *w {
                        "(limit" => st.insn_limit = num(i + 1),
                        "max_states_per_insn" => st.max_states_per_insn = num(i + 1),
                        "total_states" => st.total_states = num(i + 1),
                        "peak_states" => st.peak_states = num(i + 1),
                        "mark_read" => st.mark_read = num(i + 1),
                        _ => {}
                    }
                }
            } else if let Some(rest) = line.strip_prefix("verification time ") {
                st.verification_time_usec =
                    rest.split_whitespace().next().and_then(|w| w.parse().ok());
            } else if let Some(rest) = line.strip_prefix("stack depth ") {
                st.stack_depth = rest
                    .split('+')
                    .filter_map(|w| w.trim().parse().ok())
                    .collect();
            }
        }
        found.then_some(st)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_stats() {
        let log = "func#0 @0\n0: (b7) r0 = 0\n1: (95) exit\nverification time 12 usec\nstack depth 8+16\n\
                   processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 3 mark_read 4\n";
        let st = VerifierStats::parse(log).expect("stats");
        assert_eq!(st.insns_processed, 2);
        assert_eq!(st.insn_limit, 1_000_000);
        assert_eq!(st.total_states, 1);
        assert_eq!(st.peak_states, 3);
        assert_eq!(st.mark_read, 4);
        assert_eq!(st.verification_time_usec, Some(12));
        assert_eq!(st.stack_depth, vec![8, 16]);
        assert_eq!(VerifierStats::parse("R0 !read_ok\n"), None);
    }
}
