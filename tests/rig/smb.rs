//! Real smbd instances for the tests: each from its own generated smb.conf in a temp dir (its
//! own private/lock/state/cache/pid/ncalrpc dirs and passdb), listening on a free port of
//! 127.0.0.1 only (or on a well-known port of a network namespace of its own), in the foreground
//! and in a session of its own, so a test can SIGSTOP, SIGCONT or SIGKILL the whole server and
//! smbd's `kill(0, …)` on exit reaches nothing else. The test user exists only inside the
//! server's own mount namespace (a private copy of /etc/passwd and /etc/group): the machine's
//! user database is never changed. Killed on drop.
//!
//! Shares of every instance: [`GUEST_SHARE`] (guest ok), [`USER_SHARE`] (only [`USER`]),
//! [`ENCRYPTED_SHARE`] (`smb encrypt = required`, only [`USER`]), [`PRINT_SHARE`] (printable),
//! plus the built-in `IPC$`. Flavours change the server: [`Flavour::SigningRequired`]
//! (`server signing = mandatory`) and [`Flavour::Smb1Only`] (NT1 only). A [`Setup`] adds more:
//! lines in `[global]`, shares of its own (each with a directory the rig makes, or on one the test
//! made, such as a `rig::storage` mount) and users besides
//! [`USER`] (in the same private user database, each with its Samba password).

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::OwnSession;

/// Unix and Samba user of the user shares.
pub const USER: &str = "clpfsmontest";
/// Its password.
pub const PASSWORD: &str = "Fsm0n-pass";
/// Share open to guests.
pub const GUEST_SHARE: &str = "guest";
/// Share for [`USER`] only.
pub const USER_SHARE: &str = "data";
/// Share with `smb encrypt = required`, for [`USER`] only.
pub const ENCRYPTED_SHARE: &str = "secure";
/// A printable share.
pub const PRINT_SHARE: &str = "printer";

/// What kind of server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Samba defaults (`SMB2_02` … `SMB3_11`).
    Standard,
    /// `server signing = mandatory`.
    SigningRequired,
    /// `server min protocol = NT1`, `server max protocol = NT1`.
    Smb1Only,
}

/// Everything about an instance beyond its flavour (see [`Smbd::start_setup`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Setup<'a> {
    /// Lines added to `[global]` (e.g. `server max protocol = SMB3_00`).
    pub global: &'a str,
    /// Extra shares: name and the lines of its section. The rig makes each one a directory
    /// (mode 1777) under the instance directory and writes its `path`.
    pub shares: &'a [(&'a str, &'a str)],
    /// Extra users (name, password) besides [`USER`], in the server's private user database and
    /// its passdb. A name may be any UTF-8 without `:` or a newline.
    pub users: &'a [(&'a str, &'a str)],
    /// Extra shares on directories the test made (e.g. on a `rig::storage` mount): name, path
    /// and the lines of its section. A mount under the path must be in place before the server
    /// starts: smbd's private mount namespace sees no mount made later.
    pub shares_at: &'a [(&'a str, &'a Path, &'a str)],
}

/// A running smbd.
pub struct Smbd {
    child: Child,
    dir: tempfile::TempDir,
    ip: std::net::Ipv4Addr,
    port: u16,
    netns: Option<Netns>,
}

/// A network namespace joined to the host by a veth pair: the server's own host, whose link a
/// test can take down (a partition). Or one the test made ([`Smbd::start_in`]), which the
/// server only enters.
struct Netns {
    name: String,
    host_if: String,
    /// The host's address as the server sees it (`10.213.N.1`).
    host_ip: String,
    /// Made by the rig, and removed with the server; false: the test's own.
    owned: bool,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Drop for Netns {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Writes `d/passwd` and `d/group`: the machine's own, plus [`USER`] and every name of `extra`
/// (each with a group of its own) under ids the machine does not use. smbd and smbpasswd see
/// them in place of /etc/passwd and /etc/group inside a private mount namespace
/// ([`with_test_user`]), so the test users exist for the server only: nothing is added to the
/// machine's user database, and nothing is left behind when the instance directory goes.
fn write_user_db(d: &Path, extra: &[&str]) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("/etc/passwd");
    let group = std::fs::read_to_string("/etc/group").expect("/etc/group");
    let ids = |db: &str| -> Vec<u32> {
        db.lines()
            .filter_map(|l| l.split(':').nth(2)?.parse().ok())
            .collect()
    };
    let (uids, gids) = (ids(&passwd), ids(&group));
    let names: Vec<&str> = std::iter::once(USER).chain(extra.iter().copied()).collect();
    let free: Vec<u32> = (61_000..65_000)
        .filter(|i| !uids.contains(i) && !gids.contains(i))
        .take(names.len())
        .collect();
    assert_eq!(free.len(), names.len(), "free uids/gids in 61000..65000");
    let with = |db: &str, entry: &dyn Fn(&str, u32) -> String| {
        let mut db = db.to_owned();
        if !db.ends_with('\n') {
            db.push('\n');
        }
        for (name, id) in names.iter().zip(&free) {
            assert!(
                !name.contains([':', '\n']) && !name.is_empty(),
                "bad user name {name:?}"
            );
            db.push_str(&entry(name, *id));
        }
        db
    };
    std::fs::write(
        d.join("passwd"),
        with(&passwd, &|n, id| {
            format!("{n}:x:{id}:{id}::/nonexistent:/usr/sbin/nologin\n")
        }),
    )
    .unwrap();
    std::fs::write(
        d.join("group"),
        with(&group, &|n, id| format!("{n}:x:{id}:\n")),
    )
    .unwrap();
}

/// `prog` run with the user database of instance directory `d` (see [`write_user_db`]) bound
/// over /etc/passwd and /etc/group in a mount namespace of its own (`unshare -m`), inside
/// network namespace `netns` when given. The program is `exec`ed, so the child's pid is its.
fn with_test_user(d: &Path, netns: Option<&Netns>, prog: &str) -> Command {
    let mut c = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", &ns.name, "unshare"]);
            c
        }
        None => Command::new("unshare"),
    };
    c.args([
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        "mount --bind \"$1/passwd\" /etc/passwd && mount --bind \"$1/group\" /etc/group && shift && exec \"$@\"",
        "sh",
    ])
    .arg(d)
    .arg(prog);
    c
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Smbd {
    /// Starts a server of `flavour` and waits (up to 20 s) until it accepts connections.
    pub fn start(flavour: Flavour) -> Self {
        Self::start_on(flavour, free_port())
    }

    /// Starts a server on `127.0.0.1:port`.
    pub fn start_on(flavour: Flavour, port: u16) -> Self {
        Self::start_with(flavour, "127.0.0.1", port, "")
    }

    /// Starts a server of `flavour` on a free port with `extra` lines added to `[global]`
    /// (e.g. `server max protocol = SMB3_00`).
    pub fn start_extra(flavour: Flavour, extra: &str) -> Self {
        Self::start_with(flavour, "127.0.0.1", free_port(), extra)
    }

    /// Starts a server on `ip:port` (an address of an interface: smbd binds no other) with
    /// `extra` lines in `[global]`.
    pub fn start_with(flavour: Flavour, ip: &str, port: u16, extra: &str) -> Self {
        let setup = Setup {
            global: extra,
            ..Setup::default()
        };
        Self::spawn(flavour, ip, port, &setup, None)
    }

    /// Starts a server of `flavour` changed by `setup` on a free port of 127.0.0.1.
    pub fn start_setup(flavour: Flavour, setup: &Setup) -> Self {
        Self::spawn(flavour, "127.0.0.1", free_port(), setup, None)
    }

    /// Starts a server on port 445 of its own host: a network namespace reached over a veth
    /// pair (host side `10.213.N.1/30`, server `10.213.N.2`), so [`Smbd::partition`] can cut it
    /// off. Each call makes a new namespace.
    pub fn start_in_netns(flavour: Flavour) -> Self {
        Self::start_in_netns_on(flavour, 445)
    }

    /// [`Smbd::start_in_netns`] on `port` of the server's own host: the well-known ports (445,
    /// 139) never meet a server running on this machine.
    pub fn start_in_netns_on(flavour: Flavour, port: u16) -> Self {
        Self::start_in_netns_setup(flavour, port, &Setup::default())
    }

    /// [`Smbd::start_in_netns_on`] with the server changed by `setup`.
    pub fn start_in_netns_setup(flavour: Flavour, port: u16, setup: &Setup) -> Self {
        let host = super::TestHost::next();
        let ns = Netns {
            name: host.ns,
            host_if: host.host_if,
            host_ip: host.host_ip.to_string(),
            owned: true,
        };
        let peer = host.peer_if;
        let (host_ip, server_ip) = (host.host_ip, host.server_ip);
        ip(&["netns", "add", &ns.name]);
        ip(&[
            "link",
            "add",
            &ns.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]);
        ip(&["link", "set", &peer, "netns", &ns.name]);
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", &ns.host_if]);
        ip(&["link", "set", &ns.host_if, "up"]);
        let inside = |args: &[&str]| {
            let mut v = vec!["netns", "exec", ns.name.as_str(), "ip"];
            v.extend_from_slice(args);
            ip(&v);
        };
        inside(&["addr", "add", &format!("{server_ip}/30"), "dev", &peer]);
        inside(&["link", "set", &peer, "up"]);
        inside(&["link", "set", "lo", "up"]);
        let addr = server_ip.to_string();
        Self::spawn(flavour, &addr, port, setup, Some(ns))
    }

    /// Starts a standard server changed by `setup` on port `port` of `ip` inside network
    /// namespace `ns`, which the test made and removes (a CTDB node's: tests/ctdb.rs); the
    /// server leaves it alone when dropped.
    pub fn start_in(ns: &str, ip: std::net::Ipv4Addr, port: u16, setup: &Setup) -> Self {
        let netns = Netns {
            name: ns.to_owned(),
            host_if: String::new(),
            host_ip: String::new(),
            owned: false,
        };
        Self::spawn(Flavour::Standard, &ip.to_string(), port, setup, Some(netns))
    }

    /// Cuts the server off: inside its namespace the host's address is routed to a blackhole,
    /// so the server runs on but nothing it sends reaches the host (SYNs go unanswered). A link
    /// taken down is no good here: the host then reaches the address some other way.
    pub fn partition(&self) {
        let ns = self
            .netns
            .as_ref()
            .expect("a server started with start_in_netns");
        let host = format!("{}/32", ns.host_ip);
        ip(&[
            "netns",
            "exec",
            &ns.name,
            "ip",
            "route",
            "add",
            "blackhole",
            &host,
        ]);
    }

    /// Ends a [`Smbd::partition`].
    pub fn heal(&self) {
        let ns = self
            .netns
            .as_ref()
            .expect("a server started with start_in_netns");
        let host = format!("{}/32", ns.host_ip);
        ip(&[
            "netns",
            "exec",
            &ns.name,
            "ip",
            "route",
            "del",
            "blackhole",
            &host,
        ]);
    }

    fn spawn(flavour: Flavour, ip: &str, port: u16, setup: &Setup, netns: Option<Netns>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("clpfs-smbd-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for sub in [
            "private", "lock", "state", "cache", "pid", "ncalrpc", "guest", "data", "secure",
            "spool",
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        // Shares must be reachable by the guest account and the test user.
        for sub in ["guest", "data", "secure", "spool"] {
            std::fs::set_permissions(
                d.join(sub),
                std::os::unix::fs::PermissionsExt::from_mode(0o1777),
            )
            .unwrap();
        }
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let mut shares = String::new();
        for (i, (name, lines)) in setup.shares.iter().enumerate() {
            // The directory is named by position: share names may be long or non-ASCII.
            let path = d.join(format!("share{i}"));
            std::fs::create_dir_all(&path).unwrap();
            std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o1777))
                .unwrap();
            let _ = write!(
                shares,
                "\n[{name}]\n   path = {}\n{lines}\n",
                path.display()
            );
        }
        for (name, path, lines) in setup.shares_at {
            let _ = write!(
                shares,
                "\n[{name}]\n   path = {}\n{lines}\n",
                path.display()
            );
        }
        let conf = d.join("smb.conf");
        std::fs::write(&conf, config(d, ip, port, flavour, setup.global) + &shares).unwrap();
        let extra: Vec<&str> = setup.users.iter().map(|u| u.0).collect();
        write_user_db(d, &extra);
        for (user, password) in std::iter::once((USER, PASSWORD)).chain(setup.users.iter().copied())
        {
            add_samba_user(d, &conf, user, password);
        }
        let child = launch(d, netns.as_ref());
        let mut s = Self {
            child,
            dir,
            ip: ip.parse().expect("IPv4 address"),
            port,
            netns,
        };
        s.wait_ready(Duration::from_secs(20));
        s
    }

    /// Kills the server (like [`Smbd::kill`]) and starts it again from the same smb.conf, on
    /// the same address and port (and namespace); waits (up to 20 s) until it listens.
    pub fn restart(&mut self) {
        self.kill();
        self.child = launch(self.dir.path(), self.netns.as_ref());
        self.wait_ready(Duration::from_secs(20));
    }

    /// Rewrites smb.conf without the `[share]` section and tells the running server to reload
    /// it (SIGHUP to the main smbd; new connections are served by children forked after the
    /// reload). Panics when the share is not in the file.
    pub fn reload_without(&self, share: &str) {
        let conf = std::fs::read_to_string(self.conf()).unwrap();
        let head = format!("[{share}]");
        let mut out = String::new();
        let mut skipping = false;
        let mut found = false;
        for line in conf.lines() {
            let t = line.trim();
            if t.starts_with('[') {
                skipping = t == head;
                found |= skipping;
            }
            if !skipping {
                out.push_str(line);
                out.push('\n');
            }
        }
        assert!(found, "no {head} in {}", self.conf().display());
        std::fs::write(self.conf(), out).unwrap();
        nix::sys::signal::kill(Pid::from_raw(self.pid()), Signal::SIGHUP).unwrap();
    }

    fn wait_ready(&mut self, limit: Duration) {
        let addr: SocketAddr = (self.ip, self.port).into();
        if let Err(why) = super::wait_listening(&mut self.child, addr, limit, "smbd") {
            panic!("{why}:\n{}", self.log());
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `IP:PORT`, as `-a` takes it.
    pub fn address(&self) -> String {
        format!("{}:{}", self.ip, self.port)
    }

    /// Pid of the main smbd (also its process group).
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// The instance directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Path of the generated smb.conf.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("smb.conf")
    }

    fn signal(&self, sig: Signal) {
        killpg(Pid::from_raw(self.pid()), sig).unwrap();
    }

    /// SIGSTOP the whole server (a stall: connections queue, nothing answers).
    pub fn stop(&self) {
        self.signal(Signal::SIGSTOP);
    }

    /// SIGCONT after [`Smbd::stop`].
    pub fn cont(&self) {
        self.signal(Signal::SIGCONT);
    }

    /// SIGKILL the whole server and reap it (a crash: the port refuses).
    pub fn kill(&mut self) {
        let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// Directory of the `i`-th share of the instance's [`Setup`] (the rig names them by
    /// position).
    pub fn share_dir(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("share{i}"))
    }

    /// Directory of [`GUEST_SHARE`].
    pub fn guest_dir(&self) -> PathBuf {
        self.dir.path().join("guest")
    }

    /// Runs `script` (`sh -c`) as root in the server's own mount namespace (`nsenter -m`), for
    /// at most 20 s, and panics when it fails: what it mounts there (a full or read-only file
    /// system under a share) only this smbd sees, and it goes with the server — no mount of
    /// the test's is left behind even when a test fails. New connections see it: the main
    /// smbd forks each one's server after it.
    pub fn in_mount_ns(&self, script: &str) {
        crate::rig::require_tool("nsenter", "util-linux");
        // smbd is the process `unshare -m` exec'd: its namespace is the private one.
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.pid().to_string(), "-m", "sh", "-c", script]);
        let out = crate::rig::output_within(&mut cmd, b"", Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{script:?} did not end within 20 s"));
        assert!(
            out.status.success(),
            "{script:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Server output and log so far.
    pub fn log(&self) -> String {
        let mut s = std::fs::read_to_string(self.dir.path().join("smbd.out")).unwrap_or_default();
        s.push_str(&std::fs::read_to_string(self.dir.path().join("log.smbd")).unwrap_or_default());
        s
    }
}

impl Drop for Smbd {
    fn drop(&mut self) {
        let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGCONT);
        self.kill();
    }
}

/// Gives `user` of the private user database of instance directory `d` the Samba password
/// `password` (`smbpasswd -a`, in the same private mount namespace as smbd).
fn add_samba_user(d: &Path, conf: &Path, user: &str, password: &str) {
    let mut cmd = with_test_user(d, None, "smbpasswd");
    cmd.args(["-c", conf.to_str().unwrap(), "-a", "-s", user]);
    let out = crate::rig::output_within(
        &mut cmd,
        format!("{password}\n{password}\n").as_bytes(),
        Duration::from_secs(20),
    )
    .unwrap_or_else(|| panic!("smbpasswd -a {user} did not end within 20 s"));
    assert!(
        out.status.success(),
        "smbpasswd -a {user} ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts smbd on the smb.conf of instance directory `d` (output appended to `d/smbd.out`), in
/// its own process group, inside `netns` when given.
fn launch(d: &Path, netns: Option<&Netns>) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(d.join("smbd.out"))
        .unwrap();
    let mut cmd = with_test_user(d, netns, "smbd");
    cmd.args([
        "--foreground",
        "--no-process-group",
        "--debug-stdout",
        "-d",
        "1",
        "-s",
    ])
    .arg(d.join("smb.conf"))
    .stdin(Stdio::null())
    .stdout(log.try_clone().unwrap())
    .stderr(log)
    // smbd --no-process-group signals its whole process group on exit.
    .own_session();
    crate::rig::require_tool("smbd", "samba");
    cmd.spawn().expect("smbd")
}

fn config(d: &Path, ip: &str, port: u16, flavour: Flavour, extra: &str) -> String {
    let p = |s: &str| d.join(s).display().to_string();
    let protocol = match flavour {
        Flavour::Smb1Only => "server min protocol = NT1\n   server max protocol = NT1\n",
        _ => "",
    };
    let signing = match flavour {
        Flavour::SigningRequired => "server signing = mandatory\n",
        _ => "",
    };
    format!(
        "[global]
   workgroup = CLPTEST
   netbios name = CLPTEST{port}
   server role = standalone server
   smb ports = {port}
   interfaces = {ip}
   bind interfaces only = yes
   disable netbios = yes
   private dir = {private}
   lock directory = {lock}
   state directory = {state}
   cache directory = {cache}
   pid directory = {pid}
   ncalrpc dir = {ncalrpc}
   log file = {log}
   max log size = 0
   passdb backend = tdbsam:{private}/passdb.tdb
   map to guest = Bad User
   guest account = nobody
   load printers = no
   printing = bsd
   printcap name = /dev/null
   disable spoolss = yes
   kernel oplocks = no
   usershare max shares = 0
   {protocol}   {signing}   {extra}
[{GUEST_SHARE}]
   path = {guest}
   guest ok = yes
   read only = no

[{USER_SHARE}]
   path = {data}
   valid users = {USER}
   read only = no

[{ENCRYPTED_SHARE}]
   path = {secure}
   valid users = {USER}
   smb encrypt = required

[{PRINT_SHARE}]
   path = {spool}
   printable = yes
   guest ok = yes
",
        private = p("private"),
        lock = p("lock"),
        state = p("state"),
        cache = p("cache"),
        pid = p("pid"),
        ncalrpc = p("ncalrpc"),
        log = p("log.smbd"),
        guest = p("guest"),
        data = p("data"),
        secure = p("secure"),
        spool = p("spool"),
    )
}
