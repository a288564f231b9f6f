//! Fuzz target: opening an SMB3 transform header (both ciphers) on arbitrary bytes.
#![no_main]

use clp_fsmon::probe::smb::crypto::{CIPHER_AES128_CCM, CIPHER_AES128_GCM, Sealer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for c in [CIPHER_AES128_CCM, CIPHER_AES128_GCM] {
        let _ = Sealer::new(c, [1; 16], [2; 16]).open(data);
    }
});
