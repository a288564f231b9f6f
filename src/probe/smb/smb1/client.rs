//! The SMB1 client of the fallback, for servers that speak no SMB2: NEGOTIATE,
//! SESSION_SETUP_ANDX with extended security (the same NTLMSSP tokens as SMB2),
//! TREE_CONNECT_ANDX with service `?????` (the path upper-cased, as smbclient sends it),
//! TREE_DISCONNECT and LOGOFF_ANDX.
//!
//! When the server requires signing, a user session signs its requests and checks the server's
//! signatures (the final session setup exchange is numbers 0 and 1). Guest and anonymous
//! sessions have no key and are never signed. The messages are [`super::codec`]'s.

use super::super::error::{Error, Result};
use super::super::ntlmssp::{self, Identity};
use super::super::session::Dialect;
use super::super::status;
use super::super::transport::Transport;
use super::super::wire::{Put, len16, upper_utf16};
use super::codec::{
    CAP_EXTENDED_SECURITY, CAP_NT_SMBS, CAP_STATUS32, CAP_UNICODE, FLAGS2_SECURITY_SIGNATURE,
    HEADER_LEN, Negotiated, Reply, SECURITY_SIGNATURES_REQUIRED, SIG_OFF, Tree, cmd, header,
    negotiate_request, parse_negotiate, parse_session_setup, parse_tree_connect, share_type_name,
    signature, verify,
};

/// An SMB1 connection.
pub(crate) struct Client {
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

impl Client {
    /// NEGOTIATE on a fresh connection.
    pub(crate) fn negotiate(mut t: Transport) -> Result<Self> {
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

    /// Sends one request (signed once signing is on) and returns its parsed reply.
    pub(super) fn call(
        &mut self,
        command: u8,
        tid: u16,
        words: &[u8],
        bytes: &[u8],
    ) -> Result<Reply> {
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
}

impl Dialect for Client {
    type Tree = Tree;

    fn dialect(&self) -> String {
        "SMB1 NT LM 0.12".into()
    }

    /// SESSION_SETUP_ANDX with NTLMSSP.
    fn session_setup(&mut self, id: &Identity) -> Result<()> {
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

    fn null_or_guest(&self) -> (bool, bool) {
        (false, self.guest)
    }

    /// TREE_CONNECT_ANDX to `unc`, any service. The path goes upper-cased, as smbclient sends
    /// it: servers compare SMB1 share names that way (impacket finds no lower-case name).
    fn tree_connect(&mut self, unc: &str) -> Result<Tree> {
        let mut w = vec![0xff, 0, 0, 0];
        w.u16(0);
        w.u16(1);
        let mut b = vec![0u8];
        b.extend(upper_utf16(unc).into_iter().flat_map(u16::to_le_bytes));
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(b"?????\0");
        let r = self.call(cmd::TREE_CONNECT_ANDX, 0, &w, &b)?;
        parse_tree_connect(&r)
    }

    /// TREE_DISCONNECT.
    fn tree_disconnect(&mut self, tree: &Tree) -> Result<()> {
        let r = self.call(cmd::TREE_DISCONNECT, tree.tid, &[], &[])?;
        r.expect(cmd::TREE_DISCONNECT, &[status::SUCCESS])
    }

    /// LOGOFF_ANDX.
    fn logoff(&mut self) -> Result<()> {
        let r = self.call(cmd::LOGOFF_ANDX, 0, &[0xff, 0, 0, 0], &[])?;
        r.expect(cmd::LOGOFF_ANDX, &[status::SUCCESS])
    }

    fn share_type(tree: &Tree) -> &'static str {
        share_type_name(&tree.service)
    }

    fn protection(&self, _tree: &Tree) -> String {
        if self.signing {
            ", signed".into()
        } else {
            String::new()
        }
    }
}
