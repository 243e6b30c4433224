//! [`btf_show_json`], [`btf_show_text`]: a BTF object as `bpftool btf show` lists it, with the
//! programs and maps that use it ([`BtfUsers`]).

use std::collections::BTreeMap;

use super::json;
use crate::btf::BtfHandle;
use crate::error::Result;
use crate::map::Map;
use crate::prog::Program;

/// The programs and maps using each BTF object (their `btf_id`), by BTF id.
#[derive(Clone, Debug, Default)]
pub struct BtfUsers {
    /// Program ids by BTF id, in id order.
    pub progs: BTreeMap<u32, Vec<u32>>,
    /// Map ids by BTF id, in id order.
    pub maps: BTreeMap<u32, Vec<u32>>,
}

impl BtfUsers {
    /// Walks every program and map of the system (`CAP_SYS_ADMIN`); objects that vanish
    /// during the walk are skipped.
    ///
    /// # Errors
    /// Errors of the id walks.
    pub fn read() -> Result<BtfUsers> {
        let mut u = BtfUsers::default();
        for id in Program::ids() {
            let Ok(p) = Program::from_id(id?) else {
                continue;
            };
            if let Ok(info) = p.info() {
                if info.btf_id != 0 {
                    u.progs.entry(info.btf_id).or_default().push(info.id);
                }
            }
        }
        for id in Map::ids() {
            let Ok(m) = Map::from_id(id?) else {
                continue;
            };
            if let Ok(info) = m.info() {
                if info.btf_id != 0 {
                    u.maps.entry(info.btf_id).or_default().push(info.id);
                }
            }
        }
        Ok(u)
    }
}

/// The ids in increasing order. (bpftool lists them in the order of its hash table's
/// buckets, which follows no rule worth copying.)
fn listed(ids: Option<&Vec<u32>>) -> Vec<u32> {
    let mut v = ids.cloned().unwrap_or_default();
    v.sort_unstable();
    v
}

/// `btf` as the JSON object `bpftool -j btf show id N` prints: `id`, `size`, `prog_ids`,
/// `map_ids`, `kernel`, `name` (when it has one). The ids are in increasing order, where
/// bpftool's order is that of its hash table.
///
/// # Errors
/// Errors reading the BTF object's info.
pub fn btf_show_json(btf: &BtfHandle, users: &BtfUsers) -> Result<String> {
    let info = btf.info()?;
    let list = |v: Vec<u32>| {
        let s: Vec<String> = v.iter().map(u32::to_string).collect();
        format!("[{}]", s.join(","))
    };
    let mut out = format!(
        "{{\"id\":{},\"size\":{},\"prog_ids\":{},\"map_ids\":{},\"kernel\":{}",
        info.id,
        info.size,
        list(listed(users.progs.get(&info.id))),
        list(listed(users.maps.get(&info.id))),
        info.kernel_btf
    );
    if !info.name.is_empty() {
        out.push_str(&format!(",\"name\":{}", json::string(&info.name)));
    }
    out.push('}');
    Ok(out)
}

/// `btf` as plain `bpftool btf show id N` prints it: `ID: name NAME  size SIZEB  prog_ids …
/// map_ids …` (`name [vmlinux]` for kernel BTF, `name <anon>` without a name).
///
/// # Errors
/// Errors reading the BTF object's info.
pub fn btf_show_text(btf: &BtfHandle, users: &BtfUsers) -> Result<String> {
    let info = btf.info()?;
    let mut out = format!("{}: ", info.id);
    if info.kernel_btf {
        out.push_str(&format!("name [{}]  ", info.name));
    } else if !info.name.is_empty() {
        out.push_str(&format!("name {}  ", info.name));
    } else {
        out.push_str("name <anon>  ");
    }
    out.push_str(&format!("size {}B", info.size));
    for (label, ids) in [
        ("prog_ids", listed(users.progs.get(&info.id))),
        ("map_ids", listed(users.maps.get(&info.id))),
    ] {
        if !ids.is_empty() {
            let s: Vec<String> = ids.iter().map(u32::to_string).collect();
            out.push_str(&format!("  {label} {}", s.join(",")));
        }
    }
    out.push('\n');
    Ok(out)
}
