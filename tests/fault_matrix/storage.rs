//! The fault matrix's storage rows (issue 13, item 3): faults under a server that still answers,
//! made real by `rig::storage`, for smbd and Ganesha (`NFSv3` and `NFSv4`) at every check level.
//!
//! One test per server and fault. It makes the storage (before the server: the server's private
//! mount namespace sees no later mount), starts the server on it and, against it, one monitor per
//! protocol and level (`--check connect|read|write`; 3 for smbd, 6 for Ganesha), all with the
//! same short schedule [`SCHED`]. Then it puts the fault in place and, in parallel:
//!
//! - every monitor that must see the fault ([`expected`]) is checked like every other row of the
//!   matrix (events, exit 1, `probe failed 1..=c`, the failing probes' latencies for a timeout,
//!   the detection time against the bound), its exit time taken by polling all of them at once;
//! - every monitor that misses it must still be running with no failed probe at the end of the
//!   bound (the latest a detection could come), and then stop cleanly: what a level misses is
//!   asserted, so the README's list of what `connect` misses is tested;
//! - the reference clients (`rig::reference`: smbclient `ls`/`put`, `nfs-ls`/`nfs-cp` over v3 and
//!   v4) prove the fault real: every write fails (or hangs); listing fails or hangs for a hang or
//!   a removed directory and works for a read-only or full one.
//!
//! Then the fault is healed, and the healed state is proved real the same way: every reference
//! client succeeds, and a `--once` probe at every level with each monitor's ID says OK (which
//! also removes any canary a cut probe left behind); the share then holds only its own file.
//!
//! Ganesha keeps the handle of its export's root: once the directory is deleted, every client
//! gets `STALE` even after it is made again, until Ganesha is restarted (the heal of that row).
//! smbd looks the path up at every tree connect, so a new directory heals it at once.

use std::collections::BTreeSet;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use clp_fsmon::probe::CheckLevel;

use super::{Kind, NFS, NFS_ERROR, NFS_TIMEOUT, Row, SAMBA, SAMBA_TIMEOUT, Sched, text_matches};
use crate::rig::nfs::{Flavor, NfsServer, export_block};
use crate::rig::reference::{self, Outcome};
use crate::rig::smb::{Flavour, Setup, Smbd};
use crate::rig::storage::{Fault, GANESHA_FD_REAPER, HELLO, Site, Storage};
use crate::rig::wait_until;

/// `-i 1 -c 2 -r 1`: a fault is declared within 6.2 s (+ slack) of being in place.
const SCHED: Sched = Sched::new(1, 2, 1);
/// The share on the storage.
const SHARE: &str = "st";
/// A reference client still running after this long is hung.
const REF_LIMIT: Duration = Duration::from_secs(3);

/// How a monitor and a reference client reach the site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    Smb,
    Nfs3,
    Nfs4,
}

impl Proto {
    const fn name(self) -> &'static str {
        match self {
            Self::Smb => "smb",
            Self::Nfs3 => "nfs3",
            Self::Nfs4 => "nfs4",
        }
    }
}

/// One protocol's view of the site.
#[derive(Clone, Debug)]
struct Target {
    proto: Proto,
    /// `IP:PORT` of smbd, or the NFS server's address.
    host: String,
    /// The share (SMB) or the export's path (NFS).
    path: String,
}

impl Target {
    fn applet(&self) -> &'static str {
        if self.proto == Proto::Smb { SAMBA } else { NFS }
    }

    /// The monitor's target options.
    fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = match self.proto {
            Proto::Smb => vec!["-s".into(), self.path.clone()],
            Proto::Nfs3 | Proto::Nfs4 => vec!["-d".into(), self.path.clone()],
        };
        a.extend(["-a".into(), self.host.clone()]);
        if self.proto == Proto::Nfs4 {
            a.push("--nfs4".into());
        }
        a
    }

    /// The reference client's listing of the root.
    fn ls(&self) -> Outcome {
        match self.proto {
            Proto::Smb => reference::smb_ls(&self.host, &self.path, REF_LIMIT),
            Proto::Nfs3 => reference::nfs_ls(&self.host, &self.path, 3, REF_LIMIT),
            Proto::Nfs4 => reference::nfs_ls(&self.host, &self.path, 4, REF_LIMIT),
        }
    }

    /// The reference client's write of `local` as `name` at the root.
    fn put(&self, local: &Path, name: &str) -> Outcome {
        match self.proto {
            Proto::Smb => reference::smb_put(&self.host, &self.path, local, name, REF_LIMIT),
            Proto::Nfs3 => reference::nfs_cp(&self.host, &self.path, local, name, 3, REF_LIMIT),
            Proto::Nfs4 => reference::nfs_cp(&self.host, &self.path, local, name, 4, REF_LIMIT),
        }
    }
}

fn tree_connect_gone() -> String {
    format!(
        "The clp_sambamon has detected an error in Samba [{SHARE}] (tree connect error[0xc00000cc])."
    )
}

/// sambamon's event 66 for NT status `hex`.
fn smb_io_error(hex: &str) -> String {
    format!("The clp_sambamon has detected an error in Samba [{SHARE}] (I/O error[{hex}]).")
}

/// `NFS3ERR_name` or `NFS4ERR_name` for `proto`.
fn nfs_err(proto: Proto, name: &str) -> String {
    let v = if proto == Proto::Nfs3 { 3 } else { 4 };
    format!("NFS{v}ERR_{name}")
}

/// How a level sees a fault: every failing probe's phase and status in the fault log (a
/// [`text_matches`] pattern), how the failing probes end, and the alerts after `1, 2` (as
/// [`super::Expect`]).
#[derive(Clone, Debug)]
struct Sees {
    phase: &'static str,
    status: String,
    kind: Kind,
    alerts: Vec<(u16, String)>,
}

/// What `level` must see of `fault` on `proto`, or `None` when it misses the fault (every
/// probe stays OK).
///
/// - A hang: smbd changes into the share's directory at tree connect, and `NFSv3`'s FSINFO
///   reaches the file system, so `connect` already runs into `-r` there. `NFSv4`'s NULL and
///   COMPOUND(PUTROOTFH, LOOKUP…, GETATTR) are answered from Ganesha's caches: only `read`
///   (which must reach the file system) sees it.
/// - Read-only and full storage: only a write shows them, with the status a client's write
///   gets (smbclient's `put` fails with the same NT status).
/// - The directory deleted: smbd's tree connect fails (`BAD_NETWORK_NAME`), `NFSv3`'s GETATTR is
///   `STALE`; `NFSv4`'s COMPOUND is again answered from the cache.
fn expected(proto: Proto, fault: Fault, level: CheckLevel) -> Option<Sees> {
    use CheckLevel::{Connect, Write};
    use Fault::{Full, Hang, ReadOnly, Removed};
    let sees = |phase, status: &str, kind, alerts: Vec<(u16, String)>| {
        Some(Sees {
            phase,
            status: status.to_owned(),
            kind,
            alerts,
        })
    };
    let nfs = |detail: &str| vec![(0, detail.to_owned()), (66, NFS_ERROR.to_owned())];
    match (proto, fault, level) {
        (_, ReadOnly | Full, Connect | CheckLevel::Read)
        | (Proto::Nfs4, Hang | Removed, Connect) => None,
        (Proto::Smb, Hang, _) => sees(
            "tree_connect",
            "ETIMEDOUT (110)*",
            Kind::Timeout,
            vec![(74, SAMBA_TIMEOUT.to_owned())],
        ),
        (Proto::Smb, Removed, _) => sees(
            "tree_connect",
            "STATUS_BAD_NETWORK_NAME (0xc00000cc)",
            Kind::Fast,
            vec![(62, tree_connect_gone())],
        ),
        (Proto::Smb, ReadOnly, Write) => sees(
            "canary_create",
            "STATUS_MEDIA_WRITE_PROTECTED (0xc00000a2)",
            Kind::Fast,
            vec![(66, smb_io_error("0xc00000a2"))],
        ),
        (Proto::Smb, Full, Write) => sees(
            "canary_write",
            "STATUS_DISK_FULL (0xc000007f)",
            Kind::Fast,
            vec![(66, smb_io_error("0xc000007f"))],
        ),
        (_, ReadOnly, Write) => {
            let e = nfs_err(proto, "ROFS");
            sees(
                "canary_create",
                &format!("{e} (30)*"),
                Kind::Fast,
                nfs(&format!("clp_nfsmon: {e} (canary_create)")),
            )
        }
        (_, Full, Write) => {
            let e = nfs_err(proto, "NOSPC");
            sees(
                "canary_write",
                &format!("{e} (28)*"),
                Kind::Fast,
                nfs(&format!("clp_nfsmon: {e} (canary_write)")),
            )
        }
        // v3: whichever of the connect calls reaches the file system first (GETATTR once
        // Ganesha's attributes of the root have expired, else FSINFO).
        (Proto::Nfs3, Hang, _) => sees(
            "getattr|fsinfo",
            "RPC_TIMEDOUT",
            Kind::Timeout,
            nfs(NFS_TIMEOUT),
        ),
        (_, Hang, _) => sees(
            "nfs4_compound",
            "RPC_TIMEDOUT",
            Kind::Timeout,
            nfs(NFS_TIMEOUT),
        ),
        (Proto::Nfs3, Removed, _) => sees(
            "getattr",
            "NFS3ERR_STALE (70)",
            Kind::Fast,
            nfs("clp_nfsmon: NFS3ERR_STALE"),
        ),
        (_, Removed, _) => sees(
            "readdir",
            "NFS4ERR_STALE (70)*",
            Kind::Fast,
            nfs("clp_nfsmon: NFS4ERR_STALE*"),
        ),
    }
}

/// What the reference clients must see of `fault` on `proto`: (listing works, write works).
/// `None` for the listing where it may go either way: `nfs-ls` over v4 of a hung export is
/// answered from Ganesha's caches when they still hold the directory.
fn reference_under(proto: Proto, fault: Fault) -> (Option<bool>, bool) {
    match (proto, fault) {
        (Proto::Nfs4, Fault::Hang) => (None, false),
        (_, Fault::Hang | Fault::Removed) => (Some(false), false),
        (_, Fault::ReadOnly | Fault::Full) => (Some(true), false),
    }
}

/// One monitor of the test.
struct Watch {
    row: Row,
    target: usize,
    level: CheckLevel,
    label: String,
    want: Option<Sees>,
    /// When it exited after the fault was in place, and how.
    exit: Option<(Duration, Option<i32>)>,
}

/// `(phase, status, check)` of every `probe failed` line of the row's fault log.
fn failure_fields(row: &Row) -> Vec<(String, String, String)> {
    let field = |l: &str, key: &str| {
        l.split_once(&format!(" {key}="))
            .map(|(_, t)| {
                if let Some(q) = t.strip_prefix('"') {
                    q.split('"').next().unwrap_or_default().to_owned()
                } else {
                    t.split(' ').next().unwrap_or_default().to_owned()
                }
            })
            .unwrap_or_default()
    };
    row.fault_log()
        .lines()
        .filter(|l| l.contains("probe failed "))
        .map(|l| (field(l, "phase"), field(l, "status"), field(l, "check")))
        .collect()
}

/// The monitor ID of `proto` at `level` for `fault` (ASCII letters and digits).
fn monitor_id(fault: Fault, proto: Proto, level: CheckLevel) -> String {
    let f = match fault {
        Fault::Hang => "hang",
        Fault::ReadOnly => "ro",
        Fault::Full => "full",
        Fault::Removed => "gone",
    };
    format!("st{f}{}{}", proto.name(), level.name())
}

/// Runs the reference clients on every target at once: (target, listing, write), the write
/// named `name_PROTO`.
fn references(
    targets: &[Target],
    local: &Path,
    name: &str,
) -> Vec<JoinHandle<(usize, Outcome, Outcome)>> {
    targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let (t, local, name) = (
                t.clone(),
                local.to_owned(),
                format!("{name}{}", t.proto.name()),
            );
            std::thread::spawn(move || {
                // Listing and write side by side, so a hang costs one deadline, not two.
                let t2 = t.clone();
                let put = std::thread::spawn(move || t2.put(&local, &name));
                let ls = t.ls();
                (i, ls, put.join().unwrap())
            })
        })
        .collect()
}

/// The reference clients' results, in target order.
fn joined(h: Vec<JoinHandle<(usize, Outcome, Outcome)>>) -> Vec<(Outcome, Outcome)> {
    let mut v: Vec<_> = h.into_iter().map(|h| h.join().unwrap()).collect();
    v.sort_by_key(|r| r.0);
    v.into_iter().map(|r| (r.1, r.2)).collect()
}

/// The test's body on a site whose server is `site.server` and whose targets are `targets`;
/// `restore` is what the server needs after the storage is healed, besides nothing.
fn exercise<S>(site: &mut Site<S>, targets: &[Target], fault: Fault, restore: impl FnOnce(&mut S)) {
    let fname = fault.name();
    let local = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(local.path(), "reference client\n").unwrap();

    // The site works for every reference client before the fault.
    for (t, (ls, put)) in
        targets
            .iter()
            .zip(joined(references(targets, local.path(), ".ref-before-")))
    {
        assert!(
            ls.ok() && put.ok(),
            "{fname} {}: before the fault: ls {ls:?}, put {put:?}",
            t.proto.name()
        );
    }

    let mut watches: Vec<Watch> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        for level in CheckLevel::ALL {
            let id = monitor_id(fault, t.proto, level);
            let mut args = t.args();
            args.extend(["--check".into(), level.name().into()]);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            watches.push(Watch {
                row: Row::start(t.applet(), &id, &args, SCHED),
                target: i,
                level,
                label: format!("st-{fname}-{}-{}", t.proto.name(), level.name()),
                want: expected(t.proto, fault, level),
                exit: None,
            });
        }
    }

    let injecting = Instant::now();
    site.storage.inject(fault);
    let t0 = Instant::now();
    eprintln!(
        "FM row=st-{fname} fault in place after {:.2}s",
        (t0 - injecting).as_secs_f64()
    );
    let under_fault = references(targets, local.path(), ".ref-fault-");

    // Every monitor at once: a detecting one until it exits (or the deadline), a missing one
    // until the bound has passed (the latest its detection could have come).
    let window = SCHED.upper();
    let limit = window + Duration::from_secs(15);
    loop {
        let now = t0.elapsed();
        for w in &mut watches {
            if w.exit.is_none()
                && let Some(st) = w.row.mon.child.try_wait().unwrap()
            {
                w.exit = Some((now, st.code()));
            }
        }
        let pending = watches.iter().any(|w| w.want.is_some() && w.exit.is_none());
        if (now >= window && !pending) || now >= limit {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for w in &watches {
        eprintln!(
            "FM row={} applet={} sched={SCHED:?} expect={} exit={:?} events={:?} failures={:?} {:?}",
            w.label,
            w.row.applet,
            if w.want.is_some() { "detect" } else { "miss" },
            w.exit
                .map(|e| format!("{:?} after {:.2}s", e.1, e.0.as_secs_f64())),
            w.row.sb.event_ids(),
            w.row.failures(),
            failure_fields(&w.row),
        );
    }
    for w in &mut watches {
        if let Some(sees) = &w.want {
            let (took, code) = w.exit.unwrap_or((limit, None));
            if code.is_none() {
                let _ = w.row.mon.child.kill();
            }
            let want: Vec<(u16, &str)> =
                sees.alerts.iter().map(|(e, t)| (*e, t.as_str())).collect();
            w.row
                .check_fault(&w.label, took, code, limit, sees.kind, &want);
            // Each failing probe says where and why, at its own level.
            for (phase, status, check) in failure_fields(&w.row) {
                assert!(
                    text_matches(sees.phase, &phase)
                        && text_matches(&sees.status, &status)
                        && check == w.level.name(),
                    "{}: failure phase={phase} status={status} check={check}, want phase={} status={}\n{}",
                    w.label,
                    sees.phase,
                    sees.status,
                    w.row.fault_log()
                );
            }
        } else {
            // It missed the fault: running, no failed probe, and it stops as any monitor does.
            assert_eq!(
                w.exit,
                None,
                "{}: must miss the fault:\n{}\n{}",
                w.label,
                w.row.sb.alert_log(),
                w.row.fault_log()
            );
            assert!(
                w.row.failures().is_empty(),
                "{}: {}",
                w.label,
                w.row.fault_log()
            );
            assert_eq!(w.row.sb.event_ids(), [1, 2], "{}", w.row.sb.alert_log());
            w.row.stop_cleanly();
        }
    }

    // The fault was real: what a client sees of it.
    for (t, (ls, put)) in targets.iter().zip(joined(under_fault)) {
        let (ls_ok, put_ok) = reference_under(t.proto, fault);
        eprintln!(
            "FM row=st-{fname}-{} reference under the fault: ls {ls:?}, put {put:?}",
            t.proto.name()
        );
        assert_eq!(put.ok(), put_ok, "{fname} {}: put {put:?}", t.proto.name());
        // The reference client's write fails with the status the write level reports (checked
        // above): smbclient names the NT status; nfs-cp the nfsstat where the server sent one
        // at CREATE or OPEN (a failed WRITE it reports without one).
        if let Outcome::Failed(text) = &put {
            let named = text
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .find_map(|w| {
                    w.strip_prefix("NT_")
                        .filter(|w| w.starts_with("STATUS_"))
                        .or_else(|| {
                            (w.starts_with("NFS3ERR_") || w.starts_with("NFS4ERR_")).then_some(w)
                        })
                });
            if t.proto == Proto::Smb {
                assert!(
                    named.is_some(),
                    "smbclient put failed without an NT status: {text}"
                );
            }
            if let Some(name) = named {
                let sees =
                    expected(t.proto, fault, CheckLevel::Write).expect("write sees every fault");
                assert!(
                    sees.status.starts_with(name),
                    "{fname} {}: the reference client's write {name}, the write level {}",
                    t.proto.name(),
                    sees.status
                );
            }
        }
        if let Some(ls_ok) = ls_ok {
            assert_eq!(ls.ok(), ls_ok, "{fname} {}: ls {ls:?}", t.proto.name());
        }
    }

    site.storage.heal();
    restore(&mut site.server);

    // The heal is real: every reference client and every level of the monitor succeed.
    for (t, (ls, put)) in
        targets
            .iter()
            .zip(joined(references(targets, local.path(), ".ref-healed-")))
    {
        assert!(
            ls.ok() && put.ok(),
            "{fname} {}: healed: ls {ls:?}, put {put:?}",
            t.proto.name()
        );
    }
    for w in &watches {
        let t = &targets[w.target];
        let mut args = vec![w.row.id.clone()];
        args.extend(t.args());
        args.extend([
            "--check".into(),
            w.level.name().into(),
            "--once".into(),
            "-r".into(),
            "5".into(),
        ]);
        let out = w.row.sb.cmd(t.applet()).args(&args).output().unwrap();
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{} healed --once: {line}",
            w.label
        );
        assert!(
            line.contains(&format!("check={}", w.level.name())),
            "{line}"
        );
    }

    // Nothing left on the share but its own file: the reference clients' files go, and no
    // canary outlives the --once above.
    let share = site.storage.share();
    let mut left = BTreeSet::new();
    for e in std::fs::read_dir(share).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with(".ref-") {
            std::fs::remove_file(share.join(&name)).unwrap();
        } else {
            left.insert(name);
        }
    }
    assert_eq!(
        left,
        BTreeSet::from([HELLO.to_owned()]),
        "{}",
        share.display()
    );
}

/// smbd on the storage of `fault`, one guest share `st` on it.
fn samba_row(fault: Fault) {
    let storage = Storage::for_fault(fault);
    let lines = "   guest ok = yes\n   read only = no\n";
    let shares = [(SHARE, storage.share(), lines)];
    let setup = Setup {
        shares_at: &shares,
        ..Setup::default()
    };
    let server = Smbd::start_in_netns_setup(Flavour::Standard, 445, &setup);
    let mut site = Site { server, storage };
    let targets = [Target {
        proto: Proto::Smb,
        host: site.server.address(),
        path: SHARE.into(),
    }];
    exercise(&mut site, &targets, fault, |_| {});
}

/// Ganesha (v3 + v4) exporting the storage of `fault`.
fn nfs_row(fault: Fault) {
    let storage = Storage::for_fault(fault);
    let export = export_block(2, storage.share(), Flavor::V3V4, "RW", "No_Root_Squash");
    let server = NfsServer::start_with(Flavor::V3V4, &(export + GANESHA_FD_REAPER));
    let export = storage.share().to_str().unwrap().to_owned();
    let mut site = Site { server, storage };
    let host = site.server.addr().to_string();
    let targets = [Proto::Nfs3, Proto::Nfs4].map(|proto| Target {
        proto,
        host: host.clone(),
        path: export.clone(),
    });
    exercise(&mut site, &targets, fault, |srv| {
        if fault == Fault::Removed {
            // The export's root handle is stale for good: only a new start looks the path up.
            srv.kill_ganesha();
            srv.restart_ganesha();
        }
    });
}

#[test]
fn samba_storage_hung() {
    samba_row(Fault::Hang);
}

#[test]
fn samba_storage_read_only() {
    samba_row(Fault::ReadOnly);
}

#[test]
fn samba_storage_full() {
    samba_row(Fault::Full);
}

#[test]
fn samba_share_directory_deleted() {
    samba_row(Fault::Removed);
}

#[test]
fn nfs_storage_hung() {
    nfs_row(Fault::Hang);
}

#[test]
fn nfs_storage_read_only() {
    nfs_row(Fault::ReadOnly);
}

#[test]
fn nfs_storage_full() {
    nfs_row(Fault::Full);
}

#[test]
fn nfs_export_directory_deleted() {
    nfs_row(Fault::Removed);
}

/// The rig itself: each fault is in place once injected and gone once healed, seen from this
/// side (no server): a stat below a hung FUSE mount blocks, a read-only or full file system
/// refuses a write, a deleted directory is gone; and nothing stays mounted afterwards.
#[test]
fn storage_rig_faults_are_real_and_undone() {
    for fault in Fault::ALL {
        let st = Storage::for_fault(fault);
        let mnt = st.mount_point().to_owned();
        let share = st.share().to_owned();
        let probe = share.join(".rig-probe");
        let try_write = |p: &Path| std::fs::write(p, "x").map(|()| std::fs::remove_file(p));
        assert!(try_write(&probe).is_ok(), "{fault:?} before");
        st.inject(fault);
        match fault {
            Fault::Hang => {
                let share2 = share.clone();
                let stat =
                    std::thread::spawn(move || std::fs::metadata(share2.join(HELLO)).is_ok());
                std::thread::sleep(Duration::from_millis(500));
                assert!(
                    !stat.is_finished(),
                    "a stat below the stopped bindfs returned"
                );
                st.heal();
                assert!(
                    wait_until(Duration::from_secs(5), || stat.is_finished()),
                    "the stat did not return after SIGCONT"
                );
                assert!(stat.join().unwrap());
            }
            Fault::ReadOnly | Fault::Full => {
                let e = try_write(&probe).expect_err("write on a broken file system");
                let want = if fault == Fault::Full { 28 } else { 30 };
                assert_eq!(e.raw_os_error(), Some(want), "{fault:?}: {e}");
                let _ = std::fs::remove_file(&probe);
                st.heal();
            }
            Fault::Removed => {
                assert!(!share.exists());
                st.heal();
            }
        }
        assert!(try_write(&probe).is_ok(), "{fault:?} healed");
        drop(st);
        assert_eq!(
            crate::rig::storage::mount_at(&mnt),
            None,
            "{fault:?}: still mounted"
        );
        assert!(!mnt.exists(), "{fault:?}: {} left behind", mnt.display());
    }
}

/// A test that fails with a fault in place still leaves nothing behind: the panic unwinds
/// through the Storage's drop, which heals, unmounts and detaches (FUSE: the daemon ended;
/// ext4: the loop device free again).
#[test]
fn storage_rig_cleans_up_after_a_panic() {
    for fault in [Fault::Hang, Fault::ReadOnly] {
        let seen = std::sync::Mutex::new(None);
        let r = std::panic::catch_unwind(|| {
            let st = Storage::for_fault(fault);
            *seen.lock().unwrap() =
                Some((st.mount_point().to_owned(), st.device().map(str::to_owned)));
            st.inject(fault);
            panic!("a failing test with {fault:?} in place");
        });
        assert!(r.is_err());
        let (mnt, device) = seen.into_inner().unwrap().unwrap();
        assert_eq!(
            crate::rig::storage::mount_at(&mnt),
            None,
            "{fault:?}: still mounted"
        );
        assert!(!mnt.exists(), "{fault:?}: {} left behind", mnt.display());
        if let Some(dev) = device {
            let back = format!(
                "/sys/block/{}/loop/backing_file",
                dev.trim_start_matches("/dev/")
            );
            let now = std::fs::read_to_string(&back).unwrap_or_default();
            assert!(
                !now.contains(mnt.parent().unwrap().to_str().unwrap()),
                "{dev} still attached: {now}"
            );
        }
    }
}
