//! A small gzip (RFC 1952) / DEFLATE (RFC 1951) decoder, enough to read `/proc/config.gz` for
//! `.kconfig` externs without another dependency. Malformed input is an error, never a panic.

use std::fmt;

/// What was wrong with compressed input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InflateError(&'static str);

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed gzip data: {}", self.0)
    }
}

impl std::error::Error for InflateError {}

type Result<T> = std::result::Result<T, InflateError>;

/// The most a decompressed stream may grow to (the kernel config is ~250 KiB).
const MAX_OUTPUT: usize = 64 << 20;

/// Decompresses a gzip member (header, DEFLATE data, CRC-32 and size trailer, both checked).
pub(crate) fn gunzip(data: &[u8]) -> Result<Vec<u8>> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if data.len() < 18 || data[0] != 0x1f || data[1] != 0x8b {
        return Err(InflateError("not a gzip stream"));
    }
    if data[2] != 8 {
        return Err(InflateError("compression method is not deflate"));
    }
    let flags = data[3];
    let mut pos = 10;
    if flags & FEXTRA != 0 {
        let xlen = u16::from_le_bytes([*at(data, pos)?, *at(data, pos + 1)?]) as usize;
        pos += 2 + xlen;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = data.get(pos..).ok_or(InflateError("truncated header"))?;
            let nul = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(InflateError("unterminated header string"))?;
            pos += nul + 1;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    let body = data.get(pos..).ok_or(InflateError("truncated header"))?;
    let (out, used) = inflate(body)?;
    let trailer = body
        .get(used..used + 8)
        .ok_or(InflateError("truncated trailer"))?;
    let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    if crc != crc32(&out) {
        return Err(InflateError("CRC-32 mismatch"));
    }
    if size != out.len() as u32 {
        return Err(InflateError("size mismatch"));
    }
    Ok(out)
}

fn at(data: &[u8], i: usize) -> Result<&u8> {
    data.get(i).ok_or(InflateError("truncated input"))
}

/// Decompresses raw DEFLATE data; returns the output and how many input bytes it used.
pub(crate) fn inflate(data: &[u8]) -> Result<(Vec<u8>, usize)> {
    let mut bits = Bits {
        data,
        pos: 0,
        bit: 0,
    };
    let mut out = Vec::with_capacity(data.len() * 4);
    loop {
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => stored(&mut bits, &mut out)?,
            1 => {
                let (lit, dist) = fixed_tables();
                codes(&mut bits, &mut out, &lit, &dist)?;
            }
            2 => {
                let (lit, dist) = dynamic_tables(&mut bits)?;
                codes(&mut bits, &mut out, &lit, &dist)?;
            }
            _ => return Err(InflateError("reserved block type")),
        }
        if last {
            let used = bits.pos + usize::from(bits.bit > 0);
            return Ok((out, used));
        }
    }
}

/// An LSB-first bit reader.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    bit: u32,
}

impl Bits<'_> {
    fn take(&mut self, n: u32) -> Result<u32> {
        let mut v = 0;
        for i in 0..n {
            let byte = *self
                .data
                .get(self.pos)
                .ok_or(InflateError("truncated deflate data"))?;
            v |= u32::from((byte >> self.bit) & 1) << i;
            self.bit += 1;
            if self.bit == 8 {
                self.bit = 0;
                self.pos += 1;
            }
        }
        Ok(v)
    }

    fn align(&mut self) {
        if self.bit > 0 {
            self.bit = 0;
            self.pos += 1;
        }
    }
}

fn stored(bits: &mut Bits<'_>, out: &mut Vec<u8>) -> Result<()> {
    bits.align();
    let hdr = bits
        .data
        .get(bits.pos..bits.pos + 4)
        .ok_or(InflateError("truncated stored block"))?;
    let len = u16::from_le_bytes([hdr[0], hdr[1]]);
    let nlen = u16::from_le_bytes([hdr[2], hdr[3]]);
    if len != !nlen {
        return Err(InflateError("stored block length check failed"));
    }
    let start = bits.pos + 4;
    let block = bits
        .data
        .get(start..start + len as usize)
        .ok_or(InflateError("truncated stored block"))?;
    push_all(out, block)?;
    bits.pos = start + len as usize;
    Ok(())
}

fn push_all(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    if out.len() + bytes.len() > MAX_OUTPUT {
        return Err(InflateError("output too large"));
    }
    out.extend_from_slice(bytes);
    Ok(())
}

/// A canonical Huffman decoding table: symbol counts per code length, symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Self> {
        let mut counts = [0u16; 16];
        for &l in lengths {
            counts[l as usize] += 1;
        }
        counts[0] = 0;
        // Over-subscribed code sets are malformed; incomplete ones are allowed (single-code
        // distance trees are legal).
        let mut left: i32 = 1;
        for &c in &counts[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return Err(InflateError("over-subscribed Huffman code"));
            }
        }
        let mut offs = [0u16; 16];
        for len in 1..15 {
            offs[len + 1] = offs[len] + counts[len];
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (sym, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbols[offs[l as usize] as usize] = sym as u16;
                offs[l as usize] += 1;
            }
        }
        Ok(Huffman { counts, symbols })
    }

    fn decode(&self, bits: &mut Bits<'_>) -> Result<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.take(1)? as i32;
            let count = i32::from(self.counts[len]);
            if code - count < first {
                return self
                    .symbols
                    .get((index + code - first) as usize)
                    .copied()
                    .ok_or(InflateError("bad Huffman code"));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(InflateError("bad Huffman code"))
    }
}

fn fixed_tables() -> (Huffman, Huffman) {
    let mut lit = [0u8; 288];
    for (i, l) in lit.iter_mut().enumerate() {
        *l = match i {
            0..=143 => 8,
            144..=255 => 9,
            256..=279 => 7,
            _ => 8,
        };
    }
    // Both fixed code sets are complete, so construction cannot fail.
    let lit = Huffman::new(&lit).unwrap_or(Huffman {
        counts: [0; 16],
        symbols: Vec::new(),
    });
    let dist = Huffman::new(&[5u8; 30]).unwrap_or(Huffman {
        counts: [0; 16],
        symbols: Vec::new(),
    });
    (lit, dist)
}

fn dynamic_tables(bits: &mut Bits<'_>) -> Result<(Huffman, Huffman)> {
    const ORDER: [usize; 19] = [
        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
    ];
    let nlen = bits.take(5)? as usize + 257;
    let ndist = bits.take(5)? as usize + 1;
    let ncode = bits.take(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err(InflateError("too many length or distance codes"));
    }
    let mut cl = [0u8; 19];
    for &o in &ORDER[..ncode] {
        cl[o] = bits.take(3)? as u8;
    }
    let clh = Huffman::new(&cl)?;
    let mut lengths = vec![0u8; nlen + ndist];
    let mut i = 0;
    while i < lengths.len() {
        let sym = clh.decode(bits)?;
        let (val, rep) = match sym {
            0..=15 => (sym as u8, 1),
            16 => {
                let prev = *lengths
                    .get(i.wrapping_sub(1))
                    .ok_or(InflateError("repeat with no previous length"))?;
                (prev, 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            _ => (0, 11 + bits.take(7)? as usize),
        };
        let end = i + rep;
        lengths
            .get_mut(i..end)
            .ok_or(InflateError("code lengths overflow"))?
            .fill(val);
        i = end;
    }
    if lengths[256] == 0 {
        return Err(InflateError("no end-of-block code"));
    }
    Ok((
        Huffman::new(&lengths[..nlen])?,
        Huffman::new(&lengths[nlen..])?,
    ))
}

fn codes(bits: &mut Bits<'_>, out: &mut Vec<u8>, lit: &Huffman, dist: &Huffman) -> Result<()> {
    const LBASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEXTRA: [u8; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DBASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DEXTRA: [u8; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];
    loop {
        let sym = lit.decode(bits)? as usize;
        if sym < 256 {
            push_all(out, &[sym as u8])?;
        } else if sym == 256 {
            return Ok(());
        } else {
            let li = sym - 257;
            let len = *LBASE.get(li).ok_or(InflateError("bad length symbol"))? as usize
                + bits.take(u32::from(LEXTRA[li]))? as usize;
            let di = dist.decode(bits)? as usize;
            let d = *DBASE.get(di).ok_or(InflateError("bad distance symbol"))? as usize
                + bits.take(u32::from(DEXTRA[di]))? as usize;
            if d > out.len() {
                return Err(InflateError("distance too far back"));
            }
            if out.len() + len > MAX_OUTPUT {
                return Err(InflateError("output too large"));
            }
            let start = out.len() - d;
            for k in 0..len {
                let b = out[start + k];
                out.push(b);
            }
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected), as gzip's trailer uses.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip_with(level: &str, data: &[u8]) -> Option<Vec<u8>> {
        use std::io::Write;
        let mut child = std::process::Command::new("gzip")
            .args(["-c", level, "-n"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(data).ok()?;
        Some(child.wait_with_output().ok()?.stdout)
    }

    #[test]
    fn crc_of_check_string() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    #[test]
    fn stored_block_by_hand() {
        // gzip header, one final stored block "hi", crc, size.
        let mut g = vec![
            0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 0, 0xfd, 0xff, b'h', b'i',
        ];
        g.extend_from_slice(&crc32(b"hi").to_le_bytes());
        g.extend_from_slice(&2u32.to_le_bytes());
        assert_eq!(gunzip(&g).unwrap(), b"hi");
    }

    #[test]
    fn round_trips_system_gzip() {
        let mut text = Vec::new();
        for i in 0..20000u32 {
            text.extend_from_slice(
                format!("CONFIG_OPTION_{}={}\n", i % 977, i * 7 % 13).as_bytes(),
            );
        }
        text.extend((0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
        for level in ["-1", "-6", "-9"] {
            let Some(gz) = gzip_with(level, &text) else {
                eprintln!("gzip not installed: skipping the round trip");
                return;
            };
            assert_eq!(gunzip(&gz).unwrap(), text, "level {level}");
        }
        let Some(empty) = gzip_with("-6", b"") else {
            return;
        };
        assert_eq!(gunzip(&empty).unwrap(), b"");
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(gunzip(b"").is_err());
        assert!(
            gunzip(&[
                0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0
            ])
            .is_err()
        );
        let gz = gzip_with("-6", b"hello hello hello hello").unwrap_or_default();
        if gz.is_empty() {
            return;
        }
        for cut in 0..gz.len() {
            assert!(gunzip(&gz[..cut]).is_err(), "truncated at {cut}");
        }
        // Flip every bit once: must never panic (most flips give an error).
        for i in 10..gz.len() {
            for b in 0..8 {
                let mut bad = gz.clone();
                bad[i] ^= 1 << b;
                let _ = gunzip(&bad);
            }
        }
    }

    #[test]
    fn reads_proc_config_gz_when_present() {
        let Ok(gz) = std::fs::read("/proc/config.gz") else {
            return;
        };
        let text = gunzip(&gz).unwrap();
        assert!(text.windows(18).any(|w| w == b"CONFIG_BPF_SYSCALL"));
    }
}
