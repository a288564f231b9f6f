//! The one description of every option and control word of the two monitors.
//!
//! Each row says what the word is (its value, range, default, which applet has it), what it
//! sets, and how it is explained: `help` is the line of `--help`, `doc` the paragraph of the man
//! page. [`super::grammar`] parses with these rows, [`usage`] writes `--help` from them, and the
//! documentation generator (tests/docs.rs) makes the man pages and completions from them, so an
//! option added here is parsed, shown and documented everywhere, and nowhere else needs an edit.
//!
//! The table is data, not a parser library: the legacy grammar (the ID first, whole words,
//! `-stop` never read as `-s top`, control words only right after the ID) is what clap and its
//! peers cannot express, and it is small.

use std::fmt::Write as _;

use crate::alert::Module;
use crate::exit::MONITOR_STATUSES;
use crate::probe::CheckLevel;

/// Longest ID and string value, in bytes (the longest a log line takes).
pub(crate) use crate::alert::MAX_VALUE;

/// The words that ask for the usage text.
pub(crate) const HELP: [&str; 2] = ["--help", "-h"];
/// The words that ask for the version.
pub(crate) const VERSION: [&str; 2] = ["--version", "-V"];

/// What follows an option word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Nothing: the word alone switches something on.
    Switch,
    /// Nothing; each repetition counts (`-v -v`).
    Count,
    /// Text of 1 to [`MAX_VALUE`] bytes without control characters (it can reach a log).
    Text,
    /// Up to [`MAX_VALUE`] bytes of anything, empty included: it never reaches a log.
    Secret,
    /// One of a few words.
    Choice {
        /// The words.
        words: &'static [&'static str],
        /// When absent.
        default: &'static str,
    },
    /// A whole number from `lo` to `hi`.
    Number {
        /// Smallest.
        lo: u32,
        /// Largest.
        hi: u32,
        /// When absent.
        default: Option<u32>,
    },
}

impl Value {
    /// True when the word takes the next word as its value.
    pub(crate) fn takes_value(self) -> bool {
        !matches!(self, Self::Switch | Self::Count)
    }
}

/// Which monitor has an option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applets {
    /// Both.
    Both,
    /// `clp_sambamon` only.
    Samba,
    /// `clp_nfsmon` only.
    Nfs,
}

impl Applets {
    /// True when `module` has the option.
    pub(crate) fn has(self, module: Module) -> bool {
        match self {
            Self::Both => true,
            Self::Samba => module == Module::Sambamon,
            Self::Nfs => module == Module::Nfsmon,
        }
    }
}

/// What an option sets in [`super::MonitorArgs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `-s SHARE` / `-d DIR`.
    Target,
    /// `-a`.
    Address,
    /// `-u`.
    User,
    /// `-p`.
    Password,
    /// `-A`.
    CredentialsFile,
    /// `--kerberos`.
    Kerberos,
    /// `--keytab`.
    Keytab,
    /// `-n`.
    NfsPort,
    /// `--mount-port`.
    MountPort,
    /// `-i`.
    Interval,
    /// `-c`.
    Retries,
    /// `-r`.
    Timeout,
    /// `--once`.
    Once,
    /// `--json`.
    Json,
    /// `--nfs4`.
    Nfs4,
    /// `--udp`.
    Udp,
    /// `-v`.
    Verbose,
    /// `--check`.
    Check,
    /// `--canary`.
    Canary,
    /// `--warn`.
    Warn,
    /// `--first-wait`.
    FirstWait,
    /// `--metrics-file`.
    MetricsFile,
}

/// One option of a monitor.
#[derive(Debug)]
pub struct Opt {
    /// The word, as typed: `-s`, `--once`.
    pub word: &'static str,
    /// The name of its value in usage texts (`SHARE`); `""` for a switch.
    pub value_name: &'static str,
    /// What follows it.
    pub value: Value,
    /// Which monitor has it.
    pub applets: Applets,
    /// What it sets.
    pub field: Field,
    /// The monitor does not run without it.
    pub required: bool,
    /// Only with this other option (`--json` with `--once`).
    pub requires: Option<&'static str>,
    /// Its line in `--help`; `{credfile_kib}` stands for the credentials file's size limit.
    pub help: &'static str,
    /// Its paragraph in the man page; the same placeholder.
    pub doc: &'static str,
}

impl Opt {
    /// `help` with its placeholders filled in, and the range and default when it has them.
    pub(crate) fn help(&self) -> String {
        let mut h = fill(self.help);
        match self.value {
            Value::Number { lo, hi, default } => {
                let _ = match default {
                    Some(n) => write!(h, " ({lo}-{hi}, default {n})"),
                    None => write!(h, " ({lo}-{hi})"),
                };
            }
            Value::Choice { words, default } => {
                let _ = write!(h, " ({}; default {default})", words.join(", "));
            }
            _ => {}
        }
        h
    }

    /// `doc` with its placeholders filled in, and the range and default when it has them (a
    /// man page's option paragraphs end without a full stop, as clap writes them).
    pub fn doc(&self) -> String {
        let mut d = fill(self.doc.trim_end_matches('.'));
        match self.value {
            Value::Number {
                lo,
                hi,
                default: Some(n),
            } => {
                let _ = write!(d, " ({lo}-{hi}) [default: {n}]");
            }
            Value::Choice { default, .. } => {
                let _ = write!(d, " [default: {default}]");
            }
            _ => {}
        }
        d
    }

    /// The usage form: `-s SHARE`, `--once`.
    pub(crate) fn form(&self) -> String {
        if self.value.takes_value() {
            format!("{} {}", self.word, self.value_name)
        } else {
            self.word.to_owned()
        }
    }
}

fn fill(text: &str) -> String {
    text.replace(
        "{credfile_kib}",
        &(crate::probe::smb::credfile::MAX_SIZE / 1024).to_string(),
    )
}

/// A number of seconds (or probes) of the loop, with its default.
const fn seconds(default: u32) -> Value {
    Value::Number {
        lo: 1,
        hi: 10_000,
        default: Some(default),
    }
}

/// Every option of the monitors, in `--help` order.
pub(crate) static OPTIONS: &[Opt] = &[
    Opt {
        word: "-s",
        value_name: "SHARE",
        value: Value::Text,
        applets: Applets::Samba,
        field: Field::Target,
        required: true,
        requires: None,
        help: "share name from smb.conf (required)",
        doc: "Share name from smb.conf (required; at most 255 bytes).",
    },
    Opt {
        word: "-d",
        value_name: "DIR",
        value: Value::Text,
        applets: Applets::Nfs,
        field: Field::Target,
        required: true,
        requires: None,
        help: "exported directory (required)",
        doc: "Exported directory (required; at most 255 bytes).",
    },
    Opt {
        word: "-a",
        value_name: "IP[:PORT]",
        value: Value::Text,
        applets: Applets::Samba,
        field: Field::Address,
        required: false,
        requires: None,
        help: "server address; HOST:PORT and [IPv6]:PORT accepted (default 127.0.0.1:445)",
        doc: "Server address (a floating IP is fine); HOST:PORT and [IPv6]:PORT accepted; a host \
name is looked up by every probe [default: 127.0.0.1, port 445].",
    },
    Opt {
        word: "-a",
        value_name: "IP",
        value: Value::Text,
        applets: Applets::Nfs,
        field: Field::Address,
        required: false,
        requires: None,
        help: "server address; HOST:PORT (the portmapper's) and [IPv6]:PORT accepted",
        doc: "Server address (a floating IP is fine); a host name is looked up by every probe \
[default: the first non-loopback IPv4 address of this server, else 127.0.0.1].",
    },
    Opt {
        word: "-u",
        value_name: "USER",
        value: Value::Text,
        applets: Applets::Samba,
        field: Field::User,
        required: false,
        requires: None,
        help: "SMB user (DOMAIN\\user accepted); guest/anonymous when absent",
        doc: "SMB user, DOMAIN\\user accepted; without it the session is guest/anonymous.",
    },
    Opt {
        word: "-p",
        value_name: "PASSWORD",
        value: Value::Secret,
        applets: Applets::Samba,
        field: Field::Password,
        required: false,
        requires: None,
        help: "password; ps shows it as XXXX once started (prefer -A or CLP_FSMON_SMB_PASSWORD)",
        doc: "Password of USER (any characters; it never reaches a log). The monitor overwrites \
it with X in its own command line as it starts, so ps(1) does not show it; it is still visible for \
that instant and in shell history and scripts, so prefer -A or CLP_FSMON_SMB_PASSWORD.",
    },
    Opt {
        word: "-A",
        value_name: "CREDFILE",
        value: Value::Text,
        applets: Applets::Samba,
        field: Field::CredentialsFile,
        required: false,
        requires: None,
        help: "smbclient-style credentials file (username= required, password=, domain=): a \
regular file only its owner may read or write, at most {credfile_kib} KiB",
        doc: "smbclient-style credentials file: lines username= (required), password=, domain= \
(keeps the password out of ps(1)). It must be a regular file (a symbolic link to one is followed) \
that only its owner may read or write, at most {credfile_kib} KiB; otherwise it is an invalid \
parameter.",
    },
    Opt {
        word: "--kerberos",
        value_name: "",
        value: Value::Switch,
        applets: Applets::Samba,
        field: Field::Kerberos,
        required: false,
        requires: None,
        help: "log on with Kerberos (SPNEGO), as -u (a principal, user or user@REALM), from \
--keytab or the running user's credential cache",
        doc: "Log on with Kerberos through SPNEGO (MIT krb5's GSSAPI, which reads krb5.conf or \
KRB5_CONFIG as usual), for domains where NTLM is off. -u names the client principal (user or \
user@REALM; DOMAIN\\user is refused, a NetBIOS domain being no realm); without -u, the \
credential cache's or the keytab's own. The credentials are --keytab's, else the running user's \
credential cache (KRB5CCNAME or krb5.conf's default). The server principal is cifs/HOST, HOST \
being -a's host as given, so -a must name the server as the KDC knows it (a host name, not an \
address). The KDC exchange counts against -r; its failures are the phase kerberos, with the \
library's message. Not with -p or -A; SMB 2 and 3 only.",
    },
    Opt {
        word: "--keytab",
        value_name: "FILE",
        value: Value::Text,
        applets: Applets::Samba,
        field: Field::Keytab,
        required: false,
        requires: Some("--kerberos"),
        help: "with --kerberos: the client keytab (a file only its owner may read)",
        doc: "With --kerberos: take the client's keys from this keytab (made with ktutil, \
samba-tool domain exportkeytab or msktutil). Tickets got with it are kept in this process's memory \
only, never in a file, and renewed from the keytab as they expire. It must be a regular file that \
neither group nor others may read or write; otherwise it is an invalid parameter.",
    },
    Opt {
        word: "-n",
        value_name: "PORT",
        value: Value::Number {
            lo: 1,
            hi: 65_535,
            default: None,
        },
        applets: Applets::Nfs,
        field: Field::NfsPort,
        required: false,
        requires: None,
        help: "NFS port instead of asking the portmapper",
        doc: "NFS port (1-65535) instead of asking the portmapper.",
    },
    Opt {
        word: "--mount-port",
        value_name: "PORT",
        value: Value::Number {
            lo: 1,
            hi: 65_535,
            default: None,
        },
        applets: Applets::Nfs,
        field: Field::MountPort,
        required: false,
        requires: None,
        help: "MOUNT port instead of asking the portmapper (with -n: no portmapper at all)",
        doc: "MOUNT v3 port (1-65535) instead of asking the portmapper, for a server that does not \
register MOUNT there (nfs-ls's mountport=). With -n as well the probe asks no portmapper at all. It \
keeps the probe on NFSv3 (no NFSv4 fallback), and is an invalid parameter with --nfs4, which has no \
MOUNT.",
    },
    Opt {
        word: "--nfs4",
        value_name: "",
        value: Value::Switch,
        applets: Applets::Nfs,
        field: Field::Nfs4,
        required: false,
        requires: None,
        help: "probe with NFSv4 COMPOUND only (no portmapper, no MOUNT)",
        doc: "Probe with one NFSv4 COMPOUND only (no portmapper, no MOUNT).",
    },
    Opt {
        word: "--udp",
        value_name: "",
        value: Value::Switch,
        applets: Applets::Nfs,
        field: Field::Udp,
        required: false,
        requires: None,
        help: "portmapper, MOUNT and NFS over UDP",
        doc: "Portmapper, MOUNT and NFS calls over UDP instead of TCP.",
    },
    Opt {
        word: "--check",
        value_name: "LEVEL",
        value: Value::Choice {
            words: &CheckLevel::WORDS,
            default: CheckLevel::DEFAULT.name(),
        },
        applets: Applets::Both,
        field: Field::Check,
        required: false,
        requires: None,
        help: "how deep a probe goes: the session only, one file-system read, or a canary written",
        doc: "How deep a probe goes. connect: the session and tree connect (SMB), or the \
portmapper, MOUNT and NULL/GETATTR (NFS), which a server can answer from its caches while its \
storage hangs. read: connect plus one operation that must reach the exported file system (SMB: \
the share root's file-system size; NFSv3: FSSTAT and a one-entry READDIR; NFSv4: the space \
attributes and a one-entry READDIR in the COMPOUND). write: read plus a canary file (--canary) \
created, written, flushed, read back and removed, which is what catches storage that is \
read-only, full or no longer writable.",
    },
    Opt {
        word: "--canary",
        value_name: "NAME",
        value: Value::Text,
        applets: Applets::Both,
        field: Field::Canary,
        required: false,
        requires: None,
        help: "with --check write: the canary's name at the share's or export's root \
(default .clp-fsmon-ID)",
        doc: "With --check write: the canary file's name at the root of the share or export, \
one name of at most 255 bytes [default: .clp-fsmon-ID]. A canary left by a probe cut at its \
deadline is removed by the next probe; give each monitor of one share its own name.",
    },
    Opt {
        word: "-i",
        value_name: "INTERVAL",
        value: seconds(30),
        applets: Applets::Both,
        field: Field::Interval,
        required: false,
        requires: None,
        help: "seconds between probes",
        doc: "Seconds between probes, from the end of one to the start of the next.",
    },
    Opt {
        word: "-c",
        value_name: "RETRIES",
        value: seconds(5),
        applets: Applets::Both,
        field: Field::Retries,
        required: false,
        requires: None,
        help: "consecutive failed probes that make a fault",
        doc: "Consecutive failed probes that make a fault.",
    },
    Opt {
        word: "-r",
        value_name: "TIMEOUT",
        value: seconds(60),
        applets: Applets::Both,
        field: Field::Timeout,
        required: false,
        requires: None,
        help: "seconds one probe may take",
        doc: "Deadline of one whole probe, all its round trips, in seconds.",
    },
    Opt {
        word: "--warn",
        value_name: "PCT",
        value: Value::Number {
            lo: 1,
            hi: 100,
            default: Some(50),
        },
        applets: Applets::Both,
        field: Field::Warn,
        required: false,
        requires: None,
        help: "warn (event 81) when 3 successful probes in a row take more than PCT % of -r",
        doc: "Slow before dead: when three successful probes in a row each take more than PCT \
percent of TIMEOUT, the monitor raises event 81 once (the latency and the limit in \
milliseconds), and event 82 at the next probe within the limit. Warnings never count toward \
RETRIES and never fail over; 100 warns only of a probe that overran its deadline. Not with --once (one probe keeps no state).",
    },
    Opt {
        word: "--first-wait",
        value_name: "SEC",
        value: Value::Number {
            lo: 0,
            hi: 10_000,
            default: Some(0),
        },
        applets: Applets::Both,
        field: Field::FirstWait,
        required: false,
        requires: None,
        help: "failures of probes started in the first SEC s after start do not count toward -c",
        doc: "Start grace: a probe that starts within SEC seconds of the monitor's start (event \
1) and fails is written to the fault log but does not count toward RETRIES, for a service that \
starts a moment after its monitor. Not with --once (one probe keeps no state).",
    },
    Opt {
        word: "--metrics-file",
        value_name: "PATH",
        value: Value::Text,
        applets: Applets::Both,
        field: Field::MetricsFile,
        required: false,
        requires: None,
        help: "rewrite PATH after every probe with Prometheus metrics (node_exporter textfile \
collector)",
        doc: "After every probe, replace PATH atomically with this monitor's metrics in the \
Prometheus text exposition format, for node_exporter's textfile collector (give it a name ending \
in .prom in the collector's directory, one file per monitor). PATH is absolute; its directory \
must be one only root may write (it is created when missing). The writing is done off the probe's \
path; the file is written once more, with the state stopping, when the monitor ends, and left in \
place. The metrics are listed in clp-fsmon(8). Not with --once (one probe keeps no state).",
    },
    Opt {
        word: "--once",
        value_name: "",
        value: Value::Switch,
        applets: Applets::Both,
        field: Field::Once,
        required: false,
        requires: None,
        help: "run one probe, print the result, exit 0 OK / 2 CRITICAL / 3 UNKNOWN",
        doc: "Run one probe, print one plugin-style status line and exit 0 OK, 2 CRITICAL or 3 \
UNKNOWN (also for an invalid or missing parameter and a refused licence, without an alert); takes \
no registry entry.",
    },
    Opt {
        word: "--json",
        value_name: "",
        value: Value::Switch,
        applets: Applets::Both,
        field: Field::Json,
        required: false,
        requires: Some("--once"),
        help: "with --once: print the result as JSON",
        doc: "With --once: print the result as one JSON object.",
    },
    Opt {
        word: "-v",
        value_name: "",
        value: Value::Count,
        applets: Applets::Both,
        field: Field::Verbose,
        required: false,
        requires: None,
        help: "more diagnostics on stderr (repeat for debug; see CLP_FSMON_LOG)",
        doc: "More diagnostics on stderr; repeat for debug output (see CLP_FSMON_LOG).",
    },
];

/// The options `module` has, in order.
pub fn options(module: Module) -> impl Iterator<Item = &'static Opt> {
    OPTIONS.iter().filter(move |o| o.applets.has(module))
}

/// `module`'s option called `word`.
pub(crate) fn find(module: Module, word: &str) -> Option<&'static Opt> {
    options(module).find(|o| o.word == word)
}

/// Options of a running monitor's state across probes (warnings, start grace, a metrics file):
/// `--once` makes one probe and keeps no state, so they are refused beside it rather than
/// silently ignored.
pub(crate) const MONITOR_ONLY: [Field; 3] = [Field::Warn, Field::FirstWait, Field::MetricsFile];

/// The default of a numeric option (a row of [`OPTIONS`] with a default).
pub(crate) fn default_of(field: Field) -> u32 {
    OPTIONS
        .iter()
        .find_map(|o| match (o.field == field, o.value) {
            (true, Value::Number { default, .. }) => default,
            _ => None,
        })
        .unwrap_or(0)
}

/// What a control word asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// `-stop [WAIT]`.
    Stop,
    /// `-pause`.
    Pause,
    /// `-continue`.
    Continue,
    /// `-disp`.
    Disp,
    /// `-del`.
    Del,
}

/// One control word: it stands right after the ID, alone (but for its optional value).
#[derive(Debug)]
pub struct ControlWord {
    /// The word.
    pub word: &'static str,
    /// What it asks for.
    pub control: Control,
    /// Its optional value: name and range (the default is [`DEFAULT_STOP_WAIT`]).
    pub value: Option<(&'static str, u32, u32)>,
    /// Its line in `--help`.
    pub help: &'static str,
    /// Its paragraph in the man page.
    pub doc: &'static str,
}

impl ControlWord {
    /// `help`, with the range and default of its value.
    pub(crate) fn help(&self) -> String {
        self.with_range(self.help, ", ")
    }

    /// `doc`, with the range and default of its value.
    pub fn doc(&self) -> String {
        self.with_range(self.doc.trim_end_matches('.'), " ")
    }

    fn with_range(&self, text: &str, sep: &str) -> String {
        match self.value {
            Some((name, lo, hi)) => {
                format!("{text} ({name}: {lo}-{hi}{sep}default {DEFAULT_STOP_WAIT})")
            }
            None => text.to_owned(),
        }
    }

    /// The usage form: `-stop [WAIT]`.
    pub fn form(&self) -> String {
        match self.value {
            Some((name, ..)) => format!("{} [{name}]", self.word),
            None => self.word.to_owned(),
        }
    }
}

/// Default `-stop` wait in seconds.
pub(crate) const DEFAULT_STOP_WAIT: u32 = 60;

/// Every control word, in `--help` order.
pub static CONTROL: &[ControlWord] = &[
    ControlWord {
        word: "-stop",
        control: Control::Stop,
        value: Some(("WAIT", 1, 10_000)),
        help: "end the monitor; wait up to WAIT s",
        doc: "End the monitor, at once even in the middle of a probe, and wait up to WAIT \
seconds for it to exit. Exit status 5 and event 15 when it did not end in time; 0 when the ID is \
not running, after recording a stop intent: a monitor of that ID that was already starting (a start \
script's shell before its exec included) stops as soon as it claims the ID, one started later \
ignores it.",
    },
    ControlWord {
        word: "-pause",
        control: Control::Pause,
        value: None,
        help: "suspend probing (event 7)",
        doc: "Suspend probing, e.g. for maintenance of the server (event 7).",
    },
    ControlWord {
        word: "-continue",
        control: Control::Continue,
        value: None,
        help: "resume probing (event 8)",
        doc: "Resume probing (event 8).",
    },
    ControlWord {
        word: "-disp",
        control: Control::Disp,
        value: None,
        help: "print the monitor's pid",
        doc: "Print the pid registered for ID; exit status 8 for a stale entry (the process is \
gone, or its pid was reused by another program), and says why.",
    },
    ControlWord {
        word: "-del",
        control: Control::Del,
        value: None,
        help: "delete a stale entry",
        doc: "Delete a stale registry entry. Refused (exit status 9) while the monitor lives. \
Rarely needed: a dead monitor's entry is recognised as stale and the same ID simply starts again.",
    },
];

/// The control word `word`.
pub(crate) fn control(word: &str) -> Option<&'static ControlWord> {
    CONTROL.iter().find(|c| c.word == word)
}

/// The synopsis of `module`: its monitor form, then its control form.
pub fn synopsis(module: Module) -> [String; 2] {
    let applet = module.applet();
    let mut run = format!("{applet} ID");
    for o in options(module) {
        let f = o.form();
        if o.required {
            let _ = write!(run, " {f}");
        } else if let Some(r) = o.requires {
            // `[--once [--json]]`: the one it needs is written around it.
            run = run.replace(&format!("[{r}]"), &format!("[{r} [{f}]]"));
        } else {
            let _ = write!(run, " [{f}]");
        }
    }
    let control = CONTROL
        .iter()
        .map(ControlWord::form)
        .collect::<Vec<_>>()
        .join(" | ");
    [run, format!("{applet} ID {control}")]
}

/// The text of `--help`.
pub(crate) fn usage(module: Module) -> String {
    let [run, control] = synopsis(module);
    let mut s = format!(
        "usage: {run}\n       {control}\n\nID is 1-{MAX_VALUE} ASCII letters/digits, unique on this server.\n"
    );
    let rows: Vec<(String, String)> = options(module)
        .map(|o| (o.form(), o.help()))
        .chain(CONTROL.iter().map(|c| (c.form(), c.help())))
        .collect();
    let width = rows.iter().map(|(f, _)| f.len()).max().unwrap_or(0) + 2;
    for (form, help) in rows {
        let _ = writeln!(s, "  {form:<width$}{help}");
    }
    let statuses: Vec<String> = MONITOR_STATUSES
        .iter()
        .map(|e| format!("{} {}", e.code(), e.label()))
        .collect();
    let (first, rest) = statuses.split_at(5);
    let _ = write!(
        s,
        "\nexit status: {},\n             {}\n",
        first.join(", "),
        rest.join(", ")
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_one_option_of_each_applet_and_never_a_control_word() {
        for m in [Module::Sambamon, Module::Nfsmon] {
            let words: Vec<&str> = options(m).map(|o| o.word).collect();
            for (i, w) in words.iter().enumerate() {
                assert!(!words[i + 1..].contains(w), "{m:?}: {w} twice");
                assert!(control(w).is_none(), "{w} is a control word too");
                assert!(!HELP.contains(w) && !VERSION.contains(w), "{w}");
            }
            // Each monitor has exactly one target option, and it is required.
            let targets: Vec<_> = options(m).filter(|o| o.field == Field::Target).collect();
            assert_eq!(targets.len(), 1, "{m:?}");
            assert!(targets[0].required);
            // A `requires` names an option of the same applet.
            for o in options(m) {
                if let Some(r) = o.requires {
                    assert!(find(m, r).is_some(), "{} requires {r}", o.word);
                }
            }
        }
    }

    #[test]
    fn defaults_and_ranges_are_shown_from_the_table() {
        assert_eq!(default_of(Field::Interval), 30);
        assert_eq!(default_of(Field::Retries), 5);
        assert_eq!(default_of(Field::Timeout), 60);
        assert_eq!(default_of(Field::Warn), 50);
        assert_eq!(default_of(Field::FirstWait), 0);
        let i = find(Module::Nfsmon, "-i").unwrap();
        assert!(i.help().ends_with("(1-10000, default 30)"), "{}", i.help());
        assert!(i.doc().ends_with("(1-10000) [default: 30]"), "{}", i.doc());
        let stop = control("-stop").unwrap();
        assert!(stop.help().ends_with("(WAIT: 1-10000, default 60)"));
        let a = find(Module::Sambamon, "-A").unwrap();
        assert!(a.help().contains("at most 64 KiB"), "{}", a.help());
    }

    #[test]
    fn usage_lists_every_option_and_control_word() {
        for m in [Module::Sambamon, Module::Nfsmon] {
            let u = usage(m);
            for o in options(m) {
                assert!(u.contains(&format!("  {}", o.form())), "{}", o.word);
            }
            for c in CONTROL {
                assert!(u.contains(&c.form()), "{}", c.word);
            }
        }
        assert!(usage(Module::Sambamon).starts_with(
            "usage: clp_sambamon ID -s SHARE [-a IP[:PORT]] [-u USER] [-p PASSWORD] [-A CREDFILE] \
[--kerberos [--keytab FILE]] [--check LEVEL] [--canary NAME] [-i INTERVAL] [-c RETRIES] [-r TIMEOUT] \
[--warn PCT] [--first-wait SEC] [--metrics-file PATH] [--once [--json]] [-v]\n       clp_sambamon ID -stop [WAIT] \
| -pause | -continue | -disp | -del\n"
        ));
    }
}
