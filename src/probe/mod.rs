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

/// How deep a probe goes (`--check`): what it must reach before it says OK.
///
/// `connect` proves the server answers a session or a mount; `read` adds one operation that
/// must reach the exported file system (a server answering from its caches passes `connect`
/// while its storage hangs); `write` adds a canary file written, read back and removed, which
/// is what catches read-only, full or no longer writable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckLevel {
    /// Session and tree connect (SMB); portmapper, MOUNT and NULL/GETATTR (NFS).
    Connect,
    /// `connect` plus one operation that reaches the file system.
    Read,
    /// `read` plus a canary file created, written, flushed, read back and removed.
    Write,
}

impl CheckLevel {
    /// Every level, shallowest first.
    pub const ALL: [Self; 3] = [Self::Connect, Self::Read, Self::Write];
    /// Their words, as `--check` spells them, in the order of [`Self::ALL`].
    pub const WORDS: [&'static str; 3] = ["connect", "read", "write"];
    /// The level without `--check`.
    pub const DEFAULT: Self = Self::Read;

    /// The level's word (`connect`, `read`, `write`).
    pub const fn name(self) -> &'static str {
        Self::WORDS[self as usize]
    }

    /// The level `word` names.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == word)
    }

    /// True when this level includes `other` (`write` includes `read` and `connect`).
    pub fn reaches(self, other: Self) -> bool {
        self as u8 >= other as u8
    }
}

impl Default for CheckLevel {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl std::fmt::Display for CheckLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The canary's default name at the share's or export's root for monitor `id`
/// (`--canary` overrides it): one name per monitor, so two monitors of one share never race
/// on one file, and a leftover of a cut probe is found and removed by the next.
pub fn default_canary(id: &str) -> String {
    format!(".clp-fsmon-{id}")
}

/// Why `name` cannot be a canary's name, or `None` when it can: one path component at the root
/// (no `/`, `\`, NUL or control character, not `.` or `..`), at most 255 bytes — what both SMB
/// and NFS accept as one name, so the canary never lands outside the share's root.
pub fn canary_refusal(name: &str) -> Option<&'static str> {
    if name.is_empty() || name == "." || name == ".." {
        Some("must be a file name")
    } else if name.len() > 255 {
        Some("is longer than 255 bytes")
    } else if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
        Some("must be one name, without a path separator or control character")
    } else {
        None
    }
}

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

    /// How deep this probe goes (`--check`).
    fn check(&self) -> CheckLevel;

    /// Runs one complete probe, returning by `ctx.deadline` (or soon after `ctx.cancel`).
    fn run(&self, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure>;

    /// The failure that stands for a probe the loop had to abandon at its deadline.
    fn timeout_failure(&self, timeout: Duration) -> ProbeFailure;
}
