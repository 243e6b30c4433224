//! Legacy probe events in tracefs (`kprobe_events`, `uprobe_events`): the fallback for
//! kernels without the kprobe/uprobe PMUs. A probe event becomes a tracepoint whose id
//! ([`mount::tracepoint_id`](super::mount::tracepoint_id)) opens a `PERF_TYPE_TRACEPOINT`
//! perf event.

use std::io::{self, Write};

use super::mount::{tracefs_root, tracepoint_id};

/// Which probe-events file to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeKind {
    /// `kprobe_events`.
    Kprobe,
    /// `uprobe_events`.
    Uprobe,
}

impl ProbeKind {
    fn file(self) -> &'static str {
        match self {
            ProbeKind::Kprobe => "kprobe_events",
            ProbeKind::Uprobe => "uprobe_events",
        }
    }
}

fn check_name(what: &str, s: &str) -> io::Result<()> {
    let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("probe {what} {s:?}: only [A-Za-z0-9_] allowed"),
        ))
    }
}

/// The line that defines a probe event.
///
/// `target` is `func+offset` / an address for kprobes and `path:0xoffset` (optionally
/// `(0xref_ctr)`) for uprobes; build it with [`uprobe_target`].
pub fn probe_event_line(
    retprobe: bool,
    group: &str,
    event: &str,
    target: &str,
) -> io::Result<String> {
    check_name("group", group)?;
    check_name("event", event)?;
    if target.is_empty() || target.chars().any(char::is_whitespace) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("probe target {target:?} is empty or has white space"),
        ));
    }
    Ok(format!(
        "{}:{group}/{event} {target}",
        if retprobe { 'r' } else { 'p' }
    ))
}

/// The uprobe target `path:0xoffset` or `path:0xoffset(0xref_ctr_offset)`.
pub fn uprobe_target(path: &str, offset: u64, ref_ctr_offset: u64) -> String {
    if ref_ctr_offset == 0 {
        format!("{path}:{offset:#x}")
    } else {
        format!("{path}:{offset:#x}({ref_ctr_offset:#x})")
    }
}

fn append(kind: ProbeKind, line: &str) -> io::Result<()> {
    let path = tracefs_root()?.join(kind.file());
    let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
    f.write_all(line.as_bytes()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("writing {line:?} to {}: {e}", path.display()),
        )
    })
}

/// Defines a probe event `group/event` and returns its tracepoint id. Remove it with
/// [`remove_probe_event`] when done (it outlives the process).
pub fn add_probe_event(
    kind: ProbeKind,
    retprobe: bool,
    group: &str,
    event: &str,
    target: &str,
) -> io::Result<u64> {
    let line = probe_event_line(retprobe, group, event, target)?;
    append(kind, &line)?;
    match tracepoint_id(group, event) {
        Ok(id) => Ok(id),
        Err(e) => {
            let _ = remove_probe_event(kind, group, event);
            Err(e)
        }
    }
}

/// Removes probe event `group/event` (`-:group/event`).
pub fn remove_probe_event(kind: ProbeKind, group: &str, event: &str) -> io::Result<()> {
    check_name("group", group)?;
    check_name("event", event)?;
    append(kind, &format!("-:{group}/{event}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            probe_event_line(false, "g", "e", "/bin/x:0x10").unwrap(),
            "p:g/e /bin/x:0x10"
        );
        assert_eq!(
            probe_event_line(true, "g", "e", "do_sys_open").unwrap(),
            "r:g/e do_sys_open"
        );
        assert!(probe_event_line(false, "g/x", "e", "f").is_err());
        assert!(probe_event_line(false, "g", "e", "a b").is_err());
        assert_eq!(uprobe_target("/p", 0x20, 0), "/p:0x20");
        assert_eq!(uprobe_target("/p", 0x20, 0x8), "/p:0x20(0x8)");
    }

    #[test]
    fn uprobe_event_roundtrip() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let Some(exe) = exe.to_str().filter(|s| !s.contains(char::is_whitespace)) else {
            return;
        };
        let event = format!("rawbpf_sys_{}", std::process::id());
        let target = uprobe_target(exe, 0, 0);
        let id = add_probe_event(ProbeKind::Uprobe, false, "rawbpf_test", &event, &target).unwrap();
        assert!(id > 0);
        remove_probe_event(ProbeKind::Uprobe, "rawbpf_test", &event).unwrap();
        assert!(tracepoint_id("rawbpf_test", &event).is_err());
    }
}
