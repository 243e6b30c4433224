//! Possible CPUs: the number of per-CPU value slots the kernel uses.

use std::sync::OnceLock;

/// Parses a kernel CPU list such as `"0-1"`, `"0,2-5"` or `"0-3\n"` and returns the number of
/// CPUs it names, or `None` if it is malformed.
pub fn parse_cpu_list(s: &str) -> Option<usize> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut n = 0usize;
    for part in s.split(',') {
        let part = part.trim();
        match part.split_once('-') {
            Some((a, b)) => {
                let a: usize = a.parse().ok()?;
                let b: usize = b.parse().ok()?;
                if b < a {
                    return None;
                }
                n = n.checked_add(b - a + 1)?;
            }
            None => {
                let _: usize = part.parse().ok()?;
                n = n.checked_add(1)?;
            }
        }
    }
    Some(n)
}

/// The number of possible CPUs, read once from `/sys/devices/system/cpu/possible`.
///
/// This is what the kernel's `num_possible_cpus()` returns, which sizes per-CPU map values
/// (`round_up(value_size, 8) * possible_cpus()` bytes in user space).
pub fn possible_cpus() -> std::io::Result<usize> {
    static CACHE: OnceLock<Result<usize, i32>> = OnceLock::new();
    let r = CACHE.get_or_init(|| {
        let s = std::fs::read_to_string("/sys/devices/system/cpu/possible")
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        parse_cpu_list(&s).ok_or(libc::EINVAL)
    });
    r.map_err(std::io::Error::from_raw_os_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0"), Some(1));
        assert_eq!(parse_cpu_list("0,2-5"), Some(5));
        assert_eq!(parse_cpu_list("0-3,8-11"), Some(8));
        assert_eq!(parse_cpu_list(""), None);
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list("a-b"), None);
        assert_eq!(parse_cpu_list("0,,1"), None);
    }

    #[test]
    fn this_machine() {
        assert!(possible_cpus().unwrap() >= 1);
    }
}
