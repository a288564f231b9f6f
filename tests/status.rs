//! Issue 15 through the real binary, with scripted probes (no server): `clp-fsmon status` in its
//! three forms over monitors of both applets in every state it lists (monitoring, paused, stale,
//! no answer), its bound on a frozen monitor, the slow-response warning (81 once, then 82, never
//! counted), `--first-wait`, and `--metrics-file` (rewritten after every probe, valid for
//! `promtool check metrics`, a refused directory said once with 42). The fault matrix
//! (`tests/fault_matrix.rs`, row 7) does the slow warning again against real servers behind the
//! delaying proxy.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::rig::{Sandbox, binary, require_tool, wait_until};

const S: Duration = Duration::from_secs(1);

/// `clp-fsmon ARGS` in the sandbox: (exit status, stdout, stderr, how long it took).
fn fsmon(sb: &Sandbox, args: &[&str]) -> (i32, String, String, Duration) {
    let t = Instant::now();
    let out = Command::new(binary())
        .args(args)
        .env("CLP_FSMON_ROOT", sb.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t.elapsed(),
    )
}

/// The `status --json` listing.
fn listing(sb: &Sandbox) -> Vec<serde_json::Value> {
    let (code, out, err, _) = fsmon(sb, &["status", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    v["monitors"].as_array().unwrap().clone()
}

fn find<'a>(l: &'a [serde_json::Value], applet: &str, id: &str) -> &'a serde_json::Value {
    l.iter()
        .find(|m| m["applet"] == applet && m["id"] == id)
        .unwrap_or_else(|| panic!("{applet} {id} not listed: {l:#?}"))
}

/// Fails unless `promtool check metrics` accepts `text` (lint included).
fn promtool_accepts(text: &str) {
    let promtool = require_tool("promtool", "prometheus");
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the sample `series` (name and labels, exactly) in an exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn status_lists_every_monitor_of_both_applets_in_every_state() {
    let sb = Sandbox::licensed();
    let (code, out, err, _) = fsmon(&sb, &["status"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("no monitor is registered"), "{err}");
    let ok = sb.spawn_monitor(
        "clp_sambamon",
        &["s1", "-s", "my share", "-i", "1", "--check", "connect"],
        Some("ok"),
    );
    let _failing = sb.spawn_monitor(
        "clp_nfsmon",
        &["n1", "-d", "/export", "-i", "1", "-c", "1000"],
        Some("fail"),
    );
    let _paused = sb.spawn_monitor("clp_nfsmon", &["n2", "-d", "/p", "-i", "1"], Some("ok"));
    let mut dead = sb.spawn_monitor("clp_sambamon", &["s2", "-s", "gone"], Some("ok"));
    let frozen = sb.spawn_monitor("clp_sambamon", &["s3", "-s", "cold"], Some("ok"));
    assert!(
        wait_until(20 * S, || {
            let l = listing(&sb);
            l.len() == 5
                && l.iter().all(|m| m["probes"].as_u64() >= Some(1))
                && find(&l, "clp_nfsmon", "n1")["failures"].as_u64() >= Some(2)
        }),
        "{:#?}",
        listing(&sb)
    );
    sb.cmd("clp_nfsmon")
        .args(["n2", "-pause"])
        .assert()
        .success();
    dead.signal(Signal::SIGKILL);
    dead.wait_exit(5 * S).unwrap_or_default();
    frozen.signal(Signal::SIGSTOP);

    let (code, out, err, took) = fsmon(&sb, &["status"]);
    eprintln!("status took {took:?}:\n{out}");
    assert_eq!(code, 0, "{err}");
    // A frozen monitor costs the listing its bound (100 ms), not a hang.
    assert!(took < 3 * S, "status took {took:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(lines[0].starts_with("APPLET "), "{out}");
    let line = |id: &str| {
        *lines
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("{id}: {out}"))
    };
    // Aligned: every value starts under its header.
    let col = |h: &str| lines[0].find(h).unwrap();
    let at = |id: &str, h: &str| {
        line(id)[col(h)..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(at("s1", "STATE"), "monitoring");
    assert_eq!(at("n1", "STATE"), "monitoring");
    assert_eq!(at("n2", "STATE"), "paused");
    assert_eq!(at("s2", "STATE"), "stale");
    assert_eq!(at("s3", "STATE"), "no");
    assert!(line("s3").contains("no answer"));
    assert_eq!(at("s1", "PID"), ok.pid().to_string());
    assert_eq!(at("s1", "CHECK"), "connect");
    assert_eq!(at("s1", "FAILURES"), "0/5");
    assert!(at("n1", "FAILURES").ends_with("/1000"), "{out}");
    assert_eq!(at("s2", "FAILURES"), "-");
    assert!(line("s1").contains("my share"));
    assert!(line("n1").contains("fail connect"), "{out}");
    assert!(line("n1").contains("ECONNREFUSED (111)"), "{out}");
    let lat = at("s1", "P50/P95/MAX MS");
    let p: Vec<f64> = lat.split('/').map(|v| v.parse().unwrap()).collect();
    assert!(p.len() == 3 && p[0] <= p[1] && p[1] <= p[2], "{lat}");
    // Applets first sambamon then nfsmon, IDs sorted.
    let ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(ids, ["s1", "s2", "s3", "n1", "n2"]);

    let l = listing(&sb);
    let s1 = find(&l, "clp_sambamon", "s1");
    assert_eq!(s1["state"], "monitoring");
    assert_eq!(s1["target"], "my share");
    assert_eq!(s1["last"]["ok"], true);
    assert!(s1["last_success"].is_string() && s1["started"].is_string());
    assert!(s1["latency_ms"]["p95"].is_number());
    let n1 = find(&l, "clp_nfsmon", "n1");
    assert_eq!(n1["last"]["phase"], "connect");
    assert_eq!(n1["last_success"], serde_json::Value::Null);
    assert_eq!(find(&l, "clp_nfsmon", "n2")["state"], "paused");
    assert_eq!(find(&l, "clp_sambamon", "s2")["state"], "stale");
    assert_eq!(find(&l, "clp_sambamon", "s2")["pid"], dead.pid());
    assert_eq!(find(&l, "clp_sambamon", "s3")["state"], "no answer");

    let (code, prom, err, _) = fsmon(&sb, &["status", "--prometheus"]);
    assert_eq!(code, 0, "{err}");
    promtool_accepts(&prom);
    let lbl = |applet: &str, id: &str, target: &str| {
        format!(r#"applet="{applet}",id="{id}",target="{target}""#)
    };
    assert!(
        sample(
            &prom,
            &format!(
                "clp_fsmon_probe_success{{{}}}",
                lbl("clp_nfsmon", "n1", "/export")
            )
        ) == Some(0.0)
    );
    assert_eq!(
        sample(
            &prom,
            r#"clp_fsmon_state{applet="clp_sambamon",id="s2",state="stale",target="gone"}"#
        ),
        Some(1.0),
        "{prom}"
    );
    assert_eq!(
        sample(
            &prom,
            r#"clp_fsmon_state{applet="clp_sambamon",id="s3",state="no answer",target="cold"}"#
        ),
        Some(1.0),
        "{prom}"
    );
    assert!(
        sample(
            &prom,
            &format!(
                "clp_fsmon_probes_total{{{}}}",
                lbl("clp_sambamon", "s1", "my share")
            )
        ) >= Some(1.0)
    );

    for bad in [
        &["status", "--json", "--prometheus"][..],
        &["status", "--yaml"],
    ] {
        assert_eq!(fsmon(&sb, bad).0, 2, "{bad:?}");
    }
    frozen.signal(Signal::SIGCONT);
}

#[test]
fn slow_probes_warn_once_then_clear_and_never_count() {
    let sb = Sandbox::licensed();
    let health = sb.path().join("health");
    std::fs::write(&health, "slow:1200\n").unwrap();
    let script = format!("@{}", health.display());
    // -r 2 --warn 50: the limit is 1000 ms; -c 1, so a counted failure would end it at once.
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &["w1", "-s", "data", "-i", "1", "-c", "1", "-r", "2"],
        Some(&script),
    );
    assert!(sb.wait_event(81, 20 * S), "{}", sb.alert_log());
    let warned = sb.alerts().into_iter().find(|a| a.2 == 81).unwrap();
    let (_, rest) = warned
        .3
        .split_once("The clp_sambamon has detected slow response of Samba [data] (")
        .unwrap_or_else(|| panic!("{}", warned.3));
    let (nn, mm) = rest
        .strip_suffix(" ms).")
        .and_then(|r| r.split_once(" ms, limit "))
        .unwrap_or_else(|| panic!("{}", warned.3));
    assert_eq!(mm, "1000");
    assert!(
        (1200..2000).contains(&nn.parse::<u32>().unwrap()),
        "{}",
        warned.3
    );
    let l = listing(&sb);
    assert_eq!(find(&l, "clp_sambamon", "w1")["slow"], true);
    // Two more slow probes: no second warning.
    let probes = find(&l, "clp_sambamon", "w1")["probes"].as_u64().unwrap();
    assert!(wait_until(20 * S, || {
        find(&listing(&sb), "clp_sambamon", "w1")["probes"].as_u64() >= Some(probes + 2)
    }));
    std::fs::write(&health, "ok\n").unwrap();
    assert!(sb.wait_event(82, 10 * S), "{}", sb.alert_log());
    assert_eq!(
        sb.event_ids(),
        [1, 2, 81, 82],
        "{}\n{}",
        sb.alert_log(),
        sb.fault_log("sambamon")
    );
    assert_eq!(
        sb.alerts()[3].3,
        "The clp_sambamon has detected that Samba [data] responds normally again."
    );
    let fault = sb.fault_log("sambamon");
    assert!(!fault.contains("probe failed"), "{fault}");
    assert!(
        fault.contains("slow response: 3 probes in a row"),
        "{fault}"
    );
    assert!(fault.contains("responds normally again"), "{fault}");
    assert_eq!(find(&listing(&sb), "clp_sambamon", "w1")["slow"], false);
    assert!(m.child.try_wait().unwrap().is_none(), "it failed over");
    sb.cmd("clp_sambamon")
        .args(["w1", "-stop"])
        .assert()
        .success();
    assert_eq!(m.wait_exit(5 * S), Some(0));
}

#[test]
fn failures_within_first_wait_are_logged_and_not_counted() {
    let sb = Sandbox::licensed();
    let t0 = Instant::now();
    // -c 1: the first counted failure ends the monitor.
    let mut m = sb.spawn_monitor(
        "clp_nfsmon",
        &["w1", "-d", "/x", "-i", "1", "-c", "1", "--first-wait", "3"],
        Some("fail"),
    );
    let code = m.wait_exit(20 * S);
    let took = t0.elapsed();
    let fault = sb.fault_log("nfsmon");
    eprintln!("first-wait 3: exit {code:?} after {took:?}\n{fault}");
    assert_eq!(code, Some(1), "{}", sb.alert_log());
    assert!(took >= 3 * S, "ended after {took:?}");
    let grace = fault
        .lines()
        .filter(|l| l.contains("failure within --first-wait 3s, not counted toward -c:"))
        .count();
    // probes at 0, 1, 2 s (a busy machine may fit fewer) fall in the grace
    assert!((1..=3).contains(&grace), "{fault}");
    assert_eq!(
        fault
            .lines()
            .filter(|l| l.contains("probe failed 1/1"))
            .count(),
        1,
        "{fault}"
    );
    assert_eq!(sb.event_ids(), [1, 0, 66, 6], "{}", sb.alert_log());
}

fn has_series(path: &Path, series: &str, at_least: f64) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| sample(&t, series))
        .is_some_and(|v| v >= at_least)
}

#[test]
fn the_metrics_file_is_rewritten_after_every_probe() {
    let sb = Sandbox::licensed();
    let dir = sb.path().join("var/lib/prometheus/node-exporter");
    let path = dir.join("w1.prom");
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &[
            "w1",
            "-s",
            "sh\"are",
            "-i",
            "1",
            "--metrics-file",
            path.to_str().unwrap(),
        ],
        Some("ok,fail,ok"),
    );
    let labels = r#"applet="clp_sambamon",id="w1",target="sh\"are""#;
    let probes = format!("clp_fsmon_probes_total{{{labels}}}");
    // Probe 2 failed: the file said so before probe 3 (1 s later) made it good again.
    let failures = format!("clp_fsmon_consecutive_failures{{{labels}}}");
    assert!(
        wait_until(10 * S, || has_series(&path, &failures, 1.0)),
        "{:?}",
        std::fs::read_to_string(&path)
    );
    assert!(wait_until(10 * S, || has_series(&path, &probes, 4.0)));
    let text = std::fs::read_to_string(&path).unwrap();
    promtool_accepts(&text);
    assert_eq!(
        sample(&text, &format!("clp_fsmon_probe_success{{{labels}}}")),
        Some(1.0)
    );
    assert_eq!(sample(&text, &failures), Some(0.0));
    assert!(
        sample(
            &text,
            &format!("clp_fsmon_last_success_timestamp_seconds{{{labels}}}")
        )
        .is_some_and(|t| t > 1.7e9)
    );
    assert_eq!(
        sample(
            &text,
            r#"clp_fsmon_state{applet="clp_sambamon",id="w1",state="monitoring",target="sh\"are"}"#
        ),
        Some(1.0)
    );
    // Nothing else is left in the directory (no temp files).
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["w1.prom"]);
    sb.cmd("clp_sambamon")
        .args(["w1", "-stop"])
        .assert()
        .success();
    assert_eq!(m.wait_exit(5 * S), Some(0));
    let last = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        sample(
            &last,
            r#"clp_fsmon_state{applet="clp_sambamon",id="w1",state="stopping",target="sh\"are"}"#
        ),
        Some(1.0),
        "{last}"
    );
    promtool_accepts(&last);
}

#[test]
fn a_metrics_directory_others_may_write_is_refused_once_and_the_monitor_runs() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::licensed();
    let dir = sb.path().join("open");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = dir.join("w1.prom");
    let mut m = sb.spawn_monitor(
        "clp_nfsmon",
        &[
            "w1",
            "-d",
            "/x",
            "-i",
            "1",
            "--metrics-file",
            path.to_str().unwrap(),
        ],
        Some("ok"),
    );
    assert!(sb.wait_event(2, 10 * S), "{}", sb.alert_log());
    let alerts = sb.alerts();
    let refused: Vec<_> = alerts.iter().filter(|a| a.2 == 42).collect();
    assert_eq!(refused.len(), 1, "{}", sb.alert_log());
    assert!(
        refused[0].3.contains(&dir.display().to_string()),
        "{}",
        refused[0].3
    );
    assert!(!path.exists());
    assert!(m.child.try_wait().unwrap().is_none());
    sb.cmd("clp_nfsmon")
        .args(["w1", "-stop"])
        .assert()
        .success();
    assert_eq!(m.wait_exit(5 * S), Some(0));
    assert!(!path.exists());
}
