//! ONC RPC version 2 (RFC 5531), as the NFS probe speaks it: the wire format (`codec`: call
//! messages with `AUTH_SYS` credentials, reply decoding, TCP record marking) apart from the
//! client that carries it (`client`: TCP and UDP with retransmission, a reserved source port),
//! so the parsers can be tested and fuzzed on bytes alone and the client holds no format.
//!
//! Every socket operation is [`crate::probe::net`]'s, so a raised cancel token (`-stop`) is
//! noticed within a slice, and no wait runs beyond the deadline. Error texts ([`RpcError`])
//! follow `clnt_sperror(3)` as the original product printed them (SPEC §4).

pub(crate) mod client;
pub(crate) mod codec;

use std::io;

use super::xdr::XdrError;
use crate::probe::net::{self, errno_name, errno_status, strerror};

pub use client::{Call, Proto, RpcClient};
pub use codec::{AuthSys, Reply, decode_reply, read_record};

/// Why an RPC call failed; its text is `clnt_sperror`'s.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// A socket error (errno), the deadline passed with no answer, or the cancel token was
    /// raised.
    #[error("{}", net_text(.0))]
    Net(#[from] net::Error),
    /// Accepted, `PROG_UNAVAIL`.
    #[error("RPC: Program unavailable")]
    ProgUnavail,
    /// Accepted, `PROG_MISMATCH` with the versions the server supports.
    #[error("RPC: Program/version mismatch; low version = {0}, high version = {1}")]
    ProgMismatch(u32, u32),
    /// Accepted, `PROC_UNAVAIL`.
    #[error("RPC: Procedure unavailable")]
    ProcUnavail,
    /// Accepted, `GARBAGE_ARGS`.
    #[error("RPC: Server can't decode arguments")]
    GarbageArgs,
    /// Accepted, `SYSTEM_ERR`.
    #[error("RPC: Remote system error")]
    SystemErr,
    /// Accepted with an unknown status.
    #[error("RPC: Failed (accept_stat {0})")]
    AcceptStat(u32),
    /// Denied, `RPC_MISMATCH`.
    #[error("RPC: Incompatible versions of RPC; low version = {0}, high version = {1}")]
    RpcMismatch(u32, u32),
    /// Denied, `AUTH_ERROR` with its `auth_stat`.
    #[error("RPC: Authentication error; why = {}", auth_stat_text(*.0))]
    AuthError(u32),
    /// The reply could not be decoded.
    #[error("RPC: Can't decode result ({0})")]
    Decode(#[from] XdrError),
    /// The reply is not an RPC reply (wrong message type, bad reply state, oversized record).
    #[error("RPC: Can't decode result ({0})")]
    Garbage(&'static str),
}

/// `clnt_sperror`'s text of a socket failure.
fn net_text(e: &net::Error) -> String {
    match e {
        net::Error::Io(net::Op::Send, e) => {
            format!("RPC: Unable to send: errno = {}.", strerror(e))
        }
        net::Error::Io(_, e) => format!("RPC: Unable to receive: errno = {}.", strerror(e)),
        net::Error::Closed => format!(
            "RPC: Unable to receive: errno = {}.",
            strerror(&io::Error::from_raw_os_error(nix::libc::ECONNRESET))
        ),
        net::Error::TimedOut => "RPC: Timed out".into(),
        net::Error::Cancelled => "RPC: Cancelled".into(),
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
    pub(crate) fn is_refused(&self) -> bool {
        matches!(self, Self::Net(net::Error::Io(_, e)) if e.kind() == io::ErrorKind::ConnectionRefused)
    }

    /// Short status for the fault log: `ECONNREFUSED (111)`, `RPC_TIMEDOUT`, `PROG_UNAVAIL (1)`.
    pub(crate) fn status(&self) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_text_matches_original() {
        let io_error =
            |op, errno| RpcError::from(net::Error::Io(op, io::Error::from_raw_os_error(errno)));
        let e = io_error(net::Op::Connect, nix::libc::ECONNREFUSED);
        assert_eq!(
            e.to_string(),
            "RPC: Unable to receive: errno = Connection refused."
        );
        assert_eq!(e.status(), "ECONNREFUSED (111)");
        assert!(e.is_refused());
        let closed = RpcError::from(net::Error::Closed);
        assert_eq!(
            (closed.to_string(), closed.status()),
            (
                "RPC: Unable to receive: errno = Connection reset by peer.".into(),
                "ECONNRESET (104)".into()
            )
        );
        let send = io_error(net::Op::Send, nix::libc::EPIPE);
        assert_eq!(
            send.to_string(),
            "RPC: Unable to send: errno = Broken pipe."
        );
        assert_eq!(
            RpcError::ProgMismatch(2, 3).to_string(),
            "RPC: Program/version mismatch; low version = 2, high version = 3"
        );
    }
}
