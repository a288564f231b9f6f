//! The SMB2 file operations of the `read` and `write` check levels (MS-SMB2 2.2.13–2.2.22,
//! 2.2.37–2.2.38): the request bodies of CREATE, QUERY_INFO (file-system size), WRITE, FLUSH,
//! READ and CLOSE, the parsers of their replies, and the two halves of a compound (3.2.4.1.4):
//! chaining requests into one message and cutting a reply chain into its replies.
//!
//! The `read` level sends CREATE of the share's root, QUERY_INFO FileFsSizeInformation and
//! CLOSE as one related compound, so it costs one round trip over `connect`; the reply of each
//! part keeps its own status, so a failure is still named exactly. As in [`super::codec`], no
//! socket here and every field of a reply is bounds-checked: any bytes give an [`Error`], never
//! a panic.

use super::super::error::{Error, Result};
use super::super::status;
use super::super::storage::Open;
use super::super::wire::{Bytes, Put, len16, len32, utf16le};
use super::codec::{HEADER_LEN, Reply};

/// Commands of the file operations.
pub(crate) mod cmd {
    /// CREATE.
    pub(crate) const CREATE: u16 = 0x05;
    /// CLOSE.
    pub(crate) const CLOSE: u16 = 0x06;
    /// FLUSH.
    pub(crate) const FLUSH: u16 = 0x07;
    /// READ.
    pub(crate) const READ: u16 = 0x08;
    /// WRITE.
    pub(crate) const WRITE: u16 = 0x09;
    /// QUERY_INFO.
    pub(crate) const QUERY_INFO: u16 = 0x10;
}

/// Header flag: this request works on the file the one before it in the chain opened.
pub(crate) const FLAG_RELATED: u32 = 0x4;
/// Offset of NextCommand in the header.
const NEXT_COMMAND: usize = 20;
/// Most replies one frame may chain (the probe's compounds have three).
const MAX_CHAIN: usize = 16;

/// An open file's SMB2_FILEID (persistent and volatile halves).
pub type FileId = [u8; 16];
/// The FileId of a related request: "the file the previous request opened" (3.2.4.1.4).
pub(crate) const RELATED_FILE: FileId = [0xff; 16];

/// ImpersonationLevel: Impersonation.
const IMPERSONATION: u32 = 2;

/// QUERY_INFO InfoType: file system.
const INFO_FILESYSTEM: u8 = 2;
/// FileFsSizeInformation (MS-FSCC 2.5.8), 24 bytes: total and caller-available allocation
/// units, sectors per unit, bytes per sector. Not FileFsFullSizeInformation (class 7): impacket's
/// server answers that class with 4 bytes (it takes 7 for the file class FileEaInformation),
/// while every server answers this one, from the same statvfs in Samba.
const FS_SIZE_INFORMATION: u8 = 3;
const FS_SIZE_LEN: u32 = 24;

/// A CREATE request body (2.2.13) opening `name` (relative to the share's root; empty for the
/// root itself) as `open` says, without oplock, lease or create contexts.
pub(crate) fn create_body(open: &Open, name: &str) -> Result<Vec<u8>> {
    let path = utf16le(name);
    let mut b = Vec::with_capacity(64 + path.len());
    b.u16(57);
    b.push(0); // SecurityFlags
    b.push(0); // RequestedOplockLevel: none
    b.u32(IMPERSONATION);
    b.u64(0); // SmbCreateFlags
    b.u64(0); // Reserved
    b.u32(open.access);
    b.u32(open.attributes);
    b.u32(open.share);
    b.u32(open.disposition);
    b.u32(open.options);
    b.u16(len16(HEADER_LEN + 56)?);
    b.u16(len16(path.len())?);
    b.u32(0); // CreateContextsOffset
    b.u32(0); // CreateContextsLength
    b.extend_from_slice(&path);
    if path.is_empty() {
        // The variable part is never empty (StructureSize 57 counts one byte of it).
        b.push(0);
    }
    Ok(b)
}

/// A QUERY_INFO request body (2.2.37) for FileFsSizeInformation of `file`.
pub(crate) fn query_fs_body(file: &FileId) -> Vec<u8> {
    let mut b = Vec::with_capacity(41);
    b.u16(41);
    b.push(INFO_FILESYSTEM);
    b.push(FS_SIZE_INFORMATION);
    b.u32(FS_SIZE_LEN); // OutputBufferLength
    b.u16(0); // InputBufferOffset
    b.u16(0); // Reserved
    b.u32(0); // InputBufferLength
    b.u32(0); // AdditionalInformation
    b.u32(0); // Flags
    b.extend_from_slice(file);
    b.push(0);
    b
}

/// A CLOSE request body (2.2.15).
pub(crate) fn close_body(file: &FileId) -> Vec<u8> {
    let mut b = Vec::with_capacity(24);
    b.u16(24);
    b.u16(0); // Flags
    b.u32(0);
    b.extend_from_slice(file);
    b
}

/// A FLUSH request body (2.2.17).
pub(crate) fn flush_body(file: &FileId) -> Vec<u8> {
    let mut b = Vec::with_capacity(24);
    b.u16(24);
    b.u16(0);
    b.u32(0);
    b.extend_from_slice(file);
    b
}

/// A WRITE request body (2.2.21) of `data` at `offset` of `file`.
pub(crate) fn write_body(file: &FileId, offset: u64, data: &[u8]) -> Result<Vec<u8>> {
    let mut b = Vec::with_capacity(48 + data.len());
    b.u16(49);
    b.u16(len16(HEADER_LEN + 48)?); // DataOffset
    b.u32(len32(data.len())?);
    b.u64(offset);
    b.extend_from_slice(file);
    b.u32(0); // Channel
    b.u32(0); // RemainingBytes
    b.u16(0); // WriteChannelInfoOffset
    b.u16(0); // WriteChannelInfoLength
    b.u32(0); // Flags
    b.extend_from_slice(data);
    Ok(b)
}

/// A READ request body (2.2.19) of up to `len` bytes at `offset` of `file`.
pub(crate) fn read_body(file: &FileId, offset: u64, len: u32) -> Vec<u8> {
    let mut b = Vec::with_capacity(49);
    b.u16(49);
    b.push(0x50); // Padding: where the data starts in the reply
    b.push(0); // Flags
    b.u32(len);
    b.u64(offset);
    b.extend_from_slice(file);
    b.u32(0); // MinimumCount
    b.u32(0); // Channel
    b.u32(0); // RemainingBytes
    b.u16(0); // ReadChannelInfoOffset
    b.u16(0); // ReadChannelInfoLength
    b.push(0);
    b
}

/// Checks that `r` answers `command` with success and a body of `size`.
fn expect(r: &Reply, command: u16, size: u16) -> Result<()> {
    if r.command != command {
        return Err(Error::protocol("reply to another command"));
    }
    if r.status != status::SUCCESS {
        return Err(Error::Status(r.status));
    }
    r.expect_size(size)
}

/// Parses a CREATE reply (2.2.14): the FileId of the opened file.
pub fn parse_create(r: &Reply) -> Result<FileId> {
    expect(r, cmd::CREATE, 89)?;
    r.body().array(64)
}

/// A file system's size, from FileFsSizeInformation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsSize {
    /// Size in bytes.
    pub total: u64,
    /// Bytes available to the probe's user.
    pub available: u64,
}

/// Parses a QUERY_INFO reply (2.2.38) carrying FileFsSizeInformation.
pub fn parse_fs_size(r: &Reply) -> Result<FsSize> {
    expect(r, cmd::QUERY_INFO, 9)?;
    let b = r.body();
    let off = usize::from(b.u16(2)?);
    let len = usize::try_from(b.u32(4)?).unwrap_or(usize::MAX);
    if len < 24 {
        return Err(Error::protocol(format!(
            "file-system size of {len} bytes, expected 24"
        )));
    }
    let info = Bytes(Bytes(&r.raw).slice(off, 24)?);
    let unit = u64::from(info.u32(16)?) * u64::from(info.u32(20)?);
    Ok(FsSize {
        total: info.u64(0)?.saturating_mul(unit),
        available: info.u64(8)?.saturating_mul(unit),
    })
}

/// Parses a CLOSE reply (2.2.16).
pub fn parse_close(r: &Reply) -> Result<()> {
    expect(r, cmd::CLOSE, 60)
}

/// Parses a FLUSH reply (2.2.18).
pub fn parse_flush(r: &Reply) -> Result<()> {
    expect(r, cmd::FLUSH, 4)
}

/// Parses a WRITE reply (2.2.22): the bytes written.
pub fn parse_write(r: &Reply) -> Result<u32> {
    expect(r, cmd::WRITE, 17)?;
    r.body().u32(4)
}

/// Parses a READ reply (2.2.20): the data read (empty at the end of the file).
pub fn parse_read(r: &Reply) -> Result<Vec<u8>> {
    if r.command == cmd::READ && r.status == status::END_OF_FILE {
        return Ok(Vec::new());
    }
    expect(r, cmd::READ, 17)?;
    let b = r.body();
    let off = usize::from(b.u8(2)?);
    let len = usize::try_from(b.u32(4)?).unwrap_or(usize::MAX);
    Ok(Bytes(&r.raw).slice(off, len)?.to_vec())
}

/// Chains built requests (header and body each) into one compound (3.2.4.1.4): every one but
/// the last padded to 8 bytes with its NextCommand pointing at the next, every one after the
/// first marked related. Returns the requests as they go on the wire, still apart, so that
/// each can be signed on its own (3.2.4.1.1: a signature covers its request and padding).
pub(crate) fn chain(mut msgs: Vec<Vec<u8>>) -> Result<Vec<Vec<u8>>> {
    let last = msgs.len().saturating_sub(1);
    for (i, m) in msgs.iter_mut().enumerate() {
        if i > 0 {
            let flags = Bytes(m).u32(16)? | FLAG_RELATED;
            m[16..20].copy_from_slice(&flags.to_le_bytes());
        }
        if i < last {
            m.pad_to(8);
            let next = len32(m.len())?;
            m[NEXT_COMMAND..NEXT_COMMAND + 4].copy_from_slice(&next.to_le_bytes());
        }
    }
    Ok(msgs)
}

/// Cuts a received frame into its chained replies, each with its padding (what its signature
/// covers), following NextCommand; a frame holding one reply gives one piece.
pub fn split_chain(frame: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = frame;
    loop {
        let next = usize::try_from(Bytes(rest).u32(NEXT_COMMAND)?).unwrap_or(usize::MAX);
        if next == 0 {
            out.push(rest.to_vec());
            return Ok(out);
        }
        if next < HEADER_LEN || next % 8 != 0 || next >= rest.len() {
            return Err(Error::protocol(format!("bad NextCommand {next}")));
        }
        if out.len() + 1 >= MAX_CHAIN {
            return Err(Error::protocol("reply chain too long"));
        }
        out.push(rest[..next].to_vec());
        rest = &rest[next..];
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::storage::{CANARY, ROOT, nt};
    use super::super::codec::header;
    use super::*;
    use proptest::prelude::*;

    fn reply(command: u16, status: u32, body: &[u8]) -> Reply {
        let mut m = header(command, 3, 0, 0, 0);
        m[8..12].copy_from_slice(&status.to_le_bytes());
        m[16] = 1;
        m.extend_from_slice(body);
        Reply::parse(m, false).unwrap()
    }

    #[test]
    fn create_of_the_root_and_of_the_canary_are_well_formed() {
        let b = create_body(&ROOT, "").unwrap();
        assert_eq!(b.len(), 57);
        let v = Bytes(&b);
        assert_eq!(v.u16(0).unwrap(), 57);
        assert_eq!(
            v.u32(24).unwrap(),
            nt::FILE_READ_ATTRIBUTES | nt::SYNCHRONIZE
        );
        assert_eq!(v.u32(36).unwrap(), nt::FILE_OPEN);
        assert_eq!(v.u32(40).unwrap(), nt::FILE_DIRECTORY_FILE);
        assert_eq!(
            (v.u16(44).unwrap(), v.u16(46).unwrap()),
            (120, 0),
            "name right after the fixed part"
        );
        let b = create_body(&CANARY, ".c").unwrap();
        let v = Bytes(&b);
        assert_eq!(v.u32(36).unwrap(), nt::FILE_CREATE);
        assert_eq!(
            v.u32(40).unwrap() & nt::FILE_DELETE_ON_CLOSE,
            nt::FILE_DELETE_ON_CLOSE
        );
        assert_ne!(
            v.u32(24).unwrap() & nt::DELETE,
            0,
            "delete on close needs DELETE"
        );
        assert_eq!(v.u16(46).unwrap(), 4);
        assert_eq!(&b[56..], &[b'.', 0, b'c', 0]);
    }

    #[test]
    fn fixed_request_bodies_have_their_structure_sizes() {
        let f = [7u8; 16];
        for (b, size, len) in [
            (query_fs_body(&f), 41, 41),
            (close_body(&f), 24, 24),
            (flush_body(&f), 24, 24),
            (read_body(&f, 0, 64), 49, 49),
            (write_body(&f, 0, b"abc").unwrap(), 49, 51),
        ] {
            assert_eq!(Bytes(&b).u16(0).unwrap(), size);
            assert_eq!(b.len(), len);
        }
        let w = write_body(&f, 9, b"abc").unwrap();
        assert_eq!(
            Bytes(&w).u16(2).unwrap(),
            112,
            "data right after the fixed part"
        );
        assert_eq!(Bytes(&w).u64(8).unwrap(), 9);
        assert_eq!(&w[16..32], &f);
    }

    #[test]
    fn replies_parse() {
        let mut body = vec![0u8; 88];
        body[0] = 89;
        body[64..80].copy_from_slice(&[5; 16]);
        assert_eq!(
            parse_create(&reply(cmd::CREATE, 0, &body)).unwrap(),
            [5; 16]
        );
        let denied = reply(cmd::CREATE, 0xc000_0022, &[9, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            parse_create(&denied),
            Err(Error::Status(0xc000_0022))
        ));
        // 1000 units of 8 sectors of 512 bytes, 250 available.
        let mut q = vec![9, 0, 72, 0, 24, 0, 0, 0];
        q.extend_from_slice(&1000u64.to_le_bytes());
        q.extend_from_slice(&250u64.to_le_bytes());
        q.extend_from_slice(&8u32.to_le_bytes());
        q.extend_from_slice(&512u32.to_le_bytes());
        assert_eq!(
            parse_fs_size(&reply(cmd::QUERY_INFO, 0, &q)).unwrap(),
            FsSize {
                total: 4_096_000,
                available: 1_024_000
            }
        );
        let mut r = vec![17, 0, 0x50, 0, 3, 0, 0, 0];
        r.extend_from_slice(&[0; 8]);
        r.extend_from_slice(b"xyz");
        assert_eq!(parse_read(&reply(cmd::READ, 0, &r)).unwrap(), b"xyz");
        let eof = reply(cmd::READ, status::END_OF_FILE, &[9, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(parse_read(&eof).unwrap().is_empty());
        let mut w = vec![17, 0, 0, 0, 40, 0, 0, 0];
        w.extend_from_slice(&[0; 9]);
        assert_eq!(parse_write(&reply(cmd::WRITE, 0, &w)).unwrap(), 40);
        let full = reply(cmd::WRITE, 0xc000_007f, &[9, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(
            parse_write(&full),
            Err(Error::Status(0xc000_007f))
        ));
        assert!(parse_flush(&reply(cmd::FLUSH, 0, &[4, 0, 0, 0])).is_ok());
        assert!(parse_close(&reply(cmd::CLOSE, 0, &[4, 0, 0, 0])).is_err());
    }

    #[test]
    fn a_chain_is_padded_linked_and_related_and_splits_back() {
        let msgs: Vec<Vec<u8>> = [
            create_body(&ROOT, "").unwrap(),
            query_fs_body(&RELATED_FILE),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let mut m = header(cmd::CREATE, i as u64, 0, 0, 1);
            m.extend_from_slice(&b);
            m
        })
        .collect();
        let parts = chain(msgs).unwrap();
        assert_eq!(parts[0].len() % 8, 0);
        assert_eq!(
            Bytes(&parts[0]).u32(NEXT_COMMAND).unwrap() as usize,
            parts[0].len()
        );
        assert_eq!(Bytes(&parts[1]).u32(NEXT_COMMAND).unwrap(), 0);
        assert_eq!(Bytes(&parts[0]).u32(16).unwrap() & FLAG_RELATED, 0);
        assert_eq!(
            Bytes(&parts[1]).u32(16).unwrap() & FLAG_RELATED,
            FLAG_RELATED
        );
        let frame = parts.concat();
        assert_eq!(split_chain(&frame).unwrap(), parts);
    }

    #[test]
    fn a_bad_next_command_is_refused() {
        let mut m = header(cmd::CREATE, 0, 0, 0, 1);
        m.extend_from_slice(&[0; 16]);
        for next in [8u32, 65, 80, 4096] {
            m[NEXT_COMMAND..NEXT_COMMAND + 4].copy_from_slice(&next.to_le_bytes());
            assert!(split_chain(&m).is_err(), "{next}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic(
            command in prop_oneof![Just(cmd::CREATE), Just(cmd::QUERY_INFO), Just(cmd::READ), Just(cmd::WRITE)],
            status in prop_oneof![Just(0u32), Just(status::END_OF_FILE), any::<u32>()],
            body in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let r = reply(command, status, &body);
            let _ = parse_create(&r);
            let _ = parse_fs_size(&r);
            let _ = parse_read(&r);
            let _ = parse_write(&r);
            let _ = parse_close(&r);
            let _ = parse_flush(&r);
        }

        #[test]
        fn split_never_panics(frame in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = split_chain(&frame);
        }
    }
}
