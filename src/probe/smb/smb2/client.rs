//! The SMB2/3 client of the probe (MS-SMB2 3.2): one connection with at most one session and
//! one tree — NEGOTIATE, SESSION_SETUP with NTLMSSP, TREE_CONNECT, TREE_DISCONNECT and LOGOFF —
//! signing requests whenever the session has a key, verifying signed replies, and sealing in the
//! SMB3 transform header where the session or the share requires encryption. A failed
//! SESSION_SETUP is answered by its status alone: it carries no key the client shares with the
//! server, so its signature is not checked and the keys derived for it are dropped.
//!
//! The messages are [`super::codec`]'s; the connection is [`super::super::transport`]'s.

use super::super::crypto::{self, Sealer, Signer, TRANSFORM_ID, kdf, preauth_update};
use super::super::error::{Error, Result};
use super::super::kerberos::{self, Exchange};
use super::super::ntlmssp::{self, Identity};
use super::super::session::Dialect;
use super::super::status;
use super::super::transport::Transport;
use super::super::wire::{Put, len16, utf16le};
use super::codec::{
    FLAG_ASYNC, FLAG_SIGNED, HEADER_LEN, Negotiated, Reply, SESSION_ENCRYPT, SESSION_GUEST,
    SESSION_NULL, SHARE_ENCRYPT, SIGNING_ENABLED, Tree, cmd, dialect_name, header,
    negotiate_request, parse_negotiate, parse_session_setup, parse_simple, parse_tree_connect,
    share_type_name,
};
use super::ops;
use crate::probe::net;

/// The outcome of trying SMB2 NEGOTIATE.
pub(crate) enum Start {
    /// The server speaks SMB2/3.
    Smb2(Box<Client>),
    /// The server dropped the connection or answered in SMB1: it speaks no SMB2.
    NoSmb2(String),
    /// The server answered with an SMB2 error (this status): an SMB2 server that refuses, or an
    /// SMB1 server that frames its refusal in SMB2 (impacket without SMB2 support says
    /// NOT_SUPPORTED).
    Refused(u32),
}

/// An SMB2/3 connection with at most one session and one tree.
pub(crate) struct Client {
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

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut a = [0u8; N];
    getrandom::fill(&mut a).map_err(|e| Error::Unsupported(format!("no random numbers: {e}")))?;
    Ok(a)
}

/// A SESSION_SETUP reply that neither completes the session nor asks for another leg: the
/// logon failed, so the key the client derived is one the server does not share (a wrong
/// password gives another key), and its status — not a signature made with whatever key the
/// server took — is the answer (impacket signs such replies).
fn failed_session_setup(r: &Reply) -> bool {
    r.command == cmd::SESSION_SETUP
        && r.status != status::SUCCESS
        && r.status != status::MORE_PROCESSING_REQUIRED
}

/// A SESSION_SETUP request's body carrying the security token `blob`.
fn session_setup_body(blob: &[u8]) -> Result<Vec<u8>> {
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
}

impl Client {
    /// Sends NEGOTIATE on a fresh connection.
    pub(crate) fn negotiate(mut t: Transport) -> Result<Start> {
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
        if reply.command == cmd::NEGOTIATE && reply.status != status::SUCCESS {
            return Ok(Start::Refused(reply.status));
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
    pub(super) fn call(
        &mut self,
        command: u16,
        tree_id: u32,
        body: &[u8],
        encrypt: bool,
    ) -> Result<Reply> {
        let (id, msg) = self.build(command, tree_id, body);
        self.exchange(id, msg, encrypt)
    }

    /// The next frame from the server, opened when it came sealed: the message(s) and whether
    /// they were encrypted.
    fn recv_frame(&mut self) -> Result<(Vec<u8>, bool)> {
        let frame = self.t.recv()?;
        if frame.starts_with(&TRANSFORM_ID) {
            let s = self
                .sealer
                .as_ref()
                .ok_or_else(|| Error::protocol("encrypted reply without session keys"))?;
            Ok((s.open(&frame)?, true))
        } else {
            Ok((frame, false))
        }
    }

    /// A signed plaintext reply must verify; a failed SESSION_SETUP is answered by its status,
    /// as it carries no key the client shares with the server.
    fn check_signature(&self, r: &Reply) -> Result<()> {
        if r.flags & FLAG_SIGNED != 0
            && !r.encrypted
            && !failed_session_setup(r)
            && let Some(s) = &self.signer
            && !s.verify(&r.raw)
        {
            return Err(Error::Status(status::INVALID_SIGNATURE));
        }
        Ok(())
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
            let (raw, encrypted) = self.recv_frame()?;
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
            self.check_signature(&r)?;
            return Ok(r);
        }
    }

    /// The session's signing and sealing keys from its session key (MS-SMB2 3.2.5.3.1): `key`
    /// is Session.SessionKey (16 bytes), `full` Session.FullSessionKey. The AES-256 ciphers
    /// take the full key (from NTLMSSP without key exchange these same 16 bytes; from Kerberos
    /// the whole GSS key, 32 bytes with AES-256 tickets) and make 32-byte keys (L = 256);
    /// everything else 16 bytes (L = 128) from the 16-byte key.
    fn derive_keys(&mut self, key: &[u8; 16], full: &[u8], hash: &[u8; 64]) -> Result<()> {
        let cipher_keys = |c: u16, label: &[u8], context: &[u8]| -> Vec<u8> {
            if crypto::key_len(c) == 32 {
                kdf::<32>(full, label, context).to_vec()
            } else {
                kdf::<16>(key, label, context).to_vec()
            }
        };
        let (signer, sealer) = match self.neg.dialect {
            0x0202 | 0x0210 => (Signer::HmacSha256(*key), None),
            0x0300 | 0x0302 => (
                Signer::AesCmac(kdf(key, b"SMB2AESCMAC\0", b"SmbSign\0")),
                self.neg
                    .cipher
                    .map(|c| {
                        Sealer::new(
                            c,
                            &cipher_keys(c, b"SMB2AESCCM\0", b"ServerIn \0"),
                            &cipher_keys(c, b"SMB2AESCCM\0", b"ServerOut\0"),
                        )
                    })
                    .transpose()?,
            ),
            _ => (
                {
                    let k = kdf(key, b"SMBSigningKey\0", hash);
                    match self.neg.signing {
                        Some(crypto::SIGNING_AES_GMAC) => Signer::AesGmac(k),
                        Some(crypto::SIGNING_HMAC_SHA256) => Signer::HmacSha256(k),
                        _ => Signer::AesCmac(k),
                    }
                },
                self.neg
                    .cipher
                    .map(|c| {
                        Sealer::new(
                            c,
                            &cipher_keys(c, b"SMBC2SCipherKey\0", hash),
                            &cipher_keys(c, b"SMBS2CCipherKey\0", hash),
                        )
                    })
                    .transpose()?,
            ),
        };
        self.signer = Some(signer);
        self.sealer = sealer;
        Ok(())
    }

    /// Builds `requests` (command and body each) as one related compound on `tree_id`, sends
    /// it in one frame (one transform header when `encrypt`, else each request signed on its
    /// own when the session signs) and returns the final reply of each, in order, however the
    /// server frames them: chained in one frame, one by one, or after interim (async) replies.
    pub(super) fn call_chain(
        &mut self,
        tree_id: u32,
        requests: &[(u16, Vec<u8>)],
        encrypt: bool,
    ) -> Result<Vec<Reply>> {
        let mut ids = Vec::with_capacity(requests.len());
        let mut msgs = Vec::with_capacity(requests.len());
        for (command, body) in requests {
            let (id, msg) = self.build(*command, tree_id, body);
            ids.push(id);
            msgs.push(msg);
        }
        let mut parts = ops::chain(msgs)?;
        let sealer = if encrypt { self.sealer.as_ref() } else { None };
        if let Some(s) = sealer {
            let frame = s.seal(&parts.concat(), self.session_id)?;
            self.t.send(&frame)?;
        } else {
            if self.signing
                && let Some(s) = &self.signer
            {
                for m in &mut parts {
                    let flags = u32::from_le_bytes([m[16], m[17], m[18], m[19]]) | FLAG_SIGNED;
                    m[16..20].copy_from_slice(&flags.to_le_bytes());
                    s.sign(m);
                }
            }
            self.t.send(&parts.concat())?;
        }
        let mut replies: Vec<Option<Reply>> = ids.iter().map(|_| None).collect();
        while replies.iter().any(Option::is_none) {
            let (raw, encrypted) = self.recv_frame()?;
            for piece in ops::split_chain(&raw)? {
                let r = Reply::parse_linked(piece, encrypted)?;
                if r.message_id == u64::MAX {
                    continue; // an unsolicited notification
                }
                let Some(i) = ids.iter().position(|&id| id == r.message_id) else {
                    return Err(Error::protocol(format!(
                        "reply to message {} in a compound of {:?}",
                        r.message_id, ids
                    )));
                };
                if r.flags & FLAG_ASYNC != 0 && r.status == status::PENDING {
                    continue;
                }
                self.check_signature(&r)?;
                replies[i] = Some(r);
            }
        }
        Ok(replies.into_iter().flatten().collect())
    }

    /// Whether messages on `tree` are sealed: the session or the share requires it.
    pub(super) fn encrypt_tree(&self, tree: &Tree) -> bool {
        self.encrypt_session || (tree.share_flags & SHARE_ENCRYPT != 0 && self.sealer.is_some())
    }

    /// The cipher in use for a tree, if any.
    pub(crate) fn cipher_for(&self, tree: &Tree) -> Option<&'static str> {
        let sealed = self.encrypt_session || tree.share_flags & SHARE_ENCRYPT != 0;
        self.sealer
            .as_ref()
            .filter(|_| sealed)
            .map(|s| crypto::cipher_name(s.cipher))
    }
}

impl Dialect for Client {
    type Tree = Tree;

    fn dialect(&self) -> String {
        format!("SMB {}", dialect_name(self.neg.dialect))
    }

    /// SESSION_SETUP with NTLMSSP for `id`.
    fn session_setup(&mut self, id: &Identity) -> Result<()> {
        let body = session_setup_body;
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
            self.derive_keys(&k, &k, &hash)?;
        }
        let r2 = self.exchange(id2, req2, false)?;
        if failed_session_setup(&r2) {
            // No session, so no key: nothing more is signed or sealed with it.
            self.signer = None;
            self.sealer = None;
        }
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
        // ENCRYPT_DATA asks for a sealed session; MS-SMB2 defines it for 3.x only. A session
        // without a key (guest, anonymous) or without a common cipher goes on in plaintext, as
        // smbclient's does: a server that requires encryption refuses such a session itself
        // (ACCESS_DENIED), and one that only desires it takes the plaintext.
        self.encrypt_session =
            flags & SESSION_ENCRYPT != 0 && self.neg.dialect >= 0x0300 && self.sealer.is_some();
        Ok(())
    }

    /// SESSION_SETUP with the SPNEGO tokens of `gss` (MS-SMB2 3.2.5.3.1): each leg's request
    /// and every interim reply go into the 3.1.1 hash; the final reply (SUCCESS) completes the
    /// GSS context with its token (the AP-REP), and only then is the session key known, so the
    /// keys are derived and that reply's signature checked after it arrived, not before.
    fn session_setup_gss(&mut self, gss: &mut Exchange, first: Vec<u8>) -> Result<()> {
        let mut hash = self.preauth;
        let mut token = first;
        let r = loop {
            let (id, req) = self.build(cmd::SESSION_SETUP, 0, &session_setup_body(&token)?);
            preauth_update(&mut hash, &req);
            let r = self.exchange(id, req, false)?;
            let (_, blob) = parse_session_setup(&r)?;
            self.session_id = r.session_id;
            if r.status == status::SUCCESS {
                // The server's last token (the AP-REP, mechListMIC) completes the context.
                let more = gss.step(&blob)?;
                if !more.is_empty() || !gss.complete() {
                    return Err(Error::protocol(
                        "the server completed the session before the Kerberos context",
                    ));
                }
                break r;
            }
            preauth_update(&mut hash, &r.raw);
            token = gss.step(&blob)?;
            if token.is_empty() {
                return Err(Error::protocol(
                    "the server asks for more than the Kerberos context has to send",
                ));
            }
        };
        let full = gss.session_key()?;
        self.derive_keys(&kerberos::smb_session_key(&full), &full, &hash)?;
        let (flags, _) = parse_session_setup(&r)?;
        self.session_flags = flags;
        if self.neg.dialect == 0x0311 && r.flags & FLAG_SIGNED == 0 {
            return Err(Error::protocol(
                "final 3.1.1 session setup reply is not signed",
            ));
        }
        if r.flags & FLAG_SIGNED != 0
            && let Some(s) = &self.signer
            && !s.verify(&r.raw)
        {
            return Err(Error::Status(status::INVALID_SIGNATURE));
        }
        self.signing = true;
        self.encrypt_session =
            flags & SESSION_ENCRYPT != 0 && self.neg.dialect >= 0x0300 && self.sealer.is_some();
        Ok(())
    }

    fn null_or_guest(&self) -> (bool, bool) {
        (
            self.session_flags & SESSION_NULL != 0,
            self.session_flags & SESSION_GUEST != 0,
        )
    }

    /// TREE_CONNECT to `unc` (`\\host\share`).
    fn tree_connect(&mut self, unc: &str) -> Result<Tree> {
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
    fn tree_disconnect(&mut self, tree: &Tree) -> Result<()> {
        let encrypt = self.encrypt_tree(tree);
        let r = self.call(cmd::TREE_DISCONNECT, tree.id, &[4, 0, 0, 0], encrypt)?;
        parse_simple(&r, cmd::TREE_DISCONNECT)
    }

    /// LOGOFF.
    fn logoff(&mut self) -> Result<()> {
        let r = self.call(cmd::LOGOFF, 0, &[4, 0, 0, 0], self.encrypt_session)?;
        parse_simple(&r, cmd::LOGOFF)
    }

    fn share_type(tree: &Tree) -> &'static str {
        share_type_name(tree.share_type)
    }

    fn protection(&self, tree: &Tree) -> String {
        match self.cipher_for(tree) {
            Some(cipher) => format!(", encrypted ({cipher})"),
            None if self.signing => ", signed".into(),
            None => String::new(),
        }
    }
}
