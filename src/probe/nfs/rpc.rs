//! ONC RPC version 2 (RFC 5531) client: call messages with `AUTH_SYS` credentials, reply decoding
//! (accepted/denied and their status), and two transports — TCP with record marking and UDP with
//! retransmission — all bounded by the probe's one deadline and its cancel token.
//!
//! Every socket operation is [`crate::probe::net`]'s, so a raised cancel token (`-stop`) is
//! noticed within a slice, and no wait runs beyond the deadline. Error texts follow
//! `clnt_sperror(3)` as the original product printed them (SPEC §4).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use socket2::SockAddr;

use super::xdr::{Decoder, Encoder, XdrError};
use crate::probe::net::{self, Bounds, Datagram, Kind, Stream, errno_name, errno_status, strerror};
use crate::probe::{Cancel, Deadline};
/// Largest reply accepted (the probe's replies are a few hundred bytes).
pub const MAX_REPLY: usize = 1 << 20;
/// First UDP retransmission timeout; doubled after each retransmission up to [`UDP_RTO_MAX`].
pub const UDP_RTO: Duration = Duration::from_millis(500);
/// Longest UDP retransmission timeout.
pub const UDP_RTO_MAX: Duration = Duration::from_secs(4);

const CALL: u32 = 0;
const REPLY: u32 = 1;
const AUTH_NONE: u32 = 0;
const AUTH_SYS: u32 = 1;

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
    pub fn ipproto(self) -> u32 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
        }
    }

    /// `TCP` or `UDP`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        }
    }
}

/// Why an RPC call failed.
#[derive(Debug)]
pub enum RpcError {
    /// A socket error (errno), the deadline passed with no answer, or the cancel token was
    /// raised.
    Net(net::Error),
    /// Accepted, `PROG_UNAVAIL`.
    ProgUnavail,
    /// Accepted, `PROG_MISMATCH` with the versions the server supports.
    ProgMismatch(u32, u32),
    /// Accepted, `PROC_UNAVAIL`.
    ProcUnavail,
    /// Accepted, `GARBAGE_ARGS`.
    GarbageArgs,
    /// Accepted, `SYSTEM_ERR`.
    SystemErr,
    /// Accepted with an unknown status.
    AcceptStat(u32),
    /// Denied, `RPC_MISMATCH`.
    RpcMismatch(u32, u32),
    /// Denied, `AUTH_ERROR` with its `auth_stat`.
    AuthError(u32),
    /// The reply could not be decoded.
    Decode(XdrError),
    /// The reply is not an RPC reply (wrong message type, bad reply state, oversized record).
    Garbage(&'static str),
}

impl From<net::Error> for RpcError {
    fn from(e: net::Error) -> Self {
        Self::Net(e)
    }
}

impl From<XdrError> for RpcError {
    fn from(e: XdrError) -> Self {
        Self::Decode(e)
    }
}

fn auth_stat_text(s: u32) -> &'static str {
    match s {
        0 => "Authentication OK",
        1 => "Invalid client credential",
        2 => "Server rejected credential",
        3 => "Invalid client verifier",
        4 => "Server rejected verifier",
        5 => "Client credential too weak",
        6 => "Invalid server verifier",
        7 => "Failed (unspecified error)",
        _ => "Unknown authentication error",
    }
}

impl RpcError {
    /// True when the peer refused the connection (or answered ICMP port unreachable).
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Net(net::Error::Io(_, e)) if e.kind() == io::ErrorKind::ConnectionRefused)
    }

    /// Short status for the fault log: `ECONNREFUSED (111)`, `RPC_TIMEDOUT`, `PROG_UNAVAIL (1)`.
    pub fn status(&self) -> String {
        match self {
            Self::Net(net::Error::Io(_, e)) => errno_status(e),
            // The connection closed under a call: what the C library reports as a reset.
            Self::Net(net::Error::Closed) => errno_name(nix::libc::ECONNRESET),
            Self::Net(net::Error::TimedOut) => "RPC_TIMEDOUT".into(),
            Self::Net(net::Error::Cancelled) => "cancelled".into(),
            Self::ProgUnavail => "PROG_UNAVAIL (1)".into(),
            Self::ProgMismatch(lo, hi) => format!("PROG_MISMATCH (2) {lo}..{hi}"),
            Self::ProcUnavail => "PROC_UNAVAIL (3)".into(),
            Self::GarbageArgs => "GARBAGE_ARGS (4)".into(),
            Self::SystemErr => "SYSTEM_ERR (5)".into(),
            Self::AcceptStat(s) => format!("accept_stat {s}"),
            Self::RpcMismatch(lo, hi) => format!("RPC_MISMATCH {lo}..{hi}"),
            Self::AuthError(s) => format!("AUTH_ERROR ({s})"),
            Self::Decode(_) | Self::Garbage(_) => "RPC_CANTDECODERES".into(),
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Net(net::Error::Io(net::Op::Send, e)) => {
                write!(f, "RPC: Unable to send: errno = {}.", strerror(e))
            }
            Self::Net(net::Error::Io(_, e)) => {
                write!(f, "RPC: Unable to receive: errno = {}.", strerror(e))
            }
            Self::Net(net::Error::Closed) => write!(
                f,
                "RPC: Unable to receive: errno = {}.",
                strerror(&io::Error::from_raw_os_error(nix::libc::ECONNRESET))
            ),
            Self::Net(net::Error::TimedOut) => f.write_str("RPC: Timed out"),
            Self::Net(net::Error::Cancelled) => f.write_str("RPC: Cancelled"),
            Self::ProgUnavail => f.write_str("RPC: Program unavailable"),
            Self::ProgMismatch(lo, hi) => write!(
                f,
                "RPC: Program/version mismatch; low version = {lo}, high version = {hi}"
            ),
            Self::ProcUnavail => f.write_str("RPC: Procedure unavailable"),
            Self::GarbageArgs => f.write_str("RPC: Server can't decode arguments"),
            Self::SystemErr => f.write_str("RPC: Remote system error"),
            Self::AcceptStat(s) => write!(f, "RPC: Failed (accept_stat {s})"),
            Self::RpcMismatch(lo, hi) => write!(
                f,
                "RPC: Incompatible versions of RPC; low version = {lo}, high version = {hi}"
            ),
            Self::AuthError(s) => {
                write!(f, "RPC: Authentication error; why = {}", auth_stat_text(*s))
            }
            Self::Decode(e) => write!(f, "RPC: Can't decode result ({e})"),
            Self::Garbage(why) => write!(f, "RPC: Can't decode result ({why})"),
        }
    }
}

impl std::error::Error for RpcError {}

/// `AUTH_SYS` credentials (RFC 5531 appendix A), encoded once per client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSys {
    /// Arbitrary stamp.
    pub stamp: u32,
    /// Client machine name (at most 255 bytes).
    pub machine: String,
    /// Effective uid.
    pub uid: u32,
    /// Effective gid.
    pub gid: u32,
    /// Supplementary gids (at most 16).
    pub gids: Vec<u32>,
}

impl AuthSys {
    /// uid 0, gid 0, this host's name: what a root monitor sends.
    pub fn root() -> Self {
        let mut machine = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "localhost".into());
        while machine.len() > 255 {
            machine.pop();
        }
        Self {
            stamp: u32::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() & 0xffff_ffff),
            )
            .unwrap_or(0),
            machine,
            uid: 0,
            gid: 0,
            gids: vec![0],
        }
    }

    /// The credential body (`authsys_parms`).
    pub fn body(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u32(self.stamp)
            .string(&self.machine)
            .u32(self.uid)
            .u32(self.gid);
        e.u32(u32::try_from(self.gids.len().min(16)).unwrap_or(16));
        for g in self.gids.iter().take(16) {
            e.u32(*g);
        }
        e.finish()
    }

    /// Decodes a credential body (used by tests and fuzzing).
    pub fn decode(body: &[u8]) -> Result<Self, XdrError> {
        let mut d = Decoder::new(body);
        let stamp = d.u32()?;
        let machine = d.string(255)?;
        let uid = d.u32()?;
        let gid = d.u32()?;
        let n = d.u32()?;
        if n > 16 {
            return Err(XdrError::TooLong { len: n, max: 16 });
        }
        let gids = (0..n).map(|_| d.u32()).collect::<Result<_, _>>()?;
        Ok(Self {
            stamp,
            machine,
            uid,
            gid,
            gids,
        })
    }
}

/// Encodes a CALL message header plus `args`.
pub fn encode_call(
    xid: u32,
    prog: u32,
    vers: u32,
    proc_: u32,
    cred: Option<&AuthSys>,
    args: &[u8],
) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u32(xid).u32(CALL).u32(2).u32(prog).u32(vers).u32(proc_);
    match cred {
        Some(c) => e.u32(AUTH_SYS).opaque(&c.body()),
        None => e.u32(AUTH_NONE).opaque(&[]),
    };
    e.u32(AUTH_NONE).opaque(&[]);
    e.raw(args);
    e.finish()
}

/// A decoded reply: its xid and either the procedure's result bytes or why the call failed.
#[derive(Debug)]
pub struct Reply<'a> {
    /// Transaction id.
    pub xid: u32,
    /// Result bytes of a successful call.
    pub result: Result<&'a [u8], RpcError>,
}

/// Decodes a REPLY message (RFC 5531 §9).
pub fn decode_reply(msg: &[u8]) -> Result<Reply<'_>, RpcError> {
    let mut d = Decoder::new(msg);
    let xid = d.u32()?;
    if d.u32()? != REPLY {
        return Err(RpcError::Garbage("not a reply"));
    }
    let result = match d.u32()? {
        0 => {
            let _flavor = d.u32()?;
            d.opaque(400)?;
            match d.u32()? {
                0 => Ok(d.rest()),
                1 => Err(RpcError::ProgUnavail),
                2 => Err(RpcError::ProgMismatch(d.u32()?, d.u32()?)),
                3 => Err(RpcError::ProcUnavail),
                4 => Err(RpcError::GarbageArgs),
                5 => Err(RpcError::SystemErr),
                s => Err(RpcError::AcceptStat(s)),
            }
        }
        1 => match d.u32()? {
            0 => Err(RpcError::RpcMismatch(d.u32()?, d.u32()?)),
            1 => Err(RpcError::AuthError(d.u32()?)),
            _ => return Err(RpcError::Garbage("bad reject_stat")),
        },
        _ => return Err(RpcError::Garbage("bad reply_stat")),
    };
    Ok(Reply { xid, result })
}

/// Splits a TCP record-marking header into (last fragment, fragment length).
pub fn record_header(h: [u8; 4]) -> (bool, usize) {
    let v = u32::from_be_bytes(h);
    (v & 0x8000_0000 != 0, (v & 0x7fff_ffff) as usize)
}

/// Reassembles one record from a byte stream (record marking, RFC 5531 §11), rejecting records
/// longer than [`MAX_REPLY`]. `read` fills the buffer it is given completely or fails.
pub fn read_record<E>(
    mut read: impl FnMut(&mut [u8]) -> Result<(), E>,
    too_long: impl Fn() -> E,
) -> Result<Vec<u8>, E> {
    let mut rec = Vec::new();
    loop {
        let mut h = [0u8; 4];
        read(&mut h)?;
        let (last, len) = record_header(h);
        if rec.len() + len > MAX_REPLY {
            return Err(too_long());
        }
        let start = rec.len();
        rec.resize(start + len, 0);
        read(&mut rec[start..])?;
        if last {
            return Ok(rec);
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
    peer: SocketAddr,
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
                peer,
                xid: next_xid(),
                cred,
            });
        }
    }

    /// The server address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn accepted(xid: u32, stat: u32, tail: &[u8]) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u32(xid)
            .u32(REPLY)
            .u32(0)
            .u32(AUTH_NONE)
            .opaque(&[])
            .u32(stat)
            .raw(tail);
        e.finish()
    }

    #[test]
    fn call_header_layout() {
        let c = AuthSys {
            stamp: 1,
            machine: "h".into(),
            uid: 0,
            gid: 0,
            gids: vec![0],
        };
        let m = encode_call(9, 100_005, 3, 1, Some(&c), &[0, 0, 0, 1]);
        let mut d = Decoder::new(&m);
        let head: Vec<u32> = (0..7).map(|_| d.u32().unwrap()).collect();
        assert_eq!(head, [9, CALL, 2, 100_005, 3, 1, AUTH_SYS]);
        assert_eq!(AuthSys::decode(d.opaque(400).unwrap()).unwrap(), c);
        assert_eq!(
            (d.u32().unwrap(), d.opaque(400).unwrap()),
            (AUTH_NONE, &[][..])
        );
        assert_eq!(d.u32().unwrap(), 1);
    }

    #[test]
    fn decodes_reply_states() {
        let m = accepted(5, 0, &[1, 2, 3, 4]);
        let r = decode_reply(&m).unwrap();
        assert_eq!((r.xid, r.result.unwrap()), (5, &[1, 2, 3, 4][..]));
        let m = accepted(5, 1, &[]);
        let r = decode_reply(&m).unwrap();
        assert!(matches!(r.result, Err(RpcError::ProgUnavail)));
        let m = accepted(5, 2, &[0, 0, 0, 2, 0, 0, 0, 3]);
        let r = decode_reply(&m).unwrap();
        assert!(matches!(r.result, Err(RpcError::ProgMismatch(2, 3))));
        let mut e = Encoder::new();
        e.u32(6).u32(REPLY).u32(1).u32(1).u32(5);
        let m = e.finish();
        let r = decode_reply(&m).unwrap();
        assert_eq!(
            r.result.unwrap_err().to_string(),
            "RPC: Authentication error; why = Client credential too weak"
        );
        assert!(decode_reply(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn refused_text_matches_original() {
        let e = RpcError::Net(net::Error::Io(
            net::Op::Connect,
            io::Error::from_raw_os_error(nix::libc::ECONNREFUSED),
        ));
        assert_eq!(
            e.to_string(),
            "RPC: Unable to receive: errno = Connection refused."
        );
        assert_eq!(e.status(), "ECONNREFUSED (111)");
        assert!(e.is_refused());
    }

    #[test]
    fn record_marking_reassembles_fragments() {
        let stream = [0u8, 0, 0, 2, b'a', b'b', 0x80, 0, 0, 1, b'c'];
        let mut pos = 0;
        let rec = read_record(
            |b: &mut [u8]| {
                if pos + b.len() > stream.len() {
                    return Err(());
                }
                b.copy_from_slice(&stream[pos..pos + b.len()]);
                pos += b.len();
                Ok(())
            },
            || (),
        )
        .unwrap();
        assert_eq!(rec, b"abc");
    }

    proptest! {
        #[test]
        fn reply_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode_reply(&bytes);
            let _ = AuthSys::decode(&bytes);
        }

        #[test]
        fn record_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut pos = 0;
            let _ = read_record(|b: &mut [u8]| {
                if pos + b.len() > bytes.len() { return Err(()); }
                b.copy_from_slice(&bytes[pos..pos + b.len()]);
                pos += b.len();
                Ok(())
            }, || ());
        }

        #[test]
        fn accepted_round_trip(xid in any::<u32>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let m = accepted(xid, 0, &body);
            let r = decode_reply(&m).unwrap();
            prop_assert_eq!(r.xid, xid);
            prop_assert_eq!(r.result.unwrap(), &body[..]);
        }
    }
}
