//! Cluster integration: the guide's start/stop templates (`contrib/scripts`), the Pacemaker OCF
//! agent (`contrib/ocf/clp-fsmon`: `ocf-tester`, its fault path, and real corosync + Pacemaker
//! clusters built by `contrib/ci/pcmk-sandbox.sh` — one node recovering a stalled smbd, one node
//! recovering a stalled Ganesha, two nodes failing a stalled smbd's group over), the systemd units
//! (`contrib/systemd`) and the `clplogcmd` alert sink.
//!
//! The templates run against stub commands (a directory first on PATH holding fake `systemctl`,
//! `service`, `clp_sambamon` and `clp_nfsmon` that record their argv). Everything that needs a
//! cluster stack needs root; not being root, or a missing tool (ocf-tester, xmllint, corosync,
//! pacemaker, shellcheck, python3, …), is a failure that names the Debian package to install.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::rig::{Sandbox, binary, wait_until};

const S: Duration = Duration::from_secs(1);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// The tools a test needs, as `(program, Debian package)`: the test fails unless it runs as
/// root and every tool is installed, naming the package to install (contrib/test.sh installs
/// them), so CI cannot pass without running it.
fn need(what: &str, tools: &[(&str, &str)]) {
    crate::rig::require_root(what);
    for (prog, pkg) in tools {
        crate::rig::require_tool(prog, pkg);
    }
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// A tempdir every user may enter (`ocf-tester` runs the agent as `nobody` too).
fn open_tempdir(prefix: &str) -> tempfile::TempDir {
    let d = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    chmod(d.path(), 0o755);
    d
}

// ---- the templates ------------------------------------------------------------------------------

const TEMPLATES: [&str; 8] = [
    "contrib/scripts/samba/start.sh",
    "contrib/scripts/samba/stop.sh",
    "contrib/scripts/samba-mon/start.sh",
    "contrib/scripts/samba-mon/stop.sh",
    "contrib/scripts/nfs/start.sh",
    "contrib/scripts/nfs/stop.sh",
    "contrib/scripts/nfs-mon/start.sh",
    "contrib/scripts/nfs-mon/stop.sh",
];

#[test]
fn shell_scripts_pass_shellcheck() {
    let sc = crate::rig::require_tool("shellcheck", "shellcheck");
    let mut files: Vec<&str> = TEMPLATES.to_vec();
    files.extend([
        "contrib/ocf/clp-fsmon",
        "contrib/ci/pcmk-sandbox.sh",
        "contrib/lib/package-check.sh",
        "contrib/deb/build.sh",
        "contrib/ctdb/55.clp-fsmon.script",
    ]);
    for f in files {
        let p = repo().join(f);
        let mode = fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{f} is executable by all");
        let head = fs::read_to_string(&p).unwrap();
        assert!(head.starts_with("#!/bin/sh\n"), "{f}: POSIX sh");
        let out = Command::new(&sc)
            .args(["-s", "sh", "-S", "style"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck {f}:\n{}",
            text(&out.stdout)
        );
    }
}

/// The eight templates are generated from one description (contrib/ci/gen-templates.py).
#[test]
fn templates_are_what_the_generator_makes() {
    let py = crate::rig::require_tool("python3", "python3");
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(py)
        .arg(repo().join("contrib/ci/gen-templates.py"))
        .arg(out.path())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    for t in TEMPLATES {
        let rel = t.strip_prefix("contrib/scripts/").unwrap();
        assert_eq!(
            fs::read_to_string(out.path().join(rel)).unwrap(),
            fs::read_to_string(repo().join(t)).unwrap(),
            "{t} differs from contrib/ci/gen-templates.py's output: edit the generator and rerun it"
        );
    }
}

/// The stub commands the templates call, recording their argv in a log.
struct Stubs {
    dir: tempfile::TempDir,
}

const RECORDER: &str = r#"#!/bin/sh
name=${0##*/}
echo "$name $*" >>"$STUB_LOG"
case $name in
systemctl)
	case $1 in
	is-system-running)
		echo "${FAKE_SYSTEMD:-running}"
		[ "${FAKE_SYSTEMD:-running}" = running ]
		exit
		;;
	cat)
		for u in $FAKE_UNITS; do [ "$2" = "$u.service" ] && exit 0; done
		exit 1
		;;
	esac
	exit "${FAKE_RC:-0}"
	;;
service) exit "${FAKE_RC:-0}" ;;
esac
case $2 in
-disp)
	echo "$$ fake"
	exit "${FAKE_DISP_RC:-0}"
	;;
-stop) exit "${FAKE_STOP_RC:-0}" ;;
esac
echo "$$" >"$STUB_LOG.pid"
sleep "${FAKE_MON_SLEEP:-0}"
exit "${FAKE_MON_RC:-0}"
"#;

impl Stubs {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("clpfs-stubs-")
            .tempdir()
            .unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        for name in ["systemctl", "service", "clp_sambamon", "clp_nfsmon"] {
            let p = bin.join(name);
            fs::write(&p, RECORDER).unwrap();
            chmod(&p, 0o755);
        }
        Self { dir }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("calls")
    }

    /// Runs a template with a clean environment: PATH starts with the stubs, then `env`.
    fn run<K: AsRef<OsStr>, V: AsRef<OsStr>>(&self, script: &str, env: &[(K, V)]) -> Output {
        let _ = fs::remove_file(self.log());
        let mut c = Command::new(repo().join(script));
        c.env_clear()
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.dir.path().join("bin").display()),
            )
            .env("STUB_LOG", self.log())
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// The recorded calls, without systemd's queries (is-system-running, cat).
    fn calls(&self) -> Vec<String> {
        fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                !l.starts_with("systemctl is-system-running") && !l.starts_with("systemctl cat ")
            })
            .map(String::from)
            .collect()
    }
}

/// What the guide's templates echo for an event / disk / server combination, and whether they act.
fn trail(event: Option<&str>, disk: &str, server: &str, label: &str) -> (Vec<String>, bool) {
    let home = server == "HOME";
    let v = |s: &[&str]| s.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
    match (event, disk == "SUCCESS") {
        (Some("START"), true) => (
            v(&["NORMAL1", if home { "NORMAL2" } else { "ON_OTHER1" }, label]),
            true,
        ),
        (Some("FAILOVER"), true) => (
            v(&[
                "FAILOVER1",
                if home { "FAILOVER2" } else { "ON_OTHER2" },
                label,
            ]),
            true,
        ),
        (Some(e @ ("START" | "FAILOVER")), false) => (vec![format!("ERROR_DISK from {e}")], false),
        _ => (v(&["NO_CLP"]), false),
    }
}

const EVENTS: [Option<&str>; 4] = [Some("START"), Some("FAILOVER"), None, Some("RECOVER")];

/// One run of a template: its environment, the expected echo trail, and whether it acts.
type Case = (Vec<(&'static str, &'static str)>, Vec<String>, bool);

/// Every `CLP_EVENT` / `CLP_DISK` / `CLP_SERVER` combination.
fn combinations(label: &str) -> Vec<Case> {
    let mut all = Vec::new();
    for event in EVENTS {
        for disk in ["SUCCESS", "FAILURE"] {
            for server in ["HOME", "OTHER"] {
                let mut env = vec![("CLP_DISK", disk), ("CLP_SERVER", server)];
                if let Some(e) = event {
                    env.push(("CLP_EVENT", e));
                }
                let (lines, acts) = trail(event, disk, server, label);
                all.push((env, lines, acts));
            }
        }
    }
    all
}

fn lines(out: &Output) -> Vec<String> {
    text(&out.stdout).lines().map(String::from).collect()
}

fn with_exit(mut l: Vec<String>) -> Vec<String> {
    l.push("EXIT".into());
    l
}

#[test]
fn service_templates_branch_like_the_guide_and_use_systemd() {
    let st = Stubs::new();
    for (dir, label, unit, setting) in [
        ("samba", "SAMBA", "smbd", "SAMBA_SERVICE"),
        ("nfs", "NFS", "nfs-server", "NFS_SERVICE"),
    ] {
        for action in ["start", "stop"] {
            let script = format!("contrib/scripts/{dir}/{action}.sh");
            for (env, expect, acts) in combinations(&format!("{label} {action}")) {
                let mut env = env.clone();
                env.push(("FAKE_UNITS", unit));
                let out = st.run(&script, &env);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{script} {env:?}: {}",
                    text(&out.stderr)
                );
                assert_eq!(lines(&out), with_exit(expect), "{script} {env:?}");
                let want = if acts {
                    vec![format!("systemctl {action} {unit}")]
                } else {
                    vec![]
                };
                assert_eq!(st.calls(), want, "{script} {env:?}");
            }
            let go = [
                ("CLP_EVENT", "FAILOVER"),
                ("CLP_DISK", "SUCCESS"),
                ("CLP_SERVER", "HOME"),
            ];
            let run = |extra: &[(&'static str, &'static str)]| {
                let mut env = go.to_vec();
                env.extend_from_slice(extra);
                let out = st.run(&script, &env);
                (out.status.code(), st.calls(), text(&out.stderr))
            };
            // The unit name this server has: smb (RHEL, SUSE) rather than smbd, ganesha first.
            let (alt, alt_unit) = if dir == "samba" {
                ("smb", "smb")
            } else {
                ("nfs-ganesha nfs-server", "nfs-ganesha")
            };
            assert_eq!(
                run(&[("FAKE_UNITS", alt)]).1,
                [format!("systemctl {action} {alt_unit}")]
            );
            // An explicit list of services.
            let list = if dir == "samba" {
                "smbd nmbd"
            } else {
                "rpcbind nfs-server"
            };
            let (a, b) = list.split_once(' ').unwrap();
            assert_eq!(
                run(&[(setting, list)]).1,
                [
                    format!("systemctl {action} {a}"),
                    format!("systemctl {action} {b}")
                ]
            );
            // A failing systemctl is the script's failure (the original always said 0).
            let (code, calls, _) = run(&[("FAKE_UNITS", unit), ("FAKE_RC", "5")]);
            assert_eq!((code, calls.len()), (Some(5), 1), "{script}");
            // No systemd: `service NAME ACTION`.
            assert_eq!(
                run(&[("FAKE_SYSTEMD", "offline"), (setting, "fileserver")]).1,
                [format!("service fileserver {action}")]
            );
            // Without a name, the first candidate with an init script here, else the first one.
            let candidates: &[&str] = if dir == "samba" {
                &["smbd", "smb"]
            } else {
                &["nfs-ganesha", "nfs-server", "nfs-kernel-server", "nfs"]
            };
            let first = candidates
                .iter()
                .find(|n| Path::new("/etc/init.d").join(n).exists())
                .unwrap_or(&candidates[0]);
            assert_eq!(
                run(&[("FAKE_SYSTEMD", "offline")]).1,
                [format!("service {first} {action}")]
            );
            let (code, _, _) = run(&[("FAKE_SYSTEMD", "offline"), ("FAKE_RC", "3")]);
            assert_eq!(code, Some(3));
        }
    }
}

#[test]
fn monitor_templates_branch_like_the_guide_and_run_the_monitor() {
    let st = Stubs::new();
    for (dir, applet, id, opt, setting) in [
        (
            "samba-mon",
            "clp_sambamon",
            "sambawatch",
            "-s",
            "FSMON_SHARE",
        ),
        ("nfs-mon", "clp_nfsmon", "nfswatch", "-d", "FSMON_DIR"),
    ] {
        let start = format!("contrib/scripts/{dir}/start.sh");
        let stop = format!("contrib/scripts/{dir}/stop.sh");
        for (env, expect, acts) in combinations(&format!("{applet} start")) {
            let mut env = env.clone();
            env.extend([(setting, "target"), ("FAKE_MON_RC", "1")]);
            let out = st.run(&start, &env);
            if acts {
                // The script became the monitor (exec): the monitor's exit is the script's, so a
                // PID monitor on the script sees the fault; no "EXIT" after it.
                assert_eq!(out.status.code(), Some(1), "{start} {env:?}");
                assert_eq!(lines(&out), expect, "{start} {env:?}");
                assert_eq!(st.calls(), [format!("{applet} {id} {opt} target")]);
            } else {
                assert_eq!(out.status.code(), Some(0), "{start} {env:?}");
                assert_eq!(lines(&out), with_exit(expect), "{start} {env:?}");
                assert!(st.calls().is_empty(), "{start} {env:?}: {:?}", st.calls());
            }
        }
        for (env, expect, acts) in combinations(&format!("{applet} stop")) {
            let out = st.run(&stop, &env);
            assert_eq!(out.status.code(), Some(0), "{stop} {env:?}");
            assert_eq!(lines(&out), with_exit(expect), "{stop} {env:?}");
            let want = if acts {
                vec![format!("{applet} {id} -stop 60")]
            } else {
                vec![]
            };
            assert_eq!(st.calls(), want, "{stop} {env:?}");
        }
        let go = [
            ("CLP_EVENT", "START"),
            ("CLP_DISK", "SUCCESS"),
            ("CLP_SERVER", "HOME"),
        ];
        let env = |extra: &[(&str, &str)]| -> Vec<(String, String)> {
            go.iter()
                .chain(extra)
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect()
        };

        // Foreground: the script process IS the monitor.
        let pidfile = PathBuf::from(format!("{}.pid", st.log().display()));
        let _ = fs::remove_file(&pidfile);
        let mut child = Command::new(repo().join(&start))
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", st.dir.path().join("bin").display()),
            )
            .env("STUB_LOG", st.log())
            .envs(env(&[(setting, "target"), ("FAKE_MON_SLEEP", "1")]))
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        assert!(wait_until(5 * S, || pidfile.exists()
            && fs::read_to_string(&pidfile)
                .is_ok_and(|s| s.ends_with('\n'))));
        assert_eq!(
            fs::read_to_string(&pidfile).unwrap().trim(),
            child.id().to_string()
        );
        assert!(child.wait().unwrap().success());

        // The guide's XXXX left in place: refused, nothing run.
        let out = st.run(&start, &env(&[]));
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains(&format!("set {setting}")),
            "{}",
            text(&out.stderr)
        );
        assert!(st.calls().is_empty());

        // ID and options from the settings; FSMON_OPTS is split into words.
        let out = st.run(
            &start,
            &env(&[
                ("FSMON_ID", "w2"),
                (setting, "t2"),
                ("FSMON_OPTS", "-i 5  -c 3"),
            ]),
        );
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(st.calls(), [format!("{applet} w2 {opt} t2 -i 5 -c 3")]);
        let out = st.run(&stop, &env(&[("FSMON_ID", "w2"), ("FSMON_STOP_WAIT", "7")]));
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(st.calls(), [format!("{applet} w2 -stop 7")]);
        // -stop that times out (exit 5) fails the stop script.
        let out = st.run(&stop, &env(&[("FAKE_STOP_RC", "5")]));
        assert_eq!(out.status.code(), Some(5));

        // Background: detached, returns once -disp sees it.
        let _ = fs::remove_file(&pidfile);
        let log = st.dir.path().join("mon.out");
        let logs = log.to_str().unwrap();
        let out = st.run(
            &start,
            &env(&[
                (setting, "target"),
                ("FSMON_MODE", "background"),
                ("FSMON_LOG", logs),
                ("FAKE_MON_SLEEP", "30"),
            ]),
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(lines(&out).contains(&"EXIT".to_string()));
        // (The detached monitor and -disp race to the log: compare as a set.)
        assert!(wait_until(5 * S, || st.calls().len() >= 2));
        let mut calls = st.calls();
        calls.sort();
        let mut want = vec![
            format!("{applet} {id} {opt} target"),
            format!("{applet} {id} -disp"),
        ];
        want.sort();
        assert_eq!(calls, want);
        let read = || {
            fs::read_to_string(&pidfile)
                .ok()
                .filter(|s| s.ends_with('\n'))
                .and_then(|s| s.trim().parse::<i32>().ok())
        };
        assert!(wait_until(5 * S, || read().is_some()));
        let pid = read().unwrap();
        // In a session of its own (setsid): killing the group ends it and its sleep.
        assert_eq!(
            nix::unistd::getsid(Some(Pid::from_raw(pid))).unwrap(),
            Pid::from_raw(pid)
        );
        kill(Pid::from_raw(-pid), Signal::SIGKILL).unwrap();
        // A monitor that ends at once (licence refused: 3) fails the start with its status.
        let out = st.run(
            &start,
            &env(&[
                (setting, "target"),
                ("FSMON_MODE", "background"),
                ("FSMON_LOG", logs),
                ("FAKE_MON_RC", "3"),
                ("FAKE_DISP_RC", "8"),
            ]),
        );
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
        assert!(
            text(&out.stderr).contains("ended at once (exit 3)"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// The monitor templates with the real binary: start.sh (background) starts a monitor that -disp
/// sees, stop.sh ends it.
#[test]
fn monitor_templates_start_and_stop_a_real_monitor() {
    let sb = Sandbox::licensed();
    for (dir, applet, setting) in [
        ("samba-mon", "clp_sambamon", "FSMON_SHARE"),
        ("nfs-mon", "clp_nfsmon", "FSMON_DIR"),
    ] {
        let run = |script: &str| {
            Command::new(repo().join(format!("contrib/scripts/{dir}/{script}")))
                .env("CLP_EVENT", "START")
                .env("CLP_DISK", "SUCCESS")
                .env("CLP_SERVER", "HOME")
                .env(
                    format!("CLP_{}", applet[4..].to_uppercase()),
                    sb.link(applet),
                )
                .env("CLP_FSMON_ROOT", sb.path())
                .env("CLP_FSMON_TEST_PROBE", "ok")
                .env(setting, "data")
                .env("FSMON_ID", "tmpl")
                .env("FSMON_OPTS", "-i 1")
                .env("FSMON_MODE", "background")
                .env("FSMON_LOG", sb.path().join(format!("{applet}.out")))
                .env("FSMON_STOP_WAIT", "10")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        };
        let out = run("start.sh");
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let disp = sb.cmd(applet).args(["tmpl", "-disp"]).output().unwrap();
        assert_eq!(disp.status.code(), Some(0), "{}", text(&disp.stderr));
        let out = run("stop.sh");
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        sb.cmd(applet).args(["tmpl", "-disp"]).assert().code(8);
        // Stopping what is not running is fine (idempotent).
        assert!(run("stop.sh").status.success());
    }
}

// ---- the OCF agent ------------------------------------------------------------------------------

/// The agent and the binary copied where `nobody` can read them, plus a licensed sandbox.
struct OcfRig {
    dir: tempfile::TempDir,
    sb: Sandbox,
}

impl OcfRig {
    fn new() -> Self {
        let dir = open_tempdir("clpfs-ocf-");
        fs::copy(
            repo().join("contrib/ocf/clp-fsmon"),
            dir.path().join("clp-fsmon"),
        )
        .unwrap();
        chmod(&dir.path().join("clp-fsmon"), 0o755);
        let sb = Sandbox::licensed();
        chmod(sb.path(), 0o755);
        Self { dir, sb }
    }

    fn agent(&self) -> PathBuf {
        self.dir.path().join("clp-fsmon")
    }

    /// The agent run like Pacemaker does: OCF_* environment, the action as argument.
    fn action(&self, instance: &str, action: &str, params: &[(&str, &str)], probe: &str) -> Output {
        let mut c = Command::new(self.agent());
        c.arg(action)
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RESOURCE_INSTANCE", instance)
            .env("OCF_RESKEY_root", self.sb.path())
            .env("OCF_RESKEY_binary", binary())
            .env("OCF_RESKEY_CRM_meta_interval", "2000")
            .env("OCF_RESKEY_CRM_meta_timeout", "20000")
            .env("CLP_FSMON_TEST_PROBE", probe)
            .stdin(Stdio::null());
        for (k, v) in params {
            c.env(format!("OCF_RESKEY_{k}"), v);
        }
        c.output().unwrap()
    }
}

#[test]
fn ocf_agent_passes_ocf_tester() {
    need(
        "ocf-tester",
        &[
            ("ocf-tester", "resource-agents"),
            ("xmllint", "libxml2-utils"),
        ],
    );
    let r = OcfRig::new();
    for (applet, target) in [
        ("clp_sambamon", "share=data"),
        ("clp_nfsmon", "dir=/export"),
    ] {
        let out = Command::new(which("ocf-tester").unwrap())
            .args(["-n", &format!("t-{applet}")])
            .args([
                "-o",
                &format!("applet={applet}"),
                "-o",
                "id=ocftester",
                "-o",
                target,
            ])
            .args(["-o", &format!("root={}", r.sb.path().display())])
            .args(["-o", &format!("binary={}", binary().display())])
            .args(["-o", "probe_interval=1"])
            .arg(r.agent())
            .env("CLP_FSMON_TEST_PROBE", "ok")
            .output()
            .unwrap();
        let o = format!("{}{}", text(&out.stdout), text(&out.stderr));
        eprintln!("ocf-tester {applet}:\n{o}");
        assert!(out.status.success(), "{o}");
        assert!(o.contains("passed all tests"), "{o}");
        // It really started and stopped the monitor (twice: "Restarting resource...").
        let started = r.sb.event_ids().iter().filter(|&&e| e == 1).count();
        assert!(started >= 2, "{:?}", r.sb.alerts());
        r.sb.cmd(applet)
            .args(["ocftester", "-disp"])
            .assert()
            .code(8);
    }
}

/// The monitor gives up its registry entry an instant before its process ends, and the shell
/// waiting for it records the exit status an instant after. A `monitor` action in between must
/// still report the fault, not "exit unknown": here the binary is wrapped so that its exit comes
/// a whole second after the entry is gone, and every `monitor` action in that second is checked.
#[test]
fn ocf_agent_waits_for_the_status_of_a_monitor_that_just_ended() {
    need("the OCF agent", &[("setsid", "util-linux")]);
    let rig = OcfRig::new();
    let slow = rig.dir.path().join("slow-exit");
    fs::write(
        &slow,
        format!(
            "#!/bin/sh
case \"$3\" in -disp|-stop|-pause|-continue|-del) exec {bin} \"$@\" ;; esac
{bin} \"$@\"
rc=$?
sleep 1
exit $rc\n",
            bin = binary().display()
        ),
    )
    .unwrap();
    chmod(&slow, 0o755);
    let health = rig.sb.path().join("health");
    fs::write(&health, "ok\n").unwrap();
    let probe = format!("@{}", health.display());
    let params = [
        ("applet", "clp_sambamon"),
        ("id", "ocfslow"),
        ("share", "data"),
        ("probe_interval", "1"),
        ("retries", "1"),
    ];
    let act = |a: &str| {
        let mut c = Command::new(rig.agent());
        c.arg(a)
            .env("OCF_ROOT", "/usr/lib/ocf")
            .env("OCF_RESOURCE_INSTANCE", "slow")
            .env("OCF_RESKEY_root", rig.sb.path())
            .env("OCF_RESKEY_binary", &slow)
            .env("OCF_RESKEY_CRM_meta_interval", "2000")
            .env("OCF_RESKEY_CRM_meta_timeout", "20000")
            .env("CLP_FSMON_TEST_PROBE", &probe)
            .envs(params.iter().map(|(k, v)| (format!("OCF_RESKEY_{k}"), *v)))
            .stdin(Stdio::null());
        c.output().unwrap()
    };
    let out = act("start");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    fs::write(&health, "fail\n").unwrap();
    let mut last = None;
    assert!(wait_until(20 * S, || {
        let out = act("monitor");
        let done = out.status.code() != Some(0);
        last = Some(out);
        done
    }));
    let err = text(&last.unwrap().stderr);
    assert!(
        err.contains("ocf-exit-reason:clp_sambamon ocfslow ended (fault detected)"),
        "{err}"
    );
    assert_eq!(act("stop").status.code(), Some(0));
}

#[test]
fn ocf_agent_reports_the_monitor_fault_as_exit_reason() {
    need("the OCF agent", &[("setsid", "util-linux")]);
    assert!(
        Path::new("/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs").exists(),
        "apt-get install resource-agents"
    );
    let rig = OcfRig::new();
    let health = rig.sb.path().join("health");
    fs::write(&health, "ok\n").unwrap();
    let probe = format!("@{}", health.display());
    let params = [
        ("applet", "clp_sambamon"),
        ("id", "ocffault"),
        ("share", "data"),
        ("probe_interval", "1"),
        ("retries", "2"),
    ];
    let act = |a: &str| rig.action("fault", a, &params, &probe);
    let code = |o: &Output| o.status.code().unwrap();

    assert_eq!(code(&act("validate-all")), 0);
    assert_eq!(code(&act("monitor")), 7, "not running before start");
    let out = act("start");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(code(&act("start")), 0, "start is idempotent");
    assert_eq!(code(&act("monitor")), 0);
    let pid: i32 = text(
        &rig.sb
            .cmd("clp_sambamon")
            .args(["ocffault", "-disp"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .parse()
    .unwrap();
    // The monitor outlives the action, in a session of its own.
    assert_ne!(
        nix::unistd::getsid(Some(Pid::from_raw(pid))).unwrap(),
        nix::unistd::getsid(None).unwrap()
    );

    // The share fails: the monitor exits after 2 probes, the agent's monitor says why.
    fs::write(&health, "fail\n").unwrap();
    let mut last = None;
    assert!(wait_until(20 * S, || {
        let out = act("monitor");
        let done = code(&out) != 0;
        last = Some(out);
        done
    }));
    let out = last.unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 1, "OCF_ERR_GENERIC: {err}");
    let reason = err
        .lines()
        .find_map(|l| l.strip_prefix("ocf-exit-reason:"))
        .unwrap_or_else(|| panic!("no exit reason: {err}"));
    assert_eq!(
        reason,
        "clp_sambamon ocffault ended (fault detected): \
         The clp_sambamon has detected network error(connect error[111])."
    );
    assert!(err.contains("last failed probe:"), "{err}");
    assert!(err.contains("probe failed 2/2"), "{err}");
    // A probe (interval 0) of the ended monitor says "not running", not "failed".
    let out = Command::new(rig.agent())
        .arg("monitor")
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "fault")
        .env("OCF_RESKEY_root", rig.sb.path())
        .env("OCF_RESKEY_binary", binary())
        .env("OCF_RESKEY_CRM_meta_interval", "0")
        .envs(params.iter().map(|(k, v)| (format!("OCF_RESKEY_{k}"), *v)))
        .output()
        .unwrap();
    assert_eq!(code(&out), 7, "{}", text(&out.stderr));
    // Recovery: stop (idempotent), then monitor says stopped, and a new start works.
    assert_eq!(code(&act("stop")), 0);
    assert_eq!(code(&act("stop")), 0);
    assert_eq!(code(&act("monitor")), 7);
    fs::write(&health, "ok\n").unwrap();
    assert_eq!(code(&act("start")), 0);
    assert_eq!(code(&act("stop")), 0);
    rig.sb
        .cmd("clp_sambamon")
        .args(["ocffault", "-disp"])
        .assert()
        .code(8);

    // Configuration errors.
    let bad = |extra: &[(&str, &str)]| {
        let mut q = params.to_vec();
        q.extend_from_slice(extra);
        let out = rig.action("bad", "validate-all", &q, "ok");
        (code(&out), text(&out.stderr))
    };
    assert_eq!(bad(&[("applet", "clp_foomon")]).0, 6, "OCF_ERR_CONFIGURED");
    assert_eq!(bad(&[("id", "no-dashes")]).0, 6);
    assert_eq!(bad(&[("retries", "0")]).0, 6);
    assert_eq!(bad(&[("applet", "clp_nfsmon")]).0, 6, "dir is required");
    let (status, stderr) = bad(&[("binary", "/nonexistent/clp-fsmon")]);
    assert_eq!(status, 5, "OCF_ERR_INSTALLED: {stderr}");
    // No licence: the start fails with the monitor's own message, and the node is unfit.
    let unlicensed = Sandbox::new();
    let out = Command::new(rig.agent())
        .arg("start")
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "nolicence")
        .env("OCF_RESKEY_root", unlicensed.path())
        .env("OCF_RESKEY_binary", binary())
        .env("CLP_FSMON_TEST_PROBE", "ok")
        .envs(params.iter().map(|(k, v)| (format!("OCF_RESKEY_{k}"), *v)))
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 5, "{err}");
    assert!(
        err.contains("ocf-exit-reason:clp_sambamon ocffault ended (licence refused): The license of clp_sambamon is not registered."),
        "{err}"
    );
}

/// A stop right after the start always ends the monitor (start returns only once the monitor's
/// registry entry is written, so -stop can reach it).
#[test]
fn ocf_agent_stop_right_after_start() {
    need("the OCF agent", &[("setsid", "util-linux")]);
    let rig = OcfRig::new();
    let params = [
        ("applet", "clp_nfsmon"),
        ("id", "quick"),
        ("dir", "/export"),
    ];
    for round in 0..15 {
        let out = rig.action("quick", "start", &params, "ok");
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            text(&out.stderr)
        );
        let out = rig.action("quick", "stop", &params, "ok");
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            text(&out.stderr)
        );
        rig.sb
            .cmd("clp_nfsmon")
            .args(["quick", "-disp"])
            .assert()
            .code(8);
    }
}

/// A monitor that never registers: start gives up within its operation timeout, with a reason.
#[test]
fn ocf_agent_start_gives_up_at_its_timeout() {
    need("the OCF agent", &[("setsid", "util-linux")]);
    let rig = OcfRig::new();
    let fake = rig.dir.path().join("never-registers");
    fs::write(
        &fake,
        "#!/bin/sh\ncase $3 in -disp) exit 8 ;; -stop) exit 0 ;; esac\necho $$ >\"$0.pid\"\nexec sleep 60\n",
    )
    .unwrap();
    chmod(&fake, 0o755);
    let begun = Instant::now();
    let out = Command::new(rig.agent())
        .arg("start")
        .env("OCF_ROOT", "/usr/lib/ocf")
        .env("OCF_RESOURCE_INSTANCE", "slow")
        .env("OCF_RESKEY_root", rig.sb.path())
        .env("OCF_RESKEY_binary", &fake)
        .env("OCF_RESKEY_CRM_meta_timeout", "4000")
        .env("OCF_RESKEY_applet", "clp_sambamon")
        .env("OCF_RESKEY_id", "slow")
        .env("OCF_RESKEY_share", "data")
        .output()
        .unwrap();
    let took = begun.elapsed();
    let err = text(&out.stderr);
    // The fake runs in the session the agent made for it: end that whole group — never the
    // test's own (or init's), which a fake left in our group would make it.
    if let Some(pid) = read_pid(&rig.dir.path().join("never-registers.pid"))
        && let Ok(group) = nix::unistd::getpgid(Some(Pid::from_raw(pid)))
    {
        let own = nix::unistd::getpgrp();
        if group == own || group.as_raw() <= 1 {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            panic!(
                "the fake (pid {pid}) runs in process group {group}, not one of its own (ours is {own})"
            );
        }
        let _ = nix::sys::signal::killpg(group, Signal::SIGKILL);
    }
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took >= S && took < 4 * S, "{took:?}");
    assert!(
        err.contains("ocf-exit-reason:clp_sambamon slow not registered within the start timeout"),
        "{err}"
    );
}

// ---- a real Pacemaker cluster -------------------------------------------------------------------

/// A corosync + Pacemaker cluster of one or two nodes (contrib/ci/pcmk-sandbox.sh); torn down
/// on drop.
struct Cluster {
    dir: tempfile::TempDir,
    nodes: u32,
}

impl Cluster {
    fn script() -> PathBuf {
        repo().join("contrib/ci/pcmk-sandbox.sh")
    }

    fn up(nodes: u32, agents: &[&Path]) -> Self {
        let dir = open_tempdir("clpfs-pcmk-");
        let out = Command::new(Self::script())
            .arg("up")
            .arg(dir.path())
            .args(agents)
            .env("NODES", nodes.to_string())
            .env_remove("CLP_FSMON_TEST_PROBE")
            .output()
            .unwrap();
        let c = Self { dir, nodes };
        assert!(
            out.status.success(),
            "cluster did not start: {}\n{}",
            text(&out.stderr),
            c.logs()
        );
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(Self::script())
            .arg("run")
            .arg(self.dir.path())
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        text(&o.stdout)
    }

    fn status_xml(&self) -> String {
        text(
            &self
                .run(&["crm_mon", "-1", "--output-as=xml", "--inactive"])
                .stdout,
        )
    }

    /// Every node's Pacemaker log, one after the other.
    fn pacemaker_log(&self) -> String {
        (1..=self.nodes)
            .map(|k| {
                fs::read_to_string(self.dir.path().join(format!("node{k}/pacemaker.log")))
                    .unwrap_or_default()
            })
            .collect()
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for k in 1..=self.nodes {
            let nd = self.dir.path().join(format!("node{k}"));
            for f in ["inside.out", "pacemakerd.out", "corosync.log"] {
                let _ = writeln!(
                    s,
                    "--- node{k}/{f}:\n{}",
                    fs::read_to_string(nd.join(f)).unwrap_or_default()
                );
            }
            let log = fs::read_to_string(nd.join("pacemaker.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            let _ = writeln!(s, "--- node{k}/pacemaker.log (last 80 lines):");
            for l in tail.iter().rev() {
                let _ = writeln!(s, "{l}");
            }
        }
        s
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(Self::script())
            .arg("down")
            .arg(self.dir.path())
            .status();
    }
}

/// The node a resource runs on, from `crm_mon`'s XML.
fn location(xml: &str, id: &str) -> Option<String> {
    let mut lines = xml.lines();
    lines.find(|l| l.contains(&format!("<resource id=\"{id}\"")))?;
    let node = lines.next()?.trim();
    let name = node.strip_prefix("<node name=\"")?;
    Some(name.split('"').next()?.to_string())
}

/// `<resource id="ID" … role="Started" …>` in `crm_mon`'s XML.
fn started(xml: &str, id: &str) -> bool {
    xml.lines().any(|l| {
        l.contains(&format!("<resource id=\"{id}\""))
            && l.contains("role=\"Started\"")
            && l.contains("failed=\"false\"")
    })
}

/// The process is gone (or a zombie nobody has reaped yet).
fn gone(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |st| {
        st.rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'))
    })
}

fn read_pid(p: &Path) -> Option<i32> {
    fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// A smb.conf for one guest share on 127.0.0.1:PORT, with every state directory under `dir`.
fn smb_conf(dir: &Path, port: u16) -> PathBuf {
    let mut conf = format!(
        "[global]\n\tserver role = standalone server\n\tworkgroup = CLPTEST\n\tnetbios name = CLPPCMK\n\
         \tsmb ports = {port}\n\tinterfaces = 127.0.0.1\n\tbind interfaces only = yes\n\
         \tdisable netbios = yes\n\tmap to guest = Bad User\n\tload printers = no\n\
         \tprintcap name = /dev/null\n\tdisable spoolss = yes\n\tlog file = {}/log.%m\n",
        dir.display()
    );
    for (key, sub) in [
        ("private dir", "private"),
        ("lock directory", "lock"),
        ("state directory", "state"),
        ("cache directory", "cache"),
        ("pid directory", "pid"),
        ("ncalrpc dir", "ncalrpc"),
    ] {
        fs::create_dir_all(dir.join(sub)).unwrap();
        let _ = writeln!(conf, "\t{key} = {}", dir.join(sub).display());
    }
    fs::create_dir_all(dir.join("share")).unwrap();
    let _ = write!(
        conf,
        "[data]\n\tpath = {}\n\tguest ok = yes\n\tread only = no\n",
        dir.join("share").display()
    );
    let p = dir.join("smb.conf");
    fs::write(&p, conf).unwrap();
    p
}

/// A file server and its clp-fsmon monitor, as one Pacemaker group.
struct Group {
    /// Group, server resource and monitor resource ids.
    name: &'static str,
    server: &'static str,
    monitor: &'static str,
    applet: &'static str,
    /// Monitor ID.
    id: &'static str,
    /// The server's executable and options (run by ocf:heartbeat:anything, in the foreground).
    binfile: &'static str,
    options: String,
    /// Monitor parameters besides applet, id, root, binary and the probe timings.
    params: Vec<(&'static str, String)>,
    /// The monitor's migration-threshold (Pacemaker's default: INFINITY).
    migration_threshold: Option<u32>,
}

impl Group {
    fn xml(&self, work: &Path, root: &Path) -> String {
        let (g, srv, mon) = (self.name, self.server, self.monitor);
        let mut mon_params = String::new();
        for (k, v) in [
            ("applet", self.applet.to_string()),
            ("id", self.id.to_string()),
            ("probe_interval", "1".into()),
            ("retries", "3".into()),
            ("probe_timeout", "2".into()),
            ("root", root.display().to_string()),
            ("binary", binary().display().to_string()),
        ]
        .into_iter()
        .chain(self.params.iter().map(|(k, v)| (*k, v.clone())))
        {
            let _ = writeln!(
                mon_params,
                r#"      <nvpair id="{mon}-{k}" name="{k}" value="{v}"/>"#
            );
        }
        format!(
            r#"<group id="{g}">
  <primitive id="{srv}" class="ocf" provider="heartbeat" type="anything">
    <instance_attributes id="{srv}-ia">
      <nvpair id="{srv}-bin" name="binfile" value="{bin}"/>
      <nvpair id="{srv}-opts" name="cmdline_options" value="{opts}"/>
      <nvpair id="{srv}-pid" name="pidfile" value="{work}/{srv}.pid"/>
      <nvpair id="{srv}-log" name="logfile" value="{work}/{srv}.out"/>
      <nvpair id="{srv}-stop" name="stop_timeout" value="3"/>
    </instance_attributes>
    <operations>
      <op id="{srv}-mon" name="monitor" interval="5s" timeout="20s"/>
    </operations>
  </primitive>
  <primitive id="{mon}" class="ocf" provider="clp-fsmon" type="clp-fsmon">
    <instance_attributes id="{mon}-ia">
{mon_params}    </instance_attributes>
    <meta_attributes id="{mon}-meta">
      <nvpair id="{mon}-container" name="container" value="{srv}"/>{mt}
    </meta_attributes>
    <operations>
      <op id="{mon}-mon" name="monitor" interval="2s" timeout="20s" on-fail="restart-container"/>
      <op id="{mon}-stop" name="stop" interval="0" timeout="30s"/>
    </operations>
  </primitive>
</group>"#,
            bin = self.binfile,
            opts = self.options,
            work = work.display(),
            mt = self.migration_threshold.map_or(String::new(), |n| format!(
                "\n      <nvpair id=\"{mon}-mt\" name=\"migration-threshold\" value=\"{n}\"/>"
            )),
        )
    }
}

fn need_cluster(server: (&str, &str)) {
    need(
        "the Pacemaker cluster test",
        &[
            ("corosync", "corosync"),
            ("pacemakerd", "pacemaker"),
            ("crm_mon", "pacemaker-cli-utils"),
            ("cibadmin", "pacemaker-cli-utils"),
            ("unshare", "util-linux"),
            ("nsenter", "util-linux"),
            ("ip", "iproute2"),
            server,
        ],
    );
    assert!(
        Path::new("/usr/lib/ocf/resource.d/heartbeat/anything").exists(),
        "apt-get install resource-agents"
    );
}

/// The real thing: a file server and the clp-fsmon monitor in one group of a real Pacemaker
/// cluster of `nodes` nodes. The server is stalled with SIGSTOP (alive, so its own process check
/// passes); the monitor detects it, the clp-fsmon resource fails with the monitor's alert as exit
/// reason, and Pacemaker restarts the server (the monitor's container) and the monitor, on the
/// same node (one node) or, with migration-threshold=1, on the other one (two nodes): a new
/// server pid, both resources started again, the fail count and the reason in `crm_mon`.
/// Returns the exit reason of the failure.
fn group_recovers_from_a_stalled_server(
    grp: &Group,
    work: &tempfile::TempDir,
    sb: &Sandbox,
    nodes: u32,
) -> String {
    let started_at = Instant::now();
    let cluster = Cluster::up(nodes, &[&repo().join("contrib/ocf/clp-fsmon")]);
    eprintln!("cluster up in {:?}", started_at.elapsed());
    let (srv, mon, applet, id) = (grp.server, grp.monitor, grp.applet, grp.id);
    let server_pid = work.path().join(format!("{srv}.pid"));

    let res_file = work.path().join("resources.xml");
    fs::write(&res_file, grp.xml(work.path(), sb.path())).unwrap();
    cluster.ok(&[
        "cibadmin",
        "--create",
        "-o",
        "resources",
        "--xml-file",
        res_file.to_str().unwrap(),
    ]);

    // The configuration is valid as Pacemaker sees it.
    let verify = cluster.run(&["crm_verify", "--live-check", "--verbose"]);
    assert!(
        verify.status.success(),
        "crm_verify: {}{}",
        text(&verify.stdout),
        text(&verify.stderr)
    );
    // Both started; the monitor watches the share or export (event 2).
    let up = |c: &Cluster| {
        let x = c.status_xml();
        started(&x, srv) && started(&x, mon)
    };
    assert!(
        wait_until(60 * S, || up(&cluster) && sb.wait_event(2, Duration::ZERO)),
        "group did not start:\n{}\n{}\nalerts {:?}",
        cluster.status_xml(),
        cluster.logs(),
        sb.alerts()
    );
    sb.cmd(applet).args([id, "-disp"]).assert().success();
    let first = read_pid(&server_pid).expect("server pid");
    let home = location(&cluster.status_xml(), srv).expect("server's node");
    eprintln!("{}", cluster.ok(&["crm_mon", "-1", "-f"]));

    // Stall the server: alive for its process check, silent on the wire.
    let stalled_at = Instant::now();
    kill(Pid::from_raw(first), Signal::SIGSTOP).unwrap();

    // Pacemaker sees the clp-fsmon resource fail and restarts the group from the server.
    let moved = |c: &Cluster| {
        let x = c.status_xml();
        let (s, m) = (location(&x, srv), location(&x, mon));
        s == m && (nodes == 1 || s.is_some_and(|n| n != home))
    };
    let recovered = wait_until(90 * S, || {
        read_pid(&server_pid).is_some_and(|p| p != first)
            && up(&cluster)
            && moved(&cluster)
            && sb.event_ids().iter().filter(|&&e| e == 2).count() >= 2
    });
    let xml = cluster.status_xml();
    let human = text(&cluster.run(&["crm_mon", "-1", "-f"]).stdout);
    eprintln!("recovered in {:?}:\n{human}\n{xml}", stalled_at.elapsed());
    assert!(
        recovered,
        "no recovery:\n{xml}\n{}\nalerts {:?}",
        cluster.logs(),
        sb.alerts()
    );
    let second = read_pid(&server_pid).unwrap();
    assert_ne!(second, first, "{srv} was restarted");

    // The failure: the clp-fsmon monitor op, with the monitor's alert as the exit reason.
    let failure = xml
        .lines()
        .find(|l| l.contains("<failure ") && l.contains(&format!("op_key=\"{mon}_monitor_2000\"")))
        .unwrap_or_else(|| panic!("no failure of {mon}'s monitor in:\n{xml}"));
    let reason = failure
        .split_once("exitreason=\"")
        .and_then(|(_, r)| r.split_once('"'))
        .map(|(r, _)| r)
        .unwrap_or_default();
    let alerts: Vec<String> = sb.alerts().into_iter().map(|a| a.3).collect();
    let prefix = format!("{applet} {id} ended (fault detected): ");
    assert!(
        reason.strip_prefix(&prefix).is_some_and(|alert| alerts
            .iter()
            .any(|a| alert.starts_with(a.as_str()) && !a.contains("will terminate"))),
        "exit reason {reason:?}: the monitor's detection alert, one of {alerts:?}"
    );
    assert!(
        failure.contains("status=\"complete\"") && failure.contains("exitstatus=\"error\""),
        "{failure}"
    );
    assert!(
        failure.contains(&format!("node=\"{home}\"")),
        "failed on {home}: {failure}"
    );
    let threshold = grp.migration_threshold.unwrap_or(1_000_000);
    assert!(
        human.contains(&format!(
            "{mon}: migration-threshold={threshold} fail-count="
        )),
        "{human}"
    );
    let fc = cluster.ok(&["crm_failcount", "--query", "-r", mon, "-N", &home]);
    assert!(!fc.contains("value=0"), "{fc}");
    // The scheduler restarted the server because of the monitor's failure (one node) or moved
    // both to the other node (two nodes).
    let log = cluster.pacemaker_log();
    let (srv_action, mon_action) = if nodes == 1 {
        ("Actions: Restart", "Actions: Recover")
    } else {
        ("Actions: Move", "Actions: Recover")
    };
    assert!(
        log.lines()
            .any(|l| l.contains(srv_action) && l.contains(&format!(" {srv} "))),
        "no {srv_action} {srv} in the log"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(mon_action) && l.contains(&format!(" {mon} "))),
        "no {mon_action} {mon} in the log"
    );
    // The alert trail of the stall in the monitor's own log: a detection event, then 6.
    let ids = sb.event_ids();
    assert!(ids.contains(&6), "{ids:?}");
    // The monitor's alerts and its last failed probe are in Pacemaker's log too (ocf_log).
    let agent_lines: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains(&format!("clp-fsmon({mon})")) && l.contains(&format!("ERROR: {applet} {id}"))
        })
        .collect();
    assert!(
        agent_lines.iter().any(|l| l.contains(reason)),
        "{agent_lines:#?}"
    );
    assert!(
        agent_lines
            .iter()
            .any(|l| l.contains("last failed probe:") && l.contains("probe failed 3/3")),
        "{agent_lines:#?}"
    );
    for l in &agent_lines {
        eprintln!("{l}");
    }
    // The old server is gone (killed by its agent's stop), not left stopped.
    assert!(
        wait_until(10 * S, || gone(first)),
        "old {srv} {first} still there"
    );
    // The story, from Pacemaker's log.
    for l in log.lines().filter(|l| {
        (l.contains("Result of") && !l.contains("probe"))
            || l.contains("Actions: Restart")
            || l.contains("Actions: Recover")
            || l.contains("Actions: Move")
    }) {
        eprintln!("{l}");
    }

    // Clean up through the cluster: stop the group, then the cluster.
    cluster.ok(&[
        "crm_resource",
        "--resource",
        grp.name,
        "--set-parameter",
        "target-role",
        "--meta",
        "--parameter-value",
        "Stopped",
    ]);
    assert!(
        wait_until(60 * S, || {
            let x = cluster.status_xml();
            !x.contains("role=\"Started\"")
        }),
        "group did not stop:\n{}",
        cluster.status_xml()
    );
    sb.cmd(applet).args([id, "-disp"]).assert().code(8);
    assert!(
        wait_until(10 * S, || read_pid(&server_pid).is_none_or(gone)),
        "{srv} still running after the group stopped"
    );
    drop(cluster);
    reason.to_string()
}

/// smbd (a guest share on 127.0.0.1:445 of the cluster's own network namespace) + `clp_sambamon`.
#[test]
fn pacemaker_recovers_the_group_when_the_monitor_detects_a_stalled_smbd() {
    need_cluster(("smbd", "samba"));
    let sb = Sandbox::licensed();
    chmod(sb.path(), 0o755);
    let work = open_tempdir("clpfs-pcmk-smb-");
    let conf = smb_conf(work.path(), 445);
    let grp = Group {
        name: "g-samba",
        server: "smbd",
        monitor: "smbmon",
        applet: "clp_sambamon",
        id: "pcmk",
        binfile: "/usr/sbin/smbd",
        options: format!(
            "--foreground --no-process-group --configfile={}",
            conf.display()
        ),
        params: vec![("share", "data".into()), ("address", "127.0.0.1".into())],
        migration_threshold: None,
    };
    group_recovers_from_a_stalled_server(&grp, &work, &sb, 1);
}

/// Two nodes: with migration-threshold=1 on the monitor, a stalled smbd fails the group over to
/// the other node (as CLUSTERPRO's PID monitor with failover threshold 0 does).
#[test]
fn pacemaker_fails_the_group_over_to_the_other_node() {
    need_cluster(("smbd", "samba"));
    // Both nodes are one licensed server to clp-fsmon: a re-rooted host name, then the licence.
    let sb = Sandbox::new();
    chmod(sb.path(), 0o755);
    fs::create_dir_all(sb.path().join("etc")).unwrap();
    fs::write(sb.path().join("etc/hostname"), "fsnode\n").unwrap();
    crate::rig::license::register_product(sb.path());
    let work = open_tempdir("clpfs-pcmk-2n-");
    let conf = smb_conf(work.path(), 445);
    let grp = Group {
        name: "g-samba",
        server: "smbd",
        monitor: "smbmon",
        applet: "clp_sambamon",
        id: "pcmk2",
        binfile: "/usr/sbin/smbd",
        options: format!(
            "--foreground --no-process-group --configfile={}",
            conf.display()
        ),
        params: vec![("share", "data".into()), ("address", "127.0.0.1".into())],
        migration_threshold: Some(1),
    };
    group_recovers_from_a_stalled_server(&grp, &work, &sb, 2);
}

/// NFS-Ganesha (`NFSv4` only, no rpcbind, 127.0.0.1:2049 of the cluster's own network namespace)
/// + `clp_nfsmon --nfs4`.
#[test]
fn pacemaker_recovers_the_group_when_the_monitor_detects_a_stalled_ganesha() {
    need_cluster(("ganesha.nfsd", "nfs-ganesha nfs-ganesha-vfs"));
    let sb = Sandbox::licensed();
    chmod(sb.path(), 0o755);
    let work = open_tempdir("clpfs-pcmk-nfs-");
    let export = work.path().join("export");
    let recovery = work.path().join("recovery");
    fs::create_dir(&export).unwrap();
    fs::create_dir(&recovery).unwrap();
    let conf = work.path().join("ganesha.conf");
    fs::write(
        &conf,
        format!(
            "NFS_CORE_PARAM {{ Protocols = 4; NFS_Port = 2049; Enable_NLM = false; Enable_RQUOTA = false; }}\n\
             NFSV4 {{ Graceless = true; RecoveryRoot = {rec}; }}\n\
             EXPORT {{ Export_Id = 1; Path = {exp}; Pseudo = {exp}; Access_Type = RW; \
             Squash = No_Root_Squash; Protocols = 4; Transports = TCP; SecType = sys; \
             FSAL {{ Name = VFS; }} }}\n",
            rec = recovery.display(),
            exp = export.display(),
        ),
    )
    .unwrap();
    let grp = Group {
        name: "g-nfs",
        server: "ganesha",
        monitor: "nfsmon",
        applet: "clp_nfsmon",
        id: "pcmknfs",
        binfile: "/usr/bin/ganesha.nfsd",
        options: format!(
            "-F -f {} -L {} -p {} -N NIV_EVENT",
            conf.display(),
            work.path().join("ganesha.log").display(),
            work.path().join("ganesha.nfsd.pid").display()
        ),
        params: vec![
            ("dir", export.display().to_string()),
            ("address", "127.0.0.1".into()),
            ("nfs4", "true".into()),
        ],
        migration_threshold: None,
    };
    let reason = group_recovers_from_a_stalled_server(&grp, &work, &sb, 1);
    // The generic NFS alert (66) carries the detail line that preceded it.
    assert!(
        reason.ends_with("The clp_nfsmon has detected an error in NFS. (RPC: Timed out)"),
        "{reason}"
    );
}

// ---- systemd units ----------------------------------------------------------------------------

/// `[Section] Key=Value` lines of a unit.
fn unit_keys(unit: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut keys = Vec::new();
    for l in unit.lines().map(str::trim) {
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(s) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = s.to_string();
        } else if let Some((k, v)) = l.split_once('=') {
            keys.push((section.clone(), k.to_string(), v.to_string()));
        } else {
            panic!("not a unit line: {l}");
        }
    }
    keys
}

fn key<'a>(keys: &'a [(String, String, String)], section: &str, k: &str) -> Option<&'a str> {
    keys.iter()
        .find(|(s, kk, _)| s == section && kk == k)
        .map(|(_, _, v)| v.as_str())
}

/// The env file's `CLP_ARGS="…"`, split like systemd splits `$CLP_ARGS`.
fn env_args(env: &str) -> Vec<String> {
    let line = env
        .lines()
        .find_map(|l| l.strip_prefix("CLP_ARGS="))
        .expect("CLP_ARGS");
    line.trim_matches('"')
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn systemd_units_run_the_monitor_and_stop_it() {
    for (applet, example, target_opt) in [
        ("clp_sambamon", "clp_sambamon-sambawatch.env.example", "-s"),
        ("clp_nfsmon", "clp_nfsmon-nfswatch.env.example", "-d"),
    ] {
        let unit =
            fs::read_to_string(repo().join(format!("contrib/systemd/{applet}@.service"))).unwrap();
        let keys = unit_keys(&unit);
        assert_eq!(
            key(&keys, "Service", "EnvironmentFile"),
            Some(format!("/etc/clp-fsmon/{applet}-%i.env").as_str())
        );
        assert_eq!(
            key(&keys, "Service", "ExecStart"),
            Some(format!("/usr/sbin/{applet} %i $CLP_ARGS").as_str())
        );
        assert_eq!(
            key(&keys, "Service", "ExecStop"),
            Some(format!("/usr/sbin/{applet} %i -stop 60").as_str())
        );
        assert_eq!(key(&keys, "Service", "Restart"), Some("no"));
        assert_eq!(key(&keys, "Service", "Type"), Some("simple"));
        let stop_timeout: u32 = key(&keys, "Service", "TimeoutStopSec")
            .unwrap()
            .parse()
            .unwrap();
        assert!(stop_timeout > 60, "longer than -stop's wait");
        assert_eq!(key(&keys, "Install", "WantedBy"), Some("multi-user.target"));
        let env = fs::read_to_string(repo().join("contrib/systemd").join(example)).unwrap();
        let args = env_args(&env);
        assert_eq!(args[0], target_opt, "{args:?}");

        // The Exec lines as systemd runs them (%i = the ID, $CLP_ARGS split), with the real
        // binary in a sandbox: the monitor runs, ExecStop ends it with exit 0.
        let sb = Sandbox::licensed();
        let exec = |line: &str| -> Vec<String> {
            line.split_whitespace()
                .flat_map(|w| match w {
                    "%i" => vec!["unit1".to_string()],
                    "$CLP_ARGS" => args.clone(),
                    w => vec![w.to_string()],
                })
                .collect()
        };
        let start = exec(key(&keys, "Service", "ExecStart").unwrap());
        assert_eq!(start[0], format!("/usr/sbin/{applet}"));
        let mut m = sb.spawn_monitor(
            applet,
            &start[1..].iter().map(String::as_str).collect::<Vec<_>>(),
            Some("ok"),
        );
        assert!(sb.wait_event(1, 10 * S), "{}", m.stderr());
        let stop = exec(key(&keys, "Service", "ExecStop").unwrap());
        sb.cmd(applet).args(&stop[1..]).assert().success();
        assert_eq!(m.wait_exit(10 * S), Some(0));
    }
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    need(
        "systemd-analyze verify",
        &[("systemd-analyze", "systemd"), ("unshare", "util-linux")],
    );
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for applet in ["clp_sambamon", "clp_nfsmon"] {
        let f = dir.path().join(format!("{applet}@verify.service"));
        fs::copy(
            repo().join(format!("contrib/systemd/{applet}@.service")),
            &f,
        )
        .unwrap();
        files.push(f);
    }
    // ExecStart must exist: /usr/sbin is a private tmpfs holding the applet links.
    let mut script = String::from("mount -t tmpfs clp-verify /usr/sbin");
    for applet in ["clp_sambamon", "clp_nfsmon"] {
        let _ = write!(
            script,
            " && ln -s {} /usr/sbin/{applet}",
            binary().display()
        );
    }
    script.push_str(" && exec systemd-analyze verify --man=no \"$@\"");
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"])
        .args(&files)
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.trim().is_empty(), "warnings: {err}");
}

// ---- clplogcmd ----------------------------------------------------------------------------------

/// With CLUSTERPRO's `clplogcmd` on PATH, every alert also goes to it (`-m TEXT -i ID -l LEVEL`).
#[test]
fn alerts_go_to_clplogcmd_when_it_is_on_path() {
    let sb = Sandbox::licensed();
    let fake = sb.path().join("clusterpro");
    fs::create_dir(&fake).unwrap();
    let log = sb.path().join("clplogcmd.log");
    let cmd = fake.join("clplogcmd");
    fs::write(
        &cmd,
        format!(
            "#!/bin/sh\n{{ echo '---'; printf '%s\\n' \"$@\"; }} >>'{}'\n",
            log.display()
        ),
    )
    .unwrap();
    chmod(&cmd, 0o755);
    let path = format!(
        "{}:{}",
        fake.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = sb.std_cmd("clp_sambamon");
    let out = c
        .args(["logcmd", "-s", "data", "-i", "1", "-c", "1"])
        .env("PATH", path)
        .env("CLP_FSMON_TEST_PROBE", "fail")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let calls: Vec<Vec<String>> = fs::read_to_string(&log)
        .unwrap()
        .split("---\n")
        .filter(|b| !b.is_empty())
        .map(|b| b.lines().map(String::from).collect())
        .collect();
    let expect = |id: &str, level: &str, msg: &str| {
        assert!(
            calls
                .iter()
                .any(|c| c == &["-m", msg, "-i", id, "-l", level]),
            "no clplogcmd -m {msg:?} -i {id} -l {level} in {calls:?}"
        );
    };
    expect("1", "INFO", "The clp_sambamon has started watching Samba.");
    expect(
        "72",
        "ERR",
        "The clp_sambamon has detected network error(connect error[111]).",
    );
    expect("6", "ERR", "The clp_sambamon will terminate.");
    // The same alerts as in the alert log, in the same order.
    let logged: Vec<String> = sb.alerts().into_iter().map(|a| a.2.to_string()).collect();
    let sent: Vec<String> = calls.iter().map(|c| c[3].clone()).collect();
    assert_eq!(sent, logged);
}
