//! Kernel features some `SEC()` kinds need beyond their program type, checked before the load
//! so that a kernel without them gives [`Error::Unsupported`](crate::Error::Unsupported)
//! naming the feature instead of a bare `EINVAL`: sleepable tracepoints (`tp.s`,
//! `tracepoint.s`, `raw_tp.s`, `raw_tracepoint.s`, `tp_btf.s`), fsession (`fsession`,
//! `fsession.s`) and multi-function tracing (`fentry.multi`, `fexit.multi`,
//! `fsession.multi` and their `.s` forms).

use crate::error::Error;
use crate::features;
use crate::obj::SectionDef;
use crate::obj::section::{SecFlags, attach_type as at, prog_type as pt};

use super::LoadError;

/// `Err` when the kernel lacks what `def` needs (an inconclusive probe lets the load try).
pub(crate) fn check(def: &SectionDef<'_>) -> Result<(), LoadError> {
    let sleepable = def.flags.contains(SecFlags::SLEEPABLE);
    let r = match (def.prog_type, def.expected_attach_type) {
        (pt::TRACEPOINT | pt::RAW_TRACEPOINT, _) if sleepable => features::sleepable_tracepoints(),
        (pt::TRACING, at::TRACE_RAW_TP) if sleepable => features::sleepable_tracepoints(),
        (pt::TRACING, at::TRACE_FSESSION) => features::fsession(),
        (
            pt::TRACING,
            at::TRACE_FENTRY_MULTI | at::TRACE_FEXIT_MULTI | at::TRACE_FSESSION_MULTI,
        ) => features::tracing_multi().and(Err(Error::Unsupported {
            feature: "multi-function tracing programs in rawbpf",
            hint: "rawbpf does not create BPF_TRACE_*_MULTI links yet: load one fentry/fexit \
                       program per function"
                .into(),
        })),
        _ => Ok(()),
    };
    match r {
        Err(e @ Error::Unsupported { .. }) => Err(LoadError::Kernel(e)),
        _ => Ok(()),
    }
}
