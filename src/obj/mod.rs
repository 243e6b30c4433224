//! ELF objects: `ObjectSpec`, pure parsing of a clang-compiled BPF object.
pub mod section;
