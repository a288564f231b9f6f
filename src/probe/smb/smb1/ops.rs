//! The SMB1 file operations of the `read` and `write` check levels (MS-CIFS 2.2.4): the
//! parameter words and data bytes of TRANS2 QUERY_FS_INFORMATION (SMB_QUERY_FS_SIZE_INFO),
//! NT_CREATE_ANDX, WRITE_ANDX, FLUSH, READ_ANDX and CLOSE, and the parsers of their replies.
//!
//! SMB1 asks for a file system's size on the tree itself (no file is opened), so `read` costs
//! one round trip over `connect` here as over SMB2. Offsets in requests and replies count from
//! the start of the SMB header, as MS-CIFS has them; every field of a reply is bounds-checked
//! ([`super::codec`] does the header), so any bytes give an [`Error`], never a panic.

use super::super::error::{Error, Result};
use super::super::storage::Open;
use super::super::wire::{Bytes, Put, len16, utf16le};
use super::codec::{HEADER_LEN, Reply};

/// Commands of the file operations.
pub(crate) mod cmd {
    /// SMB_COM_CLOSE.
    pub(crate) const CLOSE: u8 = 0x04;
    /// SMB_COM_FLUSH.
    pub(crate) const FLUSH: u8 = 0x05;
    /// SMB_COM_TRANSACTION2.
    pub(crate) const TRANSACTION2: u8 = 0x32;
    /// SMB_COM_READ_ANDX.
    pub(crate) const READ_ANDX: u8 = 0x2e;
    /// SMB_COM_WRITE_ANDX.
    pub(crate) const WRITE_ANDX: u8 = 0x2f;
    /// SMB_COM_NT_CREATE_ANDX.
    pub(crate) const NT_CREATE_ANDX: u8 = 0xa2;
}

/// TRANS2_QUERY_FS_INFORMATION.
const TRANS2_QUERY_FS_INFORMATION: u16 = 0x0003;
/// SMB_QUERY_FS_SIZE_INFO: total and free allocation units, their size (24 bytes).
const QUERY_FS_SIZE_INFO: u16 = 0x0103;
/// ImpersonationLevel: Impersonation.
const IMPERSONATION: u32 = 2;
/// "No AndX command follows" (AndXCommand, AndXReserved, AndXOffset).
const NO_ANDX: [u8; 4] = [0xff, 0, 0, 0];

/// Where the data bytes of a request with `words` bytes of parameters start.
fn bytes_at(words: usize) -> usize {
    HEADER_LEN + 1 + words + 2
}

/// TRANS2 QUERY_FS_INFORMATION for SMB_QUERY_FS_SIZE_INFO (2.2.6.4): (words, bytes).
pub(crate) fn query_fs_size() -> (Vec<u8>, Vec<u8>) {
    let mut w = Vec::with_capacity(30);
    w.u16(2); // TotalParameterCount
    w.u16(0); // TotalDataCount
    w.u16(0); // MaxParameterCount (the reply has none)
    w.u16(64); // MaxDataCount
    w.push(0); // MaxSetupCount
    w.push(0);
    w.u16(0); // Flags
    w.u32(0); // Timeout
    w.u16(0);
    w.u16(2); // ParameterCount
    let params_off_at = w.len();
    w.u16(0); // ParameterOffset, below
    w.u16(0); // DataCount
    w.u16(0); // DataOffset, below
    w.push(1); // SetupCount
    w.push(0);
    w.u16(TRANS2_QUERY_FS_INFORMATION);
    // Name: one empty Unicode string, aligned to 2; the parameters then start on 4.
    let start = bytes_at(w.len());
    let mut b = vec![0u8; start % 2];
    b.extend_from_slice(&[0, 0]);
    b.resize(b.len() + (4 - (start + b.len()) % 4) % 4, 0);
    let params = start + b.len();
    b.u16(QUERY_FS_SIZE_INFO);
    let params = u16::try_from(params).expect("small");
    w[params_off_at..params_off_at + 2].copy_from_slice(&params.to_le_bytes());
    w[params_off_at + 4..params_off_at + 6].copy_from_slice(&(params + 2).to_le_bytes());
    (w, b)
}

/// Parses the TRANS2 reply of [`query_fs_size`]: (total, available) bytes.
pub fn parse_fs_size(r: &Reply) -> Result<(u64, u64)> {
    r.expect(cmd::TRANSACTION2, &[super::super::status::SUCCESS])?;
    let w = Bytes(&r.words);
    if r.words.len() < 20 {
        return Err(Error::protocol("TRANS2 reply of the wrong size"));
    }
    let count = usize::from(w.u16(12)?);
    let off = usize::from(w.u16(14)?);
    if count < 24 {
        return Err(Error::protocol(format!(
            "file-system size of {count} bytes, expected 24"
        )));
    }
    let start = off
        .checked_sub(bytes_at(r.words.len()))
        .ok_or_else(|| Error::protocol("TRANS2 data before the data bytes"))?;
    let info = Bytes(Bytes(&r.bytes).slice(start, 24)?);
    let unit = u64::from(info.u32(16)?) * u64::from(info.u32(20)?);
    Ok((
        info.u64(0)?.saturating_mul(unit),
        info.u64(8)?.saturating_mul(unit),
    ))
}

/// NT_CREATE_ANDX of `name` (a path from the share's root) as `open` says (2.2.4.64.1):
/// (words, bytes).
pub(crate) fn nt_create(open: &Open, name: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut path = utf16le(name);
    path.extend_from_slice(&[0, 0]);
    let mut w = Vec::with_capacity(48);
    w.extend_from_slice(&NO_ANDX);
    w.push(0); // Reserved
    w.u16(len16(path.len())?); // NameLength
    w.u32(0); // Flags: no oplock
    w.u32(0); // RootDirectoryFID
    w.u32(open.access);
    w.u64(0); // AllocationSize
    w.u32(open.attributes);
    w.u32(open.share);
    w.u32(open.disposition);
    w.u32(open.options);
    w.u32(IMPERSONATION);
    w.push(0); // SecurityFlags
    let mut b = vec![0u8; bytes_at(w.len()) % 2];
    b.extend_from_slice(&path);
    Ok((w, b))
}

/// Parses an NT_CREATE_ANDX reply: the FID.
pub fn parse_nt_create(r: &Reply) -> Result<u16> {
    r.expect(cmd::NT_CREATE_ANDX, &[super::super::status::SUCCESS])?;
    if r.words.len() < 68 {
        return Err(Error::protocol("NT_CREATE_ANDX reply of the wrong size"));
    }
    Bytes(&r.words).u16(5)
}

/// WRITE_ANDX of `data` at offset 0 of `fid` (2.2.4.43.1): (words, bytes).
pub(crate) fn write_andx(fid: u16, data: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut w = Vec::with_capacity(28);
    w.extend_from_slice(&NO_ANDX);
    w.u16(fid);
    w.u32(0); // Offset
    w.u32(0); // Timeout
    w.u16(0); // WriteMode
    w.u16(0); // Remaining
    w.u16(0); // DataLengthHigh
    w.u16(len16(data.len())?);
    let pad = bytes_at(28) % 2;
    w.u16(len16(bytes_at(28) + pad)?); // DataOffset
    w.u32(0); // OffsetHigh
    let mut b = vec![0u8; pad];
    b.extend_from_slice(data);
    Ok((w, b))
}

/// Parses a WRITE_ANDX reply: the bytes written.
pub fn parse_write_andx(r: &Reply) -> Result<usize> {
    r.expect(cmd::WRITE_ANDX, &[super::super::status::SUCCESS])?;
    if r.words.len() < 12 {
        return Err(Error::protocol("WRITE_ANDX reply of the wrong size"));
    }
    let w = Bytes(&r.words);
    Ok(usize::from(w.u16(4)?) | usize::from(w.u16(8)?) << 16)
}

/// READ_ANDX of up to `len` bytes at offset 0 of `fid` (2.2.4.42.1): (words, bytes).
pub(crate) fn read_andx(fid: u16, len: u16) -> (Vec<u8>, Vec<u8>) {
    let mut w = Vec::with_capacity(24);
    w.extend_from_slice(&NO_ANDX);
    w.u16(fid);
    w.u32(0); // Offset
    w.u16(len); // MaxCountOfBytesToReturn
    w.u16(len); // MinCountOfBytesToReturn
    w.u32(0); // Timeout
    w.u16(0); // Remaining
    w.u32(0); // OffsetHigh
    (w, Vec::new())
}

/// Parses a READ_ANDX reply: the data.
pub fn parse_read_andx(r: &Reply) -> Result<Vec<u8>> {
    r.expect(cmd::READ_ANDX, &[super::super::status::SUCCESS])?;
    if r.words.len() < 24 {
        return Err(Error::protocol("READ_ANDX reply of the wrong size"));
    }
    let w = Bytes(&r.words);
    let len = usize::from(w.u16(10)?);
    let off = usize::from(w.u16(12)?);
    let start = off
        .checked_sub(bytes_at(r.words.len()))
        .ok_or_else(|| Error::protocol("READ_ANDX data before the data bytes"))?;
    Ok(Bytes(&r.bytes).slice(start, len)?.to_vec())
}

/// FLUSH of `fid` (2.2.4.14.1): (words, bytes).
pub(crate) fn flush(fid: u16) -> (Vec<u8>, Vec<u8>) {
    (fid.to_le_bytes().to_vec(), Vec::new())
}

/// CLOSE of `fid` (2.2.4.5.1), leaving its times as they are: (words, bytes).
pub(crate) fn close(fid: u16) -> (Vec<u8>, Vec<u8>) {
    let mut w = fid.to_le_bytes().to_vec();
    w.u32(0xffff_ffff); // LastTimeModified: unchanged
    (w, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::super::super::storage::{CANARY, nt};
    use super::super::codec::header;
    use super::*;
    use proptest::prelude::*;

    /// A reply as the server would frame it.
    fn reply(command: u8, status: u32, words: &[u8], bytes: &[u8]) -> Reply {
        let mut m = header(command, 3, 4, 5);
        m[5..9].copy_from_slice(&status.to_le_bytes());
        m[9] |= 0x80;
        m.push(u8::try_from(words.len() / 2).unwrap());
        m.extend_from_slice(words);
        m.u16(u16::try_from(bytes.len()).unwrap());
        m.extend_from_slice(bytes);
        Reply::parse(&m).unwrap()
    }

    /// Offset in the whole request of `bytes[i]` for a request of `words`.
    fn at(words: &[u8], i: usize) -> usize {
        bytes_at(words.len()) + i
    }

    #[test]
    fn query_fs_size_points_at_its_parameter() {
        let (w, b) = query_fs_size();
        assert_eq!(w.len(), 30, "15 words");
        let p = usize::from(Bytes(&w).u16(20).unwrap());
        assert_eq!(p % 4, 0);
        let i = p - at(&w, 0);
        assert_eq!(Bytes(&b).u16(i).unwrap(), QUERY_FS_SIZE_INFO);
        assert_eq!(Bytes(&w).u16(28).unwrap(), TRANS2_QUERY_FS_INFORMATION);
        assert_eq!(at(&w, b.len()), p + 2);
    }

    #[test]
    fn nt_create_aligns_its_name() {
        let (w, b) = nt_create(&CANARY, "\\c").unwrap();
        assert_eq!(w.len(), 48, "24 words");
        assert_eq!(Bytes(&w).u32(35).unwrap(), nt::FILE_CREATE);
        let name_at = at(&w, b.len() - 6);
        assert_eq!(name_at % 2, 0);
        assert_eq!(&b[b.len() - 6..], &[b'\\', 0, b'c', 0, 0, 0]);
        assert_eq!(Bytes(&w).u16(5).unwrap(), 6);
    }

    #[test]
    fn write_andx_data_offset_is_where_the_data_is() {
        let (w, b) = write_andx(9, b"hello").unwrap();
        assert_eq!(w.len(), 28, "14 words");
        let off = usize::from(Bytes(&w).u16(22).unwrap());
        assert_eq!(&b[off - at(&w, 0)..], b"hello");
        assert_eq!(Bytes(&w).u16(4).unwrap(), 9);
    }

    #[test]
    fn replies_parse() {
        // TRANS2: 24 bytes of data right after the 10 words and a pad byte.
        let mut words = vec![0u8; 20];
        words[12..14].copy_from_slice(&24u16.to_le_bytes());
        let data_at = u16::try_from(bytes_at(20) + 1).unwrap();
        words[14..16].copy_from_slice(&data_at.to_le_bytes());
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&100u64.to_le_bytes());
        bytes.extend_from_slice(&40u64.to_le_bytes());
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(&512u32.to_le_bytes());
        let r = reply(cmd::TRANSACTION2, 0, &words, &bytes);
        assert_eq!(parse_fs_size(&r).unwrap(), (102_400, 40_960));
        let denied = reply(cmd::NT_CREATE_ANDX, 0xc000_0022, &[], &[]);
        assert!(matches!(
            parse_nt_create(&denied),
            Err(Error::Status(0xc000_0022))
        ));
        let mut cw = vec![0u8; 68];
        cw[5..7].copy_from_slice(&0x4007u16.to_le_bytes());
        assert_eq!(
            parse_nt_create(&reply(cmd::NT_CREATE_ANDX, 0, &cw, &[])).unwrap(),
            0x4007
        );
        let mut rw = vec![0u8; 24];
        rw[10..12].copy_from_slice(&3u16.to_le_bytes());
        let off = u16::try_from(bytes_at(24) + 1).unwrap();
        rw[12..14].copy_from_slice(&off.to_le_bytes());
        let r = reply(cmd::READ_ANDX, 0, &rw, b"\0xyz");
        assert_eq!(parse_read_andx(&r).unwrap(), b"xyz");
        let mut ww = vec![0u8; 12];
        ww[4..6].copy_from_slice(&40u16.to_le_bytes());
        assert_eq!(
            parse_write_andx(&reply(cmd::WRITE_ANDX, 0, &ww, &[])).unwrap(),
            40
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(
            command in prop_oneof![Just(cmd::TRANSACTION2), Just(cmd::NT_CREATE_ANDX), Just(cmd::READ_ANDX), Just(cmd::WRITE_ANDX)],
            words in proptest::collection::vec(any::<u8>(), 0..80),
            bytes in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut w = words;
            if w.len() % 2 == 1 { w.pop(); }
            let r = reply(command, 0, &w, &bytes);
            let _ = parse_fs_size(&r);
            let _ = parse_nt_create(&r);
            let _ = parse_read_andx(&r);
            let _ = parse_write_andx(&r);
        }
    }
}
