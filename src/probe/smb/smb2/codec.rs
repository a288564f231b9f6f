//! The SMB2/3 wire format (MS-SMB2 2.2) the probe needs: the header, NEGOTIATE requests with
//! dialects 2.0.2–3.1.1 and the 3.1.1 preauth integrity, encryption and signing contexts, and the parsers
//! of NEGOTIATE, SESSION_SETUP, TREE_CONNECT, TREE_DISCONNECT and LOGOFF replies.
//!
//! Replies are checked, not trusted: header, command and structure sizes are verified and every
//! field access is bounds-checked, so any bytes give an [`Error`], never a panic. No socket
//! here: the parsers are tested and fuzzed on bytes alone.

use super::super::crypto::{
    CIPHER_AES128_CCM, CIPHER_AES128_GCM, CIPHER_AES256_CCM, CIPHER_AES256_GCM, SIGNING_AES_CMAC,
    SIGNING_AES_GMAC, SIGNING_HMAC_SHA256,
};
use super::super::error::{Error, Result};
use super::super::status;
use super::super::wire::{Bytes, Put};

/// SMB2 protocol ID.
pub(crate) const PROTOCOL_ID: [u8; 4] = [0xfe, b'S', b'M', b'B'];
/// Header size.
pub(crate) const HEADER_LEN: usize = 64;

/// Commands used here.
pub(crate) mod cmd {
    /// NEGOTIATE.
    pub(crate) const NEGOTIATE: u16 = 0;
    /// SESSION_SETUP.
    pub(crate) const SESSION_SETUP: u16 = 1;
    /// LOGOFF.
    pub(crate) const LOGOFF: u16 = 2;
    /// TREE_CONNECT.
    pub(crate) const TREE_CONNECT: u16 = 3;
    /// TREE_DISCONNECT.
    pub(crate) const TREE_DISCONNECT: u16 = 4;
}

/// Header flag: reply.
pub(crate) const FLAG_RESPONSE: u32 = 0x1;
/// Header flag: async.
pub(crate) const FLAG_ASYNC: u32 = 0x2;
/// Header flag: signed.
pub(crate) const FLAG_SIGNED: u32 = 0x8;

/// Negotiate SecurityMode: signing enabled.
pub(crate) const SIGNING_ENABLED: u16 = 0x1;
/// Global capability: encryption (3.0/3.0.2).
pub(crate) const CAP_ENCRYPTION: u32 = 0x40;

/// Session flag: guest.
pub(crate) const SESSION_GUEST: u16 = 0x1;
/// Session flag: null (anonymous).
pub(crate) const SESSION_NULL: u16 = 0x2;
/// Session flag: encrypt all messages.
pub(crate) const SESSION_ENCRYPT: u16 = 0x4;

/// Share flag: encrypt messages of this tree.
pub(crate) const SHARE_ENCRYPT: u32 = 0x8000;

/// Dialects offered, oldest first.
pub(crate) const DIALECTS: [u16; 5] = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

/// Ciphers offered to a 3.1.1 server, in order of preference.
pub(crate) const CIPHERS: [u16; 4] = [
    CIPHER_AES128_GCM,
    CIPHER_AES128_CCM,
    CIPHER_AES256_GCM,
    CIPHER_AES256_CCM,
];

/// Signing algorithms offered to a 3.1.1 server, in smbclient's order of preference.
pub(crate) const SIGNING_ALGORITHMS: [u16; 3] =
    [SIGNING_AES_GMAC, SIGNING_AES_CMAC, SIGNING_HMAC_SHA256];

/// Negotiate context types (MS-SMB2 2.2.3.1).
mod context {
    /// SMB2_PREAUTH_INTEGRITY_CAPABILITIES.
    pub(super) const PREAUTH: u16 = 1;
    /// SMB2_ENCRYPTION_CAPABILITIES.
    pub(super) const ENCRYPTION: u16 = 2;
    /// SMB2_SIGNING_CAPABILITIES.
    pub(super) const SIGNING: u16 = 8;
}

/// Dialect as people write it (`3.1.1`).
pub(crate) fn dialect_name(d: u16) -> &'static str {
    match d {
        0x0202 => "2.0.2",
        0x0210 => "2.1",
        0x0300 => "3.0",
        0x0302 => "3.0.2",
        0x0311 => "3.1.1",
        _ => "unknown",
    }
}

/// Share type as people name it (SMB2 ShareType: 1 disk, 2 pipe, 3 print).
pub(crate) fn share_type_name(t: u8) -> &'static str {
    match t {
        1 => "disk",
        2 => "pipe",
        3 => "print",
        _ => "unknown",
    }
}

/// A parsed SMB2 reply.
#[derive(Clone, Debug)]
pub struct Reply {
    /// NT status.
    pub status: u32,
    /// Command.
    pub command: u16,
    /// Header flags.
    pub flags: u32,
    /// Message ID.
    pub message_id: u64,
    /// Tree ID (sync replies).
    pub tree_id: u32,
    /// Session ID.
    pub session_id: u64,
    /// The whole message (header + body).
    pub raw: Vec<u8>,
    /// Whether it came in a transform header.
    pub encrypted: bool,
}

impl Reply {
    /// Parses the header of an SMB2 message.
    pub fn parse(raw: Vec<u8>, encrypted: bool) -> Result<Self> {
        let r = Self::parse_linked(raw, encrypted)?;
        if Bytes(&r.raw).u32(20)? != 0 {
            return Err(Error::protocol("compound replies are not expected"));
        }
        Ok(r)
    }

    /// Parses the header of one reply of a compound chain (MS-SMB2 3.2.5.1.9): as
    /// [`Reply::parse`], but its NextCommand may point at the reply after it (`raw` is this
    /// reply with its padding, as [`super::ops::split_chain`] cuts it, which is also what its
    /// signature covers).
    pub fn parse_linked(raw: Vec<u8>, encrypted: bool) -> Result<Self> {
        let b = Bytes(&raw);
        if b.slice(0, 4)? != PROTOCOL_ID {
            return Err(Error::protocol("not an SMB2 message"));
        }
        if b.u16(4)? != 64 {
            return Err(Error::protocol("bad SMB2 header size"));
        }
        let flags = b.u32(16)?;
        if flags & FLAG_RESPONSE == 0 {
            return Err(Error::protocol("SMB2 request where a reply was expected"));
        }
        let tree_id = if flags & FLAG_ASYNC == 0 {
            b.u32(36)?
        } else {
            0
        };
        Ok(Self {
            status: b.u32(8)?,
            command: b.u16(12)?,
            flags,
            message_id: b.u64(24)?,
            tree_id,
            session_id: b.u64(40)?,
            raw,
            encrypted,
        })
    }

    /// The body after the header.
    pub(crate) fn body(&self) -> Bytes<'_> {
        Bytes(&self.raw[HEADER_LEN.min(self.raw.len())..])
    }

    /// Checks the body's StructureSize (the error response has 9).
    pub(crate) fn expect_size(&self, size: u16) -> Result<()> {
        let got = self.body().u16(0)?;
        if got == size || (self.status != status::SUCCESS && got == 9) {
            Ok(())
        } else {
            Err(Error::protocol(format!(
                "StructureSize {got}, expected {size}"
            )))
        }
    }
}

/// What NEGOTIATE settled.
#[derive(Clone, Debug)]
pub struct Negotiated {
    /// Dialect revision.
    pub dialect: u16,
    /// Server SecurityMode.
    pub security_mode: u16,
    /// Server capabilities.
    pub capabilities: u32,
    /// Encryption cipher, if the server offers one.
    pub cipher: Option<u16>,
    /// The 3.1.1 signing algorithm the server chose, if it answered the signing context (else
    /// AES-CMAC for 3.x).
    pub signing: Option<u16>,
}

/// A tree connection's facts.
#[derive(Clone, Copy, Debug)]
pub struct Tree {
    /// Tree ID.
    pub id: u32,
    /// Share type (1 disk, 2 pipe, 3 print).
    pub share_type: u8,
    /// Share flags.
    pub share_flags: u32,
}

/// Builds an SMB2 request header.
pub(crate) fn header(
    command: u16,
    message_id: u64,
    session_id: u64,
    tree_id: u32,
    charge: u16,
) -> Vec<u8> {
    let mut h = Vec::with_capacity(128);
    h.extend_from_slice(&PROTOCOL_ID);
    h.u16(64);
    h.u16(charge);
    h.u32(0);
    h.u16(command);
    h.u16(if command == cmd::NEGOTIATE { 1 } else { 8 });
    h.u32(0);
    h.u32(0);
    h.u64(message_id);
    h.u32(0xfeff); // ProcessId
    h.u32(tree_id);
    h.u64(session_id);
    h.extend_from_slice(&[0u8; 16]);
    h
}

/// The NEGOTIATE request with all dialects and the 3.1.1 contexts.
pub(crate) fn negotiate_request(client_guid: &[u8; 16], salt: &[u8; 32]) -> Vec<u8> {
    let mut m = header(cmd::NEGOTIATE, 0, 0, 0, 0);
    m.u16(36);
    m.u16(5); // DialectCount
    m.u16(SIGNING_ENABLED);
    m.u16(0);
    m.u32(CAP_ENCRYPTION);
    m.extend_from_slice(client_guid);
    let ctx_off_pos = m.len();
    m.u32(0); // NegotiateContextOffset, patched below
    m.u16(3); // NegotiateContextCount
    m.u16(0);
    for d in DIALECTS {
        m.u16(d);
    }
    m.pad_to(8);
    let off = u32::try_from(m.len()).expect("small");
    m[ctx_off_pos..ctx_off_pos + 4].copy_from_slice(&off.to_le_bytes());
    // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: SHA-512 with a 32-byte salt.
    m.u16(context::PREAUTH);
    m.u16(38);
    m.u32(0);
    m.u16(1);
    m.u16(32);
    m.u16(1);
    m.extend_from_slice(salt);
    m.pad_to(8);
    // SMB2_ENCRYPTION_CAPABILITIES, in smbclient's order: the AES-128 ciphers first (GCM before
    // CCM), then AES-256, so a server restricted to AES-256 finds one it takes.
    m.u16(context::ENCRYPTION);
    m.u16(2 + 2 * 4);
    m.u32(0);
    m.u16(4);
    for c in CIPHERS {
        m.u16(c);
    }
    m.pad_to(8);
    // SMB2_SIGNING_CAPABILITIES: without it a server takes AES-CMAC, and one limited to another
    // algorithm refuses the NEGOTIATE.
    m.u16(context::SIGNING);
    m.u16(2 + 2 * 3);
    m.u32(0);
    m.u16(3);
    for a in SIGNING_ALGORITHMS {
        m.u16(a);
    }
    m
}

/// Parses a NEGOTIATE reply body.
pub fn parse_negotiate(r: &Reply) -> Result<Negotiated> {
    if r.command != cmd::NEGOTIATE {
        return Err(Error::protocol("reply to another command"));
    }
    if r.status != status::SUCCESS {
        return Err(Error::Status(r.status));
    }
    r.expect_size(65)?;
    let b = r.body();
    let security_mode = b.u16(2)?;
    let dialect = b.u16(4)?;
    if !DIALECTS.contains(&dialect) {
        return Err(Error::protocol(format!(
            "server chose dialect {dialect:#06x}"
        )));
    }
    let capabilities = b.u32(24)?;
    let mut cipher = None;
    let mut signing = None;
    if dialect == 0x0311 {
        let count = usize::from(b.u16(6)?);
        let whole = Bytes(&r.raw);
        let mut off = usize::try_from(b.u32(60)?).unwrap_or(usize::MAX);
        let mut saw_preauth = false;
        for _ in 0..count {
            let ty = whole.u16(off)?;
            let len = usize::from(whole.u16(off + 2)?);
            let data = Bytes(whole.slice(off + 8, len)?);
            match ty {
                context::PREAUTH => {
                    if data.u16(0)? != 1 || data.u16(4)? != 1 {
                        return Err(Error::protocol("server preauth hash is not SHA-512"));
                    }
                    saw_preauth = true;
                }
                context::ENCRYPTION => {
                    if data.u16(0)? != 1 {
                        return Err(Error::protocol("server chose several ciphers"));
                    }
                    cipher = match data.u16(2)? {
                        0 => None,
                        c if CIPHERS.contains(&c) => Some(c),
                        c => return Err(Error::protocol(format!("server chose cipher {c:#06x}"))),
                    };
                }
                context::SIGNING => {
                    if data.u16(0)? != 1 {
                        return Err(Error::protocol("server chose several signing algorithms"));
                    }
                    signing = match data.u16(2)? {
                        a if SIGNING_ALGORITHMS.contains(&a) => Some(a),
                        a => {
                            return Err(Error::protocol(format!(
                                "server chose signing algorithm {a:#06x}"
                            )));
                        }
                    };
                }
                _ => {}
            }
            off = (off + 8 + len).next_multiple_of(8);
        }
        if !saw_preauth {
            return Err(Error::protocol(
                "3.1.1 reply without preauth integrity context",
            ));
        }
    } else if dialect >= 0x0300 && capabilities & CAP_ENCRYPTION != 0 {
        cipher = Some(CIPHER_AES128_CCM);
    }
    Ok(Negotiated {
        dialect,
        security_mode,
        capabilities,
        cipher,
        signing,
    })
}

/// Parses a SESSION_SETUP reply: (SessionFlags, security buffer).
pub fn parse_session_setup(r: &Reply) -> Result<(u16, Vec<u8>)> {
    if r.command != cmd::SESSION_SETUP {
        return Err(Error::protocol("reply to another command"));
    }
    if r.status != status::SUCCESS && r.status != status::MORE_PROCESSING_REQUIRED {
        return Err(Error::Status(r.status));
    }
    r.expect_size(9)?;
    let b = r.body();
    let flags = b.u16(2)?;
    let off = usize::from(b.u16(4)?);
    let len = usize::from(b.u16(6)?);
    let blob = if len == 0 {
        Vec::new()
    } else {
        Bytes(&r.raw).slice(off, len)?.to_vec()
    };
    Ok((flags, blob))
}

/// Parses a TREE_CONNECT reply.
pub fn parse_tree_connect(r: &Reply) -> Result<Tree> {
    if r.command != cmd::TREE_CONNECT {
        return Err(Error::protocol("reply to another command"));
    }
    if r.status != status::SUCCESS {
        return Err(Error::Status(r.status));
    }
    r.expect_size(16)?;
    let b = r.body();
    Ok(Tree {
        id: r.tree_id,
        share_type: b.u8(2)?,
        share_flags: b.u32(4)?,
    })
}

/// Checks a reply that has only a status and a 4-byte body (TREE_DISCONNECT, LOGOFF).
pub fn parse_simple(r: &Reply, command: u16) -> Result<()> {
    if r.command != command {
        return Err(Error::protocol("reply to another command"));
    }
    if r.status != status::SUCCESS {
        return Err(Error::Status(r.status));
    }
    r.expect_size(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Negotiate SecurityMode: signing required (the client only ever offers signing).
    const SIGNING_REQUIRED: u16 = 0x2;

    fn reply_bytes(command: u16, status: u32, body: &[u8]) -> Vec<u8> {
        let mut m = header(command, 0, 0, 0, 0);
        m[8..12].copy_from_slice(&status.to_le_bytes());
        m[16] = 1;
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn negotiate_request_is_well_formed() {
        let m = negotiate_request(&[1; 16], &[2; 32]);
        let b = Bytes(&m);
        assert_eq!(b.u16(HEADER_LEN).unwrap(), 36);
        assert_eq!(b.u16(HEADER_LEN + 2).unwrap(), 5);
        let off = b.u32(HEADER_LEN + 28).unwrap() as usize;
        assert_eq!(off % 8, 0);
        assert_eq!(b.u16(off).unwrap(), 1);
        assert_eq!(b.u16(off + 8).unwrap(), 1);
        assert_eq!(b.u16(off + 12).unwrap(), 1, "SHA-512");
        let enc = (off + 8 + 38).next_multiple_of(8);
        assert_eq!(b.u16(enc).unwrap(), 2);
        assert_eq!(b.u16(enc + 2).unwrap(), 10, "DataLength");
        assert_eq!(b.u16(enc + 8).unwrap(), 4, "CipherCount");
        let offered: Vec<u16> = (0..4).map(|i| b.u16(enc + 10 + 2 * i).unwrap()).collect();
        assert_eq!(
            offered,
            [
                CIPHER_AES128_GCM,
                CIPHER_AES128_CCM,
                CIPHER_AES256_GCM,
                CIPHER_AES256_CCM
            ]
        );
        let sign = (enc + 8 + 10).next_multiple_of(8);
        assert_eq!(b.u16(sign).unwrap(), 8, "SMB2_SIGNING_CAPABILITIES");
        assert_eq!(b.u16(sign + 8).unwrap(), 3);
        let offered: Vec<u16> = (0..3).map(|i| b.u16(sign + 10 + 2 * i).unwrap()).collect();
        assert_eq!(
            offered,
            [SIGNING_AES_GMAC, SIGNING_AES_CMAC, SIGNING_HMAC_SHA256]
        );
        assert_eq!(m.len(), sign + 8 + 8, "the last context ends the message");
        assert_eq!(b.u16(HEADER_LEN + 32).unwrap(), 3, "NegotiateContextCount");
    }

    /// A 3.1.1 NEGOTIATE reply with `contexts` (type, data).
    fn reply_311(contexts: &[(u16, Vec<u8>)]) -> Reply {
        let mut body = vec![0u8; 64];
        body[0] = 65;
        body[4..6].copy_from_slice(&0x0311u16.to_le_bytes());
        body[6..8].copy_from_slice(&u16::try_from(contexts.len()).unwrap().to_le_bytes());
        let mut m = reply_bytes(0, 0, &body);
        m.pad_to(8);
        let off = u32::try_from(m.len()).unwrap();
        m[HEADER_LEN + 60..HEADER_LEN + 64].copy_from_slice(&off.to_le_bytes());
        for (ty, data) in contexts {
            m.pad_to(8);
            m.u16(*ty);
            m.u16(u16::try_from(data.len()).unwrap());
            m.u32(0);
            m.extend_from_slice(data);
        }
        Reply::parse(m, false).unwrap()
    }

    #[test]
    fn negotiate_311_reply_gives_cipher_and_signing_algorithm() {
        let preauth = (1, vec![1, 0, 32, 0, 1, 0]);
        let r = reply_311(&[
            preauth.clone(),
            (2, vec![1, 0, 4, 0]),
            (8, vec![1, 0, 2, 0]),
        ]);
        let n = parse_negotiate(&r).unwrap();
        assert_eq!(
            (n.cipher, n.signing),
            (Some(CIPHER_AES256_GCM), Some(SIGNING_AES_GMAC))
        );
        let n = parse_negotiate(&reply_311(std::slice::from_ref(&preauth))).unwrap();
        assert_eq!((n.cipher, n.signing), (None, None));
        for bad in [vec![1, 0, 7, 0], vec![2, 0, 0, 0, 1, 0]] {
            assert!(parse_negotiate(&reply_311(&[preauth.clone(), (8, bad)])).is_err());
        }
    }

    #[test]
    fn negotiate_reply_parses() {
        let mut body = vec![0u8; 64];
        body[0] = 65;
        body[2] = 3; // signing enabled + required
        body[4..6].copy_from_slice(&0x0302u16.to_le_bytes());
        body[24..28].copy_from_slice(&CAP_ENCRYPTION.to_le_bytes());
        let r = Reply::parse(reply_bytes(0, 0, &body), false).unwrap();
        let n = parse_negotiate(&r).unwrap();
        assert_eq!(n.dialect, 0x0302);
        assert_eq!(n.cipher, Some(CIPHER_AES128_CCM));
        assert_eq!(n.security_mode & SIGNING_REQUIRED, SIGNING_REQUIRED);
        let r = Reply::parse(
            reply_bytes(0, 0xc000_0022, &[9, 0, 0, 0, 0, 0, 0, 0, 0]),
            false,
        )
        .unwrap();
        assert!(matches!(
            parse_negotiate(&r),
            Err(Error::Status(0xc000_0022))
        ));
    }

    #[test]
    fn tree_connect_reply_parses() {
        let body = [16, 0, 1, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 0x1f, 0];
        let mut raw = reply_bytes(cmd::TREE_CONNECT, 0, &body);
        raw[36..40].copy_from_slice(&7u32.to_le_bytes());
        let t = parse_tree_connect(&Reply::parse(raw, false).unwrap()).unwrap();
        assert_eq!((t.id, t.share_type, t.share_flags), (7, 1, SHARE_ENCRYPT));
    }

    proptest! {
        #[test]
        fn reply_parsers_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(r) = Reply::parse(raw.clone(), false) {
                let _ = parse_negotiate(&r);
                let _ = parse_session_setup(&r);
                let _ = parse_tree_connect(&r);
                let _ = parse_simple(&r, cmd::LOGOFF);
            }
        }

        #[test]
        fn reply_parsers_never_panic_after_valid_header(
            command in 0u16..5,
            status in prop_oneof![Just(0u32), Just(0xc000_0016u32), any::<u32>()],
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let r = Reply::parse(reply_bytes(command, status, &body), false).unwrap();
            let _ = parse_negotiate(&r);
            let _ = parse_session_setup(&r);
            let _ = parse_tree_connect(&r);
            let _ = parse_simple(&r, command);
        }
    }
}
