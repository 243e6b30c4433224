//! BTF → C header (`rawbpf::btf::write_c_header`): byte equality with bpftool 7.8's output,
//! and headers that compile with `clang-19 -target bpf` and reproduce every struct's layout.
//!
//! The oracle in `tests/data/btf-golden/` is bpftool v7.8.0 (libbpf 1.8) run on the BTF of a
//! 6.18 kernel, sorted and unsorted (zstd-compressed; the test decompresses with `zstd`).
//! The compile tests need `clang-19` and fail (they do not skip) without it: CI installs it.
//! Inside the `ci/vm-test` guests (`RAWBPF_VM` set), which ship neither `zstd` nor a compiler,
//! the kernel-independent tests are left to the host run; the module-BTF test runs there.

mod common;

use rawbpf::btf::{Btf, CDumpOptions, Kind, Type, write_c_header};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether this runs inside a `ci/vm-test` guest (no `zstd`, no `clang-19`): tests that do not
/// depend on the kernel run on the host instead, and say so.
fn in_vm_guest(test: &str) -> bool {
    let vm = std::env::var("RAWBPF_VM").is_ok();
    if vm {
        eprintln!(
            "{test}: kernel-independent, run by the host's CI step (the guest has no zstd/clang-19)"
        );
    }
    vm
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// `zstd -dc` of a golden file.
fn unzstd(name: &str) -> Vec<u8> {
    let path = data(&format!("btf-golden/{name}.zst"));
    let out = Command::new("zstd")
        .arg("-dcq")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "running zstd to read {}: {e} (install zstd)",
                path.display()
            )
        });
    assert!(
        out.status.success(),
        "zstd -dc {}: {:?}",
        path.display(),
        out.status
    );
    out.stdout
}

fn header(btf: &Btf<'_>, opts: &CDumpOptions) -> Vec<u8> {
    let mut out = Vec::new();
    write_c_header(btf, &mut out, opts).expect("write_c_header");
    out
}

/// Asserts byte equality, naming the first line that differs.
fn assert_same(ours: &[u8], golden: &[u8], what: &str) {
    if ours == golden {
        return;
    }
    let (a, b) = (
        String::from_utf8_lossy(ours),
        String::from_utf8_lossy(golden),
    );
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
    panic!(
        "{what}: output differs from bpftool's at line {} (ours {} bytes, bpftool {} bytes)\n ours: {:?}\n bpftool: {:?}",
        line + 1,
        ours.len(),
        golden.len(),
        a.lines().nth(line),
        b.lines().nth(line)
    );
}

#[test]
fn vmlinux_sorted_matches_bpftool_7_8_byte_for_byte() {
    if in_vm_guest("vmlinux_sorted_matches_bpftool_7_8_byte_for_byte") {
        return;
    }
    let btf = Btf::parse_owned(unzstd("vmlinux-6.18.btf")).expect("golden BTF");
    let golden = unzstd("vmlinux-6.18.sorted.h");
    assert_same(&header(&btf, &CDumpOptions::new()), &golden, "sorted");
}

#[test]
fn vmlinux_unsorted_matches_bpftool_7_8_byte_for_byte() {
    if in_vm_guest("vmlinux_unsorted_matches_bpftool_7_8_byte_for_byte") {
        return;
    }
    let btf = Btf::parse_owned(unzstd("vmlinux-6.18.btf")).expect("golden BTF");
    let golden = unzstd("vmlinux-6.18.unsorted.h");
    assert_same(
        &header(&btf, &CDumpOptions::new().sorted(false)),
        &golden,
        "unsorted",
    );
}

/// Whether `id` embeds `__builtin_va_list`: the header leaves that typedef to the compiler,
/// and the BPF target's `va_list` (a pointer) is not the kernel's (24 bytes on x86-64), so
/// such layouts cannot match (bpftool's headers have the same property).
fn embeds_va_list(btf: &Btf<'_>, id: u32, memo: &mut HashMap<u32, bool>, depth: u32) -> bool {
    if depth > 64 {
        return false;
    }
    if let Some(&v) = memo.get(&id) {
        return v;
    }
    let Ok(t) = btf.type_by_id(id) else {
        return false;
    };
    let v = match t.kind() {
        Kind::Typedef => {
            t.name() == Ok("__builtin_va_list")
                || embeds_va_list(btf, t.ref_type().unwrap_or(0), memo, depth + 1)
        }
        Kind::Const | Kind::Volatile | Kind::Restrict | Kind::TypeTag => {
            embeds_va_list(btf, t.ref_type().unwrap_or(0), memo, depth + 1)
        }
        Kind::Array => embeds_va_list(btf, t.as_array().unwrap().elem_type(), memo, depth + 1),
        Kind::Struct | Kind::Union => t
            .as_composite()
            .unwrap()
            .members()
            .any(|m| embeds_va_list(btf, m.type_id(), memo, depth + 1)),
        _ => false,
    };
    memo.insert(id, v);
    v
}

/// The name of a type as the header declares it, if that is its BTF name: names that more
/// than one struct/union/enum/int carry are renamed `name___N` by the dumper and are left out.
fn unique_composites<'b>(btf: &'b Btf<'b>) -> Vec<Type<'b>> {
    let mut uses: HashMap<&str, u32> = HashMap::new();
    for t in btf.all_types() {
        let counted = match t.kind() {
            Kind::Struct | Kind::Union | Kind::Int | Kind::Enum64 => true,
            Kind::Enum => t.vlen() > 0,
            _ => false,
        };
        if counted {
            *uses.entry(t.name().unwrap_or("")).or_default() += 1;
        }
    }
    let mut memo = HashMap::new();
    btf.all_types()
        .filter(|t| t.is_composite())
        .filter(|t| t.name().is_ok_and(|n| !n.is_empty() && uses[n] == 1))
        .filter(|t| !embeds_va_list(btf, t.id(), &mut memo, 0))
        .collect()
}

/// `_Static_assert`s of the size of every uniquely named struct and union of `btf`, and of the
/// offset of each of its named, non-bitfield members (members of anonymous members too: C
/// reaches them by name). Returns the C text and the number of asserts.
fn layout_asserts(btf: &Btf<'_>) -> (String, usize) {
    fn members(
        btf: &Btf<'_>,
        t: Type<'_>,
        base_bits: u32,
        tag: &str,
        out: &mut String,
        n: &mut usize,
    ) {
        let c = t.as_composite().expect("composite");
        for m in c.members() {
            let bits = base_bits + m.bit_offset();
            let name = m.name().expect("member name");
            if name.is_empty() {
                if let Ok(inner) = btf.skip_mods(m.type_id()) {
                    if inner.is_composite() && inner.name().is_ok_and(str::is_empty) {
                        members(btf, inner, bits, tag, out, n);
                    }
                }
                continue;
            }
            if m.bitfield_size() != 0 || bits % 8 != 0 {
                continue;
            }
            // A bitfield encoded the legacy way (in its INT type) has no offsetof either.
            if btf
                .skip_mods_and_typedefs(m.type_id())
                .ok()
                .and_then(|t| t.as_int())
                .is_some_and(|i| i.bits() != i.byte_size() * 8 || i.bit_offset() != 0)
            {
                continue;
            }
            let _ = writeln!(
                out,
                "_Static_assert(__builtin_offsetof({tag}, {name}) == {}, \"{tag}.{name}\");",
                bits / 8
            );
            *n += 1;
        }
    }
    let mut out = String::new();
    let mut n = 0;
    for t in unique_composites(btf) {
        let kw = if t.kind() == Kind::Struct {
            "struct"
        } else {
            "union"
        };
        let tag = format!("{kw} {}", t.name().expect("name"));
        let size = t.size().expect("size");
        let _ = writeln!(
            out,
            "_Static_assert(sizeof({tag}) == {size}, \"sizeof {tag}\");"
        );
        n += 1;
        members(btf, t, 0, &tag, &mut out, &mut n);
    }
    (out, n)
}

/// Compiles `header` with `clang-19 -target bpf -c`, followed by the layout asserts of `btf`.
/// Returns the number of asserts checked.
fn compile_with_layout_asserts(btf: &Btf<'_>, header: &[u8], what: &str) -> usize {
    let tmp = common::TempDir::new("btfdump");
    let dir = tmp.path();
    std::fs::write(dir.join("vmlinux.h"), header).expect("write header");
    let (asserts, n) = layout_asserts(btf);
    let src = format!("#include \"vmlinux.h\"\n\n{asserts}\nint rawbpf_btf_dump_check;\n");
    std::fs::write(dir.join("check.c"), src).expect("write check.c");
    let out = Command::new("clang-19")
        .args([
            "-target",
            "bpf",
            "-O2",
            "-Werror=implicit-function-declaration",
            "-c",
        ])
        .arg(dir.join("check.c"))
        .arg("-o")
        .arg(dir.join("check.o"))
        .output()
        .unwrap_or_else(|e| {
            panic!("{what}: running clang-19: {e} (clang-19 is required: .ci/run installs it)")
        });
    assert!(
        out.status.success(),
        "{what}: clang-19 -target bpf rejected the header or a layout assert:\n{}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    );
    n
}

#[test]
fn vmlinux_header_compiles_and_reproduces_every_layout() {
    if in_vm_guest("vmlinux_header_compiles_and_reproduces_every_layout") {
        return;
    }
    let btf = Btf::parse_owned(unzstd("vmlinux-6.18.btf")).expect("golden BTF");
    let h = header(&btf, &CDumpOptions::new());
    let n = compile_with_layout_asserts(&btf, &h, "vmlinux 6.18 (sorted)");
    // Thousands of structs, tens of thousands of members: a layout that is off anywhere fails.
    assert!(n > 50_000, "only {n} asserts generated");
    eprintln!("vmlinux 6.18: {n} size/offset asserts hold");
}

#[test]
fn test_object_headers_compile_and_reproduce_layouts() {
    if in_vm_guest("test_object_headers_compile_and_reproduce_layouts") {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bpf");
    let mut objs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/bpf")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    objs.push(data("btf_sample.bpf.o"));
    objs.sort();
    assert!(objs.len() > 10, "test objects: {objs:?}");
    let mut total = 0;
    for path in &objs {
        let elf = std::fs::read(path).expect("object");
        let btf = Btf::from_elf(&elf).expect(".BTF");
        let what = path.file_name().unwrap().to_string_lossy().into_owned();
        for sorted in [true, false] {
            let h = header(&btf, &CDumpOptions::new().sorted(sorted));
            total += compile_with_layout_asserts(&btf, &h, &what);
        }
    }
    assert!(total > 0);
}

/// The running kernel's module BTF (split over vmlinux): headers with base and module types
/// together, as `bpftool btf dump file /sys/kernel/btf/MODULE format c` writes them, compile
/// and hold the module structs' layouts. Kernels whose modules have no BTF have nothing to
/// check here (the VM kernels of `ci/vm-test` do).
#[test]
fn kernel_module_headers_compile() {
    let Ok(modules) = rawbpf::btf::kernel_modules_with_btf() else {
        eprintln!("kernel_module_headers_compile: no /sys/kernel/btf on this kernel");
        return;
    };
    if modules.is_empty() {
        eprintln!("kernel_module_headers_compile: no module has BTF on this kernel");
        return;
    }
    // Each header holds all of vmlinux: two modules are enough to exercise split BTF.
    for m in modules.iter().take(2) {
        let btf = Btf::from_kernel_module(m).expect("module BTF");
        let h = header(&btf, &CDumpOptions::new());
        let text = String::from_utf8_lossy(&h);
        // Every named module struct is in the header.
        for t in btf.types().filter(|t| t.kind() == Kind::Struct) {
            let name = t.name().unwrap_or("");
            if !name.is_empty() {
                assert!(
                    text.contains(&format!("struct {name}")),
                    "{m}: struct {name} missing"
                );
            }
        }
        // The id order too (bpftool's `unsorted`).
        let unsorted =
            String::from_utf8(header(&btf, &CDumpOptions::new().sorted(false))).expect("utf-8");
        for t in btf.types().filter(|t| t.kind() == Kind::Struct) {
            let name = t.name().unwrap_or("");
            if !name.is_empty() {
                assert!(
                    unsorted.contains(&format!("struct {name}")),
                    "{m}: struct {name} missing (unsorted)"
                );
            }
        }
        if std::env::var("RAWBPF_VM").is_ok() {
            eprintln!(
                "{m}: header written ({} bytes); no clang-19 in the guest to compile it",
                h.len()
            );
        } else {
            compile_with_layout_asserts(&btf, &h, m);
        }
    }
}

#[test]
fn root_ids_give_a_small_header_that_compiles() {
    if in_vm_guest("root_ids_give_a_small_header_that_compiles") {
        return;
    }
    let btf = Btf::parse_owned(unzstd("vmlinux-6.18.btf")).expect("golden BTF");
    let task = btf
        .id_by_name_kind("task_struct", Kind::Struct)
        .expect("task_struct");
    let h = header(&btf, &CDumpOptions::new().kfuncs(false).root_ids([task]));
    let full = header(&btf, &CDumpOptions::new());
    assert!(
        h.len() < full.len(),
        "a root's header is smaller than the whole"
    );
    let text = String::from_utf8_lossy(&h);
    assert!(text.contains("struct task_struct {\n"));
    assert!(!text.contains("/* BPF kfuncs */"));
    // Compiles on its own, with task_struct's size.
    let tmp = common::TempDir::new("btfroot");
    let dir = tmp.path();
    std::fs::write(dir.join("t.h"), &h[..]).expect("write");
    let size = btf.type_by_id(task).unwrap().size().unwrap();
    std::fs::write(
        dir.join("t.c"),
        format!("#include \"t.h\"\n_Static_assert(sizeof(struct task_struct) == {size}, \"\");\n"),
    )
    .expect("write");
    let st = Command::new("clang-19")
        .args(["-target", "bpf", "-c"])
        .arg(dir.join("t.c"))
        .arg("-o")
        .arg(dir.join("t.o"))
        .status()
        .expect("clang-19 is required");
    assert!(st.success());
}
