//! A small delaying TCP proxy: listens on `127.0.0.1:<free port>`, opens one connection to the
//! upstream server per client connection, forwards client→server bytes at once and holds every
//! server→client chunk (one `read` of the upstream socket: with request/response protocols such
//! as SMB2 and ONC RPC, one reply) for the current delay before passing it on. The delay can be
//! changed while connections are open ([`DelayProxy::set_delay`]); each chunk uses the value in
//! force when it was read. It counts the client→server chunks too ([`DelayProxy::requests`]):
//! a client that waits for each reply before its next request (the probes) sends one chunk per
//! round trip. Everything closes on drop.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

struct Shared {
    delay_ms: AtomicU64,
    stop: AtomicBool,
    accepted: AtomicU64,
    delayed_chunks: AtomicU64,
    requests: AtomicU64,
    open: Mutex<Vec<TcpStream>>,
}

/// A running proxy; closes its listener and every connection on drop.
pub struct DelayProxy {
    port: u16,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl DelayProxy {
    /// Starts a proxy to `upstream` that holds each server→client chunk for `delay`.
    pub fn start(upstream: SocketAddr, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            delay_ms: AtomicU64::new(u64::try_from(delay.as_millis()).unwrap()),
            stop: AtomicBool::new(false),
            accepted: AtomicU64::new(0),
            delayed_chunks: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            open: Mutex::new(Vec::new()),
        });
        let sh = Arc::clone(&shared);
        let acceptor = std::thread::Builder::new()
            .name("delay-proxy".into())
            .spawn(move || accept_loop(&listener, upstream, &sh))
            .unwrap();
        Self {
            port,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Changes the delay of every chunk read from now on.
    pub fn set_delay(&self, delay: Duration) {
        self.shared
            .delay_ms
            .store(u64::try_from(delay.as_millis()).unwrap(), Ordering::SeqCst);
    }

    /// Client connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Client→server chunks forwarded so far: the round trips of a client that waits for each
    /// reply before its next request.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Server→client chunks held and forwarded so far.
    pub fn delayed_chunks(&self) -> u64 {
        self.shared.delayed_chunks.load(Ordering::SeqCst)
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for s in self
            .shared
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: &TcpListener, upstream: SocketAddr, sh: &Arc<Shared>) {
    while !sh.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                sh.accepted.fetch_add(1, Ordering::SeqCst);
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5))
                else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                {
                    let mut open = sh
                        .open
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    open.push(client.try_clone().unwrap());
                    open.push(server.try_clone().unwrap());
                }
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let shu = Arc::clone(sh);
                std::thread::spawn(move || pump(client, server, &shu, false));
                let shd = Arc::clone(sh);
                std::thread::spawn(move || pump(s2, c2, &shd, true));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Copies `from` → `to` until either side closes, holding each chunk for the shared delay when
/// `hold` (server→client), else counting it as a request; then shuts both down.
fn pump(mut from: TcpStream, mut to: TcpStream, sh: &Shared, hold: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if hold {
            if sh.stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(sh.delay_ms.load(Ordering::SeqCst)));
            sh.delayed_chunks.fetch_add(1, Ordering::SeqCst);
        } else {
            sh.requests.fetch_add(1, Ordering::SeqCst);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
