//! The control channel: a Unix stream socket per monitor (mode 0600, in a root-only directory,
//! peer credentials checked) carrying one-line requests ([`Request`]) — `stop`, `pause`,
//! `continue`, `status`, `report` — each answered with one line. The socket thread forwards the
//! commands to the monitor loop and relays its reply, so an acknowledgement means the loop itself
//! has taken the command. `status` (the line `-disp` prints) and `report` (the JSON object
//! `clp-fsmon status` lists) are answered from the monitor's [`Board`] without asking the loop,
//! so they are answered at once whatever the loop is doing. Each client is served on a thread
//! of its own (at most [`MAX_CLIENTS`] at once), so a client that connects and says nothing
//! never delays another's `-stop`.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use super::board::Board;
use super::engine::{ControlCmd, Msg};
use crate::sys;

/// What a client asks of a monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// A command for the loop, acknowledged by the loop.
    Loop(ControlCmd),
    /// The one-line state `-disp` prints ([`super::board::Snapshot::line`]).
    Status,
    /// Everything on the board, as one JSON object ([`super::board::Snapshot`]).
    Report,
}

impl Request {
    /// The wire word.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Loop(c) => c.word(),
            Self::Status => "status",
            Self::Report => "report",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "status" => Some(Self::Status),
            "report" => Some(Self::Report),
            other => ControlCmd::parse(other).map(Self::Loop),
        }
    }
}

/// Longest answer a client reads: a report is a few hundred bytes (an ID and a target of up to
/// 255 bytes, a status, the phases).
const MAX_REPLY: u64 = 16 * 1024;

/// How long either side waits for the other on one exchange.
pub(crate) const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Clients served at once; one more is told the monitor is busy (`-stop` then falls back to
/// SIGTERM).
pub const MAX_CLIENTS: usize = 8;

/// How long a client served without a thread of its own (none could be started), or told the
/// monitor is busy, may hold the socket thread.
const INLINE_TIMEOUT: Duration = Duration::from_millis(100);

/// The listening side, owned by a monitor; dropping it removes the socket file.
#[derive(Debug)]
pub(crate) struct ControlServer {
    path: PathBuf,
}

impl ControlServer {
    /// Binds `path` (replacing a stale socket; the caller holds the registry lock) and serves it
    /// on a thread that forwards commands to `tx` and answers status requests from `board`.
    pub(crate) fn start(path: &Path, tx: Sender<Msg>, board: Board) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        if let Some(dir) = path.parent() {
            sys::SafeDir::open(dir, dir, 0o700)?;
        }
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        std::thread::Builder::new()
            .name("control".into())
            .spawn(move || {
                let active = Arc::new(AtomicUsize::new(0));
                for conn in listener.incoming() {
                    match conn {
                        Ok(s) => dispatch(&s, &tx, &board, &active),
                        Err(e) => {
                            tracing::warn!("control accept: {e}");
                            // e.g. EMFILE: do not spin on it.
                            std::thread::sleep(INLINE_TIMEOUT);
                        }
                    }
                }
            })?;
        Ok(Self {
            path: path.to_owned(),
        })
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn peer_allowed(s: &UnixStream) -> bool {
    use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
    match getsockopt(s, PeerCredentials) {
        Ok(c) => c.uid() == 0 || c.uid() == nix::unistd::geteuid().as_raw(),
        Err(_) => false,
    }
}

/// Counts a client in [`MAX_CLIENTS`] while it is served.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves one client on a thread of its own; inline with a short deadline when no thread can be
/// had, and with a busy reply beyond [`MAX_CLIENTS`].
fn dispatch(s: &UnixStream, tx: &Sender<Msg>, board: &Board, active: &Arc<AtomicUsize>) {
    let report = |r: io::Result<()>| {
        if let Err(e) = r {
            tracing::warn!("control connection: {e}");
        }
    };
    if active.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
        drop(Slot(Arc::clone(active)));
        let _ = s.set_write_timeout(Some(INLINE_TIMEOUT));
        return report((&*s).write_all(b"error busy: too many control clients\n"));
    }
    let slot = Slot(Arc::clone(active));
    let (tx2, board2) = (tx.clone(), board.clone());
    // The thread gets a clone of the stream, so that the stream is still here when no thread
    // can be started (the closure, and with it the slot, is dropped then).
    let spawned = s.try_clone().and_then(|mine| {
        std::thread::Builder::new()
            .name("control-client".into())
            .spawn(move || {
                let _slot = slot;
                report(serve(&mine, &tx2, &board2, EXCHANGE_TIMEOUT));
            })
    });
    if spawned.is_err() {
        report(serve(s, tx, board, INLINE_TIMEOUT));
    }
}

fn serve(s: &UnixStream, tx: &Sender<Msg>, board: &Board, timeout: Duration) -> io::Result<()> {
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut w = s.try_clone()?;
    if !peer_allowed(s) {
        return w.write_all(b"error permission denied\n");
    }
    let mut line = String::new();
    BufReader::new(s).take_line(&mut line)?;
    let cmd = match Request::parse(&line) {
        None => return w.write_all(b"error unknown command\n"),
        Some(Request::Status) => return answer(&mut w, &board.snapshot().line()),
        Some(Request::Report) => {
            let json = serde_json::to_string(&board.snapshot()).map_err(io::Error::other)?;
            return answer(&mut w, &json);
        }
        Some(Request::Loop(cmd)) => cmd,
    };
    let (rtx, rrx) = mpsc::channel();
    if tx.send(Msg::Control(cmd, rtx)).is_err() {
        return w.write_all(b"error monitor is ending\n");
    }
    let reply = rrx
        .recv_timeout(EXCHANGE_TIMEOUT)
        .unwrap_or_else(|_| "error no reply from monitor loop".into());
    answer(&mut w, &reply)
}

/// Writes one answer line in one `write(2)`.
fn answer(w: &mut UnixStream, reply: &str) -> io::Result<()> {
    let mut line = Vec::with_capacity(reply.len() + 1);
    line.extend_from_slice(reply.as_bytes());
    line.push(b'\n');
    w.write_all(&line)
}

trait TakeLine {
    fn take_line(self, buf: &mut String) -> io::Result<()>;
}

impl<R: BufRead> TakeLine for R {
    fn take_line(mut self, buf: &mut String) -> io::Result<()> {
        // Bounded read: a command is a short word.
        let mut limited = (&mut self).take(256);
        limited.read_line(buf)?;
        Ok(())
    }
}

use std::io::Read;

/// Connects to a control socket, waiting at most `limit`: a frozen monitor whose accept queue is
/// full would otherwise block `connect(2)` forever.
fn connect_within(path: &Path, limit: Duration) -> io::Result<UnixStream> {
    use socket2::{Domain, SockAddr, Socket, Type};
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.connect_timeout(&SockAddr::unix(path)?, limit)?;
    Ok(sock.into())
}

/// Sends `req` to the monitor listening on `path` and returns its one-line reply, all of it
/// (connect, request, answer) within `limit` (and never more than [`EXCHANGE_TIMEOUT`]).
pub(crate) fn send(path: &Path, req: Request, limit: Duration) -> io::Result<String> {
    let limit = limit.min(EXCHANGE_TIMEOUT).max(Duration::from_millis(10));
    let deadline = Instant::now() + limit;
    let left = || {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    let mut s = connect_within(path, limit)?;
    s.set_write_timeout(Some(left()))?;
    // A monitor that cannot serve us (every client slot taken) answers at once and closes: our
    // request may then meet a closed socket, but its answer is still there to read.
    let mut request = req.word().as_bytes().to_vec();
    request.push(b'\n');
    let sent = s.write_all(&request);
    let mut reply = Vec::new();
    let read = read_line_by(&s, deadline, &mut reply);
    let reply = String::from_utf8_lossy(&reply).trim_end().to_owned();
    if let Err(e) = sent
        && reply.trim().is_empty()
    {
        return Err(e);
    }
    read?;
    if reply.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "monitor closed the control channel without a reply",
        ));
    }
    if let Some(e) = reply.strip_prefix("error ") {
        return Err(io::Error::other(e.to_owned()));
    }
    Ok(reply)
}

/// Reads up to a newline, the end of the stream or [`MAX_REPLY`] bytes, whichever comes first,
/// giving up (`TimedOut`) at `deadline`: every read waits only for the time that is left.
fn read_line_by(mut s: &UnixStream, deadline: Instant, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
        }
        s.set_read_timeout(Some(left))?;
        let n = match s.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"));
            }
            Err(e) => return Err(e),
        };
        let room = usize::try_from(MAX_REPLY).unwrap_or(usize::MAX) - buf.len();
        let end = chunk[..n]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(n, |i| i + 1)
            .min(room);
        buf.extend_from_slice(&chunk[..end]);
        if n == 0 || buf.ends_with(b"\n") || buf.len() as u64 >= MAX_REPLY {
            return Ok(());
        }
    }
}
