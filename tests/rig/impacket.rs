//! impacket's `smbserver.py` for the tests: a second SMB server implementation (Python, written
//! from the specifications, not from Samba), so the probe's verdicts are checked against more
//! than one server.
//!
//! Each [`Impacket`] is its own server: its own temp dir (the shared directory and the server's
//! output), a free port of 127.0.0.1, a session of its own (nothing it signals reaches the test
//! binary), stopped by its own pid on drop. [`Impacket::start`] waits, bounded, until it
//! listens. [`Mode::Smb1`] runs it without `-smb2support` (it then answers an SMB2 NEGOTIATE
//! with an error, as old servers do); [`Mode::Smb2`] with it (it answers with dialect 2.0.2).
//! With a user it checks that user's NTLM password; without one it lets any logon in.
//!
//! impacket comes from the Python package index, in a venv of this checkout
//! (`target/tools/venv`), put there by `contrib/test.sh`; a test that needs it and finds it
//! missing fails saying how to install it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use super::OwnSession;
use super::smb::free_port;

/// The impacket release the tests are written against (`contrib/test.sh` installs it).
pub const VERSION: &str = "0.13.1";

/// Which protocols the server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// SMB1 (NT LM 0.12) only: no `-smb2support`.
    Smb1,
    /// SMB2 as well (`-smb2support`).
    Smb2,
}

/// A running `smbserver.py`.
pub struct Impacket {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

/// The venv `contrib/test.sh` makes.
pub fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv")
}

/// `smbserver.py` of [`venv`]; fails the test saying how to install it when it is missing.
pub fn require_smbserver() -> PathBuf {
    require_smbserver_in(&venv())
}

/// `smbserver.py` of the venv at `v`, or a panic naming the commands that install it there.
pub fn require_smbserver_in(v: &Path) -> PathBuf {
    let script = v.join("bin/smbserver.py");
    assert!(
        script.is_file() && v.join("bin/python3").exists(),
        "impacket's smbserver.py is not installed at {}: run contrib/test.sh, or \
         `apt-get install python3-venv && /usr/bin/python3 -m venv {venv} && \
         {venv}/bin/pip install impacket=={VERSION}`",
        script.display(),
        venv = v.display(),
    );
    script
}

impl Impacket {
    /// Starts a server sharing an empty directory as `share` (`mode`; `user` is the only
    /// account when given, else any logon is accepted) and waits (up to 30 s) until it listens.
    pub fn start(mode: Mode, share: &str, user: Option<(&str, &str)>) -> Self {
        let script = require_smbserver();
        let dir = tempfile::Builder::new()
            .prefix("clpfs-impacket-")
            .tempdir()
            .unwrap();
        let root = dir.path().join("share");
        std::fs::create_dir(&root).unwrap();
        let out = std::fs::File::create(dir.path().join("server.out")).unwrap();
        let port = free_port();
        let mut cmd = Command::new(venv().join("bin/python3"));
        cmd.arg(script)
            .args(["-ip", "127.0.0.1", "-port", &port.to_string()]);
        if mode == Mode::Smb2 {
            cmd.arg("-smb2support");
        }
        if let Some((u, p)) = user {
            cmd.args(["-username", u, "-password", p]);
        }
        cmd.arg(share)
            .arg(&root)
            .current_dir(dir.path())
            // Unbuffered, so server.out is complete when a test shows it.
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .own_session();
        let child = cmd.spawn().expect("smbserver.py");
        let mut s = Self { child, dir, port };
        s.wait_ready(Duration::from_secs(30));
        s
    }

    fn wait_ready(&mut self, limit: Duration) {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        if let Err(why) = super::wait_listening(&mut self.child, addr, limit, "smbserver.py") {
            panic!("{why}:\n{}", self.log());
        }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `IP:PORT`, as `-a` takes it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pid of the server (also its process group and session).
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap()
    }

    /// The server's own directory (shared directory and output).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.out")).unwrap_or_default()
    }
}

impl Drop for Impacket {
    fn drop(&mut self) {
        // Its own session: the group is the server and whatever it started, nothing else.
        let _ = killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}
