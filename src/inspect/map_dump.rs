//! [`map_dump_json`] and [`map_dump_text`]: a map's entries as `bpftool -j map dump` and
//! `bpftool map dump` print them.

use std::sync::Arc;

use super::json;
use crate::btf::{Btf, BtfHandle, format_value_into};
use crate::error::{Error, Result};
use crate::map::{Map, MapType, possible_cpus};

/// One key of the walk: its bytes and the lookup's outcome.
struct Entry {
    key: Vec<u8>,
    /// The value buffer (per-CPU: every CPU's slot), or the errno text of a failed lookup.
    value: std::result::Result<Vec<u8>, String>,
    /// The value rendered by the map's BTF (`{"key":…,"value":…}`), compact JSON.
    formatted: Option<String>,
}

/// What the walk needs to know about the map.
struct Layout {
    per_cpu: bool,
    cpus: usize,
    vsize: usize,
    stride: usize,
    has_btf: bool,
}

fn walk(map: &Map) -> Result<(Layout, Vec<Entry>)> {
    let t = map.map_type();
    if map.key_size() == 0 || matches!(t, MapType::RINGBUF | MapType::USER_RINGBUF) {
        return Err(Error::InvalidArgument(format!(
            "map \"{}\" ({t:?}) has no keys to dump",
            map.name()
        )));
    }
    let info = map.info()?;
    let btf: Option<Arc<Btf<'static>>> = if info.btf_vmlinux_value_type_id != 0 {
        Some(Btf::from_kernel()?)
    } else if info.btf_id != 0 && info.btf_value_type_id != 0 {
        Some(Arc::new(BtfHandle::from_id(info.btf_id)?.to_btf()?))
    } else {
        None
    };
    let value_id = if info.btf_vmlinux_value_type_id != 0 {
        info.btf_vmlinux_value_type_id
    } else {
        info.btf_value_type_id
    };
    let per_cpu = t.is_per_cpu();
    let vsize = map.value_size() as usize;
    let layout = Layout {
        per_cpu,
        cpus: if per_cpu { possible_cpus()? } else { 1 },
        vsize,
        stride: vsize.div_ceil(8) * 8,
        has_btf: btf.is_some(),
    };
    let mut entries = Vec::new();
    let mut value = vec![0u8; map.value_buf_size()];
    for key in map.keys() {
        let key = key?;
        match map.lookup(&key, &mut value) {
            Ok(true) => {
                let formatted = match &btf {
                    Some(btf) => Some(formatted(
                        btf,
                        info.btf_key_type_id,
                        value_id,
                        &key,
                        &value,
                        &layout,
                    )?),
                    None => None,
                };
                entries.push(Entry {
                    key,
                    value: Ok(value.clone()),
                    formatted,
                });
            }
            // Deleted between the key walk and the lookup.
            Ok(false) => {}
            Err(err) => {
                let errno = err.errno();
                // An empty slot of a prog array or map-of-maps is not an entry.
                let empty_slot = errno == Some(crate::sys::Errno::ENOENT)
                    && matches!(
                        t,
                        MapType::PROG_ARRAY | MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS
                    );
                if !empty_slot {
                    let msg = errno.map_or_else(
                        || err.to_string(),
                        |e| {
                            let s = std::io::Error::from_raw_os_error(e.raw()).to_string();
                            s.split(" (os error").next().unwrap_or("").to_string()
                        },
                    );
                    entries.push(Entry {
                        key,
                        value: Err(msg),
                        formatted: None,
                    });
                }
            }
        }
    }
    Ok((layout, entries))
}

/// The entries of `map` as the JSON array `bpftool -j map dump` prints, one object per key
/// in the kernel's key order:
///
/// - `"key"` and `"value"`: the raw bytes as `["0x00",…]` strings (per-CPU maps: `"values"`,
///   `[{"cpu":N,"value":[…]},…]`) — a map-of-maps value is the inner map's id (bpftool 7.1,
///   the version this is tested against, prints no separate `inner_map_id` as later ones do);
/// - `"formatted"`, when the map has BTF: `{"key":…,"value":…}` rendered by the map's BTF
///   (as [`crate::btf::format_value`]), `"key"` only when the map has a key type (global data
///   maps have none) — e.g. `{"value":{".bss":[{"counter":3}]}}`;
/// - an entry whose lookup fails has `"value":{"error":"<strerror>"}` (an empty slot of a
///   prog array or map-of-maps is left out, as bpftool does).
///
/// The text is compact JSON (no spaces), as `bpftool -j` writes it.
///
/// # Errors
/// [`Error::InvalidArgument`] for maps bpftool cannot dump either (no keys: queues, stacks,
/// bloom filters, ring buffers, arenas); errors of the key walk and of reading the map's BTF.
pub fn map_dump_json(map: &Map) -> Result<String> {
    let (l, entries) = walk(map)?;
    let mut out = String::from("[");
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"key\":{}", json::hex_bytes(&e.key)));
        match &e.value {
            Err(msg) => {
                out.push_str(&format!(",\"value\":{{\"error\":{}}}", json::string(msg)));
            }
            Ok(value) if l.per_cpu => {
                out.push_str(",\"values\":[");
                for cpu in 0..l.cpus {
                    if cpu > 0 {
                        out.push(',');
                    }
                    let v = &value[cpu * l.stride..cpu * l.stride + l.vsize];
                    out.push_str(&format!(
                        "{{\"cpu\":{cpu},\"value\":{}}}",
                        json::hex_bytes(v)
                    ));
                }
                out.push(']');
            }
            Ok(value) => out.push_str(&format!(",\"value\":{}", json::hex_bytes(value))),
        }
        if let Some(f) = &e.formatted {
            out.push_str(",\"formatted\":");
            out.push_str(f);
        }
        out.push('}');
    }
    out.push(']');
    Ok(out)
}

/// The entries of `map` as plain `bpftool map dump` prints them: with BTF, the formatted
/// entries (the `formatted` objects of [`map_dump_json`]) as one JSON array, pretty-printed
/// the way bpftool's JSON writer indents (4 spaces per level, scalars of an array on one
/// line); without, `key: .. value: ..` hex lines (`value (CPU NN):` for per-CPU maps) and
/// `Found N elements`.
///
/// # Errors
/// As [`map_dump_json`].
pub fn map_dump_text(map: &Map) -> Result<String> {
    let (l, entries) = walk(map)?;
    if l.has_btf {
        let mut compact = String::from("[");
        let mut first = true;
        for f in entries.iter().filter_map(|e| e.formatted.as_deref()) {
            if !first {
                compact.push(',');
            }
            first = false;
            compact.push_str(f);
        }
        compact.push(']');
        let mut out = jsonw_pretty(&compact);
        out.push('\n');
        return Ok(out);
    }
    let mut out = String::new();
    let mut n = 0;
    for e in &entries {
        let Ok(value) = &e.value else {
            out.push_str("key:\n");
            out.push_str(&hex_plain(&e.key));
            out.push_str(&format!(
                "\n\nvalue:\n{}\n",
                e.value.as_ref().err().map_or("", |m| m)
            ));
            continue;
        };
        n += 1;
        if l.per_cpu {
            out.push_str("key:\n");
            out.push_str(&hex_plain(&e.key));
            out.push('\n');
            for cpu in 0..l.cpus {
                let v = &value[cpu * l.stride..cpu * l.stride + l.vsize];
                let brk = if l.vsize > 16 { '\n' } else { ' ' };
                out.push_str(&format!("value (CPU {cpu:02}):{brk}{}\n", hex_plain(v)));
            }
        } else {
            let break_names = e.key.len() > 16 || value.len() > 16;
            let single_line = e.key.len() + value.len() <= 24 && !break_names;
            let brk = if break_names { '\n' } else { ' ' };
            out.push_str(&format!("key:{brk}{}", hex_plain(&e.key)));
            out.push_str(if single_line { "  " } else { "\n" });
            out.push_str(&format!("value:{brk}{}\n", hex_plain(value)));
        }
    }
    out.push_str(&format!(
        "Found {n} element{}\n",
        if n == 1 { "" } else { "s" }
    ));
    Ok(out)
}

/// Bytes as bpftool's `fprint_hex` with a space separator: `00 01 … 07  08 …`, a line break
/// every 16 bytes.
fn hex_plain(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            if i % 16 == 0 {
                out.push('\n');
            } else if i % 8 == 0 {
                out.push_str("  ");
            } else {
                out.push(' ');
            }
        }
        out.push_str(&format!("{x:02x}"));
    }
    out
}

/// Re-indents compact JSON (as this module writes it) the way bpftool's `json_writer` does in
/// pretty mode: an object's members each on a new line indented 4 spaces per level, `"name":
/// value`; array elements follow each other on the line (`[1,2,3` and objects as `},{`); a
/// closing bracket goes on its own line when its container is not empty.
fn jsonw_pretty(compact: &str) -> String {
    #[derive(PartialEq)]
    enum In {
        Object,
        Array,
    }
    let mut out = String::with_capacity(compact.len() * 2);
    let mut stack: Vec<In> = Vec::new();
    let mut sep = false; // something was written at this level: the next item needs a comma
    let mut expect_key = false;
    let eol = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("    ");
        }
    };
    let b = compact.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'{' | b'[' => {
                if sep {
                    out.push(',');
                }
                out.push(c as char);
                stack.push(if c == b'{' { In::Object } else { In::Array });
                sep = false;
                expect_key = c == b'{';
                i += 1;
            }
            b'}' | b']' => {
                stack.pop();
                if sep {
                    eol(&mut out, stack.len());
                }
                out.push(c as char);
                sep = true;
                expect_key = false;
                i += 1;
            }
            b',' => {
                expect_key = stack.last() == Some(&In::Object);
                i += 1;
            }
            b':' => i += 1,
            _ => {
                // A string or a scalar: up to the next structural character outside a string.
                let start = i;
                if c == b'"' {
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i += 1;
                } else {
                    while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b':') {
                        i += 1;
                    }
                }
                let tok = &compact[start..i.min(b.len())];
                if expect_key {
                    if sep {
                        out.push(',');
                    }
                    eol(&mut out, stack.len());
                    out.push_str(tok);
                    out.push_str(": ");
                    sep = false;
                    expect_key = false;
                } else {
                    if sep {
                        out.push(',');
                    }
                    out.push_str(tok);
                    sep = true;
                }
            }
        }
    }
    out
}

fn formatted(
    btf: &Btf<'_>,
    key_id: u32,
    value_id: u32,
    key: &[u8],
    value: &[u8],
    l: &Layout,
) -> Result<String> {
    let mut out = String::from("{");
    if key_id != 0 {
        out.push_str("\"key\":");
        format_value_into(btf, key_id, key, &mut out)?;
        out.push(',');
    }
    if l.per_cpu {
        out.push_str("\"values\":[");
        for cpu in 0..l.cpus {
            if cpu > 0 {
                out.push(',');
            }
            out.push_str(&format!("{{\"cpu\":{cpu},\"value\":"));
            format_value_into(
                btf,
                value_id,
                &value[cpu * l.stride..cpu * l.stride + l.vsize],
                &mut out,
            )?;
            out.push('}');
        }
        out.push(']');
    } else {
        out.push_str("\"value\":");
        format_value_into(btf, value_id, value, &mut out)?;
    }
    out.push('}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_like_bpftool() {
        let c = r#"[{"key":{"pid":7,"comm":"ba,sh"},"value":{"label":[2,101],"seen":true,"e":[]}},{"value":{".bss":[{"m":0},{"c":0}]}}]"#;
        assert_eq!(
            jsonw_pretty(c),
            "[{\n        \"key\": {\n            \"pid\": 7,\n            \"comm\": \"ba,sh\"\n        },\n        \"value\": {\n            \"label\": [2,101\n            ],\n            \"seen\": true,\n            \"e\": []\n        }\n    },{\n        \"value\": {\n            \".bss\": [{\n                    \"m\": 0\n                },{\n                    \"c\": 0\n                }\n            ]\n        }\n    }\n]"
        );
    }

    #[test]
    fn hex_like_fprint_hex() {
        let b: Vec<u8> = (0..18).collect();
        assert_eq!(
            hex_plain(&b),
            "00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f\n10 11"
        );
    }
}
