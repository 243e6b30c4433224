//! CO-RE: the relocation engine against the BTF of committed target objects (no root), and
//! (as root) programs that read kernel structs through CO-RE, loaded against the running
//! kernel.

mod common;

#[path = "core/unit.rs"]
mod unit;

#[path = "core/malformed.rs"]
mod malformed;

#[path = "core/kernel.rs"]
mod kernel;
