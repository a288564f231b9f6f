//! `clp_sambamon` against real smbd: the SMB probe through the library (one probe per call, as the
//! monitor loop runs it) for every share kind and server flavour, and the faults the monitor
//! must tell apart (logon failure 64, bad share 62, share type 63, stall 74, crash 72).

use std::time::{Duration, Instant};

use clp_fsmon::alert::{Event, Module};
use clp_fsmon::cli::{Command, Parsed, parse};
use clp_fsmon::probe::{Probe, ProbeCtx, ProbeFailure, ProbeReport};

use crate::rig::smb::{self, Flavour, Smbd};

/// Monitor arguments as the applet would parse them (`ID` then `args`).
fn monitor_args(args: &[&str]) -> clp_fsmon::cli::MonitorArgs {
    let mut v = vec!["smb1".to_string()];
    v.extend(args.iter().map(ToString::to_string));
    match parse(Module::Sambamon, &v).unwrap() {
        Parsed::Run {
            command: Command::Monitor(m),
            ..
        } => *m,
        other => panic!("{other:?}"),
    }
}

fn probe(args: &[&str], timeout: Duration) -> Result<ProbeReport, ProbeFailure> {
    let p = clp_fsmon::applets::clp_sambamon::probe(&monitor_args(args)).expect("valid arguments");
    p.run(&ProbeCtx::new(timeout))
}

fn ok(server: &Smbd, args: &[&str]) -> ProbeReport {
    let mut a = vec!["-a", &server_addr(server)]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    a.extend(args.iter().map(ToString::to_string));
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    match probe(&a, Duration::from_secs(10)) {
        Ok(r) => r,
        Err(f) => panic!("probe failed: {f:?}\n--- smbd log ---\n{}", server.log()),
    }
}

fn fail(server: &Smbd, args: &[&str], timeout: Duration) -> ProbeFailure {
    let addr = server_addr(server);
    let mut a = vec!["-a", addr.as_str()];
    a.extend_from_slice(args);
    match probe(&a, timeout) {
        Ok(r) => panic!("probe succeeded: {r:?}"),
        Err(f) => f,
    }
}

fn server_addr(s: &Smbd) -> String {
    s.address()
}

fn phases(r: &ProbeReport) -> Vec<&'static str> {
    r.phases.iter().map(|p| p.phase).collect()
}

#[test]
fn guest_share_ok() {
    let s = Smbd::start(Flavour::Standard);
    let r = ok(&s, &["-s", smb::GUEST_SHARE]);
    assert_eq!(r.summary, "SMB 3.1.1, share disk, anonymous");
    // --check read is the default
    assert_eq!(
        phases(&r),
        [
            "connect",
            "negotiate",
            "session_setup",
            "tree_connect",
            "fs_info",
            "disconnect"
        ]
    );
}

#[test]
fn print_share_ok() {
    let s = Smbd::start(Flavour::Standard);
    let r = ok(&s, &["-s", smb::PRINT_SHARE]);
    assert!(r.summary.contains("share print"), "{}", r.summary);
}

#[test]
fn user_share_ok_with_right_password() {
    let s = Smbd::start(Flavour::Standard);
    let r = ok(
        &s,
        &["-s", smb::USER_SHARE, "-u", smb::USER, "-p", smb::PASSWORD],
    );
    assert_eq!(r.summary, "SMB 3.1.1, share disk, user, signed");
}

#[test]
fn user_share_ok_with_domain_user_and_credentials_file() {
    let s = Smbd::start(Flavour::Standard);
    let f = s.dir().join("cred");
    std::fs::write(
        &f,
        format!(
            "username = {}\npassword = {}\ndomain = CLPTEST\n",
            smb::USER,
            smb::PASSWORD
        ),
    )
    .unwrap();
    // only its owner may read it (else it is refused as an invalid parameter)
    std::fs::set_permissions(&f, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let r = ok(&s, &["-s", smb::USER_SHARE, "-A", f.to_str().unwrap()]);
    assert!(r.summary.ends_with("user, signed"), "{}", r.summary);
    let user = format!("CLPTEST\\{}", smb::USER);
    let r = ok(
        &s,
        &["-s", smb::USER_SHARE, "-u", &user, "-p", smb::PASSWORD],
    );
    assert!(r.summary.ends_with("user, signed"), "{}", r.summary);
}

#[test]
fn wrong_password_is_logon_failure_64() {
    let s = Smbd::start(Flavour::Standard);
    let f = fail(
        &s,
        &["-s", smb::USER_SHARE, "-u", smb::USER, "-p", "wrong-pass"],
        Duration::from_secs(10),
    );
    assert_eq!(f.phase, "session_setup");
    assert_eq!(f.status, "STATUS_LOGON_FAILURE (0xc000006d)");
    assert_eq!(f.alerts.len(), 1);
    assert_eq!(f.alerts[0].event, Event::ConnectError);
    assert_eq!(
        f.alerts[0].text,
        "The clp_sambamon has detected an error in Samba [data] (connect error[0xc000006d])."
    );
    assert!(!format!("{f:?}").contains("wrong-pass"));
}

#[test]
fn unknown_share_is_tree_connect_error_62() {
    let s = Smbd::start(Flavour::Standard);
    let f = fail(&s, &["-s", "nosuchshare"], Duration::from_secs(10));
    assert_eq!(f.phase, "tree_connect");
    assert_eq!(f.status, "STATUS_BAD_NETWORK_NAME (0xc00000cc)");
    assert_eq!(
        f.alerts[0].text,
        "The clp_sambamon has detected an error in Samba [nosuchshare] (tree connect error[0xc00000cc])."
    );
}

#[test]
fn user_share_as_guest_is_access_denied_62() {
    let s = Smbd::start(Flavour::Standard);
    let f = fail(&s, &["-s", smb::USER_SHARE], Duration::from_secs(10));
    assert_eq!(f.phase, "tree_connect");
    assert_eq!(f.alerts[0].event, Event::TreeConnectError);
    assert!(
        f.status.contains("ACCESS_DENIED") || f.status.contains("BAD_NETWORK_NAME"),
        "{}",
        f.status
    );
}

#[test]
fn ipc_share_is_share_type_error_63() {
    let s = Smbd::start(Flavour::Standard);
    let f = fail(&s, &["-s", "IPC$"], Duration::from_secs(10));
    assert_eq!(f.phase, "share_type");
    assert_eq!(f.status, "share type pipe");
    assert_eq!(
        f.alerts[0].text,
        "The clp_sambamon has detected an error in Samba [IPC$] (share type error)."
    );
}

#[test]
fn signing_required_server_ok() {
    let s = Smbd::start(Flavour::SigningRequired);
    let r = ok(
        &s,
        &["-s", smb::USER_SHARE, "-u", smb::USER, "-p", smb::PASSWORD],
    );
    assert_eq!(r.summary, "SMB 3.1.1, share disk, user, signed");
}

#[test]
fn encrypted_share_ok() {
    let s = Smbd::start(Flavour::Standard);
    let r = ok(
        &s,
        &[
            "-s",
            smb::ENCRYPTED_SHARE,
            "-u",
            smb::USER,
            "-p",
            smb::PASSWORD,
        ],
    );
    assert!(
        r.summary
            .starts_with("SMB 3.1.1, share disk, user, encrypted (AES-128-"),
        "{}",
        r.summary
    );
}

#[test]
fn smb1_only_server_ok() {
    let s = Smbd::start(Flavour::Smb1Only);
    let r = ok(
        &s,
        &["-s", smb::USER_SHARE, "-u", smb::USER, "-p", smb::PASSWORD],
    );
    assert!(
        r.summary.starts_with("SMB1 NT LM 0.12, share disk"),
        "{}",
        r.summary
    );
    let r = ok(&s, &["-s", smb::GUEST_SHARE]);
    assert!(
        r.summary.starts_with("SMB1 NT LM 0.12, share disk"),
        "{}",
        r.summary
    );
    let f = fail(&s, &["-s", "nosuchshare"], Duration::from_secs(10));
    assert_eq!(f.alerts[0].event, Event::TreeConnectError);
}

#[test]
fn stopped_smbd_times_out_with_74_at_the_deadline() {
    let s = Smbd::start(Flavour::Standard);
    ok(&s, &["-s", smb::GUEST_SHARE]);
    s.stop();
    for _ in 0..2 {
        let t = Instant::now();
        let f = fail(&s, &["-s", smb::GUEST_SHARE], Duration::from_secs(1));
        let took = t.elapsed();
        assert!(
            took >= Duration::from_millis(990) && took < Duration::from_millis(1300),
            "probe took {took:?}"
        );
        assert_eq!(f.alerts[0].event, Event::SelectError);
        assert_eq!(
            f.alerts[0].text,
            "The clp_sambamon has detected network error(select error[110])."
        );
        assert_eq!(f.phase, "negotiate");
    }
    s.cont();
    ok(&s, &["-s", smb::GUEST_SHARE]);
}

#[test]
fn killed_smbd_is_connect_error_72_111() {
    let mut s = Smbd::start(Flavour::Standard);
    ok(&s, &["-s", smb::GUEST_SHARE]);
    s.kill();
    let f = fail(&s, &["-s", smb::GUEST_SHARE], Duration::from_secs(2));
    assert_eq!(f.phase, "connect");
    assert_eq!(f.status, "ECONNREFUSED (111)");
    assert_eq!(
        f.alerts[0].text,
        "The clp_sambamon has detected network error(connect error[111])."
    );
}

#[test]
fn every_dialect_signs_and_encrypts() {
    for (max, dialect, cipher) in [
        ("SMB2_02", "2.0.2", None),
        ("SMB2_10", "2.1", None),
        ("SMB3_00", "3.0", Some("AES-128-CCM")),
        ("SMB3_02", "3.0.2", Some("AES-128-CCM")),
    ] {
        let s = Smbd::start_extra(
            Flavour::SigningRequired,
            &format!("server max protocol = {max}\n"),
        );
        let r = ok(
            &s,
            &["-s", smb::USER_SHARE, "-u", smb::USER, "-p", smb::PASSWORD],
        );
        assert_eq!(
            r.summary,
            format!("SMB {dialect}, share disk, user, signed")
        );
        let r = ok(&s, &["-s", smb::GUEST_SHARE]);
        assert!(
            r.summary.starts_with(&format!("SMB {dialect}, share disk")),
            "{}",
            r.summary
        );
        let enc = probe(
            &[
                "-a",
                &s.address(),
                "-s",
                smb::ENCRYPTED_SHARE,
                "-u",
                smb::USER,
                "-p",
                smb::PASSWORD,
            ],
            Duration::from_secs(10),
        );
        match cipher {
            Some(c) => assert_eq!(
                enc.map_or_else(|f| format!("{f:?}"), |r| r.summary),
                format!("SMB {dialect}, share disk, user, encrypted ({c})")
            ),
            // 2.x cannot encrypt: the share refuses the tree connect.
            None => assert_eq!(enc.unwrap_err().alerts[0].event, Event::TreeConnectError),
        }
    }
}

#[test]
fn wrong_password_on_smb1_is_64() {
    let s = Smbd::start(Flavour::Smb1Only);
    let f = fail(
        &s,
        &["-s", smb::USER_SHARE, "-u", smb::USER, "-p", "nope"],
        Duration::from_secs(10),
    );
    assert_eq!(f.phase, "session_setup");
    assert_eq!(f.status, "STATUS_LOGON_FAILURE (0xc000006d)");
    assert_eq!(f.alerts[0].event, Event::ConnectError);
}

#[test]
fn netbios_session_on_port_139() {
    // Port 139 of the server's own host: a production smbd on this machine holds 139 too.
    let s = Smbd::start_in_netns_on(Flavour::Standard, 139);
    let r = ok(&s, &["-s", smb::GUEST_SHARE]);
    assert!(
        r.summary.starts_with("SMB 3.1.1, share disk"),
        "{}",
        r.summary
    );
    assert!(s.address().ends_with(":139"), "{}", s.address());
}

/// smbclient with `args` against `//IP/SHARE` on the server's port: `Ok(())` or the
/// `NT_STATUS_…` name it printed.
fn smbclient(server: &Smbd, share: &str, args: &[&str]) -> Result<(), String> {
    let addr = server.address();
    let (ip, port) = addr.rsplit_once(':').unwrap();
    let out = std::process::Command::new("smbclient")
        .arg(format!("//{ip}/{share}"))
        .args(["-p", port, "-c", "exit"])
        .args(args)
        .output()
        .expect("smbclient (apt-get install smbclient)");
    if out.status.success() {
        return Ok(());
    }
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let status = text
        .split_whitespace()
        .find(|w| w.starts_with("NT_STATUS_"))
        .unwrap_or_else(|| panic!("smbclient failed without an NT status:\n{text}"));
    Err(status.to_owned())
}

/// The probe's verdict equals smbclient's on the same share and credentials: OK for a guest and
/// a user logon, the same NT status for a missing share, a wrong password and an unknown user.
/// (How fast each is: benches/bench.sh.)
#[test]
fn sambamon_verdict_equals_smbclient() {
    let s = Smbd::start(Flavour::Standard);
    let pass = format!("{}%{}", smb::USER, smb::PASSWORD);
    let wrong = format!("{}%wrong-password", smb::USER);
    let cases: [(&str, Vec<&str>, Vec<&str>); 5] = [
        (smb::GUEST_SHARE, vec!["-N"], vec![]),
        (
            smb::USER_SHARE,
            vec!["-U", &pass],
            vec!["-u", smb::USER, "-p", smb::PASSWORD],
        ),
        ("nosuchshare", vec!["-N"], vec![]),
        (
            smb::USER_SHARE,
            vec!["-U", &wrong],
            vec!["-u", smb::USER, "-p", "wrong-password"],
        ),
        (
            smb::USER_SHARE,
            vec!["-U", "nosuchuser%x"],
            vec!["-u", "nosuchuser", "-p", "x"],
        ),
    ];
    for (share, client_args, probe_args) in cases {
        let want = smbclient(&s, share, &client_args);
        let mut a = vec!["-a", &server_addr(&s), "-s", share]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        a.extend(probe_args.iter().map(|x| (*x).to_owned()));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let got = probe(&a, Duration::from_secs(10));
        match (&want, &got) {
            (Ok(()), Ok(_)) => {}
            (Err(nt), Err(f)) => {
                let name = nt.trim_start_matches("NT_");
                assert!(
                    f.status.starts_with(name),
                    "{share} {probe_args:?}: smbclient {nt}, probe {f:?}"
                );
            }
            _ => panic!("{share} {probe_args:?}: smbclient {want:?}, probe {got:?}"),
        }
    }
}

#[test]
fn smb1_only_server_requiring_signing_ok() {
    let s = Smbd::start_extra(Flavour::Smb1Only, "server signing = mandatory\n");
    let r = ok(
        &s,
        &["-s", smb::USER_SHARE, "-u", smb::USER, "-p", smb::PASSWORD],
    );
    assert_eq!(r.summary, "SMB1 NT LM 0.12, share disk, user, signed");
    let r = ok(&s, &["-s", smb::GUEST_SHARE]);
    assert!(
        r.summary.starts_with("SMB1 NT LM 0.12, share disk"),
        "{}",
        r.summary
    );
}

// ---- Through the real `clp_sambamon` link (runtime + probe) ----

use crate::rig::Sandbox;

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The password from the environment (the way to keep it out of `ps` without a file), given
/// to the applet's own process: a user logon that works with it and fails without it.
#[test]
fn password_from_environment() {
    let s = Smbd::start(Flavour::Standard);
    let sb = Sandbox::licensed();
    let addr = s.address();
    let args = [
        "e1",
        "-s",
        smb::USER_SHARE,
        "-u",
        smb::USER,
        "-a",
        &addr,
        "--once",
    ];
    let out = sb
        .cmd("clp_sambamon")
        .args(args)
        .env(clp_fsmon::probe::smb::PASSWORD_ENV, smb::PASSWORD)
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("SMB 3.1.1, share disk, user, signed"),
        "{text}"
    );
    let out = sb
        .cmd("clp_sambamon")
        .args(args)
        .env_remove(clp_fsmon::probe::smb::PASSWORD_ENV)
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("STATUS_LOGON_FAILURE"), "{text}");
}

#[test]
fn once_prints_dialect_and_phases_and_exits_like_a_plugin() {
    let s = Smbd::start(Flavour::Standard);
    let sb = Sandbox::licensed();
    let addr = s.address();
    let out = sb
        .cmd("clp_sambamon")
        .args(["o1", "-s", smb::GUEST_SHARE, "-a", &addr, "--once"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("OK") && text.contains("SMB 3.1.1"), "{text}");
    let out = sb
        .cmd("clp_sambamon")
        .args(["o1", "-s", "nosuchshare", "-a", &addr, "--once", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout_of(&out));
    let v: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    let text = v.to_string();
    assert!(
        text.contains("STATUS_BAD_NETWORK_NAME (0xc00000cc)"),
        "{text}"
    );
    assert!(
        text.contains("tree_connect") && text.contains("SMB 3.1.1"),
        "{text}"
    );
}

#[test]
fn stalled_smbd_is_a_fault_after_exactly_c_probes_each_cut_at_r() {
    let s = Smbd::start(Flavour::Standard);
    let sb = Sandbox::licensed();
    let addr = s.address();
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &[
            "st1",
            "-s",
            smb::GUEST_SHARE,
            "-a",
            &addr,
            "-i",
            "1",
            "-c",
            "3",
            "-r",
            "1",
        ],
        None,
    );
    assert!(
        sb.wait_event(2, Duration::from_secs(10)),
        "{}",
        sb.alert_log()
    );
    s.stop();
    let t = Instant::now();
    let code = m.wait_exit(Duration::from_secs(20));
    let took = t.elapsed();
    assert_eq!(
        code,
        Some(1),
        "monitor did not end with the fault code: {}",
        m.stderr()
    );
    // Three probes of 1 s each and two 1 s intervals between them (the first may start up to
    // one interval after the stop).
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(8),
        "{took:?}"
    );
    let ids = sb.event_ids();
    assert_eq!(ids.iter().filter(|&&i| i == 74).count(), 1, "{ids:?}");
    assert!(ids.ends_with(&[74, 6]), "{ids:?}");
    let fault = sb.fault_log("sambamon");
    let failed: Vec<&str> = fault
        .lines()
        .filter(|l| l.contains("probe failed"))
        .collect();
    assert_eq!(failed.len(), 3, "{fault}");
    for (k, line) in failed.iter().enumerate() {
        assert!(
            line.contains(&format!("probe failed {}/3", k + 1)),
            "{line}"
        );
        assert!(
            line.contains("phase=negotiate") && line.contains("ETIMEDOUT (110)"),
            "{line}"
        );
    }
    s.cont();
}

#[test]
fn stop_during_a_stalled_probe_ends_the_monitor_within_a_second() {
    let s = Smbd::start(Flavour::Standard);
    let sb = Sandbox::licensed();
    let addr = s.address();
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &[
            "st2",
            "-s",
            smb::GUEST_SHARE,
            "-a",
            &addr,
            "-i",
            "1",
            "-c",
            "5",
            "-r",
            "60",
        ],
        None,
    );
    assert!(
        sb.wait_event(2, Duration::from_secs(10)),
        "{}",
        sb.alert_log()
    );
    s.stop();
    // Let the next probe start and hang on the stopped server.
    std::thread::sleep(Duration::from_millis(2500));
    let t = Instant::now();
    let out = sb
        .cmd("clp_sambamon")
        .args(["st2", "-stop"])
        .output()
        .unwrap();
    let took = t.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(1), "-stop took {took:?}");
    assert_eq!(m.wait_exit(Duration::from_secs(2)), Some(0));
    assert!(sb.event_ids().contains(&3), "{}", sb.alert_log());
    s.cont();
}

#[test]
fn killed_smbd_is_72_then_6_and_the_password_is_nowhere() {
    let mut s = Smbd::start(Flavour::Standard);
    let sb = Sandbox::licensed();
    let addr = s.address();
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &[
            "k1",
            "-s",
            smb::USER_SHARE,
            "-a",
            &addr,
            "-u",
            smb::USER,
            "-p",
            smb::PASSWORD,
            "-i",
            "1",
            "-c",
            "2",
            "-r",
            "2",
        ],
        None,
    );
    assert!(
        sb.wait_event(2, Duration::from_secs(10)),
        "{}",
        sb.alert_log()
    );
    // Resident memory of a running monitor, for the record.
    let rss = std::fs::read_to_string(format!("/proc/{}/status", m.pid()))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .map(str::to_owned)
        .unwrap();
    eprintln!("clp_sambamon monitor {rss}");
    s.kill();
    assert_eq!(
        m.wait_exit(Duration::from_secs(10)),
        Some(1),
        "{}",
        m.stderr()
    );
    let alerts = sb.alerts();
    let last: Vec<(u16, &str)> = alerts
        .iter()
        .rev()
        .take(2)
        .map(|a| (a.2, a.3.as_str()))
        .collect();
    assert_eq!(
        last,
        [
            (6, "The clp_sambamon will terminate."),
            (
                72,
                "The clp_sambamon has detected network error(connect error[111])."
            ),
        ]
    );
    // Nothing the monitor wrote (alert log, fault log, registry, sockets' dirs) holds the password.
    let mut leaks = Vec::new();
    let mut stack = vec![sb.path().to_path_buf()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if std::fs::read(&p).is_ok_and(|b| {
            b.windows(smb::PASSWORD.len())
                .any(|w| w == smb::PASSWORD.as_bytes())
        }) {
            leaks.push(p);
        }
    }
    assert!(leaks.is_empty(), "password found in {leaks:?}");
}

#[test]
fn unknown_user_is_mapped_to_guest() {
    // `map to guest = Bad User`: an unknown user logs on as guest and reaches the guest share.
    let s = Smbd::start(Flavour::Standard);
    let r = ok(&s, &["-s", smb::GUEST_SHARE, "-u", "nosuchuser", "-p", "x"]);
    assert_eq!(r.summary, "SMB 3.1.1, share disk, guest");
    let r = ok(&s, &["-s", smb::GUEST_SHARE]);
    assert_eq!(r.summary, "SMB 3.1.1, share disk, anonymous");
}

#[test]
fn partitioned_server_times_out_at_r_and_recovers() {
    let s = Smbd::start_in_netns(Flavour::Standard);
    ok(&s, &["-s", smb::GUEST_SHARE]);
    s.partition();
    let t = Instant::now();
    let f = fail(&s, &["-s", smb::GUEST_SHARE], Duration::from_secs(1));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(990) && took < Duration::from_millis(1300),
        "{took:?} {f:?}"
    );
    // The SYN goes unanswered: the connect itself is what times out.
    assert_eq!(f.phase, "connect");
    assert_eq!(
        f.alerts[0].text,
        "The clp_sambamon has detected network error(select error[110])."
    );
    s.heal();
    let r = ok(&s, &["-s", smb::GUEST_SHARE]);
    assert_eq!(r.summary, "SMB 3.1.1, share disk, anonymous");
}

// ---- Check levels (--check connect|read|write, issue 13) ----

/// The phases every level adds to `connect`'s.
const READ_PHASES: [&str; 1] = ["fs_info"];
const WRITE_PHASES: [&str; 6] = [
    "fs_info",
    "canary_create",
    "canary_write",
    "canary_flush",
    "canary_read",
    "canary_remove",
];

/// The phases of a successful probe at `level`.
fn level_phases(level: &str) -> Vec<&'static str> {
    let mut v = vec!["connect", "negotiate", "session_setup", "tree_connect"];
    match level {
        "read" => v.extend(READ_PHASES),
        "write" => v.extend(WRITE_PHASES),
        _ => {}
    }
    v.push("disconnect");
    v
}

/// The canary the probes of [`monitor_args`] write (its ID is `smb1`).
const CANARY: &str = ".clp-fsmon-smb1";

/// Files in `dir`, sorted.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every level succeeds with its own phases on `share` (directory `dir`) logged on with
/// `logon`, and leaves nothing in the share.
fn every_level_ok(s: &Smbd, share: &str, dir: &std::path::Path, logon: &[&str]) -> String {
    let mut summary = String::new();
    for level in ["connect", "read", "write"] {
        let mut a = vec!["-s", share, "--check", level];
        a.extend_from_slice(logon);
        let r = ok(s, &a);
        assert_eq!(phases(&r), level_phases(level), "{share} {level}");
        assert!(
            files_in(dir).is_empty(),
            "{share} {level}: {:?}",
            files_in(dir)
        );
        summary = r.summary;
    }
    // read is the default
    let mut a = vec!["-s", share];
    a.extend_from_slice(logon);
    assert_eq!(phases(&ok(s, &a)), level_phases("read"));
    summary
}

#[test]
fn every_level_is_ok_on_writable_shares_of_every_kind() {
    let s = Smbd::start_setup(
        Flavour::Standard,
        &smb::Setup {
            shares: &[(
                "sealed",
                "   valid users = clpfsmontest\n   read only = no\n   smb encrypt = required\n",
            )],
            ..smb::Setup::default()
        },
    );
    let user = ["-u", smb::USER, "-p", smb::PASSWORD];
    let sum = every_level_ok(&s, smb::GUEST_SHARE, &s.guest_dir(), &[]);
    assert_eq!(sum, "SMB 3.1.1, share disk, anonymous");
    let sum = every_level_ok(&s, smb::USER_SHARE, &s.dir().join("data"), &user);
    assert_eq!(sum, "SMB 3.1.1, share disk, user, signed");
    let sum = every_level_ok(&s, "sealed", &s.share_dir(0), &user);
    assert!(sum.contains("encrypted (AES-128-"), "{sum}");
}

#[test]
fn every_level_is_ok_on_every_dialect_signed_or_not() {
    for (flavour, extra, session) in [
        (
            Flavour::SigningRequired,
            "server max protocol = SMB2_02\n",
            "SMB 2.0.2, share disk, user, signed",
        ),
        (
            Flavour::SigningRequired,
            "server max protocol = SMB2_10\n",
            "SMB 2.1, share disk, user, signed",
        ),
        (
            Flavour::SigningRequired,
            "server max protocol = SMB3_00\n",
            "SMB 3.0, share disk, user, signed",
        ),
        (
            Flavour::Standard,
            "server max protocol = SMB3_02\n",
            "SMB 3.0.2, share disk, user, signed",
        ),
        (Flavour::Smb1Only, "", "SMB1 NT LM 0.12, share disk, user"),
        (
            Flavour::Smb1Only,
            "server signing = mandatory\n",
            "SMB1 NT LM 0.12, share disk, user, signed",
        ),
    ] {
        let s = Smbd::start_extra(flavour, extra);
        let user = ["-u", smb::USER, "-p", smb::PASSWORD];
        let sum = every_level_ok(&s, smb::USER_SHARE, &s.dir().join("data"), &user);
        assert_eq!(sum, session, "{flavour:?} {extra}");
        every_level_ok(&s, smb::GUEST_SHARE, &s.guest_dir(), &[]);
    }
}

/// `smbclient` runs `command` on `share` with `auth` (`-N`, `-U user%pass`): `Ok(())` or the
/// `NT_STATUS_…` name it printed.
fn smbclient_run(server: &Smbd, share: &str, auth: &[&str], command: &str) -> Result<(), String> {
    crate::rig::require_tool("smbclient", "smbclient");
    let addr = server.address();
    let (ip, port) = addr.rsplit_once(':').unwrap();
    let out = std::process::Command::new("smbclient")
        .arg(format!("//{ip}/{share}"))
        .args(["-p", port, "-c", command])
        .args(auth)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    match text
        .split_whitespace()
        .find(|w| w.starts_with("NT_STATUS_"))
    {
        Some(status) => Err(status.to_owned()),
        None if out.status.success() => Ok(()),
        None => panic!("smbclient {command:?} failed without an NT status:\n{text}"),
    }
}

/// What smbclient's `put` of a small file says on `share`.
fn smbclient_put(server: &Smbd, share: &str, auth: &[&str]) -> Result<(), String> {
    let local = server.dir().join("put-source");
    std::fs::write(&local, "smbclient put\n").unwrap();
    smbclient_run(
        server,
        share,
        auth,
        &format!("put {} smbclient-put; rm smbclient-put", local.display()),
    )
}

/// A write-level failure at `phase` with `status` (`STATUS_X (0x…)`), its one alert event 66
/// "I/O error" naming the share and the status number.
fn assert_io_error(f: &ProbeFailure, share: &str, phase: &str, status: &str) {
    assert_eq!(f.phase, phase, "{f:?}");
    assert_eq!(f.status, status, "{f:?}");
    let code = status
        .rsplit_once('(')
        .map(|(_, c)| c.trim_end_matches(')'))
        .unwrap();
    assert_eq!(f.alerts.len(), 1, "{f:?}");
    assert_eq!(f.alerts[0].event, Event::NfsError);
    assert_eq!(
        f.alerts[0].text,
        format!("The clp_sambamon has detected an error in Samba [{share}] (I/O error[{code}]).")
    );
}

#[test]
fn read_only_share_passes_read_and_fails_write_as_smbclient_put_does() {
    let s = Smbd::start_setup(
        Flavour::Standard,
        &smb::Setup {
            shares: &[("ro", "   guest ok = yes\n   read only = yes\n")],
            ..smb::Setup::default()
        },
    );
    std::fs::write(
        s.share_dir(0).join("kept"),
        "a file the probe must not touch",
    )
    .unwrap();
    for level in ["connect", "read"] {
        assert_eq!(
            phases(&ok(&s, &["-s", "ro", "--check", level])),
            level_phases(level)
        );
    }
    let f = fail(
        &s,
        &["-s", "ro", "--check", "write"],
        Duration::from_secs(10),
    );
    // The reference client is refused with the same status.
    let nt = smbclient_put(&s, "ro", &["-N"]).unwrap_err();
    assert_eq!(nt, "NT_STATUS_ACCESS_DENIED");
    assert_io_error(
        &f,
        "ro",
        "canary_create",
        "STATUS_ACCESS_DENIED (0xc0000022)",
    );
    assert_eq!(
        f.phases.iter().map(|p| p.phase).collect::<Vec<_>>(),
        [
            "connect",
            "negotiate",
            "session_setup",
            "tree_connect",
            "fs_info",
            "canary_create"
        ]
    );
    assert_eq!(files_in(&s.share_dir(0)), ["kept"]);
}

#[test]
fn directory_without_write_permission_fails_write_as_smbclient_put_does() {
    use std::os::unix::fs::PermissionsExt;
    let s = Smbd::start(Flavour::Standard);
    let dir = s.guest_dir();
    every_level_ok(&s, smb::GUEST_SHARE, &dir, &[]);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    ok(&s, &["-s", smb::GUEST_SHARE, "--check", "read"]);
    let f = fail(
        &s,
        &["-s", smb::GUEST_SHARE, "--check", "write"],
        Duration::from_secs(10),
    );
    let nt = smbclient_put(&s, smb::GUEST_SHARE, &["-N"]).unwrap_err();
    assert_eq!(
        format!("STATUS_{}", nt.trim_start_matches("NT_STATUS_")),
        "STATUS_ACCESS_DENIED"
    );
    assert_io_error(
        &f,
        smb::GUEST_SHARE,
        "canary_create",
        "STATUS_ACCESS_DENIED (0xc0000022)",
    );
    // Writable again: OK again, nothing left.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    ok(&s, &["-s", smb::GUEST_SHARE, "--check", "write"]);
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
}

/// A canary left by a server that died with it open (the file is there, with bytes, owned by
/// the probe's user) is removed by the next probe, which then makes its own, on SMB2 and SMB1;
/// so is one named by `--canary`. The probe is anonymous: a session that may not write the
/// leftover (it is not its owner to Samba) may still delete it.
#[test]
fn leftover_canary_is_removed_by_the_next_probe() {
    for flavour in [Flavour::Standard, Flavour::Smb1Only] {
        let s = Smbd::start(flavour);
        let dir = s.guest_dir();
        for (name, extra) in [
            (CANARY, &[][..]),
            ("mine.tmp", &["--canary", "mine.tmp"][..]),
        ] {
            let left = dir.join(name);
            std::fs::write(
                &left,
                "clp-fsmon canary of a probe cut short, and more bytes\n",
            )
            .unwrap();
            // The guest account's, as the cut probe's would be (the share directory is sticky).
            let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
            nix::unistd::chown(&left, Some(nobody.uid), None).unwrap();
            let addr = s.address();
            let mut a = vec!["-a", &addr, "-s", smb::GUEST_SHARE, "--check", "write"];
            a.extend_from_slice(extra);
            let r = probe(&a, Duration::from_secs(10))
                .unwrap_or_else(|f| panic!("{flavour:?} {name}: {f:?}\n{}", s.log()));
            assert_eq!(phases(&r), level_phases("write"));
            assert!(
                files_in(&dir).is_empty(),
                "{flavour:?} {name}: {:?}",
                files_in(&dir)
            );
        }
    }
}

/// Storage that turns read-only under smbd (a read-only bind mount over the share's directory,
/// in smbd's mount namespace): connect and read still pass, write fails at the canary's
/// CREATE with the status smbclient's put gets.
#[test]
fn read_only_storage_fails_write_with_media_write_protected() {
    let s = Smbd::start(Flavour::Standard);
    let dir = s.guest_dir();
    s.in_mount_ns(&format!(
        "mount --bind {d} {d} && mount -o remount,bind,ro {d}",
        d = dir.display()
    ));
    for level in ["connect", "read"] {
        ok(&s, &["-s", smb::GUEST_SHARE, "--check", level]);
    }
    let f = fail(
        &s,
        &["-s", smb::GUEST_SHARE, "--check", "write"],
        Duration::from_secs(10),
    );
    let nt = smbclient_put(&s, smb::GUEST_SHARE, &["-N"]).unwrap_err();
    assert_eq!(nt, "NT_STATUS_MEDIA_WRITE_PROTECTED");
    assert_io_error(
        &f,
        smb::GUEST_SHARE,
        "canary_create",
        "STATUS_MEDIA_WRITE_PROTECTED (0xc00000a2)",
    );
}

/// Full storage (a small tmpfs over the share's directory in smbd's mount namespace, filled):
/// the canary is created but its WRITE fails with `DISK_FULL`, as smbclient's put does; the
/// canary is removed all the same.
#[test]
fn full_storage_fails_write_with_disk_full() {
    let s = Smbd::start(Flavour::Standard);
    let dir = s.guest_dir();
    s.in_mount_ns(&format!(
        "mount -t tmpfs -o size=64k,mode=1777 clpfsmon-full {d} && \
         (dd if=/dev/zero of={d}/filler bs=4k 2>/dev/null || true) && test -s {d}/filler",
        d = dir.display()
    ));
    ok(&s, &["-s", smb::GUEST_SHARE, "--check", "read"]);
    let f = fail(
        &s,
        &["-s", smb::GUEST_SHARE, "--check", "write"],
        Duration::from_secs(10),
    );
    let nt = smbclient_put(&s, smb::GUEST_SHARE, &["-N"]).unwrap_err();
    assert_eq!(nt, "NT_STATUS_DISK_FULL");
    assert_io_error(
        &f,
        smb::GUEST_SHARE,
        "canary_write",
        "STATUS_DISK_FULL (0xc000007f)",
    );
    let fs = f
        .detail
        .iter()
        .find(|(k, _)| *k == "fs_size")
        .map(|(_, v)| v.as_str());
    assert!(fs.is_some_and(|v| v.starts_with("0 of ")), "{:?}", f.detail);
    s.in_mount_ns(&format!(
        "ls -A {} > {}/after",
        dir.display(),
        s.dir().display()
    ));
    let after = std::fs::read_to_string(s.dir().join("after")).unwrap();
    assert_eq!(after.trim(), "filler", "the canary is gone");
}

/// A probe cut at `-r` in the middle of its canary steps (a proxy holds every reply of the
/// server for 250 ms: the canary is created after about 1.5 s and removed after about 2.5 s,
/// the deadline is 2 s) is a timeout (event 74) in a canary phase; smbd deletes the canary when
/// the connection goes, and the next probe is OK.
#[test]
fn probe_cut_during_the_canary_leaves_no_file() {
    use crate::rig::proxy::DelayProxy;
    let s = Smbd::start(Flavour::Standard);
    let dir = s.guest_dir();
    let proxy = DelayProxy::start(s.address().parse().unwrap(), Duration::from_millis(250));
    let paddr = proxy.address();
    let a = ["-a", &paddr, "-s", smb::GUEST_SHARE, "--check", "write"];
    let t = Instant::now();
    let f = probe(&a, Duration::from_secs(2)).unwrap_err();
    let took = t.elapsed();
    assert!(took < Duration::from_millis(2300), "{took:?}");
    assert!(
        [
            "canary_write",
            "canary_flush",
            "canary_read",
            "canary_remove"
        ]
        .contains(&f.phase),
        "{f:?}"
    );
    assert_eq!(f.alerts[0].event, Event::SelectError, "{f:?}");
    assert!(f.status.starts_with("ETIMEDOUT (110)"), "{}", f.status);
    drop(proxy);
    assert!(
        crate::rig::wait_until(Duration::from_secs(10), || files_in(&dir).is_empty()),
        "left behind: {:?}",
        files_in(&dir)
    );
    assert_eq!(
        phases(&ok(&s, &["-s", smb::GUEST_SHARE, "--check", "write"])),
        level_phases("write")
    );
    assert!(files_in(&dir).is_empty());
}

/// `read` costs one round trip over `connect` and `write` six (issue 13, item 5), on SMB2
/// (`fs_info` is the CREATE, `QUERY_INFO` and CLOSE compound) and SMB1 (TRANS2 alone): the
/// requests a probe sends through a proxy, which the probe sends one at a time, each after the
/// reply to the one before. (Round trips are counted, not timed: smbd may send an interim
/// reply before the final one of a WRITE or FLUSH, which costs the client no round trip.)
#[test]
fn read_costs_one_round_trip_over_connect() {
    use crate::rig::proxy::DelayProxy;
    for flavour in [Flavour::Standard, Flavour::Smb1Only] {
        let s = Smbd::start(flavour);
        let proxy = DelayProxy::start(s.address().parse().unwrap(), Duration::ZERO);
        let paddr = proxy.address();
        let requests = |level: &str| {
            let before = proxy.requests();
            let a = ["-a", &paddr, "-s", smb::GUEST_SHARE, "--check", level];
            probe(&a, Duration::from_secs(10)).unwrap();
            // Counted as the proxy reads them, before they are forwarded and answered.
            proxy.requests() - before
        };
        let connect = requests("connect");
        eprintln!("{flavour:?}: connect {connect} requests");
        assert!(connect >= 6, "{flavour:?}: {connect}");
        for (level, extra) in [("read", 1), ("write", 6)] {
            assert_eq!(requests(level), connect + extra, "{flavour:?} {level}");
        }
    }
}

/// Every level against impacket's smbserver.py (an SMB server written from the specifications,
/// not from Samba) with SMB2, and without SMB2 (reached by the SMB1 fallback after its SMB2
/// error to NEGOTIATE): OK as smbclient's `put` is, and nothing left in the shared directory.
#[test]
fn every_level_is_ok_on_impacket() {
    use crate::rig::impacket::{Impacket, Mode};
    for (mode, proto) in [(Mode::Smb2, "SMB2"), (Mode::Smb1, "NT1")] {
        let s = Impacket::start(mode, "pub", None);
        let dir = s.dir().join("share");
        let addr = s.address();
        for level in ["connect", "read", "write"] {
            let a = ["-a", &addr, "-s", "pub", "--check", level];
            let r = probe(&a, Duration::from_secs(10))
                .unwrap_or_else(|f| panic!("{mode:?} {level}: {f:?}\n{}", s.log()));
            assert_eq!(phases(&r), level_phases(level), "{mode:?}");
            assert!(
                files_in(&dir).is_empty(),
                "{mode:?} {level}: {:?}",
                files_in(&dir)
            );
        }
        let local = s.dir().join("put-source");
        std::fs::write(&local, "smbclient put\n").unwrap();
        let (ip, port) = addr.rsplit_once(':').unwrap();
        let out = std::process::Command::new(crate::rig::require_tool("smbclient", "smbclient"))
            .arg(format!("//{ip}/pub"))
            .args(["-p", port, "-N", "-m", proto])
            // smbclient's own floor is SMB2_02: an SMB1 server needs it lowered.
            .args((mode == Mode::Smb1).then_some("--option=client min protocol=NT1"))
            .arg("-c")
            .arg(format!(
                "put {} smbclient-put; rm smbclient-put",
                local.display()
            ))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(!text.contains("NT_STATUS_"), "{mode:?} smbclient: {text}");
    }
}

/// Through the real binary: `--check write` on a read-only share is CRITICAL at
/// `canary_create` in `--once --json` (with the level), and a monitor raises event 66 with the
/// NT status, then 6, and logs the phase and the level in its fault log.
#[test]
fn write_failure_is_event_66_in_the_alert_and_fault_logs() {
    let s = Smbd::start_setup(
        Flavour::Standard,
        &smb::Setup {
            shares: &[("ro", "   guest ok = yes\n   read only = yes\n")],
            ..smb::Setup::default()
        },
    );
    let sb = Sandbox::licensed();
    let addr = s.address();
    let out = sb
        .cmd("clp_sambamon")
        .args([
            "w1", "-s", "ro", "-a", &addr, "--check", "write", "--once", "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout_of(&out));
    let v: serde_json::Value = serde_json::from_str(stdout_of(&out).trim()).unwrap();
    assert_eq!(v["check"], "write", "{v}");
    let text = v.to_string();
    assert!(
        text.contains("canary_create") && text.contains("STATUS_ACCESS_DENIED (0xc0000022)"),
        "{text}"
    );
    let mut m = sb.spawn_monitor(
        "clp_sambamon",
        &[
            "w2", "-s", "ro", "-a", &addr, "--check", "write", "-i", "1", "-c", "1", "-r", "5",
        ],
        None,
    );
    assert_eq!(
        m.wait_exit(Duration::from_secs(20)),
        Some(1),
        "{}",
        m.stderr()
    );
    let alerts = sb.alerts();
    let last: Vec<(u16, &str)> = alerts
        .iter()
        .rev()
        .take(2)
        .map(|a| (a.2, a.3.as_str()))
        .collect();
    assert_eq!(
        last,
        [
            (6, "The clp_sambamon will terminate."),
            (
                66,
                "The clp_sambamon has detected an error in Samba [ro] (I/O error[0xc0000022])."
            ),
        ]
    );
    let fault = sb.fault_log("sambamon");
    assert!(
        fault.contains("phase=canary_create")
            && fault.contains("check=write")
            && fault.contains("STATUS_ACCESS_DENIED"),
        "{fault}"
    );
    assert_eq!(files_in(&s.share_dir(0)), Vec::<String>::new());
}
