//! The SMB probe of `clp_sambamon`: one complete SMB session against the watched share —
//! TCP connect, NEGOTIATE, SESSION_SETUP (anonymous/guest or NTLMv2), TREE_CONNECT to
//! `\\HOST\SHARE`, share-type check, the `read` and `write` levels' file operations on a disk
//! share, TREE_DISCONNECT, LOGOFF — within one deadline (`-r`).
//!
//! The client is hand-written rather than taken from an SMB crate: the available crates are
//! async (they bring a runtime and dozens of dependencies into a process that watches one share)
//! and hide the NT status behind their own error types, while the probe is a handful of round
//! trips whose exact status and phase the alerts must report. The pieces: `session` (the one
//! session flow, SMB2 first and SMB1 as the fallback), `transport` (the connection and NetBIOS
//! framing over [`crate::probe::net`]), [`smb2`] (SMB2/3 codec and client, with signing and
//! encryption keys from [`crypto`]), [`smb1`] (the NT LM 0.12 fallback for servers without
//! SMB2), `storage` (the steps of `--check read` and `write`: file-system size and canary),
//! [`ntlmssp`] (authentication), `status` (NT status names). This module turns the arguments
//! into a probe and a failed step into its catalogue event (an I/O failure of the `read` and
//! `write` steps is event 66).

// Protocol message names (NEGOTIATE, NTLMv2, HMAC-MD5…) are spelled as the specs spell them,
// not as code identifiers.
#![allow(clippy::doc_markdown)]

pub mod credfile;
pub mod crypto;
pub mod error;
pub mod ntlmssp;
mod session;
pub mod smb1;
pub mod smb2;
pub mod status;
mod storage;
pub(crate) mod transport;
pub(crate) mod wire;

use std::time::Duration;

use crate::alert::{Alert, Event, Module};
use crate::probe::attempt::{self, Attempt};
use crate::probe::net::{self, Address, AddressError, errno_name};
use crate::probe::{CheckLevel, Probe, ProbeCtx, ProbeFailure, ProbeReport};

use credfile::CredError;
use error::Error;
use ntlmssp::Identity;

pub use storage::PHASES as LEVEL_PHASES;

/// Environment variable read for the password when neither `-p` nor `-A` gives one.
pub const PASSWORD_ENV: &str = "CLP_FSMON_SMB_PASSWORD";

/// Why `clp_sambamon`'s arguments make no probe (an invalid parameter, event 11). No variant
/// holds the password.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `-s` is empty, holds a path separator or NUL, or makes a path too long for TREE_CONNECT.
    #[error("bad share name {0:?}")]
    Share(String),
    /// `-a` breaks the address rule.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// `-A` names a file that is refused.
    #[error("credentials file {path}: {source}")]
    CredFile {
        /// The file.
        path: String,
        /// Why it is refused.
        source: CredError,
    },
    /// `-p` without a user.
    #[error("a password (-p) needs a user (-u)")]
    PasswordWithoutUser,
    /// `-u DOMAIN\` with no user after the domain.
    #[error("bad user name {0:?}")]
    User(String),
}

/// The SMB probe. Holds no password: only the NTLMv2 key derived from it.
#[derive(Debug)]
pub struct SambaProbe {
    share: String,
    endpoint: Address,
    identity: Identity,
    check: CheckLevel,
    canary: String,
}

/// `\\host\share`, the path TREE_CONNECT names.
fn unc(endpoint: &Address, share: &str) -> String {
    format!("\\\\{}\\{share}", endpoint.host)
}

/// Whether the path to `share` fits in a TREE_CONNECT. The protocol sets no limit of its own on
/// a share name (Windows keeps its names to 80 characters, Samba does not): only the 16-bit
/// length of the path, in bytes of UTF-16 (MS-SMB2 2.2.9 PathLength; SMB1's ByteCount, which
/// also holds 9 bytes more: a pad, the path's terminator and the service `?????`). `-s` itself
/// takes at most 255 bytes, so from the command line every name fits.
fn fits_tree_connect(endpoint: &Address, share: &str) -> bool {
    u16::try_from(unc(endpoint, share).encode_utf16().count() * 2 + 9).is_ok()
}

/// Splits `DOMAIN\user` (or `DOMAIN/user`).
fn split_user(u: &str) -> (Option<&str>, &str) {
    match u.split_once(['\\', '/']) {
        Some((d, u)) => (Some(d), u),
        None => (None, u),
    }
}

/// What a Samba probe watches and how it logs on: built by `clp_sambamon`'s front end from its
/// options, a credentials file and the environment.
#[derive(Clone, PartialEq, Eq)]
pub struct SmbTarget {
    /// The share, as given.
    pub share: String,
    /// `IP`, `HOST`, `HOST:PORT` or `[V6]:PORT`; `None`: 127.0.0.1 on port 445.
    pub address: Option<String>,
    /// The logon.
    pub logon: Logon,
    /// How deep a probe goes (`--check`).
    pub check: CheckLevel,
    /// The canary's name at the share's root (`--check write`).
    pub canary: String,
}

/// How the probe logs on.
#[derive(Clone, PartialEq, Eq)]
pub enum Logon {
    /// Anonymous or guest.
    Anonymous,
    /// An NTLMv2 user.
    User {
        /// `user` or `DOMAIN\user`.
        user: String,
        /// The domain when `user` names none (a credentials file's `domain=`).
        domain: Option<String>,
        /// The password (empty when none is given).
        password: String,
    },
}

impl std::fmt::Debug for Logon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::User { user, domain, .. } => f
                .debug_struct("User")
                .field("user", user)
                .field("domain", domain)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

impl std::fmt::Debug for SmbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmbTarget")
            .field("share", &self.share)
            .field("address", &self.address)
            .field("logon", &self.logon)
            .field("check", &self.check)
            .field("canary", &self.canary)
            .finish()
    }
}

impl SambaProbe {
    /// Builds the probe for `t`. `Err` is an invalid parameter (event 11) with the reason; it
    /// never contains the password, and the probe keeps only the NTLMv2 key derived from it.
    pub fn new(t: &SmbTarget) -> Result<Self, ConfigError> {
        // As given: blanks are part of a share name (smbclient sends them, and a server that
        // has no such share says so), never trimmed into another share's name.
        let share = t.share.as_str();
        if share.is_empty() || share.contains(['\\', '/', '\0']) {
            return Err(ConfigError::Share(t.share.clone()));
        }
        let endpoint = Address::parse(t.address.as_deref(), &transport::DEFAULTS)?;
        if !fits_tree_connect(&endpoint, share) {
            return Err(ConfigError::Share(t.share.clone()));
        }
        let identity = match &t.logon {
            Logon::Anonymous => Identity::Anonymous,
            Logon::User {
                user,
                domain,
                password,
            } => {
                let (dom, name) = split_user(user);
                if name.is_empty() {
                    return Err(ConfigError::User(user.clone()));
                }
                let domain = dom.or(domain.as_deref()).unwrap_or("");
                Identity::user(name, domain, password)
            }
        };
        Ok(Self {
            share: share.to_owned(),
            endpoint,
            identity,
            check: t.check,
            canary: t.canary.clone(),
        })
    }

    fn unc(&self) -> String {
        unc(&self.endpoint, &self.share)
    }
}

impl SambaProbe {
    /// The failure of `attempt` in `phase` with `err`: the catalogue event and the status.
    fn fail(&self, mut attempt: Attempt, phase: &'static str, err: &Error) -> ProbeFailure {
        use nix::libc;
        let share = &self.share;
        let m = Module::Sambamon;
        let net = |event: Event, errno: i32| (Alert::new(m, event, &[&errno]), errno_name(errno));
        let by_phase = |code: u32| {
            let event = match phase {
                "negotiate" => Event::NegotiateError,
                "session_setup" | "logoff" => Event::ConnectError,
                // The read and write levels: the share's storage failed (SPEC §9).
                p if storage::PHASES.contains(&p) => Event::NfsError,
                _ => Event::TreeConnectError,
            };
            (
                Alert::new(m, event, &[share, &status::hex(code)]),
                status::describe(code),
            )
        };
        let (alert, status) = match err {
            Error::Net(net::Error::Io(op, e)) => {
                let (event, fallback) = match op {
                    net::Op::Socket => (Event::SocketError, libc::EIO),
                    net::Op::Connect => (Event::NetConnectError, libc::ECONNREFUSED),
                    net::Op::Send => (Event::SendError, libc::EIO),
                    net::Op::Recv => (Event::RecvError, libc::EIO),
                };
                net(event, e.raw_os_error().unwrap_or(fallback))
            }
            Error::Resolve(h) => (
                Alert::new(m, Event::NetConnectError, &[&libc::EHOSTUNREACH]),
                format!("cannot resolve {h}"),
            ),
            Error::Net(net::Error::TimedOut) => {
                let (a, _) = net(Event::SelectError, libc::ETIMEDOUT);
                let t = attempt.elapsed().as_secs_f64();
                (
                    a,
                    format!("ETIMEDOUT (110): no answer, timeout after {t:.3} s"),
                )
            }
            Error::Net(net::Error::Cancelled) => net(Event::SelectError, libc::ECANCELED),
            Error::Net(net::Error::Closed) => {
                let (a, s) = net(Event::RecvError, libc::ECONNRESET);
                (a, format!("{s}: connection closed by the server"))
            }
            Error::Status(code) => by_phase(*code),
            Error::Protocol(_) if phase == "connect" => net(Event::NetConnectError, libc::EPROTO),
            Error::Protocol(_) => by_phase(status::INVALID_NETWORK_RESPONSE),
            Error::Unsupported(_) => by_phase(status::NOT_SUPPORTED),
            Error::Canary(why) => (
                by_phase(status::DATA_ERROR).0,
                format!("canary mismatch: {why}"),
            ),
            Error::ShareType(t) => (
                Alert::new(m, Event::ShareTypeError, &[share]),
                format!("share type {t}"),
            ),
        };
        if matches!(err, Error::Protocol(_) | Error::Unsupported(_)) {
            attempt.note("error", err.to_string());
        }
        attempt.fail(phase, status, vec![alert])
    }
}

impl Probe for SambaProbe {
    fn module(&self) -> Module {
        Module::Sambamon
    }

    fn target(&self) -> &str {
        &self.share
    }

    fn check(&self) -> CheckLevel {
        self.check
    }

    fn run(&self, ctx: &ProbeCtx) -> Result<ProbeReport, ProbeFailure> {
        let mut a = Attempt::start(ctx, vec![("server", self.endpoint.to_string())]);
        let unc = self.unc();
        let plan = session::Plan {
            id: &self.identity,
            unc: &unc,
            level: self.check,
            canary: &self.canary,
        };
        match session::run(&self.endpoint, ctx, &mut a, &plan) {
            Ok(summary) => Ok(a.succeed(summary)),
            Err((phase, e)) => Err(self.fail(a, phase, &e)),
        }
    }

    fn timeout_failure(&self, timeout: Duration) -> ProbeFailure {
        attempt::abandoned(
            timeout,
            format!(
                "ETIMEDOUT (110): no answer within {:.3} s",
                timeout.as_secs_f64()
            ),
            vec![Alert::new(
                Module::Sambamon,
                Event::SelectError,
                &[&nix::libc::ETIMEDOUT],
            )],
            vec![("server", self.endpoint.to_string())],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Command, MonitorArgs, Parsed, parse};

    fn args(extra: &[&str]) -> MonitorArgs {
        let mut v = vec!["m1".to_string()];
        v.extend(extra.iter().map(ToString::to_string));
        match parse(Module::Sambamon, &v).unwrap() {
            Parsed::Run {
                command: Command::Monitor(m),
                ..
            } => *m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anonymous_by_default_on_localhost_445() {
        let p = crate::applets::clp_sambamon::probe(&args(&["-s", "share"])).unwrap();
        assert!(p.identity.is_anonymous());
        assert_eq!(p.endpoint.to_string(), "127.0.0.1:445");
        assert_eq!(p.unc(), r"\\127.0.0.1\share");
        assert_eq!(p.target(), "share");
    }

    #[test]
    fn domain_user_and_password_are_taken_and_hidden() {
        let p = crate::applets::clp_sambamon::probe(&args(&[
            "-s",
            "s",
            "-u",
            r"DOM\alice",
            "-p",
            "pw-secret",
            "-a",
            "[::1]:1445",
        ]))
        .unwrap();
        match &p.identity {
            Identity::User { user, domain, key } => {
                assert_eq!((user.as_str(), domain.as_str()), ("alice", "DOM"));
                assert_eq!(*key, ntlmssp::ntowf_v2("pw-secret", "alice", "DOM"));
            }
            Identity::Anonymous => panic!("anonymous"),
        }
        assert_eq!(p.endpoint.to_string(), "[::1]:1445");
        assert!(!format!("{p:?}").contains("pw-secret"));
    }

    #[test]
    fn credentials_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("cred");
        std::fs::write(
            &f,
            "# comment\nusername = bob\npassword = s3cr=t \ndomain=WG\n",
        )
        .unwrap();
        let mode = |m| {
            std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(m)).unwrap();
        };
        mode(0o600);
        let p = crate::applets::clp_sambamon::probe(&args(&["-s", "s", "-A", f.to_str().unwrap()]))
            .unwrap();
        match &p.identity {
            Identity::User { user, domain, key } => {
                assert_eq!((user.as_str(), domain.as_str()), ("bob", "WG"));
                assert_eq!(*key, ntlmssp::ntowf_v2("s3cr=t", "bob", "WG"));
            }
            Identity::Anonymous => panic!("anonymous"),
        }
        let missing =
            crate::applets::clp_sambamon::probe(&args(&["-s", "s", "-A", "/nonexistent/cred"]));
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("/nonexistent/cred")
        );
        // one that others may read is refused, never read as anonymous (see credfile)
        mode(0o644);
        let e = crate::applets::clp_sambamon::probe(&args(&["-s", "s", "-A", f.to_str().unwrap()]))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("credentials file ") && e.contains("mode 0644"),
            "{e}"
        );
        assert!(!e.contains("s3cr=t"), "{e}");
    }

    #[test]
    fn share_names_are_limited_by_the_protocol_not_by_80_bytes() {
        let target = |share: String| SmbTarget {
            share,
            address: None,
            logon: Logon::Anonymous,
            check: CheckLevel::Connect,
            canary: String::new(),
        };
        for ok in [
            "x".repeat(81),
            "é".repeat(80),
            "ü".repeat(127) + "x",
            "字".repeat(10_000),
        ] {
            assert!(SambaProbe::new(&target(ok.clone())).is_ok(), "{ok}");
        }
        // `\\127.0.0.1\` is 12 UTF-16 units: with 32 751 more and SMB1's 9 bytes, the request
        // holds 65 535 bytes, the most a 16-bit length counts
        assert!(SambaProbe::new(&target("x".repeat(32_751))).is_ok());
        assert!(matches!(
            SambaProbe::new(&target("x".repeat(32_752))),
            Err(ConfigError::Share(_))
        ));
        // from the command line, 255 bytes are taken and 256 refused
        assert!(crate::applets::clp_sambamon::probe(&args(&["-s", &"é".repeat(127)])).is_ok());
        assert!(
            parse(
                Module::Sambamon,
                &["m1".into(), "-s".into(), "x".repeat(256)]
            )
            .is_err()
        );
    }

    #[test]
    fn share_name_is_sent_as_given_blanks_and_all() {
        for share in [" public", "public ", " "] {
            let p = crate::applets::clp_sambamon::probe(&args(&["-s", share])).unwrap();
            assert_eq!(p.target(), share);
            assert_eq!(p.unc(), format!(r"\\127.0.0.1\{share}"));
        }
    }

    #[test]
    fn bad_parameters_are_refused_without_the_password() {
        for extra in [
            &["-s", r"a\b"][..],
            &["-s", "s", "-a", "host:0"],
            &["-s", "s", "-a", "[::1"],
            &["-s", "s", "-p", "pw-secret"],
            &["-s", "s", "-u", r"DOM\", "-p", "pw-secret"],
        ] {
            let e = crate::applets::clp_sambamon::probe(&args(extra))
                .unwrap_err()
                .to_string();
            assert!(!e.contains("pw-secret"), "{e}");
        }
    }

    #[test]
    fn refused_connection_is_event_72_with_errno() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let p = crate::applets::clp_sambamon::probe(&args(&[
            "-s",
            "s",
            "-a",
            &format!("127.0.0.1:{port}"),
        ]))
        .unwrap();
        let f = p.run(&ProbeCtx::new(Duration::from_secs(2))).unwrap_err();
        assert_eq!(f.phase, "connect");
        assert_eq!(f.alerts[0].event, Event::NetConnectError);
        assert!(
            f.alerts[0].text.ends_with("(connect error[111])."),
            "{}",
            f.alerts[0].text
        );
        assert_eq!(f.status, "ECONNREFUSED (111)");
    }

    #[test]
    fn silent_server_is_event_74_at_the_deadline() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let p = crate::applets::clp_sambamon::probe(&args(&[
            "-s",
            "s",
            "-a",
            &format!("127.0.0.1:{port}"),
        ]))
        .unwrap();
        let t = std::time::Instant::now();
        let f = p
            .run(&ProbeCtx::new(Duration::from_millis(300)))
            .unwrap_err();
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(290) && took < Duration::from_millis(600),
            "{took:?}"
        );
        assert_eq!(f.phase, "negotiate");
        assert_eq!(f.alerts[0].event, Event::SelectError);
        assert!(f.alerts[0].text.contains("select error[110]"));
        drop(l);
    }

    #[test]
    fn cancel_ends_a_stalled_probe_within_a_slice() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let p = crate::applets::clp_sambamon::probe(&args(&[
            "-s",
            "s",
            "-a",
            &format!("127.0.0.1:{port}"),
        ]))
        .unwrap();
        let ctx = ProbeCtx::new(Duration::from_secs(30));
        let token = ctx.cancel.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            token.cancel();
        });
        let t = std::time::Instant::now();
        let f = p.run(&ctx).unwrap_err();
        assert!(t.elapsed() < Duration::from_millis(600));
        assert!(f.status.starts_with("ECANCELED"), "{}", f.status);
        drop(l);
    }

    /// A server on 127.0.0.1 that answers the SMB2 NEGOTIATE of its first connection with an
    /// SMB2 error header of `code`, and its second connection (the SMB1 fallback) with
    /// `second` (nothing: it closes). Returns the port and how many connections it took.
    fn smb2_refusing_server(
        code: u32,
        second: Option<Vec<u8>>,
    ) -> (u16, std::thread::JoinHandle<usize>) {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let mut m = vec![0xfe, b'S', b'M', b'B', 64, 0, 0, 0];
            m.extend_from_slice(&code.to_le_bytes());
            m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0]); // NEGOTIATE, 1 credit, a reply
            m.resize(64, 0);
            m.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0, 0]);
            let len = u32::try_from(m.len()).unwrap().to_be_bytes();
            let _ = s.write_all(&[&len[..], &m].concat());
            drop(s);
            // the second connection, if the client makes one within 3 s
            l.set_nonblocking(true).unwrap();
            let until = std::time::Instant::now() + Duration::from_secs(3);
            let mut s = loop {
                match l.accept() {
                    Ok((s, _)) => break s,
                    Err(_) if std::time::Instant::now() < until => {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => return 1,
                }
            };
            s.set_nonblocking(false).unwrap();
            let _ = s.read(&mut buf);
            if let Some(reply) = second {
                let len = u32::try_from(reply.len()).unwrap().to_be_bytes();
                let _ = s.write_all(&[&len[..], &reply].concat());
            }
            2
        });
        (port, h)
    }

    #[test]
    fn smb2_refusal_falls_back_to_smb1_and_is_the_failure_when_smb1_fails_too() {
        // SMB1 NEGOTIATE reply choosing no dialect (0xffff), as smbd with SMB1 off answers
        let mut no_dialect = smb1::codec::header(smb1::codec::cmd::NEGOTIATE, 0, 0, 0);
        no_dialect[9] |= 0x80;
        no_dialect.extend_from_slice(&[1, 0xff, 0xff, 0, 0]);
        for second in [None, Some(no_dialect)] {
            let (port, server) = smb2_refusing_server(0xc000_000d, second);
            let p = crate::applets::clp_sambamon::probe(&args(&[
                "-s",
                "s",
                "-a",
                &format!("127.0.0.1:{port}"),
            ]))
            .unwrap();
            let f = p.run(&ProbeCtx::new(Duration::from_secs(5))).unwrap_err();
            assert_eq!(server.join().unwrap(), 2, "the SMB1 fallback connected");
            assert_eq!(f.phase, "negotiate");
            assert_eq!(f.status, "STATUS_INVALID_PARAMETER (0xc000000d)");
            assert!(
                f.alerts[0].text.contains("negotiate error[0xc000000d]"),
                "{}",
                f.alerts[0].text
            );
        }
    }

    #[test]
    fn garbage_server_is_a_negotiate_error() {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            let _ = s.write_all(&[0, 0, 0, 8, 0xfe, b'S', b'M', b'B', 1, 2, 3, 4]);
            std::thread::sleep(Duration::from_millis(500));
        });
        let p = crate::applets::clp_sambamon::probe(&args(&[
            "-s",
            "s",
            "-a",
            &format!("127.0.0.1:{port}"),
        ]))
        .unwrap();
        let f = p.run(&ProbeCtx::new(Duration::from_secs(2))).unwrap_err();
        assert_eq!(f.phase, "negotiate");
        assert_eq!(f.alerts[0].event, Event::NegotiateError);
        assert!(
            f.alerts[0].text.contains("negotiate error[0xc00000c3]"),
            "{}",
            f.alerts[0].text
        );
    }
}
