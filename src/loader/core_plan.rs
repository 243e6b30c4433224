//! Stage 5b, CO-RE, in libbpf's order. libbpf computes every CO-RE relocation of the object
//! once per function, in `.BTF.ext` order (section by section, record by record; programs
//! that are not loaded are skipped, `.text` subprograms are always relocated), against one
//! candidate list per local root type that each match narrows. The decisions depend on that
//! order, so they are made here, once, for the whole object ([`plan`]); each linked program
//! then takes the decisions of its functions ([`relocate_linked`]).

use crate::btf::core::{CoreError, Fixup, Relocator, apply_fixup};
use crate::btf::{Btf, BtfExt};
use crate::obj::{LinkedProgram, ObjectSpec, ProgramSpec};

use super::LoadError;

/// The CO-RE decisions of every relocated function, by index in [`ObjectSpec::programs`]
/// and [`ObjectSpec::subprograms`] (`None`: not relocated, the program is not loaded).
#[derive(Debug, Default)]
pub(crate) struct CorePlan {
    programs: Vec<Option<Vec<Fixup>>>,
    subprograms: Vec<Option<Vec<Fixup>>>,
}

/// The ELF sections in the order libbpf relocates them: that of the `.BTF.ext` CO-RE
/// subsections, then any other section with records (a malformed or missing `.BTF.ext`
/// keeps ELF order), `.text` included.
fn section_order(spec: &ObjectSpec, obj: &Btf<'_>) -> Vec<String> {
    let mut order: Vec<String> = spec
        .btf_ext
        .as_deref()
        .and_then(|b| BtfExt::parse(b).ok())
        .map(|ext| {
            ext.core_relos()
                .filter_map(|s| s.sec_name(obj).ok().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for f in spec.programs.iter().chain(&spec.subprograms) {
        if !f.core_relos.is_empty() && !order.contains(&f.section) {
            order.push(f.section.clone());
        }
    }
    order
}

/// Computes the decisions of one function, in record order.
fn plan_function(
    f: &ProgramSpec,
    relocator: &mut Relocator<'_, '_>,
    log: bool,
) -> Result<Vec<Fixup>, LoadError> {
    let mut fixups = Vec::with_capacity(f.core_relos.len());
    for (i, r) in f.core_relos.iter().enumerate() {
        let fail = |source, fixups: Vec<Fixup>| {
            if log {
                eprintln!(
                    "rawbpf: CO-RE: `{}` (section `{}`): {source}",
                    f.name, f.section
                );
            }
            LoadError::Core { source, log: None }
                .in_program(&f.name, &f.section)
                .with_core(fixups)
        };
        if r.insn as usize >= f.insns.len() {
            let e = CoreError::Invalid {
                index: i,
                insn: r.insn as usize,
                kind: r.kind,
                what: format!("instruction outside the function of {}", f.insns.len()),
            };
            return Err(fail(e, fixups));
        }
        match relocator.compute(i, r) {
            Ok(fix) => {
                if log {
                    eprintln!(
                        "rawbpf: CO-RE: `{}` (section `{}`): {fix}",
                        f.name, f.section
                    );
                }
                fixups.push(fix);
            }
            Err(e) => return Err(fail(e, fixups)),
        }
    }
    Ok(fixups)
}

/// Makes every CO-RE decision of the object, in libbpf's order, for the programs `load`
/// says are loaded and every `.text` subprogram. A relocation that cannot be computed
/// (ambiguous, malformed) fails the whole load, as with libbpf, naming its function.
pub(crate) fn plan(
    spec: &ObjectSpec,
    obj: &Btf<'_>,
    relocator: &mut Relocator<'_, '_>,
    load: impl Fn(&ProgramSpec) -> bool,
    log: bool,
) -> Result<CorePlan, LoadError> {
    let mut plan = CorePlan {
        programs: vec![None; spec.programs.len()],
        subprograms: vec![None; spec.subprograms.len()],
    };
    for section in section_order(spec, obj) {
        for (i, p) in spec.programs.iter().enumerate() {
            if p.section == section && load(p) {
                plan.programs[i] = Some(plan_function(p, relocator, log)?);
            }
        }
        for (i, p) in spec.subprograms.iter().enumerate() {
            if p.section == section {
                plan.subprograms[i] = Some(plan_function(p, relocator, log)?);
            }
        }
    }
    Ok(plan)
}

/// Applies the planned decisions of program `index` and of the subprograms linked into it
/// to `linked`; they are pushed to `fixups` with the linked program's relocation indices
/// and instructions.
pub(crate) fn relocate_linked(
    spec: &ObjectSpec,
    index: usize,
    linked: &mut LinkedProgram,
    plan: Option<&CorePlan>,
    fixups: &mut Vec<Fixup>,
) -> Result<(), LoadError> {
    if linked.core_relos.is_empty() {
        return Ok(());
    }
    let Some(plan) = plan else {
        return Err(LoadError::Unsupported {
            feature: format!(
                "CO-RE ({} relocations) without .BTF",
                linked.core_relos.len()
            ),
            hint: "the object has CO-RE records but no .BTF section; rebuild it with -g".into(),
        });
    };
    let missing = |what: &str| LoadError::Unsupported {
        feature: format!("CO-RE relocations of `{what}`"),
        hint: "they were not computed (an internal inconsistency of the loader)".into(),
    };
    let own = plan
        .programs
        .get(index)
        .and_then(Option::as_ref)
        .ok_or_else(|| missing(&spec.programs[index].name))?;
    let mut parts: Vec<(&[Fixup], usize)> = vec![(own, 0)];
    for (name, base) in &linked.subprograms {
        let j = spec
            .subprograms
            .iter()
            .position(|s| s.name == *name)
            .ok_or_else(|| missing(name))?;
        let fx = plan.subprograms[j].as_ref().ok_or_else(|| missing(name))?;
        parts.push((fx, *base));
    }
    for (fx, base) in parts {
        for f in fx {
            let mut f = f.clone();
            f.index = fixups.len();
            f.insn += base;
            fixups.push(f);
        }
    }
    let consistent = fixups.len() == linked.core_relos.len()
        && fixups
            .iter()
            .zip(&linked.core_relos)
            .all(|(f, r)| f.insn == r.insn as usize && f.local_type == r.type_id);
    if !consistent {
        return Err(missing("the linked program"));
    }
    for f in fixups.iter() {
        apply_fixup(&mut linked.insns, f)
            .map_err(|source| LoadError::Core { source, log: None })?;
    }
    Ok(())
}
