//! NFS version 3 (RFC 1813): `NULL` (is the service answering at all), `GETATTR` and `FSINFO` on
//! the handle MOUNT gave (does the export's file system answer), with `nfsstat3` names; for the
//! deeper check levels `FSSTAT` and `READDIR` (`--check read`), and `CREATE`, `LOOKUP`, `WRITE`,
//! `COMMIT`, `READ` and `REMOVE` of the canary (`--check write`).
//!
//! Every decoder reads the whole result, the post-operation attributes and `wcc_data` of a
//! failure included, so a status is never taken from the middle of a body; each one is
//! `Ok(Err(nfsstat3))` for a refused call.

use super::rpc::{RpcClient, RpcError};
use super::xdr::{Decoder, Encoder, XdrError};

/// NFS program number.
pub(crate) const PROG: u32 = 100_003;
/// Version 3.
pub(crate) const VERS: u32 = 3;
/// Default NFS port.
pub(crate) const PORT: u16 = 2049;
/// `NFSPROC3_NULL`.
pub(crate) const NULL: u32 = 0;
/// `NFSPROC3_GETATTR`.
pub(crate) const GETATTR: u32 = 1;
/// `NFSPROC3_FSINFO`.
pub(crate) const FSINFO: u32 = 19;
/// `NFSPROC3_LOOKUP`.
pub(crate) const LOOKUP: u32 = 3;
/// `NFSPROC3_READ`.
pub(crate) const READ: u32 = 6;
/// `NFSPROC3_WRITE`.
pub(crate) const WRITE: u32 = 7;
/// `NFSPROC3_CREATE`.
pub(crate) const CREATE: u32 = 8;
/// `NFSPROC3_REMOVE`.
pub(crate) const REMOVE: u32 = 12;
/// `NFSPROC3_READDIR`.
pub(crate) const READDIR: u32 = 16;
/// `NFSPROC3_FSSTAT`.
pub(crate) const FSSTAT: u32 = 18;
/// `NFSPROC3_COMMIT`.
pub(crate) const COMMIT: u32 = 21;
/// `NFS3ERR_NOENT`.
pub(crate) const NFS3ERR_NOENT: u32 = 2;
/// `NFS3ERR_EXIST`.
pub(crate) const NFS3ERR_EXIST: u32 = 17;
/// `stable_how` `FILE_SYNC`: data and metadata on stable storage before the reply.
pub(crate) const FILE_SYNC: u32 = 2;
/// `createmode3` `GUARDED`: fail with `NFS3ERR_EXIST` when the name exists.
pub(crate) const GUARDED: u32 = 1;
/// Longest file name read back from a directory listing (`NFS_MAXNAMLEN` of most servers).
const MAXNAMLEN: u32 = 255;
/// Most directory entries decoded from one READDIR (the probe asks for a few hundred bytes).
const MAX_ENTRIES: usize = 4096;
/// Largest READ result decoded (the canary is a few dozen bytes).
const MAX_READ: u32 = 1 << 20;

/// Every `nfsstat3` of RFC 1813 §2.6: code and name.
pub(crate) static NFSSTAT3: &[(u32, &str)] = &[
    (0, "NFS3_OK"),
    (1, "NFS3ERR_PERM"),
    (2, "NFS3ERR_NOENT"),
    (5, "NFS3ERR_IO"),
    (6, "NFS3ERR_NXIO"),
    (13, "NFS3ERR_ACCES"),
    (17, "NFS3ERR_EXIST"),
    (18, "NFS3ERR_XDEV"),
    (19, "NFS3ERR_NODEV"),
    (20, "NFS3ERR_NOTDIR"),
    (21, "NFS3ERR_ISDIR"),
    (22, "NFS3ERR_INVAL"),
    (27, "NFS3ERR_FBIG"),
    (28, "NFS3ERR_NOSPC"),
    (30, "NFS3ERR_ROFS"),
    (31, "NFS3ERR_MLINK"),
    (63, "NFS3ERR_NAMETOOLONG"),
    (66, "NFS3ERR_NOTEMPTY"),
    (69, "NFS3ERR_DQUOT"),
    (70, "NFS3ERR_STALE"),
    (71, "NFS3ERR_REMOTE"),
    (10001, "NFS3ERR_BADHANDLE"),
    (10002, "NFS3ERR_NOT_SYNC"),
    (10003, "NFS3ERR_BAD_COOKIE"),
    (10004, "NFS3ERR_NOTSUPP"),
    (10005, "NFS3ERR_TOOSMALL"),
    (10006, "NFS3ERR_SERVERFAULT"),
    (10007, "NFS3ERR_BADTYPE"),
    (10008, "NFS3ERR_JUKEBOX"),
];

/// Name of an `nfsstat3` (`NFS3ERR_STALE`), or `None` for a code RFC 1813 does not define.
pub(crate) fn nfsstat3_name(s: u32) -> Option<&'static str> {
    super::xdr::name_of(NFSSTAT3, s)
}

/// The parts of `fattr3` the probe reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr {
    /// `ftype3` (2 = directory).
    pub ftype: u32,
    /// Permission bits.
    pub mode: u32,
    /// File system id.
    pub fsid: u64,
    /// File id.
    pub fileid: u64,
}

/// The parts of `FSINFO3resok` the probe reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsInfo {
    /// Largest READ.
    pub rtmax: u32,
    /// Largest WRITE.
    pub wtmax: u32,
}

/// `FSSTAT3resok`: the file system's space and file slots, in bytes and files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FsStat {
    /// Size of the file system (`tbytes`).
    pub total: u64,
    /// Free space (`fbytes`).
    pub free: u64,
    /// Free space for the caller's uid (`abytes`).
    pub avail: u64,
    /// Free file slots for the caller's uid (`afiles`).
    pub afiles: u64,
}

/// What a `READDIR` returned: how many entries, and whether that was the whole directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Entry names, in the server's order.
    pub names: Vec<String>,
    /// The server said the directory ends here.
    pub eof: bool,
}

/// `WRITE3resok`: bytes written and how stable they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    /// Bytes written.
    pub count: u32,
    /// `stable_how` the server committed them at (`FILE_SYNC` = 2).
    pub committed: u32,
}

/// Encodes an `nfs_fh3`.
pub(crate) fn encode_fh(fh: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(fh);
    e.finish()
}

/// Encodes `diropargs3`: directory handle and a name in it.
pub(crate) fn encode_dirop(dir: &[u8], name: &str) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(dir).string(name);
    e.finish()
}

/// Encodes `READDIR3args` from the start of the directory (cookie 0) asking for `count` bytes.
pub(crate) fn encode_readdir(dir: &[u8], count: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(dir).u64(0).fixed(&[0; 8]).u32(count);
    e.finish()
}

/// Encodes `CREATE3args`: `name` in `dir`, `GUARDED`, with permission bits `mode` and every
/// other attribute the server's default.
pub(crate) fn encode_create(dir: &[u8], name: &str, mode: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(dir).string(name).u32(GUARDED);
    // sattr3: mode set; uid, gid, size unset; atime, mtime DONT_CHANGE.
    e.bool(true).u32(mode).bool(false).bool(false).bool(false);
    e.u32(0).u32(0);
    e.finish()
}

/// Encodes `WRITE3args`: `data` at offset 0, `stable` as asked.
pub(crate) fn encode_write(fh: &[u8], data: &[u8], stable: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(fh)
        .u64(0)
        .u32(u32::try_from(data.len()).unwrap_or(u32::MAX))
        .u32(stable)
        .opaque(data);
    e.finish()
}

/// Encodes `READ3args` and `COMMIT3args` (the same layout): `count` bytes from offset 0.
pub(crate) fn encode_range(fh: &[u8], count: u32) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(fh).u64(0).u32(count);
    e.finish()
}

/// Skips a `post_op_attr`, returning the attributes when they follow.
fn post_op_attr(d: &mut Decoder<'_>) -> Result<Option<Attr>, XdrError> {
    if d.bool()? {
        Ok(Some(fattr3(d)?))
    } else {
        Ok(None)
    }
}

/// Skips a `wcc_data`: optional size, mtime and ctime before, optional attributes after.
fn wcc_data(d: &mut Decoder<'_>) -> Result<(), XdrError> {
    if d.bool()? {
        d.skip(24)?;
    }
    post_op_attr(d).map(drop)
}

fn fattr3(d: &mut Decoder<'_>) -> Result<Attr, XdrError> {
    let ftype = d.u32()?;
    let mode = d.u32()?;
    d.skip(12)?; // nlink, uid, gid
    d.skip(24)?; // size, used, rdev
    let fsid = d.u64()?;
    let fileid = d.u64()?;
    d.skip(24)?; // atime, mtime, ctime
    Ok(Attr {
        ftype,
        mode,
        fsid,
        fileid,
    })
}

/// Decodes `GETATTR3res`: `Ok(Err(status))` for an error status.
pub fn decode_getattr(res: &[u8]) -> Result<Result<Attr, u32>, XdrError> {
    let mut d = Decoder::new(res);
    match d.u32()? {
        0 => Ok(Ok(fattr3(&mut d)?)),
        s => Ok(Err(s)),
    }
}

/// Decodes `FSINFO3res`.
pub fn decode_fsinfo(res: &[u8]) -> Result<Result<FsInfo, u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    if d.bool()? {
        fattr3(&mut d)?;
    }
    if status != 0 {
        return Ok(Err(status));
    }
    let rtmax = d.u32()?;
    d.skip(8)?; // rtpref, rtmult
    let wtmax = d.u32()?;
    Ok(Ok(FsInfo { rtmax, wtmax }))
}

/// Decodes `FSSTAT3res`; the directory's attributes come along when the server sends them.
pub fn decode_fsstat(res: &[u8]) -> Result<Result<(FsStat, Option<Attr>), u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    let attr = post_op_attr(&mut d)?;
    if status != 0 {
        return Ok(Err(status));
    }
    let total = d.u64()?;
    let free = d.u64()?;
    let avail = d.u64()?;
    d.skip(16)?; // tfiles, ffiles
    let afiles = d.u64()?;
    d.u32()?; // invarsec
    Ok(Ok((
        FsStat {
            total,
            free,
            avail,
            afiles,
        },
        attr,
    )))
}

/// Decodes `READDIR3res` (at most 4096 entries).
pub fn decode_readdir(res: &[u8]) -> Result<Result<Listing, u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    post_op_attr(&mut d)?;
    if status != 0 {
        return Ok(Err(status));
    }
    d.fixed(8)?; // cookieverf
    let mut names = Vec::new();
    while d.bool()? {
        if names.len() >= MAX_ENTRIES {
            return Err(XdrError::BadValue("READDIR entries", 4096));
        }
        d.u64()?; // fileid
        names.push(d.string(MAXNAMLEN)?);
        d.u64()?; // cookie
    }
    let eof = d.bool()?;
    Ok(Ok(Listing { names, eof }))
}

/// Decodes `CREATE3res`: the new file's handle when the server sends it (else a LOOKUP finds it).
pub fn decode_create(res: &[u8]) -> Result<Result<Option<Vec<u8>>, u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    if status != 0 {
        wcc_data(&mut d)?;
        return Ok(Err(status));
    }
    let fh = if d.bool()? {
        Some(d.opaque(super::mount::FHSIZE3)?.to_vec())
    } else {
        None
    };
    post_op_attr(&mut d)?;
    wcc_data(&mut d)?;
    Ok(Ok(fh))
}

/// Decodes `LOOKUP3res`: the handle of the name looked up.
pub fn decode_lookup(res: &[u8]) -> Result<Result<Vec<u8>, u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    if status != 0 {
        post_op_attr(&mut d)?;
        return Ok(Err(status));
    }
    let fh = d.opaque(super::mount::FHSIZE3)?.to_vec();
    post_op_attr(&mut d)?;
    post_op_attr(&mut d)?;
    Ok(Ok(fh))
}

/// Decodes `WRITE3res`.
pub fn decode_write(res: &[u8]) -> Result<Result<Written, u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    wcc_data(&mut d)?;
    if status != 0 {
        return Ok(Err(status));
    }
    let count = d.u32()?;
    let committed = d.u32()?;
    d.fixed(8)?; // writeverf
    Ok(Ok(Written { count, committed }))
}

/// Decodes `COMMIT3res`.
pub fn decode_commit(res: &[u8]) -> Result<Result<(), u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    wcc_data(&mut d)?;
    if status != 0 {
        return Ok(Err(status));
    }
    d.fixed(8)?; // writeverf
    Ok(Ok(()))
}

/// Decodes `READ3res`: the bytes read.
pub fn decode_read(res: &[u8]) -> Result<Result<Vec<u8>, u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    post_op_attr(&mut d)?;
    if status != 0 {
        return Ok(Err(status));
    }
    d.u32()?; // count
    d.bool()?; // eof
    Ok(Ok(d.opaque(MAX_READ)?.to_vec()))
}

/// Decodes `REMOVE3res`.
pub fn decode_remove(res: &[u8]) -> Result<Result<(), u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    wcc_data(&mut d)?;
    Ok(if status == 0 { Ok(()) } else { Err(status) })
}

/// `NULL`.
pub(crate) fn null(client: &mut RpcClient) -> Result<(), RpcError> {
    client.call(PROG, VERS, NULL, &[]).map(drop)
}

/// `GETATTR fh`.
pub(crate) fn getattr(client: &mut RpcClient, fh: &[u8]) -> Result<Result<Attr, u32>, RpcError> {
    Ok(decode_getattr(&client.call(
        PROG,
        VERS,
        GETATTR,
        &encode_fh(fh),
    )?)?)
}

/// `FSINFO fh`.
pub(crate) fn fsinfo(client: &mut RpcClient, fh: &[u8]) -> Result<Result<FsInfo, u32>, RpcError> {
    Ok(decode_fsinfo(&client.call(
        PROG,
        VERS,
        FSINFO,
        &encode_fh(fh),
    )?)?)
}

/// A result decoder: the body, or the `nfsstat3` of a refused call.
pub(crate) type Decode<T> = fn(&[u8]) -> Result<Result<T, u32>, XdrError>;

/// Sends procedure `proc_` with `args` and decodes its result with `decode`.
pub(crate) fn call<T>(
    client: &mut RpcClient,
    proc_: u32,
    args: &[u8],
    decode: Decode<T>,
) -> Result<Result<T, u32>, RpcError> {
    Ok(decode(&client.call(PROG, VERS, proc_, args)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fattr(e: &mut Encoder, ftype: u32, fsid: u64, fileid: u64) {
        e.u32(ftype)
            .u32(0o755)
            .u32(2)
            .u32(0)
            .u32(0)
            .u64(4096)
            .u64(4096)
            .u32(0)
            .u32(0);
        e.u64(fsid).u64(fileid);
        for _ in 0..6 {
            e.u32(0);
        }
    }

    #[test]
    fn decodes_getattr_and_fsinfo() {
        let mut e = Encoder::new();
        e.u32(0);
        fattr(&mut e, 2, 9, 77);
        assert_eq!(
            decode_getattr(&e.finish()),
            Ok(Ok(Attr {
                ftype: 2,
                mode: 0o755,
                fsid: 9,
                fileid: 77
            }))
        );
        assert_eq!(decode_getattr(&[0, 0, 0, 70]), Ok(Err(70)));
        let mut e = Encoder::new();
        e.u32(0).bool(true);
        fattr(&mut e, 2, 1, 1);
        e.u32(1 << 20).u32(0).u32(0).u32(1 << 19);
        assert_eq!(
            decode_fsinfo(&e.finish()),
            Ok(Ok(FsInfo {
                rtmax: 1 << 20,
                wtmax: 1 << 19
            }))
        );
        assert_eq!(
            decode_fsinfo(&[0, 0, 0x27, 0x11, 0, 0, 0, 0]),
            Ok(Err(10001))
        );
        assert_eq!(nfsstat3_name(10001), Some("NFS3ERR_BADHANDLE"));
    }

    /// `post_op_attr` with attributes, or without.
    fn post_op(e: &mut Encoder, with: bool) {
        e.bool(with);
        if with {
            fattr(e, 2, 1, 1);
        }
    }

    /// `wcc_data` with both halves present.
    fn wcc(e: &mut Encoder) {
        e.bool(true).u64(1).u32(2).u32(3).u32(4).u32(5);
        post_op(e, true);
    }

    #[test]
    fn decodes_the_read_level_results() {
        let mut e = Encoder::new();
        e.u32(0);
        post_op(&mut e, true);
        e.u64(100).u64(60).u64(50).u64(10).u64(9).u64(8).u32(0);
        let (st, attr) = decode_fsstat(&e.finish()).unwrap().unwrap();
        assert_eq!(
            st,
            FsStat {
                total: 100,
                free: 60,
                avail: 50,
                afiles: 8
            }
        );
        assert_eq!(attr.map(|a| a.ftype), Some(2));
        let mut e = Encoder::new();
        e.u32(5);
        post_op(&mut e, false);
        assert_eq!(decode_fsstat(&e.finish()), Ok(Err(5)));

        let mut e = Encoder::new();
        e.u32(0);
        post_op(&mut e, true);
        e.fixed(&[1; 8]);
        for (id, name) in [(1u64, "."), (2, "hello")] {
            e.bool(true).u64(id).string(name).u64(id);
        }
        e.bool(false).bool(true);
        assert_eq!(
            decode_readdir(&e.finish()),
            Ok(Ok(Listing {
                names: vec![".".into(), "hello".into()],
                eof: true
            }))
        );
        let mut e = Encoder::new();
        e.u32(13);
        post_op(&mut e, false);
        assert_eq!(decode_readdir(&e.finish()), Ok(Err(13)));
    }

    #[test]
    fn decodes_the_canary_results() {
        // CREATE with and without the new handle; refused with its wcc_data.
        let mut e = Encoder::new();
        e.u32(0).bool(true).opaque(&[4; 28]);
        post_op(&mut e, true);
        wcc(&mut e);
        assert_eq!(decode_create(&e.finish()), Ok(Ok(Some(vec![4; 28]))));
        let mut e = Encoder::new();
        e.u32(0).bool(false);
        post_op(&mut e, false);
        wcc(&mut e);
        assert_eq!(decode_create(&e.finish()), Ok(Ok(None)));
        let mut e = Encoder::new();
        e.u32(NFS3ERR_EXIST);
        wcc(&mut e);
        assert_eq!(decode_create(&e.finish()), Ok(Err(17)));
        let mut e = Encoder::new();
        e.u32(0).opaque(&[3; 12]);
        post_op(&mut e, true);
        post_op(&mut e, false);
        assert_eq!(decode_lookup(&e.finish()), Ok(Ok(vec![3; 12])));
        // WRITE, COMMIT, READ, REMOVE.
        let mut e = Encoder::new();
        e.u32(0);
        wcc(&mut e);
        e.u32(40).u32(FILE_SYNC).fixed(&[0; 8]);
        assert_eq!(
            decode_write(&e.finish()),
            Ok(Ok(Written {
                count: 40,
                committed: 2
            }))
        );
        let mut e = Encoder::new();
        e.u32(28);
        wcc(&mut e);
        assert_eq!(decode_write(&e.finish()), Ok(Err(28)));
        let mut e = Encoder::new();
        e.u32(0);
        wcc(&mut e);
        e.fixed(&[0; 8]);
        assert_eq!(decode_commit(&e.finish()), Ok(Ok(())));
        let mut e = Encoder::new();
        e.u32(0);
        post_op(&mut e, true);
        e.u32(3).bool(true).opaque(b"abc");
        assert_eq!(decode_read(&e.finish()), Ok(Ok(b"abc".to_vec())));
        let mut e = Encoder::new();
        e.u32(30);
        wcc(&mut e);
        assert_eq!(decode_remove(&e.finish()), Ok(Err(30)));
    }

    #[test]
    fn canary_arguments_layout() {
        let b = encode_create(&[1, 2], "c", 0o600);
        let mut d = Decoder::new(&b);
        assert_eq!(d.opaque(64).unwrap(), &[1, 2]);
        assert_eq!(d.string(9).unwrap(), "c");
        let v: Vec<u32> = (0..8).map(|_| d.u32().unwrap()).collect();
        assert_eq!(v, [GUARDED, 1, 0o600, 0, 0, 0, 0, 0]);
        assert_eq!(d.remaining(), 0);
        let b = encode_write(&[9], b"xy", FILE_SYNC);
        let mut d = Decoder::new(&b);
        assert_eq!(d.opaque(64).unwrap(), &[9]);
        assert_eq!((d.u64().unwrap(), d.u32().unwrap()), (0, 2));
        assert_eq!(d.u32().unwrap(), FILE_SYNC);
        assert_eq!(d.opaque(9).unwrap(), b"xy");
        assert_eq!(encode_readdir(&[0; 4], 512).len(), 8 + 8 + 8 + 4);
    }

    /// RFC 1813 §2.6 defines 29 codes, the last `NFS3ERR_JUKEBOX` (10008).
    #[test]
    fn nfsstat3_table_is_rfc_1813s() {
        super::super::xdr::check_names("nfsstat3", NFSSTAT3, "NFS3");
        assert_eq!(NFSSTAT3.len(), 29);
        assert_eq!(nfsstat3_name(13), Some("NFS3ERR_ACCES"));
        assert_eq!(nfsstat3_name(10008), Some("NFS3ERR_JUKEBOX"));
        assert_eq!(nfsstat3_name(10009), None);
    }

    proptest! {
        #[test]
        fn decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_getattr(&b);
            let _ = decode_fsinfo(&b);
            let _ = decode_fsstat(&b);
            let _ = decode_readdir(&b);
            let _ = decode_create(&b);
            let _ = decode_lookup(&b);
            let _ = decode_write(&b);
            let _ = decode_commit(&b);
            let _ = decode_read(&b);
            let _ = decode_remove(&b);
        }

        #[test]
        fn getattr_round_trip(t in any::<u32>(), fsid in any::<u64>(), id in any::<u64>()) {
            let mut e = Encoder::new();
            e.u32(0);
            fattr(&mut e, t, fsid, id);
            let a = decode_getattr(&e.finish()).unwrap().unwrap();
            prop_assert_eq!((a.ftype, a.fsid, a.fileid), (t, fsid, id));
        }
    }
}
