//! The network kit both probes share, so the hard parts exist once: the `-a` address rule, a
//! name lookup and socket I/O bounded by the probe's one deadline and its cancel token, and
//! errno text.
//!
//! One address rule serves both monitors (`-a`, see [`Address::parse`]):
//!
//! | `-a`                      | host                    | port                       |
//! |---------------------------|-------------------------|----------------------------|
//! | absent                    | the probe's default     | the probe's default        |
//! | `IP` (v4, or bare v6)     | that address            | the probe's default        |
//! | `HOST`                    | that name               | the probe's default        |
//! | `HOST:PORT`, `IPv4:PORT`  | that name or address    | PORT (1–65535)             |
//! | `[V6]`, `[V6]:PORT`       | that IPv6 address       | the default, or PORT       |
//!
//! HOST is letters, digits, `.`, `-` and `_`, at most 255 of them. The defaults are each probe's
//! ([`Defaults`]): `clp_sambamon` talks to 127.0.0.1 on port 445, `clp_nfsmon` to this server's
//! own address (see `probe::nfs::default_address`) and asks the portmapper on port 111. A name
//! is never looked up when `-a` is parsed but by every probe, within its deadline ([`lookup`]):
//! a DNS outage is then a failed probe, not a monitor that cannot start, and a moved name is
//! followed.
//!
//! Sockets are non-blocking. Every wait — for a connection to complete, for room to write, for
//! bytes to read — is a `poll` of at most [`SLICE`], after which the cancel token and the deadline
//! are checked again. So a stalled server costs a probe at most its `-r` seconds, and `-stop` is
//! honoured within one slice even in the middle of a round trip; no thread is ever left blocked
//! in the kernel. A slice is short enough for `-stop` to feel immediate and long enough that a
//! waiting probe costs no measurable CPU.
//!
//! Alerts and fault logs name socket failures by errno, in two spellings: the symbolic name and
//! number an administrator greps for (`ECONNREFUSED (111)`, [`errno_name`]) and the `strerror`
//! text `clnt_sperror(3)` prints (`Connection refused`, [`strerror`]). What each probe makes of
//! an [`Error`] (which event, which text) is the probe's business: this module only says which
//! socket operation failed, and how.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::probe::{Cancel, Deadline, ProbeCtx};

/// Why `-a` is refused (an invalid parameter, event 11).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing was given.
    #[error("empty address")]
    Empty,
    /// The port is not 1–65535.
    #[error("bad port {0:?}")]
    Port(String),
    /// A `[` without its `]`.
    #[error("unclosed '[' in {0:?}")]
    Unclosed(String),
    /// Something other than `:PORT` after `]`.
    #[error("junk after ']' in {0:?}")]
    Junk(String),
    /// Between brackets, but no IPv6 address.
    #[error("bad IPv6 address {0:?}")]
    Ipv6(String),
    /// A host name with characters outside the rule, or too long.
    #[error("bad host {0:?}")]
    Host(String),
}

/// What a probe takes when `-a` leaves a part out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Defaults {
    /// The server when `-a` is absent (computed only then).
    pub(crate) host: fn() -> IpAddr,
    /// The port when `-a` names none.
    pub(crate) port: u16,
}

/// The server as `-a` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Host {
    /// An address.
    Ip(IpAddr),
    /// A host name, looked up by every probe.
    Name(String),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Name(n) => f.write_str(n),
        }
    }
}

impl Host {
    /// The socket addresses of this host at `port`: an address at once, a name by [`lookup`]
    /// within `deadline`.
    pub(crate) fn resolve(&self, port: u16, deadline: Deadline) -> io::Result<Vec<SocketAddr>> {
        match self {
            Self::Ip(ip) => Ok(vec![SocketAddr::new(*ip, port)]),
            Self::Name(name) => lookup(name, port, deadline),
        }
    }
}

/// Where a probe talks to: host and port, by the rule in the module doc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Address {
    /// The server.
    pub(crate) host: Host,
    /// The port.
    pub(crate) port: u16,
    /// `-a` named the port (else it is the probe's default).
    pub(crate) port_given: bool,
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            _ => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

impl Address {
    /// Parses `-a` (`None`: absent) by the rule in the module doc, filling in `defaults`.
    pub(crate) fn parse(a: Option<&str>, defaults: &Defaults) -> Result<Self, AddressError> {
        let Some(s) = a else {
            return Ok(Self {
                host: Host::Ip((defaults.host)()),
                port: defaults.port,
                port_given: false,
            });
        };
        let s = s.trim();
        let (host, port) = split_address(s)?;
        let port = port
            .map(|p| match p.parse::<u16>() {
                Ok(0) | Err(_) => Err(AddressError::Port(p.into())),
                Ok(n) => Ok(n),
            })
            .transpose()?;
        Ok(Self {
            host,
            port: port.unwrap_or(defaults.port),
            port_given: port.is_some(),
        })
    }

    /// The socket addresses to try, within `deadline` (see [`Host::resolve`]).
    pub(crate) fn resolve(&self, deadline: Deadline) -> io::Result<Vec<SocketAddr>> {
        self.host.resolve(self.port, deadline)
    }
}

/// Splits a trimmed `-a` into its host and the port text, if any.
fn split_address(s: &str) -> Result<(Host, Option<&str>), AddressError> {
    if s.is_empty() {
        return Err(AddressError::Empty);
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inner, tail) = rest
            .split_once(']')
            .ok_or_else(|| AddressError::Unclosed(s.into()))?;
        let ip = inner
            .parse::<Ipv6Addr>()
            .map_err(|_| AddressError::Ipv6(inner.into()))?;
        let port = match tail {
            "" => None,
            t => Some(
                t.strip_prefix(':')
                    .ok_or_else(|| AddressError::Junk(s.into()))?,
            ),
        };
        return Ok((Host::Ip(IpAddr::V6(ip)), port));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok((Host::Ip(ip), None));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if host.is_empty()
        || host.len() > 255
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(AddressError::Host(host.into()));
    }
    Ok((
        host.parse::<IpAddr>()
            .map_or_else(|_| Host::Name(host.into()), Host::Ip),
        port,
    ))
}

/// Looks `host` up with the system resolver, which has no deadline of its own: the lookup runs
/// on a thread of its own and is waited for only until `deadline` (`Err(TimedOut)` then; the
/// thread ends whenever the resolver does). Literal addresses should be parsed before calling.
pub(crate) fn lookup(host: &str, port: u16, deadline: Deadline) -> io::Result<Vec<SocketAddr>> {
    use std::net::ToSocketAddrs;
    let (tx, rx) = std::sync::mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("resolve".into())
        .spawn(move || {
            let _ = tx.send(
                (name.as_str(), port)
                    .to_socket_addrs()
                    .map(Iterator::collect::<Vec<_>>),
            );
        })?;
    match rx.recv_timeout(deadline.remaining().unwrap_or_default()) {
        Ok(Ok(v)) if v.is_empty() => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} has no address"),
        )),
        Ok(r) => r,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("looking up {host} took longer than the deadline"),
        )),
    }
}

/// Longest single wait before the cancel token and the deadline are checked again.
pub(crate) const SLICE: Duration = Duration::from_millis(50);

/// The socket operation an I/O error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Creating or configuring the socket.
    Socket,
    /// Binding or connecting it.
    Connect,
    /// Sending.
    Send,
    /// Receiving.
    Recv,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Socket => "socket",
            Self::Connect => "connect",
            Self::Send => "send",
            Self::Recv => "recv",
        })
    }
}

/// Why a bounded socket operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed (its errno is in the error).
    #[error("{0}: {1}")]
    Io(Op, #[source] io::Error),
    /// The peer closed the connection (a read returned 0 bytes).
    #[error("connection closed by the server")]
    Closed,
    /// The deadline passed while waiting.
    #[error("no answer in time")]
    TimedOut,
    /// The monitor raised the cancel token.
    #[error("cancelled")]
    Cancelled,
}

/// The bounds of every wait of one probe: its deadline and its cancel token.
#[derive(Clone, Debug)]
pub(crate) struct Bounds {
    deadline: Deadline,
    cancel: Cancel,
}

impl Bounds {
    /// Bounds from a deadline and a cancel token.
    pub(crate) fn new(deadline: Deadline, cancel: &Cancel) -> Self {
        Self {
            deadline,
            cancel: cancel.clone(),
        }
    }

    /// The bounds of the probe `ctx`.
    pub(crate) fn of(ctx: &ProbeCtx) -> Self {
        Self::new(ctx.deadline, &ctx.cancel)
    }

    /// The next wait: at most [`SLICE`], or why there is none (cancelled, then deadline passed).
    pub(crate) fn slice(&self) -> Result<Duration, Error> {
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        self.deadline
            .remaining()
            .map(|left| left.min(SLICE))
            .ok_or(Error::TimedOut)
    }

    /// Waits until `fd` is ready for `flags` (`Ok(true)`), or until `until` has passed
    /// (`Ok(false)`), one slice at a time. A poll failure counts against `op`.
    fn wait(
        &self,
        fd: &impl AsFd,
        flags: PollFlags,
        op: Op,
        until: Option<Instant>,
    ) -> Result<bool, Error> {
        loop {
            let mut wait = self.slice()?;
            if let Some(until) = until {
                match until.checked_duration_since(Instant::now()) {
                    Some(d) if !d.is_zero() => wait = wait.min(d),
                    _ => return Ok(false),
                }
            }
            let ms = u16::try_from(wait.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(fd.as_fd(), flags)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) | Err(Errno::EINTR) => {}
                Ok(_) => return Ok(true),
                Err(e) => return Err(Error::Io(op, e.into())),
            }
        }
    }

    /// Runs the non-blocking call `f` until it does not report `WouldBlock`, waiting for
    /// `flags` between tries; `EINTR` is retried at once.
    fn retry<T>(
        &self,
        fd: &impl AsFd,
        flags: PollFlags,
        op: Op,
        mut f: impl FnMut() -> io::Result<T>,
    ) -> Result<T, Error> {
        loop {
            self.slice()?;
            match f() {
                Ok(v) => return Ok(v),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.wait(fd, flags, op, None)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(op, e)),
            }
        }
    }
}

/// Transport of a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// TCP (with `TCP_NODELAY`: a probe sends small requests and waits for each answer).
    Tcp,
    /// UDP.
    Udp,
}

/// A non-blocking socket of `kind` for talking to `peer`.
pub(crate) fn socket(peer: SocketAddr, kind: Kind) -> Result<Socket, Error> {
    let io = |e| Error::Io(Op::Socket, e);
    let (ty, proto) = match kind {
        Kind::Tcp => (Type::STREAM, Protocol::TCP),
        Kind::Udp => (Type::DGRAM, Protocol::UDP),
    };
    let sock = Socket::new(Domain::for_address(peer), ty, Some(proto)).map_err(io)?;
    sock.set_nonblocking(true).map_err(io)?;
    if kind == Kind::Tcp {
        sock.set_tcp_nodelay(true).map_err(io)?;
    }
    Ok(sock)
}

/// Connects a socket made by [`socket`] (and perhaps bound) to `peer`, waiting for a TCP
/// handshake in slices.
pub(crate) fn connect(sock: &Socket, peer: SocketAddr, bounds: &Bounds) -> Result<(), Error> {
    let io = |e| Error::Io(Op::Connect, e);
    bounds.slice()?;
    match sock.connect(&SockAddr::from(peer)) {
        Ok(()) => Ok(()),
        Err(e)
            if e.raw_os_error() == Some(nix::libc::EINPROGRESS)
                || e.kind() == io::ErrorKind::WouldBlock =>
        {
            bounds.wait(sock, PollFlags::POLLOUT, Op::Connect, None)?;
            match sock.take_error().map_err(io)? {
                Some(e) => Err(io(e)),
                None => Ok(()),
            }
        }
        Err(e) => Err(io(e)),
    }
}

/// A connected TCP stream whose every read and write is bounded.
#[derive(Debug)]
pub(crate) struct Stream {
    sock: TcpStream,
    bounds: Bounds,
}

impl Stream {
    /// Connects to `peer` within `bounds`.
    pub(crate) fn connect(peer: SocketAddr, bounds: &Bounds) -> Result<Self, Error> {
        bounds.slice()?;
        let sock = socket(peer, Kind::Tcp)?;
        connect(&sock, peer, bounds)?;
        Ok(Self::from_connected(sock, bounds))
    }

    /// A stream over a socket that [`connect`] connected.
    pub(crate) fn from_connected(sock: Socket, bounds: &Bounds) -> Self {
        Self {
            sock: sock.into(),
            bounds: bounds.clone(),
        }
    }

    /// Writes all of `buf`.
    pub(crate) fn write_all(&mut self, mut buf: &[u8]) -> Result<(), Error> {
        while !buf.is_empty() {
            let s = &self.sock;
            match self
                .bounds
                .retry(s, PollFlags::POLLOUT, Op::Send, || (&*s).write(buf))?
            {
                0 => return Err(Error::Io(Op::Send, io::ErrorKind::WriteZero.into())),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Fills all of `buf`; [`Error::Closed`] when the peer closes first.
    pub(crate) fn read_exact(&mut self, mut buf: &mut [u8]) -> Result<(), Error> {
        while !buf.is_empty() {
            let s = &self.sock;
            match self
                .bounds
                .retry(s, PollFlags::POLLIN, Op::Recv, || (&*s).read(buf))?
            {
                0 => return Err(Error::Closed),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }
}

/// A connected UDP socket whose every send and receive is bounded.
#[derive(Debug)]
pub(crate) struct Datagram {
    sock: UdpSocket,
    bounds: Bounds,
}

impl Datagram {
    /// A datagram socket over a socket that [`connect`] connected.
    pub(crate) fn from_connected(sock: Socket, bounds: &Bounds) -> Self {
        Self {
            sock: sock.into(),
            bounds: bounds.clone(),
        }
    }

    /// Sends `msg` as one datagram.
    pub(crate) fn send(&self, msg: &[u8]) -> Result<(), Error> {
        let s = &self.sock;
        self.bounds
            .retry(s, PollFlags::POLLOUT, Op::Send, || s.send(msg))
            .map(drop)
    }

    /// Receives one datagram into `buf`: its length, or `None` once `until` has passed
    /// without one.
    pub(crate) fn recv_until(
        &self,
        buf: &mut [u8],
        until: Instant,
    ) -> Result<Option<usize>, Error> {
        loop {
            if !self
                .bounds
                .wait(&self.sock, PollFlags::POLLIN, Op::Recv, Some(until))?
            {
                return Ok(None);
            }
            match self.sock.recv(buf) {
                Ok(n) => return Ok(Some(n)),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(Error::Io(Op::Recv, e)),
            }
        }
    }
}

/// `ECONNREFUSED (111)`: the symbolic name and number of errno `n`.
pub(crate) fn errno_name(n: i32) -> String {
    format!("{:?} ({n})", Errno::from_raw(n))
}

/// [`errno_name`] of an I/O error, or its text when it carries no errno.
pub(crate) fn errno_status(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), errno_name)
}

/// The `strerror` text of an I/O error (`Connection refused`), without Rust's `(os error N)`,
/// or its text when it carries no errno.
pub(crate) fn strerror(e: &io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), |n| Errno::from_raw(n).desc().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    const SMB: Defaults = Defaults {
        host: || IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 445,
    };
    const PMAP: Defaults = Defaults {
        host: || IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        port: 111,
    };

    fn ip(s: &str) -> Host {
        Host::Ip(s.parse().unwrap())
    }

    #[test]
    fn addresses_parse() {
        let p = |s| Address::parse(Some(s), &SMB);
        assert_eq!(
            p("127.0.0.1").unwrap(),
            Address {
                host: ip("127.0.0.1"),
                port: 445,
                port_given: false,
            }
        );
        assert_eq!(p("10.0.0.1:139").unwrap().port, 139);
        assert_eq!(
            p("fs01.example").unwrap().host,
            Host::Name("fs01.example".into())
        );
        assert_eq!(
            p("[::1]:4450").unwrap(),
            Address {
                host: ip("::1"),
                port: 4450,
                port_given: true,
            }
        );
        assert_eq!(p("[fe80::1]").unwrap().port, 445);
        assert_eq!(
            p("::1").unwrap(),
            Address {
                host: ip("::1"),
                port: 445,
                port_given: false,
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
        assert_eq!(p(" fs01:1445 ").unwrap().to_string(), "fs01:1445");
        assert_eq!(
            p(&"a".repeat(256)),
            Err(AddressError::Host("a".repeat(256)))
        );
    }

    #[test]
    fn the_defaults_are_the_probes_own() {
        assert_eq!(
            Address::parse(None, &SMB).unwrap().to_string(),
            "127.0.0.1:445"
        );
        let nfs = Address::parse(None, &PMAP).unwrap();
        assert_eq!(
            (nfs.host, nfs.port, nfs.port_given),
            (ip("192.0.2.1"), 111, false)
        );
    }

    #[test]
    fn portmapper_addresses_parse() {
        let p = |s| {
            let a = Address::parse(Some(s), &PMAP).map_err(|e| e.to_string())?;
            Ok::<_, String>((a.host, a.port_given.then_some(a.port)))
        };
        assert_eq!(p("10.0.0.1").unwrap(), (ip("10.0.0.1"), None));
        assert_eq!(p("10.0.0.1:1111").unwrap(), (ip("10.0.0.1"), Some(1111)));
        assert_eq!(p("[::1]:111").unwrap(), (ip("::1"), Some(111)));
        // A name is looked up by each probe, not at start.
        assert_eq!(
            p("localhost").unwrap(),
            (Host::Name("localhost".into()), None)
        );
        assert_eq!(
            p("nfs.example:1111").unwrap(),
            (Host::Name("nfs.example".into()), Some(1111))
        );
        assert!(p("10.0.0.1:0").is_err());
        assert!(p("10.0.0.1:x").is_err());
        assert!(p("").is_err());
    }

    #[test]
    fn literals_resolve_without_a_lookup_and_names_within_the_deadline() {
        let expired = Deadline::after(Duration::ZERO);
        assert_eq!(
            ip("::1").resolve(7, expired).unwrap(),
            ["[::1]:7".parse().unwrap()]
        );
        let named = Host::Name("localhost".into())
            .resolve(7, Deadline::after(Duration::from_secs(5)))
            .unwrap();
        assert!(
            named.iter().all(|a| a.port() == 7 && a.ip().is_loopback()),
            "{named:?}"
        );
    }

    fn bounds(d: Duration) -> (Bounds, Cancel) {
        let cancel = Cancel::new();
        (Bounds::new(Deadline::after(d), &cancel), cancel)
    }

    #[test]
    fn a_silent_peer_costs_the_deadline_and_a_closed_one_is_closed() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let peer = listener.local_addr().unwrap();
        let (b, _) = bounds(Duration::from_millis(200));
        let mut s = Stream::connect(peer, &b).unwrap();
        let (_silent, _) = listener.accept().unwrap();
        s.write_all(b"hello").unwrap();
        let t = Instant::now();
        assert!(matches!(s.read_exact(&mut [0; 4]), Err(Error::TimedOut)));
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(150) && took < Duration::from_millis(450),
            "{took:?}"
        );

        let (b, _) = bounds(Duration::from_secs(5));
        let mut s = Stream::connect(peer, &b).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server.write_all(b"ab").unwrap();
        drop(server);
        let mut two = [0; 2];
        s.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"ab");
        assert!(matches!(s.read_exact(&mut [0; 1]), Err(Error::Closed)));
    }

    #[test]
    fn cancel_ends_a_wait_within_a_slice_and_refusal_keeps_its_errno() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let peer = listener.local_addr().unwrap();
        let (b, cancel) = bounds(Duration::from_secs(30));
        let mut stream = Stream::connect(peer, &b).unwrap();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            cancel.cancel();
        });
        let started = Instant::now();
        assert!(matches!(
            stream.read_exact(&mut [0; 1]),
            Err(Error::Cancelled)
        ));
        assert!(started.elapsed() < SLICE * 2 + Duration::from_millis(100));
        drop(listener);
        let (b, _) = bounds(Duration::from_secs(5));
        match Stream::connect(peer, &b) {
            Err(Error::Io(Op::Connect, e)) => {
                assert_eq!(e.raw_os_error(), Some(nix::libc::ECONNREFUSED));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn datagrams_wait_until_the_time_given() {
        let server = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let peer = server.local_addr().unwrap();
        let (b, _) = bounds(Duration::from_secs(5));
        let sock = socket(peer, Kind::Udp).unwrap();
        connect(&sock, peer, &b).unwrap();
        let d = Datagram::from_connected(sock, &b);
        d.send(b"ping").unwrap();
        let mut buf = [0; 16];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        let t = Instant::now();
        assert_eq!(
            d.recv_until(&mut buf, t + Duration::from_millis(120))
                .unwrap(),
            None
        );
        assert!(t.elapsed() >= Duration::from_millis(110));
        server.send_to(b"pong", from).unwrap();
        assert_eq!(
            d.recv_until(&mut buf, Instant::now() + Duration::from_secs(2))
                .unwrap(),
            Some(4)
        );
        let (b, _) = bounds(Duration::ZERO);
        let sock = socket(peer, Kind::Udp).unwrap();
        assert!(matches!(connect(&sock, peer, &b), Err(Error::TimedOut)));
    }

    #[test]
    fn errno_is_named_both_ways() {
        let refused = io::Error::from_raw_os_error(nix::libc::ECONNREFUSED);
        assert_eq!(errno_name(nix::libc::ETIMEDOUT), "ETIMEDOUT (110)");
        assert_eq!(errno_status(&refused), "ECONNREFUSED (111)");
        assert_eq!(strerror(&refused), "Connection refused");
        let plain = io::Error::new(io::ErrorKind::WriteZero, "write zero");
        assert_eq!(
            (errno_status(&plain), strerror(&plain)),
            ("write zero".into(), "write zero".into())
        );
    }
}
