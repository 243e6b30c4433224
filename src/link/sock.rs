//! Programs attached to sockets and socket maps: socket filters (`SO_ATTACH_BPF`), reuseport
//! selection (`SO_ATTACH_REUSEPORT_EBPF`), and sk_msg/sk_skb verdict and parser programs on a
//! sockmap or sockhash (`BPF_PROG_ATTACH`, or a sockmap link on 6.10+).

use std::os::fd::{AsFd, OwnedFd};

use crate::error::{Error, Result};
use crate::map::Map;
use crate::prog::{AttachType, Program, ProgramType};
use crate::sys::sockopt::{self, SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_EBPF};
use crate::sys::{AttachFlags, AttachTarget, Errno, Relative};

use super::{Link, ProgAttachment, attach_error, link_create_error};

/// A program attached to a socket with `setsockopt`. Dropping it detaches the program
/// (`SO_DETACH_BPF` / `SO_DETACH_REUSEPORT_BPF`) through a duplicate of the socket fd kept
/// for that. (The kernel also drops the program when the socket closes.)
#[derive(Debug)]
pub struct SocketAttachment {
    sock: Option<OwnedFd>,
    detach_opt: i32,
}

impl SocketAttachment {
    /// Detaches now, reporting errors.
    pub fn detach(mut self) -> Result<()> {
        self.detach_inner()
    }

    fn detach_inner(&mut self) -> Result<()> {
        let Some(sock) = self.sock.take() else {
            return Ok(());
        };
        sockopt::socket_detach_prog(sock.as_fd(), self.detach_opt).map_err(|e| Error::Syscall {
            call: "setsockopt(SO_DETACH_BPF)",
            errno: e,
            context: None,
            hint: (e == Errno::ENOENT).then_some("no program is attached to the socket"),
        })
    }
}

impl Drop for SocketAttachment {
    fn drop(&mut self) {
        let _ = self.detach_inner();
    }
}

fn sock_attach(
    prog: &Program,
    sock: impl AsFd,
    want: ProgramType,
    attach_opt: i32,
    detach_opt: i32,
    call: &'static str,
) -> Result<SocketAttachment> {
    if prog.program_type() != want {
        return Err(Error::InvalidArgument(format!(
            "program \"{}\" is a {:?} program, {call} takes {want:?}",
            prog.name(),
            prog.program_type()
        )));
    }
    let sock = sock.as_fd();
    let dup = sock.try_clone_to_owned().map_err(|e| Error::Io {
        path: "dup(socket fd)".into(),
        source: e,
    })?;
    sockopt::socket_attach_prog(sock, attach_opt, prog.as_fd()).map_err(|e| {
        if e == Errno::from_raw(libc::ENOTSOCK) {
            return Error::InvalidArgument(format!("{call}: the fd is not a socket"));
        }
        attach_error(call, prog, format!("program \"{}\"", prog.name()), e)
    })?;
    Ok(SocketAttachment {
        sock: Some(dup),
        detach_opt,
    })
}

impl Program {
    /// Attaches this socket filter to `sock` (`SO_ATTACH_BPF`); it replaces any filter the
    /// socket had. The filter sees every packet the socket receives; a return of 0 drops it,
    /// n keeps its first n bytes.
    pub fn attach_socket_filter(&self, sock: impl AsFd) -> Result<SocketAttachment> {
        sock_attach(
            self,
            sock,
            ProgramType::SOCKET_FILTER,
            SO_ATTACH_BPF,
            sockopt::SO_DETACH_BPF,
            "setsockopt(SO_ATTACH_BPF)",
        )
    }

    /// Attaches this sk_reuseport program to `sock`'s reuseport group
    /// (`SO_ATTACH_REUSEPORT_EBPF`; the socket needs `SO_REUSEPORT` set before `bind`): it
    /// picks which socket of the group gets each packet or connection.
    pub fn attach_reuseport(&self, sock: impl AsFd) -> Result<SocketAttachment> {
        sock_attach(
            self,
            sock,
            ProgramType::SK_REUSEPORT,
            SO_ATTACH_REUSEPORT_EBPF,
            sockopt::SO_DETACH_REUSEPORT_BPF,
            "setsockopt(SO_ATTACH_REUSEPORT_EBPF)",
        )
    }

    fn sockmap_attach_type(&self) -> Result<AttachType> {
        match (self.program_type(), self.expected_attach_type()) {
            (ProgramType::SK_MSG, _) => Ok(AttachType::SK_MSG_VERDICT),
            (ProgramType::SK_SKB, Some(t)) => Ok(t),
            (ProgramType::SK_SKB, _) => Err(Error::InvalidArgument(format!(
                "sk_skb program \"{}\" has no expected attach type: name its SEC() \
                 sk_skb/stream_verdict, sk_skb/stream_parser or sk_skb/verdict, or use \
                 attach_sockmap_as",
                self.name()
            ))),
            (t, _) => Err(Error::InvalidArgument(format!(
                "program \"{}\" is a {t:?} program; a sockmap takes SK_MSG and SK_SKB programs",
                self.name()
            ))),
        }
    }

    /// Attaches this sk_msg or sk_skb program to the sockmap/sockhash `map` at its expected
    /// attach type with `BPF_PROG_ATTACH`. Dropping the handle detaches it.
    pub fn attach_sockmap(&self, map: &Map) -> Result<ProgAttachment> {
        let t = self.sockmap_attach_type()?;
        self.attach_sockmap_as(map, t)
    }

    /// As [`Program::attach_sockmap`], at `attach_type`.
    pub fn attach_sockmap_as(&self, map: &Map, attach_type: AttachType) -> Result<ProgAttachment> {
        ProgAttachment::attach(
            self,
            AttachTarget::Fd(map.as_fd()),
            attach_type,
            AttachFlags::empty(),
            None,
            Relative::None,
            0,
        )
    }

    /// Attaches this sk_msg or sk_skb program to the sockmap/sockhash `map` through a link
    /// (`BPF_LINK_CREATE`, a sockmap link: kernel 6.10+).
    pub fn attach_sockmap_link(&self, map: &Map) -> Result<Link> {
        let t = self.sockmap_attach_type()?;
        crate::sys::link_create(self.as_fd(), AttachTarget::Fd(map.as_fd()), t, 0)
            .map(Link::from_fd)
            .map_err(|e| link_create_error(self, t, e))
    }
}

/// The ids of the programs attached to the sockmap/sockhash `map` at `attach_type`
/// (`BPF_PROG_QUERY` on a map: kernel 6.0+).
pub fn sockmap_query(map: &Map, attach_type: AttachType) -> Result<Vec<u32>> {
    super::attach::query(AttachTarget::Fd(map.as_fd()), attach_type, 0, false).map(|q| q.0)
}
