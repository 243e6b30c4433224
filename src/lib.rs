//! rawbpf: a pure-Rust eBPF userspace library.
//!
//! Parse a clang-compiled object into an [`ObjectSpec`], load it with a [`Loader`] (maps
//! created, programs relocated and verified), then use the [`Object`]'s programs, maps and
//! global variables:
//!
//! ```no_run
//! use rawbpf::{Loader, ObjectSpec, XdpFlags};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = ObjectSpec::open("examples/xdp_hello/xdp_hello.bpf.o")?;
//! let obj = Loader::new().load(&spec)?;
//! let ifindex = nix::net::if_::if_nametoindex("lo")?;
//! let link = obj.program("hello")?.attach_xdp(ifindex, XdpFlags::SKB_MODE)?;
//! // … traffic on lo …
//! let counter: i32 = obj.global("counter")?; // typed access to `.bss` through BTF
//! println!("{counter} packets");
//! drop(link); // detaches
//! # Ok(()) }
//! ```
//!
//! # Layers
//!
//! - [`sys`]: the raw layer, the only one that talks to the kernel: one safe function per
//!   `bpf(2)` command, the attr and info structs, perf events, tracefs, capabilities.
//! - [`insn`], [`btf`], [`obj`]: pure and kernel-free: instructions (build, decode,
//!   disassemble), BTF (parse, build, format values, CO-RE in [`btf::core`]), ELF objects.
//!   ([`btf::BtfHandle`] and the kernel's own BTF are the exceptions, through [`sys`].)
//! - [`map`], [`prog`], [`link`]: safe handles of kernel objects ([`Map`] with typed views,
//!   [`Program`], [`Link`]).
//! - [`loader`]: object to kernel: maps created, externs resolved, CO-RE applied, programs
//!   loaded, as one [`Object`].
//!
//! Every layer's error converts into [`Error`], so `?` works across them (see [`error`]).
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[doc(hidden)]
#[path = "fuzz_api.rs"]
pub mod __fuzz;
pub mod btf;
pub mod error;
pub mod features;
pub mod guide;
pub mod insn;
pub mod inspect;
pub mod link;
pub mod loader;
pub mod map;
pub mod obj;
pub mod prog;
pub mod sys;
mod work;

pub use error::{Error, Result};
pub use link::{Link, XdpFlags};
pub use loader::{LoadError, Loader, Object};
pub use map::{Map, MapOptions, Pod};
pub use map::{PerfBuffer, RingBuf, UserRingBuf};
pub use obj::ObjectSpec;
pub use prog::{Program, ProgramOptions};
