//! Test-only oracle: libbpf's own C dumper (`btf_dump__dump_type`, libbpf 1.7 as vendored and
//! statically linked by the `libbpf-sys` dev-dependency), called over FFI on raw BTF bytes.
//!
//! [`dump_c`] gives the body of `bpftool btf dump file … format c unsorted` (no guard, pragma,
//! macros or footer): `btf_dump__dump_type(d, id)` for every id in order, 1 to
//! `btf__type_cnt - 1` (for split BTF the base ids too, as `bpftool -B BASE` does), or for the
//! ids given. This is test code: rawbpf itself never links libbpf.

use std::ffi::{c_char, c_int, c_void};
use std::ptr::NonNull;

use libbpf_sys::__va_list_tag;

// `va_list` as a function parameter is a pointer to `__va_list_tag` on x86-64, which is how
// libbpf-sys's bindings (generated for x86-64) declare libbpf's printf callback.
#[cfg(not(target_arch = "x86_64"))]
compile_error!("tests/libbpf_dump: the va_list handling assumes x86-64");

unsafe extern "C" {
    /// glibc's `vasprintf(3)`: formats `fmt` with `ap` into a `malloc`ed, NUL-terminated
    /// string stored in `*strp`; returns its length, or -1 (then `*strp` is undefined).
    fn vasprintf(strp: *mut *mut c_char, fmt: *const c_char, ap: *mut __va_list_tag) -> c_int;
}

/// Which ids to hand to `btf_dump__dump_type`.
#[derive(Debug, Clone)]
pub enum Ids {
    /// 1 ..= `btf__type_cnt - 1` (base ids included for split BTF).
    All,
    /// These ids, in this order (as bpftool's `root_id`).
    Only(Vec<u32>),
}

/// libbpf's text and `btf__type_cnt`, or what failed.
pub type Dumped = Result<(Vec<u8>, u32), String>;

/// A `struct btf *`, freed on drop.
struct LibBtf(NonNull<libbpf_sys::btf>);

impl Drop for LibBtf {
    fn drop(&mut self) {
        // SAFETY: the pointer came from btf__new/btf__new_split, is non-null and is freed
        // exactly once, here; a split BTF that refers to it is dropped before it (dump_c and
        // dump_c_split create split BTF as a local that dies before the base they borrow).
        unsafe { libbpf_sys::btf__free(self.0.as_ptr()) }
    }
}

/// A `struct btf_dump *`, freed on drop.
struct LibDump(NonNull<libbpf_sys::btf_dump>);

impl Drop for LibDump {
    fn drop(&mut self) {
        // SAFETY: the pointer came from btf_dump__new, is non-null and is freed exactly once.
        unsafe { libbpf_sys::btf_dump__free(self.0.as_ptr()) }
    }
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// libbpf's `btf__new` (or `btf__new_split` over `base`) on a copy of `raw`.
fn new_btf(raw: &[u8], base: Option<&LibBtf>) -> Result<LibBtf, String> {
    let size = u32::try_from(raw.len()).map_err(|_| "BTF larger than 4 GiB".to_string())?;
    // SAFETY: `raw` is valid for `size` bytes for the duration of the call; libbpf copies the
    // data into its own allocation (btf__new and btf__new_split do not keep the pointer).
    // `base`, when given, is a live `struct btf *` that outlives the returned split BTF (the
    // caller drops them in reverse order).
    let p = unsafe {
        match base {
            None => libbpf_sys::btf__new(raw.as_ptr().cast(), size),
            Some(b) => libbpf_sys::btf__new_split(raw.as_ptr().cast(), size, b.0.as_ptr()),
        }
    };
    // libbpf 1.x returns NULL and sets errno on error.
    NonNull::new(p).map(LibBtf).ok_or_else(|| {
        format!(
            "libbpf btf__new{}: {}",
            if base.is_some() { "_split" } else { "" },
            errno()
        )
    })
}

/// What the printf callback writes into; `ctx` of `btf_dump__new` points to it.
struct Sink {
    out: Vec<u8>,
    failed: bool,
}

/// libbpf's `btf_dump_printf_fn_t`: formats one chunk of output and appends it to the `Sink`.
///
/// # Safety
/// `ctx` must point to a live `Sink` not otherwise borrowed during the call; `fmt` and `args`
/// are a printf format and its `va_list`, as libbpf passes them.
unsafe extern "C" fn collect(ctx: *mut c_void, fmt: *const c_char, args: *mut __va_list_tag) {
    // SAFETY: dump_c passes a pointer to a `Sink` it owns as ctx and does not touch that
    // `Sink` while libbpf runs; libbpf calls this synchronously, from the calling thread.
    let sink = unsafe { &mut *ctx.cast::<Sink>() };
    let mut s: *mut c_char = std::ptr::null_mut();
    // SAFETY: `fmt` and `args` are the format and va_list libbpf received from its own
    // variadic call (btf_dump_printf's va_start); the va_list is consumed exactly once, here.
    // On success `s` is a malloc'ed buffer of at least `n + 1` bytes.
    let n = unsafe { vasprintf(&mut s, fmt, args) };
    if n < 0 || s.is_null() {
        sink.failed = true;
        return;
    }
    // SAFETY: vasprintf returned n >= 0: `s` points to n initialised bytes (plus the NUL).
    sink.out
        .extend_from_slice(unsafe { std::slice::from_raw_parts(s.cast::<u8>(), n as usize) });
    // SAFETY: `s` was allocated by vasprintf with malloc and is freed once, here.
    unsafe { libc::free(s.cast()) };
}

/// Base BTF parsed once by libbpf, for dumping many split BTFs over it ([`dump_c_split`]).
pub struct LibbpfBase(LibBtf);

impl LibbpfBase {
    /// libbpf's `btf__new` of `raw`.
    pub fn new(raw: &[u8]) -> Result<Self, String> {
        new_btf(raw, None).map(LibbpfBase)
    }
}

/// libbpf's C dump of the BTF `raw` (split over `base` when given): the text
/// `btf_dump__dump_type` prints for each id of `ids`, in order, and `btf__type_cnt` (which
/// counts the void type 0, and the base's types for split BTF).
pub fn dump_c(raw: &[u8], base: Option<&[u8]>, ids: &Ids) -> Dumped {
    let base = base.map(LibbpfBase::new).transpose()?;
    let btf = new_btf(raw, base.as_ref().map(|b| &b.0))?;
    dump(&btf, ids)
}

/// As [`dump_c`], for split BTF `raw` over a base libbpf has already parsed.
pub fn dump_c_split(raw: &[u8], base: &LibbpfBase, ids: &Ids) -> Dumped {
    let btf = new_btf(raw, Some(&base.0))?;
    dump(&btf, ids)
}

fn dump(btf: &LibBtf, ids: &Ids) -> Dumped {
    // SAFETY: `btf` is a live `struct btf *`.
    let cnt = unsafe { libbpf_sys::btf__type_cnt(btf.0.as_ptr()) };
    let mut sink = Box::new(Sink {
        out: Vec::new(),
        failed: false,
    });
    let opts = libbpf_sys::btf_dump_opts {
        sz: std::mem::size_of::<libbpf_sys::btf_dump_opts>() as _,
    };
    let ctx: *mut Sink = &mut *sink;
    // SAFETY: `btf` outlives the dumper (freed before this function returns); `collect` has
    // the btf_dump_printf_fn_t signature; `ctx` points to the boxed `Sink`, which outlives
    // the dumper and is only read after the dumper is freed; `opts` is a valid btf_dump_opts
    // with its size set, read during the call only.
    let d = unsafe { libbpf_sys::btf_dump__new(btf.0.as_ptr(), Some(collect), ctx.cast(), &opts) };
    let dump =
        LibDump(NonNull::new(d).ok_or_else(|| format!("libbpf btf_dump__new: {}", errno()))?);
    let one = |id: u32| -> Result<(), String> {
        // SAFETY: `dump` is a live `struct btf_dump *` over a live `btf`; the callback only
        // writes through `ctx`, which nothing else touches during the call.
        let r = unsafe { libbpf_sys::btf_dump__dump_type(dump.0.as_ptr(), id) };
        if r < 0 {
            return Err(format!(
                "libbpf btf_dump__dump_type({id}): {}",
                std::io::Error::from_raw_os_error(-r)
            ));
        }
        Ok(())
    };
    match ids {
        Ids::All => (1..cnt).try_for_each(one)?,
        Ids::Only(v) => v.iter().copied().try_for_each(one)?,
    }
    drop(dump);
    if sink.failed {
        return Err("vasprintf failed in the btf_dump printf callback".into());
    }
    Ok((std::mem::take(&mut sink.out), cnt))
}

/// libbpf's version as `major.minor`.
pub fn libbpf_version() -> String {
    // SAFETY: plain getters without arguments.
    let (maj, min) = unsafe {
        (
            libbpf_sys::libbpf_major_version(),
            libbpf_sys::libbpf_minor_version(),
        )
    };
    format!("{maj}.{min}")
}
