//! Where the runtime keeps its files, re-rootable as a whole with `CLP_FSMON_ROOT`.
//!
//! | what | default | under `CLP_FSMON_ROOT=R` |
//! |---|---|---|
//! | state (registry, control sockets) | `/run/clp-fsmon` | `R/run/clp-fsmon` |
//! | licence store | `/var/lib/clp-fsmon/licenses` | `R/var/lib/clp-fsmon/licenses` |
//! | alert log, fault logs | `/var/log/clp-fsmon` | `R/var/log/clp-fsmon` |
//! | syslog socket | `/dev/log` | `R/dev/log` |
//! | host identity (`hostname`, `machine-id`) | `/etc/…` | `R/etc/…` when present, else `/etc/…` |
//! | machine id, in order | `/etc/machine-id`, `/var/lib/dbus/machine-id`, `/var/lib/clp-fsmon/machine-id` | `R/…` of each when `R/etc/machine-id` exists, else the system's two and `R/var/lib/clp-fsmon/machine-id` |
//!
//! Tests and demos set `CLP_FSMON_ROOT` so they never touch the real system; two roots whose
//! licence directories are one shared directory behave as two servers of one cluster.

use std::path::{Path, PathBuf};

/// Environment variable that re-roots every path of the runtime.
pub const ROOT_ENV: &str = "CLP_FSMON_ROOT";

/// The resolved set of paths for this process.
#[derive(Clone, Debug)]
pub struct Paths {
    root: Option<PathBuf>,
}

impl Paths {
    /// Paths from the environment (`CLP_FSMON_ROOT`), or the system paths.
    pub(crate) fn from_env() -> Self {
        let root = std::env::var_os(ROOT_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self { root }
    }

    /// Paths under an explicit root (tests).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        Self {
            root: Some(root.into()),
        }
    }

    /// True when the paths are re-rooted (a test or demo sandbox).
    pub(crate) fn is_rerooted(&self) -> bool {
        self.root.is_some()
    }

    fn under(&self, abs: &str) -> PathBuf {
        match &self.root {
            Some(r) => r.join(abs.trim_start_matches('/')),
            None => PathBuf::from(abs),
        }
    }

    /// Registry entries and control sockets.
    pub fn state_dir(&self) -> PathBuf {
        self.under("/run/clp-fsmon")
    }

    /// The licence store directory (one file per server).
    pub fn license_dir(&self) -> PathBuf {
        self.under("/var/lib/clp-fsmon/licenses")
    }

    /// Alert log and fault logs.
    pub fn log_dir(&self) -> PathBuf {
        self.under("/var/log/clp-fsmon")
    }

    /// The alert log with the columns of the original alert view.
    pub fn alert_log(&self) -> PathBuf {
        self.log_dir().join("alert.log")
    }

    /// The syslog datagram socket.
    pub fn syslog_socket(&self) -> PathBuf {
        self.under("/dev/log")
    }

    /// The machine id this server's licence identity uses, in the order they are tried (see
    /// the table above): the system's (systemd's, then D-Bus's), then the one clp-fsmon makes
    /// once beside the licence store ([`Paths::own_machine_id`]). A sandbox with an
    /// `etc/machine-id` of its own (even an empty one) is a machine of its own: only its files
    /// are tried.
    pub(crate) fn machine_id_files(&self) -> Vec<PathBuf> {
        let own_etc =
            self.root.is_some() && std::fs::symlink_metadata(self.under("/etc/machine-id")).is_ok();
        let system = |abs: &str| {
            if own_etc {
                self.under(abs)
            } else {
                PathBuf::from(abs)
            }
        };
        vec![
            system("/etc/machine-id"),
            system("/var/lib/dbus/machine-id"),
            self.own_machine_id(),
        ]
    }

    /// The machine id clp-fsmon makes for a server that has none of its own: beside the
    /// licence store, in the product's own directory (`/var/lib/clp-fsmon/machine-id`).
    pub(crate) fn own_machine_id(&self) -> PathBuf {
        self.under("/var/lib/clp-fsmon/machine-id")
    }

    /// A host-identity file under `/etc` (e.g. `machine-id`): the re-rooted one when it exists,
    /// else the system's.
    pub(crate) fn etc_file(&self, name: &str) -> PathBuf {
        let abs = Path::new("/etc").join(name);
        if self.root.is_some() {
            let rerooted = self.under(&abs.to_string_lossy());
            if rerooted.exists() {
                return rerooted;
            }
        }
        abs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reroot_moves_every_path() {
        let p = Paths::with_root("/tmp/x");
        assert_eq!(p.state_dir(), Path::new("/tmp/x/run/clp-fsmon"));
        assert_eq!(
            p.license_dir(),
            Path::new("/tmp/x/var/lib/clp-fsmon/licenses")
        );
        assert_eq!(
            p.alert_log(),
            Path::new("/tmp/x/var/log/clp-fsmon/alert.log")
        );
        assert_eq!(p.syslog_socket(), Path::new("/tmp/x/dev/log"));
        // Falls back to the system file when the sandbox has none.
        assert_eq!(p.etc_file("machine-id"), Path::new("/etc/machine-id"));
    }
}
