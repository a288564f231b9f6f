//! `clp_sambamon ID -s SHARE …`: watches a Samba share with a real SMB session and exits when it
//! fails `-c` times in a row. The applet turns its options, a credentials file (`-A`), a keytab
//! (`--kerberos --keytab`) and the environment ([`PASSWORD_ENV`]) into the probe's
//! configuration ([`SmbTarget`]); the runtime is
//! [`crate::monitor`], the probe [`SambaProbe`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use crate::alert::Module;
use crate::cli::MonitorArgs;
use crate::probe::Probe;
use crate::probe::smb::kerberos::Kerberos;
use crate::probe::smb::{ConfigError, Logon, PASSWORD_ENV, SambaProbe, SmbTarget, credfile};

/// The probe's configuration from `clp_sambamon`'s options. The user is `-u`, else the
/// credentials file's; the password `-p`, else the file's, else [`PASSWORD_ENV`].
pub(crate) fn target(a: &MonitorArgs) -> Result<SmbTarget, ConfigError> {
    if a.kerberos {
        return kerberos_target(a);
    }
    let file = match &a.credentials_file {
        Some(p) => Some(credfile::read(p).map_err(|source| ConfigError::CredFile {
            path: p.clone(),
            source,
        })?),
        None => None,
    };
    let file = file.as_ref();
    let user = a
        .user
        .as_deref()
        .or(file.map(|f| f.user.as_str()))
        .filter(|u| !u.is_empty());
    let logon = match user {
        None if a.password.is_some() => return Err(ConfigError::PasswordWithoutUser),
        None => Logon::Anonymous,
        Some(u) => {
            let env = std::env::var(PASSWORD_ENV).ok();
            let password = a
                .password
                .as_deref()
                .or(file.and_then(|f| f.password.as_deref()))
                .or(env.as_deref())
                .unwrap_or("")
                .to_owned();
            if let Some(e) = env {
                e.into_bytes().fill(0);
            }
            Logon::User {
                user: u.to_owned(),
                domain: file.and_then(|f| f.domain.clone()),
                password,
            }
        }
    };
    Ok(SmbTarget {
        share: a.target.clone(),
        address: a.address.clone(),
        logon,
        check: a.check,
        canary: a.canary.clone(),
    })
}

/// `--kerberos`: the principal is `-u`; the keys come from `--keytab` (checked as `-A` is) or
/// the running user's credential cache. A password has no place here.
fn kerberos_target(a: &MonitorArgs) -> Result<SmbTarget, ConfigError> {
    if a.password.is_some() || a.credentials_file.is_some() {
        return Err(ConfigError::Kerberos(
            "--kerberos takes no password (-p, -A): use --keytab or a credential cache",
        ));
    }
    if let Some(k) = &a.keytab {
        credfile::check_private(k).map_err(|source| ConfigError::Keytab {
            path: k.clone(),
            source,
        })?;
    }
    Ok(SmbTarget {
        share: a.target.clone(),
        address: a.address.clone(),
        logon: Logon::Kerberos(Kerberos {
            principal: a.user.clone(),
            keytab: a.keytab.as_ref().map(PathBuf::from),
        }),
        check: a.check,
        canary: a.canary.clone(),
    })
}

/// The probe `clp_sambamon`'s options ask for.
pub fn probe(a: &MonitorArgs) -> Result<SambaProbe, ConfigError> {
    SambaProbe::new(&target(a)?)
}

fn factory(a: &MonitorArgs) -> Result<Arc<dyn Probe>, super::monitor::InvalidProbe> {
    Ok(Arc::new(probe(a)?))
}

/// Entry point.
pub(crate) fn main(args: &[OsString]) -> crate::exit::Status {
    super::monitor::main(Module::Sambamon, args, factory)
}
