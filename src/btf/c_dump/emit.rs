//! The C declaration dumper: the same algorithm and output as libbpf's `btf_dump.c` (type
//! ordering with strong and weak edges, forward declarations, inline anonymous types,
//! declarator chains, name de-duplication, padding and packing), written for rawbpf.

use super::super::{BtfError, TypeId};
use super::graph::*;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

const NOT_ORDERED: u8 = 0;
const ORDERING: u8 = 1;
const ORDERED: u8 = 2;

/// A type's emit state, in the low two bits of its state byte.
const NOT_EMITTED: u8 = 0;
const EMITTING: u8 = 1;
const EMITTED: u8 = 2;
const EMIT_MASK: u8 = 3;

/// Flags in the state byte.
const FWD_EMITTED: u8 = 4;
const NAME_RESOLVED: u8 = 8;
/// The resolved name has a `___N` suffix (in [`Dumper::dup`]).
const HAS_DUP: u8 = 16;

/// Nesting depth (recursive calls) after which the type graph is declared cyclic or too deep.
const MAX_NESTING: u32 = 256;

/// Recursive steps allowed per type (6.18's vmlinux takes fewer than 5), and at least.
const STEPS_PER_TYPE: u64 = 256;
const MIN_STEPS: u64 = 1 << 20;

/// Output that a dump may hold before it is flushed: one declaration larger is corrupt.
const MAX_DECL_TEXT: usize = 16 << 20;

/// At most this many tabs of indentation (libbpf's `PREFIXES`).
const MAX_INDENT: usize = 13;

/// The output buffer with the few formatting primitives the dumper uses.
pub(super) struct Out {
    pub buf: Vec<u8>,
}

impl Out {
    #[inline]
    pub fn s(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }
    #[inline]
    pub fn u(&mut self, mut v: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }
    #[inline]
    pub fn i(&mut self, v: i64) {
        if v < 0 {
            self.buf.push(b'-');
        }
        self.u(v.unsigned_abs());
    }
    #[inline]
    fn pfx(&mut self, lvl: usize) {
        for _ in 0..lvl.min(MAX_INDENT) {
            self.buf.push(b'\t');
        }
    }
}

/// Which name space a name is de-duplicated in.
#[derive(Clone, Copy)]
enum Names {
    /// struct, union, enum (and INT, as libbpf does for its alias check).
    Type,
    /// typedefs and enumerators.
    Ident,
}

/// Nesting depth and the number of recursive steps taken, with their limits.
struct Budget {
    depth: u32,
    steps: u64,
    max_steps: u64,
}

impl Budget {
    fn new(n: usize) -> Self {
        Budget {
            depth: 0,
            steps: 0,
            max_steps: STEPS_PER_TYPE * n as u64 + MIN_STEPS,
        }
    }

    #[inline]
    fn enter(&mut self, id: TypeId) -> Result<(), BtfError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(BtfError::Loop { id });
        }
        // Modifiers, arrays and function prototypes are walked again on every path that
        // reaches them (as libbpf does): crafted BTF could make that exponential.
        self.steps += 1;
        if self.steps > self.max_steps {
            return Err(BtfError::BadType {
                id,
                offset: 0,
                what: "type graph too large to write as C (references fan out exponentially)",
            });
        }
        Ok(())
    }
}

/// The first half of `btf_dump__dump_type`: the topological order of what a type needs. Its
/// state is its own, so that it can run on another thread, ahead of the [`Dumper`].
pub(super) struct Orderer<'g, 'b> {
    g: &'g Graph<'b>,
    order: Vec<u8>,
    budget: Budget,
}

impl<'g, 'b> Orderer<'g, 'b> {
    pub fn new(g: &'g Graph<'b>) -> Self {
        let n = g.count() as usize;
        let mut order = vec![NOT_ORDERED; n];
        order[0] = ORDERED;
        Orderer {
            g,
            order,
            budget: Budget::new(n),
        }
    }

    /// Appends to `queue` the types that dumping `id` writes, in order.
    pub fn order(&mut self, id: TypeId, queue: &mut Vec<TypeId>) -> Result<(), BtfError> {
        if id >= self.g.count() {
            return Err(BtfError::TypeIdOutOfRange {
                id,
                last: self.g.count() - 1,
                from: None,
            });
        }
        self.order_type(id, false, queue).map(drop)
    }

    /// Topological order: 1 for a strong link, 0 for a weak one (a forward declaration does).
    fn order_type(
        &mut self,
        id: TypeId,
        through_ptr: bool,
        queue: &mut Vec<TypeId>,
    ) -> Result<bool, BtfError> {
        self.budget.enter(id)?;
        let r = self.order_type_inner(id, through_ptr, queue);
        self.budget.depth -= 1;
        r
    }

    fn order_type_inner(
        &mut self,
        id: TypeId,
        through_ptr: bool,
        queue: &mut Vec<TypeId>,
    ) -> Result<bool, BtfError> {
        let g = self.g;
        let i = id as usize;
        if self.order[i] == ORDERED {
            return Ok(true);
        }
        let h = g.head(id);
        if self.order[i] == ORDERING {
            if matches!(h.kind(), STRUCT | UNION) && through_ptr && h.name_off != 0 {
                return Ok(false);
            }
            return Err(BtfError::Loop { id });
        }
        match h.kind() {
            INT | FLOAT => {
                self.order[i] = ORDERED;
                Ok(false)
            }
            PTR => {
                let r = self.order_type(h.st, true, queue)?;
                self.order[i] = ORDERED;
                Ok(r)
            }
            ARRAY => self.order_type(g.array(id).0, false, queue),
            STRUCT | UNION => {
                if through_ptr && h.name_off != 0 {
                    return Ok(false);
                }
                self.order[i] = ORDERING;
                for m in g.members(id) {
                    self.order_type(m.ty, false, queue)?;
                }
                if h.name_off != 0 {
                    queue.push(id);
                }
                self.order[i] = ORDERED;
                Ok(true)
            }
            ENUM | ENUM64 | FWD => {
                if h.name_off != 0 || !g.referenced(id) {
                    queue.push(id);
                }
                self.order[i] = ORDERED;
                Ok(true)
            }
            TYPEDEF => {
                let strong = self.order_type(h.st, through_ptr, queue)?;
                if through_ptr && !strong {
                    return Ok(false);
                }
                queue.push(id);
                self.order[i] = ORDERED;
                Ok(true)
            }
            VOLATILE | CONST | RESTRICT | TYPE_TAG => self.order_type(h.st, through_ptr, queue),
            FUNC_PROTO => {
                let mut strong = self.order_type(h.st, through_ptr, queue)?;
                for (_, ty) in g.params(id) {
                    if self.order_type(ty, through_ptr, queue)? {
                        strong = true;
                    }
                }
                Ok(strong)
            }
            FUNC | VAR | DATASEC | DECL_TAG => {
                self.order[i] = ORDERED;
                Ok(false)
            }
            _ => Err(BtfError::BadType {
                id,
                offset: 0,
                what: "unexpected kind in the type graph",
            }),
        }
    }
}

/// The second half of `btf_dump__dump_type`: writes the types an [`Orderer`] queued.
pub(super) struct Dumper<'g, 'b> {
    g: &'g Graph<'b>,
    pub out: Out,
    /// Per type: emit state (low two bits), `FWD_EMITTED`, `NAME_RESOLVED`.
    state: Vec<u8>,
    /// The `___N` suffix of the types whose resolved name has one.
    dup: HashMap<TypeId, u32, BuildHasherDefault<FxHasher>>,
    /// For [`Dumper::dump_type`], which orders and writes in one go.
    orderer: Option<Orderer<'g, 'b>>,
    queue: Vec<TypeId>,
    stack: Vec<TypeId>,
    type_names: NameTable,
    ident_names: NameTable,
    budget: Budget,
    /// The struct being written (named in errors).
    current: TypeId,
}

impl<'g, 'b> Dumper<'g, 'b> {
    /// A dumper that orders types itself ([`Dumper::dump_type`]), or, with `ordered_elsewhere`,
    /// one that only writes what an [`Orderer`] queued ([`Dumper::emit_queued`]).
    pub fn new(g: &'g Graph<'b>, ordered_elsewhere: bool) -> Self {
        let n = g.count() as usize;
        let mut state = vec![NOT_EMITTED; n];
        state[0] = EMITTED;
        Dumper {
            g,
            out: Out {
                buf: Vec::with_capacity(64 << 10),
            },
            state,
            dup: HashMap::default(),
            orderer: (!ordered_elsewhere).then(|| Orderer::new(g)),
            queue: Vec::new(),
            stack: Vec::new(),
            type_names: NameTable::with_capacity(g.type_names_max / 2),
            ident_names: NameTable::with_capacity(g.ident_names_max),
            budget: Budget::new(n),
            current: 0,
        }
    }

    #[inline]
    fn emit_state(&self, i: usize) -> u8 {
        self.state[i] & EMIT_MASK
    }

    #[inline]
    fn set_emit_state(&mut self, i: usize, v: u8) {
        self.state[i] = self.state[i] & !EMIT_MASK | v;
    }

    #[inline]
    fn enter(&mut self, id: TypeId) -> Result<(), BtfError> {
        self.budget.enter(id)
    }

    /// Writes the types an [`Orderer`] queued, in order.
    pub fn emit_queued(&mut self, queue: &[TypeId]) -> Result<(), BtfError> {
        for &q in queue {
            self.emit_type(q, 0)?;
        }
        Ok(())
    }

    /// `btf_dump__dump_type`: `id` and every type it needs that is not out yet.
    pub fn dump_type(&mut self, id: TypeId) -> Result<(), BtfError> {
        let mut queue = std::mem::take(&mut self.queue);
        queue.clear();
        let r = match self.orderer.as_mut() {
            Some(o) => o.order(id, &mut queue),
            None => Ok(()),
        };
        let r = r.and_then(|()| self.emit_queued(&queue));
        self.queue = queue;
        r
    }

    fn is_blacklisted(&self, id: TypeId) -> bool {
        self.g.name_off(id) != 0 && self.g.name(id) == b"__builtin_va_list"
    }

    fn emit_type(&mut self, id: TypeId, cont_id: TypeId) -> Result<(), BtfError> {
        self.enter(id)?;
        let r = self.emit_type_inner(id, cont_id);
        self.budget.depth -= 1;
        r
    }

    fn emit_type_inner(&mut self, id: TypeId, cont_id: TypeId) -> Result<(), BtfError> {
        let g = self.g;
        let i = id as usize;
        let top_level = cont_id == 0;
        if self.emit_state(i) == EMITTED {
            return Ok(());
        }
        let h = g.head(id);
        let kind = h.kind();
        if self.emit_state(i) == EMITTING {
            if self.state[i] & FWD_EMITTED != 0 {
                return Ok(());
            }
            match kind {
                STRUCT | UNION => {
                    if id == cont_id || h.name_off == 0 {
                        // An anonymous loop cannot be declared: libbpf warns and goes on.
                        return Ok(());
                    }
                    self.emit_struct_fwd(id);
                    self.out.s(b";\n\n");
                    self.state[i] |= FWD_EMITTED;
                }
                TYPEDEF => {
                    if !self.is_blacklisted(id) {
                        self.emit_typedef_def(id, 0)?;
                        self.out.s(b";\n\n");
                    }
                    self.state[i] |= FWD_EMITTED;
                }
                _ => {}
            }
            return Ok(());
        }
        match kind {
            INT => {
                self.emit_missing_aliases(id);
                self.set_emit_state(i, EMITTED);
            }
            ENUM | ENUM64 => {
                if top_level {
                    self.emit_enum_def(id, 0);
                    self.out.s(b";\n\n");
                }
                self.set_emit_state(i, EMITTED);
            }
            PTR | VOLATILE | CONST | RESTRICT | TYPE_TAG => self.emit_type(h.st, cont_id)?,
            ARRAY => self.emit_type(g.array(id).0, cont_id)?,
            FWD => {
                self.emit_fwd_def(id);
                self.out.s(b";\n\n");
                self.set_emit_state(i, EMITTED);
            }
            TYPEDEF => {
                self.set_emit_state(i, EMITTING);
                self.emit_type(h.st, id)?;
                if self.state[i] & FWD_EMITTED == 0 && !self.is_blacklisted(id) {
                    self.emit_typedef_def(id, 0)?;
                    self.out.s(b";\n\n");
                }
                self.set_emit_state(i, EMITTED);
            }
            STRUCT | UNION => {
                self.set_emit_state(i, EMITTING);
                let anon = h.name_off == 0;
                if top_level || anon {
                    let new_cont = if anon { cont_id } else { id };
                    for m in g.members(id) {
                        self.emit_type(m.ty, new_cont)?;
                    }
                } else if self.state[i] & FWD_EMITTED == 0 && id != cont_id {
                    self.emit_struct_fwd(id);
                    self.out.s(b";\n\n");
                    self.state[i] |= FWD_EMITTED;
                }
                if top_level {
                    self.emit_struct_def(id, 0)?;
                    self.out.s(b";\n\n");
                    self.set_emit_state(i, EMITTED);
                } else {
                    self.set_emit_state(i, NOT_EMITTED);
                }
            }
            FUNC_PROTO => {
                self.emit_type(h.st, cont_id)?;
                for (_, ty) in g.params(id) {
                    self.emit_type(ty, cont_id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn is_struct_packed(&self, id: TypeId) -> Result<bool, BtfError> {
        let g = self.g;
        let mut max_align = 1;
        for m in g.members(id) {
            let align = g.align_of(m.ty)?;
            if align != 0 && m.bits == 0 && m.bit_off % (8 * align) != 0 {
                return Ok(true);
            }
            max_align = max_align.max(align);
        }
        Ok(g.st(id) % max_align != 0)
    }

    fn emit_bit_padding(
        &mut self,
        mut cur: i64,
        next: i64,
        next_align: i64,
        in_bitfield: bool,
        lvl: usize,
    ) -> Result<(), BtfError> {
        fn roundup(x: i64, y: i64) -> i64 {
            if y == 0 { x } else { (x + y - 1) / y * y }
        }
        let pads: [(&[u8], i64); 4] = [
            (b"long", self.g.ptr_sz as i64 * 8),
            (b"int", 32),
            (b"short", 16),
            (b"char", 8),
        ];
        if cur >= next {
            return Ok(());
        }
        let (mut pad_type, mut pad_bits, mut new_off) = (pads[0].0, 0, 0);
        for &(name, bits) in &pads {
            pad_bits = bits;
            pad_type = name;
            new_off = roundup(cur, bits);
            if new_off <= next {
                break;
            }
        }
        if new_off > cur && new_off <= next {
            if in_bitfield
                || (new_off == next && roundup(cur, next_align * 8) != new_off)
                || (new_off != next && next - new_off <= new_off - cur)
            {
                self.out.s(b"\n");
                self.out.pfx(lvl);
                self.out.s(pad_type);
                self.out.s(b": ");
                self.out.i(if in_bitfield { new_off - cur } else { 0 });
                self.out.s(b";");
            }
            cur = new_off;
        }
        while cur != next {
            if self.out.buf.len() > MAX_DECL_TEXT {
                // Sizes this large are corrupt: libbpf would print gigabytes of padding.
                return Err(BtfError::BadSize {
                    id: self.current,
                    what: "struct padding of more than 16 MiB of C text",
                });
            }
            let bits = (next - cur).min(pad_bits);
            if bits == pad_bits {
                self.out.s(b"\n");
                self.out.pfx(lvl);
                self.out.s(pad_type);
                self.out.s(b": ");
                self.out.i(pad_bits);
                self.out.s(b";");
                cur += bits;
                continue;
            }
            for &(name, pbits) in pads.iter().rev() {
                pad_type = name;
                pad_bits = pbits;
                if pbits < bits {
                    continue;
                }
                self.out.s(b"\n");
                self.out.pfx(lvl);
                self.out.s(pad_type);
                self.out.s(b": ");
                self.out.i(bits);
                self.out.s(b";");
                cur += bits;
                break;
            }
        }
        Ok(())
    }

    fn emit_struct_fwd(&mut self, id: TypeId) {
        let g = self.g;
        self.out.s(if g.kind(id) == STRUCT {
            b"struct"
        } else {
            b"union"
        });
        if g.name_off(id) != 0 {
            self.out.s(b" ");
        }
        self.emit_resolved_name(id, Names::Type);
    }

    fn emit_struct_def(&mut self, id: TypeId, lvl: usize) -> Result<(), BtfError> {
        self.enter(id)?;
        let r = self.emit_struct_def_inner(id, lvl);
        self.budget.depth -= 1;
        r
    }

    fn emit_struct_def_inner(&mut self, id: TypeId, lvl: usize) -> Result<(), BtfError> {
        let g = self.g;
        self.current = id;
        let h = g.head(id);
        let is_struct = h.kind() == STRUCT;
        let align = g.align_of(id)?;
        let packed = is_struct && self.is_struct_packed(id)?;
        self.emit_struct_fwd(id);
        self.out.s(b" {");
        let vlen = h.vlen();
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in g.members(id) {
            let (name_off, ty, m_off, m_sz) = (m.name_off, m.ty, m.bit_off, m.bits);
            let fname = g.str(name_off);
            let m_align = if packed { 1 } else { g.align_of(ty)? };
            let in_bitfield = prev_bitfield && m_sz != 0;
            self.emit_bit_padding(off, m_off as i64, m_align as i64, in_bitfield, lvl + 1)?;
            self.out.s(b"\n");
            self.out.pfx(lvl + 1);
            self.emit_type_decl(ty, fname, lvl + 1)?;
            if m_sz != 0 {
                self.out.s(b": ");
                self.out.u(m_sz as u64);
                off = m_off as i64 + m_sz as i64;
                prev_bitfield = true;
            } else {
                let sz = g.resolve_size(ty).max(0);
                off = m_off as i64 + sz * 8;
                prev_bitfield = false;
            }
            self.out.s(b";");
        }
        if is_struct {
            self.emit_bit_padding(off, h.st as i64 * 8, align as i64, false, lvl + 1)?;
        }
        if vlen != 0 || h.st != 0 {
            self.out.s(b"\n");
            self.out.pfx(lvl);
        }
        self.out.s(b"}");
        if packed {
            self.out.s(b" __attribute__((packed))");
        }
        Ok(())
    }

    fn emit_missing_aliases(&mut self, id: TypeId) {
        const MISSING: [(&[u8], &[u8]); 4] = [
            (b"__Poly8_t", b"unsigned char"),
            (b"__Poly16_t", b"unsigned short"),
            (b"__Poly64_t", b"unsigned long long"),
            (b"__Poly128_t", b"unsigned __int128"),
        ];
        let (name, dup) = self.resolve_name(id, Names::Type);
        if dup > 1 {
            // A renamed `name___N` matches none of the aliases.
            return;
        }
        if let Some((_, base)) = MISSING.iter().find(|(n, _)| *n == name) {
            self.out.s(b"typedef ");
            self.out.s(base);
            self.out.s(b" ");
            self.out.s(name);
            self.out.s(b";\n\n");
        }
    }

    fn emit_enum_def(&mut self, id: TypeId, lvl: usize) {
        let g = self.g;
        self.out.s(b"enum");
        if g.name_off(id) != 0 {
            self.out.s(b" ");
        }
        self.emit_resolved_name(id, Names::Type);
        let vlen = g.vlen(id);
        if vlen == 0 {
            return;
        }
        self.out.s(b" {");
        let signed = g.kflag(id);
        let is64 = g.kind(id) == ENUM64;
        for (name_off, val) in g.enumerators(id) {
            let name = g.str(name_off);
            let dup = self.ident_names.bump(g, name_off, name);
            self.out.s(b"\n");
            self.out.pfx(lvl + 1);
            self.out.s(name);
            if dup > 1 {
                self.out.s(b"___");
                self.out.u(dup as u64);
            }
            self.out.s(b" = ");
            match (is64, signed) {
                (false, true) => self.out.i(val as u32 as i32 as i64),
                (false, false) => self.out.u(val as u32 as u64),
                (true, true) => {
                    self.out.i(val as i64);
                    self.out.s(b"LL");
                }
                (true, false) => {
                    self.out.u(val);
                    self.out.s(b"ULL");
                }
            }
            self.out.s(b",");
        }
        self.out.s(b"\n");
        self.out.pfx(lvl);
        self.out.s(b"}");
        let size = g.st(id);
        if size == 1 {
            self.out.s(b" __attribute__((mode(byte)))");
        } else if size == 8 && g.ptr_sz == 8 {
            let needs_word = !is64 || g.enumerators(id).all(|(_, v)| v >> 32 == 0);
            if needs_word {
                self.out.s(b" __attribute__((mode(word)))");
            }
        }
    }

    fn emit_fwd_def(&mut self, id: TypeId) {
        self.out.s(if self.g.kflag(id) {
            b"union "
        } else {
            b"struct "
        });
        self.emit_resolved_name(id, Names::Type);
    }

    fn emit_typedef_def(&mut self, id: TypeId, lvl: usize) -> Result<(), BtfError> {
        let g = self.g;
        let (name, dup) = self.resolve_name(id, Names::Ident);
        if g.st(id) == 0 && dup <= 1 && name == b"__gnuc_va_list" {
            self.out.s(b"typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.out.s(b"typedef ");
        let full = dup_name(name, dup);
        self.emit_type_decl(g.st(id), &full, lvl)
    }

    /// `btf_dump_emit_type_decl`: the declaration of a `fname` of type `id`.
    pub fn emit_type_decl(&mut self, id: TypeId, fname: &[u8], lvl: usize) -> Result<(), BtfError> {
        self.enter(id)?;
        let r = self.emit_type_decl_inner(id, fname, lvl);
        self.budget.depth -= 1;
        r
    }

    fn emit_type_decl_inner(
        &mut self,
        mut id: TypeId,
        fname: &[u8],
        lvl: usize,
    ) -> Result<(), BtfError> {
        let g = self.g;
        let start = self.stack.len();
        let mut steps = 0u32;
        loop {
            self.stack.push(id);
            if id == 0 {
                break;
            }
            steps += 1;
            if steps > g.count() {
                self.stack.truncate(start);
                return Err(BtfError::Loop { id });
            }
            let h = g.head(id);
            match h.kind() {
                PTR | VOLATILE | CONST | RESTRICT | FUNC_PROTO | TYPE_TAG => id = h.st,
                ARRAY => id = g.array(id).0,
                _ => break,
            }
        }
        let mut cnt = self.stack.len() - start;
        let r = self.emit_type_chain(start, &mut cnt, fname, lvl);
        self.stack.truncate(start);
        r
    }

    fn emit_mods(&mut self, start: usize, cnt: &mut usize) {
        while *cnt > 0 {
            let id = self.stack[start + *cnt - 1];
            match self.g.kind(id) {
                VOLATILE if id != 0 => self.out.s(b"volatile "),
                CONST if id != 0 => self.out.s(b"const "),
                RESTRICT if id != 0 => self.out.s(b"restrict "),
                _ => return,
            }
            *cnt -= 1;
        }
    }

    fn drop_mods(&mut self, start: usize, cnt: &mut usize) {
        while *cnt > 0 {
            let id = self.stack[start + *cnt - 1];
            if id == 0 || !self.g.is_mod(id) {
                return;
            }
            *cnt -= 1;
        }
    }

    fn emit_name(&mut self, name: &[u8], last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.s(b" ");
        }
        self.out.s(name);
    }

    fn emit_type_chain(
        &mut self,
        start: usize,
        cnt: &mut usize,
        fname: &[u8],
        lvl: usize,
    ) -> Result<(), BtfError> {
        let g = self.g;
        let mut last_was_ptr = true;
        while *cnt > 0 {
            *cnt -= 1;
            let id = self.stack[start + *cnt];
            if id == 0 {
                self.emit_mods(start, cnt);
                self.out.s(b"void");
                last_was_ptr = false;
                continue;
            }
            let h = g.head(id);
            let kind = h.kind();
            match kind {
                INT | FLOAT => {
                    self.emit_mods(start, cnt);
                    self.out.s(g.str(h.name_off));
                }
                STRUCT | UNION => {
                    self.emit_mods(start, cnt);
                    if h.name_off == 0 {
                        self.emit_struct_def(id, lvl)?;
                    } else {
                        self.emit_struct_fwd(id);
                    }
                }
                ENUM | ENUM64 => {
                    self.emit_mods(start, cnt);
                    if h.name_off == 0 {
                        self.emit_enum_def(id, lvl);
                    } else {
                        self.out.s(b"enum ");
                        self.emit_resolved_name(id, Names::Type);
                    }
                }
                FWD => {
                    self.emit_mods(start, cnt);
                    self.emit_fwd_def(id);
                }
                TYPEDEF => {
                    self.emit_mods(start, cnt);
                    self.emit_resolved_name(id, Names::Ident);
                }
                PTR => self.out.s(if last_was_ptr { b"*" } else { b" *" }),
                VOLATILE => self.out.s(b" volatile"),
                CONST => self.out.s(b" const"),
                RESTRICT => self.out.s(b" restrict"),
                TYPE_TAG => {
                    self.emit_mods(start, cnt);
                    if h.kflag() {
                        self.out.s(b" __attribute__((");
                        self.out.s(g.str(h.name_off));
                        self.out.s(b"))");
                    } else {
                        self.out.s(b" __attribute__((btf_type_tag(\"");
                        self.out.s(g.str(h.name_off));
                        self.out.s(b"\")))");
                    }
                }
                ARRAY => {
                    let nelems = g.array(id).2;
                    self.drop_mods(start, cnt);
                    if *cnt == 0 {
                        self.emit_name(fname, last_was_ptr);
                        self.out.s(b"[");
                        self.out.u(nelems as u64);
                        self.out.s(b"]");
                        return Ok(());
                    }
                    let next = self.stack[start + *cnt - 1];
                    let multidim = next != 0 && g.kind(next) == ARRAY;
                    if !fname.is_empty() && !last_was_ptr {
                        self.out.s(b" ");
                    }
                    if !multidim {
                        self.out.s(b"(");
                    }
                    self.emit_type_chain(start, cnt, fname, lvl)?;
                    if !multidim {
                        self.out.s(b")");
                    }
                    self.out.s(b"[");
                    self.out.u(nelems as u64);
                    self.out.s(b"]");
                    return Ok(());
                }
                FUNC_PROTO => {
                    self.drop_mods(start, cnt);
                    if *cnt > 0 {
                        self.out.s(b" (");
                        self.emit_type_chain(start, cnt, fname, lvl)?;
                        self.out.s(b")");
                    } else {
                        self.emit_name(fname, last_was_ptr);
                    }
                    self.out.s(b"(");
                    let vlen = g.vlen(id);
                    if vlen == 0 || (vlen == 1 && g.param(id, 0).1 == 0) {
                        self.out.s(b"void)");
                        return Ok(());
                    }
                    for p in 0..vlen {
                        if p > 0 {
                            self.out.s(b", ");
                        }
                        let (name_off, ty) = g.param(id, p);
                        if p == vlen - 1 && ty == 0 {
                            self.out.s(b"...");
                            break;
                        }
                        self.emit_type_decl(ty, g.str(name_off), lvl)?;
                    }
                    self.out.s(b")");
                    return Ok(());
                }
                // libbpf warns about an unexpected kind in a declaration and stops there.
                _ => return Ok(()),
            }
            last_was_ptr = kind == PTR;
        }
        self.emit_name(fname, last_was_ptr);
        Ok(())
    }

    /// `btf_dump_resolve_name`: the name and its `___N` suffix (0 or 1: none).
    fn resolve_name(&mut self, id: TypeId, names: Names) -> (&'b [u8], u32) {
        let g = self.g;
        let i = id as usize;
        let h = g.head(id);
        let name_off = h.name_off;
        if name_off == 0 {
            return (b"", 0);
        }
        let name = g.str(name_off);
        let st = self.state[i];
        if st & NAME_RESOLVED != 0 {
            if st & HAS_DUP == 0 {
                return (name, 0);
            }
            return (name, self.dup.get(&id).copied().unwrap_or(0));
        }
        self.state[i] |= NAME_RESOLVED;
        let kind = h.kind();
        if kind == FWD || (kind == ENUM && h.vlen() == 0) {
            return (name, 0);
        }
        let map = match names {
            Names::Type => &mut self.type_names,
            Names::Ident => &mut self.ident_names,
        };
        let dup = map.bump(g, name_off, name);
        if dup > 1 {
            self.dup.insert(id, dup);
            self.state[i] |= HAS_DUP;
            (name, dup)
        } else {
            (name, 0)
        }
    }

    fn emit_resolved_name(&mut self, id: TypeId, names: Names) {
        let (name, dup) = self.resolve_name(id, names);
        if dup > 1 {
            let full = dup_name(name, dup);
            self.out.s(&full);
        } else {
            self.out.s(name);
        }
    }
}

/// `name___N` as libbpf formats it (into 256 bytes, so at most 255 of them).
fn dup_name(name: &[u8], dup: u32) -> Vec<u8> {
    let mut v = name.to_vec();
    if dup > 1 {
        v.extend_from_slice(b"___");
        v.extend_from_slice(dup.to_string().as_bytes());
        v.truncate(255);
    }
    v
}

/// Name → number of uses (`btf_dump_name_dups`), keyed by the name's text: an open-addressing
/// table of (string offset, count) that holds no copies of the names, sized up front from the
/// most names there can be.
struct NameTable {
    slots: Vec<NameSlot>,
    len: usize,
}

#[derive(Clone, Copy, Default)]
struct NameSlot {
    off: u32,
    /// 0: the slot is free.
    count: u32,
}

impl NameTable {
    /// A table for up to `max` names (it grows if there are more).
    fn with_capacity(max: usize) -> Self {
        NameTable {
            slots: vec![NameSlot::default(); Self::slots_for(max)],
            len: 0,
        }
    }

    /// Slots for `n` names, at most three quarters full.
    fn slots_for(n: usize) -> usize {
        (n + n / 3 + 1).next_power_of_two().max(64)
    }

    /// Counts one more use of `name` (the string at `off`) and returns the count.
    fn bump(&mut self, g: &Graph<'_>, off: u32, name: &[u8]) -> u32 {
        if self.len + 1 > self.slots.len() / 4 * 3 {
            self.grow(g);
        }
        let mask = self.slots.len() - 1;
        let mut i = name_hash(name) as usize & mask;
        loop {
            let s = &mut self.slots[i];
            if s.count == 0 {
                *s = NameSlot { off, count: 1 };
                self.len += 1;
                return 1;
            }
            if s.off == off || g.str_is(s.off, name) {
                s.count += 1;
                return s.count;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self, g: &Graph<'_>) {
        let cap = Self::slots_for(self.slots.len());
        let old = std::mem::replace(&mut self.slots, vec![NameSlot::default(); cap]);
        let mask = cap - 1;
        for s in old.into_iter().filter(|s| s.count != 0) {
            let mut i = name_hash(g.str(s.off)) as usize & mask;
            while self.slots[i].count != 0 {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }
}

fn name_hash(name: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    std::hash::Hasher::write(&mut h, name);
    std::hash::Hasher::finish(&h) >> 20
}
