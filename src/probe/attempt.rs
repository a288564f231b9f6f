//! The shape of one probe attempt, the same for every probe: a phase clock that also feeds the
//! monitor loop's view of the probe ([`crate::probe::Progress`]), the facts gathered for the
//! fault log, and the two ends an attempt can have — a [`ProbeReport`] or a [`ProbeFailure`]
//! that names the phase it failed in, with the time spent up to and in that phase.
//!
//! The probes differ in what they do and in how they word a failure (NT status and errno for
//! SMB, `clnt_sperror` texts for NFS), not in how an attempt is timed and reported; so the timing
//! and the report are built here once, and a probe supplies only the phase, the status and the
//! alerts. [`abandoned`] is the shape of the failure the loop reports for a probe it had to cut
//! at its deadline.

use std::time::{Duration, Instant};

use crate::alert::Alert;
use crate::probe::{PhaseTiming, ProbeCtx, ProbeFailure, ProbeReport, Progress};

/// One probe attempt in progress: its clock and the facts for the fault log.
#[derive(Debug)]
pub(crate) struct Attempt {
    clock: PhaseClock,
    detail: Vec<(&'static str, String)>,
}

impl Attempt {
    /// Starts an attempt of the probe `ctx`, with the facts known before it starts (the server).
    pub(crate) fn start(ctx: &ProbeCtx, detail: Vec<(&'static str, String)>) -> Self {
        Self {
            clock: PhaseClock::for_ctx(ctx),
            detail,
        }
    }

    /// Ends the current phase under `phase`.
    pub(crate) fn lap(&mut self, phase: &'static str) {
        self.clock.lap(phase);
    }

    /// Adds a fact for the fault log (dialect, port…).
    pub(crate) fn note(&mut self, key: &'static str, value: impl Into<String>) {
        self.detail.push((key, value.into()));
    }

    /// Time since the attempt started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.clock.total()
    }

    /// The report of an attempt that succeeded.
    pub(crate) fn succeed(self, summary: String) -> ProbeReport {
        ProbeReport {
            summary,
            total_micros: micros(self.clock.total()),
            phases: self.clock.phases,
        }
    }

    /// The failure of an attempt in `phase` (timed as the last phase), with its status and the
    /// alerts it stands for.
    pub(crate) fn fail(
        mut self,
        phase: &'static str,
        status: String,
        alerts: Vec<Alert>,
    ) -> ProbeFailure {
        self.clock.lap(phase);
        ProbeFailure {
            phase,
            status,
            alerts,
            total_micros: micros(self.clock.total()),
            phases: self.clock.phases,
            detail: self.detail,
        }
    }
}

/// The failure that stands for a probe the monitor loop abandoned after `timeout` (phase
/// `wait`: which phase it was stuck in is known to the loop, not to the probe).
pub(crate) fn abandoned(
    timeout: Duration,
    status: String,
    alerts: Vec<Alert>,
    detail: Vec<(&'static str, String)>,
) -> ProbeFailure {
    ProbeFailure {
        phase: "wait",
        status,
        alerts,
        phases: Vec::new(),
        total_micros: micros(timeout),
        detail,
    }
}

/// Records phase latencies as a probe goes.
#[derive(Debug)]
pub(crate) struct PhaseClock {
    started: Instant,
    phase_start: Instant,
    /// Phases completed so far.
    pub(crate) phases: Vec<PhaseTiming>,
    progress: Option<Progress>,
}

impl Default for PhaseClock {
    fn default() -> Self {
        Self::new()
    }
}

impl PhaseClock {
    /// Starts the clock.
    pub(crate) fn new() -> Self {
        let now = Instant::now();
        Self {
            started: now,
            phase_start: now,
            phases: Vec::new(),
            progress: None,
        }
    }

    /// Starts the clock and reports every completed phase to `ctx`'s progress as well.
    pub(crate) fn for_ctx(ctx: &ProbeCtx) -> Self {
        Self {
            progress: Some(ctx.progress.clone()),
            ..Self::new()
        }
    }

    /// Ends the current phase under `name` and starts the next.
    pub(crate) fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        let t = PhaseTiming {
            phase: name,
            micros: micros(now - self.phase_start),
        };
        if let Some(p) = &self.progress {
            p.push(t.clone());
        }
        self.phases.push(t);
        self.phase_start = now;
    }

    /// Time since the probe started.
    pub(crate) fn total(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Microseconds of a duration, saturating.
pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Event, Module};

    #[test]
    fn an_attempt_reports_its_phases_to_the_loop_and_in_its_end() {
        let ctx = ProbeCtx::new(Duration::from_secs(5));
        let mut a = Attempt::start(&ctx, vec![("server", "s:1".into())]);
        a.lap("connect");
        a.note("dialect", "SMB 3.1.1");
        assert_eq!(ctx.progress.completed().len(), 1);
        let alert = Alert::new(Module::Sambamon, Event::SelectError, &[&110]);
        let f = a.fail("negotiate", "ETIMEDOUT (110)".into(), vec![alert]);
        let phases: Vec<_> = f.phases.iter().map(|p| p.phase).collect();
        assert_eq!(
            (f.phase, &phases[..]),
            ("negotiate", &["connect", "negotiate"][..])
        );
        assert_eq!(
            f.detail,
            [("server", "s:1".into()), ("dialect", "SMB 3.1.1".into())]
        );
        assert_eq!(ctx.progress.completed().len(), 2);
        assert!(f.total_micros >= f.phases.iter().map(|p| p.micros).sum::<u64>());

        let mut a = Attempt::start(&ProbeCtx::new(Duration::from_secs(5)), Vec::new());
        a.lap("connect");
        let r = a.succeed("ok".into());
        assert_eq!((r.summary.as_str(), r.phases.len()), ("ok", 1));
    }

    #[test]
    fn an_abandoned_probe_took_its_whole_timeout() {
        let f = abandoned(
            Duration::from_millis(1500),
            "t".into(),
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(
            (f.phase, f.total_micros, f.phases.len()),
            ("wait", 1_500_000, 0)
        );
    }
}
