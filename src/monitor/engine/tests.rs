//! Loop semantics, driven by the scripted probe: retry count, reset on success, interval,
//! per-probe deadline, pause/continue and stop, `--first-wait`, the slow-response warning, and
//! what the board shows meanwhile — exact counts, no real server.

use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::alert::Module;
use crate::monitor::board::Snapshot;

use crate::probe::scripted::ScriptedProbe;

#[derive(Debug, Clone, PartialEq)]
enum Ev {
    Started(u64, Duration),
    Ok(bool),
    Failed(u32, u32, u64),
    /// A failure within `--first-wait`.
    Uncounted,
    Slow,
    Normal,
    Paused,
    Resumed,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn probe(script: &str) -> Arc<dyn Probe> {
    Arc::new(ScriptedProbe::parse(Module::Sambamon, "share", script).unwrap())
}

/// Runs the loop on a thread; returns the control sender and a join handle with the events.
type Outcome = (LoopEnd, Vec<Ev>, Duration);

fn spawn(script: &str, cfg: LoopConfig) -> (Sender<Msg>, thread::JoinHandle<Outcome>) {
    let (tx, _board, h) = spawn_with_board(script, cfg);
    (tx, h)
}

/// [`spawn`], and the board the loop writes.
fn spawn_with_board(
    script: &str,
    cfg: LoopConfig,
) -> (Sender<Msg>, Board, thread::JoinHandle<Outcome>) {
    let p = probe(script);
    let (tx, rx) = mpsc::channel();
    let tx2 = tx.clone();
    let mut snap = Snapshot::starting(Module::Sambamon, "t1", "share", p.check());
    snap.retries = cfg.retries;
    let board = Board::new(snap);
    let b2 = board.clone();
    let h = thread::spawn(move || {
        let t0 = Instant::now();
        let mut evs = Vec::new();
        let end = run_loop(&p, cfg, &b2, &tx, &rx, &mut |e| {
            evs.push(match e {
                LoopEvent::ProbeStarted(n) => Ev::Started(n, t0.elapsed()),
                LoopEvent::ProbeOk { first, .. } => Ev::Ok(first),
                LoopEvent::ProbeFailed { counted: false, .. } => Ev::Uncounted,
                LoopEvent::ProbeFailed { failure, k, c, .. } => {
                    Ev::Failed(k, c, failure.total_micros)
                }
                LoopEvent::Slow { .. } => Ev::Slow,
                LoopEvent::Normal { .. } => Ev::Normal,
                LoopEvent::Paused => Ev::Paused,
                LoopEvent::Resumed => Ev::Resumed,
            });
        });
        (end, evs, t0.elapsed())
    });
    (tx2, board, h)
}

fn control(tx: &Sender<Msg>, cmd: ControlCmd) -> String {
    let (rtx, rrx) = mpsc::channel();
    tx.send(Msg::Control(cmd, rtx)).unwrap();
    rrx.recv_timeout(Duration::from_secs(2)).unwrap()
}

fn cfg(interval: u64, retries: u32, timeout: u64) -> LoopConfig {
    LoopConfig {
        interval: ms(interval),
        retries,
        timeout: ms(timeout),
        start_paused: false,
        // as --warn 100: only a probe over its deadline would be slow
        slow_after: ms(timeout),
        first_wait: Duration::ZERO,
    }
}

fn started(evs: &[Ev]) -> Vec<Duration> {
    evs.iter()
        .filter_map(|e| match e {
            Ev::Started(_, t) => Some(*t),
            _ => None,
        })
        .collect()
}

#[test]
fn fault_after_exactly_c_consecutive_failures() {
    let (_tx, h) = spawn("ok,fail", cfg(10, 3, 1000));
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Fault(_)));
    let kinds: Vec<_> = evs
        .iter()
        .filter(|e| !matches!(e, Ev::Started(..)))
        .cloned()
        .collect();
    assert_eq!(kinds[0], Ev::Ok(true));
    assert!(matches!(kinds[1], Ev::Failed(1, 3, _)));
    assert!(matches!(kinds[2], Ev::Failed(2, 3, _)));
    assert!(matches!(kinds[3], Ev::Failed(3, 3, _)));
    assert_eq!(kinds.len(), 4);
    assert_eq!(started(&evs).len(), 4);
}

#[test]
fn success_resets_the_count() {
    let (_tx, h) = spawn("fail,fail,ok,fail,fail,ok,fail,fail,fail", cfg(5, 3, 1000));
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Fault(_)));
    let ks: Vec<u32> = evs
        .iter()
        .filter_map(|e| match e {
            Ev::Failed(k, ..) => Some(*k),
            Ev::Ok(_) => Some(0),
            _ => None,
        })
        .collect();
    assert_eq!(ks, vec![1, 2, 0, 1, 2, 0, 1, 2, 3]);
    // Event 2 (first success) only once.
    assert_eq!(evs.iter().filter(|e| **e == Ev::Ok(true)).count(), 1);
}

#[test]
fn probes_are_interval_apart() {
    let (tx, h) = spawn("ok", cfg(150, 1, 1000));
    thread::sleep(ms(700));
    assert_eq!(control(&tx, ControlCmd::Stop), "ok stopping");
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Stopped));
    let t = started(&evs);
    assert!((4..=6).contains(&t.len()), "{t:?}");
    for w in t.windows(2) {
        let gap = w[1].checked_sub(w[0]).unwrap();
        assert!(gap >= ms(150) && gap < ms(300), "gap {gap:?}");
    }
}

#[test]
fn hanging_probe_is_cut_at_the_deadline() {
    let (_tx, h) = spawn("hang", cfg(10, 2, 300));
    let (end, evs, total) = h.join().unwrap();
    let LoopEnd::Fault(f) = end else { panic!() };
    assert_eq!(f.phase, "wait");
    let fails: Vec<u64> = evs
        .iter()
        .filter_map(|e| match e {
            Ev::Failed(_, _, us) => Some(*us),
            _ => None,
        })
        .collect();
    assert_eq!(fails.len(), 2);
    let t = started(&evs);
    let gap = t[1].checked_sub(t[0]).unwrap();
    // cut at r (+ grace), then the interval
    assert!(
        gap >= ms(300 + 10) && gap < ms(300 + 100 + 10 + 120),
        "gap {gap:?}"
    );
    assert!(total < ms(2 * 300 + 2 * 100 + 10 + 300), "total {total:?}");
}

#[test]
fn stop_during_a_hanging_probe_is_prompt() {
    let (tx, h) = spawn("hang", cfg(10, 5, 30_000));
    thread::sleep(ms(200));
    let t = Instant::now();
    assert_eq!(control(&tx, ControlCmd::Stop), "ok stopping");
    let (end, evs, _) = h.join().unwrap();
    assert!(t.elapsed() < ms(200), "stop took {:?}", t.elapsed());
    assert!(matches!(end, LoopEnd::Stopped));
    assert_eq!(started(&evs).len(), 1);
}

#[test]
fn pause_suspends_probing_and_continue_resumes_at_once() {
    let (tx, board, h) = spawn_with_board("ok", cfg(100, 1, 1000));
    thread::sleep(ms(50));
    assert_eq!(control(&tx, ControlCmd::Pause), "ok paused");
    // a second pause is acknowledged but raises no second event
    assert_eq!(control(&tx, ControlCmd::Pause), "ok paused");
    let status = board.snapshot().line();
    assert!(status.contains("state=paused"), "{status}");
    thread::sleep(ms(500));
    let before = Instant::now();
    assert_eq!(control(&tx, ControlCmd::Continue), "ok monitoring");
    thread::sleep(ms(50));
    assert_eq!(control(&tx, ControlCmd::Stop), "ok stopping");
    let (_, evs, _) = h.join().unwrap();
    let _ = before;
    let paused_at = evs.iter().position(|e| *e == Ev::Paused).unwrap();
    let resumed_at = evs.iter().position(|e| *e == Ev::Resumed).unwrap();
    assert_eq!(evs.iter().filter(|e| **e == Ev::Paused).count(), 1);
    // no probe started while paused
    assert!(
        evs[paused_at..resumed_at]
            .iter()
            .all(|e| !matches!(e, Ev::Started(..)))
    );
    // a probe starts right after continue
    assert!(
        matches!(evs.get(resumed_at + 1), Some(Ev::Started(..))),
        "{evs:?}"
    );
}

#[test]
fn a_loop_started_paused_waits_for_continue() {
    let mut c = cfg(50, 1, 1000);
    c.start_paused = true;
    let (tx, board, h) = spawn_with_board("ok", c);
    thread::sleep(ms(300));
    let status = board.snapshot().line();
    assert!(status.contains("state=paused"), "{status}");
    assert!(status.contains("probes=0"), "{status}");
    // already paused: acknowledged, no event
    assert_eq!(control(&tx, ControlCmd::Pause), "ok paused");
    assert_eq!(control(&tx, ControlCmd::Continue), "ok monitoring");
    thread::sleep(ms(50));
    assert_eq!(control(&tx, ControlCmd::Stop), "ok stopping");
    let (_, evs, _) = h.join().unwrap();
    assert_eq!(evs.first(), Some(&Ev::Resumed), "{evs:?}");
    assert!(matches!(evs.get(1), Some(Ev::Started(1, _))), "{evs:?}");
}

#[test]
fn failures_while_paused_do_not_count() {
    // The probe hangs; pause arrives mid-probe, so its (timeout) result is discarded.
    let (tx, h) = spawn("hang", cfg(10, 1, 300));
    thread::sleep(ms(100));
    control(&tx, ControlCmd::Pause);
    thread::sleep(ms(500));
    control(&tx, ControlCmd::Stop);
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Stopped), "{evs:?}");
    assert!(!evs.iter().any(|e| matches!(e, Ev::Failed(..))), "{evs:?}");
}

/// Completes "connect", then hangs ignoring its deadline.
struct StuckAfterConnect;

impl Probe for StuckAfterConnect {
    fn module(&self) -> Module {
        Module::Sambamon
    }
    fn target(&self) -> &'static str {
        "share"
    }
    fn check(&self) -> crate::probe::CheckLevel {
        crate::probe::CheckLevel::Connect
    }
    fn run(&self, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure> {
        let mut clock = crate::probe::PhaseClock::for_ctx(ctx);
        clock.lap("connect");
        while !ctx.cancel.is_cancelled() {
            thread::sleep(ms(5));
        }
        Err(self.timeout_failure(ms(0)))
    }
    fn timeout_failure(&self, _timeout: Duration) -> ProbeFailure {
        ProbeFailure {
            phase: "wait",
            status: "no answer".into(),
            alerts: Vec::new(),
            phases: Vec::new(),
            total_micros: 0,
            detail: Vec::new(),
        }
    }
}

#[test]
fn a_cut_probe_keeps_the_phases_it_completed() {
    let p: Arc<dyn Probe> = Arc::new(StuckAfterConnect);
    let (tx, rx) = mpsc::channel();
    let r = probe_once(&p, ms(150), 1, &tx, &rx, &mut |_, _| false);
    let f = r.unwrap().unwrap_err();
    assert_eq!(f.phases.len(), 1);
    assert_eq!(f.phases[0].phase, "connect");
    assert!(
        f.status.contains("cut by the monitor after phase connect"),
        "{}",
        f.status
    );
}

#[test]
fn continue_starts_the_count_afresh() {
    let (tx, board, h) = spawn_with_board("fail", cfg(100, 3, 1000));
    // two failures, then a maintenance window
    assert!(wait_for_failures(&board, 2));
    control(&tx, ControlCmd::Pause);
    control(&tx, ControlCmd::Continue);
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Fault(_)));
    let resumed = evs.iter().position(|e| *e == Ev::Resumed).unwrap();
    let after: Vec<u32> = evs[resumed..]
        .iter()
        .filter_map(|e| match e {
            Ev::Failed(k, ..) => Some(*k),
            _ => None,
        })
        .collect();
    assert_eq!(after, vec![1, 2, 3], "{evs:?}");
}

/// Polls the loop's board until it shows `n` consecutive failures.
fn wait_for_failures(board: &Board, n: u32) -> bool {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if board.snapshot().failures == n {
            return true;
        }
        thread::sleep(ms(5));
    }
    false
}

#[test]
fn continue_without_pause_changes_nothing() {
    let (tx, h) = spawn("ok", cfg(400, 1, 1000));
    thread::sleep(ms(50));
    assert_eq!(control(&tx, ControlCmd::Continue), "ok monitoring");
    thread::sleep(ms(200));
    control(&tx, ControlCmd::Stop);
    let (_, evs, _) = h.join().unwrap();
    assert_eq!(started(&evs).len(), 1, "{evs:?}");
    assert!(!evs.contains(&Ev::Resumed));
}

/// The events after the probe events are dropped: what the loop reported, in order.
fn verdicts(evs: &[Ev]) -> Vec<Ev> {
    evs.iter()
        .filter(|e| !matches!(e, Ev::Started(..)))
        .map(|e| match e {
            Ev::Failed(k, c, _) => Ev::Failed(*k, *c, 0),
            other => other.clone(),
        })
        .collect()
}

fn slow_cfg(retries: u32) -> LoopConfig {
    let mut c = cfg(5, retries, 2000);
    c.slow_after = ms(100);
    c
}

#[test]
fn three_slow_successes_in_a_row_warn_once_and_a_fast_one_clears_it() {
    let (_tx, board, h) = spawn_with_board(
        "slow:150,slow:150,slow:150,slow:150,slow:150,ok,ok,fail,fail",
        slow_cfg(2),
    );
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Fault(_)), "{evs:?}");
    assert_eq!(
        verdicts(&evs),
        [
            Ev::Ok(true),
            Ev::Ok(false),
            Ev::Ok(false),
            Ev::Slow,
            Ev::Ok(false),
            Ev::Ok(false),
            Ev::Ok(false),
            Ev::Normal,
            Ev::Ok(false),
            Ev::Failed(1, 2, 0),
            Ev::Failed(2, 2, 0),
        ]
    );
    let s = board.snapshot();
    assert!(!s.slow);
    assert_eq!(s.state, State::Stopping);
    assert_eq!((s.failures, s.probes), (2, 9));
    assert_eq!(s.latency_ms.unwrap().probes, 9);
}

#[test]
fn a_failure_breaks_a_row_of_slow_probes_and_slow_never_counts() {
    let (tx, board, h) = spawn_with_board(
        "slow:150,slow:150,fail,slow:150,slow:150,ok,slow:150,slow:150,slow:150",
        slow_cfg(2),
    );
    let end = Instant::now() + Duration::from_secs(10);
    while !board.snapshot().slow && Instant::now() < end {
        thread::sleep(ms(5));
    }
    assert!(board.snapshot().slow, "no warning: {:?}", board.snapshot());
    control(&tx, ControlCmd::Stop);
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Stopped), "{evs:?}");
    let v = verdicts(&evs);
    // two slow, a failure, two slow, a fast one, three slow: the warning comes only then
    let slow_at = v.iter().position(|e| *e == Ev::Slow).unwrap();
    assert_eq!(
        v[..slow_at]
            .iter()
            .filter(|e| matches!(e, Ev::Ok(_)))
            .count(),
        8,
        "{v:?}"
    );
    assert_eq!(v.iter().filter(|e| **e == Ev::Slow).count(), 1, "{v:?}");
    assert!(!v.contains(&Ev::Normal), "{v:?}");
    assert_eq!(v.iter().filter(|e| matches!(e, Ev::Failed(..))).count(), 1);
}

#[test]
fn failures_within_first_wait_are_reported_but_not_counted() {
    // probes start at 0, 150 and 300 ms, inside the grace, then at 450 ms after it
    let mut c = cfg(150, 2, 1000);
    c.first_wait = ms(400);
    let (_tx, board, h) = spawn_with_board("fail,fail,fail,ok,fail", c);
    let (end, evs, total) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Fault(_)), "{evs:?}");
    let v = verdicts(&evs);
    // three failures inside the grace, a success, then two that count
    assert_eq!(
        v,
        [
            Ev::Uncounted,
            Ev::Uncounted,
            Ev::Uncounted,
            Ev::Ok(true),
            Ev::Failed(1, 2, 0),
            Ev::Failed(2, 2, 0),
        ],
        "{evs:?}"
    );
    assert!(total >= ms(400), "{total:?}");
    assert_eq!(board.snapshot().failures, 2);
}

#[test]
fn failures_after_first_wait_count_as_ever() {
    let mut c = cfg(60, 2, 1000);
    c.first_wait = ms(150);
    let (_tx, h) = spawn("fail", c);
    let (end, evs, _) = h.join().unwrap();
    assert!(matches!(end, LoopEnd::Fault(_)));
    let v = verdicts(&evs);
    let uncounted = v.iter().filter(|e| **e == Ev::Uncounted).count();
    // probes start at 0, 60, 120 ms within the grace (a busy machine may fit fewer), then count
    assert!((1..=3).contains(&uncounted), "{v:?}");
    assert_eq!(
        &v[uncounted..],
        [Ev::Failed(1, 2, 0), Ev::Failed(2, 2, 0)],
        "{v:?}"
    );
}

#[test]
fn the_board_follows_the_loop() {
    let (tx, board, h) = spawn_with_board("ok,fail,hang", cfg(20, 5, 200));
    assert!(wait_for_failures(&board, 1));
    let s = board.snapshot();
    assert_eq!(s.state, State::Monitoring);
    let last = s.last.unwrap();
    assert!(!last.ok);
    assert_eq!(last.phase, "connect");
    assert!(s.last_success.is_some());
    assert!(s.probes >= 2);
    control(&tx, ControlCmd::Pause);
    assert_eq!(board.snapshot().state, State::Paused);
    control(&tx, ControlCmd::Continue);
    let s = board.snapshot();
    assert_eq!((s.state, s.failures), (State::Monitoring, 0));
    control(&tx, ControlCmd::Stop);
    h.join().unwrap();
    assert_eq!(board.snapshot().state, State::Stopping);
}
