//! The network kit both probes share, so the hard parts exist once: the `-a` address rule and
//! a name lookup bounded by the probe's deadline (`address`), socket I/O bounded by the
//! probe's one deadline and its cancel token (`io`), and errno text (here).
//!
//! Alerts and fault logs name socket failures by errno, in two spellings: the symbolic name and
//! number an administrator greps for (`ECONNREFUSED (111)`, `errno_name`) and the `strerror`
//! text `clnt_sperror(3)` prints (`Connection refused`, `strerror`). What each probe makes of
//! an [`Error`] (which event, which text) is the probe's business: this module only says which
//! socket operation failed, and how.

pub(crate) mod address;
pub(crate) mod io;

use nix::errno::Errno;

pub use address::AddressError;
pub(crate) use address::{Address, Defaults, Host, lookup};
pub(crate) use io::{Bounds, Datagram, Kind, Stream, connect, socket};

/// The socket operation an I/O error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Creating or configuring the socket.
    Socket,
    /// Binding or connecting it.
    Connect,
    /// Sending.
    Send,
    /// Receiving.
    Recv,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Socket => "socket",
            Self::Connect => "connect",
            Self::Send => "send",
            Self::Recv => "recv",
        })
    }
}

/// Why a bounded socket operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system call failed (its errno is in the error).
    #[error("{0}: {1}")]
    Io(Op, #[source] std::io::Error),
    /// The peer closed the connection (a read returned 0 bytes).
    #[error("connection closed by the server")]
    Closed,
    /// The deadline passed while waiting.
    #[error("no answer in time")]
    TimedOut,
    /// The monitor raised the cancel token.
    #[error("cancelled")]
    Cancelled,
}

/// `ECONNREFUSED (111)`: the symbolic name and number of errno `n`.
pub(crate) fn errno_name(n: i32) -> String {
    format!("{:?} ({n})", Errno::from_raw(n))
}

/// `errno_name` of an I/O error, or its text when it carries no errno.
pub(crate) fn errno_status(e: &std::io::Error) -> String {
    e.raw_os_error().map_or_else(|| e.to_string(), errno_name)
}

/// The `strerror` text of an I/O error (`Connection refused`), without Rust's `(os error N)`,
/// or its text when it carries no errno.
pub(crate) fn strerror(e: &std::io::Error) -> String {
    e.raw_os_error()
        .map_or_else(|| e.to_string(), |n| Errno::from_raw(n).desc().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

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
