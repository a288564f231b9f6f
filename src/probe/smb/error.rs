//! What can go wrong in one SMB probe, before it is mapped to a catalogue event.
//!
//! Socket errors are [`net::Error`]s and keep their errno (the catalogue's `nn` for events
//! 71–75); server refusals keep their NT status; a reply we cannot parse is [`Error::Protocol`] (shown as
//! `STATUS_INVALID_NETWORK_RESPONSE`, the code Windows uses for the same situation).

use crate::probe::net;

/// One failure of the SMB client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket operation failed, timed out or was cancelled (events 71–75).
    #[error(transparent)]
    Net(#[from] net::Error),
    /// The host name did not resolve (event 72).
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// The server answered with an NT status error.
    #[error("NT status {0:#010x}")]
    Status(u32),
    /// The reply was malformed or unexpected.
    #[error("invalid reply: {0}")]
    Protocol(String),
    /// The share is neither a disk nor a printer (event 63).
    #[error("share type {0}")]
    ShareType(String),
    /// The canary of `--check write` did not read back as written (or was written short).
    #[error("canary {0}")]
    Canary(String),
    /// The server needs something this client does not do.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

impl Error {
    /// A malformed-reply error.
    pub(crate) fn protocol(what: impl Into<String>) -> Self {
        Self::Protocol(what.into())
    }
}

/// Result of the SMB client.
pub type Result<T> = std::result::Result<T, Error>;
