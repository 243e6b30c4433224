//! The object BTF's DATASECs by name. The validating pass of [`Btf`] already collected their
//! ids, so every step of the parse that needs one (maps, data variables, externs, the BTF
//! fixup) looks it up here instead of walking all types again.

use crate::btf::{Btf, TypeId};

const KIND_INT: u32 = 1;

/// The DATASECs of an object's BTF.
pub(crate) struct BtfIndex<'b> {
    /// `(id, name)` of each DATASEC in id order; the name is `None` if it is not valid UTF-8.
    pub datasecs: Vec<(TypeId, Option<&'b str>)>,
}

impl<'b> BtfIndex<'b> {
    pub fn new(btf: &'b Btf<'b>) -> Self {
        let datasecs = btf
            .datasec_ids()
            .iter()
            .map(|&id| (id, btf.type_by_id(id).ok().and_then(|t| t.name().ok())))
            .collect();
        BtfIndex { datasecs }
    }

    /// The id of the first DATASEC named `name`.
    pub fn datasec(&self, name: &str) -> Option<TypeId> {
        self.datasecs
            .iter()
            .find(|(_, n)| *n == Some(name))
            .map(|(id, _)| *id)
    }
}

/// The first INT named `int` of size 4 (a walk over all types: only `.ksyms` needs it).
pub(crate) fn int_type(btf: &Btf<'_>) -> Option<TypeId> {
    btf.types()
        .find(|t| {
            (t.info() >> 24) & 0x1f == KIND_INT
                && t.size() == Some(4)
                && t.name().ok() == Some("int")
        })
        .map(|t| t.id())
}
