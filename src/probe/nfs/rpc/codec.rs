//! The ONC RPC wire format (RFC 5531): CALL messages with `AUTH_SYS` or `AUTH_NONE`
//! credentials, REPLY decoding into the result bytes or the [`RpcError`] that says why the call
//! failed, and TCP record marking (§11). Bytes in, bytes out: no socket here, so everything
//! below is tested and fuzzed on arbitrary input, and a length from the wire is never trusted.

use super::RpcError;
use crate::probe::nfs::xdr::{Decoder, Encoder, XdrError};

/// Largest reply accepted (the probe's replies are a few hundred bytes).
pub(crate) const MAX_REPLY: usize = 1 << 20;

const CALL: u32 = 0;
const REPLY: u32 = 1;
const AUTH_NONE: u32 = 0;
const AUTH_SYS: u32 = 1;

/// `AUTH_SYS` credentials (RFC 5531 appendix A), encoded once per client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSys {
    /// Arbitrary stamp.
    pub stamp: u32,
    /// Client machine name (at most 255 bytes).
    pub machine: String,
    /// Effective uid.
    pub uid: u32,
    /// Effective gid.
    pub gid: u32,
    /// Supplementary gids (at most 16).
    pub gids: Vec<u32>,
}

impl AuthSys {
    /// uid 0, gid 0, this host's name: what a root monitor sends.
    pub fn root() -> Self {
        let mut machine = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "localhost".into());
        while machine.len() > 255 {
            machine.pop();
        }
        Self {
            stamp: u32::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() & 0xffff_ffff),
            )
            .unwrap_or(0),
            machine,
            uid: 0,
            gid: 0,
            gids: vec![0],
        }
    }

    /// The credential body (`authsys_parms`).
    pub(crate) fn body(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u32(self.stamp)
            .string(&self.machine)
            .u32(self.uid)
            .u32(self.gid);
        e.u32(u32::try_from(self.gids.len().min(16)).unwrap_or(16));
        for g in self.gids.iter().take(16) {
            e.u32(*g);
        }
        e.finish()
    }

    /// Decodes a credential body (used by tests and fuzzing).
    pub fn decode(body: &[u8]) -> Result<Self, XdrError> {
        let mut d = Decoder::new(body);
        let stamp = d.u32()?;
        let machine = d.string(255)?;
        let uid = d.u32()?;
        let gid = d.u32()?;
        let n = d.u32()?;
        if n > 16 {
            return Err(XdrError::TooLong { len: n, max: 16 });
        }
        let gids = (0..n).map(|_| d.u32()).collect::<Result<_, _>>()?;
        Ok(Self {
            stamp,
            machine,
            uid,
            gid,
            gids,
        })
    }
}

/// Encodes a CALL message header plus `args`.
pub(crate) fn encode_call(
    xid: u32,
    prog: u32,
    vers: u32,
    proc_: u32,
    cred: Option<&AuthSys>,
    args: &[u8],
) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u32(xid).u32(CALL).u32(2).u32(prog).u32(vers).u32(proc_);
    match cred {
        Some(c) => e.u32(AUTH_SYS).opaque(&c.body()),
        None => e.u32(AUTH_NONE).opaque(&[]),
    };
    e.u32(AUTH_NONE).opaque(&[]);
    e.raw(args);
    e.finish()
}

/// A decoded reply: its xid and either the procedure's result bytes or why the call failed.
#[derive(Debug)]
pub struct Reply<'a> {
    /// Transaction id.
    pub xid: u32,
    /// Result bytes of a successful call.
    pub result: Result<&'a [u8], RpcError>,
}

/// Decodes a REPLY message (RFC 5531 §9).
pub fn decode_reply(msg: &[u8]) -> Result<Reply<'_>, RpcError> {
    let mut d = Decoder::new(msg);
    let xid = d.u32()?;
    if d.u32()? != REPLY {
        return Err(RpcError::Garbage("not a reply"));
    }
    let result = match d.u32()? {
        0 => {
            let _flavor = d.u32()?;
            d.opaque(400)?;
            match d.u32()? {
                0 => Ok(d.rest()),
                2 => Err(RpcError::ProgMismatch(d.u32()?, d.u32()?)),
                s => Err(RpcError::Accepted(s)),
            }
        }
        1 => match d.u32()? {
            0 => Err(RpcError::RpcMismatch(d.u32()?, d.u32()?)),
            1 => Err(RpcError::AuthError(d.u32()?)),
            _ => return Err(RpcError::Garbage("bad reject_stat")),
        },
        _ => return Err(RpcError::Garbage("bad reply_stat")),
    };
    Ok(Reply { xid, result })
}

/// Splits a TCP record-marking header into (last fragment, fragment length).
pub(crate) fn record_header(h: [u8; 4]) -> (bool, usize) {
    let v = u32::from_be_bytes(h);
    (v & 0x8000_0000 != 0, (v & 0x7fff_ffff) as usize)
}

/// Reassembles one record from a byte stream (record marking, RFC 5531 §11), rejecting records
/// longer than `MAX_REPLY`. `read` fills the buffer it is given completely or fails.
pub fn read_record<E>(
    mut read: impl FnMut(&mut [u8]) -> Result<(), E>,
    too_long: impl Fn() -> E,
) -> Result<Vec<u8>, E> {
    let mut rec = Vec::new();
    loop {
        let mut h = [0u8; 4];
        read(&mut h)?;
        let (last, len) = record_header(h);
        if rec.len() + len > MAX_REPLY {
            return Err(too_long());
        }
        let start = rec.len();
        rec.resize(start + len, 0);
        read(&mut rec[start..])?;
        if last {
            return Ok(rec);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn accepted(xid: u32, stat: u32, tail: &[u8]) -> Vec<u8> {
        let mut e = Encoder::new();
        e.u32(xid)
            .u32(REPLY)
            .u32(0)
            .u32(AUTH_NONE)
            .opaque(&[])
            .u32(stat)
            .raw(tail);
        e.finish()
    }

    #[test]
    fn call_header_layout() {
        let c = AuthSys {
            stamp: 1,
            machine: "h".into(),
            uid: 0,
            gid: 0,
            gids: vec![0],
        };
        let m = encode_call(9, 100_005, 3, 1, Some(&c), &[0, 0, 0, 1]);
        let mut d = Decoder::new(&m);
        let head: Vec<u32> = (0..7).map(|_| d.u32().unwrap()).collect();
        assert_eq!(head, [9, CALL, 2, 100_005, 3, 1, AUTH_SYS]);
        assert_eq!(AuthSys::decode(d.opaque(400).unwrap()).unwrap(), c);
        assert_eq!(
            (d.u32().unwrap(), d.opaque(400).unwrap()),
            (AUTH_NONE, &[][..])
        );
        assert_eq!(d.u32().unwrap(), 1);
    }

    #[test]
    fn decodes_reply_states() {
        let m = accepted(5, 0, &[1, 2, 3, 4]);
        let r = decode_reply(&m).unwrap();
        assert_eq!((r.xid, r.result.unwrap()), (5, &[1, 2, 3, 4][..]));
        let m = accepted(5, 1, &[]);
        let r = decode_reply(&m).unwrap();
        assert!(matches!(r.result, Err(RpcError::Accepted(1))));
        let m = accepted(5, 2, &[0, 0, 0, 2, 0, 0, 0, 3]);
        let r = decode_reply(&m).unwrap();
        assert!(matches!(r.result, Err(RpcError::ProgMismatch(2, 3))));
        let mut e = Encoder::new();
        e.u32(6).u32(REPLY).u32(1).u32(1).u32(5);
        let m = e.finish();
        let r = decode_reply(&m).unwrap();
        assert_eq!(
            r.result.unwrap_err().to_string(),
            "RPC: Authentication error; why = Client credential too weak"
        );
        assert!(decode_reply(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn record_marking_reassembles_fragments() {
        let stream = [0u8, 0, 0, 2, b'a', b'b', 0x80, 0, 0, 1, b'c'];
        let mut pos = 0;
        let rec = read_record(
            |b: &mut [u8]| {
                if pos + b.len() > stream.len() {
                    return Err(());
                }
                b.copy_from_slice(&stream[pos..pos + b.len()]);
                pos += b.len();
                Ok(())
            },
            || (),
        )
        .unwrap();
        assert_eq!(rec, b"abc");
    }

    proptest! {
        #[test]
        fn reply_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = decode_reply(&bytes);
            let _ = AuthSys::decode(&bytes);
        }

        #[test]
        fn record_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut pos = 0;
            let _ = read_record(|b: &mut [u8]| {
                if pos + b.len() > bytes.len() { return Err(()); }
                b.copy_from_slice(&bytes[pos..pos + b.len()]);
                pos += b.len();
                Ok(())
            }, || ());
        }

        #[test]
        fn accepted_round_trip(xid in any::<u32>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let m = accepted(xid, 0, &body);
            let r = decode_reply(&m).unwrap();
            prop_assert_eq!(r.xid, xid);
            prop_assert_eq!(r.result.unwrap(), &body[..]);
        }
    }
}
