//! `clp_nfsmon` against real NFS-Ganesha servers (see `rig::nfs`): each test starts its own server in
//! its own network namespace, so they run in parallel; faults are real (rpcbind killed, Ganesha
//! killed, stopped cleanly, or frozen with SIGSTOP).

use std::time::{Duration, Instant};

use clp_fsmon::alert::{Event, Module};
use clp_fsmon::cli::{self, Command, MonitorArgs, Parsed};
use clp_fsmon::probe::nfs::NfsProbe;
use clp_fsmon::probe::nfs::mount;
use clp_fsmon::probe::nfs::rpc::{AuthSys, Proto, RpcClient};
use clp_fsmon::probe::{Deadline, Probe, ProbeCtx, ProbeFailure, ProbeReport};
use nix::sys::signal::Signal;

use crate::rig::nfs::{Export, Flavor, NfsServer, available};

fn margs(v: &[&str]) -> MonitorArgs {
    let mut all = vec!["nfs1".to_owned()];
    all.extend(v.iter().map(|s| (*s).to_owned()));
    match cli::parse(Module::Nfsmon, &all).unwrap() {
        Parsed::Run {
            command: Command::Monitor(m),
            ..
        } => *m,
        other => panic!("{other:?}"),
    }
}

fn probe(srv: &NfsServer, extra: &[&str]) -> NfsProbe {
    assert!(
        available(),
        "the NFS rig needs root, ganesha.nfsd, rpcbind and ip"
    );
    let addr = srv.addr().to_string();
    let mut v = vec!["-d", srv.export(), "-a", &addr];
    v.extend_from_slice(extra);
    clp_fsmon::applets::clp_nfsmon::probe(&margs(&v)).unwrap()
}

fn once(p: &NfsProbe, timeout: Duration) -> Result<ProbeReport, ProbeFailure> {
    p.run(&ProbeCtx::new(timeout))
}

fn ok(p: &NfsProbe) -> ProbeReport {
    once(p, Duration::from_secs(10)).unwrap_or_else(|f| panic!("probe failed: {f:?}"))
}

fn fail(p: &NfsProbe, timeout: Duration) -> ProbeFailure {
    match once(p, timeout) {
        Ok(r) => panic!("probe unexpectedly succeeded: {r:?}"),
        Err(f) => f,
    }
}

/// The `clp_nfsmon: …` detail line and the event that follows it.
fn detail(f: &ProbeFailure) -> &str {
    assert_eq!(f.alerts.len(), 2, "{f:?}");
    assert_eq!(f.alerts[0].event, Event::Detail);
    assert_eq!(f.alerts[1].event, Event::NfsError);
    assert_eq!(
        f.alerts[1].text,
        "The clp_nfsmon has detected an error in NFS."
    );
    f.alerts[0].text.as_str()
}

/// The phases of a report, in order; the two calls `--check read` sends at once to `NFSv3` are
/// timed in the order their replies came, which is the server's: they are listed as
/// `fsstat`, `readdir` whatever that order was.
fn phase_names(r: &ProbeReport) -> Vec<&str> {
    let mut v: Vec<&str> = r.phases.iter().map(|p| p.phase).collect();
    for i in 1..v.len() {
        if (v[i - 1], v[i]) == ("readdir", "fsstat") {
            v.swap(i - 1, i);
        }
    }
    v
}

#[test]
fn nfsmon_v3_export_ok_over_tcp() {
    let srv = NfsServer::start_v3_v4();
    let r = ok(&probe(&srv, &["--check", "connect"]));
    assert!(
        r.summary.starts_with("NFSv3 over TCP, port 2049, fh "),
        "{}",
        r.summary
    );
    assert_eq!(
        phase_names(&r),
        [
            "portmap", "mount", "nfs_null", "getattr", "fsinfo", "umount"
        ]
    );
}

/// Every level passes on a healthy export, over v3 (TCP and UDP), v4.0, v4.1 and v4.2, with the
/// phases of its level; `read` (the default) adds FSSTAT and READDIR to v3 in one round trip
/// and nothing to v4's phases (its operations are in the walk's COMPOUND); `write` leaves no
/// canary behind.
#[test]
fn nfsmon_every_level_ok_over_v3_and_v4() {
    let srv = NfsServer::start_v3_v4();
    let v41 = NfsServer::start(crate::rig::nfs::Flavor::V41Only);
    let v3_connect = ["portmap", "mount", "nfs_null", "getattr", "fsinfo"];
    for transport in [&[][..], &["--udp"]] {
        let r = ok(&probe(&srv, transport));
        let mut want = v3_connect.to_vec();
        want.extend(["fsstat", "readdir", "umount"]);
        assert_eq!(phase_names(&r), want, "{transport:?}");
        assert!(r.summary.ends_with(" available"), "{}", r.summary);
        let w = ok(&probe(&srv, &[transport, &["--check", "write"]].concat()));
        want.pop();
        want.extend([
            "canary_create",
            "canary_write",
            "canary_read",
            "canary_remove",
            "umount",
        ]);
        assert_eq!(phase_names(&w), want, "{transport:?}");
        assert!(
            w.summary
                .ends_with("available, canary written and read back"),
            "{}",
            w.summary
        );
    }
    let v40 = NfsServer::start(crate::rig::nfs::Flavor::V40Only);
    for (s, minor) in [(&v40, "4.0"), (&v41, "4.1"), (&srv, "4.2")] {
        let session: &[&str] = if minor == "4.0" {
            &["nfs_null", "nfs4_compound"]
        } else {
            &["nfs_null", "nfs4_session", "nfs4_compound"]
        };
        let c = ok(&probe(s, &["--nfs4", "--check", "connect"]));
        assert_eq!(phase_names(&c), session);
        assert!(!c.summary.contains("available"), "{}", c.summary);
        let r = ok(&probe(s, &["--nfs4"]));
        assert_eq!(phase_names(&r), session);
        assert!(
            r.summary.starts_with(&format!("NFSv{minor} over TCP")),
            "{}",
            r.summary
        );
        assert!(r.summary.ends_with(" available"), "{}", r.summary);
        let w = ok(&probe(s, &["--nfs4", "--check", "write"]));
        let mut want = session.to_vec();
        want.extend(["nfs4_client", "canary_create"]);
        if w.phases.iter().any(|p| p.phase == "canary_confirm") {
            want.push("canary_confirm");
        }
        want.extend(["canary_io", "canary_remove"]);
        assert_eq!(phase_names(&w), want, "{minor}");
    }
    for s in [&srv, &v40, &v41] {
        let left: Vec<_> = std::fs::read_dir(s.export())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["hello"], "the canary was left behind");
    }
}

#[test]
fn nfsmon_v3_export_ok_over_udp() {
    let srv = NfsServer::start_v3_v4();
    let r = ok(&probe(&srv, &["--udp"]));
    assert!(
        r.summary.starts_with("NFSv3 over UDP, port 2049"),
        "{}",
        r.summary
    );
}

#[test]
fn nfsmon_n_gives_the_nfs_port() {
    let srv = NfsServer::start_v3_v4();
    let r = ok(&probe(&srv, &["-n", "2049"]));
    assert!(r.summary.contains("port 2049"), "{}", r.summary);
    // The portmapper is not asked for NFS: a wrong -n is what the NFS calls hit.
    let f = fail(&probe(&srv, &["-n", "2050"]), Duration::from_secs(5));
    assert_eq!(f.phase, "nfs_null");
    assert_eq!(
        detail(&f),
        "clp_nfsmon: RPC: Unable to receive: errno = Connection refused."
    );
    // -a HOST:PORT names the portmapper's port.
    let addr = srv.addr();
    let at = |port: u16| {
        let a = format!("{addr}:{port}");
        clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", srv.export(), "-a", &a])).unwrap()
    };
    ok(&at(111));
    let f = fail(&at(112), Duration::from_secs(5));
    assert_eq!(f.phase, "portmap");
}

#[test]
fn nfsmon_unknown_directory_is_a_mount_error() {
    let srv = NfsServer::start_v3_v4();
    let addr = srv.addr().to_string();
    let p = clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", "/no/such/export", "-a", &addr]))
        .unwrap();
    let f = fail(&p, Duration::from_secs(5));
    assert_eq!(f.phase, "mount");
    // Ganesha answers a path it does not export with ACCES (knfsd too).
    assert_eq!(detail(&f), "clp_nfsmon: mount error(MNT3ERR_ACCES)");
    assert_eq!(f.status, "MNT3ERR_ACCES (13)");
}

#[test]
fn nfsmon_rpcbind_stopped_is_a_port_mapper_failure() {
    let srv = NfsServer::start_v3_v4();
    let p = probe(&srv, &[]);
    let pu = probe(&srv, &["--udp"]);
    ok(&p);
    ok(&pu);
    srv.kill_rpcbind();
    let f = fail(&p, Duration::from_secs(5));
    assert_eq!(f.phase, "portmap");
    assert_eq!(
        detail(&f),
        "clp_nfsmon: RPC: Port mapper failure - Unable to receive: errno = Connection refused."
    );
    assert_eq!(f.status, "ECONNREFUSED (111)");
    // Same over UDP (ICMP port unreachable).
    let f = fail(&pu, Duration::from_secs(5));
    assert_eq!(
        detail(&f),
        "clp_nfsmon: RPC: Port mapper failure - Unable to receive: errno = Connection refused."
    );
    // A monitor that has never seen the portmapper takes the server for NFSv4-only.
    let fresh = probe(&srv, &[]);
    let r = ok(&fresh);
    assert!(r.summary.starts_with("NFSv4.2 over TCP"), "{}", r.summary);
}

#[test]
fn nfsmon_ganesha_killed_is_connection_refused() {
    let mut srv = NfsServer::start_v3_v4();
    let p = probe(&srv, &[]);
    ok(&p);
    srv.kill_ganesha();
    // rpcbind still holds Ganesha's registrations, the MOUNT port refuses.
    let f = fail(&p, Duration::from_secs(5));
    assert_eq!(f.phase, "mount");
    assert_eq!(
        detail(&f),
        "clp_nfsmon: RPC: Unable to receive: errno = Connection refused."
    );
    assert_eq!(f.status, "ECONNREFUSED (111)");
}

#[test]
fn nfsmon_ganesha_stopped_is_not_registered() {
    let mut srv = NfsServer::start_v3_v4();
    let p = probe(&srv, &[]);
    ok(&p);
    srv.stop_ganesha();
    let f = fail(&p, Duration::from_secs(5));
    assert_eq!(f.phase, "portmap");
    assert_eq!(detail(&f), "clp_nfsmon: RPC: Program not registered.");
}

fn stalled_probe_is_cut_at(srv: &NfsServer, extra: &[&str], r: u64) {
    let p = probe(srv, extra);
    let t = Instant::now();
    let f = fail(&p, Duration::from_secs(r));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_secs(r)
            && took < Duration::from_secs(r) + Duration::from_millis(300),
        "took {took:?} for -r {r}"
    );
    assert_eq!(detail(&f), "clp_nfsmon: RPC: Timed out");
    assert_eq!(f.status, "RPC_TIMEDOUT");
}

#[test]
fn nfsmon_ganesha_sigstopped_times_out_at_r() {
    let srv = NfsServer::start_v3_v4();
    ok(&probe(&srv, &[]));
    srv.signal(Signal::SIGSTOP);
    stalled_probe_is_cut_at(&srv, &[], 1);
    stalled_probe_is_cut_at(&srv, &[], 2);
    stalled_probe_is_cut_at(&srv, &["--udp"], 1);
    stalled_probe_is_cut_at(&srv, &["--nfs4"], 1);
    srv.signal(Signal::SIGCONT);
    ok(&probe(&srv, &[]));
}

#[test]
fn nfsmon_partition_times_out_at_r() {
    let srv = NfsServer::start_v3_v4();
    let p = probe(&srv, &[]);
    let pu = probe(&srv, &["--udp"]);
    ok(&p);
    ok(&pu);
    srv.link(false);
    for pr in [&p, &pu] {
        let t = Instant::now();
        let f = fail(pr, Duration::from_secs(1));
        let took = t.elapsed();
        assert!(
            took >= Duration::from_secs(1) && took < Duration::from_millis(1300),
            "{took:?}"
        );
        assert_eq!(f.phase, "portmap");
        assert_eq!(
            detail(&f),
            "clp_nfsmon: RPC: Port mapper failure - Timed out"
        );
    }
    srv.link(true);
    assert!(
        (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            once(&p, Duration::from_secs(2)).is_ok()
        }),
        "the probe did not recover after the partition healed"
    );
}

#[test]
fn nfsmon_cancel_ends_a_stalled_probe_promptly() {
    let srv = NfsServer::start_v3_v4();
    let p = probe(&srv, &[]);
    ok(&p);
    srv.signal(Signal::SIGSTOP);
    let ctx = ProbeCtx::new(Duration::from_secs(60));
    let cancel = ctx.cancel.clone();
    let t = Instant::now();
    let h = std::thread::spawn(move || {
        let r = p.run(&ctx);
        (r.is_err(), Instant::now())
    });
    std::thread::sleep(Duration::from_millis(500));
    let raised = Instant::now();
    cancel.cancel();
    let (failed, ended) = h.join().unwrap();
    srv.signal(Signal::SIGCONT);
    assert!(failed);
    assert!(
        ended.duration_since(raised) < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn nfsmon_v4_only_server_ok_with_nfs4_and_automatically() {
    let srv = NfsServer::start_v4_only();
    let r = ok(&probe(&srv, &["--nfs4"]));
    // Ganesha offers 4.0, 4.1 and 4.2: the probe takes 4.2, as the Linux client does.
    assert!(
        r.summary.starts_with("NFSv4.2 over TCP, port 2049, fh "),
        "{}",
        r.summary
    );
    assert_eq!(
        phase_names(&r),
        ["nfs_null", "nfs4_session", "nfs4_compound"]
    );
    // No flag: port 111 refuses, so the probe walks NFSv4 — and asks the portmapper again at
    // every probe, in case it was only late.
    let auto = probe(&srv, &[]);
    for _ in 0..2 {
        let r = ok(&auto);
        assert!(r.summary.starts_with("NFSv4.2"), "{}", r.summary);
        assert_eq!(
            phase_names(&r),
            ["portmap", "nfs_null", "nfs4_session", "nfs4_compound"]
        );
    }
    // A path that is not in the pseudo file system.
    let addr = srv.addr().to_string();
    let p =
        clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", "/no/such", "-a", &addr, "--nfs4"]))
            .unwrap();
    let f = fail(&p, Duration::from_secs(5));
    assert_eq!(f.phase, "nfs4_compound");
    assert_eq!(detail(&f), "clp_nfsmon: NFS4ERR_NOENT");
    assert!(f.status.contains("LOOKUP \"no\""), "{}", f.status);
}

/// `--mount-port` with `-n` reaches an export whose ports no portmapper gives (Ganesha's
/// registrations removed from its rpcbind, then rpcbind killed): no portmapper call at all, as
/// nfs-ls with `mountport=` and `nfsport=`. Alone, each still asks the portmapper for the other;
/// `--mount-port` keeps the probe on `NFSv3` (no switch to v4 when port 111 refuses).
#[test]
fn nfsmon_mount_port_and_n_need_no_portmapper() {
    let srv = NfsServer::start(Flavor::V3Only);
    srv.unregister();
    let f = fail(&probe(&srv, &[]), Duration::from_secs(5));
    assert_eq!(
        (f.phase, f.status.as_str()),
        ("portmap", "MOUNT 100005 v3 not registered")
    );
    let f = fail(
        &probe(&srv, &["--mount-port", "20048"]),
        Duration::from_secs(5),
    );
    assert_eq!(
        (f.phase, f.status.as_str()),
        ("portmap", "NFS 100003 v3 not registered")
    );
    let both = ["--mount-port", "20048", "-n", "2049"];
    for (extra, proto) in [
        (&both[..], "TCP"),
        (&[&both[..], &["--udp"]].concat(), "UDP"),
    ] {
        let r = ok(&probe(&srv, extra));
        assert!(
            r.summary
                .starts_with(&format!("NFSv3 over {proto}, port 2049")),
            "{}",
            r.summary
        );
        assert_eq!(
            phase_names(&r),
            [
                "mount", "nfs_null", "getattr", "fsinfo", "fsstat", "readdir", "umount"
            ]
        );
    }
    srv.kill_rpcbind();
    ok(&probe(&srv, &both));
    // A wrong MOUNT port is what MNT hits.
    let f = fail(
        &probe(&srv, &["--mount-port", "20049", "-n", "2049"]),
        Duration::from_secs(5),
    );
    assert_eq!(f.phase, "mount");
    assert_eq!(
        detail(&f),
        "clp_nfsmon: RPC: Unable to receive: errno = Connection refused."
    );
    let f = fail(
        &probe(&srv, &["--mount-port", "20048"]),
        Duration::from_secs(5),
    );
    assert_eq!(
        (f.phase, f.status.as_str()),
        ("portmap", "ECONNREFUSED (111)")
    );
    let addr = srv.addr().to_string();
    let v4 = [
        "-d",
        srv.export(),
        "-a",
        &addr,
        "--nfs4",
        "--mount-port",
        "1",
    ];
    assert!(clp_fsmon::applets::clp_nfsmon::probe(&margs(&v4)).is_err());
}

/// Statuses are named, never printed as numbers: a krb5-only export refuses the probe's
/// `AUTH_SYS` with `AUTH_TOOWEAK` at the first `NFSv3` call on the handle and with
/// `NFS4ERR_WRONGSEC` at the `NFSv4` LOOKUP into the export. (A `..` in `-d` is resolved before
/// the walk, as clients resolve it, so it is the missing `/x`, not `NFS4ERR_BADNAME` 10041.)
#[test]
fn nfsmon_statuses_are_named_krb5_only_export_and_dot_dot_resolved() {
    let krb5 = Export {
        sec_type: "krb5",
        ..Export::default()
    };
    let srv = NfsServer::start_export(Flavor::V3V4, krb5, "");
    let f = fail(&probe(&srv, &[]), Duration::from_secs(5));
    assert_eq!(
        (f.phase, f.status.as_str()),
        ("getattr", "AUTH_TOOWEAK (5)")
    );
    assert_eq!(
        detail(&f),
        "clp_nfsmon: RPC: Authentication error; why = Client credential too weak"
    );
    let f = fail(&probe(&srv, &["--nfs4"]), Duration::from_secs(5));
    assert_eq!(f.phase, "nfs4_compound");
    assert!(
        f.status.starts_with("NFS4ERR_WRONGSEC (10016) at LOOKUP"),
        "{}",
        f.status
    );
    assert_eq!(detail(&f), "clp_nfsmon: NFS4ERR_WRONGSEC");
    let addr = srv.addr().to_string();
    let p =
        clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", "/tmp/../x", "-a", &addr, "--nfs4"]))
            .unwrap();
    let f = fail(&p, Duration::from_secs(5));
    assert_eq!(f.status, "NFS4ERR_NOENT (2) at LOOKUP \"x\"");
    assert_eq!(detail(&f), "clp_nfsmon: NFS4ERR_NOENT");
}

/// An `NFSv4`-only server behind a live rpcbind (NFS v4 registered, no MOUNT) is found without
/// `--nfs4`, as a kernel client finds it: the portmapper has no MOUNT v3, `NFSv4` answers on 2049.
/// When `NFSv4` is not there either — a v3 server stopped cleanly, which unregisters, watched by
/// a fresh monitor — the portmapper's answer is the failure.
#[test]
fn nfsmon_v4_only_server_behind_rpcbind_is_found_without_nfs4() {
    let srv = NfsServer::start(Flavor::V4Rpcbind);
    let p = probe(&srv, &[]);
    for _ in 0..2 {
        let r = ok(&p);
        assert!(r.summary.starts_with("NFSv4.2 over TCP"), "{}", r.summary);
        assert_eq!(
            phase_names(&r),
            ["portmap", "nfs_null", "nfs4_session", "nfs4_compound"]
        );
    }
    // It keeps asking: Ganesha gone (NFS v4 left registered, 2049 refuses) is v4's failure.
    let mut srv = srv;
    srv.kill_ganesha();
    let f = fail(&p, Duration::from_secs(5));
    assert_eq!(
        (f.phase, f.status.as_str()),
        ("nfs_null", "ECONNREFUSED (111)")
    );

    let mut v3 = NfsServer::start_v3_v4();
    v3.stop_ganesha();
    let f = fail(&probe(&v3, &[]), Duration::from_secs(5));
    assert_eq!(
        (f.phase, f.status.as_str()),
        ("portmap", "MOUNT 100005 v3 not registered")
    );
    assert_eq!(detail(&f), "clp_nfsmon: RPC: Program not registered.");
}

/// Waits until Ganesha has logged `want` (MNT, UMNT) requests; returns what it logged.
fn mount_calls_settle(srv: &NfsServer, want: (usize, usize)) -> (usize, usize) {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let got = srv.mount_calls();
        if got == want || Instant::now() > until {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The minor version is negotiated as `mount.nfs` does: 4.2, then 4.1, then 4.0, stepping down
/// only on `NFS4ERR_MINOR_VERS_MISMATCH` (the summary names the refused ones). Sessions are torn
/// down again, so three probes in a row work the same.
#[test]
fn nfsmon_v4_minor_version_is_the_highest_the_server_takes() {
    for (flavor, minor, phases, refused) in [
        (
            Flavor::V42Only,
            2,
            &["nfs_null", "nfs4_session", "nfs4_compound"][..],
            None,
        ),
        (
            Flavor::V41Only,
            1,
            &["nfs_null", "nfs4_session", "nfs4_compound"],
            Some("4.2"),
        ),
        (
            Flavor::V40Only,
            0,
            &["nfs_null", "nfs4_compound"],
            Some("4.2, 4.1"),
        ),
    ] {
        let srv = NfsServer::start(flavor);
        let p = probe(&srv, &["--nfs4"]);
        for _ in 0..3 {
            let r = ok(&p);
            let want = format!("NFSv4.{minor} over TCP, port 2049, fh ");
            assert!(r.summary.starts_with(&want), "{flavor:?}: {}", r.summary);
            assert_eq!(phase_names(&r), phases, "{flavor:?}");
            let noted = r
                .summary
                .split_once(" (")
                .and_then(|(_, t)| t.split_once(" refused)"))
                .map(|(r, _)| r);
            assert_eq!(noted, refused, "{flavor:?}: {}", r.summary);
        }
        let addr = srv.addr().to_string();
        let p = clp_fsmon::applets::clp_nfsmon::probe(&margs(&[
            "-d", "/no/such", "-a", &addr, "--nfs4",
        ]))
        .unwrap();
        let f = fail(&p, Duration::from_secs(5));
        assert_eq!(detail(&f), "clp_nfsmon: NFS4ERR_NOENT", "{flavor:?}");
        assert!(f.status.contains("LOOKUP \"no\""), "{}", f.status);
    }
}

#[test]
fn nfsmon_mount_list_does_not_grow_over_100_probes() {
    let srv = NfsServer::start_with(crate::rig::nfs::Flavor::V3V4, crate::rig::nfs::LOG_REQUESTS);
    let before = srv.mount_list().unwrap();
    // The count is real: a MNT without UMNT shows as one more MNT than UMNT.
    let ctx = ProbeCtx::new(Duration::from_secs(5));
    let mut c = RpcClient::connect(
        std::net::SocketAddr::new(srv.addr(), 20048),
        Proto::Tcp,
        true,
        Some(AuthSys::root()),
        Deadline::after(Duration::from_secs(5)),
        &ctx.cancel,
    )
    .unwrap();
    mount::mnt(&mut c, srv.export()).unwrap().unwrap();
    assert_eq!(mount_calls_settle(&srv, (1, 0)), (1, 0));
    mount::umnt(&mut c, srv.export()).unwrap();
    assert_eq!(mount_calls_settle(&srv, (1, 1)), (1, 1));

    let tcp = probe(&srv, &[]);
    let udp = probe(&srv, &["--udp"]);
    for i in 0..100 {
        ok(if i % 2 == 0 { &tcp } else { &udp });
    }
    // Every MNT of the 100 probes was undone by its UMNT, and DUMP is what it was.
    assert_eq!(mount_calls_settle(&srv, (101, 101)), (101, 101));
    assert_eq!(srv.mount_list().unwrap(), before);
}

#[test]
fn nfsmon_default_address_is_used_when_a_is_absent() {
    let p = clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", "/x"])).unwrap();
    assert_eq!(p.host(), Some(clp_fsmon::probe::nfs::default_address()));
    assert!(
        clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", "/x", "-a", "1.2.3.4:0"])).is_err()
    );
    assert!(
        clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", "/x", "--nfs4", "--udp"])).is_err()
    );
}

/// Runs `cmd args`; true when it exits 0 (a missing tool fails the test, naming its package).
fn reference(cmd: &str, package: &str, args: &[&str]) -> bool {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (apt-get install {package})"))
        .status
        .success()
}

/// The probe's verdict equals `rpcinfo`'s and `nfs-ls`'s against the same server: OK on the
/// export over v3/TCP, v3/UDP and v4; CRITICAL (at MOUNT, with the server's status) for a path
/// that is not exported, which nfs-ls cannot list either. (How fast each is: benches/bench.sh.)
#[test]
fn nfsmon_verdict_equals_rpcinfo_and_nfs_ls() {
    let srv = NfsServer::start_v3_v4();
    let host = srv.addr().to_string();
    assert!(reference("rpcinfo", "rpcbind", &["-t", &host, "nfs", "3"]));
    assert!(reference(
        "rpcinfo",
        "rpcbind",
        &["-u", &host, "mountd", "3"]
    ));
    let url = format!("nfs://{host}{}", srv.export());
    assert!(reference("nfs-ls", "libnfs-utils", &[&url]), "nfs-ls {url}");
    for extra in [&[][..], &["--udp"], &["--nfs4"]] {
        ok(&probe(&srv, extra));
    }
    let missing = format!("{}/not-exported", srv.export());
    let url = format!("nfs://{host}{missing}");
    assert!(
        !reference("nfs-ls", "libnfs-utils", &[&url]),
        "nfs-ls {url}"
    );
    let addr = srv.addr().to_string();
    let p = clp_fsmon::applets::clp_nfsmon::probe(&margs(&["-d", &missing, "-a", &addr])).unwrap();
    let f = fail(&p, Duration::from_secs(10));
    assert_eq!(f.phase, "mount", "{f:?}");
}

// ---- the real binary (`clp_nfsmon` link, re-rooted sandbox, real licence) -------------------

/// A licensed sandbox root for running the binary.
fn sandbox() -> tempfile::TempDir {
    let root = tempfile::Builder::new()
        .prefix("clpnfs-")
        .tempdir()
        .unwrap();
    crate::rig::license::register_product(root.path());
    root
}

/// Alert-log lines of `root` as (event id, message).
fn alerts(root: &std::path::Path) -> Vec<(u16, String)> {
    std::fs::read_to_string(root.join("var/log/clp-fsmon/alert.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.splitn(5, '\t').collect();
            (f[3].parse().unwrap(), f[4].to_owned())
        })
        .collect()
}

fn fault_log(root: &std::path::Path) -> String {
    std::fs::read_to_string(root.join("var/log/clp-fsmon/fault-nfsmon.log")).unwrap_or_default()
}

fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// A monitor process; killed on drop.
struct Mon(std::process::Child);

impl Mon {
    fn spawn(root: &std::path::Path, args: &[&str]) -> Self {
        let link = crate::rig::license::applet_link(root, "clp_nfsmon");
        let child = std::process::Command::new(link)
            .args(args)
            .env("CLP_FSMON_ROOT", root)
            .env_remove("CLP_FSMON_TEST_PROBE")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Self(child)
    }

    fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let end = Instant::now() + limit;
        loop {
            if let Some(st) = self.0.try_wait().unwrap() {
                return st.code();
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Resident set size in KiB.
    fn rss_kib(&self) -> u64 {
        let st = std::fs::read_to_string(format!("/proc/{}/status", self.0.id())).unwrap();
        st.lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Mon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn nfsmon_bin_once_reports_ok_and_the_original_texts() {
    let srv = NfsServer::start_v3_v4();
    let root = sandbox();
    let addr = srv.addr().to_string();
    let out = crate::rig::license::applet_cmd(root.path(), "clp_nfsmon")
        .args(["o1", "-d", srv.export(), "-a", &addr, "--once"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "clp_nfsmon OK - {} [NFSv3 over TCP, port 2049, fh ",
            srv.export()
        )),
        "{stdout}"
    );
    let out = crate::rig::license::applet_cmd(root.path(), "clp_nfsmon")
        .args(["o1", "-d", "/not/exported", "-a", &addr, "--once", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "CRITICAL");
    assert_eq!(j["failure"]["phase"], "mount");
    assert_eq!(j["alerts"][0]["id"], 0);
    assert_eq!(
        j["alerts"][0]["text"],
        "clp_nfsmon: mount error(MNT3ERR_ACCES)"
    );
    assert_eq!(j["alerts"][1]["id"], 66);
}

/// `-a HOST` is looked up by each probe (as `clp_sambamon` does): a name that does not resolve
/// (RFC 2606 `.invalid`) is a CRITICAL probe in phase `resolve`, not a usage error; a name that
/// resolves (`localhost`, run inside the server's namespace) is watched.
#[test]
fn nfsmon_bin_a_host_name_is_resolved_by_each_probe() {
    let root = sandbox();
    let out = crate::rig::license::applet_cmd(root.path(), "clp_nfsmon")
        .args(["r1", "-d", "/export", "-a", "nosuch.invalid", "-r", "5"])
        .args(["--once", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "CRITICAL", "{j}");
    assert_eq!(j["failure"]["phase"], "resolve", "{j}");
    assert_eq!(j["alerts"][1]["id"], 66, "{j}");
    let log = std::fs::read_to_string(root.path().join("var/log/clp-fsmon/alert.log"))
        .unwrap_or_default();
    assert!(!log.contains("\t11\t"), "usage error raised: {log}");

    let srv = NfsServer::start_v3_v4();
    let link = crate::rig::license::applet_link(root.path(), "clp_nfsmon");
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", srv.netns()])
        .arg(&link)
        .args(["r2", "-d", srv.export(), "-a", "localhost", "--once"])
        .env("CLP_FSMON_ROOT", root.path())
        .env_remove("CLP_FSMON_TEST_PROBE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with(&format!("clp_nfsmon OK - {} [NFSv3 over TCP", srv.export())),
        "{stdout}"
    );
}

#[test]
fn nfsmon_bin_stalled_ganesha_is_a_fault_after_c_probes_cut_at_r() {
    let srv = NfsServer::start_v3_v4();
    let root = sandbox();
    let addr = srv.addr().to_string();
    let mut m = Mon::spawn(
        root.path(),
        &[
            "st1",
            "-d",
            srv.export(),
            "-a",
            &addr,
            "-i",
            "1",
            "-c",
            "3",
            "-r",
            "1",
        ],
    );
    assert!(wait_for(Duration::from_secs(10), || alerts(root.path())
        .iter()
        .any(|a| a.0 == 2)));
    let rss = m.rss_kib();
    eprintln!("clp_nfsmon monitor resident: {rss} KiB");
    assert!(rss < 16 * 1024, "{rss} KiB");
    srv.signal(Signal::SIGSTOP);
    let t = Instant::now();
    let code = m.wait_exit(Duration::from_secs(20));
    let took = t.elapsed();
    srv.signal(Signal::SIGCONT);
    assert_eq!(code, Some(1));
    // Up to 1 s of the interval already running, then 3 probes of 1 s with 2 intervals of 1 s.
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_millis(6500),
        "{took:?}"
    );
    let a = alerts(root.path());
    let tail: Vec<(u16, &str)> = a.iter().skip(2).map(|(i, t)| (*i, t.as_str())).collect();
    assert_eq!(
        tail,
        [
            (0, "clp_nfsmon: RPC: Timed out"),
            (66, "The clp_nfsmon has detected an error in NFS."),
            (6, "The clp_nfsmon will terminate."),
        ]
    );
    let f = fault_log(root.path());
    for k in 1..=3 {
        assert!(
            f.contains(&format!(
                "probe failed {k}/3 phase=mount status=\"RPC_TIMEDOUT\""
            )),
            "{f}"
        );
    }
    assert!(!f.contains("probe failed 4/3"), "{f}");
}

#[test]
fn nfsmon_bin_stop_during_a_stalled_probe_ends_within_a_second() {
    let srv = NfsServer::start_v3_v4();
    let root = sandbox();
    let addr = srv.addr().to_string();
    let mut m = Mon::spawn(
        root.path(),
        &[
            "sp1",
            "-d",
            srv.export(),
            "-a",
            &addr,
            "-i",
            "1",
            "-r",
            "60",
        ],
    );
    assert!(wait_for(Duration::from_secs(10), || alerts(root.path())
        .iter()
        .any(|a| a.0 == 2)));
    srv.signal(Signal::SIGSTOP);
    // Let the next probe start and hang on the frozen server.
    std::thread::sleep(Duration::from_millis(1500));
    let t = Instant::now();
    let out = crate::rig::license::applet_cmd(root.path(), "clp_nfsmon")
        .args(["sp1", "-stop"])
        .output()
        .unwrap();
    let took = t.elapsed();
    srv.signal(Signal::SIGCONT);
    assert!(out.status.success(), "{out:?}");
    assert!(took < Duration::from_secs(1), "-stop took {took:?}");
    assert_eq!(m.wait_exit(Duration::from_secs(1)), Some(0));
    let a = alerts(root.path());
    assert_eq!(
        a.last().unwrap(),
        &(
            3,
            format!(
                "The clp_nfsmon will stop watching NFS shared directory '{}'.",
                srv.export()
            )
        )
    );
}

/// The probe of `dir` on `srv`, with `extra`.
fn probe_dir(srv: &NfsServer, dir: &std::path::Path, extra: &[&str]) -> NfsProbe {
    let addr = srv.addr().to_string();
    let mut v = vec!["-d", dir.to_str().unwrap(), "-a", &addr];
    v.extend_from_slice(extra);
    clp_fsmon::applets::clp_nfsmon::probe(&margs(&v)).unwrap()
}

/// The names in `dir`, sorted.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The roads to one export a test runs every level over: v3/TCP, v3/UDP, v4.
const ROADS: [&[&str]; 3] = [&[], &["--udp"], &["--nfs4"]];

/// Raw `NFSv3` calls on the handle MOUNT gives for `dir`, each bounded by `limit`: what answers
/// and what waits for the storage, without the probe's own order of calls.
fn v3_answers(srv: &NfsServer, dir: &std::path::Path, proc_: u32, limit: Duration) -> bool {
    use clp_fsmon::probe::Cancel;
    let cancel = Cancel::new();
    let deadline = Deadline::after(Duration::from_secs(5));
    let connect = |port| {
        RpcClient::connect(
            std::net::SocketAddr::new(srv.addr(), port),
            Proto::Tcp,
            true,
            Some(AuthSys::root()),
            deadline,
            &cancel,
        )
        .unwrap()
    };
    let fh = mount::mnt(&mut connect(20048), dir.to_str().unwrap())
        .unwrap()
        .unwrap()
        .fh;
    // nfs_fh3 (opaque), and for READDIR cookie 0, a zero verifier and 512 bytes.
    let mut args = u32::try_from(fh.len()).unwrap().to_be_bytes().to_vec();
    args.extend(&fh);
    args.resize(4 + fh.len().div_ceil(4) * 4, 0);
    if proc_ == 16 {
        args.extend([0; 16]);
        args.extend(512u32.to_be_bytes());
    }
    let mut c = RpcClient::connect(
        std::net::SocketAddr::new(srv.addr(), 2049),
        Proto::Tcp,
        true,
        Some(AuthSys::root()),
        Deadline::after(limit),
        &cancel,
    )
    .unwrap();
    c.call(100_003, 3, proc_, &args).is_ok()
}

/// Storage that hangs under Ganesha (a bindfs export whose daemon is stopped): `read` and
/// `write` catch it within `-r` on v3 and v4. `connect` passes on v4 — Ganesha answers NULL
/// and the walk (PUTROOTFH, LOOKUP, GETATTR of the type) from its caches — which is what
/// `connect` misses; on v3 it fails, but only because Ganesha's FSINFO happens to reach the
/// file system (the probe then stops there, at every level). The read level's own calls do
/// not lean on that: GETATTR still answers while FSSTAT waits for the storage. Once the daemon
/// continues, every level passes again and no canary is left.
#[test]
fn nfsmon_hung_storage_is_caught_by_read() {
    use crate::rig::nfs::{Flavor, export_block};
    use crate::rig::storage::{Fault, Site, Storage};
    let fuse = Storage::fuse();
    let srv = NfsServer::start_with(
        Flavor::V3V4,
        &export_block(2, fuse.share(), Flavor::V3V4, "RW", "No_Root_Squash"),
    );
    let v41 = NfsServer::start_with(
        Flavor::V41Only,
        &export_block(2, fuse.share(), Flavor::V41Only, "RW", "No_Root_Squash"),
    );
    // Healed before the servers go (they cannot be killed while blocked on the storage).
    let site = Site {
        server: (srv, v41),
        storage: fuse,
    };
    let (srv, v41) = &site.server;
    let dir = site.storage.share();
    let levels = ["connect", "read", "write"];
    for road in ROADS {
        for level in levels {
            ok(&probe_dir(srv, dir, &[road, &["--check", level]].concat()));
        }
    }
    for level in levels {
        ok(&probe_dir(v41, dir, &["--nfs4", "--check", level]));
    }
    site.storage.inject(Fault::Hang);
    let r = Duration::from_secs(1);
    let stuck = |f: &ProbeFailure, phases: &[&str], what: &str| {
        assert!(phases.contains(&f.phase), "{what}: {f:?}");
        assert_eq!(f.status, "RPC_TIMEDOUT", "{what}: {f:?}");
        assert_eq!(detail(f), "clp_nfsmon: RPC: Timed out", "{what}");
        assert!(
            f.total_micros >= 1_000_000 && f.total_micros < 1_300_000,
            "{what}: {f:?}"
        );
    };
    for (srv, road) in [(srv, "--nfs4"), (v41, "--nfs4")] {
        let c = once(&probe_dir(srv, dir, &[road, "--check", "connect"]), r);
        let c = c.unwrap_or_else(|f| panic!("connect no longer misses the hang: {f:?}"));
        assert!(c.summary.starts_with("NFSv4."), "{}", c.summary);
        for level in ["read", "write"] {
            let f = fail(&probe_dir(srv, dir, &[road, "--check", level]), r);
            stuck(&f, &["nfs4_compound"], level);
        }
    }
    for road in ROADS.iter().take(2).copied() {
        for level in levels {
            let f = fail(
                &probe_dir(srv, dir, &[road, &["--check", level]].concat()),
                r,
            );
            stuck(&f, &["fsinfo"], level);
        }
    }
    assert!(v3_answers(srv, dir, 1, Duration::from_secs(1)), "GETATTR");
    assert!(!v3_answers(srv, dir, 18, Duration::from_secs(1)), "FSSTAT");
    site.storage.heal();
    // Every level passes again once the storage answers (the frozen calls finish first).
    let p = probe_dir(srv, dir, &["--check", "write"]);
    assert!(
        (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            once(&p, Duration::from_secs(2)).is_ok()
        }),
        "no recovery after SIGCONT"
    );
    for road in ROADS {
        ok(&probe_dir(
            srv,
            dir,
            &[road, &["--check", "write"]].concat(),
        ));
    }
    ok(&probe_dir(v41, dir, &["--nfs4", "--check", "write"]));
    assert_eq!(names_in(dir), ["hello"]);
}

/// Runs `nfs-cp` of a small local file to `url` (as root, uid 0, as the probe's `AUTH_SYS`
/// credential): its exit status and what it said.
fn nfs_cp(url: &str) -> (bool, String) {
    let src = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(src.path(), "nfs-cp\n").unwrap();
    let out = std::process::Command::new(crate::rig::require_tool("nfs-cp", "libnfs-utils"))
        .arg(src.path())
        .arg(url)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// nfs-cp's URL of `name` in `dir` on `srv`, over v3 or v4.
fn cp_url(srv: &NfsServer, dir: &std::path::Path, name: &str, v4: bool) -> String {
    let v = if v4 { "?version=4" } else { "" };
    format!("nfs://{}{}/{name}{v}", srv.addr(), dir.display())
}

/// A directory to export beside the rig's own, holding `hello`, with permission bits `mode`.
fn scratch_export(mode: u32) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::Builder::new()
        .prefix("clp-nfs-exp")
        .tempdir()
        .unwrap();
    std::fs::write(d.path().join("hello"), "hello\n").unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    d
}

/// The write level fails at the canary where a client's write fails, with the status the
/// client gets, over v3 and v4; connect and read pass (what they miss). Checks `nfs-cp` (the
/// same uid, the same export) against the probe and returns the failures.
fn write_fails_as_nfs_cp_does(srv: &NfsServer, dir: &std::path::Path) -> Vec<ProbeFailure> {
    let mut out = Vec::new();
    for road in ROADS {
        ok(&probe_dir(
            srv,
            dir,
            &[road, &["--check", "connect"]].concat(),
        ));
        ok(&probe_dir(srv, dir, road));
        let f = fail(
            &probe_dir(srv, dir, &[road, &["--check", "write"]].concat()),
            Duration::from_secs(5),
        );
        let d = detail(&f).to_owned();
        assert!(d.starts_with("clp_nfsmon: NFS"), "{d}");
        assert!(d.ends_with(&format!(" ({})", f.phase)), "{d}");
        let v4 = road == ["--nfs4"];
        let (copied, said) = nfs_cp(&cp_url(srv, dir, "nfs-cp-file", v4));
        let _ = std::fs::remove_file(dir.join("nfs-cp-file"));
        assert!(!copied, "nfs-cp wrote where the probe could not: {said}");
        eprintln!("{road:?}: probe {} / nfs-cp: {}", f.status, said.trim());
        // Where nfs-cp names the server's status (its create), it is the probe's.
        let name = f.status.split(' ').next().unwrap();
        assert!(
            !said.contains("ERR_") || said.contains(&format!("{name}(")),
            "probe {} / nfs-cp {said}",
            f.status
        );
        out.push(f);
    }
    out
}

/// A read-only export (Ganesha `Access_Type = RO`): the canary's create fails with
/// `NFS3ERR_ROFS`/`NFS4ERR_ROFS`, as nfs-cp's write to the same export does; nothing is left.
#[test]
fn nfsmon_read_only_export_fails_write_as_nfs_cp_does() {
    use crate::rig::nfs::{Flavor, export_block};
    let exp = scratch_export(0o755);
    let srv = NfsServer::start_with(
        Flavor::V3V4,
        &export_block(2, exp.path(), Flavor::V3V4, "RO", "No_Root_Squash"),
    );
    for f in write_fails_as_nfs_cp_does(&srv, exp.path()) {
        assert_eq!(f.phase, "canary_create", "{f:?}");
        assert!(f.status.contains("ERR_ROFS (30)"), "{f:?}");
    }
    assert_eq!(names_in(exp.path()), ["hello"]);
}

/// A root-squashed export: the probe's uid 0 is the server's anonymous uid there, so an export
/// root only root may write into fails the canary's create with ACCES — what root on a client
/// (nfs-cp as uid 0) gets; once the root is writable by everyone, `write` passes and removes
/// its canary, as nfs-cp's copy succeeds.
#[test]
fn nfsmon_root_squashed_export_writes_as_the_anonymous_uid() {
    use crate::rig::nfs::{Flavor, export_block};
    use std::os::unix::fs::PermissionsExt;
    let exp = scratch_export(0o755);
    let srv = NfsServer::start_with(
        Flavor::V3V4,
        &export_block(2, exp.path(), Flavor::V3V4, "RW", "Root_Squash"),
    );
    for f in write_fails_as_nfs_cp_does(&srv, exp.path()) {
        assert_eq!(f.phase, "canary_create", "{f:?}");
        assert!(f.status.contains("ERR_ACCES"), "{f:?}");
    }
    std::fs::set_permissions(exp.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    for road in ROADS {
        let v4 = road == ["--nfs4"];
        let (copied, said) = nfs_cp(&cp_url(&srv, exp.path(), "nfs-cp-file", v4));
        assert!(copied, "{said}");
        std::fs::remove_file(exp.path().join("nfs-cp-file")).unwrap();
        ok(&probe_dir(
            &srv,
            exp.path(),
            &[road, &["--check", "write"]].concat(),
        ));
    }
    assert_eq!(names_in(exp.path()), ["hello"]);
}

/// Full storage (a small ext4 on a loop device, filled): connect and read pass; the canary is
/// created but its write fails with NOSPC, as nfs-cp's does; the created canary is removed
/// again.
#[test]
fn nfsmon_full_storage_fails_write_with_nospc() {
    use crate::rig::nfs::{Flavor, export_block};
    use crate::rig::storage::{Fault, Site, Storage};
    let fs = Storage::ext4();
    let srv = NfsServer::start_with(
        Flavor::V3V4,
        &export_block(2, fs.share(), Flavor::V3V4, "RW", "No_Root_Squash"),
    );
    let site = Site {
        server: srv,
        storage: fs,
    };
    let (srv, dir) = (&site.server, site.storage.share());
    for road in ROADS {
        ok(&probe_dir(
            srv,
            dir,
            &[road, &["--check", "write"]].concat(),
        ));
    }
    site.storage.inject(Fault::Full);
    for f in write_fails_as_nfs_cp_does(srv, dir) {
        assert_eq!(f.phase, "canary_write", "{f:?}");
        assert!(f.status.contains("ERR_NOSPC (28)"), "{f:?}");
    }
    // The fill is beside the export, not in it.
    assert_eq!(names_in(dir), ["hello"]);
}

/// A canary left by a probe cut at `-r` (planted here, with other content and mode) is removed
/// by the next `write` probe, which then passes and leaves nothing behind — over v3 and v4, for
/// the default name and a `--canary` name.
#[test]
fn nfsmon_leftover_canary_is_removed_by_the_next_probe() {
    let srv = NfsServer::start_v3_v4();
    let dir = std::path::Path::new(srv.export());
    for road in ROADS {
        for (name, extra) in [
            (".clp-fsmon-nfs1", &[][..]),
            ("mine", &["--canary", "mine"]),
        ] {
            std::fs::write(dir.join(name), "left by a cut probe\n").unwrap();
            let r = ok(&probe_dir(
                &srv,
                dir,
                &[road, extra, &["--check", "write"]].concat(),
            ));
            assert!(r.summary.ends_with("canary written and read back"), "{r:?}");
            assert_eq!(names_in(dir), ["hello"], "{road:?} {name}");
        }
    }
}

/// The binary with `--check write` on a read-only export: `--once --json` is CRITICAL with the
/// level, the phase, the nfsstat, the `clp_nfsmon: …` detail line and event 66; a monitor with
/// `-c 1` raises 0 and 66 then 6, exits 1, and its fault log names phase, status and level.
/// The same export passes `--check read`.
#[test]
fn nfsmon_bin_write_failure_is_event_66_with_its_detail() {
    use crate::rig::nfs::{Flavor, export_block};
    let exp = scratch_export(0o755);
    let srv = NfsServer::start_with(
        Flavor::V3V4,
        &export_block(2, exp.path(), Flavor::V3V4, "RO", "No_Root_Squash"),
    );
    let root = sandbox();
    let addr = srv.addr().to_string();
    let dir = exp.path().to_str().unwrap();
    let once = |level: &str| {
        crate::rig::license::applet_cmd(root.path(), "clp_nfsmon")
            .args(["w1", "-d", dir, "-a", &addr, "--check", level])
            .args(["--once", "--json"])
            .output()
            .unwrap()
    };
    let out = once("read");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = once("write");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&j["status"], &j["check"], &j["failure"]["phase"]),
        (&"CRITICAL".into(), &"write".into(), &"canary_create".into()),
        "{j}"
    );
    assert_eq!(j["failure"]["status"], "NFS3ERR_ROFS (30)", "{j}");
    assert_eq!(j["alerts"][0]["id"], 0, "{j}");
    assert_eq!(
        j["alerts"][0]["text"],
        "clp_nfsmon: NFS3ERR_ROFS (canary_create)"
    );
    assert_eq!(j["alerts"][1]["id"], 66, "{j}");

    let mut m = Mon::spawn(
        root.path(),
        &[
            "w2", "-d", dir, "-a", &addr, "--check", "write", "-i", "1", "-c", "1", "-r", "5",
        ],
    );
    assert_eq!(m.wait_exit(Duration::from_secs(20)), Some(1));
    let a = alerts(root.path());
    let tail: Vec<(u16, &str)> = a.iter().skip(1).map(|(i, t)| (*i, t.as_str())).collect();
    assert_eq!(
        tail,
        [
            (0, "clp_nfsmon: NFS3ERR_ROFS (canary_create)"),
            (66, "The clp_nfsmon has detected an error in NFS."),
            (6, "The clp_nfsmon will terminate."),
        ]
    );
    let f = fault_log(root.path());
    assert!(
        f.contains("probe failed 1/1 phase=canary_create status=\"NFS3ERR_ROFS (30)\"")
            && f.contains("check=write"),
        "{f}"
    );
    assert_eq!(names_in(exp.path()), ["hello"]);
}
