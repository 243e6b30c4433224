//! One safe function per `bpf(2)` command, named after it, split by area.
//!
//! Each function fills the command's attr struct from borrowed arguments (fds, slices,
//! `&CStr`), so every pointer the kernel sees comes with the length the kernel is told, and
//! returns new fds as `OwnedFd`.

mod btf;
mod info;
mod link;
mod map;
mod misc;
mod obj;
mod prog;

pub use btf::*;
pub use info::*;
pub use link::*;
pub use map::*;
pub use misc::*;
pub use obj::*;
pub use prog::*;
