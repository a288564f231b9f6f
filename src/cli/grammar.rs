//! The legacy single-dash grammar shared by `clp_sambamon` and `clp_nfsmon`, reading the
//! option table ([`super::options`]): `APPLET ID OPTION…` or `APPLET ID CONTROL-WORD [VALUE]`.
//!
//! The ID always comes first. Options are whole tokens: `-stop` is a command, never `-s top`.
//! Errors map to the original events: no ID → 13, malformed / out-of-range / unknown / repeated
//! option or an invalid ID → 11, no `-s`/`-d` → 12. Extensions (`-a HOST:PORT`, `-A CREDFILE`,
//! `--once`, `--json`, `--nfs4`, `--udp`, `--mount-port`, `-v`) never change the meaning of a
//! legacy command line.
//!
//! A word that follows an option taking a value is that value, whatever it looks like: `-p -h` is
//! the password `-h`, `-s --help` the share `--help`. Only a word standing as an option of its own
//! is help, version or `--once` ([`option_words`] finds those words, for [`parse`] and for the
//! front end, which must know of `--once` even on a line that does not parse).
//!
//! Every value that can reach a log line (the ID, `-s`, `-d`, `-a`, `-u`, `-A`) is refused when it
//! holds a control character ([`crate::alert::check_text`]); the password (`-p`) never reaches a log, so it may
//! hold any character an SMB password can.

use std::ffi::OsStr;

use super::options::{self, Control, DEFAULT_STOP_WAIT, Field, HELP, MAX_VALUE, VERSION, Value};
use crate::alert::Module;
use crate::alert::check_text;
use crate::probe::CheckLevel;

/// What was asked of the applet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Start monitoring (or probe once with `--once`).
    Monitor(Box<MonitorArgs>),
    /// `-stop [WAIT]`: end the monitor, wait up to WAIT seconds.
    Stop {
        /// Seconds to wait for the monitor to end.
        wait: u32,
    },
    /// `-pause`.
    Pause,
    /// `-continue`.
    Continue,
    /// `-disp`: print the registered pid.
    Disp,
    /// `-del`: delete a stale registry entry.
    Del,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// `--help` / `-h` anywhere.
    Help,
    /// `--version`.
    Version,
    /// An ID and what to do with it.
    Run {
        /// Monitor ID.
        id: String,
        /// What to do.
        command: Command,
    },
}

/// Options of a monitor run. `Debug` never shows the password.
#[allow(clippy::struct_excessive_bools)] // each is an independent command-line switch
#[derive(Clone, PartialEq, Eq)]
pub struct MonitorArgs {
    /// `-s SHARE` or `-d DIR`.
    pub target: String,
    /// `-a IP` (`HOST`, `HOST:PORT`, `[V6]:PORT`).
    pub address: Option<String>,
    /// `-u USER` (sambamon).
    pub user: Option<String>,
    /// `-p PASSWORD` (sambamon).
    pub password: Option<String>,
    /// `-A FILE`: smbclient-style credentials file (sambamon).
    pub credentials_file: Option<String>,
    /// `--kerberos`: a Kerberos logon (sambamon).
    pub kerberos: bool,
    /// `--keytab FILE` (sambamon, with `--kerberos`).
    pub keytab: Option<String>,
    /// `-n PORT` (nfsmon).
    pub nfs_port: Option<u16>,
    /// `--mount-port PORT` (nfsmon).
    pub mount_port: Option<u16>,
    /// `-i` seconds between probes.
    pub interval: u32,
    /// `-c` consecutive failures that make a fault.
    pub retries: u32,
    /// `-r` seconds one probe may take.
    pub timeout: u32,
    /// `--once`: one probe, plugin exit status.
    pub once: bool,
    /// `--json` with `--once`.
    pub json: bool,
    /// `--nfs4`: `NFSv4` COMPOUND probe only (nfsmon).
    pub nfs4: bool,
    /// `--udp`: portmap/MOUNT/NFS over UDP (nfsmon).
    pub udp: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `--check`: how deep a probe goes.
    pub check: CheckLevel,
    /// The canary's name: `--canary NAME` (only with `--check write`), else `.clp-fsmon-<ID>`.
    pub canary: String,
    /// `--warn`: a successful probe slower than this percentage of `-r` is slow.
    pub warn: u32,
    /// `--first-wait`: seconds after start in which failures do not count.
    pub first_wait: u32,
    /// `--metrics-file`: where the Prometheus metrics are written (an absolute path).
    pub metrics_file: Option<String>,
}

impl std::fmt::Debug for MonitorArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorArgs")
            .field("target", &self.target)
            .field("address", &self.address)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("credentials_file", &self.credentials_file)
            .field("kerberos", &self.kerberos)
            .field("keytab", &self.keytab)
            .field("nfs_port", &self.nfs_port)
            .field("mount_port", &self.mount_port)
            .field("interval", &self.interval)
            .field("retries", &self.retries)
            .field("timeout", &self.timeout)
            .field("once", &self.once)
            .field("json", &self.json)
            .field("nfs4", &self.nfs4)
            .field("udp", &self.udp)
            .field("check", &self.check)
            .field("canary", &self.canary)
            .field("warn", &self.warn)
            .field("first_wait", &self.first_wait)
            .field("metrics_file", &self.metrics_file)
            .field("verbose", &self.verbose)
            .finish()
    }
}

impl MonitorArgs {
    /// How `--once` reports, or `None` for a monitor.
    pub(crate) fn once_output(&self) -> Option<OnceOutput> {
        OnceOutput::of(self.once, self.json)
    }

    fn new() -> Self {
        Self {
            target: String::new(),
            address: None,
            user: None,
            password: None,
            credentials_file: None,
            kerberos: false,
            keytab: None,
            nfs_port: None,
            mount_port: None,
            interval: options::default_of(Field::Interval),
            retries: options::default_of(Field::Retries),
            timeout: options::default_of(Field::Timeout),
            once: false,
            json: false,
            nfs4: false,
            udp: false,
            verbose: 0,
            check: CheckLevel::DEFAULT,
            canary: String::new(),
            warn: options::default_of(Field::Warn),
            first_wait: options::default_of(Field::FirstWait),
            metrics_file: None,
        }
    }
}

/// A command line that cannot run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    /// Event 13: no ID.
    #[error("no monitor ID")]
    IdMissing,
    /// Event 11: a malformed value, unknown option, or invalid ID; the string says which.
    #[error("{0}")]
    Invalid(String),
    /// Event 12: `-s` / `-d` missing.
    #[error("no target (-s SHARE or -d DIR)")]
    TargetMissing,
}

/// True when `id` is a valid monitor ID: ASCII alphanumeric, 1–255 bytes.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_VALUE && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn number(opt: &str, v: &str, lo: u32, hi: u32) -> Result<u32, ArgError> {
    let bad = || {
        ArgError::Invalid(format!(
            "{opt} must be a whole number from {lo} to {hi}, got {v:?}"
        ))
    };
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u32 = v.parse().map_err(|_| bad())?;
    if (lo..=hi).contains(&n) {
        Ok(n)
    } else {
        Err(bad())
    }
}

fn text(opt: &str, v: &str) -> Result<String, ArgError> {
    check_text(opt, v).map_err(|e| ArgError::Invalid(e.to_string()))?;
    Ok(v.to_owned())
}

/// True when `opt` is an option of `module` that takes a value.
fn takes_value(module: Module, opt: &str) -> bool {
    options::find(module, opt).is_some_and(|o| o.value.takes_value())
}

/// The words of `args` that stand as options, with their positions: every word but the ID (the
/// first word, unless it starts with `-`) and the value after each option that takes one.
pub(crate) fn option_words<S: AsRef<OsStr>>(
    module: Module,
    args: &[S],
) -> impl Iterator<Item = (usize, &OsStr)> {
    let mut is_value = args
        .first()
        .is_some_and(|a| !a.as_ref().as_encoded_bytes().starts_with(b"-"));
    args.iter().enumerate().filter_map(move |(i, a)| {
        let a = a.as_ref();
        if std::mem::take(&mut is_value) {
            return None;
        }
        is_value = a.to_str().is_some_and(|o| takes_value(module, o));
        Some((i, a))
    })
}

/// How a `--once` caller reads a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnceOutput {
    /// One plugin-style line.
    Line,
    /// One JSON object (`--json`).
    Json,
}

impl OnceOutput {
    /// The output of `--once` (when `once`) with or without `--json`.
    fn of(once: bool, json: bool) -> Option<Self> {
        match (once, json) {
            (false, _) => None,
            (true, false) => Some(Self::Line),
            (true, true) => Some(Self::Json),
        }
    }
}

/// `Some` when `--once` stands as an option in `args`, judged from the words alone so that it
/// holds for a command line that does not parse: its usage error then follows the plugin
/// convention too.
pub(crate) fn once_requested<S: AsRef<OsStr>>(module: Module, args: &[S]) -> Option<OnceOutput> {
    let (mut once, mut json) = (false, false);
    for (_, w) in option_words(module, args) {
        match w
            .to_str()
            .and_then(|o| options::find(module, o))
            .map(|o| o.field)
        {
            Some(Field::Once) => once = true,
            Some(Field::Json) => json = true,
            _ => {}
        }
    }
    OnceOutput::of(once, json)
}

/// The position in `args` of the `-p` password, when one is given.
pub(crate) fn password_position<S: AsRef<OsStr>>(module: Module, args: &[S]) -> Option<usize> {
    option_words(module, args)
        .find(|(_, w)| {
            w.to_str()
                .and_then(|o| options::find(module, o))
                .is_some_and(|o| o.field == Field::Password)
        })
        .map(|(i, _)| i + 1)
        .filter(|i| *i < args.len())
}

/// Parses the arguments after the applet name for `module`.
pub fn parse(module: Module, args: &[String]) -> Result<Parsed, ArgError> {
    let words = || option_words(module, args).map(|(_, w)| w);
    if words().any(|w| HELP.iter().any(|h| w == *h)) {
        return Ok(Parsed::Help);
    }
    if words().any(|w| VERSION.iter().any(|v| w == *v)) {
        return Ok(Parsed::Version);
    }
    let Some(first) = args.first() else {
        return Err(ArgError::IdMissing);
    };
    if first.starts_with('-') {
        return Err(ArgError::IdMissing);
    }
    if !valid_id(first) {
        return Err(ArgError::Invalid(format!(
            "the monitor ID must be 1 to {MAX_VALUE} ASCII letters or digits"
        )));
    }
    let id = first.clone();
    let rest = &args[1..];
    let control = |cmd: Command, extra: &[String]| {
        if extra.is_empty() {
            Ok(Parsed::Run {
                id: id.clone(),
                command: cmd,
            })
        } else {
            Err(ArgError::Invalid(format!(
                "unexpected argument {:?}",
                extra[0]
            )))
        }
    };
    if let Some(c) = rest.first().and_then(|w| options::control(w)) {
        let (wait, extra) = match (c.value, rest.get(1)) {
            (Some((name, lo, hi)), Some(w)) => (
                number(&format!("{} {name}", c.word), w, lo, hi)?,
                rest.get(2..).unwrap_or(&[]),
            ),
            _ => (DEFAULT_STOP_WAIT, &rest[1..]),
        };
        let cmd = match c.control {
            Control::Stop => Command::Stop { wait },
            Control::Pause => Command::Pause,
            Control::Continue => Command::Continue,
            Control::Disp => Command::Disp,
            Control::Del => Command::Del,
        };
        return control(cmd, extra);
    }
    let mut m = MonitorArgs::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut it = rest.iter();
    while let Some(word) = it.next() {
        let word = word.as_str();
        let Some(opt) = options::find(module, word) else {
            if options::control(word).is_some() {
                return Err(ArgError::Invalid(format!(
                    "{word} must come right after the monitor ID"
                )));
            }
            return Err(ArgError::Invalid(format!("unknown option {word:?}")));
        };
        if opt.value == Value::Count {
            m.verbose = m.verbose.saturating_add(1);
            continue;
        }
        if seen.contains(&opt.word) {
            return Err(ArgError::Invalid(format!("{} given twice", opt.word)));
        }
        seen.push(opt.word);
        let v = if opt.value.takes_value() {
            it.next()
                .ok_or_else(|| ArgError::Invalid(format!("{} needs a value", opt.word)))?
                .as_str()
        } else {
            ""
        };
        let flag = opt.word;
        let text = |v: &str| text(flag, v);
        let num = |v: &str| match opt.value {
            Value::Number { lo, hi, .. } => number(flag, v, lo, hi),
            _ => unreachable!("a number field has a number value"),
        };
        match opt.field {
            Field::Target => m.target = text(v)?,
            Field::Address => m.address = Some(text(v)?),
            Field::User => m.user = Some(text(v)?),
            Field::Password => {
                // An empty password is legitimate for SMB, and so is any character in it: the
                // password never reaches a log (only the NTLM key derived from it is kept).
                if v.len() > MAX_VALUE {
                    return Err(ArgError::Invalid(format!(
                        "{flag} longer than {MAX_VALUE} bytes"
                    )));
                }
                m.password = Some(v.to_owned());
            }
            Field::CredentialsFile => m.credentials_file = Some(text(v)?),
            Field::Kerberos => m.kerberos = true,
            Field::Keytab => m.keytab = Some(text(v)?),
            Field::NfsPort | Field::MountPort => {
                let port = Some(
                    u16::try_from(num(v)?)
                        .map_err(|_| ArgError::Invalid(format!("{flag} must be a port number")))?,
                );
                if opt.field == Field::NfsPort {
                    m.nfs_port = port;
                } else {
                    m.mount_port = port;
                }
            }
            Field::Interval => m.interval = num(v)?,
            Field::Retries => m.retries = num(v)?,
            Field::Timeout => m.timeout = num(v)?,
            Field::Once => m.once = true,
            Field::Json => m.json = true,
            Field::Nfs4 => m.nfs4 = true,
            Field::Udp => m.udp = true,
            Field::Verbose => unreachable!("counted above"),
            Field::Check => {
                m.check = CheckLevel::parse(v).ok_or_else(|| {
                    ArgError::Invalid(format!(
                        "{flag} must be one of {}, not {v:?}",
                        CheckLevel::WORDS.join(", ")
                    ))
                })?;
            }
            Field::Canary => {
                let name = text(v)?;
                if let Some(why) = crate::probe::canary_refusal(&name) {
                    return Err(ArgError::Invalid(format!("{flag} {name:?} {why}")));
                }
                m.canary = name;
            }
            Field::Warn => m.warn = num(v)?,
            Field::FirstWait => m.first_wait = num(v)?,
            Field::MetricsFile => {
                let path = text(v)?;
                let p = std::path::Path::new(&path);
                if !p.is_absolute() || p.file_name().is_none() || path.ends_with('/') {
                    return Err(ArgError::Invalid(format!(
                        "{flag} must be the absolute path of a file"
                    )));
                }
                m.metrics_file = Some(path);
            }
        }
    }
    for o in options::options(module) {
        if m.once && options::MONITOR_ONLY.contains(&o.field) && seen.contains(&o.word) {
            return Err(ArgError::Invalid(format!(
                "{} is for a monitor: --once makes one probe and keeps no state between probes",
                o.word
            )));
        }
        if let Some(r) = o.requires
            && seen.contains(&o.word)
            && !seen.contains(&r)
        {
            return Err(ArgError::Invalid(format!("{} goes with {r}", o.word)));
        }
    }
    if m.canary.is_empty() {
        m.canary = crate::probe::default_canary(&id);
        if m.check == CheckLevel::Write
            && let Some(why) = crate::probe::canary_refusal(&m.canary)
        {
            return Err(ArgError::Invalid(format!(
                "the default canary name {why} for this ID: give --canary NAME"
            )));
        }
    } else if m.check != CheckLevel::Write {
        return Err(ArgError::Invalid(format!(
            "--canary goes with --check {}",
            CheckLevel::Write
        )));
    }
    if m.target.is_empty() {
        return Err(ArgError::TargetMissing);
    }
    Ok(Parsed::Run {
        id,
        command: Command::Monitor(Box::new(m)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(m: Module, s: &str) -> Result<Parsed, ArgError> {
        let v: Vec<String> = s.split_whitespace().map(String::from).collect();
        parse(m, &v)
    }

    fn monitor(r: Result<Parsed, ArgError>) -> MonitorArgs {
        match r {
            Ok(Parsed::Run {
                command: Command::Monitor(m),
                ..
            }) => *m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let m = monitor(p(Module::Sambamon, "w1 -s share -u bob -p s3cr3tPW"));
        let d = format!("{m:?}");
        assert!(!d.contains("s3cr3tPW") && d.contains("<redacted>"), "{d}");
    }

    #[test]
    fn options_of_a_monitors_state_are_refused_with_once() {
        for bad in ["--warn 60", "--first-wait 5", "--metrics-file /tmp/m.prom"] {
            let line = format!("w1 -s s --once {bad}");
            assert!(
                matches!(p(Module::Sambamon, &line), Err(ArgError::Invalid(e)) if e.contains("--once")),
                "{bad}"
            );
            monitor(p(Module::Sambamon, &format!("w1 -s s {bad}")));
        }
    }

    #[test]
    fn check_levels_and_the_canary() {
        let m = monitor(p(Module::Sambamon, "w1 -s share"));
        assert_eq!(m.check, CheckLevel::Read, "read is the default");
        assert_eq!(m.canary, ".clp-fsmon-w1");
        let m = monitor(p(Module::Nfsmon, "w1 -d /x --check connect"));
        assert_eq!(m.check, CheckLevel::Connect);
        let m = monitor(p(
            Module::Nfsmon,
            "w1 -d /x --check write --canary probe.tmp",
        ));
        assert_eq!(
            (m.check, m.canary.as_str()),
            (CheckLevel::Write, "probe.tmp")
        );
        for bad in [
            "w1 -s s --check deep",
            "w1 -s s --check Read",
            "w1 -s s --canary x",
            "w1 -s s --check read --canary x",
            "w1 -s s --check write --canary ..",
            "w1 -s s --check write --canary a/b",
            "w1 -s s --check write --canary a\\b",
        ] {
            assert!(
                matches!(p(Module::Sambamon, bad), Err(ArgError::Invalid(_))),
                "{bad}"
            );
        }
        // A 255-byte ID is valid, but its default canary name is not one name of 255 bytes.
        let long = format!("{} -s s --check write", "a".repeat(MAX_VALUE));
        assert!(
            matches!(p(Module::Sambamon, &long), Err(ArgError::Invalid(e)) if e.contains("--canary"))
        );
        let long = format!("{} -s s --check write --canary c", "a".repeat(MAX_VALUE));
        assert_eq!(monitor(p(Module::Sambamon, &long)).canary, "c");
    }

    #[test]
    fn help_and_version_words_given_as_values_are_values() {
        let m = monitor(p(Module::Sambamon, "w1 -s share -u bob -p -h"));
        assert_eq!(m.password.as_deref(), Some("-h"));
        let m = monitor(p(Module::Sambamon, "w1 -s --help -p --version"));
        assert_eq!(m.target, "--help");
        assert_eq!(m.password.as_deref(), Some("--version"));
        assert_eq!(
            monitor(p(Module::Sambamon, "w1 -u -V -s x"))
                .user
                .as_deref(),
            Some("-V")
        );
        assert_eq!(monitor(p(Module::Nfsmon, "w1 -d -h")).target, "-h");
        // standing as an option of its own, anywhere, it is still help or version
        for line in [
            "--help",
            "-h",
            "w1 -s share -h",
            "w1 -s x -p pw --help",
            "w1 -stop -h",
        ] {
            assert_eq!(p(Module::Sambamon, line), Ok(Parsed::Help), "{line}");
        }
        assert_eq!(p(Module::Nfsmon, "w1 -d /x -V"), Ok(Parsed::Version));
        // -n takes a value only in clp_nfsmon: there `-n -h` is a (bad) port, not help
        assert!(matches!(
            p(Module::Nfsmon, "w1 -d /x -n -h"),
            Err(ArgError::Invalid(_))
        ));
    }

    #[test]
    fn once_and_the_password_are_found_by_position() {
        let v = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let m = Module::Sambamon;
        assert_eq!(
            once_requested(m, &v("w1 -z --once")),
            Some(OnceOutput::Line)
        );
        assert_eq!(
            once_requested(m, &v("w1 --json -i 0 --once")),
            Some(OnceOutput::Json)
        );
        assert_eq!(once_requested(m, &v("w1 -s --once")), None);
        assert_eq!(once_requested(m, &v("w1 -s x -p --once")), None);
        assert_eq!(password_position(m, &v("w1 -s x -p pw -i 5")), Some(4));
        assert_eq!(password_position(m, &v("w1 -s -p -u bob")), None);
        assert_eq!(password_position(m, &v("w1 -s x -p")), None);
        assert_eq!(
            password_position(Module::Nfsmon, &v("w1 -d /x -p pw")),
            None
        );
    }

    #[test]
    fn control_characters_in_logged_values_are_invalid() {
        let m = Module::Sambamon;
        let line = |opt: &str, v: &str| {
            let mut a: Vec<String> = ["w1", "-s", "share"].map(String::from).to_vec();
            if opt == "-s" {
                a.truncate(1);
            }
            a.extend([opt.to_owned(), v.to_owned()]);
            parse(m, &a)
        };
        for bad in [
            "a\nb",
            "a\tb",
            "a\0b",
            "a\rb",
            "\x1b[2J",
            "a\x7fb",
            "a\u{85}b",
            "a\u{2028}b",
        ] {
            for opt in ["-s", "-u", "-a", "-A"] {
                match line(opt, bad) {
                    Err(ArgError::Invalid(why)) => {
                        assert!(why.contains("control characters"), "{opt} {bad:?}: {why}");
                        assert!(!why.contains(bad), "the message repeats the value: {why}");
                    }
                    other => panic!("{opt} {bad:?}: {other:?}"),
                }
            }
            let d = vec!["w1".to_owned(), "-d".to_owned(), format!("/x{bad}")];
            assert!(
                matches!(parse(Module::Nfsmon, &d), Err(ArgError::Invalid(_))),
                "-d {bad:?}"
            );
            let id = vec![format!("w{bad}1"), "-s".to_owned(), "x".to_owned()];
            assert!(
                matches!(parse(m, &id), Err(ArgError::Invalid(_))),
                "ID {bad:?}"
            );
        }
        // non-ASCII text is fine; a password may hold anything (it is never logged)
        assert_eq!(monitor(line("-s", "données")).target, "données");
        let pw = monitor(line("-p", "tab\there\nnl"));
        assert_eq!(pw.password.as_deref(), Some("tab\there\nnl"));
    }

    #[test]
    fn defaults() {
        let m = monitor(p(Module::Sambamon, "w1 -s share"));
        assert_eq!((m.interval, m.retries, m.timeout), (30, 5, 60));
        assert_eq!(m.target, "share");
        assert_eq!((m.warn, m.first_wait, m.metrics_file), (50, 0, None));
    }

    #[test]
    fn warn_first_wait_and_the_metrics_file() {
        let m = monitor(p(
            Module::Nfsmon,
            "w1 -d /x --warn 80 --first-wait 15 --metrics-file /var/lib/node/w1.prom",
        ));
        assert_eq!((m.warn, m.first_wait), (80, 15));
        assert_eq!(m.metrics_file.as_deref(), Some("/var/lib/node/w1.prom"));
        assert_eq!(monitor(p(Module::Sambamon, "w1 -s s --warn 100")).warn, 100);
        for bad in [
            "w1 -s s --warn 0",
            "w1 -s s --warn 101",
            "w1 -s s --first-wait 10001",
            "w1 -s s --first-wait -1",
            "w1 -s s --metrics-file w1.prom",
            "w1 -s s --metrics-file /",
            "w1 -s s --metrics-file /var/lib/",
            "w1 -s s --metrics-file",
        ] {
            assert!(
                matches!(p(Module::Sambamon, bad), Err(ArgError::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn stop_is_not_s_top() {
        assert_eq!(
            p(Module::Sambamon, "w1 -stop"),
            Ok(Parsed::Run {
                id: "w1".into(),
                command: Command::Stop { wait: 60 }
            })
        );
        assert_eq!(
            p(Module::Nfsmon, "w1 -stop 5"),
            Ok(Parsed::Run {
                id: "w1".into(),
                command: Command::Stop { wait: 5 }
            })
        );
        assert!(matches!(
            p(Module::Sambamon, "w1 -stop 0"),
            Err(ArgError::Invalid(_))
        ));
        assert!(matches!(
            p(Module::Sambamon, "w1 -stop 5 x"),
            Err(ArgError::Invalid(_))
        ));
    }

    #[test]
    fn errors_map_to_events() {
        assert_eq!(p(Module::Sambamon, ""), Err(ArgError::IdMissing));
        assert_eq!(p(Module::Sambamon, "-s share"), Err(ArgError::IdMissing));
        assert_eq!(p(Module::Sambamon, "w1"), Err(ArgError::TargetMissing));
        assert_eq!(p(Module::Nfsmon, "w1 -i 5"), Err(ArgError::TargetMissing));
        for bad in [
            "w-1 -s x",
            "w1 -s x -i 0",
            "w1 -s x -i 10001",
            "w1 -s x -c abc",
            "w1 -s x -r",
            "w1 -s x -d y",
            "w1 -s x -s y",
            "w1 -s x -z 1",
            "w1 -s x -i +5",
        ] {
            assert!(
                matches!(p(Module::Sambamon, bad), Err(ArgError::Invalid(_))),
                "{bad}"
            );
        }
        let long = "a".repeat(256);
        assert!(matches!(
            p(Module::Sambamon, &long),
            Err(ArgError::Invalid(_))
        ));
        assert!(p(Module::Sambamon, &format!("{} -s x", "a".repeat(255))).is_ok());
        assert!(matches!(
            p(Module::Nfsmon, "w1 -d /x -n 65536"),
            Err(ArgError::Invalid(_))
        ));
        assert_eq!(
            monitor(p(Module::Nfsmon, "w1 -d /x -n 2049")).nfs_port,
            Some(2049)
        );
        let m = monitor(p(Module::Nfsmon, "w1 -d /x --mount-port 20048 -n 2049"));
        assert_eq!((m.mount_port, m.nfs_port), (Some(20048), Some(2049)));
        for bad in [
            "w1 -d /x --mount-port 0",
            "w1 -d /x --mount-port 65536",
            "w1 -d /x --mount-port",
            "w1 -d /x --mount-port 1 --mount-port 2",
        ] {
            assert!(
                matches!(p(Module::Nfsmon, bad), Err(ArgError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            p(Module::Sambamon, "w1 -s x --mount-port 20048"),
            Err(ArgError::Invalid(_))
        ));
    }
}
