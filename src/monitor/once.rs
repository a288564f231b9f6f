//! `--once`: one probe through the same path as the loop, answered the monitoring-plugin way —
//! one line (or one JSON object) on stdout and the plugin status (0 OK, 2 CRITICAL, 3 UNKNOWN) —
//! for Nagios-style health checkers, CTDB event scripts and the like. It claims no ID and raises
//! no alert: a health checker reads the verdict it is given.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use super::engine::probe_once;
use super::report::{ms, phases_text, refusal_alert};
use crate::alert::Alert;
use crate::cli::{MonitorArgs, OnceOutput};
use crate::exit::PluginStatus;
use crate::license::{self, Refusal};
use crate::paths::Paths;
use crate::probe::Probe;

/// `--once` could not probe (a usage error, a refused licence): the plugin verdict UNKNOWN on
/// stdout — `APPLET UNKNOWN - <alert text> (<why>)`, or one JSON object with `--json` — and no
/// alert, for a health checker reads the verdict it is given and a check that is set up wrong
/// must not flood the alert log.
pub(crate) fn once_unknown(output: OnceOutput, alert: &Alert, why: Option<&str>) -> PluginStatus {
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
    status
}

/// `--once`: one probe through the same path as the loop, a plugin-style line (or JSON), and a
/// plugin exit status.
fn run_once(probe: &Arc<dyn Probe>, m: &MonitorArgs) -> PluginStatus {
    let (tx, rx) = mpsc::channel();
    let timeout = Duration::from_secs(u64::from(m.timeout));
    let r = probe_once(probe, timeout, 1, &tx, &rx, &mut |_, _| false)
        .expect("no control channel in --once");
    let applet = probe.module().applet();
    let check = probe.check();
    let (status, line, json) = match &r {
        Ok(rep) => (
            PluginStatus::Ok,
            format!(
                "{applet} OK - {} [{}] check={check} {} | time={:.6}s",
                probe.target(),
                rep.summary,
                phases_text(&rep.phases),
                ms(rep.total_micros) / 1000.0
            ),
            serde_json::json!({"status": "OK", "target": probe.target(), "check": check, "report": rep}),
        ),
        Err(f) => (
            PluginStatus::Critical,
            format!(
                "{applet} CRITICAL - {} {}: {} ({}) check={check} | time={:.6}s",
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
                "check": check,
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
    status
}

/// `--once` with its licence check (bounded by [`license::CHECK_LIMIT`]): a refused licence, or
/// a check that did not end in time, is UNKNOWN, told on stdout.
pub(crate) fn main(
    module: crate::alert::Module,
    paths: &Paths,
    probe: &Arc<dyn Probe>,
    m: &MonitorArgs,
    output: OnceOutput,
) -> PluginStatus {
    let today = chrono::Local::now().date_naive();
    if let Err(r) = license::check_monitor_within(paths, module.applet(), today) {
        let why = match &r {
            Refusal::Unreadable(why) => Some(why.as_str()),
            _ => None,
        };
        return once_unknown(output, &refusal_alert(module, &r), why);
    }
    run_once(probe, m)
}
