//! The `read` and `write` level steps over SMB2/3 ([`Storage`] for the SMB2 [`Client`]): the
//! file-system size as one related compound (CREATE of the root, QUERY_INFO, CLOSE: one round
//! trip), and the canary's CREATE, WRITE, FLUSH, READ and CLOSE one round trip each (a
//! leftover's CREATE and CLOSE are one compound too). Every
//! request on the tree is signed or sealed as the tree's other messages are. The messages are
//! [`super::ops`]'s.

use super::super::error::{Error, Result};
use super::super::storage::{CANARY, LEFTOVER, ROOT, Storage};
use super::client::Client;
use super::codec::Tree;
use super::ops::{
    self, FileId, RELATED_FILE, close_body, cmd, create_body, flush_body, query_fs_body, read_body,
    write_body,
};

impl Storage for Client {
    type File = FileId;

    fn fs_info(&mut self, tree: &Tree) -> Result<(u64, u64)> {
        let requests = [
            (cmd::CREATE, create_body(&ROOT, "")?),
            (cmd::QUERY_INFO, query_fs_body(&RELATED_FILE)),
            (cmd::CLOSE, close_body(&RELATED_FILE)),
        ];
        let encrypt = self.encrypt_tree(tree);
        let replies = self.call_chain(tree.id, &requests, encrypt)?;
        let [create, query, close] = replies.as_slice() else {
            return Err(Error::protocol("compound answered in part"));
        };
        // A failed CREATE fails the related requests after it with its status: it is the one
        // to report.
        ops::parse_create(create)?;
        let size = ops::parse_fs_size(query)?;
        ops::parse_close(close)?;
        Ok((size.total, size.available))
    }

    fn canary_create(&mut self, tree: &Tree, name: &str) -> Result<FileId> {
        let r = self.call(
            cmd::CREATE,
            tree.id,
            &create_body(&CANARY, name)?,
            self.encrypt_tree(tree),
        )?;
        ops::parse_create(&r)
    }

    fn remove_leftover(&mut self, tree: &Tree, name: &str) -> Result<()> {
        let requests = [
            (cmd::CREATE, create_body(&LEFTOVER, name)?),
            (cmd::CLOSE, close_body(&RELATED_FILE)),
        ];
        let encrypt = self.encrypt_tree(tree);
        let replies = self.call_chain(tree.id, &requests, encrypt)?;
        let [create, close] = replies.as_slice() else {
            return Err(Error::protocol("compound answered in part"));
        };
        ops::parse_create(create)?;
        ops::parse_close(close)
    }

    fn canary_write(&mut self, tree: &Tree, f: &FileId, data: &[u8]) -> Result<usize> {
        let r = self.call(
            cmd::WRITE,
            tree.id,
            &write_body(f, 0, data)?,
            self.encrypt_tree(tree),
        )?;
        Ok(usize::try_from(ops::parse_write(&r)?).unwrap_or(usize::MAX))
    }

    fn canary_flush(&mut self, tree: &Tree, f: &FileId) -> Result<()> {
        let r = self.call(cmd::FLUSH, tree.id, &flush_body(f), self.encrypt_tree(tree))?;
        ops::parse_flush(&r)
    }

    fn canary_read(&mut self, tree: &Tree, f: &FileId, len: usize) -> Result<Vec<u8>> {
        let len = u32::try_from(len).map_err(|_| Error::protocol("read too long"))?;
        let r = self.call(
            cmd::READ,
            tree.id,
            &read_body(f, 0, len),
            self.encrypt_tree(tree),
        )?;
        ops::parse_read(&r)
    }

    fn canary_remove(&mut self, tree: &Tree, f: &FileId) -> Result<()> {
        let r = self.call(cmd::CLOSE, tree.id, &close_body(f), self.encrypt_tree(tree))?;
        ops::parse_close(&r)
    }
}
