//! A monitor's life as a daemon: claim the ID (registry entry, signals routed to the loop),
//! end at once when the claim found a stop intent it must honour (a `-stop` issued while this
//! process was launching, see [`super::registry`]), serve the control socket, pass the start-up
//! licence check while honouring `-stop`, run the loop ([`super::engine`]) and turn what it
//! reports into alerts, fault-log lines and rewrites of the metrics file
//! ([`super::metrics`]), then give the final alerts time to be delivered before the ID is
//! released. Its [`Board`] says where it is all along, for `-disp` and `clp-fsmon status`.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::board::{Board, Snapshot, State};
use super::control::ControlServer;
use super::engine::{
    CONTINUE_ACK, ControlCmd, LoopConfig, LoopEnd, LoopEvent, Msg, PAUSE_ACK, SLOW_STREAK,
    STOP_ACK, run_loop,
};
use super::metrics::{self, MetricsFile};
use super::registry::{self, AcquireError, Entry, Registry};
use super::report::{FaultLog, failure_text, phases_text, refusal_alert};
use crate::alert::{Alert, Alerter, Event, Module, us_date};
use crate::cli::MonitorArgs;
use crate::exit::Exit;
use crate::license::{self, Grant, Refusal};
use crate::paths::Paths;
use crate::probe::Probe;
use crate::sys;

/// The alert sinks of this server (event 61 and `Err` when the host name cannot be had).
pub(crate) fn make_alerter(module: Module, paths: &Paths) -> Result<Alerter, Exit> {
    match sys::hostname() {
        Ok(h) => Ok(Alerter::new(paths, &h)),
        Err(e) => {
            Alerter::console_only().emit(&Alert::new(
                module,
                Event::ServerEnvError,
                &[&(e as i32)],
            ));
            Err(Exit::System)
        }
    }
}

/// A monitor's hold on its ID: the registry entry, and the channel its signal thread feeds.
pub(crate) struct Claim {
    registry: Registry,
    held: registry::Held,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
}

impl Claim {
    pub(crate) fn take(
        module: Module,
        paths: &Paths,
        id: &str,
        target: &str,
    ) -> Result<Self, ClaimError> {
        Self::take_with(module, paths, id, target, spawn_thread)
    }

    /// [`Claim::take`] with the thread spawner as a seam (tests make it fail).
    fn take_with(
        module: Module,
        paths: &Paths,
        id: &str,
        target: &str,
        spawn: SpawnThread,
    ) -> Result<Self, ClaimError> {
        let (tx, rx) = mpsc::channel();
        stop_on_signals(tx.clone(), spawn)?;
        let registry = Registry::new(paths, module);
        let held = registry
            .acquire(id, &Entry::for_self(module, id, target))
            .map_err(ClaimError::Registry)?;
        Ok(Self {
            registry,
            held,
            tx,
            rx,
        })
    }
}

/// Why a monitor could not claim its ID.
#[derive(Debug)]
pub(crate) enum ClaimError {
    /// The registry refused (14) or failed (42).
    Registry(AcquireError),
    /// SIGTERM could not be routed to the loop (42): a monitor deaf to its service manager must
    /// not run at all.
    Signals {
        /// The call that failed.
        op: &'static str,
        /// Its error.
        source: std::io::Error,
    },
}

impl ClaimError {
    /// Event 14 (or 42) and the exit status.
    pub(crate) fn report(self, module: Module, alerter: &Alerter, id: &str) -> Exit {
        match self {
            Self::Registry(e) => e.report(module, alerter, id),
            Self::Signals { op, source } => {
                system_error(module, alerter, op, &source);
                Exit::System
            }
        }
    }
}

impl AcquireError {
    /// Event 14 (or 42) and the exit status.
    pub(crate) fn report(self, module: Module, alerter: &Alerter, id: &str) -> Exit {
        match self {
            Self::InUse(e) => {
                alerter.emit(&Alert::plain(module, Event::IdInUse));
                if let Some(e) = e {
                    crate::errln!("{}: ID {id} is held by pid {}", module.applet(), e.pid);
                }
                Exit::IdInUse
            }
            Self::Io { op, source } => {
                system_error(module, alerter, op, &source);
                Exit::System
            }
        }
    }
}

/// Event 42 for a failed system call `op`, with its errno. A file or directory the product
/// refused (an unsafe path to write, see [`sys::SafeDir`], or a file that is not a small regular
/// file, see [`sys::read_regular`]) names the path in place of the call, and says why on stderr.
pub(crate) fn system_error(module: Module, alerter: &Alerter, op: &str, e: &std::io::Error) {
    let refused = sys::UnsafePath::of(e)
        .map(|u| (u.path.as_path(), u.to_string()))
        .or_else(|| sys::NotReadable::of(e).map(|n| (n.path.as_path(), n.to_string())));
    let errno = sys::errno_of(e);
    if let Some((path, why)) = refused {
        crate::errln!("{}: {why}", module.applet());
        alerter.emit(&Alert::new(
            module,
            Event::SystemError,
            &[&path.display(), &errno],
        ));
    } else {
        alerter.emit(&Alert::new(module, Event::SystemError, &[&op, &errno]));
    }
}

/// How the start-up licence check ended.
enum Gate {
    /// A licence grants: monitor, paused when a `-pause` was taken meanwhile.
    Open {
        /// Start paused.
        paused: bool,
    },
    /// Refused (the event is out): exit with this status.
    Refused(Exit),
    /// A stop (`-stop`, SIGTERM) came first: end as stopped.
    Stopped,
}

/// Runs the licence check on a thread of its own while answering control commands at once: a
/// licence store that is slow (a stuck lock holder, a hung NFS server) never keeps a monitor
/// from honouring `-stop` or SIGTERM, nor a `-pause`/`-continue` client waiting for its
/// acknowledgement (it gives up after 5 s). `-pause` and `-continue` set `paused`, the state the
/// loop starts in, and are acknowledged as the loop would; the board says the monitor is
/// starting meanwhile. A check that does not end within [`license::CHECK_LIMIT`] is a failed
/// check (54).
fn checked_licence(
    module: Module,
    paths: &Paths,
    (tx, rx): (&Sender<Msg>, &Receiver<Msg>),
    paused: &mut bool,
) -> Option<license::Checked> {
    let today = chrono::Local::now().date_naive();
    let (worker_paths, applet, worker_tx) = (paths.clone(), module.applet(), tx.clone());
    let spawned = std::thread::Builder::new()
        .name("licence".into())
        .spawn(move || {
            let r = license::check_monitor_full(&worker_paths, applet, today);
            let _ = worker_tx.send(Msg::LicenceChecked(r));
        });
    if let Err(e) = spawned {
        return Some(license::Checked {
            result: Err(Refusal::Unreadable(format!(
                "cannot start the licence check: {e}"
            ))),
            ignored: Vec::new(),
        });
    }
    let deadline = Instant::now() + license::CHECK_LIMIT;
    loop {
        let answer = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Msg::LicenceChecked(r)) => return Some(r),
            Ok(Msg::Control(ControlCmd::Stop, reply)) => {
                let _ = reply.send(STOP_ACK.into());
                return None;
            }
            Ok(Msg::Control(ControlCmd::Pause, reply)) => {
                *paused = true;
                (reply, PAUSE_ACK.to_owned())
            }
            Ok(Msg::Control(ControlCmd::Continue, reply)) => {
                *paused = false;
                (reply, CONTINUE_ACK.to_owned())
            }
            Ok(Msg::ProbeDone(..)) => continue,
            Err(RecvTimeoutError::Timeout) => {
                return Some(license::Checked {
                    result: Err(license::check_timed_out()),
                    ignored: Vec::new(),
                });
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the monitor holds a sender"),
        };
        let _ = answer.0.send(answer.1);
    }
}

/// The monitor-side licence check: 52 (and a warning when ≤ 7 days are left) for a trial in
/// force, the refusal's event and its exit status otherwise, or a stop that came first.
fn license_gate(
    module: Module,
    paths: &Paths,
    alerter: &Alerter,
    log: &FaultLog,
    (tx, rx): (&Sender<Msg>, &Receiver<Msg>),
) -> Gate {
    let mut paused = false;
    let Some(checked) = checked_licence(module, paths, (tx, rx), &mut paused) else {
        return Gate::Stopped;
    };
    // A store file or licence the check had to leave out: 54 naming it, and on (another
    // server's bad file must not stop this one).
    for why in &checked.ignored {
        let msg = format!("licence store: {why}");
        crate::errln!("{}: {msg}", module.applet());
        log.write(alerter, &msg);
        alerter.emit(&Alert::plain(module, Event::LicenseCheckFailed));
    }
    match checked.result {
        Ok(Grant::Product { .. }) => Gate::Open { paused },
        Ok(Grant::Trial { until, days_left }) => {
            alerter.emit(&Alert::new(module, Event::TrialPeriod, &[&us_date(until)]));
            if days_left <= 7 {
                let msg = format!(
                    "licence warning: the trial licence ends in {days_left} day(s), on {}",
                    us_date(until)
                );
                crate::errln!("{}: {msg}", module.applet());
                log.write(alerter, &msg);
            }
            Gate::Open { paused }
        }
        Err(r) => {
            if let Refusal::Unreadable(why) = &r {
                crate::errln!("{}: licence store: {why}", module.applet());
            }
            alerter.emit(&refusal_alert(module, &r));
            Gate::Refused(Exit::License)
        }
    }
}

/// Starts a named thread: the seam through which tests make thread creation fail.
pub(crate) type SpawnThread = fn(&str, Box<dyn FnOnce() + Send>) -> std::io::Result<()>;

pub(crate) fn spawn_thread(name: &str, f: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map(drop)
}

/// Blocks SIGTERM/SIGINT/SIGHUP in every thread and turns them into a stop on a thread of
/// their own (a monitor ended by its service manager ends like `-stop`). `Err` when either
/// step fails (the signal mask is then as it was): the monitor must not run deaf to them.
pub(crate) fn stop_on_signals(tx: Sender<Msg>, spawn: SpawnThread) -> Result<(), ClaimError> {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    let before = set
        .thread_swap_mask(SigmaskHow::SIG_BLOCK)
        .map_err(|e| ClaimError::Signals {
            op: "pthread_sigmask",
            source: std::io::Error::from(e),
        })?;
    spawn(
        "signals",
        Box::new(move || {
            while let Ok(sig) = set.wait() {
                tracing::info!("{sig:?}: stopping");
                let (rtx, _rrx) = mpsc::channel();
                if tx.send(Msg::Control(ControlCmd::Stop, rtx)).is_err() {
                    break;
                }
            }
        }),
    )
    .map_err(|source| {
        let _ = before.thread_set_mask();
        ClaimError::Signals {
            op: "pthread_create",
            source,
        }
    })
}

/// A monitor's life once it holds its ID: control socket, licence gate, the loop. However it
/// ends — on a fault, a stop, a refused licence or a failed set-up — its last alerts are
/// delivered (within their bounds) before the control socket goes and the ID is released, so
/// whoever sees the ID free sees the monitor's last word.
pub(crate) fn run_monitor(
    module: Module,
    paths: &Paths,
    alerter: &Alerter,
    id: &str,
    m: &MonitorArgs,
    probe: &Arc<dyn Probe>,
    claim: Claim,
) -> Exit {
    let Claim {
        registry,
        held,
        tx,
        rx,
    } = claim;
    let mut outlets = Outlets::default();
    let code = watch(
        (module, paths, alerter, id, m, probe),
        &registry,
        &held,
        (&tx, &rx),
        &mut outlets,
    );
    if let Some(metrics) = outlets.metrics.take() {
        metrics.finish(METRICS_FINISH);
    }
    alerter.finish();
    drop(outlets);
    drop(held);
    code
}

/// Longest the last rewrite of the metrics file may hold up a monitor's exit.
const METRICS_FINISH: Duration = Duration::from_secs(2);

/// What a monitor serves while it watches, kept until its last alerts are out.
#[derive(Debug, Default)]
struct Outlets {
    /// The control socket.
    server: Option<ControlServer>,
    /// The `--metrics-file` writer.
    metrics: Option<MetricsFile>,
}

impl Outlets {
    /// The board changed: rewrite the metrics file (off this thread).
    fn poke(&self) {
        if let Some(m) = &self.metrics {
            m.poke();
        }
    }
}

/// The slow limit of `-r` seconds at `--warn` `pct` %.
fn slow_after(timeout_s: u32, pct: u32) -> Duration {
    Duration::from_secs(u64::from(timeout_s)) * pct / 100
}

/// [`run_monitor`] up to the release of the ID; the control server and the metrics writer are
/// left in `outlets`.
fn watch(
    (module, paths, alerter, id, m, probe): (
        Module,
        &Paths,
        &Alerter,
        &str,
        &MonitorArgs,
        &Arc<dyn Probe>,
    ),
    registry: &Registry,
    held: &registry::Held,
    (tx, rx): (&Sender<Msg>, &Receiver<Msg>),
    outlets: &mut Outlets,
) -> Exit {
    let log = FaultLog {
        path: paths.log_dir().join(format!("fault-{}.log", module.name())),
        id: id.to_owned(),
    };
    if let Some(intent) = held.stop_intent() {
        // `-stop` came while this process was launching, before it held the ID: end as
        // stopped, without a probe, a licence check or a control socket.
        log.write(
            alerter,
            &format!(
                "stopped on request: -stop was issued at {} while this monitor was starting",
                intent.issued
            ),
        );
        alerter.emit(&Alert::new(module, Event::Stopping, &[&probe.target()]));
        return Exit::Ok;
    }
    let slow_limit = slow_after(m.timeout, m.warn);
    let board = Board::new(Snapshot::starting(module, id, &m.target, probe.check()));
    board.configure(|s| {
        s.retries = m.retries;
        s.interval_s = m.interval;
        s.timeout_s = m.timeout;
        s.warn_limit_ms = u64::try_from(slow_limit.as_millis()).unwrap_or(u64::MAX);
        s.first_wait_s = m.first_wait;
    });
    match ControlServer::start(&registry.socket_path(id), tx.clone(), board.clone()) {
        Ok(s) => outlets.server = Some(s),
        Err(e) => {
            system_error(module, alerter, "bind", &e);
            return Exit::System;
        }
    }
    // A log the product may not write (an unsafe directory, a planted link) is said once, here;
    // the monitor still runs, with its alerts on syslog and the console. So is a metrics file
    // it may not write: the monitor runs without it.
    for l in [paths.alert_log(), log.path.clone()] {
        if let Err(e) = sys::check_append(&l) {
            system_error(module, alerter, "open", &e);
        }
    }
    if let Some(path) = &m.metrics_file {
        let path = std::path::PathBuf::from(path);
        match metrics::check_path(&path)
            .and_then(|()| MetricsFile::start(path.clone(), board.clone()))
        {
            Ok(w) => outlets.metrics = Some(w),
            Err(e) => system_error(module, alerter, "open", &e),
        }
    }
    let start_paused = match license_gate(module, paths, alerter, &log, (tx, rx)) {
        Gate::Open { paused } => paused,
        Gate::Refused(code) => {
            board.set_state(State::Stopping);
            outlets.poke();
            return code;
        }
        // It never started watching: 3 alone, no 1 (see the README).
        Gate::Stopped => {
            board.set_state(State::Stopping);
            outlets.poke();
            log.write(alerter, "stopped on request during the licence check");
            alerter.emit(&Alert::new(module, Event::Stopping, &[&probe.target()]));
            return Exit::Ok;
        }
    };
    let mut entry = Entry::for_self(module, id, &m.target);
    entry.running = true;
    if let Err(e) = held.publish(&entry) {
        system_error(module, alerter, "rename", &e);
        return Exit::System;
    }
    let cfg = LoopConfig {
        interval: Duration::from_secs(u64::from(m.interval)),
        retries: m.retries,
        timeout: Duration::from_secs(u64::from(m.timeout)),
        start_paused,
        slow_after: slow_limit,
        first_wait: Duration::from_secs(u64::from(m.first_wait)),
    };
    log.write(
        alerter,
        &format!(
            "start target={:?} check={} interval={}s retries={} timeout={}s warn={}% first-wait={}s",
            m.target,
            probe.check(),
            m.interval,
            m.retries,
            m.timeout,
            m.warn,
            m.first_wait
        ),
    );
    alerter.emit(&Alert::plain(module, Event::Started));
    if start_paused {
        // A -pause taken while starting: said now, after 1, as the loop would have said it.
        log.write(alerter, "paused");
        alerter.emit(&Alert::plain(module, Event::Paused));
    }
    let target = probe.target().to_owned();
    let end = run_loop(probe, cfg, &board, tx, rx, &mut |ev| match ev {
        LoopEvent::ProbeStarted(_) => {}
        LoopEvent::ProbeOk { report, first } => {
            outlets.poke();
            if first {
                alerter.emit(&Alert::new(module, Event::Watching, &[&target]));
            }
            tracing::debug!(
                "probe ok: {} {}",
                report.summary,
                phases_text(&report.phases)
            );
        }
        LoopEvent::ProbeFailed {
            failure,
            k,
            c,
            counted,
        } => {
            outlets.poke();
            let what = if counted {
                format!("probe failed {k}/{c}")
            } else {
                format!(
                    "failure within --first-wait {}s, not counted toward -c:",
                    m.first_wait
                )
            };
            log.write(
                alerter,
                &format!("{what} {} check={}", failure_text(failure), probe.check()),
            );
        }
        LoopEvent::Slow { latency, limit } => {
            outlets.poke();
            let (nn, mm) = (latency.as_millis(), limit.as_millis());
            log.write(
                alerter,
                &format!(
                    "slow response: {SLOW_STREAK} probes in a row over the --warn limit \
                     (last {nn} ms, limit {mm} ms); not counted toward -c"
                ),
            );
            alerter.emit(&Alert::new(
                module,
                Event::SlowResponse,
                &[&target, &nn, &mm],
            ));
        }
        LoopEvent::Normal { latency } => {
            outlets.poke();
            log.write(
                alerter,
                &format!("responds normally again ({} ms)", latency.as_millis()),
            );
            alerter.emit(&Alert::new(module, Event::ResponseNormal, &[&target]));
        }
        LoopEvent::Paused => {
            outlets.poke();
            log.write(alerter, "paused");
            alerter.emit(&Alert::plain(module, Event::Paused));
        }
        LoopEvent::Resumed => {
            outlets.poke();
            log.write(alerter, "resumed");
            alerter.emit(&Alert::plain(module, Event::Resumed));
        }
    });
    outlets.poke();
    match end {
        LoopEnd::Stopped => {
            log.write(alerter, "stopped on request");
            alerter.emit(&Alert::new(module, Event::Stopping, &[&target]));
            Exit::Ok
        }
        LoopEnd::Fault(f) => {
            log.write(
                alerter,
                &format!("fault: {} consecutive failures; terminating", m.retries),
            );
            for a in &f.alerts {
                alerter.emit(a);
            }
            alerter.emit(&Alert::plain(module, Event::Terminate));
            Exit::Fault
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::registry::Liveness;

    /// A monitor whose signal thread cannot start would be deaf to SIGTERM: it does not claim its
    /// ID, leaves the signal mask as it was, and exits with event 42 and the system-error status.
    #[test]
    fn a_monitor_that_cannot_route_sigterm_does_not_run() {
        use nix::sys::signal::{SigSet, Signal};
        fn no_threads(_: &str, _: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
            Err(std::io::Error::from_raw_os_error(nix::libc::EAGAIN))
        }
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::with_root(dir.path());
        let Err(err) = Claim::take_with(Module::Sambamon, &paths, "deaf", "share", no_threads)
        else {
            panic!("claimed without a signal thread");
        };
        assert!(!SigSet::thread_get_mask().unwrap().contains(Signal::SIGTERM));
        assert!(matches!(
            Registry::new(&paths, Module::Sambamon).status("deaf"),
            Ok(Liveness::Absent)
        ));
        let alerter = Alerter::new(&paths, "host").with_console(false);
        assert_eq!(err.report(Module::Sambamon, &alerter, "deaf"), Exit::System);
        drop(alerter);
        let log = std::fs::read_to_string(paths.alert_log()).unwrap();
        assert!(
            log.ends_with(
                "\tsambamon\t42\tThe clp_sambamon has detected system error (pthread_create 11).\n"
            ),
            "{log}"
        );
    }
}
