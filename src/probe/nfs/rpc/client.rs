//! The ONC RPC client of the NFS probe: one connection to one server port, over TCP (record
//! marking) or UDP (retransmitted after [`UDP_RTO`], doubling up to [`UDP_RTO_MAX`]), from a
//! reserved source port when the call carries `AUTH_SYS` as root — servers that check
//! `secure` exports refuse anything else. Calls that do not depend on one another can be sent
//! together and their replies taken in any order ([`RpcClient::call_all`]): one round trip for
//! all of them, as `NFSv3` has no COMPOUND.
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
        let one = [Call {
            prog,
            vers,
            proc_,
            args,
        }];
        match self.call_all(&one, |_| {}) {
            Ok(mut v) => v.pop().unwrap_or(Err(RpcError::Garbage("no reply"))),
            Err((_, e)) => Err(e),
        }
    }

    /// Sends every call of `calls` at once, then collects their replies in whatever order the
    /// server sends them: one round trip for all (RPC lets a client have many calls
    /// outstanding; each reply names its call by xid). `answered(i)` is told as the reply to
    /// `calls[i]` arrives, so each call can be timed as its own phase. Returns each call's
    /// result in the order of `calls`; `Err((i, e))` when the connection failed, the deadline
    /// passed or a reply was garbage while `calls[i]` (the first one unanswered) still waited.
    pub fn call_all(
        &mut self,
        calls: &[Call<'_>],
        mut answered: impl FnMut(usize),
    ) -> Result<Vec<CallResult>, (usize, RpcError)> {
        let first = self.xid.wrapping_add(1);
        let msgs: Vec<Vec<u8>> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let xid = first.wrapping_add(u32::try_from(i).unwrap_or(u32::MAX));
                encode_call(xid, c.prog, c.vers, c.proc_, self.cred.as_ref(), c.args)
            })
            .collect();
        self.xid = first.wrapping_add(u32::try_from(calls.len()).unwrap_or(u32::MAX));
        let mut results: Vec<Option<CallResult>> = calls.iter().map(|_| None).collect();
        let pending = |r: &[Option<_>]| r.iter().position(Option::is_none);
        // The call a reply with `xid` answers, if it is one of ours still waiting.
        let index = |xid: u32, r: &[Option<_>]| {
            let i = usize::try_from(xid.wrapping_sub(first)).ok()?;
            (i < r.len() && r[i].is_none()).then_some(i)
        };
        let fail = |r: &[Option<_>], e: RpcError| (pending(r).unwrap_or(0), e);
        match &mut self.conn {
            Conn::Tcp(s) => {
                let mut out = Vec::new();
                for m in &msgs {
                    let len = u32::try_from(m.len())
                        .map_err(|_| (0, RpcError::Garbage("call too long")))?;
                    out.extend_from_slice(&(0x8000_0000 | len).to_be_bytes());
                    out.extend_from_slice(m);
                }
                s.write_all(&out).map_err(|e| fail(&results, e.into()))?;
                while pending(&results).is_some() {
                    let reply = read_record(
                        |b| s.read_exact(b).map_err(RpcError::from),
                        || RpcError::Garbage("reply too long"),
                    )
                    .map_err(|e| fail(&results, e))?;
                    let r = decode_reply(&reply).map_err(|e| fail(&results, e))?;
                    if let Some(i) = index(r.xid, &results) {
                        results[i] = Some(r.result.map(<[u8]>::to_vec));
                        answered(i);
                    }
                }
            }
            Conn::Udp(d) => {
                let mut rto = UDP_RTO;
                let mut buf = vec![0u8; 65536];
                while pending(&results).is_some() {
                    for (m, r) in msgs.iter().zip(&results) {
                        if r.is_none() {
                            d.send(m).map_err(|e| fail(&results, e.into()))?;
                        }
                    }
                    let resend_at = Instant::now() + rto;
                    while pending(&results).is_some() {
                        let Some(n) = d
                            .recv_until(&mut buf, resend_at)
                            .map_err(|e| fail(&results, e.into()))?
                        else {
                            break;
                        };
                        // Datagrams that do not decode or carry another xid are strays.
                        if let Ok(r) = decode_reply(&buf[..n])
                            && let Some(i) = index(r.xid, &results)
                        {
                            results[i] = Some(r.result.map(<[u8]>::to_vec));
                            answered(i);
                        }
                    }
                    rto = (rto * 2).min(UDP_RTO_MAX);
                }
            }
        }
        Ok(results.into_iter().flatten().collect())
    }
}

/// One call's outcome in [`RpcClient::call_all`]: its result bytes, or why it failed.
pub type CallResult = Result<Vec<u8>, RpcError>;

/// One call of [`RpcClient::call_all`].
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// Program number.
    pub prog: u32,
    /// Program version.
    pub vers: u32,
    /// Procedure number.
    pub proc_: u32,
    /// Encoded arguments.
    pub args: &'a [u8],
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::nfs::xdr::{Decoder, Encoder};
    use std::io::{Read, Write};
    use std::net::{Ipv4Addr, TcpListener, UdpSocket};
    use std::time::Duration;

    /// An accepted, successful reply to `xid` whose result is the procedure number called.
    fn reply(call: &[u8]) -> Vec<u8> {
        let mut d = Decoder::new(call);
        let xid = d.u32().unwrap();
        let _ = (d.u32(), d.u32(), d.u32(), d.u32());
        let proc_ = d.u32().unwrap();
        let mut e = Encoder::new();
        e.u32(xid)
            .u32(1)
            .u32(0)
            .u32(0)
            .opaque(&[])
            .u32(0)
            .u32(proc_);
        e.finish()
    }

    fn calls() -> [Call<'static>; 3] {
        [7, 8, 9].map(|proc_| Call {
            prog: 100_003,
            vers: 3,
            proc_,
            args: &[],
        })
    }

    fn results(r: Vec<CallResult>) -> Vec<Vec<u8>> {
        r.into_iter().map(Result::unwrap).collect()
    }

    /// Three calls go out before any reply comes; replies in reverse order are matched to
    /// their calls by xid, and `answered` hears them in arrival order.
    #[test]
    fn pipelined_calls_over_tcp_are_matched_by_xid() {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut recs = Vec::new();
            for _ in 0..3 {
                let rec =
                    read_record(|b| s.read_exact(b), || std::io::ErrorKind::Other.into()).unwrap();
                recs.push(rec);
            }
            for rec in recs.iter().rev() {
                let r = reply(rec);
                let mut out = (0x8000_0000 | u32::try_from(r.len()).unwrap())
                    .to_be_bytes()
                    .to_vec();
                out.extend(r);
                s.write_all(&out).unwrap();
            }
        });
        let cancel = Cancel::new();
        let deadline = Deadline::after(Duration::from_secs(5));
        let mut c = RpcClient::connect(addr, Proto::Tcp, false, None, deadline, &cancel).unwrap();
        let mut order = Vec::new();
        let r = c.call_all(&calls(), |i| order.push(i)).unwrap();
        server.join().unwrap();
        assert_eq!(order, [2, 1, 0]);
        assert_eq!(
            results(r),
            [[0, 0, 0, 7], [0, 0, 0, 8], [0, 0, 0, 9]].map(Vec::from)
        );
    }

    /// Over UDP a call whose datagram was lost is sent again, alone; a reply to a call already
    /// answered (the duplicate) is ignored. When the server never answers the last call, the
    /// failure names that call.
    #[test]
    fn pipelined_calls_over_udp_retransmit_what_is_unanswered() {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = s.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            let mut seen = Vec::new();
            let mut dropped = false;
            // Answer everything but the first datagram of procedure 8 (and twice the 7).
            while seen.len() < 4 {
                let (n, from) = s.recv_from(&mut buf).unwrap();
                let r = reply(&buf[..n]);
                let proc_ = r[r.len() - 1];
                seen.push(proc_);
                if proc_ == 8 && !dropped {
                    dropped = true;
                    continue;
                }
                s.send_to(&r, from).unwrap();
                if proc_ == 7 {
                    s.send_to(&r, from).unwrap();
                }
            }
            seen
        });
        let cancel = Cancel::new();
        let deadline = Deadline::after(Duration::from_secs(5));
        let mut c = RpcClient::connect(addr, Proto::Udp, false, None, deadline, &cancel).unwrap();
        let r = c.call_all(&calls(), |_| {}).unwrap();
        assert_eq!(
            results(r),
            [[0, 0, 0, 7], [0, 0, 0, 8], [0, 0, 0, 9]].map(Vec::from)
        );
        let mut seen = server.join().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, [7, 8, 8, 9], "only the lost call is sent again");

        // A server that answers only the first call: the failure names the second.
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = s.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            let (n, from) = s.recv_from(&mut buf).unwrap();
            s.send_to(&reply(&buf[..n]), from).unwrap();
        });
        let deadline = Deadline::after(Duration::from_millis(300));
        let mut c = RpcClient::connect(addr, Proto::Udp, false, None, deadline, &cancel).unwrap();
        let two = &calls()[..2];
        match c.call_all(two, |_| {}) {
            Err((1, RpcError::Net(net::Error::TimedOut))) => {}
            other => panic!("{other:?}"),
        }
        server.join().unwrap();
    }
}
