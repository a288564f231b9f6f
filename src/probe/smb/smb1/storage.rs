//! The `read` and `write` level steps over SMB1 ([`Storage`] for the SMB1 [`Client`]): TRANS2
//! QUERY_FS_INFORMATION on the tree for `fs_info`, then the canary's NT_CREATE_ANDX,
//! WRITE_ANDX, FLUSH, READ_ANDX and CLOSE, one round trip each, signed as the session's other
//! requests are. The messages are [`super::ops`]'s.

use super::super::error::{Error, Result};
use super::super::storage::{CANARY, LEFTOVER, Storage};
use super::client::Client;
use super::codec::Tree;
use super::ops::{self, cmd};

impl Storage for Client {
    type File = u16;

    fn fs_info(&mut self, tree: &Tree) -> Result<(u64, u64)> {
        let (w, b) = ops::query_fs_size();
        let r = self.call(cmd::TRANSACTION2, tree.tid, &w, &b)?;
        ops::parse_fs_size(&r)
    }

    fn canary_create(&mut self, tree: &Tree, name: &str) -> Result<u16> {
        let (w, b) = ops::nt_create(&CANARY, &format!("\\{name}"))?;
        let r = self.call(cmd::NT_CREATE_ANDX, tree.tid, &w, &b)?;
        ops::parse_nt_create(&r)
    }

    fn remove_leftover(&mut self, tree: &Tree, name: &str) -> Result<()> {
        let (w, b) = ops::nt_create(&LEFTOVER, &format!("\\{name}"))?;
        let r = self.call(cmd::NT_CREATE_ANDX, tree.tid, &w, &b)?;
        let fid = ops::parse_nt_create(&r)?;
        self.canary_remove(tree, &fid)
    }

    fn canary_write(&mut self, tree: &Tree, f: &u16, data: &[u8]) -> Result<usize> {
        let (w, b) = ops::write_andx(*f, data)?;
        let r = self.call(cmd::WRITE_ANDX, tree.tid, &w, &b)?;
        ops::parse_write_andx(&r)
    }

    fn canary_flush(&mut self, tree: &Tree, f: &u16) -> Result<()> {
        let (w, b) = ops::flush(*f);
        let r = self.call(cmd::FLUSH, tree.tid, &w, &b)?;
        r.expect(cmd::FLUSH, &[super::super::status::SUCCESS])
    }

    fn canary_read(&mut self, tree: &Tree, f: &u16, len: usize) -> Result<Vec<u8>> {
        let len = u16::try_from(len).map_err(|_| Error::protocol("read too long"))?;
        let (w, b) = ops::read_andx(*f, len);
        let r = self.call(cmd::READ_ANDX, tree.tid, &w, &b)?;
        ops::parse_read_andx(&r)
    }

    fn canary_remove(&mut self, tree: &Tree, f: &u16) -> Result<()> {
        let (w, b) = ops::close(*f);
        let r = self.call(cmd::CLOSE, tree.tid, &w, &b)?;
        r.expect(cmd::CLOSE, &[super::super::status::SUCCESS])
    }
}
