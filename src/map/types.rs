//! Map type and flags: the typed constants of [`crate::sys`], plus what the map layer needs
//! to know about each type.

pub use crate::sys::{ElemFlags as UpdateFlags, MapFlags, MapType};

/// The capability, besides `CAP_BPF`, creating a map of this type needs, if any (kernel
/// `map_create`).
pub(crate) fn extra_capability(t: MapType) -> Option<&'static str> {
    match t {
        MapType::SOCKMAP
        | MapType::SOCKHASH
        | MapType::DEVMAP
        | MapType::DEVMAP_HASH
        | MapType::XSKMAP => Some("CAP_NET_ADMIN"),
        _ => None,
    }
}

/// Whether the map has no keys (queue, stack, bloom filter): element commands take a NULL key.
pub(crate) fn is_keyless(t: MapType) -> bool {
    matches!(t, MapType::QUEUE | MapType::STACK | MapType::BLOOM_FILTER)
}

/// `BPF_ANY`: create or update (the empty [`UpdateFlags`]).
pub const ANY: UpdateFlags = UpdateFlags::empty();
