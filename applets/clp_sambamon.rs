//! `clp_sambamon`: placeholder.

use std::ffi::OsString;

/// Entry point.
pub fn main(_args: &[OsString]) -> u8 {
    1
}
