//! The differential SMB test (issue 12): the probe's verdict against the reference client's,
//! across server implementations and configurations (SPEC §8, the verdict rule).
//!
//! Every case is one logon to one share of one server. For each, `smbclient //IP/SHARE -p PORT
//! … -c exit` (the reference; with an empty client configuration, and with
//! `client min protocol = NT1` and `-m NT1` for an SMB1-only server) and `clp_sambamon m1 -s
//! SHARE -a IP:PORT … --once --json` (the built binary through its applet link, in a licensed
//! sandbox) run with the same credentials, and their verdicts are compared: OK or CRITICAL and,
//! for CRITICAL, the phase (smbclient's `protocol negotiation failed` is `negotiate`, `session
//! setup failed` is `session_setup`, `tree connect failed` is `tree_connect`) and the NT status
//! name. `-c exit` does no file operation, which is as deep as the probe goes.
//!
//! The servers ([`targets`]): smbd (tests/rig/smb.rs) with `[global]` lines for dialect caps,
//! mandatory signing per SMB3 signing algorithm, encryption off/desired/required and per
//! cipher, every `ntlm auth` mode, SMB1 only, port 139 (in a network namespace); shares of its
//! own for per-share encryption, an 81-character and an 80 × 'é' name, a user with 'ß' in its
//! name and one with other accented letters; and impacket's smbserver.py (tests/rig/impacket.rs)
//! in SMB1 and SMB2 mode, anonymous or with a user. Every generated smb.conf is checked with `testparm -s`: an option this Samba
//! does not know fails the test instead of being silently ignored (the ciphers are restricted
//! with `server smb3 encryption algorithms`: Samba 4.17 has no `server smb encrypt ciphers`).
//!
//! Each target is a server of its own on its own port; a few worker threads take targets from
//! the table, so the matrix runs in parallel. The whole matrix is printed as a Markdown table on
//! stderr and written to `target/smb-matrix.md`.
//!
//! Every case must agree, except those in [`KNOWN`]: disagreements known today, each tagged with
//! its item of issue 12. A listed case must still disagree — when a fix makes it agree, the test
//! fails and says to move it off the list — so the list never hides a new disagreement nor
//! outlives its fix. And except those in [`SMBCLIENT_DIFFERS`]: where smbclient itself parts
//! from the protocol and from a Windows client, each with the reason and the verdict the probe
//! must give instead.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::rig::impacket::{self, Impacket};
use crate::rig::matrix::{self, cell};
use crate::rig::smb::{self, Flavour, Setup, Smbd};
use crate::rig::{Sandbox, output_within, require_root, require_tool};

/// The user of an impacket server started with one.
const IMPACKET_USER: &str = "impuser";
/// Its password.
const IMPACKET_PASSWORD: &str = "Imp-pass1";
/// The share of every impacket server.
const IMPACKET_SHARE: &str = "share";
/// A Samba user with 'ß' in its name (in the default target only).
const ESZETT_USER: &str = "clpstraße";
/// Its password.
const ESZETT_PASSWORD: &str = "Stra-pass1";
/// A share only [`ESZETT_USER`] may use.
const ESZETT_SHARE: &str = "eszett";
/// A Samba user with other non-ASCII letters (one-unit upper cases), in the default target.
const ACCENTED_USER: &str = "clpçüé";
/// Its password.
const ACCENTED_PASSWORD: &str = "Acc-pass1";
/// A password no test user has.
const WRONG_PASSWORD: &str = "wrong-password";
/// A user no server has.
const UNKNOWN_USER: &str = "nosuchuser";
/// Worker threads (each runs one server at a time).
const WORKERS: usize = 3;
/// Deadline of one smbclient run and one probe.
const CLIENT_LIMIT: Duration = Duration::from_secs(30);

/// The items of issue 12 that [`KNOWN`] cites.
const ITEMS: &[(u8, &str)] = &[];

/// Cases known to disagree today, with the item of issue 12 each is. A case listed here must
/// disagree; every other case must agree.
const KNOWN: &[(&str, u8)] = &[];

/// Cases where smbclient's verdict is not the rule (SPEC §8: the verdict a Windows or smbclient
/// user gets; these two part ways): the case, the probe's verdict (outcome, phase, status), and
/// why. Each must still disagree with smbclient and give exactly that verdict, so an entry
/// neither hides a change of the probe nor outlives a fix of smbclient.
const SMBCLIENT_DIFFERS: &[(&str, [&str; 3], &str)] = &[(
    "encrypt desired, max SMB2_10: data as user",
    ["OK", "", ""],
    "smbd flags the SMB 2.1 session ENCRYPT_DATA (encryption desired, and the client offered \
     the capability); smbclient 4.17 takes the flag on a dialect without encryption and its \
     TREE_CONNECT fails with NT_STATUS_ENCRYPTION_FAILED, while smbd serves the same share in \
     plaintext. MS-SMB2 3.2.5.3.1 sets Session.EncryptData from the flag for 3.x only, so a \
     client that follows it (a Windows one; the probe, issue 12 #4) goes on in plaintext",
)];

/// Who logs on, and how each client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Creds {
    /// No user (`-N`; the probe without `-u`).
    Anonymous,
    /// User `guest`, empty password (mapped to the guest account by Samba's `map to guest`).
    Guest,
    /// The server's test user and its password.
    User,
    /// The server's test user with a wrong password.
    WrongPassword,
    /// A user the server does not have.
    UnknownUser,
    /// [`ESZETT_USER`] and its password.
    Eszett,
    /// [`ACCENTED_USER`] and its password.
    Accented,
}

impl Creds {
    fn label(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Guest => "guest",
            Self::User => "user",
            Self::WrongPassword => "wrong password",
            Self::UnknownUser => "unknown user",
            Self::Eszett => "user with ß",
            Self::Accented => "user with çüé",
        }
    }

    /// (user, password), `None` for anonymous; `account` is the server's test user.
    fn login(self, account: (&'static str, &'static str)) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Anonymous => None,
            Self::Guest => Some(("guest", "")),
            Self::User => Some(account),
            Self::WrongPassword => Some((account.0, WRONG_PASSWORD)),
            Self::UnknownUser => Some((UNKNOWN_USER, "x")),
            Self::Eszett => Some((ESZETT_USER, ESZETT_PASSWORD)),
            Self::Accented => Some((ACCENTED_USER, ACCENTED_PASSWORD)),
        }
    }
}

/// A share of a target.
#[derive(Clone, Copy, Debug)]
enum Share {
    Named(&'static str),
    /// An 81-character ASCII name.
    Long81,
    /// 80 × 'é' (160 bytes of UTF-8).
    Accented80,
    /// 255 bytes, the most `-s` takes: 127 × 'ü' and an 'x'.
    Longest255,
}

impl Share {
    fn name(self) -> String {
        match self {
            Self::Named(n) => n.to_owned(),
            Self::Long81 => format!("long{}", "x".repeat(77)),
            Self::Accented80 => "é".repeat(80),
            Self::Longest255 => "ü".repeat(127) + "x",
        }
    }

    fn label(self) -> String {
        match self {
            // quoted when blanks begin or end it, so the table shows them
            Self::Named(n) if n.trim() != n => format!("{n:?}"),
            Self::Named(n) => n.to_owned(),
            Self::Long81 => "long name (81 chars)".into(),
            Self::Accented80 => "80 × é".into(),
            Self::Longest255 => "255 bytes (127 × ü + x)".into(),
        }
    }
}

/// Which server a target starts.
#[derive(Clone, Copy, Debug)]
enum Server {
    /// smbd of `flavour` with `global` lines in `[global]`; on `port` of a network namespace of
    /// its own when given; with [`ESZETT_USER`] and its share, and [`ACCENTED_USER`], when
    /// `eszett`.
    Samba {
        flavour: Flavour,
        global: &'static str,
        netns_port: Option<u16>,
        eszett: bool,
    },
    /// impacket's smbserver.py; with `user` (name, password) as its only account when given.
    Impacket {
        mode: impacket::Mode,
        user: Option<(&'static str, &'static str)>,
    },
}

/// One server and the logons tried against it.
struct Target {
    name: &'static str,
    server: Server,
    checks: Vec<(Share, Creds)>,
}

/// Shares every smbd of the matrix has besides the rig's own: per-share encryption, the long
/// and the non-ASCII name. All open to guests.
fn samba_shares() -> Vec<(String, &'static str)> {
    let guest = "   guest ok = yes\n   read only = yes\n";
    vec![
        (
            "enc_off".into(),
            "   guest ok = yes\n   smb encrypt = off\n",
        ),
        (
            "enc_desired".into(),
            "   guest ok = yes\n   smb encrypt = desired\n",
        ),
        (
            "enc_required".into(),
            "   guest ok = yes\n   smb encrypt = required\n",
        ),
        (Share::Long81.name(), guest),
        (Share::Accented80.name(), guest),
        (Share::Longest255.name(), guest),
    ]
}

const GUEST: Share = Share::Named(smb::GUEST_SHARE);
const DATA: Share = Share::Named(smb::USER_SHARE);
const SECURE: Share = Share::Named(smb::ENCRYPTED_SHARE);

fn samba(global: &'static str) -> Server {
    Server::Samba {
        flavour: Flavour::Standard,
        global,
        netns_port: None,
        eszett: false,
    }
}

/// A target name made at run time (the matrix lives for the whole test).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The matrix.
#[allow(clippy::too_many_lines)]
fn targets() -> Vec<Target> {
    use Creds::{Accented, Anonymous, Eszett, Guest, UnknownUser, User, WrongPassword};
    let mut t = vec![Target {
        name: "samba default",
        server: Server::Samba {
            flavour: Flavour::Standard,
            global: "",
            netns_port: None,
            eszett: true,
        },
        checks: vec![
            (GUEST, Anonymous),
            (GUEST, Guest),
            (GUEST, User),
            (GUEST, UnknownUser),
            (DATA, User),
            (DATA, WrongPassword),
            (DATA, UnknownUser),
            (DATA, Anonymous),
            (SECURE, User),
            (Share::Named(smb::PRINT_SHARE), Anonymous),
            (Share::Named("nosuchshare"), Anonymous),
            (Share::Long81, Anonymous),
            (Share::Accented80, Anonymous),
            (Share::Longest255, Anonymous),
            // Blanks are part of a name: sent as given (issue 12 #9).
            (Share::Named(" guest"), Anonymous),
            (Share::Named("guest "), Anonymous),
            (Share::Named(ESZETT_SHARE), Eszett),
            (GUEST, Accented),
        ],
    }];
    let basic = || vec![(GUEST, Anonymous), (DATA, User), (SECURE, User)];
    for (name, global) in [
        ("max SMB2_02", "server max protocol = SMB2_02\n"),
        ("max SMB2_10", "server max protocol = SMB2_10\n"),
        ("max SMB3_00", "server max protocol = SMB3_00\n"),
        ("max SMB3_02", "server max protocol = SMB3_02\n"),
        ("max SMB3_11", "server max protocol = SMB3_11\n"),
        ("min SMB3_11", "server min protocol = SMB3_11\n"),
    ] {
        t.push(Target {
            name,
            server: samba(global),
            checks: basic(),
        });
    }
    for (name, global) in [
        (
            "signing mandatory, HMAC-SHA256",
            "server signing = mandatory\n   server smb3 signing algorithms = HMAC-SHA256\n",
        ),
        (
            "signing mandatory, AES-128-CMAC",
            "server signing = mandatory\n   server smb3 signing algorithms = AES-128-CMAC\n",
        ),
        (
            "signing mandatory, AES-128-GMAC",
            "server signing = mandatory\n   server smb3 signing algorithms = AES-128-GMAC\n",
        ),
        ("encrypt off", "server smb encrypt = off\n"),
        ("encrypt desired", "server smb encrypt = desired\n"),
        ("encrypt required", "server smb encrypt = required\n"),
        // SMB 2.x has no encryption: Samba still flags a session ENCRYPT_DATA when the client
        // offers the capability (desired), and refuses it (required).
        (
            "encrypt desired, max SMB2_10",
            "server smb encrypt = desired\n   server max protocol = SMB2_10\n",
        ),
        (
            "encrypt required, max SMB2_10",
            "server smb encrypt = required\n   server max protocol = SMB2_10\n",
        ),
        (
            "encrypt desired, max SMB3_00",
            "server smb encrypt = desired\n   server max protocol = SMB3_00\n",
        ),
    ] {
        t.push(Target {
            name,
            server: samba(global),
            checks: vec![(GUEST, Anonymous), (GUEST, Guest), (DATA, User)],
        });
    }
    t.push(Target {
        name: "encrypt per share",
        server: samba(""),
        checks: ["enc_off", "enc_desired", "enc_required"]
            .into_iter()
            .flat_map(|s| [Anonymous, Guest, User].map(|c| (Share::Named(s), c)))
            .collect(),
    });
    for cipher in ["AES-128-GCM", "AES-128-CCM", "AES-256-GCM", "AES-256-CCM"] {
        let algorithms = format!("server smb3 encryption algorithms = {cipher}\n");
        t.push(Target {
            name: leak(format!("encrypt required, {cipher}")),
            server: samba(leak(format!(
                "server smb encrypt = required\n   {algorithms}"
            ))),
            checks: vec![(GUEST, Anonymous), (DATA, User)],
        });
        t.push(Target {
            name: leak(format!("encrypt per share, {cipher}")),
            server: samba(leak(algorithms)),
            checks: vec![
                (GUEST, Anonymous),
                (Share::Named("enc_desired"), User),
                (Share::Named("enc_required"), User),
                (SECURE, User),
            ],
        });
    }
    for (name, global) in [
        (
            "ntlm auth ntlmv1-permitted",
            "ntlm auth = ntlmv1-permitted\n",
        ),
        ("ntlm auth ntlmv2-only", "ntlm auth = ntlmv2-only\n"),
        (
            "ntlm auth mschapv2-and-ntlmv2-only",
            "ntlm auth = mschapv2-and-ntlmv2-only\n",
        ),
        ("ntlm auth disabled", "ntlm auth = disabled\n"),
    ] {
        t.push(Target {
            name,
            server: samba(global),
            checks: vec![
                (GUEST, Anonymous),
                (GUEST, Guest),
                (DATA, User),
                (DATA, WrongPassword),
            ],
        });
    }
    for (name, flavour, netns_port) in [
        ("SMB1 only", Flavour::Smb1Only, None),
        ("port 139", Flavour::Standard, Some(139)),
        ("SMB1 only, port 139", Flavour::Smb1Only, Some(139)),
    ] {
        t.push(Target {
            name,
            server: Server::Samba {
                flavour,
                global: "",
                netns_port,
                eszett: false,
            },
            checks: vec![
                (GUEST, Anonymous),
                (DATA, User),
                (DATA, WrongPassword),
                (Share::Named("nosuchshare"), Anonymous),
            ],
        });
    }
    let share = Share::Named(IMPACKET_SHARE);
    let user = Some((IMPACKET_USER, IMPACKET_PASSWORD));
    for (name, mode, user, checks) in [
        (
            "impacket SMB2, open",
            impacket::Mode::Smb2,
            None,
            vec![
                (share, Anonymous),
                (share, Guest),
                (share, UnknownUser),
                (Share::Named("nosuchshare"), Anonymous),
                (Share::Named(" share"), Anonymous),
            ],
        ),
        (
            "impacket SMB2, user",
            impacket::Mode::Smb2,
            user,
            vec![
                (share, User),
                (share, WrongPassword),
                (share, UnknownUser),
                (share, Anonymous),
            ],
        ),
        // impacket upper-cases 'ß' to "SS" (Python's full mapping) where Windows, Samba,
        // smbclient and the probe keep it: both clients fail alike.
        (
            "impacket SMB2, user with ß",
            impacket::Mode::Smb2,
            Some((ESZETT_USER, ESZETT_PASSWORD)),
            vec![(share, Eszett)],
        ),
        (
            "impacket SMB1, open",
            impacket::Mode::Smb1,
            None,
            vec![(share, Anonymous), (share, UnknownUser)],
        ),
        (
            "impacket SMB1, user",
            impacket::Mode::Smb1,
            user,
            vec![(share, User), (share, WrongPassword), (share, Anonymous)],
        ),
    ] {
        t.push(Target {
            name,
            server: Server::Impacket { mode, user },
            checks,
        });
    }
    t
}

/// What one client concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Verdict {
    /// `OK`, `CRITICAL`, or what else the client said (`UNKNOWN`, `TIMEOUT`, …).
    outcome: String,
    /// The phase that failed (empty when OK).
    phase: String,
    /// The NT status name, as `STATUS_…` (empty when OK), or whatever stood in its place.
    status: String,
}

impl Verdict {
    fn ok() -> Self {
        Self {
            outcome: "OK".into(),
            phase: String::new(),
            status: String::new(),
        }
    }

    fn other(verdict: &str, why: &str) -> Self {
        Self {
            outcome: verdict.into(),
            phase: String::new(),
            status: why.chars().take(120).collect(),
        }
    }
}

/// smbclient's verdict from its exit and what it printed.
fn smbclient_verdict(success: bool, text: &str) -> Verdict {
    if success {
        return Verdict::ok();
    }
    let status = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.starts_with("NT_STATUS_"));
    let Some(status) = status else {
        return Verdict::other("CRITICAL", text.trim());
    };
    let phase = [
        ("protocol negotiation failed", "negotiate"),
        ("session setup failed", "session_setup"),
        ("tree connect failed", "tree_connect"),
        ("Connection to", "connect"),
    ]
    .into_iter()
    .find(|(m, _)| text.contains(m))
    .map_or("?", |(_, p)| p);
    Verdict {
        outcome: "CRITICAL".into(),
        phase: phase.into(),
        status: status.trim_start_matches("NT_").into(),
    }
}

/// The probe's verdict from its `--once --json` output.
fn probe_verdict(code: Option<i32>, stdout: &str, stderr: &str) -> Verdict {
    let code = code.map_or_else(|| "by a signal".to_owned(), |c| c.to_string());
    let Ok(v) = serde_json::from_str::<serde_json::Value>(stdout.trim()) else {
        let why = format!("exit {code}: {}{}", stdout.trim(), stderr.trim());
        return Verdict::other("UNKNOWN", &why);
    };
    match v["status"].as_str() {
        Some("OK") => Verdict::ok(),
        Some("CRITICAL") => {
            let f = &v["failure"];
            let status = f["status"].as_str().unwrap_or("");
            Verdict {
                outcome: "CRITICAL".into(),
                phase: f["phase"].as_str().unwrap_or("").into(),
                // `STATUS_NAME (0x…)`; a code without a name stays as printed.
                status: status.split(" (").next().unwrap_or("").into(),
            }
        }
        // UNKNOWN (a usage error): its reason, else the whole output.
        other => {
            let why = v["reason"]
                .as_str()
                .map_or_else(|| stdout.trim().to_owned(), str::to_owned);
            Verdict::other(other.unwrap_or("UNKNOWN"), &format!("exit {code}: {why}"))
        }
    }
}

/// A started server of a target, whichever kind.
enum Running {
    Samba(Smbd),
    Impacket(Impacket),
}

impl Running {
    fn address(&self) -> String {
        match self {
            Self::Samba(s) => s.address(),
            Self::Impacket(s) => s.address(),
        }
    }

    fn log(&self) -> String {
        match self {
            Self::Samba(s) => s.log(),
            Self::Impacket(s) => s.log(),
        }
    }
}

/// Fails unless `testparm -s` knows every option of `conf`.
fn testparm_knows_every_option(conf: &Path) {
    let mut c = Command::new(require_tool("testparm", "samba-common-bin"));
    c.args(["-s", "--suppress-prompt"]).arg(conf);
    let out = output_within(&mut c, b"", CLIENT_LIMIT).expect("testparm ended");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && !text.contains("Unknown parameter") && !text.contains("Ignoring"),
        "testparm -s {}:\n{text}",
        conf.display()
    );
}

fn start(server: Server) -> Running {
    match server {
        Server::Samba {
            flavour,
            global,
            netns_port,
            eszett,
        } => {
            let shares = samba_shares();
            let mut shares: Vec<(&str, &str)> =
                shares.iter().map(|(n, l)| (n.as_str(), *l)).collect();
            let users: &[(&str, &str)] = if eszett {
                &[
                    (ESZETT_USER, ESZETT_PASSWORD),
                    (ACCENTED_USER, ACCENTED_PASSWORD),
                ]
            } else {
                &[]
            };
            let eszett_lines = format!("   valid users = {ESZETT_USER}\n");
            if eszett {
                shares.push((ESZETT_SHARE, &eszett_lines));
            }
            let setup = Setup {
                global,
                shares: &shares,
                users,
                ..Setup::default()
            };
            let s = match netns_port {
                Some(p) => Smbd::start_in_netns_setup(flavour, p, &setup),
                None => Smbd::start_setup(flavour, &setup),
            };
            testparm_knows_every_option(&s.conf());
            Running::Samba(s)
        }
        Server::Impacket { mode, user } => {
            Running::Impacket(Impacket::start(mode, IMPACKET_SHARE, user))
        }
    }
}

/// One measured case.
struct Row {
    case: String,
    smbclient: Verdict,
    probe: Verdict,
}

impl Row {
    fn agree(&self) -> bool {
        self.smbclient == self.probe
    }

    /// Disagrees and is not listed in [`KNOWN`], or agrees and is; or is listed in
    /// [`SMBCLIENT_DIFFERS`] and does not give its verdict there.
    fn unexpected(&self) -> bool {
        match differs(&self.case) {
            Some((want, _)) => self.agree() || self.probe != want,
            None => self.agree() == known_item(&self.case).is_some(),
        }
    }
}

/// Runs smbclient and the probe for every check of `target`, whose server is `server`.
fn measure(target: &Target, server: &Running, sb: &Sandbox, client_conf: &Path) -> Vec<Row> {
    let addr = server.address();
    let (ip, port) = addr.rsplit_once(':').unwrap();
    let (account, smb1) = match target.server {
        Server::Samba { flavour, .. } => ((smb::USER, smb::PASSWORD), flavour == Flavour::Smb1Only),
        Server::Impacket { mode, user } => (
            user.unwrap_or((IMPACKET_USER, IMPACKET_PASSWORD)),
            mode == impacket::Mode::Smb1,
        ),
    };
    let mut rows = Vec::new();
    for &(share, creds) in &target.checks {
        let name = share.name();
        let login = creds.login(account);
        let mut c = Command::new("smbclient");
        c.arg(format!("//{ip}/{name}"))
            .args(["-p", port, "-s"])
            .arg(client_conf)
            .args(["-t", "20", "-c", "exit"]);
        if smb1 {
            c.args(["--option=client min protocol=NT1", "-m", "NT1"]);
        }
        match login {
            None => c.arg("-N"),
            Some((u, p)) => c.arg("-U").arg(format!("{u}%{p}")),
        };
        let smbclient = match output_within(&mut c, b"", CLIENT_LIMIT) {
            Some(out) => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr);
                smbclient_verdict(out.status.success(), &text)
            }
            None => Verdict::other("TIMEOUT", "smbclient did not end"),
        };
        let mut p = sb.std_cmd("clp_sambamon");
        p.args([
            "m1", "-s", &name, "-a", &addr, "-r", "20", "--once", "--json",
        ])
        .env_remove("CLP_FSMON_SMB_PASSWORD");
        if let Some((u, pw)) = login {
            p.args(["-u", u, "-p", pw]);
        }
        let probe = match output_within(&mut p, b"", CLIENT_LIMIT) {
            Some(out) => probe_verdict(
                out.status.code(),
                &String::from_utf8_lossy(&out.stdout),
                &String::from_utf8_lossy(&out.stderr),
            ),
            None => Verdict::other("TIMEOUT", "clp_sambamon did not end"),
        };
        rows.push(Row {
            case: format!("{}: {} as {}", target.name, share.label(), creds.label()),
            smbclient,
            probe,
        });
    }
    rows
}

/// Runs every target, `WORKERS` at a time; a target whose server did not start gives one row
/// saying why.
fn run_matrix(targets: &[Target]) -> Vec<Row> {
    matrix::run(
        targets,
        WORKERS,
        || {
            let sb = Sandbox::licensed();
            let client_conf = sb.path().join("smbclient.conf");
            std::fs::write(&client_conf, "[global]\n").unwrap();
            (sb, client_conf)
        },
        |target, (sb, client_conf)| {
            let server = start(target.server);
            let rows = measure(target, &server, sb, client_conf);
            // The server's side of a surprise (shown when the test fails).
            if rows.iter().any(Row::unexpected) {
                matrix::print_log_tail(target.name, &server.log());
            }
            rows
        },
        |target, why| {
            vec![Row {
                case: format!("{}: server", target.name),
                smbclient: Verdict::other("ERROR", &why),
                probe: Verdict::other("ERROR", "not run"),
            }]
        },
    )
}

fn known_item(case: &str) -> Option<u8> {
    KNOWN.iter().find(|(c, _)| *c == case).map(|(_, n)| *n)
}

/// The probe's verdict for a case of [`SMBCLIENT_DIFFERS`], and why smbclient's differs.
fn differs(case: &str) -> Option<(Verdict, &'static str)> {
    SMBCLIENT_DIFFERS
        .iter()
        .find(|(c, ..)| *c == case)
        .map(|(_, [outcome, phase, status], why)| {
            (
                Verdict {
                    outcome: (*outcome).into(),
                    phase: (*phase).into(),
                    status: (*status).into(),
                },
                *why,
            )
        })
}

/// The matrix as a Markdown table.
fn table(rows: &[Row], took: Duration) -> String {
    let mut s = String::from(
        "| case | smbclient | phase | status | probe | phase | status | agree? |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let agree = match (r.agree(), known_item(&r.case)) {
            _ if differs(&r.case).is_some() => {
                if r.unexpected() {
                    "**NO** (listed as smbclient differing, but not as listed)".to_owned()
                } else {
                    "no: smbclient is not the rule here (see below)".to_owned()
                }
            }
            (true, None) => "yes".to_owned(),
            (true, Some(n)) => format!("yes — listed as known (#{n}): move it"),
            (false, Some(n)) => format!("no, known: issue 12 #{n}"),
            (false, None) => "**NO**".to_owned(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {agree} |",
            cell(&r.case),
            cell(&r.smbclient.outcome),
            cell(&r.smbclient.phase),
            cell(&r.smbclient.status),
            cell(&r.probe.outcome),
            cell(&r.probe.phase),
            cell(&r.probe.status),
        );
    }
    let known = rows
        .iter()
        .filter(|r| known_item(&r.case).is_some())
        .count();
    let agreeing = rows.iter().filter(|r| r.agree()).count();
    let differing = rows.iter().filter(|r| differs(&r.case).is_some()).count();
    let _ = writeln!(
        s,
        "\n{} cases: {agreeing} agree, {} disagree ({known} listed as known, {differing} where \
         smbclient is not the rule); {:.1} s.\n",
        rows.len(),
        rows.len() - agreeing,
        took.as_secs_f64()
    );
    if !ITEMS.is_empty() {
        s.push_str("Known disagreements (issue 12):\n\n");
        for (n, what) in ITEMS {
            let _ = writeln!(s, "- #{n}: {what}");
        }
        s.push('\n');
    }
    if !SMBCLIENT_DIFFERS.is_empty() {
        s.push_str("Where smbclient is not the rule:\n\n");
        for (case, _, why) in SMBCLIENT_DIFFERS {
            let _ = writeln!(s, "- {case}: {why}.");
        }
    }
    s
}

/// The probe agrees with smbclient on every case of the matrix but the known disagreements,
/// and each of those still disagrees.
#[test]
fn verdicts_equal_smbclient_across_servers() {
    require_root("the SMB matrix (smbd, network namespaces)");
    require_tool("smbclient", "smbclient");
    require_tool("smbd", "samba");
    impacket::require_smbserver();
    let targets = targets();
    let t = Instant::now();
    let rows = run_matrix(&targets);
    let took = t.elapsed();
    let md = table(&rows, took);
    // Straight to the test's stderr, past the harness's capture: the table is wanted on success.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), md.as_bytes());
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/smb-matrix.md");
    std::fs::write(&out, &md).unwrap();
    let mut problems = Vec::new();
    for (case, n) in KNOWN {
        if !rows.iter().any(|r| r.case == *case) {
            problems.push(format!("KNOWN names no case of the matrix: {case:?}"));
        }
        if !ITEMS.iter().any(|(i, _)| i == n) {
            problems.push(format!("KNOWN cites no item of issue 12: #{n} ({case:?})"));
        }
    }
    for (case, ..) in SMBCLIENT_DIFFERS {
        if !rows.iter().any(|r| r.case == *case) {
            problems.push(format!(
                "SMBCLIENT_DIFFERS names no case of the matrix: {case:?}"
            ));
        }
        if known_item(case).is_some() {
            problems.push(format!("{case:?} is in KNOWN and SMBCLIENT_DIFFERS"));
        }
    }
    for r in &rows {
        if let Some((want, _)) = differs(&r.case) {
            if r.unexpected() {
                problems.push(format!(
                    "{:?}: listed in SMBCLIENT_DIFFERS with the probe giving {want:?}, but \
                     smbclient {:?}, probe {:?}",
                    r.case, r.smbclient, r.probe
                ));
            }
            continue;
        }
        match (r.agree(), known_item(&r.case)) {
            (true, Some(n)) => problems.push(format!(
                "{:?} agrees now (issue 12 #{n} fixed?): move it off KNOWN",
                r.case
            )),
            (false, None) => problems.push(format!(
                "{:?}: smbclient {:?}, probe {:?}",
                r.case, r.smbclient, r.probe
            )),
            _ => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the matrix of {} cases (table: {}):\n{}",
        problems.len(),
        rows.len(),
        out.display(),
        problems.join("\n")
    );
}

#[test]
fn smbclient_messages_give_phase_and_status() {
    let v = smbclient_verdict(false, "session setup failed: NT_STATUS_LOGON_FAILURE\n");
    assert_eq!(
        (v.outcome.as_str(), v.phase.as_str(), v.status.as_str()),
        ("CRITICAL", "session_setup", "STATUS_LOGON_FAILURE")
    );
    let v = smbclient_verdict(false, "tree connect failed: NT_STATUS_BAD_NETWORK_NAME\n");
    assert_eq!(
        (v.phase.as_str(), v.status.as_str()),
        ("tree_connect", "STATUS_BAD_NETWORK_NAME")
    );
    let v = smbclient_verdict(
        false,
        "protocol negotiation failed: NT_STATUS_NOT_SUPPORTED\n",
    );
    assert_eq!(
        (v.phase.as_str(), v.status.as_str()),
        ("negotiate", "STATUS_NOT_SUPPORTED")
    );
    let v = smbclient_verdict(
        false,
        "do_connect: Connection to 127.0.0.1 failed (Error NT_STATUS_CONNECTION_REFUSED)\n",
    );
    assert_eq!(
        (v.phase.as_str(), v.status.as_str()),
        ("connect", "STATUS_CONNECTION_REFUSED")
    );
    assert_eq!(
        smbclient_verdict(true, "Anonymous login successful\n"),
        Verdict::ok()
    );
    let json = r#"{"failure":{"phase":"session_setup","status":"STATUS_LOGON_FAILURE (0xc000006d)"},"status":"CRITICAL"}"#;
    assert_eq!(
        probe_verdict(Some(2), json, ""),
        smbclient_verdict(false, "session setup failed: NT_STATUS_LOGON_FAILURE")
    );
    assert_eq!(
        probe_verdict(Some(3), "", "bad share name").outcome,
        "UNKNOWN"
    );
}

/// Each name of the probe's status table is Samba's for that code — smbclient prints Samba's
/// name after an `NT_` — so the matrix compares like with like and an administrator reads the
/// same name from both. The only codes Samba 4.17 does not name are MS-ERREF's SMB 3.1.1
/// negotiation statuses (smbclient prints those as numbers).
#[test]
fn status_names_are_smbclients() {
    // python3-samba (a dependency of samba) installs Samba's table for the system Python.
    let mut c = Command::new("/usr/bin/python3");
    c.args([
        "-c",
        "import samba.ntstatus as n\n\
         for k in dir(n):\n    \
         if k.startswith('NT_STATUS_'): print(getattr(n, k) & 0xffffffff, k)",
    ]);
    let out = output_within(&mut c, b"", CLIENT_LIMIT).expect("python3 ended");
    assert!(
        out.status.success(),
        "Samba's status table (/usr/bin/python3, apt-get install python3-samba): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samba: Vec<(u32, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let (code, name) = l.split_once(' ').unwrap();
            (
                code.parse().unwrap(),
                name.trim_start_matches("NT_").to_owned(),
            )
        })
        .collect();
    assert!(samba.len() > 1000, "{} names from Samba", samba.len());
    let table = clp_fsmon::probe::smb::status::table();
    assert!(
        table.len() > 150,
        "{} names in the probe's table",
        table.len()
    );
    let mut problems = Vec::new();
    for (code, name) in table {
        let theirs: Vec<&str> = samba
            .iter()
            .filter(|(c, _)| c == code)
            .map(|(_, n)| n.as_str())
            .collect();
        let unnamed_by_samba = (0xc05d_0000..=0xc05d_0003).contains(code);
        match (theirs.is_empty(), unnamed_by_samba) {
            (true, true) => {}
            (false, false) if theirs.contains(name) => {}
            _ => problems.push(format!("{code:#010x}: probe {name}, Samba {theirs:?}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Without the venv, a test needing impacket fails saying how to install it.
#[test]
fn missing_impacket_names_how_to_install_it() {
    let nowhere = tempfile::tempdir().unwrap();
    let venv = nowhere.path().join("venv");
    let e = std::panic::catch_unwind(|| impacket::require_smbserver_in(&venv)).unwrap_err();
    let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
    for want in [
        "contrib/test.sh",
        "python3-venv",
        "-m venv",
        "pip install impacket==0.13.1",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg:?}");
    }
}

/// An impacket server listens on its own port, answers smbclient, and is gone (process and
/// directory) once dropped.
#[test]
fn impacket_server_serves_and_is_gone_after_drop() {
    require_tool("smbclient", "smbclient");
    let s = Impacket::start(impacket::Mode::Smb2, IMPACKET_SHARE, None);
    let (pid, port) = (s.pid(), s.port());
    let mut c = Command::new("smbclient");
    c.arg(format!("//127.0.0.1/{IMPACKET_SHARE}")).args([
        "-p",
        &port.to_string(),
        "-N",
        "-c",
        "exit",
    ]);
    let out = output_within(&mut c, b"", CLIENT_LIMIT).expect("smbclient ended");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        s.log()
    );
    let dir = s.dir().to_owned();
    drop(s);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "smbserver.py (pid {pid}) still running"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still answers"
    );
}
