//! The front end both monitor applets share: the legacy command line (help, version, the usage
//! events 11–13 and their exit codes, `--once` answering UNKNOWN instead), the root check, the
//! claim of the ID, and the hand-over to the runtime ([`crate::monitor`]): the daemon, `--once`
//! or a control command. Each applet gives only its module and how to build its probe.

use std::ffi::OsString;
use std::sync::Arc;

use crate::alert::{Alert, Alerter, Event, Module};
use crate::cli::{self, ArgError, Command, MonitorArgs, OnceOutput, Parsed};
use crate::exit::{Exit, Status};
use crate::monitor::client::control_main;
use crate::monitor::daemon::{Claim, make_alerter, run_monitor};
use crate::monitor::once::{self, once_unknown};
use crate::paths::Paths;
use crate::probe::Probe;
use crate::sys;

/// Builds an applet's probe from its arguments (`Err` = invalid parameter, event 11).
pub(crate) type ProbeFactory = fn(&MonitorArgs) -> Result<Arc<dyn Probe>, InvalidProbe>;

/// Why an applet's options make no probe (an invalid parameter, event 11): the probe's own
/// configuration error.
pub(crate) type InvalidProbe = Box<dyn std::error::Error + Send + Sync>;

fn to_strings(args: &[OsString]) -> Option<Vec<String>> {
    args.iter().map(|a| a.to_str().map(String::from)).collect()
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = std::env::var("CLP_FSMON_LOG").unwrap_or_else(|_| default.to_owned());
    // No internal error reports: tracing-subscriber prints them with eprintln!, which panics
    // on a broken stderr (a detached monitor's stderr is often a pipe whose reader is gone).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(crate::console::Writer)
        .log_internal_errors(false)
        .with_target(false)
        .try_init();
}

/// Entry point of a monitor applet: `module`'s command line in `args`, its probe built by
/// `factory`.
pub(crate) fn main(module: Module, args: &[OsString], factory: ProbeFactory) -> Status {
    let paths = Paths::from_env();
    // Known before parsing: a `--once` line that does not parse gets a plugin verdict too.
    let once = cli::once_requested(module, args);
    let usage_error =
        |event: Event, why: Option<&str>| usage_error(module, &paths, once, event, why);
    let Some(args) = to_strings(args) else {
        return usage_error(
            Event::InvalidParameter,
            Some("arguments must be valid UTF-8"),
        );
    };
    let (id, command) = match cli::parse(module, &args) {
        Ok(Parsed::Help) => {
            crate::out!("{}", cli::usage(module));
            return Exit::Ok.into();
        }
        Ok(Parsed::Version) => {
            crate::outln!(
                "{} (clp-fsmon {})",
                module.applet(),
                env!("CARGO_PKG_VERSION")
            );
            return Exit::Ok.into();
        }
        Ok(Parsed::Run { id, command }) => {
            if let Command::Monitor(m) = &command {
                hide_password(module, &args, m);
            }
            (id, command)
        }
        Err(e) => {
            let (event, why) = match e {
                ArgError::IdMissing => (Event::IdMissing, None),
                ArgError::TargetMissing => (Event::TargetMissing, None),
                ArgError::Invalid(why) => (Event::InvalidParameter, Some(why)),
            };
            return usage_error(event, why.as_deref());
        }
    };
    if !sys::is_root() {
        let why = "permission denied: this command must be run as root";
        // A health checker runs plugins unprivileged (NRPE): the licence cannot be checked,
        // which `--once` answers as a plugin, with the reason on stdout.
        if let Some(output) = once {
            return once_unknown(
                output,
                &Alert::plain(module, Event::LicenseCheckFailed),
                Some(why),
            )
            .into();
        }
        crate::errln!("{}: {why}", module.applet());
        return Exit::Permission.into();
    }
    let m = match command {
        Command::Monitor(m) => m,
        control => {
            return match make_alerter(module, &paths) {
                Ok(alerter) => control_main(module, &paths, &alerter, &id, &control),
                Err(code) => code,
            }
            .into();
        }
    };
    if let Some(output) = m.once_output() {
        return match probe_of(module, &paths, &m, factory) {
            Ok(probe) => once::main(module, &paths, &probe, &m, output).into(),
            Err(why) => usage_error(Event::InvalidParameter, Some(&why.to_string())),
        };
    }
    // From here on stderr is written by a thread of its own: a console nobody reads must never
    // make the monitor deaf to -stop and SIGTERM. What is queued is waited for (a little) at exit.
    crate::console::detach();
    let status = daemon(module, &paths, &id, &m, factory);
    crate::console::flush(crate::console::FLUSH_LIMIT);
    status
}

/// A monitor's run: claim the ID, set up the alert sinks and the probe, hand over to
/// [`run_monitor`].
fn daemon(
    module: Module,
    paths: &Paths,
    id: &str,
    m: &MonitorArgs,
    factory: ProbeFactory,
) -> Status {
    // A monitor claims its ID before anything else (host name, alert sinks, probe set-up, licence),
    // with its signals already routed to the loop, so that a -stop issued right after the
    // monitor was launched finds it and ends it cleanly.
    let claim = Claim::take(module, paths, id, &m.target);
    let alerter = match make_alerter(module, paths) {
        Ok(a) => a,
        Err(code) => return code.into(),
    };
    let claim = match claim {
        Ok(c) => c,
        Err(refusal) => return refusal.report(module, &alerter, id).into(),
    };
    let probe = match probe_of(module, paths, m, factory) {
        Ok(p) => p,
        Err(why) => {
            return usage_error(
                module,
                paths,
                None,
                Event::InvalidParameter,
                Some(&why.to_string()),
            );
        }
    };
    init_tracing(m.verbose);
    run_monitor(module, paths, &alerter, id, m, &probe, claim).into()
}

/// Overwrites the `-p` password in this process's command line, so that ps(1) shows `X`s for it
/// while the monitor runs ([`crate::argv`]). When that cannot be done, says so and goes on.
fn hide_password(module: Module, args: &[String], m: &MonitorArgs) {
    let Some(i) = m
        .password
        .as_ref()
        .and_then(|_| cli::password_position(module, args))
    else {
        return;
    };
    if let Err(e) = crate::argv::hide_arg(args.len() - i, args[i].as_bytes()) {
        crate::errln!(
            "{}: cannot hide the -p password from ps: {e}; prefer -A",
            module.applet()
        );
    }
}

/// An invalid or missing parameter (`event` 11, 12 or 13, and why). A monitor raises the event,
/// says why on stderr and exits [`Exit::Usage`]; `--once` answers as a plugin instead
/// ([`once_unknown`]).
fn usage_error(
    module: Module,
    paths: &Paths,
    once: Option<OnceOutput>,
    event: Event,
    why: Option<&str>,
) -> Status {
    let alert = Alert::plain(module, event);
    if let Some(output) = once {
        return once_unknown(output, &alert, why).into();
    }
    let alerter = if sys::is_root() {
        sys::hostname().map_or(Alerter::console_only(), |h| Alerter::new(paths, &h))
    } else {
        Alerter::console_only()
    };
    alerter.emit(&alert);
    if let Some(why) = why {
        crate::errln!("{}: {why}", module.applet());
    }
    crate::errln!("Try '{} --help'.", module.applet());
    Exit::Usage.into()
}

/// The applet's probe; in a build for the tests (feature `test-probe`), the scripted probe
/// instead when `CLP_FSMON_TEST_PROBE` is set in a re-rooted sandbox.
fn probe_of(
    module: Module,
    paths: &Paths,
    m: &MonitorArgs,
    factory: ProbeFactory,
) -> Result<Arc<dyn Probe>, InvalidProbe> {
    #[cfg(feature = "test-probe")]
    if paths.is_rerooted()
        && let Ok(script) = std::env::var(crate::probe::scripted::SCRIPT_ENV)
    {
        let mut p = crate::probe::scripted::ScriptedProbe::parse(module, &m.target, &script)?;
        p.check = m.check;
        return Ok(Arc::new(p));
    }
    #[cfg(not(feature = "test-probe"))]
    let _ = (module, paths);
    factory(m)
}
