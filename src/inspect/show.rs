//! [`prog_show_json`]: a program's info as `bpftool -j prog show` prints it.

use std::os::fd::{AsFd, AsRawFd};

use super::{Holder, json};
use crate::error::{Error, Result};
use crate::prog::{Program, ProgramInfo};

/// The wall-clock second (Unix time) of a `CLOCK_BOOTTIME` instant such as
/// [`ProgramInfo::load_time`], as bpftool computes `loaded_at`: `realtime − boottime +
/// instant`, truncated to seconds.
///
/// # Errors
/// [`Error::Syscall`] if the clocks cannot be read.
pub fn boot_time_to_unix(boot: std::time::Duration) -> Result<i64> {
    let boot_ns = u64::try_from(boot.as_nanos()).unwrap_or(u64::MAX);
    let (rs, rn, bs, bn) = crate::sys::clock::realtime_and_boottime()
        .map_err(|e| Error::syscall("clock_gettime", e))?;
    let ns = rn - bn + boot_ns as i64;
    Ok(rs - bs + ns / 1_000_000_000)
}

/// `memlock:` from the fdinfo of one of this process's fds (bpftool's `bytes_memlock`).
pub(crate) fn fdinfo_memlock(fd: &impl AsFd) -> Option<u64> {
    let path = format!("/proc/self/fdinfo/{}", fd.as_fd().as_raw_fd());
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("memlock:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The program's type as bpftool names it (`syscall`, `xdp`, `sched_cls`, …): the kernel's
/// `BPF_PROG_TYPE_` name, lower-cased.
pub fn prog_type_name(info: &ProgramInfo) -> String {
    info.prog_type.name().map_or_else(
        || format!("type {}", info.prog_type.raw()),
        |n| n.trim_start_matches("BPF_PROG_TYPE_").to_ascii_lowercase(),
    )
}

/// `prog` as the JSON object `bpftool -j prog show id N` prints: `id`, `type`, `name`, `tag`,
/// `gpl_compatible`, `loaded_at` (Unix seconds), `uid`, `bytes_xlated`, `jited`,
/// `bytes_jited`, `bytes_memlock`, `map_ids` (when there are maps), `btf_id` (when there is
/// BTF), `run_time_ns`/`run_cnt` (when stats were collected), `recursion_misses` (when
/// non-zero) and `pids` (the holders given, when any; see [`super::holders`]).
///
/// # Errors
/// As [`Program::info`]; clock errors.
pub fn prog_show_json(prog: &Program, pids: &[Holder]) -> Result<String> {
    let info = prog.info()?;
    let mut f: Vec<(String, String)> = vec![
        ("id".into(), info.id.to_string()),
        ("type".into(), json::string(&prog_type_name(&info))),
    ];
    if !info.name.is_empty() {
        f.push(("name".into(), json::string(&info.name)));
    }
    f.push(("tag".into(), json::string(&info.tag_hex())));
    f.push(("gpl_compatible".into(), info.gpl_compatible.to_string()));
    if info.run_time_ns != 0 {
        f.push(("run_time_ns".into(), info.run_time_ns.to_string()));
        f.push(("run_cnt".into(), info.run_cnt.to_string()));
    }
    if info.recursion_misses != 0 {
        f.push(("recursion_misses".into(), info.recursion_misses.to_string()));
    }
    if info.load_time.as_nanos() != 0 {
        let secs = boot_time_to_unix(info.load_time)?;
        f.push(("loaded_at".into(), secs.to_string()));
        f.push(("uid".into(), info.created_by_uid.to_string()));
    }
    f.push(("bytes_xlated".into(), info.xlated_len.to_string()));
    f.push(("jited".into(), (info.jited_len != 0).to_string()));
    if info.jited_len != 0 {
        f.push(("bytes_jited".into(), info.jited_len.to_string()));
    }
    if let Some(m) = fdinfo_memlock(prog) {
        f.push(("bytes_memlock".into(), m.to_string()));
    }
    if !info.map_ids.is_empty() {
        let ids: Vec<String> = info.map_ids.iter().map(u32::to_string).collect();
        f.push(("map_ids".into(), format!("[{}]", ids.join(","))));
    }
    if info.btf_id != 0 {
        f.push(("btf_id".into(), info.btf_id.to_string()));
    }
    if !pids.is_empty() {
        let p: Vec<String> = pids
            .iter()
            .map(|h| format!("{{\"pid\":{},\"comm\":{}}}", h.pid, json::string(&h.comm)))
            .collect();
        f.push(("pids".into(), format!("[{}]", p.join(","))));
    }
    let body: Vec<String> = f
        .into_iter()
        .map(|(k, v)| format!("{}:{v}", json::string(&k)))
        .collect();
    Ok(format!("{{{}}}", body.join(",")))
}
