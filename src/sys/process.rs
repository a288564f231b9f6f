//! Process identity from /proc and the boot clock it counts on, and signals sent through a pidfd
//! checked against the start time recorded for the pid, so a reused pid is never signalled.

use std::io::{self};
use std::time::{Duration, Instant};

/// What /proc/PID/stat says about a live process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// Parent process id (field 4).
    pub ppid: u32,
    /// Start time in clock ticks since boot (field 22): when the process was forked, so an
    /// `exec` keeps it. The kernel counts it on the boot clock ([`boot_ticks_now`]).
    pub start_time: u64,
}

/// Fields 4 and 22 of /proc/PID/stat, or None when the process does not exist or has already
/// ended (a zombie waiting for its parent).
pub(crate) fn process_stat(pid: u32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parentheses: fields start after the last ')'.
    let mut fields = stat[stat.rfind(')')? + 2..].split_whitespace();
    // field 3 (state) first, then 4 (ppid); start time is field 22, 18 further on.
    if matches!(fields.next()?, "Z" | "X" | "x") {
        return None;
    }
    let parent = fields.next()?.parse().ok()?;
    let start_time = fields.nth(17)?.parse().ok()?;
    Some(ProcStat {
        ppid: parent,
        start_time,
    })
}

/// The start time of `pid` (clock ticks since boot, field 22 of /proc/PID/stat), or None when
/// the process does not exist or has already ended (a zombie waiting for its parent).
pub fn process_start_time(pid: u32) -> Option<u64> {
    process_stat(pid).map(|s| s.start_time)
}

/// Now on the clock /proc counts process start times with: `CLOCK_BOOTTIME` (time since boot,
/// suspend included), in clock ticks (`sysconf(_SC_CLK_TCK)`, `USER_HZ`), rounded down as the
/// kernel rounds a start time. A process forked before this call has a start time of at most
/// the value returned; one forked after a later call that returned `t` has one of at least `t`.
pub(crate) fn boot_ticks_now() -> io::Result<u64> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)?;
    let ticks_per_s = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?
        .and_then(|t| u128::try_from(t).ok())
        .filter(|t| *t > 0)
        .ok_or_else(|| io::Error::other("sysconf(_SC_CLK_TCK) has no value"))?;
    let secs = u128::try_from(ts.tv_sec()).map_err(io::Error::other)?;
    let nanos = u128::try_from(ts.tv_nsec()).map_err(io::Error::other)?;
    let ticks = (secs * 1_000_000_000 + nanos) * ticks_per_s / 1_000_000_000;
    u64::try_from(ticks).map_err(io::Error::other)
}

/// Waits (at most a second) until [`boot_ticks_now`] is past `tick`: from then on every newly
/// forked process has a start time greater than `tick`.
pub(crate) fn wait_boot_tick_after(tick: u64) -> io::Result<()> {
    let end = Instant::now() + Duration::from_secs(1);
    while boot_ticks_now()? <= tick {
        if Instant::now() >= end {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the boot clock did not advance by one tick within 1 s",
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// This boot's identity (`/proc/sys/kernel/random/boot_id`): boot-clock times of another boot
/// are not comparable with this one's.
pub(crate) fn boot_id() -> io::Result<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?;
    Ok(id.trim().to_owned())
}

/// The ancestors of this process, parent first, as (pid, start time), up to pid 1 (at most 64).
pub(crate) fn ancestors() -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let mut pid = std::os::unix::process::parent_id();
    while pid > 0 && out.len() < 64 {
        let Some(st) = process_stat(pid) else { break };
        out.push((pid, st.start_time));
        if pid == 1 {
            break;
        }
        pid = st.ppid;
    }
    out
}

/// Sends `sig` to the process `pid` if it is the one that started at `start_time`, through a
/// pidfd (`pidfd_open`, `pidfd_send_signal`): the descriptor names one process, so a pid reused
/// between the check and the signal is never signalled. `Ok(false)` when that process is gone
/// (or `pid` names another one now).
pub(crate) fn signal_process(
    pid: u32,
    start_time: u64,
    sig: nix::sys::signal::Signal,
) -> io::Result<bool> {
    use nix::libc;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let gone = |e: &io::Error| e.raw_os_error() == Some(libc::ESRCH);
    let raw_pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH));
    let opened = raw_pid.and_then(|p| {
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, p, 0) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let raw = libc::c_int::try_from(r).map_err(io::Error::other)?;
        // SAFETY: `raw` is a descriptor the kernel has just opened for us and nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    });
    let fd = match opened {
        Ok(fd) => fd,
        Err(e) if gone(&e) => return Ok(false),
        Err(e) => return Err(e),
    };
    // The pidfd was opened first: if the process at `pid` still has the recorded start time now,
    // the pidfd names it (a pid is not reused while its process lives, and the pidfd's process,
    // should it have ended since, makes the signal fail with ESRCH below).
    if process_start_time(pid) != Some(start_time) {
        return Ok(false);
    }
    // SAFETY: a pidfd we own, a valid signal number, no siginfo (the kernel fills it in as for
    // kill(2)) and no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if gone(&e) { Ok(false) } else { Err(e) };
    }
    Ok(true)
}
