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
        // With file, line and column (`linum`).
        let with_linum = bpftool(&["prog", "dump", "xlated", "id", &id, "linum"]).expect("bpftool");
        let ours_linum = XlatedDump::of_program(prog)
            .expect("dump")
            .linum(true)
            .to_string();
        assert_eq!(ours_linum, with_linum, "program {name} with linum");
        // And as JSON (-j), with and without linum.
        for linum in [false, true] {
            let mut args = vec!["-j", "prog", "dump", "xlated", "id", &id];
            if linum {
                args.push("linum");
            }
            let theirs = json(&bpftool(&args).expect("bpftool"));
            let ours = XlatedDump::of_program(prog)
                .expect("dump")
                .linum(linum)
                .to_json();
            assert_eq!(
                bpftool71_escapes(json(&ours)),
                theirs,
                "program {name}, -j, linum {linum}"
            );
        }
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

/// bpftool 7.1's JSON writer escapes a backslash as `\n` (a known bug of its
/// `json_writer.c`, fixed later): a source line `printk("%u\n")` comes out as `%u` LF `n`.
/// Ours escapes correctly; to compare, apply that bug to our `src` strings.
fn bpftool71_escapes(mut v: serde_json::Value) -> serde_json::Value {
    for e in v.as_array_mut().into_iter().flatten() {
        if let Some(serde_json::Value::String(src)) = e.get_mut("src") {
            *src = src.replace('\\', "\n");
        }
    }
    v
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

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Our map dump equals `bpftool -j map dump id N` (raw bytes and `formatted`) and plain
/// `bpftool map dump id N` (the text, byte for byte) for a hash with
/// struct key/value (strings, an enum, a bool, a byte array), a per-CPU hash, an array of maps
/// with an empty slot, a program array, and the global data maps.
#[test]
fn map_dump_matches_bpftool() {
    if !common::privileged() {
        return;
    }
    use rawbpf::map::ANY;
    let obj = load("tests/bpf/inspect.bpf.o");
    let flows = obj.map("flows").expect("flows");
    let key = |pid: u32, comm: &[u8]| {
        let mut k = pid.to_ne_bytes().to_vec();
        let mut c = [0u8; 8];
        c[..comm.len()].copy_from_slice(comm);
        k.extend_from_slice(&c);
        k
    };
    let val = |count: u64, delta: i32, color: u32, label: &[u8], seen: bool| {
        let mut v = vec![0u8; 32];
        v[0..8].copy_from_slice(&count.to_ne_bytes());
        v[8..12].copy_from_slice(&delta.to_ne_bytes());
        v[12..16].copy_from_slice(&color.to_ne_bytes());
        v[16..16 + label.len()].copy_from_slice(label);
        v[28..31].copy_from_slice(&[1, 2, 3]);
        v[31] = u8::from(seen);
        v
    };
    flows
        .update(&key(42, b"bash"), &val(5, -2, 2, b"hello", true), ANY)
        .expect("update");
    // An enum value no enumerator has, a label with a non-printable byte (a byte list then).
    flows
        .update(
            &key(7, b"init\x01"),
            &val(u64::MAX, i32::MIN, 3, b"a\x02b", false),
            ANY,
        )
        .expect("update");
    let per_cpu = obj.map("per_cpu").expect("per_cpu");
    let cpus = rawbpf::map::possible_cpus().expect("cpus");
    let mut pv = Vec::new();
    for c in 0..cpus as u64 {
        pv.extend_from_slice(&(100 + c).to_ne_bytes());
    }
    per_cpu
        .update(&0u32.to_ne_bytes(), &pv, ANY)
        .expect("update");
    let jumps = rawbpf::map::ProgArray::new(obj.map("jumps").expect("jumps")).expect("view");
    jumps
        .set(1, obj.program("touch").expect("prog"))
        .expect("set");
    obj.program("touch")
        .expect("prog")
        .test_run(rawbpf::prog::TestRun::with_ctx(&mut [0u8; 16]))
        .expect("run");

    let mut n = 0;
    for (name, map) in obj.maps() {
        let id = map.info().expect("info").id.to_string();
        let Some(theirs) = bpftool(&["-j", "map", "dump", "id", &id]) else {
            eprintln!("map_dump_matches_bpftool: bpftool not installed");
            return;
        };
        let ours = rawbpf::inspect::map_dump_json(map).expect("dump");
        assert_eq!(json(&ours), json(&theirs), "map {name} (id {id})");
        // The plain text, byte for byte.
        let theirs_text = bpftool(&["map", "dump", "id", &id]).expect("bpftool");
        let ours_text = rawbpf::inspect::map_dump_text(map).expect("dump");
        assert_eq!(ours_text, theirs_text, "map {name} (id {id}), plain");
        // map show, JSON and plain (pids: this bpftool lists none).
        let theirs = json(&bpftool(&["-j", "map", "show", "id", &id]).expect("bpftool"));
        let pids = if theirs.get("pids").is_some() {
            rawbpf::inspect::holders()
                .expect("holders")
                .map(map.info().expect("info").id)
                .to_vec()
        } else {
            Vec::new()
        };
        let show = json(&rawbpf::inspect::map_show_json(map, &pids).expect("show"));
        assert_eq!(show, theirs, "map {name} (id {id}), show");
        let theirs = bpftool(&["map", "show", "id", &id]).expect("bpftool");
        let show = rawbpf::inspect::map_show_text(map, &pids).expect("show");
        assert_eq!(show, theirs, "map {name} (id {id}), show, plain");
        n += 1;
        if name == "flows" {
            let v = json(&ours);
            assert_eq!(v.as_array().map(Vec::len), Some(2));
            assert!(ours.contains("\"formatted\""), "{ours}");
            assert!(ours.contains("\"label\":\"hello\""), "{ours}");
            assert!(ours.contains("\"color\":\"GREEN\""), "{ours}");
        }
    }
    assert!(n >= 6, "{n} maps compared");
    eprintln!("map_dump_matches_bpftool: {n} maps compared");
}

/// Our program info JSON equals `bpftool -j prog show id N` (name, type, tag, loaded_at, uid,
/// sizes, map ids, btf id, pids), and the holders we find include this process.
#[test]
fn prog_show_matches_bpftool() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/inspect.bpf.o");
    let prog = obj.program("touch").expect("prog");
    let id = prog.info().expect("info").id;
    let holders = rawbpf::inspect::holders().expect("holders");
    let me = std::process::id();
    assert!(
        holders.prog(id).iter().any(|h| h.pid == me),
        "this process holds program {id}: {:?}",
        holders.prog(id)
    );
    let map_id = obj.map("flows").expect("map").info().expect("info").id;
    assert!(holders.map(map_id).iter().any(|h| h.pid == me));
    let Some(theirs) = bpftool(&["-j", "prog", "show", "id", &id.to_string()]) else {
        return;
    };
    let theirs = json(&theirs);
    // bpftool lists pids only when built with its BPF skeletons; compare them when it does.
    let pids = if theirs.get("pids").is_some() {
        holders.prog(id).to_vec()
    } else {
        eprintln!(
            "prog_show_matches_bpftool: this bpftool lists no pids (built without skeletons)"
        );
        Vec::new()
    };
    let ours = json(&rawbpf::inspect::prog_show_json(prog, &pids).expect("show"));
    assert_eq!(ours, theirs);
    // The JITed image is the size both report, and x86-64 code (an endbr64 or a push %rbp
    // prologue; the kernel pads nothing at the end).
    let image = prog.jited_image().expect("jited image");
    assert_eq!(Some(image.len() as u64), theirs["bytes_jited"].as_u64());
    if cfg!(target_arch = "x86_64") {
        assert!(
            image.starts_with(&[0xf3, 0x0f, 0x1e, 0xfa])
                || image.starts_with(&[0x0f, 0x1f, 0x44])
                || image.starts_with(&[0x55]),
            "x86-64 prologue: {:02x?}",
            &image[..8.min(image.len())]
        );
    }
    // Every program of two objects, as JSON and as plain text (a 16-character name comes
    // back whole from BTF: the kernel keeps 15).
    let types = load("tests/bpf/map_types.bpf.o");
    for (name, p) in obj.programs().chain(types.programs()) {
        let id = p.info().expect("info").id.to_string();
        let pids = if theirs.get("pids").is_some() {
            holders.prog(p.info().expect("info").id).to_vec()
        } else {
            Vec::new()
        };
        let t = json(&bpftool(&["-j", "prog", "show", "id", &id]).expect("bpftool"));
        let o = json(&rawbpf::inspect::prog_show_json(p, &pids).expect("show"));
        assert_eq!(o, t, "program {name}");
        let t = bpftool(&["prog", "show", "id", &id]).expect("bpftool");
        let o = rawbpf::inspect::prog_show_text(p, &pids).expect("show");
        assert_eq!(o, t, "program {name}, plain");
    }
    assert_eq!(
        rawbpf::inspect::prog_full_name(types.program("stack_on_getppid").expect("prog"))
            .expect("name"),
        "stack_on_getppid"
    );
    for field in [
        "name",
        "tag",
        "loaded_at",
        "uid",
        "bytes_xlated",
        "map_ids",
        "btf_id",
    ] {
        assert!(ours.get(field).is_some(), "no {field} in {ours}");
    }
}

/// `bpf_printk` output read back through the trace buffer, parsed: our thread's pid, a valid
/// CPU, the event and the exact message. (Reads the `trace` snapshot, which consumes nothing:
/// other sessions may be reading `trace_pipe`.)
#[test]
fn trace_lines_of_bpf_printk() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/inspect.bpf.o");
    let marker = std::process::id() ^ 0x5a5a_0000;
    obj.set_global("marker", &marker).expect("marker");
    let tid = nix::unistd::gettid().as_raw() as u32;
    obj.program("say")
        .expect("say")
        .test_run(rawbpf::prog::TestRun::default())
        .expect("run");
    let want = format!("rawbpf inspect {marker}: done");
    let line = rawbpf::inspect::TracePipe::snapshot()
        .expect("open trace")
        .map(|l| l.expect("read"))
        .find(|l| l.message == want)
        .unwrap_or_else(|| panic!("no trace line {want:?}"));
    assert!(line.is_bpf_printk(), "{line:?}");
    assert_eq!(line.pid, tid, "{line:?}");
    assert!((line.cpu as usize) < rawbpf::map::possible_cpus().expect("cpus"));
    assert!(!line.task.is_empty());
    assert!(line.timestamp.as_nanos() > 0);
}

/// The bpfinfo example (built by `cargo test`) against bpftool for objects this test holds.
#[test]
fn bpfinfo_example() {
    if !common::privileged() {
        return;
    }
    let exe = std::env::current_exe().expect("test path");
    let bpfinfo = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("examples/bpfinfo"))
        .expect("target dir");
    if !bpfinfo.exists() {
        eprintln!("bpfinfo_example: {} not built", bpfinfo.display());
        return;
    }
    let run = |args: &[&str]| {
        let out = Command::new(&bpfinfo)
            .args(args)
            .output()
            .expect("run bpfinfo");
        assert!(
            out.status.success(),
            "bpfinfo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let obj = load("tests/bpf/inspect.bpf.o");
    let prog_id = obj
        .program("touch")
        .expect("prog")
        .info()
        .expect("info")
        .id
        .to_string();
    let map_id = obj
        .map("flows")
        .expect("map")
        .info()
        .expect("info")
        .id
        .to_string();
    let list = json(&run(&["-j", "prog", "list"]));
    assert!(
        list.as_array()
            .expect("array")
            .iter()
            .any(|p| p["id"].as_u64().map(|i| i.to_string()) == Some(prog_id.clone())),
        "prog list has {prog_id}"
    );
    assert!(run(&["prog", "list"]).contains(&format!("{prog_id}: raw_tracepoint  name touch")));
    let Some(theirs) = bpftool(&["prog", "dump", "xlated", "id", &prog_id]) else {
        return;
    };
    assert_eq!(run(&["prog", "dump", "xlated", "id", &prog_id]), theirs);
    let theirs = bpftool(&["-j", "map", "dump", "id", &map_id]).expect("bpftool");
    assert_eq!(
        json(&run(&["-j", "map", "dump", "id", &map_id])),
        json(&theirs)
    );
    let theirs = bpftool(&["map", "dump", "id", &map_id]).expect("bpftool");
    assert_eq!(run(&["map", "dump", "id", &map_id]), theirs);
    let theirs = json(&bpftool(&["-j", "prog", "show", "id", &prog_id]).expect("bpftool"));
    let mut ours = json(&run(&["-j", "prog", "show", "id", &prog_id]));
    if theirs.get("pids").is_none() {
        ours.as_object_mut().expect("object").remove("pids");
    }
    assert_eq!(ours, theirs);
    if theirs.get("pids").is_none() {
        // Plain text too (ours lists pids, this bpftool does not: compare up to them).
        let theirs = bpftool(&["prog", "show", "id", &prog_id]).expect("bpftool");
        let ours = run(&["prog", "show", "id", &prog_id]);
        let ours: String = ours
            .lines()
            .filter(|l| !l.starts_with("\tpids "))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(ours, theirs);
    }
    let maps = json(&run(&["-j", "map", "list"]));
    assert!(
        maps.as_array()
            .expect("array")
            .iter()
            .any(|m| m["id"].as_u64().map(|i| i.to_string()) == Some(map_id.clone()))
    );
    assert!(run(&["btf", "list"]).contains("1: name [vmlinux]  size "));
    let btf_id = obj
        .program("touch")
        .expect("prog")
        .info()
        .expect("info")
        .btf_id
        .to_string();
    let theirs = bpftool(&["btf", "dump", "id", &btf_id]).expect("bpftool");
    assert_eq!(run(&["btf", "dump", "id", &btf_id]), theirs);
    let _ = run(&["link", "list"]);
    let _ = run(&["-j", "net", "list"]);
}

/// `btf::dump_raw` equals `bpftool btf dump` for a loaded program's BTF (by id) and for the
/// kernel's vmlinux BTF (every type).
#[test]
fn btf_dump_matches_bpftool() {
    if !common::privileged() {
        return;
    }
    let obj = load("tests/bpf/inspect.bpf.o");
    let btf_id = obj
        .program("touch")
        .expect("prog")
        .info()
        .expect("info")
        .btf_id;
    let Some(theirs) = bpftool(&["btf", "dump", "id", &btf_id.to_string()]) else {
        return;
    };
    let btf = rawbpf::btf::BtfHandle::from_id(btf_id)
        .expect("btf by id")
        .to_btf()
        .expect("parse");
    let ours = rawbpf::btf::dump_raw(&btf);
    for (k, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
        assert_eq!(a, b, "program BTF line {k}");
    }
    assert_eq!(ours.lines().count(), theirs.lines().count());
    for kind in [
        "] STRUCT '",
        "] ENUM '",
        "] FUNC '",
        "] FUNC_PROTO '",
        "] DATASEC '",
        "] VAR '",
    ] {
        assert!(ours.contains(kind), "no {kind}");
    }

    // btf show, with the programs and maps that use it.
    let handle = rawbpf::btf::BtfHandle::from_id(btf_id).expect("btf by id");
    let users = rawbpf::inspect::BtfUsers::read().expect("users");
    assert!(users.progs[&btf_id].len() >= 2 && users.maps[&btf_id].len() >= 5);
    let id = btf_id.to_string();
    // bpftool lists the ids in its hash table's order; ours are sorted: compare as sets.
    let sort_ids = |mut v: serde_json::Value| {
        for k in ["prog_ids", "map_ids"] {
            if let Some(a) = v.get_mut(k).and_then(|a| a.as_array_mut()) {
                a.sort_by_key(|x| x.as_u64());
            }
        }
        v
    };
    let sort_text = |t: &str| -> String {
        t.split("  ")
            .map(|f| match f.trim_end().split_once(' ') {
                Some((k @ ("prog_ids" | "map_ids"), ids)) => {
                    let mut v: Vec<u64> = ids.split(',').map(|i| i.parse().unwrap()).collect();
                    v.sort_unstable();
                    let v: Vec<String> = v.iter().map(u64::to_string).collect();
                    format!(
                        "{k} {}{}",
                        v.join(","),
                        if f.ends_with('\n') { "\n" } else { "" }
                    )
                }
                _ => f.to_string(),
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let theirs = json(&bpftool(&["-j", "btf", "show", "id", &id]).expect("bpftool"));
    let ours = json(&rawbpf::inspect::btf_show_json(&handle, &users).expect("show"));
    assert_eq!(ours, sort_ids(theirs));
    let theirs = bpftool(&["btf", "show", "id", &id]).expect("bpftool");
    let ours = rawbpf::inspect::btf_show_text(&handle, &users).expect("show");
    assert_eq!(ours, sort_text(&theirs));
    let vm = rawbpf::btf::BtfHandle::from_id(1).expect("btf 1");
    if vm.info().expect("info").name == "vmlinux" {
        // (Not compared with bpftool: other sessions' struct_ops maps may come and go.)
        let size = std::fs::metadata("/sys/kernel/btf/vmlinux")
            .expect("vmlinux")
            .len();
        let ours = rawbpf::inspect::btf_show_text(&vm, &users).expect("show");
        assert!(
            ours.starts_with(&format!("1: name [vmlinux]  size {size}B")),
            "{ours}"
        );
    }

    let theirs = bpftool(&["btf", "dump", "file", "/sys/kernel/btf/vmlinux"]).expect("bpftool");
    let vmlinux = rawbpf::btf::Btf::from_kernel().expect("vmlinux BTF");
    let ours = rawbpf::btf::dump_raw(&vmlinux);
    let mut diffs = 0;
    for (k, (a, b)) in ours.lines().zip(theirs.lines()).enumerate() {
        if a != b {
            diffs += 1;
            if diffs < 10 {
                eprintln!("vmlinux line {k}:\n ours: {a}\n bpftool: {b}");
            }
        }
    }
    assert_eq!(diffs, 0, "lines differ in the vmlinux dump");
    assert_eq!(ours.lines().count(), theirs.lines().count());
}
