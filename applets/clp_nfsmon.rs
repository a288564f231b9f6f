//! `clp_nfsmon ID -d DIR …`: watches an NFS export over ONC RPC (never a kernel mount) and exits
//! when it fails `-c` times in a row. Parsing and orchestration only; the runtime is
//! [`crate::monitor`], the probe [`crate::probe::nfs::NfsProbe`].

use std::ffi::OsString;
use std::sync::Arc;

use crate::alert::Module;
use crate::cli::MonitorArgs;
use crate::probe::Probe;
use crate::probe::nfs::NfsProbe;

fn probe(a: &MonitorArgs) -> Result<Arc<dyn Probe>, String> {
    Ok(Arc::new(NfsProbe::from_args(a)?))
}

/// Entry point.
pub fn main(args: &[OsString]) -> crate::exit::Status {
    super::monitor::main(Module::Nfsmon, args, probe)
}
