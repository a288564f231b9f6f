//! `clp_sambamon ID -s SHARE …`: watches a Samba share with a real SMB session and exits when it
//! fails `-c` times in a row. Parsing and orchestration only; the runtime is [`crate::monitor`],
//! the probe [`crate::probe::smb::SambaProbe`].

use std::ffi::OsString;
use std::sync::Arc;

use crate::alert::Module;
use crate::cli::MonitorArgs;
use crate::probe::Probe;
use crate::probe::smb::SambaProbe;

fn probe(a: &MonitorArgs) -> Result<Arc<dyn Probe>, String> {
    Ok(Arc::new(SambaProbe::from_args(a)?))
}

/// Entry point.
pub fn main(args: &[OsString]) -> crate::exit::Status {
    super::monitor::main(Module::Sambamon, args, probe)
}
