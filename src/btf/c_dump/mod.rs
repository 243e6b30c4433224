//! BTF → C header (`vmlinux.h`), byte for byte as `bpftool btf dump file … format c` writes
//! it (bpftool 7.8 / libbpf 1.8).
//!
//! [`write_c_header`] writes the header for a [`Btf`] (split BTF: base and split types together,
//! as `bpftool -B BASE` does) to any [`io::Write`]. What it writes:
//! - the `__VMLINUX_H__` guard, the `preserve_access_index` pragma and the `__ksym`, `__weak`,
//!   `__bpf_fastcall` fallback macros;
//! - every type as a C declaration, in bpftool's sorted order (kind rank, names, a hash over
//!   members, id) or in id order ([`CDumpOptions::sorted`]), or only the given root types and
//!   what they need ([`CDumpOptions::root_ids`]): named types are ordered so that each
//!   definition comes after the types it embeds, with forward declarations where a pointer
//!   cycle allows one; anonymous types are written inline; clashing names are renamed
//!   `name___N`; padding, bitfields, `packed`, `mode(byte)`/`mode(word)` enums, type tags as
//!   libbpf's `btf_dump` writes them;
//! - the `/* BPF kfuncs */` block of `extern … __weak __ksym;` prototypes of every function
//!   tagged `bpf_kfunc` ([`CDumpOptions::kfuncs`]).
//!
//! Malformed BTF (a reference to a missing id, a chain of types that loops, a struct that
//! embeds itself, a reference graph that fans out exponentially, a struct whose padding alone
//! would be more than 16 MiB of text) is an error, never a panic or a hang.
//!
//! Large BTF (16Ki types or more, e.g. vmlinux) uses a second, scoped thread: it validates the
//! second half of the types while the calling thread validates the first, then sorts them and
//! orders what each needs (the first half of libbpf's `btf_dump__dump_type`) while the calling
//! thread writes what is ordered. Nothing else here makes a system call. Memory: besides the
//! BTF and 64 KiB of output, about 4 bytes per type for the record index, 4 bytes of state, and
//! the name tables; the biggest rank is sorted in chunks.
//!
//! ```no_run
//! use rawbpf::btf::{Btf, CDumpOptions, write_c_header};
//! let vmlinux = Btf::from_kernel()?;
//! let mut out = std::io::stdout().lock();
//! write_c_header(&vmlinux, &mut out, &CDumpOptions::new())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod emit;
mod graph;
mod sort;
#[cfg(test)]
mod tests;

use super::{Btf, BtfError, TypeId};
use std::io;

/// What [`write_c_header`] writes.
#[derive(Debug, Clone)]
pub struct CDumpOptions {
    sorted: bool,
    kfuncs: bool,
    root_ids: Vec<TypeId>,
}

impl Default for CDumpOptions {
    fn default() -> Self {
        CDumpOptions {
            sorted: true,
            kfuncs: true,
            root_ids: Vec::new(),
        }
    }
}

impl CDumpOptions {
    /// bpftool's default: every type, sorted, with the kfunc block.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sorted as bpftool sorts (the default), or in id order (`bpftool … format c unsorted`).
    pub fn sorted(mut self, sorted: bool) -> Self {
        self.sorted = sorted;
        self
    }

    /// Whether to write the `/* BPF kfuncs */` block of kfunc prototypes (default: yes).
    /// bpftool writes it only when it dumps all types.
    pub fn kfuncs(mut self, kfuncs: bool) -> Self {
        self.kfuncs = kfuncs;
        self
    }

    /// Dump only these types (in this order) and the types they need, instead of all types.
    pub fn root_ids(mut self, ids: impl IntoIterator<Item = TypeId>) -> Self {
        self.root_ids = ids.into_iter().collect();
        self
    }
}

/// Why a C header could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CDumpError {
    /// The BTF is malformed or cannot be written as C (e.g. a struct that embeds itself).
    #[error("cannot write BTF as C: {0}")]
    Btf(#[from] BtfError),
    /// Writing the output failed.
    #[error("writing the C header: {0}")]
    Io(#[from] io::Error),
}

const HEADER: &str = "#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

#ifndef __ksym
#define __ksym __attribute__((section(\".ksyms\")))
#endif

#ifndef __weak
#define __weak __attribute__((weak))
#endif

#ifndef __bpf_fastcall
#if __has_attribute(bpf_fastcall)
#define __bpf_fastcall __attribute__((bpf_fastcall))
#else
#define __bpf_fastcall
#endif
#endif

";

const FOOTER: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
";

/// BTF with this many types or more is sorted on a second thread while the first writes.
const PIPELINE_FROM: u32 = 16 * 1024;

/// The second thread hands over this many ordered types at a time.
const BATCH: usize = 512;

/// Output is handed to the writer in chunks of about this size (the buffer holds 64 KiB).
const FLUSH_AT: usize = 48 << 10;

/// Writes the C header for `btf` to `out`, as `bpftool btf dump file … format c` does
/// (`unsorted` with [`CDumpOptions::sorted`]`(false)`), in chunks of about 48 KiB.
///
/// # Errors
/// [`CDumpError::Btf`] for malformed BTF (ids out of range, reference loops, a type that
/// contains itself) or a root id out of range; [`CDumpError::Io`] if writing fails. Output
/// already written stays written.
pub fn write_c_header<W: io::Write + ?Sized>(
    btf: &Btf<'_>,
    out: &mut W,
    opts: &CDumpOptions,
) -> Result<(), CDumpError> {
    let g = graph::Graph::new(btf)?;
    let new_dumper = |ordered_elsewhere| {
        let mut d = emit::Dumper::new(&g, ordered_elsewhere);
        d.out.s(HEADER.as_bytes());
        d
    };
    let mut flush = |d: &mut emit::Dumper<'_, '_>| -> io::Result<()> {
        if d.out.buf.len() >= FLUSH_AT {
            out.write_all(&d.out.buf)?;
            d.out.buf.clear();
        }
        Ok(())
    };
    let mut dump = |d: &mut emit::Dumper<'_, '_>, ids: &[TypeId]| -> Result<(), CDumpError> {
        for &id in ids {
            d.dump_type(id)?;
            flush(d)?;
        }
        Ok(())
    };
    let mut d = if !opts.root_ids.is_empty() {
        let mut d = new_dumper(false);
        dump(&mut d, &opts.root_ids)?;
        d
    } else if !opts.sorted {
        let mut d = new_dumper(false);
        for id in 1..g.count() {
            dump(&mut d, &[id])?;
        }
        d
    } else if g.count() < PIPELINE_FROM
        || std::thread::available_parallelism().is_ok_and(|p| p.get() < 2)
    {
        let mut ranks = Vec::new();
        sort::sorted_by_rank(&g, |ids| {
            ranks.push(ids.collect::<Vec<_>>());
            true
        })?;
        let mut d = new_dumper(false);
        for ids in ranks {
            dump(&mut d, &ids)?;
        }
        d
    } else {
        // Large BTF: a second thread sorts, rank by rank, and orders each rank's types (the
        // first half of dumping them), while this one writes what it ordered.
        std::thread::scope(|s| -> Result<_, CDumpError> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<TypeId>>(16);
            let gr = &g;
            let sorter = s.spawn(move || -> Result<(), BtfError> {
                let mut orderer = emit::Orderer::new(gr);
                let mut queue = Vec::with_capacity(BATCH);
                let mut failed = Ok(());
                sort::sorted_by_rank(gr, |ids| {
                    for id in ids {
                        if let Err(e) = orderer.order(id, &mut queue) {
                            failed = Err(e);
                            break;
                        }
                        if queue.len() >= BATCH {
                            let full = std::mem::replace(&mut queue, Vec::with_capacity(BATCH));
                            if tx.send(full).is_err() {
                                return false;
                            }
                        }
                    }
                    failed.is_ok()
                })?;
                if !queue.is_empty() {
                    let _ = tx.send(queue);
                }
                failed
            });
            // While the first types are sorted and ordered.
            g.precompute_aligns();
            let mut d = new_dumper(true);
            let mut r = Ok(());
            'recv: for queue in rx.iter() {
                for &id in &queue {
                    r = d.emit_queued(&[id]).map_err(CDumpError::from);
                    if r.is_ok() {
                        r = flush(&mut d).map_err(CDumpError::from);
                    }
                    if r.is_err() {
                        break 'recv;
                    }
                }
            }
            drop(rx);
            let sorted = sorter
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            sorted?;
            r.map(|()| d)
        })?
    };
    if opts.kfuncs {
        write_kfuncs(&g, &mut d)?;
    }
    d.out.s(FOOTER.as_bytes());
    out.write_all(&d.out.buf)?;
    Ok(())
}

/// bpftool's `dump_btf_kfuncs`: a prototype for every FUNC tagged `bpf_kfunc`, by name.
fn write_kfuncs(g: &graph::Graph<'_>, d: &mut emit::Dumper<'_, '_>) -> Result<(), BtfError> {
    d.out
        .s(b"\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n");
    let mut kfuncs = Vec::new();
    let mut fastcalls = Vec::new();
    for id in 1..g.count() {
        if g.kind(id) != graph::DECL_TAG || g.component_idx(id) != -1 {
            continue;
        }
        let func = g.st(id);
        if func == 0 || g.kind(func) != graph::FUNC {
            continue;
        }
        match g.name(id) {
            b"bpf_kfunc" => kfuncs.push(func),
            b"bpf_fastcall" => fastcalls.push(func),
            _ => {}
        }
    }
    kfuncs.sort_by(|&a, &b| g.name(a).cmp(g.name(b)));
    for f in kfuncs {
        d.out.s(b"extern ");
        if fastcalls.contains(&f) {
            d.out.s(b"__bpf_fastcall ");
        }
        d.emit_type_decl(g.st(f), g.name(f), 0)?;
        d.out.s(b" __weak __ksym;\n");
    }
    d.out.s(b"#endif\n\n");
    Ok(())
}
