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
    Btf, BtfBuilder, CDumpOptions, FuncLinkage, IntEncoding, NewMember, VarLinkage, write_c_header,
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
    write_c_header(
        &btf,
        &mut out,
        &CDumpOptions::new().sorted(false).kfuncs(false),
    )
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
            .map(|(i, l)| {
                format!(
                    "  {}{:>7} | {l}\n",
                    if i == first { '>' } else { ' ' },
                    i + 1
                )
            })
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
    /// Types of the compared BTFs (without their bases) and bytes of equal text.
    own_types: usize,
    bytes: usize,
    /// Print only mismatches and the summary.
    quiet: bool,
    test: &'static str,
}

impl Comparer {
    fn new(test: &'static str) -> Self {
        Comparer {
            preamble: preamble(),
            failures: Vec::new(),
            compared: 0,
            own_types: 0,
            bytes: 0,
            quiet: false,
            test,
        }
    }

    /// Compares `btf` (parsed by rawbpf from `raw`, over `base` when split) with libbpf's dump
    /// of the same bytes.
    fn compare(&mut self, what: &str, btf: &Btf<'_>, raw: &[u8], base: Option<&[u8]>, ids: Ids) {
        self.compare_with(what, btf, base.is_some(), ids, &|ids| {
            libbpf_dump::dump_c(raw, base, ids)
        });
    }

    /// Compares `btf` with `libbpf`'s dump of the same BTF (`split`: whether it is split BTF).
    fn compare_with(
        &mut self,
        what: &str,
        btf: &Btf<'_>,
        split: bool,
        ids: Ids,
        libbpf: &dyn Fn(&Ids) -> libbpf_dump::Dumped,
    ) {
        let t = Instant::now();
        let r = (|| -> Result<(usize, usize), String> {
            let (lib, cnt) = libbpf(&ids)?;
            let t_lib = t.elapsed();
            let mine = ours(btf, &ids, &self.preamble)?;
            let n = cnt - 1;
            let own = btf.len();
            if n as usize
                != own
                    + if split {
                        btf.first_id() as usize - 1
                    } else {
                        0
                    }
            {
                return Err(format!(
                    "libbpf counts {n} types, rawbpf {} (+ base {})",
                    own,
                    btf.first_id() - 1
                ));
            }
            if mine != lib {
                return Err(diff_report(what, &mine, &lib));
            }
            if !self.quiet {
                eprintln!(
                    "{}: {what}: {n} types{}, {} ids dumped, {} bytes equal (libbpf {:.2?}, total {:.2?})",
                    self.test,
                    if split {
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
            }
            Ok((own, lib.len()))
        })();
        match r {
            Ok((own, bytes)) => {
                self.compared += 1;
                self.own_types += own;
                self.bytes += bytes;
            }
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
        // Two dumpers that both wrote nothing would agree too.
        assert!(
            self.compared == 0 || self.bytes > 0,
            "{}: no C text was compared",
            self.test
        );
        eprintln!(
            "{}: {} BTFs equal ({} types of their own, {} bytes of C)",
            self.test, self.compared, self.own_types, self.bytes
        );
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
    assert!(
        out.status.success(),
        "zstd -dc {}: {:?}",
        path.display(),
        out.status
    );
    out.stdout
}

/// The golden 6.18 BTF (this CI host's kernel), and, as a check of the oracle itself, libbpf
/// 1.7's text against bpftool 7.8's (libbpf 1.8) golden unsorted header of the same BTF.
#[test]
fn btf_dump_libbpf_golden_vmlinux_6_18() {
    const T: &str = "btf_dump_libbpf_golden_vmlinux_6_18";
    if in_vm_guest() {
        eprintln!("{T}: kernel-independent, run by the host's CI step (the guest has no zstd)");
        return;
    }
    let raw = unzstd("btf-golden/vmlinux-6.18.btf.zst");
    let btf = Btf::parse(&raw).expect("golden BTF");
    let mut c = Comparer::new(T);
    c.compare(
        "golden vmlinux 6.18 (tests/data/btf-golden)",
        &btf,
        &raw,
        None,
        Ids::All,
    );

    // The oracle agrees with bpftool 7.8 on this BTF: libbpf 1.7 and 1.8 dump it alike. (The
    // golden unsorted header has bpftool's kfunc block after the types, after an empty line.)
    let (lib, _) = libbpf_dump::dump_c(&raw, None, &Ids::All).expect("libbpf dump");
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

/// Split BTF over the golden vmlinux (a module-like blob over 125,827 base types: the large-BTF
/// paths of the dumper, a second thread included, with two blobs): all ids, base included, as
/// `bpftool -B` dumps them in id order; and sorted, which must hold every split type once.
#[test]
fn btf_dump_libbpf_split_over_golden_vmlinux() {
    const T: &str = "btf_dump_libbpf_split_over_golden_vmlinux";
    if in_vm_guest() {
        eprintln!("{T}: kernel-independent, run by the host's CI step (the guest has no zstd)");
        return;
    }
    let raw_base = unzstd("btf-golden/vmlinux-6.18.btf.zst");
    let base = Arc::new(Btf::parse(&raw_base).expect("golden BTF"));
    let find = |name: &str, kind| {
        base.find_by_name_kind(name, kind)
            .unwrap_or_else(|| panic!("{name} in vmlinux"))
            .id()
    };
    let task = find("task_struct", rawbpf::btf::Kind::Struct);
    let int = find("int", rawbpf::btf::Kind::Int);
    let list = find("list_head", rawbpf::btf::Kind::Struct);
    let mut s = BtfBuilder::new_split(&base);
    let ptask = s.add_ptr(task);
    // A name vmlinux has too (renamed `task_struct___2`), one only the module has, a typedef
    // and an enum of the module's, and a prototype over base and module types.
    let clash = s
        .add_struct("task_struct", 16, &[m("owner", ptask, 0), m("n", int, 64)])
        .expect("struct");
    let e = s
        .add_enum("split_mode", 4, false, &[("SPLIT_A", 0), ("SPLIT_B", 7)])
        .expect("enum");
    let own = s
        .add_struct(
            "split_only",
            32,
            &[
                m("node", list, 0),
                m("mode", e, 128),
                m("other", clash, 192),
            ],
        )
        .expect("struct");
    let td = s.add_typedef("split_only_t", own);
    let pown = s.add_ptr(td);
    let proto = s
        .add_func_proto(int, &[("s", pown), ("t", ptask)])
        .expect("proto");
    s.add_func("split_fn", proto, FuncLinkage::Global);
    let raw = s.encode();
    let btf = Btf::parse_split(&raw, Arc::clone(&base)).expect("split BTF");
    let mut c = Comparer::new(T);
    c.compare(
        "split over the golden vmlinux",
        &btf,
        &raw,
        Some(&raw_base),
        Ids::All,
    );
    let mut sorted = Vec::new();
    write_c_header(&btf, &mut sorted, &CDumpOptions::new()).expect("sorted dump");
    let text = String::from_utf8(sorted).expect("utf-8");
    for decl in [
        "struct task_struct___2 {\n",
        "struct split_only {\n",
        "enum split_mode {\n",
        "typedef struct split_only split_only_t;\n",
        "struct task_struct {\n",
    ] {
        assert_eq!(text.matches(decl).count(), 1, "{T}: sorted: {decl:?}");
    }
    c.finish(1);
}

/// The running kernel's BTF: vmlinux in id order, and every loaded module's BTF split over it:
/// the module's own ids as roots (what they need from vmlinux comes with them, as with
/// bpftool's `root_id`), and for the module with the most types all ids, base included, as
/// `bpftool -B vmlinux btf dump file MODULE format c unsorted` writes them. In the ci/vm-test
/// guests this covers Debian's 6.12 and 6.1 kernels and the modules loaded there.
#[test]
fn btf_dump_libbpf_running_kernel_and_modules() {
    const T: &str = "btf_dump_libbpf_running_kernel_and_modules";
    let vmlinux_path = Path::new(rawbpf::btf::SYSFS_BTF).join("vmlinux");
    let vmlinux = match std::fs::read(&vmlinux_path) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "{T}: {}: {e}: this kernel has no BTF, nothing to compare",
                vmlinux_path.display()
            );
            return;
        }
    };
    let base = Arc::new(Btf::parse(&vmlinux).expect("vmlinux BTF"));
    let mut c = Comparer::new(T);
    let release = nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default();
    let same_as_golden = !in_vm_guest() && unzstd("btf-golden/vmlinux-6.18.btf.zst") == vmlinux;
    if same_as_golden {
        eprintln!(
            "{T}: {}: the same bytes as tests/data/btf-golden/vmlinux-6.18.btf (compared by btf_dump_libbpf_golden_vmlinux_6_18)",
            vmlinux_path.display()
        );
    } else {
        c.compare(
            &format!("{} ({release})", vmlinux_path.display()),
            &base,
            &vmlinux,
            None,
            Ids::All,
        );
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
            &format!(
                "{} over vmlinux ({release}), its own ids as roots",
                path.display()
            ),
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
    eprintln!(
        "{T}: {release}: vmlinux and {} modules with BTF",
        modules.len()
    );
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
fn btf_dump_libbpf_test_objects() {
    const T: &str = "btf_dump_libbpf_test_objects";
    let objs = bpf_objects();
    assert!(objs.len() > 40, "BPF objects: {objs:?}");
    let mut c = Comparer::new(T);
    for path in &objs {
        let elf = std::fs::read(path).expect("object");
        let btf = Btf::from_elf(&elf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let what = path
            .strip_prefix(repo())
            .unwrap_or(path)
            .display()
            .to_string();
        c.compare(
            &format!("{what} .BTF"),
            &btf,
            btf.raw_bytes(),
            None,
            Ids::All,
        );
    }
    c.finish(objs.len());
}

/// Minimized BTF: `bpftool gen min_core_btf` of the running kernel's vmlinux BTF for each
/// committed object with CO-RE relocations, and for all of them at once (the types the
/// relocations need, with their members and what those reach).
#[test]
fn btf_dump_libbpf_minimized() {
    const T: &str = "btf_dump_libbpf_minimized";
    let vmlinux = Path::new(rawbpf::btf::SYSFS_BTF).join("vmlinux");
    if !vmlinux.exists() {
        eprintln!(
            "{T}: {}: this kernel has no BTF to minimize",
            vmlinux.display()
        );
        return;
    }
    let dir = common::TempDir::new("minbtf");
    let mut c = Comparer::new(T);
    let min_core_btf = |out: &Path, objs: &[PathBuf]| -> Result<Vec<u8>, String> {
        let r = Command::new("bpftool")
            .args(["gen", "min_core_btf"])
            .arg(&vmlinux)
            .arg(out)
            .args(objs)
            .output()
            .map_err(|e| format!("running bpftool: {e} (tests/install-deps installs it)"))?;
        if !r.status.success() {
            return Err(String::from_utf8_lossy(&r.stderr)
                .trim()
                .replace('\n', "; "));
        }
        std::fs::read(out).map_err(|e| format!("{}: {e}", out.display()))
    };
    let mut with_types = Vec::new();
    for obj in bpf_objects() {
        let elf = std::fs::read(&obj).expect("object");
        // Only objects with CO-RE relocations have anything to minimize for.
        let has_core = rawbpf::btf::BtfExt::from_elf(&elf)
            .ok()
            .flatten()
            .is_some_and(|ext| ext.core_relos().next().is_some());
        if !has_core {
            continue;
        }
        let name = obj.file_name().unwrap().to_string_lossy().into_owned();
        let out = dir.path().join(format!("{name}.btf"));
        match min_core_btf(&out, std::slice::from_ref(&obj)) {
            Ok(raw) => {
                let btf = Btf::parse(&raw).expect("bpftool's minimized BTF");
                if !btf.is_empty() {
                    with_types.push(obj.clone());
                }
                c.compare(
                    &format!("min_core_btf(vmlinux, {name})"),
                    &btf,
                    &raw,
                    None,
                    Ids::All,
                );
            }
            // A relocation against a module type (core_module) finds nothing in vmlinux on a
            // kernel without that module: bpftool says so and writes nothing.
            Err(e) => eprintln!("{T}: bpftool gen min_core_btf for {name}: {e}"),
        }
    }
    assert!(
        with_types.len() >= 3,
        "{T}: minimized BTF with types for only {with_types:?}"
    );
    let out = dir.path().join("all.btf");
    let raw = min_core_btf(&out, &with_types).expect("bpftool gen min_core_btf of all objects");
    let btf = Btf::parse(&raw).expect("bpftool's minimized BTF");
    c.compare(
        &format!("min_core_btf(vmlinux, {} objects)", with_types.len()),
        &btf,
        &raw,
        None,
        Ids::All,
    );
    c.finish(with_types.len() + 1);
}

/// The C integer types most corner cases use.
struct Ints {
    int: u32,
    uint: u32,
    char: u32,
    uchar: u32,
    ushort: u32,
    long: u32,
    ulong: u32,
    llong: u32,
}

fn ints(b: &mut BtfBuilder) -> Ints {
    let signed = IntEncoding::SIGNED;
    Ints {
        int: b.add_int("int", 4, signed),
        uint: b.add_int("unsigned int", 4, IntEncoding::empty()),
        char: b.add_int("char", 1, IntEncoding::CHAR | signed),
        uchar: b.add_int("unsigned char", 1, IntEncoding::empty()),
        ushort: b.add_int("short unsigned int", 2, IntEncoding::empty()),
        long: b.add_int("long", 8, signed),
        ulong: b.add_int("long unsigned int", 8, IntEncoding::empty()),
        llong: b.add_int("long long int", 8, signed),
    }
}

fn m(name: &str, ty: u32, bit_offset: u32) -> NewMember<'_> {
    NewMember::new(name, ty, bit_offset)
}

fn bf(name: &str, ty: u32, bit_offset: u32, bits: u32) -> NewMember<'_> {
    NewMember::bitfield(name, ty, bit_offset, bits)
}

type Built = Result<Vec<u8>, rawbpf::btf::BtfError>;

/// A named corner case.
type Case = (&'static str, fn() -> Built);

/// Bitfields within and across storage units, holes before and after them, bitfields of
/// every width class, a legacy (INT-encoded) bitfield type, padding at the end.
fn corner_bitfields() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    b.add_struct(
        "bits",
        8,
        &[
            bf("a", i.uchar, 0, 3),
            bf("b", i.uchar, 3, 5),
            bf("c", i.uint, 8, 20),
            bf("d", i.uint, 28, 4),
            bf("e", i.ulong, 32, 30),
        ],
    )?;
    b.add_struct(
        "cross",
        24,
        &[
            m("x", i.char, 0),
            bf("y", i.uint, 33, 31),
            bf("z", i.llong, 64, 40),
            bf("w", i.ushort, 104, 9),
            bf("v", i.int, 160, 1),
        ],
    )?;
    b.add_struct(
        "holes",
        32,
        &[
            bf("a", i.int, 0, 2),
            m("b", i.int, 64),
            bf("c", i.uchar, 96, 1),
            bf("d", i.ulong, 128, 7),
            m("e", i.char, 200),
        ],
    )?;
    let legacy = b.add_int_bits("int", 4, IntEncoding::SIGNED, 0, 5);
    b.add_struct("legacy_bits", 8, &[m("a", legacy, 0), m("b", i.int, 32)])?;
    b.add_union(
        "ubits",
        8,
        &[
            bf("a", i.uint, 0, 3),
            bf("b", i.ulong, 0, 60),
            m("c", i.char, 0),
        ],
    )?;
    Ok(b.encode())
}

/// Packed structs and unions (a member below its alignment, a size that is not a multiple of
/// the alignment), a packed struct inside a normal one, over-aligned structs with trailing
/// padding, holes between members.
fn corner_packed() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    let p1 = b.add_struct("p1", 5, &[m("c", i.char, 0), m("i", i.int, 8)])?;
    b.add_struct("p2", 3, &[m("c", i.char, 0), m("s", i.ushort, 8)])?;
    b.add_struct("p3", 9, &[m("l", i.long, 0), m("c", i.char, 64)])?;
    b.add_struct(
        "outer",
        12,
        &[m("c", i.char, 0), m("p", p1, 8), m("i", i.int, 64)],
    )?;
    let c5 = b.add_array(i.char, i.int, 5);
    b.add_union("u5", 5, &[m("i", i.int, 0), m("c", c5, 0)])?;
    b.add_struct("over", 64, &[m("a", i.int, 0)])?;
    b.add_struct(
        "hole",
        24,
        &[m("a", i.int, 0), m("b", i.int, 64), m("c", i.long, 128)],
    )?;
    b.add_struct("mid", 16, &[m("a", i.char, 0), m("b", i.char, 72)])?;
    b.add_struct("empty", 0, &[])?;
    b.add_struct("tail_pad", 40, &[m("a", i.long, 0), m("b", i.char, 64)])?;
    Ok(b.encode())
}

/// Cycles through pointers (direct, mutual, through typedefs and function pointers),
/// forward declarations (FWD of a struct and of a union, one never defined), and types used
/// before their id.
fn corner_cycles() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    // ids: a=next, b=next+1 ... built in an order that uses ids before they exist.
    let a = b.next_id() + 4;
    let bb = a + 1;
    let c = a + 2;
    let node = a + 3;
    let pa = b.add_ptr(a);
    let pb = b.add_ptr(bb);
    let node_t = b.add_typedef("node_t", node);
    let pnode_t = b.add_ptr(node_t);
    assert_eq!(b.next_id(), a);
    let fn_proto = b.next_id() + 4;
    let pfn = fn_proto + 1;
    b.add_struct("a", 16, &[m("b", pb, 0), m("self", pa, 64)])?;
    b.add_struct("b", 16, &[m("a", pa, 0), m("c", c, 64)])?;
    b.add_struct("c", 8, &[m("cb", pfn, 0)])?;
    b.add_struct("node", 16, &[m("next", pnode_t, 0), m("val", i.int, 64)])?;
    assert_eq!(b.next_id(), fn_proto);
    b.add_func_proto(i.int, &[("a", pa), ("b", pb)])?;
    b.add_ptr(fn_proto);
    let fwd = b.add_fwd("opaque", false);
    let fwd_u = b.add_fwd("opaque_u", true);
    let pfwd = b.add_ptr(fwd);
    let pfwd_u = b.add_ptr(fwd_u);
    let later = b.add_fwd("later", false);
    let plater = b.add_ptr(later);
    b.add_struct(
        "uses_fwd",
        24,
        &[m("o", pfwd, 0), m("u", pfwd_u, 64), m("l", plater, 128)],
    )?;
    b.add_struct("later", 4, &[m("x", i.int, 0)])?;
    // A struct embedding one with a larger id.
    let inner = b.next_id() + 1;
    b.add_struct("embeds_later", 8, &[m("in", inner, 0)])?;
    b.add_struct("inner_later", 8, &[m("x", i.ulong, 0)])?;
    Ok(b.encode())
}

/// Anonymous types nested in named ones (unions of structs, an anonymous enum member, a named
/// member of anonymous type), typedefs of anonymous types, top-level anonymous types.
fn corner_anonymous() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    let s_ab = b.add_struct("", 8, &[m("a", i.int, 0), m("b", i.int, 32)])?;
    let u = b.add_union("", 8, &[m("", s_ab, 0), m("c", i.long, 0)])?;
    let e = b.add_enum("", 4, false, &[("X", 0), ("Y", 1)])?;
    let s_z = b.add_struct("", 4, &[m("z", i.int, 0)])?;
    let deep = b.add_struct("", 4, &[m("", s_z, 0)])?;
    b.add_struct(
        "outer",
        24,
        &[
            m("", u, 0),
            m("e", e, 64),
            m("named", s_z, 96),
            m("", deep, 128),
        ],
    )?;
    let td_s = b.add_struct("", 4, &[m("q", i.int, 0)])?;
    b.add_typedef("anon_td", td_s);
    let td_u = b.add_union("", 8, &[m("l", i.long, 0), m("i", i.int, 0)])?;
    b.add_typedef("anon_union_td", td_u);
    let td_e = b.add_enum("", 4, true, &[("NEG", -1), ("POS", 1)])?;
    b.add_typedef("anon_enum_td", td_e);
    b.add_enum("", 4, false, &[("TOP_A", 0), ("TOP_B", 5)])?;
    b.add_struct("", 4, &[m("unreferenced", i.int, 0)])?;
    let pa = b.add_ptr(s_ab);
    b.add_struct("ptr_to_anon", 8, &[m("p", pa, 0)])?;
    let arr = b.add_array(s_z, i.int, 2);
    b.add_struct("array_of_anon", 8, &[m("a", arr, 0)])?;
    Ok(b.encode())
}

/// Duplicate names: structs, a union and an enum named alike (one tag namespace), typedefs
/// and functions named like tags (another namespace), enum values named alike, a name that
/// already looks renamed.
fn corner_duplicates() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    b.add_struct("foo", 4, &[m("a", i.int, 0)])?;
    b.add_struct("foo", 8, &[m("b", i.long, 0)])?;
    b.add_union("foo", 4, &[m("c", i.int, 0)])?;
    b.add_enum("foo", 4, false, &[("A", 1), ("B", 2)])?;
    b.add_enum("bar", 4, false, &[("A", 3), ("C", 4)])?;
    // libbpf renames the second `dup` to `dup___2` without looking at existing names, so two
    // `struct dup___2` definitions come out (as bpftool writes them too).
    b.add_struct("dup___2", 4, &[m("x", i.int, 0)])?;
    b.add_struct("dup", 4, &[m("y", i.int, 0)])?;
    let dup2 = b.add_struct("dup", 8, &[m("z", i.long, 0)])?;
    b.add_typedef("foo", i.int);
    b.add_typedef("foo", i.long);
    b.add_typedef("A", i.int);
    let pd = b.add_ptr(dup2);
    b.add_struct("uses_dups", 8, &[m("d", pd, 0)])?;
    b.add_fwd("foo", false);
    b.add_enum64("foo", 8, false, &[("A", 1u64 << 40)])?;
    // The same struct twice, identical.
    b.add_struct("same", 4, &[m("s", i.int, 0)])?;
    b.add_struct("same", 4, &[m("s", i.int, 0)])?;
    b.add_int("int", 4, IntEncoding::SIGNED);
    Ok(b.encode())
}

/// Declarators printed inside out: arrays of function pointers, pointers to arrays,
/// functions returning function pointers, multi-dimensional and flexible arrays, qualifiers
/// in every position, `(void)` and variadic prototypes, typedefs of arrays and of function
/// types, FUNC/VAR/DATASEC/DECL_TAG (not declared), `__builtin_va_list`, floats, `__int128`,
/// `_Bool`.
fn corner_declarators() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    let void_fn_int = b.add_func_proto(0, &[("", i.int)])?;
    let pvfi = b.add_ptr(void_fn_int);
    let handler_t = b.add_typedef("handler_t", pvfi);
    let harr = b.add_array(handler_t, i.int, 4);
    let pvoid = b.add_ptr(0);
    let variadic = b.add_func_proto(i.int, &[("p", pvoid), ("", 0)])?;
    let pvariadic = b.add_ptr(variadic);
    let fns = b.add_array(pvariadic, i.int, 3);
    let c5 = b.add_array(i.char, i.int, 5);
    let pc5 = b.add_ptr(c5);
    let ppc5 = b.add_ptr(pc5);
    let char_fn = b.add_func_proto(i.int, &[("", i.char)])?;
    let pchar_fn = b.add_ptr(char_fn);
    let get = b.add_func_proto(pchar_fn, &[("", i.long)])?;
    let pget = b.add_ptr(get);
    let i10 = b.add_array(i.int, i.int, 10);
    let pi10 = b.add_ptr(i10);
    let i3 = b.add_array(i.int, i.int, 3);
    let i2x3 = b.add_array(i3, i.int, 2);
    let cchar = b.add_const(i.char);
    let pcchar = b.add_ptr(cchar);
    let cv = b.add_volatile(pcchar);
    let ccv = b.add_const(cv);
    let rp = b.add_restrict(pcchar);
    let noargs = b.add_func_proto(i.int, &[])?;
    let pnoargs = b.add_ptr(noargs);
    let void_noargs = b.add_func_proto(0, &[])?;
    let pvoid_noargs = b.add_ptr(void_noargs);
    let flex = b.add_array(i.int, i.int, 0);
    let cint = b.add_const(i.int);
    let carr = b.add_array(cint, i.int, 2);
    let vcarr = b.add_volatile(carr);
    let pfarr = b.add_ptr(harr);
    b.add_struct(
        "ops",
        200,
        &[
            m("h", harr, 0),
            m("fns", fns, 256),
            m("pp", ppc5, 448),
            m("get", pget, 512),
            m("pa", pi10, 576),
            m("m", i2x3, 640),
            m("ccv", ccv, 832),
            m("rp", rp, 896),
            m("noargs", pnoargs, 960),
            m("vnoargs", pvoid_noargs, 1024),
            m("carr", vcarr, 1088),
            m("pfarr", pfarr, 1152),
            m("n", i.int, 1216),
            m("flex", flex, 1248),
        ],
    )?;
    let i8 = b.add_array(i.int, i.int, 8);
    b.add_typedef("arr_t", i8);
    let fn_t = b.add_func_proto(i.int, &[("x", i.int)])?;
    b.add_typedef("fn_t", fn_t);
    let func = b.add_func("some_function", fn_t, FuncLinkage::Global);
    b.add_decl_tag("a_tag", func, -1, false);
    let var = b.add_var("some_var", i.int, VarLinkage::GlobalAllocated);
    b.add_datasec(
        ".data",
        4,
        &[rawbpf::btf::VarSecinfo {
            type_id: var,
            offset: 0,
            size: 4,
        }],
    )?;
    let va = b.add_ptr(i.char);
    let builtin = b.add_typedef("__builtin_va_list", va);
    let va_list = b.add_typedef("va_list", builtin);
    let vfmt = b.add_func_proto(i.int, &[("fmt", pcchar), ("ap", va_list)])?;
    b.add_typedef("vfmt_t", vfmt);
    let dbl = b.add_float("double", 8);
    let ldbl = b.add_float("long double", 16);
    let i128 = b.add_int("__int128", 16, IntEncoding::SIGNED);
    let u128 = b.add_int("__int128 unsigned", 16, IntEncoding::empty());
    let boolean = b.add_int("_Bool", 1, IntEncoding::BOOL);
    b.add_struct(
        "scalars",
        64,
        &[
            m("d", dbl, 0),
            m("ld", ldbl, 128),
            m("i", i128, 256),
            m("u", u128, 384),
            m("b", boolean, 512),
            m("ul", i.ulong, 448),
        ],
    )?;
    Ok(b.encode())
}

/// Enums: 64-bit values (signed and unsigned), 1-, 2- and 8-byte enums with 32-bit values
/// (`mode(byte)`, `mode(word)`), signed values, values above `INT_MAX`, an enum without
/// values (a forward declaration), enums as members.
fn corner_enums() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    let e64u = b.add_enum64(
        "big_u",
        8,
        false,
        &[("BU_MAX", u64::MAX), ("BU_ONE", 1), ("BU_HI", 1 << 63)],
    )?;
    let e64s = b.add_enum64(
        "big_s",
        8,
        true,
        &[("BS_NEG", (-5i64) as u64), ("BS_MIN", i64::MIN as u64)],
    )?;
    let e1 = b.add_enum("tiny", 1, false, &[("T0", 0), ("T1", 255)])?;
    let e2 = b.add_enum("short_e", 2, false, &[("S0", 0), ("S1", 65535)])?;
    let e8 = b.add_enum("wide", 8, false, &[("W0", 0), ("W1", 7)])?;
    let es = b.add_enum("neg", 4, true, &[("N0", -1), ("N1", i32::MIN as i64)])?;
    let eu = b.add_enum("uns", 4, false, &[("U0", 0x8000_0000), ("U1", 0xffff_ffff)])?;
    b.add_enum("fwd_enum", 4, false, &[])?;
    let e1s = b.add_enum("tiny_s", 1, true, &[("TS", -1)])?;
    b.add_struct(
        "has_enums",
        48,
        &[
            m("a", e64u, 0),
            m("b", e64s, 64),
            m("c", e1, 128),
            m("d", e2, 144),
            m("e", e8, 192),
            m("f", es, 256),
            m("g", eu, 288),
            m("h", e1s, 320),
            m("i", i.int, 352),
        ],
    )?;
    Ok(b.encode())
}

/// Type tags: on pointees, on pointers, chained with qualifiers, on typedefs and structs, with
/// kind_flag set (a raw `__attribute__`), and decl tags on members.
fn corner_type_tags() -> Built {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    let user = b.add_type_tag("user", i.int, false);
    let puser = b.add_ptr(user);
    let rcu = b.add_type_tag("rcu", i.long, false);
    let percpu = b.add_type_tag("percpu", rcu, false);
    let ppercpu = b.add_ptr(percpu);
    // ptr -> volatile -> type_tag -> const -> char (a qualifier above a type tag, as clang's
    // `-btf-type-tag-v2` can emit): libbpf 1.7 (and libbpf's master, which has the same
    // btf_dump_emit_type_chain) prints `const charvolatile  __attribute__((…)) *v`, which is
    // not valid C; rawbpf writes the same bytes, as its target is libbpf's output.
    let c = b.add_const(i.char);
    let tagged_c = b.add_type_tag("user", c, false);
    let v = b.add_volatile(tagged_c);
    let pv = b.add_ptr(v);
    let s = b.add_struct("tagged_target", 4, &[m("x", i.int, 0)])?;
    let ts = b.add_type_tag("rcu", s, false);
    let pts = b.add_ptr(ts);
    let attr = b.add_type_tag("address_space(1)", i.int, true);
    let pattr = b.add_ptr(attr);
    let pint = b.add_ptr(i.int);
    let tag_on_ptr = b.add_type_tag("tag_on_ptr", pint, false);
    let td = b.add_typedef("tagged_td", user);
    let ptd = b.add_ptr(td);
    let st = b.add_struct(
        "tags",
        56,
        &[
            m("u", puser, 0),
            m("p", ppercpu, 64),
            m("v", pv, 128),
            m("s", pts, 192),
            m("a", pattr, 256),
            m("t", tag_on_ptr, 320),
            m("d", ptd, 384),
        ],
    )?;
    b.add_decl_tag("member_tag", st, 0, false);
    b.add_decl_tag("struct_tag", st, -1, false);
    Ok(b.encode())
}

/// Split BTF built by hand over a hand-built base: names clashing across base and split.
fn corner_split() -> Result<(Vec<u8>, Vec<u8>), rawbpf::btf::BtfError> {
    let mut b = BtfBuilder::new();
    let i = ints(&mut b);
    b.add_struct("shared", 4, &[m("a", i.int, 0)])?;
    b.add_enum("base_e", 4, false, &[("V", 1)])?;
    let base = b.encode();
    let base_btf = Btf::parse(&base)?;
    let mut s = BtfBuilder::new_split(&base_btf);
    let sh2 = s.add_struct("shared", 8, &[m("b", i.long, 0)])?;
    s.add_enum("split_e", 4, false, &[("V", 2)])?;
    let p = s.add_ptr(sh2);
    s.add_struct("split_only", 16, &[m("p", p, 0), m("c", i.char, 64)])?;
    Ok((base, s.encode()))
}

/// Hand-built BTF for each rule of the dumper, in id order and with all ids as roots in
/// reverse order (which changes what is declared first).
#[test]
fn btf_dump_libbpf_hand_built_corner_cases() {
    const T: &str = "btf_dump_libbpf_hand_built_corner_cases";
    let cases: [Case; 8] = [
        ("bitfields", corner_bitfields),
        ("packed and padding", corner_packed),
        ("cycles and forward declarations", corner_cycles),
        ("anonymous nesting", corner_anonymous),
        ("duplicate names", corner_duplicates),
        ("declarators", corner_declarators),
        ("enums", corner_enums),
        ("type tags", corner_type_tags),
    ];
    let mut c = Comparer::new(T);
    for (what, build) in cases {
        let raw = build().unwrap_or_else(|e| panic!("{what}: building BTF: {e}"));
        let btf = Btf::parse(&raw).unwrap_or_else(|e| panic!("{what}: {e}"));
        c.compare(what, &btf, &raw, None, Ids::All);
        let rev: Vec<u32> = (1..=btf.last_id()).rev().collect();
        c.compare(
            &format!("{what}, ids in reverse"),
            &btf,
            &raw,
            None,
            Ids::Only(rev),
        );
    }
    let (base, split) = corner_split().expect("split BTF");
    let base_btf = Arc::new(Btf::parse(&base).expect("base"));
    let btf = Btf::parse_split(&split, base_btf).expect("split");
    c.compare(
        "split over a hand-built base",
        &btf,
        &split,
        Some(&base),
        Ids::All,
    );
    c.finish(2 * cases.len() + 1);
}

/// `cmd` (a decompressor writing to stdout) run on `input`, through a temporary file.
fn decompress(cmd: &str, input: &[u8], dir: &Path) -> Option<Vec<u8>> {
    let tmp = dir.join(common::unique_name("z"));
    std::fs::write(&tmp, input).ok()?;
    let out = Command::new(cmd).arg("-dc").arg(&tmp).output();
    let _ = std::fs::remove_file(&tmp);
    // Trailing data after the compressed stream makes some tools exit non-zero: judge by
    // the output.
    Some(out.ok()?.stdout)
}

/// The vmlinux ELF inside a bzImage: the first compressed stream (zstd, lz4, xz or gzip, as
/// the kernel's `scripts/extract-vmlinux` looks for them) that decompresses to an ELF.
fn extract_vmlinux(bzimage: &[u8], dir: &Path) -> Option<Vec<u8>> {
    const FORMATS: [(&[u8], &str); 4] = [
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"\x02\x21\x4c\x18", "lz4"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x1f\x8b\x08", "gzip"),
    ];
    for (magic, cmd) in FORMATS {
        let mut from = 0;
        while let Some(at) = bzimage[from..]
            .windows(magic.len())
            .position(|w| w == magic)
            .map(|p| from + p)
        {
            if let Some(elf) = decompress(cmd, &bzimage[at..], dir) {
                if elf.starts_with(b"\x7fELF") {
                    return Some(elf);
                }
            }
            from = at + 1;
        }
    }
    None
}

/// Every `*.ko`, `*.ko.xz` and `*.ko.zst` under `dir`.
fn module_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = p.to_string_lossy();
        if p.is_dir() {
            module_files(&p, out);
        } else if name.ends_with(".ko") || name.ends_with(".ko.xz") || name.ends_with(".ko.zst") {
            out.push(p);
        }
    }
}

/// The module files of the Debian kernels `ci/vm-test` boots (unpacked under `ci/.cache` by
/// its runs), each module's `.BTF` split over its kernel's vmlinux BTF (taken from the
/// cached `vmlinuz`), with the module's own ids as roots; and each vmlinux in id order.
/// The guest runs of `btf_dump_libbpf_running_kernel_and_modules` cover only the modules
/// they load; this covers all of them, on the host. Opt-in: it needs a `ci/vm-test` run's
/// cache and takes minutes in a debug build.
#[test]
#[ignore = "needs ci/.cache from a ci/vm-test run; ~3 min: cargo test --test btf_dump_libbpf -- --ignored"]
fn btf_dump_libbpf_guest_kernel_module_files() {
    const T: &str = "btf_dump_libbpf_guest_kernel_module_files";
    let cache = repo().join("ci/.cache");
    let mut kernels: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap_or_else(|e| panic!("{T}: {}: {e} (run ci/vm-test first)", cache.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("linux-image-"))
        })
        .collect();
    kernels.sort();
    assert!(
        !kernels.is_empty(),
        "{T}: no unpacked kernel in {}",
        cache.display()
    );
    let dir = common::TempDir::new("kobtf");
    let mut c = Comparer::new(T);
    c.quiet = true;
    let mut expected = 0;
    for k in &kernels {
        let kver = k.file_name().unwrap().to_string_lossy()["linux-image-".len()..].to_string();
        let vmlinuz = k.join("boot").join(format!("vmlinuz-{kver}"));
        let bz = std::fs::read(&vmlinuz).unwrap_or_else(|e| panic!("{}: {e}", vmlinuz.display()));
        let elf = extract_vmlinux(&bz, dir.path())
            .unwrap_or_else(|| panic!("{}: no vmlinux found inside", vmlinuz.display()));
        let base_raw = Btf::from_elf(&elf)
            .unwrap_or_else(|e| panic!("{kver} vmlinux: {e}"))
            .raw_bytes()
            .to_vec();
        drop(elf);
        let base = Arc::new(Btf::parse(&base_raw).expect("vmlinux BTF"));
        c.quiet = false;
        c.compare(
            &format!("vmlinux {kver} (from vmlinuz)"),
            &base,
            &base_raw,
            None,
            Ids::All,
        );
        c.quiet = true;
        expected += 1;
        let lib_base = libbpf_dump::LibbpfBase::new(&base_raw).expect("libbpf base");
        let mut kos = Vec::new();
        module_files(&k.join("lib/modules").join(&kver), &mut kos);
        kos.sort();
        let (mut with_btf, mut without) = (0, 0);
        let before = (c.compared, c.own_types, c.bytes);
        let t = Instant::now();
        for ko in &kos {
            let name = ko.to_string_lossy();
            let bytes = std::fs::read(ko).unwrap_or_else(|e| panic!("{name}: {e}"));
            let elf = if name.ends_with(".ko.xz") || name.ends_with(".ko.zst") {
                let cmd = if name.ends_with(".xz") { "xz" } else { "zstd" };
                decompress(cmd, &bytes, dir.path()).unwrap_or_else(|| panic!("{cmd} -dc {name}"))
            } else {
                bytes
            };
            let btf = match Btf::from_elf_split(&elf, Arc::clone(&base)) {
                Ok(b) => b,
                Err(rawbpf::btf::BtfError::Elf { .. }) => {
                    without += 1;
                    continue;
                }
                Err(e) => panic!("{name}: {e}"),
            };
            with_btf += 1;
            let raw = btf.raw_bytes();
            let roots: Vec<u32> = (btf.first_id()..=btf.last_id()).collect();
            let short = ko.strip_prefix(k).unwrap_or(ko).display().to_string();
            c.compare_with(
                &format!("{kver} {short} over its vmlinux, own ids as roots"),
                &btf,
                true,
                Ids::Only(roots),
                &|ids| libbpf_dump::dump_c_split(raw, &lib_base, ids),
            );
        }
        expected += with_btf;
        eprintln!(
            "{T}: {kver}: {} module files, {with_btf} with .BTF ({without} without): {} equal, {} types of their own, {} bytes of C ({:.1?})",
            kos.len(),
            c.compared - before.0,
            c.own_types - before.1,
            c.bytes - before.2,
            t.elapsed()
        );
    }
    c.finish(expected);
}

/// The BTF blobs among the fuzz seeds (`fuzz/seeds/btf_parse`: built with `BtfBuilder`, and
/// a clang-19 object's `.BTF`). A seed rawbpf refuses to write as C (a modifier loop) is
/// not handed to libbpf, whose dumper recurses on such loops; one that is not BTF at all
/// (the `.BTF.ext` seed) is not either.
#[test]
fn btf_dump_libbpf_fuzz_seeds() {
    const T: &str = "btf_dump_libbpf_fuzz_seeds";
    let dir = repo().join("fuzz/seeds/btf_parse");
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    seeds.sort();
    let mut c = Comparer::new(T);
    for seed in &seeds {
        let name = seed.file_name().unwrap().to_string_lossy().into_owned();
        let raw = std::fs::read(seed).expect("seed");
        let btf = match Btf::parse(&raw) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{T}: {name}: not BTF ({e})");
                continue;
            }
        };
        let mut sink = Vec::new();
        if let Err(e) = write_c_header(&btf, &mut sink, &CDumpOptions::new().sorted(false)) {
            eprintln!("{T}: {name}: rawbpf refuses it as C ({e}); not given to libbpf");
            continue;
        }
        c.compare(
            &format!("fuzz/seeds/btf_parse/{name}"),
            &btf,
            &raw,
            None,
            Ids::All,
        );
    }
    c.finish(3);
}

/// A small deterministic PRNG (xorshift64*), so that a failing random BTF can be rebuilt
/// from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn word(&mut self, v: &[&'static str]) -> &'static str {
        v[self.below(v.len() as u64) as usize]
    }
}

/// A planned type of a random BTF: what it is, and (for complete object types) its size and
/// alignment.
#[derive(Clone, Copy)]
struct Planned {
    id: u32,
    /// Size and alignment in bytes when the type can be a member (complete, not a function).
    layout: Option<(u32, u32)>,
    /// An integer or enum: can be a bitfield.
    bitfieldable: bool,
}

/// A random, well-formed BTF (no loop except through pointers, no struct that embeds
/// itself): every kind the dumper handles, names drawn from small pools so that they clash,
/// structs with holes, bitfields and packed layouts, pointers to types defined later.
fn random_btf(seed: u64) -> Vec<u8> {
    const NAMES: [&str; 6] = ["foo", "bar", "baz", "a", "x", "node"];
    const VALUES: [&str; 5] = ["A", "B", "C", "X", "foo"];
    const TAGS: [&str; 3] = ["user", "rcu", "percpu"];
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut b = BtfBuilder::new();
    let mut types: Vec<Planned> = Vec::new();
    let scalar = |b: &mut BtfBuilder, types: &mut Vec<Planned>, name: &str, size: u32, enc| {
        let id = b.add_int(name, size, enc);
        types.push(Planned {
            id,
            layout: Some((size, size.min(8))),
            bitfieldable: true,
        });
    };
    scalar(&mut b, &mut types, "int", 4, IntEncoding::SIGNED);
    scalar(
        &mut b,
        &mut types,
        "char",
        1,
        IntEncoding::CHAR | IntEncoding::SIGNED,
    );
    scalar(
        &mut b,
        &mut types,
        "long unsigned int",
        8,
        IntEncoding::empty(),
    );
    scalar(&mut b, &mut types, "short int", 2, IntEncoding::SIGNED);
    scalar(&mut b, &mut types, "_Bool", 1, IntEncoding::BOOL);
    scalar(
        &mut b,
        &mut types,
        "__int128 unsigned",
        16,
        IntEncoding::empty(),
    );
    // An INT that encodes a bitfield itself (the pre-kind_flag encoding).
    let legacy = b.add_int_bits(
        "unsigned int",
        4,
        IntEncoding::empty(),
        0,
        1 + r.below(31) as u32,
    );
    types.push(Planned {
        id: legacy,
        layout: Some((4, 4)),
        bitfieldable: false,
    });
    let n = 8 + r.below(40) as u32;
    // The body (at most 3 types per step, padded with ints to exactly that many) is followed
    // by `fwd_n` named structs. Pointers point backwards, or forwards to those structs only,
    // so that every loop passes through a named struct, as it must in C.
    let first_fwd = b.next_id() + 3 * n;
    let fwd_n = 1 + r.below(4) as u32;
    for _ in 0..n {
        let next = b.next_id();
        // A type that can be embedded, added before this one.
        let member = |r: &mut Rng, types: &[Planned]| -> Option<Planned> {
            let complete: Vec<Planned> = types
                .iter()
                .copied()
                .filter(|t| t.layout.is_some())
                .collect();
            (!complete.is_empty()).then(|| *r.pick(&complete))
        };
        let name = |r: &mut Rng| -> &'static str { if r.chance(30) { "" } else { r.word(&NAMES) } };
        let planned = match r.below(16) {
            0..=2 => {
                let target = if r.chance(10) {
                    0
                } else if r.chance(40) {
                    first_fwd + r.below(fwd_n.into()) as u32
                } else {
                    r.pick(&types).id
                };
                Planned {
                    id: b.add_ptr(target),
                    layout: Some((8, 8)),
                    bitfieldable: false,
                }
            }
            3..=6 => {
                // A struct or union of members added before it (or pointers).
                let is_union = r.chance(25);
                let nm = 1 + r.below(6);
                let packed = r.chance(15);
                let mut members: Vec<(String, u32, u32, u32)> = Vec::new();
                let (mut bit, mut max_end, mut align) = (0u32, 0u32, 1u32);
                for k in 0..nm {
                    let Some(t) = member(&mut r, &types) else {
                        break;
                    };
                    let (size, a) = t.layout.unwrap();
                    let mname = if r.chance(10) && !is_union {
                        String::new()
                    } else {
                        format!("m{k}")
                    };
                    let bits = if t.bitfieldable && !mname.is_empty() && r.chance(35) {
                        1 + r.below(u64::from(size) * 8) as u32
                    } else {
                        0
                    };
                    let at = if is_union {
                        0
                    } else if bits > 0 {
                        bit + if r.chance(20) { r.below(9) as u32 } else { 0 }
                    } else if packed {
                        bit.div_ceil(8) * 8
                    } else {
                        // Aligned, sometimes with a hole.
                        let hole = if r.chance(15) {
                            a * r.below(3) as u32
                        } else {
                            0
                        };
                        (bit.div_ceil(a * 8) * a * 8) + hole * 8
                    };
                    let width = if bits > 0 { bits } else { size * 8 };
                    members.push((mname, t.id, at, bits));
                    bit = at + width;
                    max_end = max_end.max(at + width);
                    if !packed {
                        align = align.max(a);
                    }
                }
                let mut size = max_end.div_ceil(8);
                if !packed {
                    size = size.div_ceil(align) * align;
                }
                if r.chance(10) {
                    size += align * (1 + r.below(4) as u32);
                }
                let news: Vec<NewMember<'_>> = members
                    .iter()
                    .map(|(n, t, at, bits)| {
                        if *bits > 0 {
                            NewMember::bitfield(n, *t, *at, *bits)
                        } else {
                            NewMember::new(n, *t, *at)
                        }
                    })
                    .collect();
                let name = name(&mut r);
                let id = if is_union {
                    b.add_union(name, size, &news)
                } else {
                    b.add_struct(name, size, &news)
                }
                .expect("composite");
                Planned {
                    id,
                    layout: Some((size, align)),
                    bitfieldable: false,
                }
            }
            7 => {
                let size = *r.pick(&[1u32, 2, 4, 8]);
                let signed = r.chance(40);
                let nv = r.below(4) as usize;
                let vals: Vec<(&str, u64)> = (0..nv)
                    .map(|_| {
                        let v = match r.below(4) {
                            0 => r.below(10),
                            1 => u64::MAX - r.below(3),
                            2 => 1u64 << (8 * size - 1),
                            _ => r.next() >> (64 - 8 * size),
                        };
                        (r.word(&VALUES), v)
                    })
                    .collect();
                let id = if size == 8 && r.chance(60) {
                    b.add_enum64(name(&mut r), 8, signed, &vals)
                } else {
                    let v32: Vec<(&str, i64)> =
                        vals.iter().map(|&(n, v)| (n, v as u32 as i64)).collect();
                    b.add_enum(name(&mut r), size, signed, &v32)
                }
                .expect("enum");
                Planned {
                    id,
                    layout: (nv > 0).then_some((size, size)),
                    bitfieldable: nv > 0,
                }
            }
            8 => {
                let Some(t) = member(&mut r, &types) else {
                    continue;
                };
                let (size, a) = t.layout.unwrap();
                let nelems = r.below(5) as u32;
                Planned {
                    id: b.add_array(t.id, types[0].id, nelems),
                    layout: Some((size * nelems, a)),
                    bitfieldable: false,
                }
            }
            9 => {
                let Some(t) = member(&mut r, &types) else {
                    continue;
                };
                let id = match r.below(4) {
                    0 => b.add_const(t.id),
                    1 => b.add_volatile(t.id),
                    2 => b.add_restrict(t.id),
                    _ => b.add_type_tag(r.word(&TAGS), t.id, r.chance(20)),
                };
                Planned { id, ..t }
            }
            10 => {
                let t = *r.pick(&types);
                let n = if r.chance(80) { r.word(&NAMES) } else { "td" };
                Planned {
                    id: b.add_typedef(n, t.id),
                    ..t
                }
            }
            11..=12 => {
                let ret = if r.chance(30) {
                    0
                } else {
                    member(&mut r, &types).map_or(0, |t| t.id)
                };
                let np = r.below(4);
                let mut params: Vec<(&str, u32)> = Vec::new();
                for k in 0..np {
                    if let Some(t) = member(&mut r, &types) {
                        params.push((["", "p", "q", "r"][k as usize], t.id));
                    }
                }
                if !params.is_empty() && r.chance(20) {
                    params.push(("", 0));
                }
                let id = b.add_func_proto(ret, &params).expect("proto");
                if r.chance(50) {
                    b.add_func(r.word(&NAMES), id, FuncLinkage::Global);
                }
                Planned {
                    id,
                    layout: None,
                    bitfieldable: false,
                }
            }
            13 => Planned {
                id: b.add_fwd(r.word(&NAMES), r.chance(30)),
                layout: None,
                bitfieldable: false,
            },
            14 => {
                // A pointer to a (pointer to a) function or array, the declarator cases.
                let Some(t) = member(&mut r, &types) else {
                    continue;
                };
                let arr = b.add_array(t.id, types[0].id, 1 + r.below(3) as u32);
                let target = if r.chance(50) {
                    arr
                } else {
                    b.add_func_proto(arr.min(t.id), &[("", t.id)])
                        .expect("proto")
                };
                Planned {
                    id: b.add_ptr(target),
                    layout: Some((8, 8)),
                    bitfieldable: false,
                }
            }
            _ => {
                let size = *r.pick(&[4u32, 8, 16]);
                let fname = match size {
                    4 => "float",
                    8 => "double",
                    _ => "long double",
                };
                Planned {
                    id: b.add_float(fname, size),
                    layout: Some((size, size.min(8))),
                    bitfieldable: false,
                }
            }
        };
        debug_assert!(planned.id >= next);
        types.push(planned);
    }
    while b.next_id() < first_fwd {
        b.add_int("int", 4, IntEncoding::SIGNED);
    }
    // The pointed-to named structs: members of any complete body type.
    for k in 0..fwd_n {
        let complete: Vec<Planned> = types
            .iter()
            .copied()
            .filter(|t| t.layout.is_some())
            .collect();
        let mut members = Vec::new();
        let (mut at, mut align) = (0u32, 1u32);
        for i in 0..1 + r.below(4) {
            let t = *r.pick(&complete);
            let (size, a) = t.layout.unwrap();
            at = at.div_ceil(a) * a;
            members.push((format!("f{i}"), t.id, at * 8));
            at += size;
            align = align.max(a);
        }
        let news: Vec<NewMember<'_>> = members
            .iter()
            .map(|(n, t, at)| NewMember::new(n, *t, *at))
            .collect();
        let name = if k % 2 == 0 { r.word(&NAMES) } else { "later" };
        b.add_struct(name, at.div_ceil(align) * align, &news)
            .expect("struct");
    }
    b.encode()
}

/// Random well-formed BTF (`random_btf`, deterministic seeds), in id order and with the ids
/// in a shuffled order as roots.
#[test]
fn btf_dump_libbpf_random_btf() {
    const T: &str = "btf_dump_libbpf_random_btf";
    let count: u64 = std::env::var("RAWBPF_RANDOM_BTF_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut c = Comparer::new(T);
    c.quiet = true;
    for seed in 0..count {
        let raw = random_btf(seed);
        let btf = Btf::parse(&raw).unwrap_or_else(|e| panic!("random BTF {seed}: {e}"));
        c.compare(
            &format!("random BTF, seed {seed}"),
            &btf,
            &raw,
            None,
            Ids::All,
        );
        let mut ids: Vec<u32> = (1..=btf.last_id()).collect();
        let mut r = Rng(seed + 1);
        for i in (1..ids.len()).rev() {
            ids.swap(i, r.below(i as u64 + 1) as usize);
        }
        c.compare(
            &format!("random BTF, seed {seed}, shuffled roots"),
            &btf,
            &raw,
            None,
            Ids::Only(ids),
        );
    }
    c.finish(2 * count as usize);
}
