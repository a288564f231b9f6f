//! The one integration-test binary: runs the real `clp-fsmon` binary through links named after
//! each applet, against real servers started by [`rig`].

#[cfg(feature = "test-probe")]
mod rig;

#[cfg(feature = "test-probe")]
mod clp_nfsmon;
#[cfg(feature = "test-probe")]
mod clp_sambamon;
#[cfg(feature = "test-probe")]
mod clplcnsc;
#[cfg(feature = "test-probe")]
mod cluster;
#[cfg(feature = "test-probe")]
mod ctdb;
#[cfg(feature = "test-probe")]
mod docs;
#[cfg(feature = "test-probe")]
mod fault_matrix;
#[cfg(feature = "test-probe")]
mod files;
#[cfg(feature = "test-probe")]
mod kerberos;
#[cfg(feature = "test-probe")]
mod licences;
#[cfg(feature = "test-probe")]
mod nfs_matrix;
#[cfg(feature = "test-probe")]
mod packaging;
#[cfg(feature = "test-probe")]
mod resilience;
#[cfg(feature = "test-probe")]
mod runtime;
#[cfg(feature = "test-probe")]
mod scripts;
#[cfg(feature = "test-probe")]
mod smb_matrix;
#[cfg(feature = "test-probe")]
mod status;

/// The tests drive the binary's scripted probe, which only a build with the `test-probe` feature
/// has: without it this is the one test, and it fails, so no run passes without the suite.
#[cfg(not(feature = "test-probe"))]
#[test]
fn the_integration_tests_need_the_test_probe_feature() {
    panic!("run the integration tests with --features test-probe (contrib/test.sh does)");
}
