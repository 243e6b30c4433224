//! [`prog_show_json`]: a program's info as `bpftool -j prog show` prints it.

use std::os::fd::{AsFd, AsRawFd};

use super::{Holder, json};
use crate::error::{Error, Result};
use crate::map::{Map, MapType};
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

/// A numeric field (`memlock:`, `frozen:`, …) of the fdinfo of one of this process's fds.
pub(crate) fn fdinfo_field(fd: &impl AsFd, key: &str) -> Option<u64> {
    let path = format!("/proc/self/fdinfo/{}", fd.as_fd().as_raw_fd());
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().parse().ok())
}

/// `memlock:` from the fdinfo (bpftool's `bytes_memlock`).
pub(crate) fn fdinfo_memlock(fd: &impl AsFd) -> Option<u64> {
    fdinfo_field(fd, "memlock")
}

/// The program's type as bpftool names it (`syscall`, `xdp`, `sched_cls`, …): the kernel's
/// `BPF_PROG_TYPE_` name, lower-cased.
pub fn prog_type_name(info: &ProgramInfo) -> String {
    info.prog_type.name().map_or_else(
        || format!("type {}", info.prog_type.raw()),
        |n| n.trim_start_matches("BPF_PROG_TYPE_").to_ascii_lowercase(),
    )
}

/// The program's full name, as bpftool shows it: the kernel keeps 15 bytes of a name; when
/// the name fills them, the name of the program's first function in its BTF (the whole C
/// function name) if it has one.
///
/// # Errors
/// As [`Program::info`].
pub fn prog_full_name(prog: &Program) -> Result<String> {
    let info = prog.info()?;
    if info.name.len() < 15 || info.btf_id == 0 {
        return Ok(info.name);
    }
    let full = (|| {
        let x = prog.xlated().ok()?;
        let first = x.func_info.first()?;
        let btf = crate::btf::BtfHandle::from_id(x.btf_id)
            .ok()?
            .to_btf()
            .ok()?;
        let t = btf.type_by_id(first.type_id).ok()?;
        (t.kind() == crate::btf::Kind::Func)
            .then(|| btf.string(t.name_off()).ok().map(str::to_string))
            .flatten()
    })();
    Ok(full.unwrap_or(info.name))
}

/// `prog` as plain `bpftool prog show id N` prints it (`loaded_at` in UTC, as bpftool prints
/// local time on a machine whose time zone is UTC; the continuation lines start with a tab):
///
/// ```text
/// 498: syscall  name drain  tag 2b58afde790528be  gpl
///     loaded_at 2026-12-04T17:04:51+0000  uid 0
///     xlated 360B  jited 222B  memlock 4096B  map_ids 2152,2155
///     btf_id 227
/// ```
///
/// # Errors
/// As [`prog_show_json`].
pub fn prog_show_text(prog: &Program, pids: &[Holder]) -> Result<String> {
    let info = prog.info()?;
    let mut out = format!("{}: {}  ", info.id, prog_type_name(&info));
    if !info.name.is_empty() {
        out.push_str(&format!("name {}  ", prog_full_name(prog)?));
    }
    out.push_str(&format!("tag {}", info.tag_hex()));
    if info.gpl_compatible {
        out.push_str("  gpl");
    }
    if info.run_time_ns != 0 {
        out.push_str(&format!(
            " run_time_ns {} run_cnt {}",
            info.run_time_ns, info.run_cnt
        ));
    }
    if info.recursion_misses != 0 {
        out.push_str(&format!(" recursion_misses {}", info.recursion_misses));
    }
    out.push('\n');
    if !info.load_time.is_zero() {
        let secs = boot_time_to_unix(info.load_time)?;
        out.push_str(&format!(
            "\tloaded_at {}  uid {}\n",
            iso8601_utc(secs),
            info.created_by_uid
        ));
    }
    out.push_str(&format!("\txlated {}B", info.xlated_len));
    if info.jited_len != 0 {
        out.push_str(&format!("  jited {}B", info.jited_len));
    } else {
        out.push_str("  not jited");
    }
    if let Some(m) = fdinfo_memlock(prog) {
        out.push_str(&format!("  memlock {m}B"));
    }
    if !info.map_ids.is_empty() {
        let ids: Vec<String> = info.map_ids.iter().map(u32::to_string).collect();
        out.push_str(&format!("  map_ids {}", ids.join(",")));
    }
    if info.btf_id != 0 {
        out.push_str(&format!("\n\tbtf_id {}", info.btf_id));
    }
    if !pids.is_empty() {
        let p: Vec<String> = pids
            .iter()
            .map(|h| format!("{}({})", h.comm, h.pid))
            .collect();
        out.push_str(&format!("\n\tpids {}", p.join(", ")));
    }
    out.push('\n');
    Ok(out)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS+0000`.
pub fn iso8601_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // The civil date of a day count since 1970-01-01 (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+0000",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
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
        f.push(("name".into(), json::string(&prog_full_name(prog)?)));
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

/// A map type as bpftool names it (`hash`, `prog_array`, …): the kernel's `BPF_MAP_TYPE_`
/// name, lower-cased.
pub fn map_type_name(t: MapType) -> String {
    t.name().map_or_else(
        || format!("type {}", t.raw()),
        |n| n.trim_start_matches("BPF_MAP_TYPE_").to_ascii_lowercase(),
    )
}

/// What bpftool shows about a map besides its info: memlock, freeze state and, for a program
/// array, the type of the programs it holds (from the map's fdinfo).
struct MapExtras {
    memlock: Option<u64>,
    frozen: bool,
    owner_prog_type: Option<String>,
    owner_jited: Option<bool>,
}

fn map_extras(map: &Map) -> MapExtras {
    let owner = (map.map_type() == MapType::PROG_ARRAY)
        .then(|| fdinfo_field(map, "owner_prog_type"))
        .flatten()
        .map(|t| {
            let t = crate::prog::ProgramType(t as u32);
            t.name().map_or_else(
                || t.raw().to_string(),
                |n| n.trim_start_matches("BPF_PROG_TYPE_").to_ascii_lowercase(),
            )
        });
    MapExtras {
        memlock: fdinfo_memlock(map),
        frozen: fdinfo_field(map, "frozen").is_some_and(|f| f != 0),
        owner_prog_type: owner,
        owner_jited: (map.map_type() == MapType::PROG_ARRAY)
            .then(|| fdinfo_field(map, "owner_jited"))
            .flatten()
            .map(|j| j != 0),
    }
}

/// `map` as the JSON object `bpftool -j map show id N` prints: `id`, `type`, `name`, `flags`,
/// `bytes_key`, `bytes_value`, `max_entries`, `bytes_memlock`, `owner_prog_type` and
/// `owner_jited` (program arrays that hold a program), `frozen`, `btf_id` (when there is BTF),
/// `pids` (when given).
///
/// # Errors
/// As [`Map::info`].
pub fn map_show_json(map: &Map, pids: &[Holder]) -> Result<String> {
    let info = map.info()?;
    let x = map_extras(map);
    let mut f: Vec<(&str, String)> = vec![
        ("id", info.id.to_string()),
        ("type", json::string(&map_type_name(info.map_type))),
    ];
    if !info.name.is_empty() {
        f.push(("name", json::string(&info.name)));
    }
    f.push(("flags", info.flags.bits().to_string()));
    f.push(("bytes_key", info.key_size.to_string()));
    f.push(("bytes_value", info.value_size.to_string()));
    f.push(("max_entries", info.max_entries.to_string()));
    if let Some(m) = x.memlock {
        f.push(("bytes_memlock", m.to_string()));
    }
    if let Some(t) = &x.owner_prog_type {
        f.push(("owner_prog_type", json::string(t)));
    }
    if let Some(j) = x.owner_jited {
        f.push(("owner_jited", j.to_string()));
    }
    f.push(("frozen", u8::from(x.frozen).to_string()));
    if info.btf_id != 0 {
        f.push(("btf_id", info.btf_id.to_string()));
    }
    if !pids.is_empty() {
        let p: Vec<String> = pids
            .iter()
            .map(|h| format!("{{\"pid\":{},\"comm\":{}}}", h.pid, json::string(&h.comm)))
            .collect();
        f.push(("pids", format!("[{}]", p.join(","))));
    }
    let body: Vec<String> = f
        .into_iter()
        .map(|(k, v)| format!("{}:{v}", json::string(k)))
        .collect();
    Ok(format!("{{{}}}", body.join(",")))
}

/// `map` as plain `bpftool map show id N` prints it (continuation lines start with a tab):
///
/// ```text
/// 8098: array  name inspect.rodata  flags 0x480
///     key 4B  value 24B  max_entries 1  memlock 8192B
///     btf_id 1570  frozen
/// ```
///
/// # Errors
/// As [`Map::info`].
pub fn map_show_text(map: &Map, pids: &[Holder]) -> Result<String> {
    let info = map.info()?;
    let x = map_extras(map);
    let mut out = format!("{}: {}  ", info.id, map_type_name(info.map_type));
    if !info.name.is_empty() {
        out.push_str(&format!("name {}  ", info.name));
    }
    out.push_str(&format!("flags {:#x}\n", info.flags.bits()));
    out.push_str(&format!(
        "\tkey {}B  value {}B  max_entries {}",
        info.key_size, info.value_size, info.max_entries
    ));
    if let Some(m) = x.memlock {
        out.push_str(&format!("  memlock {m}B"));
    }
    if x.owner_prog_type.is_some() || x.owner_jited.is_some() {
        out.push_str("\n\t");
    }
    if let Some(t) = &x.owner_prog_type {
        out.push_str(&format!("owner_prog_type {t}  "));
    }
    if let Some(j) = x.owner_jited {
        out.push_str(if j { "owner jited" } else { "owner not jited" });
    }
    if info.btf_id != 0 || x.frozen {
        out.push_str("\n\t");
    }
    if info.btf_id != 0 {
        out.push_str(&format!("btf_id {}", info.btf_id));
    }
    if x.frozen {
        out.push_str(if info.btf_id != 0 {
            "  frozen"
        } else {
            "frozen"
        });
    }
    if !pids.is_empty() {
        let p: Vec<String> = pids
            .iter()
            .map(|h| format!("{}({})", h.comm, h.pid))
            .collect();
        out.push_str(&format!("\n\tpids {}", p.join(", ")));
    }
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_dates() {
        assert_eq!(super::iso8601_utc(0), "1970-01-01T00:00:00+0000");
        assert_eq!(
            super::iso8601_utc(1_796_403_891),
            "2026-12-04T17:04:51+0000"
        );
        assert_eq!(super::iso8601_utc(951_782_400), "2000-02-29T00:00:00+0000");
        assert_eq!(super::iso8601_utc(-1), "1969-12-31T23:59:59+0000");
    }
}
