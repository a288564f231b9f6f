//! Fuzz target: the NTLMSSP CHALLENGE parser, and AUTHENTICATE built from whatever it accepts.
#![no_main]

use clp_fsmon::probe::smb::ntlmssp::{self, Entropy, Identity};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = ntlmssp::parse_challenge(data) {
        let e = Entropy {
            client_challenge: [0xaa; 8],
            time: 0,
        };
        let _ = ntlmssp::authenticate(&Identity::user("u", "d", "p"), &c, &e);
        let _ = ntlmssp::authenticate(&Identity::Anonymous, &c, &e);
    }
});
