//! rawbpf's side of the shared benchmark (../shared/bench/README.md is the contract):
//! `workloads [FILTER...]` runs workloads or groups (`btf|obj|ringbuf|maps|perfbuf`), printing
//! one JSON line each; `workloads rss btf_parse|btf_vmlinux|baseline` is W1's peak-RSS mode.
//! One module per workload group under `benches/workloads/`.

#[path = "workloads/btf.rs"]
mod btf;
#[path = "workloads/btf_dump.rs"]
mod btf_dump;
#[path = "workloads/harness.rs"]
mod harness;
#[path = "workloads/maps.rs"]
mod maps;
#[path = "workloads/obj.rs"]
mod obj;
#[path = "workloads/perfbuf.rs"]
mod perfbuf;
#[path = "workloads/ringbuf.rs"]
mod ringbuf;
#[path = "workloads/stream.rs"]
mod stream;

fn main() {
    let cli = harness::Cli::parse();
    if let Some(mode) = &cli.rss {
        btf::rss(mode);
        return;
    }
    btf::run(&cli);
    btf_dump::run(&cli);
    obj::run(&cli);
    ringbuf::run(&cli);
    maps::run(&cli);
    perfbuf::run(&cli);
}
