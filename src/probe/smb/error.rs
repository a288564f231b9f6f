//! What can go wrong in one SMB probe, before it is mapped to a catalogue event.
//!
//! Socket errors keep their errno (the catalogue's `nn` for events 71–75); server refusals keep
//! their NT status; a reply we cannot parse is [`Error::Protocol`] (shown as
//! `STATUS_INVALID_NETWORK_RESPONSE`, the code Windows uses for the same situation).

use std::io;

/// One failure of the SMB client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Creating or configuring the socket failed (event 71).
    #[error("socket: {0}")]
    Socket(io::Error),
    /// The TCP connection was refused or the host unreachable (event 72).
    #[error("connect: {0}")]
    Connect(io::Error),
    /// The host name did not resolve (event 72).
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// The deadline passed while waiting (event 74, ETIMEDOUT).
    #[error("no answer in time")]
    Timeout,
    /// The monitor abandoned the probe (event 74, ECANCELED).
    #[error("cancelled")]
    Cancelled,
    /// Sending failed (event 73).
    #[error("send: {0}")]
    Send(io::Error),
    /// Receiving failed (event 75).
    #[error("recv: {0}")]
    Recv(io::Error),
    /// The server closed the connection (event 75, ECONNRESET).
    #[error("connection closed by the server")]
    Closed,
    /// The server answered with an NT status error.
    #[error("NT status {0:#010x}")]
    Status(u32),
    /// The reply was malformed or unexpected.
    #[error("invalid reply: {0}")]
    Protocol(String),
    /// The share is neither a disk nor a printer (event 63).
    #[error("share type {0}")]
    ShareType(String),
    /// The server needs something this client does not do.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl Error {
    /// A malformed-reply error.
    pub fn protocol(what: impl Into<String>) -> Self {
        Self::Protocol(what.into())
    }
}

/// Result of the SMB client.
pub type Result<T> = std::result::Result<T, Error>;
