//! TCP transport for SMB: `clp_sambamon`'s address defaults, a connect to the first address of
//! the server that accepts, NetBIOS session service framing (RFC 1002, also used on 445 as the
//! 4-byte "direct TCP" length prefix), and the NetBIOS session request sent first on port 139.
//!
//! Every connect, read and write is [`crate::probe::net`]'s, bounded by the deadline and the
//! cancel token of the probe.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::error::{Error, Result};
use crate::probe::net::{self, Address, Bounds, Defaults, Stream};
use crate::probe::{Deadline, ProbeCtx};

/// Largest reply accepted (a probe's replies are a few hundred bytes).
pub(crate) const MAX_MESSAGE: usize = 1 << 20;

/// The default SMB port (direct TCP).
pub(crate) const PORT_DIRECT: u16 = 445;
/// The NetBIOS session service port.
pub(crate) const PORT_NETBIOS: u16 = 139;

/// Where `clp_sambamon` connects without `-a`: 127.0.0.1, port 445.
pub(crate) const DEFAULTS: Defaults = Defaults {
    host: || IpAddr::V4(Ipv4Addr::LOCALHOST),
    port: PORT_DIRECT,
};

/// Resolves `ep` to socket addresses (literals without a lookup). The system resolver has no
/// deadline of its own, so a name is looked up on a thread of its own and waited for only
/// until `deadline`: a hung DNS server costs one timed-out probe (event 74), never a probe
/// that outlives its `-r`.
fn resolve(ep: &Address, deadline: Deadline) -> Result<Vec<SocketAddr>> {
    ep.resolve(deadline).map_err(|e| {
        if e.kind() == io::ErrorKind::TimedOut {
            Error::Net(net::Error::TimedOut)
        } else {
            Error::Resolve(ep.host.to_string())
        }
    })
}

/// A connected, framed SMB transport.
pub(crate) struct Transport {
    stream: Stream,
}

impl Transport {
    /// Connects to the first address of `ep` that accepts, within the deadline. On port 139 the
    /// NetBIOS session request is made before returning.
    pub(crate) fn connect(ep: &Address, ctx: &ProbeCtx) -> Result<Self> {
        let addrs = resolve(ep, ctx.deadline)?;
        let bounds = Bounds::of(ctx);
        let mut last = None;
        for addr in addrs {
            match Stream::connect(addr, &bounds) {
                Ok(stream) => {
                    let mut t = Self { stream };
                    if ep.port == PORT_NETBIOS {
                        t.netbios_session()?;
                    }
                    return Ok(t);
                }
                Err(e @ net::Error::Io(net::Op::Connect, _)) => last = Some(e.into()),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.unwrap_or_else(|| Error::Resolve(ep.host.to_string())))
    }

    /// The NetBIOS session request (RFC 1002 4.3.2) to `*SMBSERVER`, which Samba and Windows
    /// accept for any server name.
    fn netbios_session(&mut self) -> Result<()> {
        let mut msg = vec![0x81, 0, 0, 68];
        msg.extend_from_slice(&encode_netbios_name("*SMBSERVER", 0x20));
        msg.extend_from_slice(&encode_netbios_name("CLP-FSMON", 0x00));
        self.write_all(&msg)?;
        let mut head = [0u8; 4];
        self.read_exact(&mut head)?;
        let len = frame_len(head);
        let len = len.min(64);
        let mut body = vec![0u8; len];
        self.read_exact(&mut body)?;
        match head[0] {
            0x82 => Ok(()),
            0x83 => Err(net::Error::Io(
                net::Op::Connect,
                io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    format!(
                        "NetBIOS session refused (code {:#04x})",
                        body.first().copied().unwrap_or(0)
                    ),
                ),
            )
            .into()),
            other => Err(Error::protocol(format!(
                "NetBIOS session reply type {other:#04x}"
            ))),
        }
    }

    /// Sends one SMB message with its 4-byte length prefix.
    pub(crate) fn send(&mut self, msg: &[u8]) -> Result<()> {
        let len = u32::try_from(msg.len())
            .ok()
            .filter(|&n| n < 1 << 24)
            .ok_or_else(|| Error::protocol("request too large"))?;
        let mut frame = Vec::with_capacity(msg.len() + 4);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(msg);
        self.write_all(&frame)
    }

    /// Receives one SMB message (skipping NetBIOS keep-alives).
    pub(crate) fn recv(&mut self) -> Result<Vec<u8>> {
        loop {
            let mut head = [0u8; 4];
            self.read_exact(&mut head)?;
            let len = frame_len(head);
            match head[0] {
                0x00 => {}
                0x85 => continue,
                t => return Err(Error::protocol(format!("NetBIOS message type {t:#04x}"))),
            }
            if len > MAX_MESSAGE {
                return Err(Error::protocol(format!("reply of {len} bytes")));
            }
            let mut body = vec![0u8; len];
            self.read_exact(&mut body)?;
            return Ok(body);
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<()> {
        Ok(self.stream.write_all(buf)?)
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<()> {
        Ok(self.stream.read_exact(buf)?)
    }
}

/// Length of a session service frame: 17 bits in RFC 1002 (length byte pair plus the E bit),
/// 24 bits in direct TCP (MS-SMB2 2.1); the top byte is zero on NetBIOS, so one rule serves both.
fn frame_len(head: [u8; 4]) -> usize {
    usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3])
}

/// RFC 1001 first-level encoding of a 16-byte NetBIOS name (15 characters, space padded, plus
/// the type byte), with its length prefix and the empty scope.
pub(crate) fn encode_netbios_name(name: &str, kind: u8) -> [u8; 34] {
    let mut raw = [b' '; 16];
    for (d, s) in raw.iter_mut().zip(name.bytes().take(15)) {
        *d = s.to_ascii_uppercase();
    }
    raw[15] = kind;
    let mut out = [0u8; 34];
    out[0] = 32;
    for (i, b) in raw.iter().enumerate() {
        out[1 + 2 * i] = b'A' + (b >> 4);
        out[2 + 2 * i] = b'A' + (b & 0x0f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn names_resolve_within_the_deadline() {
        let parse = |a| Address::parse(Some(a), &DEFAULTS).unwrap();
        let ep = parse("localhost:4455");
        let v = resolve(&ep, Deadline::after(Duration::from_secs(5))).unwrap();
        assert!(
            v.iter().all(|a| a.port() == 4455 && a.ip().is_loopback()),
            "{v:?}"
        );
        let lit = parse("127.0.0.1");
        // a literal needs no lookup, so not even an expired deadline stops it
        assert_eq!(
            resolve(&lit, Deadline::after(Duration::ZERO))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn netbios_name_encoding_matches_rfc1001() {
        // RFC 1001 14.1: "FRED" padded → "EGFCEFEECACACACACACACACACACACACA".
        let e = encode_netbios_name("FRED", 0x20);
        assert_eq!(e[0], 32);
        assert_eq!(&e[1..33], b"EGFCEFEECACACACACACACACACACACACA");
    }
}
