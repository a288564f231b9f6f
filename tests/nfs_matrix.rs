//! The differential NFS test (issue 13): the probe's verdict against the reference clients',
//! across server implementations and configurations (SPEC §8, the verdict rule).
//!
//! Every case is one export of one server reached one way. For each, `clp_nfsmon m1 -d DIR -a IP
//! … -r 10 --once --json` (the built binary through its applet link, in a licensed sandbox)
//! runs, and so do the reference clients that can reach the server that way:
//!
//! - `nfs-ls nfs://IP/DIR?…` (libnfs-utils) with the same road: its defaults (portmapper, MOUNT
//!   v3, `NFSv3` over TCP) for the probe's defaults on a v3 server, `version=4` for `--nfs4` and
//!   for the probe's automatic switch to v4 (the road a kernel client takes too: it tries v4
//!   first), `nfsport=`/`mountport=` for `-n`/`--mount-port`. nfs-ls has no UDP. It agrees when
//!   its verdict (OK or CRITICAL) is the probe's and, where it names a status (`MNT3ERR_…`,
//!   `NFS3ERR_…`, `NFS4ERR_…`), the probe's status is that status. nfs-ls lists the directory,
//!   as the probe's default level (`--check read`) does with its READDIR.
//! - `rpcinfo -T PROTO IP mountd 3` and `nfs 3` (or `nfs 4`): NULL calls through rpcbind, so
//!   only where rpcbind runs (rpcinfo asks the portmapper over UDP even with `-n`, and nfsserve
//!   has no UDP). It checks reachability only, so it agrees when it fails exactly when the probe
//!   fails at `portmap` or `nfs_null`.
//!
//! The servers ([`targets`]): NFS-Ganesha (tests/rig/nfs.rs) v3+v4, v3 only, v3 only with its
//! registrations removed from rpcbind (reachable only through `-n`/`--mount-port`), v4 only
//! without and behind rpcbind, 4.0-, 4.1- and 4.2-only, a root-squashed export (readable, and
//! mode 0700), a krb5-only export; and nfsserve (tests/rig/nfsserve.rs), an `NFSv3` server of
//! another implementation, on port 111 and on another port. Each server is a host of its own;
//! a few worker threads take targets from the table. The matrix is printed as a Markdown table
//! on stderr and written to `target/nfs-matrix.md`.
//!
//! Every case must agree, except those in [`KNOWN`], each tagged with why. A listed case must
//! still disagree — when it agrees, the test fails and says to move it off the list — so the
//! list never hides a new disagreement nor outlives its cause.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::rig::matrix::{self, cell};
use crate::rig::nfs::{Export, Flavor, NfsServer};
use crate::rig::nfsserve::NfsServe;
use crate::rig::{Sandbox, output_within, require_root, require_tool};

/// Worker threads (each runs one server at a time).
const WORKERS: usize = 3;
/// Deadline of one reference client run and one probe.
const CLIENT_LIMIT: Duration = Duration::from_secs(30);
/// The port of the nfsserve target that is not on 111.
const ODD_PORT: u16 = 11_111;

/// Why a case of [`KNOWN`] disagrees.
const TAGS: &[(&str, &str)] = &[(
    "libnfs-v4.0",
    "nfs-ls (libnfs 4.0) speaks NFSv4.0 only and cannot reach a 4.1- or 4.2-only server; a \
         Linux client negotiates 4.2, then 4.1, as the probe does",
)];

/// Cases known to disagree, with why. A case listed here must disagree; every other case must
/// agree.
const KNOWN: &[(&str, &str)] = &[
    ("ganesha 4.1 only: export, NFSv4", "libnfs-v4.0"),
    ("ganesha 4.2 only: export, NFSv4", "libnfs-v4.0"),
];

/// Which directory a case asks for.
#[derive(Clone, Copy, Debug)]
enum Dir {
    /// The export.
    Export,
    /// A directory below the export that is not exported (and does not exist).
    NotExported,
    /// The export, written `EXPORT/sub/..`.
    ExportDotDot,
    /// This path.
    Path(&'static str),
}

/// The rpcinfo calls of a case's road.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rpcinfo {
    /// `mountd 3` and `nfs 3` over TCP.
    V3Tcp,
    /// The same over UDP.
    V3Udp,
    /// `nfs 4` over TCP.
    V4,
}

/// One way to reach one export.
#[derive(Clone, Copy, Debug)]
struct Case {
    what: &'static str,
    dir: Dir,
    /// The probe's options besides `-d` and `-a`; `{port}` is the server's port.
    probe: &'static [&'static str],
    /// `-a IP:PORT`, the portmapper on the server's port, instead of `-a IP`.
    pmap_at_port: bool,
    /// nfs-ls's URL query for the same road (`""`: its defaults); `None`: it has no such road.
    nfs_ls: Option<&'static str>,
    /// rpcinfo's calls for the same road; `None`: rpcinfo cannot reach the server that way.
    rpcinfo: Option<Rpcinfo>,
}

const fn case(
    what: &'static str,
    dir: Dir,
    probe: &'static [&'static str],
    nfs_ls: Option<&'static str>,
    rpcinfo: Option<Rpcinfo>,
) -> Case {
    Case {
        what,
        dir,
        probe,
        pmap_at_port: false,
        nfs_ls,
        rpcinfo,
    }
}

/// The export over `NFSv3`/TCP with every default.
const V3: Case = case(
    "export, NFSv3",
    Dir::Export,
    &[],
    Some(""),
    Some(Rpcinfo::V3Tcp),
);
/// The export over `NFSv4`.
const V4: Case = case(
    "export, NFSv4",
    Dir::Export,
    &["--nfs4"],
    Some("?version=4"),
    Some(Rpcinfo::V4),
);

/// Which server a target starts.
#[derive(Clone, Copy, Debug)]
enum Server {
    /// Ganesha of `flavor` exporting as `export` says; its rpcbind registrations removed when
    /// `unregister`.
    Ganesha {
        flavor: Flavor,
        export: Export,
        unregister: bool,
    },
    /// nfsserve on `port`.
    NfsServe { port: u16 },
}

const fn ganesha(flavor: Flavor) -> Server {
    Server::Ganesha {
        flavor,
        export: Export {
            squash: "No_Root_Squash",
            sec_type: "sys",
            mode: 0o755,
        },
        unregister: false,
    }
}

/// One server and the cases tried against it.
struct Target {
    name: &'static str,
    server: Server,
    cases: Vec<Case>,
}

/// The matrix.
#[allow(clippy::too_many_lines)]
fn targets() -> Vec<Target> {
    use Rpcinfo::{V3Udp, V4 as R4};
    let no_rpcbind = |c: Case| Case { rpcinfo: None, ..c };
    let squashed = |mode| Server::Ganesha {
        flavor: Flavor::V3V4,
        export: Export {
            squash: "Root_Squash",
            mode,
            ..Export::default()
        },
        unregister: false,
    };
    let mut t = vec![
        Target {
            name: "ganesha v3+v4",
            server: ganesha(Flavor::V3V4),
            cases: vec![
                V3,
                case(
                    "export, NFSv3/UDP",
                    Dir::Export,
                    &["--udp"],
                    None,
                    Some(V3Udp),
                ),
                V4,
                case(
                    "not exported, NFSv3",
                    Dir::NotExported,
                    &[],
                    Some(""),
                    Some(Rpcinfo::V3Tcp),
                ),
                case(
                    "not exported, NFSv4",
                    Dir::NotExported,
                    &["--nfs4"],
                    Some("?version=4"),
                    Some(R4),
                ),
                case(
                    "'..' in the path, NFSv3",
                    Dir::ExportDotDot,
                    &[],
                    Some(""),
                    Some(Rpcinfo::V3Tcp),
                ),
                case(
                    "'..' in the path, NFSv4",
                    Dir::ExportDotDot,
                    &["--nfs4"],
                    Some("?version=4"),
                    Some(R4),
                ),
                case(
                    "'..' above the pseudo root, NFSv4",
                    Dir::Path("/tmp/../x"),
                    &["--nfs4"],
                    Some("?version=4"),
                    Some(R4),
                ),
            ],
        },
        Target {
            name: "ganesha v3 only",
            server: ganesha(Flavor::V3Only),
            cases: vec![V3, V4],
        },
        Target {
            name: "ganesha v3 only, not registered with rpcbind",
            server: Server::Ganesha {
                flavor: Flavor::V3Only,
                export: Export::default(),
                unregister: true,
            },
            cases: vec![
                case(
                    "export, ports from the portmapper",
                    Dir::Export,
                    &[],
                    Some(""),
                    Some(Rpcinfo::V3Tcp),
                ),
                case(
                    "export, -n and --mount-port",
                    Dir::Export,
                    &["-n", "2049", "--mount-port", "20048"],
                    Some("?nfsport=2049&mountport=20048"),
                    None,
                ),
            ],
        },
        Target {
            name: "ganesha v4 only, no rpcbind",
            server: ganesha(Flavor::V4Only),
            cases: vec![
                case(
                    "export, found without --nfs4",
                    Dir::Export,
                    &[],
                    Some("?version=4"),
                    None,
                ),
                no_rpcbind(V4),
            ],
        },
        Target {
            name: "ganesha v4 only, behind rpcbind",
            server: ganesha(Flavor::V4Rpcbind),
            cases: vec![
                case(
                    "export, found without --nfs4",
                    Dir::Export,
                    &[],
                    Some("?version=4"),
                    Some(R4),
                ),
                V4,
            ],
        },
        Target {
            name: "ganesha 4.0 only",
            server: ganesha(Flavor::V40Only),
            cases: vec![no_rpcbind(V4)],
        },
        Target {
            name: "ganesha 4.1 only",
            server: ganesha(Flavor::V41Only),
            cases: vec![no_rpcbind(V4)],
        },
        Target {
            name: "ganesha 4.2 only",
            server: ganesha(Flavor::V42Only),
            cases: vec![no_rpcbind(V4)],
        },
        Target {
            name: "ganesha root squash",
            server: squashed(0o755),
            cases: vec![V3, V4],
        },
        Target {
            name: "ganesha root squash, mode 0700",
            server: squashed(0o700),
            cases: vec![V3, V4],
        },
        Target {
            name: "ganesha krb5 only",
            server: Server::Ganesha {
                flavor: Flavor::V3V4,
                export: Export {
                    sec_type: "krb5",
                    ..Export::default()
                },
                unregister: false,
            },
            cases: vec![V3, V4],
        },
    ];
    let at_port = |c: Case| Case {
        pmap_at_port: true,
        ..c
    };
    t.push(Target {
        name: "nfsserve, port 111",
        server: Server::NfsServe { port: 111 },
        cases: vec![
            no_rpcbind(V3),
            case("not exported, NFSv3", Dir::NotExported, &[], Some(""), None),
            case(
                "export, NFSv4 (it has none)",
                Dir::Export,
                &["--nfs4", "-n", "{port}"],
                Some("?version=4&nfsport={port}"),
                None,
            ),
        ],
    });
    t.push(Target {
        name: "nfsserve, port 11111",
        server: Server::NfsServe { port: ODD_PORT },
        cases: vec![
            case(
                "export, -n and --mount-port",
                Dir::Export,
                &["-n", "{port}", "--mount-port", "{port}"],
                Some("?nfsport={port}&mountport={port}"),
                None,
            ),
            at_port(case(
                "export, its portmapper (-a IP:PORT)",
                Dir::Export,
                &[],
                Some("?nfsport={port}&mountport={port}"),
                None,
            )),
            case(
                "export, the default ports",
                Dir::Export,
                &[],
                Some(""),
                None,
            ),
        ],
    });
    t
}

/// What one client concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Verdict {
    /// `OK`, `CRITICAL`, or what else happened (`UNKNOWN`, `TIMEOUT`, `ERROR`, `n/a`).
    outcome: String,
    /// The phase that failed (the probe's; empty otherwise).
    phase: String,
    /// The status the client named (`MNT3ERR_ACCES`, `NFS4ERR_WRONGSEC`); empty when it
    /// named none.
    status: String,
    /// What it said (shortened).
    text: String,
}

impl Verdict {
    fn ok() -> Self {
        Self {
            outcome: "OK".into(),
            phase: String::new(),
            status: String::new(),
            text: String::new(),
        }
    }

    fn other(outcome: &str, text: &str) -> Self {
        Self {
            outcome: outcome.into(),
            phase: String::new(),
            status: String::new(),
            text: text.trim().chars().take(160).collect(),
        }
    }

    fn critical(&self) -> bool {
        self.outcome == "CRITICAL"
    }
}

/// The first NFS or MOUNT status name in `text` (`NFS4ERR_WRONGSEC(-5)` → `NFS4ERR_WRONGSEC`).
fn status_name(text: &str) -> Option<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| {
            ["NFS4ERR_", "NFS3ERR_", "MNT3ERR_"]
                .iter()
                .any(|p| w.starts_with(p) && w.len() > p.len())
        })
}

/// nfs-ls's verdict from its exit and what it printed.
fn nfs_ls_verdict(success: bool, text: &str) -> Verdict {
    if success {
        return Verdict::ok();
    }
    Verdict {
        status: status_name(text).unwrap_or("").into(),
        ..Verdict::other("CRITICAL", text)
    }
}

/// The probe's verdict from its `--once --json` output.
fn probe_verdict(code: Option<i32>, stdout: &str, stderr: &str) -> Verdict {
    let code = code.map_or_else(|| "by a signal".to_owned(), |c| c.to_string());
    let Ok(v) = serde_json::from_str::<serde_json::Value>(stdout.trim()) else {
        return Verdict::other("UNKNOWN", &format!("exit {code}: {stdout}{stderr}"));
    };
    match v["status"].as_str() {
        Some("OK") => Verdict::ok(),
        Some("CRITICAL") => {
            let f = &v["failure"];
            let status = f["status"].as_str().unwrap_or("");
            Verdict {
                outcome: "CRITICAL".into(),
                phase: f["phase"].as_str().unwrap_or("").into(),
                // `NAME (code) …`: the name.
                status: status.split(" (").next().unwrap_or("").into(),
                text: v["alerts"][0]["text"].as_str().unwrap_or("").into(),
            }
        }
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
    Ganesha(NfsServer),
    NfsServe(NfsServe),
}

impl Running {
    fn start(server: Server) -> Self {
        match server {
            Server::Ganesha {
                flavor,
                export,
                unregister,
            } => {
                let s = NfsServer::start_export(flavor, export, "");
                if unregister {
                    s.unregister();
                }
                Self::Ganesha(s)
            }
            Server::NfsServe { port } => Self::NfsServe(NfsServe::start(port)),
        }
    }

    fn ip(&self) -> String {
        match self {
            Self::Ganesha(s) => s.addr().to_string(),
            Self::NfsServe(s) => s.addr().to_string(),
        }
    }

    fn port(&self) -> u16 {
        match self {
            Self::Ganesha(_) => 2049,
            Self::NfsServe(s) => s.port(),
        }
    }

    fn export(&self) -> &str {
        match self {
            Self::Ganesha(s) => s.export(),
            Self::NfsServe(s) => s.export(),
        }
    }

    fn log(&self) -> String {
        match self {
            Self::Ganesha(s) => s.log(),
            Self::NfsServe(s) => s.log(),
        }
    }
}

/// One measured case.
struct Row {
    case: String,
    nfs_ls: Option<Verdict>,
    rpcinfo: Option<Verdict>,
    probe: Verdict,
}

impl Row {
    /// nfs-ls agrees: same verdict, and where it named a status, the probe's.
    fn nfs_ls_agrees(&self) -> bool {
        self.nfs_ls.as_ref().is_none_or(|n| {
            n.outcome == self.probe.outcome
                && (n.status.is_empty() || self.probe.status.starts_with(&n.status))
        })
    }

    /// rpcinfo agrees: it fails exactly when the probe fails reaching the services.
    fn rpcinfo_agrees(&self) -> bool {
        self.rpcinfo.as_ref().is_none_or(|r| {
            let unreachable =
                self.probe.critical() && ["portmap", "nfs_null"].contains(&&*self.probe.phase);
            r.critical() == unreachable && (r.critical() || r.outcome == "OK")
        })
    }

    fn agree(&self) -> bool {
        self.nfs_ls_agrees() && self.rpcinfo_agrees()
    }

    /// Disagrees and is not listed in [`KNOWN`], or agrees and is.
    fn unexpected(&self) -> bool {
        self.agree() == known_tag(&self.case).is_some()
    }
}

fn known_tag(case: &str) -> Option<&'static str> {
    KNOWN.iter().find(|(c, _)| *c == case).map(|(_, t)| *t)
}

/// Runs `cmd`, bounded: `None` when it did not end in time.
fn run(cmd: &mut Command) -> Option<(bool, String)> {
    output_within(cmd, b"", CLIENT_LIMIT).map(|out| {
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    })
}

/// rpcinfo's verdict on the calls of `road`: OK when every one is answered.
fn rpcinfo_verdict(ip: &str, road: Rpcinfo) -> Verdict {
    let calls: &[(&str, &str, &str)] = match road {
        Rpcinfo::V3Tcp => &[("tcp", "mountd", "3"), ("tcp", "nfs", "3")],
        Rpcinfo::V3Udp => &[("udp", "mountd", "3"), ("udp", "nfs", "3")],
        Rpcinfo::V4 => &[("tcp", "nfs", "4")],
    };
    for (proto, prog, vers) in calls {
        let mut c = Command::new("rpcinfo");
        c.args(["-T", proto, ip, prog, vers]);
        match run(&mut c) {
            Some((true, _)) => {}
            Some((false, text)) => {
                return Verdict::other("CRITICAL", &format!("{prog} {vers}: {text}"));
            }
            None => return Verdict::other("TIMEOUT", "rpcinfo did not end"),
        }
    }
    Verdict::ok()
}

/// Runs the clients for every case of `target`, whose server is `server`.
fn measure(target: &Target, server: &Running, sb: &Sandbox) -> Vec<Row> {
    let ip = server.ip();
    let port = server.port().to_string();
    let fill = |s: &str| s.replace("{port}", &port);
    let mut rows = Vec::new();
    for c in &target.cases {
        let dir = match c.dir {
            Dir::Export => server.export().to_owned(),
            Dir::NotExported => format!("{}/not-exported", server.export()),
            Dir::ExportDotDot => format!("{}/sub/..", server.export()),
            Dir::Path(p) => p.to_owned(),
        };
        let nfs_ls = c.nfs_ls.map(|q| {
            let mut cmd = Command::new("nfs-ls");
            cmd.arg(format!("nfs://{ip}{dir}{}", fill(q)));
            match run(&mut cmd) {
                Some((ok, text)) => nfs_ls_verdict(ok, &text),
                None => Verdict::other("TIMEOUT", "nfs-ls did not end"),
            }
        });
        let rpcinfo = c.rpcinfo.map(|road| rpcinfo_verdict(&ip, road));
        let addr = if c.pmap_at_port {
            format!("{ip}:{port}")
        } else {
            ip.clone()
        };
        let mut p = sb.std_cmd("clp_nfsmon");
        p.args([
            "m1", "-d", &dir, "-a", &addr, "-r", "10", "--once", "--json",
        ])
        .args(c.probe.iter().map(|a| fill(a)));
        let probe = match output_within(&mut p, b"", CLIENT_LIMIT) {
            Some(out) => probe_verdict(
                out.status.code(),
                &String::from_utf8_lossy(&out.stdout),
                &String::from_utf8_lossy(&out.stderr),
            ),
            None => Verdict::other("TIMEOUT", "clp_nfsmon did not end"),
        };
        rows.push(Row {
            case: format!("{}: {}", target.name, c.what),
            nfs_ls,
            rpcinfo,
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
        Sandbox::licensed,
        |target, sb| {
            let server = Running::start(target.server);
            let rows = measure(target, &server, sb);
            if rows.iter().any(Row::unexpected) {
                matrix::print_log_tail(target.name, &server.log());
            }
            rows
        },
        |target, why| {
            vec![Row {
                case: format!("{}: server", target.name),
                nfs_ls: Some(Verdict::other("ERROR", &why)),
                rpcinfo: None,
                probe: Verdict::other("ERROR", "not run"),
            }]
        },
    )
}

/// A reference client's verdict as two cells: outcome, and its status or what it said.
fn reference_cells(v: Option<&Verdict>) -> (String, String) {
    match v {
        None => ("n/a".into(), "–".into()),
        Some(v) => {
            let why = if v.status.is_empty() {
                &v.text
            } else {
                &v.status
            };
            (cell(&v.outcome), cell(why))
        }
    }
}

/// The matrix as a Markdown table.
fn table(rows: &[Row], took: Duration) -> String {
    let mut s = String::from(
        "| case | nfs-ls | nfs-ls says | rpcinfo | rpcinfo says | probe | phase | status | agree? |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let agree = match (r.agree(), known_tag(&r.case)) {
            (true, None) => "yes".to_owned(),
            (true, Some(t)) => format!("yes — listed as known ({t}): move it"),
            (false, Some(t)) => format!("no, known: {t}"),
            (false, None) => "**NO**".to_owned(),
        };
        let (nl, nl_why) = reference_cells(r.nfs_ls.as_ref());
        let (ri, ri_why) = reference_cells(r.rpcinfo.as_ref());
        let _ = writeln!(
            s,
            "| {} | {nl} | {nl_why} | {ri} | {ri_why} | {} | {} | {} | {agree} |",
            cell(&r.case),
            cell(&r.probe.outcome),
            cell(&r.probe.phase),
            cell(&r.probe.status),
        );
    }
    let count = |f: fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    let known = rows.iter().filter(|r| known_tag(&r.case).is_some()).count();
    let agreeing = count(Row::agree);
    let _ = writeln!(
        s,
        "\n{} cases ({} against nfs-ls, {} against rpcinfo): {agreeing} agree, {} disagree \
         ({known} listed as known); {:.1} s.\n",
        rows.len(),
        count(|r| r.nfs_ls.is_some()),
        count(|r| r.rpcinfo.is_some()),
        rows.len() - agreeing,
        took.as_secs_f64()
    );
    s.push_str("Known disagreements:\n\n");
    for (t, what) in TAGS {
        let _ = writeln!(s, "- {t}: {what}");
    }
    s
}

/// The probe agrees with nfs-ls and rpcinfo on every case of the matrix but the known
/// disagreements, and each of those still disagrees.
#[test]
fn verdicts_equal_nfs_ls_and_rpcinfo_across_servers() {
    require_root("the NFS matrix (Ganesha, nfsserve, network namespaces)");
    require_tool("nfs-ls", "libnfs-utils");
    require_tool("rpcinfo", "rpcbind");
    require_tool("ganesha.nfsd", "nfs-ganesha nfs-ganesha-vfs");
    crate::rig::nfsserve::binary();
    let targets = targets();
    let t = Instant::now();
    let rows = run_matrix(&targets);
    let took = t.elapsed();
    let md = table(&rows, took);
    // Straight to the test's stderr, past the harness's capture: the table is wanted on success.
    let _ = std::io::Write::write_all(&mut std::io::stderr(), md.as_bytes());
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/nfs-matrix.md");
    std::fs::write(&out, &md).unwrap();
    let mut problems = Vec::new();
    for (case, tag) in KNOWN {
        if !rows.iter().any(|r| r.case == *case) {
            problems.push(format!("KNOWN names no case of the matrix: {case:?}"));
        }
        if !TAGS.iter().any(|(t, _)| t == tag) {
            problems.push(format!("KNOWN cites no tag: {tag} ({case:?})"));
        }
    }
    for r in &rows {
        match (r.agree(), known_tag(&r.case)) {
            (true, Some(t)) => problems.push(format!(
                "{:?} agrees now ({t} gone?): move it off KNOWN",
                r.case
            )),
            (false, None) => problems.push(format!(
                "{:?}: nfs-ls {:?}, rpcinfo {:?}, probe {:?}",
                r.case, r.nfs_ls, r.rpcinfo, r.probe
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
fn client_messages_give_verdict_and_status() {
    let v = nfs_ls_verdict(
        false,
        "Failed to mount nfs share : mount_cb: RPC error: Mount failed with error \
         MNT3ERR_ACCES(13) Permission denied(13)\n",
    );
    assert_eq!(
        (v.outcome.as_str(), v.status.as_str()),
        ("CRITICAL", "MNT3ERR_ACCES")
    );
    let v = nfs_ls_verdict(
        false,
        "Failed to mount nfs share : mount_cb: NFS4: (path /x) failed with NFS4ERR_WRONGSEC(-5)",
    );
    assert_eq!(v.status, "NFS4ERR_WRONGSEC");
    let v = nfs_ls_verdict(false, "Failed to mount nfs share : nfs_service failed");
    assert_eq!((v.outcome.as_str(), v.status.as_str()), ("CRITICAL", ""));
    assert_eq!(nfs_ls_verdict(true, "-rw-r--r-- hello"), Verdict::ok());
    let json = r#"{"alerts":[{"id":0,"text":"clp_nfsmon: mount error(MNT3ERR_ACCES)"}],"failure":{"phase":"mount","status":"MNT3ERR_ACCES (13)"},"status":"CRITICAL"}"#;
    let p = probe_verdict(Some(2), json, "");
    assert_eq!(
        (p.phase.as_str(), p.status.as_str()),
        ("mount", "MNT3ERR_ACCES")
    );
    let row = |nfs_ls: Verdict, rpcinfo: Option<Verdict>, probe: Verdict| Row {
        case: "x".into(),
        nfs_ls: Some(nfs_ls),
        rpcinfo,
        probe,
    };
    let mnt = nfs_ls_verdict(false, "MNT3ERR_ACCES(13)");
    assert!(row(mnt.clone(), Some(Verdict::ok()), p.clone()).agree());
    // A different status, or rpcinfo failing where the probe got past NULL, disagrees.
    assert!(!row(nfs_ls_verdict(false, "MNT3ERR_NOENT(2)"), None, p.clone()).agree());
    let down = Verdict::other("CRITICAL", "nfs 3: Program not registered");
    assert!(!row(mnt, Some(down.clone()), p).agree());
    let pmap = probe_verdict(
        Some(2),
        r#"{"failure":{"phase":"portmap","status":"MOUNT 100005 v3 not registered"},"status":"CRITICAL"}"#,
        "",
    );
    let nfs_ls_down = nfs_ls_verdict(false, "nfs_service failed");
    assert!(row(nfs_ls_down.clone(), Some(down), pmap.clone()).agree());
    assert!(!row(nfs_ls_down, Some(Verdict::ok()), pmap).agree());
    assert_eq!(probe_verdict(Some(3), "", "bad").outcome, "UNKNOWN");
}

/// An nfsserve answers nfs-ls on its own host, and is gone (process, namespace, directory)
/// once dropped.
#[test]
fn nfsserve_serves_and_is_gone_after_drop() {
    require_root("nfsserve in a network namespace");
    require_tool("nfs-ls", "libnfs-utils");
    let s = NfsServe::start(ODD_PORT);
    let (pid, ns, dir) = (s.pid(), s.netns().to_owned(), s.dir().to_owned());
    let url = format!(
        "nfs://{}{}?nfsport={ODD_PORT}&mountport={ODD_PORT}",
        s.addr(),
        s.export()
    );
    let (ok, text) = run(Command::new("nfs-ls").arg(&url)).expect("nfs-ls ended");
    assert!(ok && text.contains("hello"), "{url}: {text}\n{}", s.log());
    drop(s);
    assert!(!dir.exists(), "{} left behind", dir.display());
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "nfsserve (pid {pid}) still running"
    );
    let netns = Command::new("ip").args(["netns", "list"]).output().unwrap();
    assert!(
        !String::from_utf8_lossy(&netns.stdout)
            .split_whitespace()
            .any(|n| n == ns),
        "namespace {ns} left behind"
    );
}
