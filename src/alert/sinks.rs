//! The sinks that deliver alerts — syslog, the alert log, the console, `clplogcmd` — behind
//! bounded queues served by threads of their own, so that a slow or hung sink never makes the
//! monitor loop wait (see [`Alerter`]), and what is queued is delivered (bounded) before a
//! monitor releases its ID.

use crate::paths::Paths;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Alert;

/// How many jobs (alerts, fault-log lines) may wait for the sink thread before further ones
/// are dropped (counted, and said on stderr later).
const QUEUE_LEN: usize = 256;

/// How long one `clplogcmd` may run before it is killed.
pub(crate) const CLPLOGCMD_DEADLINE: Duration = Duration::from_secs(2);

/// How long one syslog line waits for room in a full `/dev/log` before it is given up.
pub const SYSLOG_SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest one job can keep the `alerts` thread: the log's lock wait, then a syslog send.
const JOB_BOUND: Duration =
    Duration::from_secs(crate::sys::APPEND_LOCK_WAIT.as_secs() + SYSLOG_SEND_TIMEOUT.as_secs());

/// Longest [`Alerter::finish`] (and dropping an [`Alerter`]) waits for what is queued: the
/// alert log and syslog get one [`JOB_BOUND`] per queued job, `clplogcmd` one
/// [`CLPLOGCMD_DEADLINE`] per queued alert, each at most this long (they run side by side).
pub const FINISH_CAP: Duration = Duration::from_secs(10);

/// After its time at exit: how long the running `clplogcmd` gets to be killed and reaped.
const ABORT_GRACE: Duration = Duration::from_millis(200);

/// The sinks behind the console, as a sink thread needs them.
#[derive(Clone, Debug)]
struct Sinks {
    server: String,
    syslog: Option<PathBuf>,
    alert_log: Option<PathBuf>,
    clplogcmd: bool,
}

/// One piece of work for the `alerts` thread, stamped when it was made.
enum Job {
    /// An alert for the alert log, syslog and `clplogcmd`.
    Alert {
        now: chrono::DateTime<chrono::Local>,
        alert: Alert,
    },
    /// A whole line (newline included) to append to the log at `path` (a fault log).
    Line { path: PathBuf, line: String },
}

/// What the sink threads have left to do, and what was lost.
#[derive(Debug, Default)]
struct Counts {
    /// Jobs queued for (or being done by) the `alerts` thread.
    jobs: AtomicUsize,
    /// Alerts queued for (or being run by) `clplogcmd`.
    commands: AtomicUsize,
    /// Jobs the full queue refused, not yet reported.
    jobs_dropped: AtomicUsize,
    /// Alerts the full `clplogcmd` queue refused, not yet reported.
    commands_dropped: AtomicUsize,
}

impl Counts {
    /// Says on stderr what was dropped since the last report.
    fn report_dropped(&self) {
        let jobs = self.jobs_dropped.swap(0, Ordering::SeqCst);
        if jobs > 0 {
            crate::errln!(
                "clp-fsmon: {jobs} alert(s) or fault-log line(s) dropped: {QUEUE_LEN} were waiting for the alert log and syslog"
            );
        }
        let commands = self.commands_dropped.swap(0, Ordering::SeqCst);
        if commands > 0 {
            crate::errln!(
                "clp-fsmon: {commands} alert(s) not handed to clplogcmd: {QUEUE_LEN} were waiting for it"
            );
        }
    }
}

/// The sink threads of an [`Alerter`]: `alerts` (alert log, fault logs, syslog) hands each
/// alert on to `clplogcmd`, so a hanging command never holds up the logs.
#[derive(Debug)]
struct Queue {
    tx: SyncSender<Job>,
    /// Disconnected once the `alerts` thread has ended.
    alerts_done: Receiver<()>,
    /// Disconnected once the `clplogcmd` thread has ended (`None`: there is none).
    command_done: Option<Receiver<()>>,
    counts: Arc<Counts>,
    /// Raised when the wait at exit is over: the running `clplogcmd` is killed.
    abort: Arc<AtomicBool>,
}

/// The state of an [`Alerter`]'s queue.
#[derive(Debug)]
enum Delivery {
    /// Nothing queued yet: no thread either.
    Idle,
    Queued(Queue),
    /// No sink thread (none could be started, or [`Alerter::finish`] ran): each sink is called
    /// in place, still each under its bound.
    InPlace,
}

/// Delivers alerts to syslog, the alert log, the console and `clplogcmd`, and a monitor's
/// fault-log lines.
///
/// The console line goes to [`crate::console`] (a thread of its own in a monitor). The other
/// sinks are served by threads behind a bounded queue, so that none of them ever delays the
/// caller (the monitor loop) by more than a queue hand-off: the logs' lock wait, a full syslog
/// socket (each line waits at most [`SYSLOG_SEND_TIMEOUT`]) and a `clplogcmd` that hangs
/// (killed after [`CLPLOGCMD_DEADLINE`]). Lines of one sink keep their order. A job the full
/// queue cannot take is dropped and counted, and the count is said on stderr later.
/// [`Alerter::finish`] — also run on drop — waits for what is queued (see [`FINISH_CAP`]), so
/// the final alerts of a monitor (fault, terminate) are delivered before it exits.
#[derive(Debug)]
pub(crate) struct Alerter {
    sinks: Sinks,
    console: bool,
    delivery: Mutex<Delivery>,
}

impl Alerter {
    /// Alerter for this process: syslog at the (re-rooted) `/dev/log` when it exists, the alert
    /// log, and stderr.
    pub(crate) fn new(paths: &Paths, server: &str) -> Self {
        let sock = paths.syslog_socket();
        Self::with_sinks(Sinks {
            server: server.to_owned(),
            syslog: sock.exists().then_some(sock),
            alert_log: Some(paths.alert_log()),
            clplogcmd: crate::sys::which("clplogcmd").is_some(),
        })
    }

    /// Alerter that writes to the console only (usage errors before anything is set up).
    pub(crate) fn console_only() -> Self {
        Self::with_sinks(Sinks {
            server: String::new(),
            syslog: None,
            alert_log: None,
            clplogcmd: false,
        })
    }

    fn with_sinks(sinks: Sinks) -> Self {
        Self {
            sinks,
            console: true,
            delivery: Mutex::new(Delivery::Idle),
        }
    }

    /// Turns the console sink off or on (tests: an alert log without console noise).
    #[cfg(test)]
    #[must_use]
    pub fn with_console(mut self, on: bool) -> Self {
        self.console = on;
        self
    }

    /// Delivers one alert: the console line, then the other sinks through the queue. Sink
    /// failures are reported on stderr, never fatal.
    pub fn emit(&self, alert: &Alert) {
        if self.console {
            for line in alert.lines() {
                crate::errln!("{line}");
            }
        }
        if self.sinks.syslog.is_none() && self.sinks.alert_log.is_none() && !self.sinks.clplogcmd {
            return;
        }
        self.submit(Job::Alert {
            now: chrono::Local::now(),
            alert: alert.clone(),
        });
    }

    /// Appends `line` (whole, newline included) to the log at `path` on the sink thread, after
    /// what was queued before it (a fault-log line).
    pub fn append(&self, path: &std::path::Path, line: String) {
        self.submit(Job::Line {
            path: path.to_path_buf(),
            line,
        });
    }

    fn submit(&self, job: Job) {
        let mut d = self
            .delivery
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if matches!(*d, Delivery::Idle) {
            *d = start(&self.sinks).map_or(Delivery::InPlace, Delivery::Queued);
        }
        let job = match &*d {
            Delivery::Queued(q) => {
                q.counts.jobs.fetch_add(1, Ordering::SeqCst);
                match q.tx.try_send(job) {
                    Ok(()) => return,
                    Err(TrySendError::Full(_)) => {
                        q.counts.jobs.fetch_sub(1, Ordering::SeqCst);
                        q.counts.jobs_dropped.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    Err(TrySendError::Disconnected(job)) => {
                        // the sink thread is gone
                        q.counts.jobs.fetch_sub(1, Ordering::SeqCst);
                        job
                    }
                }
            }
            Delivery::Idle | Delivery::InPlace => job,
        };
        drop(d);
        match job {
            Job::Alert { now, alert } => {
                log_alert(&self.sinks, &now, &alert);
                syslog_alert(&self.sinks, &now, &alert);
                if self.sinks.clplogcmd {
                    clplogcmd(&alert, &AtomicBool::new(false));
                }
            }
            Job::Line { path, line } => append_log(&path, &line),
        }
    }

    /// Waits for what is queued to be delivered, then ends the sink threads: the alert log,
    /// fault logs and syslog get [`JOB_BOUND`] per queued job, `clplogcmd` its deadline per
    /// queued alert, each at most [`FINISH_CAP`]; a `clplogcmd` still running then is killed.
    /// What could not be delivered in that time is said on stderr. Later alerts are delivered
    /// in place.
    pub fn finish(&self) {
        let d = std::mem::replace(
            &mut *self
                .delivery
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            Delivery::InPlace,
        );
        let Delivery::Queued(q) = d else {
            return;
        };
        let start = Instant::now();
        let jobs = q.counts.jobs.load(Ordering::SeqCst);
        // Every queued job may be an alert for clplogcmd too.
        let commands = q.counts.commands.load(Ordering::SeqCst) + jobs;
        drop(q.tx);
        let scaled = |per: Duration, n: usize| {
            per.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
                .min(FINISH_CAP)
        };
        // The grace lets a thread with nothing left end before it is called busy.
        let alerts_until = start + scaled(JOB_BOUND, jobs) + ABORT_GRACE;
        let alerts_done = matches!(
            q.alerts_done
                .recv_timeout(alerts_until.saturating_duration_since(Instant::now())),
            Err(RecvTimeoutError::Disconnected)
        );
        let undelivered = q.counts.jobs.load(Ordering::SeqCst);
        if !alerts_done && undelivered > 0 {
            crate::errln!(
                "clp-fsmon: the alert log and syslog were still busy after {:.1} s; {undelivered} alert(s) or fault-log line(s) not delivered",
                start.elapsed().as_secs_f64(),
            );
        }
        if let Some(done) = &q.command_done {
            let until = start + scaled(CLPLOGCMD_DEADLINE, commands) + ABORT_GRACE;
            let ended = matches!(
                done.recv_timeout(until.saturating_duration_since(Instant::now())),
                Err(RecvTimeoutError::Disconnected)
            );
            if !ended {
                q.abort.store(true, Ordering::SeqCst);
                let _ = done.recv_timeout(ABORT_GRACE);
                let undelivered = q.counts.commands.load(Ordering::SeqCst);
                if undelivered > 0 {
                    crate::errln!(
                        "clp-fsmon: clplogcmd still busy after {:.1} s; {undelivered} alert(s) not delivered to it",
                        start.elapsed().as_secs_f64(),
                    );
                }
            }
        }
        q.counts.report_dropped();
    }
}

impl Drop for Alerter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Starts the sink threads; `None` when they cannot be started.
fn start(sinks: &Sinks) -> Option<Queue> {
    let (tx, rx) = mpsc::sync_channel::<Job>(QUEUE_LEN);
    let counts = Arc::new(Counts::default());
    let abort = Arc::new(AtomicBool::new(false));
    let (to_cmd, command_done) = if sinks.clplogcmd {
        let (ctx, crx) = mpsc::sync_channel::<Alert>(QUEUE_LEN);
        let (done_tx, done) = mpsc::channel::<()>();
        let (abort, counts) = (Arc::clone(&abort), Arc::clone(&counts));
        std::thread::Builder::new()
            .name("clplogcmd".into())
            .spawn(move || {
                let _running = done_tx;
                for alert in crx {
                    if abort.load(Ordering::SeqCst) {
                        break;
                    }
                    clplogcmd(&alert, &abort);
                    counts.commands.fetch_sub(1, Ordering::SeqCst);
                }
            })
            .ok()?;
        (Some(ctx), Some(done))
    } else {
        (None, None)
    };
    let (done_tx, alerts_done) = mpsc::channel::<()>();
    let (local, thread_counts) = (sinks.clone(), Arc::clone(&counts));
    std::thread::Builder::new()
        .name("alerts".into())
        .spawn(move || {
            let _running = done_tx;
            let counts = thread_counts;
            // Everything queued is delivered, each under its own bound; `finish` decides how
            // long the process waits for it.
            for job in rx {
                counts.report_dropped();
                match job {
                    Job::Alert { now, alert } => {
                        log_alert(&local, &now, &alert);
                        // Handed on before syslog, which may wait for room.
                        if let Some(ctx) = &to_cmd {
                            counts.commands.fetch_add(1, Ordering::SeqCst);
                            if ctx.try_send(alert.clone()).is_err() {
                                counts.commands.fetch_sub(1, Ordering::SeqCst);
                                counts.commands_dropped.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        syslog_alert(&local, &now, &alert);
                    }
                    Job::Line { path, line } => append_log(&path, &line),
                }
                counts.jobs.fetch_sub(1, Ordering::SeqCst);
            }
        })
        .ok()?;
    Some(Queue {
        tx,
        alerts_done,
        command_done,
        counts,
        abort,
    })
}

/// Writes one alert to the alert log.
fn log_alert(sinks: &Sinks, now: &chrono::DateTime<chrono::Local>, alert: &Alert) {
    let Some(path) = &sinks.alert_log else {
        return;
    };
    for line in alert.lines() {
        append_log(path, &alert_log_line(now, &sinks.server, alert, line));
    }
}

/// Sends one alert to syslog.
fn syslog_alert(sinks: &Sinks, now: &chrono::DateTime<chrono::Local>, alert: &Alert) {
    let Some(sock) = &sinks.syslog else {
        return;
    };
    for line in alert.lines() {
        if let Err(e) = send_syslog(sock, now, &sinks.server, alert, line) {
            crate::errln!("clp-fsmon: cannot write syslog {}: {e}", sock.display());
        }
    }
}

/// Appends one line to the log at `path` (see [`crate::sys::append_line`]).
fn append_log(path: &std::path::Path, line: &str) {
    if let Err(e) = crate::sys::append_line(path, line.as_bytes()) {
        crate::errln!("clp-fsmon: cannot write {}: {e}", path.display());
    }
}

/// One alert-log line: time, server, module, event ID, message — tab separated.
pub(crate) fn alert_log_line(
    now: &chrono::DateTime<chrono::Local>,
    server: &str,
    alert: &Alert,
    line: &str,
) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\n",
        now.format("%Y/%m/%d %H:%M:%S"),
        server,
        alert.module.name(),
        alert.event.id(),
        line
    )
}

fn send_syslog(
    sock: &std::path::Path,
    now: &chrono::DateTime<chrono::Local>,
    server: &str,
    alert: &Alert,
    line: &str,
) -> std::io::Result<()> {
    // RFC 3164: <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG; facility daemon (3).
    let pri = 3 * 8 + u16::from(alert.event.severity());
    let msg = format!(
        "<{pri}>{} {} {}[{}]: {}: ID {}: {}",
        now.format("%b %e %H:%M:%S"),
        if server.is_empty() { "-" } else { server },
        alert.module.applet(),
        std::process::id(),
        alert.module.name(),
        alert.event.id(),
        line
    );
    // A syslog daemon that is momentarily behind gets a second to make room; one that does not
    // read costs this line, not more.
    let s = UnixDatagram::unbound()?;
    s.set_write_timeout(Some(SYSLOG_SEND_TIMEOUT))?;
    s.send_to(msg.as_bytes(), sock)?;
    Ok(())
}

/// Hands the alert to CLUSTERPRO's `clplogcmd`, killed after [`CLPLOGCMD_DEADLINE`] or as soon
/// as `abort` is raised.
fn clplogcmd(alert: &Alert, abort: &AtomicBool) {
    let level = if alert.event.severity() <= 3 {
        "ERR"
    } else {
        "INFO"
    };
    let child = std::process::Command::new("clplogcmd")
        .args(["-m", &alert.text, "-i", &alert.event.id().to_string()])
        .args(["-l", level])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match child {
        Ok(mut c) => match crate::sys::wait_child_timeout(&mut c, CLPLOGCMD_DEADLINE, abort) {
            Ok(Some(_)) => {}
            Ok(None) => crate::errln!(
                "clp-fsmon: clplogcmd did not end within {} s; killed (event {})",
                CLPLOGCMD_DEADLINE.as_secs_f64(),
                alert.event.id()
            ),
            Err(e) => crate::errln!("clp-fsmon: clplogcmd: {e}"),
        },
        Err(e) => crate::errln!("clp-fsmon: cannot run clplogcmd: {e}"),
    }
}
