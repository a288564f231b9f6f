//! The shared monitoring runtime used by every monitor applet.
//!
//! [`run_loop`] is the heart: probe → result; a failure raises the count k of c, a success resets
//! it; at k = c the loop ends with the fault. Between probes it waits `-i` seconds but wakes at
//! once for control commands. Every probe runs on its own thread under one deadline (`-r`): the
//! probe honours it itself, and the loop cuts a probe that does not (cancelling it), so a hung
//! server or a hung probe can never hold the monitor. A `-stop` is acted on immediately, even in
//! the middle of a probe.
//!
//! [`main`] wires an applet to it: grammar, root check, licence, registry, control socket, signal
//! handling, alerts and the fault log. [`control_main`] implements `-stop/-pause/-continue/-disp/
//! -del` on the client side.

pub mod control;
pub mod registry;

use std::ffi::OsString;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crate::alert::{Alert, Alerter, Event, Module, us_date};
use crate::args::{self, ArgError, Command, MonitorArgs, OnceOutput, Parsed};
use crate::exit::{Exit, PluginStatus};
use crate::license::{self, Grant, Refusal};
use crate::paths::Paths;
use crate::probe::{Probe, ProbeCtx, ProbeFailure, ProbeReport};
use crate::sys;
use control::{ControlCmd, ControlServer};
use registry::{AcquireError, DeleteError, Entry, Liveness, Registry};

/// A message to the monitor loop.
#[derive(Debug)]
pub enum Msg {
    /// A control command and where to send the acknowledgement.
    Control(ControlCmd, Sender<String>),
    /// A probe ended (sequence number, result).
    ProbeDone(u64, Result<ProbeReport, ProbeFailure>),
    /// The start-up licence check ended (see [`license_gate`]).
    LicenceChecked(Result<Grant, Refusal>),
}

/// Timing of the loop.
#[derive(Clone, Copy, Debug)]
pub struct LoopConfig {
    /// Wait after a probe ends before the next starts (`-i`).
    pub interval: Duration,
    /// Consecutive failures that make a fault (`-c`).
    pub retries: u32,
    /// Deadline of one probe (`-r`).
    pub timeout: Duration,
}

/// Grace after the deadline for a probe to report its own (more precise) timeout before the
/// loop cuts it.
pub const CUT_GRACE: Duration = Duration::from_millis(100);

/// What the loop reports as it goes.
#[derive(Debug)]
pub enum LoopEvent<'a> {
    /// A probe started (1-based count).
    ProbeStarted(u64),
    /// A probe succeeded; `first` for the first success of this run.
    ProbeOk {
        /// The report.
        report: &'a ProbeReport,
        /// First success of the run (event 2).
        first: bool,
    },
    /// A probe failed: `k` of `c` consecutive.
    ProbeFailed {
        /// The failure.
        failure: &'a ProbeFailure,
        /// Consecutive failures so far.
        k: u32,
        /// Failures that make a fault.
        c: u32,
    },
    /// `-pause` taken (event 7).
    Paused,
    /// `-continue` taken (event 8).
    Resumed,
}

/// How the loop ended.
#[derive(Debug)]
pub enum LoopEnd {
    /// On `-stop` (or SIGTERM).
    Stopped,
    /// `-c` consecutive failures; the last one.
    Fault(ProbeFailure),
}

/// Runs one probe on its own thread and waits for it, handling control messages meanwhile.
/// Returns `None` when a stop arrived (the probe is cancelled and abandoned).
fn probe_once(
    probe: &Arc<dyn Probe>,
    timeout: Duration,
    seq: u64,
    tx: &Sender<Msg>,
    rx: &Receiver<Msg>,
    on_control: &mut dyn FnMut(ControlCmd, Sender<String>) -> bool,
) -> Option<Result<ProbeReport, ProbeFailure>> {
    let ctx = ProbeCtx::new(timeout);
    let cut_at = ctx.deadline.at() + CUT_GRACE;
    {
        let worker = Arc::clone(probe);
        let ctx = ctx.clone();
        let tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("probe-{seq}"))
            .spawn(move || {
                let r = worker.run(&ctx);
                let _ = tx.send(Msg::ProbeDone(seq, r));
            });
        if let Err(e) = spawned {
            let mut f = probe.timeout_failure(timeout);
            f.phase = "spawn";
            f.status = format!("cannot start probe thread: {e}");
            return Some(Err(f));
        }
    }
    loop {
        let wait = cut_at.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Msg::ProbeDone(s, r)) if s == seq => return Some(r),
            // a late answer from an abandoned probe
            Ok(Msg::ProbeDone(..) | Msg::LicenceChecked(_)) => {}
            Ok(Msg::Control(cmd, reply)) => {
                if on_control(cmd, reply) {
                    ctx.cancel.cancel();
                    return None;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                ctx.cancel.cancel();
                return Some(Err(cut_failure(probe.as_ref(), timeout, &ctx)));
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the loop holds a sender"),
        }
    }
}

/// The failure for a probe the loop had to cut: the probe's timeout alerts, with the phases it
/// had completed and the one it was stuck in, so the fault log keeps the phase.
fn cut_failure(probe: &dyn Probe, timeout: Duration, ctx: &ProbeCtx) -> ProbeFailure {
    let mut f = probe.timeout_failure(timeout);
    let done = ctx.progress.completed();
    let after = done.last().map_or("start", |p| p.phase);
    f.status = format!("{} (cut by the monitor after phase {after})", f.status);
    f.phases = done;
    f.detail.push(("cut", "monitor".into()));
    f
}

/// The acknowledgement of `-stop`.
const STOP_ACK: &str = "ok stopping";

/// The loop's own state, changed only by probe results and control commands.
struct LoopState {
    k: u32,
    c: u32,
    paused: bool,
    seq: u64,
    last: String,
}

/// What a control command did to the loop.
enum Transition {
    Nothing,
    Paused,
    Resumed,
    Stop,
}

impl LoopState {
    /// Applies `cmd`; returns the acknowledgement and what changed.
    fn command(&mut self, cmd: ControlCmd) -> (String, Transition) {
        match cmd {
            ControlCmd::Stop => (STOP_ACK.into(), Transition::Stop),
            ControlCmd::Pause if !self.paused => {
                self.paused = true;
                ("ok paused".into(), Transition::Paused)
            }
            ControlCmd::Pause => ("ok paused".into(), Transition::Nothing),
            ControlCmd::Continue if self.paused => {
                // Failures before the maintenance window do not carry over into it.
                self.paused = false;
                self.k = 0;
                ("ok monitoring".into(), Transition::Resumed)
            }
            ControlCmd::Continue => ("ok monitoring".into(), Transition::Nothing),
            ControlCmd::Status => {
                let state = if self.paused { "paused" } else { "monitoring" };
                (
                    format!(
                        "ok state={state} failures={}/{} probes={} last={}",
                        self.k, self.c, self.seq, self.last
                    ),
                    Transition::Nothing,
                )
            }
        }
    }
}

/// Applies a control command: acknowledges it first (an alert sink that is slow must never make
/// the caller believe the command failed), then reports the change. Returns the transition.
fn handle(
    st: &mut LoopState,
    cmd: ControlCmd,
    reply: &Sender<String>,
    observe: &mut dyn FnMut(LoopEvent<'_>),
) -> Transition {
    let (text, t) = st.command(cmd);
    let _ = reply.send(text);
    match t {
        Transition::Paused => observe(LoopEvent::Paused),
        Transition::Resumed => observe(LoopEvent::Resumed),
        Transition::Nothing | Transition::Stop => {}
    }
    t
}

/// The monitor loop (see the module doc). `tx` must be a sender of `rx`'s channel; the control
/// socket and signal threads hold clones of it.
pub fn run_loop(
    probe: &Arc<dyn Probe>,
    cfg: LoopConfig,
    tx: &Sender<Msg>,
    rx: &Receiver<Msg>,
    observe: &mut dyn FnMut(LoopEvent<'_>),
) -> LoopEnd {
    let mut st = LoopState {
        k: 0,
        c: cfg.retries,
        paused: false,
        seq: 0,
        last: String::from("none yet"),
    };
    let mut seen_ok = false;
    let mut next_probe = Instant::now();
    loop {
        // Wait for the next probe (forever while paused), answering control commands.
        loop {
            let msg = if st.paused {
                rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
            } else {
                let wait = next_probe.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break;
                }
                rx.recv_timeout(wait)
            };
            match msg {
                Ok(Msg::Control(cmd, reply)) => match handle(&mut st, cmd, &reply, observe) {
                    Transition::Stop => return LoopEnd::Stopped,
                    Transition::Resumed => next_probe = Instant::now(),
                    Transition::Paused | Transition::Nothing => {}
                },
                Ok(Msg::ProbeDone(..) | Msg::LicenceChecked(_)) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => unreachable!("the loop holds a sender"),
            }
        }
        st.seq += 1;
        observe(LoopEvent::ProbeStarted(st.seq));
        let mut paused_during = false;
        let seq = st.seq;
        let result = probe_once(
            probe,
            cfg.timeout,
            seq,
            tx,
            rx,
            &mut |cmd, reply| match handle(&mut st, cmd, &reply, observe) {
                Transition::Stop => true,
                Transition::Paused => {
                    paused_during = true;
                    false
                }
                Transition::Resumed | Transition::Nothing => false,
            },
        );
        let Some(result) = result else {
            return LoopEnd::Stopped;
        };
        next_probe = Instant::now() + cfg.interval;
        if st.paused || paused_during {
            // Maintenance began while the probe ran: its result does not count.
            continue;
        }
        match result {
            Ok(report) => {
                st.k = 0;
                st.last = format!("ok {}", report.summary);
                observe(LoopEvent::ProbeOk {
                    report: &report,
                    first: !seen_ok,
                });
                seen_ok = true;
            }
            Err(failure) => {
                st.k += 1;
                st.last = format!("fail {} {}", failure.phase, failure.status);
                observe(LoopEvent::ProbeFailed {
                    failure: &failure,
                    k: st.k,
                    c: cfg.retries,
                });
                if st.k >= cfg.retries {
                    return LoopEnd::Fault(failure);
                }
            }
        }
    }
}

/// Builds an applet's probe from its arguments (`Err` = invalid parameter, event 11).
pub type ProbeFactory = fn(&MonitorArgs) -> Result<Arc<dyn Probe>, String>;

fn to_strings(args: &[OsString]) -> Option<Vec<String>> {
    args.iter().map(|a| a.to_str().map(String::from)).collect()
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = std::env::var("CLP_FSMON_LOG").unwrap_or_else(|_| default.to_owned());
    // No internal error reports: tracing-subscriber prints them with eprintln!, which panics
    // on a broken stderr (a detached monitor's stderr is often a pipe whose reader is gone).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_target(false)
        .try_init();
}

/// Entry point of a monitor applet.
pub fn main(module: Module, args: &[OsString], factory: ProbeFactory) -> u8 {
    let paths = Paths::from_env();
    let console = Alerter::console_only();
    // Known before parsing: a `--once` line that does not parse gets a plugin verdict too.
    let once = args::once_requested(module, args);
    let usage_error =
        |event: Event, why: Option<&str>| usage_error(module, &paths, once, event, why);
    let Some(args) = to_strings(args) else {
        return usage_error(
            Event::InvalidParameter,
            Some("arguments must be valid UTF-8"),
        );
    };
    let (id, command) = match args::parse(module, &args) {
        Ok(Parsed::Help) => {
            crate::out!("{}", args::usage(module));
            return Exit::Ok.code();
        }
        Ok(Parsed::Version) => {
            crate::outln!(
                "{} (clp-fsmon {})",
                module.applet(),
                env!("CARGO_PKG_VERSION")
            );
            return Exit::Ok.code();
        }
        Ok(Parsed::Run { id, command }) => {
            if let Command::Monitor(m) = &command {
                hide_password(module, &args, m);
            }
            (id, command)
        }
        Err(e) => {
            let (event, why) = match e {
                ArgError::IdMissing => (Event::IdMissing, None),
                ArgError::TargetMissing => (Event::TargetMissing, None),
                ArgError::Invalid(why) => (Event::InvalidParameter, Some(why)),
            };
            return usage_error(event, why.as_deref());
        }
    };
    drop(console);
    if !sys::is_root() {
        crate::errln!(
            "{}: permission denied: this command must be run as root",
            module.applet()
        );
        return Exit::Permission.code();
    }
    // A monitor claims its ID before anything else (host name, alert sinks, probe set-up, licence),
    // with its signals already routed to the loop, so that a -stop issued right after the
    // monitor was launched finds it and ends it cleanly.
    let claim = match &command {
        Command::Monitor(m) if !m.once => match Claim::take(module, &paths, &id, &m.target) {
            Ok(c) => Some(c),
            Err(refusal) => {
                let alerter = match make_alerter(module, &paths) {
                    Ok(a) => a,
                    Err(code) => return code,
                };
                return refusal.report(module, &alerter, &id);
            }
        },
        _ => None,
    };
    let alerter = match make_alerter(module, &paths) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match command {
        Command::Monitor(m) => {
            init_tracing(m.verbose);
            run_monitor(module, &paths, &alerter, &id, &m, factory, claim)
        }
        other => control_main(module, &paths, &alerter, &id, &other),
    }
}

/// Overwrites the `-p` password in this process's command line, so that ps(1) shows `X`s for it
/// while the monitor runs ([`crate::argv`]). When that cannot be done, says so and goes on.
fn hide_password(module: Module, args: &[String], m: &MonitorArgs) {
    let Some(i) = m
        .password
        .as_ref()
        .and_then(|_| args::password_position(module, args))
    else {
        return;
    };
    if let Err(e) = crate::argv::hide_arg(args.len() - i, args[i].as_bytes()) {
        crate::errln!(
            "{}: cannot hide the -p password from ps: {e}; prefer -A",
            module.applet()
        );
    }
}

/// An invalid or missing parameter (`event` 11, 12 or 13, and why). A monitor raises the event,
/// says why on stderr and exits [`Exit::Usage`]; `--once` answers as a plugin instead
/// ([`once_unknown`]).
fn usage_error(
    module: Module,
    paths: &Paths,
    once: Option<OnceOutput>,
    event: Event,
    why: Option<&str>,
) -> u8 {
    let alert = Alert::plain(module, event);
    if let Some(output) = once {
        return once_unknown(output, &alert, why);
    }
    let alerter = if sys::is_root() {
        sys::hostname().map_or(Alerter::console_only(), |h| Alerter::new(paths, &h))
    } else {
        Alerter::console_only()
    };
    alerter.emit(&alert);
    if let Some(why) = why {
        crate::errln!("{}: {why}", module.applet());
    }
    crate::errln!("Try '{} --help'.", module.applet());
    Exit::Usage.code()
}

/// `--once` could not probe (a usage error, a refused licence): the plugin verdict UNKNOWN on
/// stdout — `APPLET UNKNOWN - <alert text> (<why>)`, or one JSON object with `--json` — and no
/// alert, for a health checker reads the verdict it is given and a check that is set up wrong
/// must not flood the alert log.
fn once_unknown(output: OnceOutput, alert: &Alert, why: Option<&str>) -> u8 {
    let status = PluginStatus::Unknown;
    match output {
        OnceOutput::Line => crate::outln!(
            "{} {} - {}{}",
            alert.module.applet(),
            status.label(),
            alert.text,
            why.map(|w| format!(" ({w})")).unwrap_or_default()
        ),
        OnceOutput::Json => crate::outln!(
            "{}",
            serde_json::json!({
                "status": status.label(),
                "reason": why,
                "alerts": [{"id": alert.event.id(), "text": alert.text}],
            })
        ),
    }
    status.code()
}

/// The alert sinks of this server (event 61 and `Err` when the host name cannot be had).
fn make_alerter(module: Module, paths: &Paths) -> Result<Alerter, u8> {
    match sys::hostname() {
        Ok(h) => Ok(Alerter::new(paths, &h)),
        Err(e) => {
            Alerter::console_only().emit(&Alert::new(
                module,
                Event::ServerEnvError,
                &[&(e as i32)],
            ));
            Err(Exit::System.code())
        }
    }
}

/// A monitor's hold on its ID: the registry entry, and the channel its signal thread feeds.
struct Claim {
    registry: Registry,
    held: registry::Held,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
}

impl Claim {
    fn take(module: Module, paths: &Paths, id: &str, target: &str) -> Result<Self, ClaimError> {
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
enum ClaimError {
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
    fn report(self, module: Module, alerter: &Alerter, id: &str) -> u8 {
        match self {
            Self::Registry(e) => e.report(module, alerter, id),
            Self::Signals { op, source } => {
                alerter.emit(&Alert::new(
                    module,
                    Event::SystemError,
                    &[&op, &sys::errno_of(&source)],
                ));
                Exit::System.code()
            }
        }
    }
}

impl AcquireError {
    /// Event 14 (or 42) and the exit status.
    fn report(self, module: Module, alerter: &Alerter, id: &str) -> u8 {
        match self {
            Self::InUse(e) => {
                alerter.emit(&Alert::plain(module, Event::IdInUse));
                if let Some(e) = e {
                    crate::errln!("{}: ID {id} is held by pid {}", module.applet(), e.pid);
                }
                Exit::IdInUse.code()
            }
            Self::Io { op, source } => {
                system_error(module, alerter, op, &source);
                Exit::System.code()
            }
        }
    }
}

/// Event 42 for a failed system call `op`. A write refused because its path is unsafe (see
/// [`sys::SafeDir`]) names the path in place of the call, and says why on stderr.
fn system_error(module: Module, alerter: &Alerter, op: &str, e: &std::io::Error) {
    if let Some(u) = sys::UnsafePath::of(e) {
        crate::errln!("{}: {u}", module.applet());
        alerter.emit(&Alert::new(
            module,
            Event::SystemError,
            &[&u.path.display(), &sys::UNSAFE_ERRNO],
        ));
    } else {
        alerter.emit(&Alert::new(
            module,
            Event::SystemError,
            &[&op, &sys::errno_of(e)],
        ));
    }
}

/// Appends fault-log lines for one monitor (`<log>/fault-<module>.log`).
struct FaultLog {
    path: std::path::PathBuf,
    id: String,
}

impl FaultLog {
    fn write(&self, what: &str) {
        let line = format!(
            "{} id={} pid={} {what}\n",
            chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.3f%:z"),
            self.id,
            std::process::id()
        );
        if let Err(e) = sys::append_line(&self.path, line.as_bytes()) {
            crate::errln!(
                "clp-fsmon: cannot write fault log {}: {e}",
                self.path.display()
            );
        }
        tracing::info!("{}", what);
    }
}

/// Renders phases as `connect=0.120ms,negotiate=1.042ms`.
pub fn phases_text(phases: &[crate::probe::PhaseTiming]) -> String {
    phases
        .iter()
        .map(|p| format!("{}={:.3}ms", p.phase, ms(p.micros)))
        .collect::<Vec<_>>()
        .join(",")
}

#[allow(clippy::cast_precision_loss)]
fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn failure_text(f: &ProbeFailure) -> String {
    let mut s = format!(
        "phase={} status=\"{}\" latency={:.3}ms phases={}",
        f.phase,
        f.status,
        ms(f.total_micros),
        phases_text(&f.phases)
    );
    for (k, v) in &f.detail {
        let _ = write!(s, " {k}={v}");
    }
    s
}

/// The alert that stands for a licence refusal (51, 53, 54, 55, 56).
fn refusal_alert(module: Module, r: &Refusal) -> Alert {
    match r {
        Refusal::NotRegistered => Alert::plain(module, Event::LicenseNotRegistered),
        Refusal::Expired(d) => Alert::new(module, Event::TrialExpired, &[&us_date(*d)]),
        Refusal::NotYetValid(d) => Alert::new(module, Event::TrialNotStarted, &[&us_date(*d)]),
        Refusal::Overlap => Alert::plain(module, Event::LicenseOverlap),
        Refusal::Unreadable(_) => Alert::plain(module, Event::LicenseCheckFailed),
    }
}

/// How the start-up licence check ended.
enum Gate {
    /// A licence grants: monitor.
    Open,
    /// Refused (the event is out): exit with this status.
    Refused(u8),
    /// A stop (`-stop`, SIGTERM) came first: end as stopped.
    Stopped,
}

/// Runs the licence check on a thread of its own while answering stops: a licence store that
/// is slow (a stuck lock holder, a hung NFS server) never keeps a monitor from honouring
/// `-stop` or SIGTERM. Other control commands that arrive meanwhile are handed back to the loop
/// in their order. A check that does not end within [`license::CHECK_LIMIT`] is a failed check
/// (54).
fn checked_licence(
    module: Module,
    paths: &Paths,
    tx: &Sender<Msg>,
    rx: &Receiver<Msg>,
) -> Option<Result<Grant, Refusal>> {
    let today = chrono::Local::now().date_naive();
    let (worker_paths, applet, worker_tx) = (paths.clone(), module.applet(), tx.clone());
    let spawned = std::thread::Builder::new()
        .name("licence".into())
        .spawn(move || {
            let r = license::check_monitor(&worker_paths, applet, today);
            let _ = worker_tx.send(Msg::LicenceChecked(r));
        });
    if let Err(e) = spawned {
        return Some(Err(Refusal::Unreadable(format!(
            "cannot start the licence check: {e}"
        ))));
    }
    let deadline = Instant::now() + license::CHECK_LIMIT;
    let mut later = Vec::new();
    let result = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Msg::LicenceChecked(r)) => break r,
            Ok(Msg::Control(ControlCmd::Stop, reply)) => {
                let _ = reply.send(STOP_ACK.into());
                return None;
            }
            Ok(m @ Msg::Control(..)) => later.push(m),
            Ok(Msg::ProbeDone(..)) => {}
            Err(RecvTimeoutError::Timeout) => {
                break Err(Refusal::Unreadable(format!(
                    "the licence check did not end within {} s",
                    license::CHECK_LIMIT.as_secs()
                )));
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the monitor holds a sender"),
        }
    };
    later.extend(rx.try_iter());
    for m in later {
        let _ = tx.send(m);
    }
    Some(result)
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
    let Some(checked) = checked_licence(module, paths, tx, rx) else {
        return Gate::Stopped;
    };
    match checked {
        Ok(Grant::Product { .. }) => Gate::Open,
        Ok(Grant::Trial { until, days_left }) => {
            alerter.emit(&Alert::new(module, Event::TrialPeriod, &[&us_date(until)]));
            if days_left <= 7 {
                let msg = format!(
                    "licence warning: the trial licence ends in {days_left} day(s), on {}",
                    us_date(until)
                );
                crate::errln!("{}: {msg}", module.applet());
                log.write(&msg);
            }
            Gate::Open
        }
        Err(r) => {
            if let Refusal::Unreadable(why) = &r {
                crate::errln!("{}: licence store: {why}", module.applet());
            }
            alerter.emit(&refusal_alert(module, &r));
            Gate::Refused(Exit::License.code())
        }
    }
}

/// Starts a named thread: the seam through which tests make thread creation fail.
type SpawnThread = fn(&str, Box<dyn FnOnce() + Send>) -> std::io::Result<()>;

fn spawn_thread(name: &str, f: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map(drop)
}

/// Blocks SIGTERM/SIGINT/SIGHUP in every thread and turns them into a stop on a thread of
/// their own (a monitor ended by its service manager ends like `-stop`). `Err` when either
/// step fails (the signal mask is then as it was): the monitor must not run deaf to them.
fn stop_on_signals(tx: Sender<Msg>, spawn: SpawnThread) -> Result<(), ClaimError> {
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

fn run_monitor(
    module: Module,
    paths: &Paths,
    alerter: &Alerter,
    id: &str,
    m: &MonitorArgs,
    factory: ProbeFactory,
    claim: Option<Claim>,
) -> u8 {
    let probe = match scripted_or(module, paths, m, factory) {
        Ok(p) => p,
        Err(why) => {
            return usage_error(
                module,
                paths,
                m.once_output(),
                Event::InvalidParameter,
                Some(&why),
            );
        }
    };
    if let Some(output) = m.once_output() {
        let today = chrono::Local::now().date_naive();
        if let Err(r) = license::check_monitor(paths, module.applet(), today) {
            let why = match &r {
                Refusal::Unreadable(why) => Some(why.as_str()),
                _ => None,
            };
            return once_unknown(output, &refusal_alert(module, &r), why);
        }
        return run_once(&probe, m);
    }
    let log = FaultLog {
        path: paths.log_dir().join(format!("fault-{}.log", module.name())),
        id: id.to_owned(),
    };
    let Claim {
        registry,
        held,
        tx,
        rx,
    } = claim.expect("a monitor run claims its ID in main");
    let server = match ControlServer::start(&registry.socket_path(id), tx.clone()) {
        Ok(s) => s,
        Err(e) => {
            system_error(module, alerter, "bind", &e);
            return Exit::System.code();
        }
    };
    // A log the product may not write (an unsafe directory, a planted link) is said once, here;
    // the monitor still runs, with its alerts on syslog and the console.
    for l in [paths.alert_log(), log.path.clone()] {
        if let Err(e) = sys::check_append(&l) {
            system_error(module, alerter, "open", &e);
        }
    }
    match license_gate(module, paths, alerter, &log, (&tx, &rx)) {
        Gate::Open => {}
        Gate::Refused(code) => return code,
        Gate::Stopped => {
            log.write("stopped on request during the licence check");
            alerter.emit(&Alert::new(module, Event::Stopping, &[&probe.target()]));
            return Exit::Ok.code();
        }
    }
    let mut entry = Entry::for_self(module, id, &m.target);
    entry.running = true;
    if let Err(e) = held.publish(&entry) {
        system_error(module, alerter, "rename", &e);
        return Exit::System.code();
    }
    let cfg = LoopConfig {
        interval: Duration::from_secs(u64::from(m.interval)),
        retries: m.retries,
        timeout: Duration::from_secs(u64::from(m.timeout)),
    };
    log.write(&format!(
        "start target={:?} interval={}s retries={} timeout={}s",
        m.target, m.interval, m.retries, m.timeout
    ));
    alerter.emit(&Alert::plain(module, Event::Started));
    let target = probe.target().to_owned();
    let end = run_loop(&probe, cfg, &tx, &rx, &mut |ev| match ev {
        LoopEvent::ProbeStarted(_) => {}
        LoopEvent::ProbeOk { report, first } => {
            if first {
                alerter.emit(&Alert::new(module, Event::Watching, &[&target]));
            }
            tracing::debug!(
                "probe ok: {} {}",
                report.summary,
                phases_text(&report.phases)
            );
        }
        LoopEvent::ProbeFailed { failure, k, c } => {
            log.write(&format!("probe failed {k}/{c} {}", failure_text(failure)));
        }
        LoopEvent::Paused => {
            log.write("paused");
            alerter.emit(&Alert::plain(module, Event::Paused));
        }
        LoopEvent::Resumed => {
            log.write("resumed");
            alerter.emit(&Alert::plain(module, Event::Resumed));
        }
    });
    let code = match end {
        LoopEnd::Stopped => {
            log.write("stopped on request");
            alerter.emit(&Alert::new(module, Event::Stopping, &[&target]));
            Exit::Ok
        }
        LoopEnd::Fault(f) => {
            log.write(&format!(
                "fault: {} consecutive failures; terminating",
                m.retries
            ));
            for a in &f.alerts {
                alerter.emit(a);
            }
            alerter.emit(&Alert::plain(module, Event::Terminate));
            Exit::Fault
        }
    };
    // The last alerts (3, or the fault's and 6) are delivered before the ID is released.
    alerter.finish(crate::alert::FINISH_LIMIT);
    drop(server);
    drop(held);
    code.code()
}

/// The scripted test probe when `CLP_FSMON_TEST_PROBE` is set in a re-rooted sandbox, else the
/// applet's real probe.
fn scripted_or(
    module: Module,
    paths: &Paths,
    m: &MonitorArgs,
    factory: ProbeFactory,
) -> Result<Arc<dyn Probe>, String> {
    if paths.is_rerooted()
        && let Ok(script) = std::env::var(crate::probe::scripted::SCRIPT_ENV)
    {
        let p = crate::probe::scripted::ScriptedProbe::parse(module, &m.target, &script)?;
        return Ok(Arc::new(p));
    }
    factory(m)
}

/// `--once`: one probe through the same path as the loop, a plugin-style line (or JSON), and a
/// plugin exit status.
fn run_once(probe: &Arc<dyn Probe>, m: &MonitorArgs) -> u8 {
    let (tx, rx) = mpsc::channel();
    let timeout = Duration::from_secs(u64::from(m.timeout));
    let r = probe_once(probe, timeout, 1, &tx, &rx, &mut |_, _| false)
        .expect("no control channel in --once");
    let applet = probe.module().applet();
    let (status, line, json) = match &r {
        Ok(rep) => (
            PluginStatus::Ok,
            format!(
                "{applet} OK - {} [{}] {} | time={:.6}s",
                probe.target(),
                rep.summary,
                phases_text(&rep.phases),
                ms(rep.total_micros) / 1000.0
            ),
            serde_json::json!({"status": "OK", "target": probe.target(), "report": rep}),
        ),
        Err(f) => (
            PluginStatus::Critical,
            format!(
                "{applet} CRITICAL - {} {}: {} ({}) | time={:.6}s",
                probe.target(),
                f.phase,
                f.status,
                f.alerts
                    .iter()
                    .map(|a| a.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                ms(f.total_micros) / 1000.0
            ),
            serde_json::json!({
                "status": "CRITICAL",
                "target": probe.target(),
                "failure": f,
                "alerts": f.alerts.iter().map(|a| serde_json::json!({"id": a.event.id(), "text": a.text})).collect::<Vec<_>>(),
            }),
        ),
    };
    if m.json {
        crate::outln!("{json}");
    } else {
        crate::outln!("{line}");
    }
    status.code()
}

/// How often `-stop` looks whether the monitor has ended.
const STOP_POLL: Duration = Duration::from_millis(5);

fn process_alive(e: &Entry) -> bool {
    sys::process_start_time(e.pid).is_some_and(|t| t == e.start_time)
}

/// `-stop` of an ID nobody has claimed: a monitor launched an instant ago may not have claimed
/// it yet. Any such process (this binary, run as `APPLET ID …` as a monitor, under the same
/// `CLP_FSMON_ROOT`) gets SIGTERM and is waited for; otherwise there is nothing to stop.
fn stop_unclaimed(module: Module, alerter: &Alerter, id: &str, wait: u32) -> u8 {
    let applet = module.applet();
    let pids = unclaimed_monitors(applet, id);
    if pids.is_empty() {
        crate::outln!("{applet}: no monitor is running under ID {id}; nothing to stop");
        return Exit::Ok.code();
    }
    let deadline = Instant::now() + Duration::from_secs(u64::from(wait));
    for (pid, _) in &pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(*pid).unwrap_or(i32::MAX)),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    while pids
        .iter()
        .any(|(pid, st)| sys::process_start_time(*pid) == Some(*st))
    {
        if Instant::now() >= deadline {
            alerter.emit(&Alert::plain(module, Event::StopFailed));
            return Exit::StopTimeout.code();
        }
        std::thread::sleep(STOP_POLL);
    }
    Exit::Ok.code()
}

/// Monitors of `applet` for `id` that run this very binary under this `CLP_FSMON_ROOT`, with
/// their start times: candidates that have not claimed their ID yet.
fn unclaimed_monitors(applet: &str, id: &str) -> Vec<(u32, u64)> {
    use std::os::unix::fs::MetadataExt;
    let Ok(me) = std::fs::metadata("/proc/self/exe") else {
        return Vec::new();
    };
    let my_root = std::env::var_os(crate::paths::ROOT_ENV).filter(|v| !v.is_empty());
    let self_pid = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid == self_pid {
            continue;
        }
        let base = e.path();
        match std::fs::metadata(base.join("exe")) {
            Ok(m) if m.dev() == me.dev() && m.ino() == me.ino() => {}
            _ => continue,
        }
        let Ok(cmdline) = std::fs::read(base.join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let name = |a: &[u8]| {
            use std::os::unix::ffi::OsStrExt;
            std::path::Path::new(std::ffi::OsStr::from_bytes(a))
                .file_name()
                .map(|n| n.as_bytes().to_vec())
                .unwrap_or_default()
        };
        let rest = match args.first() {
            Some(a0) if name(a0) == applet.as_bytes() => &args[1..],
            Some(_) if args.get(1).is_some_and(|a1| *a1 == applet.as_bytes()) => &args[2..],
            _ => continue,
        };
        let is_monitor = rest.first().is_some_and(|a| *a == id.as_bytes())
            && !rest.iter().any(|a| *a == b"--once".as_slice())
            && !rest.get(1).is_some_and(|a| {
                [
                    b"-stop".as_slice(),
                    b"-pause",
                    b"-continue",
                    b"-disp",
                    b"-del",
                ]
                .contains(a)
            });
        if !is_monitor {
            continue;
        }
        let root = std::fs::read(base.join("environ")).ok().and_then(|env| {
            env.split(|b| *b == 0)
                .find_map(|kv| kv.strip_prefix(b"CLP_FSMON_ROOT=").map(<[u8]>::to_vec))
                .filter(|v| !v.is_empty())
        });
        if root.as_deref() != my_root.as_ref().map(|r| r.as_encoded_bytes()) {
            continue;
        }
        if let Some(st) = sys::process_start_time(pid) {
            found.push((pid, st));
        }
    }
    found
}

/// A monitor that is still starting holds its ID before its entry says it runs (entry not yet
/// written, or licence and control channel not yet checked): wait at most a second for it to
/// settle, so `-disp` right after a launch answers for the monitor as it will be.
fn settle(registry: &Registry, id: &str, status: Liveness) -> Liveness {
    let starting = |s: &Liveness| match s {
        Liveness::Alive(None) => true,
        Liveness::Alive(Some(e)) => !e.running,
        _ => false,
    };
    let until = Instant::now() + Duration::from_secs(1);
    let mut status = status;
    while starting(&status) && Instant::now() < until {
        std::thread::sleep(STOP_POLL);
        status = registry.status(id).unwrap_or(Liveness::Alive(None));
    }
    status
}

/// Asks a live monitor to stop: over its control channel, or — when it is still starting (no
/// socket yet) or its loop does not answer — with SIGTERM, which its signal thread turns into the
/// same stop. Returns false when neither could be done yet (the entry is not written yet).
fn ask_to_stop(
    applet: &str,
    sock: &std::path::Path,
    entry: Option<&Entry>,
    deadline: Instant,
) -> bool {
    let Err(e) = control::send(
        sock,
        ControlCmd::Stop,
        deadline.saturating_duration_since(Instant::now()),
    ) else {
        return true;
    };
    let Some(en) = entry.filter(|en| process_alive(en)) else {
        return false;
    };
    if e.kind() != std::io::ErrorKind::NotFound {
        crate::errln!("{applet}: control channel: {e}; sending SIGTERM");
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(en.pid).unwrap_or(i32::MAX)),
        nix::sys::signal::Signal::SIGTERM,
    );
    true
}

/// `-stop`, `-pause`, `-continue`, `-disp`, `-del`.
pub fn control_main(
    module: Module,
    paths: &Paths,
    alerter: &Alerter,
    id: &str,
    cmd: &Command,
) -> u8 {
    let applet = module.applet();
    let registry = Registry::new(paths, module);
    let status = match registry.status(id) {
        Ok(s) => s,
        Err(e) => {
            alerter.emit(&Alert::new(
                module,
                Event::SystemError,
                &[&"flock", &sys::errno_of(&e)],
            ));
            return Exit::System.code();
        }
    };
    let sock = registry.socket_path(id);
    match cmd {
        Command::Stop { wait } => {
            let Liveness::Alive(mut entry) = status else {
                return stop_unclaimed(module, alerter, id, *wait);
            };
            let deadline = Instant::now() + Duration::from_secs(u64::from(*wait));
            let mut asked = false;
            loop {
                let live = registry.status(id);
                if let Ok(Liveness::Alive(Some(e))) = &live {
                    entry = Some(e.clone());
                }
                let still = matches!(live, Ok(Liveness::Alive(_)))
                    || entry.as_ref().is_some_and(process_alive);
                if !still {
                    return Exit::Ok.code();
                }
                if !asked {
                    asked = ask_to_stop(applet, &sock, entry.as_ref(), deadline);
                }
                if Instant::now() >= deadline {
                    alerter.emit(&Alert::plain(module, Event::StopFailed));
                    return Exit::StopTimeout.code();
                }
                std::thread::sleep(STOP_POLL);
            }
        }
        Command::Pause | Command::Continue => {
            if !matches!(status, Liveness::Alive(_)) {
                crate::errln!("{applet}: no monitor is running under ID {id}");
                return Exit::NotFound.code();
            }
            let c = if *cmd == Command::Pause {
                ControlCmd::Pause
            } else {
                ControlCmd::Continue
            };
            // A monitor that is still starting has no socket yet: retry while it lives.
            let deadline = Instant::now() + control::EXCHANGE_TIMEOUT;
            loop {
                match control::send(&sock, c, deadline.saturating_duration_since(Instant::now())) {
                    Ok(reply) => {
                        crate::outln!("{applet}: {id}: {reply}");
                        return Exit::Ok.code();
                    }
                    Err(e)
                        if e.kind() == std::io::ErrorKind::NotFound
                            && Instant::now() < deadline
                            && matches!(registry.status(id), Ok(Liveness::Alive(_))) =>
                    {
                        std::thread::sleep(STOP_POLL);
                    }
                    Err(e) => {
                        crate::errln!("{applet}: {id}: no acknowledgement: {e}");
                        return Exit::System.code();
                    }
                }
            }
        }
        Command::Disp => match settle(&registry, id, status) {
            Liveness::Alive(Some(e)) if !e.running => {
                crate::outln!("{}", e.pid);
                crate::errln!("{applet}: {id}: still starting (licence check, control channel)");
                Exit::NotFound.code()
            }
            Liveness::Alive(Some(e)) => {
                crate::outln!("{}", e.pid);
                if let Ok(s) = control::send(&sock, ControlCmd::Status, control::EXCHANGE_TIMEOUT) {
                    crate::errln!("{applet}: {id}: {s}");
                }
                Exit::Ok.code()
            }
            Liveness::Alive(None) => {
                crate::errln!("{applet}: {id}: running, entry unreadable");
                Exit::Ok.code()
            }
            Liveness::Stale(Some(e)) => {
                crate::outln!("{}", e.pid);
                crate::errln!(
                    "{applet}: {id}: stale entry ({}); the next start replaces it, or remove it with -del",
                    e.stale_reason()
                );
                Exit::NotFound.code()
            }
            Liveness::Stale(None) | Liveness::Absent => {
                crate::errln!("{applet}: no monitor is registered under ID {id}");
                Exit::NotFound.code()
            }
        },
        Command::Del => match registry.delete(id) {
            Ok(e) => {
                crate::outln!(
                    "{applet}: deleted the stale entry of {id}{}",
                    e.map(|e| format!(" (pid {}, {})", e.pid, e.stale_reason()))
                        .unwrap_or_default()
                );
                Exit::Ok.code()
            }
            Err(DeleteError::Alive(e)) => {
                crate::errln!(
                    "{applet}: refusing to delete {id}: the monitor is running (pid {}); use -stop",
                    e.map_or_else(|| "?".into(), |e| e.pid.to_string())
                );
                Exit::Alive.code()
            }
            Err(DeleteError::NotFound) => {
                crate::errln!("{applet}: no monitor is registered under ID {id}");
                Exit::NotFound.code()
            }
            Err(DeleteError::Io(e)) => {
                system_error(module, alerter, "unlink", &e);
                Exit::System.code()
            }
        },
        Command::Monitor(_) => unreachable!("handled by run_monitor"),
    }
}

#[cfg(test)]
mod tests;
