//! The fault matrix (issue 7, item 1): every row runs the real binary, as a monitor in its own
//! licensed sandbox, against its own real server (smbd from `rig::smb`, Ganesha + rpcbind in a
//! network namespace from `rig::nfs`), injects one real fault and asserts
//!
//! - the alert log, exactly: `1, 2` (started, watching), then the fault's events (sambamon: the
//!   network/SMB event; nfsmon: the `clp_nfsmon: …` detail line, event 0, then 66), then 6;
//! - the exit status (1 = fail over), or, where the monitor must NOT fail over, that it is still
//!   running and then stops cleanly on `-stop` (0, event 3);
//! - the detection time, measured from the moment the fault is in place to the monitor's exit,
//!   against its bound: `c` probes of at most `r` s (plus the loop's 100 ms cut grace), `c − 1`
//!   intervals of `i` s between them, and up to one more interval before the first failing probe
//!   starts, plus [`SLACK`] for this loaded machine. It may not be earlier than `(c − 1)·i`, nor,
//!   when every failing probe runs into its deadline, earlier than `(c − 1)·(i + r)`.
//!
//! The fault log's `probe failed k/c` lines are checked too: exactly `1..=c` for a fault, fewer
//! than `c` for a row that must ride the fault out; where the probes run into their deadline,
//! each failing probe's latency must be `r` (cut at `-r`, not earlier). Each test prints one
//! `FM …` line with its measurement (`--nocapture` shows them).
//!
//! Rows (each for `clp_sambamon` and `clp_nfsmon` unless noted): 1 server stalled (SIGSTOP);
//! 2 crashed (SIGKILL); 3 restarted within the retry window (must not fail over; 3b the same
//! with a stall thawed after one failed probe); 4 share/export
//! removed by a configuration reload (smbd: smb.conf rewritten + SIGHUP; Ganesha V4.3: ganesha.conf
//! rewritten + SIGHUP, which removes the export without a restart); 5 rpcbind gone (nfs only);
//! 6 network partition (server in a network namespace); 7 slow server behind a delaying proxy
//! ([`DelayProxy`]): at 60 % of `-r` it raises the slow-response warning 81 once, then 82 when
//! the proxy is fast again, and must not fail over; beyond `-r` it must; 8 the monitor killed
//! with -9 and started again under the same ID; 9 (module [`storage`]) storage that hangs, turns
//! read-only, fills up or loses its directory under a server that still answers, at every check
//! level, for smbd, `NFSv3` and `NFSv4`; K (`clp_sambamon --kerberos --keytab` only) the file
//! server of a Samba AD DC with NTLM disabled stalled (its smbd stopped by pid, `SIGSTOP`): the
//! tickets are in the monitor's memory, so no KDC is asked and the stall is a timeout like row
//! 1's.
//!
//! Every row has its own sandbox, server (and namespace) and proxy, all torn down on drop, so the
//! rows run in parallel; the whole matrix (30 tests) takes about 46 s with `--test-threads=4`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::rig::addc::{self, Dc};
use crate::rig::nfs::NfsServer;
use crate::rig::proxy::DelayProxy;
use crate::rig::smb::{self, Flavour, Smbd};
use crate::rig::{Monitor, Sandbox, wait_until};

mod storage;

const SAMBA: &str = "clp_sambamon";
const NFS: &str = "clp_nfsmon";

/// Allowance for scheduling on this (2-core, busy) machine, on top of every upper bound.
const SLACK: Duration = Duration::from_secs(2);
/// The monitor loop cuts a probe this long after its deadline.
const CUT_GRACE: Duration = clp_fsmon::monitor::CUT_GRACE;

const TERMINATE_SAMBA: &str = "The clp_sambamon will terminate.";
const TERMINATE_NFS: &str = "The clp_nfsmon will terminate.";
const NFS_ERROR: &str = "The clp_nfsmon has detected an error in NFS.";

/// The probe schedule of a row: `-i`, `-c`, `-r`.
#[derive(Clone, Copy, Debug)]
struct Sched {
    i: u64,
    c: u64,
    r: u64,
}

/// How the failing probes end, which sets the earliest possible detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Each failing probe ends at once (refused, not registered, bad share…).
    Fast,
    /// Each failing probe runs into its deadline `r`.
    Timeout,
}

impl Sched {
    const fn new(i: u64, c: u64, r: u64) -> Self {
        Self { i, c, r }
    }

    fn args(self) -> Vec<String> {
        vec![
            "-i".into(),
            self.i.to_string(),
            "-c".into(),
            self.c.to_string(),
            "-r".into(),
            self.r.to_string(),
        ]
    }

    /// Latest fault declaration after the fault starts.
    fn upper(self) -> Duration {
        let c = u32::try_from(self.c).unwrap();
        Duration::from_secs(self.i + self.c * self.r + (self.c - 1) * self.i)
            + CUT_GRACE * c
            + SLACK
    }

    /// Earliest fault declaration after the fault starts.
    fn lower(self, kind: Kind) -> Duration {
        match kind {
            Kind::Fast => Duration::from_secs((self.c - 1) * self.i),
            Kind::Timeout => Duration::from_secs((self.c - 1) * (self.i + self.r)),
        }
    }
}

/// What the alert log must hold after `1, 2`: (event, text). A text is one or more
/// alternatives separated by `|`, each exact or, ending in `*`, a prefix.
type Expect<'a> = &'a [(u16, &'a str)];

fn text_matches(want: &str, got: &str) -> bool {
    want.split('|').any(|w| {
        w.strip_suffix('*')
            .map_or_else(|| got == w, |p| got.starts_with(p))
    })
}

/// A sandbox and the monitor running in it.
struct Row {
    sb: Sandbox,
    mon: Monitor,
    applet: &'static str,
    id: String,
    sched: Sched,
}

impl Row {
    /// Starts `applet ID TARGET_ARGS -i -c -r` and waits (up to 20 s) for its first good probe
    /// (event 2).
    fn start(applet: &'static str, id: &str, target: &[&str], sched: Sched) -> Self {
        let sb = Sandbox::licensed();
        let mon = spawn(&sb, applet, id, target, sched);
        Self::watching(sb, mon, applet, id, sched)
    }

    /// A row of the monitor `mon` started in `sb` by the caller (through a client wrapper:
    /// the Kerberos row's), once it is watching.
    fn watching(sb: Sandbox, mon: Monitor, applet: &'static str, id: &str, sched: Sched) -> Self {
        let mut row = Self {
            sb,
            mon,
            applet,
            id: id.to_owned(),
            sched,
        };
        row.wait_watching(1);
        row
    }

    /// Waits until event 2 has been logged `n` times.
    fn wait_watching(&mut self, n: usize) {
        let ok = wait_until(Duration::from_secs(20), || {
            self.sb.event_ids().iter().filter(|&&e| e == 2).count() >= n
        });
        if !ok {
            let _ = self.mon.child.kill();
            panic!(
                "{} {} never watching:\n{}\n{}",
                self.applet,
                self.id,
                self.sb.alert_log(),
                self.mon.stderr()
            );
        }
    }

    fn module(&self) -> &'static str {
        if self.applet == SAMBA {
            "sambamon"
        } else {
            "nfsmon"
        }
    }

    fn fault_log(&self) -> String {
        self.sb.fault_log(self.module())
    }

    /// `probe failed k/c` counts in the fault log, in order.
    fn failures(&self) -> Vec<u64> {
        self.fault_log()
            .lines()
            .filter_map(|l| l.split_once("probe failed ").map(|(_, t)| t))
            .map(|t| t.split('/').next().unwrap().parse().unwrap())
            .collect()
    }

    /// The `latency=` of each `probe failed` line, in seconds.
    fn failure_latencies(&self) -> Vec<f64> {
        self.fault_log()
            .lines()
            .filter(|l| l.contains("probe failed "))
            .map(|l| {
                let (_, t) = l.split_once(" latency=").expect(l);
                t.split("ms").next().unwrap().parse::<f64>().unwrap() / 1000.0
            })
            .collect()
    }

    fn still_running(&mut self) -> bool {
        self.mon.child.try_wait().unwrap().is_none()
    }

    /// The monitor's `-disp` status line (`ok state=… failures=k/c probes=N last=…`).
    fn status(&self) -> String {
        let out = self
            .sb
            .cmd(self.applet)
            .args([self.id.as_str(), "-disp"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// `-stop`s a monitor that must still be running: exit 0 and event 3 last.
    fn stop_cleanly(&mut self) {
        assert!(
            self.still_running(),
            "{} exited:\n{}",
            self.id,
            self.sb.alert_log()
        );
        let out = self
            .sb
            .cmd(self.applet)
            .args([self.id.as_str(), "-stop"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert_eq!(self.mon.wait_exit(Duration::from_secs(5)), Some(0));
        assert_eq!(
            self.sb.event_ids().last(),
            Some(&3),
            "{}",
            self.sb.alert_log()
        );
    }

    /// Waits for the fault exit and checks everything about it (see [`Row::check_fault`]).
    fn expect_fault(&mut self, row: &str, since: Instant, kind: Kind, want: Expect<'_>) {
        let limit = self.sched.upper() + Duration::from_secs(15);
        let code = self.mon.wait_exit(limit);
        let took = since.elapsed();
        if code.is_none() {
            let _ = self.mon.child.kill();
        }
        self.check_fault(row, took, code, limit, kind, want);
    }

    /// Checks a fault exit: `code` (`None`: still running after `limit`) came `took` after the
    /// fault was in place; the alert log, the fault log's `probe failed k/c` lines, the failing
    /// probes' latencies (for [`Kind::Timeout`]) and `took` against the bound.
    fn check_fault(
        &self,
        row: &str,
        took: Duration,
        code: Option<i32>,
        limit: Duration,
        kind: Kind,
        want: Expect<'_>,
    ) {
        let (lo, hi) = (self.sched.lower(kind), self.sched.upper());
        let fault_texts: Vec<String> = self
            .sb
            .alerts()
            .iter()
            .skip(2)
            .map(|a| format!("{} {}", a.2, a.3))
            .collect();
        eprintln!(
            "FM row={row} applet={} sched={:?} exit={code:?} detect={:.2}s bound=[{:.1}, {:.1}]s events={:?} alerts={fault_texts:?}",
            self.applet,
            self.sched,
            took.as_secs_f64(),
            lo.as_secs_f64(),
            hi.as_secs_f64(),
            self.sb.event_ids()
        );
        assert_eq!(
            code,
            Some(1),
            "no fault exit within {limit:?}:\n{}\n{}",
            self.sb.alert_log(),
            self.fault_log()
        );
        let alerts = self.sb.alerts();
        let got: Vec<(u16, &str)> = alerts.iter().map(|a| (a.2, a.3.as_str())).collect();
        let ok = got.len() == want.len() + 3
            && got[0].0 == 1
            && got[1].0 == 2
            && got[2..got.len() - 1]
                .iter()
                .zip(want)
                .all(|(g, w)| g.0 == w.0 && text_matches(w.1, g.1))
            && got.last().unwrap().0 == 6
            && got.last().unwrap().1
                == if self.applet == SAMBA {
                    TERMINATE_SAMBA
                } else {
                    TERMINATE_NFS
                };
        assert!(ok, "alert log {got:#?}\nwant 1, 2, {want:?}, 6");
        let c = self.sched.c;
        assert_eq!(
            self.failures(),
            (1..=c).collect::<Vec<_>>(),
            "{}",
            self.fault_log()
        );
        if kind == Kind::Timeout {
            // Each failing probe ran into its deadline: cut at -r, not before, not much after.
            let r = Duration::from_secs(self.sched.r).as_secs_f64();
            let lat = self.failure_latencies();
            assert!(
                lat.iter()
                    .all(|&l| l >= r - 0.05 && l <= r + CUT_GRACE.as_secs_f64() + 1.0),
                "failing probes' latencies {lat:?} for -r {r}\n{}",
                self.fault_log()
            );
        }
        assert!(
            took >= lo && took <= hi,
            "{row}/{}: fault declared after {took:?}, outside [{lo:?}, {hi:?}]\n{}",
            self.applet,
            self.fault_log()
        );
    }
}

fn spawn(sb: &Sandbox, applet: &str, id: &str, target: &[&str], sched: Sched) -> Monitor {
    let sargs = sched.args();
    let mut args: Vec<&str> = vec![id];
    args.extend_from_slice(target);
    args.extend(sargs.iter().map(String::as_str));
    sb.spawn_monitor(applet, &args, None)
}

fn samba_target(addr: &str) -> [&str; 4] {
    ["-s", smb::GUEST_SHARE, "-a", addr]
}

fn tree_connect_gone() -> String {
    format!(
        "The clp_sambamon has detected an error in Samba [{}] (tree connect error[0xc00000cc]).",
        smb::GUEST_SHARE
    )
}

const SAMBA_TIMEOUT: &str = "The clp_sambamon has detected network error(select error[110]).";
const SAMBA_REFUSED: &str = "The clp_sambamon has detected network error(connect error[111]).";
const NFS_TIMEOUT: &str = "clp_nfsmon: RPC: Timed out";
const NFS_REFUSED: &str = "clp_nfsmon: RPC: Unable to receive: errno = Connection refused.";

// ---- 1. server stalled (SIGSTOP) -------------------------------------------------------------

#[test]
fn stalled_samba_fails_over_with_74() {
    let s = Smbd::start(Flavour::Standard);
    let addr = s.address();
    let mut row = Row::start(SAMBA, "fm1", &samba_target(&addr), Sched::new(1, 3, 1));
    s.stop();
    let t0 = Instant::now();
    row.expect_fault("1-stalled", t0, Kind::Timeout, &[(74, SAMBA_TIMEOUT)]);
    s.cont();
}

#[test]
fn stalled_nfs_fails_over_with_rpc_timed_out() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm1",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 1),
    );
    srv.signal(Signal::SIGSTOP);
    let t0 = Instant::now();
    row.expect_fault(
        "1-stalled",
        t0,
        Kind::Timeout,
        &[(0, NFS_TIMEOUT), (66, NFS_ERROR)],
    );
    srv.signal(Signal::SIGCONT);
}

// ---- 2. server crashed (SIGKILL) -------------------------------------------------------------

#[test]
fn crashed_samba_fails_over_with_72_111() {
    let mut s = Smbd::start(Flavour::Standard);
    let addr = s.address();
    let mut row = Row::start(SAMBA, "fm2", &samba_target(&addr), Sched::new(1, 3, 2));
    s.kill();
    let t0 = Instant::now();
    row.expect_fault("2-crashed", t0, Kind::Fast, &[(72, SAMBA_REFUSED)]);
}

#[test]
fn crashed_nfs_fails_over_with_connection_refused() {
    let mut srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm2",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 2),
    );
    // rpcbind keeps Ganesha's registrations: the MOUNT port it hands out refuses.
    srv.kill_ganesha();
    let t0 = Instant::now();
    row.expect_fault(
        "2-crashed",
        t0,
        Kind::Fast,
        &[(0, NFS_REFUSED), (66, NFS_ERROR)],
    );
}

// ---- 3. restarted within the retry window: no failover ---------------------------------------

/// After the restart: the monitor lives, its status shows the count reset by a good probe, the
/// fault log holds `1..k` with `k < c`, and `-stop` ends it normally.
fn rides_out(row: &mut Row, label: &str, killed: Instant, restart: impl FnOnce()) {
    assert!(
        wait_until(Duration::from_secs(10), || row.failures().contains(&1)),
        "no failed probe after the kill:\n{}",
        row.fault_log()
    );
    restart();
    let restarted = killed.elapsed();
    let mut status = String::new();
    let recovered = wait_until(Duration::from_secs(15), || {
        status = row.status();
        status.contains("failures=0/") && status.contains("last=ok")
    });
    let k = row.failures();
    let running = row.still_running();
    eprintln!(
        "FM row={label} applet={} sched={:?} down_for={:.2}s failures={k:?} running={running} status={}",
        row.applet,
        row.sched,
        restarted.as_secs_f64(),
        status.trim()
    );
    assert!(recovered, "no good probe after the restart: {status}");
    assert!(row.still_running(), "{}", row.sb.alert_log());
    let c = row.sched.c;
    assert!(
        !k.is_empty() && k == (1..=k.len() as u64).collect::<Vec<_>>() && (k.len() as u64) < c,
        "{k:?}\n{}",
        row.fault_log()
    );
    assert_eq!(row.sb.event_ids(), [1, 2], "{}", row.sb.alert_log());
    row.stop_cleanly();
    assert_eq!(row.sb.event_ids(), [1, 2, 3], "{}", row.sb.alert_log());
}

#[test]
fn samba_restarted_within_the_retry_window_does_not_fail_over() {
    let mut s = Smbd::start(Flavour::Standard);
    let addr = s.address();
    let mut row = Row::start(SAMBA, "fm3", &samba_target(&addr), Sched::new(1, 5, 2));
    s.kill();
    let t0 = Instant::now();
    rides_out(&mut row, "3-restarted", t0, || s.restart());
}

#[test]
fn nfs_restarted_within_the_retry_window_does_not_fail_over() {
    let mut srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm3",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 5, 2),
    );
    srv.kill_ganesha();
    let t0 = Instant::now();
    rides_out(&mut row, "3-restarted", t0, || srv.restart_ganesha());
}

/// Row 3 with a stall instead of a crash: the server is frozen until one probe has failed (cut
/// at `-r`), then thawed; the next probe succeeds and the count goes back to 0.
#[test]
fn samba_stalled_briefly_does_not_fail_over() {
    let s = Smbd::start(Flavour::Standard);
    let addr = s.address();
    let mut row = Row::start(SAMBA, "fm3b", &samba_target(&addr), Sched::new(1, 3, 1));
    s.stop();
    let t0 = Instant::now();
    rides_out(&mut row, "3b-stalled-briefly", t0, || s.cont());
}

#[test]
fn nfs_stalled_briefly_does_not_fail_over() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm3b",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 1),
    );
    srv.signal(Signal::SIGSTOP);
    let t0 = Instant::now();
    rides_out(&mut row, "3b-stalled-briefly", t0, || {
        srv.signal(Signal::SIGCONT);
    });
}

// ---- 4. share / export removed by a configuration reload -------------------------------------

#[test]
fn samba_share_removed_by_reload_fails_over_with_62() {
    let s = Smbd::start(Flavour::Standard);
    let addr = s.address();
    let mut row = Row::start(SAMBA, "fm4", &samba_target(&addr), Sched::new(1, 3, 2));
    s.reload_without(smb::GUEST_SHARE);
    let t0 = Instant::now();
    let want = tree_connect_gone();
    row.expect_fault("4-share-removed", t0, Kind::Fast, &[(62, want.as_str())]);
}

/// Ganesha V4.3 re-reads its configuration on SIGHUP and removes exports that are gone from it
/// (no restart needed).
#[test]
fn nfs_export_removed_by_reload_fails_over_with_a_mount_error() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm4",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 2),
    );
    srv.reload_without_export();
    let t0 = Instant::now();
    row.expect_fault(
        "4-export-removed",
        t0,
        Kind::Fast,
        &[
            (0, "clp_nfsmon: mount error(MNT3ERR_ACCES)"),
            (66, NFS_ERROR),
        ],
    );
}

// ---- 5. rpcbind gone (nfs) -------------------------------------------------------------------

/// The monitor has reached the server through the portmapper, so losing rpcbind is a fault, not
/// a reason to try `NFSv4`.
#[test]
fn nfs_rpcbind_gone_fails_over_with_port_mapper_failure() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm5",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 2),
    );
    srv.kill_rpcbind();
    let t0 = Instant::now();
    row.expect_fault(
        "5-rpcbind-gone",
        t0,
        Kind::Fast,
        &[
            (
                0,
                "clp_nfsmon: RPC: Port mapper failure - Unable to receive: errno = Connection refused.",
            ),
            (66, NFS_ERROR),
        ],
    );
}

// ---- 6. network partition --------------------------------------------------------------------

#[test]
fn samba_partitioned_fails_over_with_74() {
    let s = Smbd::start_in_netns(Flavour::Standard);
    let addr = s.address();
    let mut row = Row::start(SAMBA, "fm6", &samba_target(&addr), Sched::new(1, 3, 1));
    s.partition();
    let t0 = Instant::now();
    row.expect_fault("6-partition", t0, Kind::Timeout, &[(74, SAMBA_TIMEOUT)]);
    s.heal();
}

/// The portmapper is the first call of a probe, so its connect is what runs into the deadline:
/// the probe's own deadline gives `Port mapper failure - Timed out`; when the loop's cut (100 ms
/// later) gets there first on a loaded machine, the text is the plain `RPC: Timed out`.
#[test]
fn nfs_partitioned_fails_over_with_rpc_timed_out() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm6",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 1),
    );
    srv.link(false);
    let t0 = Instant::now();
    row.expect_fault(
        "6-partition",
        t0,
        Kind::Timeout,
        &[
            (
                0,
                "clp_nfsmon: RPC: Port mapper failure - Timed out|clp_nfsmon: RPC: Timed out",
            ),
            (66, NFS_ERROR),
        ],
    );
    srv.link(true);
}

// ---- 7. slow server: inside -r no failover, beyond -r failover -------------------------------

/// Seconds of one `--once` probe with `args` (the plugin line's `time=`), asserting it is OK.
fn once_latency(sb: &Sandbox, applet: &str, args: &[&str]) -> f64 {
    let out = sb
        .cmd(applet)
        .args(["fmonce"])
        .args(args)
        .args(["--once", "-r", "10"])
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{line}");
    line.rsplit_once("time=")
        .and_then(|(_, t)| t.trim().trim_end_matches('s').parse().ok())
        .unwrap_or_else(|| panic!("no time= in {line}"))
}

/// Runs row 7 through `proxy` (started with no delay): the delay of each reply is set so that one
/// probe takes 60 % of `-r` (measured: the replies a probe waits for are counted, then each is
/// held for its share), above the `--warn` limit of 50 % but well inside the deadline. The
/// monitor raises 81 once after three such probes in a row, says nothing more while they stay
/// slow, raises 82 as soon as the proxy is fast again, and all the while counts no failure and
/// does not fail over. Then each reply is held longer than a whole probe may take, and it fails
/// over within the bound.
fn slow_row(applet: &'static str, target: &[&str], proxy: &DelayProxy, want: Expect<'_>) {
    let sched = Sched::new(1, 3, 4);
    let r = Duration::from_secs(sched.r);
    let sb0 = Sandbox::licensed();
    let before = proxy.delayed_chunks();
    let base = once_latency(&sb0, applet, target);
    let chunks = proxy.delayed_chunks() - before;
    assert!(chunks > 0, "the probe does not go through the proxy");
    let per_chunk =
        (r.mul_f64(0.6).as_secs_f64() - base).max(0.0) / f64::from(u32::try_from(chunks).unwrap());
    proxy.set_delay(Duration::from_secs_f64(per_chunk));
    let probe_s = once_latency(&sb0, applet, target);
    eprintln!(
        "FM row=7-slow applet={applet} one probe: {base:.3}s direct, {probe_s:.3}s with {chunks} \
         replies held {per_chunk:.3}s each (-r {}s, --warn 50 %)",
        sched.r
    );
    // Above the limit (50 % of -r) with a margin, and well inside the deadline.
    let r_s = r.as_secs_f64();
    assert!(
        (0.55 * r_s..0.85 * r_s).contains(&probe_s),
        "probe took {probe_s}s through the proxy, want about {:.1}s",
        0.6 * r_s
    );
    let mut row = Row::start(applet, "fm7", target, sched);
    let t = Instant::now();
    let warned = row.sb.wait_event(81, Duration::from_secs(40));
    eprintln!(
        "FM row=7-slow applet={applet} 81 after {:.1}s, failures={:?}, events={:?}",
        t.elapsed().as_secs_f64(),
        row.failures(),
        row.sb.event_ids()
    );
    assert!(
        warned,
        "no 81:\n{}\n{}",
        row.sb.alert_log(),
        row.fault_log()
    );
    // Two more slow probes: no second warning, no failure.
    let accepted = proxy.accepted();
    assert!(
        wait_until(Duration::from_secs(30), || proxy.accepted() >= accepted + 2),
        "the monitor's probes do not go through the proxy"
    );
    let text = row.sb.alerts().into_iter().find(|a| a.2 == 81).unwrap().3;
    let limit = format!(" ms, limit {} ms).", r.as_millis() / 2);
    assert!(text.ends_with(&limit), "{text}");
    // Wait for the probe in flight to end before the proxy is made fast again.
    std::thread::sleep(r);
    assert_eq!(row.sb.event_ids(), [1, 2, 81], "{}", row.sb.alert_log());
    assert!(row.still_running(), "{}", row.sb.alert_log());
    assert!(row.failures().is_empty(), "{}", row.fault_log());
    proxy.set_delay(Duration::ZERO);
    let t = Instant::now();
    assert!(
        row.sb.wait_event(82, Duration::from_secs(15)),
        "no 82:\n{}",
        row.sb.alert_log()
    );
    let status = row.status();
    eprintln!(
        "FM row=7-slow applet={applet} 82 {:.1}s after the proxy was fast again; status {}",
        t.elapsed().as_secs_f64(),
        status.trim()
    );
    assert_eq!(row.sb.event_ids(), [1, 2, 81, 82], "{}", row.sb.alert_log());
    assert!(row.still_running(), "{}", row.sb.alert_log());
    assert!(row.failures().is_empty(), "{}", row.fault_log());
    assert!(status.contains("failures=0/3"), "{status}");
    // Now each reply is held longer than a whole probe may take.
    proxy.set_delay(Duration::from_secs(sched.r + 2));
    let t0 = Instant::now();
    row.expect_fault("7-slow-beyond-r", t0, Kind::Timeout, want);
}

/// SMB: the monitor's `-a 127.0.0.1:PROXY` sends every byte of every probe through the proxy
/// (one TCP connection per probe).
#[test]
fn samba_slow_warns_at_60_percent_of_r_clears_and_beyond_r_fails_over() {
    let s = Smbd::start(Flavour::Standard);
    let upstream: SocketAddr = s.address().parse().unwrap();
    let proxy = DelayProxy::start(upstream, Duration::ZERO);
    let addr = proxy.address();
    let slow = format!(
        "The clp_sambamon has detected slow response of Samba [{}] (*",
        smb::GUEST_SHARE
    );
    let normal = format!(
        "The clp_sambamon has detected that Samba [{}] responds normally again.",
        smb::GUEST_SHARE
    );
    slow_row(
        SAMBA,
        &samba_target(&addr),
        &proxy,
        &[
            (81, slow.as_str()),
            (82, normal.as_str()),
            (74, SAMBA_TIMEOUT),
        ],
    );
}

/// NFS: `-a HOST:PORT` names the *portmapper's* port, and the portmapper hands out the server's
/// real MOUNT/NFS ports on the server's own address, so a v3 probe cannot be routed through a
/// plain proxy. `--nfs4 -a 127.0.0.1 -n PROXY` can: the v4 walk asks no portmapper and sends its
/// NULL and COMPOUND calls to `-a`'s host on the `-n` port, i.e. the proxy, which forwards to
/// Ganesha's 2049 in its namespace; every round trip of every probe crosses it. Ganesha takes
/// NFSv4.2, so a probe is six round trips (NULL, `EXCHANGE_ID`, `CREATE_SESSION`, the walk,
/// `DESTROY_SESSION`, `DESTROY_CLIENTID`), on which `slow_row` calibrates the delay.
#[test]
fn nfs_slow_warns_at_60_percent_of_r_clears_and_beyond_r_fails_over() {
    let srv = NfsServer::start_v3_v4();
    let proxy = DelayProxy::start(SocketAddr::new(srv.addr(), 2049), Duration::ZERO);
    let port = proxy.port().to_string();
    let slow = format!(
        "The clp_nfsmon has detected slow response of NFS '{}' (*",
        srv.export()
    );
    let normal = format!(
        "The clp_nfsmon has detected that NFS '{}' responds normally again.",
        srv.export()
    );
    slow_row(
        NFS,
        &["-d", srv.export(), "-a", "127.0.0.1", "-n", &port, "--nfs4"],
        &proxy,
        &[
            (81, slow.as_str()),
            (82, normal.as_str()),
            (0, NFS_TIMEOUT),
            (66, NFS_ERROR),
        ],
    );
}

// ---- 8. the monitor killed with -9 and restarted with the same ID ----------------------------

fn restarts_after_kill_9(row: &mut Row, target: &[&str]) {
    row.mon.signal(Signal::SIGKILL);
    let st = row.mon.child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&st),
        Some(9),
        "{st}"
    );
    // The entry is stale, not alive; no -del before the restart.
    let disp = row
        .sb
        .cmd(row.applet)
        .args([row.id.as_str(), "-disp"])
        .output()
        .unwrap();
    assert_eq!(disp.status.code(), Some(8), "{disp:?}");
    let t0 = Instant::now();
    row.mon = spawn(&row.sb, row.applet, &row.id, target, row.sched);
    row.wait_watching(2);
    let took = t0.elapsed();
    eprintln!(
        "FM row=8-kill-9 applet={} restarted and watching after {:.2}s events={:?}",
        row.applet,
        took.as_secs_f64(),
        row.sb.event_ids()
    );
    assert_eq!(row.sb.event_ids(), [1, 2, 1, 2], "{}", row.sb.alert_log());
    let disp = row
        .sb
        .cmd(row.applet)
        .args([row.id.as_str(), "-disp"])
        .output()
        .unwrap();
    assert_eq!(disp.status.code(), Some(0), "{disp:?}");
    assert_eq!(
        String::from_utf8_lossy(&disp.stdout).trim(),
        row.mon.pid().to_string()
    );
    row.stop_cleanly();
    assert_eq!(row.sb.event_ids(), [1, 2, 1, 2, 3]);
}

#[test]
fn samba_monitor_killed_9_restarts_under_the_same_id() {
    let s = Smbd::start(Flavour::Standard);
    let addr = s.address();
    let target = samba_target(&addr);
    let mut row = Row::start(SAMBA, "fm8", &target, Sched::new(1, 3, 2));
    restarts_after_kill_9(&mut row, &target);
}

#[test]
fn nfs_monitor_killed_9_restarts_under_the_same_id() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let target = ["-d", srv.export(), "-a", &addr];
    let mut row = Row::start(NFS, "fm8", &target, Sched::new(1, 3, 2));
    restarts_after_kill_9(&mut row, &target);
}

// ---- K. Kerberos: an AD DC's file server stalled ------------------------------------------

#[test]
fn kerberos_samba_stalled_fails_over_with_74() {
    let dc = Dc::start(&["fmkuser"], "");
    let sb = Sandbox::licensed();
    let sched = Sched::new(1, 3, 2);
    let keytab = dc.keytab("fmkuser");
    let mut cmd = dc.client(&sb.link(SAMBA));
    cmd.args([
        "fmk",
        "-s",
        addc::SHARE,
        "-a",
        addc::DC_HOST,
        "--kerberos",
        "--keytab",
    ])
    .arg(&keytab)
    .args(["-u", "fmkuser"])
    .args(sched.args())
    .env("CLP_FSMON_ROOT", sb.path())
    .env_remove("CLP_FSMON_TEST_PROBE")
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mon = Monitor {
        child: cmd.spawn().unwrap(),
    };
    let mut row = Row::watching(sb, mon, SAMBA, "fmk", sched);
    let smbd = dc.smbd_pids();
    Dc::signal(&smbd, Signal::SIGSTOP);
    let t0 = Instant::now();
    row.expect_fault(
        "K-kerberos-stalled",
        t0,
        Kind::Timeout,
        &[(74, SAMBA_TIMEOUT)],
    );
    Dc::signal(&smbd, Signal::SIGCONT);
}

// ---- variants: NFS over UDP, NFSv4-only server ------------------------------------------------

/// Row 1 over UDP: the stalled server's silence is cut at `-r` like over TCP.
#[test]
fn stalled_nfs_over_udp_fails_over_with_rpc_timed_out() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm1u",
        &["-d", srv.export(), "-a", &addr, "--udp"],
        Sched::new(1, 3, 1),
    );
    srv.signal(Signal::SIGSTOP);
    let t0 = Instant::now();
    row.expect_fault(
        "1-stalled-udp",
        t0,
        Kind::Timeout,
        &[(0, NFS_TIMEOUT), (66, NFS_ERROR)],
    );
    srv.signal(Signal::SIGCONT);
}

/// Rows 1 and 2 against an `NFSv4`-only server (no rpcbind), found without `--nfs4`: the probe
/// falls back to the v4 walk and keeps to it.
#[test]
fn nfs_v4_only_stalled_fails_over_with_rpc_timed_out() {
    let srv = NfsServer::start_v4_only();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm1v4",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 1),
    );
    srv.signal(Signal::SIGSTOP);
    let t0 = Instant::now();
    row.expect_fault(
        "1-stalled-v4only",
        t0,
        Kind::Timeout,
        &[(0, NFS_TIMEOUT), (66, NFS_ERROR)],
    );
    srv.signal(Signal::SIGCONT);
}

#[test]
fn nfs_v4_only_crashed_fails_over_with_connection_refused() {
    let mut srv = NfsServer::start_v4_only();
    let addr = srv.addr().to_string();
    let mut row = Row::start(
        NFS,
        "fm2v4",
        &["-d", srv.export(), "-a", &addr],
        Sched::new(1, 3, 2),
    );
    srv.kill_ganesha();
    let t0 = Instant::now();
    row.expect_fault(
        "2-crashed-v4only",
        t0,
        Kind::Fast,
        &[(0, NFS_REFUSED), (66, NFS_ERROR)],
    );
}
