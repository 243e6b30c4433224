//! The object BTF's DATASECs by name. The validating pass of [`Btf`] already collected their
//! ids, so every step of the parse that needs one (maps, data variables, externs, the BTF
//! fixup) looks it up here instead of walking all types again.

use crate::btf::{Btf, TypeId};

const KIND_INT: u32 = 1;

/// The DATASECs of an object's BTF.
pub(crate) struct BtfIndex<'b> {
    /// `(id, name)` of each DATASEC in id order; the name is `None` if it is not valid UTF-8.
    pub datasecs: Vec<(TypeId, Option<&'b str>)>,
    /// The first DATASEC of each name.
    by_name: std::collections::HashMap<&'b str, TypeId>,
}

impl<'b> BtfIndex<'b> {
    pub fn new(btf: &'b Btf<'b>) -> Self {
        let datasecs = btf
            .datasec_ids()
            .iter()
            .map(|&id| (id, btf.type_by_id(id).ok().and_then(|t| t.name().ok())))
            .collect::<Vec<(TypeId, Option<&str>)>>();
        let mut by_name = std::collections::HashMap::with_capacity(datasecs.len());
        for &(id, name) in datasecs.iter().rev() {
            if let Some(n) = name {
                by_name.insert(n, id);
            }
        }
        BtfIndex { datasecs, by_name }
    }

    /// The id of the first DATASEC named `name`.
    pub fn datasec(&self, name: &str) -> Option<TypeId> {
        crate::work::step();
        self.by_name.get(name).copied()
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
