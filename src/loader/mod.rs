//! The loader: a staged pipeline from an [`ObjectSpec`](crate::obj) to loaded maps and programs.
#![allow(dead_code)] // The stages that use these parts land with the loader pipeline.

mod inflate;
mod kallsyms;
mod kconfig;
