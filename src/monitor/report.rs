//! How a monitor writes down what happened: the fault log (one line per start, failed probe,
//! pause, stop and fault, for the administrator after a failover), the text of a probe's phases
//! and failure, and the alert that stands for a licence refusal. One place, so the fault log,
//! `--once` and the status answer render a probe the same way.

use std::fmt::Write as _;

use crate::alert::{Alert, Alerter, Event, Module, us_date};
use crate::license::Refusal;
use crate::probe::ProbeFailure;

/// Appends fault-log lines for one monitor (`<log>/fault-<module>.log`). The lines are
/// stamped here and written by the alert sink thread ([`Alerter::append`]), in order with the
/// monitor's alerts, so the log's lock wait never holds up the monitor loop.
pub(crate) struct FaultLog {
    pub(crate) path: std::path::PathBuf,
    pub(crate) id: String,
}

impl FaultLog {
    pub(crate) fn write(&self, to: &Alerter, what: &str) {
        let line = format!(
            "{} id={} pid={} {what}\n",
            chrono::Local::now().format("%Y-%m-%dT%H:%M:%S%.3f%:z"),
            self.id,
            std::process::id()
        );
        to.append(&self.path, line);
        tracing::info!("{}", what);
    }
}

/// Renders phases as `connect=0.120ms,negotiate=1.042ms`.
pub(crate) fn phases_text(phases: &[crate::probe::PhaseTiming]) -> String {
    phases
        .iter()
        .map(|p| format!("{}={:.3}ms", p.phase, ms(p.micros)))
        .collect::<Vec<_>>()
        .join(",")
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

pub(crate) fn failure_text(f: &ProbeFailure) -> String {
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
pub(crate) fn refusal_alert(module: Module, r: &Refusal) -> Alert {
    match r {
        Refusal::NotRegistered => Alert::plain(module, Event::LicenseNotRegistered),
        Refusal::Expired(d) => Alert::new(module, Event::TrialExpired, &[&us_date(*d)]),
        Refusal::NotYetValid(d) => Alert::new(module, Event::TrialNotStarted, &[&us_date(*d)]),
        Refusal::Overlap => Alert::plain(module, Event::LicenseOverlap),
        Refusal::Unreadable(_) => Alert::plain(module, Event::LicenseCheckFailed),
    }
}
