//! The SMB2/3 client of the probe (MS-SMB2): NEGOTIATE with dialects 2.0.2–3.1.1 (preauth
//! integrity and encryption contexts for 3.1.1), SESSION_SETUP with NTLMSSP, TREE_CONNECT,
//! TREE_DISCONNECT and LOGOFF, signing where the server requires it and the SMB3 transform
//! header where the session or the share requires encryption.
//!
//! Replies are checked, not trusted: header, command, message ID and structure sizes are
//! verified, signatures of signed replies are verified, and every field access is bounds-checked.

use super::crypto::{
    self, CIPHER_AES128_CCM, CIPHER_AES128_GCM, Sealer, Signer, TRANSFORM_ID, kdf, preauth_update,
};
use super::error::{Error, Result};
use super::ntlmssp::{self, Identity};
use super::status;
use super::transport::Transport;
use super::wire::{Bytes, Put, len16, utf16le};
use crate::probe::net;

/// SMB2 protocol ID.
pub const PROTOCOL_ID: [u8; 4] = [0xfe, b'S', b'M', b'B'];
/// Header size.
pub const HEADER_LEN: usize = 64;

/// Commands used here.
pub mod cmd {
    /// NEGOTIATE.
    pub const NEGOTIATE: u16 = 0;
    /// SESSION_SETUP.
    pub const SESSION_SETUP: u16 = 1;
    /// LOGOFF.
    pub const LOGOFF: u16 = 2;
    /// TREE_CONNECT.
    pub const TREE_CONNECT: u16 = 3;
    /// TREE_DISCONNECT.
    pub const TREE_DISCONNECT: u16 = 4;
}

/// Header flag: reply.
pub const FLAG_RESPONSE: u32 = 0x1;
/// Header flag: async.
pub const FLAG_ASYNC: u32 = 0x2;
/// Header flag: signed.
pub const FLAG_SIGNED: u32 = 0x8;

/// Negotiate SecurityMode: signing enabled.
pub const SIGNING_ENABLED: u16 = 0x1;
/// Negotiate SecurityMode: signing required.
pub const SIGNING_REQUIRED: u16 = 0x2;
/// Global capability: encryption (3.0/3.0.2).
pub const CAP_ENCRYPTION: u32 = 0x40;

/// STATUS_INVALID_SIGNATURE: a signed reply whose signature does not verify.
pub const STATUS_INVALID_SIGNATURE: u32 = 0xc000_a000;

/// Session flag: guest.
pub const SESSION_GUEST: u16 = 0x1;
/// Session flag: null (anonymous).
pub const SESSION_NULL: u16 = 0x2;
/// Session flag: encrypt all messages.
pub const SESSION_ENCRYPT: u16 = 0x4;

/// Share flag: encrypt messages of this tree.
pub const SHARE_ENCRYPT: u32 = 0x8000;

/// Dialects offered, oldest first.
pub const DIALECTS: [u16; 5] = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

/// Dialect as people write it (`3.1.1`).
pub fn dialect_name(d: u16) -> &'static str {
    match d {
        0x0202 => "2.0.2",
        0x0210 => "2.1",
        0x0300 => "3.0",
        0x0302 => "3.0.2",
        0x0311 => "3.1.1",
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
        if b.u32(20)? != 0 {
            return Err(Error::protocol("compound replies are not expected"));
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
    pub fn body(&self) -> Bytes<'_> {
        Bytes(&self.raw[HEADER_LEN.min(self.raw.len())..])
    }

    /// Checks the body's StructureSize (the error response has 9).
    fn expect_size(&self, size: u16) -> Result<()> {
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
}

/// The outcome of trying SMB2 NEGOTIATE.
pub enum Start {
    /// The server speaks SMB2/3.
    Smb2(Box<Client>),
    /// The server dropped the connection or answered in SMB1: it speaks no SMB2.
    NoSmb2(String),
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

/// An SMB2/3 connection with at most one session and one tree.
pub struct Client {
    t: Transport,
    /// What NEGOTIATE settled.
    pub neg: Negotiated,
    next_id: u64,
    session_id: u64,
    preauth: [u8; 64],
    signer: Option<Signer>,
    sealer: Option<Sealer>,
    /// Sign requests (the session has a key, i.e. it is neither guest nor anonymous).
    pub signing: bool,
    /// Encrypt every request of the session.
    pub encrypt_session: bool,
    /// SessionFlags of the session.
    pub session_flags: u16,
}

/// Builds an SMB2 request header.
fn header(command: u16, message_id: u64, session_id: u64, tree_id: u32, charge: u16) -> Vec<u8> {
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
pub fn negotiate_request(client_guid: &[u8; 16], salt: &[u8; 32]) -> Vec<u8> {
    let mut m = header(cmd::NEGOTIATE, 0, 0, 0, 0);
    m.u16(36);
    m.u16(5); // DialectCount
    m.u16(SIGNING_ENABLED);
    m.u16(0);
    m.u32(CAP_ENCRYPTION);
    m.extend_from_slice(client_guid);
    let ctx_off_pos = m.len();
    m.u32(0); // NegotiateContextOffset, patched below
    m.u16(2); // NegotiateContextCount
    m.u16(0);
    for d in DIALECTS {
        m.u16(d);
    }
    m.pad_to(8);
    let off = u32::try_from(m.len()).expect("small");
    m[ctx_off_pos..ctx_off_pos + 4].copy_from_slice(&off.to_le_bytes());
    // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: SHA-512 with a 32-byte salt.
    m.u16(1);
    m.u16(38);
    m.u32(0);
    m.u16(1);
    m.u16(32);
    m.u16(1);
    m.extend_from_slice(salt);
    m.pad_to(8);
    // SMB2_ENCRYPTION_CAPABILITIES: GCM preferred, CCM.
    m.u16(2);
    m.u16(6);
    m.u32(0);
    m.u16(2);
    m.u16(CIPHER_AES128_GCM);
    m.u16(CIPHER_AES128_CCM);
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
                1 => {
                    if data.u16(0)? != 1 || data.u16(4)? != 1 {
                        return Err(Error::protocol("server preauth hash is not SHA-512"));
                    }
                    saw_preauth = true;
                }
                2 => {
                    if data.u16(0)? != 1 {
                        return Err(Error::protocol("server chose several ciphers"));
                    }
                    cipher = match data.u16(2)? {
                        0 => None,
                        c @ (CIPHER_AES128_CCM | CIPHER_AES128_GCM) => Some(c),
                        c => return Err(Error::protocol(format!("server chose cipher {c:#06x}"))),
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

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut a = [0u8; N];
    getrandom::fill(&mut a).map_err(|e| Error::Unsupported(format!("no random numbers: {e}")))?;
    Ok(a)
}

impl Client {
    /// Sends NEGOTIATE on a fresh connection.
    pub fn negotiate(mut t: Transport) -> Result<Start> {
        let req = negotiate_request(&random::<16>()?, &random::<32>()?);
        t.send(&req)?;
        let raw = match t.recv() {
            Ok(raw) => raw,
            Err(Error::Net(net::Error::Closed)) => {
                return Ok(Start::NoSmb2("connection closed on SMB2 NEGOTIATE".into()));
            }
            Err(Error::Net(net::Error::Io(net::Op::Recv, e)))
                if e.raw_os_error() == Some(nix::libc::ECONNRESET) =>
            {
                return Ok(Start::NoSmb2("connection reset on SMB2 NEGOTIATE".into()));
            }
            Err(e) => return Err(e),
        };
        if raw.starts_with(b"\xffSMB") {
            return Ok(Start::NoSmb2("SMB1 reply to SMB2 NEGOTIATE".into()));
        }
        let reply = Reply::parse(raw, false)?;
        if reply.message_id != 0 {
            return Err(Error::protocol("reply to another message"));
        }
        let neg = parse_negotiate(&reply)?;
        let mut preauth = [0u8; 64];
        if neg.dialect == 0x0311 {
            preauth_update(&mut preauth, &req);
            preauth_update(&mut preauth, &reply.raw);
        }
        Ok(Start::Smb2(Box::new(Self {
            t,
            neg,
            next_id: 1,
            session_id: 0,
            preauth,
            signer: None,
            sealer: None,
            signing: false,
            encrypt_session: false,
            session_flags: 0,
        })))
    }

    fn charge(&self) -> u16 {
        u16::from(self.neg.dialect != 0x0202)
    }

    /// Builds the next request (header + body) and takes its message ID.
    fn build(&mut self, command: u16, tree_id: u32, body: &[u8]) -> (u64, Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = header(command, id, self.session_id, tree_id, self.charge());
        msg.extend_from_slice(body);
        (id, msg)
    }

    /// Builds and sends one request and returns its (final) reply.
    fn call(&mut self, command: u16, tree_id: u32, body: &[u8], encrypt: bool) -> Result<Reply> {
        let (id, msg) = self.build(command, tree_id, body);
        self.exchange(id, msg, encrypt)
    }

    /// Sends a built request (sealed, signed or plain) and returns its final reply.
    fn exchange(&mut self, id: u64, mut msg: Vec<u8>, encrypt: bool) -> Result<Reply> {
        let sealer = if encrypt { self.sealer.as_ref() } else { None };
        if let Some(s) = sealer {
            let frame = s.seal(&msg, self.session_id)?;
            self.t.send(&frame)?;
        } else {
            let command = u16::from_le_bytes([msg[12], msg[13]]);
            if self.signing
                && command != cmd::SESSION_SETUP
                && let Some(s) = &self.signer
            {
                let flags = u32::from_le_bytes([msg[16], msg[17], msg[18], msg[19]]) | FLAG_SIGNED;
                msg[16..20].copy_from_slice(&flags.to_le_bytes());
                s.sign(&mut msg);
            }
            self.t.send(&msg)?;
        }
        loop {
            let frame = self.t.recv()?;
            let (raw, encrypted) = if frame.starts_with(&TRANSFORM_ID) {
                let s = self
                    .sealer
                    .as_ref()
                    .ok_or_else(|| Error::protocol("encrypted reply without session keys"))?;
                (s.open(&frame)?, true)
            } else {
                (frame, false)
            };
            let r = Reply::parse(raw, encrypted)?;
            if r.message_id == u64::MAX {
                // An unsolicited notification (oplock/lease break, server-to-client
                // notification): not an answer to us.
                continue;
            }
            if r.message_id != id {
                return Err(Error::protocol(format!(
                    "reply to message {} instead of {id}",
                    r.message_id
                )));
            }
            if r.flags & FLAG_ASYNC != 0 && r.status == status::PENDING {
                continue;
            }
            if r.flags & FLAG_SIGNED != 0
                && !r.encrypted
                && let Some(s) = &self.signer
                && !s.verify(&r.raw)
            {
                return Err(Error::Status(STATUS_INVALID_SIGNATURE));
            }
            return Ok(r);
        }
    }

    /// SESSION_SETUP with NTLMSSP for `id`.
    pub fn session_setup(&mut self, id: &Identity) -> Result<()> {
        let body = |blob: &[u8]| -> Result<Vec<u8>> {
            let mut b = Vec::with_capacity(24 + blob.len());
            b.u16(25);
            b.push(0); // Flags
            b.push(u8::try_from(SIGNING_ENABLED).expect("1"));
            b.u32(0); // Capabilities
            b.u32(0); // Channel
            b.u16(len16(HEADER_LEN + 24)?);
            b.u16(len16(blob.len())?);
            b.u64(0);
            b.extend_from_slice(blob);
            Ok(b)
        };
        let mut hash = self.preauth;
        let (id1, req1) = self.build(cmd::SESSION_SETUP, 0, &body(&ntlmssp::negotiate())?);
        let r1 = self.exchange(id1, req1.clone(), false)?;
        let (_, blob) = parse_session_setup(&r1)?;
        if r1.status != status::MORE_PROCESSING_REQUIRED {
            return Err(Error::protocol("no NTLMSSP challenge"));
        }
        self.session_id = r1.session_id;
        preauth_update(&mut hash, &req1);
        preauth_update(&mut hash, &r1.raw);
        let challenge = ntlmssp::parse_challenge(&blob)?;
        let auth = ntlmssp::authenticate(id, &challenge, &ntlmssp::Entropy::fresh()?)?;
        // The last request goes into the 3.1.1 hash; the keys come from that hash.
        let (id2, req2) = self.build(cmd::SESSION_SETUP, 0, &body(&auth.message)?);
        preauth_update(&mut hash, &req2);
        // Keys must exist before the final reply arrives: 3.1.1 signs it.
        if let Some(k) = auth.session_key {
            self.derive_keys(&k, &hash);
        }
        let r2 = self.exchange(id2, req2, false)?;
        let (flags, _) = parse_session_setup(&r2)?;
        if r2.status != status::SUCCESS {
            return Err(Error::protocol("session setup did not complete"));
        }
        self.session_flags = flags;
        if flags & (SESSION_GUEST | SESSION_NULL) != 0 {
            // Guest and null sessions have no usable key: nothing is signed or sealed.
            self.signer = None;
            self.sealer = None;
        } else if self.neg.dialect == 0x0311 && self.signer.is_some() && r2.flags & FLAG_SIGNED == 0
        {
            return Err(Error::protocol(
                "final 3.1.1 session setup reply is not signed",
            ));
        }
        // Sign whenever the session has a key: servers require it for 3.1.1 user sessions
        // (Samba rejects the tree connect otherwise) and it proves the key on every dialect.
        self.signing = self.signer.is_some();
        if flags & SESSION_ENCRYPT != 0 {
            if self.sealer.is_none() {
                return Err(Error::Unsupported(
                    "server requires encryption without a cipher".into(),
                ));
            }
            self.encrypt_session = true;
        }
        Ok(())
    }

    fn derive_keys(&mut self, key: &[u8; 16], hash: &[u8; 64]) {
        match self.neg.dialect {
            0x0202 | 0x0210 => self.signer = Some(Signer::HmacSha256(*key)),
            0x0300 | 0x0302 => {
                self.signer = Some(Signer::AesCmac(kdf(key, b"SMB2AESCMAC\0", b"SmbSign\0")));
                self.sealer = self.neg.cipher.map(|c| {
                    Sealer::new(
                        c,
                        kdf(key, b"SMB2AESCCM\0", b"ServerIn \0"),
                        kdf(key, b"SMB2AESCCM\0", b"ServerOut\0"),
                    )
                });
            }
            _ => {
                self.signer = Some(Signer::AesCmac(kdf(key, b"SMBSigningKey\0", hash)));
                self.sealer = self.neg.cipher.map(|c| {
                    Sealer::new(
                        c,
                        kdf(key, b"SMBC2SCipherKey\0", hash),
                        kdf(key, b"SMBS2CCipherKey\0", hash),
                    )
                });
            }
        }
    }

    /// TREE_CONNECT to `unc` (`\\host\share`).
    pub fn tree_connect(&mut self, unc: &str) -> Result<Tree> {
        let path = utf16le(unc);
        let mut b = Vec::with_capacity(8 + path.len());
        b.u16(9);
        b.u16(0);
        b.u16(len16(HEADER_LEN + 8)?);
        b.u16(len16(path.len())?);
        b.extend_from_slice(&path);
        let r = self.call(cmd::TREE_CONNECT, 0, &b, self.encrypt_session)?;
        parse_tree_connect(&r)
    }

    /// TREE_DISCONNECT.
    pub fn tree_disconnect(&mut self, tree: &Tree) -> Result<()> {
        let encrypt = self.encrypt_session
            || (tree.share_flags & SHARE_ENCRYPT != 0 && self.sealer.is_some());
        let r = self.call(cmd::TREE_DISCONNECT, tree.id, &[4, 0, 0, 0], encrypt)?;
        parse_simple(&r, cmd::TREE_DISCONNECT)
    }

    /// LOGOFF.
    pub fn logoff(&mut self) -> Result<()> {
        let r = self.call(cmd::LOGOFF, 0, &[4, 0, 0, 0], self.encrypt_session)?;
        parse_simple(&r, cmd::LOGOFF)
    }

    /// The cipher in use for a tree, if any.
    pub fn cipher_for(&self, tree: &Tree) -> Option<&'static str> {
        let sealed = self.encrypt_session || tree.share_flags & SHARE_ENCRYPT != 0;
        self.sealer
            .as_ref()
            .filter(|_| sealed)
            .map(|s| crypto::cipher_name(s.cipher))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(b.u16(enc + 10).unwrap(), CIPHER_AES128_GCM);
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
