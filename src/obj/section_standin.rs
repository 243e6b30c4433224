//! Temporary stand-in for `section.rs` (the SEC() table, written on branch `insn`); deleted
//! when that lands.

/// What a `SEC("...")` name means (stand-in: just the name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDef {
    /// The section name.
    pub name: String,
}

/// Looks up a section name (stand-in: knows no names).
pub fn parse_section(_name: &str) -> Option<SectionDef> {
    None
}
