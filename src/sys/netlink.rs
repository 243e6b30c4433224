//! rtnetlink, for the attachments that predate BPF links: XDP through `IFLA_XDP`
//! (`RTM_SETLINK`), the clsact qdisc and cls_bpf filters in direct-action mode
//! (`RTM_NEWQDISC`/`RTM_DELQDISC`, `RTM_NEWTFILTER`/`RTM_DELTFILTER`/`RTM_GETTFILTER`), and
//! interface lookups (`RTM_GETLINK`).
//!
//! A compact builder and parser for the few messages we send, rather than a crate of the
//! field: each request is one header struct plus a handful of attributes, and the replies we
//! read are one or two nested attributes deep. Every request asks for an ACK with extended
//! ACK messages (`NETLINK_EXT_ACK`), so an error carries the kernel's own explanation
//! (e.g. "Exclusivity flag on, cannot modify.") when it gives one.
//!
//! Requests act on the network namespace of the calling thread.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::Errno;

// Message types and flags (linux/netlink.h, linux/rtnetlink.h).
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_GETLINK: u16 = 18;
const RTM_SETLINK: u16 = 19;
const RTM_NEWQDISC: u16 = 36;
const RTM_DELQDISC: u16 = 37;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const RTM_GETTFILTER: u16 = 46;
const NLM_F_REQUEST: u16 = 0x1;
#[cfg(test)]
const NLM_F_MULTI: u16 = 0x2;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_ECHO: u16 = 0x8;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_REPLACE: u16 = 0x100;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLA_F_NESTED: u16 = 1 << 15;
const NLA_TYPE_MASK: u16 = !(1 << 15 | 1 << 14);
const SOL_NETLINK: i32 = 270;
const NETLINK_CAP_ACK: i32 = 10;
const NETLINK_EXT_ACK: i32 = 11;

// IFLA_XDP and its nested attributes (linux/if_link.h).
const IFLA_XDP: u16 = 43;
const IFLA_XDP_FD: u16 = 1;
const IFLA_XDP_ATTACHED: u16 = 2;
const IFLA_XDP_FLAGS: u16 = 3;
const IFLA_XDP_PROG_ID: u16 = 4;
const IFLA_XDP_DRV_PROG_ID: u16 = 5;
const IFLA_XDP_SKB_PROG_ID: u16 = 6;
const IFLA_XDP_HW_PROG_ID: u16 = 7;
const IFLA_XDP_EXPECTED_FD: u16 = 8;
/// `XDP_FLAGS_REPLACE`.
const XDP_FLAGS_REPLACE: u32 = 1 << 4;

// tc (linux/rtnetlink.h, linux/pkt_sched.h, linux/pkt_cls.h).
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_TAG: u16 = 10;
const TCA_BPF_ID: u16 = 11;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
/// `TC_H_CLSACT` (= `TC_H_INGRESS`): the clsact qdisc's parent.
pub const TC_H_CLSACT: u32 = 0xffff_fff1;
/// `TC_H_MIN_INGRESS`: minor of the clsact ingress hook.
pub const TC_H_MIN_INGRESS: u32 = 0xfff2;
/// `TC_H_MIN_EGRESS`: minor of the clsact egress hook.
pub const TC_H_MIN_EGRESS: u32 = 0xfff3;
/// `ETH_P_ALL` in network byte order, as `tcm_info`'s protocol half wants it.
const ETH_P_ALL_BE: u32 = (libc::ETH_P_ALL as u16).to_be() as u32;

/// A failed netlink request: the errno, and the kernel's extended-ACK message when it gave
/// one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetlinkError {
    /// The error.
    pub errno: Errno,
    /// The kernel's explanation (`NLMSGERR_ATTR_MSG`), if any.
    pub message: Option<String>,
}

impl From<Errno> for NetlinkError {
    fn from(errno: Errno) -> Self {
        NetlinkError {
            errno,
            message: None,
        }
    }
}

impl std::fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.errno)?;
        if let Some(m) = &self.message {
            write!(f, " ({m})")?;
        }
        Ok(())
    }
}

/// A request under construction: `nlmsghdr`, the family header, then attributes (4-aligned).
#[derive(Debug)]
pub struct Request {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

impl Request {
    /// A request of `msg_type` with `flags` (`NLM_F_REQUEST` and `NLM_F_ACK` are added) and
    /// the family header `header` (e.g. an `ifinfomsg` or a `tcmsg`).
    pub fn new(msg_type: u16, flags: u16, header: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, set by finish
        buf.extend_from_slice(&msg_type.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // seq
        buf.extend_from_slice(&0u32.to_ne_bytes()); // pid: the kernel
        buf.extend_from_slice(header);
        buf.resize(align4(buf.len()), 0);
        Request {
            buf,
            nests: Vec::new(),
        }
    }

    /// Appends attribute `ty` with payload `data`.
    pub fn attr(&mut self, ty: u16, data: &[u8]) -> &mut Self {
        let len = u16::try_from(4 + data.len()).expect("netlink attribute over 64 KiB");
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align4(self.buf.len()), 0);
        self
    }

    /// Appends a `u32` attribute.
    pub fn attr_u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }

    /// Appends an `i32` attribute.
    pub fn attr_i32(&mut self, ty: u16, v: i32) -> &mut Self {
        self.attr(ty, &v.to_ne_bytes())
    }

    /// Appends a NUL-terminated string attribute.
    pub fn attr_str(&mut self, ty: u16, s: &CStr) -> &mut Self {
        self.attr(ty, s.to_bytes_with_nul())
    }

    /// Opens a nested attribute `ty`; close it with [`Request::end_nest`].
    pub fn begin_nest(&mut self, ty: u16) -> &mut Self {
        self.nests.push(self.buf.len());
        self.attr(ty | NLA_F_NESTED, &[])
    }

    /// Closes the innermost nested attribute.
    pub fn end_nest(&mut self) -> &mut Self {
        let start = self.nests.pop().expect("end_nest without begin_nest");
        let len = u16::try_from(self.buf.len() - start).expect("nest over 64 KiB");
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// The finished message with sequence number `seq`.
    fn finish(&mut self, seq: u32) -> &[u8] {
        assert!(self.nests.is_empty(), "unclosed netlink nest");
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        &self.buf
    }
}

/// One received message: its type, flags and payload (the family header and attributes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `nlmsg_type`.
    pub msg_type: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// Everything after the `nlmsghdr`.
    pub payload: Vec<u8>,
}

/// Iterates over the attributes in `buf` as `(type without the nested/byte-order bits,
/// payload)`; stops at the first malformed one.
pub fn attrs(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let ty = u16::from_ne_bytes([rest[2], rest[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > rest.len() {
            return None;
        }
        let data = &rest[4..len];
        rest = &rest[align4(len).min(rest.len())..];
        Some((ty, data))
    })
}

fn attr_u32(data: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(data.get(..4)?.try_into().ok()?))
}

/// Splits a receive buffer into messages; `Err` for an `NLMSG_ERROR` with a non-zero error
/// whose `seq` is ours. Returns `(messages, done)`: `done` when an ACK or `NLMSG_DONE` came.
fn parse_replies(buf: &[u8], seq: u32) -> Result<(Vec<Message>, bool), NetlinkError> {
    let mut out = Vec::new();
    let mut rest = buf;
    let mut done = false;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
        if len < 16 || len > rest.len() {
            break;
        }
        let ty = u16::from_ne_bytes([rest[4], rest[5]]);
        let flags = u16::from_ne_bytes([rest[6], rest[7]]);
        let mseq = u32::from_ne_bytes(rest[8..12].try_into().expect("4 bytes"));
        let payload = &rest[16..len];
        rest = &rest[align4(len).min(rest.len())..];
        if mseq != seq {
            continue;
        }
        match ty {
            NLMSG_ERROR => {
                let err = payload
                    .get(..4)
                    .map(|b| i32::from_ne_bytes(b.try_into().expect("4 bytes")))
                    .unwrap_or(-libc::EPROTO);
                if err == 0 {
                    done = true;
                    continue;
                }
                // With NETLINK_CAP_ACK the request is echoed as its header only (16 bytes);
                // the extended-ACK attributes follow.
                let message = (flags & NLM_F_ACK_TLVS != 0)
                    .then(|| payload.get(20..))
                    .flatten()
                    .and_then(|tlvs| {
                        attrs(tlvs)
                            .find(|(t, _)| *t == NLMSGERR_ATTR_MSG)
                            .map(|(_, m)| {
                                let m = m.split(|b| *b == 0).next().unwrap_or(&[]);
                                String::from_utf8_lossy(m).into_owned()
                            })
                    });
                return Err(NetlinkError {
                    errno: Errno::from_raw(-err),
                    message,
                });
            }
            NLMSG_DONE => done = true,
            _ => {
                out.push(Message {
                    msg_type: ty,
                    flags,
                    payload: payload.to_vec(),
                });
            }
        }
    }
    Ok((out, done))
}

/// A `NETLINK_ROUTE` socket.
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

fn setsockopt_int(fd: BorrowedFd<'_>, level: i32, name: i32, v: i32) -> Result<(), Errno> {
    // SAFETY: `v` is a live c_int and the length passed is its size; the fd is borrowed.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &v as *const i32 as *const libc::c_void,
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if r < 0 { Err(Errno::last()) } else { Ok(()) }
}

impl Socket {
    /// Opens a `NETLINK_ROUTE` socket in the calling thread's network namespace, with
    /// extended and capped ACKs.
    pub fn open() -> Result<Socket, Errno> {
        // SAFETY: plain socket(2) call; a non-negative result is a new fd we own.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            return Err(Errno::last());
        }
        // SAFETY: `raw` is a fresh fd nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // Old kernels lack these; the errors then just have no message.
        let _ = setsockopt_int(
            std::os::fd::AsFd::as_fd(&fd),
            SOL_NETLINK,
            NETLINK_EXT_ACK,
            1,
        );
        let _ = setsockopt_int(
            std::os::fd::AsFd::as_fd(&fd),
            SOL_NETLINK,
            NETLINK_CAP_ACK,
            1,
        );
        Ok(Socket { fd, seq: 0 })
    }

    /// Sends `req` and collects the replies up to its ACK (or `NLMSG_DONE` for dumps).
    pub fn request(&mut self, req: &mut Request) -> Result<Vec<Message>, NetlinkError> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let seq = self.seq;
        let msg = req.finish(seq);
        // SAFETY: `msg` is a readable buffer of `msg.len()` bytes; the fd is ours.
        let n = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
                0,
            )
        };
        if n < 0 {
            return Err(Errno::last().into());
        }
        let mut out = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: `buf` is a writable buffer of `buf.len()` bytes; the fd is ours.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    0,
                )
            };
            if n < 0 {
                let e = Errno::last();
                if e == Errno::EINTR {
                    continue;
                }
                return Err(e.into());
            }
            let (msgs, done) = parse_replies(&buf[..n as usize], seq)?;
            out.extend(msgs);
            if done {
                return Ok(out);
            }
        }
    }
}

fn one_request(req: &mut Request) -> Result<Vec<Message>, NetlinkError> {
    Socket::open()?.request(req)
}

/// `struct ifinfomsg` for interface `ifindex`.
fn ifinfomsg(ifindex: u32) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0] = libc::AF_UNSPEC as u8;
    h[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    h
}

/// `struct tcmsg`.
fn tcmsg(ifindex: u32, handle: u32, parent: u32, info: u32) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = libc::AF_UNSPEC as u8;
    h[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    h[8..12].copy_from_slice(&handle.to_ne_bytes());
    h[12..16].copy_from_slice(&parent.to_ne_bytes());
    h[16..20].copy_from_slice(&info.to_ne_bytes());
    h
}

/// `RTM_GETLINK` for `ifindex`: `Ok(false)` when no interface has it (`ENODEV`) in the
/// calling thread's network namespace.
pub fn link_exists(ifindex: u32) -> Result<bool, NetlinkError> {
    if ifindex == 0 || ifindex > i32::MAX as u32 {
        return Ok(false);
    }
    match one_request(&mut Request::new(RTM_GETLINK, 0, &ifinfomsg(ifindex))) {
        Ok(_) => Ok(true),
        Err(e) if e.errno == Errno::ENODEV => Ok(false),
        Err(e) => Err(e),
    }
}

/// `IFLA_XDP` of an interface: what is attached, per mode (program ids, 0 for none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XdpState {
    /// `IFLA_XDP_ATTACHED`: `XDP_ATTACHED_NONE` (0), `DRV` (1), `SKB` (2), `HW` (3) or
    /// `MULTI` (4).
    pub attached: u8,
    /// `IFLA_XDP_PROG_ID`: the program when exactly one mode has one.
    pub prog_id: u32,
    /// Native (driver) mode program.
    pub drv_prog_id: u32,
    /// Generic (skb) mode program.
    pub skb_prog_id: u32,
    /// Offloaded program.
    pub hw_prog_id: u32,
}

/// `RTM_GETLINK`: the XDP programs attached to `ifindex`.
pub fn xdp_query(ifindex: u32) -> Result<XdpState, NetlinkError> {
    let replies = one_request(&mut Request::new(RTM_GETLINK, 0, &ifinfomsg(ifindex)))?;
    Ok(replies
        .iter()
        .filter_map(|m| parse_xdp(&m.payload))
        .next()
        .unwrap_or_default())
}

/// The `IFLA_XDP` state in an `RTM_NEWLINK` payload (`ifinfomsg` and attributes), with the
/// single-mode `IFLA_XDP_PROG_ID` also filed under its mode.
fn parse_xdp(payload: &[u8]) -> Option<XdpState> {
    let rest = payload.get(16..)?;
    let mut st = XdpState::default();
    for (ty, data) in attrs(rest) {
        if ty != IFLA_XDP {
            continue;
        }
        for (t, d) in attrs(data) {
            match t {
                IFLA_XDP_ATTACHED => st.attached = d.first().copied().unwrap_or(0),
                IFLA_XDP_PROG_ID => st.prog_id = attr_u32(d).unwrap_or(0),
                IFLA_XDP_DRV_PROG_ID => st.drv_prog_id = attr_u32(d).unwrap_or(0),
                IFLA_XDP_SKB_PROG_ID => st.skb_prog_id = attr_u32(d).unwrap_or(0),
                IFLA_XDP_HW_PROG_ID => st.hw_prog_id = attr_u32(d).unwrap_or(0),
                _ => {}
            }
        }
    }
    match st.attached {
        1 if st.drv_prog_id == 0 => st.drv_prog_id = st.prog_id,
        2 if st.skb_prog_id == 0 => st.skb_prog_id = st.prog_id,
        3 if st.hw_prog_id == 0 => st.hw_prog_id = st.prog_id,
        _ => {}
    }
    Some(st)
}

/// The `RTM_SETLINK` request of [`xdp_set`], to send on a socket kept open (so that a later
/// detach happens in the same network namespace).
pub fn xdp_set_request(
    ifindex: u32,
    prog: Option<BorrowedFd<'_>>,
    flags: u32,
    expected: Option<BorrowedFd<'_>>,
) -> Request {
    let mut req = Request::new(RTM_SETLINK, 0, &ifinfomsg(ifindex));
    req.begin_nest(IFLA_XDP);
    req.attr_i32(IFLA_XDP_FD, prog.map_or(-1, |p| p.as_raw_fd()));
    let mut flags = flags;
    if let Some(old) = expected {
        req.attr_i32(IFLA_XDP_EXPECTED_FD, old.as_raw_fd());
        flags |= XDP_FLAGS_REPLACE;
    }
    if flags != 0 {
        req.attr_u32(IFLA_XDP_FLAGS, flags);
    }
    req.end_nest();
    req
}

/// `RTM_SETLINK` with `IFLA_XDP`: attaches `prog` to `ifindex` (or detaches with `None`)
/// with `XDP_FLAGS_*` `flags`. With `expected`, only if that program is the one attached now
/// (`IFLA_XDP_EXPECTED_FD` and `XDP_FLAGS_REPLACE`, added here).
pub fn xdp_set(
    ifindex: u32,
    prog: Option<BorrowedFd<'_>>,
    flags: u32,
    expected: Option<BorrowedFd<'_>>,
) -> Result<(), NetlinkError> {
    one_request(&mut xdp_set_request(ifindex, prog, flags, expected)).map(drop)
}

/// `RTM_NEWQDISC` on `sock`: adds the clsact qdisc to `ifindex`. `EEXIST` when there is one.
pub fn clsact_add(sock: &mut Socket, ifindex: u32) -> Result<(), NetlinkError> {
    let mut req = Request::new(
        RTM_NEWQDISC,
        NLM_F_CREATE | NLM_F_EXCL,
        &tcmsg(ifindex, 0xffff_0000, TC_H_CLSACT, 0),
    );
    req.attr_str(TCA_KIND, c"clsact");
    sock.request(&mut req).map(drop)
}

/// `RTM_DELQDISC`: removes the clsact qdisc (and every filter on it) from `ifindex`.
pub fn clsact_del(sock: &mut Socket, ifindex: u32) -> Result<(), NetlinkError> {
    let mut req = Request::new(
        RTM_DELQDISC,
        0,
        &tcmsg(ifindex, 0xffff_0000, TC_H_CLSACT, 0),
    );
    req.attr_str(TCA_KIND, c"clsact");
    sock.request(&mut req).map(drop)
}

/// The parent handle of a clsact hook: `TC_H_MAKE(TC_H_CLSACT, minor)` with
/// [`TC_H_MIN_INGRESS`] or [`TC_H_MIN_EGRESS`].
pub fn clsact_parent(minor: u32) -> u32 {
    (TC_H_CLSACT & 0xffff_0000) | (minor & 0xffff)
}

/// A cls_bpf filter as `RTM_GETTFILTER` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcFilterInfo {
    /// Filter handle.
    pub handle: u32,
    /// Priority.
    pub priority: u16,
    /// `TCA_KIND` (`"bpf"` for ours).
    pub kind: String,
    /// `TCA_BPF_ID`: the program's id.
    pub prog_id: u32,
    /// `TCA_BPF_NAME`: the name given at attach.
    pub name: String,
    /// `TCA_BPF_TAG`.
    pub tag: [u8; 8],
    /// Whether `TCA_BPF_FLAG_ACT_DIRECT` is set.
    pub direct_action: bool,
}

fn parse_filter(m: &Message) -> Option<TcFilterInfo> {
    let h = m.payload.get(..20)?;
    let handle = u32::from_ne_bytes(h[8..12].try_into().ok()?);
    let info = u32::from_ne_bytes(h[16..20].try_into().ok()?);
    let mut f = TcFilterInfo {
        handle,
        priority: (info >> 16) as u16,
        ..Default::default()
    };
    for (ty, data) in attrs(&m.payload[20..]) {
        match ty {
            TCA_KIND => {
                let s = data.split(|b| *b == 0).next().unwrap_or(&[]);
                f.kind = String::from_utf8_lossy(s).into_owned();
            }
            TCA_OPTIONS => {
                for (t, d) in attrs(data) {
                    match t {
                        TCA_BPF_ID => f.prog_id = attr_u32(d).unwrap_or(0),
                        TCA_BPF_NAME => {
                            let s = d.split(|b| *b == 0).next().unwrap_or(&[]);
                            f.name = String::from_utf8_lossy(s).into_owned();
                        }
                        TCA_BPF_TAG => {
                            if let Some(t) = d.get(..8) {
                                f.tag.copy_from_slice(t);
                            }
                        }
                        TCA_BPF_FLAGS => {
                            f.direct_action =
                                attr_u32(d).is_some_and(|v| v & TCA_BPF_FLAG_ACT_DIRECT != 0)
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Some(f)
}

/// What [`tc_filter_add`] attaches.
#[derive(Clone, Copy, Debug)]
pub struct TcFilterArgs<'a> {
    /// The interface.
    pub ifindex: u32,
    /// The hook (see [`clsact_parent`]).
    pub parent: u32,
    /// Filter handle (0: the kernel picks).
    pub handle: u32,
    /// Priority (0: the kernel picks).
    pub priority: u16,
    /// The program.
    pub prog: BorrowedFd<'a>,
    /// The name shown by `tc filter show`.
    pub name: &'a CStr,
    /// Replace the filter with this handle and priority (`NLM_F_REPLACE`) instead of
    /// failing with `EEXIST`.
    pub replace: bool,
}

/// `RTM_NEWTFILTER`: attaches `args.prog` as a cls_bpf filter in direct-action mode,
/// matching every protocol. Returns the filter as created (its handle and priority).
pub fn tc_filter_add(
    sock: &mut Socket,
    args: &TcFilterArgs<'_>,
) -> Result<TcFilterInfo, NetlinkError> {
    let TcFilterArgs {
        ifindex,
        parent,
        handle,
        priority,
        prog,
        name,
        replace,
    } = *args;
    let flags = NLM_F_CREATE | NLM_F_ECHO | if replace { NLM_F_REPLACE } else { NLM_F_EXCL };
    let info = ((priority as u32) << 16) | ETH_P_ALL_BE;
    let mut req = Request::new(RTM_NEWTFILTER, flags, &tcmsg(ifindex, handle, parent, info));
    req.attr_str(TCA_KIND, c"bpf");
    req.begin_nest(TCA_OPTIONS);
    req.attr_i32(TCA_BPF_FD, prog.as_raw_fd());
    req.attr_str(TCA_BPF_NAME, name);
    req.attr_u32(TCA_BPF_FLAGS, TCA_BPF_FLAG_ACT_DIRECT);
    req.end_nest();
    let replies = sock.request(&mut req)?;
    replies
        .iter()
        .filter(|m| m.msg_type == RTM_NEWTFILTER)
        .find_map(parse_filter)
        .ok_or(NetlinkError {
            errno: Errno::from_raw(libc::EPROTO),
            message: Some("the kernel did not echo the new filter".into()),
        })
}

/// `RTM_DELTFILTER`: removes the filter `handle`/`priority` at `parent` of `ifindex`.
pub fn tc_filter_del(
    sock: &mut Socket,
    ifindex: u32,
    parent: u32,
    handle: u32,
    priority: u16,
) -> Result<(), NetlinkError> {
    let info = ((priority as u32) << 16) | ETH_P_ALL_BE;
    let mut req = Request::new(RTM_DELTFILTER, 0, &tcmsg(ifindex, handle, parent, info));
    req.attr_str(TCA_KIND, c"bpf");
    sock.request(&mut req).map(drop)
}

/// `RTM_GETTFILTER` dump: every filter at `parent` of `ifindex` (bpf ones with their program
/// id).
pub fn tc_filter_list(
    sock: &mut Socket,
    ifindex: u32,
    parent: u32,
) -> Result<Vec<TcFilterInfo>, NetlinkError> {
    let mut req = Request::new(RTM_GETTFILTER, NLM_F_DUMP, &tcmsg(ifindex, 0, parent, 0));
    let replies = sock.request(&mut req)?;
    Ok(replies
        .iter()
        .filter(|m| m.msg_type == RTM_NEWTFILTER)
        .filter_map(parse_filter)
        // The dump also lists the chain's head entry, which has no handle.
        .filter(|f| f.handle != 0)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout_and_nesting() {
        let mut r = Request::new(RTM_SETLINK, 0, &ifinfomsg(7));
        r.begin_nest(IFLA_XDP);
        r.attr_i32(IFLA_XDP_FD, -1);
        r.attr_u32(IFLA_XDP_FLAGS, 2);
        r.end_nest();
        r.attr_str(TCA_KIND, c"abc");
        let b = r.finish(5).to_vec();
        // nlmsghdr
        assert_eq!(
            u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize,
            b.len()
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), RTM_SETLINK);
        assert_eq!(u16::from_ne_bytes([b[6], b[7]]), NLM_F_REQUEST | NLM_F_ACK);
        assert_eq!(u32::from_ne_bytes(b[8..12].try_into().unwrap()), 5);
        // ifinfomsg index
        assert_eq!(u32::from_ne_bytes(b[20..24].try_into().unwrap()), 7);
        let top: Vec<_> = attrs(&b[32..]).collect();
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].0, IFLA_XDP);
        assert_eq!(top[0].1.len(), 16, "two 8-byte attributes nested");
        assert_eq!(u16::from_ne_bytes([b[34], b[35]]), IFLA_XDP | NLA_F_NESTED);
        let inner: Vec<_> = attrs(top[0].1).collect();
        assert_eq!(inner[0], (IFLA_XDP_FD, &(-1i32).to_ne_bytes()[..]));
        assert_eq!(inner[1], (IFLA_XDP_FLAGS, &2u32.to_ne_bytes()[..]));
        assert_eq!(top[1], (TCA_KIND, &b"abc\0"[..]));
        assert_eq!(b.len() % 4, 0);
    }

    #[test]
    fn attrs_stop_at_malformed() {
        // A 5-byte attribute padded to 8, then one claiming more bytes than there are.
        let mut b = vec![5, 0, 1, 0, 9, 0, 0, 0];
        b.extend_from_slice(&[40, 0, 2, 0, 1, 2, 3, 4]);
        let v: Vec<_> = attrs(&b).collect();
        assert_eq!(v, vec![(1, &[9u8][..])]);
        assert_eq!(attrs(&[1, 0]).count(), 0);
        assert_eq!(attrs(&[2, 0, 1, 0]).count(), 0, "length below the header");
    }

    fn nlmsg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((16 + payload.len()) as u32).to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v.extend_from_slice(payload);
        v.resize(align4(v.len()), 0);
        v
    }

    #[test]
    fn replies_ack_error_and_extack() {
        // ACK: error 0 ends the request.
        let ack = nlmsg(NLMSG_ERROR, 0, 3, &[0u8; 20]);
        assert_eq!(parse_replies(&ack, 3).unwrap(), (vec![], true));
        // Someone else's seq is ignored.
        assert_eq!(parse_replies(&ack, 4).unwrap(), (vec![], false));
        // A data message, then DONE.
        let mut dump = nlmsg(RTM_NEWTFILTER, NLM_F_MULTI, 3, &[1, 2, 3, 4]);
        dump.extend(nlmsg(NLMSG_DONE, NLM_F_MULTI, 3, &[0; 4]));
        let (m, done) = parse_replies(&dump, 3).unwrap();
        assert!(done);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].payload, vec![1, 2, 3, 4]);
        // An error with an extended-ACK message.
        let mut p = (-libc::EEXIST).to_ne_bytes().to_vec();
        p.extend_from_slice(&[0u8; 16]); // the capped request header
        let msg = b"Exclusivity flag on\0";
        p.extend_from_slice(&((4 + msg.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(msg);
        let e = parse_replies(&nlmsg(NLMSG_ERROR, NLM_F_ACK_TLVS, 3, &p), 3).unwrap_err();
        assert_eq!(e.errno, Errno::EEXIST);
        assert_eq!(e.message.as_deref(), Some("Exclusivity flag on"));
        assert_eq!(
            e.to_string(),
            format!("{} (Exclusivity flag on)", Errno::EEXIST)
        );
    }

    #[test]
    fn xdp_parse() {
        // Generic mode only: the kernel sends ATTACHED=2 and PROG_ID (older kernels no
        // SKB_PROG_ID), so the id is filed under generic.
        let mut r = Request::new(0, 0, &ifinfomsg(1));
        r.attr(3, b"lo\0"); // IFLA_IFNAME, skipped
        r.begin_nest(IFLA_XDP);
        r.attr(IFLA_XDP_ATTACHED, &[2]);
        r.attr_u32(IFLA_XDP_PROG_ID, 77);
        r.end_nest();
        let b = r.finish(0)[16..].to_vec();
        let st = parse_xdp(&b).unwrap();
        assert_eq!(
            (st.attached, st.prog_id, st.skb_prog_id, st.drv_prog_id),
            (2, 77, 77, 0)
        );
        // Several modes: ATTACHED=4 (multi) and per-mode ids, no PROG_ID.
        let mut r = Request::new(0, 0, &ifinfomsg(1));
        r.begin_nest(IFLA_XDP);
        r.attr(IFLA_XDP_ATTACHED, &[4]);
        r.attr_u32(IFLA_XDP_DRV_PROG_ID, 5);
        r.attr_u32(IFLA_XDP_HW_PROG_ID, 6);
        r.end_nest();
        let st = parse_xdp(&r.finish(0)[16..]).unwrap();
        assert_eq!(
            (st.drv_prog_id, st.hw_prog_id, st.skb_prog_id, st.prog_id),
            (5, 6, 0, 0)
        );
        // Nothing attached; a payload too short for ifinfomsg.
        let st = parse_xdp(&Request::new(0, 0, &ifinfomsg(1)).finish(0)[16..]).unwrap();
        assert_eq!(st, XdpState::default());
        assert_eq!(parse_xdp(&[0; 8]), None);
    }

    #[test]
    fn filter_parse() {
        let mut p = tcmsg(
            3,
            0x1,
            clsact_parent(TC_H_MIN_INGRESS),
            (5 << 16) | ETH_P_ALL_BE,
        )
        .to_vec();
        let mut r = Request::new(0, 0, &[]);
        r.attr_str(TCA_KIND, c"bpf");
        r.begin_nest(TCA_OPTIONS);
        r.attr_u32(TCA_BPF_ID, 42);
        r.attr_str(TCA_BPF_NAME, c"cls");
        r.attr_u32(TCA_BPF_FLAGS, 1);
        r.end_nest();
        p.extend_from_slice(&r.finish(0)[16..]);
        let f = parse_filter(&Message {
            msg_type: RTM_NEWTFILTER,
            flags: 0,
            payload: p,
        })
        .unwrap();
        assert_eq!(f.handle, 1);
        assert_eq!(f.priority, 5);
        assert_eq!(f.kind, "bpf");
        assert_eq!(f.prog_id, 42);
        assert_eq!(f.name, "cls");
        assert!(f.direct_action);
        assert_eq!(clsact_parent(TC_H_MIN_EGRESS), 0xffff_fff3);
    }
}
