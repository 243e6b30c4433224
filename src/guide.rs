//! A guide: the examples of *Learning eBPF*, in order, with rawbpf.
//!
//! Each chapter shows the Rust side of a program the book writes in C (the BPF side is the
//! book's, compiled by clang to an object rawbpf loads). The runnable versions are in
//! `examples/`; every snippet here compiles against the crate as it is.
//!
//! # 1. XDP "Hello World": load, pin, attach, read a global (chapter 3)
//!
//! The program counts packets in a `.bss` global `counter` and prints with `bpf_printk`.
//! [`ObjectSpec`](crate::ObjectSpec) parses the object, [`Loader`](crate::Loader) creates its
//! maps (`.bss`, `.rodata`), relocates and loads its programs; the [`Object`](crate::Object)
//! gives them back by name. Globals are typed through the object's BTF.
//!
//! ```no_run
//! use rawbpf::{Loader, ObjectSpec, XdpFlags};
//! # fn main() -> rawbpf::Result<()> {
//! let spec = ObjectSpec::open("examples/xdp_hello/xdp_hello.bpf.o")?;
//! let obj = Loader::new().load(&spec)?;
//! let prog = obj.program("hello")?;
//! prog.pin("/sys/fs/bpf/hello")?; // bpftool prog show pinned /sys/fs/bpf/hello
//! let link = prog.attach_xdp(1, XdpFlags::SKB_MODE)?; // ifindex 1: lo
//! // … packets …
//! let counter: i32 = obj.global("counter")?;
//! println!("{counter} packets");
//! drop(link); // detaches; remove the pin file to unload
//! std::fs::remove_file("/sys/fs/bpf/hello").ok();
//! # Ok(()) }
//! ```
//!
//! `cargo run --example xdp_hello` does all of it on `lo` and prints the trace-pipe lines.
//! Network programs attach in other ways too ([`crate::link`] has the table): netlink XDP
//! for old kernels, tcx and clsact for tc, cgroups, network namespaces, sockets; and
//! [`Program::test_run`](crate::Program::test_run) runs a packet program on a packet of your
//! own without any traffic.
//!
//! # 2. The execve tracer: a kprobe, a hash map and a perf buffer (chapter 4)
//!
//! `hello-buffer-config`: a `SEC("ksyscall/execve")` program sends one record per exec
//! through a perf buffer and looks up a message per uid in a hash map that user space fills.
//! Typed maps ([`HashMap`](crate::map::HashMap)) check sizes once; a [`PerfBuffer`](crate::map::PerfBuffer)
//! maps one ring per CPU and hands out records without copying them.
//!
//! ```no_run
//! use std::time::Duration;
//! use rawbpf::link::ProbeOptions;
//! use rawbpf::map::{ANY, HashMap, PerfBuffer, PerfBufferOptions, PerfRecord};
//! use rawbpf::{Loader, ObjectSpec};
//! # fn main() -> rawbpf::Result<()> {
//! let spec = ObjectSpec::open("examples/kprobe_execve/kprobe_execve.bpf.o")?;
//! let obj = Loader::new().load(&spec)?;
//! let config: HashMap<u32, [u8; 12], _> = HashMap::new(obj.map("my_config")?)?;
//! config.insert(&0, b"Hey root!\0\0\0", ANY)?;
//! let _link = match obj.program("hello")?.attach_ksyscall("execve", false, &ProbeOptions::default()) {
//!     Ok(link) => link,
//!     // A kernel without kprobes: the same record from the syscall tracepoint.
//!     Err(e) if e.is_not_supported() => obj
//!         .program("hello_tp")?
//!         .attach_tracepoint("syscalls", "sys_enter_execve")?,
//!     Err(e) => return Err(e),
//! };
//! let mut events = PerfBuffer::new(obj.map("output")?, PerfBufferOptions::default())?;
//! events.poll(Some(Duration::from_secs(1)), |ev| {
//!     if let PerfRecord::Sample { data, .. } = ev {
//!         println!("{} bytes", data.len());
//!     }
//! })?;
//! # Ok(()) }
//! ```
//!
//! `cargo run --example kprobe_execve` is the whole tool (`--ringbuf` for the ring buffer).
//! A missing kernel feature is an [`Error::Unsupported`](crate::Error::Unsupported) that
//! names it (here: kprobes, `CONFIG_KPROBES`); [`crate::features`] asks the kernel in
//! advance, without looking at its version.
//!
//! # 3. CO-RE: one object for every kernel (chapter 5)
//!
//! Programs that read kernel structs with `BPF_CORE_READ` (or types marked
//! `preserve_access_index`) carry CO-RE relocations. The loader resolves them against the
//! running kernel's BTF (`/sys/kernel/btf/vmlinux`, parsed in place), or against a BTF you
//! give it, and can say what it decided:
//!
//! ```no_run
//! use rawbpf::btf::Btf;
//! use rawbpf::{Loader, ObjectSpec};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = ObjectSpec::open("examples/kprobe_execve/kprobe_execve.bpf.o")?;
//! let target = Btf::from_file("/sys/kernel/btf/vmlinux")?; // or another kernel's BTF, or an ELF with .BTF
//! let obj = Loader::new().target_btf(target).core_log(true).load(&spec)?;
//! for decision in obj.core_fixups("hello_tp") {
//!     println!("{decision}");
//! }
//! # Ok(()) }
//! ```
//!
//! `vmlinux.h`, the header CO-RE programs include, comes from the kernel's BTF:
//! [`btf::write_c_header`](crate::btf::write_c_header) writes it as bpftool does
//! (`cargo run --release --example btf_dump -- /sys/kernel/btf/vmlinux > vmlinux.h`), so a
//! `build.rs` can make it without bpftool.
//!
//! # 4. A ring buffer tool (chapter 7's modern form)
//!
//! The BPF ring buffer is one buffer shared by every CPU, in order. [`RingBuf`](crate::map::RingBuf)
//! maps it and lends each record as a `&[u8]` straight from the ring;
//! [`RingBuffers`](crate::map::RingBuffers) waits on several at once, and every consumer is
//! `AsFd` for any event loop (with the `tokio` feature, `AsyncRingBuf` is a `Stream`).
//!
//! ```no_run
//! use std::time::Duration;
//! use rawbpf::map::RingBuf;
//! use rawbpf::{Loader, ObjectSpec};
//! # fn main() -> rawbpf::Result<()> {
//! let spec = ObjectSpec::open("examples/kprobe_execve/kprobe_execve.bpf.o")?;
//! let obj = Loader::new().set_global("use_ringbuf", &1u8).load(&spec)?;
//! let _link = obj.program("hello_tp")?.attach_tracepoint("syscalls", "sys_enter_execve")?;
//! let mut events = RingBuf::new(obj.map("events")?)?;
//! events.poll(Some(Duration::from_secs(1)), |record| println!("{} bytes", record.len()))?;
//! # Ok(()) }
//! ```
//!
//! # 5. Uprobes and USDT (chapter 7)
//!
//! A uprobe runs a `KPROBE` program when a process executes an instruction of a binary or
//! library; rawbpf finds the symbol in the ELF file (symtab or dynsym) and the library by
//! name (the process's mappings, the ld.so cache, the library directories). USDT probes
//! (`.note.stapsdt`) work with libbpf's `usdt.bpf.h` unchanged.
//!
//! ```no_run
//! use rawbpf::link::{ProbeOptions, UprobeLocation};
//! # fn main() -> rawbpf::Result<()> {
//! # let obj = rawbpf::Loader::new().load(&rawbpf::ObjectSpec::open("probes.bpf.o")?)?;
//! let prog = obj.program("on_getpid")?;
//! let _link = prog.attach_uprobe(
//!     "libc.so.6",
//!     UprobeLocation::Symbol { name: "getpid", offset: 0 },
//!     false, // entry, not return
//!     &ProbeOptions::default().pid(std::process::id()),
//! )?;
//! # Ok(()) }
//! ```
//!
//! # 6. Attach from the section name, and look at what is loaded
//!
//! [`Program::attach`](crate::Program::attach) reads the target from the `SEC()` name, as
//! libbpf's skeletons do (`tp/syscalls/sys_enter_execve`, `uprobe/libc.so.6:getpid`,
//! `fentry/do_unlinkat`, …), and [`Object::attach_all`](crate::Object::attach_all) attaches
//! a whole object, listing the programs that need a target (XDP, tc, cgroups).
//!
//! ```no_run
//! # fn main() -> rawbpf::Result<()> {
//! # let obj = rawbpf::Loader::new().load(&rawbpf::ObjectSpec::open("tool.bpf.o")?)?;
//! let attached = obj.attach_all()?;
//! for (program, why) in &attached.skipped {
//!     eprintln!("{program}: {why}");
//! }
//! # Ok(()) }
//! ```
//!
//! What bpftool shows (`prog list`, `prog dump xlated`, `map dump`, `btf list`, …) is in
//! [`crate::inspect`], and `cargo run --example bpfinfo -- prog list` is a small bpftool
//! built on it.
