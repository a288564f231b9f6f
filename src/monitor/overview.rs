//! `clp-fsmon status [--json|--prometheus]`: every monitor of this server, of both applets, at a
//! glance — one aligned line each, one JSON object with a `monitors` array, or the Prometheus
//! exposition of them all ([`super::metrics`]).
//!
//! The registries say which monitors there are (a stale entry is listed as stale, from what its
//! entry recorded); each live monitor is asked for its board over its control socket (the
//! `report` request, [`super::control`]) and is given [`ANSWER_LIMIT`] for the whole exchange:
//! one that does not answer in time is listed as "no answer". The questions go out side by side,
//! from a work queue served by at most [`PARALLEL`] threads (this one included), so a frozen
//! monitor holds up one thread for its bound while the others go on: a listing takes about one
//! bound per [`PARALLEL`] frozen monitors, and the command never hangs on one.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use super::board::{Snapshot, State};
use super::control::{self, Request};
use super::metrics::{self, Sample};
use super::registry::{Entry, Liveness, Registry};
use crate::alert::Module;
use crate::exit::Exit;
use crate::paths::Paths;

/// How long one monitor has to answer, connect to last byte.
pub const ANSWER_LIMIT: Duration = Duration::from_millis(100);

/// Monitors asked at once.
const PARALLEL: usize = 64;

/// How `status` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One aligned line per monitor, under a header.
    Lines,
    /// `{"monitors": […]}`.
    Json,
    /// The Prometheus text exposition.
    Prometheus,
}

/// One monitor of the listing.
#[derive(Debug)]
enum Row {
    /// It answered: its board.
    Answer(Box<Snapshot>),
    /// Known from the registry only.
    Silent {
        applet: &'static str,
        id: String,
        pid: Option<u32>,
        target: String,
        started: Option<String>,
        state: State,
    },
}

/// What the registry says of one ID.
struct Found {
    module: Module,
    id: String,
    entry: Option<Entry>,
    sock: std::path::PathBuf,
    /// Alive (the lock is held), else stale.
    alive: bool,
}

fn silent(f: &Found, state: State) -> Row {
    Row::Silent {
        applet: f.module.applet(),
        id: f.id.clone(),
        pid: f.entry.as_ref().map(|e| e.pid),
        target: f
            .entry
            .as_ref()
            .map(|e| e.target.clone())
            .unwrap_or_default(),
        started: f.entry.as_ref().map(|e| e.started.clone()),
        state,
    }
}

/// Asks one live monitor for its board.
fn ask(f: &Found) -> Row {
    if !f.alive {
        return silent(f, State::Stale);
    }
    match control::send(&f.sock, Request::Report, ANSWER_LIMIT) {
        Ok(json) => match serde_json::from_str::<Snapshot>(&json) {
            Ok(s) => Row::Answer(Box::new(s)),
            Err(_) => silent(f, State::NoAnswer),
        },
        // No socket yet: the monitor has claimed its ID and is still setting up.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => silent(f, State::Starting),
        Err(_) => silent(f, State::NoAnswer),
    }
}

/// Every monitor of both applets, in applet then ID order.
fn collect(paths: &Paths) -> std::io::Result<Vec<Row>> {
    let mut found = Vec::new();
    for module in [Module::Sambamon, Module::Nfsmon] {
        let registry = Registry::new(paths, module);
        for id in registry.ids()? {
            let (entry, alive) = match registry.status(&id)? {
                Liveness::Alive(e) => (e, true),
                Liveness::Stale(Some(e)) => (Some(e), false),
                // Nothing but a pending stop intent, or gone meanwhile: no monitor.
                Liveness::Stale(None) | Liveness::Absent => continue,
            };
            found.push(Found {
                module,
                sock: registry.socket_path(&id),
                id,
                entry,
                alive,
            });
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    // A work queue: each thread takes the next monitor as soon as it is done with one, so a
    // frozen monitor holds one thread for its bound while the others go on.
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(f) = found.get(i) else { break };
            mine.push((i, ask(f)));
        }
        mine
    };
    let mut rows: Vec<(usize, Row)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL.min(found.len()))
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("status".into())
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        // No thread to be had: this one asks them all, one after the other.
        let mut rows = work();
        for w in workers {
            rows.extend(w.join().unwrap_or_default());
        }
        rows
    });
    rows.sort_by_key(|(i, _)| *i);
    let rows = rows.into_iter().map(|(_, r)| r).collect();
    Ok(rows)
}

/// `-` for what is not known.
fn or_dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "-".into())
}

/// An RFC 3339 time as `2026-12-01T12:00:01`, local time, to the second.
fn short_time(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t).map_or_else(
        |_| t.to_owned(),
        |d| {
            d.with_timezone(&chrono::Local)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        },
    )
}

/// Milliseconds to a tenth, or to a hundredth below 10 ms (a local NFS probe takes half of one).
fn ms_text(v: f64) -> String {
    if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The columns of the human listing.
const HEADER: [&str; 12] = [
    "APPLET",
    "ID",
    "PID",
    "STATE",
    "TARGET",
    "CHECK",
    "FAILURES",
    "PROBES",
    "P50/P95/MAX MS",
    "LAST SUCCESS",
    "SINCE",
    "LAST RESULT",
];

fn cells(r: &Row) -> [String; 12] {
    match r {
        Row::Answer(s) => {
            let last = s.last.as_ref().map(|l| {
                let verdict = if l.ok { "ok" } else { "fail" };
                let phase = if l.phase.is_empty() { "-" } else { &l.phase };
                format!(
                    "{verdict} {phase} {} ms: {}",
                    ms_text(l.latency_ms),
                    l.status
                )
            });
            let percentiles = s
                .latency_ms
                .as_ref()
                .map(|p| format!("{}/{}/{}", ms_text(p.p50), ms_text(p.p95), ms_text(p.max)));
            let state = if s.slow && s.state == State::Monitoring {
                format!("{} (slow)", s.state)
            } else {
                s.state.name().to_owned()
            };
            [
                s.applet.clone(),
                s.id.clone(),
                s.pid.to_string(),
                state,
                s.target.clone(),
                s.check.clone(),
                format!("{}/{}", s.failures, s.retries),
                s.probes.to_string(),
                or_dash(percentiles),
                or_dash(s.last_success.as_deref().map(short_time)),
                short_time(&s.started),
                or_dash(last),
            ]
        }
        Row::Silent {
            applet,
            id,
            pid,
            target,
            started,
            state,
        } => [
            (*applet).to_owned(),
            id.clone(),
            or_dash(pid.map(|p| p.to_string())),
            state.name().to_owned(),
            or_dash(Some(target.clone())),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            or_dash(started.as_deref().map(short_time)),
            "-".into(),
        ],
    }
}

/// The header and one line per monitor, each column as wide as its widest cell.
fn lines(rows: &[Row]) -> String {
    let table: Vec<[String; 12]> = std::iter::once(HEADER.map(str::to_owned))
        .chain(rows.iter().map(cells))
        .collect();
    let mut width = [0usize; 12];
    for row in &table {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in &table {
        let mut line = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(c);
            } else {
                let _ = write!(line, "{c:<w$}  ", w = width[i]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn json_of(rows: &[Row]) -> serde_json::Value {
    let monitors: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| match r {
            Row::Answer(s) => serde_json::to_value(s).unwrap_or_default(),
            Row::Silent {
                applet,
                id,
                pid,
                target,
                started,
                state,
            } => json!({
                "applet": applet,
                "id": id,
                "pid": pid,
                "state": state,
                "target": target,
                "started": started,
            }),
        })
        .collect();
    json!({ "monitors": monitors })
}

fn prometheus_of(rows: &[Row]) -> prometheus::Result<String> {
    let samples: Vec<Sample<'_>> = rows
        .iter()
        .map(|r| match r {
            Row::Answer(s) => Sample::Board(s),
            Row::Silent {
                applet,
                id,
                target,
                state,
                ..
            } => Sample::State {
                labels: [applet, id, target],
                state: *state,
            },
        })
        .collect();
    metrics::exposition(&samples)
}

/// `clp-fsmon status`: prints every monitor in `format`.
pub fn run(paths: &Paths, format: Format) -> Exit {
    let rows = match collect(paths) {
        Ok(r) => r,
        Err(e) => {
            crate::errln!(
                "clp-fsmon: status: cannot read the registry in {}: {e}",
                paths.state_dir().display()
            );
            return Exit::System;
        }
    };
    match format {
        Format::Lines if rows.is_empty() => {
            crate::errln!("clp-fsmon: no monitor is registered on this server");
        }
        Format::Lines => crate::out!("{}", lines(&rows)),
        Format::Json => crate::outln!("{}", json_of(&rows)),
        Format::Prometheus => match prometheus_of(&rows) {
            Ok(text) => crate::out!("{text}"),
            Err(e) => {
                crate::errln!("clp-fsmon: status: {e}");
                return Exit::System;
            }
        },
    }
    Exit::Ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::CheckLevel;

    #[test]
    fn lines_are_aligned_and_unknowns_are_dashes() {
        let mut s = Snapshot::starting(Module::Sambamon, "w1", "my share", CheckLevel::Read);
        s.state = State::Monitoring;
        s.retries = 5;
        s.probes = 12;
        let rows = [
            Row::Answer(Box::new(s)),
            Row::Silent {
                applet: "clp_nfsmon",
                id: "longer1".into(),
                pid: Some(4242),
                target: "/export".into(),
                started: None,
                state: State::Stale,
            },
        ];
        let out = lines(&rows);
        let l: Vec<&str> = out.lines().collect();
        assert_eq!(l.len(), 3, "{out}");
        assert!(l[0].starts_with("APPLET        ID       PID"), "{out}");
        // every column starts where its header does
        let col = |line: &str, h: &str| line.find(h).unwrap();
        let at = col(l[0], "STATE");
        assert_eq!(&l[1][at..at + 10], "monitoring");
        assert_eq!(&l[2][at..at + 5], "stale");
        let at = col(l[0], "FAILURES");
        assert_eq!(&l[1][at..at + 3], "0/5");
        assert_eq!(&l[2][at..=at], "-");
        assert!(l[1].contains("my share"));
        let j = json_of(&rows);
        assert_eq!(j["monitors"][1]["state"], "stale");
        assert_eq!(j["monitors"][0]["failures"], 0);
        assert_eq!(j["monitors"][1]["pid"], 4242);
    }
}
