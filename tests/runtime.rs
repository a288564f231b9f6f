//! The shared runtime through the real binary: dispatch and install, the legacy grammar (every
//! event 11–14 path), the registry (stale after kill -9, pid reuse, -del refusal), control
//! (stop/pause/continue with acknowledgement, stop during a hanging probe), faults and alert
//! formatting. Probes are scripted (`CLP_FSMON_TEST_PROBE`) so no server is needed here.

use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use predicates::prelude::*;

use crate::rig::{APPLETS, Sandbox, binary, wait_until};

const S: Duration = Duration::from_secs(1);

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

// ---- dispatch and install ------------------------------------------------------------

#[test]
fn dispatch_by_link_name_and_by_first_argument() {
    let sb = Sandbox::new();
    sb.cmd("clp_sambamon")
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("usage: clp_sambamon ID -s SHARE"));
    sb.cmd("clp_nfsmon")
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("usage: clp_nfsmon ID -d DIR"));
    assert_cmd::Command::new(binary())
        .args(["clp_nfsmon", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("usage: clp_nfsmon"));
}

#[test]
fn dispatch_lists_every_applet_and_rejects_unknown_names() {
    let out = assert_cmd::Command::new(binary())
        .arg("--list")
        .assert()
        .success();
    let listed: Vec<String> = text(&out.get_output().stdout)
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(listed, APPLETS);
    let sb = Sandbox::new();
    let bogus = sb.path().join("bin/clp_foomon");
    std::os::unix::fs::symlink(binary(), &bogus).unwrap();
    let out = assert_cmd::Command::new(&bogus).assert().code(127);
    let err = text(&out.get_output().stderr);
    for a in APPLETS {
        assert!(err.contains(a), "{err}");
    }
    assert_cmd::Command::new(binary())
        .arg("clp_nope")
        .assert()
        .code(127);
}

#[test]
fn install_is_idempotent_and_uninstall_touches_only_our_links() {
    // Beside the binary: --hardlink below needs the binary's file system (/tmp may be tmpfs).
    let dir = tempfile::tempdir_in(binary().parent().unwrap()).unwrap();
    let d = dir.path().join("sbin");
    let run = |args: &[&str]| assert_cmd::Command::new(binary()).args(args).assert();
    run(&["--install", d.to_str().unwrap()]).success();
    for a in APPLETS {
        let l = d.join(a);
        assert!(
            std::fs::symlink_metadata(&l)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            std::fs::canonicalize(&l).unwrap(),
            std::fs::canonicalize(binary()).unwrap()
        );
    }
    run(&["--install", d.to_str().unwrap()])
        .success()
        .stdout(predicate::str::contains("already installed"));
    // an installed link works
    assert_cmd::Command::new(d.join("clp_sambamon"))
        .arg("--help")
        .assert()
        .success();
    // hard links, in another directory
    let h = dir.path().join("hard");
    run(&["--install", "--hardlink", h.to_str().unwrap()]).success();
    assert!(
        std::fs::symlink_metadata(h.join("clplcnsc"))
            .unwrap()
            .file_type()
            .is_file()
    );
    // a foreign file is never replaced
    let f = dir.path().join("foreign");
    std::fs::create_dir_all(&f).unwrap();
    std::fs::write(f.join("clp_nfsmon"), b"#!/bin/sh\n").unwrap();
    run(&["--install", f.to_str().unwrap()])
        .failure()
        .stderr(predicate::str::contains("is not a link to"));
    assert_eq!(std::fs::read(f.join("clp_nfsmon")).unwrap(), b"#!/bin/sh\n");
    // uninstall removes ours and keeps a foreign link
    std::fs::remove_file(d.join("clp_nfsmon")).unwrap();
    std::os::unix::fs::symlink("/bin/true", d.join("clp_nfsmon")).unwrap();
    run(&["--uninstall", d.to_str().unwrap()])
        .success()
        .stdout(predicate::str::contains("kept"));
    assert!(std::fs::symlink_metadata(d.join("clp_sambamon")).is_err());
    assert!(std::fs::symlink_metadata(d.join("clplcnsc")).is_err());
    assert_eq!(
        std::fs::read_link(d.join("clp_nfsmon")).unwrap(),
        Path::new("/bin/true")
    );
    // and again: nothing to do, still fine
    run(&["--uninstall", d.to_str().unwrap()]).success();
}

/// `--install --hardlink` into another file system (a tmpfs mounted in a private mount
/// namespace) fails with a message that says so, and leaves nothing behind.
#[test]
fn install_hardlink_across_file_systems_says_so() {
    crate::rig::require_root("mounting a tmpfs");
    crate::rig::require_tool("unshare", "util-linux");
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs tmpfs \"$1\" && \"$2\" --install --hardlink \"$1\"; rc=$?; ls -A \"$1\"; exit $rc")
        .arg("sh")
        .arg(dir.path())
        .arg(binary())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("is on another file system than") && err.contains("without --hardlink"),
        "{err}"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "nothing left behind"
    );
}

use std::path::Path;

// ---- grammar: events 11, 12, 13 -------------------------------------------------------

fn expect_event(sb: &Sandbox, applet: &str, args: &[&str], event: u16, text_: &str) {
    let out = sb.cmd(applet).args(args).assert().code(2);
    let err = text(&out.get_output().stderr);
    assert!(err.contains(text_), "{applet} {args:?}: {err}");
    let last = sb.alerts().pop().expect("an alert was logged");
    assert_eq!(last.2, event, "{applet} {args:?}");
    assert_eq!(last.3, text_);
}

#[test]
fn grammar_errors_raise_events_11_12_13() {
    let sb = Sandbox::new();
    let id_missing_s = "The monitor id is not specified at the clp_sambamon command.";
    let id_missing_n = "The monitor id is not specified at the clp_nfsmon command.";
    expect_event(&sb, "clp_sambamon", &[], 13, id_missing_s);
    expect_event(&sb, "clp_sambamon", &["-s", "share"], 13, id_missing_s);
    expect_event(&sb, "clp_nfsmon", &["-d", "/x"], 13, id_missing_n);
    expect_event(
        &sb,
        "clp_sambamon",
        &["w1"],
        12,
        "'-s' parameter is not specified at the clp_sambamon command.",
    );
    expect_event(
        &sb,
        "clp_nfsmon",
        &["w1", "-i", "5"],
        12,
        "'-d' parameter is not specified at the clp_nfsmon command.",
    );
    let inv_s = "Invalid parameter in the clp_sambamon.";
    let long_id = "a".repeat(256);
    for args in [
        vec!["w-1", "-s", "share"],
        vec![long_id.as_str(), "-s", "share"],
        vec!["w1", "-s", "share", "-i", "0"],
        vec!["w1", "-s", "share", "-i", "10001"],
        vec!["w1", "-s", "share", "-c", "x"],
        vec!["w1", "-s", "share", "-r"],
        vec!["w1", "-s", "share", "-d", "/x"],
        vec!["w1", "-s", "share", "-z"],
        vec!["w1", "-stop", "0"],
        vec!["w1", "-stop", "10001"],
        vec!["w1", "-pause", "now"],
    ] {
        expect_event(&sb, "clp_sambamon", &args, 11, inv_s);
    }
    expect_event(
        &sb,
        "clp_nfsmon",
        &["w1", "-d", "/x", "-n", "70000"],
        11,
        "Invalid parameter in the clp_nfsmon.",
    );
    // a 255-byte ID is valid: it reaches the licence check (51), not 11
    let id255 = "b".repeat(255);
    sb.cmd("clp_sambamon")
        .args([id255.as_str(), "-s", "share"])
        .env("CLP_FSMON_TEST_PROBE", "ok")
        .assert()
        .code(3);
    assert_eq!(sb.alerts().pop().unwrap().2, 51);
}

#[test]
fn control_characters_in_values_are_invalid_and_forge_no_alert_line() {
    let sb = Sandbox::licensed();
    let forged = "2026/01/01 00:00:00\tsrv\tsambamon\t3\tforged";
    let share = format!("share]\n{forged}");
    let inv_s = "Invalid parameter in the clp_sambamon.";
    for (applet, args) in [
        ("clp_sambamon", vec!["c1", "-s", share.as_str()]),
        ("clp_sambamon", vec!["c1", "-s", "share", "-u", "bob\tx"]),
        (
            "clp_sambamon",
            vec!["c1", "-s", "share", "-a", "127.0.0.1\r"],
        ),
        (
            "clp_sambamon",
            vec!["c1", "-s", "share", "-A", "/tmp/\x1b[2Jcred"],
        ),
        ("clp_nfsmon", vec!["c1", "-d", "/export\nx"]),
    ] {
        // Were the value accepted, the monitor would log event 2 with the share (the forged line),
        // then fail once (-c 1) and exit 1.
        let out = sb
            .cmd(applet)
            .args(&args)
            .args(["-c", "1", "-i", "1"])
            .env("CLP_FSMON_TEST_PROBE", "ok,fail")
            .assert()
            .code(2);
        let err = text(&out.get_output().stderr);
        assert!(err.contains("control characters"), "{args:?}: {err}");
        let last = sb.alerts().pop().expect("an alert was logged");
        assert_eq!(last.2, 11, "{applet} {args:?}");
        if applet == "clp_sambamon" {
            assert_eq!(last.3, inv_s);
        }
    }
    // every line still has the five columns (sb.alerts() checks) and none is forged
    assert!(!sb.alert_log().contains("forged"), "{}", sb.alert_log());
    assert!(sb.alerts().iter().all(|a| a.2 == 11));
}

#[test]
fn credentials_files_are_checked_before_use() {
    use std::os::unix::fs::PermissionsExt;
    let sb = Sandbox::new(); // no licence: a file that passes reaches the licence check (51)
    let dir = sb.path().join("cred");
    std::fs::create_dir(&dir).unwrap();
    let file = |name: &str, body: &str, mode: u32| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let shared = file("shared", "username = bob\npassword = pw\n", 0o644);
    let no_user = file("nouser", "password = pw\n", 0o600);
    let good = file("good", "username = bob\npassword = pw\n", 0o600);
    let fifo = dir.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let zero_link = dir.join("zero");
    std::os::unix::fs::symlink("/dev/zero", &zero_link).unwrap();
    let inv = "Invalid parameter in the clp_sambamon.";
    for (cred, why) in [
        (
            shared.as_str(),
            "group or others may read or write it (mode 0644)",
        ),
        (no_user.as_str(), "no username= line"),
        (fifo.to_str().unwrap(), "not a regular file but a FIFO"),
        ("/dev/zero", "not a regular file but a character device"),
        (
            zero_link.to_str().unwrap(),
            "not a regular file but a character device",
        ),
    ] {
        // Capped: were /dev/zero read, the monitor would die at 2 GiB instead of taking the
        // machine's memory; were the FIFO opened blocking, the 10 s timeout ends it.
        let out = assert_cmd::Command::new("sh")
            .args(["-c", "ulimit -v 2097152 && exec \"$0\" \"$@\""])
            .arg(sb.link("clp_sambamon"))
            .args(["a1", "-s", "share", "-A", cred])
            .env("CLP_FSMON_ROOT", sb.path())
            .env_remove("CLP_FSMON_TEST_PROBE")
            .timeout(10 * S)
            .assert()
            .code(2);
        let err = text(&out.get_output().stderr);
        assert!(
            err.contains(&format!("credentials file {cred}: {why}")),
            "{cred}: {err}"
        );
        assert_eq!(
            sb.alerts().pop().unwrap(),
            (
                sb.alerts().pop().unwrap().0,
                "sambamon".into(),
                11,
                inv.into()
            )
        );
    }
    // --once: the same refusal is the plugin's UNKNOWN
    sb.cmd("clp_sambamon")
        .args(["a1", "-s", "share", "-A", &shared, "--once"])
        .assert()
        .code(3)
        .stdout(predicate::str::starts_with(format!(
            "clp_sambamon UNKNOWN - {inv} (credentials file {shared}: group or others"
        )));
    // a private file naming the user passes (and the start goes on to the licence check)
    sb.cmd("clp_sambamon")
        .args(["a1", "-s", "share", "-A", &good])
        .assert()
        .code(3);
    assert_eq!(sb.alerts().pop().unwrap().2, 51);
}

#[test]
fn the_password_is_hidden_from_ps() {
    let sb = Sandbox::licensed();
    let secret = "pw-s3cret";
    let cmdline = |pid: u32| std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let words = |b: &[u8]| -> Vec<String> {
        b.split(|c| *c == 0)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect()
    };
    // through the applet's link, and as `clp-fsmon clp_sambamon …`
    let mut by_link = sb.spawn_monitor(
        "clp_sambamon",
        &["p1", "-s", "share", "-u", "bob", "-p", secret, "-i", "1"],
        Some("ok"),
    );
    let mut direct = crate::rig::Monitor {
        child: Command::new(binary())
            .args([
                "clp_sambamon",
                "p2",
                "-s",
                "share",
                "-p",
                secret,
                "-u",
                "bob",
            ])
            .env("CLP_FSMON_ROOT", sb.path())
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    };
    assert!(started(&sb, 2), "{}", sb.alert_log());
    for (m, expected) in [
        (
            &by_link,
            vec![
                "p1",
                "-s",
                "share",
                "-u",
                "bob",
                "-p",
                "XXXXXXXXX",
                "-i",
                "1",
            ],
        ),
        (
            &direct,
            vec![
                "clp_sambamon",
                "p2",
                "-s",
                "share",
                "-p",
                "XXXXXXXXX",
                "-u",
                "bob",
            ],
        ),
    ] {
        let raw = cmdline(m.pid());
        assert!(
            !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{:?}",
            words(&raw)
        );
        let w = words(&raw);
        assert_eq!(w[1..=expected.len()], expected[..], "{w:?}");
    }
    for m in [&mut by_link, &mut direct] {
        m.signal(Signal::SIGTERM);
        assert_eq!(m.wait_exit(10 * S), Some(0));
        assert!(!m.stderr().contains("cannot hide"));
    }
}

#[test]
fn help_words_given_as_values_are_values() {
    let sb = Sandbox::licensed();
    // `-s --help` is the share "--help" and `-p -h` the password "-h": the probe runs
    sb.cmd("clp_sambamon")
        .args(["h1", "-s", "--help", "-u", "bob", "-p", "-h", "--once"])
        .env("CLP_FSMON_TEST_PROBE", "ok")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("clp_sambamon OK - --help "));
    sb.cmd("clp_nfsmon")
        .args(["h1", "-d", "-V", "--once"])
        .env("CLP_FSMON_TEST_PROBE", "ok")
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("clp_nfsmon OK - -V "));
    // standing on its own it is help
    sb.cmd("clp_sambamon")
        .args(["h1", "-s", "share", "-p", "pw", "-h"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("usage: clp_sambamon ID"));
}

#[test]
fn stop_is_never_read_as_s_top() {
    let sb = Sandbox::new();
    // With no monitor running, -stop is a successful no-op, not "-s top" (which would need a licence).
    sb.cmd("clp_sambamon")
        .args(["w1", "-stop"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to stop"));
    sb.cmd("clp_nfsmon")
        .args(["w1", "-stop", "3"])
        .assert()
        .success();
    assert!(sb.alerts().is_empty());
}

#[test]
fn non_root_callers_are_refused() {
    let sb = Sandbox::new();
    for (applet, args) in [
        ("clp_sambamon", vec!["w1", "-s", "share"]),
        ("clp_nfsmon", vec!["w1", "-stop"]),
        ("clp_nfsmon", vec!["w1", "-disp"]),
    ] {
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(sb.link(applet))
            .args(&args)
            .env("CLP_FSMON_ROOT", sb.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(7), "{applet} {args:?}");
        assert!(text(&out.stderr).contains("must be run as root"));
    }
}

/// A health checker (NRPE) runs plugins as an unprivileged user: `--once` without root is a
/// plugin verdict — UNKNOWN (3) with the reason on stdout, also with `--json` — never the
/// monitors' exit 7 with nothing on stdout.
#[test]
fn once_without_root_is_unknown_with_the_reason() {
    let sb = Sandbox::licensed();
    for json in [false, true] {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(sb.link("clp_sambamon"))
            .args(["o1", "-s", "share", "--once"]);
        if json {
            c.arg("--json");
        }
        let out = c
            .env("CLP_FSMON_ROOT", sb.path())
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "json {json}: {stdout} {out:?}");
        if json {
            let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
            assert_eq!(v["status"], "UNKNOWN", "{v}");
            assert!(v["reason"].as_str().unwrap().contains("root"), "{v}");
            assert_eq!(v["alerts"][0]["id"], 54, "{v}");
        } else {
            assert!(
                stdout.starts_with(
                    "clp_sambamon UNKNOWN - Failed to check license of the clp_sambamon. ("
                ) && stdout.contains("root"),
                "{stdout}"
            );
        }
    }
    assert!(sb.alerts().is_empty(), "no alert from --once");
}

// ---- registry --------------------------------------------------------------------------

fn started(sb: &Sandbox, n: usize) -> bool {
    wait_until(10 * S, || {
        sb.event_ids().iter().filter(|&&e| e == 1).count() >= n
    })
}

#[test]
fn second_monitor_with_a_live_id_gets_14() {
    let sb = Sandbox::licensed();
    let _m = sb.spawn_monitor(
        "clp_sambamon",
        &["w1", "-s", "share", "-i", "1"],
        Some("ok"),
    );
    assert!(started(&sb, 1));
    let out = sb
        .cmd("clp_sambamon")
        .args(["w1", "-s", "other"])
        .env("CLP_FSMON_TEST_PROBE", "ok")
        .assert()
        .code(4);
    assert!(
        text(&out.get_output().stderr)
            .contains("The specified monitor id is already under use in other processes.")
    );
    assert_eq!(sb.alerts().pop().unwrap().2, 14);
    // the same ID under the other applet is a different monitor
    let _n = sb.spawn_monitor("clp_nfsmon", &["w1", "-d", "/x", "-i", "1"], Some("ok"));
    assert!(started(&sb, 2));
}

#[test]
fn kill_9_leaves_a_stale_entry_that_the_next_start_replaces() {
    let sb = Sandbox::licensed();
    let mut m = sb.spawn_monitor("clp_sambamon", &["w1", "-s", "share"], Some("ok"));
    assert!(started(&sb, 1));
    let old = m.pid();
    m.signal(Signal::SIGKILL);
    m.wait_exit(5 * S);
    // -disp shows the stale pid and says why
    let out = sb
        .cmd("clp_sambamon")
        .args(["w1", "-disp"])
        .assert()
        .code(8);
    assert_eq!(text(&out.get_output().stdout).trim(), old.to_string());
    assert!(text(&out.get_output().stderr).contains("stale entry (process gone)"));
    // the same ID starts again with no -del
    let m2 = sb.spawn_monitor("clp_sambamon", &["w1", "-s", "share"], Some("ok"));
    assert!(started(&sb, 2));
    sb.cmd("clp_sambamon")
        .args(["w1", "-disp"])
        .assert()
        .success()
        .stdout(format!("{}\n", m2.pid()));
}

#[test]
fn entry_whose_pid_was_reused_is_stale() {
    let sb = Sandbox::licensed();
    // A leftover entry naming a live, unrelated process.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let dir = sb.path().join("run/clp-fsmon/nfsmon/w7");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("lock"), b"").unwrap();
    std::fs::write(
        dir.join("entry.json"),
        format!(
            r#"{{"pid":{},"start_time":1,"id":"w7","applet":"clp_nfsmon","target":"/x","started":"then"}}"#,
            sleeper.id()
        ),
    )
    .unwrap();
    let out = sb.cmd("clp_nfsmon").args(["w7", "-disp"]).assert().code(8);
    assert!(text(&out.get_output().stderr).contains("pid reused by another program"));
    let _m = sb.spawn_monitor("clp_nfsmon", &["w7", "-d", "/x"], Some("ok"));
    assert!(started(&sb, 1));
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn del_refuses_a_live_monitor_and_removes_a_stale_one() {
    let sb = Sandbox::licensed();
    let mut m = sb.spawn_monitor("clp_nfsmon", &["d1", "-d", "/x"], Some("ok"));
    assert!(started(&sb, 1));
    sb.cmd("clp_nfsmon")
        .args(["d1", "-del"])
        .assert()
        .code(9)
        .stderr(predicate::str::contains("refusing to delete d1"));
    // still alive and still registered
    assert!(m.wait_exit(Duration::from_millis(100)).is_none());
    sb.cmd("clp_nfsmon")
        .args(["d1", "-disp"])
        .assert()
        .success();
    m.signal(Signal::SIGKILL);
    m.wait_exit(5 * S);
    sb.cmd("clp_nfsmon").args(["d1", "-del"]).assert().success();
    sb.cmd("clp_nfsmon").args(["d1", "-disp"]).assert().code(8);
    sb.cmd("clp_nfsmon").args(["d1", "-del"]).assert().code(8);
}

// ---- control ---------------------------------------------------------------------------

#[test]
fn pause_and_continue_are_acknowledged_and_logged() {
    let sb = Sandbox::licensed();
    let _m = sb.spawn_monitor(
        "clp_sambamon",
        &["p1", "-s", "share", "-i", "1"],
        Some("ok"),
    );
    assert!(sb.wait_event(2, 10 * S));
    sb.cmd("clp_sambamon")
        .args(["p1", "-pause"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok paused"));
    sb.cmd("clp_sambamon")
        .args(["p1", "-continue"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ok monitoring"));
    // The loop acknowledges a command before it raises its event (a slow alert sink must never
    // make the command look failed), so the events may follow the acknowledgements.
    assert!(
        sb.wait_event(7, 5 * S) && sb.wait_event(8, 5 * S),
        "{:?}",
        sb.event_ids()
    );
    let texts: Vec<(u16, String)> = sb.alerts().into_iter().map(|a| (a.2, a.3)).collect();
    assert!(texts.contains(&(7, "The clp_sambamon is going to stop monitoring.".into())));
    assert!(texts.contains(&(8, "The clp_sambamon is going to monitor.".into())));
    let f = sb.fault_log("sambamon");
    assert!(
        f.contains("id=p1") && f.contains("paused") && f.contains("resumed"),
        "{f}"
    );
    // not running → clear error
    sb.cmd("clp_sambamon")
        .args(["zz", "-pause"])
        .assert()
        .code(8);
}

#[test]
fn stop_returns_once_the_monitor_has_exited() {
    let sb = Sandbox::licensed();
    let mut m = sb.spawn_monitor(
        "clp_nfsmon",
        &["s1", "-d", "/export", "-i", "1"],
        Some("ok"),
    );
    assert!(sb.wait_event(2, 10 * S));
    sb.cmd("clp_nfsmon")
        .args(["s1", "-stop", "10"])
        .assert()
        .success();
    // by the time -stop returned the process is gone
    assert_eq!(m.wait_exit(Duration::from_millis(200)), Some(0));
    let last = sb.alerts().pop().unwrap();
    assert_eq!(
        (last.2, last.3.as_str()),
        (
            3,
            "The clp_nfsmon will stop watching NFS shared directory '/export'."
        )
    );
    assert!(!sb.path().join("run/clp-fsmon/nfsmon/s1").exists());
}

#[test]
fn stop_during_a_hanging_probe_ends_within_a_second() {
    let sb = Sandbox::licensed();
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &["h1", "-s", "share", "-r", "600"],
        Some("hang"),
    );
    assert!(started(&sb, 1));
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    sb.cmd("clp_sambamon")
        .args(["h1", "-stop"])
        .assert()
        .success();
    let took = t.elapsed();
    assert!(took < S, "-stop took {took:?}");
    assert_eq!(m.wait_exit(S), Some(0));
    assert_eq!(sb.event_ids().last(), Some(&3));
}

#[test]
fn stop_of_a_frozen_monitor_reports_15() {
    let sb = Sandbox::licensed();
    let m = sb.spawn_monitor("clp_sambamon", &["f1", "-s", "share"], Some("ok"));
    assert!(started(&sb, 1));
    m.signal(Signal::SIGSTOP);
    let t = Instant::now();
    let out = sb
        .cmd("clp_sambamon")
        .args(["f1", "-stop", "1"])
        .assert()
        .code(5);
    assert!(t.elapsed() < 3 * S);
    assert!(
        text(&out.get_output().stderr)
            .contains("The clp_sambamon has not performed end processing.")
    );
    assert_eq!(sb.event_ids().last(), Some(&15));
    // thawed, it takes the SIGTERM that -stop left for it and ends like -stop
    m.signal(Signal::SIGCONT);
    let mut m = m;
    assert_eq!(m.wait_exit(5 * S), Some(0));
}

#[test]
fn sigterm_ends_a_monitor_like_stop() {
    let sb = Sandbox::licensed();
    let mut m = sb.spawn_monitor("clp_nfsmon", &["t1", "-d", "/x"], Some("hang"));
    assert!(started(&sb, 1));
    m.signal(Signal::SIGTERM);
    assert_eq!(m.wait_exit(S), Some(0));
    assert_eq!(sb.event_ids().last(), Some(&3));
}

// ---- faults ----------------------------------------------------------------------------

#[test]
fn fault_after_c_failures_exits_1_with_the_error_then_6() {
    let sb = Sandbox::licensed();
    let t = Instant::now();
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &["e1", "-s", "share", "-i", "1", "-c", "3"],
        Some("ok,fail"),
    );
    assert_eq!(m.wait_exit(20 * S), Some(1));
    // ok, then 3 failures 1 s apart: about 3 s
    let took = t.elapsed();
    assert!(took >= 3 * S && took < 8 * S, "{took:?}");
    let ids = sb.event_ids();
    assert_eq!(ids, vec![1, 2, 72, 6], "{:?}", sb.alert_log());
    let a = sb.alerts();
    assert_eq!(
        a[2].3,
        "The clp_sambamon has detected network error(connect error[111])."
    );
    assert_eq!(a[3].3, "The clp_sambamon will terminate.");
    let f = sb.fault_log("sambamon");
    for k in 1..=3 {
        assert!(
            f.contains(&format!("probe failed {k}/3 phase=connect")),
            "{f}"
        );
    }
    assert!(!f.contains("probe failed 4/3"));
    // the ID is free again
    assert!(!sb.path().join("run/clp-fsmon/sambamon/e1").exists());
}

#[test]
fn hanging_probes_are_cut_at_r_and_count_as_failures() {
    let sb = Sandbox::licensed();
    let t = Instant::now();
    let mut m = sb.spawn_monitor(
        "clp_nfsmon",
        &["e2", "-d", "/exp", "-i", "1", "-c", "2", "-r", "1"],
        Some("hang"),
    );
    assert_eq!(m.wait_exit(20 * S), Some(1));
    let took = t.elapsed();
    // two probes cut at 1 s (+0.1 s grace) with 1 s between them
    assert!(
        took >= 3 * S && took < Duration::from_millis(5500),
        "{took:?}"
    );
    let a = sb.alerts();
    let tail: Vec<(u16, &str)> = a.iter().skip(1).map(|x| (x.2, x.3.as_str())).collect();
    assert_eq!(
        tail,
        vec![
            (0, "clp_nfsmon: RPC: Timed out"),
            (66, "The clp_nfsmon has detected an error in NFS."),
            (6, "The clp_nfsmon will terminate."),
        ]
    );
    assert!(
        sb.fault_log("nfsmon")
            .contains("probe failed 2/2 phase=wait")
    );
}

// ---- alert formatting --------------------------------------------------------------------

#[test]
fn alerts_reach_syslog_and_long_lines_are_split_at_255_bytes() {
    let sb = Sandbox::licensed();
    let sock = sb.syslog();
    let share = "s".repeat(250);
    let mut m = sb.spawn_monitor("clp_sambamon", &["l1", "-s", &share, "-i", "1"], Some("ok"));
    assert!(sb.wait_event(2, 10 * S));
    sb.cmd("clp_sambamon")
        .args(["l1", "-stop"])
        .assert()
        .success();
    m.wait_exit(5 * S);
    let host = nix::unistd::gethostname().unwrap().into_string().unwrap();
    let a = sb.alerts();
    // event 2 with a 250-byte share is longer than 255 bytes: two lines, both event 2
    let twos: Vec<&String> = a.iter().filter(|x| x.2 == 2).map(|x| &x.3).collect();
    assert_eq!(twos.len(), 2);
    assert_eq!(twos[0].len(), 255);
    assert_eq!(
        format!("{}{}", twos[0], twos[1]),
        format!("The clp_sambamon is going to watch share resource [{share}].")
    );
    for x in &a {
        assert_eq!(x.0, host);
        assert_eq!(x.1, "sambamon");
        assert!(x.3.len() <= 255);
    }
    // the alert log's time column
    let first = sb.alert_log().lines().next().unwrap().to_owned();
    let time = first.split('\t').next().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(time, "%Y/%m/%d %H:%M:%S").is_ok(),
        "{time}"
    );
    // syslog got the same events, RFC 3164 with module and event ID
    let mut buf = [0u8; 2048];
    let mut got = Vec::new();
    while let Ok(n) = sock.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if got.iter().any(|g| g.contains("ID 3:")) {
            break;
        }
    }
    assert!(got[0].starts_with("<29>"), "{got:?}");
    assert!(
        got[0].contains(&format!(" {host} clp_sambamon[")),
        "{got:?}"
    );
    assert!(
        got[0].ends_with("]: sambamon: ID 1: The clp_sambamon has started watching Samba."),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|g| g.contains("ID 3: The clp_sambamon will stop watching Samba ["))
    );
}

// ---- licence check at monitor start -------------------------------------------------------

use crate::rig::license;

/// Starts a monitor (scripted probe `ok`, stopped right after it starts) and returns
/// (exit code, alert log events as (id, text)).
fn start_under_licence(sb: &Sandbox, applet: &str) -> (i32, Vec<(u16, String)>, String) {
    let target = if applet == "clp_sambamon" { "-s" } else { "-d" };
    let mut m = sb.spawn_monitor(applet, &["lic1", target, "x"], Some("ok"));
    let code = m.wait_exit(Duration::from_millis(1500)).unwrap_or_else(|| {
        sb.cmd(applet).args(["lic1", "-stop"]).assert().success();
        m.wait_exit(5 * S).unwrap()
    });
    let err = m.stderr();
    (
        code,
        sb.alerts().into_iter().map(|a| (a.2, a.3)).collect(),
        err,
    )
}

#[test]
fn no_licence_is_51_and_refuses() {
    let sb = Sandbox::new();
    for applet in ["clp_sambamon", "clp_nfsmon"] {
        let (code, a, _) = start_under_licence(&sb, applet);
        assert_eq!(code, 3);
        assert_eq!(
            a.last().unwrap(),
            &(51, format!("The license of {applet} is not registered."))
        );
        assert!(!a.iter().any(|x| x.0 == 1), "refused before starting");
    }
}

#[test]
fn trial_in_force_is_52_and_runs() {
    let sb = Sandbox::new();
    license::register_trial(sb.path(), "2020-01-01", "2099-12-31");
    let (code, a, err) = start_under_licence(&sb, "clp_nfsmon");
    assert_eq!(code, 0, "stopped on request");
    assert_eq!(
        a[0],
        (52, "Trial Period of clp_nfsmon is till 12/31/2099.".into())
    );
    assert_eq!(a[1].0, 1);
    assert!(!err.contains("licence warning"));
}

#[test]
fn trial_ending_within_a_week_warns() {
    let sb = Sandbox::new();
    let until = chrono::Local::now().date_naive() + chrono::Days::new(3);
    license::register_trial(
        sb.path(),
        "2020-01-01",
        &until.format("%Y-%m-%d").to_string(),
    );
    let (code, a, err) = start_under_licence(&sb, "clp_sambamon");
    assert_eq!(code, 0);
    assert_eq!(a[0].0, 52);
    assert!(
        err.contains("licence warning: the trial licence ends in 4 day(s)"),
        "{err}"
    );
    assert!(sb.fault_log("sambamon").contains("licence warning"));
}

#[test]
fn expired_trial_is_53_and_not_yet_valid_is_55() {
    let sb = Sandbox::new();
    license::register_trial(sb.path(), "2020-01-01", "2020-12-31");
    let (code, a, _) = start_under_licence(&sb, "clp_sambamon");
    assert_eq!(code, 3);
    assert_eq!(
        a.last().unwrap(),
        &(53, "The license of trial expired by 12/31/2020.".into())
    );

    let sb = Sandbox::new();
    license::register_trial(sb.path(), "2099-01-01", "2099-12-31");
    let (code, a, _) = start_under_licence(&sb, "clp_nfsmon");
    assert_eq!(code, 3);
    assert_eq!(
        a.last().unwrap(),
        &(55, "The license of trial is valid from 01/01/2099.".into())
    );
}

#[test]
fn corrupt_store_is_54_and_refuses() {
    let sb = Sandbox::licensed();
    let dir = license::store_dir(sb.path());
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .expect("a store file");
    let data = std::fs::read(&file).unwrap();
    std::fs::write(&file, &data[..data.len() / 2]).unwrap();
    let (code, a, err) = start_under_licence(&sb, "clp_sambamon");
    assert_eq!(code, 3);
    assert_eq!(
        a.last().unwrap(),
        &(54, "Failed to check license of the clp_sambamon.".into())
    );
    assert!(err.contains("licence store"), "{err}");
}

#[test]
fn key_held_by_another_server_is_56_at_monitor_start() {
    // Two servers registered the same key while their stores were apart; then the cluster's
    // store is shared (B's file lands beside A's): A's monitor must refuse.
    let a = Sandbox::new();
    let b = Sandbox::new();
    license::server(a.path(), "nodea", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", None);
    license::server(b.path(), "nodeb", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", None);
    license::register_product(a.path());
    license::register_product(b.path());
    let (code, _, _) = start_under_licence(&a, "clp_nfsmon");
    assert_eq!(code, 0, "alone, A's licence is fine");
    for e in std::fs::read_dir(license::store_dir(b.path())).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.') {
            std::fs::copy(
                &p,
                license::store_dir(a.path()).join(p.file_name().unwrap()),
            )
            .unwrap();
        }
    }
    let (code, ev, _) = start_under_licence(&a, "clp_nfsmon");
    assert_eq!(code, 3);
    assert_eq!(
        ev.last().unwrap(),
        &(56, "The registration license overlaps.".into())
    );
}

#[test]
fn another_servers_damaged_store_file_is_54_and_the_monitor_runs() {
    // In a shared store one server's file is damaged: that server's monitor refuses (54), every
    // other server's monitor reports the file (54, naming it) and runs.
    let sb = Sandbox::licensed();
    let damaged = license::store_dir(sb.path()).join("nodex@ffffffffffffffffffffffffffffffff.lic");
    std::fs::write(&damaged, b"{ not a store file").unwrap();
    let (code, ev, err) = start_under_licence(&sb, "clp_nfsmon");
    assert_eq!(code, 0, "{ev:?} {err}");
    assert!(
        ev.iter()
            .any(|e| *e == (54, "Failed to check license of the clp_nfsmon.".into())),
        "{ev:?}"
    );
    assert!(ev.iter().any(|e| e.0 == 1), "it started: {ev:?}");
    assert!(
        err.contains(&damaged.display().to_string()) && err.contains("is corrupt"),
        "{err}"
    );
}

#[test]
fn stop_reaches_a_monitor_that_is_still_starting() {
    // A stand-in for a monitor in its start-up window: it holds the registry lock at once but
    // writes its entry only 300 ms later, has no control socket, and ends on SIGTERM (as the
    // monitor's signal thread does). -stop must keep asking until it can, not give up.
    let sb = Sandbox::licensed();
    let dir = sb.path().join("run/clp-fsmon/nfsmon/st1");
    std::fs::create_dir_all(&dir).unwrap();
    let script = r#"exec 9>"$D/lock"; flock -x 9
        sleep 0.3
        st=$(awk '{print $22}' /proc/$$/stat)
        printf '{"pid":%s,"start_time":%s,"id":"st1","applet":"clp_nfsmon","target":"/x","started":"now"}' $$ "$st" > "$D/entry.json"
        trap 'exit 0' TERM
        i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done"#;
    let mut fake = crate::rig::Monitor {
        child: Command::new("sh")
            .args(["-c", script])
            .env("D", &dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    };
    assert!(wait_until(5 * S, || sb
        .cmd("clp_nfsmon")
        .args(["st1", "-disp"])
        .output()
        .unwrap()
        .status
        .success()));
    let t = Instant::now();
    sb.cmd("clp_nfsmon")
        .args(["st1", "-stop", "5"])
        .assert()
        .success();
    assert!(t.elapsed() < 3 * S, "{:?}", t.elapsed());
    assert_eq!(fake.wait_exit(2 * S), Some(0));
}

#[test]
fn stop_right_after_launch_always_ends_the_monitor() {
    // The cluster's start script launches the monitor asynchronously; a stop script may run at
    // once. -stop must end the monitor even before it has claimed its ID.
    let sb = Sandbox::licensed();
    for round in 0..20 {
        let mut m = sb.spawn_monitor("clp_nfsmon", &["r1", "-d", "/x", "-i", "1"], Some("ok"));
        sb.cmd("clp_nfsmon")
            .args(["r1", "-stop", "5"])
            .assert()
            .success();
        let ended = m.wait_exit(S);
        assert!(
            m.child.try_wait().unwrap().is_some(),
            "round {round}: the monitor survived -stop ({ended:?})"
        );
    }
}

#[test]
fn stop_while_a_start_script_sleeps_before_exec_ends_the_monitor() {
    // A start script's shell that execs the monitor a second later: -stop comes while nothing
    // has claimed the ID yet (and no process looks like a monitor). The monitor must end as soon
    // as it claims the ID, as stopped on request, without ever probing.
    let sb = Sandbox::licensed();
    let mut m = crate::rig::Monitor {
        child: Command::new("sh")
            .args(["-c", r#"sleep 1; exec "$0" "$@""#])
            .arg(sb.link("clp_sambamon"))
            .args(["x1", "-s", "share", "-i", "1"])
            .env("CLP_FSMON_ROOT", sb.path())
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    };
    std::thread::sleep(Duration::from_millis(200));
    sb.cmd("clp_sambamon")
        .args(["x1", "-disp"])
        .assert()
        .code(8);
    let t = Instant::now();
    sb.cmd("clp_sambamon")
        .args(["x1", "-stop", "5"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to stop"));
    assert!(t.elapsed() < S, "-stop waited: {:?}", t.elapsed());
    assert_eq!(
        m.wait_exit(5 * S),
        Some(0),
        "the monitor ran on after -stop"
    );
    assert!(t.elapsed() < 4 * S, "{:?}", t.elapsed());
    let alerts: Vec<(u16, String)> = sb.alerts().into_iter().map(|a| (a.2, a.3)).collect();
    assert_eq!(
        alerts,
        [(
            3,
            "The clp_sambamon will stop watching Samba [share].".to_owned()
        )]
    );
    let f = sb.fault_log("sambamon");
    assert!(f.contains("stopped on request"), "{f}");
    assert!(!f.contains("start target="), "the loop ran: {f}");
    // The stop was for the launch under way: a monitor started afterwards runs.
    let mut n = sb.spawn_monitor(
        "clp_sambamon",
        &["x1", "-s", "share", "-i", "1"],
        Some("ok"),
    );
    assert!(started(&sb, 1));
    assert!(n.wait_exit(Duration::from_millis(300)).is_none());
    sb.cmd("clp_sambamon")
        .args(["x1", "-stop", "5"])
        .assert()
        .success();
    assert_eq!(n.wait_exit(S), Some(0));
}

#[test]
fn a_script_that_runs_stop_then_execs_the_monitor_restarts_it() {
    // The shell that ran -stop (nothing was running) then execs the monitor itself: its process
    // started before the stop intent, but as the intent's issuer it does not honour it.
    let sb = Sandbox::licensed();
    let mut m = crate::rig::Monitor {
        child: Command::new("sh")
            .args(["-c", r#""$0" x2 -stop 5 && exec "$0" x2 -s share -i 1"#])
            .arg(sb.link("clp_sambamon"))
            .env("CLP_FSMON_ROOT", sb.path())
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    };
    assert!(sb.wait_event(2, 10 * S), "{}", sb.alert_log());
    assert!(m.wait_exit(Duration::from_millis(300)).is_none());
    assert!(!sb.event_ids().contains(&3));
    sb.cmd("clp_sambamon")
        .args(["x2", "-stop", "5"])
        .assert()
        .success();
    assert_eq!(m.wait_exit(S), Some(0));
}

/// A process running as `uid` the binary as `clp_sambamon ID -s share` (the command line of a
/// monitor, in the sandbox), with SIGTERM blocked and stuck writing to a full pipe, so it stays
/// and any SIGTERM sent to it stays pending. Returns it and the pipe's read end.
fn decoy(sb: &Sandbox, id: &str, uid: u32) -> (crate::rig::Monitor, std::os::fd::OwnedFd) {
    use std::os::unix::process::CommandExt;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    let flags = nix::fcntl::OFlag::from_bits_truncate(
        nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_GETFL).unwrap(),
    );
    nix::fcntl::fcntl(
        &w,
        nix::fcntl::FcntlArg::F_SETFL(flags | nix::fcntl::OFlag::O_NONBLOCK),
    )
    .unwrap();
    while nix::unistd::write(&w, &[0u8; 4096]).is_ok() {}
    nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_SETFL(flags)).unwrap();
    let mut c = Command::new(crate::rig::binary());
    c.arg0("clp_sambamon")
        .args([id, "-s", "share"])
        .env("CLP_FSMON_ROOT", sb.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(w))
        .uid(uid)
        .gid(uid);
    // SAFETY: sigprocmask is async-signal-safe; the blocked mask survives exec.
    unsafe {
        c.pre_exec(|| {
            let mut set = nix::sys::signal::SigSet::empty();
            set.add(Signal::SIGTERM);
            set.thread_block().map_err(std::io::Error::from)
        });
    }
    let child = c.spawn().unwrap();
    (crate::rig::Monitor { child }, r)
}

/// Whether SIGTERM is pending for `pid` (thread or process).
fn sigterm_pending(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("SigPnd:")
                .or_else(|| l.strip_prefix("ShdPnd:"))
        })
        .any(|mask| u64::from_str_radix(mask.trim(), 16).unwrap() & (1 << 14) != 0)
}

#[test]
fn a_non_root_process_with_a_monitors_arguments_is_left_alone() {
    crate::rig::require_root("starting a process as another user");
    let sb = Sandbox::licensed();
    let (mut d, _pipe) = decoy(&sb, "n1", 65534);
    // it has exec'd the binary and is stuck on its refusal (not root)
    assert!(wait_until(5 * S, || std::fs::read_link(format!(
        "/proc/{}/exe",
        d.pid()
    ))
    .is_ok_and(
        |e| e == std::fs::canonicalize(crate::rig::binary()).unwrap()
    )));
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    sb.cmd("clp_sambamon")
        .args(["n1", "-stop", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to stop"));
    assert!(t.elapsed() < S, "-stop was delayed: {:?}", t.elapsed());
    assert!(d.wait_exit(Duration::ZERO).is_none(), "the decoy ended");
    assert!(!sigterm_pending(d.pid()), "the decoy was sent SIGTERM");
    assert!(sb.alerts().is_empty(), "{}", sb.alert_log());
}

/// Command-line words as `OsStr`s.
fn os_args(v: &[&'static str]) -> Vec<&'static std::ffi::OsStr> {
    v.iter().map(|s| std::ffi::OsStr::new(*s)).collect()
}

#[test]
fn once_usage_errors_are_unknown_on_stdout() {
    use std::os::unix::ffi::OsStrExt;
    let sb = Sandbox::new();
    let unknown = |applet: &str, args: &[&std::ffi::OsStr]| {
        let out = sb.cmd(applet).args(args).assert().code(3);
        text(&out.get_output().stdout)
    };
    assert_eq!(
        unknown("clp_sambamon", &os_args(&["--once"])),
        "clp_sambamon UNKNOWN - The monitor id is not specified at the clp_sambamon command.\n"
    );
    assert_eq!(
        unknown("clp_nfsmon", &os_args(&["o1", "--once"])),
        "clp_nfsmon UNKNOWN - '-d' parameter is not specified at the clp_nfsmon command.\n"
    );
    assert_eq!(
        unknown(
            "clp_sambamon",
            &os_args(&["o1", "-s", "x", "-i", "0", "--once"])
        ),
        "clp_sambamon UNKNOWN - Invalid parameter in the clp_sambamon. \
(-i must be a whole number from 1 to 10000, got \"0\")\n"
    );
    let mut bad_utf8 = os_args(&["o1", "--once", "-s"]);
    bad_utf8.push(std::ffi::OsStr::from_bytes(b"\xff"));
    assert!(
        unknown("clp_sambamon", &bad_utf8)
            .starts_with("clp_sambamon UNKNOWN - Invalid parameter in the clp_sambamon. (arguments must be valid UTF-8)")
    );
    // refused after parsing, by the probe (no scripted probe here: the real factory runs)
    assert!(
        unknown("clp_sambamon", &os_args(&["o1", "-s", r"a\b", "--once"])).starts_with(
            "clp_sambamon UNKNOWN - Invalid parameter in the clp_sambamon. (bad share name"
        )
    );
    // --json gets one JSON object
    let j: serde_json::Value = serde_json::from_str(&unknown(
        "clp_nfsmon",
        &os_args(&["o1", "-d", "/x", "--once", "--json", "-z"]),
    ))
    .unwrap();
    assert_eq!(j["status"], "UNKNOWN");
    assert_eq!(j["alerts"][0]["id"], 11);
    assert_eq!(
        j["alerts"][0]["text"],
        "Invalid parameter in the clp_nfsmon."
    );
    assert_eq!(j["reason"], "unknown option \"-z\"");
    // a verdict for the checker, no alert; without --once the same line is still event 11, exit 2
    assert!(sb.alerts().is_empty(), "{}", sb.alert_log());
    expect_event(
        &sb,
        "clp_sambamon",
        &["o1", "-s", r"a\b"],
        11,
        "Invalid parameter in the clp_sambamon.",
    );
}

#[test]
fn once_without_a_licence_is_unknown_and_says_why() {
    let sb = Sandbox::new();
    sb.cmd("clp_sambamon")
        .args(["o1", "-s", "share", "--once"])
        .env("CLP_FSMON_TEST_PROBE", "ok")
        .assert()
        .code(3)
        .stdout("clp_sambamon UNKNOWN - The license of clp_sambamon is not registered.\n");
    let sb = Sandbox::licensed();
    sb.cmd("clp_nfsmon")
        .args(["o1", "-d", "/x", "--once"])
        .env("CLP_FSMON_TEST_PROBE", "fail")
        .assert()
        .code(2)
        .stdout(predicate::str::starts_with(
            "clp_nfsmon CRITICAL - /x connect: ECONNREFUSED (111)",
        ));
}
