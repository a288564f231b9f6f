//! SMB2/3 (MS-SMB2), the protocol the probe tries first: the wire format (`codec`) apart from
//! the connection that speaks it (`client`), so the parsers are tested and fuzzed on bytes
//! alone and the client holds no format of its own.

pub(crate) mod client;
pub(crate) mod codec;

pub(crate) use client::{Client, Start};
pub use codec::{Reply, parse_negotiate, parse_session_setup, parse_simple, parse_tree_connect};
