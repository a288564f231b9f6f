//! The files root reads and writes, through the real binary: the licence store is read within
//! bounds (a FIFO, a device, a link to /dev/zero or a huge `*.lic` is event 54 at once, and a
//! monitor blocked in its licence check still honours `-stop` and SIGTERM); nothing is written
//! through a symbolic link planted at a log, registry or licence file, nor in a product directory
//! another user can change; logs rotated under a running monitor keep receiving its lines.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use predicates::prelude::*;

use crate::rig::license::{self, PRODUCT};
use crate::rig::storage::{Fault, Storage};
use crate::rig::{Monitor, Sandbox, wait_until};

const S: Duration = Duration::from_secs(1);

/// Datagrams received on a sandbox's syslog socket until `limit` passes with none new, or one
/// contains `until`.
fn syslog_lines(sock: &std::os::unix::net::UnixDatagram, until: &str) -> Vec<String> {
    let mut buf = [0u8; 4096];
    let mut got = Vec::new();
    sock.set_read_timeout(Some(3 * S)).unwrap();
    while let Ok(n) = sock.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if got.last().is_some_and(|l| l.contains(until)) {
            break;
        }
    }
    got
}

fn log_dir(sb: &Sandbox) -> PathBuf {
    sb.path().join("var/log/clp-fsmon")
}

/// Stops monitor `id` of `applet` and checks it ended on request.
fn stop(sb: &Sandbox, applet: &str, id: &str, m: &mut Monitor) {
    sb.cmd(applet).args([id, "-stop", "5"]).assert().success();
    assert_eq!(m.wait_exit(2 * S), Some(0));
}

// ---- the licence store, read within bounds -------------------------------------------

/// Plants something that is not a usable store file under a `*.lic` name.
fn plant(store: &Path, kind: &str) -> PathBuf {
    let p = store.join(format!("{kind}@0123.lic"));
    match kind {
        "fifo" => nix::unistd::mkfifo(&p, nix::sys::stat::Mode::S_IRWXU).unwrap(),
        "zero" => std::os::unix::fs::symlink("/dev/zero", &p).unwrap(),
        "device" => nix::sys::stat::mknod(
            &p,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::S_IRUSR,
            nix::sys::stat::makedev(1, 5), // /dev/zero
        )
        .unwrap(),
        "huge" => fs::File::create(&p).unwrap().set_len(1 << 30).unwrap(),
        _ => unreachable!(),
    }
    p
}

const PLANTED: [(&str, &str); 4] = [
    ("fifo", "a FIFO"),
    ("zero", "a symbolic link"),
    ("device", "a character device"),
    ("huge", "larger than 65536 bytes"),
];

/// Another server's store file that is not a usable file is reported at once (54 naming it and
/// why) and left out: the monitor runs on its own valid licence; `clplcnsc -l` lists the file
/// as unreadable and exits 3.
#[test]
fn unusable_store_files_are_event_54_at_once_for_monitors_and_clplcnsc() {
    for (kind, why) in PLANTED {
        let sb = Sandbox::licensed();
        let planted = plant(&license::store_dir(sb.path()), kind);
        let t = Instant::now();
        let mut m = sb.spawn_monitor("clp_nfsmon", &["b1", "-d", "/x"], Some("ok"));
        let started = wait_until(5 * S, || sb.alerts().iter().any(|a| a.2 == 1));
        let took = t.elapsed();
        stop(&sb, "clp_nfsmon", "b1", &mut m);
        assert!(
            started,
            "{kind}: the monitor did not start: {:?}",
            sb.alerts()
        );
        assert!(took < 5 * S, "{kind}: {took:?}");
        let err = m.stderr();
        assert!(
            err.contains(&planted.display().to_string()) && err.contains(why),
            "{kind}: {err}"
        );
        let events: Vec<(u16, String)> = sb.alerts().into_iter().map(|a| (a.2, a.3)).collect();
        let at = |e: (u16, &str)| events.iter().position(|x| x.0 == e.0 && x.1 == e.1);
        assert!(
            at((54, "Failed to check license of the clp_nfsmon."))
                < events.iter().position(|x| x.0 == 1),
            "{kind}: 54 before the start: {events:?}"
        );
        assert!(
            at((54, "Failed to check license of the clp_nfsmon.")).is_some(),
            "{kind}: {events:?}"
        );
        let t = Instant::now();
        sb.cmd("clplcnsc")
            .args(["-l", "-p", PRODUCT])
            .timeout(10 * S)
            .assert()
            .code(3)
            .stdout(
                predicate::str::contains("AB123456")
                    .and(predicate::str::contains(format!("{kind}@0123.lic"))),
            )
            .stderr(predicate::str::contains(why));
        assert!(
            t.elapsed() < 5 * S,
            "{kind}: clplcnsc -l took {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn a_huge_store_file_is_refused_without_reading_it() {
    // 1 GiB named *.lic under a 256 MiB address-space limit: reading it would fail to allocate.
    let sb = Sandbox::licensed();
    plant(&license::store_dir(sb.path()), "huge");
    let out = std::process::Command::new("prlimit")
        .arg(format!("--as={}", 256 << 20))
        .arg("--")
        .arg(sb.link("clplcnsc"))
        .args(["-l", "-p", PRODUCT])
        .env("CLP_FSMON_ROOT", sb.path())
        .env("MALLOC_ARENA_MAX", "1")
        .output()
        .expect("prlimit (util-linux) is needed for this test");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("larger than 65536 bytes"), "{err}");
}

/// `--once` on a server whose licence store or host identity hangs (a stopped FUSE or NFS
/// server) answers UNKNOWN within the licence check's limit instead of hanging with the health
/// checker: the store's own bound names the store; the host identity (`etc/hostname`,
/// `etc/machine-id`) is bounded by the check's limit.
#[test]
fn once_answers_unknown_within_its_limit_when_the_licence_store_hangs() {
    let limit = clp_fsmon::license::CHECK_LIMIT;
    for hangs in ["store", "etc"] {
        let sb = Sandbox::licensed();
        let dir = if hangs == "store" {
            license::store_dir(sb.path())
        } else {
            license::server(sb.path(), "node1", "11111111111111111111111111111111", None);
            sb.path().join("etc")
        };
        let src = sb.path().join("hung-src");
        fs::rename(&dir, &src).unwrap();
        fs::create_dir(&dir).unwrap();
        // Every look below `dir` (even a stat) blocks until the drop continues the daemon.
        let hung = Storage::fuse_over(&src, &dir);
        hung.inject(Fault::Hang);
        let t = Instant::now();
        let out = sb
            .cmd("clp_sambamon")
            .args(["o1", "-s", "share", "--once"])
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .timeout(limit + 15 * S)
            .output()
            .unwrap();
        let took = t.elapsed();
        drop(hung);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(3),
            "{hangs}: after {took:?}: {out:?}"
        );
        assert!(took < limit + 3 * S, "{hangs}: answered after {took:?}");
        let why = if hangs == "store" {
            format!("{}: licence store did not finish within", dir.display())
        } else {
            format!("the licence check did not end within {} s", limit.as_secs())
        };
        assert!(
            stdout
                .starts_with("clp_sambamon UNKNOWN - Failed to check license of the clp_sambamon.")
                && stdout.contains(&why),
            "{hangs}: {stdout}"
        );
    }
}

/// `clplcnsc -i --file F` reads F within bounds: a FIFO nobody writes is refused at once (it
/// blocked forever), `/dev/zero` under a 256 MiB address-space limit is refused without reading
/// it (it exhausted memory), both as a bad licence file (exit 2) with the reason; a link to a
/// licence file is read.
#[test]
fn a_licence_file_is_read_within_bounds() {
    let sb = Sandbox::new();
    let fifo = sb.path().join("licence.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    for (file, why) in [
        (fifo.as_path(), "a FIFO"),
        (Path::new("/dev/zero"), "a character device"),
    ] {
        let t = Instant::now();
        let out = std::process::Command::new("timeout")
            .args(["20", "prlimit"])
            .arg(format!("--as={}", 256 << 20))
            .arg("--")
            .arg(sb.link("clplcnsc"))
            .args(["-i", "-p", PRODUCT, "--file"])
            .arg(file)
            .env("CLP_FSMON_ROOT", sb.path())
            .env("MALLOC_ARENA_MAX", "1")
            .output()
            .expect("timeout (coreutils) and prlimit (util-linux) are needed for this test");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", file.display());
        assert!(t.elapsed() < 5 * S, "{}: {:?}", file.display(), t.elapsed());
        assert!(
            err.contains(&file.display().to_string()) && err.contains(why),
            "{err}"
        );
    }
    let real = license::product_file(&sb.path().join("files"), "AB123456", "bounds-1");
    let link = sb.path().join("licence-link.lic");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    sb.cmd("clplcnsc")
        .args(["-i", "-p", PRODUCT, "--file"])
        .arg(&link)
        .assert()
        .success()
        .stdout("command was success.\n");
}

/// The monitor's control socket exists: it has claimed its ID and is in its licence check.
fn in_licence_check(sb: &Sandbox) -> bool {
    wait_until(10 * S, || {
        fs::read_dir(sb.path().join("run/clp-fsmon/ctl")).is_ok_and(|d| {
            d.filter_map(Result::ok)
                .any(|e| e.file_name().to_string_lossy().ends_with(".sock"))
        })
    })
}

#[test]
fn stop_and_sigterm_end_a_monitor_blocked_in_its_licence_check() {
    for by_signal in [false, true] {
        let sb = Sandbox::licensed();
        // A stuck clplcnsc holds the store's lock: the check waits for it (10 s, bounded).
        let lock = fs::File::open(license::store_dir(sb.path()).join(".lock")).unwrap();
        lock.lock().unwrap();
        let mut m = sb.spawn_monitor("clp_sambamon", &["l1", "-s", "share"], Some("ok"));
        assert!(in_licence_check(&sb));
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        if by_signal {
            m.signal(Signal::SIGTERM);
        } else {
            sb.cmd("clp_sambamon")
                .args(["l1", "-stop", "5"])
                .assert()
                .success();
        }
        let code = m.wait_exit(S);
        assert!(
            t.elapsed() < S,
            "signal {by_signal}: ended after {:?}",
            t.elapsed()
        );
        assert_eq!(code, Some(0), "signal {by_signal}: stopped on request");
        let ids = sb.event_ids();
        assert_eq!(ids, vec![3], "signal {by_signal}: {}", sb.alert_log());
        assert!(
            sb.fault_log("sambamon")
                .contains("stopped on request during the licence check")
        );
        drop(lock);
    }
}

/// A monitor that ends before it starts watching (here: stopped during its licence check)
/// delivers its last alert (3, to a slow `clplogcmd` too) before it releases its ID, as one
/// that ends from its loop does: whoever sees the ID free sees the monitor's last word.
#[test]
fn an_early_end_delivers_its_alerts_before_the_id_is_free() {
    use clp_fsmon::alert::Module;
    use clp_fsmon::monitor::registry::{Liveness, Registry};
    let sb = Sandbox::licensed();
    let fake = sb.path().join("clusterpro");
    fs::create_dir(&fake).unwrap();
    let calls = sb.path().join("clplogcmd.calls");
    let cmd = fake.join("clplogcmd");
    fs::write(
        &cmd,
        format!(
            "#!/bin/sh\nsleep 1.5\necho \"$4\" >>'{}'\n",
            calls.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&cmd, fs::Permissions::from_mode(0o755)).unwrap();
    let lock = fs::File::open(license::store_dir(sb.path()).join(".lock")).unwrap();
    lock.lock().unwrap();
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut m = Monitor {
        child: sb
            .std_cmd("clp_sambamon")
            .args(["e1", "-s", "share"])
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .env("PATH", path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    };
    assert!(in_licence_check(&sb));
    m.signal(Signal::SIGTERM);
    let registry = Registry::new(
        &clp_fsmon::paths::Paths::with_root(sb.path()),
        Module::Sambamon,
    );
    assert!(
        wait_until(10 * S, || !matches!(
            registry.status("e1"),
            Ok(Liveness::Alive(_))
        )),
        "the ID was never released"
    );
    let delivered = fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(m.wait_exit(5 * S), Some(0));
    assert_eq!(delivered, "3\n", "when the ID was free: {}", m.stderr());
    assert_eq!(sb.event_ids(), [3]);
    drop(lock);
}

#[test]
fn commands_sent_during_the_licence_check_are_taken_after_it() {
    let sb = Sandbox::licensed();
    let lock = fs::File::open(license::store_dir(sb.path()).join(".lock")).unwrap();
    lock.lock().unwrap();
    let mut m = sb.spawn_monitor("clp_sambamon", &["l2", "-s", "share"], Some("ok"));
    assert!(in_licence_check(&sb));
    // The client waits up to 5 s for the acknowledgement: release the lock meanwhile.
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        drop(lock);
    });
    let out = sb
        .std_cmd("clp_sambamon")
        .args(["l2", "-pause"])
        .output()
        .unwrap();
    release.join().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok paused"),
        "{out:?}"
    );
    assert!(sb.wait_event(7, 5 * S));
    assert_eq!(sb.event_ids()[..2], [1, 7], "{}", sb.alert_log());
    stop(&sb, "clp_sambamon", "l2", &mut m);
}

/// `-pause` and `-continue` sent while the start-up licence check waits for a stuck lock
/// holder (here 7 s, longer than the client's 5 s wait) are acknowledged at once and set the
/// state the monitor starts in: it starts paused (events 1 then 7, no probe) and `-continue`
/// then resumes it (8, 2).
#[test]
fn pause_during_a_slow_licence_check_is_acknowledged_at_once_and_taken() {
    let sb = Sandbox::licensed();
    let lock = fs::File::open(license::store_dir(sb.path()).join(".lock")).unwrap();
    lock.lock().unwrap();
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &["l3", "-s", "share", "-i", "1"],
        Some("ok"),
    );
    assert!(in_licence_check(&sb));
    let release = std::thread::spawn(move || {
        std::thread::sleep(7 * S);
        drop(lock);
    });
    for (word, ack) in [
        ("-pause", "ok paused"),
        ("-continue", "ok monitoring"),
        ("-pause", "ok paused"),
    ] {
        let t = Instant::now();
        let out = sb
            .std_cmd("clp_sambamon")
            .args(["l3", word])
            .output()
            .unwrap();
        assert!(
            t.elapsed() < S,
            "{word}: acknowledged after {:?}",
            t.elapsed()
        );
        assert_eq!(out.status.code(), Some(0), "{word}: {out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(ack),
            "{word}: {out:?}"
        );
    }
    release.join().unwrap();
    // The check ends once the lock wait (10 s) is over or the lock is released.
    assert!(sb.wait_event(7, 15 * S), "{}", sb.alert_log());
    std::thread::sleep(1500 * Duration::from_millis(1));
    assert_eq!(sb.event_ids(), [1, 7], "started paused: {}", sb.alert_log());
    assert!(
        !sb.fault_log("sambamon").contains("probe"),
        "probed while paused"
    );
    sb.cmd("clp_sambamon")
        .args(["l3", "-continue"])
        .assert()
        .success();
    assert!(sb.wait_event(2, 5 * S), "{}", sb.alert_log());
    assert_eq!(sb.event_ids(), [1, 7, 8, 2]);
    stop(&sb, "clp_sambamon", "l3", &mut m);
}

// ---- writes as root never follow links -------------------------------------------------

#[test]
fn links_planted_at_the_logs_are_refused_and_their_targets_untouched() {
    let sb = Sandbox::licensed();
    let sock = sb.syslog();
    let logs = log_dir(&sb);
    fs::create_dir_all(&logs).unwrap();
    let victim = sb.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    let alert_log = logs.join("alert.log");
    let fault_log = logs.join("fault-nfsmon.log");
    std::os::unix::fs::symlink(&victim, &alert_log).unwrap();
    let absent = sb.path().join("absent");
    std::os::unix::fs::symlink(&absent, &fault_log).unwrap();
    let mut m = sb.spawn_monitor("clp_nfsmon", &["n1", "-d", "/x", "-i", "1"], Some("ok"));
    let got = syslog_lines(&sock, "ID 2:");
    for link in [&alert_log, &fault_log] {
        assert!(
            got.iter().any(|l| l.contains("ID 42:")
                && l.contains(&format!("system error ({} 13)", link.display()))),
            "{}: {got:#?}",
            link.display()
        );
    }
    assert!(got.iter().any(|l| l.contains("ID 1:")), "still monitors");
    sb.cmd("clp_nfsmon")
        .args(["n1", "-pause"])
        .assert()
        .success();
    stop(&sb, "clp_nfsmon", "n1", &mut m);
    let err = m.stderr();
    assert!(
        err.contains(&format!(
            "refusing to write {}: it is a symbolic link",
            alert_log.display()
        )),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(fs::symlink_metadata(&absent).is_err(), "{err}");
}

#[test]
fn a_link_planted_at_a_registry_lock_refuses_the_start() {
    let sb = Sandbox::licensed();
    let sock = sb.syslog();
    let entry = sb.path().join("run/clp-fsmon/sambamon/r1");
    fs::create_dir_all(&entry).unwrap();
    let absent = sb.path().join("absent");
    std::os::unix::fs::symlink(&absent, entry.join("lock")).unwrap();
    let mut m = sb.spawn_monitor("clp_sambamon", &["r1", "-s", "share"], Some("ok"));
    assert_eq!(m.wait_exit(5 * S), Some(6), "system error");
    let got = syslog_lines(&sock, "ID 42:");
    let lock = entry.join("lock").display().to_string();
    assert!(
        got.iter()
            .any(|l| l.contains("ID 42:") && l.contains(&format!("({lock} 13)"))),
        "{got:#?}"
    );
    assert!(m.stderr().contains("it is a symbolic link"));
    assert!(fs::symlink_metadata(&absent).is_err(), "link followed");
    assert!(!sb.event_ids().contains(&1));
}

/// A root-owned 0755 directory outside the product's: what a planted link points at.
fn link_target(sb: &Sandbox) -> PathBuf {
    let target = sb.path().join("elsewhere");
    fs::create_dir(&target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o755)).unwrap();
    target
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).unwrap().next().is_none()
}

/// A product directory that is itself a symbolic link (to a root-owned 0755 directory, which
/// passes every owner and mode rule) is refused: the log directory (reported, the monitor runs
/// on), the state directory (the start is refused) and the licence directory (`clplcnsc`
/// exits 6). Each refusal names the link; nothing lands in its target.
#[test]
fn symlinked_product_directories_are_refused_and_their_targets_untouched() {
    // The log directory.
    let sb = Sandbox::licensed();
    let sock = sb.syslog();
    let target = link_target(&sb);
    let logs = log_dir(&sb);
    fs::create_dir_all(logs.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, &logs).unwrap();
    let mut m = sb.spawn_monitor("clp_nfsmon", &["y1", "-d", "/x", "-i", "1"], Some("ok"));
    let got = syslog_lines(&sock, "ID 2:");
    assert!(
        got.iter().any(|l| l.contains("ID 42:")
            && l.contains(&format!("system error ({} 13)", logs.display()))),
        "log dir: {got:#?}"
    );
    assert!(
        got.iter().any(|l| l.contains("ID 2:")),
        "still monitors: {got:#?}"
    );
    stop(&sb, "clp_nfsmon", "y1", &mut m);
    let err = m.stderr();
    assert!(
        err.contains(&format!(
            "refusing to write {}: it is a symbolic link",
            logs.display()
        )),
        "{err}"
    );
    assert!(is_empty_dir(&target), "log dir: wrote through the link");

    // The state directory: the monitor does not start.
    let sb = Sandbox::licensed();
    let sock = sb.syslog();
    let target = link_target(&sb);
    let state = sb.path().join("run/clp-fsmon");
    fs::create_dir_all(state.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, &state).unwrap();
    let mut m = sb.spawn_monitor("clp_sambamon", &["y2", "-s", "share"], Some("ok"));
    let code = m.wait_exit(5 * S);
    let err = m.stderr();
    assert_eq!(code, Some(6), "state dir: {err}");
    let got = syslog_lines(&sock, "ID 42:");
    assert!(
        got.iter()
            .any(|l| l.contains("ID 42:") && l.contains(&format!("({} 13)", state.display()))),
        "state dir: {got:#?}"
    );
    assert!(
        err.contains(&format!(
            "refusing to write {}: it is a symbolic link",
            state.display()
        )),
        "{err}"
    );
    assert!(is_empty_dir(&target), "state dir: wrote through the link");
    assert!(!sb.event_ids().contains(&1));

    // The licence directory: registration is refused.
    let sb = Sandbox::new();
    let target = link_target(&sb);
    let store = license::store_dir(sb.path());
    fs::create_dir_all(store.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, &store).unwrap();
    sb.cmd("clplcnsc")
        .args(["-i", "-p", PRODUCT, "--serial", "AB123456", "--key"])
        .arg(license::product_key("AB123456"))
        .assert()
        .code(6)
        .stderr(predicate::str::contains(format!(
            "refusing to write {}: it is a symbolic link",
            store.display()
        )));
    sb.cmd("clplcnsc")
        .args(["-d", "-p", PRODUCT])
        .assert()
        .code(6);
    assert!(is_empty_dir(&target), "licence dir: wrote through the link");
}

/// A registry lock planted as a FIFO or a symbolic link: a control command refuses it with
/// event 42 naming the lock and an errno (never "flock 0"), and says why on stderr.
#[test]
fn a_planted_registry_lock_is_a_system_error_with_its_path_and_errno() {
    for (kind, why, errno) in [
        ("fifo", "a FIFO", nix::libc::EINVAL),
        ("link", "a symbolic link", nix::libc::ELOOP),
    ] {
        let sb = Sandbox::licensed();
        let entry = sb.path().join("run/clp-fsmon/sambamon/p1");
        fs::create_dir_all(&entry).unwrap();
        let lock = entry.join("lock");
        if kind == "fifo" {
            nix::unistd::mkfifo(&lock, nix::sys::stat::Mode::S_IRWXU).unwrap();
        } else {
            std::os::unix::fs::symlink(sb.path().join("absent"), &lock).unwrap();
        }
        for word in ["-disp", "-pause", "-stop"] {
            let out = sb
                .cmd("clp_sambamon")
                .args(["p1", word])
                .timeout(10 * S)
                .assert()
                .code(6);
            let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
            let alert = format!(
                "The clp_sambamon has detected system error ({} {errno}).",
                lock.display()
            );
            assert!(err.contains(&alert), "{kind} {word}: {err}");
            assert!(err.contains(why), "{kind} {word}: {err}");
            assert_eq!(
                sb.alerts().last().map(|a| (a.2, a.3.clone())),
                Some((42, alert)),
                "{kind} {word}"
            );
        }
        assert!(fs::symlink_metadata(sb.path().join("absent")).is_err());
    }
}

#[test]
fn a_log_directory_others_can_change_is_refused() {
    for how in ["0777", "uid 65534"] {
        let sb = Sandbox::licensed();
        let sock = sb.syslog();
        let logs = log_dir(&sb);
        fs::create_dir_all(&logs).unwrap();
        if how == "0777" {
            fs::set_permissions(&logs, fs::Permissions::from_mode(0o777)).unwrap();
        } else {
            nix::unistd::chown(&logs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        }
        let mut m = sb.spawn_monitor("clp_nfsmon", &["d1", "-d", "/x", "-i", "1"], Some("ok"));
        let got = syslog_lines(&sock, "ID 2:");
        assert!(
            got.iter().any(|l| l.contains("ID 42:")
                && l.contains(&format!("system error ({} 13)", logs.display()))),
            "{how}: {got:#?}"
        );
        stop(&sb, "clp_nfsmon", "d1", &mut m);
        let err = m.stderr();
        let why = if how == "0777" {
            "writable by group or others (mode 0777)"
        } else {
            "owned by uid 65534"
        };
        assert!(err.contains(why), "{how}: {err}");
        assert_eq!(
            fs::read_dir(&logs).unwrap().count(),
            0,
            "{how}: wrote in the directory"
        );
    }
}

#[test]
fn licence_writes_refuse_planted_links_and_unsafe_directories() {
    let sb = Sandbox::licensed();
    let store = license::store_dir(sb.path());
    let before = fs::read(
        fs::read_dir(&store)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .unwrap()
            .path(),
    )
    .unwrap();
    let absent = sb.path().join("absent");
    fs::remove_file(store.join(".lock")).unwrap();
    std::os::unix::fs::symlink(&absent, store.join(".lock")).unwrap();
    let register = |sb: &Sandbox| {
        sb.cmd("clplcnsc")
            .args(["-i", "-p", PRODUCT, "--serial", "CD000001", "--key"])
            .arg(license::product_key("CD000001"))
            .assert()
    };
    register(&sb)
        .code(6)
        .stderr(predicate::str::contains("it is a symbolic link"));
    sb.cmd("clplcnsc")
        .args(["-d", "-p", PRODUCT])
        .assert()
        .code(6);
    assert!(fs::symlink_metadata(&absent).is_err(), "link followed");
    fs::remove_file(store.join(".lock")).unwrap();
    fs::set_permissions(&store, fs::Permissions::from_mode(0o777)).unwrap();
    register(&sb)
        .code(6)
        .stderr(predicate::str::contains("writable by group or others"));
    let parent = store.parent().unwrap();
    fs::set_permissions(&store, fs::Permissions::from_mode(0o755)).unwrap();
    nix::unistd::chown(parent, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
    register(&sb)
        .code(6)
        .stderr(predicate::str::contains(parent.display().to_string()));
    // Reading is still fine, and nothing was changed.
    sb.cmd("clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("AB123456").and(predicate::str::contains("CD000001").not()),
        );
    let after = fs::read_dir(&store)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .unwrap()
        .path();
    assert_eq!(fs::read(after).unwrap(), before);
}

// ---- logs rotate under a running monitor ------------------------------------------------

/// A monitor that has started and probed once (events 1 and 2 in its alert log).
fn running(sb: &Sandbox, id: &str) -> Monitor {
    let m = sb.spawn_monitor("clp_sambamon", &[id, "-s", "share", "-i", "1"], Some("ok"));
    assert!(sb.wait_event(2, 10 * S), "{}", sb.alert_log());
    m
}

fn control(sb: &Sandbox, id: &str, word: &str) {
    sb.cmd("clp_sambamon").args([id, word]).assert().success();
}

/// Event IDs of an alert-log file.
fn ids_in(path: &Path) -> Vec<u16> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('\t').nth(3).unwrap().parse().unwrap())
        .collect()
}

/// Waits (up to 5 s: a command is acknowledged before its alert is written) until the alert-log
/// file `path` holds exactly the events `ids`.
fn has_ids(path: &Path, ids: &[u16]) {
    wait_until(5 * S, || ids_in(path) == ids);
    assert_eq!(ids_in(path), ids, "{}", path.display());
}

/// Waits until the fault log holds `what`.
fn fault_has(sb: &Sandbox, what: &str) {
    assert!(
        wait_until(5 * S, || sb.fault_log("sambamon").contains(what)),
        "{what}: {}",
        sb.fault_log("sambamon")
    );
}

#[test]
fn logs_renamed_created_or_truncated_under_a_monitor_keep_its_lines() {
    use std::os::unix::fs::MetadataExt;
    let sb = Sandbox::licensed();
    let mut m = running(&sb, "g1");
    let logs = log_dir(&sb);
    let (alert, fault) = (logs.join("alert.log"), logs.join("fault-sambamon.log"));
    let at = |n: u32| {
        (
            logs.join(format!("alert.log.{n}")),
            logs.join(format!("fault-sambamon.log.{n}")),
        )
    };

    // rename (logrotate's default, nocreate): the next line makes a new file
    let (a1, f1) = at(1);
    fs::rename(&alert, &a1).unwrap();
    fs::rename(&fault, &f1).unwrap();
    let (a1_text, f1_text) = (fs::read(&a1).unwrap(), fs::read(&f1).unwrap());
    control(&sb, "g1", "-pause");
    has_ids(&alert, &[7]);
    fault_has(&sb, "paused");
    assert_eq!(
        fs::read(&a1).unwrap(),
        a1_text,
        "written into the rotated log"
    );
    assert_eq!(
        fs::read(&f1).unwrap(),
        f1_text,
        "written into the rotated log"
    );
    assert_eq!(ids_in(&a1)[..2], [1, 2]);

    // rename + create (logrotate's `create`): the lines go to the created file
    let (a2, f2) = at(2);
    fs::rename(&alert, &a2).unwrap();
    fs::rename(&fault, &f2).unwrap();
    for p in [&alert, &fault] {
        fs::File::create(p).unwrap();
    }
    let inode = fs::metadata(&alert).unwrap().ino();
    control(&sb, "g1", "-continue");
    has_ids(&alert, &[8]);
    assert_eq!(fs::metadata(&alert).unwrap().ino(), inode);
    fault_has(&sb, "resumed");
    assert_eq!(ids_in(&a2), [7]);

    // copytruncate: the next line lands at the start of the emptied file, no hole before it
    let (a3, _) = at(3);
    fs::copy(&alert, &a3).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&alert)
        .unwrap()
        .set_len(0)
        .unwrap();
    control(&sb, "g1", "-pause");
    has_ids(&alert, &[7]);
    let text = fs::read(&alert).unwrap();
    assert!(!text.contains(&0), "a hole of NULs: {text:?}");
    stop(&sb, "clp_sambamon", "g1", &mut m);
    assert_eq!(ids_in(&alert), [7, 3]);
    assert_eq!(ids_in(&a3), [8]);
}

/// The logrotate configuration the packages install, for the logs under `root`.
fn logrotate_config(root: &Path) -> String {
    let shipped = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/logrotate/clusterpro-fsmon"),
    )
    .unwrap();
    assert!(shipped.contains("/var/log/clp-fsmon/*.log {"), "{shipped}");
    shipped.replace(
        "/var/log/clp-fsmon/",
        &format!("{}/", root.join("var/log/clp-fsmon").display()),
    )
}

/// `logrotate` (the Debian package of the same name, installed by contrib/test.sh).
fn logrotate() -> PathBuf {
    clp_fsmon::sys::which("logrotate")
        .or_else(|| Some(PathBuf::from("/usr/sbin/logrotate")).filter(|p| p.exists()))
        .expect("logrotate is not installed: apt-get install logrotate (contrib/test.sh does)")
}

#[test]
fn logrotate_with_the_shipped_configuration_rotates_a_running_monitors_logs() {
    let tool = logrotate();
    let sb = Sandbox::licensed();
    let logs = log_dir(&sb);
    fs::create_dir_all(&logs).unwrap();
    // As the script templates start it: console output appended to ID.out, held open.
    let out_file = logs.join("g2.out");
    let console = fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&out_file)
        .unwrap();
    let mut m = Monitor {
        child: sb
            .std_cmd("clp_sambamon")
            .args(["g2", "-s", "share", "-i", "1"])
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .stdin(std::process::Stdio::null())
            .stdout(console.try_clone().unwrap())
            .stderr(console)
            .spawn()
            .unwrap(),
    };
    assert!(sb.wait_event(2, 10 * S), "{}", sb.alert_log());
    let conf = sb.path().join("logrotate.conf");
    fs::write(&conf, logrotate_config(sb.path())).unwrap();
    let state = sb.path().join("logrotate.state");
    let rotate = || {
        let out = std::process::Command::new(&tool)
            .arg("-f")
            .arg("-s")
            .arg(&state)
            .arg(&conf)
            .output()
            .unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "logrotate: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    rotate();
    let alert = logs.join("alert.log");
    assert!(!alert.exists(), "nocreate: the monitor makes the new log");
    assert_eq!(ids_in(&logs.join("alert.log.1"))[..2], [1, 2]);
    assert!(
        fs::read_to_string(logs.join("fault-sambamon.log.1"))
            .unwrap()
            .contains("start target=")
    );
    // The console output was copied and truncated.
    let out1 = fs::read_to_string(logs.join("g2.out.1")).unwrap();
    assert!(out1.contains("has started watching Samba."), "{out1}");
    assert_eq!(fs::metadata(&out_file).unwrap().len(), 0);
    control(&sb, "g2", "-pause");
    has_ids(&alert, &[7]);
    fault_has(&sb, "paused");
    assert!(wait_until(5 * S, || fs::read_to_string(&out_file)
        .is_ok_and(|t| t.starts_with(
            "The clp_sambamon is going to stop monitoring.\n"
        ))));
    assert_eq!(
        fs::metadata(&alert).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // The second rotation compresses the first (delaycompress).
    rotate();
    let gz = logs.join("alert.log.2.gz");
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&gz)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", gz.display());
    assert!(String::from_utf8_lossy(&out.stdout).contains("\t1\t"));
    assert_eq!(ids_in(&logs.join("alert.log.1")), [7]);
    control(&sb, "g2", "-continue");
    stop(&sb, "clp_sambamon", "g2", &mut m);
    assert_eq!(ids_in(&alert), [8, 3]);
}
