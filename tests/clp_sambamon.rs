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
    assert_eq!(
        phases(&r),
        [
            "connect",
            "negotiate",
            "session_setup",
            "tree_connect",
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
