//! `clp_nfsmon ID -d DIR …`: watches an NFS export over ONC RPC (never a kernel mount) and exits
//! when it fails `-c` times in a row. The applet turns its options into the probe's
//! configuration ([`NfsTarget`]); the runtime is [`crate::monitor`], the probe [`NfsProbe`].

use std::ffi::OsString;
use std::sync::Arc;

use crate::alert::Module;
use crate::cli::MonitorArgs;
use crate::probe::Probe;
use crate::probe::nfs::{ConfigError, NfsProbe, NfsTarget};

/// The probe's configuration from `clp_nfsmon`'s options.
pub(crate) fn target(a: &MonitorArgs) -> NfsTarget {
    NfsTarget {
        export: a.target.clone(),
        address: a.address.clone(),
        nfs_port: a.nfs_port,
        mount_port: a.mount_port,
        nfs4: a.nfs4,
        udp: a.udp,
        check: a.check,
        canary: a.canary.clone(),
    }
}

/// The probe `clp_nfsmon`'s options ask for.
pub fn probe(a: &MonitorArgs) -> Result<NfsProbe, ConfigError> {
    NfsProbe::new(&target(a))
}

fn factory(a: &MonitorArgs) -> Result<Arc<dyn Probe>, super::monitor::InvalidProbe> {
    Ok(Arc::new(probe(a)?))
}

/// Entry point.
pub(crate) fn main(args: &[OsString]) -> crate::exit::Status {
    super::monitor::main(Module::Nfsmon, args, factory)
}
