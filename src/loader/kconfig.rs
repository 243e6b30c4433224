//! `.kconfig` externs: the running kernel's configuration and version, encoded the way libbpf
//! fills `extern ... __kconfig` variables.
//!
//! Values come from `/proc/config.gz` or `/boot/config-$(uname -r)`. Special names that are not
//! in the config: `LINUX_KERNEL_VERSION` (`KERNEL_VERSION(a, b, c)` of `uname -r`, patch capped
//! at 255), `LINUX_HAS_BPF_COOKIE` and `LINUX_HAS_SYSCALL_WRAPPER` (answered by the loader).

use std::collections::HashMap;
use std::fmt;

use super::inflate::gunzip;

/// One `CONFIG_*` value as the config file spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigValue {
    /// `y`, `m` or `n` (a `# CONFIG_X is not set` line is `n`).
    Tristate(u8),
    /// A quoted string, unescaped.
    Str(String),
    /// Anything else: a decimal or hexadecimal number.
    Num(String),
}

/// How an extern variable is typed in the object, which decides how its value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KconfigType {
    /// `bool`: `y` is 1, `n` is 0; `m` is an error.
    Bool,
    /// `char`: the letter `y`, `m` or `n`.
    Char,
    /// `enum libbpf_tristate`: no = 0, yes = 1, module = 2 (4 bytes).
    Tristate,
    /// An integer of `size` bytes.
    Int {
        /// Size in bytes (1, 2, 4 or 8).
        size: u32,
        /// Whether the C type is signed.
        signed: bool,
    },
    /// A `char[len]` array receiving a string value (NUL-padded, truncated to fit).
    CharArray {
        /// Array length.
        len: u32,
    },
}

/// Why a value could not be given to an extern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KconfigError {
    /// The extern's name.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for KconfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kconfig extern {}: {}", self.name, self.reason)
    }
}

impl std::error::Error for KconfigError {}

/// The parsed kernel configuration.
#[derive(Debug, Clone, Default)]
pub(crate) struct KernelConfig {
    values: HashMap<String, ConfigValue>,
}

impl KernelConfig {
    /// Reads the running kernel's configuration; `None` when neither `/proc/config.gz` nor
    /// `/boot/config-$(uname -r)` can be read (then only weak `CONFIG_*` externs can resolve).
    pub(crate) fn from_running_kernel() -> Option<KernelConfig> {
        if let Some(text) = std::fs::read("/proc/config.gz")
            .ok()
            .and_then(|gz| gunzip(&gz).ok())
        {
            return Some(Self::parse(&String::from_utf8_lossy(&text)));
        }
        let release = nix::sys::utsname::uname()
            .ok()?
            .release()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(format!("/boot/config-{release}")).ok()?;
        Some(Self::parse(&text))
    }

    /// Parses config text (`CONFIG_X=y`, `CONFIG_S="str"`, `# CONFIG_Y is not set`).
    pub(crate) fn parse(text: &str) -> KernelConfig {
        let mut values = HashMap::new();
        for line in text.lines() {
            let line = line.trim();
            if let Some(rest) = line
                .strip_prefix("# ")
                .and_then(|r| r.strip_suffix(" is not set"))
            {
                if rest.starts_with("CONFIG_") {
                    values.insert(rest.to_string(), ConfigValue::Tristate(b'n'));
                }
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            if !name.starts_with("CONFIG_") {
                continue;
            }
            let v = match value {
                "y" | "m" | "n" => ConfigValue::Tristate(value.as_bytes()[0]),
                v if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') => {
                    ConfigValue::Str(unescape(&v[1..v.len() - 1]))
                }
                v => ConfigValue::Num(v.to_string()),
            };
            values.insert(name.to_string(), v);
        }
        KernelConfig { values }
    }

    /// The value of `CONFIG_*` `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&ConfigValue> {
        self.values.get(name)
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `KERNEL_VERSION(a, b, c)` of a release string such as `6.18.44-fc-v595`, the patch level
/// capped at 255 as the kernel's own macro does since 5.x.
pub fn kernel_version_code(release: &str) -> Option<u32> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let a: u32 = parts.next()?.parse().ok()?;
    let b: u32 = parts.next()?.parse().ok()?;
    let c: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    Some((a << 16) + (b.min(255) << 8) + c.min(255))
}

/// The running kernel's `KERNEL_VERSION` code from `uname -r`.
pub fn running_kernel_version() -> Option<u32> {
    let uts = nix::sys::utsname::uname().ok()?;
    kernel_version_code(&uts.release().to_string_lossy())
}

/// Encodes `value` for an extern `name` of type `ty` into `out` (the extern's bytes in the
/// `.kconfig` map, zeroed by the caller).
pub(crate) fn encode(
    name: &str,
    value: &ConfigValue,
    ty: KconfigType,
    out: &mut [u8],
) -> Result<(), KconfigError> {
    let err = |reason: String| KconfigError {
        name: name.to_string(),
        reason,
    };
    match (ty, value) {
        (KconfigType::Bool, ConfigValue::Tristate(t)) => match t {
            b'y' => put_int(out, 1, 1),
            b'n' => put_int(out, 0, 1),
            _ => Err(err(
                "value is 'm' but the extern is a bool; declare it as enum libbpf_tristate".into(),
            )),
        },
        (KconfigType::Char, ConfigValue::Tristate(t)) => put_int(out, u64::from(*t), 1),
        (KconfigType::Tristate, ConfigValue::Tristate(t)) => {
            let v = match t {
                b'y' => 1,
                b'm' => 2,
                _ => 0,
            };
            put_int(out, v, 4)
        }
        (KconfigType::CharArray { len }, ConfigValue::Str(s)) => {
            let len = len as usize;
            let dst = out
                .get_mut(..len)
                .ok_or_else(|| err("array does not fit its slot".into()))?;
            let n = s.len().min(len.saturating_sub(1));
            dst[..n].copy_from_slice(&s.as_bytes()[..n]);
            dst[n..].fill(0);
            Ok(())
        }
        (KconfigType::Int { size, signed }, ConfigValue::Num(text)) => {
            let v = parse_num(text).ok_or_else(|| err(format!("'{text}' is not a number")))?;
            if !fits(v, size, signed) {
                return Err(err(format!("value {text} does not fit in {size} bytes")));
            }
            put_int(out, v as u64, size as usize)
        }
        (ty, value) => Err(err(format!(
            "the config value {value:?} cannot be stored in an extern of type {ty:?}"
        ))),
    }
    .map_err(|e| if e.name.is_empty() { err(e.reason) } else { e })
}

fn parse_num(text: &str) -> Option<i128> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => t.parse::<i128>().ok()?,
    };
    Some(if neg { -v } else { v })
}

fn fits(v: i128, size: u32, signed: bool) -> bool {
    if !(1..=8).contains(&size) {
        return false;
    }
    let bits = size * 8;
    if signed {
        let max = (1i128 << (bits - 1)) - 1;
        v >= -max - 1 && v <= max
    } else {
        v >= 0 && v < (1i128 << bits)
    }
}

fn put_int(out: &mut [u8], v: u64, size: usize) -> Result<(), KconfigError> {
    let dst = out.get_mut(..size).ok_or_else(|| KconfigError {
        name: String::new(),
        reason: format!("slot smaller than {size} bytes"),
    })?;
    dst.copy_from_slice(&v.to_le_bytes()[..size]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "#\n# comment\nCONFIG_BPF=y\nCONFIG_MOD=m\n# CONFIG_KPROBES is not set\n\
        CONFIG_HZ=250\nCONFIG_BASE=0x10\nCONFIG_NEG=-3\nCONFIG_NAME=\"a\\\"b\"\n";

    #[test]
    fn parses_config_lines() {
        let c = KernelConfig::parse(SAMPLE);
        assert_eq!(c.get("CONFIG_BPF"), Some(&ConfigValue::Tristate(b'y')));
        assert_eq!(c.get("CONFIG_KPROBES"), Some(&ConfigValue::Tristate(b'n')));
        assert_eq!(c.get("CONFIG_HZ"), Some(&ConfigValue::Num("250".into())));
        assert_eq!(c.get("CONFIG_NAME"), Some(&ConfigValue::Str("a\"b".into())));
        assert_eq!(c.get("CONFIG_MISSING"), None);
    }

    #[test]
    fn encodes_like_libbpf() {
        let c = KernelConfig::parse(SAMPLE);
        let mut b = [0u8; 8];
        encode(
            "CONFIG_BPF",
            c.get("CONFIG_BPF").unwrap(),
            KconfigType::Bool,
            &mut b,
        )
        .unwrap();
        assert_eq!(b[0], 1);
        assert!(
            encode(
                "CONFIG_MOD",
                c.get("CONFIG_MOD").unwrap(),
                KconfigType::Bool,
                &mut b
            )
            .is_err()
        );
        let mut b = [0u8; 4];
        encode(
            "CONFIG_MOD",
            c.get("CONFIG_MOD").unwrap(),
            KconfigType::Tristate,
            &mut b,
        )
        .unwrap();
        assert_eq!(u32::from_le_bytes(b), 2);
        encode(
            "CONFIG_MOD",
            c.get("CONFIG_MOD").unwrap(),
            KconfigType::Char,
            &mut b,
        )
        .unwrap();
        assert_eq!(b[0], b'm');
        // An integer of an odd size (from the object's BTF) is an error, not a panic.
        let mut b = [0u8; 16];
        for (size, signed) in [(0, false), (0, true), (16, false), (16, true)] {
            let e = encode(
                "CONFIG_BASE",
                c.get("CONFIG_BASE").unwrap(),
                KconfigType::Int { size, signed },
                &mut b,
            );
            assert!(e.is_err(), "size {size}");
        }
        let mut b = [0u8; 8];
        encode(
            "CONFIG_BASE",
            c.get("CONFIG_BASE").unwrap(),
            KconfigType::Int {
                size: 8,
                signed: false,
            },
            &mut b,
        )
        .unwrap();
        assert_eq!(u64::from_le_bytes(b), 16);
        let mut b = [0u8; 4];
        encode(
            "CONFIG_NEG",
            c.get("CONFIG_NEG").unwrap(),
            KconfigType::Int {
                size: 4,
                signed: true,
            },
            &mut b,
        )
        .unwrap();
        assert_eq!(i32::from_le_bytes(b), -3);
        assert!(
            encode(
                "CONFIG_HZ",
                c.get("CONFIG_HZ").unwrap(),
                KconfigType::Int {
                    size: 1,
                    signed: true
                },
                &mut b
            )
            .is_err()
        );
        let mut s = [0xffu8; 4];
        encode(
            "CONFIG_NAME",
            c.get("CONFIG_NAME").unwrap(),
            KconfigType::CharArray { len: 4 },
            &mut s,
        )
        .unwrap();
        assert_eq!(&s, b"a\"b\0");
        assert!(
            encode(
                "CONFIG_HZ",
                c.get("CONFIG_HZ").unwrap(),
                KconfigType::Bool,
                &mut s
            )
            .is_err()
        );
    }

    #[test]
    fn version_codes() {
        assert_eq!(
            kernel_version_code("6.18.44-fc-v595"),
            Some((6 << 16) + (18 << 8) + 44)
        );
        assert_eq!(
            kernel_version_code("5.4.300"),
            Some((5 << 16) + (4 << 8) + 255)
        );
        assert_eq!(kernel_version_code("6.1"), Some((6 << 16) + (1 << 8)));
        assert_eq!(kernel_version_code("garbage"), None);
    }

    #[test]
    fn running_kernel_config_has_bpf() {
        let Some(c) = KernelConfig::from_running_kernel() else {
            return;
        };
        assert_eq!(
            c.get("CONFIG_BPF_SYSCALL"),
            Some(&ConfigValue::Tristate(b'y'))
        );
    }
}
