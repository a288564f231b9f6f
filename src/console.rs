//! The console: everything the product writes to stderr goes through [`write`] (the `errln!`
//! and `err!` macros, the alerts' console lines, `tracing` output through [`Writer`]).
//!
//! A command (`clplcnsc`, `-stop`, a usage error) writes at once, in order with its stdout. A
//! monitor first calls [`detach`]: from then on its lines are written by a thread of its own
//! behind a bounded queue, so that a stderr nobody reads (a pipe whose reader stopped draining)
//! never blocks the monitor loop, its signal thread or an alert sink — a monitor deaf to `-stop`
//! and SIGTERM because of its console is worse than a lost console line. A line the full queue
//! cannot take is dropped and counted; the count is written before the next line that gets
//! through. Lines are written in the order they were queued. At exit the monitor waits a
//! little ([`FLUSH_LIMIT`], [`flush`]) for what is queued.

use std::io::Write as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// Lines that may wait for stderr before further ones are dropped.
const QUEUE_LEN: usize = 256;

/// How long a monitor waits at exit for its queued console lines: a stderr that drains takes
/// them in microseconds; one that does not would hold the exit (and `-stop`) for nothing.
pub const FLUSH_LIMIT: Duration = Duration::from_millis(500);

/// The queue of a detached console.
struct Queue {
    tx: SyncSender<Vec<u8>>,
    /// Lines handed to the thread.
    queued: AtomicU64,
    /// Lines the thread has written (or failed to write).
    written: std::sync::Arc<AtomicU64>,
    /// Lines dropped because the queue was full, not yet reported.
    dropped: std::sync::Arc<AtomicU64>,
}

static QUEUE: OnceLock<Option<Queue>> = OnceLock::new();

fn queue() -> Option<&'static Queue> {
    QUEUE.get().and_then(Option::as_ref)
}

/// Writes `bytes` to stderr now, ignoring failures (a closed or broken stderr must not take the
/// process down; see `errln!`).
fn write_now(bytes: &[u8]) {
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// From now on, stderr is written by a thread of its own (see the module doc). True when the
/// thread runs (also when it already did); false when it could not be started, and lines are
/// still written at once.
pub fn detach() -> bool {
    QUEUE
        .get_or_init(|| {
            let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUE_LEN);
            let written = std::sync::Arc::new(AtomicU64::new(0));
            let dropped = std::sync::Arc::new(AtomicU64::new(0));
            let (w, d) = (written.clone(), dropped.clone());
            // The thread starts with every signal blocked (a new thread inherits its creator's
            // mask): SIGTERM must reach the monitor's signal thread, never end the process by
            // its default action on this one.
            let before = nix::sys::signal::SigSet::all()
                .thread_swap_mask(nix::sys::signal::SigmaskHow::SIG_BLOCK)
                .ok();
            let spawned = std::thread::Builder::new()
                .name("console".into())
                .spawn(move || {
                    for bytes in rx {
                        let lost = d.swap(0, Ordering::SeqCst);
                        if lost > 0 {
                            write_now(
                                format!(
                                    "clp-fsmon: {lost} console line(s) dropped: stderr was not being read\n"
                                )
                                .as_bytes(),
                            );
                        }
                        write_now(&bytes);
                        w.fetch_add(1, Ordering::SeqCst);
                    }
                });
            if let Some(mask) = before {
                let _ = mask.thread_set_mask();
            }
            spawned.ok().map(|_| Queue {
                    tx,
                    queued: AtomicU64::new(0),
                    written,
                    dropped,
                })
        })
        .is_some()
}

/// Writes `bytes` (whole lines) to stderr: queued when the console is detached, else now.
pub fn write(bytes: Vec<u8>) {
    let Some(q) = queue() else {
        write_now(&bytes);
        return;
    };
    match q.tx.try_send(bytes) {
        Ok(()) => {
            q.queued.fetch_add(1, Ordering::SeqCst);
        }
        Err(TrySendError::Full(_)) => {
            q.dropped.fetch_add(1, Ordering::SeqCst);
        }
        // The thread is gone: write it here.
        Err(TrySendError::Disconnected(bytes)) => write_now(&bytes),
    }
}

/// One line (a newline is added): what `errln!` writes.
pub fn line(args: std::fmt::Arguments<'_>) {
    let mut s = args.to_string();
    s.push('\n');
    write(s.into_bytes());
}

/// Waits at most `limit` until every line queued so far is written. True when it was; false
/// when stderr did not take them in time (they are then lost at exit). A count of dropped lines
/// not yet reported is queued first. Returns at once when the console is not detached.
pub fn flush(limit: Duration) -> bool {
    let Some(q) = queue() else {
        return true;
    };
    let lost = q.dropped.swap(0, Ordering::SeqCst);
    if lost > 0 {
        write(
            format!("clp-fsmon: {lost} console line(s) dropped: stderr was not being read\n")
                .into_bytes(),
        );
    }
    let target = q.queued.load(Ordering::SeqCst);
    let end = Instant::now() + limit;
    while q.written.load(Ordering::SeqCst) < target {
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

/// A `tracing` writer onto the console: each event is one [`write`], so diagnostics (`-v`)
/// never block the thread that logs them once the console is detached.
#[derive(Clone, Copy, Debug, Default)]
pub struct Writer;

/// One event's text, written to the console when dropped.
#[derive(Debug, Default)]
pub struct EventText(Vec<u8>);

impl std::io::Write for EventText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventText {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            write(std::mem::take(&mut self.0));
        }
    }
}

impl tracing_subscriber::fmt::MakeWriter<'_> for Writer {
    type Writer = EventText;

    fn make_writer(&self) -> EventText {
        EventText::default()
    }
}
