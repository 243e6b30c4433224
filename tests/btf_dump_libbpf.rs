//! BTF → C header in id order (`write_c_header` with `sorted(false)`, no kfunc block) against
//! the second oracle: libbpf's own `btf_dump__dump_type` (libbpf 1.7, vendored by the
//! `libbpf-sys` dev-dependency; see `tests/libbpf_dump/`), called for every id in order, which
//! is the body of `bpftool btf dump file … format c unsorted`. Our header minus its fixed
//! preamble and footer must equal libbpf's text byte for byte, on every BTF the tests have:
//! the running kernel's vmlinux and each loaded module's BTF (split over it: in the
//! `ci/vm-test` guests these are Debian's 6.12 and 6.1 kernels and their modules), the golden
//! 6.18 BTF, the `.BTF` of every committed BPF object, minimized BTF (`bpftool gen
//! min_core_btf`) and hand-built corner cases.
//!
//! On a mismatch the test names the BTF and shows the first differing lines of both texts.
//! Each comparison prints the number of types and bytes it compared.

mod common;
mod libbpf_dump;

use libbpf_dump::Ids;
use rawbpf::btf::{
    Btf, BtfBuilder, CDumpOptions, FuncLinkage, IntEncoding, Kind, NewMember, VarLinkage,
    write_c_header,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

/// What `write_c_header` writes after the types (the kfunc block is off).
const FOOTER: &str = "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
";

/// Whether this runs in a `ci/vm-test` guest (no `zstd` there).
fn in_vm_guest() -> bool {
    std::env::var("RAWBPF_VM").is_ok()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixed text before the first type: the header of a BTF without types, minus the footer.
fn preamble() -> Vec<u8> {
    let empty = BtfBuilder::new().encode();
    let btf = Btf::parse(&empty).expect("empty BTF");
    let mut out = Vec::new();
    write_c_header(&btf, &mut out, &CDumpOptions::new().sorted(false).kfuncs(false))
        .expect("header of an empty BTF");
    assert!(
        out.ends_with(FOOTER.as_bytes()),
        "the header of an empty BTF does not end with the footer this test expects:\n{}",
        String::from_utf8_lossy(&out)
    );
    out.truncate(out.len() - FOOTER.len());
    assert!(out.starts_with(b"#ifndef __VMLINUX_H__\n"));
    out
}

/// Our text for `btf` (the types only), in id order or for the given root ids.
fn ours(btf: &Btf<'_>, ids: &Ids, preamble: &[u8]) -> Result<Vec<u8>, String> {
    let opts = CDumpOptions::new().sorted(false).kfuncs(false);
    let opts = match ids {
        Ids::All => opts,
        Ids::Only(v) => opts.root_ids(v.iter().copied()),
    };
    let mut out = Vec::new();
    write_c_header(btf, &mut out, &opts).map_err(|e| format!("rawbpf write_c_header: {e}"))?;
    if !out.starts_with(preamble) || !out.ends_with(FOOTER.as_bytes()) {
        return Err("rawbpf's header lacks the usual preamble or footer".into());
    }
    Ok(out[preamble.len()..out.len() - FOOTER.len()].to_vec())
}

/// A failure report: the first differing line of the two texts, with context from both.
fn diff_report(what: &str, ours: &[u8], libbpf: &[u8]) -> String {
    diff_report_of(what, "rawbpf", ours, libbpf)
}

/// As [`diff_report`], naming the first text `who`.
fn diff_report_of(what: &str, who: &str, ours: &[u8], libbpf: &[u8]) -> String {
    let a: Vec<&str> = std::str::from_utf8(ours)
        .unwrap_or("<rawbpf output is not UTF-8>")
        .split('\n')
        .collect();
    let b: Vec<&str> = std::str::from_utf8(libbpf)
        .unwrap_or("<libbpf output is not UTF-8>")
        .split('\n')
        .collect();
    let first = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = first.saturating_sub(6);
    let show = |lines: &[&str]| -> String {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .take(first - from + 7)
            .map(|(i, l)| format!("  {}{:>7} | {l}\n", if i == first { '>' } else { ' ' }, i + 1))
            .collect()
    };
    format!(
        "{what}: {who} and libbpf {} differ at line {} ({who} {} bytes / {} lines, libbpf {} bytes / {} lines)\n {who}:\n{} libbpf:\n{}",
        libbpf_dump::libbpf_version(),
        first + 1,
        ours.len(),
        a.len(),
        libbpf.len(),
        b.len(),
        show(&a),
        show(&b)
    )
}

/// Runs comparisons, prints what each compared, collects the failures.
struct Comparer {
    preamble: Vec<u8>,
    failures: Vec<String>,
    compared: usize,
    test: &'static str,
}

impl Comparer {
    fn new(test: &'static str) -> Self {
        Comparer {
            preamble: preamble(),
            failures: Vec::new(),
            compared: 0,
            test,
        }
    }

    /// Compares `btf` (parsed by rawbpf from `raw`, over `base` when split) with libbpf's dump
    /// of the same bytes.
    fn compare(&mut self, what: &str, btf: &Btf<'_>, raw: &[u8], base: Option<&[u8]>, ids: Ids) {
        let t = Instant::now();
        let r = (|| -> Result<(), String> {
            let lib = libbpf_dump::dump_c(raw, base, &ids)?;
            let t_lib = t.elapsed();
            let mine = ours(btf, &ids, &self.preamble)?;
            let n = libbpf_dump::type_cnt(raw, base)? - 1;
            let own = btf.len();
            if n as usize != own + base.map_or(0, |_| btf.first_id() as usize - 1) {
                return Err(format!(
                    "libbpf counts {n} types, rawbpf {} (+ base {})",
                    own,
                    btf.first_id() - 1
                ));
            }
            if mine != lib {
                return Err(diff_report(what, &mine, &lib));
            }
            eprintln!(
                "{}: {what}: {n} types{}, {} ids dumped, {} bytes equal (libbpf {:.2?}, total {:.2?})",
                self.test,
                if base.is_some() {
                    format!(" ({own} own)")
                } else {
                    String::new()
                },
                match &ids {
                    Ids::All => n as usize,
                    Ids::Only(v) => v.len(),
                },
                lib.len(),
                t_lib,
                t.elapsed()
            );
            Ok(())
        })();
        match r {
            Ok(_) => self.compared += 1,
            Err(e) => {
                eprintln!("{}: {what}: MISMATCH\n{e}", self.test);
                self.failures.push(e);
            }
        }
    }

    /// Fails the test if any comparison failed; otherwise checks that `min` BTFs were compared.
    fn finish(self, min: usize) {
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} BTFs differ from libbpf {}:\n{}",
            self.test,
            self.failures.len(),
            self.failures.len() + self.compared,
            libbpf_dump::libbpf_version(),
            self.failures.join("\n")
        );
        assert!(
            self.compared >= min,
            "{}: only {} BTFs compared, expected at least {min}",
            self.test,
            self.compared
        );
        eprintln!("{}: {} BTFs equal", self.test, self.compared);
    }
}

/// `zstd -dc` of a file under tests/data.
fn unzstd(name: &str) -> Vec<u8> {
    let path = repo().join("tests/data").join(name);
    let out = Command::new("zstd")
        .arg("-dcq")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("running zstd -dc {}: {e} (install zstd)", path.display()));
    assert!(out.status.success(), "zstd -dc {}: {:?}", path.display(), out.status);
    out.stdout
}

/// The golden 6.18 BTF (this CI host's kernel), and, as a check of the oracle itself, libbpf
/// 1.7's text against bpftool 7.8's (libbpf 1.8) golden unsorted header of the same BTF.
#[test]
fn golden_vmlinux_6_18_matches_libbpf() {
    const T: &str = "golden_vmlinux_6_18_matches_libbpf";
    if in_vm_guest() {
        eprintln!("{T}: kernel-independent, run by the host's CI step (the guest has no zstd)");
        return;
    }
    let raw = unzstd("btf-golden/vmlinux-6.18.btf.zst");
    let btf = Btf::parse(&raw).expect("golden BTF");
    let mut c = Comparer::new(T);
    c.compare("golden vmlinux 6.18 (tests/data/btf-golden)", &btf, &raw, None, Ids::All);

    // The oracle agrees with bpftool 7.8 on this BTF: libbpf 1.7 and 1.8 dump it alike. (The
    // golden unsorted header has bpftool's kfunc block after the types, after an empty line.)
    let lib = libbpf_dump::dump_c(&raw, None, &Ids::All).expect("libbpf dump");
    let golden = unzstd("btf-golden/vmlinux-6.18.unsorted.h.zst");
    let body = golden
        .strip_prefix(&c.preamble[..])
        .and_then(|g| g.strip_suffix(FOOTER.as_bytes()))
        .expect("bpftool's unsorted header has rawbpf's preamble and footer");
    let kfuncs = b"\n/* BPF kfuncs */\n";
    let types = match body.windows(kfuncs.len()).position(|w| w == kfuncs) {
        Some(at) => &body[..at],
        None => body,
    };
    if types != lib {
        c.failures.push(diff_report_of(
            "golden vmlinux 6.18: bpftool 7.8's unsorted header (libbpf 1.8) against libbpf 1.7",
            "bpftool",
            types,
            &lib,
        ));
    } else {
        eprintln!(
            "{T}: libbpf {} equals the types of bpftool 7.8's unsorted golden header ({} bytes)",
            libbpf_dump::libbpf_version(),
            lib.len()
        );
    }
    c.finish(1);
}

/// The running kernel's BTF: vmlinux in id order, and every loaded module's BTF split over it:
/// the module's own ids as roots (what they need from vmlinux comes with them, as with
/// bpftool's `root_id`), and for the module with the most types all ids, base included, as
/// `bpftool -B vmlinux btf dump file MODULE format c unsorted` writes them. In the ci/vm-test
/// guests this covers Debian's 6.12 and 6.1 kernels and the modules loaded there.
#[test]
fn running_kernel_btf_matches_libbpf() {
    const T: &str = "running_kernel_btf_matches_libbpf";
    let vmlinux_path = Path::new(rawbpf::btf::SYSFS_BTF).join("vmlinux");
    let vmlinux = match std::fs::read(&vmlinux_path) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{T}: {}: {e}: this kernel has no BTF, nothing to compare", vmlinux_path.display());
            return;
        }
    };
    let base = Arc::new(Btf::parse(&vmlinux).expect("vmlinux BTF"));
    let mut c = Comparer::new(T);
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let same_as_golden =
        !in_vm_guest() && unzstd("btf-golden/vmlinux-6.18.btf.zst") == vmlinux;
    if same_as_golden {
        eprintln!(
            "{T}: {}: the same bytes as tests/data/btf-golden/vmlinux-6.18.btf (compared by golden_vmlinux_6_18_matches_libbpf)",
            vmlinux_path.display()
        );
    } else {
        c.compare(&format!("{} ({release})", vmlinux_path.display()), &base, &vmlinux, None, Ids::All);
    }
    let modules = rawbpf::btf::kernel_modules_with_btf().expect("/sys/kernel/btf");
    let mut largest: Option<(usize, String, Vec<u8>)> = None;
    for m in &modules {
        let path = Path::new(rawbpf::btf::SYSFS_BTF).join(m);
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let btf = Btf::parse_split(&raw, Arc::clone(&base))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let roots: Vec<u32> = (btf.first_id()..=btf.last_id()).collect();
        c.compare(
            &format!("{} over vmlinux ({release}), its own ids as roots", path.display()),
            &btf,
            &raw,
            Some(&vmlinux),
            Ids::Only(roots),
        );
        if largest.as_ref().is_none_or(|(n, ..)| btf.len() > *n) {
            largest = Some((btf.len(), m.clone(), raw));
        }
    }
    if let Some((_, m, raw)) = largest {
        let btf = Btf::parse_split(&raw, Arc::clone(&base)).expect("module BTF");
        c.compare(
            &format!("/sys/kernel/btf/{m} over vmlinux ({release}), all ids"),
            &btf,
            &raw,
            Some(&vmlinux),
            Ids::All,
        );
    }
    let expected = usize::from(!same_as_golden) + modules.len() + usize::from(!modules.is_empty());
    eprintln!("{T}: {release}: vmlinux and {} modules with BTF", modules.len());
    c.finish(expected);
}

/// Every committed BPF object under tests/ and examples/.
fn bpf_objects() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.to_string_lossy().ends_with(".bpf.o") {
                out.push(p);
            }
        }
    }
    let mut objs = Vec::new();
    walk(&repo().join("tests"), &mut objs);
    walk(&repo().join("examples"), &mut objs);
    objs.sort();
    objs
}

/// The `.BTF` of every committed `*.bpf.o` (tests/bpf, tests/data, examples).
#[test]
fn test_object_btf_matches_libbpf() {
    const T: &str = "test_object_btf_matches_libbpf";
    let objs = bpf_objects();
    assert!(objs.len() > 40, "BPF objects: {objs:?}");
    let mut c = Comparer::new(T);
    for path in &objs {
        let elf = std::fs::read(path).expect("object");
        let btf = Btf::from_elf(&elf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let what = path.strip_prefix(repo()).unwrap_or(path).display().to_string();
        c.compare(&format!("{what} .BTF"), &btf, btf.raw_bytes(), None, Ids::All);
    }
    c.finish(objs.len());
}
