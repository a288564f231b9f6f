//! The client side of `-stop [WAIT]`, `-pause`, `-continue`, `-disp` and `-del`: read the
//! registry, talk to the monitor over its control socket, and wait (bounded) for the outcome.

use std::time::{Duration, Instant};

use super::control::{self, ControlCmd};
use super::daemon::system_error;
use super::registry::{DeleteError, Entry, Liveness, Registry};
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

/// `-stop` of an ID nobody has claimed: a monitor launched an instant ago may not have claimed
/// it yet. Any such process (this binary, run as `APPLET ID …` as a monitor, under the same
/// `CLP_FSMON_ROOT`) gets SIGTERM and is waited for; otherwise there is nothing to stop.
fn stop_unclaimed(module: Module, alerter: &Alerter, id: &str, wait: u32) -> Exit {
    let applet = module.applet();
    let pids = unclaimed_monitors(applet, id);
    if pids.is_empty() {
        crate::outln!("{applet}: no monitor is running under ID {id}; nothing to stop");
        return Exit::Ok;
    }
    let deadline = Instant::now() + Duration::from_secs(u64::from(wait));
    for (pid, _) in &pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(*pid).unwrap_or(i32::MAX)),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    while pids
        .iter()
        .any(|(pid, st)| sys::process_start_time(*pid) == Some(*st))
    {
        if Instant::now() >= deadline {
            alerter.emit(&Alert::plain(module, Event::StopFailed));
            return Exit::StopTimeout;
        }
        std::thread::sleep(STOP_POLL);
    }
    Exit::Ok
}

/// Monitors of `applet` for `id` that run this very binary under this `CLP_FSMON_ROOT`, with
/// their start times: candidates that have not claimed their ID yet.
fn unclaimed_monitors(applet: &str, id: &str) -> Vec<(u32, u64)> {
    use std::os::unix::fs::MetadataExt;
    let Ok(me) = std::fs::metadata("/proc/self/exe") else {
        return Vec::new();
    };
    let my_root = std::env::var_os(crate::paths::ROOT_ENV).filter(|v| !v.is_empty());
    let self_pid = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid == self_pid {
            continue;
        }
        let base = e.path();
        match std::fs::metadata(base.join("exe")) {
            Ok(m) if m.dev() == me.dev() && m.ino() == me.ino() => {}
            _ => continue,
        }
        let Ok(cmdline) = std::fs::read(base.join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let name = |a: &[u8]| {
            use std::os::unix::ffi::OsStrExt;
            std::path::Path::new(std::ffi::OsStr::from_bytes(a))
                .file_name()
                .map(|n| n.as_bytes().to_vec())
                .unwrap_or_default()
        };
        let rest = match args.first() {
            Some(a0) if name(a0) == applet.as_bytes() => &args[1..],
            Some(_) if args.get(1).is_some_and(|a1| *a1 == applet.as_bytes()) => &args[2..],
            _ => continue,
        };
        let is_monitor = rest.first().is_some_and(|a| *a == id.as_bytes())
            && !rest.iter().any(|a| *a == b"--once".as_slice())
            && !rest.get(1).is_some_and(|a| {
                [
                    b"-stop".as_slice(),
                    b"-pause",
                    b"-continue",
                    b"-disp",
                    b"-del",
                ]
                .contains(a)
            });
        if !is_monitor {
            continue;
        }
        let root = std::fs::read(base.join("environ")).ok().and_then(|env| {
            env.split(|b| *b == 0)
                .find_map(|kv| kv.strip_prefix(b"CLP_FSMON_ROOT=").map(<[u8]>::to_vec))
                .filter(|v| !v.is_empty())
        });
        if root.as_deref() != my_root.as_ref().map(|r| r.as_encoded_bytes()) {
            continue;
        }
        if let Some(st) = sys::process_start_time(pid) {
            found.push((pid, st));
        }
    }
    found
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
/// same stop. Returns false when neither could be done yet (the entry is not written yet).
fn ask_to_stop(
    applet: &str,
    sock: &std::path::Path,
    entry: Option<&Entry>,
    deadline: Instant,
) -> bool {
    let Err(e) = control::send(
        sock,
        ControlCmd::Stop,
        deadline.saturating_duration_since(Instant::now()),
    ) else {
        return true;
    };
    let Some(en) = entry.filter(|en| process_alive(en)) else {
        return false;
    };
    if e.kind() != std::io::ErrorKind::NotFound {
        crate::errln!("{applet}: control channel: {e}; sending SIGTERM");
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(en.pid).unwrap_or(i32::MAX)),
        nix::sys::signal::Signal::SIGTERM,
    );
    true
}

/// `-stop`, `-pause`, `-continue`, `-disp`, `-del`.
pub fn control_main(
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
            let Liveness::Alive(mut entry) = status else {
                return stop_unclaimed(module, alerter, id, *wait);
            };
            let deadline = Instant::now() + Duration::from_secs(u64::from(*wait));
            let mut asked = false;
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
                    asked = ask_to_stop(applet, &sock, entry.as_ref(), deadline);
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
            let c = if *cmd == Command::Pause {
                ControlCmd::Pause
            } else {
                ControlCmd::Continue
            };
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
                if let Ok(s) = control::send(&sock, ControlCmd::Status, control::EXCHANGE_TIMEOUT) {
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
            Ok(e) => {
                crate::outln!(
                    "{applet}: deleted the stale entry of {id}{}",
                    e.map(|e| format!(" (pid {}, {})", e.pid, e.stale_reason()))
                        .unwrap_or_default()
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
