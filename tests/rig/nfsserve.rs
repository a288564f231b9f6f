//! nfsserve rig: an `NFSv3` server that is not Ganesha, for the differential tests. The `nfsserve`
//! crate (`NFSv3`, MOUNT v3 and a stand-in portmapper on one TCP port) serving a directory, built
//! from `tests/nfsserve/` (a crate of its own, so the product never links nfsserve or tokio).
//!
//! Each [`NfsServe`] is its own host ([`super::Netns`]): its own network namespace, so it can
//! listen on the portmapper's well-known port 111 (where a probe and nfs-ls find it with their
//! defaults) or on any other; its own temp dir (the export and the server's output); a session
//! of its own, stopped by its own pid on drop, before its namespace and directory go.
//!
//! The binary is built on first use with `cargo build --release --locked` into
//! `target/nfsserve` (contrib/test.sh builds it before the suite, so no test waits for it); a
//! build that fails fails the test with cargo's output.

use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::{Netns, OwnSession, output_within, wait_listening};

/// The crate of the server.
fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nfsserve/Cargo.toml")
}

/// Where it is built.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/nfsserve")
}

/// The server binary, built (or found up to date) once per test process.
pub fn binary() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut c = Command::new(cargo);
            c.args([
                "build",
                "--release",
                "--locked",
                "--quiet",
                "--manifest-path",
            ])
            .arg(manifest())
            .arg("--target-dir")
            .arg(target_dir());
            let out = output_within(&mut c, b"", Duration::from_secs(900))
                .ok_or("cargo build of tests/nfsserve did not end within 900 s")?;
            if !out.status.success() {
                return Err(format!(
                    "cargo build --manifest-path {} failed:\n{}",
                    manifest().display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
            Ok(target_dir().join("release/clp-nfsserve"))
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A running nfsserve in its own network namespace.
pub struct NfsServe {
    child: Child,
    dir: tempfile::TempDir,
    export: PathBuf,
    port: u16,
    /// Dropped after the server is stopped.
    host: Netns,
}

impl NfsServe {
    /// Starts a server on `port` of its own host, exporting a directory that holds one file,
    /// and waits (up to 20 s) until it listens.
    pub fn start(port: u16) -> Self {
        let bin = binary();
        let dir = tempfile::Builder::new()
            .prefix("clpfs-nfsserve-")
            .tempdir()
            .unwrap();
        let export = dir.path().join("export");
        fs::create_dir(&export).unwrap();
        fs::write(export.join("hello"), "hello\n").unwrap();
        let host = Netns::up();
        let addr = SocketAddr::new(IpAddr::V4(host.host.server_ip), port);
        let child = host
            .exec()
            .arg(&bin)
            .arg(addr.to_string())
            .arg(&export)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.path().join("stderr")).unwrap())
            .own_session()
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let mut me = Self {
            child,
            dir,
            export,
            port,
            host,
        };
        if let Err(e) = wait_listening(&mut me.child, addr, Duration::from_secs(20), "nfsserve") {
            panic!("{e}:\n{}", me.log());
        }
        me
    }

    /// The server's address.
    pub fn addr(&self) -> IpAddr {
        IpAddr::V4(self.host.host.server_ip)
    }

    /// Its one port (NFS, MOUNT and its portmapper).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The exported directory (also MOUNT's export path).
    pub fn export(&self) -> &str {
        self.export.to_str().unwrap()
    }

    /// The instance directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The network namespace's name.
    pub fn netns(&self) -> &str {
        &self.host.host.ns
    }

    /// The server's pid.
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// What the server wrote.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }
}

impl Drop for NfsServe {
    fn drop(&mut self) {
        // Its own session: `ip netns exec` execs the server, so the group is the server.
        let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}
