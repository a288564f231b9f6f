//! Metrics in the ecosystem's own format: the Prometheus text exposition format (version 0.0.4),
//! which `node_exporter`'s textfile collector reads, for `--metrics-file PATH` (one monitor,
//! rewritten after every probe) and `clp-fsmon status --prometheus` (every monitor of the
//! server). Every name begins with `clp_fsmon_`; every series carries the labels `applet`, `id`
//! and `target` ([`METRICS`] is the one list, the man page is made from it).
//!
//! The text is written by the `prometheus` crate (tikv's client: its [`prometheus::TextEncoder`]
//! does the escaping of label values and help texts, the `# HELP`/`# TYPE` lines and the sorting
//! of series), built without its protobuf support. Not `prometheus-client`: that crate writes
//! `OpenMetrics` only (`# EOF`, `# UNIT`, counters typed without their `_total`), which the
//! textfile collector does not read — it parses the classic text format, the one this crate
//! writes.
//!
//! The file is rewritten off the probe's path: after a probe the loop only marks the board
//! changed ([`MetricsFile::poke`]); a thread of its own renders the board and replaces the file
//! atomically (a temp file in the same directory, fsync, rename — [`sys::atomic_write`], which
//! refuses a directory another user may write and never follows a planted link), so a slow disk
//! never delays a probe and `node_exporter` never reads half a file. That one thread is the only
//! writer of the file: give each monitor its own path. At exit the file is written once more,
//! with the state `stopping`, and left in place: the last word of a monitor that failed over
//! stays visible (`node_exporter` exports the file's age as `node_textfile_mtime_seconds`).

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use prometheus::{Encoder as _, GaugeVec, IntCounterVec, Opts, Registry, TextEncoder};

use super::board::{Board, Snapshot, State};
use crate::sys;

/// What kind of series a metric is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count that only grows while the monitor runs.
    Counter,
}

/// One metric of the exposition.
#[derive(Debug)]
pub struct Metric {
    /// Its name.
    pub name: &'static str,
    /// Its `# HELP` text.
    pub help: &'static str,
    /// Gauge or counter.
    pub kind: Kind,
    /// The label it has beyond applet, id and target, if any.
    pub label: Option<&'static str>,
}

const fn gauge(name: &'static str, help: &'static str, label: Option<&'static str>) -> Metric {
    Metric {
        name,
        help,
        kind: Kind::Gauge,
        label,
    }
}

const STATE: Metric = gauge(
    "clp_fsmon_state",
    "1 for the monitor's state (the label state: see clp-fsmon(8), STATUS), 0 for each other state.",
    Some("state"),
);
const PROBES: Metric = Metric {
    name: "clp_fsmon_probes_total",
    help: "Probes started since the monitor started.",
    kind: Kind::Counter,
    label: None,
};
const FAILURES: Metric = gauge(
    "clp_fsmon_consecutive_failures",
    "Failed probes in a row that count toward -c (k of c).",
    None,
);
const LIMIT: Metric = gauge(
    "clp_fsmon_failure_limit",
    "Consecutive failures that make a fault (-c).",
    None,
);
const SUCCESS: Metric = gauge(
    "clp_fsmon_probe_success",
    "1 when the last probe succeeded, 0 when it failed.",
    None,
);
const DURATION: Metric = gauge(
    "clp_fsmon_probe_duration_seconds",
    "How long the last probe took, in total.",
    None,
);
const PHASE: Metric = gauge(
    "clp_fsmon_probe_phase_duration_seconds",
    "How long each phase of the last probe took.",
    Some("phase"),
);
const LAST_SUCCESS: Metric = gauge(
    "clp_fsmon_last_success_timestamp_seconds",
    "When a probe last succeeded, in seconds since the epoch.",
    None,
);
const SLOW: Metric = gauge(
    "clp_fsmon_slow",
    "1 while the slow-response warning (event 81) is up.",
    None,
);

/// Every metric, in the order the man page lists them.
pub static METRICS: [&Metric; 9] = [
    &STATE,
    &PROBES,
    &FAILURES,
    &LIMIT,
    &SUCCESS,
    &DURATION,
    &PHASE,
    &LAST_SUCCESS,
    &SLOW,
];

/// The labels every series has.
pub const LABELS: [&str; 3] = ["applet", "id", "target"];

/// One monitor as the exposition sees it: all of its board, or only who it is and its state
/// (stale, no answer).
pub(crate) enum Sample<'a> {
    /// A monitor that answered.
    Board(&'a Snapshot),
    /// A monitor known from the registry alone.
    State {
        /// Applet, ID, target.
        labels: [&'a str; 3],
        /// Stale or no answer.
        state: State,
    },
}

fn gauges(reg: &Registry, m: &Metric) -> prometheus::Result<GaugeVec> {
    let mut names = LABELS.to_vec();
    names.extend(m.label);
    let v = GaugeVec::new(Opts::new(m.name, m.help), &names)?;
    reg.register(Box::new(v.clone()))?;
    Ok(v)
}

/// The exposition of `samples`, each metric once with a series per monitor.
pub(crate) fn exposition(samples: &[Sample<'_>]) -> prometheus::Result<String> {
    let reg = Registry::new();
    let state = gauges(&reg, &STATE)?;
    let probes = IntCounterVec::new(Opts::new(PROBES.name, PROBES.help), &LABELS)?;
    reg.register(Box::new(probes.clone()))?;
    let failures = gauges(&reg, &FAILURES)?;
    let limit = gauges(&reg, &LIMIT)?;
    let success = gauges(&reg, &SUCCESS)?;
    let duration = gauges(&reg, &DURATION)?;
    let phase = gauges(&reg, &PHASE)?;
    let last_success = gauges(&reg, &LAST_SUCCESS)?;
    let slow = gauges(&reg, &SLOW)?;
    for sample in samples {
        let (labels, current) = match sample {
            Sample::Board(s) => ([s.applet.as_str(), &s.id, &s.target], s.state),
            Sample::State { labels, state } => (*labels, *state),
        };
        for st in State::ALL {
            let on = if st == current { 1.0 } else { 0.0 };
            state
                .with_label_values(&[labels[0], labels[1], labels[2], st.name()])
                .set(on);
        }
        let Sample::Board(s) = sample else { continue };
        probes.with_label_values(&labels).inc_by(s.probes);
        failures
            .with_label_values(&labels)
            .set(f64::from(s.failures));
        limit.with_label_values(&labels).set(f64::from(s.retries));
        slow.with_label_values(&labels)
            .set(if s.slow { 1.0 } else { 0.0 });
        if let Some(last) = &s.last {
            success
                .with_label_values(&labels)
                .set(if last.ok { 1.0 } else { 0.0 });
            duration
                .with_label_values(&labels)
                .set(last.latency_ms / 1000.0);
            for p in &last.phases {
                phase
                    .with_label_values(&[labels[0], labels[1], labels[2], &p.phase])
                    .set(p.ms / 1000.0);
            }
        }
        if let Some(t) = s
            .last_success
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 fit an f64 exactly
            let secs = t.timestamp_millis() as f64 / 1000.0;
            last_success.with_label_values(&labels).set(secs);
        }
    }
    let mut out = Vec::new();
    TextEncoder::new().encode(&reg.gather(), &mut out)?;
    String::from_utf8(out).map_err(|e| prometheus::Error::Msg(e.to_string()))
}

/// Checks, without writing, that the metrics file may be written at `path`: its directory is
/// one root alone may write (created when missing), as [`sys::atomic_write`] requires.
pub(crate) fn check_path(path: &Path) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| std::io::Error::other("the metrics file needs a directory"))?;
    sys::SafeDir::open(dir, dir, 0o755).map(drop)
}

#[derive(Debug, Default)]
struct Flags {
    /// The board changed since the last write.
    dirty: bool,
    /// The monitor is ending: write once more and stop.
    done: bool,
}

#[derive(Debug, Default)]
struct Shared {
    flags: Mutex<Flags>,
    wake: Condvar,
}

/// The `--metrics-file` writer of one monitor (see the module doc).
#[derive(Debug)]
pub(crate) struct MetricsFile {
    shared: Arc<Shared>,
    ended: mpsc::Receiver<()>,
}

impl MetricsFile {
    /// Starts the writer thread for `path`, rendering `board`; it writes the file at once.
    pub(crate) fn start(path: PathBuf, board: Board) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            flags: Mutex::new(Flags {
                dirty: true,
                done: false,
            }),
            wake: Condvar::new(),
        });
        let (ended_tx, ended) = mpsc::channel();
        let mine = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                write_loop(&path, &board, &mine);
                let _ = ended_tx.send(());
            })?;
        Ok(Self { shared, ended })
    }

    fn flag(&self, f: impl FnOnce(&mut Flags)) {
        f(&mut self
            .shared
            .flags
            .lock()
            .unwrap_or_else(PoisonError::into_inner));
        self.shared.wake.notify_one();
    }

    /// The board changed: the file is rewritten soon, by the writer thread.
    pub(crate) fn poke(&self) {
        self.flag(|f| f.dirty = true);
    }

    /// Writes the board once more (the monitor is ending) and waits at most `limit` for it.
    pub(crate) fn finish(self, limit: Duration) {
        self.flag(|f| f.done = true);
        let _ = self.ended.recv_timeout(limit);
    }
}

fn write_loop(path: &Path, board: &Board, shared: &Shared) {
    let mut failing = false;
    loop {
        let done = {
            let mut f = shared.flags.lock().unwrap_or_else(PoisonError::into_inner);
            while !f.dirty && !f.done {
                f = shared.wake.wait(f).unwrap_or_else(PoisonError::into_inner);
            }
            f.dirty = false;
            f.done
        };
        let snap = board.snapshot();
        let written = exposition(&[Sample::Board(&snap)])
            .map_err(std::io::Error::other)
            .and_then(|text| sys::atomic_write(path, text.as_bytes(), 0o644));
        match written {
            Ok(()) => failing = false,
            // Said once per run of failures: a full disk must not flood the console.
            Err(e) if !failing => {
                failing = true;
                tracing::warn!("--metrics-file {}: {e}", path.display());
                crate::errln!(
                    "{}: cannot write the metrics file {}: {e}",
                    snap.applet,
                    path.display()
                );
            }
            Err(_) => {}
        }
        if done {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Module;
    use crate::probe::{CheckLevel, PhaseTiming, ProbeReport};

    #[test]
    fn every_series_is_labelled_and_every_metric_named_once() {
        let board = Board::new(Snapshot::starting(
            Module::Sambamon,
            "w1",
            "sha\"re\\x",
            CheckLevel::Read,
        ));
        board.configure(|s| s.retries = 5);
        board.set_state(State::Monitoring);
        board.probe_started(1);
        board.probe_ok(&ProbeReport {
            summary: "ok".into(),
            phases: vec![
                PhaseTiming {
                    phase: "connect",
                    micros: 1500,
                },
                PhaseTiming {
                    phase: "negotiate",
                    micros: 2500,
                },
            ],
            total_micros: 4000,
        });
        let snap = board.snapshot();
        let text = exposition(&[
            Sample::Board(&snap),
            Sample::State {
                labels: ["clp_nfsmon", "n1", "/export"],
                state: State::Stale,
            },
        ])
        .unwrap();
        let labels = r#"applet="clp_sambamon",id="w1",target="sha\"re\\x""#;
        for want in [
            format!("clp_fsmon_probes_total{{{labels}}} 1"),
            format!("clp_fsmon_probe_success{{{labels}}} 1"),
            format!("clp_fsmon_probe_duration_seconds{{{labels}}} 0.004"),
            format!("clp_fsmon_failure_limit{{{labels}}} 5"),
            r#"clp_fsmon_probe_phase_duration_seconds{applet="clp_sambamon",id="w1",phase="negotiate",target="sha\"re\\x"} 0.0025"#
                .to_owned(),
            r#"clp_fsmon_state{applet="clp_sambamon",id="w1",state="monitoring",target="sha\"re\\x"} 1"#
                .to_owned(),
            r#"clp_fsmon_state{applet="clp_nfsmon",id="n1",state="stale",target="/export"} 1"#
                .to_owned(),
            r#"clp_fsmon_state{applet="clp_nfsmon",id="n1",state="monitoring",target="/export"} 0"#
                .to_owned(),
        ] {
            assert!(text.lines().any(|l| l == want), "{want}\nin\n{text}");
        }
        for m in METRICS {
            assert!(m.name.starts_with("clp_fsmon_"));
            assert_eq!(
                text.matches(&format!("# TYPE {} ", m.name)).count(),
                1,
                "{}\n{text}",
                m.name
            );
        }
        // The stale monitor has its state and nothing else.
        assert!(
            !text
                .lines()
                .any(|l| l.contains("id=\"n1\"") && !l.starts_with("clp_fsmon_state{"))
        );
    }

    #[test]
    fn the_file_is_written_at_start_on_a_poke_and_at_the_end() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m").join("w1.prom");
        let board = Board::new(Snapshot::starting(
            Module::Nfsmon,
            "w1",
            "/x",
            CheckLevel::Read,
        ));
        check_path(&path).unwrap();
        let m = MetricsFile::start(path.clone(), board.clone()).unwrap();
        let read = || std::fs::read_to_string(&path).unwrap_or_default();
        let has = |s: &str| {
            let end = std::time::Instant::now() + Duration::from_secs(5);
            while std::time::Instant::now() < end {
                if read().contains(s) {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            false
        };
        assert!(has(r#"state="starting",target="/x"} 1"#), "{}", read());
        board.set_state(State::Monitoring);
        board.probe_started(7);
        m.poke();
        assert!(has(
            r#"clp_fsmon_probes_total{applet="clp_nfsmon",id="w1",target="/x"} 7"#
        ));
        board.set_state(State::Stopping);
        m.finish(Duration::from_secs(5));
        assert!(
            read().contains(r#"state="stopping",target="/x"} 1"#),
            "{}",
            read()
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        // only the file is left: no temp file
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["w1.prom"]);
    }
}
