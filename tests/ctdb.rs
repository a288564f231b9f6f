//! CTDB (issue 16): the legacy event script `contrib/ctdb/55.clp-fsmon.script`, first on its own
//! (its target list, its `unhealthy_after` counts, its bounds, its start-up and reallocation
//! events, against CTDB's real `functions` file and the scripted probe), then under a real
//! two-node CTDB: Debian's `ctdbd`, each node in a network namespace of its own with its own smbd
//! (a share on a bindfs mount), Ganesha and rpcbind, and its own CTDB directories.
//!
//! The cluster: the namespaces come from `rig::nfs` (each node's is its Ganesha's, which the
//! rig also joins to this host by a veth pair the test only uses to see the servers come up);
//! a LAN namespace of the test's own holds a bridge, one veth port per node (`lan0` inside the
//! node) and the client's address, on 192.0.2.0/24 (TEST-NET-1: these namespaces are reached
//! from nowhere else, so nothing on this machine's routes is touched). Each `ctdbd` runs in a
//! private mount namespace where its own directories are mounted over `/etc/ctdb` (ctdb.conf,
//! `nodes`, `public_addresses`, `ctdb.tunables`, the enabled scripts, a copy of the package's
//! `functions`), `/var/lib/ctdb` and `/run/ctdb` (on a tmpfs `/run` of its own), so it is the
//! packaged daemon with its packaged paths and the machine's own CTDB configuration is never
//! read or changed; the CLI reaches it the same way (`nsenter` into its namespaces). The
//! cluster lock is a file both nodes share (CTDB's fcntl mutex helper). Enabled scripts:
//! 00.ctdb, 10.interface (it adds and removes the public addresses) and 55.clp-fsmon; not
//! 50.samba, which would start the distribution's smbd.
//!
//! Tunables keep the run short: `MonitorInterval` 2 s (default 15), `RerecoveryTimeout` 2 s
//! (default 10: the pause after each recovery before the next), probes with `-r 2` and
//! `unhealthy_after = 2`. The first node's smbd is stopped (SIGSTOP), then its storage (the
//! bindfs daemon under its share), then its Ganesha: each time the node must turn UNHEALTHY
//! within the bound, with the probe's own line in `ctdb event status`, and (for SMB) its public
//! address must move to the other node, where smbclient through that address lists the other
//! node's share; healed, it must turn healthy again. Every namespace, mount, process and
//! directory is removed on drop, also when an assertion fails. The test prints one `CTDB …` line
//! per fault with the detection time (`--nocapture` shows them).

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::rig::nfs::{Flavor, NfsServer};
use crate::rig::smb::{Setup, Smbd};
use crate::rig::storage::{Fault, Storage};
use crate::rig::{OwnSession, Sandbox, TestHost, output_within, require_root, require_tool};

const S: Duration = Duration::from_secs(1);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script() -> PathBuf {
    repo().join("contrib/ctdb/55.clp-fsmon.script")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

fn chmod(p: &Path, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// The `functions` file of the installed ctdb package (the event script sources it).
fn ctdb_functions() -> String {
    require_tool("ctdbd", "ctdb");
    fs::read_to_string("/etc/ctdb/functions")
        .expect("/etc/ctdb/functions of the ctdb package: apt-get install ctdb")
}

// ---- the script on its own -------------------------------------------------------------------

/// A `CTDB_BASE` for the script without a daemon: the package's `functions`, the script enabled
/// in `events/legacy`, a stub `ctdb` (PNN 7, `EventScriptTimeout` from `$FAKE_EST`, default 30)
/// and its own script state directory; the probes are the test build's applets in a licensed
/// sandbox, driven by the scripted probe (`@health`: the file's first line, `ok` or `fail`).
struct Bench {
    dir: tempfile::TempDir,
    sandbox: Sandbox,
}

impl Bench {
    fn new() -> Self {
        require_root("the event script's probes (--once needs root)");
        let dir = tempfile::Builder::new()
            .prefix("clpfs-ctdbs-")
            .tempdir()
            .unwrap();
        let base = dir.path().join("base");
        fs::create_dir_all(base.join("events/legacy")).unwrap();
        fs::write(base.join("functions"), ctdb_functions()).unwrap();
        std::os::unix::fs::symlink(script(), base.join("events/legacy/55.clp-fsmon.script"))
            .unwrap();
        let stub = dir.path().join("ctdb");
        fs::write(
            &stub,
            "#!/bin/sh\ncase $1 in pnn) echo 7 ;; getvar) echo \"$2 = ${FAKE_EST:-30}\" ;; \
             *) exit 1 ;; esac\n",
        )
        .unwrap();
        chmod(&stub, 0o755);
        let sandbox = Sandbox::licensed();
        let b = Self { dir, sandbox };
        b.options(&format!(
            "CTDB_CLP_FSMON_BINDIR={}\n",
            b.sandbox.path().join("bin").display()
        ));
        b.health("ok");
        b
    }

    fn base(&self) -> PathBuf {
        self.dir.path().join("base")
    }

    /// The script's own options file (events/legacy/55.clp-fsmon.options).
    fn options(&self, text: &str) {
        fs::write(self.base().join("events/legacy/55.clp-fsmon.options"), text).unwrap();
    }

    fn conf(&self, text: &str) {
        fs::write(self.base().join("clp-fsmon.conf"), text).unwrap();
    }

    fn health(&self, step: &str) {
        fs::write(self.dir.path().join("health"), format!("{step}\n")).unwrap();
    }

    /// The script's state directory (fail counts).
    fn state(&self) -> PathBuf {
        self.dir.path().join("var/service/clp-fsmon")
    }

    fn counters(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.state())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".failcount"))
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Runs the script for `event` (as eventd does: `CTDB_BASE` set, stdin empty), at most 30 s;
    /// its exit status, its output and how long it took.
    fn run(&self, event: &str, env: &[(&str, &str)]) -> (i32, String, Duration) {
        let mut c = Command::new(self.base().join("events/legacy/55.clp-fsmon.script"));
        c.arg(event)
            .env("CTDB_BASE", self.base())
            .env("CTDB_SCRIPT_VARDIR", self.dir.path().join("var"))
            .env("CTDB", self.dir.path().join("ctdb"))
            .env("CLP_FSMON_ROOT", self.sandbox.path())
            .env(
                "CLP_FSMON_TEST_PROBE",
                format!("@{}", self.dir.path().join("health").display()),
            );
        for (k, v) in env {
            c.env(k, v);
        }
        let t = Instant::now();
        let out = output_within(&mut c, b"", 30 * S)
            .unwrap_or_else(|| panic!("55.clp-fsmon.script {event} did not end within 30 s"));
        (out.status.code().unwrap_or(-1), text(&out), t.elapsed())
    }
}

/// A failed probe counts towards its target's `unhealthy_after` (the event fails at the
/// threshold with the probe's own line, warns below it, and never fails with 0); a good probe
/// resets the count and says so; `startup` starts every count at zero.
#[test]
fn event_script_counts_failed_monitors_like_ctdb() {
    let b = Bench::new();
    b.conf(
        "# two targets\nsmb = data\n    unhealthy_after = 3\n\nnfs = /export\n    \
         address = 127.0.0.1\n    unhealthy_after = 0\n",
    );
    let (rc, out, _) = b.run("startup", &[]);
    assert_eq!(rc, 0, "startup:\n{out}");
    assert_eq!(b.counters().len(), 2, "{:?}", b.counters());
    let (rc, out, _) = b.run("monitor", &[]);
    assert_eq!((rc, out.as_str()), (0, ""), "a healthy monitor is silent");

    b.health("fail");
    for n in 1..=2 {
        let (rc, out, _) = b.run("monitor", &[]);
        assert_eq!(rc, 0, "failure {n} of 3 must not fail the event:\n{out}");
        assert!(
            out.contains(&format!("WARNING: smb data: fail count {n} < threshold 3")),
            "{out}"
        );
        assert!(out.contains("clp_sambamon CRITICAL - data "), "{out}");
    }
    let (rc, out, _) = b.run("monitor", &[]);
    assert_eq!(rc, 1, "the third failure fails the event:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "ERROR: smb data: fail count 3 >= threshold 3")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        lines[at + 1].starts_with("clp_sambamon CRITICAL - data connect: "),
        "the probe's own line follows: {out}"
    );
    assert!(
        out.contains(
            "WARNING: nfs /export (127.0.0.1): fail count 3 (unhealthy_after = 0: never unhealthy)"
        ) && out.contains("clp_nfsmon CRITICAL - /export "),
        "{out}"
    );

    b.health("ok");
    let (rc, out, _) = b.run("monitor", &[]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("NOTICE: smb data: no longer failing"), "{out}");
    assert!(
        out.contains("NOTICE: nfs /export (127.0.0.1): no longer failing"),
        "{out}"
    );
    b.health("fail");
    let (rc, out, _) = b.run("monitor", &[]);
    assert!(
        rc == 0 && out.contains("fail count 1 < threshold 3"),
        "{out}"
    );
    let (rc, _, _) = b.run("monitor", &[]);
    assert_eq!(rc, 0);
    // A restart of CTDB starts from zero.
    let (rc, out, _) = b.run("startup", &[]);
    assert_eq!(rc, 0, "{out}");
    let (rc, out, _) = b.run("monitor", &[]);
    assert!(
        rc == 0 && out.contains("fail count 1 < threshold 3"),
        "{out}"
    );
}

/// Every probe is bounded by its own timeout (a probe process that does not end is killed
/// `timeout` + 2 s after it started) and all targets are probed at once, so a monitor event
/// takes about the longest timeout, not their sum, and stays within `EventScriptTimeout`.
#[test]
fn event_script_bounds_every_probe_and_probes_all_at_once() {
    let b = Bench::new();
    let bin = b.dir.path().join("stuck");
    fs::create_dir(&bin).unwrap();
    for applet in ["clp_sambamon", "clp_nfsmon"] {
        let p = bin.join(applet);
        fs::write(&p, "#!/bin/sh\nexec sleep 60\n").unwrap();
        chmod(&p, 0o755);
    }
    b.options(&format!("CTDB_CLP_FSMON_BINDIR={}\n", bin.display()));
    b.conf(
        "smb = one\n  timeout = 1\n  unhealthy_after = 1\nsmb = two\n  timeout = 1\n  \
         unhealthy_after = 1\nnfs = /three\n  timeout = 1\n  unhealthy_after = 1\n",
    );
    let (rc, out, took) = b.run("monitor", &[]);
    assert_eq!(rc, 1, "{out}");
    for what in ["smb one", "smb two", "nfs /three"] {
        assert!(
            out.contains(&format!("ERROR: {what}: the probe did not end within 3 s")),
            "{out}"
        );
    }
    // One probe: 1 s + 2 s of grace. In sequence they would take 9 s.
    assert!(
        took >= 3 * S && took < 5 * S,
        "three stuck probes of 1 s took {took:?} (one at a time would be 9 s)"
    );
    // startup refuses a timeout that does not fit in EventScriptTimeout.
    b.options(&format!("CTDB_CLP_FSMON_BINDIR={}\n", bin.display()));
    b.conf("smb = data\n  timeout = 8\n");
    let (rc, out, _) = b.run("startup", &[("FAKE_EST", "10")]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains("a probe may take 8 + 2 s and EventScriptTimeout is 10 s"),
        "{out}"
    );
    let (rc, out, _) = b.run("startup", &[("FAKE_EST", "11")]);
    assert_eq!(rc, 0, "{out}");
}

/// `keytab` (with `principal`) makes an smb target's probe a Kerberos logon: the script passes
/// `--kerberos --keytab FILE -u PRINCIPAL` on, and refuses a keytab beside `credentials`, on an
/// nfs target, or a principal without a keytab.
#[test]
fn event_script_passes_a_keytab_on() {
    let b = Bench::new();
    let bin = b.dir.path().join("echo");
    fs::create_dir(&bin).unwrap();
    let args = b.dir.path().join("args");
    let p = bin.join("clp_sambamon");
    fs::write(
        &p,
        format!(
            "#!/bin/sh\necho \"$*\" >> {}\necho 'clp_sambamon OK - data'\n",
            args.display()
        ),
    )
    .unwrap();
    chmod(&p, 0o755);
    b.options(&format!("CTDB_CLP_FSMON_BINDIR={}\n", bin.display()));
    b.conf(
        "smb = data\n  address = fs1.example.test\n  keytab = /etc/ctdb/mon.keytab\n  \
         principal = mon@EXAMPLE.TEST\n  id = k1\n",
    );
    let (rc, out, _) = b.run("monitor", &[]);
    assert_eq!(rc, 0, "{out}");
    let got = fs::read_to_string(&args).unwrap();
    assert_eq!(
        got.trim(),
        "k1 -s data --kerberos --keytab /etc/ctdb/mon.keytab -u mon@EXAMPLE.TEST \
         -a fs1.example.test -r 10 --once",
        "{out}"
    );
    let conf = b.base().join("clp-fsmon.conf");
    let conf = conf.display();
    b.conf(
        "smb = a\n  keytab = /k\n  credentials = /c\nsmb = b\n  principal = p\n\
         nfs = /c\n  keytab = /k\n",
    );
    let (rc, out, _) = b.run("monitor", &[]);
    assert_eq!(rc, 1, "{out}");
    for want in [
        format!("ERROR: {conf}:1: credentials and keytab are two logons: give one"),
        format!("ERROR: {conf}:4: principal goes with keytab"),
        format!("ERROR: {conf}:6: keytab and principal are for smb targets"),
    ] {
        assert!(out.contains(&want), "{want}:\n{out}");
    }
}

/// A broken target list fails `startup` (CTDB retries it until the list is fixed) and
/// `monitor` at once, each mistake named with its file and line; `ipreallocated` only warns
/// (a failed ipreallocated makes CTDB retry the IP allocation on every node).
#[test]
fn event_script_refuses_a_broken_target_list() {
    let b = Bench::new();
    let conf = b.base().join("clp-fsmon.conf");
    let conf = conf.display();
    b.conf(
        "address = 127.0.0.1\nsmb = data\n  bogus = 1\n  nfs4 = yes\n  timeout = 0\n\
         nfs =\nsmb = x\n  id = no-dashes\nsmb = y\n  id = twice\nnfs = /z\n  id = twice\n  \
         credentials = /etc/cred\nwhat is this\n",
    );
    let expected = [
        format!("ERROR: {conf}:1: address before the first smb = or nfs = line"),
        format!("ERROR: {conf}:3: unknown setting \"bogus\""),
        format!("ERROR: {conf}:2: timeout \"0\" is not a number of seconds (1 or more)"),
        format!("ERROR: {conf}:2: nfs4, udp and port are for nfs targets"),
        format!("ERROR: {conf}:6: nfs without a share or directory"),
        format!("ERROR: {conf}:7: id \"no-dashes\" is not letters and digits only"),
        format!("ERROR: {conf}:11: credentials are for smb targets"),
        format!("ERROR: {conf}:11: id twice is used by another target"),
        format!("ERROR: {conf}:14: \"what is this\" is not key = value"),
    ];
    for event in ["startup", "monitor"] {
        let (rc, out, _) = b.run(event, &[]);
        assert_eq!(rc, 1, "{event}:\n{out}");
        let got: Vec<&str> = out.lines().collect();
        let mut want: Vec<&str> = expected.iter().map(String::as_str).collect();
        let mut got_sorted = got.clone();
        got_sorted.sort_unstable();
        want.sort_unstable();
        assert_eq!(got_sorted, want, "{event}:\n{out}");
    }
    let (rc, out, _) = b.run("ipreallocated", &[]);
    assert_eq!(rc, 0, "{out}");
    assert!(
        out.contains("WARNING: the target list has errors: the next monitor event fails"),
        "{out}"
    );
    fs::remove_file(b.base().join("clp-fsmon.conf")).unwrap();
    let (rc, out, _) = b.run("monitor", &[]);
    assert_eq!(rc, 1, "{out}");
    assert!(
        out.contains(&format!("ERROR: {conf}: no such file")),
        "{out}"
    );
    b.conf("# nothing yet\n");
    let (rc, out, _) = b.run("startup", &[]);
    assert!(rc == 1 && out.contains("no smb = or nfs = target"), "{out}");
    // A missing applet is found at start-up, not at the first monitor.
    b.options("CTDB_CLP_FSMON_BINDIR=/nonexistent\n");
    b.conf("nfs = /export\n");
    let (rc, out, _) = b.run("startup", &[]);
    assert!(
        rc == 1 && out.contains("ERROR: nfs /export: /nonexistent/clp_nfsmon is missing"),
        "{out}"
    );
    // An event the script has no part in succeeds silently.
    let (rc, out, _) = b.run("takeip", &[]);
    assert_eq!((rc, out.as_str()), (0, ""));
}

/// The example the package ships is a valid target list.
#[test]
fn the_example_target_list_is_valid() {
    let b = Bench::new();
    b.conf(&fs::read_to_string(repo().join("contrib/ctdb/clp-fsmon.conf.example")).unwrap());
    let (rc, out, _) = b.run("startup", &[]);
    assert_eq!((rc, out.as_str()), (0, ""), "startup with the example");
    assert_eq!(b.counters().len(), 2, "{:?}", b.counters());
}

/// `ipreallocated` keeps the counts of listed targets (a node whose addresses moved away
/// because its share hangs must not turn healthy and take them back because they moved) and
/// drops those of targets no longer listed.
#[test]
fn ipreallocated_keeps_counts_and_drops_stale_ones() {
    let b = Bench::new();
    b.conf("smb = data\n  unhealthy_after = 3\nsmb = old\n");
    assert_eq!(b.run("startup", &[]).0, 0);
    b.health("fail");
    let (rc, out, _) = b.run("monitor", &[]);
    assert_eq!(rc, 0, "one failure is below both thresholds:\n{out}");
    let (rc, out, _) = b.run("monitor", &[]);
    assert!(
        rc == 1 && out.contains("ERROR: smb old: fail count 2 >= threshold 2"),
        "{out}"
    );
    assert_eq!(b.counters().len(), 2);
    b.conf("smb = data\n  unhealthy_after = 3\n");
    let (rc, out, _) = b.run("ipreallocated", &[]);
    assert_eq!((rc, out.as_str()), (0, ""));
    assert_eq!(b.counters().len(), 1, "{:?}", b.counters());
    let (rc, out, _) = b.run("monitor", &[]);
    assert!(
        rc == 1 && out.contains("ERROR: smb data: fail count 3 >= threshold 3"),
        "the count survived the reallocation:\n{out}"
    );
}

// ---- a real two-node CTDB --------------------------------------------------------------------

/// The test cluster's `MonitorInterval` (CTDB's default is 15 s).
const MONITOR_INTERVAL: u64 = 2;
/// Every probe's timeout (`-r`, the script's `timeout`).
const PROBE_TIMEOUT: u64 = 2;
/// Failed monitor events in a row before a node is unhealthy.
const UNHEALTHY_AFTER: u64 = 2;
/// After a node's health changes, CTDB runs its next monitor event 5 s later (then every
/// `MonitorInterval`): `ctdb_monitor.c`.
const AFTER_CHANGE: u64 = 5;
/// Scheduling on this busy 2-core machine (and CTDB's own event scripts), on top of every
/// upper bound.
const SLACK: Duration = Duration::from_secs(3);
/// The client's address on the LAN.
const CLIENT_IP: &str = "192.0.2.100";
/// The public addresses (one a node once balanced).
const PUBLIC: [&str; 2] = ["192.0.2.51", "192.0.2.52"];

fn node_ip(pnn: usize) -> String {
    format!("192.0.2.{}", 11 + pnn)
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(out.status.success(), "ip {args:?}: {}", text(&out));
}

/// The LAN: a network namespace with a bridge (the client's address on it) and one veth port
/// per node. Removed on drop, with every veth end still on this side.
struct Lan {
    ns: String,
    links: Vec<String>,
}

impl Lan {
    fn new() -> Self {
        let lan = Self {
            ns: TestHost::next().ns,
            links: Vec::new(),
        };
        ip(&["netns", "add", &lan.ns]);
        ip(&["-n", &lan.ns, "link", "set", "lo", "up"]);
        ip(&["-n", &lan.ns, "link", "add", "br0", "type", "bridge"]);
        ip(&[
            "-n",
            &lan.ns,
            "addr",
            "add",
            &format!("{CLIENT_IP}/24"),
            "dev",
            "br0",
        ]);
        ip(&["-n", &lan.ns, "link", "set", "br0", "up"]);
        lan
    }

    /// Joins network namespace `node` to the LAN: `lan0` inside it, with `addr`/24.
    fn attach(&mut self, node: &str, addr: &str) {
        let h = TestHost::next();
        self.links.push(h.host_if.clone());
        ip(&[
            "link", "add", &h.host_if, "type", "veth", "peer", "name", &h.peer_if,
        ]);
        ip(&["link", "set", &h.host_if, "netns", &self.ns]);
        ip(&["-n", &self.ns, "link", "set", &h.host_if, "master", "br0"]);
        ip(&["-n", &self.ns, "link", "set", &h.host_if, "up"]);
        ip(&["link", "set", &h.peer_if, "netns", node]);
        ip(&["-n", node, "link", "set", &h.peer_if, "name", "lan0"]);
        ip(&[
            "-n",
            node,
            "addr",
            "add",
            &format!("{addr}/24"),
            "dev",
            "lan0",
        ]);
        ip(&["-n", node, "link", "set", "lan0", "up"]);
    }

    /// `smbclient //ADDR/store -N -c ls` from the client's address, at most 20 s.
    fn smbclient_ls(&self, addr: &str) -> Output {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns, "smbclient"])
            .arg(format!("//{addr}/store"))
            .args(["-N", "-c", "ls"]);
        output_within(&mut c, b"", 20 * S).expect("smbclient did not end within 20 s")
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for l in &self.links {
            // Only an end the test failed to move is still here.
            let _ = Command::new("ip").args(["link", "del", l]).output();
        }
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
    }
}

/// Pids whose session is `sid` (field 6 of /proc/PID/stat).
fn session_members(sid: i32) -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|st| {
                st.rsplit_once(") ")
                    .and_then(|(_, rest)| rest.split(' ').nth(3)?.parse::<i32>().ok())
                    == Some(sid)
            })
        })
        .collect()
}

/// One `ctdbd` in network namespace `ns`, with the node's directories mounted over the
/// packaged paths in a private mount namespace, in a session of its own: the daemon, its event
/// daemon, its helpers and the event scripts' probes are that session, and are stopped as one.
struct Ctdbd {
    child: Child,
    dir: PathBuf,
}

impl Ctdbd {
    fn start(ns: &str, dir: &Path, sandbox: &Path) -> Self {
        require_tool("ctdbd", "ctdb");
        let log = fs::File::create(dir.join("ctdbd.log")).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "unshare",
                "-m",
                "--propagation",
                "private",
            ])
            .args([
                "sh",
                "-c",
                "mount --bind \"$1/etc\" /etc/ctdb && mount --bind \"$1/var\" /var/lib/ctdb && \
                 mount -t tmpfs tmpfs /run && mkdir /run/ctdb && \
                 mount --bind \"$1/run\" /run/ctdb && exec ctdbd --interactive",
                "sh",
            ])
            .arg(dir)
            .env("CLP_FSMON_ROOT", sandbox)
            .env_remove("CLP_FSMON_TEST_PROBE")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .own_session()
            .spawn()
            .expect("ctdbd");
        Self {
            child,
            dir: dir.to_path_buf(),
        }
    }

    fn pid(&self) -> i32 {
        self.child.id().cast_signed()
    }

    /// The `ctdb` CLI on this node (in its namespaces), at most 15 s.
    fn ctdb(&self, args: &[&str]) -> Output {
        let mut c = Command::new("nsenter");
        c.args(["-t", &self.pid().to_string(), "-n", "-m", "ctdb"])
            .args(args);
        output_within(&mut c, b"", 15 * S)
            .unwrap_or_else(|| panic!("ctdb {args:?} did not end within 15 s"))
    }

    /// `sh -c SCRIPT` on this node (in its namespaces, as its event scripts run), at most 15 s.
    fn in_node(&self, script: &str) -> Output {
        let mut c = Command::new("nsenter");
        c.args([
            "-t",
            &self.pid().to_string(),
            "-n",
            "-m",
            "sh",
            "-c",
            script,
        ]);
        output_within(&mut c, b"", 15 * S)
            .unwrap_or_else(|| panic!("{script:?} did not end within 15 s"))
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("ctdbd.log")).unwrap_or_default()
    }

    /// SIGTERM (ctdbd runs its shutdown event), SIGKILL after 10 s; then every process left in
    /// its session.
    fn stop(&mut self) {
        let sid = self.pid();
        let pid = Pid::from_raw(sid);
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = kill(pid, Signal::SIGCONT);
            let _ = kill(pid, Signal::SIGTERM);
            if !crate::rig::wait_until(10 * S, || self.child.try_wait().ok().flatten().is_some()) {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
        for sig in [Signal::SIGTERM, Signal::SIGKILL] {
            for p in session_members(sid) {
                let _ = kill(Pid::from_raw(p), Signal::SIGCONT);
                let _ = kill(Pid::from_raw(p), sig);
            }
            if crate::rig::wait_until(5 * S, || session_members(sid).is_empty()) {
                return;
            }
        }
    }
}

/// One CTDB node: its Ganesha (whose network namespace is the node's), its storage, its smbd
/// sharing `store` on that storage, its CTDB directories and its ctdbd.
struct Node {
    pnn: usize,
    ctdbd: Option<Ctdbd>,
    smbd: Option<Smbd>,
    store: Option<Storage>,
    nfs: NfsServer,
    dir: tempfile::TempDir,
}

impl Node {
    fn start(pnn: usize, lan: &mut Lan, lock: &Path, sandbox: &Sandbox) -> Self {
        let nfs = NfsServer::start(Flavor::V3V4);
        let dir = tempfile::Builder::new()
            .prefix("clpfs-ctdb-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        chmod(d, 0o755);
        let src = d.join("src");
        let mnt = d.join("store");
        for p in [&src, &mnt] {
            fs::create_dir(p).unwrap();
            chmod(p, 0o1777);
        }
        // The file a client's listing shows: which node's share answered.
        fs::write(src.join(format!("served-by-{pnn}")), "").unwrap();
        let mut node = Self {
            pnn,
            ctdbd: None,
            smbd: None,
            store: Some(Storage::fuse_over(&src, &mnt)),
            nfs,
            dir,
        };
        let std::net::IpAddr::V4(own) = node.nfs.addr() else {
            unreachable!("the NFS rig's addresses are IPv4")
        };
        // The rig writes the share's own directory first; the later `path` is the one smbd uses.
        let share = format!(
            "   path = {}\n   guest ok = yes\n   read only = no",
            mnt.display()
        );
        let setup = Setup {
            // Every address of the namespace, the public ones CTDB adds later included.
            global: "bind interfaces only = no",
            shares: &[("store", share.as_str())],
            ..Setup::default()
        };
        node.smbd = Some(Smbd::start_in(node.nfs.netns(), own, 445, &setup));
        lan.attach(node.nfs.netns(), &node_ip(pnn));
        node.write_ctdb_config(lock, sandbox);
        node.ctdbd = Some(Ctdbd::start(
            node.nfs.netns(),
            node.dir.path(),
            sandbox.path(),
        ));
        node
    }

    fn write_ctdb_config(&self, lock: &Path, sandbox: &Sandbox) {
        let d = self.dir.path();
        let etc = d.join("etc");
        fs::create_dir_all(etc.join("events/legacy")).unwrap();
        for sub in ["var/persistent", "var/state", "var/volatile", "run"] {
            fs::create_dir_all(d.join(sub)).unwrap();
        }
        fs::write(etc.join("functions"), ctdb_functions()).unwrap();
        fs::write(
            etc.join("ctdb.conf"),
            format!(
                "[logging]\n\tlog level = NOTICE\n[cluster]\n\tnode address = {}\n\t\
                 cluster lock = {}\n[legacy]\n\trealtime scheduling = false\n",
                node_ip(self.pnn),
                lock.display()
            ),
        )
        .unwrap();
        fs::write(
            etc.join("nodes"),
            format!("{}\n{}\n", node_ip(0), node_ip(1)),
        )
        .unwrap();
        fs::write(
            etc.join("public_addresses"),
            PUBLIC.map(|a| format!("{a}/24 lan0\n")).concat(),
        )
        .unwrap();
        fs::write(
            etc.join("ctdb.tunables"),
            format!("MonitorInterval={MONITOR_INTERVAL}\nRerecoveryTimeout=2\n"),
        )
        .unwrap();
        for s in ["00.ctdb", "10.interface"] {
            std::os::unix::fs::symlink(
                format!("/usr/share/ctdb/events/legacy/{s}.script"),
                etc.join(format!("events/legacy/{s}.script")),
            )
            .unwrap();
        }
        std::os::unix::fs::symlink(script(), etc.join("events/legacy/55.clp-fsmon.script"))
            .unwrap();
        fs::write(
            etc.join("events/legacy/55.clp-fsmon.options"),
            format!(
                "CTDB_CLP_FSMON_BINDIR={}\nCTDB_CLP_FSMON_TIMEOUT={PROBE_TIMEOUT}\n\
                 CTDB_CLP_FSMON_UNHEALTHY_AFTER={UNHEALTHY_AFTER}\n",
                sandbox.path().join("bin").display()
            ),
        )
        .unwrap();
        fs::write(
            etc.join("clp-fsmon.conf"),
            format!(
                "# The node's own servers, on its loopback.\nsmb = store\n    address = 127.0.0.1\n\
                 nfs = {}\n    address = 127.0.0.1\n",
                self.nfs.export()
            ),
        )
        .unwrap();
    }

    fn ctdbd(&self) -> &Ctdbd {
        self.ctdbd.as_ref().unwrap()
    }

    fn smbd(&self) -> &Smbd {
        self.smbd.as_ref().unwrap()
    }

    fn store(&self) -> &Storage {
        self.store.as_ref().unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Thaw everything first: a process waiting on a stopped FUSE daemon cannot be killed.
        if let Some(s) = &self.store {
            let _ = s.try_heal();
        }
        if let Some(s) = &self.smbd {
            let _ = killpg(Pid::from_raw(s.pid()), Signal::SIGCONT);
        }
        let _ = kill(self.nfs.pid(), Signal::SIGCONT);
        if let Some(mut c) = self.ctdbd.take() {
            c.stop();
        }
        // smbd (and its copy of the mount) before the storage; the namespace goes with nfs.
        drop(self.smbd.take());
        drop(self.store.take());
    }
}

/// A node as another node sees it (`ctdb -X nodestatus all`).
#[derive(Debug, PartialEq, Eq)]
struct NodeState {
    pnn: usize,
    ok: bool,
    unhealthy: bool,
}

/// The rows of `ctdb -X` output as maps from its header's names.
fn machine_rows(out: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = out.lines().filter(|l| l.starts_with('|'));
    let Some(head) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = head.trim_matches('|').split('|').collect();
    lines
        .map(|l| {
            names
                .iter()
                .zip(l.trim_matches('|').split('|'))
                .map(|(n, v)| ((*n).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// The nodes (dropped first), their LAN, and what they use until they are gone: the cluster
/// lock's directory and the licensed sandbox of the probes.
struct Cluster {
    nodes: Vec<Node>,
    lan: Lan,
    _lock_dir: tempfile::TempDir,
    _sandbox: Sandbox,
}

impl Cluster {
    fn start() -> Self {
        require_root("a CTDB cluster");
        for (prog, pkg) in [
            ("ctdbd", "ctdb"),
            ("ctdb", "ctdb"),
            ("ethtool", "ethtool"),
            ("nsenter", "util-linux"),
            ("unshare", "util-linux"),
            ("smbclient", "smbclient"),
            ("bindfs", "bindfs"),
            ("timeout", "coreutils"),
        ] {
            require_tool(prog, pkg);
        }
        let sandbox = Sandbox::licensed();
        let lock_dir = tempfile::Builder::new()
            .prefix("clpfs-ctdbl-")
            .tempdir()
            .unwrap();
        let lock = lock_dir.path().join("cluster.lock");
        let mut lan = Lan::new();
        let mut nodes = Vec::new();
        for pnn in 0..2 {
            nodes.push(Node::start(pnn, &mut lan, &lock, &sandbox));
        }
        Self {
            nodes,
            lan,
            _lock_dir: lock_dir,
            _sandbox: sandbox,
        }
    }

    /// Every node's log, for a failure message.
    fn logs(&self) -> String {
        let mut out = String::new();
        for n in &self.nodes {
            let log = n.ctdbd().log();
            let lines: Vec<&str> = log.lines().collect();
            let _ = writeln!(
                out,
                "--- node {} ctdbd.log (last 60 lines) ---\n{}",
                n.pnn,
                lines[lines.len().saturating_sub(60)..].join("\n")
            );
        }
        out
    }

    /// The nodes as node `from` sees them; `None` while it cannot tell.
    fn states(&self, from: usize) -> Option<Vec<NodeState>> {
        let out = self.nodes[from].ctdbd().ctdb(&["-X", "nodestatus", "all"]);
        let rows = machine_rows(&String::from_utf8_lossy(&out.stdout));
        let flag = |r: &std::collections::HashMap<String, String>, k: &str| {
            r.get(k).is_some_and(|v| v == "1")
        };
        let states: Vec<NodeState> = rows
            .iter()
            .filter_map(|r| {
                let pnn = r.get("Node")?.parse().ok()?;
                let bad = [
                    "Disconnected",
                    "Banned",
                    "Disabled",
                    "Unhealthy",
                    "Stopped",
                    "Inactive",
                ]
                .iter()
                .any(|k| flag(r, k));
                Some(NodeState {
                    pnn,
                    ok: !bad,
                    unhealthy: flag(r, "Unhealthy"),
                })
            })
            .collect();
        (states.len() == self.nodes.len()).then_some(states)
    }

    fn is_ok(&self, from: usize, pnn: usize) -> bool {
        self.states(from).is_some_and(|s| s[pnn].ok)
    }

    fn is_unhealthy(&self, from: usize, pnn: usize) -> bool {
        self.states(from).is_some_and(|s| s[pnn].unhealthy)
    }

    /// Public address → the node hosting it, as node `from` sees it (`ctdb -X ip all`).
    fn addresses(&self, from: usize) -> Vec<(String, Option<usize>)> {
        let out = self.nodes[from].ctdbd().ctdb(&["-X", "ip", "all"]);
        machine_rows(&String::from_utf8_lossy(&out.stdout))
            .into_iter()
            .filter_map(|r| {
                let addr = r.get("Public IP")?.clone();
                let node = r.get("Node")?.parse::<usize>().ok();
                Some((addr, node))
            })
            .collect()
    }

    /// The address node `pnn` hosts, as the other node sees it, once it hosts exactly one.
    fn own_address(&self, pnn: usize) -> Option<String> {
        let a = self.addresses(1 - pnn);
        let own: Vec<&String> = a
            .iter()
            .filter(|x| x.1 == Some(pnn))
            .map(|x| &x.0)
            .collect();
        (a.len() == PUBLIC.len() && own.len() == 1).then(|| own[0].clone())
    }

    /// Waits (at most `limit`) until both nodes are OK and each hosts one public address.
    fn wait_balanced(&self, limit: Duration, what: &str) {
        let ok = crate::rig::wait_until(limit, || {
            (0..2).all(|p| self.is_ok(0, p) && self.is_ok(1, p))
                && self.own_address(0).is_some()
                && self.own_address(1).is_some()
        });
        assert!(
            ok,
            "{what}: the nodes were not both OK with one address each within {limit:?}: {:?} {:?}\n{}",
            self.states(1),
            self.addresses(1),
            self.logs()
        );
    }

    /// One fault on node 0: `inject` it, expect node 0 UNHEALTHY within the bound (and not
    /// before `UNHEALTHY_AFTER` probes ran into their timeout), `probe` in its monitor event's
    /// output, its address on node 1 and served by node 1's smbd; `heal` it, expect node 0
    /// healthy again and the addresses balanced once more. Returns the detection time.
    fn fault(&self, name: &str, probe: &str, inject: &dyn Fn(), heal: &dyn Fn()) -> Duration {
        let moved = self.own_address(0).expect("node 0 hosts an address");
        let before = self.lan.smbclient_ls(&moved);
        assert!(
            before.status.success() && text(&before).contains("served-by-0"),
            "{name}: before the fault, {moved} is node 0's: {}",
            text(&before)
        );
        // CTDB runs a monitor event AFTER_CHANGE s after a node's health changed: let that one
        // pass, so the fault meets the steady MonitorInterval schedule.
        std::thread::sleep(Duration::from_secs(AFTER_CHANGE + 1));

        let m = Duration::from_secs(MONITOR_INTERVAL);
        let r = Duration::from_secs(PROBE_TIMEOUT);
        let n = u32::try_from(UNHEALTHY_AFTER).unwrap();
        // Up to one interval before the first failing monitor starts, then N monitors that
        // each wait out the probe's timeout, with an interval between each two.
        let schedule = m + r * n + m * (n - 1);
        let bound = schedule + SLACK;
        let t0 = Instant::now();
        inject();
        let unhealthy = crate::rig::wait_until(bound + 10 * S, || self.is_unhealthy(1, 0));
        let detected = t0.elapsed();
        assert!(
            unhealthy,
            "{name}: node 0 not UNHEALTHY {:?} after the fault:\n{}",
            detected,
            self.logs()
        );
        let status = text(
            &self.nodes[0]
                .ctdbd()
                .ctdb(&["event", "status", "legacy", "monitor"]),
        );
        assert!(
            status.contains(probe)
                && status.contains(&format!(">= threshold {UNHEALTHY_AFTER}"))
                && status
                    .lines()
                    .any(|l| l.starts_with("55.clp-fsmon") && l.contains("ERROR"))
                && status
                    .lines()
                    .any(|l| l.starts_with("10.interface") && l.contains("OK")),
            "{name}: node 0's monitor event must fail in 55.clp-fsmon with the probe's line:\n{status}"
        );
        assert!(
            detected <= bound,
            "{name}: node 0 UNHEALTHY after {detected:?}, bound {bound:?}"
        );
        // What CTDB's own 50.samba checks (with the share directories) still passes.
        let ports = self.nodes[0].ctdbd().in_node(
            "CTDB_BASE=/etc/ctdb; . /etc/ctdb/functions; service_name=samba; \
             ctdb_check_tcp_ports 445",
        );
        assert!(
            ports.status.success(),
            "{name}: 50.samba's port check on node 0 fails too: {}",
            text(&ports)
        );
        assert!(
            detected + S >= r * n,
            "{name}: node 0 UNHEALTHY after {detected:?}, before {n} probes of {r:?} could fail"
        );

        let took_over = crate::rig::wait_until(20 * S, || {
            self.addresses(1)
                .iter()
                .any(|(a, p)| *a == moved && *p == Some(1))
        });
        let moved_after = t0.elapsed();
        assert!(
            took_over,
            "{name}: {moved} not on node 1: {:?}\n{}",
            self.addresses(1),
            self.logs()
        );
        let after = self.lan.smbclient_ls(&moved);
        assert!(
            after.status.success() && text(&after).contains("served-by-1"),
            "{name}: through {moved}, node 1's share answers: {}",
            text(&after)
        );

        let t1 = Instant::now();
        heal();
        let heal_bound = Duration::from_secs(AFTER_CHANGE) + m + r * 2 + SLACK;
        let healthy = crate::rig::wait_until(heal_bound + 10 * S, || self.is_ok(1, 0));
        let healed = t1.elapsed();
        assert!(
            healthy && healed <= heal_bound,
            "{name}: node 0 healthy again: {healthy} after {healed:?} (bound {heal_bound:?}):\n{}",
            self.logs()
        );
        self.wait_balanced(30 * S, name);
        eprintln!(
            "CTDB {name}: node 0 UNHEALTHY after {:.2} s (schedule bound {:.0} s + {SLACK:?} slack; MonitorInterval {MONITOR_INTERVAL} s, \
             timeout {PROBE_TIMEOUT} s, unhealthy_after {UNHEALTHY_AFTER}), {moved} on node 1 after {:.2} s, \
             healthy again {:.2} s after the heal",
            detected.as_secs_f64(),
            schedule.as_secs_f64(),
            moved_after.as_secs_f64(),
            healed.as_secs_f64()
        );
        detected
    }
}

/// The whole cluster: a stalled smbd, hung storage under a live smbd, and a stalled Ganesha on
/// node 0 each make it UNHEALTHY (while the port check of CTDB's own 50.samba still passes), its
/// public address moves to node 1 and serves clients there; each healed, node 0 is healthy
/// again.
#[test]
fn two_node_ctdb_moves_the_address_of_a_node_whose_share_hangs() {
    let c = Cluster::start();
    let t = Instant::now();
    c.wait_balanced(120 * S, "start-up");
    eprintln!(
        "CTDB start-up: both nodes OK with an address each after {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let node = &c.nodes[0];
    c.fault(
        "smbd stalled (SIGSTOP)",
        "clp_sambamon CRITICAL - store ",
        &|| node.smbd().stop(),
        &|| node.smbd().cont(),
    );
    c.fault(
        "storage under the share hung (bindfs SIGSTOP)",
        "clp_sambamon CRITICAL - store tree_connect: ",
        &|| node.store().inject(Fault::Hang),
        &|| node.store().heal(),
    );
    c.fault(
        "Ganesha stalled (SIGSTOP)",
        &format!("clp_nfsmon CRITICAL - {} ", node.nfs.export()),
        &|| node.nfs.signal(Signal::SIGSTOP),
        &|| node.nfs.signal(Signal::SIGCONT),
    );
}
