//! SMB1 (`NT LM 0.12`), the fallback for servers that offer no SMB2: the wire format
//! (`codec`) apart from the connection that speaks it (`client`), as for SMB2.

pub(crate) mod client;
pub(crate) mod codec;

pub(crate) use client::Client;
pub use codec::{Reply, parse_negotiate, parse_session_setup, parse_tree_connect};
