//! The one integration-test binary: runs the real `clp-fsmon` binary through links named after
//! each applet, against real servers started by [`rig`].

mod rig;

mod clp_nfsmon;
mod clp_sambamon;
mod clplcnsc;
mod cluster;
mod docs;
mod fault_matrix;
mod files;
mod packaging;
mod resilience;
mod runtime;
mod scripts;
mod smb_matrix;
