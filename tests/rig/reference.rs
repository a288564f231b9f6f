//! Reference clients: what a real SMB or NFS client sees on a target, the yardstick of the verdict
//! rule (SPEC §8). smbclient for SMB; `nfs-ls` and `nfs-cp` (libnfs-utils) for `NFSv3` and `NFSv4`,
//! which need no kernel mount (nothing to unmount, nothing to hang the test in D state).
//!
//! Each run has a deadline: a client still running then is killed by its own pid and counted as
//! [`Outcome::Hung`] — a hang is what a client of hung storage sees.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{output_within, require_tool};

/// How one reference client run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded.
    Ok,
    /// It failed; what it printed.
    Failed(String),
    /// It had not ended by its deadline.
    Hung,
}

impl Outcome {
    /// True when it succeeded.
    pub fn ok(&self) -> bool {
        *self == Self::Ok
    }
}

fn outcome(cmd: &mut Command, limit: Duration) -> Outcome {
    match output_within(cmd, b"", limit) {
        None => Outcome::Hung,
        Some(out) if out.status.success() => Outcome::Ok,
        Some(out) => Outcome::Failed(
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        ),
    }
}

/// `smbclient //IP/SHARE -p PORT -N -c COMMAND` (a guest logon) against `addr` (`IP:PORT`).
fn smbclient(addr: &str, share: &str, command: &str, limit: Duration) -> Outcome {
    require_tool("smbclient", "smbclient");
    let (ip, port) = addr.rsplit_once(':').expect("IP:PORT");
    let mut c = Command::new("smbclient");
    c.arg(format!("//{ip}/{share}"))
        .args(["-p", port, "-N", "-c", command]);
    outcome(&mut c, limit)
}

/// smbclient `ls` of the share's root.
pub fn smb_ls(addr: &str, share: &str, limit: Duration) -> Outcome {
    smbclient(addr, share, "ls", limit)
}

/// smbclient `put LOCAL NAME`: the local file `local` written to `NAME` at the share's root.
pub fn smb_put(addr: &str, share: &str, local: &Path, name: &str, limit: Duration) -> Outcome {
    smbclient(
        addr,
        share,
        &format!("put {} {name}", local.display()),
        limit,
    )
}

/// `nfs://HOST/EXPORT[/NAME]?version=V`.
fn nfs_url(host: &str, export: &str, name: Option<&str>, version: u8) -> String {
    let name = name.map(|n| format!("/{n}")).unwrap_or_default();
    format!("nfs://{host}{export}{name}?version={version}")
}

/// `nfs-ls` of the export's root over NFS `version` (3 or 4).
pub fn nfs_ls(host: &str, export: &str, version: u8, limit: Duration) -> Outcome {
    require_tool("nfs-ls", "libnfs-utils");
    let mut c = Command::new("nfs-ls");
    c.arg(nfs_url(host, export, None, version));
    outcome(&mut c, limit)
}

/// `nfs-cp LOCAL nfs://HOST/EXPORT/NAME` over NFS `version` (3 or 4).
pub fn nfs_cp(
    host: &str,
    export: &str,
    local: &Path,
    name: &str,
    version: u8,
    limit: Duration,
) -> Outcome {
    require_tool("nfs-cp", "libnfs-utils");
    let mut c = Command::new("nfs-cp");
    c.arg(local).arg(nfs_url(host, export, Some(name), version));
    outcome(&mut c, limit)
}
