//! SMB2/3 (MS-SMB2), the protocol the probe tries first: the wire format (`codec` for the
//! session, `ops` for the file operations of the `read` and `write` levels) apart from the
//! connection that speaks it (`client`, and `storage` for those levels' steps), so the parsers
//! are tested and fuzzed on bytes alone and the client holds no format of its own.

pub(crate) mod client;
pub(crate) mod codec;
pub(crate) mod ops;
mod storage;

pub(crate) use client::{Client, Start};
pub use codec::{Reply, parse_negotiate, parse_session_setup, parse_simple, parse_tree_connect};
pub use ops::{
    parse_close, parse_create, parse_flush, parse_fs_size, parse_read, parse_write, split_chain,
};
