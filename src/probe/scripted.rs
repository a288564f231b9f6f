//! A scripted probe that succeeds, fails or hangs to a pattern: it drives the monitor loop in
//! tests so interval, retry count, deadline, pause and stop semantics are checked exactly,
//! independently of any real server.
//!
//! A script is a comma-separated list of steps, played in order; the last step repeats forever:
//! `ok`, `fail`, `hang` (ignores the deadline, ends only when the loop cancels it — this tests the
//! loop's backstop), `slow:MS` (succeeds after MS milliseconds, honouring the deadline).
//! `@PATH` instead reads the current step from the first line of PATH at every probe, so a test
//! can change the server's "health" while a monitor runs.
//!
//! The monitor applets use it only when `CLP_FSMON_TEST_PROBE` is set *and* the paths are
//! re-rooted (`CLP_FSMON_ROOT`), so it can never replace the real probe of an installed system.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::alert::{Alert, Event, Module};
use crate::probe::attempt::{self, micros};
use crate::probe::{CheckLevel, Probe, ProbeCtx, ProbeFailure, ProbeReport};

/// Environment variable holding the script.
#[cfg_attr(not(feature = "test-probe"), allow(dead_code))] // read only by the test build
pub(crate) const SCRIPT_ENV: &str = "CLP_FSMON_TEST_PROBE";

/// Why a script is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScriptError {
    /// A step that is none of the known ones.
    #[error("bad probe script step {0:?}")]
    Step(String),
    /// No step at all.
    #[error("empty probe script")]
    Empty,
}

/// The monitor's probe factory reports a refused script as text.
impl From<ScriptError> for String {
    fn from(e: ScriptError) -> Self {
        e.to_string()
    }
}

/// One step of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Succeed at once.
    Ok,
    /// Fail at once (connection refused).
    Fail,
    /// Never answer; return only when cancelled.
    Hang,
    /// Succeed after a delay, or time out at the deadline.
    Slow(Duration),
}

impl Step {
    fn parse(s: &str) -> Result<Self, ScriptError> {
        match s.trim() {
            "ok" => Ok(Self::Ok),
            "fail" => Ok(Self::Fail),
            "hang" => Ok(Self::Hang),
            other => other
                .strip_prefix("slow:")
                .and_then(|ms| ms.parse().ok())
                .map(|ms| Self::Slow(Duration::from_millis(ms)))
                .ok_or_else(|| ScriptError::Step(other.into())),
        }
    }
}

enum Source {
    Steps(Mutex<(Vec<Step>, usize)>),
    File(PathBuf),
}

/// The scripted probe.
pub(crate) struct ScriptedProbe {
    module: Module,
    target: String,
    source: Source,
    count: Mutex<u64>,
    /// The level it reports (`--check`); a script decides the verdict, not the level.
    pub(crate) check: CheckLevel,
}

impl ScriptedProbe {
    /// Parses a script (see the module doc).
    pub(crate) fn parse(module: Module, target: &str, script: &str) -> Result<Self, ScriptError> {
        let source = if let Some(path) = script.strip_prefix('@') {
            Source::File(PathBuf::from(path))
        } else {
            let steps = script
                .split(',')
                .map(Step::parse)
                .collect::<Result<Vec<_>, _>>()?;
            if steps.is_empty() {
                return Err(ScriptError::Empty);
            }
            Source::Steps(Mutex::new((steps, 0)))
        };
        Ok(Self {
            module,
            target: target.to_owned(),
            source,
            count: Mutex::new(0),
            check: CheckLevel::DEFAULT,
        })
    }

    /// How many probes have started.
    #[cfg(test)]
    pub(crate) fn probes_started(&self) -> u64 {
        *self.count.lock().unwrap()
    }

    fn next_step(&self) -> Step {
        match &self.source {
            Source::Steps(m) => {
                let mut g = m.lock().unwrap();
                let (steps, i) = &mut *g;
                let s = steps[(*i).min(steps.len() - 1)].clone();
                *i += 1;
                s
            }
            Source::File(p) => std::fs::read_to_string(p)
                .ok()
                .and_then(|t| Step::parse(t.lines().next().unwrap_or("")).ok())
                .unwrap_or(Step::Fail),
        }
    }

    fn failure(
        &self,
        phase: &'static str,
        status: String,
        event: Event,
        started: Instant,
    ) -> ProbeFailure {
        let alerts = match self.module {
            Module::Sambamon => vec![Alert::new(self.module, event, &[&111])],
            Module::Nfsmon => vec![
                Alert::new(
                    self.module,
                    Event::Detail,
                    &[&"RPC: Unable to receive: errno = Connection refused."],
                ),
                Alert::plain(self.module, Event::NfsError),
            ],
        };
        ProbeFailure {
            phase,
            status,
            alerts,
            phases: Vec::new(),
            total_micros: micros(started.elapsed()),
            detail: vec![("probe", "scripted".into())],
        }
    }
}

impl Probe for ScriptedProbe {
    fn module(&self) -> Module {
        self.module
    }

    fn target(&self) -> &str {
        &self.target
    }

    fn check(&self) -> CheckLevel {
        self.check
    }

    fn run(&self, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure> {
        *self.count.lock().unwrap() += 1;
        let started = Instant::now();
        let ok = |summary: &str| ProbeReport {
            summary: summary.into(),
            phases: Vec::new(),
            total_micros: micros(started.elapsed()),
        };
        match self.next_step() {
            Step::Ok => Ok(ok("scripted ok")),
            Step::Fail => Err(self.failure(
                "connect",
                "ECONNREFUSED (111)".into(),
                Event::NetConnectError,
                started,
            )),
            Step::Hang => {
                while !ctx.cancel.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(self.failure("hang", "cancelled".into(), Event::SelectError, started))
            }
            Step::Slow(d) => {
                let until = started + d;
                while Instant::now() < until {
                    if ctx.deadline.expired() || ctx.cancel.is_cancelled() {
                        return Err(self.failure(
                            "slow",
                            "timeout".into(),
                            Event::SelectError,
                            started,
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(ok("scripted slow ok"))
            }
        }
    }

    fn timeout_failure(&self, timeout: Duration) -> ProbeFailure {
        let alerts = match self.module {
            Module::Sambamon => vec![Alert::new(self.module, Event::SelectError, &[&110])],
            Module::Nfsmon => vec![
                Alert::new(self.module, Event::Detail, &[&"RPC: Timed out"]),
                Alert::plain(self.module, Event::NfsError),
            ],
        };
        attempt::abandoned(
            timeout,
            format!("no answer within {} s", timeout.as_secs_f64()),
            alerts,
            vec![("probe", "scripted".into())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_plays_in_order_and_repeats_last() {
        let p = ScriptedProbe::parse(Module::Sambamon, "s", "ok,fail").unwrap();
        let ctx = ProbeCtx::new(Duration::from_secs(1));
        assert!(p.run(&ctx).is_ok());
        assert!(p.run(&ctx).is_err());
        assert!(p.run(&ctx).is_err());
        assert_eq!(p.probes_started(), 3);
    }

    #[test]
    fn bad_steps_are_rejected() {
        assert!(ScriptedProbe::parse(Module::Nfsmon, "d", "ok,boom").is_err());
        assert!(ScriptedProbe::parse(Module::Nfsmon, "d", "slow:x").is_err());
        assert_eq!(
            ScriptedProbe::parse(Module::Nfsmon, "d", "ok,boom").err(),
            Some(ScriptError::Step("boom".into()))
        );
    }

    #[test]
    fn slow_step_honours_deadline() {
        let p = ScriptedProbe::parse(Module::Nfsmon, "d", "slow:2000").unwrap();
        let t = Instant::now();
        let r = p.run(&ProbeCtx::new(Duration::from_millis(50)));
        assert!(r.is_err());
        assert!(t.elapsed() < Duration::from_millis(500));
    }
}
