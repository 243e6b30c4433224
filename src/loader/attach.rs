//! [`Object::attach_all`]: every program attached where its `SEC()` name says, and every
//! struct_ops map registered (libbpf's `bpf_object__attach_skeleton`).

use super::{Object, StructOpsLink};
use crate::error::{Error, Result};
use crate::link::AnyLink;

/// What [`Object::attach_all`] attached, and what it left for the caller.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Attachments {
    /// `(program, link)` for every program attached from its section name.
    pub links: Vec<(String, AnyLink)>,
    /// `(variable, link)` for every struct_ops map registered.
    pub struct_ops: Vec<(String, StructOpsLink)>,
    /// `(program, why)` for every program whose section name gives no target (XDP, tc,
    /// cgroup, … programs): attach those with their family's method.
    pub skipped: Vec<(String, Error)>,
}

impl Attachments {
    /// The link of program `name`, if it was attached.
    pub fn link(&self, name: &str) -> Option<&AnyLink> {
        self.links.iter().find(|(n, _)| n == name).map(|(_, l)| l)
    }
}

impl Object {
    /// Attaches every loaded program whose `SEC()` name gives its target
    /// ([`Program::attach`](crate::Program::attach)) and registers every struct_ops map; the
    /// programs that need a target the name does not give are skipped and listed in
    /// [`Attachments::skipped`]. Dropping the result detaches everything.
    ///
    /// # Errors
    /// The first attach that fails for another reason (a kernel without kprobes or BPF
    /// trampolines, a missing tracepoint, …), as libbpf fails the skeleton's attach; what was
    /// attached before it is detached again.
    pub fn attach_all(&self) -> Result<Attachments> {
        let mut out = Attachments::default();
        for (name, prog) in self.programs() {
            // struct_ops programs run through their map, attached below.
            if prog.program_type() == crate::prog::ProgramType::STRUCT_OPS {
                continue;
            }
            match prog.attach() {
                Ok(link) => out.links.push((name.to_owned(), link)),
                Err(e @ Error::NoAutoAttach { .. }) => out.skipped.push((name.to_owned(), e)),
                Err(e) => return Err(e),
            }
        }
        for ops in &self.struct_ops {
            out.struct_ops.push((ops.name().to_owned(), ops.attach()?));
        }
        Ok(out)
    }
}
