//! Fuzz target: opening an SMB3 transform header (every cipher) on arbitrary bytes.
#![no_main]

use clp_fsmon::probe::smb::crypto::{
    CIPHER_AES128_CCM, CIPHER_AES128_GCM, CIPHER_AES256_CCM, CIPHER_AES256_GCM, Sealer,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (c, n) in [
        (CIPHER_AES128_CCM, 16),
        (CIPHER_AES128_GCM, 16),
        (CIPHER_AES256_CCM, 32),
        (CIPHER_AES256_GCM, 32),
    ] {
        let sealer = Sealer::new(c, &vec![1; n], &vec![2; n]).expect("keys of the right length");
        let _ = sealer.open(data);
    }
});
