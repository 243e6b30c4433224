//! Hostile objects, generated: each class of input that made a step of the parse
//! superlinear (a scan of a whole table per item, an exponential walk over a type DAG) must
//! now take work linear in its size. Work is counted in steps ([`crate::work`]: types looked
//! up, symbols and candidates visited, index lookups), for `n` and for `2n` items; the larger
//! one may take at most a little over twice the steps. No wall-clock time is asserted.

use crate::btf::{BtfBuilder, FuncLinkage, IntEncoding, NewMember, VarLinkage, VarSecinfo};
use crate::obj::ObjectSpec;
use crate::work::measure;

const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXEC: u64 = 4;
const STB_GLOBAL: u8 = 1;
const STT_OBJECT: u8 = 1;
const STT_FUNC: u8 = 2;
const SHN_UNDEF: u16 = 0;

struct Sec {
    name: String,
    kind: u32,
    flags: u64,
    data: Vec<u8>,
    size: u64,
    link: u32,
    info: u32,
    entsize: u64,
}

/// A minimal little-endian ELF64 relocatable writer for BPF objects.
#[derive(Default)]
pub(super) struct ElfWriter {
    secs: Vec<Sec>,
    /// (name, info, shndx, value, size)
    syms: Vec<(String, u8, u16, u64, u64)>,
}

impl ElfWriter {
    /// Adds a section; returns its index (1-based: 0 is the null section).
    pub fn section(&mut self, name: &str, kind: u32, flags: u64, data: Vec<u8>) -> u16 {
        let size = data.len() as u64;
        self.secs.push(Sec {
            name: name.into(),
            kind,
            flags,
            data,
            size,
            link: 0,
            info: 0,
            entsize: 0,
        });
        self.secs.len() as u16
    }

    /// A `.bss`-like section of `size` bytes.
    pub fn nobits(&mut self, name: &str, size: u64) -> u16 {
        let i = self.section(name, SHT_NOBITS, SHF_ALLOC | SHF_WRITE, Vec::new());
        self.secs[i as usize - 1].size = size;
        i
    }

    /// Adds a symbol; returns its index (1-based: 0 is the null symbol).
    pub fn symbol(&mut self, name: &str, bind_type: u8, shndx: u16, value: u64, size: u64) -> u32 {
        self.syms.push((name.into(), bind_type, shndx, value, size));
        self.syms.len() as u32
    }

    /// `SHT_REL` for section `target`: `(offset, symbol, type)` entries.
    pub fn rel(&mut self, target: u16, entries: &[(u64, u32, u32)]) {
        let mut data = Vec::with_capacity(entries.len() * 16);
        for &(off, sym, ty) in entries {
            data.extend_from_slice(&off.to_le_bytes());
            data.extend_from_slice(&((u64::from(sym) << 32) | u64::from(ty)).to_le_bytes());
        }
        let name = format!(".rel{}", self.secs[target as usize - 1].name);
        let i = self.section(&name, SHT_REL, 0, data);
        let s = &mut self.secs[i as usize - 1];
        s.info = u32::from(target);
        s.entsize = 16;
        s.link = u32::MAX; // the symtab, patched in finish()
    }

    pub fn finish(mut self) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut symtab = vec![0u8; 24];
        for (name, info, shndx, value, size) in &self.syms {
            let off = strtab.len() as u32;
            strtab.extend_from_slice(name.as_bytes());
            strtab.push(0);
            symtab.extend_from_slice(&off.to_le_bytes());
            symtab.push(*info);
            symtab.push(0);
            symtab.extend_from_slice(&shndx.to_le_bytes());
            symtab.extend_from_slice(&value.to_le_bytes());
            symtab.extend_from_slice(&size.to_le_bytes());
        }
        let symtab_idx = self.secs.len() as u32 + 1;
        for s in &mut self.secs {
            if s.link == u32::MAX {
                s.link = symtab_idx;
            }
        }
        let strtab_idx = self.section(".strtab", SHT_STRTAB, 0, strtab);
        let st = self.section(".symtab", SHT_SYMTAB, 0, symtab);
        assert_eq!(u32::from(st), symtab_idx + 1);
        // .strtab went first: fix the order so that .symtab is where the REL links point.
        self.secs.swap(st as usize - 1, strtab_idx as usize - 1);
        let (sym_i, str_i) = (strtab_idx, st);
        {
            let s = &mut self.secs[sym_i as usize - 1];
            s.link = u32::from(str_i);
            s.info = 1;
            s.entsize = 24;
        }
        let mut shstr = vec![0u8];
        let mut name_offs = Vec::new();
        for s in &self.secs {
            name_offs.push(shstr.len() as u32);
            shstr.extend_from_slice(s.name.as_bytes());
            shstr.push(0);
        }
        name_offs.push(shstr.len() as u32);
        shstr.extend_from_slice(b".shstrtab\0");
        self.section(".shstrtab", SHT_STRTAB, 0, shstr);
        let shnum = self.secs.len() + 1;
        let mut out = vec![0u8; 64];
        let mut offsets = Vec::new();
        for s in &self.secs {
            while out.len() % 8 != 0 {
                out.push(0);
            }
            offsets.push(out.len() as u64);
            out.extend_from_slice(&s.data);
        }
        while out.len() % 8 != 0 {
            out.push(0);
        }
        let shoff = out.len() as u64;
        out.extend_from_slice(&[0u8; 64]);
        for (i, s) in self.secs.iter().enumerate() {
            out.extend_from_slice(&name_offs[i].to_le_bytes());
            out.extend_from_slice(&s.kind.to_le_bytes());
            out.extend_from_slice(&s.flags.to_le_bytes());
            out.extend_from_slice(&0u64.to_le_bytes());
            out.extend_from_slice(&offsets[i].to_le_bytes());
            out.extend_from_slice(&s.size.to_le_bytes());
            out.extend_from_slice(&s.link.to_le_bytes());
            out.extend_from_slice(&s.info.to_le_bytes());
            out.extend_from_slice(&8u64.to_le_bytes());
            out.extend_from_slice(&s.entsize.to_le_bytes());
        }
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2; // 64-bit
        out[5] = 1; // little-endian
        out[6] = 1;
        out[16..18].copy_from_slice(&1u16.to_le_bytes()); // ET_REL
        out[18..20].copy_from_slice(&247u16.to_le_bytes()); // EM_BPF
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[40..48].copy_from_slice(&shoff.to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes());
        out[58..60].copy_from_slice(&64u16.to_le_bytes());
        out[60..62].copy_from_slice(&(shnum as u16).to_le_bytes());
        out[62..64].copy_from_slice(&((shnum - 1) as u16).to_le_bytes());
        out
    }
}

fn exit_insns() -> Vec<u8> {
    // r0 = 0; exit
    let mut v = vec![0xb7, 0, 0, 0, 0, 0, 0, 0];
    v.extend_from_slice(&[0x95, 0, 0, 0, 0, 0, 0, 0]);
    v
}

fn license(w: &mut ElfWriter) {
    w.section(
        "license",
        SHT_PROGBITS,
        SHF_ALLOC | SHF_WRITE,
        b"GPL\0".to_vec(),
    );
}

/// Steps to parse the object `make(n)` builds, for `n` and `2n`; asserts linear growth.
fn assert_linear(what: &str, n: usize, make: impl Fn(usize) -> Vec<u8>) -> ObjectSpec {
    let small = make(n);
    let big = make(2 * n);
    let (r, s1) = measure(|| ObjectSpec::parse(&small));
    r.unwrap_or_else(|e| panic!("{what} ({n}): {e}"));
    let (r, s2) = measure(|| ObjectSpec::parse(&big));
    let spec = r.unwrap_or_else(|e| panic!("{what} ({}): {e}", 2 * n));
    // Linear: about twice the work for twice the items (a per-item scan would be 4x).
    assert!(
        s2 <= s1 * 5 / 2 + 64,
        "{what}: {s1} steps for {n} items, {s2} for {}",
        2 * n
    );
    eprintln!("{what}: {s1} steps for {n} items, {s2} for {}", 2 * n);
    spec
}

/// Class 1: an exponential type DAG (unions whose members point twice to the level below)
/// behind one `.kconfig` extern: its size and alignment are resolved at open.
#[test]
fn kconfig_extern_of_a_union_dag() {
    let make = |levels: usize| {
        let mut b = BtfBuilder::new();
        let mut below = b.add_int("int", 4, IntEncoding::SIGNED);
        for i in 0..levels {
            let m = [NewMember::new("a", below, 0), NewMember::new("b", below, 0)];
            below = b.add_union(&format!("u{i}"), 4, &m).expect("union");
        }
        let var = b.add_var("CONFIG_DAG", below, VarLinkage::GlobalExtern);
        b.add_datasec(
            ".kconfig",
            0,
            &[VarSecinfo {
                type_id: var,
                offset: 0,
                size: 4,
            }],
        )
        .expect("datasec");
        let mut w = ElfWriter::default();
        license(&mut w);
        w.section(".BTF", SHT_PROGBITS, 0, b.encode());
        w.symbol(
            "CONFIG_DAG",
            (STB_GLOBAL << 4) | STT_OBJECT,
            SHN_UNDEF,
            0,
            0,
        );
        w.finish()
    };
    // 30 and 60 levels: 2^30 and 2^60 member visits if exponential.
    let spec = assert_linear("union DAG behind .kconfig", 30, make);
    assert_eq!(spec.externs.len(), 1);
}

/// Class 2: many global variables in `.bss`: each finds its ELF symbol (offset), in
/// `fill_data_variables` and in the BTF fixup.
#[test]
fn many_bss_variables() {
    let make = |n: usize| {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let mut vars = Vec::with_capacity(n);
        for i in 0..n {
            let v = b.add_var(&format!("v{i}"), int, VarLinkage::GlobalAllocated);
            vars.push(VarSecinfo {
                type_id: v,
                offset: 0, // clang leaves 0: the ELF symbol gives the offset
                size: 4,
            });
        }
        b.add_datasec(".bss", 0, &vars).expect("datasec");
        let mut w = ElfWriter::default();
        license(&mut w);
        let bss = w.nobits(".bss", 4 * n as u64);
        w.section(".BTF", SHT_PROGBITS, 0, b.encode());
        for i in 0..n {
            w.symbol(
                &format!("v{i}"),
                (STB_GLOBAL << 4) | STT_OBJECT,
                bss,
                4 * i as u64,
                4,
            );
        }
        w.finish()
    };
    let spec = assert_linear(".bss variables", 2000, make);
    let bss = spec.data_map(".bss").expect(".bss");
    assert_eq!(bss.variables.len(), 4000);
    assert_eq!(bss.variable("v3999").expect("v3999").offset, 4 * 3999);
}

/// Class 3: many program sections, each with its function symbol, and many legacy maps, each
/// referenced by an `ld_imm64` relocation.
#[test]
fn many_sections_and_map_relocations() {
    let make = |n: usize| {
        let mut w = ElfWriter::default();
        license(&mut w);
        let maps = w.section("maps", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, {
            let mut d = Vec::new();
            for _ in 0..n {
                for x in [2u32, 4, 8, 1, 0] {
                    d.extend_from_slice(&x.to_le_bytes()); // array, key 4, value 8, 1 entry
                }
            }
            d
        });
        let mut map_syms = Vec::with_capacity(n);
        for i in 0..n {
            map_syms.push(w.symbol(
                &format!("m{i}"),
                (STB_GLOBAL << 4) | STT_OBJECT,
                maps,
                20 * i as u64,
                20,
            ));
        }
        for (i, &map_sym) in map_syms.iter().enumerate() {
            // r1 = map (ld_imm64); r0 = 0; exit
            let mut insns = vec![0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            insns.extend_from_slice(&exit_insns());
            let s = w.section(
                &format!("socket/{i}"),
                SHT_PROGBITS,
                SHF_ALLOC | SHF_EXEC,
                insns,
            );
            w.symbol(&format!("p{i}"), (STB_GLOBAL << 4) | STT_FUNC, s, 0, 32);
            w.rel(s, &[(0, map_sym, 1)]);
        }
        w.finish()
    };
    let spec = assert_linear("sections and map relocations", 500, make);
    assert_eq!(spec.programs.len(), 1000);
    assert_eq!(spec.maps.len(), 1000);
}

/// Class 4: one program calling many `.text` subprograms (each call finds its target).
#[test]
fn many_subprogram_calls() {
    let make = |n: usize| {
        let mut w = ElfWriter::default();
        license(&mut w);
        let mut text = Vec::new();
        for _ in 0..n {
            text.extend_from_slice(&exit_insns());
        }
        let t = w.section(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXEC, text);
        let mut subs = Vec::with_capacity(n);
        for i in 0..n {
            subs.push(w.symbol(
                &format!("f{i}"),
                (STB_GLOBAL << 4) | STT_FUNC,
                t,
                16 * i as u64,
                16,
            ));
        }
        // call f_i (pseudo call, relocated); ...; r0 = 0; exit
        let mut prog = Vec::new();
        for _ in 0..n {
            prog.extend_from_slice(&[0x85, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        }
        prog.extend_from_slice(&exit_insns());
        let p = w.section("socket", SHT_PROGBITS, SHF_ALLOC | SHF_EXEC, prog);
        w.symbol(
            "prog",
            (STB_GLOBAL << 4) | STT_FUNC,
            p,
            0,
            8 * n as u64 + 16,
        );
        let rels: Vec<_> = (0..n).map(|i| (8 * i as u64, subs[i], 10)).collect();
        w.rel(p, &rels);
        w.finish()
    };
    let link_steps = |n: usize| {
        let spec = ObjectSpec::parse(&make(n)).expect("parse");
        let (linked, steps) = measure(|| super::link_program(&spec, &spec.programs[0]));
        let linked = linked.expect("link");
        assert_eq!(linked.insns.len(), 2 + 3 * n);
        steps
    };
    assert_linear("subprogram calls (parse)", 1000, make);
    let (s1, s2) = (link_steps(1000), link_steps(2000));
    assert!(s2 <= s1 * 5 / 2 + 64, "linking: {s1} -> {s2} steps");
}

/// Class 5: one program section with many functions and a `.BTF.ext` `func_info` record for
/// each: every record finds the function that holds it.
#[test]
fn many_btf_ext_records() {
    let make = |n: usize| {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let proto = b.add_func_proto(int, &[]).expect("proto");
        let sec_name = b.add_string("socket");
        let funcs: Vec<u32> = (0..n)
            .map(|i| b.add_func(&format!("p{i}"), proto, FuncLinkage::Global))
            .collect();
        let mut ext = Vec::new();
        for w in [0xeb9f_u16.to_le_bytes().as_slice(), &[1, 0]] {
            ext.extend_from_slice(w);
        }
        let func_len = 4 + 8 + 8 * n as u32;
        for w in [32u32, 0, func_len, func_len, 0, func_len, 0] {
            ext.extend_from_slice(&w.to_le_bytes());
        }
        ext.extend_from_slice(&8u32.to_le_bytes()); // rec_size
        ext.extend_from_slice(&sec_name.to_le_bytes());
        ext.extend_from_slice(&(n as u32).to_le_bytes());
        for (i, f) in funcs.iter().enumerate() {
            ext.extend_from_slice(&(16 * i as u32).to_le_bytes());
            ext.extend_from_slice(&f.to_le_bytes());
        }
        let mut w = ElfWriter::default();
        license(&mut w);
        let mut insns = Vec::new();
        for _ in 0..n {
            insns.extend_from_slice(&exit_insns());
        }
        let s = w.section("socket", SHT_PROGBITS, SHF_ALLOC | SHF_EXEC, insns);
        for i in 0..n {
            w.symbol(
                &format!("p{i}"),
                (STB_GLOBAL << 4) | STT_FUNC,
                s,
                16 * i as u64,
                16,
            );
        }
        w.section(".BTF", SHT_PROGBITS, 0, b.encode());
        w.section(".BTF.ext", SHT_PROGBITS, 0, ext);
        w.finish()
    };
    let spec = assert_linear(".BTF.ext records", 1000, make);
    assert_eq!(spec.programs.len(), 2000);
    let last = &spec.programs[1999];
    assert_eq!(last.func_info.len(), 1);
    assert_eq!(last.func_info[0].insn, 0);
}

/// Class 6: many BTF-defined maps in `.maps`: each map's VAR finds its ELF symbol, and the
/// next map's offset.
#[test]
fn many_btf_maps() {
    let make = |n: usize| {
        let mut b = BtfBuilder::new();
        let int = b.add_int("int", 4, IntEncoding::SIGNED);
        let uint = |b: &mut BtfBuilder, v: u32| {
            let arr = b.add_array(int, int, v);
            b.add_ptr(arr)
        };
        let ty = uint(&mut b, 2); // BPF_MAP_TYPE_ARRAY
        let entries = uint(&mut b, 1);
        let int_ptr = b.add_ptr(int);
        let def = b
            .add_struct(
                "",
                32,
                &[
                    NewMember::new("type", ty, 0),
                    NewMember::new("max_entries", entries, 64),
                    NewMember::new("key", int_ptr, 128),
                    NewMember::new("value", int_ptr, 192),
                ],
            )
            .expect("def");
        let vars: Vec<VarSecinfo> = (0..n)
            .map(|i| VarSecinfo {
                type_id: b.add_var(&format!("m{i}"), def, VarLinkage::GlobalAllocated),
                offset: 32 * i as u32,
                size: 32,
            })
            .collect();
        b.add_datasec(".maps", 32 * n as u32, &vars)
            .expect("datasec");
        let mut w = ElfWriter::default();
        license(&mut w);
        let maps = w.section(
            ".maps",
            SHT_PROGBITS,
            SHF_ALLOC | SHF_WRITE,
            vec![0; 32 * n],
        );
        for i in 0..n {
            w.symbol(
                &format!("m{i}"),
                (STB_GLOBAL << 4) | STT_OBJECT,
                maps,
                32 * i as u64,
                32,
            );
        }
        w.section(".BTF", SHT_PROGBITS, 0, b.encode());
        w.finish()
    };
    let spec = assert_linear("BTF-defined maps", 1000, make);
    assert_eq!(spec.maps.len(), 2000);
    let m = spec.map("m1999").expect("m1999");
    assert_eq!(
        (m.map_type, m.key_size, m.value_size, m.max_entries),
        (2, 4, 4, 1)
    );
}
