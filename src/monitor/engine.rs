//! The monitor loop itself, pure of any I/O but the probe's: probe → result; a failure raises
//! the count k of c, a success resets it; at k = c the loop ends with the fault. Between probes
//! it waits `-i` seconds but wakes at once for control commands. Every probe runs on its own
//! thread under one deadline (`-r`): the probe honours it itself, and the loop cuts a probe that
//! does not (cancelling it), so a hung server or a hung probe can never hold the monitor. A
//! `-stop` is acted on immediately, even in the middle of a probe.
//!
//! Two rules soften the count without ever hiding a fault for long: a failure of a probe that
//! started within `--first-wait` of the loop's start is reported but not counted (a service that
//! starts a moment after its monitor), and a *successful* probe slower than the `--warn` limit
//! [`SLOW_STREAK`] times in a row is reported once as slow (event 81) and once more when a probe
//! is fast again (82) — slow is not dead, so neither counts toward `-c`.
//!
//! It knows nothing of alerts, logs, the registry or the command line: what happens is reported
//! through [`LoopEvent`]s to the caller ([`super::daemon`]) and written on the monitor's
//! [`Board`] as it happens, so the semantics are unit-tested with a scripted probe and exact
//! counts (`tests.rs`).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::board::{Board, State};
use crate::license::Checked;
use crate::probe::{Probe, ProbeCtx, ProbeFailure, ProbeReport};

/// A command to the loop, as the control channel (and the signal thread) hand it over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ControlCmd {
    /// End the monitor (event 3).
    Stop,
    /// Suspend probing (event 7).
    Pause,
    /// Resume probing (event 8).
    Continue,
}

impl ControlCmd {
    /// The wire word.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Pause => "pause",
            Self::Continue => "continue",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "stop" => Self::Stop,
            "pause" => Self::Pause,
            "continue" => Self::Continue,
            _ => return None,
        })
    }
}

/// A message to the monitor loop.
#[derive(Debug)]
pub(crate) enum Msg {
    /// A control command and where to send the acknowledgement.
    Control(ControlCmd, Sender<String>),
    /// A probe ended (sequence number, result).
    ProbeDone(u64, Result<ProbeReport, ProbeFailure>),
    /// The start-up licence check ended (see [`license_gate`]).
    LicenceChecked(Checked),
}

/// Timing of the loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LoopConfig {
    /// Wait after a probe ends before the next starts (`-i`).
    pub interval: Duration,
    /// Consecutive failures that make a fault (`-c`).
    pub retries: u32,
    /// Deadline of one probe (`-r`).
    pub timeout: Duration,
    /// Start paused: a `-pause` was taken while the monitor was starting (it waits for
    /// `-continue` before its first probe).
    pub start_paused: bool,
    /// A successful probe that takes longer than this is slow (`--warn` % of `-r`).
    pub slow_after: Duration,
    /// Failures of probes started this soon after the loop's start do not count toward `-c`
    /// (`--first-wait`).
    pub first_wait: Duration,
}

/// Slow successful probes in a row that raise the warning (event 81).
pub(crate) const SLOW_STREAK: u32 = 3;

/// Grace after the deadline for a probe to report its own (more precise) timeout before the
/// loop cuts it.
pub const CUT_GRACE: Duration = Duration::from_millis(100);

/// What the loop reports as it goes.
#[derive(Debug)]
pub(crate) enum LoopEvent<'a> {
    /// A probe started (1-based count; the daemon needs only the event, the tests the count).
    ProbeStarted(#[cfg_attr(not(test), allow(dead_code))] u64),
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
        /// False for a probe started within `--first-wait`: it does not count (k is unchanged).
        counted: bool,
    },
    /// The [`SLOW_STREAK`]-th successful probe in a row slower than the `--warn` limit, while no
    /// warning was up (event 81).
    Slow {
        /// This probe's latency.
        latency: Duration,
        /// The limit.
        limit: Duration,
    },
    /// The first probe within the limit after [`LoopEvent::Slow`] (event 82).
    Normal {
        /// Its latency.
        latency: Duration,
    },
    /// `-pause` taken (event 7).
    Paused,
    /// `-continue` taken (event 8).
    Resumed,
}

/// How the loop ended.
#[derive(Debug)]
pub(crate) enum LoopEnd {
    /// On `-stop` (or SIGTERM).
    Stopped,
    /// `-c` consecutive failures; the last one.
    Fault(ProbeFailure),
}

/// Runs one probe on its own thread and waits for it, handling control messages meanwhile.
/// Returns `None` when a stop arrived (the probe is cancelled and abandoned).
pub(crate) fn probe_once(
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
pub(crate) const STOP_ACK: &str = "ok stopping";
/// The acknowledgement of `-pause`.
pub(crate) const PAUSE_ACK: &str = "ok paused";
/// The acknowledgement of `-continue`.
pub(crate) const CONTINUE_ACK: &str = "ok monitoring";

/// The loop's own state, changed only by probe results and control commands.
struct LoopState {
    k: u32,
    paused: bool,
    seq: u64,
    /// Slow successful probes in a row.
    slow_run: u32,
    /// Event 81 is up (82 not yet said).
    slow: bool,
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
                (PAUSE_ACK.into(), Transition::Paused)
            }
            ControlCmd::Pause => (PAUSE_ACK.into(), Transition::Nothing),
            ControlCmd::Continue if self.paused => {
                // Failures before the maintenance window do not carry over into it.
                self.paused = false;
                self.k = 0;
                (CONTINUE_ACK.into(), Transition::Resumed)
            }
            ControlCmd::Continue => (CONTINUE_ACK.into(), Transition::Nothing),
        }
    }
}

/// Applies a control command: puts it on the board and acknowledges it first (an alert sink
/// that is slow must never make the caller believe the command failed), then reports the change.
/// Returns the transition.
fn handle(
    st: &mut LoopState,
    board: &Board,
    cmd: ControlCmd,
    reply: &Sender<String>,
    observe: &mut dyn FnMut(LoopEvent<'_>),
) -> Transition {
    let (text, t) = st.command(cmd);
    match t {
        Transition::Paused => board.set_state(State::Paused),
        Transition::Resumed => {
            board.set_failures(st.k);
            board.set_state(State::Monitoring);
        }
        Transition::Nothing | Transition::Stop => {}
    }
    let _ = reply.send(text);
    match t {
        Transition::Paused => observe(LoopEvent::Paused),
        Transition::Resumed => observe(LoopEvent::Resumed),
        Transition::Nothing | Transition::Stop => {}
    }
    t
}

/// How a successful probe's latency moves the slow-response warning: the event to report, if
/// any.
fn slow_check(
    st: &mut LoopState,
    latency: Duration,
    limit: Duration,
) -> Option<LoopEvent<'static>> {
    if latency > limit {
        st.slow_run += 1;
        if st.slow_run >= SLOW_STREAK && !st.slow {
            st.slow = true;
            return Some(LoopEvent::Slow { latency, limit });
        }
    } else {
        st.slow_run = 0;
        if st.slow {
            st.slow = false;
            return Some(LoopEvent::Normal { latency });
        }
    }
    None
}

/// The monitor loop (see the module doc). `tx` must be a sender of `rx`'s channel; the control
/// socket and signal threads hold clones of it. The board shows the loop's state as it goes, and
/// [`State::Stopping`] once it has ended.
pub(crate) fn run_loop(
    probe: &Arc<dyn Probe>,
    cfg: LoopConfig,
    board: &Board,
    tx: &Sender<Msg>,
    rx: &Receiver<Msg>,
    observe: &mut dyn FnMut(LoopEvent<'_>),
) -> LoopEnd {
    board.set_state(if cfg.start_paused {
        State::Paused
    } else {
        State::Monitoring
    });
    let end = probe_loop(probe, cfg, board, tx, rx, observe);
    board.set_state(State::Stopping);
    end
}

fn probe_loop(
    probe: &Arc<dyn Probe>,
    cfg: LoopConfig,
    board: &Board,
    tx: &Sender<Msg>,
    rx: &Receiver<Msg>,
    observe: &mut dyn FnMut(LoopEvent<'_>),
) -> LoopEnd {
    let mut st = LoopState {
        k: 0,
        paused: cfg.start_paused,
        seq: 0,
        slow_run: 0,
        slow: false,
    };
    let mut seen_ok = false;
    let started = Instant::now();
    let mut next_probe = started;
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
                Ok(Msg::Control(cmd, reply)) => {
                    match handle(&mut st, board, cmd, &reply, observe) {
                        Transition::Stop => return LoopEnd::Stopped,
                        Transition::Resumed => {
                            st.slow_run = 0;
                            next_probe = Instant::now();
                        }
                        Transition::Paused | Transition::Nothing => {}
                    }
                }
                Ok(Msg::ProbeDone(..) | Msg::LicenceChecked(_)) => {}
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => unreachable!("the loop holds a sender"),
            }
        }
        st.seq += 1;
        board.probe_started(st.seq);
        observe(LoopEvent::ProbeStarted(st.seq));
        let mut paused_during = false;
        let seq = st.seq;
        let in_grace = started.elapsed() < cfg.first_wait;
        let result = probe_once(
            probe,
            cfg.timeout,
            seq,
            tx,
            rx,
            &mut |cmd, reply| match handle(&mut st, board, cmd, &reply, observe) {
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
                board.probe_ok(&report);
                let latency = Duration::from_micros(report.total_micros);
                let slow = slow_check(&mut st, latency, cfg.slow_after);
                if let Some(ev) = &slow {
                    board.set_slow(matches!(ev, LoopEvent::Slow { .. }));
                }
                observe(LoopEvent::ProbeOk {
                    report: &report,
                    first: !seen_ok,
                });
                seen_ok = true;
                if let Some(ev) = slow {
                    observe(ev);
                }
            }
            Err(failure) => {
                // A failure breaks a row of slow probes; a warning that is up stays up.
                st.slow_run = 0;
                if !in_grace {
                    st.k += 1;
                }
                board.probe_failed(&failure, st.k);
                observe(LoopEvent::ProbeFailed {
                    failure: &failure,
                    k: st.k,
                    c: cfg.retries,
                    counted: !in_grace,
                });
                if st.k >= cfg.retries {
                    return LoopEnd::Fault(failure);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
