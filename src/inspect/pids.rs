//! [`holders`]: which processes hold each BPF program, map and link, from `/proc/*/fdinfo`
//! (the `pids` of `bpftool prog show`).

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// A process holding a BPF object through an fd.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Holder {
    /// The process id.
    pub pid: u32,
    /// Its command name (`/proc/PID/comm`).
    pub comm: String,
}

/// The holders of every program, map and link, by id; each process listed once per object,
/// in pid order.
#[derive(Clone, Debug, Default)]
pub struct Holders {
    /// Programs (`prog_id:` in fdinfo).
    pub progs: BTreeMap<u32, Vec<Holder>>,
    /// Maps (`map_id:`).
    pub maps: BTreeMap<u32, Vec<Holder>>,
    /// Links (`link_id:`).
    pub links: BTreeMap<u32, Vec<Holder>>,
}

impl Holders {
    /// The processes holding the program `id`.
    pub fn prog(&self, id: u32) -> &[Holder] {
        self.progs.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The processes holding the map `id`.
    pub fn map(&self, id: u32) -> &[Holder] {
        self.maps.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The processes holding the link `id`.
    pub fn link(&self, id: u32) -> &[Holder] {
        self.links.get(&id).map_or(&[], Vec::as_slice)
    }

    /// Adds what one fdinfo file says (for `pid`/`comm`); pure, for tests.
    pub fn add_fdinfo(&mut self, pid: u32, comm: &str, fdinfo: &str) {
        for line in fdinfo.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let table = match k.trim() {
                "prog_id" => &mut self.progs,
                "map_id" => &mut self.maps,
                "link_id" => &mut self.links,
                _ => continue,
            };
            let Ok(id) = v.trim().parse::<u32>() else {
                continue;
            };
            let list = table.entry(id).or_default();
            let h = Holder {
                pid,
                comm: comm.to_string(),
            };
            if let Err(at) = list.binary_search(&h) {
                list.insert(at, h);
            }
            // An fd is one object: a link's fdinfo also lists its prog_id, which bpftool
            // does not count as holding the program. Stop at the first id.
            break;
        }
    }
}

/// Scans `/proc/*/fdinfo/*` for BPF object fds. Processes that vanish or whose fds cannot be
/// read (another user's, without privileges) are skipped.
///
/// # Errors
/// [`Error::Io`] if `/proc` cannot be listed.
pub fn holders() -> Result<Holders> {
    let mut h = Holders::default();
    let procs = std::fs::read_dir("/proc").map_err(|e| Error::io("/proc", e))?;
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let dir = p.path();
        let Ok(fds) = std::fs::read_dir(dir.join("fd")) else {
            continue;
        };
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        let comm = comm.trim_end_matches('\n');
        for fd in fds.flatten() {
            // Only anon inodes of BPF objects ("anon_inode:bpf-prog", "bpf-map", "bpf_link").
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let t = target.to_string_lossy();
            if !t.starts_with("anon_inode:bpf") {
                continue;
            }
            if let Ok(info) = std::fs::read_to_string(dir.join("fdinfo").join(fd.file_name())) {
                h.add_fdinfo(pid, comm, &info);
            }
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fdinfo_lines() {
        let mut h = Holders::default();
        h.add_fdinfo(
            10,
            "a",
            "pos:\t0\nflags:\t02000002\nprog_type:\t6\nprog_id:\t77\n",
        );
        h.add_fdinfo(9, "b", "map_type:\t1\nmap_id:\t5\n");
        h.add_fdinfo(10, "a", "prog_id:\t77\n"); // second fd of the same program
        h.add_fdinfo(
            3,
            "c",
            "link_type:\txdp\nlink_id:\t8\nprog_tag:\tab\nprog_id:\t77\n",
        );
        h.add_fdinfo(4, "d", "pos:\t0\n");
        assert_eq!(
            h.prog(77),
            [Holder {
                pid: 10,
                comm: "a".into()
            }]
        );
        assert_eq!(h.map(5)[0].pid, 9);
        assert_eq!(h.link(8)[0].comm, "c");
        assert!(h.prog(1).is_empty());
    }
}
