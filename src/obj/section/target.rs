//! Parsing the attach target out of the part of a section name after its kind.

use super::{Attach, Target};

/// Parses the target of `name`, which matched the table entry `pat` (`kind+` or exact).
pub(super) fn parse<'a>(target: Target, pat: &str, name: &'a str) -> Attach<'a> {
    let base = pat.strip_suffix('+').unwrap_or(pat);
    if target == Target::None {
        return Attach::Manual;
    }
    // `matches` guaranteed `name` is `base` or `base/…`.
    let spec = match name.get(base.len()..).and_then(|r| r.strip_prefix('/')) {
        Some(spec) => spec,
        None => return Attach::Manual,
    };
    let retprobe = base.starts_with("kret") || base.starts_with("uret");
    let session = base.contains(".session");
    match target {
        Target::None => Attach::Manual,
        Target::Kprobe => kprobe(spec, retprobe),
        Target::Ksyscall if spec.is_empty() => Attach::Invalid("missing syscall name"),
        Target::Ksyscall => Attach::Ksyscall {
            name: spec,
            retprobe,
        },
        Target::KprobeMulti => {
            let ok = |c: char| c.is_ascii_alphanumeric() || "_.*?".contains(c);
            if spec.is_empty() || !spec.chars().all(ok) {
                Attach::Invalid("kprobe multi pattern is invalid: expected [a-zA-Z0-9_.*?]+")
            } else {
                Attach::KprobeMulti {
                    pattern: spec,
                    retprobe,
                    session,
                }
            }
        }
        Target::Uprobe => uprobe(spec, retprobe),
        Target::UprobeMulti => match spec.split_once(':') {
            Some((binary, pattern)) if !binary.is_empty() && !pattern.is_empty() => {
                Attach::UprobeMulti {
                    binary,
                    pattern,
                    retprobe,
                    session,
                }
            }
            _ => Attach::Invalid("expected SEC(\"uprobe.multi/<path>:<pattern>\")"),
        },
        Target::Usdt => {
            let mut parts = spec.split(':');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some(binary), Some(provider), Some(name), None)
                    if !binary.is_empty() && !provider.is_empty() && !name.is_empty() =>
                {
                    Attach::Usdt {
                        binary,
                        provider,
                        name,
                    }
                }
                _ => Attach::Invalid("expected SEC(\"usdt/<path>:<provider>:<name>\")"),
            }
        }
        Target::Tracepoint => match spec.split_once('/') {
            Some((category, name)) if !category.is_empty() && !name.is_empty() => {
                Attach::Tracepoint { category, name }
            }
            _ => Attach::Invalid("expected SEC(\"tracepoint/<category>/<name>\")"),
        },
        Target::RawTp if spec.is_empty() => Attach::Invalid("missing raw tracepoint name"),
        Target::RawTp => Attach::RawTracepoint { name: spec },
        Target::Btf => match spec.split_once(':') {
            _ if spec.is_empty() => Attach::Invalid("missing BTF attach target name"),
            Some((module, name)) if !module.is_empty() && !name.is_empty() => Attach::Btf {
                module: Some(module),
                name,
            },
            Some(_) => Attach::Invalid("expected <module>:<name> as BTF attach target"),
            None => Attach::Btf {
                module: None,
                name: spec,
            },
        },
        Target::StructOps if spec.is_empty() => Attach::Invalid("missing struct_ops member name"),
        Target::StructOps => Attach::StructOps { name: spec },
    }
}

/// `FUNC[+OFF]`, FUNC made of `[a-zA-Z0-9_.]`.
fn kprobe(spec: &str, retprobe: bool) -> Attach<'_> {
    let (func, offset) = match spec.split_once('+') {
        Some((func, off)) => match parse_c_int(off) {
            Some(off) => (func, off),
            None => return Attach::Invalid("kprobe offset is not a number"),
        },
        None => (spec, 0),
    };
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    if func.is_empty() || !func.chars().all(ok) {
        return Attach::Invalid("kprobe function name is invalid: expected [a-zA-Z0-9_.]+");
    }
    if retprobe && offset != 0 {
        return Attach::Invalid("kretprobes do not support offset specification");
    }
    Attach::Kprobe {
        func,
        offset,
        retprobe,
    }
}

/// `PATH:FUNC[+OFF]` or `PATH:OFF`.
fn uprobe(spec: &str, retprobe: bool) -> Attach<'_> {
    let Some((binary, fspec)) = spec.split_once(':') else {
        return Attach::Invalid("missing ':function[+offset]' after the binary path");
    };
    if binary.is_empty() || fspec.is_empty() {
        return Attach::Invalid("expected SEC(\"uprobe/<path>:<function>[+<offset>]\")");
    }
    if let Some(offset) = parse_c_int(fspec) {
        return Attach::Uprobe {
            binary,
            func: None,
            offset,
            retprobe,
        };
    }
    let (func, offset) = match fspec.rsplit_once('+') {
        Some((func, off)) => match parse_c_int(off) {
            Some(off) => (func, off),
            None => return Attach::Invalid("uprobe offset is not a number"),
        },
        None => (fspec, 0),
    };
    if func.is_empty() {
        return Attach::Invalid("missing uprobe function name");
    }
    if retprobe && offset != 0 {
        return Attach::Invalid("uretprobes do not support offset specification");
    }
    Attach::Uprobe {
        binary,
        func: Some(func),
        offset,
        retprobe,
    }
}

/// An unsigned integer as C's `strtoul(s, _, 0)` reads a whole string: `0x` hex, leading-`0`
/// octal, else decimal.
pub(super) fn parse_c_int(s: &str) -> Option<u64> {
    let (digits, radix) = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (hex, 16)
    } else if let Some(oct) = s.strip_prefix('0').filter(|o| !o.is_empty()) {
        (oct, 8)
    } else {
        (s, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}
