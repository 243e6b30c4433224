//! One `#[repr(C)]` attr struct per `bpf(2)` command, laid out as the matching member of
//! `union bpf_attr` in uapi `linux/bpf.h` of kernel 6.18, with compile-time size and offset
//! asserts (values read from the kernel's own BTF).
//!
//! Pointer fields are `u64` as in the uapi. All structs are `Default` (all zero) and carry
//! explicit padding fields, so no byte the kernel reads is uninitialised. Pass exactly
//! `size_of` of the struct you fill to [`bpf`](mod@super::bpf); the kernel zero-extends it.

mod link;
mod map;
mod obj;
mod prog;

pub use link::*;
pub use map::*;
pub use obj::*;
pub use prog::*;

/// Asserts the size and field offsets of a `#[repr(C)]` struct at compile time.
macro_rules! layout {
    ($ty:ty, $size:expr $(, $field:ident @ $off:expr)* $(,)?) => {
        const _: () = assert!(::std::mem::size_of::<$ty>() == $size);
        $( const _: () = assert!(::std::mem::offset_of!($ty, $field) == $off); )*
    };
}
pub(crate) use layout;

/// A pointer as the kernel takes it: the address as a `u64` (0 for an empty slice).
pub(crate) fn ptr<T>(s: &[T]) -> u64 {
    if s.is_empty() { 0 } else { s.as_ptr() as u64 }
}

/// A mutable pointer as the kernel takes it (0 for an empty slice).
pub(crate) fn ptr_mut<T>(s: &mut [T]) -> u64 {
    if s.is_empty() {
        0
    } else {
        s.as_mut_ptr() as u64
    }
}

/// Copies `name` into a fixed 16-byte object-name field. `None` if it does not fit with the
/// NUL (15 bytes at most) or contains a NUL byte.
pub(crate) fn obj_name(name: &str) -> Option<[u8; 16]> {
    let b = name.as_bytes();
    if b.len() > 15 || b.contains(&0) {
        return None;
    }
    let mut out = [0u8; 16];
    out[..b.len()].copy_from_slice(b);
    Some(out)
}
