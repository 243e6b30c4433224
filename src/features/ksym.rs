//! The probe for kfunc addresses (`bpf_ksym_exists()` on a kfunc).

use std::sync::OnceLock;

use super::{Outcome, cached, vmlinux};
use crate::btf::Kind;
use crate::error::Result;
use crate::insn::{Insn, Reg};
use crate::sys::{self, Errno, ProgType};

/// `BPF_PSEUDO_BTF_ID` of a kernel function in an `ld_imm64`: the address of a kfunc, which
/// libbpf's `bpf_ksym_exists(kfunc)` and `if (weak_kfunc)` compile to. Kernels before 6.3
/// accept only variables there ("pseudo btf_id … in ldimm64 isn't KIND_VAR").
///
/// Loads a socket filter whose `ld_imm64` names the vmlinux FUNC `schedule`; nothing runs.
///
/// # Errors
/// [`crate::Error::Unsupported`] when the verifier refuses a FUNC there; an inconclusive
/// error without kernel BTF or when the load fails for another reason.
pub fn kfunc_address() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, probe)
}

fn probe() -> Outcome {
    let btf = match vmlinux() {
        Ok(b) => b,
        Err(o) => return o,
    };
    let Some(id) = btf.id_by_name_kind("schedule", Kind::Func) else {
        return Outcome::Io {
            path: "/sys/kernel/btf/vmlinux".into(),
            errno: None,
            msg: "the kernel's BTF has no FUNC `schedule` to probe with".into(),
        };
    };
    let mut insns = Vec::with_capacity(4);
    insns.extend(Insn::ld_imm64_pseudo(Reg::R1, 3, id as i32, 0)); // BPF_PSEUDO_BTF_ID
    insns.extend([Insn::mov64_imm(Reg::R0, 0), Insn::exit()]);
    let mut log = vec![0u8; 4096];
    let mut args = sys::ProgLoadArgs {
        prog_type: ProgType::SOCKET_FILTER,
        insns: &insns,
        license: c"GPL",
        log: Some(&mut log),
        log_level: 1,
        ..Default::default()
    };
    match sys::prog_load(&mut args) {
        Ok(_p) => Outcome::Available,
        Err(e) if e == Errno::EINVAL => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let log = String::from_utf8_lossy(&log[..end]);
            if log.contains("isn't KIND_VAR") {
                Outcome::unsupported(
                    "kfunc addresses",
                    "the verifier takes only variables in a BTF-id ld_imm64 (Linux 6.3 takes \
                     functions): bpf_ksym_exists() on a kfunc cannot be a pointer",
                )
            } else {
                Outcome::Syscall {
                    call: "BPF_PROG_LOAD",
                    errno: e,
                }
            }
        }
        Err(errno) => Outcome::Syscall {
            call: "BPF_PROG_LOAD",
            errno,
        },
    }
}
