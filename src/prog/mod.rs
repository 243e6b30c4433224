//! `Program`: a loaded BPF program.
//!
//! [`Program::load`] runs instructions through the verifier (see [`ProgramOptions`] for every
//! load attribute, [`LogLevel`] for the log); a rejection is
//! [`Error::Verifier`] with the whole log, a success keeps the
//! verifier's [`VerifierStats`]. [`Program::test_run`] runs it on given input
//! (`BPF_PROG_TEST_RUN`). Programs can be pinned, opened from a pin or an id, and inspected
//! ([`ProgramInfo`]).
//!
//! ```no_run
//! use rawbpf::insn::{Insn, Reg};
//! use rawbpf::prog::{Program, ProgramOptions, ProgramType, TestRun};
//!
//! // XDP_PASS for every packet.
//! let insns = [Insn::mov64_imm(Reg::R0, 2), Insn::exit()];
//! let prog = Program::load(ProgramType::XDP, &insns, &ProgramOptions::default().name("pass"))?;
//! println!("verified {:?}", prog.verifier_stats());
//! let out = prog.test_run(TestRun::with_data(&[0u8; 64]))?;
//! assert_eq!(out.retval, 2);
//! # Ok::<(), rawbpf::Error>(())
//! ```

mod info;
mod load;
mod test_run;
pub mod types;
pub mod verifier;
mod xlated;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

pub use info::{ProgramIds, ProgramInfo};
pub use load::ProgramOptions;
pub use test_run::{TestRun, TestRunResult};
pub use types::{AttachType, ProgramType};
pub use verifier::{LogLevel, VerifierStats};
pub use xlated::{FuncInfo, LineInfo, XlatedProgram};

use crate::error::{Error, Result};
use crate::map::{by_id_error, path_cstring, pin_error};
use crate::sys::{self, Insn, ObjFlags};

/// A loaded BPF program. Dropping it closes the fd; the kernel frees the program when nothing
/// else (a pin, a link, a prog array, another fd) holds it.
#[derive(Debug)]
pub struct Program {
    fd: OwnedFd,
    name: String,
    prog_type: ProgramType,
    expected_attach_type: Option<AttachType>,
    log: Option<String>,
    stats: Option<VerifierStats>,
    section: Option<String>,
}

impl Program {
    /// `BPF_PROG_LOAD`: verifies and loads `insns` as a program of `prog_type`.
    ///
    /// # Errors
    /// - [`Error::Verifier`] with the whole verifier log when the verifier rejects it;
    /// - [`Error::MissingCapability`] without `CAP_BPF` (and `CAP_NET_ADMIN` for networking,
    ///   `CAP_PERFMON` for tracing types);
    /// - [`Error::Unsupported`] for fentry/fexit/fmod_ret/freplace/LSM on a kernel that
    ///   refuses BPF trampolines.
    pub fn load(
        prog_type: ProgramType,
        insns: &[Insn],
        opts: &ProgramOptions<'_>,
    ) -> Result<Program> {
        let name_bytes = crate::map::object_name(&opts.name);
        let name = std::str::from_utf8(name_bytes.split(|b| *b == 0).next().unwrap_or(&[]))
            .unwrap_or("")
            .to_string();
        let loaded = load::load(prog_type, insns, opts, &name)?;
        Ok(Program {
            fd: loaded.fd,
            name,
            prog_type,
            expected_attach_type: opts.expected_attach_type,
            log: loaded.log,
            stats: loaded.stats,
            section: None,
        })
    }

    /// Takes ownership of a program fd, reading its name and type from the kernel.
    pub fn from_fd(fd: OwnedFd) -> Result<Program> {
        let info = ProgramInfo::of_fd(fd.as_fd())?;
        Ok(Program {
            fd,
            name: info.name,
            prog_type: info.prog_type,
            expected_attach_type: None,
            log: None,
            stats: None,
            section: None,
        })
    }

    /// `BPF_OBJ_GET`: opens a program pinned at `path`.
    pub fn from_pin(path: impl AsRef<Path>) -> Result<Program> {
        let path = path.as_ref();
        let c = path_cstring(path)?;
        let fd = sys::obj_get(&c, ObjFlags::empty(), None)
            .map_err(|e| pin_error("BPF_OBJ_GET", path, e))?;
        Program::from_fd(fd)
    }

    /// `BPF_PROG_GET_FD_BY_ID`: opens the program with this id.
    pub fn from_id(id: u32) -> Result<Program> {
        let fd = sys::prog_get_fd_by_id(id, ObjFlags::empty(), None)
            .map_err(|e| by_id_error("BPF_PROG_GET_FD_BY_ID", id, e))?;
        Program::from_fd(fd)
    }

    /// `BPF_OBJ_PIN`: pins the program at `path` (in a bpffs mount).
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let c = path_cstring(path)?;
        sys::obj_pin(self.fd.as_fd(), &c, None).map_err(|e| pin_error("BPF_OBJ_PIN", path, e))
    }

    /// `BPF_OBJ_GET_INFO_BY_FD`: what the kernel knows about the program, with its map ids.
    pub fn info(&self) -> Result<ProgramInfo> {
        ProgramInfo::of_fd(self.fd.as_fd())
    }

    /// The ids of all programs loaded in the system (`BPF_PROG_GET_NEXT_ID`).
    pub fn ids() -> ProgramIds {
        ProgramIds::new(sys::prog_get_next_id, "BPF_PROG_GET_NEXT_ID")
    }

    /// The name (as given at load, cut to 15 bytes, or read from the kernel).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The program type.
    pub fn program_type(&self) -> ProgramType {
        self.prog_type
    }

    /// The expected attach type given at load, if any (unknown for opened programs).
    pub fn expected_attach_type(&self) -> Option<AttachType> {
        self.expected_attach_type
    }

    /// The ELF section (the `SEC()` name, e.g. `"xdp"`, `"tracepoint/syscalls/sys_enter_execve"`,
    /// `"?tc"`) of a program loaded from an object by the [`Loader`](crate::loader::Loader);
    /// `None` for programs loaded from instructions, pins or ids. Parse it with
    /// [`parse_section`](crate::obj::parse_section) to know how to attach the program.
    pub fn section(&self) -> Option<&str> {
        self.section.as_deref()
    }

    pub(crate) fn set_section(&mut self, section: &str) {
        self.section = Some(section.to_owned());
    }

    /// The verifier's statistics of this load (present when loaded with a log level).
    pub fn verifier_stats(&self) -> Option<&VerifierStats> {
        self.stats.as_ref()
    }

    /// The verifier log of this load, at the requested [`LogLevel`].
    pub fn verifier_log(&self) -> Option<&str> {
        self.log.as_deref()
    }

    /// Duplicates the fd (the program stays loaded while either is open).
    pub fn try_clone(&self) -> Result<Program> {
        let fd = self
            .fd
            .try_clone()
            .map_err(|e| Error::io("dup of a program fd", e))?;
        Ok(Program {
            fd,
            name: self.name.clone(),
            prog_type: self.prog_type,
            expected_attach_type: self.expected_attach_type,
            log: None,
            stats: self.stats.clone(),
            section: self.section.clone(),
        })
    }

    pub(crate) fn ctx(&self) -> Option<String> {
        Some(format!("program \"{}\"", self.name))
    }
}

impl AsFd for Program {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Program {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}
