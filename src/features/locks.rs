//! The probe for `bpf_spin_lock` in sleepable programs.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::OnceLock;

use super::{Outcome, cached};
use crate::btf::{BtfBuilder, IntEncoding, NewMember};
use crate::error::Result;
use crate::insn::{Insn, Reg};
use crate::sys::{self, Errno, MapType, ProgFlags, ProgType};

/// `bpf_spin_lock`/`bpf_spin_unlock` in sleepable programs (`SEC("syscall")`, sleepable
/// fentry/LSM/iterators). Older kernels reject such programs ("sleepable progs cannot use
/// bpf_spin_lock yet").
///
/// Loads a sleepable `SYSCALL` program that takes and releases a spin lock in a one-entry
/// array whose BTF value type is `struct { struct bpf_spin_lock lock; int x; }`.
///
/// # Errors
/// [`crate::Error::Unsupported`] when the verifier refuses the lock in a sleepable program;
/// an inconclusive error when the BTF, the map or the program cannot be made for another
/// reason.
pub fn sleepable_spin_lock() -> Result<()> {
    static C: OnceLock<Outcome> = OnceLock::new();
    cached(&C, probe)
}

fn probe() -> Outcome {
    let mut b = BtfBuilder::new();
    let int = b.add_int("int", 4, IntEncoding::SIGNED);
    let types = b
        .add_struct("bpf_spin_lock", 4, &[NewMember::new("val", int, 0)])
        .and_then(|lock| {
            b.add_struct(
                "rawbpf_probe_locked",
                8,
                &[
                    NewMember::new("lock", lock, 0),
                    NewMember::new("x", int, 32),
                ],
            )
        });
    let value = match types {
        Ok(v) => v,
        Err(e) => return Outcome::from_error(crate::Error::InvalidArgument(e.to_string()), "BTF"),
    };
    let data = b.encode();
    let btf = match sys::btf_load(&mut sys::BtfLoadArgs {
        data: &data,
        ..Default::default()
    }) {
        Ok(fd) => fd,
        Err(errno) => {
            return Outcome::failed(
                "bpf_spin_lock in sleepable programs",
                "BPF_BTF_LOAD",
                errno,
                &[],
            );
        }
    };
    let map = match sys::map_create(&sys::MapCreateArgs {
        map_type: MapType::ARRAY,
        key_size: 4,
        value_size: 8,
        max_entries: 1,
        btf: Some(btf.as_fd()),
        btf_key_type_id: int,
        btf_value_type_id: value,
        ..Default::default()
    }) {
        Ok(m) => m,
        Err(errno) => {
            return Outcome::failed(
                "bpf_spin_lock in sleepable programs",
                "BPF_MAP_CREATE",
                errno,
                &[],
            );
        }
    };
    let fd = map.as_fd().as_raw_fd();
    let mut insns = Vec::with_capacity(8);
    insns.extend(Insn::ld_map_value(Reg::R1, fd, 0));
    insns.push(Insn::call_helper(93)); // bpf_spin_lock
    insns.extend(Insn::ld_map_value(Reg::R1, fd, 0));
    insns.push(Insn::call_helper(94)); // bpf_spin_unlock
    insns.extend([Insn::mov64_imm(Reg::R0, 0), Insn::exit()]);
    let mut log = vec![0u8; 4096];
    let mut args = sys::ProgLoadArgs {
        prog_type: ProgType::SYSCALL,
        insns: &insns,
        license: c"GPL",
        prog_flags: ProgFlags::SLEEPABLE,
        log: Some(&mut log),
        log_level: 1,
        ..Default::default()
    };
    match sys::prog_load(&mut args) {
        Ok(_p) => Outcome::Available,
        Err(e) if e == Errno::EINVAL || e == Errno::EACCES => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let log = String::from_utf8_lossy(&log[..end]);
            if log.contains("spin_lock") || log.contains("sleepable") {
                Outcome::unsupported(
                    "bpf_spin_lock in sleepable programs",
                    format!(
                        "the verifier refuses spin locks in sleepable programs ({}): take the lock in a \
                         non-sleepable program, or use an atomic instead",
                        crate::error::VerifierLog::new(log.into_owned()).summary()
                    ),
                )
            } else if super::prog_type(ProgType::SYSCALL).is_err() {
                Outcome::unsupported(
                    "bpf_spin_lock in sleepable programs",
                    "the kernel has no sleepable SYSCALL programs to probe with",
                )
            } else {
                Outcome::failed(
                    "bpf_spin_lock in sleepable programs",
                    "BPF_PROG_LOAD",
                    e,
                    &[],
                )
            }
        }
        Err(errno) => Outcome::failed(
            "bpf_spin_lock in sleepable programs",
            "BPF_PROG_LOAD",
            errno,
            &[],
        ),
    }
}
