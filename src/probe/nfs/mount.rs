//! MOUNT protocol version 3 (RFC 1813 appendix I): `MNT` turns the exported directory into a file
//! handle, `UMNT` removes the entry again so the server's mount list does not grow with every
//! probe, and `DUMP` reads that list (tests use it to show it does not grow).

use super::rpc::{RpcClient, RpcError};
use super::xdr::{Decoder, Encoder, XdrError};

/// MOUNT program number.
pub const PROG: u32 = 100_005;
/// MOUNT version spoken here.
pub(crate) const VERS: u32 = 3;
/// `MOUNTPROC3_MNT`.
pub(crate) const MNT: u32 = 1;
/// `MOUNTPROC3_DUMP`.
pub(crate) const DUMP: u32 = 2;
/// `MOUNTPROC3_UMNT`.
pub(crate) const UMNT: u32 = 3;
/// Longest path (`MNTPATHLEN`).
pub(crate) const MNTPATHLEN: u32 = 1024;
/// Longest host name in a mount list (`MNTNAMLEN`).
pub(crate) const MNTNAMLEN: u32 = 255;
/// Longest v3 file handle (`FHSIZE3`).
pub(crate) const FHSIZE3: u32 = 64;

/// Every `mountstat3` of RFC 1813 appendix I: code and name.
pub(crate) static MOUNTSTAT3: &[(u32, &str)] = &[
    (0, "MNT3_OK"),
    (1, "MNT3ERR_PERM"),
    (2, "MNT3ERR_NOENT"),
    (5, "MNT3ERR_IO"),
    (13, "MNT3ERR_ACCES"),
    (20, "MNT3ERR_NOTDIR"),
    (22, "MNT3ERR_INVAL"),
    (63, "MNT3ERR_NAMETOOLONG"),
    (10004, "MNT3ERR_NOTSUPP"),
    (10006, "MNT3ERR_SERVERFAULT"),
];

/// Name of a `mountstat3` (`MNT3ERR_NOENT`), or `None` for an unknown code.
pub(crate) fn mountstat_name(s: u32) -> Option<&'static str> {
    super::xdr::name_of(MOUNTSTAT3, s)
}

/// A successful MNT: the handle and the auth flavors the server accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mounted {
    /// The directory's file handle.
    pub fh: Vec<u8>,
    /// Accepted auth flavors (1 = `AUTH_SYS`).
    pub flavors: Vec<u32>,
}

/// Encodes a `dirpath`.
pub(crate) fn encode_dirpath(dir: &str) -> Vec<u8> {
    let mut e = Encoder::new();
    e.string(dir);
    e.finish()
}

/// Decodes `mountres3`: `Ok(Ok(..))` mounted, `Ok(Err(status))` refused.
pub fn decode_mnt(res: &[u8]) -> Result<Result<Mounted, u32>, XdrError> {
    let mut d = Decoder::new(res);
    let status = d.u32()?;
    if status != 0 {
        return Ok(Err(status));
    }
    let fh = d.opaque(FHSIZE3)?.to_vec();
    let n = d.u32()?;
    if n > 64 {
        return Err(XdrError::TooLong { len: n, max: 64 });
    }
    let flavors = (0..n).map(|_| d.u32()).collect::<Result<_, _>>()?;
    Ok(Ok(Mounted { fh, flavors }))
}

/// Decodes a `mountlist` into (host, directory) pairs (at most 100 000 entries).
pub fn decode_dump(res: &[u8]) -> Result<Vec<(String, String)>, XdrError> {
    let mut d = Decoder::new(res);
    let mut out = Vec::new();
    while d.bool()? {
        if out.len() >= 100_000 {
            return Err(XdrError::BadValue("mountlist length", 100_000));
        }
        let host = d.string(MNTNAMLEN)?;
        let dir = d.string(MNTPATHLEN)?;
        out.push((host, dir));
    }
    Ok(out)
}

/// `MNT dir`.
pub fn mnt(client: &mut RpcClient, dir: &str) -> Result<Result<Mounted, u32>, RpcError> {
    let res = client.call(PROG, VERS, MNT, &encode_dirpath(dir))?;
    Ok(decode_mnt(&res)?)
}

/// `UMNT dir`.
pub fn umnt(client: &mut RpcClient, dir: &str) -> Result<(), RpcError> {
    client
        .call(PROG, VERS, UMNT, &encode_dirpath(dir))
        .map(drop)
}

/// `DUMP`: the server's mount list.
pub fn dump(client: &mut RpcClient) -> Result<Vec<(String, String)>, RpcError> {
    let res = client.call(PROG, VERS, DUMP, &[])?;
    Ok(decode_dump(&res)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_mnt_results() {
        let mut e = Encoder::new();
        e.u32(0).opaque(&[7; 28]).u32(1).u32(1);
        assert_eq!(
            decode_mnt(&e.finish()),
            Ok(Ok(Mounted {
                fh: vec![7; 28],
                flavors: vec![1]
            }))
        );
        assert_eq!(decode_mnt(&[0, 0, 0, 2]), Ok(Err(2)));
        assert_eq!(mountstat_name(2), Some("MNT3ERR_NOENT"));
        assert_eq!(mountstat_name(99), None);
        // RFC 1813 appendix I defines ten.
        super::super::xdr::check_names("mountstat3", MOUNTSTAT3, "MNT3");
        assert_eq!(MOUNTSTAT3.len(), 10);
        let mut e = Encoder::new();
        e.u32(0).opaque(&[0; 65]);
        assert!(decode_mnt(&e.finish()).is_err());
    }

    #[test]
    fn decodes_dump() {
        let mut e = Encoder::new();
        e.bool(true)
            .string("h")
            .string("/x")
            .bool(true)
            .string("g")
            .string("/y")
            .bool(false);
        assert_eq!(
            decode_dump(&e.finish()).unwrap(),
            [("h".into(), "/x".into()), ("g".into(), "/y".into())]
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(b in proptest::collection::vec(any::<u8>(), 0..160)) {
            let _ = decode_mnt(&b);
            let _ = decode_dump(&b);
        }

        #[test]
        fn mnt_round_trip(fh in proptest::collection::vec(any::<u8>(), 0..=64),
                          fl in proptest::collection::vec(any::<u32>(), 0..8)) {
            let mut e = Encoder::new();
            e.u32(0).opaque(&fh).u32(u32::try_from(fl.len()).unwrap());
            for f in &fl { e.u32(*f); }
            prop_assert_eq!(decode_mnt(&e.finish()), Ok(Ok(Mounted { fh, flavors: fl })));
        }
    }
}
