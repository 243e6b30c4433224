//! rawbpf: a pure-Rust eBPF userspace library.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod btf;
pub mod error;
pub mod features;
pub mod insn;
pub mod link;
pub mod loader;
pub mod map;
pub mod obj;
pub mod prog;
pub mod sys;

pub use error::{Error, Result};
pub use link::{Link, XdpFlags};
pub use map::{Map, MapOptions, Pod};
pub use prog::{Program, ProgramOptions};
