//! `Program`: a loaded BPF program.
