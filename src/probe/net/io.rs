//! Socket I/O bounded by the probe's one deadline and its cancel token: a connect, a TCP
//! stream's reads and writes, a UDP socket's sends and receives.
//!
//! Sockets are non-blocking. Every wait — for a connection to complete, for room to write, for
//! bytes to read — is a `poll` of at most [`SLICE`], after which the cancel token and the deadline
//! are checked again. So a stalled server costs a probe at most its `-r` seconds, and `-stop` is
//! honoured within one slice even in the middle of a round trip; no thread is ever left blocked
//! in the kernel. A slice is short enough for `-stop` to feel immediate and long enough that a
//! waiting probe costs no measurable CPU.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{Error, Op};
use crate::probe::{Cancel, Deadline, ProbeCtx};

/// Longest single wait before the cancel token and the deadline are checked again.
pub(crate) const SLICE: Duration = Duration::from_millis(50);

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    fn listen() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let peer = listener.local_addr().unwrap();
        (listener, peer)
    }

    fn bounds(d: Duration) -> (Bounds, Cancel) {
        let cancel = Cancel::new();
        (Bounds::new(Deadline::after(d), &cancel), cancel)
    }

    #[test]
    fn a_silent_peer_costs_the_deadline_and_a_closed_one_is_closed() {
        let (listener, peer) = listen();
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
        let (listener, peer) = listen();
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
}
