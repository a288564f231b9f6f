//! SMB1 (`NT LM 0.12`), the fallback for servers that offer no SMB2: the wire format
//! (`codec` for the session, `ops` for the file operations of the `read` and `write` levels)
//! apart from the connection that speaks it (`client`, and `storage` for those levels' steps),
//! as for SMB2.

pub(crate) mod client;
pub(crate) mod codec;
pub(crate) mod ops;
mod storage;

pub(crate) use client::Client;
pub use codec::{Reply, parse_negotiate, parse_session_setup, parse_tree_connect};
pub use ops::{parse_fs_size, parse_nt_create, parse_read_andx, parse_write_andx};
