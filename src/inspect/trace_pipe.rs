//! [`TraceLine`]: a line of the kernel's trace buffer as `bpf_trace_printk` (`bpf_printk`)
//! leaves it, parsed; [`TracePipe`]: the lines of `trace_pipe` (consuming) or `trace` (a
//! snapshot) as an iterator.
//!
//! ```text
//!  xdp_hello_count-16408   [001] b..11  1324.712037: bpf_trace_printk: Hello World 0
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// One parsed trace line: `TASK-PID [CPU] FLAGS TIMESTAMP: EVENT: MESSAGE` (with a
/// `(TGID)` column after the pid when the `record-tgid` option is on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceLine {
    /// The task's command name (may contain spaces and dashes; `<...>` when the kernel no
    /// longer knows it).
    pub task: String,
    /// The thread id.
    pub pid: u32,
    /// The thread group id, when the line has the tgid column (and it is known).
    pub tgid: Option<u32>,
    /// The CPU.
    pub cpu: u32,
    /// The irq/preempt flags column (e.g. `d..21`; empty when the kernel prints none).
    pub flags: String,
    /// The timestamp (the trace clock, by default seconds since boot).
    pub timestamp: Duration,
    /// The event (`bpf_trace_printk` for `bpf_printk`).
    pub event: String,
    /// The message.
    pub message: String,
}

impl TraceLine {
    /// Parses one line; `None` for comments, blank lines and lines of another shape.
    pub fn parse(line: &str) -> Option<TraceLine> {
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            return None;
        }
        // The CPU column "[NNN]" is the first bracketed number after the task-pid; the task
        // name may itself contain brackets, so take the last "[digits]" before the timestamp.
        let (head, rest) = split_cpu(line)?;
        let (cpu, rest) = rest;
        let head = head.trim();
        let (taskpid, tgid) = match head.rsplit_once(" (") {
            Some((tp, t)) if t.ends_with(')') => {
                let t = t.trim_end_matches(')').trim();
                (tp.trim_end(), t.parse::<u32>().ok())
            }
            _ => (head, None),
        };
        let (task, pid) = taskpid.rsplit_once('-')?;
        let pid = pid.parse::<u32>().ok()?;
        let task = task.trim_start().to_string();
        // "FLAGS TIMESTAMP: EVENT: MESSAGE" or "TIMESTAMP: EVENT: MESSAGE".
        let rest = rest.trim_start();
        let (first, after) = rest.split_once(char::is_whitespace)?;
        let (flags, ts_and_rest) = if first.ends_with(':') && parse_ts(first).is_some() {
            (String::new(), rest)
        } else {
            (first.to_string(), after.trim_start())
        };
        let (ts, after) = ts_and_rest.split_once(": ")?;
        let timestamp = parse_ts(ts.trim())?;
        let (event, message) = match after.split_once(": ") {
            Some((e, m)) if !e.contains(' ') => (e.to_string(), m.to_string()),
            _ => (String::new(), after.to_string()),
        };
        Some(TraceLine {
            task,
            pid,
            tgid,
            cpu,
            flags,
            timestamp,
            event,
            message,
        })
    }

    /// Whether the line was written by `bpf_trace_printk`/`bpf_printk`.
    pub fn is_bpf_printk(&self) -> bool {
        self.event == "bpf_trace_printk"
    }
}

/// Splits `line` at its CPU column: (text before, (cpu, text after)).
fn split_cpu(line: &str) -> Option<(&str, (u32, &str))> {
    let mut search = line.len();
    loop {
        let open = line[..search].rfind(" [")?;
        let close = line[open..].find(']').map(|c| open + c)?;
        let inner = &line[open + 2..close];
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
            // The timestamp must follow: "] FLAGS TS:" — checked by the caller's parse.
            return Some((&line[..open], (inner.parse().ok()?, &line[close + 1..])));
        }
        search = open;
    }
}

/// `SECS.MICROS` (or a raw counter for the `counter`/`x86-tsc` clocks) as a duration.
fn parse_ts(s: &str) -> Option<Duration> {
    let s = s.trim_end_matches(':');
    match s.split_once('.') {
        Some((sec, frac)) => {
            let secs: u64 = sec.parse().ok()?;
            if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let nanos: u32 = frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32);
            Some(Duration::new(secs, nanos))
        }
        None => s.parse::<u64>().ok().map(Duration::from_nanos),
    }
}

/// The lines of a trace file, parsed; lines of other shapes are skipped.
///
/// [`TracePipe::open`] reads `trace_pipe`, which blocks for new lines and *consumes* them
/// (every reader of the system shares one pipe); [`TracePipe::snapshot`] reads `trace`, the
/// buffer as it is now, without consuming it.
#[derive(Debug)]
pub struct TracePipe {
    lines: std::io::Lines<BufReader<std::fs::File>>,
}

/// The tracefs mount: `/sys/kernel/tracing`, or the old `/sys/kernel/debug/tracing`.
fn tracefs() -> Result<PathBuf> {
    for p in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        if Path::new(p).join("trace").exists() {
            return Ok(PathBuf::from(p));
        }
    }
    Err(Error::Unsupported {
        feature: "tracefs",
        hint: "tracefs is not mounted: mount -t tracefs tracefs /sys/kernel/tracing".to_string(),
    })
}

impl TracePipe {
    /// Opens `trace_pipe`: iteration blocks until the kernel writes a line, and each line is
    /// read by one reader only.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without tracefs; [`Error::Io`] if it cannot be opened.
    pub fn open() -> Result<TracePipe> {
        TracePipe::from_path(&tracefs()?.join("trace_pipe"))
    }

    /// Opens `trace`: the buffer's current lines, then the end (nothing is consumed).
    ///
    /// # Errors
    /// As [`TracePipe::open`].
    pub fn snapshot() -> Result<TracePipe> {
        TracePipe::from_path(&tracefs()?.join("trace"))
    }

    /// Reads trace lines from any file (a saved trace, a pipe).
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be opened.
    pub fn from_path(path: &Path) -> Result<TracePipe> {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        Ok(TracePipe {
            lines: BufReader::new(f).lines(),
        })
    }
}

impl Iterator for TracePipe {
    type Item = Result<TraceLine>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.lines.next()? {
                Ok(l) => {
                    if let Some(t) = TraceLine::parse(&l) {
                        return Some(Ok(t));
                    }
                }
                Err(e) => return Some(Err(Error::io("trace", e))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_printk_lines() {
        let l = TraceLine::parse(
            " xdp_hello_count-16408   [001] b..11  1324.712037: bpf_trace_printk: Hello World 0",
        )
        .expect("line");
        assert_eq!(l.task, "xdp_hello_count");
        assert_eq!(l.pid, 16408);
        assert_eq!(l.tgid, None);
        assert_eq!(l.cpu, 1);
        assert_eq!(l.flags, "b..11");
        assert_eq!(l.timestamp, Duration::new(1324, 712_037_000));
        assert!(l.is_bpf_printk());
        assert_eq!(l.message, "Hello World 0");

        // Dashes, spaces and brackets in the task name; a tgid column; a colon in the message.
        let l = TraceLine::parse(
            "  my-task [x] 2-77      (     70) [000] d..2.   9.000001: bpf_trace_printk: a: b",
        )
        .expect("line");
        assert_eq!(l.task, "my-task [x] 2");
        assert_eq!((l.pid, l.tgid, l.cpu), (77, Some(70), 0));
        assert_eq!(l.message, "a: b");
        let l =
            TraceLine::parse("           <...>-5 (-------) [003] .... 1.5: bpf_trace_printk: x")
                .expect("line");
        assert_eq!(
            (l.task.as_str(), l.pid, l.tgid, l.cpu),
            ("<...>", 5, None, 3)
        );
        assert_eq!(l.timestamp, Duration::from_millis(1500));
        // No flags column.
        let l = TraceLine::parse("  sh-9 [000]  12.000100: bpf_trace_printk: m").expect("line");
        assert_eq!((l.flags.as_str(), l.message.as_str()), ("", "m"));

        for bad in [
            "# tracer: nop",
            "",
            "   ",
            "garbage",
            "task-notapid [000] .... 1.0: e: m",
            "task-1 [000] .... notatime: e: m",
        ] {
            assert_eq!(TraceLine::parse(bad), None, "{bad:?}");
        }
    }
}
