//! The output contract of ../shared/bench (README "Output format"): CLI, timing, JSON lines.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Label of this library in the result lines.
pub const LIB: &str = "rawbpf";

/// `workloads [FILTER...]` or `workloads rss MODE`; cargo's `--bench` is ignored.
pub struct Cli {
    pub filters: Vec<String>,
    pub rss: Option<String>,
}

impl Cli {
    pub fn parse() -> Self {
        let mut args: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with("--"))
            .collect();
        let mut rss = None;
        if args.first().map(String::as_str) == Some("rss") {
            rss = Some(args.get(1).cloned().unwrap_or_else(|| "btf_parse".into()));
            args.clear();
        }
        Cli { filters: args, rss }
    }

    /// Whether workload `name` of `group` should run.
    pub fn wants(&self, group: &str, name: &str) -> bool {
        self.filters.is_empty()
            || self
                .filters
                .iter()
                .any(|f| f == group || f == name || f == "all")
    }
}

/// `BENCH_QUICK=1`: tiny sizes, numbers meaningless.
pub fn quick() -> bool {
    std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// `n`, or `q` in quick mode.
pub fn q<T>(n: T, q: T) -> T {
    if quick() { q } else { n }
}

/// The BPF objects: `$BENCH_BPF_DIR`, else `benches/bpf` of this crate.
pub fn bpf_obj(name: &str) -> PathBuf {
    std::env::var_os("BENCH_BPF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/bpf"))
        .join(name)
}

/// `$BENCH_VMLINUX_BTF`, else `/sys/kernel/btf/vmlinux`.
pub fn vmlinux_btf_path() -> PathBuf {
    std::env::var_os("BENCH_VMLINUX_BTF")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/sys/kernel/btf/vmlinux".into())
}

/// Runs `f` `warmup + iters` times; `f` returns the nanoseconds it timed itself.
pub fn sample(warmup: usize, iters: usize, mut f: impl FnMut() -> u64) -> Vec<u64> {
    for _ in 0..warmup {
        f();
    }
    (0..iters).map(|_| f()).collect()
}

/// Times the whole of `f`, `warmup + iters` times.
pub fn sample_whole(warmup: usize, iters: usize, mut f: impl FnMut()) -> Vec<u64> {
    sample(warmup, iters, || {
        let t = Instant::now();
        f();
        ns_since(t)
    })
}

pub fn ns_since(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

/// Linearly interpolated percentile of sorted samples.
pub fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] as f64 + (sorted[hi] as f64 - sorted[lo] as f64) * (pos - lo as f64)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn print(line: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// One result line.
pub fn emit(workload: &str, samples: &[u64], items_per_iter: Option<u64>, extra: Value) {
    let mut s = samples.to_vec();
    s.sort_unstable();
    let median = percentile(&s, 0.5);
    let mut extra = match extra {
        Value::Object(m) => m,
        Value::Null => serde_json::Map::new(),
        other => serde_json::Map::from_iter([("value".to_string(), other)]),
    };
    extra.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    if let Some(items) = items_per_iter {
        extra.insert("items".into(), json!(items));
        extra.insert("ns_per_item".into(), json!(round2(median / items as f64)));
        extra.insert(
            "items_per_sec".into(),
            json!((items as f64 * 1e9 / median).round()),
        );
    }
    if quick() {
        extra.insert("quick".into(), json!(true));
    }
    print(json!({
        "lib": LIB, "workload": workload, "iters": s.len(),
        "median_ns": median.round() as u64,
        "p10_ns": percentile(&s, 0.1).round() as u64,
        "p90_ns": percentile(&s, 0.9).round() as u64,
        "extra": Value::Object(extra),
    }));
}

/// A workload rawbpf cannot do (yet): `median_ns: null` and why.
pub fn emit_unsupported(workload: &str, reason: &str) {
    print(json!({
        "lib": LIB, "workload": workload, "iters": 0,
        "median_ns": null, "p10_ns": null, "p90_ns": null,
        "extra": {"unsupported": reason, "version": env!("CARGO_PKG_VERSION")},
    }));
}

/// Peak RSS of this process (getrusage ru_maxrss), KiB.
pub fn maxrss_kib() -> u64 {
    let ru = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .expect("getrusage");
    ru.max_rss() as u64
}

/// The `rss` mode line: workload `rss_<what>`, `extra.maxrss_kib`.
pub fn emit_rss(what: &str, elapsed_ns: u64, extra: Value) {
    let mut extra = match extra {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    extra.insert("maxrss_kib".into(), json!(maxrss_kib()));
    extra.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    print(json!({
        "lib": LIB, "workload": format!("rss_{what}"), "iters": 1,
        "median_ns": elapsed_ns, "p10_ns": elapsed_ns, "p90_ns": elapsed_ns,
        "extra": Value::Object(extra),
    }));
}
