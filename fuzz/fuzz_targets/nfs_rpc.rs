//! Fuzz target: the ONC RPC reply decoder, the AUTH_SYS credential decoder and TCP record
//! reassembly on arbitrary bytes (never a panic, never an allocation beyond the reply limit).
#![no_main]

use clp_fsmon::probe::nfs::rpc::{AuthSys, decode_reply, read_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = decode_reply(data) {
        let _ = r.result.map(<[u8]>::len);
    }
    let _ = AuthSys::decode(data);
    let mut pos = 0;
    let _ = read_record(
        |b: &mut [u8]| {
            if pos + b.len() > data.len() {
                return Err(());
            }
            b.copy_from_slice(&data[pos..pos + b.len()]);
            pos += b.len();
            Ok(())
        },
        || (),
    );
});
