//! The documentation model: the command lines of `clp-fsmon` and its applets as clap commands,
//! and the man-page sections beyond the options, from which tests/packaging.rs generates the
//! man pages (`contrib/man/*.8`) and shell completions (`contrib/completions/`) and checks that
//! the checked-in files are up to date (`UPDATE_DOCS=1` rewrites them).
//!
//! Nothing here describes an option: the monitors' options and control words come from their
//! one table (`clp_fsmon::cli::options`), `clplcnsc`'s from its parser
//! (`clp_fsmon::applets::clplcnsc::command`), exit statuses from `Exit`, paths from `Paths`. This
//! is test code: the product carries no documentation model.

use std::fmt::Write as _;

use clap::{Arg, ArgAction, Command};

use clp_fsmon::alert::{Event, Module, documented_text, raised_by};
use clp_fsmon::applets::{self, APPLETS};
use clp_fsmon::cli::options::{self, CONTROL, Value};
use clp_fsmon::dispatch::{ABOUT, BINARY, DEFAULT_INSTALL_DIR, OWN_WORDS};
use clp_fsmon::exit::{Exit, MONITOR_STATUSES, PluginStatus};
use clp_fsmon::monitor::board::{State, WINDOW};
use clp_fsmon::monitor::metrics::{self, Kind, METRICS};
use clp_fsmon::monitor::overview::ANSWER_LIMIT;
use clp_fsmon::paths::{Paths, ROOT_ENV};

/// The man-page section of every page.
pub const MAN_SECTION: &str = "8";

/// The date on the man pages: when these descriptions last changed in substance (bump it then).
/// Fixed rather than today's so that regenerating the pages is reproducible.
pub const DOC_DATE: &str = "2026-12-01";

/// The name of every command that gets a man page and completions: the binary, then the applets.
pub fn names() -> Vec<&'static str> {
    std::iter::once(BINARY)
        .chain(APPLETS.iter().map(|a| a.name))
        .collect()
}

/// The documented command line of `name` (the binary or an applet).
pub fn command(name: &str) -> Option<Command> {
    match name {
        BINARY => Some(clp_fsmon()),
        "clp_sambamon" => Some(monitor(Module::Sambamon)),
        "clp_nfsmon" => Some(monitor(Module::Nfsmon)),
        "clplcnsc" => Some(clplcnsc()),
        _ => None,
    }
}

fn about(name: &str) -> &'static str {
    applets::find(name).map_or("", |a| a.about)
}

/// `-h, --help` with the same text in every page (clap's default mentions a `-h` summary that the
/// monitors' own `--help` does not have).
fn help_flag() -> Arg {
    Arg::new("help")
        .short('h')
        .long("help")
        .action(ArgAction::Help)
        .help("Print help")
}

fn documented(name: &'static str) -> Command {
    Command::new(name).disable_help_flag(true).arg(help_flag())
}

/// `clp-fsmon`: the multi-call binary itself.
pub fn clp_fsmon() -> Command {
    let applet_names: Vec<&'static str> = APPLETS.iter().map(|a| a.name).collect();
    let mut usage = vec![format!("{BINARY} APPLET [ARG...]")];
    usage.extend(
        OWN_WORDS
            .iter()
            .filter(|w| w.with.is_none())
            .map(|w| format!("{BINARY} {}", w.form())),
    );
    let cmd = documented(BINARY)
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .long_about(format!(
            "clp-fsmon is one executable that holds every command of the file-server monitor. \
It runs the applet named by the base name it was called under (argv[0]), so the applets are \
links to it: {list}. Called as clp-fsmon, it runs the applet named by its first argument, \
manages those links, or lists the monitors of this server (status).\n\n\
--install makes the links atomically (each under a temporary name, then renamed into place) and is \
idempotent; it never replaces a file that is not a link to this binary. --uninstall removes only \
links that point at this binary and keeps anything else.",
            list = applet_names.join(", ")
        ))
        .override_usage(usage.join("\n"))
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .arg(
            Arg::new("applet")
                .value_name("APPLET")
                .value_parser(clap::builder::PossibleValuesParser::new(
                    applet_names.clone(),
                ))
                .hide_possible_values(true)
                .help(
                    "Run this applet with the remaining arguments, as if called through its link",
                ),
        )
        .arg(
            Arg::new("args")
                .value_name("ARG")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .help("Arguments of the applet"),
        );
    // A word without dashes (`status`) is a command of its own, with the words that go with it
    // as its flags; the others are flags of the binary.
    let flag = |w: &'static clp_fsmon::dispatch::OwnWord| {
        let id = w.word.trim_start_matches('-');
        let a = Arg::new(id).long(id).help(w.help());
        match (w.word, w.value) {
            ("--version", _) => a.short('V').action(ArgAction::Version),
            (_, Some(v)) => a
                .value_name(v)
                .num_args(0..=1)
                .value_hint(clap::ValueHint::DirPath),
            (_, None) => a.action(ArgAction::SetTrue),
        }
    };
    let is_command = |w: &str| !w.starts_with('-');
    OWN_WORDS.iter().fold(cmd, |cmd, w| match w.with {
        None if is_command(w.word) => {
            let with: Vec<&'static str> = OWN_WORDS
                .iter()
                .filter(|m| m.with == Some(w.word))
                .map(|m| m.word.trim_start_matches('-'))
                .collect();
            let sub = OWN_WORDS.iter().filter(|m| m.with == Some(w.word)).fold(
                Command::new(w.word)
                    .about(w.help())
                    .disable_help_flag(true)
                    .arg(help_flag()),
                |sub, m| {
                    let me = m.word.trim_start_matches('-');
                    let others: Vec<&str> = with.iter().copied().filter(|o| *o != me).collect();
                    sub.arg(flag(m).conflicts_with_all(others))
                },
            );
            cmd.subcommand(sub)
        }
        None => cmd.arg(flag(w)),
        Some(other) if is_command(other) => cmd,
        Some(other) => cmd.arg(flag(w).requires(other.trim_start_matches('-'))),
    })
}

/// `clp_sambamon` or `clp_nfsmon`.
pub fn monitor(module: Module) -> Command {
    let name = module.applet();
    // The synopsis is the first two lines of the applet's own `--help`, so the two cannot differ.
    let synopsis = options::synopsis(module);
    let (what, long_about) = match module {
        Module::Sambamon => (
            "share",
            "clp_sambamon watches a Samba (SMB/CIFS) share with a real SMB session each probe: \
SMB2/3 NEGOTIATE, NTLMSSP session setup as guest/anonymous or as USER, TREE_CONNECT to SHARE, a \
check of the share type, on a disk share the file operations of the check level (--check: the \
share root's file-system size by default; a canary file with write), then TREE_DISCONNECT and \
LOGOFF. Signing and SMB3 encryption are used when the server requires them; SMB1 is used only \
when the server offers no SMB2.",
        ),
        Module::Nfsmon => (
            "export",
            "clp_nfsmon watches an NFS export with user-space ONC RPC calls each probe: the \
portmapper, MOUNT v3 MNT of DIR, NFS NULL, GETATTR and FSINFO on the file handle, then UMNT. With \
--nfs4, or when the server runs no portmapper or registers no MOUNT v3 with it and was never \
reached over NFSv3, it walks DIR \
with an NFSv4 COMPOUND instead (PUTROOTFH, LOOKUP of each component of DIR in the server's pseudo \
file system, GETATTR) in the highest minor version the server accepts, tried as the Linux client \
tries them: NFSv4.2, then 4.1 (both in a session), then 4.0. It never mounts \
anything in the kernel, so a hung server cannot hang the monitor.\n\n\
--check read (the default) adds what must reach the exported file system, since a server such \
as NFS-Ganesha answers the calls above from its caches while the storage under the export \
hangs: FSSTAT and a READDIR of the root, sent together (NFSv3), or the space attributes in the \
walk's GETATTR and a READDIR in the same COMPOUND (NFSv4). --check write adds a canary file at \
the export's root (--canary): created exclusively (a leftover of a probe cut at its deadline is \
removed first), written to stable storage, read back, compared and removed, which catches \
storage that is read-only (ROFS), full (NOSPC, DQUOT) or no longer writable (ACCES). The probe \
writes as AUTH_SYS uid 0: on an export that squashes root, the export's root must be writable \
by the anonymous uid, or write fails with ACCES as it would for root on a client.",
        ),
    };
    let cmd = documented(name)
        .version(env!("CARGO_PKG_VERSION"))
        .about(about(name))
        .long_about(format!(
            "{long_about}\n\n\
A fault is declared after RETRIES consecutive failed probes; a successful probe resets the count. \
The monitor then emits the alert of the failing phase and event 6 and exits with status 1, so the \
cluster's process monitor fails the group over. The worst detection time after the {what} stalls \
is RETRIES*TIMEOUT + (RETRIES-1)*INTERVAL seconds (plus up to one INTERVAL before the first failing \
probe starts).\n\n\
ID comes first and names the monitor: 1 to 255 ASCII letters or digits, unique for {name} on \
this server. The same ID is used by the control commands. Options are whole words: -stop is a \
command, never -s top. Monitors and control commands need root (exit status 7 otherwise)."
        ))
        .override_usage(synopsis.join("\n"))
        .arg(
            Arg::new("id")
                .value_name("ID")
                .required(true)
                .help("Monitor identifier: 1-255 ASCII letters or digits, unique on this server"),
        );
    cmd.args(options::options(module).map(arg))
}

/// The clap argument of one row of the option table.
fn arg(o: &'static options::Opt) -> Arg {
    let id = o.word.trim_start_matches('-');
    let a = Arg::new(id).help(o.doc()).required(o.required);
    let a = match o.word.strip_prefix("--") {
        Some(long) => a.long(long),
        None => a.short(o.word.chars().nth(1).expect("-X")),
    };
    let a = match o.value {
        Value::Switch => a.action(ArgAction::SetTrue),
        Value::Count => a.action(ArgAction::Count),
        Value::Choice { words, .. } => a
            .value_name(o.value_name)
            .value_parser(clap::builder::PossibleValuesParser::new(words))
            // The paragraph names the values; clap's own list breaks mandoc's paragraphs.
            .hide_possible_values(true)
            .action(ArgAction::Set),
        _ => a.value_name(o.value_name).action(ArgAction::Set),
    };
    let a = if o.field == options::Field::CredentialsFile {
        a.value_hint(clap::ValueHint::FilePath)
    } else {
        a
    };
    match o.requires {
        Some(r) => a.requires(r.trim_start_matches('-')),
        None => a,
    }
}

/// `clplcnsc`: the licence command, as its parser describes it; the product IDs a completion
/// offers come from the product catalogue.
pub fn clplcnsc() -> Command {
    let products: Vec<&'static str> = clp_fsmon::license::catalog::catalogue()
        .iter()
        .map(|p| p.code.as_str())
        .collect();
    applets::clplcnsc::command()
        .disable_help_flag(true)
        .arg(help_flag())
        .mut_arg("product", |a| {
            a.value_parser(clap::builder::PossibleValuesParser::new(products))
                .hide_possible_values(true)
        })
}

/// How the term of a man-page list item is typeset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// All bold: a literal name (a variable, a path, a number).
    Literal,
    /// A command form: words in capitals (`WAIT`, `ID`) are placeholders (italic), the rest bold.
    Usage,
}

/// One tagged paragraph of a man-page section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The tag.
    pub term: String,
    /// How to typeset the tag.
    pub style: Style,
    /// The paragraph.
    pub text: String,
}

/// A man-page section after OPTIONS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Heading, in capitals.
    pub title: &'static str,
    /// Paragraphs before the items.
    pub intro: Vec<String>,
    /// Tagged paragraphs.
    pub items: Vec<Item>,
    /// Paragraphs after the items.
    pub outro: Vec<String>,
}

impl Section {
    fn new(title: &'static str) -> Self {
        Self {
            title,
            intro: Vec::new(),
            items: Vec::new(),
            outro: Vec::new(),
        }
    }

    fn intro(mut self, p: impl Into<String>) -> Self {
        self.intro.push(p.into());
        self
    }

    fn outro(mut self, p: impl Into<String>) -> Self {
        self.outro.push(p.into());
        self
    }

    fn item(mut self, style: Style, term: impl Into<String>, text: impl Into<String>) -> Self {
        self.items.push(Item {
            term: term.into(),
            style,
            text: text.into(),
        });
        self
    }

    fn literal(self, term: impl Into<String>, text: impl Into<String>) -> Self {
        self.item(Style::Literal, term, text)
    }

    fn usage(self, term: impl Into<String>, text: impl Into<String>) -> Self {
        self.item(Style::Usage, term, text)
    }
}

fn exit_item(s: Section, e: Exit, text: &str) -> Section {
    s.literal(e.code().to_string(), text)
}

fn exit_section(name: &str) -> Section {
    let s = Section::new("EXIT STATUS");
    match name {
        BINARY => {
            let s =
                s.intro("Running an applet, clp-fsmon exits with the applet's status. Otherwise:");
            let s = exit_item(
                s,
                Exit::Ok,
                "Success (status: the listing was printed, whatever the monitors' states).",
            );
            let s = exit_item(
                s,
                Exit::Usage,
                "Usage: an unknown option or too many arguments.",
            );
            let s = exit_item(
                s,
                Exit::System,
                "--install or --uninstall failed, e.g. a file that is not a link to this binary is in the way; status could not read the registry.",
            );
            let s = exit_item(s, Exit::Permission, "status: not root.");
            exit_item(s, Exit::UnknownApplet, "Unknown applet name.")
        }
        "clplcnsc" => {
            let s = exit_item(s, Exit::Ok, "Done (\"command was success.\").");
            let s = exit_item(
                s,
                Exit::Usage,
                "Usage: a bad option, an unknown product ID, a bad menu choice, a malformed serial number, user name or key, a bad licence file, or the end of input.",
            );
            let s = exit_item(
                s,
                Exit::License,
                "Licence refused: the key does not verify, the licence overlaps another server's, or a store file is corrupt. Nothing was written.",
            );
            let s = exit_item(
                s,
                Exit::System,
                "System error: the store cannot be read or written, or the server identity cannot be read.",
            );
            let s = exit_item(s, Exit::Permission, Exit::Permission.meaning());
            let s = exit_item(s, Exit::NotFound, "-d: no such licence on this server.");
            exit_item(s, Exit::Interrupted, Exit::Interrupted.meaning())
        }
        _ => {
            let mut s = s;
            for e in MONITOR_STATUSES {
                s = exit_item(s, e, e.meaning());
            }
            s.outro(format!(
                "With --once the monitoring-plugin convention applies instead: {} {}, {} {}, {} {} \
(an invalid or missing parameter and a refused licence included: the reason is the status line on \
standard output, and no alert is raised).",
                PluginStatus::Ok.code(),
                PluginStatus::Ok.label(),
                PluginStatus::Critical.code(),
                PluginStatus::Critical.label(),
                PluginStatus::Unknown.code(),
                PluginStatus::Unknown.label(),
            ))
        }
    }
}

/// `clp_sambamon`'s PROBE FAILURES: the event each failing phase raises, with its catalogue text
/// (placeholders as the product's guide writes them: xxx the share, nn the status).
fn sambamon_failures() -> Section {
    use clp_fsmon::alert::{Event, template};
    let levels = clp_fsmon::probe::smb::LEVEL_PHASES;
    let item = |s: Section, e: Event, when: &str| {
        let text = template(Module::Sambamon, e)
            .replacen("[{}] (", "[xxx] (", 1)
            .replace("{}", "nn");
        s.literal(e.id().to_string(), format!("{text} {when}"))
    };
    let s = Section::new("PROBE FAILURES").intro(
        "Every failed probe writes its phase, status (NT status or errno) and latencies to the \
fault log. The RETRIES-th failure in a row raises the event of its phase, then event 6. xxx is \
SHARE; nn is the NT status in hex (0xc0000022) or the errno.",
    );
    let s = item(s, Event::NegotiateError, "At negotiate.");
    let s = item(
        s,
        Event::ConnectError,
        "At session_setup (the logon), and at kerberos (--kerberos: getting the tickets, \
         between negotiate and session_setup), where the status is MIT krb5's message and nn the \
         NT status of its condition: 0xc000005e (STATUS_NO_LOGON_SERVERS, no KDC answered), \
         0xc0000133 (STATUS_TIME_DIFFERENCE_AT_DC, clock skew), 0xc0000064 (STATUS_NO_SUCH_USER, \
         unknown principal), 0xc000006d (STATUS_LOGON_FAILURE, wrong or stale keytab), 0xc000005f \
         (STATUS_NO_SUCH_LOGON_SESSION, no ticket). A KDC that does not answer within TIMEOUT is \
         event 74.",
    );
    let s = item(s, Event::TreeConnectError, "At tree_connect.");
    let s = item(
        s,
        Event::ShareTypeError,
        "The share is neither a disk nor a printer.",
    );
    let s = item(
        s,
        Event::NfsError,
        &format!(
            "At the phases of --check read ({}) and write ({}) on a disk share: the share's \
storage answers with an error, e.g. STATUS_MEDIA_WRITE_PROTECTED (read-only), STATUS_DISK_FULL, \
STATUS_ACCESS_DENIED (no write permission). A canary that reads back other than written is \
0xc000003e (STATUS_DATA_ERROR). No answer in time at these phases is event 74.",
            levels[0],
            levels[1..].join(", ")
        ),
    );
    let s = item(s, Event::SocketError, "No socket.");
    let s = item(
        s,
        Event::NetConnectError,
        "The connection is refused or the host unreachable.",
    );
    let s = item(s, Event::SendError, "A request cannot be sent.");
    let s = item(
        s,
        Event::SelectError,
        "No answer before TIMEOUT (nn 110), in any phase.",
    );
    item(
        s,
        Event::RecvError,
        "A reply cannot be received, or the server closed the connection.",
    )
}

/// What a fault of `clp_nfsmon` raises, from the alert catalogue.
fn nfs_alerts() -> Section {
    use clp_fsmon::alert::{Event, template};
    let n = Module::Nfsmon;
    let id = |e: Event| (e as u16).to_string();
    Section::new("PROBE FAILURES")
        .intro(
            "The failed probe that makes the fault (the RETRIES-th in a row) raises two alerts, \
then event 6 as the monitor exits:",
        )
        .literal(
            format!(
                "{} {}",
                id(Event::Detail),
                template(n, Event::Detail).replace("{}", "TEXT")
            ),
            "What failed. For the portmapper, MOUNT and the NFS calls of --check connect: \
clnt_sperror's text (RPC: Timed out, RPC: Port mapper failure - ..., RPC: Program not \
registered.), mount error(MNT3ERR_...) for a refused MNT, or the nfsstat (NFS4ERR_NOENT). For the \
calls of --check read and write: the nfsstat and the phase, clp_nfsmon: NFS3ERR_ROFS \
(canary_create), or RPC: Timed out for storage that hangs.",
        )
        .literal(
            format!("{} {}", id(Event::NfsError), template(n, Event::NfsError)),
            "Every NFS failure, after its detail line.",
        )
        .literal(
            format!("{} {}", id(Event::Terminate), template(n, Event::Terminate)),
            "The monitor exits with status 1.",
        )
        .outro(
            "The fault log names the failed phase (resolve, portmap, mount, nfs_null, getattr, \
fsinfo, nfs4_session, nfs4_compound, umount; fsstat, readdir for --check read; nfs4_client, \
canary_create, canary_confirm, canary_write, canary_commit, canary_read, canary_close, \
canary_remove for --check write), the status with its number (NFS4ERR_NOSPC (28) at WRITE) and \
the check level.",
        )
}

/// Every alert `m` raises, from the catalogue.
fn alerts_section(m: Module) -> Section {
    let mut s = Section::new("ALERTS").intro(format!(
        "Every alert goes to syslog, the alert log and the console with its event ID and module \
{}; xxx stands for a value (the {}, a number, a date as mm/dd/yyyy). Events 81 and 82 are \
warnings only (--warn): they never count toward RETRIES.",
        m.name(),
        match m {
            Module::Sambamon => "share",
            Module::Nfsmon => "directory",
        }
    ));
    for e in Event::ALL.into_iter().filter(|e| raised_by(m, *e)) {
        s = s.literal(e.id().to_string(), documented_text(m, e));
    }
    s
}

/// The line that opens the README's alert table, and the one that closes it.
pub const README_ALERTS: (&str, &str) = (
    "<!-- alert table: generated from src/alert/mod.rs by tests/packaging.rs (UPDATE_DOCS=1); do not edit -->",
    "<!-- end of the alert table -->",
);

/// The README's alert table: every event of both monitors, from the catalogue.
pub fn readme_alert_table() -> String {
    let mut t = format!(
        "{}\n| ID | clp_sambamon | clp_nfsmon |\n|---|---|---|\n",
        README_ALERTS.0
    );
    let text = |m: Module, e: Event| {
        if raised_by(m, e) {
            documented_text(m, e)
        } else {
            "–".to_owned()
        }
    };
    for e in Event::ALL {
        let _ = writeln!(
            t,
            "| {} | {} | {} |",
            e.id(),
            text(Module::Sambamon, e),
            text(Module::Nfsmon, e)
        );
    }
    t.push_str(README_ALERTS.1);
    t
}

/// What `clp-fsmon status` prints.
fn status_section() -> Section {
    let states: Vec<&str> = State::ALL.iter().map(|s| s.name()).collect();
    Section::new("STATUS")
        .intro(format!(
            "clp-fsmon status lists every monitor of both applets on this server, from their \
registries: one line per monitor under a header, with the applet, the ID, the pid, the state, the \
target and --check level, the failures that count toward RETRIES (k/c), the probes made, the \
latency median, 95th percentile and maximum of the last {WINDOW} probes in milliseconds, the time \
of the last success, since when the monitor runs, and the last result (ok or fail, its phase, \
latency and status). A state is one of: {}. A monitor whose slow-response warning (event 81) is up \
shows as monitoring (slow). A registry entry whose monitor is gone is listed as stale; a monitor \
that does not answer over its control socket within {} ms is listed as no answer, and status never \
waits longer for it.",
            states.join(", "),
            ANSWER_LIMIT.as_millis()
        ))
        .usage(
            "clp-fsmon status --json",
            "One JSON object: {\"monitors\": [...]}, an object per monitor with the same facts \
(the states as above; the times in RFC 3339).",
        )
        .usage(
            "clp-fsmon status --prometheus",
            "The metrics of every monitor (see METRICS), as --metrics-file writes them for one.",
        )
}

/// The metrics of `--metrics-file` and `status --prometheus`, from their one list.
fn metrics_section() -> Section {
    let mut s = Section::new("METRICS").intro(format!(
        "--metrics-file PATH (a monitor option) and clp-fsmon status --prometheus write the \
Prometheus text exposition format (0.0.4), which node_exporter's textfile collector reads. Every \
series has the labels {}.",
        metrics::LABELS.join(", ")
    ));
    for m in METRICS {
        let kind = match m.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let label = m
            .label
            .map(|l| format!(", with the label {l}"))
            .unwrap_or_default();
        s = s.literal(m.name, format!("{} ({kind}{label})", m.help));
    }
    s
}

fn dir(p: &std::path::Path) -> String {
    format!("{}/", p.display())
}

/// The sections of `name`'s man page that come after OPTIONS, in order.
pub fn man_sections(name: &str) -> Vec<Section> {
    let sys = Paths::with_root("/");
    let mut out = Vec::new();
    let module = match name {
        "clp_sambamon" => Some(Module::Sambamon),
        "clp_nfsmon" => Some(Module::Nfsmon),
        _ => None,
    };
    if let Some(m) = module {
        let mut control = Section::new("CONTROL COMMANDS").intro(format!(
            "A control command follows the ID of a running monitor, alone: {name} ID -stop. Each \
is acknowledged by the monitor over its control socket."
        ));
        for c in CONTROL {
            control = control.usage(c.form(), c.doc());
        }
        out.push(control);
        if m == Module::Sambamon {
            out.push(sambamon_failures());
        } else {
            out.push(nfs_alerts());
        }
        out.push(alerts_section(m));
        out.push(exit_section(name));
        let mut env = Section::new("ENVIRONMENT")
            .literal(
                ROOT_ENV,
                "Re-root every path below (registry, licence store, logs, /dev/log, and \
/etc/hostname and /etc/machine-id when present under it) into this directory. For tests and demos.",
            )
            .literal(
                "CLP_FSMON_LOG",
                "Diagnostic level on stderr as a tracing filter (error, warn, info, debug, \
trace); overrides -v.",
            );
        if m == Module::Sambamon {
            env = env.literal(
                "CLP_FSMON_SMB_PASSWORD",
                "The password of USER when neither -p nor the credentials file gives one; keeps \
it out of ps(1).",
            );
        }
        out.push(env);
        out.push(
            Section::new("FILES")
                .literal(
                    dir(&sys.state_dir()),
                    format!(
                        "Registry and control sockets: {}/ID/lock is locked by the live monitor; \
ctl/*.sock, mode 0600.",
                        m.name()
                    ),
                )
                .literal(
                    dir(&sys.license_dir()),
                    "Licence store, one file per server; may be shared by the servers of the \
cluster.",
                )
                .literal(
                    sys.alert_log().display().to_string(),
                    "Alert log, tab-separated: time, server, module, event ID, message.",
                )
                .literal(
                    sys.log_dir()
                        .join(format!("fault-{}.log", m.name()))
                        .display()
                        .to_string(),
                    "Fault log: one line per failed probe (ID, k/c, phase, status, latency).",
                )
                .literal(
                    sys.syslog_socket().display().to_string(),
                    "Every alert also goes to syslog (facility daemon), and to clplogcmd(8) when \
a CLUSTERPRO installation is present.",
                ),
        );
        out.push(Section::new("EXAMPLES").usage(
            match m {
                Module::Sambamon => "clp_sambamon sambawatch -s share1 -a 192.168.0.10 -i 10 -c 3 -r 20",
                Module::Nfsmon => "clp_nfsmon nfswatch -d /export -a 192.168.0.10 -i 10 -c 3 -r 20",
            },
            "Watch it every 10 seconds; fail over after three failed probes of up to 20 seconds each.",
        ).usage(
            match m {
                Module::Sambamon => "clp_sambamon sambawatch -stop 30",
                Module::Nfsmon => "clp_nfsmon nfswatch -stop 30",
            },
            "Stop that monitor and wait up to 30 seconds for it to exit.",
        ));
    } else if name == "clplcnsc" {
        out.push(exit_section(name));
        out.push(Section::new("ENVIRONMENT").literal(
            ROOT_ENV,
            "Re-root the licence store (and /etc/hostname and /etc/machine-id when present under \
it) into this directory. For tests and demos.",
        ));
        out.push(Section::new("FILES").literal(
            dir(&sys.license_dir()),
            "Licence store: one file per server, named after its host name, checked against \
/etc/machine-id. Share the directory across the cluster's servers to make the overlap check \
cluster-wide.",
        ));
        out.push(
            Section::new("EXAMPLES")
                .usage(
                    "clplcnsc -i -p FSMON20",
                    "Register a licence interactively.",
                )
                .usage(
                    "clplcnsc -i -p FSMON20 --serial AB123456 --key KEY",
                    "Register a product licence from a script.",
                )
                .usage("clplcnsc -l -p FSMON20", "List the licences."),
        );
    } else {
        let mut applets = Section::new("APPLETS");
        for a in APPLETS {
            applets = applets.literal(a.name, format!("{}; see {}(8).", a.about, a.name));
        }
        out.push(applets);
        out.push(status_section());
        out.push(metrics_section());
        out.push(exit_section(name));
        out.push(Section::new("FILES").literal(
            DEFAULT_INSTALL_DIR.to_string() + "/",
            "Where --install and --uninstall put and remove the applet links by default, and \
where the package installs clp-fsmon.",
        ));
    }
    let mut see = Vec::new();
    for n in names() {
        if n != name {
            see.push(format!("{n}(8)"));
        }
    }
    match name {
        "clp_sambamon" => see.push("smb.conf(5)".into()),
        "clp_nfsmon" => see.push("exports(5)".into()),
        _ => {}
    }
    out.push(Section::new("SEE ALSO").intro(see.join(", ")));
    out
}
