//! The command lines of `clp-fsmon` and its applets, described for documentation.
//!
//! Man pages (`contrib/man/*.8`) and shell completions (`contrib/completions/`) are generated from
//! these definitions by `tests/packaging.rs` (`UPDATE_DOCS=1` rewrites the checked-in files; without
//! it the test fails when they are stale). The binary does not parse with them: the monitors'
//! legacy single-dash grammar (`-stop`, never `-s top`) is hand-written in [`crate::args`], which
//! clap cannot express, and `clplcnsc` has its own parser. The same tests check these definitions
//! against those parsers (every option of `--help` is here and vice versa), so they cannot drift.
//!
//! What a man page needs beyond the options — control commands, exit statuses, environment, files,
//! see-also — is data here too ([`man_sections`]): exit statuses come from [`Exit`], paths from
//! [`Paths`].

use clap::{Arg, ArgAction, Command};

use crate::alert::Module;
use crate::applets::{self, APPLETS};
use crate::dispatch::{BINARY, DEFAULT_INSTALL_DIR};
use crate::exit::{Exit, PluginStatus};
use crate::paths::{Paths, ROOT_ENV};

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

fn flag(id: &'static str) -> Arg {
    Arg::new(id).action(ArgAction::SetTrue)
}

fn value(id: &'static str, short: char, value_name: &'static str) -> Arg {
    Arg::new(id)
        .short(short)
        .value_name(value_name)
        .action(ArgAction::Set)
}

/// `clp-fsmon`: the multi-call binary itself.
pub fn clp_fsmon() -> Command {
    let applet_names: Vec<&'static str> = APPLETS.iter().map(|a| a.name).collect();
    documented(BINARY)
        .version(env!("CARGO_PKG_VERSION"))
        .about("file-server monitor for HA clusters (multi-call binary)")
        .long_about(format!(
            "clp-fsmon is one executable that holds every command of the file-server monitor. \
It runs the applet named by the base name it was called under (argv[0]), so the applets are \
links to it: {list}. Called as clp-fsmon, it runs the applet named by its first argument, or \
manages those links.\n\n\
--install makes the links atomically (each under a temporary name, then renamed into place) and is \
idempotent; it never replaces a file that is not a link to this binary. --uninstall removes only \
links that point at this binary and keeps anything else.",
            list = applet_names.join(", ")
        ))
        .override_usage(format!(
            "{BINARY} APPLET [ARG...]\n\
{BINARY} --list\n\
{BINARY} --install [--hardlink] [DIR]\n\
{BINARY} --uninstall [DIR]\n\
{BINARY} --version | --help"
        ))
        .disable_version_flag(true)
        .arg(
            Arg::new("applet")
                .value_name("APPLET")
                .value_parser(clap::builder::PossibleValuesParser::new(applet_names.clone()))
                .hide_possible_values(true)
                .help("Run this applet with the remaining arguments, as if called through its link"),
        )
        .arg(
            Arg::new("args")
                .value_name("ARG")
                .num_args(0..)
                .trailing_var_arg(true)
                .allow_hyphen_values(true)
                .help("Arguments of the applet"),
        )
        .arg(
            flag("list")
                .long("list")
                .help("Print the applet names, one a line"),
        )
        .arg(
            Arg::new("install")
                .long("install")
                .value_name("DIR")
                .num_args(0..=1)
                .value_hint(clap::ValueHint::DirPath)
                .help(format!(
                    "Link every applet into DIR (default {DEFAULT_INSTALL_DIR}) as a symbolic link to this binary"
                )),
        )
        .arg(
            flag("hardlink")
                .long("hardlink")
                .requires("install")
                .help("With --install: make hard links instead of symbolic links"),
        )
        .arg(
            Arg::new("uninstall")
                .long("uninstall")
                .value_name("DIR")
                .num_args(0..=1)
                .value_hint(clap::ValueHint::DirPath)
                .help(format!(
                    "Remove the applet links in DIR (default {DEFAULT_INSTALL_DIR}) that point at this binary"
                )),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Print the version"),
        )
}

/// `clp_sambamon` or `clp_nfsmon`.
pub fn monitor(module: Module) -> Command {
    let name = module.applet();
    // The synopsis is the first two lines of the applet's own `--help`, so the two cannot differ.
    let usage = crate::args::usage(module);
    let synopsis: Vec<&str> = usage
        .lines()
        .take(2)
        .map(|l| l.trim_start_matches("usage:").trim())
        .collect();
    let (what, long_about) = match module {
        Module::Sambamon => (
            "share",
            "clp_sambamon watches a Samba (SMB/CIFS) share with a real SMB session each probe: \
SMB2/3 NEGOTIATE, NTLMSSP session setup as guest/anonymous or as USER, TREE_CONNECT to SHARE, a \
check of the share type, then TREE_DISCONNECT and LOGOFF. Signing and SMB3 encryption are used when \
the server requires them; SMB1 is used only when the server offers no SMB2.",
        ),
        Module::Nfsmon => (
            "export",
            "clp_nfsmon watches an NFS export with user-space ONC RPC calls each probe: the \
portmapper, MOUNT v3 MNT of DIR, NFS NULL, GETATTR and FSINFO on the file handle, then UMNT. With \
--nfs4, or when the server runs no portmapper and was never reached through one, it walks DIR \
with an NFSv4 COMPOUND instead (PUTROOTFH, LOOKUP of each component of DIR in the server's pseudo \
file system, GETATTR), in an NFSv4.1 session when the server refuses NFSv4.0. It never mounts \
anything in the kernel, so a hung server cannot hang the monitor.",
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
    let cmd = match module {
        Module::Sambamon => cmd.args(sambamon_args()),
        Module::Nfsmon => cmd.args(nfsmon_args()),
    };
    cmd.args(probe_args())
}

/// The options only `clp_sambamon` has.
fn sambamon_args() -> Vec<Arg> {
    vec![
        value("share", 's', "SHARE")
            .required(true)
            .help("Share name from smb.conf (required; at most 255 bytes)"),
        value("address", 'a', "IP[:PORT]").help(
            "Server address (a floating IP is fine); HOST:PORT and [IPv6]:PORT accepted \
[default: 127.0.0.1, port 445]",
        ),
        value("user", 'u', "USER")
            .help("SMB user, DOMAIN\\user accepted; without it the session is guest/anonymous"),
        value("password", 'p', "PASSWORD").help(
            "Password of USER (any characters; it never reaches a log). The monitor overwrites \
it with X in its own command line as it starts, so ps(1) does not show it; it is still visible for \
that instant and in shell history and scripts, so prefer -A or CLP_FSMON_SMB_PASSWORD",
        ),
        value("credfile", 'A', "CREDFILE")
            .value_hint(clap::ValueHint::FilePath)
            .help(format!(
                "smbclient-style credentials file: lines username= (required), password=, \
domain= (keeps the password out of ps(1)). It must be a regular file (a symbolic link to one is \
followed) that only its owner may read or write, at most {} KiB; otherwise it is an invalid \
parameter",
                crate::probe::smb::credfile::MAX_SIZE / 1024
            )),
    ]
}

/// The options only `clp_nfsmon` has.
fn nfsmon_args() -> Vec<Arg> {
    vec![
        value("dir", 'd', "DIR")
            .required(true)
            .help("Exported directory (required; at most 255 bytes)"),
        value("address", 'a', "IP").help(
            "Server address (a floating IP is fine) [default: the first non-loopback IPv4 \
address of this server, else 127.0.0.1]",
        ),
        value("port", 'n', "PORT").help("NFS port (1-65535) instead of asking the portmapper"),
        flag("nfs4")
            .long("nfs4")
            .help("Probe with one NFSv4 COMPOUND only (no portmapper, no MOUNT)"),
        flag("udp")
            .long("udp")
            .help("Portmapper, MOUNT and NFS calls over UDP instead of TCP"),
    ]
}

/// The options both monitors have.
fn probe_args() -> Vec<Arg> {
    vec![
        value("interval", 'i', "INTERVAL").help(
            "Seconds between probes, from the end of one to the start of the next (1-10000) \
[default: 30]",
        ),
        value("retries", 'c', "RETRIES")
            .help("Consecutive failed probes that make a fault (1-10000) [default: 5]"),
        value("timeout", 'r', "TIMEOUT").help(
            "Deadline of one whole probe, all its round trips, in seconds (1-10000) [default: 60]",
        ),
        flag("once").long("once").help(
            "Run one probe, print one plugin-style status line and exit 0 OK, 2 CRITICAL or 3 \
UNKNOWN (also for an invalid or missing parameter and a refused licence, without an alert); takes \
no registry entry",
        ),
        flag("json")
            .long("json")
            .requires("once")
            .help("With --once: print the result as one JSON object"),
        Arg::new("verbose")
            .short('v')
            .action(ArgAction::Count)
            .help("More diagnostics on stderr; repeat for debug output (see CLP_FSMON_LOG)"),
    ]
}

/// `clplcnsc`: the licence command. Mirrors the parser in `applets/clplcnsc.rs`, constraints
/// included (the argument ids are its field names), so that parser could be built from this.
pub fn clplcnsc() -> Command {
    documented("clplcnsc")
        .version(env!("CARGO_PKG_VERSION"))
        .about(about("clplcnsc"))
        .long_about(
            "clplcnsc registers, lists and deletes the licences of a product (FSMON20) in this \
server's licence store. Every server that runs a monitor needs its own licence: a product licence \
(serial number and key) or a trial licence (user name and a key that carries its start and end \
dates). A key registered on two servers of the cluster is refused as an overlap. The monitors \
refuse to start without a valid licence (exit status 3).\n\n\
With -i alone, registration is an interactive dialogue on the terminal: product or trial, then \
the serial number (XX000000) or user name, then the key (XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX; keys \
are case-sensitive and never contain I, L, O or U). --serial, --trial, --user, --key and --file do \
the same without a dialogue, for scripts. Every successful command ends with the line \
\"command was success.\". Only root may manage licences.",
        )
        .override_usage(
            "clplcnsc -i -p PRODUCT_ID\n\
clplcnsc -i -p PRODUCT_ID --serial SERIAL --key KEY\n\
clplcnsc -i -p PRODUCT_ID --trial --user USER --key KEY\n\
clplcnsc -i -p PRODUCT_ID --file FILE\n\
clplcnsc -l -p PRODUCT_ID\n\
clplcnsc -d -p PRODUCT_ID [SERIAL]",
        )
        .group(
            clap::ArgGroup::new("mode")
                .required(true)
                .args(["register", "list", "delete"]),
        )
        .arg(
            flag("register").short('i').help(
                "Register a licence (interactively unless --serial, --trial or --file is given)",
            ),
        )
        .arg(
            flag("list")
                .short('l')
                .help("List the licences of every server in the store"),
        )
        .arg(
            flag("delete")
                .short('d')
                .help("Delete this server's licences of the product (only SERIAL's, when given)"),
        )
        .arg(
            Arg::new("product")
                .short('p')
                .value_name("PRODUCT_ID")
                .required(true)
                .value_parser(["FSMON20"])
                .hide_possible_values(true)
                .help("Product ID: FSMON20"),
        )
        .arg(
            Arg::new("serial")
                .long("serial")
                .value_name("SERIAL")
                .requires_all(["register", "key"])
                .conflicts_with("trial")
                .help("Serial number of a product licence, XX000000 (with -i and --key)"),
        )
        .arg(
            flag("trial")
                .long("trial")
                .requires_all(["register", "user", "key"])
                .help("Register a trial licence (with -i, --user and --key)"),
        )
        .arg(
            Arg::new("user")
                .long("user")
                .value_name("USER")
                .requires("trial")
                .help("Trial user name (with --trial)"),
        )
        .arg(
            Arg::new("key")
                .long("key")
                .value_name("KEY")
                .help("Licence key, XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX"),
        )
        .arg(
            Arg::new("file")
                .long("file")
                .value_name("FILE")
                .value_hint(clap::ValueHint::FilePath)
                .requires("register")
                .conflicts_with_all(["serial", "trial", "key"])
                .help("Licence file (TOML: kind, serial or user, key), with -i"),
        )
        .arg(
            Arg::new("holder")
                .value_name("SERIAL")
                .requires("delete")
                .help("With -d: the serial number (or trial user name) whose licence to delete"),
        )
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

/// What an exit status means (one place for every page; exhaustive so a new status is documented).
pub fn exit_meaning(e: Exit) -> &'static str {
    match e {
        Exit::Ok => {
            "Success; a monitor stopped on request (-stop, SIGTERM); -stop of an ID that is not running."
        }
        Exit::Fault => {
            "Fault detected: the service failed RETRIES probes in a row. The cluster should fail the group over."
        }
        Exit::Usage => "Usage: an invalid or missing parameter (events 11, 12, 13).",
        Exit::License => {
            "Licence refused: none, expired, not yet valid, unreadable or overlapping (events 51, 53, 54, 55, 56)."
        }
        Exit::IdInUse => "The ID is held by a live monitor (event 14).",
        Exit::StopTimeout => "-stop: the monitor did not end within WAIT seconds (event 15).",
        Exit::System => "System error: a system call the runtime needs failed (events 42, 61).",
        Exit::Permission => "Not root.",
        Exit::NotFound => "No monitor is registered, or running, under this ID.",
        Exit::Alive => "-del refused: the monitor is alive.",
        Exit::UnknownApplet => "Called under a name that is not an applet.",
        Exit::Interrupted => {
            "Interrupted (Ctrl-C) during the licence dialogue; nothing was written."
        }
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
            let s = exit_item(s, Exit::Ok, "Success.");
            let s = exit_item(
                s,
                Exit::Usage,
                "Usage: an unknown option or too many arguments.",
            );
            let s = exit_item(
                s,
                Exit::System,
                "--install or --uninstall failed, e.g. a file that is not a link to this binary is in the way.",
            );
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
            let s = exit_item(s, Exit::Permission, exit_meaning(Exit::Permission));
            let s = exit_item(s, Exit::NotFound, "-d: no such licence on this server.");
            exit_item(s, Exit::Interrupted, exit_meaning(Exit::Interrupted))
        }
        _ => {
            let mut s = s;
            for e in [
                Exit::Ok,
                Exit::Fault,
                Exit::Usage,
                Exit::License,
                Exit::IdInUse,
                Exit::StopTimeout,
                Exit::System,
                Exit::Permission,
                Exit::NotFound,
                Exit::Alive,
            ] {
                s = exit_item(s, e, exit_meaning(e));
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
        out.push(
            Section::new("CONTROL COMMANDS")
                .intro(format!(
                    "A control command follows the ID of a running monitor, alone: {name} ID \
-stop. Each is acknowledged by the monitor over its control socket."
                ))
                .usage(
                    "-stop [WAIT]",
                    "End the monitor, at once even in the middle of a probe, and wait up to WAIT \
seconds (1-10000, default 60) for it to exit. Exit status 5 and event 15 when it did not end in \
time; 0 when the ID is not running.",
                )
                .usage(
                    "-pause",
                    "Suspend probing, e.g. for maintenance of the server (event 7).",
                )
                .usage("-continue", "Resume probing (event 8).")
                .usage(
                    "-disp",
                    "Print the pid registered for ID; exit status 8 for a stale entry (the \
process is gone, or its pid was reused by another program), and says why.",
                )
                .usage(
                    "-del",
                    "Delete a stale registry entry. Refused (exit status 9) while the monitor \
lives. Rarely needed: a dead monitor's entry is recognised as stale and the same ID simply starts \
again.",
                ),
        );
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
