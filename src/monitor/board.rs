//! What a monitor knows about itself, for `clp-fsmon status`, `-disp` and `--metrics-file`:
//! its state, the failures k of c, the probes made, the last result, the latencies of the last
//! [`WINDOW`] probes and when it last succeeded.
//!
//! One [`Board`] per monitor, shared by three threads: the loop writes it as it goes
//! ([`super::engine`]), the control socket answers `status` and `report` from it
//! ([`super::control`]) and the metrics-file writer renders it ([`super::metrics`]). The socket
//! never waits for the loop to answer a status: whatever the loop is doing — checking the licence,
//! waiting out a probe, delivering its last alerts — the answer is one lock away, which is what
//! keeps `clp-fsmon status` within its bound.
//!
//! The state names ([`State`]) are written once, here: the monitor's answer, the human listing,
//! the JSON and the metrics all take them from [`State::name`]. The percentiles are nearest-rank
//! over the last [`WINDOW`] latencies, sorted when asked: a hundred numbers need no
//! streaming-quantile crate.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::report::ms;
use crate::alert::Module;
use crate::probe::{CheckLevel, PhaseTiming, ProbeFailure, ProbeReport};

/// How many of the latest probes the latency percentiles are taken over.
pub const WINDOW: usize = 100;

/// Where a monitor is in its life, as `clp-fsmon status` lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum State {
    /// Claimed its ID; the licence check and the control socket are being set up.
    Starting,
    /// Probing.
    Monitoring,
    /// `-pause`d.
    Paused,
    /// Stopped or failed over: delivering its last alerts before it exits.
    Stopping,
    /// A registry entry whose monitor is gone (`kill -9`, a crash): said by the registry.
    Stale,
    /// A live monitor that did not answer within the bound: said by `clp-fsmon status`.
    NoAnswer,
}

impl State {
    /// Every state, in the order of a monitor's life.
    pub const ALL: [Self; 6] = [
        Self::Starting,
        Self::Monitoring,
        Self::Paused,
        Self::Stopping,
        Self::Stale,
        Self::NoAnswer,
    ];

    /// The state's name, as every output shows it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Monitoring => "monitoring",
            Self::Paused => "paused",
            Self::Stopping => "stopping",
            Self::Stale => "stale",
            Self::NoAnswer => "no answer",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<State> for &'static str {
    fn from(s: State) -> Self {
        s.name()
    }
}

impl TryFrom<String> for State {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.name() == s)
            .ok_or_else(|| format!("unknown monitor state {s:?}"))
    }
}

/// One phase of the last probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// Its name (`connect`, `negotiate`, `mount` …).
    pub phase: String,
    /// How long it took, in milliseconds.
    pub ms: f64,
}

/// The last probe's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastProbe {
    /// It succeeded.
    pub ok: bool,
    /// The phase that failed, or the last one a successful probe went through (`""` when it
    /// reports none).
    pub phase: String,
    /// The failure's status, or a successful probe's summary.
    pub status: String,
    /// Its whole latency, in milliseconds.
    pub latency_ms: f64,
    /// Each phase's latency.
    pub phases: Vec<Phase>,
    /// When it ended (RFC 3339).
    pub at: String,
}

/// Latency percentiles over the last [`WINDOW`] probes, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Slowest.
    pub max: f64,
    /// How many probes they are taken over (at most [`WINDOW`]).
    pub probes: usize,
}

/// What a monitor answers to `report`: everything `clp-fsmon status` shows of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// `clp_sambamon` or `clp_nfsmon`.
    pub applet: String,
    /// Monitor ID.
    pub id: String,
    /// Its process id.
    pub pid: u32,
    /// Where it is in its life.
    pub state: State,
    /// Share or directory watched.
    pub target: String,
    /// `--check` level.
    pub check: String,
    /// Consecutive failures counted toward `-c` (k).
    pub failures: u32,
    /// `-c` (c).
    pub retries: u32,
    /// Probes started since the monitor started.
    pub probes: u64,
    /// `-i`, seconds.
    pub interval_s: u32,
    /// `-r`, seconds.
    pub timeout_s: u32,
    /// A successful probe slower than this is slow (`--warn` % of `-r`), in milliseconds.
    pub warn_limit_ms: u64,
    /// `--first-wait`, seconds.
    pub first_wait_s: u32,
    /// Event 81 is raised and not yet followed by 82.
    pub slow: bool,
    /// The last probe, once there was one.
    pub last: Option<LastProbe>,
    /// Latency percentiles, once there was a probe.
    pub latency_ms: Option<Percentiles>,
    /// When a probe last succeeded (RFC 3339).
    pub last_success: Option<String>,
    /// When the monitor started (RFC 3339).
    pub started: String,
}

impl Snapshot {
    /// A monitor of this process that is starting, before its first probe.
    pub(crate) fn starting(module: Module, id: &str, target: &str, check: CheckLevel) -> Self {
        Self {
            applet: module.applet().to_owned(),
            id: id.to_owned(),
            pid: std::process::id(),
            state: State::Starting,
            target: target.to_owned(),
            check: check.name().to_owned(),
            failures: 0,
            retries: 0,
            probes: 0,
            interval_s: 0,
            timeout_s: 0,
            warn_limit_ms: 0,
            first_wait_s: 0,
            slow: false,
            last: None,
            latency_ms: None,
            last_success: None,
            started: now(),
        }
    }

    /// The one-line status `-disp` prints: `ok state=monitoring failures=0/5 probes=12 last=ok …`.
    pub(crate) fn line(&self) -> String {
        let last = match &self.last {
            None => "none yet".to_owned(),
            Some(l) if l.ok => format!("ok {}", l.status),
            Some(l) => format!("fail {} {}", l.phase, l.status),
        };
        format!(
            "ok state={} failures={}/{} probes={} last={last}",
            self.state, self.failures, self.retries, self.probes
        )
    }
}

fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

fn phases(p: &[PhaseTiming]) -> Vec<Phase> {
    p.iter()
        .map(|t| Phase {
            phase: t.phase.to_owned(),
            ms: ms(t.micros),
        })
        .collect()
}

/// The latest latencies, in microseconds, oldest first.
#[derive(Debug, Default)]
struct Window(VecDeque<u64>);

impl Window {
    fn push(&mut self, micros: u64) {
        if self.0.len() == WINDOW {
            self.0.pop_front();
        }
        self.0.push_back(micros);
    }

    /// Nearest-rank percentiles, `None` before the first probe.
    fn percentiles(&self) -> Option<Percentiles> {
        let mut v: Vec<u64> = self.0.iter().copied().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let rank = |p: usize| v[(p * v.len()).div_ceil(100).max(1) - 1];
        Some(Percentiles {
            p50: ms(rank(50)),
            p95: ms(rank(95)),
            max: ms(v[v.len() - 1]),
            probes: v.len(),
        })
    }
}

#[derive(Debug)]
struct Inner {
    snap: Snapshot,
    window: Window,
}

/// A monitor's board (see the module doc); clones share it.
#[derive(Clone, Debug)]
pub(crate) struct Board(Arc<Mutex<Inner>>);

impl Board {
    /// A board showing `snap` (its percentiles are the board's own).
    pub(crate) fn new(snap: Snapshot) -> Self {
        Self(Arc::new(Mutex::new(Inner {
            snap,
            window: Window::default(),
        })))
    }

    /// Changes the board under its lock. A writer that panicked left a whole snapshot behind
    /// (every change is one assignment), so a poisoned lock is still read.
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Everything on the board now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.with(|i| {
            let mut s = i.snap.clone();
            s.latency_ms = i.window.percentiles();
            s
        })
    }

    pub(crate) fn set_state(&self, state: State) {
        self.with(|i| i.snap.state = state);
    }

    /// Fills in the monitor's schedule once it is known.
    pub(crate) fn configure(&self, f: impl FnOnce(&mut Snapshot)) {
        self.with(|i| f(&mut i.snap));
    }

    /// Probe number `n` started.
    pub(crate) fn probe_started(&self, n: u64) {
        self.with(|i| i.snap.probes = n);
    }

    /// The count of consecutive failures is `k` now.
    pub(crate) fn set_failures(&self, k: u32) {
        self.with(|i| i.snap.failures = k);
    }

    /// Event 81 raised (`true`) or cleared by 82.
    pub(crate) fn set_slow(&self, slow: bool) {
        self.with(|i| i.snap.slow = slow);
    }

    /// A probe succeeded (the count of failures is back to 0).
    pub(crate) fn probe_ok(&self, r: &ProbeReport) {
        let at = now();
        self.with(|i| {
            i.window.push(r.total_micros);
            i.snap.failures = 0;
            i.snap.last_success = Some(at.clone());
            i.snap.last = Some(LastProbe {
                ok: true,
                phase: r
                    .phases
                    .last()
                    .map(|p| p.phase.to_owned())
                    .unwrap_or_default(),
                status: r.summary.clone(),
                latency_ms: ms(r.total_micros),
                phases: phases(&r.phases),
                at,
            });
        });
    }

    /// A probe failed; `k` failures in a row count toward `-c` now.
    pub(crate) fn probe_failed(&self, f: &ProbeFailure, k: u32) {
        let at = now();
        self.with(|i| {
            i.window.push(f.total_micros);
            i.snap.failures = k;
            i.snap.last = Some(LastProbe {
                ok: false,
                phase: f.phase.to_owned(),
                status: f.status.clone(),
                latency_ms: ms(f.total_micros),
                phases: phases(&f.phases),
                at,
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(micros: u64) -> ProbeReport {
        ProbeReport {
            summary: "SMB 3.1.1".into(),
            phases: vec![PhaseTiming {
                phase: "tree_connect",
                micros,
            }],
            total_micros: micros,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank_over_the_last_hundred() {
        let b = Board::new(Snapshot::starting(
            Module::Sambamon,
            "w1",
            "share",
            CheckLevel::Read,
        ));
        assert_eq!(b.snapshot().latency_ms, None);
        // 1..=150 ms: the window keeps 51..=150
        for n in 1..=150 {
            b.probe_ok(&report(n * 1000));
        }
        let p = b.snapshot().latency_ms.unwrap();
        assert_eq!((p.p50, p.p95, p.max, p.probes), (100.0, 145.0, 150.0, 100));
        let mut w = Window::default();
        w.push(7000);
        let one = w.percentiles().unwrap();
        assert_eq!((one.p50, one.p95, one.max, one.probes), (7.0, 7.0, 7.0, 1));
    }

    #[test]
    fn results_show_on_the_line_and_survive_json() {
        let b = Board::new(Snapshot::starting(
            Module::Nfsmon,
            "n1",
            "/export",
            CheckLevel::Connect,
        ));
        b.configure(|s| s.retries = 3);
        assert_eq!(
            b.snapshot().line(),
            "ok state=starting failures=0/3 probes=0 last=none yet"
        );
        b.set_state(State::Monitoring);
        b.probe_started(1);
        b.probe_failed(
            &ProbeFailure {
                phase: "connect",
                status: "ECONNREFUSED (111)".into(),
                alerts: Vec::new(),
                phases: Vec::new(),
                total_micros: 250,
                detail: Vec::new(),
            },
            1,
        );
        let s = b.snapshot();
        assert_eq!(
            s.line(),
            "ok state=monitoring failures=1/3 probes=1 last=fail connect ECONNREFUSED (111)"
        );
        assert_eq!(s.last_success, None);
        b.probe_started(2);
        b.probe_ok(&report(1500));
        let s = b.snapshot();
        assert!(
            s.line()
                .ends_with("failures=0/3 probes=2 last=ok SMB 3.1.1")
        );
        assert_eq!(s.last.as_ref().unwrap().phase, "tree_connect");
        assert!(s.last_success.is_some());
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"state\":\"monitoring\""), "{json}");
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        for st in State::ALL {
            let j = serde_json::to_string(&st).unwrap();
            assert_eq!(serde_json::from_str::<State>(&j).unwrap(), st);
        }
        assert!(serde_json::from_str::<State>("\"asleep\"").is_err());
    }
}
