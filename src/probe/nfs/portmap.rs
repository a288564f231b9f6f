//! Portmapper version 2 (RFC 1833 §3): `PMAPPROC_GETPORT` on port 111, asking where MOUNT and NFS
//! listen. A port of 0 in the answer means the program is not registered.

use super::rpc::{Proto, RpcClient, RpcError};
use super::xdr::{Decoder, Encoder, XdrError};

/// Portmapper program number.
pub(crate) const PROG: u32 = 100_000;
/// Portmapper version spoken here.
pub(crate) const VERS: u32 = 2;
/// Well-known portmapper port.
pub(crate) const PORT: u16 = 111;
/// `PMAPPROC_GETPORT`.
pub(crate) const GETPORT: u32 = 3;

/// Encodes the `mapping` argument of GETPORT.
pub(crate) fn encode_getport(prog: u32, vers: u32, proto: Proto) -> Vec<u8> {
    let mut e = Encoder::new();
    e.u32(prog).u32(vers).u32(proto.ipproto()).u32(0);
    e.finish()
}

/// Decodes GETPORT's result; `None` for port 0 (not registered) or a value above 65535.
pub fn decode_getport(res: &[u8]) -> Result<Option<u16>, XdrError> {
    let port = Decoder::new(res).u32()?;
    Ok(u16::try_from(port).ok().filter(|p| *p != 0))
}

/// Asks the portmapper behind `client` for the port of `prog`/`vers` over `proto`.
pub fn getport(
    client: &mut RpcClient,
    prog: u32,
    vers: u32,
    proto: Proto,
) -> Result<Option<u16>, RpcError> {
    let res = client.call(PROG, VERS, GETPORT, &encode_getport(prog, vers, proto))?;
    Ok(decode_getport(&res)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn getport_layout_and_result() {
        assert_eq!(
            encode_getport(100_005, 3, Proto::Udp),
            [0, 1, 0x86, 0xa5, 0, 0, 0, 3, 0, 0, 0, 17, 0, 0, 0, 0]
        );
        assert_eq!(decode_getport(&[0, 0, 8, 1]), Ok(Some(2049)));
        assert_eq!(decode_getport(&[0, 0, 0, 0]), Ok(None));
        assert_eq!(decode_getport(&[0, 1, 0, 0]), Ok(None));
    }

    proptest! {
        #[test]
        fn decoder_never_panics(b in proptest::collection::vec(any::<u8>(), 0..16)) {
            let _ = decode_getport(&b);
        }
    }
}
