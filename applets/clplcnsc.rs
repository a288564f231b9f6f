//! `clplcnsc`: licence registration (placeholder until the licence service lands).

use std::ffi::OsString;

/// Entry point.
pub fn main(_args: &[OsString]) -> u8 {
    eprintln!("clplcnsc: not implemented yet");
    1
}
