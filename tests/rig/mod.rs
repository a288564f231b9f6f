//! Test rig: sandboxes (`CLP_FSMON_ROOT`), applet links to the built binary, licences, and real
//! servers (smbd, impacket's smbserver.py, rpcbind + ganesha.nfsd, nfsserve) for the integration
//! tests, each on a host of its own where it needs one ([`TestHost`], [`Netns`]).

#![allow(dead_code)]

pub mod addc;
pub mod impacket;
pub mod license;
pub mod matrix;
pub mod nfs;
pub mod nfsserve;
pub mod proxy;
pub mod reference;
pub mod smb;
pub mod storage;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every applet name (kept in step with `applets::APPLETS` by `dispatch_lists_every_applet`).
pub const APPLETS: [&str; 3] = ["clp_sambamon", "clp_nfsmon", "clplcnsc"];

/// The built multi-call binary.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_clp-fsmon"))
}

/// A re-rooted sandbox with every applet linked under `<root>/bin`.
pub struct Sandbox {
    pub root: tempfile::TempDir,
}

impl Sandbox {
    /// An empty sandbox (no licence).
    pub fn new() -> Self {
        let root = tempfile::Builder::new().prefix("clpfs-").tempdir().unwrap();
        let bin = root.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for a in APPLETS {
            std::os::unix::fs::symlink(binary(), bin.join(a)).unwrap();
        }
        Self { root }
    }

    /// A sandbox holding a valid product licence.
    pub fn licensed() -> Self {
        let s = Self::new();
        license::register_product(s.path());
        s
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// Path of an applet link.
    pub fn link(&self, applet: &str) -> PathBuf {
        self.path().join("bin").join(applet)
    }

    /// A command running `applet` through its link, inside the sandbox.
    pub fn cmd(&self, applet: &str) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::new(self.link(applet));
        c.env("CLP_FSMON_ROOT", self.path())
            .env_remove("CLP_FSMON_TEST_PROBE")
            .timeout(Duration::from_secs(60));
        c
    }

    /// The same as a std command (for spawning monitors).
    pub fn std_cmd(&self, applet: &str) -> Command {
        let mut c = Command::new(self.link(applet));
        c.env("CLP_FSMON_ROOT", self.path())
            .env_remove("CLP_FSMON_TEST_PROBE");
        c
    }

    /// Starts a monitor in the background with a scripted probe (`None`: the real probe).
    pub fn spawn_monitor(&self, applet: &str, args: &[&str], script: Option<&str>) -> Monitor {
        let mut c = self.std_cmd(applet);
        c.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(s) = script {
            c.env("CLP_FSMON_TEST_PROBE", s);
        }
        Monitor {
            child: c.spawn().unwrap(),
        }
    }

    pub fn alert_log(&self) -> String {
        std::fs::read_to_string(self.path().join("var/log/clp-fsmon/alert.log")).unwrap_or_default()
    }

    pub fn fault_log(&self, module: &str) -> String {
        std::fs::read_to_string(
            self.path()
                .join(format!("var/log/clp-fsmon/fault-{module}.log")),
        )
        .unwrap_or_default()
    }

    /// Alert-log lines as (server, module, event id, message).
    pub fn alerts(&self) -> Vec<(String, String, u16, String)> {
        self.alert_log()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.splitn(5, '\t').collect();
                assert_eq!(f.len(), 5, "alert log line has 5 columns: {l:?}");
                (f[1].into(), f[2].into(), f[3].parse().unwrap(), f[4].into())
            })
            .collect()
    }

    /// Event IDs in the alert log, in order.
    pub fn event_ids(&self) -> Vec<u16> {
        self.alerts().into_iter().map(|a| a.2).collect()
    }

    /// Waits until the alert log has `event`, up to `limit`.
    pub fn wait_event(&self, event: u16, limit: Duration) -> bool {
        wait_until(limit, || self.event_ids().contains(&event))
    }

    /// Binds a syslog listener at `<root>/dev/log`.
    pub fn syslog(&self) -> UnixDatagram {
        let dir = self.path().join("dev");
        std::fs::create_dir_all(&dir).unwrap();
        let s = UnixDatagram::bind(dir.join("log")).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }
}

/// A monitor process started by a test; killed on drop if still running.
pub struct Monitor {
    pub child: Child,
}

impl Monitor {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit status, up to `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let end = Instant::now() + limit;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid().cast_signed()), sig).unwrap();
    }

    /// Everything it wrote to stderr (after it ended).
    pub fn stderr(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(e) = self.child.stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.pid().cast_signed()),
                nix::sys::signal::Signal::SIGCONT,
            );
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A server started by the rig runs in a session of its own: nothing it signals as a group
/// reaches the test binary, and it is stopped by its own pid.
pub trait OwnSession {
    fn own_session(&mut self) -> &mut Self;
}

impl OwnSession for Command {
    fn own_session(&mut self) -> &mut Self {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
        unsafe {
            self.pre_exec(|| {
                nix::unistd::setsid()
                    .map(drop)
                    .map_err(std::io::Error::from)
            });
        }
        self
    }
}

/// The names and addresses of one test host (a network namespace joined to this one by a veth
/// pair), unique to this process and call: the namespace and interface names carry the pid, the
/// /30 is `10.A.B.K` with A and B from the pid and K from a counter shared by every rig. So test
/// binaries running side by side never meet, and no rig ever removes a namespace it did not
/// make.
pub struct TestHost {
    /// Network namespace.
    pub ns: String,
    /// The veth end on this side.
    pub host_if: String,
    /// The veth end inside the namespace.
    pub peer_if: String,
    /// This side's address.
    pub host_ip: std::net::Ipv4Addr,
    /// The server's address, inside the namespace.
    pub server_ip: std::net::Ipv4Addr,
}

impl TestHost {
    /// The next test host of this process.
    pub fn next() -> Self {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let pid = std::process::id();
        let a = 100 + u8::try_from((pid / 256) % 150).unwrap();
        let b = u8::try_from(pid % 256).unwrap();
        // 63 /30s a process; a number comes back only after 62 later hosts (long gone by then).
        let k = u8::try_from(n % 63).unwrap() * 4;
        let host = Self {
            ns: format!("cfn{pid:x}x{n}"),
            host_if: format!("cfh{pid:x}x{n}"),
            peer_if: format!("cfp{pid:x}x{n}"),
            host_ip: std::net::Ipv4Addr::new(10, a, b, k + 1),
            server_ip: std::net::Ipv4Addr::new(10, a, b, k + 2),
        };
        assert!(host.host_if.len() <= 15, "{}", host.host_if);
        host
    }
}

/// A [`TestHost`] brought up: its network namespace made, the veth pair joined and addressed,
/// both ends and the namespace's loopback up. Dropped, it removes the link and the namespace
/// (whatever still runs inside must have been stopped first: its owner's `Drop` runs before its
/// fields').
pub struct Netns {
    /// Names and addresses.
    pub host: TestHost,
}

impl Netns {
    /// Makes the next test host of this process.
    pub fn up() -> Self {
        let host = TestHost::next();
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("ip");
            assert!(
                out.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        ip(&["netns", "add", &host.ns]);
        // From here on a failure removes what was made.
        let me = Self { host };
        let TestHost {
            ns,
            host_if,
            peer_if,
            host_ip,
            server_ip,
        } = &me.host;
        ip(&["-n", ns, "link", "set", "lo", "up"]);
        ip(&[
            "link", "add", host_if, "type", "veth", "peer", "name", peer_if,
        ]);
        ip(&["link", "set", peer_if, "netns", ns]);
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", host_if]);
        ip(&["link", "set", host_if, "up"]);
        ip(&[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{server_ip}/30"),
            "dev",
            peer_if,
        ]);
        ip(&["-n", ns, "link", "set", peer_if, "up"]);
        me
    }

    /// `ip netns exec NS`, to which the program and its arguments are added.
    pub fn exec(&self) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.host.ns]);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host.host_if])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.host.ns])
            .output();
    }
}

/// Fails the test unless it runs as root: `what` needs real servers, namespaces or mounts. A
/// root-only test never passes by skipping itself.
pub fn require_root(what: &str) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "{what} needs root: run the suite as root (contrib/test.sh)"
    );
}

/// The path of `prog` (on PATH, or in /usr/sbin or /sbin); fails the test naming the Debian
/// `package` to install when it is missing (contrib/test.sh installs every one).
pub fn require_tool(prog: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{prog} is not installed: apt-get install {package}"))
}

/// Waits until `addr` accepts TCP connections, at most `limit`. `Err` says why not: `child` (the
/// server, called `what`) exited first, or the time ran out; the caller adds the server's log.
pub fn wait_listening(
    child: &mut Child,
    addr: std::net::SocketAddr,
    limit: Duration,
    what: &str,
) -> Result<(), String> {
    let until = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return Err(format!("{what} exited ({st}) before listening"));
        }
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(format!("{what} not listening on {addr} after {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `f` every 10 ms until it holds or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `cmd` with `input` on its stdin and its stdout and stderr captured, for at most
/// `limit`: `None` when it had not ended by then (it is killed, by its own pid, and reaped).
pub fn output_within(
    cmd: &mut Command,
    input: &[u8],
    limit: Duration,
) -> Option<std::process::Output> {
    use std::io::{Read, Write};
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = reader(Box::new(child.stdout.take().unwrap()));
    let err = reader(Box::new(child.stderr.take().unwrap()));
    {
        // A program that does not read its input gets EPIPE here, not the test.
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(input);
    }
    let mut status = None;
    wait_until(limit, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    };
    Some(std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    })
}
