//! Kerberos logons of `clp_sambamon` (issue 17) against a real Samba AD domain controller with
//! NTLM disabled (tests/rig/addc.rs: its own realm, DNS, namespace and directories), each case
//! beside the reference: `kinit -k -t KEYTAB` (or the same credential cache) and `smbclient
//! --use-kerberos=required` (Samba 4.17's spelling; `-k` is deprecated), whose verdict must be
//! the probe's.
//!
//! The probe runs through its applet link in a licensed sandbox, inside the rig's client
//! namespace (the DC's DNS in /etc/resolv.conf, the DC's krb5.conf in `KRB5_CONFIG`), with
//! `--once --json`. A Kerberos failure is the probe's phase `kerberos`, with MIT's words and an
//! NT status of its own: smbclient reports the same failures as `session setup failed`, so for
//! those the verdicts compared are OK or CRITICAL (and kinit says why in MIT's same words).
//!
//! The clock skew is made with faketime (`LD_PRELOAD`) on the client's processes only, two hours
//! ahead: this machine's clock is never touched, and a time namespace (`unshare --time`) cannot
//! do it, as it shifts the monotonic and boot clocks, not the real-time clock Kerberos reads.
//! MIT corrects a client's clock by the KDC's (`kdc_timesync`, on by default): with the default
//! krb5.conf the skewed client still logs on, the probe and kinit + smbclient alike; with
//! `kdc_timesync = 0` the KDC's "Clock skew too great" is the failure.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::rig::addc::{self, DC_HOST, DOMAIN, Dc, GONE, PASSWORD, REALM, STALE};
use crate::rig::{Sandbox, output_within, require_tool};

/// The test user.
const USER: &str = "kuser";

/// What one client concluded.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    ok: bool,
    phase: String,
    status: String,
}

/// How a probe or client runs: its krb5.conf, its credential cache, a clock offset.
#[derive(Clone, Copy, Default)]
struct Env<'a> {
    /// A krb5.conf other than the DC's default one.
    conf: Option<&'a Path>,
    ccache: Option<&'a str>,
    skew: Option<&'a str>,
}

fn command(dc: &Dc, env: Env<'_>, program: &Path) -> Command {
    let mut c = match env.skew {
        Some(offset) => {
            let mut c = dc.client(&require_tool("faketime", "faketime"));
            c.args(["-f", offset])
                .arg(program)
                .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
            c
        }
        None => dc.client(program),
    };
    if let Some(conf) = env.conf {
        c.env("KRB5_CONFIG", conf);
    }
    if let Some(cc) = env.ccache {
        c.env("KRB5CCNAME", cc);
    }
    c
}

/// `clp_sambamon k1 -s SHARE -a DC_HOST ARGS --once --json`: the verdict, the output and how
/// long it took.
fn probe(
    dc: &Dc,
    sb: &Sandbox,
    env: Env<'_>,
    share: &str,
    args: &[&str],
) -> (Verdict, String, Duration) {
    let mut c = command(dc, env, &sb.link("clp_sambamon"));
    c.args(["k1", "-s", share, "-a", DC_HOST])
        .args(args)
        .args(["--once", "--json"])
        .env("CLP_FSMON_ROOT", sb.path())
        .env_remove("CLP_FSMON_TEST_PROBE");
    let t = Instant::now();
    let out = output_within(&mut c, b"", Duration::from_secs(60)).expect("the probe ended");
    let took = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let text = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: exit {:?}: {text}", out.status.code()));
    let verdict = match v["status"].as_str() {
        Some("OK") => Verdict {
            ok: true,
            phase: String::new(),
            status: String::new(),
        },
        Some("CRITICAL") => Verdict {
            ok: false,
            phase: v["failure"]["phase"].as_str().unwrap_or("").into(),
            status: v["failure"]["status"].as_str().unwrap_or("").into(),
        },
        other => panic!("{other:?}: {text}"),
    };
    (verdict, text, took)
}

/// `kinit -k -t KEYTAB PRINCIPAL` into `ccache`: whether it worked, and what it said.
fn kinit(dc: &Dc, env: Env<'_>, keytab: &Path, principal: &str) -> (bool, String) {
    let mut c = command(dc, env, &require_tool("kinit", "krb5-user"));
    c.args(["-k", "-t"]).arg(keytab).arg(principal);
    let out = output_within(&mut c, b"", Duration::from_secs(60)).expect("kinit ended");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `smbclient //DC_HOST/SHARE ARGS -c exit`: OK, or the phase and NT status it names.
fn smbclient(dc: &Dc, env: Env<'_>, share: &str, args: &[&str]) -> (Verdict, String) {
    let mut c = command(dc, env, &require_tool("smbclient", "smbclient"));
    c.arg(format!("//{DC_HOST}/{share}"))
        .arg("-s")
        .arg(dc.client_conf())
        .args(args)
        .args(["-c", "exit"]);
    let out = output_within(&mut c, b"", Duration::from_secs(60)).expect("smbclient ended");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let status = text
        .split_whitespace()
        .find(|w| w.starts_with("NT_STATUS_"))
        .unwrap_or("")
        .trim_start_matches("NT_")
        .to_owned();
    let phase = if text.contains("session setup failed") {
        "session_setup"
    } else if text.contains("tree connect failed") {
        "tree_connect"
    } else {
        ""
    };
    let v = Verdict {
        ok: out.status.success(),
        phase: if out.status.success() {
            String::new()
        } else {
            phase.into()
        },
        status,
    };
    (v, text)
}

fn kerberos_args<'a>(dc: &'a Dc, keytab: &'a str, user: &'a str) -> Vec<String> {
    let _ = dc;
    vec![
        "--kerberos".into(),
        "--keytab".into(),
        keytab.into(),
        "-u".into(),
        user.into(),
        "-r".into(),
        "10".into(),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// With NTLM off: an NTLM logon is `NTLM_BLOCKED`; a Kerberos one from the keytab, or from a
/// credential cache, is OK, signed, and sealed on a share that requires it — with AES-256-GCM
/// only, whose keys come from the whole 32-byte Kerberos session key (Session.FullSessionKey),
/// where signing takes its first 16 bytes; each beside smbclient with the same credentials.
#[test]
fn kerberos_logs_on_where_ntlm_is_blocked() {
    let dc = Dc::start(&[USER], "\tserver smb3 encryption algorithms = AES-256-GCM");
    let sb = Sandbox::licensed();
    let env = Env::default();
    let keytab = dc.keytab(USER);
    let kt = keytab.to_str().unwrap();

    // NTLM: blocked, for the probe and for smbclient alike.
    let ntlm_user = format!("{DOMAIN}\\{USER}");
    let (p, text, _) = probe(
        &dc,
        &sb,
        env,
        addc::SHARE,
        &["-u", &ntlm_user, "-p", PASSWORD, "-r", "10"],
    );
    assert_eq!(
        (p.ok, p.phase.as_str(), p.status.as_str()),
        (false, "session_setup", "STATUS_NTLM_BLOCKED (0xc0000418)"),
        "{text}"
    );
    let (s, stext) = smbclient(
        &dc,
        env,
        addc::SHARE,
        &[
            "-U",
            &format!("{ntlm_user}%{PASSWORD}"),
            "--use-kerberos=off",
        ],
    );
    assert_eq!(
        (s.ok, s.phase.as_str(), s.status.as_str()),
        (false, "session_setup", "STATUS_NTLM_BLOCKED"),
        "{stext}"
    );

    // Kerberos from the keytab: OK, signed (the DC requires signing), sealed where required.
    let args = kerberos_args(&dc, kt, USER);
    let (p, text, took) = probe(&dc, &sb, env, addc::SHARE, &strs(&args));
    assert!(p.ok, "{text}");
    assert!(
        text.contains("user, signed") && text.contains("kerberos"),
        "{text}"
    );
    eprintln!("kerberos keytab logon: {took:?}");
    let (p, text, _) = probe(&dc, &sb, env, addc::SEALED_SHARE, &strs(&args));
    assert!(p.ok && text.contains("encrypted (AES-256-GCM)"), "{text}");
    // The reference: kinit from the same keytab, smbclient with that ccache.
    let cc = dc.ccache("ref");
    let ref_env = Env {
        ccache: Some(&cc),
        ..env
    };
    let (ok, why) = kinit(&dc, ref_env, &keytab, &format!("{USER}@{REALM}"));
    assert!(ok, "kinit: {why}");
    for share in [addc::SHARE, addc::SEALED_SHARE] {
        let (s, stext) = smbclient(&dc, ref_env, share, &["--use-kerberos=required", "-N"]);
        assert!(s.ok, "{share}: {stext}");
    }

    // The running user's credential cache (no keytab): the same ccache smbclient used.
    let (p, text, _) = probe(
        &dc,
        &sb,
        ref_env,
        addc::SEALED_SHARE,
        &["--kerberos", "-u", &format!("{USER}@{REALM}"), "-r", "10"],
    );
    assert!(p.ok && text.contains("encrypted (AES-256-GCM)"), "{text}");
    // Without -u: the ccache's own principal.
    let (p, text, _) = probe(&dc, &sb, ref_env, addc::SHARE, &["--kerberos", "-r", "10"]);
    assert!(p.ok, "{text}");

    // A keytab that group or others may read is refused before any probe (an invalid
    // parameter), and so is a password with --kerberos.
    let loose = dc.dir().join("loose.keytab");
    std::fs::copy(&keytab, &loose).unwrap();
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    let mut c = command(&dc, env, &sb.link("clp_sambamon"));
    c.args([
        "k1",
        "-s",
        addc::SHARE,
        "-a",
        DC_HOST,
        "--kerberos",
        "--keytab",
    ])
    .arg(&loose)
    .args(["-u", USER, "--once"])
    .env("CLP_FSMON_ROOT", sb.path());
    let out = output_within(&mut c, b"", Duration::from_secs(30)).unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("mode 0640"), "{text}");
    let mut c = command(&dc, env, &sb.link("clp_sambamon"));
    c.args([
        "k1",
        "-s",
        addc::SHARE,
        "-a",
        DC_HOST,
        "--kerberos",
        "-u",
        USER,
        "-p",
        "x",
        "--once",
    ])
    .env("CLP_FSMON_ROOT", sb.path());
    let out = output_within(&mut c, b"", Duration::from_secs(30)).unwrap();
    assert_eq!(out.status.code(), Some(3));
}

/// Each way a Kerberos logon fails (stale keytab, deleted principal, a keytab without the
/// principal, no ticket, clock skew, KDC unreachable) is a failure in phase `kerberos` with
/// MIT's words and a status of its own, where the reference (kinit, then smbclient) fails too;
/// a stopped KDC fails inside `-r`, while a credential cache that holds the server's ticket
/// still logs on.
#[test]
fn kerberos_failures_have_their_own_status() {
    let dc = Dc::start(&[USER], "");
    let sb = Sandbox::licensed();
    let env = Env::default();
    let kerberos_failure = |keytab: &Path, user: &str, env: Env<'_>| {
        let kt = keytab.to_str().unwrap().to_owned();
        let args = kerberos_args(&dc, &kt, user);
        let (p, text, _) = probe(&dc, &sb, env, addc::SHARE, &strs(&args));
        assert!(!p.ok, "{text}");
        assert_eq!(p.phase, "kerberos", "{text}");
        // the reference: kinit with the same keytab fails, so smbclient has no ticket
        let cc = dc.ccache(&format!("fail-{user}"));
        let env = Env {
            ccache: Some(&cc),
            ..env
        };
        let (ok, why) = kinit(&dc, env, keytab, &format!("{user}@{REALM}"));
        assert!(!ok, "kinit worked: {why}");
        let (s, stext) = smbclient(&dc, env, addc::SHARE, &["--use-kerberos=required", "-N"]);
        assert!(!s.ok, "{stext}");
        (p.status, why)
    };

    // A stale keytab: the password changed after it was exported.
    let (status, why) = kerberos_failure(&dc.keytab(STALE), STALE, env);
    assert!(
        status.contains("Preauthentication failed")
            && status.ends_with("(STATUS_LOGON_FAILURE (0xc000006d))"),
        "{status}"
    );
    assert!(why.contains("Preauthentication failed"), "{why}");

    // A principal the domain no longer has.
    let (status, why) = kerberos_failure(&dc.keytab(GONE), GONE, env);
    assert!(
        status.contains(&format!(
            "Client '{GONE}@{REALM}' not found in Kerberos database"
        )) && status.ends_with("(STATUS_NO_SUCH_USER (0xc0000064))"),
        "{status}"
    );
    assert!(why.contains("not found in Kerberos database"), "{why}");

    // A keytab that holds no key of the principal asked for: MIT then looks for a credential
    // cache, finds none, and says so; the probe adds why it looked.
    let (status, _) = kerberos_failure(&dc.keytab(USER), STALE, env);
    assert!(
        status.contains("No credentials cache found")
            && status.contains(&format!("holds no key of {STALE}"))
            && status.ends_with("(STATUS_NO_SUCH_LOGON_SESSION (0xc000005f))"),
        "{status}"
    );

    // No ticket: an empty credential cache, no keytab.
    let empty = dc.ccache("empty");
    let none = Env {
        ccache: Some(&empty),
        ..env
    };
    let (p, text, _) = probe(&dc, &sb, none, addc::SHARE, &["--kerberos", "-r", "10"]);
    assert_eq!(p.phase, "kerberos", "{text}");
    assert!(
        p.status.contains("STATUS_NO_SUCH_LOGON_SESSION"),
        "{}",
        p.status
    );
    let (s, stext) = smbclient(&dc, none, addc::SHARE, &["--use-kerberos=required", "-N"]);
    assert!(!s.ok, "{stext}");

    // A clock two hours ahead: corrected by the KDC's time with MIT's default kdc_timesync…
    let skewed = Env {
        skew: Some("+2h"),
        ..env
    };
    let kt = dc.keytab(USER);
    let args = kerberos_args(&dc, kt.to_str().unwrap(), USER);
    let (p, text, _) = probe(&dc, &sb, skewed, addc::SHARE, &strs(&args));
    assert!(p.ok, "{text}");
    let cc = dc.ccache("skewed");
    let (ok, why) = kinit(
        &dc,
        Env {
            ccache: Some(&cc),
            ..skewed
        },
        &kt,
        &format!("{USER}@{REALM}"),
    );
    assert!(ok, "{why}");
    // …and the KDC's refusal without it.
    let nosync_conf = dc.krb5_conf_nosync();
    let no_sync = Env {
        conf: Some(&nosync_conf),
        ..skewed
    };
    let (status, why) = kerberos_failure(&kt, USER, no_sync);
    assert!(
        status.contains("Clock skew too great")
            && status.ends_with("(STATUS_TIME_DIFFERENCE_AT_DC (0xc0000133))"),
        "{status}"
    );
    assert!(why.contains("Clock skew too great"), "{why}");

    // KDC unreachable: krb5.conf names a port of the DC's host where nothing listens.
    let unreachable = dc.dir().join("krb5-unreachable.conf");
    std::fs::write(
        &unreachable,
        std::fs::read_to_string(dc.krb5_conf()).unwrap().replace(
            &format!("kdc = {}", dc.net.host.server_ip),
            &format!("kdc = {}:1", dc.net.host.server_ip),
        ),
    )
    .unwrap();
    let (status, why) = kerberos_failure(
        &kt,
        USER,
        Env {
            conf: Some(&unreachable),
            ..env
        },
    );
    assert!(
        status.contains(&format!("Cannot contact any KDC for realm '{REALM}'"))
            && status.ends_with("(STATUS_NO_LOGON_SERVERS (0xc000005e))"),
        "{status}"
    );
    assert!(why.contains("Cannot contact any KDC"), "{why}");

    // A credential cache holding the server's ticket (smbclient's logon put it there)…
    let cc = dc.ccache("held");
    let held = Env {
        ccache: Some(&cc),
        ..env
    };
    let (ok, why) = kinit(&dc, held, &kt, &format!("{USER}@{REALM}"));
    assert!(ok, "{why}");
    let (s, stext) = smbclient(&dc, held, addc::SHARE, &["--use-kerberos=required", "-N"]);
    assert!(s.ok, "{stext}");

    // A stopped KDC: the keytab's logon needs it, and fails inside -r in phase kerberos.
    let kdc = dc.kdc_pids();
    Dc::signal(&kdc, Signal::SIGSTOP);
    let args = vec![
        "--kerberos",
        "--keytab",
        kt.to_str().unwrap(),
        "-u",
        USER,
        "-r",
        "3",
    ];
    let (p, text, took) = probe(&dc, &sb, env, addc::SHARE, &args);
    // …while the cache's ticket for the server needs no KDC, for the probe and smbclient.
    let (held_probe, held_text, _) = probe(&dc, &sb, held, addc::SHARE, &["--kerberos", "-r", "5"]);
    let (s, stext) = smbclient(&dc, held, addc::SHARE, &["--use-kerberos=required", "-N"]);
    Dc::signal(&kdc, Signal::SIGCONT);
    assert!(!p.ok, "{text}");
    assert_eq!(p.phase, "kerberos", "{text}");
    assert!(p.status.starts_with("ETIMEDOUT (110)"), "{}", p.status);
    eprintln!("stopped KDC, -r 3: CRITICAL after {took:?}");
    assert!(took < Duration::from_millis(4500), "{took:?}: {text}");
    assert!(held_probe.ok, "{held_text}");
    assert!(s.ok, "{stext}");
}
