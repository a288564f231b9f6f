//! Fuzz target: every portmap, MOUNT v3, NFSv3 and NFSv4 result decoder on arbitrary bytes
//! (never a panic).
#![no_main]

use clp_fsmon::probe::nfs::{mount, nfs3, nfs4, portmap};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = portmap::decode_getport(data);
    let _ = mount::decode_mnt(data);
    let _ = mount::decode_dump(data);
    let _ = nfs3::decode_getattr(data);
    let _ = nfs3::decode_fsinfo(data);
    let _ = nfs3::decode_fsstat(data);
    let _ = nfs3::decode_readdir(data);
    let _ = nfs3::decode_create(data);
    let _ = nfs3::decode_lookup(data);
    let _ = nfs3::decode_write(data);
    let _ = nfs3::decode_commit(data);
    let _ = nfs3::decode_read(data);
    let _ = nfs3::decode_remove(data);
    if let Ok(r) = nfs4::decode_compound(data) {
        let _ = r.failed_op();
    }
});
