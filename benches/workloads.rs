//! The workloads of the shared side-by-side benchmark (see its README): `workloads [FILTER...]`,
//! `workloads rss btf_parse|btf_vmlinux|baseline`. Filled in by the issues that add each group.
fn main() {}
