//! `.BTF.ext`: per-section func_info, line_info and CO-RE relocation records.
//!
//! Zero-copy over the section bytes. Each record kind has the size its header declares, which
//! may be larger than the fields known here (forward compatible: extra bytes are skipped and
//! available through [`ExtSection::raw_records`]).

use super::parse::{HeaderNames, check_preamble, rd32};
use super::{Btf, BtfError, TypeId};
use std::marker::PhantomData;

/// A record type of `.BTF.ext`.
pub trait ExtRecord: Sized + 'static {
    /// The smallest record size the format allows.
    const MIN_SIZE: usize;
    /// What the record is, for error messages.
    const WHAT: &'static str;
    /// Decodes the known prefix of one record (`rec.len() >= MIN_SIZE`).
    fn decode(rec: &[u8]) -> Self;
}

/// `struct bpf_func_info`: the FUNC type of the subprogram starting at `insn_off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FuncInfo {
    /// Offset of the function's first instruction, in bytes from the section start (as the
    /// compiler emits it; the kernel wants instruction indexes: divide by 8).
    pub insn_off: u32,
    /// The FUNC type.
    pub type_id: TypeId,
}

impl ExtRecord for FuncInfo {
    const MIN_SIZE: usize = 8;
    const WHAT: &'static str = "func_info";
    fn decode(r: &[u8]) -> Self {
        FuncInfo {
            insn_off: rd32(r, 0),
            type_id: rd32(r, 4),
        }
    }
}

/// `struct bpf_line_info`: source position of the instruction at `insn_off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineInfo {
    /// Instruction offset in bytes from the section start.
    pub insn_off: u32,
    /// String offset of the file name.
    pub file_name_off: u32,
    /// String offset of the source line.
    pub line_off: u32,
    /// Line number << 10 | column.
    pub line_col: u32,
}

impl LineInfo {
    /// The line number.
    pub fn line(&self) -> u32 {
        self.line_col >> 10
    }
    /// The column.
    pub fn column(&self) -> u32 {
        self.line_col & 0x3ff
    }
}

impl ExtRecord for LineInfo {
    const MIN_SIZE: usize = 16;
    const WHAT: &'static str = "line_info";
    fn decode(r: &[u8]) -> Self {
        LineInfo {
            insn_off: rd32(r, 0),
            file_name_off: rd32(r, 4),
            line_off: rd32(r, 8),
            line_col: rd32(r, 12),
        }
    }
}

/// What a CO-RE relocation asks for (`enum bpf_core_relo_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreReloKind {
    /// `BPF_CORE_FIELD_BYTE_OFFSET`
    FieldByteOffset,
    /// `BPF_CORE_FIELD_BYTE_SIZE`
    FieldByteSize,
    /// `BPF_CORE_FIELD_EXISTS`
    FieldExists,
    /// `BPF_CORE_FIELD_SIGNED`
    FieldSigned,
    /// `BPF_CORE_FIELD_LSHIFT_U64`
    FieldLshiftU64,
    /// `BPF_CORE_FIELD_RSHIFT_U64`
    FieldRshiftU64,
    /// `BPF_CORE_TYPE_ID_LOCAL`
    TypeIdLocal,
    /// `BPF_CORE_TYPE_ID_TARGET`
    TypeIdTarget,
    /// `BPF_CORE_TYPE_EXISTS`
    TypeExists,
    /// `BPF_CORE_TYPE_SIZE`
    TypeSize,
    /// `BPF_CORE_ENUMVAL_EXISTS`
    EnumvalExists,
    /// `BPF_CORE_ENUMVAL_VALUE`
    EnumvalValue,
    /// `BPF_CORE_TYPE_MATCHES`
    TypeMatches,
    /// A kind this version does not know.
    Unknown(u32),
}

impl CoreReloKind {
    /// From the raw `bpf_core_relo_kind` value.
    pub fn from_raw(v: u32) -> Self {
        use CoreReloKind::*;
        match v {
            0 => FieldByteOffset,
            1 => FieldByteSize,
            2 => FieldExists,
            3 => FieldSigned,
            4 => FieldLshiftU64,
            5 => FieldRshiftU64,
            6 => TypeIdLocal,
            7 => TypeIdTarget,
            8 => TypeExists,
            9 => TypeSize,
            10 => EnumvalExists,
            11 => EnumvalValue,
            12 => TypeMatches,
            n => Unknown(n),
        }
    }
}

/// `struct bpf_core_relo` as stored in `.BTF.ext`: one CO-RE relocation, placed by the byte
/// offset of its instruction in its ELF section. [`CoreReloRecord::at`] gives the
/// [`CoreRelo`] the CO-RE engine takes, once the instruction is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreReloRecord {
    /// Offset of the instruction to patch, in bytes from the section start.
    pub insn_off: u32,
    /// The local (object BTF) root type.
    pub type_id: TypeId,
    /// String offset of the access spec (`"0:1:2"`).
    pub access_str_off: u32,
    /// What is relocated.
    pub kind: CoreReloKind,
}

impl CoreReloRecord {
    /// The relocation of instruction `insn` (an index into the instructions the caller
    /// relocates: `obj` gives the index in the record's function).
    pub fn at(self, insn: u32) -> CoreRelo {
        CoreRelo {
            insn,
            type_id: self.type_id,
            access_str_off: self.access_str_off,
            kind: self.kind,
        }
    }
}

/// One CO-RE relocation of a program, as the CO-RE engine
/// ([`Relocator`](super::core::Relocator)) takes it: a [`CoreReloRecord`] whose instruction is
/// an index into the program's instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreRelo {
    /// Instruction index.
    pub insn: u32,
    /// Root type id (the object's BTF).
    pub type_id: TypeId,
    /// Offset of the access string (`"0:1:2"`) in the BTF string table.
    pub access_str_off: u32,
    /// What is relocated (`enum bpf_core_relo_kind`).
    pub kind: CoreReloKind,
}

impl ExtRecord for CoreReloRecord {
    const MIN_SIZE: usize = 16;
    const WHAT: &'static str = "core_relo";
    fn decode(r: &[u8]) -> Self {
        CoreReloRecord {
            insn_off: rd32(r, 0),
            type_id: rd32(r, 4),
            access_str_off: rd32(r, 8),
            kind: CoreReloKind::from_raw(rd32(r, 12)),
        }
    }
}

/// One subsection of `.BTF.ext` info: the records of one ELF section.
#[derive(Debug, Clone, Copy)]
pub struct ExtSection<'a, R> {
    sec_name_off: u32,
    rec_size: usize,
    num: usize,
    data: &'a [u8],
    _r: PhantomData<R>,
}

impl<'a, R: ExtRecord> ExtSection<'a, R> {
    /// String offset (in the `.BTF` strings) of the ELF section name.
    pub fn sec_name_off(&self) -> u32 {
        self.sec_name_off
    }
    /// The ELF section name, from the object's BTF.
    ///
    /// # Errors
    /// [`BtfError::StringOutOfRange`], [`BtfError::BadString`].
    pub fn sec_name<'b>(&self, btf: &'b Btf<'_>) -> Result<&'b str, BtfError> {
        btf.string(self.sec_name_off)
    }
    /// The size of one record, as the header declares it.
    pub fn record_size(&self) -> usize {
        self.rec_size
    }
    /// Number of records.
    pub fn len(&self) -> usize {
        self.num
    }
    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.num == 0
    }
    /// The records, decoded.
    pub fn records(&self) -> impl ExactSizeIterator<Item = R> + use<'a, R> {
        self.data.chunks_exact(self.rec_size.max(1)).map(R::decode)
    }
    /// The records' raw bytes (`len() * record_size()`), e.g. to hand to the kernel.
    pub fn raw_records(&self) -> &'a [u8] {
        self.data
    }
}

/// Iterator over the subsections of one `.BTF.ext` info kind.
#[derive(Debug, Clone)]
pub struct ExtSections<'a, R> {
    data: &'a [u8],
    rec_size: usize,
    _r: PhantomData<R>,
}

impl<'a, R: ExtRecord> Iterator for ExtSections<'a, R> {
    type Item = ExtSection<'a, R>;
    fn next(&mut self) -> Option<ExtSection<'a, R>> {
        if self.data.len() < 8 {
            return None;
        }
        let num = rd32(self.data, 4) as usize;
        let len = num * self.rec_size; // validated in parse
        let s = ExtSection {
            sec_name_off: rd32(self.data, 0),
            rec_size: self.rec_size,
            num,
            data: self.data.get(8..8 + len)?,
            _r: PhantomData,
        };
        self.data = self.data.get(8 + len..).unwrap_or(&[]);
        Some(s)
    }
}

/// Parsed `.BTF.ext`.
#[derive(Debug, Clone)]
pub struct BtfExt<'a> {
    func_info: (&'a [u8], usize),
    line_info: (&'a [u8], usize),
    core_relo: (&'a [u8], usize),
}

impl<'a> BtfExt<'a> {
    /// Parses `.BTF.ext` bytes, checking every subsection's bounds.
    ///
    /// # Errors
    /// [`BtfError`] naming the offset: truncated header or subsection, bad magic, record size
    /// smaller than the format's or not a multiple of 4.
    pub fn parse(d: &'a [u8]) -> Result<BtfExt<'a>, BtfError> {
        let hdr_len = check_preamble(
            d,
            24,
            &HeaderNames {
                header: "BTF.ext header",
                hdr_len: "BTF.ext header (hdr_len)",
                version: "unsupported BTF.ext version (expected 1)",
                short: "BTF.ext hdr_len shorter than 24",
            },
        )?;
        let func_info = info::<FuncInfo>(d, hdr_len, 8)?;
        let line_info = info::<LineInfo>(d, hdr_len, 16)?;
        let core_relo = if hdr_len >= 32 {
            info::<CoreReloRecord>(d, hdr_len, 24)?
        } else {
            (&d[0..0], 0)
        };
        Ok(BtfExt {
            func_info,
            line_info,
            core_relo,
        })
    }

    fn sections<R: ExtRecord>(s: (&'a [u8], usize)) -> ExtSections<'a, R> {
        ExtSections {
            data: s.0,
            rec_size: s.1,
            _r: PhantomData,
        }
    }

    /// func_info, per ELF section.
    pub fn func_info(&self) -> ExtSections<'a, FuncInfo> {
        Self::sections(self.func_info)
    }
    /// line_info, per ELF section.
    pub fn line_info(&self) -> ExtSections<'a, LineInfo> {
        Self::sections(self.line_info)
    }
    /// CO-RE relocations, per ELF section.
    pub fn core_relos(&self) -> ExtSections<'a, CoreReloRecord> {
        Self::sections(self.core_relo)
    }
}

/// Validates one info kind whose (off, len) pair is at header offset `field`; returns the
/// subsections' bytes (after the record size word) and the record size.
fn info<R: ExtRecord>(d: &[u8], hdr_len: usize, field: usize) -> Result<(&[u8], usize), BtfError> {
    let (off, len) = (rd32(d, field) as usize, rd32(d, field + 4) as usize);
    if len == 0 {
        return Ok((&d[0..0], R::MIN_SIZE));
    }
    let start = hdr_len.saturating_add(off);
    let Some(sec) = start.checked_add(len).and_then(|end| d.get(start..end)) else {
        return Err(BtfError::Truncated {
            offset: start,
            what: R::WHAT,
            need: len,
            have: d.len().saturating_sub(start),
        });
    };
    if len < 4 {
        return Err(BtfError::Truncated {
            offset: start,
            what: R::WHAT,
            need: 4,
            have: len,
        });
    }
    let rec_size = rd32(sec, 0) as usize;
    if rec_size < R::MIN_SIZE || rec_size % 4 != 0 {
        return Err(BtfError::BadHeader {
            offset: start,
            what: "record size too small or not a multiple of 4",
        });
    }
    let body = &sec[4..];
    let mut at = 0;
    while at < body.len() {
        let here = start + 4 + at;
        if body.len() - at < 8 {
            return Err(BtfError::Truncated {
                offset: here,
                what: "btf_ext_info_sec",
                need: 8,
                have: body.len() - at,
            });
        }
        let num = rd32(body, at + 4) as usize;
        if num == 0 {
            return Err(BtfError::BadHeader {
                offset: here + 4,
                what: "BTF.ext subsection has no records",
            });
        }
        let need = num.saturating_mul(rec_size);
        if body.len() - at - 8 < need {
            return Err(BtfError::Truncated {
                offset: here + 8,
                what: R::WHAT,
                need,
                have: body.len() - at - 8,
            });
        }
        at += 8 + need;
    }
    Ok((body, rec_size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::parse::MAGIC;

    fn w(v: &mut Vec<u8>, ws: &[u32]) {
        for x in ws {
            v.extend_from_slice(&x.to_ne_bytes());
        }
    }

    /// A .BTF.ext with func_info (record size 12: one unknown trailing field), line_info and
    /// core_relo.
    fn sample() -> Vec<u8> {
        let mut fi = Vec::new();
        w(&mut fi, &[12, 5, 2, 0, 7, 99, 16, 8, 99]);
        let mut li = Vec::new();
        w(&mut li, &[16, 5, 1, 0, 1, 2, (42 << 10) | 3]);
        let mut cr = Vec::new();
        w(&mut cr, &[16, 5, 1, 8, 3, 9, 0]);
        let mut v = Vec::new();
        v.extend_from_slice(&MAGIC.to_ne_bytes());
        v.extend_from_slice(&[1, 0]);
        let (a, b, c) = (fi.len() as u32, li.len() as u32, cr.len() as u32);
        w(&mut v, &[32, 0, a, a, b, a + b, c]);
        v.extend(fi);
        v.extend(li);
        v.extend(cr);
        v
    }

    #[test]
    fn parse_all_three() {
        let bytes = sample();
        let ext = BtfExt::parse(&bytes).unwrap();
        let fi: Vec<_> = ext.func_info().collect();
        assert_eq!(fi.len(), 1);
        assert_eq!(fi[0].sec_name_off(), 5);
        assert_eq!(fi[0].record_size(), 12);
        let recs: Vec<_> = fi[0].records().collect();
        assert_eq!(
            recs,
            [
                FuncInfo {
                    insn_off: 0,
                    type_id: 7
                },
                FuncInfo {
                    insn_off: 16,
                    type_id: 8
                }
            ]
        );
        let li = ext.line_info().next().unwrap().records().next().unwrap();
        assert_eq!((li.line(), li.column()), (42, 3));
        let cr = ext.core_relos().next().unwrap().records().next().unwrap();
        assert_eq!(
            cr,
            CoreReloRecord {
                insn_off: 8,
                type_id: 3,
                access_str_off: 9,
                kind: CoreReloKind::FieldByteOffset
            }
        );
    }

    #[test]
    fn old_header_without_core_relo() {
        let mut fi = Vec::new();
        w(&mut fi, &[8, 5, 1, 0, 7]);
        let mut v = Vec::new();
        v.extend_from_slice(&MAGIC.to_ne_bytes());
        v.extend_from_slice(&[1, 0]);
        w(&mut v, &[24, 0, fi.len() as u32, fi.len() as u32, 0]);
        v.extend(fi);
        let ext = BtfExt::parse(&v).unwrap();
        assert_eq!(ext.core_relos().count(), 0);
        assert_eq!(ext.line_info().count(), 0);
        assert_eq!(
            ext.func_info()
                .next()
                .unwrap()
                .records()
                .next()
                .unwrap()
                .type_id,
            7
        );
    }

    #[test]
    fn malformed() {
        let bytes = sample();
        for n in [0, 10, 23] {
            assert!(matches!(
                BtfExt::parse(&bytes[..n]),
                Err(BtfError::Truncated { offset: 0, .. })
            ));
        }
        assert!(matches!(
            BtfExt::parse(&bytes[..bytes.len() - 1]),
            Err(BtfError::Truncated {
                what: "core_relo",
                ..
            })
        ));
        let mut bad = bytes.clone();
        bad[32] = 4; // func_info record size 4 < 8
        assert!(matches!(
            BtfExt::parse(&bad),
            Err(BtfError::BadHeader { offset: 32, .. })
        ));
        let mut bad = bytes.clone();
        bad[40] = 200; // num_info too large
        assert!(matches!(
            BtfExt::parse(&bad),
            Err(BtfError::Truncated {
                what: "func_info",
                ..
            })
        ));
    }
}
