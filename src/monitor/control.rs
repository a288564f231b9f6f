//! The control channel: a Unix stream socket per monitor (mode 0600, in a root-only directory,
//! peer credentials checked) carrying one-line commands — `stop`, `pause`, `continue`, `status` —
//! each acknowledged with one line. The socket thread forwards commands to the monitor loop and
//! relays its reply, so an acknowledgement means the loop itself has taken the command. Each
//! client is served on a thread of its own (at most [`MAX_CLIENTS`] at once), so a client that
//! connects and says nothing never delays another's `-stop`.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use super::engine::{ControlCmd, Msg};
use crate::sys;

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
    /// on a thread that forwards commands to `tx`.
    pub(crate) fn start(path: &Path, tx: Sender<Msg>) -> io::Result<Self> {
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
                        Ok(s) => dispatch(&s, &tx, &active),
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
fn dispatch(s: &UnixStream, tx: &Sender<Msg>, active: &Arc<AtomicUsize>) {
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
    let tx2 = tx.clone();
    // The thread gets a clone of the stream, so that the stream is still here when no thread
    // can be started (the closure, and with it the slot, is dropped then).
    let spawned = s.try_clone().and_then(|mine| {
        std::thread::Builder::new()
            .name("control-client".into())
            .spawn(move || {
                let _slot = slot;
                report(serve(&mine, &tx2, EXCHANGE_TIMEOUT));
            })
    });
    if spawned.is_err() {
        report(serve(s, tx, INLINE_TIMEOUT));
    }
}

fn serve(s: &UnixStream, tx: &Sender<Msg>, timeout: Duration) -> io::Result<()> {
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let mut w = s.try_clone()?;
    if !peer_allowed(s) {
        return w.write_all(b"error permission denied\n");
    }
    let mut line = String::new();
    BufReader::new(s).take_line(&mut line)?;
    let Some(cmd) = ControlCmd::parse(&line) else {
        return w.write_all(b"error unknown command\n");
    };
    let (rtx, rrx) = mpsc::channel();
    if tx.send(Msg::Control(cmd, rtx)).is_err() {
        return w.write_all(b"error monitor is ending\n");
    }
    let reply = rrx
        .recv_timeout(EXCHANGE_TIMEOUT)
        .unwrap_or_else(|_| "error no reply from monitor loop".into());
    w.write_all(reply.as_bytes())?;
    w.write_all(b"\n")
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

/// Sends `cmd` to the monitor listening on `path` and returns its one-line reply, waiting at
/// most `limit` (and never more than [`EXCHANGE_TIMEOUT`]).
pub(crate) fn send(path: &Path, cmd: ControlCmd, limit: Duration) -> io::Result<String> {
    let limit = limit.min(EXCHANGE_TIMEOUT).max(Duration::from_millis(10));
    let mut s = connect_within(path, limit)?;
    s.set_read_timeout(Some(limit))?;
    s.set_write_timeout(Some(limit))?;
    // A monitor that cannot serve us (every client slot taken) answers at once and closes: our
    // request may then meet a closed socket, but its answer is still there to read.
    let sent = s
        .write_all(cmd.word().as_bytes())
        .and_then(|()| s.write_all(b"\n"));
    let mut reply = String::new();
    let read = BufReader::new(&s).take_line(&mut reply);
    if let Err(e) = sent
        && reply.trim().is_empty()
    {
        return Err(e);
    }
    read?;
    let reply = reply.trim_end().to_owned();
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
