//! freplace (`EXT`) programs: the target program and function are given before load, and
//! the function's BTF id is looked up in the target program's BTF.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;

use crate::btf::{BtfHandle, Kind};
use crate::prog::Program;

use super::{LoadError, Loader};

impl Loader {
    /// Loads the `freplace` program `prog` (`SEC("freplace/FUNC")`) to replace the global
    /// function `func` of the loaded program `target` (`None`: the `FUNC` of its `SEC()`).
    /// Attach it with [`Program::attach_freplace`]. The target program must have been
    /// loaded with BTF (its `func_info` names its functions).
    ///
    /// # Panics
    /// Never; a target whose fd cannot be duplicated fails the load instead.
    pub fn freplace_target(mut self, prog: &str, target: &Program, func: Option<&str>) -> Self {
        let ov = self.prog_ov(prog);
        ov.attach_prog = target.as_fd().try_clone_to_owned().ok().map(Arc::new);
        if ov.attach_prog.is_none() {
            // Keep the request visible: load_params reports a missing target.
            ov.attach_target = Some(String::new());
        }
        if let Some(f) = func {
            ov.attach_target = Some(f.to_owned());
        }
        self
    }
}

/// The BTF id of function `func` in the BTF of program `target`.
pub(crate) fn target_func_id(target: BorrowedFd<'_>, func: &str) -> Result<u32, LoadError> {
    let what = |m: String| LoadError::Extern {
        name: func.to_owned(),
        what: m,
    };
    let handle = BtfHandle::of_program(target)
        .map_err(|e| {
            what(format!(
                "cannot read the freplace target program's BTF: {e}"
            ))
        })?
        .ok_or_else(|| what("the freplace target program was loaded without BTF".into()))?;
    let btf = handle.to_btf().map_err(|e| {
        what(format!(
            "cannot parse the freplace target program's BTF: {e}"
        ))
    })?;
    btf.id_by_name_kind(func, Kind::Func).ok_or_else(|| {
        what("no function of that name in the freplace target program's BTF (is it global?)".into())
    })
}
