//! Probes: one check of a file service, bounded by one deadline.
//!
//! A [`Probe`] runs a complete check (for SMB: connect, negotiate, session setup, tree connect,
//! disconnect; for NFS: portmapper, MOUNT, NFS calls, UMNT) and returns a [`ProbeReport`] or a
//! [`ProbeFailure`] that names the phase, the status and the alerts to raise if this failure turns
//! out to be the fault. Every wait inside a probe is bounded by [`ProbeCtx::deadline`]; the monitor
//! loop enforces the same deadline from outside as a backstop and raises
//! [`ProbeCtx::cancel`] when it gives up on a probe.
//!
//! The two real probes share what is hard to get right twice: [`net`] (the `-a` address rule,
//! a deadline-bounded name lookup, connect, read and write, errno text) and `attempt` (the phase
//! clock and the shape of a report, a failure and an abandoned probe). What stays in [`smb`] and
//! [`nfs`] is each protocol and what its failures mean to an administrator.

pub(crate) mod attempt;
pub mod net;
pub mod nfs;
#[cfg(any(test, feature = "test-probe"))]
pub(crate) mod scripted;
pub mod smb;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::alert::{Alert, Module};
#[cfg(test)]
pub(crate) use attempt::PhaseClock;

/// A point in time by which a probe must be done.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    /// The deadline `d` from now.
    pub fn after(d: Duration) -> Self {
        Self(Instant::now() + d)
    }

    /// The instant.
    pub(crate) fn at(self) -> Instant {
        self.0
    }

    /// Time left, or `None` once the deadline has passed.
    pub(crate) fn remaining(self) -> Option<Duration> {
        self.0
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// True once the deadline has passed.
    pub(crate) fn expired(self) -> bool {
        self.remaining().is_none()
    }
}

/// Raised by the monitor loop when it abandons a probe (deadline backstop or `-stop`).
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A fresh, unraised token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the token.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once raised.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The phases a probe has completed so far, shared with the loop so that a probe it has to cut
/// is still reported with the phase it was stuck in.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<Mutex<Vec<PhaseTiming>>>);

impl Progress {
    /// Phases completed so far.
    pub(crate) fn completed(&self) -> Vec<PhaseTiming> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn push(&self, t: PhaseTiming) {
        if let Ok(mut v) = self.0.lock() {
            v.push(t);
        }
    }
}

/// What a probe gets: its deadline, a cancel token, and where it reports its progress.
#[derive(Clone, Debug)]
pub struct ProbeCtx {
    /// The one overall deadline of this probe (`-r`).
    pub deadline: Deadline,
    /// Raised when the probe is abandoned.
    pub cancel: Cancel,
    /// Phases completed so far (fed by `attempt::PhaseClock::for_ctx`).
    pub progress: Progress,
}

impl ProbeCtx {
    /// A context with a deadline `timeout` from now.
    pub fn new(timeout: Duration) -> Self {
        Self {
            deadline: Deadline::after(timeout),
            cancel: Cancel::new(),
            progress: Progress::default(),
        }
    }
}

/// Latency of one phase of a probe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhaseTiming {
    /// Phase name (`connect`, `negotiate`, `session_setup`, `tree_connect`, `portmap`, `mount`…).
    pub phase: &'static str,
    /// How long it took, in microseconds.
    pub micros: u64,
}

/// A successful probe.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReport {
    /// One-line summary (e.g. `SMB 3.1.1, share disk`).
    pub summary: String,
    /// Phase latencies.
    pub phases: Vec<PhaseTiming>,
    /// Total latency in microseconds.
    pub total_micros: u64,
}

/// A failed probe: where it failed, with what status, and the alerts it stands for.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeFailure {
    /// The phase that failed (`connect`, `negotiate`, …).
    pub phase: &'static str,
    /// Status as an administrator reads it (`STATUS_BAD_NETWORK_NAME (0xc00000cc)`,
    /// `ECONNREFUSED (111)`, `timeout after 5.000 s`).
    pub status: String,
    /// Alerts raised, in order, when this failure is the `-c`-th in a row (before event 6).
    #[serde(skip)]
    pub alerts: Vec<Alert>,
    /// Phases completed, and the failed one.
    pub phases: Vec<PhaseTiming>,
    /// Total latency in microseconds.
    pub total_micros: u64,
    /// Extra facts for the fault log (dialect, port…).
    pub detail: Vec<(&'static str, String)>,
}

/// One kind of check against a file service.
pub trait Probe: Send + Sync {
    /// The module raising this probe's alerts.
    fn module(&self) -> Module;

    /// The watched resource as alerts name it (share name, directory).
    fn target(&self) -> &str;

    /// Runs one complete probe, returning by `ctx.deadline` (or soon after `ctx.cancel`).
    fn run(&self, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure>;

    /// The failure that stands for a probe the loop had to abandon at its deadline.
    fn timeout_failure(&self, timeout: Duration) -> ProbeFailure;
}
