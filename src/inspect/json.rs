//! Small JSON writing helpers (the crate has no JSON dependency).

use std::fmt::Write;

/// `s` as a JSON string literal.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Bytes as bpftool's `print_hex_data_json`: `["0x01","0xab",…]`.
pub(crate) fn hex_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 7 + 2);
    out.push('[');
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"0x{x:02x}\"");
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::string("a\"b\\c\n\u{1}"), r#""a\"b\\c\n\u0001""#);
        assert_eq!(super::hex_bytes(&[0, 0xab]), r#"["0x00","0xab"]"#);
        assert_eq!(super::hex_bytes(&[]), "[]");
    }
}
