//! The `read` and `write` check levels of the SMB probe: what runs on a tree connection after
//! `connect` has proved the session, so that the probe reaches the share's file system and not
//! only smbd (a server answers a tree connect while the storage under the share hangs, is
//! read-only or full).
//!
//! The steps are one dialect's requests ([`Storage`], by SMB2 and SMB1 alike); their order, the
//! phase names and what the canary holds are this module's, once:
//!
//! | phase | level | what |
//! |---|---|---|
//! | `fs_info` | read | the share root's file-system size: SMB2 CREATE of the root + QUERY_INFO FileFsSizeInformation + CLOSE in one compound; SMB1 TRANS2 QUERY_FS_INFORMATION. smbd asks the file system (statvfs), never a cache |
//! | `canary_create` | write | CREATE of a new canary at the share's root, delete-on-close (a leftover is deleted first) |
//! | `canary_write` | write | WRITE of a fresh random line |
//! | `canary_flush` | write | FLUSH (smbd's `strict sync`: fsync) |
//! | `canary_read` | write | READ back, compared with what was written |
//! | `canary_remove` | write | CLOSE, which deletes the canary |
//!
//! One round trip per canary step, so a hung step is the phase a cut probe reports and each
//! step has its own latency. The canary never outlives a probe: it is opened delete-on-close, so
//! smbd deletes it at the CLOSE, or when the connection is lost first (a probe cut at `-r`).
//! Only a server that dies with the canary open leaves it behind; the next probe's CREATE then
//! meets it (OBJECT_NAME_COLLISION), deletes it and creates its own. A step that fails after
//! the CREATE still closes the canary when the server answered.

use std::fmt::Write as _;

use super::error::{Error, Result};
use super::session::{Dialect, Failed};
use super::status;
use crate::probe::CheckLevel;
use crate::probe::attempt::Attempt;

/// Phase: the file-system size of the share's root (`read`).
pub(crate) const FS_INFO: &str = "fs_info";
/// Phase: the canary created (`write`).
pub(crate) const CANARY_CREATE: &str = "canary_create";
/// Phase: the canary written.
pub(crate) const CANARY_WRITE: &str = "canary_write";
/// Phase: the canary flushed to storage.
pub(crate) const CANARY_FLUSH: &str = "canary_flush";
/// Phase: the canary read back and compared.
pub(crate) const CANARY_READ: &str = "canary_read";
/// Phase: the canary closed, and so deleted.
pub(crate) const CANARY_REMOVE: &str = "canary_remove";

/// Every phase of the levels beyond `connect`, in order.
pub const PHASES: [&str; 6] = [
    FS_INFO,
    CANARY_CREATE,
    CANARY_WRITE,
    CANARY_FLUSH,
    CANARY_READ,
    CANARY_REMOVE,
];

/// The NT create parameters the levels use (MS-SMB2 2.2.13, the same values in SMB1's
/// NT_CREATE_ANDX, MS-CIFS 2.2.4.64).
pub(crate) mod nt {
    /// Access: read data.
    pub(crate) const FILE_READ_DATA: u32 = 0x0000_0001;
    /// Access: write data.
    pub(crate) const FILE_WRITE_DATA: u32 = 0x0000_0002;
    /// Access: read attributes.
    pub(crate) const FILE_READ_ATTRIBUTES: u32 = 0x0000_0080;
    /// Access: delete (what delete-on-close needs).
    pub(crate) const DELETE: u32 = 0x0001_0000;
    /// Access: synchronize.
    pub(crate) const SYNCHRONIZE: u32 = 0x0010_0000;
    /// ShareAccess: read, write and delete, so the probe never locks a client out.
    pub(crate) const SHARE_ALL: u32 = 0x7;
    /// CreateDisposition: open an existing file.
    pub(crate) const FILE_OPEN: u32 = 1;
    /// CreateOptions: a directory.
    pub(crate) const FILE_DIRECTORY_FILE: u32 = 0x0000_0001;
    /// CreateOptions: not a directory.
    pub(crate) const FILE_NON_DIRECTORY_FILE: u32 = 0x0000_0040;
    /// CreateOptions: delete the file when its last handle closes.
    pub(crate) const FILE_DELETE_ON_CLOSE: u32 = 0x0000_1000;
    /// CreateDisposition: create a new file, failing (OBJECT_NAME_COLLISION) when one is there.
    pub(crate) const FILE_CREATE: u32 = 2;
    /// FileAttributes: no other attribute (what smbclient's `put` asks for).
    pub(crate) const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;
}

/// How a CREATE opens its file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Open {
    /// DesiredAccess.
    pub(crate) access: u32,
    /// FileAttributes.
    pub(crate) attributes: u32,
    /// ShareAccess.
    pub(crate) share: u32,
    /// CreateDisposition.
    pub(crate) disposition: u32,
    /// CreateOptions.
    pub(crate) options: u32,
}

/// The share's root directory, for its attributes only: what SMB2's `fs_info` opens.
pub(crate) const ROOT: Open = Open {
    access: nt::FILE_READ_ATTRIBUTES | nt::SYNCHRONIZE,
    attributes: 0,
    share: nt::SHARE_ALL,
    disposition: nt::FILE_OPEN,
    options: nt::FILE_DIRECTORY_FILE,
};

/// The canary: a new file, read and written, and deleted when closed — by smbd also when the
/// connection is lost before the CLOSE (a probe cut at `-r`).
pub(crate) const CANARY: Open = Open {
    access: nt::FILE_READ_DATA
        | nt::FILE_WRITE_DATA
        | nt::FILE_READ_ATTRIBUTES
        | nt::DELETE
        | nt::SYNCHRONIZE,
    attributes: nt::FILE_ATTRIBUTE_NORMAL,
    share: nt::SHARE_ALL,
    disposition: nt::FILE_CREATE,
    options: nt::FILE_NON_DIRECTORY_FILE | nt::FILE_DELETE_ON_CLOSE,
};

/// A leftover canary, opened only to be deleted when closed. Only DELETE is asked for, which
/// the share's directory can grant when the file's own permissions do not: an anonymous
/// session may not write a file it made in an earlier session (its token is not the file's
/// owner), so overwriting a leftover would fail where deleting it does not.
pub(crate) const LEFTOVER: Open = Open {
    access: nt::DELETE | nt::FILE_READ_ATTRIBUTES | nt::SYNCHRONIZE,
    attributes: 0,
    share: nt::SHARE_ALL,
    disposition: nt::FILE_OPEN,
    options: nt::FILE_NON_DIRECTORY_FILE | nt::FILE_DELETE_ON_CLOSE,
};

/// The requests of the `read` and `write` levels, as one dialect sends them.
pub(crate) trait Storage: Dialect {
    /// An open canary.
    type File;

    /// `fs_info`: proves the share's file system answers (its size, in bytes: total, available).
    fn fs_info(&mut self, tree: &Self::Tree) -> Result<(u64, u64)>;

    /// `canary_create`: creates `name` at the share's root ([`CANARY`]): a new file,
    /// delete-on-close.
    fn canary_create(&mut self, tree: &Self::Tree, name: &str) -> Result<Self::File>;

    /// Deletes a leftover `name` ([`LEFTOVER`]: opened delete-on-close, then closed).
    fn remove_leftover(&mut self, tree: &Self::Tree, name: &str) -> Result<()>;

    /// `canary_write`: writes `data` at offset 0; the number of bytes the server took.
    fn canary_write(&mut self, tree: &Self::Tree, f: &Self::File, data: &[u8]) -> Result<usize>;

    /// `canary_flush`.
    fn canary_flush(&mut self, tree: &Self::Tree, f: &Self::File) -> Result<()>;

    /// `canary_read`: up to `len` bytes from offset 0.
    fn canary_read(&mut self, tree: &Self::Tree, f: &Self::File, len: usize) -> Result<Vec<u8>>;

    /// `canary_remove`: closes the canary, which deletes it.
    fn canary_remove(&mut self, tree: &Self::Tree, f: &Self::File) -> Result<()>;
}

/// What the canary holds: a fresh random line each probe, so stale data never reads back as
/// this probe's.
fn canary_data() -> Result<Vec<u8>> {
    let mut r = [0u8; 12];
    getrandom::fill(&mut r).map_err(|e| Error::Unsupported(format!("no random numbers: {e}")))?;
    let mut line = String::from("clp-fsmon canary ");
    for b in r {
        let _ = write!(line, "{b:02x}");
    }
    line.push('\n');
    Ok(line.into_bytes())
}

/// Why `got` is not the `want` just written, or `None` when it is.
fn mismatch(want: &[u8], got: &[u8]) -> Option<String> {
    if want == got {
        return None;
    }
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    Some(format!(
        "read back {} bytes of the {} written, different from byte {at}",
        got.len(),
        want.len()
    ))
}

/// Runs the steps of `level` beyond `connect` on `tree`, each timed under its phase.
pub(crate) fn check<S: Storage>(
    c: &mut S,
    tree: &S::Tree,
    a: &mut Attempt,
    level: CheckLevel,
    canary: &str,
) -> std::result::Result<(), Failed> {
    if !level.reaches(CheckLevel::Read) {
        return Ok(());
    }
    let (total, available) = c.fs_info(tree).map_err(|e| (FS_INFO, e))?;
    a.lap(FS_INFO);
    // For the fault log of a later step (a full share's canary_write).
    a.note("fs_size", format!("{available} of {total} bytes available"));
    if !level.reaches(CheckLevel::Write) {
        return Ok(());
    }
    let data = canary_data().map_err(|e| (CANARY_CREATE, e))?;
    let f = match c.canary_create(tree, canary) {
        Err(Error::Status(status::OBJECT_NAME_COLLISION)) => {
            // A canary a server left when it died with it open: removed, then made anew. What
            // stands in the way of that (a directory of that name, a file this user may not
            // delete, read-only storage) is the step's failure.
            a.note("leftover_canary", "removed");
            c.remove_leftover(tree, canary)
                .and_then(|()| c.canary_create(tree, canary))
        }
        r => r,
    }
    .map_err(|e| (CANARY_CREATE, e))?;
    a.lap(CANARY_CREATE);
    match canary_steps(c, tree, &f, a, &data) {
        Ok(()) => {}
        Err((phase, e)) => {
            // The server answered: close (and so delete) the canary before reporting. A lost
            // connection deletes it by itself.
            if matches!(e, Error::Status(_) | Error::Canary(_)) {
                let _ = c.canary_remove(tree, &f);
            }
            return Err((phase, e));
        }
    }
    c.canary_remove(tree, &f).map_err(|e| (CANARY_REMOVE, e))?;
    a.lap(CANARY_REMOVE);
    Ok(())
}

/// Write, flush, read back and compare.
fn canary_steps<S: Storage>(
    c: &mut S,
    tree: &S::Tree,
    f: &S::File,
    a: &mut Attempt,
    data: &[u8],
) -> std::result::Result<(), Failed> {
    let n = c
        .canary_write(tree, f, data)
        .map_err(|e| (CANARY_WRITE, e))?;
    if n != data.len() {
        return Err((
            CANARY_WRITE,
            Error::Canary(format!("wrote {n} of {} bytes", data.len())),
        ));
    }
    a.lap(CANARY_WRITE);
    c.canary_flush(tree, f).map_err(|e| (CANARY_FLUSH, e))?;
    a.lap(CANARY_FLUSH);
    // Ask for more than was written: a file longer than the canary is a mismatch too.
    let got = c
        .canary_read(tree, f, data.len() + 16)
        .map_err(|e| (CANARY_READ, e))?;
    if let Some(why) = mismatch(data, &got) {
        return Err((CANARY_READ, Error::Canary(why)));
    }
    a.lap(CANARY_READ);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canary_lines_are_fresh_and_one_line() {
        let (a, b) = (canary_data().unwrap(), canary_data().unwrap());
        assert_ne!(a, b);
        assert!(a.starts_with(b"clp-fsmon canary ") && a.ends_with(b"\n"));
        assert_eq!(a.split(|&c| c == b'\n').count(), 2, "one line");
    }

    #[test]
    fn a_mismatch_says_where() {
        assert_eq!(mismatch(b"abc", b"abc"), None);
        assert_eq!(
            mismatch(b"abc", b"abd").unwrap(),
            "read back 3 bytes of the 3 written, different from byte 2"
        );
        assert_eq!(
            mismatch(b"abc", b"ab").unwrap(),
            "read back 2 bytes of the 3 written, different from byte 2"
        );
        assert_eq!(
            mismatch(b"abc", b"abcd").unwrap(),
            "read back 4 bytes of the 3 written, different from byte 3"
        );
        assert_eq!(
            mismatch(b"abc", b"").unwrap(),
            "read back 0 bytes of the 3 written, different from byte 0"
        );
    }

    #[test]
    fn phase_names_are_short_and_distinct() {
        let mut v = PHASES.to_vec();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), PHASES.len());
        assert!(PHASES.iter().all(|p| p.len() <= 16 && p.is_ascii()));
    }
}
