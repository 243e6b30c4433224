//! Unit tests of the C dumper on hand-built BTF, one per rule of libbpf's `btf_dump`.

use super::{CDumpError, CDumpOptions, FOOTER, HEADER, write_c_header};
use crate::btf::{Btf, BtfBuilder, BtfError, FuncLinkage, IntEncoding, NewMember};

/// The body of the header for `b` (without bpftool's preamble and closing lines).
fn body_with(b: &BtfBuilder, opts: CDumpOptions) -> Result<String, CDumpError> {
    let bytes = b.encode();
    let btf = Btf::parse(&bytes).expect("builder output parses");
    let mut out = Vec::new();
    write_c_header(&btf, &mut out, &opts)?;
    let s = String::from_utf8(out).expect("utf-8");
    let s = s.strip_prefix(HEADER).expect("preamble");
    let s = s.strip_suffix(FOOTER).expect("closing lines");
    Ok(s.to_string())
}

/// The body in id order, without the kfunc block.
fn body(b: &BtfBuilder) -> String {
    body_with(b, CDumpOptions::new().sorted(false).kfuncs(false)).expect("dump")
}

fn int(b: &mut BtfBuilder) -> u32 {
    b.add_int("int", 4, IntEncoding::SIGNED)
}

#[test]
fn pointer_cycle_gets_a_forward_declaration() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    // struct A { struct B *b; int x; }; struct B { struct A a; };
    let pb = b.next_id() + 1; // the PTR to B, added right after A
    let a = b
        .add_struct(
            "A",
            16,
            &[NewMember::new("b", pb, 0), NewMember::new("x", i, 64)],
        )
        .unwrap();
    let b_id = b.next_id() + 1;
    assert_eq!(b.add_ptr(b_id), pb);
    b.add_struct("B", 16, &[NewMember::new("a", a, 0)]).unwrap();
    assert_eq!(
        body(&b),
        "struct B;\n\n\
         struct A {\n\tstruct B *b;\n\tint x;\n};\n\n\
         struct B {\n\tstruct A a;\n};\n\n"
    );
}

#[test]
fn self_pointer_needs_no_forward_declaration() {
    let mut b = BtfBuilder::new();
    let ptr = b.next_id() + 1;
    let node = b
        .add_struct("node", 8, &[NewMember::new("next", ptr, 0)])
        .unwrap();
    b.add_ptr(node);
    assert_eq!(body(&b), "struct node {\n\tstruct node *next;\n};\n\n");
}

#[test]
fn embedding_cycle_is_an_error() {
    let mut b = BtfBuilder::new();
    // struct A { struct B b; }; struct B { struct A a; }: no C can declare this.
    let a = b.add_struct("A", 4, &[NewMember::new("b", 2, 0)]).unwrap();
    b.add_struct("B", 4, &[NewMember::new("a", a, 0)]).unwrap();
    let e = body_with(&b, CDumpOptions::new().sorted(false)).unwrap_err();
    assert!(matches!(e, CDumpError::Btf(BtfError::Loop { .. })), "{e:?}");
}

#[test]
fn reference_loops_and_bad_ids_are_errors_not_hangs() {
    // A PTR to itself, a CONST to itself, a TYPEDEF to itself.
    for kind in 0..3 {
        let mut b = BtfBuilder::new();
        let next = b.next_id();
        match kind {
            0 => b.add_ptr(next),
            1 => b.add_const(next),
            _ => b.add_typedef("loop_t", next),
        };
        b.add_struct("user", 8, &[NewMember::new("p", next, 0)])
            .unwrap();
        for sorted in [false, true] {
            let e = body_with(&b, CDumpOptions::new().sorted(sorted)).unwrap_err();
            assert!(
                matches!(e, CDumpError::Btf(BtfError::Loop { .. })),
                "kind {kind}: {e:?}"
            );
        }
    }
    // A member of a type that does not exist.
    let mut b = BtfBuilder::new();
    b.add_struct("bad", 4, &[NewMember::new("x", 99, 0)])
        .unwrap();
    let e = body_with(&b, CDumpOptions::new()).unwrap_err();
    assert!(
        matches!(
            e,
            CDumpError::Btf(BtfError::TypeIdOutOfRange {
                id: 99,
                from: Some(1),
                ..
            })
        ),
        "{e:?}"
    );
    // A root id past the last.
    let mut b = BtfBuilder::new();
    int(&mut b);
    let e = body_with(&b, CDumpOptions::new().root_ids([5])).unwrap_err();
    assert!(matches!(
        e,
        CDumpError::Btf(BtfError::TypeIdOutOfRange { id: 5, .. })
    ));
}

#[test]
fn anonymous_types_nest_inline() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let c = b.add_int("char", 1, IntEncoding::SIGNED);
    // struct outer { int kind; union { struct { int a; int b; }; char raw[8]; }; };
    let inner = b
        .add_struct(
            "",
            8,
            &[NewMember::new("a", i, 0), NewMember::new("b", i, 32)],
        )
        .unwrap();
    let raw = b.add_array(c, i, 8);
    let u = b
        .add_union(
            "",
            8,
            &[NewMember::new("", inner, 0), NewMember::new("raw", raw, 0)],
        )
        .unwrap();
    b.add_struct(
        "outer",
        12,
        &[NewMember::new("kind", i, 0), NewMember::new("", u, 32)],
    )
    .unwrap();
    assert_eq!(
        body(&b),
        "struct outer {\n\
         \tint kind;\n\
         \tunion {\n\
         \t\tstruct {\n\
         \t\t\tint a;\n\
         \t\t\tint b;\n\
         \t\t};\n\
         \t\tchar raw[8];\n\
         \t};\n\
         };\n\n"
    );
}

#[test]
fn declarators_print_inside_out() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let c = b.add_int("char", 1, IntEncoding::SIGNED);
    let cc = b.add_const(c);
    let pcc = b.add_ptr(cc);
    let cpcc = b.add_const(pcc);
    // int (*)(int, const char *)
    let proto = b.add_func_proto(i, &[("n", i), ("s", pcc)]).unwrap();
    let fp = b.add_ptr(proto);
    let handlers = b.add_array(fp, i, 4);
    // void (*)(void), int (*)(const char *, ...), int (*(*)[3])[2]
    let vproto = b.add_func_proto(0, &[]).unwrap();
    let vfp = b.add_ptr(vproto);
    let va = b.add_func_proto(i, &[("fmt", pcc), ("", 0)]).unwrap();
    let vafp = b.add_ptr(va);
    let a2 = b.add_array(i, i, 2);
    let pa2 = b.add_ptr(a2);
    let a3 = b.add_array(pa2, i, 3);
    let pa3 = b.add_ptr(a3);
    let grid = b.add_array(a2, i, 5);
    let vi = b.add_volatile(i);
    let pvi = b.add_ptr(vi);
    let rp = b.add_restrict(pvi);
    b.add_struct(
        "decls",
        112,
        &[
            NewMember::new("name", cpcc, 0),
            NewMember::new("handlers", handlers, 64),
            NewMember::new("done", vfp, 320),
            NewMember::new("log", vafp, 384),
            NewMember::new("weird", pa3, 448),
            NewMember::new("grid", grid, 512),
            NewMember::new("reg", rp, 832),
        ],
    )
    .unwrap();
    assert_eq!(
        body(&b),
        "struct decls {\n\
         \tconst char * const name;\n\
         \tint (*handlers[4])(int n, const char *s);\n\
         \tvoid (*done)(void);\n\
         \tint (*log)(const char *fmt, ...);\n\
         \tint (*(*weird)[3])[2];\n\
         \tint grid[5][2];\n\
         \tvolatile int * restrict reg;\n\
         };\n\n"
    );
}

#[test]
fn packed_and_padded_structs() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let c = b.add_int("char", 1, IntEncoding::SIGNED);
    let l = b.add_int("long", 8, IntEncoding::SIGNED);
    // An int at byte 1: packed.
    b.add_struct(
        "packed",
        5,
        &[NewMember::new("c", c, 0), NewMember::new("i", i, 8)],
    )
    .unwrap();
    // A long at byte 16 after a char, size 64 (an over-aligned struct): explicit padding.
    b.add_struct(
        "padded",
        64,
        &[NewMember::new("c", c, 0), NewMember::new("l", l, 128)],
    )
    .unwrap();
    assert_eq!(
        body(&b),
        "struct packed {\n\tchar c;\n\tint i;\n} __attribute__((packed));\n\n\
         struct padded {\n\
         \tchar c;\n\
         \tlong: 64;\n\
         \tlong l;\n\
         \tlong: 64;\n\
         \tlong: 64;\n\
         \tlong: 64;\n\
         \tlong: 64;\n\
         \tlong: 64;\n\
         };\n\n"
    );
}

#[test]
fn bitfields_across_storage_units() {
    let mut b = BtfBuilder::new();
    let u = b.add_int("unsigned int", 4, IntEncoding::empty());
    let c = b.add_int("char", 1, IntEncoding::SIGNED);
    // a and b cannot share a 32-bit unit: b starts the next one; c starts a third one; d is
    // a plain char after c, and the struct ends at 12 bytes. The `long: 0` style markers
    // force what the compiler would not do by itself.
    b.add_struct(
        "flags",
        12,
        &[
            NewMember::bitfield("a", u, 0, 3),
            NewMember::bitfield("b", u, 32, 30),
            NewMember::bitfield("c", u, 64, 4),
            NewMember::new("d", c, 72),
        ],
    )
    .unwrap();
    // A char member right after a bitfield, but at the next 8-byte boundary: `long: 0`.
    b.add_struct(
        "gap",
        16,
        &[
            NewMember::bitfield("x", u, 0, 4),
            NewMember::new("y", c, 64),
        ],
    )
    .unwrap();
    assert_eq!(
        body(&b),
        "struct flags {\n\
         \tunsigned int a: 3;\n\
         \tint: 29;\n\
         \tunsigned int b: 30;\n\
         \tlong: 2;\n\
         \tunsigned int c: 4;\n\
         \tchar d;\n\
         };\n\n\
         struct gap {\n\
         \tunsigned int x: 4;\n\
         \tlong: 0;\n\
         \tchar y;\n\
         \tlong: 0;\n\
         };\n\n"
    );
}

#[test]
fn duplicate_names_are_renamed_in_emission_order() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    b.add_struct("foo", 4, &[NewMember::new("x", i, 0)])
        .unwrap();
    b.add_struct("foo", 8, &[NewMember::new("y", i, 32)])
        .unwrap();
    b.add_enum("", 4, false, &[("FOO", 1)]).unwrap();
    b.add_enum("", 4, false, &[("FOO", 2)]).unwrap();
    b.add_typedef("foo_t", i);
    b.add_typedef("foo_t", i);
    assert_eq!(
        body(&b),
        "struct foo {\n\tint x;\n};\n\n\
         struct foo___2 {\n\tint: 32;\n\tint y;\n};\n\n\
         enum {\n\tFOO = 1,\n};\n\n\
         enum {\n\tFOO___2 = 2,\n};\n\n\
         typedef int foo_t;\n\n\
         typedef int foo_t___2;\n\n"
    );
}

#[test]
fn enums_signedness_width_and_mode() {
    let mut b = BtfBuilder::new();
    b.add_enum("s", 4, true, &[("NEG", -1), ("POS", 1)])
        .unwrap();
    b.add_enum("u", 4, false, &[("BIG", 0xffff_ffff)]).unwrap();
    b.add_enum("byte", 1, false, &[("B0", 0)]).unwrap();
    b.add_enum("word", 8, false, &[("W0", 0)]).unwrap();
    b.add_enum64("wide", 8, false, &[("WIDE", 1 << 40)])
        .unwrap();
    b.add_enum64("narrow64", 8, true, &[("N64", -5i64 as u64)])
        .unwrap();
    b.add_enum64("small64", 8, false, &[("S64", 7)]).unwrap();
    assert_eq!(
        body(&b),
        "enum s {\n\tNEG = -1,\n\tPOS = 1,\n};\n\n\
         enum u {\n\tBIG = 4294967295,\n};\n\n\
         enum byte {\n\tB0 = 0,\n} __attribute__((mode(byte)));\n\n\
         enum word {\n\tW0 = 0,\n} __attribute__((mode(word)));\n\n\
         enum wide {\n\tWIDE = 1099511627776ULL,\n};\n\n\
         enum narrow64 {\n\tN64 = -5LL,\n};\n\n\
         enum small64 {\n\tS64 = 7ULL,\n} __attribute__((mode(word)));\n\n"
    );
}

#[test]
fn type_tags_va_list_and_fwds() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let tagged = b.add_type_tag("user", i, false);
    let ptag = b.add_ptr(tagged);
    let attr = b.add_type_tag("noderef", i, true);
    let pattr = b.add_ptr(attr);
    let c = b.add_int("char", 1, IntEncoding::SIGNED);
    let pc = b.add_ptr(c);
    let va = b.add_typedef("__builtin_va_list", pc);
    let gva = b.add_typedef("__gnuc_va_list", va);
    let fwd = b.add_fwd("opaque", false);
    let pfwd = b.add_ptr(fwd);
    let ufwd = b.add_fwd("uopaque", true);
    let pufwd = b.add_ptr(ufwd);
    b.add_struct(
        "tags",
        40,
        &[
            NewMember::new("u", ptag, 0),
            NewMember::new("n", pattr, 64),
            NewMember::new("ap", gva, 128),
            NewMember::new("o", pfwd, 192),
            NewMember::new("uo", pufwd, 256),
        ],
    )
    .unwrap();
    assert_eq!(
        body(&b),
        "typedef __builtin_va_list __gnuc_va_list;\n\n\
         struct opaque;\n\n\
         union uopaque;\n\n\
         struct tags {\n\
         \tint __attribute__((btf_type_tag(\"user\"))) *u;\n\
         \tint __attribute__((noderef)) *n;\n\
         \t__gnuc_va_list ap;\n\
         \tstruct opaque *o;\n\
         \tunion uopaque *uo;\n\
         };\n\n"
    );
}

#[test]
fn kfunc_block_lists_tagged_functions_by_name() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let proto = b.add_func_proto(i, &[("x", i)]).unwrap();
    let zed = b.add_func("zed_kfunc", proto, FuncLinkage::Static);
    let abc = b.add_func("abc_kfunc", proto, FuncLinkage::Static);
    let plain = b.add_func("not_a_kfunc", proto, FuncLinkage::Static);
    b.add_decl_tag("bpf_kfunc", zed, -1, false);
    b.add_decl_tag("bpf_kfunc", abc, -1, false);
    b.add_decl_tag("bpf_fastcall", abc, -1, false);
    b.add_decl_tag("bpf_kfunc", plain, 0, false); // on a parameter: not a kfunc
    let s = body_with(&b, CDumpOptions::new().sorted(false)).unwrap();
    assert_eq!(
        s,
        "\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n\
         extern __bpf_fastcall int abc_kfunc(int x) __weak __ksym;\n\
         extern int zed_kfunc(int x) __weak __ksym;\n\
         #endif\n\n"
    );
}

#[test]
fn sorted_order_ranks_kinds_then_names() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    b.add_struct("zeta", 4, &[NewMember::new("z", i, 0)])
        .unwrap();
    b.add_struct("alpha", 4, &[NewMember::new("a", i, 0)])
        .unwrap();
    b.add_enum("named", 4, false, &[("N", 0)]).unwrap();
    b.add_enum("", 4, false, &[("B_ANON", 0)]).unwrap();
    b.add_enum("", 4, false, &[("A_ANON", 0)]).unwrap();
    b.add_typedef("u32_t", i);
    let s = body_with(&b, CDumpOptions::new().kfuncs(false)).unwrap();
    // Rank 0 (anonymous enums) sorts first, and bpftool never dumps the first sorted entry
    // on its own: enum A_ANON is left out, as bpftool leaves it out.
    assert_eq!(
        s,
        "enum {\n\tB_ANON = 0,\n};\n\n\
         enum named {\n\tN = 0,\n};\n\n\
         typedef int u32_t;\n\n\
         struct alpha {\n\tint a;\n};\n\n\
         struct zeta {\n\tint z;\n};\n\n"
    );
}

#[test]
fn root_ids_dump_only_what_they_need() {
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let inner = b
        .add_struct("inner", 4, &[NewMember::new("v", i, 0)])
        .unwrap();
    let outer = b
        .add_struct("outer", 4, &[NewMember::new("in", inner, 0)])
        .unwrap();
    b.add_struct("unrelated", 4, &[NewMember::new("u", i, 0)])
        .unwrap();
    let s = body_with(&b, CDumpOptions::new().kfuncs(false).root_ids([outer])).unwrap();
    assert_eq!(
        s,
        "struct inner {\n\tint v;\n};\n\nstruct outer {\n\tstruct inner in;\n};\n\n"
    );
}

#[test]
fn exponential_fan_out_is_an_error_not_a_hang() {
    // 40 FUNC_PROTOs, each taking two parameters of the next: 2^40 paths through the graph.
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let mut next = b.add_func_proto(i, &[]).unwrap();
    for _ in 0..40 {
        next = b.add_func_proto(i, &[("a", next), ("b", next)]).unwrap();
    }
    let p = b.add_ptr(next);
    b.add_typedef("fan_t", p);
    let e = body_with(&b, CDumpOptions::new()).unwrap_err();
    assert!(
        matches!(e, CDumpError::Btf(BtfError::BadType { .. })),
        "{e:?}"
    );
}

#[test]
fn corrupted_btf_never_panics() {
    // Flip bytes of a valid BTF's type section: every result is a header or an error.
    let mut b = BtfBuilder::new();
    let i = int(&mut b);
    let c = b.add_int("char", 1, IntEncoding::SIGNED);
    let pc = b.add_ptr(c);
    let arr = b.add_array(pc, i, 3);
    let proto = b.add_func_proto(i, &[("s", pc), ("", 0)]).unwrap();
    let fp = b.add_ptr(proto);
    let anon = b
        .add_union(
            "",
            8,
            &[NewMember::new("p", fp, 0), NewMember::new("i", i, 0)],
        )
        .unwrap();
    b.add_struct(
        "s",
        40,
        &[
            NewMember::new("a", arr, 0),
            NewMember::new("", anon, 192),
            NewMember::bitfield("f", i, 256, 3),
        ],
    )
    .unwrap();
    b.add_enum("e", 1, true, &[("E1", -1)]).unwrap();
    let good = b.encode();
    let hdr = u32::from_ne_bytes(good[4..8].try_into().unwrap()) as usize;
    let types_len = u32::from_ne_bytes(good[12..16].try_into().unwrap()) as usize;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut err) = (0, 0);
    for _ in 0..800 {
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 3 {
            let at = hdr + (next() as usize % types_len);
            bytes[at] = next() as u8;
        }
        let Ok(btf) = Btf::parse(&bytes) else {
            continue;
        };
        for sorted in [true, false] {
            let mut out = Vec::new();
            match write_c_header(&btf, &mut out, &CDumpOptions::new().sorted(sorted)) {
                Ok(()) => ok += 1,
                Err(_) => err += 1,
            }
        }
    }
    assert!(ok > 0 && err > 0, "ok {ok}, errors {err}");
}

#[test]
fn split_btf_dumps_base_and_split_types_together() {
    let mut base = BtfBuilder::new();
    let i = int(&mut base);
    let dev = base
        .add_struct("net_device", 4, &[NewMember::new("ifindex", i, 0)])
        .unwrap();
    let base_bytes = base.encode();
    let base_btf = std::sync::Arc::new(Btf::parse(&base_bytes).unwrap());
    let mut m = BtfBuilder::new_split(&base_btf);
    let pdev = m.add_ptr(dev);
    m.add_struct(
        "veth_priv",
        16,
        &[NewMember::new("peer", pdev, 0), NewMember::new("n", i, 64)],
    )
    .unwrap();
    let split_bytes = m.encode();
    let split = Btf::parse_split(&split_bytes, base_btf).unwrap();
    let mut out = Vec::new();
    let opts = CDumpOptions::new().sorted(false).kfuncs(false);
    write_c_header(&split, &mut out, &opts).unwrap();
    let s = String::from_utf8(out).unwrap();
    let body = s
        .strip_prefix(HEADER)
        .unwrap()
        .strip_suffix(FOOTER)
        .unwrap();
    assert_eq!(
        body,
        "struct net_device {\n\tint ifindex;\n};\n\n\
         struct veth_priv {\n\tstruct net_device *peer;\n\tint n;\n};\n\n"
    );
}

/// Raw BTF of `types` (u32 words) over `strs`.
fn raw_btf(types: &[u32], strs: &[u8]) -> Vec<u8> {
    let tlen = (types.len() * 4) as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&0xeb9fu16.to_ne_bytes());
    v.extend_from_slice(&[1, 0]);
    for w in [24u32, 0, tlen, tlen, strs.len() as u32] {
        v.extend_from_slice(&w.to_ne_bytes());
    }
    for w in types {
        v.extend_from_slice(&w.to_ne_bytes());
    }
    v.extend_from_slice(strs);
    v
}

#[test]
fn equal_names_at_different_string_offsets_are_one_name() {
    // Two structs and two typedefs named by two copies of the same strings (a string section
    // that is not de-duplicated): libbpf counts names by their text, so the second of each is
    // renamed.
    const STRUCT: u32 = 4 << 24;
    const TYPEDEF: u32 = 8 << 24;
    let strs = b"\0foo\0foo\0foo_t\0foo_t\0";
    let types = [
        1, STRUCT, 4, // [1] struct foo (offset 1)
        5, STRUCT, 4, // [2] struct foo (offset 5)
        9, TYPEDEF, 1, // [3] typedef struct foo foo_t
        15, TYPEDEF, 2, // [4] typedef struct foo___2 foo_t___2
    ];
    let bytes = raw_btf(&types, strs);
    let btf = Btf::parse(&bytes).expect("parses");
    let mut out = Vec::new();
    write_c_header(
        &btf,
        &mut out,
        &CDumpOptions::new().sorted(false).kfuncs(false),
    )
    .expect("dump");
    let s = String::from_utf8(out).expect("utf-8");
    let body = s
        .strip_prefix(HEADER)
        .and_then(|s| s.strip_suffix(FOOTER))
        .expect("preamble and footer");
    assert_eq!(
        body,
        "struct foo {\n\tint: 32;\n};\n\n\
         struct foo___2 {\n\tint: 32;\n};\n\n\
         typedef struct foo foo_t;\n\n\
         typedef struct foo___2 foo_t___2;\n\n"
    );
}
