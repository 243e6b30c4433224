//! The kprobe.multi probe.

use std::os::fd::AsFd;
use std::sync::OnceLock;

use super::{Outcome, cached};
use crate::error::Result;
use crate::sys::{self, AttachType, Errno, KprobeMultiArgs, ProgType};

/// kprobe.multi links (`BPF_TRACE_KPROBE_MULTI`, fprobe-based, kernel 5.18+ with
/// `CONFIG_FPROBE`), which [`Program::attach_kprobe_multi`](crate::Program::attach_kprobe_multi)
/// makes.
///
/// Loads a kprobe.multi program and creates a link on an address no function has: a kernel
/// with fprobe rejects the address (`EINVAL`/`ENOENT`/`ESRCH`), one without says
/// `EOPNOTSUPP` before looking at it.
///
/// # Errors
/// [`Error::Unsupported`](crate::Error::Unsupported) when the kernel has no kprobe.multi links.
pub fn kprobe_multi() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, || {
        let opts = crate::prog::ProgramOptions::default()
            .name("feat_kmulti")
            .expected_attach_type(AttachType::TRACE_KPROBE_MULTI);
        let prog = match crate::prog::Program::load(ProgType::KPROBE, &super::RET0, &opts) {
            Ok(p) => p,
            Err(e) => return Outcome::from_error(e, "loading a kprobe.multi program"),
        };
        let args = KprobeMultiArgs {
            addrs: &[1],
            ..Default::default()
        };
        match sys::link_create_kprobe_multi(prog.as_fd(), AttachType::TRACE_KPROBE_MULTI, &args) {
            Err(e) if e == Errno::EOPNOTSUPP || e == Errno::ENOTSUPP => Outcome::unsupported(
                "kprobe_multi",
                "the kernel has no kprobe.multi links (CONFIG_FPROBE; kernels without kprobes \
                 have none either): attach one kprobe per function, or use tracepoints",
            ),
            _ => Outcome::Available,
        }
    })
}
