//! rawbpf: a pure-Rust eBPF userspace library.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod sys;
