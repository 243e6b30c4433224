//! Errors that say the truth on hostile input and unprepared machines: a file that is no ELF
//! object or a 32-bit one, a pin root without bpffs (and the pin directories a failed load
//! created), BTF too deep for the kernel, data-map sizes checked before `BPF_MAP_CREATE`,
//! and `examples/veristat`'s exit status and rows.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use rawbpf::btf::{BtfBuilder, BtfHandle, IntEncoding};
use rawbpf::loader::{LoadError, Loader};
use rawbpf::obj::{ObjError, ObjectSpec};
use rawbpf::prog::TestRun;

fn path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(file)
}

fn spec(file: &str) -> ObjectSpec {
    ObjectSpec::open(path(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn not_an_elf_object_and_not_64_bit_are_named() {
    let e = ObjectSpec::parse(b"#include <linux/bpf.h>\nint x;\n").unwrap_err();
    assert!(matches!(e, ObjError::NotElf { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("not an ELF object (text starting with"),
        "{msg}"
    );
    assert!(!msg.contains("Invalid ELF header"), "{msg}");
    let e = ObjectSpec::parse(b"").unwrap_err();
    assert!(e.to_string().contains("the file is empty"), "{e}");
    let e = ObjectSpec::parse(b"!<arch>\nfoo.o/ ").unwrap_err();
    assert!(e.to_string().contains("ar archive"), "{e}");
    // A real object with its class byte made 32-bit.
    let mut b = std::fs::read(path("tests/bpf/subprog.bpf.o")).unwrap();
    b[4] = 1;
    let e = ObjectSpec::parse(&b).unwrap_err();
    assert!(matches!(e, ObjError::Not64Bit { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("not a 64-bit BPF object: the ELF class is 32-bit"),
        "{e}"
    );
    // ObjectSpec::open says the same, with the path.
    let dir = std::env::temp_dir().join(format!("rawbpf-{}", common::unique_name("harden")));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("prog.bpf.c");
    std::fs::write(&text, "int main;\n").unwrap();
    let e = ObjectSpec::open(&text).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.to_string().contains("not an ELF object"), "{e}");
}

/// A chain of 40 typedefs, each referring to the next id (so the kernel meets the whole
/// chain at once): more than the 32 levels it resolves, so `BPF_BTF_LOAD` fails with
/// `E2BIG`, and the error says what that means.
#[test]
fn btf_load_e2big_has_a_hint() {
    if !common::privileged() {
        return;
    }
    let mut b = BtfBuilder::new();
    for i in 0..40 {
        let next = b.next_id() + 1;
        b.add_typedef(&format!("t{i}"), next);
    }
    b.add_int("int", 4, IntEncoding::SIGNED);
    let e = BtfHandle::load(&b.encode()).unwrap_err();
    assert_eq!(e.errno(), Some(rawbpf::sys::Errno::E2BIG), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("deeper than the 32 levels"), "{msg}");
    // A chain the kernel takes loads.
    let mut b = BtfBuilder::new();
    for i in 0..8 {
        let next = b.next_id() + 1;
        b.add_typedef(&format!("t{i}"), next);
    }
    b.add_int("int", 4, IntEncoding::SIGNED);
    BtfHandle::load(&b.encode()).expect("a short chain loads");
}

/// A `.bss` value size override: one that would cut a variable is refused before
/// `BPF_MAP_CREATE` (no map is made); a larger one loads, with the variables where they were
/// and zeros after them; one the kernel refuses is the kernel's refusal, not a later check
/// of ours.
#[test]
fn data_map_value_size_is_checked_before_create() {
    if !common::privileged() {
        return;
    }
    let s = spec("tests/bpf/globals.bpf.o");
    let bss = s.data_map(".bss").expect(".bss").clone();
    let end = bss
        .variables
        .iter()
        .map(|v| v.offset + v.size)
        .max()
        .unwrap();
    let e = Loader::new()
        .map_value_size(&bss.name, end - 1)
        .load(&s)
        .unwrap_err();
    assert!(
        matches!(&e, LoadError::Map { map, .. } if *map == bss.name),
        "{e}"
    );
    assert!(e.to_string().contains("would cut variable"), "{e}");
    assert!(
        !e.to_string().contains("BPF_MAP_CREATE"),
        "refused by our check, before the kernel: {e}"
    );

    let grown = bss.value_size + 64;
    let obj = Loader::new()
        .map_value_size(&bss.name, grown)
        .set_global("magic", &7u32)
        .load(&s)
        .unwrap_or_else(|e| panic!("{e}\n{:?}", e.verifier_log()));
    let map = obj.map(".bss").expect(".bss map");
    assert_eq!(map.info().unwrap().value_size, grown);
    let mut ctx = [0u8; 8];
    obj.program("read_globals")
        .unwrap()
        .test_run(TestRun::with_ctx(&mut ctx))
        .unwrap();
    let seen: u32 = obj.global("bss_seen_magic").unwrap();
    assert_eq!(seen, 7, "the variables stay at their offsets");
    let value = map.get(&0u32.to_ne_bytes()).unwrap().unwrap();
    assert_eq!(value.len(), grown as usize);
    assert!(value[bss.value_size as usize..].iter().all(|&b| b == 0));
    drop(obj);

    let e = Loader::new()
        .map_value_size(&bss.name, u32::MAX)
        .load(&s)
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("BPF_MAP_CREATE"),
        "the kernel's refusal: {msg}"
    );
}

/// A pin root outside bpffs is named as such before anything is created; a pin root inside
/// bpffs that does not exist yet is created, and removed again when the load fails.
#[test]
fn pin_root_without_bpffs_and_cleanup_of_created_dirs() {
    if !common::privileged() {
        return;
    }
    let s = spec("tests/bpf/rejected.bpf.o");
    let tmp = std::env::temp_dir().join(format!("rawbpf-{}", common::unique_name("pinroot")));
    let e = Loader::new()
        .pin_root(tmp.join("a/b"))
        .load(&s)
        .unwrap_err();
    assert!(matches!(e, LoadError::PinRoot { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("not inside a bpffs mount"), "{msg}");
    assert!(msg.contains("mount -t bpf bpf"), "{msg}");
    assert!(!tmp.exists(), "nothing created outside bpffs");

    let dir = common::PinDir::new("pinroot");
    let root = dir.join("x/y");
    let e = Loader::new().pin_root(&root).load(&s).unwrap_err();
    assert!(e.verifier_log().is_some(), "the program is rejected: {e}");
    assert!(
        !dir.join("x").exists(),
        "the directories the load made are gone"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // The same load with only the good program succeeds and keeps its pin and directories.
    let obj = Loader::new()
        .pin_root(&root)
        .load_only("fine")
        .load(&s)
        .unwrap();
    assert_eq!(obj.pinned_maps(), &[root.join("rejected_pinned")]);
    assert!(root.join("rejected_pinned").exists());
    drop(obj);
}

/// `Map::pin` / `Map::from_pin` outside bpffs say that no bpffs is mounted there.
#[test]
fn pin_errors_name_the_missing_bpffs() {
    if !common::privileged() {
        return;
    }
    let m = rawbpf::Map::create(&rawbpf::MapOptions::new(
        rawbpf::map::MapType::ARRAY,
        4,
        4,
        1,
    ))
    .unwrap();
    let tmp = std::env::temp_dir().join(format!("rawbpf-{}", common::unique_name("pinerr")));
    std::fs::create_dir_all(&tmp).unwrap();
    let e = m.pin(tmp.join("m")).unwrap_err().to_string();
    let e2 = rawbpf::Map::from_pin(tmp.join("m"))
        .unwrap_err()
        .to_string();
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(e.contains("no bpffs is mounted there"), "{e}");
    assert!(e2.contains("no bpffs is mounted there"), "{e2}");
    // On bpffs: a missing directory, and a missing pin, each said plainly.
    let dir = common::PinDir::new("pinerr");
    let e = m.pin(dir.join("missing/m")).unwrap_err().to_string();
    assert!(e.contains("the directory to pin in does not exist"), "{e}");
    let e = rawbpf::Map::from_pin(dir.join("m"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nothing is pinned at that path"), "{e}");
}

/// With no bpffs at `/sys/fs/bpf` (in a mount namespace of this test's own, so the host's
/// stays), the default pin root gets one mounted, as `bpffs_root` does.
#[test]
fn default_pin_root_gets_bpffs_mounted() {
    if !common::privileged() {
        return;
    }
    let s = spec("tests/bpf/rejected.bpf.o");
    let r = std::thread::spawn(move || {
        use nix::mount::{MntFlags, MsFlags, mount, umount2};
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).expect("unshare(CLONE_NEWNS)");
        // Private first: nothing done here propagates to the host.
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        )
        .expect("make / private");
        let root = Path::new("/sys/fs/bpf");
        while rawbpf::sys::mount::mount_of(root)
            .unwrap()
            .is_some_and(|m| m.fstype == "bpf")
        {
            umount2(root, MntFlags::MNT_DETACH).expect("umount /sys/fs/bpf");
        }
        let obj = Loader::new().load_only("fine").load(&s);
        let mounted = rawbpf::sys::mount::mount_of(root)
            .unwrap()
            .map(|m| m.fstype);
        let pin = root.join("rejected_pinned");
        let pinned = pin.exists();
        let _ = std::fs::remove_file(&pin);
        // A pin root below /sys/fs/bpf gets the same.
        while rawbpf::sys::mount::mount_of(root)
            .unwrap()
            .is_some_and(|m| m.fstype == "bpf")
        {
            umount2(root, MntFlags::MNT_DETACH).expect("umount /sys/fs/bpf");
        }
        let below = Loader::new()
            .pin_root(root.join("rawbpf-test/sub"))
            .load_only("fine")
            .load(&s)
            .map(|o| o.pinned_maps().to_vec());
        (
            obj.map(|o| o.pinned_maps().to_vec()),
            mounted,
            pinned,
            below,
        )
    })
    .join()
    .unwrap();
    let (pins, mounted, pinned, below) = r;
    let pins = pins.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mounted.as_deref(), Some("bpf"));
    assert_eq!(pins, vec![PathBuf::from("/sys/fs/bpf/rejected_pinned")]);
    assert!(pinned);
    let below = below.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        below,
        vec![PathBuf::from("/sys/fs/bpf/rawbpf-test/sub/rejected_pinned")]
    );
}

/// `examples/veristat`: a row per program, a row for an object without programs, a failure
/// row for a file that is no object; exit status 1 when any row is a failure, else 0.
#[test]
fn veristat_rows_and_exit_status() {
    if !common::privileged() {
        return;
    }
    // cargo test builds the examples next to the test binaries.
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("examples/veristat"))
        .unwrap();
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --example veristat` (`cargo test` builds it)",
        bin.display()
    );
    let run = |files: &[&str]| {
        let out = Command::new(&bin)
            .args(files.iter().map(|f| path(f)))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = run(&["tests/bpf/subprog.bpf.o", "tests/bpf/no_programs.bpf.o"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("subprog.bpf.o,"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("no_programs.bpf.o,,,skipped,0,the object has no programs")),
        "{out}"
    );
    assert!(!out.contains("failure"), "{out}");

    let (code, out) = run(&["tests/bpf/rejected.bpf.o"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("rejected.bpf.o,no_null_check,socket_filter,failure,")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("rejected.bpf.o,fine,socket_filter,success,")),
        "{out}"
    );

    let (code, out) = run(&["tests/bpf/rejected.bpf.c"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("rejected.bpf.c,,,failure,0,\"not an ELF object"),
        "{out}"
    );
}
