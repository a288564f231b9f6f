//! NFS rig: a real NFS-Ganesha server (VFS FSAL) per test, each in its own network namespace.
//!
//! rpcbind owns port 111 and its socket under /run, so a test that needs its own portmapper (or
//! none at all, or one it can kill) gets its own host: a network namespace `cfn…` joined to this
//! one by a veth pair on a private /30, and a private tmpfs on /run inside it
//! (`ip netns exec NS unshare -m`). Tests therefore run in parallel and need no lock, and
//! nothing on the machine's own port 111 or 2049 is touched.
//!
//! Inside the namespace a shell mounts the tmpfs, starts `rpcbind -w -f` in the background (v3
//! servers and [`Flavor::V4Rpcbind`] only) and `exec`s `ganesha.nfsd -F`, so [`NfsServer::pid`] is Ganesha's pid (for
//! SIGSTOP / SIGCONT / SIGKILL). The export directory's real path is also its `NFSv4` pseudo path,
//! so the same `-d` works for v3 and v4. Grace is off (`Graceless = true`). Everything is torn
//! down on drop; the server's log is printed when it does not come up.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clp_fsmon::probe::nfs::rpc::{Proto, RpcClient};
use clp_fsmon::probe::nfs::{mount, nfs4, portmap};
use clp_fsmon::probe::{Cancel, Deadline};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::OwnSession;

/// Extra ganesha.conf that logs every RPC request (for [`NfsServer::mount_calls`]).
pub const LOG_REQUESTS: &str = "LOG { COMPONENTS { DISPATCH = DEBUG; } }\n";

/// Which protocols the server offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// rpcbind + MOUNT v3 + `NFSv3` + `NFSv4` (Ganesha's minor versions: 4.0, 4.1, 4.2), TCP
    /// and UDP.
    V3V4,
    /// rpcbind + MOUNT v3 + `NFSv3` only, TCP and UDP: NFS answers version 4 with
    /// `PROG_MISMATCH`.
    V3Only,
    /// `NFSv4` (4.0, 4.1 and 4.2) over TCP only; no rpcbind, no MOUNT.
    V4Only,
    /// `NFSv4` (4.0, 4.1 and 4.2) over TCP only behind a live rpcbind, with which Ganesha
    /// registers NFS v4 and no MOUNT.
    V4Rpcbind,
    /// `NFSv4` over TCP, minor version 0 only; no rpcbind.
    V40Only,
    /// `NFSv4` over TCP, minor version 1 only (4.0 and 4.2 refused with
    /// `NFS4ERR_MINOR_VERS_MISMATCH`); no rpcbind.
    V41Only,
    /// `NFSv4` over TCP, minor version 2 only; no rpcbind.
    V42Only,
}

impl Flavor {
    /// True when the server runs MOUNT and `NFSv3`.
    pub fn v3(self) -> bool {
        matches!(self, Self::V3V4 | Self::V3Only)
    }

    /// True when the server runs rpcbind.
    pub fn rpcbind(self) -> bool {
        self.v3() || self == Self::V4Rpcbind
    }
}

/// How the export is offered: the defaults are what every test but the matrix needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Export {
    /// Ganesha's `Squash` (`No_Root_Squash`, `Root_Squash`).
    pub squash: &'static str,
    /// Ganesha's `SecType` (`sys`, `krb5`).
    pub sec_type: &'static str,
    /// The exported directory's permission bits.
    pub mode: u32,
}

impl Default for Export {
    fn default() -> Self {
        Self {
            squash: "No_Root_Squash",
            sec_type: "sys",
            mode: 0o755,
        }
    }
}

/// True when this process can build the rig (root, ganesha.nfsd, rpcbind, ip).
pub fn available() -> bool {
    nix::unistd::geteuid().is_root()
        && [
            "/usr/bin/ganesha.nfsd",
            "/usr/sbin/rpcbind",
            "/usr/sbin/ip",
            "/usr/bin/unshare",
        ]
        .iter()
        .all(|p| Path::new(p).exists() || which(p))
}

fn which(p: &str) -> bool {
    let name = Path::new(p).file_name().unwrap();
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(name).exists()))
}

fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("spawn");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running Ganesha in its own network namespace.
pub struct NfsServer {
    /// Dropped after the servers in it are stopped (fields drop after [`Drop::drop`]).
    host: super::Netns,
    server_ip: Ipv4Addr,
    dir: tempfile::TempDir,
    export: PathBuf,
    child: Option<Child>,
    flavor: Flavor,
    exp: Export,
}

impl NfsServer {
    /// Starts a v3+v4 server (rpcbind, MOUNT and NFS on TCP and UDP).
    pub fn start_v3_v4() -> Self {
        Self::start(Flavor::V3V4)
    }

    /// Starts an NFSv4-only server with no rpcbind at all.
    pub fn start_v4_only() -> Self {
        Self::start(Flavor::V4Only)
    }

    /// Starts a server of `flavor` and waits (up to 20 s) until it answers.
    pub fn start(flavor: Flavor) -> Self {
        Self::start_with(flavor, "")
    }

    /// Like [`NfsServer::start`], with `extra` appended to ganesha.conf (e.g. a `LOG` block).
    pub fn start_with(flavor: Flavor, extra: &str) -> Self {
        Self::start_export(flavor, Export::default(), extra)
    }

    /// Like [`NfsServer::start_with`], with the export offered as `exp` says.
    pub fn start_export(flavor: Flavor, exp: Export, extra: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("clp-nfs-rig")
            .tempdir()
            .unwrap();
        let export = dir.path().join("export");
        fs::create_dir(&export).unwrap();
        fs::write(export.join("hello"), "hello\n").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&export, fs::Permissions::from_mode(exp.mode)).unwrap();
        }
        fs::create_dir(dir.path().join("recovery")).unwrap();

        let host = super::Netns::up();
        let server_ip = host.host.server_ip;
        let ns = host.host.ns.clone();
        let mut me = Self {
            host,
            server_ip,
            dir,
            export,
            child: None,
            flavor,
            exp,
        };
        let conf = me.dir.path().join("ganesha.conf");
        fs::write(&conf, me.config() + extra).unwrap();
        let script = format!(
            "set -e\nmount -t tmpfs tmpfs /run\nmkdir -p /run/ganesha\n{rpcbind}\
             exec ganesha.nfsd -F -f {conf} -L {log} -p {pidf} -N NIV_EVENT\n",
            rpcbind = if flavor.rpcbind() {
                format!(
                    "rpcbind -w -f & echo $! > {}\nfor i in $(seq 100); do [ -S /run/rpcbind.sock ] && break; sleep 0.02; done\n",
                    me.path("rpcbind.pid").display()
                )
            } else {
                String::new()
            },
            conf = conf.display(),
            log = me.log_path().display(),
            pidf = me.path("ganesha.pid").display(),
        );
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns,
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
            ])
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(me.path("stderr")).unwrap())
            .own_session()
            .spawn()
            .expect("spawn ganesha");
        me.child = Some(child);
        me.wait_ready(Duration::from_secs(20));
        me
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Ganesha's log file.
    pub fn log_path(&self) -> PathBuf {
        self.path("ganesha.log")
    }

    /// Ganesha's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
            + &fs::read_to_string(self.path("stderr")).unwrap_or_default()
    }

    fn config(&self) -> String {
        let (protocols, transports, core) = match self.flavor {
            Flavor::V3V4 => ("3, 4", "UDP, TCP", "Protocols = 3, 4; MNT_Port = 20048;"),
            Flavor::V3Only => ("3", "UDP, TCP", "Protocols = 3; MNT_Port = 20048;"),
            Flavor::V4Only
            | Flavor::V4Rpcbind
            | Flavor::V40Only
            | Flavor::V41Only
            | Flavor::V42Only => ("4", "TCP", "Protocols = 4;"),
        };
        let minor = match self.flavor {
            Flavor::V40Only => "Minor_Versions = 0;",
            Flavor::V41Only => "Minor_Versions = 1;",
            Flavor::V42Only => "Minor_Versions = 2;",
            _ => "",
        };
        format!(
            "NFS_CORE_PARAM {{ {core} NFS_Port = 2049; Enable_NLM = false; Enable_RQUOTA = false; }}\n\
             NFSV4 {{ Graceless = true; RecoveryRoot = {rec}; {minor} }}\n\
             EXPORT {{ Export_Id = 1; Path = {exp}; Pseudo = {exp}; Access_Type = RW; \
             Squash = {squash}; Protocols = {protocols}; Transports = {transports}; \
             SecType = {sec}; FSAL {{ Name = VFS; }} }}\n",
            rec = self.path("recovery").display(),
            exp = self.export.display(),
            squash = self.exp.squash,
            sec = self.exp.sec_type,
        )
    }

    fn wait_ready(&mut self, within: Duration) {
        let until = Instant::now() + within;
        loop {
            if self.answers() {
                return;
            }
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("ganesha exited ({st}):\n{}", self.log());
            }
            assert!(
                Instant::now() < until,
                "ganesha not ready within {within:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn answers(&self) -> bool {
        let deadline = Deadline::after(Duration::from_millis(500));
        let cancel = Cancel::new();
        let ip = IpAddr::V4(self.server_ip);
        if self.flavor.v3() {
            let Ok(mut c) = RpcClient::connect(
                SocketAddr::new(ip, 111),
                Proto::Tcp,
                false,
                None,
                deadline,
                &cancel,
            ) else {
                return false;
            };
            [
                (mount::PROG, 3, Proto::Tcp),
                (mount::PROG, 3, Proto::Udp),
                (100_003, 3, Proto::Tcp),
                (100_003, 3, Proto::Udp),
            ]
            .iter()
            .all(|&(p, v, t)| matches!(portmap::getport(&mut c, p, v, t), Ok(Some(_))))
                && self.mount_list().is_some()
        } else {
            let registered = || {
                RpcClient::connect(
                    SocketAddr::new(ip, 111),
                    Proto::Tcp,
                    false,
                    None,
                    deadline,
                    &cancel,
                )
                .is_ok_and(|mut c| {
                    matches!(
                        portmap::getport(&mut c, 100_003, 4, Proto::Tcp),
                        Ok(Some(_))
                    )
                })
            };
            RpcClient::connect(
                SocketAddr::new(ip, 2049),
                Proto::Tcp,
                false,
                None,
                deadline,
                &cancel,
            )
            .is_ok_and(|mut c| nfs4::null(&mut c).is_ok())
                && (!self.flavor.rpcbind() || registered())
        }
    }

    /// The server's address (inside its namespace, reachable from this one).
    pub fn addr(&self) -> IpAddr {
        IpAddr::V4(self.server_ip)
    }

    /// The exported directory (its real path and its `NFSv4` pseudo path).
    pub fn export(&self) -> &str {
        self.export.to_str().unwrap()
    }

    /// The network namespace's name.
    pub fn netns(&self) -> &str {
        &self.host.host.ns
    }

    /// Ganesha's pid.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.as_ref().unwrap().id()).unwrap())
    }

    /// rpcbind's pid (servers with rpcbind).
    pub fn rpcbind_pid(&self) -> Option<Pid> {
        fs::read_to_string(self.path("rpcbind.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .map(Pid::from_raw)
    }

    /// Takes the server's end of the veth pair down (`up = false`) or up again: a network
    /// partition, where packets vanish and nothing answers.
    pub fn link(&self, up: bool) {
        sh(&[
            "ip",
            "-n",
            self.netns(),
            "link",
            "set",
            &self.host.host.peer_if,
            if up { "up" } else { "down" },
        ]);
    }

    /// Sends `sig` to Ganesha.
    pub fn signal(&self, sig: Signal) {
        kill(self.pid(), sig).unwrap();
    }

    /// Kills rpcbind (SIGKILL) and waits until port 111 refuses connections.
    pub fn kill_rpcbind(&self) {
        let pid = self.rpcbind_pid().expect("no rpcbind in this rig");
        kill(pid, Signal::SIGKILL).unwrap();
        self.wait_refused(111);
    }

    /// Kills Ganesha (SIGKILL): rpcbind keeps its stale registrations, so clients are sent to
    /// ports that refuse connections.
    pub fn kill_ganesha(&mut self) {
        let mut c = self.child.take().unwrap();
        let _ = c.kill();
        let _ = c.wait();
        self.wait_refused(2049);
    }

    /// Stops Ganesha cleanly (SIGTERM): it unregisters from rpcbind first.
    pub fn stop_ganesha(&mut self) {
        let mut c = self.child.take().unwrap();
        let _ = kill(
            Pid::from_raw(i32::try_from(c.id()).unwrap()),
            Signal::SIGTERM,
        );
        let until = Instant::now() + Duration::from_secs(15);
        while c.try_wait().unwrap().is_none() {
            if Instant::now() > until {
                let _ = c.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.wait_refused(2049);
    }

    /// Starts Ganesha again after [`NfsServer::kill_ganesha`] or [`NfsServer::stop_ganesha`],
    /// from the same ganesha.conf, in the server's network and mount namespaces (entered
    /// through rpcbind, which lives on in them: v3 servers only); it registers with rpcbind
    /// afresh. Waits (up to 20 s) until it answers.
    pub fn restart_ganesha(&mut self) {
        assert!(self.child.is_none(), "Ganesha is still running");
        let rpcbind = self
            .rpcbind_pid()
            .expect("restart needs the rpcbind of a v3 server");
        let child = Command::new("nsenter")
            .args([
                "-t",
                &rpcbind.to_string(),
                "-n",
                "-m",
                "ganesha.nfsd",
                "-F",
                "-f",
            ])
            .arg(self.path("ganesha.conf"))
            .arg("-L")
            .arg(self.log_path())
            .arg("-p")
            .arg(self.path("ganesha.pid"))
            .args(["-N", "NIV_EVENT"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                fs::OpenOptions::new()
                    .append(true)
                    .open(self.path("stderr"))
                    .unwrap(),
            )
            .own_session()
            .spawn()
            .expect("spawn ganesha");
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(20));
    }

    /// Rewrites ganesha.conf without its EXPORT block and sends Ganesha SIGHUP, on which it
    /// re-reads the file and removes exports that are no longer there (Ganesha 2.6 and later,
    /// V4.3 here).
    pub fn reload_without_export(&self) {
        let conf = fs::read_to_string(self.path("ganesha.conf")).unwrap();
        let mut kept = String::new();
        for l in conf.lines().filter(|l| !l.starts_with("EXPORT {")) {
            kept.push_str(l);
            kept.push('\n');
        }
        assert_ne!(kept.len(), conf.len(), "no EXPORT block in {conf}");
        fs::write(self.path("ganesha.conf"), kept).unwrap();
        self.signal(Signal::SIGHUP);
    }

    /// Removes Ganesha's registrations (MOUNT v1 and v3, NFS v3 and v4) from its rpcbind, which
    /// keeps answering: the export is then reachable only by clients told the ports (`-n`,
    /// `--mount-port`, nfs-ls's `nfsport=`/`mountport=`). Checks that GETPORT answers 0.
    pub fn unregister(&self) {
        let rpcbind = self
            .rpcbind_pid()
            .expect("no rpcbind in this rig")
            .to_string();
        for (prog, vers) in [
            ("100005", "1"),
            ("100005", "3"),
            ("100003", "3"),
            ("100003", "4"),
        ] {
            sh(&[
                "nsenter", "-t", &rpcbind, "-n", "-m", "rpcinfo", "-d", prog, vers,
            ]);
        }
        let deadline = Deadline::after(Duration::from_secs(2));
        let mut c = RpcClient::connect(
            SocketAddr::new(self.addr(), 111),
            Proto::Tcp,
            false,
            None,
            deadline,
            &Cancel::new(),
        )
        .expect("rpcbind answers");
        for (p, v) in [(mount::PROG, 3), (100_003, 3)] {
            assert_eq!(
                portmap::getport(&mut c, p, v, Proto::Tcp).unwrap(),
                None,
                "{p} v{v} still registered"
            );
        }
    }

    fn wait_refused(&self, port: u16) {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            let r = std::net::TcpStream::connect_timeout(
                &SocketAddr::new(self.addr(), port),
                Duration::from_millis(200),
            );
            if r.is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("port {port} still open");
    }

    /// MOUNT v3 `MNT` and `UMNT` requests Ganesha has logged so far (needs [`LOG_REQUESTS`]).
    /// Ganesha 4 keeps no mount list (`DUMP` answers empty even while a client has the export
    /// mounted), so its request log is where a growing mount list would show.
    pub fn mount_calls(&self) -> (usize, usize) {
        let log = self.log();
        let count = |f: u32| {
            let needle = format!("for Program 100005, Version 3, Function {f} has");
            log.lines().filter(|l| l.contains(&needle)).count()
        };
        (count(1), count(3))
    }

    /// The server's MOUNT list (`DUMP`), or `None` when MOUNT does not answer.
    pub fn mount_list(&self) -> Option<Vec<(String, String)>> {
        let deadline = Deadline::after(Duration::from_secs(2));
        let cancel = Cancel::new();
        let mut c = RpcClient::connect(
            SocketAddr::new(self.addr(), 20048),
            Proto::Tcp,
            false,
            None,
            deadline,
            &cancel,
        )
        .ok()?;
        mount::dump(&mut c).ok()
    }
}

impl Drop for NfsServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = kill(
                Pid::from_raw(i32::try_from(c.id()).unwrap()),
                Signal::SIGCONT,
            );
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(p) = self.rpcbind_pid() {
            let _ = kill(p, Signal::SIGKILL);
        }
        // The namespace goes with `self.host`.
    }
}

/// An EXPORT block to append to ganesha.conf beside the rig's own export (pass it as `extra` to
/// [`NfsServer::start_with`]): directory `path` (its real path is also its `NFSv4` pseudo path)
/// as export `id`, with Ganesha's `Access_Type = access` (`RW`, `RO`) and `Squash = squash`
/// (`No_Root_Squash`, `Root_Squash`), over the protocols and transports `flavor` offers.
pub fn export_block(id: u32, path: &Path, flavor: Flavor, access: &str, squash: &str) -> String {
    let (protocols, transports) = match flavor {
        Flavor::V3V4 => ("3, 4", "UDP, TCP"),
        Flavor::V3Only => ("3", "UDP, TCP"),
        _ => ("4", "TCP"),
    };
    format!(
        "EXPORT {{ Export_Id = {id}; Path = {p}; Pseudo = {p}; Access_Type = {access}; \
         Squash = {squash}; Protocols = {protocols}; Transports = {transports}; \
         SecType = sys; FSAL {{ Name = VFS; }} }}\n",
        p = path.display(),
    )
}
