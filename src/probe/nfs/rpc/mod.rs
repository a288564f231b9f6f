//! ONC RPC version 2 (RFC 5531), as the NFS probe speaks it: the wire format ([`codec`]: call
//! messages with `AUTH_SYS` credentials, reply decoding, TCP record marking) apart from the
//! client that carries it ([`client`]: TCP and UDP with retransmission, a reserved source port),
//! so the parsers can be tested and fuzzed on bytes alone and the client holds no format.
//!
//! Every socket operation is [`crate::probe::net`]'s, so a raised cancel token (`-stop`) is
//! noticed within a slice, and no wait runs beyond the deadline. Error texts ([`RpcError`])
//! follow `clnt_sperror(3)` as the original product printed them (SPEC §4).

pub mod client;
pub mod codec;

use std::fmt;
use std::io;

use super::xdr::XdrError;
use crate::probe::net::{self, errno_name, errno_status, strerror};

pub use client::{Proto, RpcClient};
pub use codec::{AuthSys, Reply, decode_reply, read_record};

/// Why an RPC call failed.
#[derive(Debug)]
pub enum RpcError {
    /// A socket error (errno), the deadline passed with no answer, or the cancel token was
    /// raised.
    Net(net::Error),
    /// Accepted, `PROG_UNAVAIL`.
    ProgUnavail,
    /// Accepted, `PROG_MISMATCH` with the versions the server supports.
    ProgMismatch(u32, u32),
    /// Accepted, `PROC_UNAVAIL`.
    ProcUnavail,
    /// Accepted, `GARBAGE_ARGS`.
    GarbageArgs,
    /// Accepted, `SYSTEM_ERR`.
    SystemErr,
    /// Accepted with an unknown status.
    AcceptStat(u32),
    /// Denied, `RPC_MISMATCH`.
    RpcMismatch(u32, u32),
    /// Denied, `AUTH_ERROR` with its `auth_stat`.
    AuthError(u32),
    /// The reply could not be decoded.
    Decode(XdrError),
    /// The reply is not an RPC reply (wrong message type, bad reply state, oversized record).
    Garbage(&'static str),
}

impl From<net::Error> for RpcError {
    fn from(e: net::Error) -> Self {
        Self::Net(e)
    }
}

impl From<XdrError> for RpcError {
    fn from(e: XdrError) -> Self {
        Self::Decode(e)
    }
}

fn auth_stat_text(s: u32) -> &'static str {
    match s {
        0 => "Authentication OK",
        1 => "Invalid client credential",
        2 => "Server rejected credential",
        3 => "Invalid client verifier",
        4 => "Server rejected verifier",
        5 => "Client credential too weak",
        6 => "Invalid server verifier",
        7 => "Failed (unspecified error)",
        _ => "Unknown authentication error",
    }
}

impl RpcError {
    /// True when the peer refused the connection (or answered ICMP port unreachable).
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Net(net::Error::Io(_, e)) if e.kind() == io::ErrorKind::ConnectionRefused)
    }

    /// Short status for the fault log: `ECONNREFUSED (111)`, `RPC_TIMEDOUT`, `PROG_UNAVAIL (1)`.
    pub fn status(&self) -> String {
        match self {
            Self::Net(net::Error::Io(_, e)) => errno_status(e),
            // The connection closed under a call: what the C library reports as a reset.
            Self::Net(net::Error::Closed) => errno_name(nix::libc::ECONNRESET),
            Self::Net(net::Error::TimedOut) => "RPC_TIMEDOUT".into(),
            Self::Net(net::Error::Cancelled) => "cancelled".into(),
            Self::ProgUnavail => "PROG_UNAVAIL (1)".into(),
            Self::ProgMismatch(lo, hi) => format!("PROG_MISMATCH (2) {lo}..{hi}"),
            Self::ProcUnavail => "PROC_UNAVAIL (3)".into(),
            Self::GarbageArgs => "GARBAGE_ARGS (4)".into(),
            Self::SystemErr => "SYSTEM_ERR (5)".into(),
            Self::AcceptStat(s) => format!("accept_stat {s}"),
            Self::RpcMismatch(lo, hi) => format!("RPC_MISMATCH {lo}..{hi}"),
            Self::AuthError(s) => format!("AUTH_ERROR ({s})"),
            Self::Decode(_) | Self::Garbage(_) => "RPC_CANTDECODERES".into(),
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Net(net::Error::Io(net::Op::Send, e)) => {
                write!(f, "RPC: Unable to send: errno = {}.", strerror(e))
            }
            Self::Net(net::Error::Io(_, e)) => {
                write!(f, "RPC: Unable to receive: errno = {}.", strerror(e))
            }
            Self::Net(net::Error::Closed) => write!(
                f,
                "RPC: Unable to receive: errno = {}.",
                strerror(&io::Error::from_raw_os_error(nix::libc::ECONNRESET))
            ),
            Self::Net(net::Error::TimedOut) => f.write_str("RPC: Timed out"),
            Self::Net(net::Error::Cancelled) => f.write_str("RPC: Cancelled"),
            Self::ProgUnavail => f.write_str("RPC: Program unavailable"),
            Self::ProgMismatch(lo, hi) => write!(
                f,
                "RPC: Program/version mismatch; low version = {lo}, high version = {hi}"
            ),
            Self::ProcUnavail => f.write_str("RPC: Procedure unavailable"),
            Self::GarbageArgs => f.write_str("RPC: Server can't decode arguments"),
            Self::SystemErr => f.write_str("RPC: Remote system error"),
            Self::AcceptStat(s) => write!(f, "RPC: Failed (accept_stat {s})"),
            Self::RpcMismatch(lo, hi) => write!(
                f,
                "RPC: Incompatible versions of RPC; low version = {lo}, high version = {hi}"
            ),
            Self::AuthError(s) => {
                write!(f, "RPC: Authentication error; why = {}", auth_stat_text(*s))
            }
            Self::Decode(e) => write!(f, "RPC: Can't decode result ({e})"),
            Self::Garbage(why) => write!(f, "RPC: Can't decode result ({why})"),
        }
    }
}

impl std::error::Error for RpcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_text_matches_original() {
        let e = RpcError::Net(net::Error::Io(
            net::Op::Connect,
            io::Error::from_raw_os_error(nix::libc::ECONNREFUSED),
        ));
        assert_eq!(
            e.to_string(),
            "RPC: Unable to receive: errno = Connection refused."
        );
        assert_eq!(e.status(), "ECONNREFUSED (111)");
        assert!(e.is_refused());
    }
}
