//! Test rig: sandboxes (`CLP_FSMON_ROOT`), applet links to the built binary, licences, and real
//! servers (smbd, rpcbind + ganesha.nfsd) for the integration tests.

#![allow(dead_code)]

pub mod license;
pub mod nfs;
pub mod smb;
