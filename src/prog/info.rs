//! [`ProgramInfo`] (`BPF_OBJ_GET_INFO_BY_FD` on a program) and [`ProgramIds`].

use std::os::fd::BorrowedFd;
use std::time::Duration;

use super::ProgramType;
use crate::error::Result;
use crate::sys;

/// What the kernel reports about a program (`struct bpf_prog_info`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgramInfo {
    /// The program's id.
    pub id: u32,
    /// The program type.
    pub prog_type: ProgramType,
    /// The name (at most 15 bytes).
    pub name: String,
    /// The tag: a hash of the instructions (as `bpftool prog` shows it).
    pub tag: [u8; 8],
    /// Ids of the maps the program uses.
    pub map_ids: Vec<u32>,
    /// Bytes of translated (post-verifier) instructions.
    pub xlated_len: u32,
    /// Bytes of JITed code.
    pub jited_len: u32,
    /// Times the program ran (counted while `BPF_ENABLE_STATS` is on).
    pub run_cnt: u64,
    /// Total run time in ns (counted while `BPF_ENABLE_STATS` is on).
    pub run_time_ns: u64,
    /// Runs skipped because of recursion.
    pub recursion_misses: u64,
    /// Id of the program's BTF, 0 if none.
    pub btf_id: u32,
    /// Load time since boot (`CLOCK_BOOTTIME`).
    pub load_time: Duration,
    /// Uid of the loading process.
    pub created_by_uid: u32,
    /// Instructions the verifier processed.
    pub verified_insns: u32,
    /// Whether the license is GPL-compatible.
    pub gpl_compatible: bool,
    /// Offload device, 0 if none.
    pub ifindex: u32,
    /// BTF id of the attach target.
    pub attach_btf_id: u32,
    /// Id of the BTF object the attach target is in.
    pub attach_btf_obj_id: u32,
}

impl ProgramInfo {
    /// The tag as the hex string `bpftool` prints.
    pub fn tag_hex(&self) -> String {
        self.tag.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads the info of the program behind `fd`, with its map ids.
    pub fn of_fd(fd: BorrowedFd<'_>) -> Result<ProgramInfo> {
        let err = |e| crate::map::info_error(e, "the fd is not a BPF program");
        let first = sys::prog_info(fd).map_err(err)?;
        let mut map_ids = vec![0u32; first.nr_map_ids as usize];
        let raw = if map_ids.is_empty() {
            first
        } else {
            let bufs = sys::ProgInfoBufs {
                map_ids: Some(&mut map_ids),
                ..Default::default()
            };
            let raw = sys::prog_info_with(fd, bufs).map_err(err)?;
            // Maps can be bound between the two calls: keep what fit.
            map_ids.truncate(raw.nr_map_ids.min(first.nr_map_ids) as usize);
            raw
        };
        Ok(ProgramInfo {
            id: raw.id,
            prog_type: raw.type_,
            name: raw.name_str(),
            tag: raw.tag,
            map_ids,
            xlated_len: raw.xlated_prog_len,
            jited_len: raw.jited_prog_len,
            run_cnt: raw.run_cnt,
            run_time_ns: raw.run_time_ns,
            recursion_misses: raw.recursion_misses,
            btf_id: raw.btf_id,
            load_time: Duration::from_nanos(raw.load_time),
            created_by_uid: raw.created_by_uid,
            verified_insns: raw.verified_insns,
            gpl_compatible: raw.is_gpl_compatible(),
            ifindex: raw.ifindex,
            attach_btf_id: raw.attach_btf_id,
            attach_btf_obj_id: raw.attach_btf_obj_id,
        })
    }
}

/// Iterator over the ids of every program in the system (`BPF_PROG_GET_NEXT_ID`). Needs
/// `CAP_SYS_ADMIN`.
pub type ProgramIds = crate::map::ObjectIds;
