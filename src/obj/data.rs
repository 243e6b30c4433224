//! Global data: `.bss`, `.data`, `.rodata`, `.data.*` and `.rodata.*` sections become
//! one-element mmapable array maps named as libbpf names them.

use super::elf::{Elf, SHT_NOBITS, SHT_PROGBITS, STT_OBJECT, Section};
use super::maps::{
    BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, DataVariable, MAP_TYPE_ARRAY, MapKind, MapSpec,
};

/// Kernel limit on object names, including the NUL (`BPF_OBJ_NAME_LEN`).
const OBJ_NAME_LEN: usize = 16;

/// Whether a section holds global data, and if so whether it is read-only.
pub(crate) fn data_section_kind(sec: &Section<'_>) -> Option<bool> {
    let n = sec.name;
    let is = |base: &str| {
        n == base
            || n.strip_prefix(base)
                .is_some_and(|rest| rest.starts_with('.'))
    };
    if sec.kind == SHT_PROGBITS && is(".rodata") {
        Some(true)
    } else if (sec.kind == SHT_PROGBITS && is(".data") && !n.starts_with(".data.rel"))
        || (sec.kind == SHT_NOBITS && n == ".bss")
    {
        Some(false)
    } else {
        None
    }
}

/// libbpf's name for the internal map of section `section` in object `obj_name`: for
/// `.bss`/`.data`/`.rodata`/`.kconfig` (no second dot), a prefix of the object name (as many
/// characters as fit in 15 with the section name padded to 7) and the section name;
/// for `.data.*`/`.rodata.*`, the section name alone, cut to 15 characters. Characters the
/// kernel refuses become `_`.
pub fn internal_map_name(obj_name: &str, section: &str) -> String {
    let sfx_len = section.len().max(7);
    let prefix_len = if section.get(1..).is_some_and(|s| s.contains('.')) {
        0
    } else {
        (OBJ_NAME_LEN - 1)
            .saturating_sub(sfx_len)
            .min(obj_name.len())
    };
    let name: String = obj_name
        .chars()
        .take(prefix_len)
        .chain(section.chars())
        .take(OBJ_NAME_LEN - 1)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    name
}

/// The map for a data section, with its initial contents and (ELF-symbol) variables.
pub(crate) fn data_map(
    elf: &Elf<'_>,
    obj_name: &str,
    sec: &Section<'_>,
    readonly: bool,
) -> MapSpec {
    let mut m = MapSpec::new(
        &internal_map_name(obj_name, sec.name),
        MapKind::Data {
            section: sec.name.to_owned(),
        },
    );
    m.map_type = MAP_TYPE_ARRAY;
    m.key_size = 4;
    m.value_size = u32::try_from(sec.size).unwrap_or(u32::MAX);
    m.max_entries = 1;
    m.flags = BPF_F_MMAPABLE | if readonly { BPF_F_RDONLY_PROG } else { 0 };
    m.freeze = readonly;
    m.data = Some(if sec.kind == SHT_NOBITS {
        vec![0; m.value_size as usize]
    } else {
        sec.data.to_vec()
    });
    let mut vars: Vec<DataVariable> = elf
        .symbols_in(sec.index)
        .filter(|s| s.kind == STT_OBJECT && !s.name.is_empty())
        .filter_map(|s| {
            Some(DataVariable {
                name: s.name.to_owned(),
                offset: u32::try_from(s.value).ok()?,
                size: u32::try_from(s.size).ok()?,
                type_id: None,
            })
        })
        .collect();
    vars.sort_by_key(|v| v.offset);
    m.variables = vars;
    m
}

#[cfg(test)]
mod tests {
    use super::internal_map_name;

    #[test]
    fn libbpf_map_names() {
        assert_eq!(internal_map_name("hello", ".bss"), "hello.bss");
        assert_eq!(internal_map_name("xdp_hello", ".bss"), "xdp_hell.bss");
        assert_eq!(internal_map_name("xdp_hello", ".rodata"), "xdp_hell.rodata");
        assert_eq!(
            internal_map_name("xdp_hello", ".kconfig"),
            "xdp_hel.kconfig"
        );
        assert_eq!(internal_map_name("globals", ".data.custom"), ".data.custom");
        assert_eq!(
            internal_map_name("globals", ".rodata.str1.1"),
            ".rodata.str1.1"
        );
        assert_eq!(
            internal_map_name("x", ".rodata.verylongname"),
            ".rodata.verylon"
        );
        assert_eq!(internal_map_name("a-b", ".bss"), "a_b.bss");
    }
}

#[cfg(test)]
mod purity {
    /// `obj` is pure: it never reaches the kernel layer (ARCHITECTURE.md).
    #[test]
    fn obj_never_uses_sys() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/obj");
        let mut stack = vec![dir];
        let mut files = 0;
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read src/obj") {
                let p = e.expect("dir entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    files += 1;
                    let text = std::fs::read_to_string(&p).expect("read source");
                    let needle = ["crate", "::sys"].concat();
                    assert!(
                        !text.contains(&needle),
                        "{} uses the kernel layer",
                        p.display()
                    );
                }
            }
        }
        assert!(files > 5);
    }
}
