//! The network kit both probes share, so the hard parts exist once: errno text.
//!
//! Alerts and fault logs name socket failures by errno, in two spellings: the symbolic name and
//! number an administrator greps for (`ECONNREFUSED (111)`, [`errno_name`]) and the `strerror`
//! text `clnt_sperror(3)` prints (`Connection refused`, [`strerror`]).

use std::io;

use nix::errno::Errno;

/// `ECONNREFUSED (111)`: the symbolic name and number of errno `n`.
pub(crate) fn errno_name(n: i32) -> String {
    format!("{:?} ({n})", Errno::from_raw(n))
}

/// [`errno_name`] of an I/O error, or its text when it carries no errno.
pub(crate) fn errno_status(e: &io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), errno_name)
}

/// The `strerror` text of an I/O error (`Connection refused`), without Rust's `(os error N)`,
/// or its text when it carries no errno.
pub(crate) fn strerror(e: &io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), |n| Errno::from_raw(n).desc().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_is_named_both_ways() {
        let refused = io::Error::from_raw_os_error(nix::libc::ECONNREFUSED);
        assert_eq!(errno_name(nix::libc::ETIMEDOUT), "ETIMEDOUT (110)");
        assert_eq!(errno_status(&refused), "ECONNREFUSED (111)");
        assert_eq!(strerror(&refused), "Connection refused");
        let plain = io::Error::new(io::ErrorKind::WriteZero, "write zero");
        assert_eq!(
            (errno_status(&plain), strerror(&plain)),
            ("write zero".into(), "write zero".into())
        );
    }
}
