//! The shell helpers the demo, the benchmarks and the CI scripts share (contrib/lib/servers.sh):
//! the temporary policy-rc.d never outlives an install, and the servers they started are stopped
//! by their own pid only while that pid is still theirs, and killed when they do not end.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::rig::wait_until;

const S: Duration = Duration::from_secs(1);

fn servers_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/lib/servers.sh")
}

/// `sh -c '. servers.sh; SCRIPT'` in a session of its own (so a signal can go to its whole
/// process group, as Ctrl-C does), with `PATH` starting at `bin`.
fn helper(script: &str, bin: &Path, env: &[(&str, &Path)]) -> Child {
    let mut c = Command::new("setsid");
    c.args(["sh", "-c"])
        .arg(format!(". '{}'; {script}", servers_sh().display()))
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

fn wait_exit(c: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    loop {
        if let Some(st) = c.try_wait().unwrap() {
            return Some(st);
        }
        if Instant::now() >= end {
            let _ = c.kill();
            let _ = c.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A fake `apt-get` on PATH: `update` succeeds, `install` fails or hangs.
fn fake_apt(dir: &Path, install: &str) -> PathBuf {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let apt = bin.join("apt-get");
    fs::write(
        &apt,
        format!("#!/bin/sh\ncase \" $* \" in *\" install \"*) {install} ;; esac\nexit 0\n"),
    )
    .unwrap();
    fs::set_permissions(&apt, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// The policy-rc.d that keeps packages from starting their services is gone after the install,
/// whether it failed or was interrupted (Ctrl-C: INT to the process group; TERM likewise).
#[test]
fn the_temporary_policy_rc_d_never_outlives_the_install() {
    for how in ["fails", "INT", "TERM"] {
        let d = tempfile::tempdir().unwrap();
        let rc = d.path().join("policy-rc.d");
        let install = if how == "fails" {
            "exit 100"
        } else {
            "exec sleep 30"
        };
        let bin = fake_apt(d.path(), install);
        let mut c = helper(
            "fsmon_install_deps clp-fsmon-no-such-package",
            &bin,
            &[("FSMON_POLICY_RC", &rc)],
        );
        if how != "fails" {
            assert!(
                wait_until(10 * S, || rc.exists()),
                "{how}: no policy-rc.d made"
            );
            let sig = if how == "INT" {
                Signal::SIGINT
            } else {
                Signal::SIGTERM
            };
            killpg(Pid::from_raw(c.id().cast_signed()), sig).unwrap();
        }
        let st = wait_exit(&mut c, 10 * S).expect("the install did not end");
        assert!(!st.success(), "{how}: {st:?}");
        // The subshell that made it removes it in its own EXIT trap, an instant after the
        // shell that ran it was ended.
        assert!(
            wait_until(5 * S, || !rc.exists()),
            "{how}: policy-rc.d left behind"
        );
        // Nothing of the fake install is left running.
        let _ = killpg(Pid::from_raw(c.id().cast_signed()), Signal::SIGKILL);
    }
}

/// A process standing in for the smbd a script started: it ignores SIGTERM (when `stubborn`).
fn stand_in(stubborn: bool) -> Child {
    let code = if stubborn {
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    } else {
        "import time; time.sleep(60)"
    };
    Command::new("python3").args(["-c", code]).spawn().unwrap()
}

fn start_time(pid: u32) -> String {
    clp_fsmon::sys::process_start_time(pid)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// `fsmon_stop_servers` stops the smbd it started by its pid only while the pid is still that
/// smbd (same start time), and kills it when it does not end within its 5 s.
#[test]
fn stopping_the_servers_signals_only_their_own_pid_and_kills_a_stubborn_one() {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    // A pid that is no longer the smbd that was started (reused): left alone.
    let mut other = stand_in(false);
    let script = format!(
        "SMBD_PID={} SMBD_START=1; fsmon_stop_servers clpfs-no-such-ns",
        other.id()
    );
    let mut c = helper(&script, &bin, &[]);
    assert!(wait_exit(&mut c, 20 * S).is_some_and(|s| s.success()));
    assert!(
        other.try_wait().unwrap().is_none(),
        "a pid that is not ours was signalled"
    );
    let _ = other.kill();
    let _ = other.wait();
    // Ours, but it ignores SIGTERM: killed after the wait.
    let mut smbd = stand_in(true);
    std::thread::sleep(Duration::from_millis(300));
    let script = format!(
        "SMBD_PID={} SMBD_START={}; fsmon_stop_servers clpfs-no-such-ns",
        smbd.id(),
        start_time(smbd.id())
    );
    let t = Instant::now();
    let mut c = helper(&script, &bin, &[]);
    assert!(wait_exit(&mut c, 20 * S).is_some_and(|s| s.success()));
    let st = wait_exit(&mut smbd, 2 * S);
    assert!(
        st.is_some_and(|s| s.code().is_none()),
        "a stubborn smbd survived ({st:?})"
    );
    assert!(t.elapsed() < 10 * S, "{:?}", t.elapsed());
    let _ = kill(Pid::from_raw(smbd.id().cast_signed()), Signal::SIGKILL);
}
