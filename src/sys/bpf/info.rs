//! `BPF_OBJ_GET_INFO_BY_FD`: typed info of programs, maps, BTF and links, with optional
//! caller buffers for the arrays the kernel can copy out.

use std::os::fd::BorrowedFd;

use super::super::attr::{ObjGetInfoAttr, ptr_mut};
use super::super::fd::raw;
use super::super::info::{BtfInfo, LinkInfo, MapInfo, ProgInfo};
use super::super::types::{BpfCmd, LinkType, PerfEventType};
use super::super::{Errno, bpf};

/// Calls OBJ_GET_INFO_BY_FD on an info struct and returns the length the kernel filled.
///
/// # Safety
///
/// Every pointer field of `info` must be 0 or point to memory writable for the length or
/// count the matching field states.
unsafe fn get_info<T>(fd: BorrowedFd<'_>, info: &mut T) -> Result<u32, Errno> {
    let mut attr = ObjGetInfoAttr {
        bpf_fd: raw(fd),
        info_len: std::mem::size_of::<T>() as u32,
        info: info as *mut T as u64,
    };
    // SAFETY: `info` is writable for `info_len` bytes, and the caller vouches for the
    // pointers inside it.
    unsafe { bpf(BpfCmd::OBJ_GET_INFO_BY_FD, &mut attr) }?;
    Ok(attr.info_len)
}

/// `BPF_OBJ_GET_INFO_BY_FD` into raw bytes: zeroes `buf`, lets the kernel fill up to
/// `buf.len()` bytes of the object's info struct, and returns how many it filled.
///
/// Zeroing first means no array pointer is set, so the kernel writes nothing outside `buf`.
pub fn obj_get_info_by_fd(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<u32, Errno> {
    buf.fill(0);
    let mut attr = ObjGetInfoAttr {
        bpf_fd: raw(fd),
        info_len: buf.len() as u32,
        info: ptr_mut(buf),
    };
    // SAFETY: `buf` is writable for `info_len` bytes and all zero, so the info holds no
    // pointers for the kernel to follow.
    unsafe { bpf(BpfCmd::OBJ_GET_INFO_BY_FD, &mut attr) }?;
    Ok(attr.info_len)
}

/// Buffers [`prog_info_with`] asks the kernel to fill. Counts in the returned [`ProgInfo`]
/// are the kernel's full counts; only as many as fit were copied.
#[derive(Debug, Default)]
pub struct ProgInfoBufs<'a> {
    /// Receives map ids.
    pub map_ids: Option<&'a mut [u32]>,
    /// Receives the translated instructions (bytes; 8 per instruction).
    pub xlated: Option<&'a mut [u8]>,
    /// Receives the JITed image.
    pub jited: Option<&'a mut [u8]>,
    /// Receives `bpf_func_info` records (8 bytes each).
    pub func_info: Option<&'a mut [u8]>,
    /// Receives `bpf_line_info` records (16 bytes each).
    pub line_info: Option<&'a mut [u8]>,
    /// Receives JITed line info (one `u64` address each).
    pub jited_line_info: Option<&'a mut [u64]>,
    /// Receives JITed function addresses.
    pub jited_ksyms: Option<&'a mut [u64]>,
    /// Receives JITed function lengths.
    pub jited_func_lens: Option<&'a mut [u32]>,
    /// Receives 8-byte subprogram tags.
    pub prog_tags: Option<&'a mut [[u8; 8]]>,
}

/// Size of `struct bpf_func_info`.
pub const FUNC_INFO_REC_SIZE: u32 = 8;
/// Size of `struct bpf_line_info`.
pub const LINE_INFO_REC_SIZE: u32 = 16;

/// `BPF_OBJ_GET_INFO_BY_FD` for a program, without arrays.
pub fn prog_info(fd: BorrowedFd<'_>) -> Result<ProgInfo, Errno> {
    prog_info_with(fd, ProgInfoBufs::default())
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a program, copying the arrays the caller gives buffers for.
pub fn prog_info_with(fd: BorrowedFd<'_>, bufs: ProgInfoBufs<'_>) -> Result<ProgInfo, Errno> {
    let mut info = ProgInfo::default();
    if let Some(b) = bufs.map_ids {
        info.nr_map_ids = len32(b.len());
        info.map_ids = ptr_mut(b);
    }
    if let Some(b) = bufs.xlated {
        info.xlated_prog_len = len32(b.len());
        info.xlated_prog_insns = ptr_mut(b);
    }
    if let Some(b) = bufs.jited {
        info.jited_prog_len = len32(b.len());
        info.jited_prog_insns = ptr_mut(b);
    }
    if let Some(b) = bufs.func_info {
        info.nr_func_info = len32(b.len() / FUNC_INFO_REC_SIZE as usize);
        info.func_info_rec_size = FUNC_INFO_REC_SIZE;
        info.func_info = ptr_mut(b);
    }
    if let Some(b) = bufs.line_info {
        info.nr_line_info = len32(b.len() / LINE_INFO_REC_SIZE as usize);
        info.line_info_rec_size = LINE_INFO_REC_SIZE;
        info.line_info = ptr_mut(b);
    }
    if let Some(b) = bufs.jited_line_info {
        info.nr_jited_line_info = len32(b.len());
        info.jited_line_info_rec_size = 8;
        info.jited_line_info = ptr_mut(b);
    }
    if let Some(b) = bufs.jited_ksyms {
        info.nr_jited_ksyms = len32(b.len());
        info.jited_ksyms = ptr_mut(b);
    }
    if let Some(b) = bufs.jited_func_lens {
        info.nr_jited_func_lens = len32(b.len());
        info.jited_func_lens = ptr_mut(b);
    }
    if let Some(b) = bufs.prog_tags {
        info.nr_prog_tags = len32(b.len());
        info.prog_tags = ptr_mut(b);
    }
    // SAFETY: each pointer comes from one exclusive slice (empty slices give NULL) and the
    // count/length field next to it is that slice's length in the unit the kernel uses; the
    // kernel copies at most that many.
    unsafe { get_info(fd, &mut info) }?;
    Ok(info)
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a map.
pub fn map_info(fd: BorrowedFd<'_>) -> Result<MapInfo, Errno> {
    let mut info = MapInfo::default();
    // SAFETY: no pointer field is set.
    unsafe { get_info(fd, &mut info) }?;
    Ok(info)
}

/// `BPF_OBJ_GET_INFO_BY_FD` for BTF, optionally copying the raw BTF into `data` and its name
/// into `name` (NUL-terminated; `ENOSPC` if `name` is too short, the truncated name is
/// still written). `btf_size`/`name_len` of the result are the full sizes.
pub fn btf_info(
    fd: BorrowedFd<'_>,
    data: Option<&mut [u8]>,
    name: Option<&mut [u8]>,
) -> Result<BtfInfo, Errno> {
    let mut info = BtfInfo::default();
    if let Some(b) = data {
        info.btf_size = len32(b.len());
        info.btf = ptr_mut(b);
    }
    if let Some(b) = name {
        info.name_len = len32(b.len());
        info.name = ptr_mut(b);
    }
    // SAFETY: each pointer comes from one exclusive slice with its length next to it.
    unsafe { get_info(fd, &mut info) }?;
    Ok(info)
}

/// Buffers [`link_info_with`] asks the kernel to fill, placed into the union member of the
/// link's type.
#[derive(Debug, Default)]
pub struct LinkInfoBufs<'a> {
    /// Receives the NUL-terminated name: raw tracepoint name, iterator target, uprobe.multi
    /// path, perf-event uprobe file / kprobe function / tracepoint name.
    pub name: Option<&'a mut [u8]>,
    /// kprobe.multi: addresses.
    pub addrs: Option<&'a mut [u64]>,
    /// uprobe.multi: offsets.
    pub offsets: Option<&'a mut [u64]>,
    /// uprobe.multi: reference-counter offsets.
    pub ref_ctr_offsets: Option<&'a mut [u64]>,
    /// kprobe.multi / uprobe.multi: cookies.
    pub cookies: Option<&'a mut [u64]>,
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a link, without buffers (name pointers stay NULL).
pub fn link_info(fd: BorrowedFd<'_>) -> Result<LinkInfo, Errno> {
    let mut info = LinkInfo::default();
    // SAFETY: the union is all zero: no pointer is set.
    unsafe { get_info(fd, &mut info) }?;
    Ok(info)
}

/// `BPF_OBJ_GET_INFO_BY_FD` for a link, copying its name and arrays into `bufs`.
///
/// Asks once for the link type, then sets the pointers in the union member of that type and
/// asks again. Arrays of kprobe.multi/uprobe.multi share one count: the shortest given slice.
pub fn link_info_with(fd: BorrowedFd<'_>, bufs: LinkInfoBufs<'_>) -> Result<LinkInfo, Errno> {
    let first = link_info(fd)?;
    let mut info = LinkInfo {
        type_: first.type_,
        ..Default::default()
    };
    let name = bufs.name.map(|b| (ptr_mut(b), len32(b.len())));
    let arrays = [bufs.addrs, bufs.offsets, bufs.ref_ctr_offsets, bufs.cookies];
    let count = arrays
        .iter()
        .flatten()
        .map(|b| len32(b.len()))
        .min()
        .unwrap_or(0);
    let [addrs, offsets, ref_ctr, cookies] = arrays.map(|b| match b {
        Some(b) if count > 0 => ptr_mut(b),
        _ => 0,
    });
    match first.type_ {
        LinkType::RAW_TRACEPOINT => {
            if let Some((p, n)) = name {
                info.u.raw_tracepoint.tp_name = p;
                info.u.raw_tracepoint.tp_name_len = n;
            }
        }
        LinkType::ITER => {
            if let Some((p, n)) = name {
                info.u.iter.target_name = p;
                info.u.iter.target_name_len = n;
            }
        }
        LinkType::KPROBE_MULTI if addrs != 0 => {
            info.u.kprobe_multi.addrs = addrs;
            info.u.kprobe_multi.cookies = cookies;
            info.u.kprobe_multi.count = count;
        }
        LinkType::UPROBE_MULTI => {
            if let Some((p, n)) = name {
                info.u.uprobe_multi.path = p;
                info.u.uprobe_multi.path_size = n;
            }
            if offsets != 0 || ref_ctr != 0 || cookies != 0 {
                info.u.uprobe_multi.offsets = offsets;
                info.u.uprobe_multi.ref_ctr_offsets = ref_ctr;
                info.u.uprobe_multi.cookies = cookies;
                info.u.uprobe_multi.count = count;
            }
        }
        LinkType::PERF_EVENT => {
            let kind = PerfEventType(first.perf_event().type_);
            if kind != PerfEventType::EVENT {
                if let Some((p, n)) = name {
                    info.u.perf_event.name = p;
                    info.u.perf_event.name_len = n;
                }
            }
        }
        _ => {}
    }
    // SAFETY: the pointers set above sit in the union member of the link's own type (which
    // cannot change), each from one exclusive slice with its length or a count no larger
    // than every array slice in the count field the kernel reads; all else is zero.
    unsafe { get_info(fd, &mut info) }?;
    Ok(info)
}
