//! The SMB1 fallback (MS-CIFS / MS-SMB, dialect `NT LM 0.12`), for servers that speak no SMB2:
//! NEGOTIATE, SESSION_SETUP_ANDX with extended security (the same NTLMSSP tokens as SMB2),
//! TREE_CONNECT_ANDX with service `?????`, TREE_DISCONNECT and LOGOFF_ANDX.
//!
//! When the server requires signing, a user session signs its requests and checks the server's
//! signatures (MS-CIFS 3.1.5.1: the first 8 bytes of `MD5(session key || message)` with the
//! sequence number in the signature field; the final session setup exchange is numbers 0 and 1).
//! Guest and anonymous sessions have no key and are never signed.

use super::crypto::md5;
use super::error::{Error, Result};
use super::ntlmssp::{self, Identity};
use super::status;
use super::transport::Transport;
use super::wire::{Bytes, Put, len16, utf16le};

/// SMB1 protocol ID.
pub const PROTOCOL_ID: [u8; 4] = [0xff, b'S', b'M', b'B'];
/// Header size.
pub const HEADER_LEN: usize = 32;

/// Commands.
pub mod cmd {
    /// TREE_DISCONNECT.
    pub const TREE_DISCONNECT: u8 = 0x71;
    /// NEGOTIATE.
    pub const NEGOTIATE: u8 = 0x72;
    /// SESSION_SETUP_ANDX.
    pub const SESSION_SETUP_ANDX: u8 = 0x73;
    /// LOGOFF_ANDX.
    pub const LOGOFF_ANDX: u8 = 0x74;
    /// TREE_CONNECT_ANDX.
    pub const TREE_CONNECT_ANDX: u8 = 0x75;
}

const FLAGS2_UNICODE: u16 = 0x8000;
const FLAGS2_NT_STATUS: u16 = 0x4000;
const FLAGS2_EXTENDED_SECURITY: u16 = 0x0800;
const FLAGS2_LONG_NAMES: u16 = 0x0001;
const FLAGS2_SECURITY_SIGNATURE: u16 = 0x0004;

/// Offset of the 8-byte signature in the header.
const SIG_OFF: usize = 14;

const CAP_UNICODE: u32 = 0x0004;
const CAP_NT_SMBS: u32 = 0x0010;
const CAP_STATUS32: u32 = 0x0040;
const CAP_EXTENDED_SECURITY: u32 = 0x8000_0000;

/// Negotiate SecurityMode bit: signatures required.
pub const SECURITY_SIGNATURES_REQUIRED: u8 = 0x08;

/// The dialect offered.
pub const DIALECT: &[u8] = b"NT LM 0.12";

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

    fn expect(&self, command: u8, ok: &[u32]) -> Result<()> {
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
pub fn share_type_name(service: &str) -> &'static str {
    match service {
        "A:" => "disk",
        "LPT1:" => "print",
        "IPC" => "pipe",
        "COMM" => "comm",
        _ => "unknown",
    }
}

/// An SMB1 connection.
pub struct Client {
    t: Transport,
    /// What NEGOTIATE settled.
    pub neg: Negotiated,
    uid: u16,
    mid: u16,
    /// The session is a guest session.
    pub guest: bool,
    /// Messages are signed.
    pub signing: bool,
    mac_key: Option<[u8; 16]>,
    seq: u32,
}

/// The SMB1 signature of `msg` with sequence number `seq` (MS-CIFS 3.1.5.1).
pub fn signature(key: &[u8; 16], msg: &[u8], seq: u32) -> [u8; 8] {
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

fn verify(key: &[u8; 16], msg: &[u8], seq: u32) -> Result<()> {
    if msg.get(SIG_OFF..SIG_OFF + 8) == Some(&signature(key, msg, seq)[..]) {
        Ok(())
    } else {
        Err(Error::Status(super::smb2::STATUS_INVALID_SIGNATURE))
    }
}

fn header(command: u8, tid: u16, uid: u16, mid: u16) -> Vec<u8> {
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
pub fn negotiate_request() -> Vec<u8> {
    let mut m = header(cmd::NEGOTIATE, 0, 0, 0);
    m.push(0);
    let mut d = vec![0x02];
    d.extend_from_slice(DIALECT);
    d.push(0);
    m.u16(u16::try_from(d.len()).expect("short"));
    m.extend_from_slice(&d);
    m
}

impl Client {
    /// NEGOTIATE on a fresh connection.
    pub fn negotiate(mut t: Transport) -> Result<Self> {
        t.send(&negotiate_request())?;
        let r = Reply::parse(&t.recv()?)?;
        let neg = parse_negotiate(&r)?;
        Ok(Self {
            t,
            neg,
            uid: 0,
            mid: 1,
            guest: false,
            signing: false,
            mac_key: None,
            seq: 0,
        })
    }

    fn call(&mut self, command: u8, tid: u16, words: &[u8], bytes: &[u8]) -> Result<Reply> {
        self.call_raw(command, tid, words, bytes).map(|(_, r)| r)
    }

    /// Sends one request (signed once signing is on) and returns the raw and parsed reply.
    fn call_raw(
        &mut self,
        command: u8,
        tid: u16,
        words: &[u8],
        bytes: &[u8],
    ) -> Result<(Vec<u8>, Reply)> {
        let mid = self.mid;
        self.mid = self.mid.wrapping_add(1);
        let mut m = header(command, tid, self.uid, mid);
        m.push(u8::try_from(words.len() / 2).map_err(|_| Error::protocol("too many words"))?);
        m.extend_from_slice(words);
        m.u16(len16(bytes.len())?);
        m.extend_from_slice(bytes);
        let key = self.mac_key.filter(|_| self.signing);
        let seq = self.seq;
        if let Some(k) = &key {
            let flags2 = u16::from_le_bytes([m[10], m[11]]) | FLAGS2_SECURITY_SIGNATURE;
            m[10..12].copy_from_slice(&flags2.to_le_bytes());
            let sig = signature(k, &m, seq);
            m[SIG_OFF..SIG_OFF + 8].copy_from_slice(&sig);
            self.seq = seq.wrapping_add(2);
        }
        self.t.send(&m)?;
        let raw = self.t.recv()?;
        let r = Reply::parse(&raw)?;
        if r.mid != mid {
            return Err(Error::protocol("reply to another message"));
        }
        if let Some(k) = &key {
            verify(k, &raw, seq.wrapping_add(1))?;
        }
        Ok((raw, r))
    }

    fn session_leg(&mut self, blob: &[u8]) -> Result<(Vec<u8>, Reply)> {
        let mut w = Vec::with_capacity(24);
        w.extend_from_slice(&[0xff, 0, 0, 0]);
        w.u16(u16::try_from(self.neg.max_buffer.min(0xffff)).unwrap_or(0xffff));
        w.u16(2);
        w.u16(0);
        w.u32(0);
        w.u16(len16(blob.len())?);
        w.u32(0);
        w.u32(CAP_UNICODE | CAP_NT_SMBS | CAP_STATUS32 | CAP_EXTENDED_SECURITY);
        let mut b = blob.to_vec();
        if (HEADER_LEN + 1 + w.len() + 2 + b.len()) % 2 == 1 {
            b.push(0);
        }
        b.extend_from_slice(&[0, 0, 0, 0]);
        self.call_raw(cmd::SESSION_SETUP_ANDX, 0, &w, &b)
    }

    /// SESSION_SETUP_ANDX with NTLMSSP.
    pub fn session_setup(&mut self, id: &Identity) -> Result<()> {
        let (_, r1) = self.session_leg(&ntlmssp::negotiate())?;
        let (_, blob) = parse_session_setup(&r1)?;
        if r1.status != status::MORE_PROCESSING_REQUIRED {
            return Err(Error::protocol("no NTLMSSP challenge"));
        }
        self.uid = r1.uid;
        let challenge = ntlmssp::parse_challenge(&blob)?;
        let auth = ntlmssp::authenticate(id, &challenge, &ntlmssp::Entropy::fresh()?)?;
        let (raw2, r2) = self.session_leg(&auth.message)?;
        let (action, _) = parse_session_setup(&r2)?;
        if r2.status != status::SUCCESS {
            return Err(Error::protocol("session setup did not complete"));
        }
        self.guest = action & 1 != 0;
        if self.neg.security_mode & SECURITY_SIGNATURES_REQUIRED != 0
            && !self.guest
            && let Some(k) = auth.session_key
        {
            // Signing starts with the final session setup: request 0, reply 1.
            verify(&k, &raw2, 1)?;
            self.mac_key = Some(k);
            self.signing = true;
            self.seq = 2;
        }
        Ok(())
    }

    /// TREE_CONNECT_ANDX to `unc`, any service.
    pub fn tree_connect(&mut self, unc: &str) -> Result<Tree> {
        let mut w = vec![0xff, 0, 0, 0];
        w.u16(0);
        w.u16(1);
        let mut b = vec![0u8];
        b.extend_from_slice(&utf16le(unc));
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(b"?????\0");
        let r = self.call(cmd::TREE_CONNECT_ANDX, 0, &w, &b)?;
        parse_tree_connect(&r)
    }

    /// TREE_DISCONNECT.
    pub fn tree_disconnect(&mut self, tree: &Tree) -> Result<()> {
        let r = self.call(cmd::TREE_DISCONNECT, tree.tid, &[], &[])?;
        r.expect(cmd::TREE_DISCONNECT, &[status::SUCCESS])
    }

    /// LOGOFF_ANDX.
    pub fn logoff(&mut self) -> Result<()> {
        let r = self.call(cmd::LOGOFF_ANDX, 0, &[0xff, 0, 0, 0], &[])?;
        r.expect(cmd::LOGOFF_ANDX, &[status::SUCCESS])
    }
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
