//! Fuzz target: the licence store file decoder (JSON body + authenticating MAC line) on arbitrary
//! bytes: a corrupt file must be an error, never a panic.
#![no_main]

use clp_fsmon::license::store;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = store::decode(std::path::Path::new("host@0123456789abcdef.lic"), data);
});
