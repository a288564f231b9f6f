//! Fuzz target: every SMB2 and SMB1 reply parser on arbitrary bytes (never a panic).
#![no_main]

use clp_fsmon::probe::smb::{smb1, smb2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = smb2::Reply::parse(data.to_vec(), false) {
        let _ = smb2::parse_negotiate(&r);
        let _ = smb2::parse_session_setup(&r);
        let _ = smb2::parse_tree_connect(&r);
        let _ = smb2::parse_simple(&r, r.command);
    }
    if let Ok(r) = smb1::Reply::parse(data) {
        let _ = smb1::parse_negotiate(&r);
        let _ = smb1::parse_session_setup(&r);
        let _ = smb1::parse_tree_connect(&r);
    }
});
