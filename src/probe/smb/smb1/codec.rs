//! The SMB1 wire format (MS-CIFS 2.2, dialect `NT LM 0.12`) the fallback needs: the header,
//! the NEGOTIATE request offering only `NT LM 0.12`, the parsers of NEGOTIATE,
//! SESSION_SETUP_ANDX and TREE_CONNECT_ANDX replies, and the MD5 message signature
//! (MS-CIFS 3.1.5.1: the first 8 bytes of `MD5(session key || message)` with the sequence number
//! in the signature field).
//!
//! Every field access is bounds-checked, so any bytes give an [`Error`], never a panic. No
//! socket here: the parsers are tested and fuzzed on bytes alone.

use super::super::crypto::md5;
use super::super::error::{Error, Result};
use super::super::status;
use super::super::wire::{Bytes, Put};

/// SMB1 protocol ID.
pub(crate) const PROTOCOL_ID: [u8; 4] = [0xff, b'S', b'M', b'B'];
/// Header size.
pub(crate) const HEADER_LEN: usize = 32;

/// Commands.
pub(crate) mod cmd {
    /// TREE_DISCONNECT.
    pub(crate) const TREE_DISCONNECT: u8 = 0x71;
    /// NEGOTIATE.
    pub(crate) const NEGOTIATE: u8 = 0x72;
    /// SESSION_SETUP_ANDX.
    pub(crate) const SESSION_SETUP_ANDX: u8 = 0x73;
    /// LOGOFF_ANDX.
    pub(crate) const LOGOFF_ANDX: u8 = 0x74;
    /// TREE_CONNECT_ANDX.
    pub(crate) const TREE_CONNECT_ANDX: u8 = 0x75;
}

const FLAGS2_UNICODE: u16 = 0x8000;
const FLAGS2_NT_STATUS: u16 = 0x4000;
const FLAGS2_EXTENDED_SECURITY: u16 = 0x0800;
const FLAGS2_LONG_NAMES: u16 = 0x0001;
pub(crate) const FLAGS2_SECURITY_SIGNATURE: u16 = 0x0004;

/// Offset of the 8-byte signature in the header.
pub(crate) const SIG_OFF: usize = 14;

pub(crate) const CAP_UNICODE: u32 = 0x0004;
pub(crate) const CAP_NT_SMBS: u32 = 0x0010;
pub(crate) const CAP_STATUS32: u32 = 0x0040;
pub(crate) const CAP_EXTENDED_SECURITY: u32 = 0x8000_0000;

/// Negotiate SecurityMode bit: signatures required.
pub(crate) const SECURITY_SIGNATURES_REQUIRED: u8 = 0x08;

/// The dialect offered.
pub(crate) const DIALECT: &[u8] = b"NT LM 0.12";

/// A parsed SMB1 reply.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Command.
    pub command: u8,
    /// Status (NT status; a DOS error class/code pair is passed through as a number).
    pub status: u32,
    /// Tree ID.
    pub tid: u16,
    /// User ID.
    pub uid: u16,
    /// Message ID.
    pub mid: u16,
    /// Parameter words.
    pub words: Vec<u8>,
    /// Data bytes.
    pub bytes: Vec<u8>,
}

impl Reply {
    /// Parses an SMB1 message.
    pub fn parse(raw: &[u8]) -> Result<Self> {
        let b = Bytes(raw);
        if b.slice(0, 4)? != PROTOCOL_ID {
            return Err(Error::protocol("not an SMB1 message"));
        }
        if b.u8(9)? & 0x80 == 0 {
            return Err(Error::protocol("SMB1 request where a reply was expected"));
        }
        let wc = usize::from(b.u8(HEADER_LEN)?);
        let words = b.slice(HEADER_LEN + 1, 2 * wc)?.to_vec();
        let (bytes, status) = {
            let bc_off = HEADER_LEN + 1 + 2 * wc;
            // Error replies may be cut short after the word count.
            let bc = if raw.len() >= bc_off + 2 {
                usize::from(b.u16(bc_off)?)
            } else {
                0
            };
            (
                b.slice(bc_off + 2, bc)
                    .map(<[u8]>::to_vec)
                    .unwrap_or_default(),
                b.u32(5)?,
            )
        };
        Ok(Self {
            command: b.u8(4)?,
            status,
            tid: b.u16(24)?,
            uid: b.u16(28)?,
            mid: b.u16(30)?,
            words,
            bytes,
        })
    }

    /// Checks that this replies to `command` with one of the `ok` statuses.
    pub(crate) fn expect(&self, command: u8, ok: &[u32]) -> Result<()> {
        if self.command != command {
            return Err(Error::protocol("reply to another command"));
        }
        if !ok.contains(&self.status) {
            return Err(Error::Status(self.status));
        }
        Ok(())
    }
}

/// What NEGOTIATE settled.
#[derive(Clone, Debug)]
pub struct Negotiated {
    /// SecurityMode.
    pub security_mode: u8,
    /// Capabilities.
    pub capabilities: u32,
    /// Max buffer size.
    pub max_buffer: u32,
}

/// Parses the NEGOTIATE reply.
pub fn parse_negotiate(r: &Reply) -> Result<Negotiated> {
    r.expect(cmd::NEGOTIATE, &[status::SUCCESS])?;
    let w = Bytes(&r.words);
    let index = w.u16(0)?;
    if index != 0 {
        return Err(Error::Unsupported(format!(
            "server chose no offered dialect ({index:#06x})"
        )));
    }
    if r.words.len() != 34 {
        return Err(Error::protocol(
            "NT LM 0.12 negotiate reply of the wrong size",
        ));
    }
    let capabilities = w.u32(19)?;
    if capabilities & CAP_EXTENDED_SECURITY == 0 {
        return Err(Error::Unsupported(
            "server without extended security (NTLMSSP)".into(),
        ));
    }
    Ok(Negotiated {
        security_mode: w.u8(2)?,
        capabilities,
        max_buffer: w.u32(7)?,
    })
}

/// Parses a SESSION_SETUP_ANDX reply: (Action, security blob).
pub fn parse_session_setup(r: &Reply) -> Result<(u16, Vec<u8>)> {
    r.expect(
        cmd::SESSION_SETUP_ANDX,
        &[status::SUCCESS, status::MORE_PROCESSING_REQUIRED],
    )?;
    let w = Bytes(&r.words);
    if r.words.len() != 8 {
        return Err(Error::protocol("session setup reply of the wrong size"));
    }
    let action = w.u16(4)?;
    let len = usize::from(w.u16(6)?);
    Ok((action, Bytes(&r.bytes).slice(0, len)?.to_vec()))
}

/// A tree connection.
#[derive(Clone, Debug)]
pub struct Tree {
    /// Tree ID.
    pub tid: u16,
    /// Service string (`A:`, `LPT1:`, `IPC`, `COMM`).
    pub service: String,
}

/// Parses a TREE_CONNECT_ANDX reply.
pub fn parse_tree_connect(r: &Reply) -> Result<Tree> {
    r.expect(cmd::TREE_CONNECT_ANDX, &[status::SUCCESS])?;
    if r.words.len() < 6 {
        return Err(Error::protocol("tree connect reply of the wrong size"));
    }
    let end = r
        .bytes
        .iter()
        .position(|&c| c == 0)
        .ok_or_else(|| Error::protocol("unterminated service"))?;
    Ok(Tree {
        tid: r.tid,
        service: String::from_utf8_lossy(&r.bytes[..end]).into_owned(),
    })
}

/// Share type named by an SMB1 service string.
pub(crate) fn share_type_name(service: &str) -> &'static str {
    match service {
        "A:" => "disk",
        "LPT1:" => "print",
        "IPC" => "pipe",
        "COMM" => "comm",
        _ => "unknown",
    }
}

/// The SMB1 signature of `msg` with sequence number `seq` (MS-CIFS 3.1.5.1).
pub(crate) fn signature(key: &[u8; 16], msg: &[u8], seq: u32) -> [u8; 8] {
    let mut m = msg.to_vec();
    if let Some(field) = m.get_mut(SIG_OFF..SIG_OFF + 8) {
        field[..4].copy_from_slice(&seq.to_le_bytes());
        field[4..].fill(0);
    }
    let d = md5(&[key, &m]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}

/// Checks the signature of a received `msg` with sequence number `seq`.
pub(crate) fn verify(key: &[u8; 16], msg: &[u8], seq: u32) -> Result<()> {
    if msg.get(SIG_OFF..SIG_OFF + 8) == Some(&signature(key, msg, seq)[..]) {
        Ok(())
    } else {
        Err(Error::Status(status::INVALID_SIGNATURE))
    }
}

/// Builds an SMB1 request header.
pub(crate) fn header(command: u8, tid: u16, uid: u16, mid: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(128);
    h.extend_from_slice(&PROTOCOL_ID);
    h.push(command);
    h.u32(0);
    h.push(0x18);
    h.u16(FLAGS2_UNICODE | FLAGS2_NT_STATUS | FLAGS2_EXTENDED_SECURITY | FLAGS2_LONG_NAMES);
    h.u16(0);
    h.extend_from_slice(&[0u8; 8]);
    h.u16(0);
    h.u16(tid);
    h.u16(0xfeff);
    h.u16(uid);
    h.u16(mid);
    h
}

/// The NEGOTIATE request offering only `NT LM 0.12`.
pub(crate) fn negotiate_request() -> Vec<u8> {
    let mut m = header(cmd::NEGOTIATE, 0, 0, 0);
    m.push(0);
    let mut d = vec![0x02];
    d.extend_from_slice(DIALECT);
    d.push(0);
    m.u16(u16::try_from(d.len()).expect("short"));
    m.extend_from_slice(&d);
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reply(command: u8, status: u32, words: &[u8], bytes: &[u8]) -> Vec<u8> {
        let mut m = header(command, 3, 4, 5);
        m[5..9].copy_from_slice(&status.to_le_bytes());
        m[9] |= 0x80;
        m.push(u8::try_from(words.len() / 2).unwrap());
        m.extend_from_slice(words);
        m.u16(u16::try_from(bytes.len()).unwrap());
        m.extend_from_slice(bytes);
        m
    }

    #[test]
    fn negotiate_request_offers_nt_lm_0_12() {
        let m = negotiate_request();
        assert_eq!(&m[..4], &PROTOCOL_ID);
        assert_eq!(m[4], cmd::NEGOTIATE);
        assert_eq!(&m[HEADER_LEN + 3..], b"\x02NT LM 0.12\0");
    }

    #[test]
    fn tree_connect_reply_gives_the_service() {
        let r = Reply::parse(&reply(
            cmd::TREE_CONNECT_ANDX,
            0,
            &[0xff, 0, 0, 0, 1, 0],
            b"IPC\0\0\0",
        ))
        .unwrap();
        let t = parse_tree_connect(&r).unwrap();
        assert_eq!((t.tid, share_type_name(&t.service)), (3, "pipe"));
        let r = Reply::parse(&reply(cmd::TREE_CONNECT_ANDX, 0xc000_00cc, &[], &[])).unwrap();
        assert!(matches!(
            parse_tree_connect(&r),
            Err(Error::Status(0xc000_00cc))
        ));
    }

    proptest! {
        #[test]
        fn reply_parsers_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Ok(r) = Reply::parse(&raw) {
                let _ = parse_negotiate(&r);
                let _ = parse_session_setup(&r);
                let _ = parse_tree_connect(&r);
            }
        }

        #[test]
        fn reply_parsers_never_panic_after_valid_header(
            command in prop_oneof![Just(cmd::NEGOTIATE), Just(cmd::SESSION_SETUP_ANDX), Just(cmd::TREE_CONNECT_ANDX)],
            status in prop_oneof![Just(0u32), Just(0xc000_0016u32)],
            words in proptest::collection::vec(any::<u8>(), 0..40),
            bytes in proptest::collection::vec(any::<u8>(), 0..100),
        ) {
            let mut w = words;
            if w.len() % 2 == 1 { w.pop(); }
            let r = Reply::parse(&reply(command, status, &w, &bytes)).unwrap();
            let _ = parse_negotiate(&r);
            let _ = parse_session_setup(&r);
            let _ = parse_tree_connect(&r);
        }
    }
}
