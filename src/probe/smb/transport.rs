//! TCP transport for SMB: address parsing, a connect and every read and write bounded by the
//! probe's one deadline, NetBIOS session service framing (RFC 1002, also used on 445 as the
//! 4-byte "direct TCP" length prefix), and the NetBIOS session request sent first on port 139.
//!
//! The socket is non-blocking; each wait is a `poll` of at most [`SLICE`], after which the
//! deadline and the cancel token are checked again, so a stalled server costs at most `-r`
//! seconds and `-stop` is honoured within a slice even in the middle of a round trip.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::error::{Error, Result};
use crate::probe::{Deadline, ProbeCtx};

/// Longest single wait before the deadline and cancel token are checked again.
pub const SLICE: Duration = Duration::from_millis(100);

/// Largest reply accepted (a probe's replies are a few hundred bytes).
pub const MAX_MESSAGE: usize = 1 << 20;

/// The default SMB port (direct TCP).
pub const PORT_DIRECT: u16 = 445;
/// The NetBIOS session service port.
pub const PORT_NETBIOS: u16 = 139;

/// Where to connect: host (name or literal, without brackets) and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP literal.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Endpoint {
    /// Parses `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT` or a bare IPv6 literal.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty address".into());
        }
        let port = |p: &str| -> std::result::Result<u16, String> {
            match p.parse::<u16>() {
                Ok(0) | Err(_) => Err(format!("bad port {p:?}")),
                Ok(n) => Ok(n),
            }
        };
        if let Some(rest) = s.strip_prefix('[') {
            let (host, tail) = rest
                .split_once(']')
                .ok_or_else(|| format!("unclosed '[' in {s:?}"))?;
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!("bad IPv6 address {host:?}"));
            }
            let port = match tail {
                "" => PORT_DIRECT,
                t => port(
                    t.strip_prefix(':')
                        .ok_or_else(|| format!("junk after ']' in {s:?}"))?,
                )?,
            };
            return Ok(Self {
                host: host.into(),
                port,
            });
        }
        if s.parse::<std::net::Ipv6Addr>().is_ok() {
            return Ok(Self {
                host: s.into(),
                port: PORT_DIRECT,
            });
        }
        let (host, p) = match s.rsplit_once(':') {
            Some((h, p)) => (h, port(p)?),
            None => (s, PORT_DIRECT),
        };
        if host.is_empty()
            || host.contains(':')
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(format!("bad host {host:?}"));
        }
        Ok(Self {
            host: host.into(),
            port: p,
        })
    }

    /// The host as the UNC path names it (`\\HOST\SHARE`).
    pub fn unc_host(&self) -> &str {
        &self.host
    }

    /// Resolves to socket addresses (literals without a lookup). The system resolver has no
    /// deadline of its own, so a name is looked up on a thread of its own and waited for only
    /// until `deadline`: a hung DNS server costs one timed-out probe (event 74), never a probe
    /// that outlives its `-r`.
    pub fn resolve(&self, deadline: Deadline) -> Result<Vec<SocketAddr>> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        crate::probe::lookup(&self.host, self.port, deadline).map_err(|e| {
            if e.kind() == io::ErrorKind::TimedOut {
                Error::Timeout
            } else {
                Error::Resolve(self.host.clone())
            }
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A connected, framed SMB transport.
pub struct Transport {
    stream: TcpStream,
    ctx: ProbeCtx,
}

fn check(ctx: &ProbeCtx) -> Result<Duration> {
    if ctx.cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    ctx.deadline.remaining().ok_or(Error::Timeout)
}

/// Waits until `fd` is ready for `flags`, within the deadline, checking cancel every slice.
fn wait(
    ctx: &ProbeCtx,
    fd: &impl AsFd,
    flags: PollFlags,
    on_err: fn(io::Error) -> Error,
) -> Result<()> {
    loop {
        let left = check(ctx)?;
        let ms = u16::try_from(left.min(SLICE).as_millis().max(1)).unwrap_or(100);
        let mut fds = [PollFd::new(fd.as_fd(), flags)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => {}
            Ok(_) => return Ok(()),
            Err(e) => return Err(on_err(io::Error::from_raw_os_error(e as i32))),
        }
    }
}

impl Transport {
    /// Connects to the first address of `ep` that accepts, within the deadline. On port 139 the
    /// NetBIOS session request is made before returning.
    pub fn connect(ep: &Endpoint, ctx: &ProbeCtx) -> Result<Self> {
        let addrs = ep.resolve(ctx.deadline)?;
        let mut last = None;
        for addr in addrs {
            match Self::connect_one(addr, ctx) {
                Ok(mut t) => {
                    if ep.port == PORT_NETBIOS {
                        t.netbios_session(&ep.host)?;
                    }
                    return Ok(t);
                }
                Err(e @ Error::Connect(_)) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::Resolve(ep.host.clone())))
    }

    fn connect_one(addr: SocketAddr, ctx: &ProbeCtx) -> Result<Self> {
        check(ctx)?;
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(Error::Socket)?;
        sock.set_nonblocking(true).map_err(Error::Socket)?;
        sock.set_tcp_nodelay(true).map_err(Error::Socket)?;
        match sock.connect(&SockAddr::from(addr)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => {
                wait(ctx, &sock, PollFlags::POLLOUT, Error::Connect)?;
                if let Some(e) = sock.take_error().map_err(Error::Connect)? {
                    return Err(Error::Connect(e));
                }
            }
            Err(e) => return Err(Error::Connect(e)),
        }
        Ok(Self {
            stream: sock.into(),
            ctx: ctx.clone(),
        })
    }

    /// The NetBIOS session request (RFC 1002 4.3.2) to `*SMBSERVER`, which Samba and Windows
    /// accept for any server name.
    fn netbios_session(&mut self, _host: &str) -> Result<()> {
        let mut msg = vec![0x81, 0, 0, 68];
        msg.extend_from_slice(&encode_netbios_name("*SMBSERVER", 0x20));
        msg.extend_from_slice(&encode_netbios_name("CLP-FSMON", 0x00));
        self.write_all(&msg)?;
        let mut head = [0u8; 4];
        self.read_exact(&mut head)?;
        let len = frame_len(head);
        let len = len.min(64);
        let mut body = vec![0u8; len];
        self.read_exact(&mut body)?;
        match head[0] {
            0x82 => Ok(()),
            0x83 => Err(Error::Connect(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!(
                    "NetBIOS session refused (code {:#04x})",
                    body.first().copied().unwrap_or(0)
                ),
            ))),
            other => Err(Error::protocol(format!(
                "NetBIOS session reply type {other:#04x}"
            ))),
        }
    }

    /// Sends one SMB message with its 4-byte length prefix.
    pub fn send(&mut self, msg: &[u8]) -> Result<()> {
        let len = u32::try_from(msg.len())
            .ok()
            .filter(|&n| n < 1 << 24)
            .ok_or_else(|| Error::protocol("request too large"))?;
        let mut frame = Vec::with_capacity(msg.len() + 4);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(msg);
        self.write_all(&frame)
    }

    /// Receives one SMB message (skipping NetBIOS keep-alives).
    pub fn recv(&mut self) -> Result<Vec<u8>> {
        loop {
            let mut head = [0u8; 4];
            self.read_exact(&mut head)?;
            let len = frame_len(head);
            match head[0] {
                0x00 => {}
                0x85 => continue,
                t => return Err(Error::protocol(format!("NetBIOS message type {t:#04x}"))),
            }
            if len > MAX_MESSAGE {
                return Err(Error::protocol(format!("reply of {len} bytes")));
            }
            let mut body = vec![0u8; len];
            self.read_exact(&mut body)?;
            return Ok(body);
        }
    }

    fn write_all(&mut self, mut buf: &[u8]) -> Result<()> {
        while !buf.is_empty() {
            check(&self.ctx)?;
            match self.stream.write(buf) {
                Ok(0) => return Err(Error::Send(io::ErrorKind::WriteZero.into())),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(&self.ctx, &self.stream, PollFlags::POLLOUT, Error::Send)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Send(e)),
            }
        }
        Ok(())
    }

    fn read_exact(&mut self, mut buf: &mut [u8]) -> Result<()> {
        while !buf.is_empty() {
            check(&self.ctx)?;
            match self.stream.read(buf) {
                Ok(0) => return Err(Error::Closed),
                Ok(n) => buf = &mut buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    wait(&self.ctx, &self.stream, PollFlags::POLLIN, Error::Recv)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Recv(e)),
            }
        }
        Ok(())
    }
}

/// Length of a session service frame: 17 bits in RFC 1002 (length byte pair plus the E bit),
/// 24 bits in direct TCP (MS-SMB2 2.1); the top byte is zero on NetBIOS, so one rule serves both.
fn frame_len(head: [u8; 4]) -> usize {
    usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3])
}

/// RFC 1001 first-level encoding of a 16-byte NetBIOS name (15 characters, space padded, plus
/// the type byte), with its length prefix and the empty scope.
pub fn encode_netbios_name(name: &str, kind: u8) -> [u8; 34] {
    let mut raw = [b' '; 16];
    for (d, s) in raw.iter_mut().zip(name.bytes().take(15)) {
        *d = s.to_ascii_uppercase();
    }
    raw[15] = kind;
    let mut out = [0u8; 34];
    out[0] = 32;
    for (i, b) in raw.iter().enumerate() {
        out[1 + 2 * i] = b'A' + (b >> 4);
        out[2 + 2 * i] = b'A' + (b & 0x0f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_within_the_deadline() {
        let ep = Endpoint::parse("localhost:4455").unwrap();
        let v = ep.resolve(Deadline::after(Duration::from_secs(5))).unwrap();
        assert!(
            v.iter().all(|a| a.port() == 4455 && a.ip().is_loopback()),
            "{v:?}"
        );
        let lit = Endpoint::parse("127.0.0.1").unwrap();
        // a literal needs no lookup, so not even an expired deadline stops it
        assert_eq!(
            lit.resolve(Deadline::after(Duration::ZERO)).unwrap().len(),
            1
        );
    }

    #[test]
    fn addresses_parse() {
        let p = |s| Endpoint::parse(s);
        assert_eq!(
            p("127.0.0.1").unwrap(),
            Endpoint {
                host: "127.0.0.1".into(),
                port: 445
            }
        );
        assert_eq!(p("10.0.0.1:139").unwrap().port, 139);
        assert_eq!(p("fs01.example").unwrap().host, "fs01.example");
        assert_eq!(
            p("[::1]:4450").unwrap(),
            Endpoint {
                host: "::1".into(),
                port: 4450
            }
        );
        assert_eq!(p("[fe80::1]").unwrap().port, 445);
        assert_eq!(
            p("::1").unwrap(),
            Endpoint {
                host: "::1".into(),
                port: 445
            }
        );
        for bad in [
            "",
            "host:0",
            "host:99999",
            "[::1",
            "[::1]x",
            "[nothost]:1",
            "a b",
            "h:",
        ] {
            assert!(p(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(p("[::1]:4450").unwrap().to_string(), "[::1]:4450");
    }

    #[test]
    fn netbios_name_encoding_matches_rfc1001() {
        // RFC 1001 14.1: "FRED" padded → "EGFCEFEECACACACACACACACACACACACA".
        let e = encode_netbios_name("FRED", 0x20);
        assert_eq!(e[0], 32);
        assert_eq!(&e[1..33], b"EGFCEFEECACACACACACACACACACACACA");
    }
}
