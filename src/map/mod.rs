//! `Map`: a BPF map and typed views over it.
