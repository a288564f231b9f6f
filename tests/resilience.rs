//! The runtime under hostile surroundings, through the real binary: a full run directory (the
//! system-error alert keeps its errno), closed or broken stdout/stderr (no panic, no abort),
//! hanging alert sinks (`clplogcmd`, a syslog socket that never reads) and idle control
//! clients — none of them may delay detection or `-stop`. Probes are scripted.

use std::fs;
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clp_fsmon::alert::Module;
use clp_fsmon::monitor::registry::Registry;
use clp_fsmon::paths::Paths;

use crate::rig::Sandbox;

const S: Duration = Duration::from_secs(1);

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

// ---- system errors keep their errno --------------------------------------------------------

/// A monitor whose run directory is a full file system cannot write its registry entry: event
/// 42 names the call and ENOSPC (28), never 0. The tmpfs lives in a private mount namespace.
#[test]
fn full_run_dir_reports_write_entry_28() {
    let sb = Sandbox::licensed();
    let run = sb.path().join("run");
    fs::create_dir_all(&run).unwrap();
    let script = "mount -t tmpfs -o size=16k clp-full \"$1\" || exit 99; \
                  dd if=/dev/zero of=\"$1/fill\" bs=4096 2>/dev/null; shift; exec \"$@\"";
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(&run)
        .arg(sb.link("clp_sambamon"))
        .args(["full", "-s", "data", "-i", "1"])
        .env("CLP_FSMON_ROOT", sb.path())
        .env("CLP_FSMON_TEST_PROBE", "ok")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    let a = sb.alerts();
    assert!(
        a.iter()
            .any(|x| x.2 == 42
                && x.3 == "The clp_sambamon has detected system error (write entry 28)."),
        "{a:?} {err}"
    );
}

// ---- control clients -----------------------------------------------------------------------

/// A client that connects to a monitor's control socket and says nothing must not delay
/// another client's `-stop` (it did by the whole 5 s exchange timeout).
#[test]
fn an_idle_control_client_does_not_delay_stop() {
    let sb = Sandbox::licensed();
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &["idle", "-s", "data", "-i", "1"],
        Some("ok"),
    );
    assert!(sb.wait_event(2, 10 * S), "{}", m.stderr());
    let sock = Registry::new(&Paths::with_root(sb.path()), Module::Sambamon).socket_path("idle");
    let idle: Vec<UnixStream> = (0..3)
        .map(|_| UnixStream::connect(&sock).unwrap())
        .collect();
    let t = Instant::now();
    sb.cmd("clp_sambamon")
        .args(["idle", "-stop"])
        .assert()
        .success();
    let took = t.elapsed();
    assert!(took < S, "-stop took {took:?} behind idle clients");
    assert_eq!(m.wait_exit(5 * S), Some(0));
    assert_eq!(sb.event_ids(), [1, 2, 3]);
    drop(idle);
}
