//! Views of the loaded BPF objects of the whole system, as `bpftool` shows them. Each view
//! is tested against Debian's bpftool 7.1 (`tests/inspect.rs`): equal text, or equal JSON
//! values.
//!
//! - [`XlatedDump`]: a loaded program's translated instructions as `bpftool prog dump xlated`
//!   prints them (function signatures and source lines from BTF, map ids, helpers, kfuncs and
//!   subprograms named through `/proc/kallsyms`; `linum`; `-j` with [`XlatedDump::to_json`]).
//! - [`map_dump_json`], [`map_dump_text`]: a map's entries as `bpftool -j map dump` (raw bytes,
//!   and the BTF-formatted value under `formatted`) and plain `bpftool map dump` print them.
//! - [`prog_show_json`], [`prog_show_text`], [`map_show_json`], [`map_show_text`],
//!   [`btf_show_json`], [`btf_show_text`]: `bpftool prog|map|btf show`.
//! - [`holders`]: the processes holding each program, map and link (`/proc/*/fdinfo`), as the
//!   `pids` bpftool lists (when it is built with its BPF skeletons; Debian's 7.1 is not).
//! - [`TraceLine`], [`TracePipe`]: `bpf_trace_printk` output, parsed.
//! - [`KernelSymbols`]: `/proc/kallsyms` by address.
//!
//! Known differences from bpftool 7.1, on purpose: JSON strings are escaped correctly (its
//! writer turns a backslash into `\n`); the ids of `btf show` are sorted (bpftool lists them
//! in its hash table's order); map and program types newer than its libbpf 1.1 are named
//! (`arena`) where it prints `type 33`; a map-of-maps value has no separate `inner_map_id`
//! (as in 7.1; later versions add it).
//!
//! Everything here is built on the public handles ([`Program`](crate::prog::Program),
//! [`Map`](crate::map::Map), …) and reads files under `/proc` and tracefs; it makes no
//! `bpf(2)` call of its own.

mod btf_show;
mod func_sig;
mod json;
mod kallsyms;
mod map_dump;
mod pids;
mod show;
mod trace_pipe;
mod xlated;

pub use btf_show::{BtfUsers, btf_show_json, btf_show_text};
pub use func_sig::func_signature;
pub use kallsyms::KernelSymbols;
pub use map_dump::{map_dump_json, map_dump_text};
pub use pids::{Holder, Holders, holders};
pub use show::{
    boot_time_to_unix, iso8601_utc, map_show_json, map_show_text, map_type_name, prog_full_name,
    prog_show_json, prog_show_text, prog_type_name,
};
pub use trace_pipe::{TraceLine, TracePipe};
pub use xlated::XlatedDump;
