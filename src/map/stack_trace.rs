//! [`StackTrace`]: a `STACK_TRACE` map, the stacks `bpf_get_stackid` records.
//!
//! A program calls `bpf_get_stackid(ctx, &map, flags)`, which stores the current kernel (or,
//! with `BPF_F_USER_STACK`, user) stack in the map and returns its id; user space reads the
//! frames by id. A map created with [`MapFlags::STACK_BUILD_ID`] stores user frames as
//! (build id, file offset) pairs ([`BuildIdFrame`]) instead of addresses, so that they can be
//! symbolised after the process is gone.

use std::borrow::Borrow;

use super::{Map, MapFlags, MapType};
use crate::error::{Error, Result};

/// `sizeof(struct bpf_stack_build_id)`: `s32 status; u8 build_id[20]; union { u64 offset;
/// u64 ip; }`.
pub const BUILD_ID_FRAME_SIZE: usize = 32;

/// How a [`BuildIdFrame`] is to be read (`enum bpf_stack_build_id_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuildIdStatus {
    /// `BPF_STACK_BUILD_ID_VALID`: `build_id` and `offset` (into the file) are set.
    Valid,
    /// `BPF_STACK_BUILD_ID_IP`: the kernel could not read the build id (the file has none, or
    /// its page was not in memory); `offset` holds the raw instruction pointer.
    Ip,
    /// Another value, for a newer kernel.
    Other(i32),
}

/// One user-space frame of a build-id stack trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BuildIdFrame {
    /// What the other fields hold.
    pub status: BuildIdStatus,
    /// The GNU build id of the executable or library the frame is in (20 bytes; shorter ids
    /// are padded with zeros). Zero when `status` is not [`BuildIdStatus::Valid`].
    pub build_id: [u8; 20],
    /// The file offset of the instruction (valid), or its address ([`BuildIdStatus::Ip`]).
    pub offset: u64,
}

impl BuildIdFrame {
    /// Decodes the frames of a build-id stack value: 32-byte records up to the first empty one
    /// (`BPF_STACK_BUILD_ID_EMPTY`). A trailing partial record is ignored.
    pub fn parse_all(value: &[u8]) -> Vec<BuildIdFrame> {
        value
            .chunks_exact(BUILD_ID_FRAME_SIZE)
            .map_while(|r| {
                let status = i32::from_ne_bytes([r[0], r[1], r[2], r[3]]);
                let status = match status {
                    0 => return None,
                    1 => BuildIdStatus::Valid,
                    2 => BuildIdStatus::Ip,
                    s => BuildIdStatus::Other(s),
                };
                let mut build_id = [0u8; 20];
                build_id.copy_from_slice(&r[4..24]);
                let mut off = [0u8; 8];
                off.copy_from_slice(&r[24..32]);
                Some(BuildIdFrame {
                    status,
                    build_id,
                    offset: u64::from_ne_bytes(off),
                })
            })
            .collect()
    }
}

/// Decodes the frames of an address stack value: `u64` instruction pointers up to the first
/// zero (the kernel zero-fills past the stack's depth).
pub fn parse_stack_ips(value: &[u8]) -> Vec<u64> {
    value
        .chunks_exact(8)
        .map(|c| u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .take_while(|ip| *ip != 0)
        .collect()
}

/// A `STACK_TRACE` map: stack ids (`u32`) to frames.
#[derive(Debug)]
pub struct StackTrace<M = Map> {
    map: M,
}

impl<M: Borrow<Map>> StackTrace<M> {
    /// Views `map`, a `STACK_TRACE` map with 4-byte keys and values of a whole number of
    /// frames (8 bytes each, or [`BUILD_ID_FRAME_SIZE`] with [`MapFlags::STACK_BUILD_ID`]).
    pub fn new(map: M) -> Result<Self> {
        let m = map.borrow();
        if m.map_type() != MapType::STACK_TRACE {
            return Err(Error::InvalidArgument(format!(
                "map \"{}\" is a {:?}, not a STACK_TRACE map",
                m.name(),
                m.map_type()
            )));
        }
        let frame = if m.flags().contains(MapFlags::STACK_BUILD_ID) {
            BUILD_ID_FRAME_SIZE
        } else {
            8
        };
        if m.key_size() != 4 || m.value_size() as usize % frame != 0 || m.value_size() == 0 {
            return Err(Error::InvalidArgument(format!(
                "map \"{}\" has {}-byte keys and {}-byte values; a stack trace map has 4-byte \
                 keys and values of whole {frame}-byte frames",
                m.name(),
                m.key_size(),
                m.value_size()
            )));
        }
        Ok(StackTrace { map })
    }

    /// The map.
    pub fn map(&self) -> &Map {
        self.map.borrow()
    }

    /// The map back.
    pub fn into_inner(self) -> M {
        self.map
    }

    /// Whether the map stores build-id frames ([`MapFlags::STACK_BUILD_ID`]).
    pub fn is_build_id(&self) -> bool {
        self.map().flags().contains(MapFlags::STACK_BUILD_ID)
    }

    /// The most frames a stack holds (the value size over the frame size).
    pub fn max_depth(&self) -> usize {
        let frame = if self.is_build_id() {
            BUILD_ID_FRAME_SIZE
        } else {
            8
        };
        self.map().value_size() as usize / frame
    }

    fn raw(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.map().get(&id.to_ne_bytes())
    }

    fn need(&self, build_id: bool) -> Result<()> {
        if self.is_build_id() == build_id {
            return Ok(());
        }
        Err(Error::InvalidArgument(format!(
            "map \"{}\" stores {} frames: use {}",
            self.map().name(),
            if build_id { "address" } else { "build-id" },
            if build_id {
                "StackTrace::get"
            } else {
                "StackTrace::get_build_ids"
            }
        )))
    }

    /// The instruction pointers of stack `id`, innermost first; `None` if there is no such
    /// stack.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on a build-id map (use [`StackTrace::get_build_ids`]).
    pub fn get(&self, id: u32) -> Result<Option<Vec<u64>>> {
        self.need(false)?;
        Ok(self.raw(id)?.map(|v| parse_stack_ips(&v)))
    }

    /// The build-id frames of stack `id`, innermost first; `None` if there is no such stack.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] on a map without [`MapFlags::STACK_BUILD_ID`].
    pub fn get_build_ids(&self, id: u32) -> Result<Option<Vec<BuildIdFrame>>> {
        self.need(true)?;
        Ok(self.raw(id)?.map(|v| BuildIdFrame::parse_all(&v)))
    }

    /// Removes stack `id` and returns its instruction pointers
    /// (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`); `None` if there is no such stack.
    ///
    /// # Errors
    /// [`Error::Unsupported`] on a kernel without lookup-and-delete for stack maps;
    /// [`Error::InvalidArgument`] on a build-id map (use [`StackTrace::take_build_ids`]).
    pub fn take(&self, id: u32) -> Result<Option<Vec<u64>>> {
        self.need(false)?;
        Ok(self.take_raw(id)?.map(|v| parse_stack_ips(&v)))
    }

    /// Removes stack `id` and returns its build-id frames; `None` if there is no such stack.
    ///
    /// # Errors
    /// As [`StackTrace::take`], for a map without [`MapFlags::STACK_BUILD_ID`].
    pub fn take_build_ids(&self, id: u32) -> Result<Option<Vec<BuildIdFrame>>> {
        self.need(true)?;
        Ok(self.take_raw(id)?.map(|v| BuildIdFrame::parse_all(&v)))
    }

    fn take_raw(&self, id: u32) -> Result<Option<Vec<u8>>> {
        let mut v = vec![0u8; self.map().value_buf_size()];
        Ok(self
            .map()
            .lookup_and_delete(&id.to_ne_bytes(), &mut v)?
            .then_some(v))
    }

    /// Removes stack `id` (its slot can be reused by the next new stack); `false` if absent.
    pub fn remove(&self, id: u32) -> Result<bool> {
        self.map().delete(&id.to_ne_bytes())
    }

    /// The ids of the stored stacks.
    pub fn ids(&self) -> impl Iterator<Item = Result<u32>> + '_ {
        self.map()
            .keys()
            .map(|k| k.map(|k| u32::from_ne_bytes([k[0], k[1], k[2], k[3]])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_stop_at_zero() {
        let mut v = Vec::new();
        for ip in [0xffff_ffff_8100_0000u64, 0x5555_0000_1234, 0, 7] {
            v.extend_from_slice(&ip.to_ne_bytes());
        }
        v.extend_from_slice(&[1, 2, 3]); // a partial frame is ignored
        assert_eq!(
            parse_stack_ips(&v),
            [0xffff_ffff_8100_0000, 0x5555_0000_1234]
        );
        assert!(parse_stack_ips(&[]).is_empty());
    }

    #[test]
    fn build_id_frames() {
        let mut v = vec![0u8; 4 * BUILD_ID_FRAME_SIZE];
        // valid frame
        v[0..4].copy_from_slice(&1i32.to_ne_bytes());
        v[4..24].copy_from_slice(&[0xab; 20]);
        v[24..32].copy_from_slice(&0x1234u64.to_ne_bytes());
        // ip frame
        v[32..36].copy_from_slice(&2i32.to_ne_bytes());
        v[56..64].copy_from_slice(&0x7fff_0000u64.to_ne_bytes());
        // unknown status
        v[64..68].copy_from_slice(&9i32.to_ne_bytes());
        // empty: the end
        let f = BuildIdFrame::parse_all(&v);
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].status, BuildIdStatus::Valid);
        assert_eq!(f[0].build_id, [0xab; 20]);
        assert_eq!(f[0].offset, 0x1234);
        assert_eq!(f[1].status, BuildIdStatus::Ip);
        assert_eq!(f[1].offset, 0x7fff_0000);
        assert_eq!(f[2].status, BuildIdStatus::Other(9));
        assert!(BuildIdFrame::parse_all(&v[..31]).is_empty());
    }
}
