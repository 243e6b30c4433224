//! Finding (or making) the special filesystems BPF uses: bpffs for pins, tracefs for
//! tracepoint ids.

use std::io;
use std::path::{Path, PathBuf};

/// One line of `/proc/self/mountinfo`: the parts this crate needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    /// Mount point (octal escapes such as `\040` decoded).
    pub mount_point: PathBuf,
    /// Filesystem type (`bpf`, `tracefs`, `debugfs`, …).
    pub fstype: String,
    /// Mount source.
    pub source: String,
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') as u32 * 64
                + (b[i + 2] - b'0') as u32 * 8
                + (b[i + 3] - b'0') as u32;
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses the text of `/proc/<pid>/mountinfo`; malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let sep = fields.iter().position(|f| *f == "-")?;
            let mount_point = fields.get(4)?;
            let fstype = fields.get(sep + 1)?;
            let source = fields.get(sep + 2).copied().unwrap_or("");
            Some(MountEntry {
                mount_point: PathBuf::from(unescape(mount_point)),
                fstype: unescape(fstype),
                source: unescape(source),
            })
        })
        .collect()
}

/// The mounts the calling thread sees, from `/proc/thread-self/mountinfo` (a thread may have
/// its own mount namespace), or `/proc/self/mountinfo` on kernels before 3.17.
pub fn mounts() -> io::Result<Vec<MountEntry>> {
    let text = std::fs::read_to_string("/proc/thread-self/mountinfo")
        .or_else(|_| std::fs::read_to_string("/proc/self/mountinfo"))?;
    Ok(parse_mountinfo(&text))
}

/// The mount points of filesystem type `fstype`, in mount order.
pub fn find_mounts(fstype: &str) -> io::Result<Vec<PathBuf>> {
    Ok(mounts()?
        .into_iter()
        .filter(|m| m.fstype == fstype)
        .map(|m| m.mount_point)
        .collect())
}

/// Whether `path` is a mount point of type `fstype`.
pub fn is_mount_of(path: &Path, fstype: &str) -> io::Result<bool> {
    Ok(mounts()?
        .iter()
        .any(|m| m.mount_point == path && m.fstype == fstype))
}

fn mount_fs(target: &Path, fstype: &str) -> io::Result<()> {
    std::fs::create_dir_all(target)?;
    nix::mount::mount(
        Some(fstype),
        target,
        Some(fstype),
        nix::mount::MsFlags::empty(),
        None::<&str>,
    )
    .map_err(io::Error::from)
}

/// The mount that holds `path` (the longest mount point that is a prefix of it; the path
/// need not exist), from this process's mountinfo.
pub fn mount_of(path: &Path) -> io::Result<Option<MountEntry>> {
    Ok(containing_mount(&mounts()?, path).cloned())
}

/// [`mount_of`] over a parsed mount table. Of several mounts on the same point, the last one
/// (the one on top) wins.
pub fn containing_mount<'m>(mounts: &'m [MountEntry], path: &Path) -> Option<&'m MountEntry> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.mount_point))
        .max_by_key(|(i, m)| (m.mount_point.components().count(), *i))
        .map(|(_, m)| m)
}

/// Mounts a bpffs at `target` (creating the directory first; needs `CAP_SYS_ADMIN`).
pub fn mount_bpffs(target: &Path) -> io::Result<()> {
    mount_fs(target, "bpf")
}

/// The bpffs to pin in: `/sys/fs/bpf` if it is a bpffs, else the first bpffs mounted
/// anywhere, else mounts one at `/sys/fs/bpf` (needs `CAP_SYS_ADMIN`).
pub fn bpffs_root() -> io::Result<PathBuf> {
    let default = Path::new("/sys/fs/bpf");
    let found = find_mounts("bpf")?;
    if found.iter().any(|p| p == default) {
        return Ok(default.to_path_buf());
    }
    if let Some(p) = found.into_iter().next() {
        return Ok(p);
    }
    mount_fs(default, "bpf")?;
    Ok(default.to_path_buf())
}

/// The tracefs root: `/sys/kernel/tracing` if mounted, else any tracefs, else
/// `<debugfs>/tracing`, else mounts tracefs at `/sys/kernel/tracing` (needs
/// `CAP_SYS_ADMIN`).
pub fn tracefs_root() -> io::Result<PathBuf> {
    let default = Path::new("/sys/kernel/tracing");
    let all = mounts()?;
    let tracefs: Vec<&MountEntry> = all.iter().filter(|m| m.fstype == "tracefs").collect();
    if tracefs.iter().any(|m| m.mount_point == default) {
        return Ok(default.to_path_buf());
    }
    if let Some(m) = tracefs.first() {
        return Ok(m.mount_point.clone());
    }
    if let Some(d) = all.iter().find(|m| m.fstype == "debugfs") {
        let t = d.mount_point.join("tracing");
        if t.join("events").is_dir() {
            return Ok(t);
        }
    }
    mount_fs(default, "tracefs")?;
    Ok(default.to_path_buf())
}

/// The id of tracepoint `category:name`, read from `<tracefs>/events/<category>/<name>/id`
/// (the `config` of a `PERF_TYPE_TRACEPOINT` perf event). `InvalidInput` for names with a
/// `/` or `..`.
pub fn tracepoint_id(category: &str, name: &str) -> io::Result<u64> {
    for part in [category, name] {
        if part.is_empty() || part.contains('/') || part == ".." || part == "." {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad tracepoint name part {part:?}"),
            ));
        }
    }
    let path = tracefs_root()?
        .join("events")
        .join(category)
        .join(name)
        .join("id");
    let s = std::fs::read_to_string(&path)?;
    s.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a number: {s:?}", path.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
42 22 0:36 / /sys/fs/bpf rw,relatime shared:20 - bpf bpf rw,mode=700
43 22 0:12 / /sys/kernel/tracing rw,relatime shared:21 - tracefs tracefs rw
50 22 0:40 / /mnt/with\\040space rw - bpf none rw
garbage line
61 1 0:50 / /opt rw shared:1 master:2 - ext4 /dev/vda rw
";

    #[test]
    fn parses_mountinfo() {
        let m = parse_mountinfo(SAMPLE);
        assert_eq!(m.len(), 5);
        assert_eq!(
            m[1],
            MountEntry {
                mount_point: "/sys/fs/bpf".into(),
                fstype: "bpf".into(),
                source: "bpf".into()
            }
        );
        assert_eq!(m[2].fstype, "tracefs");
        assert_eq!(m[3].mount_point, PathBuf::from("/mnt/with space"));
        assert_eq!(m[4].fstype, "ext4");
        assert_eq!(m[4].source, "/dev/vda");
    }

    #[test]
    fn tracepoint_names_checked() {
        assert!(tracepoint_id("syscalls", "../x").is_err());
        assert!(tracepoint_id("", "x").is_err());
    }

    #[test]
    fn getppid_tracepoint() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        assert!(tracepoint_id("syscalls", "sys_enter_getppid").unwrap() > 0);
    }
}

#[cfg(test)]
mod containing_tests {
    use super::*;

    #[test]
    fn the_deepest_and_topmost_mount_holds_a_path() {
        let m = parse_mountinfo(
            "1 0 0:1 / / rw - ext4 /dev/root rw\n\
             2 1 0:2 / /sys rw - sysfs sysfs rw\n\
             3 2 0:3 / /sys/fs/bpf rw - bpf bpf rw\n\
             4 2 0:4 / /sys/fs/bpf rw - tmpfs tmpfs rw\n",
        );
        let of = |p: &str| containing_mount(&m, Path::new(p)).map(|e| e.fstype.as_str());
        assert_eq!(
            of("/sys/fs/bpf/x/y"),
            Some("tmpfs"),
            "the mount on top wins"
        );
        assert_eq!(
            of("/sys/fs/bpfx"),
            Some("sysfs"),
            "components, not string prefixes"
        );
        assert_eq!(of("/tmp/a"), Some("ext4"));
        assert_eq!(containing_mount(&[], Path::new("/x")), None);
    }
}
