//! Alerts: the event catalogue of both monitors (event ID + exact text, one table) and the sinks
//! that deliver them — syslog, the alert log, the console, `clplogcmd` — without ever making
//! the caller wait for a slow one (see [`Alerter`]).
//!
//! Texts are the original product's, with `{}` placeholders filled in order (`xxx`, `nn`, dates as
//! `mm/dd/yyyy`). A delivered line carries at most [`MAX_LINE`] bytes of message; longer messages
//! continue on further lines, split on character boundaries.

use std::fmt::Display;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::paths::Paths;

/// Longest message part of one alert line, in bytes.
pub(crate) const MAX_LINE: usize = 255;

/// Which monitor raises the alert (the original's module name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Module {
    /// `clp_sambamon`, module `sambamon`.
    Sambamon,
    /// `clp_nfsmon`, module `nfsmon`.
    Nfsmon,
}

impl Module {
    /// The applet name (`clp_sambamon`).
    pub fn applet(self) -> &'static str {
        match self {
            Self::Sambamon => "clp_sambamon",
            Self::Nfsmon => "clp_nfsmon",
        }
    }

    /// The module name shown in the alert view (`sambamon`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sambamon => "sambamon",
            Self::Nfsmon => "nfsmon",
        }
    }
}

/// Event IDs of the catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Event {
    /// 0: free text (nfsmon's `clp_nfsmon: …` detail lines).
    Detail = 0,
    /// 1: started.
    Started = 1,
    /// 2: first probe succeeded.
    Watching = 2,
    /// 3: ending on `-stop`.
    Stopping = 3,
    /// 6: ending because of a fault.
    Terminate = 6,
    /// 7: `-pause`.
    Paused = 7,
    /// 8: `-continue`.
    Resumed = 8,
    /// 11: malformed or out-of-range parameter.
    InvalidParameter = 11,
    /// 12: `-s` / `-d` missing.
    TargetMissing = 12,
    /// 13: no monitor ID.
    IdMissing = 13,
    /// 14: the ID is used by a live monitor.
    IdInUse = 14,
    /// 15: `-stop` could not end the monitor.
    StopFailed = 15,
    /// 42: system error (function, errno).
    SystemError = 42,
    /// 51: no licence.
    LicenseNotRegistered = 51,
    /// 52: trial licence in force until a date.
    TrialPeriod = 52,
    /// 53: trial expired.
    TrialExpired = 53,
    /// 54: licence store unreadable or corrupt.
    LicenseCheckFailed = 54,
    /// 55: trial not yet valid.
    TrialNotStarted = 55,
    /// 56: the key is registered on another server.
    LicenseOverlap = 56,
    /// 61: host name unavailable.
    ServerEnvError = 61,
    /// 62: tree connect failed.
    TreeConnectError = 62,
    /// 63: share is neither disk nor printer.
    ShareTypeError = 63,
    /// 64: session setup refused.
    ConnectError = 64,
    /// 65: negotiate failed.
    NegotiateError = 65,
    /// 66: NFS fault (nfsmon); I/O error on the share (sambamon).
    NfsError = 66,
    /// 71: socket creation failed.
    SocketError = 71,
    /// 72: connect failed.
    NetConnectError = 72,
    /// 73: send failed.
    SendError = 73,
    /// 74: no answer in time / wait failed.
    SelectError = 74,
    /// 75: receive failed.
    RecvError = 75,
}

impl Event {
    /// The numeric event ID.
    pub(crate) fn id(self) -> u16 {
        self as u16
    }

    /// Syslog severity: errors for faults and refusals, notices otherwise.
    fn severity(self) -> u8 {
        match self {
            Self::Started
            | Self::Watching
            | Self::Stopping
            | Self::Paused
            | Self::Resumed
            | Self::TrialPeriod => 5,
            _ => 3,
        }
    }
}

use Event as E;
use Module::{Nfsmon as N, Sambamon as S};

/// The catalogue: the text of `event` for `module`, with `{}` placeholders. Total over
/// [`Module`] × [`Event`] by construction — the match has no catch-all arm, so an event cannot be
/// added without a text for each monitor, and rendering an alert can never fail at run time.
///
/// The texts are the original product's (SPEC §4, §9). A few pairs it never raises (an SMB
/// session step for nfsmon, event 0 for sambamon) follow the same pattern, so that whatever the
/// code raises reads right.
#[rustfmt::skip]
pub(crate) fn template(module: Module, event: Event) -> &'static str {
    match (module, event) {
        (S, E::Detail) => "clp_sambamon: {}",
        (S, E::Started) => "The clp_sambamon has started watching Samba.",
        (S, E::Watching) => "The clp_sambamon is going to watch share resource [{}].",
        (S, E::Stopping) => "The clp_sambamon will stop watching Samba [{}].",
        (S, E::Terminate) => "The clp_sambamon will terminate.",
        (S, E::Paused) => "The clp_sambamon is going to stop monitoring.",
        (S, E::Resumed) => "The clp_sambamon is going to monitor.",
        (S, E::InvalidParameter) => "Invalid parameter in the clp_sambamon.",
        (S, E::TargetMissing) => "'-s' parameter is not specified at the clp_sambamon command.",
        (S, E::IdMissing) => "The monitor id is not specified at the clp_sambamon command.",
        (_, E::IdInUse) => "The specified monitor id is already under use in other processes.",
        (S, E::StopFailed) => "The clp_sambamon has not performed end processing.",
        (S, E::SystemError) => "The clp_sambamon has detected system error ({} {}).",
        (S, E::LicenseNotRegistered) => "The license of clp_sambamon is not registered.",
        (S, E::TrialPeriod) => "Trial Period of clp_sambamon is till {}.",
        (_, E::TrialExpired) => "The license of trial expired by {}.",
        (S, E::LicenseCheckFailed) => "Failed to check license of the clp_sambamon.",
        (_, E::TrialNotStarted) => "The license of trial is valid from {}.",
        (_, E::LicenseOverlap) => "The registration license overlaps.",
        (S, E::ServerEnvError) => "The clp_sambamon could not get environment of server(error[{}]). The clp_sambamon will terminate.",
        (S, E::TreeConnectError) => "The clp_sambamon has detected an error in Samba [{}] (tree connect error[{}]).",
        (S, E::ShareTypeError) => "The clp_sambamon has detected an error in Samba [{}] (share type error).",
        (S, E::ConnectError) => "The clp_sambamon has detected an error in Samba [{}] (connect error[{}]).",
        (S, E::NegotiateError) => "The clp_sambamon has detected an error in Samba [{}] (negotiate error[{}]).",
        (S, E::NfsError) => "The clp_sambamon has detected an error in Samba [{}] (I/O error[{}]).",
        (S, E::SocketError) => "The clp_sambamon has detected network error(socket error[{}]).",
        (S, E::NetConnectError) => "The clp_sambamon has detected network error(connect error[{}]).",
        (S, E::SendError) => "The clp_sambamon has detected network error(send error[{}]).",
        (S, E::SelectError) => "The clp_sambamon has detected network error(select error[{}]).",
        (S, E::RecvError) => "The clp_sambamon has detected network error(recv error[{}]).",
        (N, E::Detail) => "clp_nfsmon: {}",
        (N, E::Started) => "The clp_nfsmon has started watching NFS.",
        (N, E::Watching) => "The clp_nfsmon is going to watch shared directory '{}'.",
        (N, E::Stopping) => "The clp_nfsmon will stop watching NFS shared directory '{}'.",
        (N, E::Terminate) => "The clp_nfsmon will terminate.",
        (N, E::Paused) => "The clp_nfsmon is going to stop monitoring.",
        (N, E::Resumed) => "The clp_nfsmon is going to monitor.",
        (N, E::InvalidParameter) => "Invalid parameter in the clp_nfsmon.",
        (N, E::TargetMissing) => "'-d' parameter is not specified at the clp_nfsmon command.",
        (N, E::IdMissing) => "The monitor id is not specified at the clp_nfsmon command.",
        (N, E::StopFailed) => "The clp_nfsmon has not performed end processing.",
        (N, E::SystemError) => "The clp_nfsmon has detected system error ({} {}).",
        (N, E::LicenseNotRegistered) => "The license of clp_nfsmon is not registered.",
        (N, E::TrialPeriod) => "Trial Period of clp_nfsmon is till {}.",
        (N, E::LicenseCheckFailed) => "Failed to check license of the clp_nfsmon.",
        (N, E::ServerEnvError) => "The clp_nfsmon could not get environment of server(error[{}]). The clp_nfsmon will terminate.",
        // SMB session steps have no NFS counterpart: nfsmon's own error event text.
        (N, E::NfsError | E::TreeConnectError | E::ShareTypeError | E::ConnectError | E::NegotiateError) => "The clp_nfsmon has detected an error in NFS.",
        (N, E::SocketError) => "The clp_nfsmon has detected network error(socket error[{}]).",
        (N, E::NetConnectError) => "The clp_nfsmon has detected network error(connect error[{}]).",
        (N, E::SendError) => "The clp_nfsmon has detected network error(send error[{}]).",
        (N, E::SelectError) => "The clp_nfsmon has detected network error(select error[{}]).",
        (N, E::RecvError) => "The clp_nfsmon has detected network error(recv error[{}]).",
    }
}

/// One alert: module, event and the rendered text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Raising module.
    pub module: Module,
    /// Event ID.
    pub event: Event,
    /// Rendered message.
    pub text: String,
}

impl Alert {
    /// Renders `event` of `module` with `args` filling the `{}` placeholders in order (missing
    /// arguments render empty, extra ones are ignored).
    pub(crate) fn new(module: Module, event: Event, args: &[&dyn Display]) -> Self {
        let tpl = template(module, event);
        let mut text = String::with_capacity(tpl.len() + 32);
        let mut args = args.iter();
        let mut rest = tpl;
        while let Some(pos) = rest.find("{}") {
            text.push_str(&rest[..pos]);
            if let Some(a) = args.next() {
                text.push_str(&a.to_string());
            }
            rest = &rest[pos + 2..];
        }
        text.push_str(rest);
        Self {
            module,
            event,
            text,
        }
    }

    /// An event without placeholders.
    pub(crate) fn plain(module: Module, event: Event) -> Self {
        Self::new(module, event, &[])
    }

    /// The message split into lines of at most [`MAX_LINE`] bytes.
    pub(crate) fn lines(&self) -> Vec<&str> {
        split_lines(&self.text, MAX_LINE)
    }
}

/// Formats a date as the alert texts show it: `mm/dd/yyyy`.
pub(crate) fn us_date(d: chrono::NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

/// Splits `s` into pieces of at most `max` bytes, never inside a UTF-8 character.
pub(crate) fn split_lines(s: &str, max: usize) -> Vec<&str> {
    assert!(max >= 4, "a line must hold one character");
    let mut out = Vec::new();
    let mut rest = s;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest);
    }
    out
}

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

/// Longest value (an ID, a share, a user name …) that may reach a log line, in bytes.
pub(crate) const MAX_VALUE: usize = 255;

/// True for a character no logged value may hold: a control character (C0 — NUL, tab, newline,
/// carriage return … —, DEL and C1) or a Unicode line or paragraph separator. In a share name it
/// would forge or break lines of the alert log, syslog, the fault log or a plugin's output.
pub(crate) fn unloggable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Checks a value that can reach a log line: 1 to [`MAX_VALUE`] bytes and no [`unloggable`]
/// character. The message names `what`, never the value. Used for the options here and for
/// what a credentials file gives in their place.
pub(crate) fn check_text(what: &str, v: &str) -> Result<(), TextError> {
    if v.is_empty() || v.len() > MAX_VALUE {
        return Err(TextError::Length(what.to_owned()));
    }
    if v.chars().any(unloggable) {
        return Err(TextError::Control(what.to_owned()));
    }
    Ok(())
}

/// Why [`check_text`] refused a value (naming the option or field, never the value).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TextError {
    /// Empty or longer than [`MAX_VALUE`] bytes.
    #[error("{0} needs a value of 1 to {MAX_VALUE} bytes")]
    Length(String),
    /// An [`unloggable`] character.
    #[error("{0} must not contain control characters (newline, tab, NUL …)")]
    Control(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_placeholders_in_order() {
        let a = Alert::new(S, E::TreeConnectError, &[&"share", &67]);
        assert_eq!(
            a.text,
            "The clp_sambamon has detected an error in Samba [share] (tree connect error[67])."
        );
        let d = Alert::new(N, E::Detail, &[&"RPC: Program not registered."]);
        assert_eq!(d.text, "clp_nfsmon: RPC: Program not registered.");
    }

    /// The original product's catalogue (SPEC §4), as the guide prints it.
    #[rustfmt::skip]
    const PRODUCT: &[(Module, Event, &str)] = &[
        (S, E::Started, "The clp_sambamon has started watching Samba."),
        (S, E::Watching, "The clp_sambamon is going to watch share resource [{}]."),
        (S, E::Stopping, "The clp_sambamon will stop watching Samba [{}]."),
        (S, E::Terminate, "The clp_sambamon will terminate."),
        (S, E::Paused, "The clp_sambamon is going to stop monitoring."),
        (S, E::Resumed, "The clp_sambamon is going to monitor."),
        (S, E::InvalidParameter, "Invalid parameter in the clp_sambamon."),
        (S, E::TargetMissing, "'-s' parameter is not specified at the clp_sambamon command."),
        (S, E::IdMissing, "The monitor id is not specified at the clp_sambamon command."),
        (S, E::IdInUse, "The specified monitor id is already under use in other processes."),
        (S, E::StopFailed, "The clp_sambamon has not performed end processing."),
        (S, E::SystemError, "The clp_sambamon has detected system error ({} {})."),
        (S, E::LicenseNotRegistered, "The license of clp_sambamon is not registered."),
        (S, E::TrialPeriod, "Trial Period of clp_sambamon is till {}."),
        (S, E::TrialExpired, "The license of trial expired by {}."),
        (S, E::LicenseCheckFailed, "Failed to check license of the clp_sambamon."),
        (S, E::TrialNotStarted, "The license of trial is valid from {}."),
        (S, E::LicenseOverlap, "The registration license overlaps."),
        (S, E::ServerEnvError, "The clp_sambamon could not get environment of server(error[{}]). The clp_sambamon will terminate."),
        (S, E::TreeConnectError, "The clp_sambamon has detected an error in Samba [{}] (tree connect error[{}])."),
        (S, E::ShareTypeError, "The clp_sambamon has detected an error in Samba [{}] (share type error)."),
        (S, E::ConnectError, "The clp_sambamon has detected an error in Samba [{}] (connect error[{}])."),
        (S, E::NegotiateError, "The clp_sambamon has detected an error in Samba [{}] (negotiate error[{}])."),
        (S, E::SocketError, "The clp_sambamon has detected network error(socket error[{}])."),
        (S, E::NetConnectError, "The clp_sambamon has detected network error(connect error[{}])."),
        (S, E::SendError, "The clp_sambamon has detected network error(send error[{}])."),
        (S, E::SelectError, "The clp_sambamon has detected network error(select error[{}])."),
        (S, E::RecvError, "The clp_sambamon has detected network error(recv error[{}])."),
        (N, E::Detail, "clp_nfsmon: {}"),
        (N, E::Started, "The clp_nfsmon has started watching NFS."),
        (N, E::Watching, "The clp_nfsmon is going to watch shared directory '{}'."),
        (N, E::Stopping, "The clp_nfsmon will stop watching NFS shared directory '{}'."),
        (N, E::Terminate, "The clp_nfsmon will terminate."),
        (N, E::Paused, "The clp_nfsmon is going to stop monitoring."),
        (N, E::Resumed, "The clp_nfsmon is going to monitor."),
        (N, E::InvalidParameter, "Invalid parameter in the clp_nfsmon."),
        (N, E::TargetMissing, "'-d' parameter is not specified at the clp_nfsmon command."),
        (N, E::IdMissing, "The monitor id is not specified at the clp_nfsmon command."),
        (N, E::IdInUse, "The specified monitor id is already under use in other processes."),
        (N, E::StopFailed, "The clp_nfsmon has not performed end processing."),
        (N, E::SystemError, "The clp_nfsmon has detected system error ({} {})."),
        (N, E::LicenseNotRegistered, "The license of clp_nfsmon is not registered."),
        (N, E::TrialPeriod, "Trial Period of clp_nfsmon is till {}."),
        (N, E::TrialExpired, "The license of trial expired by {}."),
        (N, E::LicenseCheckFailed, "Failed to check license of the clp_nfsmon."),
        (N, E::TrialNotStarted, "The license of trial is valid from {}."),
        (N, E::LicenseOverlap, "The registration license overlaps."),
        (N, E::ServerEnvError, "The clp_nfsmon could not get environment of server(error[{}]). The clp_nfsmon will terminate."),
        (N, E::NfsError, "The clp_nfsmon has detected an error in NFS."),
    ];

    /// Every event; `position` makes the compiler insist that a new event is listed here too.
    const ALL: [Event; 30] = [
        E::Detail,
        E::Started,
        E::Watching,
        E::Stopping,
        E::Terminate,
        E::Paused,
        E::Resumed,
        E::InvalidParameter,
        E::TargetMissing,
        E::IdMissing,
        E::IdInUse,
        E::StopFailed,
        E::SystemError,
        E::LicenseNotRegistered,
        E::TrialPeriod,
        E::TrialExpired,
        E::LicenseCheckFailed,
        E::TrialNotStarted,
        E::LicenseOverlap,
        E::ServerEnvError,
        E::TreeConnectError,
        E::ShareTypeError,
        E::ConnectError,
        E::NegotiateError,
        E::NfsError,
        E::SocketError,
        E::NetConnectError,
        E::SendError,
        E::SelectError,
        E::RecvError,
    ];

    fn position(e: Event) -> usize {
        match e {
            E::Detail => 0,
            E::Started => 1,
            E::Watching => 2,
            E::Stopping => 3,
            E::Terminate => 4,
            E::Paused => 5,
            E::Resumed => 6,
            E::InvalidParameter => 7,
            E::TargetMissing => 8,
            E::IdMissing => 9,
            E::IdInUse => 10,
            E::StopFailed => 11,
            E::SystemError => 12,
            E::LicenseNotRegistered => 13,
            E::TrialPeriod => 14,
            E::TrialExpired => 15,
            E::LicenseCheckFailed => 16,
            E::TrialNotStarted => 17,
            E::LicenseOverlap => 18,
            E::ServerEnvError => 19,
            E::TreeConnectError => 20,
            E::ShareTypeError => 21,
            E::ConnectError => 22,
            E::NegotiateError => 23,
            E::NfsError => 24,
            E::SocketError => 25,
            E::NetConnectError => 26,
            E::SendError => 27,
            E::SelectError => 28,
            E::RecvError => 29,
        }
    }

    #[test]
    fn every_event_of_every_module_renders_with_its_own_name() {
        for (i, e) in ALL.iter().enumerate() {
            assert_eq!(position(*e), i, "{e:?} listed out of place");
        }
        for (m, other) in [(S, N), (N, S)] {
            for e in ALL {
                let a = Alert::new(m, e, &[&"x", &1]);
                assert!(!a.text.is_empty() && !a.text.contains("{}"), "{m:?} {e:?}");
                assert!(!a.text.contains(other.applet()), "{m:?} {e:?}: {}", a.text);
                let neutral = matches!(
                    e,
                    E::IdInUse | E::TrialExpired | E::TrialNotStarted | E::LicenseOverlap
                );
                assert!(neutral || a.text.contains(m.applet()), "{m:?} {e:?}");
            }
        }
        // SPEC §9: sambamon's 66.
        assert_eq!(
            Alert::new(S, E::NfsError, &[&"data", &5]).text,
            "The clp_sambamon has detected an error in Samba [data] (I/O error[5])."
        );
    }

    #[test]
    fn product_texts_are_exact() {
        for (m, e, text) in PRODUCT {
            assert_eq!(template(*m, *e), *text, "{m:?} {e:?}");
        }
    }

    #[test]
    fn every_common_event_exists_for_both_modules() {
        let defined = |m: Module, e: Event| PRODUCT.iter().any(|(m2, e2, _)| *m2 == m && *e2 == e);
        for e in [
            E::Started,
            E::Watching,
            E::Stopping,
            E::Terminate,
            E::Paused,
            E::Resumed,
            E::InvalidParameter,
            E::TargetMissing,
            E::IdMissing,
            E::IdInUse,
            E::StopFailed,
            E::SystemError,
            E::LicenseNotRegistered,
            E::TrialPeriod,
            E::TrialExpired,
            E::LicenseCheckFailed,
            E::TrialNotStarted,
            E::LicenseOverlap,
            E::ServerEnvError,
        ] {
            assert!(defined(S, e), "sambamon {e:?}");
            assert!(defined(N, e), "nfsmon {e:?}");
        }
    }

    #[test]
    fn catalogue_has_each_event_once_per_module() {
        for (i, (m, e, _)) in PRODUCT.iter().enumerate() {
            assert!(
                !PRODUCT[..i].iter().any(|(m2, e2, _)| m2 == m && e2 == e),
                "{m:?} {e:?} twice"
            );
        }
        assert_eq!(PRODUCT.iter().filter(|c| c.0 == S).count(), 28);
        assert_eq!(PRODUCT.iter().filter(|c| c.0 == N).count(), 21);
    }

    #[test]
    fn split_respects_char_boundaries() {
        let s = "あ".repeat(100); // 300 bytes, 3 bytes a char
        let parts = split_lines(&s, 255);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].len(), 255);
        assert_eq!(parts[1].len(), 45);
        let s = format!("a{}", "あ".repeat(100));
        let parts = split_lines(&s, 255);
        assert_eq!(parts[0].len(), 253);
        assert_eq!(parts.concat(), s);
        assert_eq!(split_lines("", 255), vec![""]);
    }

    #[test]
    fn us_date_format() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 1, 9).unwrap();
        assert_eq!(us_date(d), "01/09/2026");
    }
}
