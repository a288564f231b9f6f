//! The client side of `-stop [WAIT]`, `-pause`, `-continue`, `-disp` and `-del`: read the
//! registry, talk to the monitor over its control socket, and wait (bounded) for the outcome.
//!
//! `-stop` of an ID that no monitor holds records a stop intent in the registry for a monitor
//! that is launching and has not claimed the ID yet ([`Registry::record_stop`]; the rule is in
//! [`super::registry`]); it never looks for such processes itself. The one signal it may send,
//! SIGTERM to a registered monitor that cannot be reached over its control socket, goes through
//! a pidfd checked against the entry's start time ([`sys::signal_process`]).

use std::time::{Duration, Instant};

use super::control::{self, Request};
use super::daemon::system_error;
use super::engine::ControlCmd;
use super::registry::{DeleteError, Deleted, Entry, Liveness, Registry, StopRecord};
use crate::alert::{Alert, Alerter, Event, Module};
use crate::cli::Command;
use crate::exit::Exit;
use crate::paths::Paths;
use crate::sys;

/// How often `-stop` looks whether the monitor has ended.
pub(crate) const STOP_POLL: Duration = Duration::from_millis(5);

fn process_alive(e: &Entry) -> bool {
    sys::process_start_time(e.pid).is_some_and(|t| t == e.start_time)
}

/// A monitor that is still starting holds its ID before its entry says it runs (entry not yet
/// written, or licence and control channel not yet checked): wait at most a second for it to
/// settle, so `-disp` right after a launch answers for the monitor as it will be.
fn settle(registry: &Registry, id: &str, status: Liveness) -> Liveness {
    let starting = |s: &Liveness| match s {
        Liveness::Alive(None) => true,
        Liveness::Alive(Some(e)) => !e.running,
        _ => false,
    };
    let until = Instant::now() + Duration::from_secs(1);
    let mut status = status;
    while starting(&status) && Instant::now() < until {
        std::thread::sleep(STOP_POLL);
        status = registry.status(id).unwrap_or(Liveness::Alive(None));
    }
    status
}

/// Asks a live monitor to stop: over its control channel, or — when it is still starting (no
/// socket yet) or its loop does not answer — with SIGTERM, which its signal thread turns into the
/// same stop. Returns false when neither could be done yet (the entry is not written yet, or the
/// signal could not be sent: `said` then tells whether that was reported already).
fn ask_to_stop(
    applet: &str,
    sock: &std::path::Path,
    entry: Option<&Entry>,
    deadline: Instant,
    said: &mut bool,
) -> bool {
    let Err(e) = control::send(
        sock,
        Request::Loop(ControlCmd::Stop),
        deadline.saturating_duration_since(Instant::now()),
    ) else {
        return true;
    };
    let Some(en) = entry.filter(|en| process_alive(en)) else {
        return false;
    };
    match sys::signal_process(en.pid, en.start_time, nix::sys::signal::Signal::SIGTERM) {
        Ok(sent) => {
            if sent && e.kind() != std::io::ErrorKind::NotFound {
                crate::errln!("{applet}: control channel: {e}; sent SIGTERM");
            }
            sent
        }
        Err(se) => {
            if !*said {
                crate::errln!(
                    "{applet}: control channel: {e}; cannot send SIGTERM to pid {}: {se}",
                    en.pid
                );
                *said = true;
            }
            false
        }
    }
}

/// `-stop`, `-pause`, `-continue`, `-disp`, `-del`.
pub(crate) fn control_main(
    module: Module,
    paths: &Paths,
    alerter: &Alerter,
    id: &str,
    cmd: &Command,
) -> Exit {
    let applet = module.applet();
    let registry = Registry::new(paths, module);
    let status = match registry.status(id) {
        Ok(s) => s,
        Err(e) => {
            system_error(module, alerter, "flock", &e);
            return Exit::System;
        }
    };
    let sock = registry.socket_path(id);
    match cmd {
        Command::Stop { wait } => {
            let mut entry = match status {
                Liveness::Alive(entry) => entry,
                Liveness::Stale(_) | Liveness::Absent => match registry.record_stop(id) {
                    Ok(StopRecord::Recorded(_)) => {
                        crate::outln!(
                            "{applet}: no monitor is running under ID {id}; nothing to stop \
                             (a monitor of {id} that is starting now will stop as soon as it \
                             claims the ID)"
                        );
                        return Exit::Ok;
                    }
                    // A monitor claimed the ID meanwhile: stop it as a live one.
                    Ok(StopRecord::Claimed) => None,
                    Err(e) => {
                        system_error(module, alerter, "rename", &e);
                        return Exit::System;
                    }
                },
            };
            let deadline = Instant::now() + Duration::from_secs(u64::from(*wait));
            let (mut asked, mut said) = (false, false);
            loop {
                let live = registry.status(id);
                if let Ok(Liveness::Alive(Some(e))) = &live {
                    entry = Some(e.clone());
                }
                let still = matches!(live, Ok(Liveness::Alive(_)))
                    || entry.as_ref().is_some_and(process_alive);
                if !still {
                    return Exit::Ok;
                }
                if !asked {
                    asked = ask_to_stop(applet, &sock, entry.as_ref(), deadline, &mut said);
                }
                if Instant::now() >= deadline {
                    alerter.emit(&Alert::plain(module, Event::StopFailed));
                    return Exit::StopTimeout;
                }
                std::thread::sleep(STOP_POLL);
            }
        }
        Command::Pause | Command::Continue => {
            if !matches!(status, Liveness::Alive(_)) {
                crate::errln!("{applet}: no monitor is running under ID {id}");
                return Exit::NotFound;
            }
            let c = Request::Loop(if *cmd == Command::Pause {
                ControlCmd::Pause
            } else {
                ControlCmd::Continue
            });
            // A monitor that is still starting has no socket yet: retry while it lives.
            let deadline = Instant::now() + control::EXCHANGE_TIMEOUT;
            loop {
                match control::send(&sock, c, deadline.saturating_duration_since(Instant::now())) {
                    Ok(reply) => {
                        crate::outln!("{applet}: {id}: {reply}");
                        return Exit::Ok;
                    }
                    Err(e)
                        if e.kind() == std::io::ErrorKind::NotFound
                            && Instant::now() < deadline
                            && matches!(registry.status(id), Ok(Liveness::Alive(_))) =>
                    {
                        std::thread::sleep(STOP_POLL);
                    }
                    Err(e) => {
                        crate::errln!("{applet}: {id}: no acknowledgement: {e}");
                        return Exit::System;
                    }
                }
            }
        }
        Command::Disp => match settle(&registry, id, status) {
            Liveness::Alive(Some(e)) if !e.running => {
                crate::outln!("{}", e.pid);
                crate::errln!("{applet}: {id}: still starting (licence check, control channel)");
                Exit::NotFound
            }
            Liveness::Alive(Some(e)) => {
                crate::outln!("{}", e.pid);
                if let Ok(s) = control::send(&sock, Request::Status, control::EXCHANGE_TIMEOUT) {
                    crate::errln!("{applet}: {id}: {s}");
                }
                Exit::Ok
            }
            Liveness::Alive(None) => {
                crate::errln!("{applet}: {id}: running, entry unreadable");
                Exit::Ok
            }
            Liveness::Stale(Some(e)) => {
                crate::outln!("{}", e.pid);
                crate::errln!(
                    "{applet}: {id}: stale entry ({}); the next start replaces it, or remove it with -del",
                    e.stale_reason()
                );
                Exit::NotFound
            }
            Liveness::Stale(None) | Liveness::Absent => {
                crate::errln!("{applet}: no monitor is registered under ID {id}");
                Exit::NotFound
            }
        },
        Command::Del => match registry.delete(id) {
            Ok(Deleted {
                entry: None,
                stop: Some(intent),
            }) => {
                crate::outln!(
                    "{applet}: deleted the pending stop of {id} (issued {})",
                    intent.issued
                );
                Exit::Ok
            }
            Ok(Deleted { entry, stop }) => {
                crate::outln!(
                    "{applet}: deleted the stale entry of {id}{}{}",
                    entry
                        .map(|e| format!(" (pid {}, {})", e.pid, e.stale_reason()))
                        .unwrap_or_default(),
                    if stop.is_some() {
                        " and its pending stop"
                    } else {
                        ""
                    }
                );
                Exit::Ok
            }
            Err(DeleteError::Alive(e)) => {
                crate::errln!(
                    "{applet}: refusing to delete {id}: the monitor is running (pid {}); use -stop",
                    e.map_or_else(|| "?".into(), |e| e.pid.to_string())
                );
                Exit::Alive
            }
            Err(DeleteError::NotFound) => {
                crate::errln!("{applet}: no monitor is registered under ID {id}");
                Exit::NotFound
            }
            Err(DeleteError::Io(e)) => {
                system_error(module, alerter, "unlink", &e);
                Exit::System
            }
        },
        Command::Monitor(_) => unreachable!("handled by run_monitor"),
    }
}
