//! `clp_nfsmon ID -d DIR …`: watches an NFS export over ONC RPC (never a kernel mount) and exits
//! when it fails `-c` times in a row. Parsing and orchestration only; the runtime is
//! [`crate::monitor`].

use std::ffi::OsString;
use std::sync::Arc;

use crate::alert::Module;
use crate::args::MonitorArgs;
use crate::probe::Probe;

fn probe(_a: &MonitorArgs) -> Result<Arc<dyn Probe>, String> {
    Err("the NFS probe is not available in this build".into())
}

/// Entry point.
pub fn main(args: &[OsString]) -> u8 {
    crate::monitor::main(Module::Nfsmon, args, probe)
}
