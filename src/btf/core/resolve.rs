//! Resolving one relocation: local spec, candidates, matching, the fixup
//! (`bpf_core_apply_relo` / `bpf_core_resolve_relo` / `bpf_core_calc_relo`).

use super::{
    Calc, CoreError, CoreRelo, CoreReloKind, Fail, Fixup, Insn, Kind, RelocClass, Relocator, Spec,
    apply_fixup, calc, class_of, describe, match_spec, parse_access, parse_spec,
};

/// The result of one candidate.
struct Outcome {
    cand: usize,
    bit_offset: u64,
    calc: Option<Calc>,
    description: String,
}

impl<'l, 't> Relocator<'l, 't> {
    /// Computes the fixup of relocation `relo` (the `index`-th of its program).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] for a malformed record, [`CoreError::Ambiguous`] when matching
    /// candidates disagree, [`CoreError::Btf`] for broken BTF, [`CoreError::ModuleBtf`].
    pub fn compute(&mut self, index: usize, relo: &CoreRelo) -> Result<Fixup, CoreError> {
        let kind = relo.kind;
        let insn = relo.insn as usize;
        self.compute_inner(index, relo, kind).map_err(|f| match f {
            Fail::Invalid(what) => CoreError::Invalid {
                index,
                insn,
                kind,
                what,
            },
            Fail::Btf(source) => CoreError::Btf {
                index,
                insn,
                kind,
                source,
            },
            Fail::Module(e) => CoreError::ModuleBtf(e),
            Fail::Ambiguous { relo, candidates } => CoreError::Ambiguous {
                index,
                insn,
                kind,
                relo,
                candidates,
            },
        })
    }

    fn compute_inner(
        &mut self,
        index: usize,
        relo: &CoreRelo,
        kind: CoreReloKind,
    ) -> Result<Fixup, Fail> {
        let class =
            class_of(kind).ok_or_else(|| Fail::Invalid(format!("unknown kind {:?}", relo.kind)))?;
        let local = self.local;
        let root = local.type_by_id(relo.type_id).map_err(Fail::Btf)?;
        if root.kind() == Kind::Void && kind != CoreReloKind::TypeIdLocal {
            return Err(Fail::Invalid("root type is void (id 0)".into()));
        }
        let access = local.string(relo.access_str_off).map_err(Fail::Btf)?;
        let raw = parse_access(access)?;
        let local_spec = parse_spec(local, relo.type_id, raw, class)?;
        let description = describe(&local_spec, class);
        let mut fix = Fixup {
            index,
            insn: relo.insn as usize,
            kind,
            local_type: relo.type_id,
            access: access.to_owned(),
            description,
            target_type: None,
            target_btf: 0,
            target_description: None,
            local_value: 0,
            target_value: 0,
            poison: false,
            validate: true,
            local_size: 0,
            target_size: 0,
            fail_memsz_adjust: false,
        };
        if kind == CoreReloKind::TypeIdLocal {
            fix.local_value = u64::from(relo.type_id);
            fix.target_value = fix.local_value;
            return Ok(fix);
        }
        if root.name_bytes().is_empty() {
            return Err(Fail::Invalid(format!(
                "{kind:?} on an anonymous type is not supported (only TYPE_ID_LOCAL is)"
            )));
        }
        let local_calc = calc(kind, class, Some(&local_spec))?.unwrap_or_default();
        let cands = self.candidates(relo.type_id)?.to_vec();
        let mut chosen: Option<(Outcome, Spec<'_>)> = None;
        let mut all: Vec<Outcome> = Vec::new();
        let mut ambiguous = false;
        for (ci, c) in cands.iter().enumerate() {
            let Some(btf) = Self::btf_of(self.target, &self.modules, c.btf) else {
                continue;
            };
            let Some(ts) = match_spec(&local_spec, kind, class, btf, c.id)? else {
                continue;
            };
            let tc = calc(kind, class, Some(&ts))?;
            let out = Outcome {
                cand: ci,
                bit_offset: ts.bit_offset,
                calc: tc,
                description: describe(&ts, class),
            };
            match &chosen {
                None => chosen = Some((out, ts)),
                Some((first, _)) => {
                    let differs = (class == RelocClass::Field
                        && first.bit_offset != out.bit_offset)
                        || first.calc.map(|c| c.val) != out.calc.map(|c| c.val)
                        || first.calc.is_none() != out.calc.is_none();
                    ambiguous |= differs;
                    all.push(out);
                }
            }
        }
        if ambiguous {
            let mut outs: Vec<&Outcome> = chosen.iter().map(|(o, _)| o).collect();
            outs.extend(all.iter());
            let candidates = outs
                .iter()
                .map(|o| {
                    let c = cands[o.cand];
                    let v = o.calc.map_or("poison".to_string(), |c| c.val.to_string());
                    format!("[{}] {} = {v}", c.id, o.description)
                })
                .collect();
            return Err(Fail::Ambiguous {
                relo: fix.description,
                candidates,
            });
        }
        // libbpf keeps one candidate list per local root type for the whole object and
        // narrows it to the candidates that matched: a later relocation of the same root type
        // sees only those (and is poisoned if it matches none of them).
        if let Some((first, _)) = &chosen {
            let matched: Vec<_> = std::iter::once(first.cand)
                .chain(all.iter().map(|o| o.cand))
                .map(|i| cands[i])
                .collect();
            if matched.len() < cands.len() {
                self.cache.insert(relo.type_id, matched);
            }
        }
        let targ_calc = match &chosen {
            Some((o, _)) => {
                let c = cands[o.cand];
                fix.target_type = Some(c.id);
                fix.target_btf = c.btf;
                fix.target_description = Some(o.description.clone());
                o.calc
            }
            None => calc(kind, class, None)?,
        };
        fix.local_value = local_calc.val;
        fix.validate = local_calc.validate;
        fix.local_size = local_calc.field_size;
        match targ_calc {
            None => fix.poison = true,
            Some(tc) => {
                fix.target_value = tc.val;
                fix.target_size = tc.field_size;
                if class == RelocClass::Field && local_calc.field_size != tc.field_size {
                    let lt = local.type_by_id(local_calc.field_type).ok();
                    let tt = chosen.as_ref().and_then(|(_, ts)| {
                        ts.btf.type_by_id(tc.field_type).ok().map(|t| (t.kind(), t))
                    });
                    let safe = match (lt, tt) {
                        (Some(l), Some((Kind::Ptr, _))) if l.kind() == Kind::Ptr => true,
                        (Some(l), Some((Kind::Int, t))) => {
                            l.as_int().is_some_and(|i| !i.is_signed())
                                && t.as_int().is_some_and(|i| !i.is_signed())
                        }
                        _ => false,
                    };
                    fix.fail_memsz_adjust = !safe;
                }
            }
        }
        Ok(fix)
    }

    /// Computes every relocation of a program, then patches `insns`.
    ///
    /// Returns the fixups (keep them: [`CoreError::from_verifier_log`] maps a verifier
    /// rejection of a poisoned instruction back to its relocation).
    ///
    /// # Errors
    /// As [`Relocator::compute`] and [`apply_fixup`]; `insns` is left unchanged when
    /// computing fails.
    pub fn relocate(
        &mut self,
        insns: &mut [Insn],
        relos: &[CoreRelo],
    ) -> Result<Vec<Fixup>, CoreError> {
        self.prefetch(relos.iter().map(|r| r.type_id));
        let mut fixups = Vec::with_capacity(relos.len());
        for (i, r) in relos.iter().enumerate() {
            if r.insn as usize >= insns.len() {
                return Err(CoreError::Invalid {
                    index: i,
                    insn: r.insn as usize,
                    kind: r.kind,
                    what: format!("instruction outside the program of {}", insns.len()),
                });
            }
            fixups.push(self.compute(i, r)?);
        }
        for f in &fixups {
            apply_fixup(insns, f)?;
        }
        Ok(fixups)
    }
}
