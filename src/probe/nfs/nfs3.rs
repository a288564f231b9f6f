//! NFS version 3 (RFC 1813): `NULL` (is the service answering at all), `GETATTR` and `FSINFO` on
//! the handle MOUNT gave (does the export's file system answer), with `nfsstat3` names.

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

/// Encodes an `nfs_fh3`.
pub(crate) fn encode_fh(fh: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.opaque(fh);
    e.finish()
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
