//! USDT probes (`SEC("usdt/BINARY:PROVIDER:NAME")`, [`Program::attach_usdt`]), compatible
//! with libbpf's `usdt.bpf.h`.
//!
//! A USDT probe is a `nop` in a binary, described by a `.note.stapsdt` note: its address, an
//! optional semaphore and an argument specification such as `-4@$-7 8@%rdi 8@8(%rsi)
//! 8@16(%rdx,%rcx,8)`. Attaching puts a uprobe on each site of `PROVIDER:NAME` (the semaphore
//! as its reference counter, so the kernel raises it while attached) and writes each site's
//! decoded arguments into the program's `__bpf_usdt_specs` map, which `bpf_usdt_arg()` reads;
//! the spec id is the uprobe's BPF cookie. Programs built against libbpf's `usdt.bpf.h` thus
//! work unchanged. The spec layout is taken from the map's BTF (so objects built against a
//! newer `usdt.bpf.h` with scale-index-base arguments work too), or libbpf 1.x's layout when
//! the map has no BTF.
//!
//! Only x86-64 argument syntax is decoded. Kernels without BPF cookies (before 5.15) would
//! need the `__bpf_usdt_ip_to_spec_id` map instead: not done, they get
//! [`Error::Unsupported`].

use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::sync::Mutex;

use super::Link;
use super::elf::{ElfBinary, UsdtNote, resolve_binary};
use super::kprobe::ProbeOptions;
use super::perf_event::PerfLink;
use crate::error::{Error, Result};
use crate::map::{Map, UpdateFlags};
use crate::prog::{AttachType, Program, ProgramType};

/// How an argument is found (`enum __bpf_usdt_arg_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UsdtArgKind {
    /// A constant (`$N`): the value is `val_off`.
    Const,
    /// A register (`%rdi`): the value is the register.
    Reg,
    /// Memory at register + `val_off` (`8(%rsi)`).
    RegDeref,
    /// Memory at base + index × scale + `val_off` (`16(%rdx,%rcx,8)`).
    Sib,
}

/// One decoded USDT argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UsdtArg {
    /// Where it is.
    pub kind: UsdtArgKind,
    /// The constant, or the memory offset.
    pub val_off: u64,
    /// `offsetof(struct pt_regs, reg)` of the (base) register.
    pub reg_off: u16,
    /// `offsetof(struct pt_regs, reg)` of the index register (SIB).
    pub idx_reg_off: u16,
    /// log2 of the SIB scale.
    pub scale_shift: u8,
    /// The argument is signed.
    pub signed: bool,
    /// 64 minus the argument's size in bits.
    pub bitshift: u8,
}

/// `offsetof(struct pt_regs, REG)` on x86-64 for any width's name of a register.
pub fn x86_64_reg_offset(name: &str) -> Option<u16> {
    const REGS: &[(&[&str], u16)] = &[
        (&["r15", "r15d", "r15w", "r15b"], 0),
        (&["r14", "r14d", "r14w", "r14b"], 8),
        (&["r13", "r13d", "r13w", "r13b"], 16),
        (&["r12", "r12d", "r12w", "r12b"], 24),
        (&["rbp", "ebp", "bp", "bpl"], 32),
        (&["rbx", "ebx", "bx", "bl", "bh"], 40),
        (&["r11", "r11d", "r11w", "r11b"], 48),
        (&["r10", "r10d", "r10w", "r10b"], 56),
        (&["r9", "r9d", "r9w", "r9b"], 64),
        (&["r8", "r8d", "r8w", "r8b"], 72),
        (&["rax", "eax", "ax", "al", "ah"], 80),
        (&["rcx", "ecx", "cx", "cl", "ch"], 88),
        (&["rdx", "edx", "dx", "dl", "dh"], 96),
        (&["rsi", "esi", "si", "sil"], 104),
        (&["rdi", "edi", "di", "dil"], 112),
        (&["rip", "eip"], 128),
        (&["rsp", "esp", "sp", "spl"], 152),
    ];
    REGS.iter()
        .find(|(names, _)| names.contains(&name))
        .map(|(_, off)| *off)
}

fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as i64,
        None => digits.parse::<u64>().ok()? as i64,
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

fn reg(s: &str) -> Result<u16, String> {
    let name = s
        .trim()
        .strip_prefix('%')
        .ok_or_else(|| format!("expected a register, got {s:?}"))?;
    x86_64_reg_offset(name).ok_or_else(|| format!("unknown x86-64 register {name:?}"))
}

/// Decodes one x86-64 argument, `SIZE@LOCATION`.
pub fn parse_usdt_arg(s: &str) -> Result<UsdtArg, String> {
    let (size, loc) = s
        .split_once('@')
        .ok_or_else(|| format!("{s:?}: expected SIZE@LOCATION"))?;
    let size = parse_int(size).ok_or_else(|| format!("{s:?}: bad size"))?;
    let bytes = size.unsigned_abs();
    if ![1, 2, 4, 8].contains(&bytes) {
        return Err(format!("{s:?}: size must be 1, 2, 4 or 8"));
    }
    let mut arg = UsdtArg {
        kind: UsdtArgKind::Const,
        val_off: 0,
        reg_off: 0,
        idx_reg_off: 0,
        scale_shift: 0,
        signed: size < 0,
        bitshift: (64 - bytes * 8) as u8,
    };
    if let Some(c) = loc.strip_prefix('$') {
        arg.val_off = parse_int(c).ok_or_else(|| format!("{s:?}: bad constant"))? as u64;
    } else if loc.starts_with('%') {
        arg.kind = UsdtArgKind::Reg;
        arg.reg_off = reg(loc)?;
    } else if let Some(open) = loc.find('(') {
        let inner = loc[open + 1..]
            .strip_suffix(')')
            .ok_or_else(|| format!("{s:?}: missing ')'"))?;
        let off = &loc[..open];
        arg.val_off = if off.is_empty() {
            0
        } else {
            parse_int(off).ok_or_else(|| {
                format!("{s:?}: bad offset {off:?} (symbolic offsets are not supported)")
            })? as u64
        };
        let parts: Vec<&str> = inner.split(',').collect();
        match parts.as_slice() {
            [base] => {
                arg.kind = UsdtArgKind::RegDeref;
                arg.reg_off = reg(base)?;
            }
            [base, idx] | [base, idx, _] => {
                arg.kind = UsdtArgKind::Sib;
                arg.reg_off = reg(base)?;
                arg.idx_reg_off = reg(idx)?;
                let scale = match parts.get(2) {
                    Some(sc) => parse_int(sc.trim()).ok_or_else(|| format!("{s:?}: bad scale"))?,
                    None => 1,
                };
                arg.scale_shift = match scale {
                    1 => 0,
                    2 => 1,
                    4 => 2,
                    8 => 3,
                    _ => return Err(format!("{s:?}: scale must be 1, 2, 4 or 8")),
                };
            }
            _ => return Err(format!("{s:?}: bad memory operand")),
        }
    } else {
        return Err(format!("{s:?}: unknown location"));
    }
    Ok(arg)
}

/// Decodes a whole argument specification (space-separated arguments).
pub fn parse_usdt_args(spec: &str) -> Result<Vec<UsdtArg>, String> {
    spec.split_whitespace().map(parse_usdt_arg).collect()
}

/// One field of the spec layout: bit offset and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    bit: u32,
    bits: u32,
}

/// Where `struct __bpf_usdt_spec` keeps things, from the map's BTF.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SpecLayout {
    size: usize,
    args_off: usize,
    arg_size: usize,
    max_args: usize,
    cookie: Field,
    arg_cnt: Field,
    val_off: Field,
    arg_type: Field,
    reg_off: Field,
    signed: Field,
    bitshift: Field,
    idx_reg_off: Option<Field>,
    scale: Option<Field>,
}

impl SpecLayout {
    /// libbpf 1.x's `usdt.bpf.h` (no SIB), for maps without BTF.
    fn libbpf_v1() -> Self {
        let f = |byte: u32, bytes: u32| Field {
            bit: byte * 8,
            bits: bytes * 8,
        };
        SpecLayout {
            size: 208,
            args_off: 0,
            arg_size: 16,
            max_args: 12,
            cookie: f(192, 8),
            arg_cnt: f(200, 2),
            val_off: f(0, 8),
            arg_type: f(8, 4),
            reg_off: f(12, 2),
            signed: f(14, 1),
            bitshift: f(15, 1),
            idx_reg_off: None,
            scale: None,
        }
    }

    fn from_btf(btf: &crate::btf::Btf<'_>, value_type: u32) -> Option<Self> {
        let spec_t = btf.skip_mods_and_typedefs(value_type).ok()?;
        let spec = spec_t.as_composite()?;
        let field = |c: &crate::btf::Composite<'_>, name: &str| -> Option<Field> {
            let m = c.member(name)?;
            let bits = match m.bitfield_size() {
                0 => btf.size_of(m.type_id()).ok()? * 8,
                n => n,
            };
            Some(Field {
                bit: m.bit_offset(),
                bits,
            })
        };
        let args_m = spec.member("args")?;
        let arr = btf
            .skip_mods_and_typedefs(args_m.type_id())
            .ok()?
            .as_array()?;
        let elem_id = arr.elem_type();
        let arg = btf.skip_mods_and_typedefs(elem_id).ok()?.as_composite()?;
        Some(SpecLayout {
            size: spec.byte_size() as usize,
            args_off: (args_m.bit_offset() / 8) as usize,
            arg_size: btf.size_of(elem_id).ok()? as usize,
            max_args: arr.nelems() as usize,
            cookie: field(&spec, "usdt_cookie")?,
            arg_cnt: field(&spec, "arg_cnt")?,
            val_off: field(&arg, "val_off")?,
            arg_type: field(&arg, "arg_type")?,
            reg_off: field(&arg, "reg_off")?,
            signed: field(&arg, "arg_signed")?,
            bitshift: field(&arg, "arg_bitshift")?,
            idx_reg_off: field(&arg, "idx_reg_off"),
            scale: field(&arg, "scale_bitshift"),
        })
    }

    fn encode(&self, args: &[UsdtArg], cookie: u64) -> Result<Vec<u8>, String> {
        if args.len() > self.max_args {
            return Err(format!(
                "{} arguments, usdt.bpf.h takes at most {}",
                args.len(),
                self.max_args
            ));
        }
        let mut buf = vec![0u8; self.size];
        put(&mut buf, 0, self.cookie, cookie);
        put(&mut buf, 0, self.arg_cnt, args.len() as u64);
        for (i, a) in args.iter().enumerate() {
            let base = (self.args_off + i * self.arg_size) * 8;
            let kind = match a.kind {
                UsdtArgKind::Const => 0,
                UsdtArgKind::Reg => 1,
                UsdtArgKind::RegDeref => 2,
                UsdtArgKind::Sib => {
                    let (Some(idx), Some(scale)) = (self.idx_reg_off, self.scale) else {
                        return Err("a scale-index-base argument, and the object's usdt.bpf.h \
                                    predates them (libbpf 1.7 added BPF_USDT_ARG_SIB)"
                            .into());
                    };
                    put(&mut buf, base, idx, u64::from(a.idx_reg_off));
                    put(&mut buf, base, scale, u64::from(a.scale_shift));
                    3
                }
            };
            put(&mut buf, base, self.val_off, a.val_off);
            put(&mut buf, base, self.arg_type, kind);
            put(&mut buf, base, self.reg_off, u64::from(a.reg_off));
            put(&mut buf, base, self.signed, u64::from(a.signed));
            put(&mut buf, base, self.bitshift, u64::from(a.bitshift));
        }
        Ok(buf)
    }
}

/// Writes the low `f.bits` bits of `v` at bit `base + f.bit` (little-endian bit numbering, as
/// bitfields are laid out on little-endian targets).
fn put(buf: &mut [u8], base: usize, f: Field, v: u64) {
    for i in 0..f.bits as usize {
        let bit = base + f.bit as usize + i;
        let (byte, shift) = (bit / 8, bit % 8);
        if byte >= buf.len() {
            return;
        }
        if (v >> i) & 1 == 1 {
            buf[byte] |= 1 << shift;
        } else {
            buf[byte] &= !(1 << shift);
        }
    }
}

/// Spec ids in use per spec map (by map id), in this process.
static SPEC_IDS: Mutex<Option<HashMap<u32, BTreeSet<u32>>>> = Mutex::new(None);

fn alloc_ids(map_id: u32, n: usize, max: u32) -> Result<Vec<u32>> {
    let mut g = SPEC_IDS.lock().unwrap_or_else(|e| e.into_inner());
    let used = g
        .get_or_insert_with(HashMap::new)
        .entry(map_id)
        .or_default();
    let free: Vec<u32> = (0..max).filter(|i| !used.contains(i)).take(n).collect();
    if free.len() < n {
        return Err(Error::InvalidArgument(format!(
            "the USDT spec map has room for {max} specs and {} are in use: raise \
             BPF_USDT_MAX_SPEC_CNT or Loader::map_max_entries(\"__bpf_usdt_specs\", …)",
            used.len()
        )));
    }
    used.extend(free.iter().copied());
    Ok(free)
}

fn free_ids(map_id: u32, ids: &[u32]) {
    let mut g = SPEC_IDS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(used) = g.as_mut().and_then(|m| m.get_mut(&map_id)) {
        for i in ids {
            used.remove(i);
        }
    }
}

/// A program attached to the sites of one USDT probe: a uprobe per site (or one uprobe.multi
/// link), and the spec ids it holds in the program's `__bpf_usdt_specs` map. Dropping it
/// detaches every site and frees the ids.
#[derive(Debug)]
pub struct UsdtLink {
    perf: Vec<PerfLink>,
    multi: Option<Link>,
    map_id: u32,
    ids: Vec<u32>,
    notes: Vec<UsdtNote>,
}

impl UsdtLink {
    /// The probe sites attached to, from the binary's notes.
    pub fn sites(&self) -> &[UsdtNote] {
        &self.notes
    }

    /// The per-site uprobe attachments (empty with a uprobe.multi link).
    pub fn perf_links(&self) -> &[PerfLink] {
        &self.perf
    }

    /// The uprobe.multi link, when the program was loaded for one.
    pub fn multi_link(&self) -> Option<&Link> {
        self.multi.as_ref()
    }

    /// Stops every site now.
    pub fn detach(&mut self) -> Result<()> {
        for p in &mut self.perf {
            p.detach()?;
        }
        if let Some(m) = &self.multi {
            m.detach()?;
        }
        Ok(())
    }
}

impl Drop for UsdtLink {
    fn drop(&mut self) {
        self.perf.clear();
        self.multi = None;
        free_ids(self.map_id, &self.ids);
    }
}

fn find_spec_map(prog: &Program) -> Result<Map> {
    let info = prog.info()?;
    for id in info.map_ids {
        let Ok(m) = Map::from_id(id) else { continue };
        // Kernel map names are cut to 15 bytes: "__bpf_usdt_spec".
        if m.name().starts_with("__bpf_usdt_spec") {
            return Ok(m);
        }
    }
    Err(Error::InvalidArgument(format!(
        "program \"{}\" uses no __bpf_usdt_specs map: a USDT program reads its arguments \
         through libbpf's <bpf/usdt.bpf.h> (bpf_usdt_arg), which defines it",
        prog.name()
    )))
}

fn spec_layout(map: &Map) -> Result<SpecLayout> {
    let info = map.info()?;
    let layout = if info.btf_id != 0 && info.btf_value_type_id != 0 {
        let btf = crate::btf::BtfHandle::from_id(info.btf_id)?.to_btf()?;
        SpecLayout::from_btf(&btf, info.btf_value_type_id)
    } else {
        None
    }
    .unwrap_or_else(SpecLayout::libbpf_v1);
    if layout.size != info.value_size as usize {
        return Err(Error::InvalidArgument(format!(
            "the __bpf_usdt_specs map's values are {} bytes, not the {} of struct \
             __bpf_usdt_spec",
            info.value_size, layout.size
        )));
    }
    Ok(layout)
}

impl Program {
    /// Attaches this `KPROBE` program (`SEC("usdt/…")`, built with libbpf's `usdt.bpf.h`) to
    /// every site of USDT probe `provider:name` in `binary` (a path, or a library/program
    /// name as for [`attach_uprobe`](Program::attach_uprobe)), in process `pid` or all.
    /// `cookie` is what `bpf_usdt_cookie()` returns.
    ///
    /// # Errors
    /// `InvalidArgument` when the binary has no such probe or an argument cannot be decoded;
    /// [`Error::Unsupported`] on kernels without BPF cookies.
    pub fn attach_usdt(
        &self,
        binary: &str,
        provider: &str,
        name: &str,
        pid: Option<u32>,
        cookie: u64,
    ) -> Result<UsdtLink> {
        if self.program_type() != ProgramType::KPROBE {
            return Err(Error::InvalidArgument(format!(
                "program \"{}\" is a {:?} program; attach_usdt takes a KPROBE program (SEC(\"usdt\"))",
                self.name(),
                self.program_type()
            )));
        }
        crate::features::bpf_cookie().map_err(|_| Error::Unsupported {
            feature: "BPF cookies",
            hint: "USDT attachment passes the spec id as the uprobe's BPF cookie (kernel 5.15+); \
                   the ip-to-spec-id map fallback is not implemented"
                .into(),
        })?;
        let path = resolve_binary(binary, pid)?;
        let notes: Vec<UsdtNote> = ElfBinary::open(&path)?
            .usdt_notes()?
            .into_iter()
            .filter(|n| n.provider == provider && n.name == name)
            .collect();
        if notes.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "{} has no USDT probe {provider}:{name}",
                path.display()
            )));
        }
        let map = find_spec_map(self)?;
        let layout = spec_layout(&map)?;
        let mut specs = Vec::with_capacity(notes.len());
        for n in &notes {
            let args = parse_usdt_args(&n.args).map_err(|e| {
                Error::InvalidArgument(format!("USDT {provider}:{name} at {:#x}: {e}", n.address))
            })?;
            let bytes = layout.encode(&args, cookie).map_err(|e| {
                Error::InvalidArgument(format!("USDT {provider}:{name} at {:#x}: {e}", n.address))
            })?;
            specs.push(bytes);
        }
        // One spec id per distinct spec.
        let mut distinct: Vec<&Vec<u8>> = specs.iter().collect();
        distinct.sort();
        distinct.dedup();
        let map_id = map.info()?.id;
        let ids = alloc_ids(map_id, distinct.len(), map.max_entries())?;
        let mut link = UsdtLink {
            perf: Vec::new(),
            multi: None,
            map_id,
            ids: ids.clone(),
            notes: notes.clone(),
        };
        for (id, spec) in ids.iter().zip(&distinct) {
            map.update(&(*id as i32).to_ne_bytes(), spec, UpdateFlags::empty())?;
        }
        let id_of = |s: &Vec<u8>| {
            let i = distinct.iter().position(|d| *d == s).expect("listed");
            u64::from(ids[i])
        };
        if self.expected_attach_type() == Some(AttachType::TRACE_UPROBE_MULTI) {
            let c = CString::new(path.as_os_str().as_bytes())
                .map_err(|_| Error::InvalidArgument("path has a NUL".into()))?;
            let offsets: Vec<u64> = notes.iter().map(|n| n.offset).collect();
            let refs: Vec<u64> = notes.iter().map(|n| n.semaphore_offset).collect();
            let cookies: Vec<u64> = specs.iter().map(id_of).collect();
            link.multi =
                Some(self.uprobe_multi_offsets(&c, &offsets, &refs, &cookies, false, pid)?);
        } else {
            for (n, spec) in notes.iter().zip(&specs) {
                let opts = ProbeOptions {
                    cookie: id_of(spec),
                    pid,
                    ref_ctr_offset: n.semaphore_offset,
                    ..Default::default()
                };
                let p = self.attach_uprobe_at(&path, n.offset, false, &opts)?;
                link.perf.push(p);
            }
        }
        Ok(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        let a = parse_usdt_args(
            "-4@$-7 8@%rdi 8@8(%rsi) 8@16(%rdx,%rcx,8) 2@%ax -1@-96(%rbp,%rax) 4@(%r12)",
        )
        .unwrap();
        assert_eq!(a.len(), 7);
        assert_eq!(
            (a[0].kind, a[0].val_off as i64, a[0].signed, a[0].bitshift),
            (UsdtArgKind::Const, -7, true, 32)
        );
        assert_eq!(
            (a[1].kind, a[1].reg_off, a[1].signed, a[1].bitshift),
            (UsdtArgKind::Reg, 112, false, 0)
        );
        assert_eq!(
            (a[2].kind, a[2].reg_off, a[2].val_off),
            (UsdtArgKind::RegDeref, 104, 8)
        );
        assert_eq!(
            (
                a[3].kind,
                a[3].reg_off,
                a[3].idx_reg_off,
                a[3].scale_shift,
                a[3].val_off
            ),
            (UsdtArgKind::Sib, 96, 88, 3, 16)
        );
        assert_eq!((a[4].reg_off, a[4].bitshift), (80, 48));
        assert_eq!(
            (
                a[5].kind,
                a[5].val_off as i64,
                a[5].scale_shift,
                a[5].idx_reg_off
            ),
            (UsdtArgKind::Sib, -96, 0, 80)
        );
        assert_eq!(
            (a[6].kind, a[6].reg_off, a[6].val_off),
            (UsdtArgKind::RegDeref, 24, 0)
        );
        for bad in [
            "4@",
            "3@%rax",
            "4@%xyz",
            "8@8(%rsi",
            "4@sym(%rip)",
            "8@(%rax,%rbx,3)",
            "%rax",
        ] {
            assert!(parse_usdt_arg(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn encode_libbpf_layout() {
        let l = SpecLayout::libbpf_v1();
        let args = parse_usdt_args("-4@$-7 8@8(%rsi)").unwrap();
        let b = l.encode(&args, 0xabcd).unwrap();
        assert_eq!(b.len(), 208);
        assert_eq!(i64::from_le_bytes(b[0..8].try_into().unwrap()), -7);
        assert_eq!(u32::from_le_bytes(b[8..12].try_into().unwrap()), 0);
        assert_eq!((b[14], b[15]), (1, 32));
        assert_eq!(u64::from_le_bytes(b[16..24].try_into().unwrap()), 8);
        assert_eq!(u32::from_le_bytes(b[24..28].try_into().unwrap()), 2);
        assert_eq!(u16::from_le_bytes(b[28..30].try_into().unwrap()), 104);
        assert_eq!(u64::from_le_bytes(b[192..200].try_into().unwrap()), 0xabcd);
        assert_eq!(u16::from_le_bytes(b[200..202].try_into().unwrap()), 2);
        // No SIB in this layout.
        let sib = parse_usdt_args("8@(%rdx,%rcx,8)").unwrap();
        assert!(l.encode(&sib, 0).unwrap_err().contains("scale-index-base"));
        let many = vec![args[0]; 13];
        assert!(l.encode(&many, 0).is_err());
    }

    #[test]
    fn bitfields() {
        // arg_type:8 at bit 64, idx_reg_off:12 at bit 80, scale_bitshift:4 at bit 92.
        let mut l = SpecLayout::libbpf_v1();
        l.arg_type = Field { bit: 64, bits: 8 };
        l.idx_reg_off = Some(Field { bit: 80, bits: 12 });
        l.scale = Some(Field { bit: 92, bits: 4 });
        let sib = parse_usdt_args("8@16(%rdx,%rcx,8)").unwrap();
        let b = l.encode(&sib, 0).unwrap();
        assert_eq!(b[8], 3);
        assert_eq!(u16::from_le_bytes([b[10], b[11]]), 88 | (3 << 12));
    }
}
