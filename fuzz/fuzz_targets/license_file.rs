//! Fuzz target: signed licence files (`clplcnsc --file`) on arbitrary text: verified and parsed,
//! an error for anything but a validly signed file, never a panic.
#![no_main]

use clp_fsmon::license::licfile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = licfile::verify(s);
});
