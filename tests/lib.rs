//! The one integration-test binary: runs the real `clp-fsmon` binary through links named after
//! each applet, against real servers started by [`rig`].

mod rig;

mod cluster;
mod clp_nfsmon;
mod clp_sambamon;
mod clplcnsc;
mod packaging;
mod runtime;
