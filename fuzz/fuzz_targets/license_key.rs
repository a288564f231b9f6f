//! Fuzz target: licence key normalisation and field decoding, and verification against the
//! FSMON20 product, on arbitrary text (never a panic).
#![no_main]

use clp_fsmon::license::{catalog, key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = key::normalize(s);
    let _ = key::fields(s);
    if let Some(p) = catalog::product("FSMON20")
        && let Some(serial) = key::Serial::parse("AB123456")
    {
        let _ = key::verify_product(p, serial, s);
    }
});
