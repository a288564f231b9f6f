//! The monitor loop itself, pure of any I/O but the probe's: probe → result; a failure raises
//! the count k of c, a success resets it; at k = c the loop ends with the fault. Between probes
//! it waits `-i` seconds but wakes at once for control commands. Every probe runs on its own
//! thread under one deadline (`-r`): the probe honours it itself, and the loop cuts a probe that
//! does not (cancelling it), so a hung server or a hung probe can never hold the monitor. A
//! `-stop` is acted on immediately, even in the middle of a probe.
//!
//! It knows nothing of alerts, logs, the registry or the command line: what happens is reported
//! through [`LoopEvent`]s to the caller ([`super::daemon`]), so the semantics are unit-tested
//! with a scripted probe and exact counts (`tests.rs`).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

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
    /// Report state.
    Status,
}

impl ControlCmd {
    /// The wire word.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Pause => "pause",
            Self::Continue => "continue",
            Self::Status => "status",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "stop" => Self::Stop,
            "pause" => Self::Pause,
            "continue" => Self::Continue,
            "status" => Self::Status,
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
}

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
pub(crate) fn run_loop(
    probe: &Arc<dyn Probe>,
    cfg: LoopConfig,
    tx: &Sender<Msg>,
    rx: &Receiver<Msg>,
    observe: &mut dyn FnMut(LoopEvent<'_>),
) -> LoopEnd {
    let mut st = LoopState {
        k: 0,
        c: cfg.retries,
        paused: cfg.start_paused,
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

#[cfg(test)]
mod tests;
