//! The ONC RPC client of the NFS probe: one connection to one server port, over TCP (record
//! marking) or UDP (retransmitted after [`UDP_RTO`], doubling up to [`UDP_RTO_MAX`]), from a
//! reserved source port when the call carries `AUTH_SYS` as root — servers that check
//! `secure` exports refuse anything else.
//!
//! The connect and every send and receive are [`crate::probe::net`]'s: bounded by the probe's
//! deadline and cancel token. The messages themselves are [`super::codec`]'s.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::SockAddr;

use super::RpcError;
use super::codec::{AuthSys, decode_reply, encode_call, read_record};
use crate::probe::net::{self, Bounds, Datagram, Kind, Stream};
use crate::probe::{Cancel, Deadline};

/// First UDP retransmission timeout; doubled after each retransmission up to [`UDP_RTO_MAX`].
pub(crate) const UDP_RTO: Duration = Duration::from_millis(500);
/// Longest UDP retransmission timeout.
pub(crate) const UDP_RTO_MAX: Duration = Duration::from_secs(4);

/// Transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// TCP with record marking.
    Tcp,
    /// UDP with retransmission.
    Udp,
}

impl Proto {
    /// IP protocol number, as the portmapper wants it.
    pub(crate) fn ipproto(self) -> u32 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
        }
    }

    /// `TCP` or `UDP`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }
}

enum Conn {
    Tcp(Stream),
    Udp(Datagram),
}

/// One RPC client connection to one server port, bounded by a deadline and a cancel token.
pub struct RpcClient {
    conn: Conn,
    xid: u32,
    cred: Option<AuthSys>,
}

/// Lowest and highest reserved port tried for `AUTH_SYS` clients.
const RESV_LO: u16 = 512;
const RESV_HI: u16 = 1023;

fn next_xid() -> u32 {
    getrandom::u32().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos())
    })
}

impl RpcClient {
    /// Connects (TCP) or binds and connects (UDP) to `peer`. With `reserved`, binds a source
    /// port below 1024 first (as root; falls back to an ephemeral port when none is free or the
    /// process may not). `cred` = `None` sends `AUTH_NONE`.
    pub fn connect(
        peer: SocketAddr,
        proto: Proto,
        reserved: bool,
        cred: Option<AuthSys>,
        deadline: Deadline,
        cancel: &Cancel,
    ) -> Result<Self, RpcError> {
        let bounds = Bounds::new(deadline, cancel);
        let kind = match proto {
            Proto::Tcp => Kind::Tcp,
            Proto::Udp => Kind::Udp,
        };
        let mut attempts = if reserved { 16 } else { 1 };
        let mut port = if reserved {
            RESV_LO + u16::try_from(next_xid() % u32::from(RESV_HI - RESV_LO + 1)).unwrap_or(0)
        } else {
            0
        };
        loop {
            let sock = net::socket(peer, kind)?;
            if port != 0 {
                // TCP: reuse a port whose earlier connection is in TIME_WAIT (a different
                // 4-tuple). Never for UDP, where it would let two sockets share the port.
                if proto == Proto::Tcp {
                    sock.set_reuse_address(true).ok();
                }
                let local: SocketAddr = match peer {
                    SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, port).into(),
                    SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, port).into(),
                };
                if let Err(e) = sock.bind(&SockAddr::from(local)) {
                    attempts -= 1;
                    port = if attempts <= 1 || e.kind() == io::ErrorKind::PermissionDenied {
                        0
                    } else if port >= RESV_HI {
                        RESV_LO
                    } else {
                        port + 1
                    };
                    continue;
                }
            }
            match net::connect(&sock, peer, &bounds) {
                Err(net::Error::Io(_, e))
                    if port != 0 && e.kind() == io::ErrorKind::AddrNotAvailable =>
                {
                    // The 4-tuple is still in TIME_WAIT from an earlier probe: next port.
                    attempts -= 1;
                    port = if attempts <= 1 {
                        0
                    } else {
                        port.max(RESV_LO) + 1
                    };
                    if port > RESV_HI {
                        port = RESV_LO;
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
                Ok(()) => {}
            }
            let conn = match proto {
                Proto::Tcp => Conn::Tcp(Stream::from_connected(sock, &bounds)),
                Proto::Udp => Conn::Udp(Datagram::from_connected(sock, &bounds)),
            };
            return Ok(Self {
                conn,
                xid: next_xid(),
                cred,
            });
        }
    }

    /// Calls `proc_` of program `prog` version `vers` with encoded `args`; returns the result
    /// bytes of an accepted, successful reply.
    pub fn call(
        &mut self,
        prog: u32,
        vers: u32,
        proc_: u32,
        args: &[u8],
    ) -> Result<Vec<u8>, RpcError> {
        self.xid = self.xid.wrapping_add(1);
        let xid = self.xid;
        let msg = encode_call(xid, prog, vers, proc_, self.cred.as_ref(), args);
        match &mut self.conn {
            Conn::Tcp(s) => {
                let len =
                    u32::try_from(msg.len()).map_err(|_| RpcError::Garbage("call too long"))?;
                let mut rec = Vec::with_capacity(msg.len() + 4);
                rec.extend_from_slice(&(0x8000_0000 | len).to_be_bytes());
                rec.extend_from_slice(&msg);
                s.write_all(&rec)?;
                loop {
                    let reply = read_record(
                        |b| s.read_exact(b).map_err(RpcError::from),
                        || RpcError::Garbage("reply too long"),
                    )?;
                    let r = decode_reply(&reply)?;
                    if r.xid == xid {
                        return r.result.map(<[u8]>::to_vec);
                    }
                }
            }
            Conn::Udp(d) => udp_call(d, xid, &msg),
        }
    }
}

/// One UDP call: sent again after [`UDP_RTO`], doubling up to [`UDP_RTO_MAX`], until its reply
/// comes or the deadline passes.
fn udp_call(d: &Datagram, xid: u32, msg: &[u8]) -> Result<Vec<u8>, RpcError> {
    let mut rto = UDP_RTO;
    let mut buf = vec![0u8; 65536];
    loop {
        d.send(msg)?;
        let resend_at = Instant::now() + rto;
        while let Some(n) = d.recv_until(&mut buf, resend_at)? {
            // Datagrams that do not decode or carry another xid are strays.
            if let Ok(r) = decode_reply(&buf[..n])
                && r.xid == xid
            {
                return r.result.map(<[u8]>::to_vec);
            }
        }
        rto = (rto * 2).min(UDP_RTO_MAX);
    }
}
