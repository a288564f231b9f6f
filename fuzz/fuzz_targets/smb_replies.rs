//! Fuzz target: every SMB2 and SMB1 reply parser on arbitrary bytes (never a panic), the
//! session's and the file operations' of the read and write levels, and the cutting of an
//! SMB2 compound reply chain.
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
    if let Ok(parts) = smb2::split_chain(data) {
        for p in parts {
            if let Ok(r) = smb2::Reply::parse_linked(p, false) {
                let _ = smb2::parse_create(&r);
                let _ = smb2::parse_fs_size(&r);
                let _ = smb2::parse_write(&r);
                let _ = smb2::parse_read(&r);
                let _ = smb2::parse_flush(&r);
                let _ = smb2::parse_close(&r);
            }
        }
    }
    if let Ok(r) = smb1::Reply::parse(data) {
        let _ = smb1::parse_negotiate(&r);
        let _ = smb1::parse_session_setup(&r);
        let _ = smb1::parse_tree_connect(&r);
        let _ = smb1::parse_fs_size(&r);
        let _ = smb1::parse_nt_create(&r);
        let _ = smb1::parse_write_andx(&r);
        let _ = smb1::parse_read_andx(&r);
    }
});
