//! [`XlatedProgram`]: a loaded program as the kernel holds it after verification (the
//! translated instructions), with the func/line info and JITed symbol addresses that name its
//! parts, read with `BPF_OBJ_GET_INFO_BY_FD`.
//!
//! [`crate::inspect::XlatedDump`] prints it as `bpftool prog dump xlated` does.

use std::os::fd::{AsFd, BorrowedFd};

use super::Program;
use crate::error::{Error, Result};
use crate::insn::Insn;
use crate::sys;

/// A `struct bpf_func_info` record: a function starts at `insn_off` with BTF type `type_id`
/// (a `FUNC`) in the program's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    /// Index of the function's first instruction.
    pub insn_off: u32,
    /// The function's `FUNC` type in the program's BTF.
    pub type_id: u32,
}

/// A `struct bpf_line_info` record: the instructions from `insn_off` come from source line
/// `line_num`, whose text is the string at `line_off` in the program's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineInfo {
    /// Index of the first instruction of the line.
    pub insn_off: u32,
    /// Offset of the file name in the BTF string section.
    pub file_name_off: u32,
    /// Offset of the source line's text in the BTF string section.
    pub line_off: u32,
    /// Line number (`line_col >> 10`).
    pub line_num: u32,
    /// Column (`line_col & 0x3ff`).
    pub line_col: u32,
}

/// A loaded program's translated instructions and the records that describe them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XlatedProgram {
    /// The instructions after verification and rewriting, as the kernel reports them: map
    /// references hold map ids (`ld_imm64` with `BPF_PSEUDO_MAP_FD`/`_VALUE`), helper and kfunc
    /// calls the target's offset from `__bpf_call_base`. Empty without `CAP_BPF` (the kernel
    /// then reports no instructions); where `kernel.kptr_restrict` forbids raw addresses to the
    /// caller, the kernel zeroes call offsets and raw addresses (map ids stay).
    pub insns: Vec<Insn>,
    /// The id of the program's BTF, 0 if none.
    pub btf_id: u32,
    /// Function boundaries, in instruction order.
    pub func_info: Vec<FuncInfo>,
    /// Source lines, in instruction order.
    pub line_info: Vec<LineInfo>,
    /// The kernel addresses of the JITed functions (main program first), as `/proc/kallsyms`
    /// lists them (`bpf_prog_<tag>_<name>`); empty for an interpreted program.
    pub jited_ksyms: Vec<u64>,
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

impl XlatedProgram {
    /// Reads the translated program behind `fd`.
    ///
    /// # Errors
    /// [`Error::Syscall`] if the info cannot be read (not a program fd).
    pub fn of_fd(fd: BorrowedFd<'_>) -> Result<XlatedProgram> {
        let err = |e| crate::map::info_error(e, "the fd is not a BPF program");
        let first = sys::prog_info(fd).map_err(err)?;
        let mut xlated = vec![0u8; first.xlated_prog_len as usize];
        let mut func = vec![0u8; first.nr_func_info as usize * sys::FUNC_INFO_REC_SIZE as usize];
        let mut line = vec![0u8; first.nr_line_info as usize * sys::LINE_INFO_REC_SIZE as usize];
        let mut ksyms = vec![0u64; first.nr_jited_ksyms as usize];
        let bufs = sys::ProgInfoBufs {
            xlated: (!xlated.is_empty()).then_some(&mut xlated[..]),
            func_info: (!func.is_empty()).then_some(&mut func[..]),
            line_info: (!line.is_empty()).then_some(&mut line[..]),
            jited_ksyms: (!ksyms.is_empty()).then_some(&mut ksyms[..]),
            ..Default::default()
        };
        let raw = sys::prog_info_with(fd, bufs).map_err(err)?;
        // The program cannot change once loaded; a record size the kernel reports other than
        // the one we asked for would mean another layout.
        if raw.func_info_rec_size != 0 && raw.func_info_rec_size != sys::FUNC_INFO_REC_SIZE
            || raw.line_info_rec_size != 0 && raw.line_info_rec_size != sys::LINE_INFO_REC_SIZE
        {
            return Err(Error::InvalidArgument(format!(
                "the kernel reports func/line info records of {}/{} bytes",
                raw.func_info_rec_size, raw.line_info_rec_size
            )));
        }
        let insns = crate::insn::decode(&xlated[..xlated.len() / 8 * 8])?;
        let func_info = func
            .chunks_exact(8)
            .map(|r| FuncInfo {
                insn_off: u32_at(r, 0),
                type_id: u32_at(r, 4),
            })
            .collect();
        let line_info = line
            .chunks_exact(16)
            .map(|r| {
                let col = u32_at(r, 12);
                LineInfo {
                    insn_off: u32_at(r, 0),
                    file_name_off: u32_at(r, 4),
                    line_off: u32_at(r, 8),
                    line_num: col >> 10,
                    line_col: col & 0x3ff,
                }
            })
            .collect();
        Ok(XlatedProgram {
            insns,
            btf_id: raw.btf_id,
            func_info,
            line_info,
            jited_ksyms: ksyms,
        })
    }
}

impl Program {
    /// The program as the kernel holds it: translated instructions, func and line info, JITed
    /// symbols ([`XlatedProgram`]).
    pub fn xlated(&self) -> Result<XlatedProgram> {
        XlatedProgram::of_fd(self.as_fd())
    }

    /// The JITed machine code (the bytes `bpftool prog dump jited` disassembles); empty for
    /// an interpreted program, without `CAP_BPF`, or where `kernel.kptr_restrict` forbids raw
    /// addresses to the caller.
    pub fn jited_image(&self) -> Result<Vec<u8>> {
        let err = |e| crate::map::info_error(e, "the fd is not a BPF program");
        let first = sys::prog_info(self.as_fd()).map_err(err)?;
        let mut image = vec![0u8; first.jited_prog_len as usize];
        if image.is_empty() {
            return Ok(image);
        }
        let bufs = sys::ProgInfoBufs {
            jited: Some(&mut image[..]),
            ..Default::default()
        };
        let raw = sys::prog_info_with(self.as_fd(), bufs).map_err(err)?;
        image.truncate(raw.jited_prog_len.min(first.jited_prog_len) as usize);
        Ok(image)
    }
}
