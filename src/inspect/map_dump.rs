//! [`map_dump_json`]: a map's entries as `bpftool -j map dump` prints them.

use super::json;
use crate::btf::{Btf, BtfHandle, format_value_into};
use crate::error::{Error, Result};
use crate::map::{Map, MapType, possible_cpus};

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
    let t = map.map_type();
    if map.key_size() == 0 || matches!(t, MapType::RINGBUF | MapType::USER_RINGBUF) {
        return Err(Error::InvalidArgument(format!(
            "map \"{}\" ({t:?}) has no keys to dump",
            map.name()
        )));
    }
    let info = map.info()?;
    let btf: Option<std::sync::Arc<Btf<'static>>> = if info.btf_vmlinux_value_type_id != 0 {
        Some(Btf::from_kernel()?)
    } else if info.btf_id != 0 && info.btf_value_type_id != 0 {
        Some(std::sync::Arc::new(
            BtfHandle::from_id(info.btf_id)?.to_btf()?,
        ))
    } else {
        None
    };
    let value_id = if info.btf_vmlinux_value_type_id != 0 {
        info.btf_vmlinux_value_type_id
    } else {
        info.btf_value_type_id
    };
    let per_cpu = t.is_per_cpu();
    let cpus = if per_cpu { possible_cpus()? } else { 1 };
    let vsize = map.value_size() as usize;
    let stride = vsize.div_ceil(8) * 8;
    let mut out = String::from("[");
    let mut first = true;
    let mut value = vec![0u8; map.value_buf_size()];
    for key in map.keys() {
        let key = key?;
        let entry = match map.lookup(&key, &mut value) {
            Ok(true) => {
                let mut e = format!("{{\"key\":{}", json::hex_bytes(&key));
                if per_cpu {
                    e.push_str(",\"values\":[");
                    for cpu in 0..cpus {
                        if cpu > 0 {
                            e.push(',');
                        }
                        let v = &value[cpu * stride..cpu * stride + vsize];
                        e.push_str(&format!(
                            "{{\"cpu\":{cpu},\"value\":{}}}",
                            json::hex_bytes(v)
                        ));
                    }
                    e.push(']');
                } else {
                    e.push_str(&format!(",\"value\":{}", json::hex_bytes(&value)));
                }
                if let Some(btf) = &btf {
                    e.push_str(",\"formatted\":");
                    formatted(
                        btf,
                        info.btf_key_type_id,
                        value_id,
                        &key,
                        &value,
                        per_cpu,
                        cpus,
                        stride,
                        vsize,
                        &mut e,
                    )?;
                }
                e.push('}');
                Some(e)
            }
            // Deleted between the key walk and the lookup.
            Ok(false) => None,
            Err(err) => {
                let errno = err.errno();
                let empty_slot = errno == Some(crate::sys::Errno::ENOENT)
                    && matches!(
                        t,
                        MapType::PROG_ARRAY | MapType::ARRAY_OF_MAPS | MapType::HASH_OF_MAPS
                    );
                (!empty_slot).then(|| {
                    let msg = errno.map_or_else(
                        || err.to_string(),
                        |e| {
                            std::io::Error::from_raw_os_error(e.raw())
                                .to_string()
                                .split(" (os error")
                                .next()
                                .unwrap_or("")
                                .to_string()
                        },
                    );
                    format!(
                        "{{\"key\":{},\"value\":{{\"error\":{}}}}}",
                        json::hex_bytes(&key),
                        json::string(&msg)
                    )
                })
            }
        };
        if let Some(e) = entry {
            if !first {
                out.push(',');
            }
            first = false;
            out.push_str(&e);
        }
    }
    out.push(']');
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn formatted(
    btf: &Btf<'_>,
    key_id: u32,
    value_id: u32,
    key: &[u8],
    value: &[u8],
    per_cpu: bool,
    cpus: usize,
    stride: usize,
    vsize: usize,
    out: &mut String,
) -> Result<()> {
    out.push('{');
    if key_id != 0 {
        out.push_str("\"key\":");
        format_value_into(btf, key_id, key, out)?;
        out.push(',');
    }
    if per_cpu {
        out.push_str("\"values\":[");
        for cpu in 0..cpus {
            if cpu > 0 {
                out.push(',');
            }
            out.push_str(&format!("{{\"cpu\":{cpu},\"value\":"));
            format_value_into(
                btf,
                value_id,
                &value[cpu * stride..cpu * stride + vsize],
                out,
            )?;
            out.push('}');
        }
        out.push(']');
    } else {
        out.push_str("\"value\":");
        format_value_into(btf, value_id, value, out)?;
    }
    out.push('}');
    Ok(())
}
