//! ONC RPC version 2 (RFC 5531), as the NFS probe speaks it: the wire format (`codec`: call
//! messages with `AUTH_SYS` credentials, reply decoding, TCP record marking) apart from the
//! client that carries it (`client`: TCP and UDP with retransmission, a reserved source port),
//! so the parsers can be tested and fuzzed on bytes alone and the client holds no format.
//!
//! Every socket operation is [`crate::probe::net`]'s, so a raised cancel token (`-stop`) is
//! noticed within a slice, and no wait runs beyond the deadline. Error texts ([`RpcError`])
//! follow `clnt_sperror(3)` as the original product printed them (SPEC §4); the status names
//! (`accept_stat`, `reject_stat`, `auth_stat`) are [`stat`]'s tables.

pub(crate) mod client;
pub(crate) mod codec;
pub(crate) mod stat;

use std::io;

use super::xdr::XdrError;
use crate::probe::net::{self, errno_name, errno_status, strerror};

pub use client::{Call, Proto, RpcClient};
pub use codec::{AuthSys, Reply, decode_reply, read_record};

/// Why an RPC call failed; its text is `clnt_sperror`'s, its status names come from [`stat`].
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// A socket error (errno), the deadline passed with no answer, or the cancel token was
    /// raised.
    #[error("{}", net_text(.0))]
    Net(#[from] net::Error),
    /// Accepted with an `accept_stat` other than `SUCCESS` and `PROG_MISMATCH`.
    #[error("{}", accepted_text(*.0))]
    Accepted(u32),
    /// Accepted, `PROG_MISMATCH` with the versions the server supports.
    #[error("RPC: Program/version mismatch; low version = {0}, high version = {1}")]
    ProgMismatch(u32, u32),
    /// Denied, `RPC_MISMATCH`.
    #[error("{}", mismatch_text(*.0, *.1))]
    RpcMismatch(u32, u32),
    /// Denied, `AUTH_ERROR` with its `auth_stat`.
    #[error("{}; why = {}", denied_text(REJECT_AUTH_ERROR), stat::auth_stat_text(*.0))]
    AuthError(u32),
    /// The reply could not be decoded.
    #[error("RPC: Can't decode result ({0})")]
    Decode(#[from] XdrError),
    /// The reply is not an RPC reply (wrong message type, bad reply state, oversized record).
    #[error("RPC: Can't decode result ({0})")]
    Garbage(&'static str),
}

/// `accept_stat` 1: the program is not served on the port asked.
const PROG_UNAVAIL: u32 = 1;
/// `reject_stat` 0.
const REJECT_RPC_MISMATCH: u32 = 0;
/// `reject_stat` 1.
const REJECT_AUTH_ERROR: u32 = 1;

/// `clnt_sperror`'s text of `RPC_MISMATCH`.
fn mismatch_text(lo: u32, hi: u32) -> String {
    format!(
        "{}; low version = {lo}, high version = {hi}",
        denied_text(REJECT_RPC_MISMATCH)
    )
}

/// `clnt_sperror`'s text of a denied call (before what follows it).
fn denied_text(s: u32) -> &'static str {
    stat::reject_stat(s).map_or("RPC: Call rejected", |(_, t)| t)
}

/// `clnt_sperror`'s text of an accepted call that failed.
fn accepted_text(s: u32) -> String {
    stat::accept_stat(s).map_or_else(
        || format!("RPC: Failed (accept_stat {s})"),
        |(_, t)| t.into(),
    )
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

impl RpcError {
    /// True when the peer refused the connection (or answered ICMP port unreachable).
    pub(crate) fn is_refused(&self) -> bool {
        matches!(self, Self::Net(net::Error::Io(_, e)) if e.kind() == io::ErrorKind::ConnectionRefused)
    }

    /// True when the server answered that it does not serve the program or version asked
    /// (`PROG_UNAVAIL`, `PROG_MISMATCH`), or refused the connection: nothing listens for it.
    pub(crate) fn not_served(&self) -> bool {
        self.is_refused() || matches!(self, Self::Accepted(PROG_UNAVAIL) | Self::ProgMismatch(..))
    }

    /// Short status for the fault log: `ECONNREFUSED (111)`, `RPC_TIMEDOUT`, `PROG_UNAVAIL (1)`,
    /// `AUTH_TOOWEAK (5)`.
    pub(crate) fn status(&self) -> String {
        match self {
            Self::Net(net::Error::Io(_, e)) => errno_status(e),
            // The connection closed under a call: what the C library reports as a reset.
            Self::Net(net::Error::Closed) => errno_name(nix::libc::ECONNRESET),
            Self::Net(net::Error::TimedOut) => "RPC_TIMEDOUT".into(),
            Self::Net(net::Error::Cancelled) => "cancelled".into(),
            Self::Accepted(s) => stat::accept_stat(*s).map_or_else(
                || format!("accept_stat {s}"),
                |(name, _)| format!("{name} ({s})"),
            ),
            Self::ProgMismatch(lo, hi) => format!("PROG_MISMATCH (2) {lo}..{hi}"),
            Self::RpcMismatch(lo, hi) => {
                let name = stat::reject_stat(REJECT_RPC_MISMATCH).map_or("", |(n, _)| n);
                format!("{name} ({REJECT_RPC_MISMATCH}) {lo}..{hi}")
            }
            Self::AuthError(s) => stat::auth_stat_name(*s).map_or_else(
                || {
                    let name = stat::reject_stat(REJECT_AUTH_ERROR).map_or("", |(n, _)| n);
                    format!("{name} auth_stat {s}")
                },
                |n| format!("{n} ({s})"),
            ),
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
        let weak = RpcError::AuthError(5);
        assert_eq!(
            (weak.to_string(), weak.status()),
            (
                "RPC: Authentication error; why = Client credential too weak".into(),
                "AUTH_TOOWEAK (5)".into()
            )
        );
        let gss = RpcError::AuthError(14);
        assert_eq!(
            (gss.to_string(), gss.status()),
            (
                "RPC: Authentication error; why = (unknown authentication error - 14)".into(),
                "RPCSEC_GSS_CTXPROBLEM (14)".into()
            )
        );
        assert_eq!(RpcError::AuthError(99).status(), "AUTH_ERROR auth_stat 99");
        let garbage = RpcError::Accepted(4);
        assert_eq!(
            (garbage.to_string(), garbage.status()),
            (
                "RPC: Server can't decode arguments".into(),
                "GARBAGE_ARGS (4)".into()
            )
        );
        assert_eq!(RpcError::Accepted(9).status(), "accept_stat 9");
        assert_eq!(
            RpcError::Accepted(9).to_string(),
            "RPC: Failed (accept_stat 9)"
        );
        assert_eq!(
            RpcError::RpcMismatch(2, 2).status(),
            "RPC_MISMATCH (0) 2..2"
        );
        assert_eq!(
            RpcError::RpcMismatch(2, 2).to_string(),
            "RPC: Incompatible versions of RPC; low version = 2, high version = 2"
        );
    }
}
