//! Exit codes: an API for start/stop scripts and cluster managers, defined in this one place.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success; a monitor stopped on request (`-stop`) |
//! | 1 | fault detected: the target failed `-c` probes in a row (the cluster should fail over) |
//! | 2 | usage error: invalid or missing parameter (events 11, 12, 13) |
//! | 3 | licence refused: none, expired, not yet valid, unreadable or overlapping (51, 53–56) |
//! | 4 | the monitor ID is already in use by a live monitor (14) |
//! | 5 | `-stop`: the monitor did not end within WAIT seconds (15) |
//! | 6 | system error (42, 61): a system call the runtime needs failed |
//! | 7 | permission denied: the command needs root |
//! | 8 | no monitor is registered (or running) under this ID |
//! | 9 | `-del` refused: the monitor is alive |
//! | 130 | interrupted (Ctrl-C) during the `clplcnsc` dialogue; nothing was written |
//! | 127 | unknown applet name |
//!
//! `--once` uses the monitoring-plugin convention instead: 0 OK, 2 CRITICAL, 3 UNKNOWN — an
//! invalid or missing parameter and a refused licence are UNKNOWN there (never 2, which a
//! monitoring system shows as CRITICAL), told on stdout as `APPLET UNKNOWN - …`.

/// Every exit status the binary uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success, or a monitor stopped on request.
    Ok = 0,
    /// Fault detected: the monitored service failed `-c` consecutive probes.
    Fault = 1,
    /// Invalid or missing parameters.
    Usage = 2,
    /// The licence check refused to run.
    License = 3,
    /// The ID is held by a live monitor.
    IdInUse = 4,
    /// `-stop` gave up waiting.
    StopTimeout = 5,
    /// A system call failed.
    System = 6,
    /// Not root.
    Permission = 7,
    /// No monitor under this ID.
    NotFound = 8,
    /// `-del` of a live monitor.
    Alive = 9,
    /// Unknown applet.
    UnknownApplet = 127,
    /// Ctrl-C in the licence dialogue (128 + SIGINT).
    Interrupted = 130,
}

/// The statuses a monitor applet and its control commands end with, in order.
pub const MONITOR_STATUSES: [Exit; 10] = [
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
];

impl Exit {
    /// The numeric status.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// A few words for `--help`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok/stopped",
            Self::Fault => "fault detected",
            Self::Usage => "usage",
            Self::License => "licence refused",
            Self::IdInUse => "ID in use",
            Self::StopTimeout => "-stop timed out",
            Self::System => "system error",
            Self::Permission => "not root",
            Self::NotFound => "no such monitor",
            Self::Alive => "-del of a live monitor",
            Self::UnknownApplet => "unknown applet",
            Self::Interrupted => "interrupted",
        }
    }

    /// What the status means, for the man pages (exhaustive, so a new status is documented).
    pub fn meaning(self) -> &'static str {
        match self {
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
}

/// Monitoring-plugin statuses for `--once`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PluginStatus {
    /// The probe succeeded.
    Ok = 0,
    /// The probe failed.
    Critical = 2,
    /// The probe could not be run (bad arguments, no licence, …).
    Unknown = 3,
}

impl PluginStatus {
    /// The numeric status.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The label monitoring plugins print (`OK`, `CRITICAL`, `UNKNOWN`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Critical => "CRITICAL",
            Self::Unknown => "UNKNOWN",
        }
    }
}

/// How a process of the binary ends: a runtime status, or a plugin status for `--once`. The two
/// stay apart up to `main`, which alone turns either into a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A monitor, control command, licence command or the binary itself.
    Exit(Exit),
    /// `--once`.
    Plugin(PluginStatus),
}

impl Status {
    /// The numeric status.
    pub fn code(self) -> u8 {
        match self {
            Self::Exit(e) => e.code(),
            Self::Plugin(p) => p.code(),
        }
    }
}

impl From<Exit> for Status {
    fn from(e: Exit) -> Self {
        Self::Exit(e)
    }
}

impl From<PluginStatus> for Status {
    fn from(p: PluginStatus) -> Self {
        Self::Plugin(p)
    }
}
