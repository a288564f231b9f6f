//! NTLMSSP (MS-NLMP) for the client side of SMB session setup: the NEGOTIATE message, the
//! CHALLENGE parser, and the AUTHENTICATE message — anonymous, or NTLMv2 from a key derived once
//! from the password (the password itself is never kept).
//!
//! No key exchange is negotiated: the session key is the NTLMv2 session base key, which is all
//! SMB signing and encryption need. The tokens go raw in the security buffer; Samba and Windows
//! both accept raw NTLMSSP there in place of SPNEGO.

use super::crypto::{hmac_md5, md4};
use super::error::{Error, Result};
use super::wire::{Bytes, Put, len16, len32, upper_utf16, utf16le};

/// `NTLMSSP\0`.
pub(crate) const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// NEGOTIATE_UNICODE.
pub(crate) const NEG_UNICODE: u32 = 0x0000_0001;
/// REQUEST_TARGET.
pub(crate) const NEG_REQUEST_TARGET: u32 = 0x0000_0004;
/// NEGOTIATE_SIGN.
pub(crate) const NEG_SIGN: u32 = 0x0000_0010;
/// NEGOTIATE_NTLM.
pub(crate) const NEG_NTLM: u32 = 0x0000_0200;
/// NEGOTIATE_ANONYMOUS.
pub(crate) const NEG_ANONYMOUS: u32 = 0x0000_0800;
/// NEGOTIATE_ALWAYS_SIGN.
pub(crate) const NEG_ALWAYS_SIGN: u32 = 0x0000_8000;
/// NEGOTIATE_EXTENDED_SESSIONSECURITY.
pub(crate) const NEG_ESS: u32 = 0x0008_0000;
/// NEGOTIATE_TARGET_INFO.
pub(crate) const NEG_TARGET_INFO: u32 = 0x0080_0000;
/// NEGOTIATE_128.
pub(crate) const NEG_128: u32 = 0x2000_0000;
/// NEGOTIATE_56.
pub(crate) const NEG_56: u32 = 0x8000_0000;

/// Flags this client asks for.
pub(crate) const CLIENT_FLAGS: u32 = NEG_UNICODE
    | NEG_REQUEST_TARGET
    | NEG_SIGN
    | NEG_NTLM
    | NEG_ALWAYS_SIGN
    | NEG_ESS
    | NEG_TARGET_INFO
    | NEG_128
    | NEG_56;

/// Workstation name sent in AUTHENTICATE.
pub(crate) const WORKSTATION: &str = "CLP-FSMON";

/// Who logs on.
#[derive(Clone)]
pub enum Identity {
    /// Anonymous (null session); servers with guest shares let it in.
    Anonymous,
    /// A user with NTLMv2.
    User {
        /// User name.
        user: String,
        /// Domain (may be empty).
        domain: String,
        /// NTOWFv2(password, user, domain).
        key: [u8; 16],
    },
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => f.write_str("Anonymous"),
            Self::User { user, domain, .. } => {
                write!(
                    f,
                    "User {{ user: {user:?}, domain: {domain:?}, key: <redacted> }}"
                )
            }
        }
    }
}

impl Identity {
    /// An NTLMv2 identity; only the derived key is kept.
    pub fn user(user: &str, domain: &str, password: &str) -> Self {
        Self::User {
            user: user.to_owned(),
            domain: domain.to_owned(),
            key: ntowf_v2(password, user, domain),
        }
    }

    /// True for the anonymous identity.
    pub(crate) fn is_anonymous(&self) -> bool {
        matches!(self, Self::Anonymous)
    }
}

/// NTOWFv2 (MS-NLMP 3.3.2): `HMAC_MD5(MD4(UNICODE(password)), UNICODE(Upper(user) + domain))`,
/// with `Upper` as Windows and Samba do it ([`upper_utf16`]): a server that upper-cases
/// otherwise derives another key.
pub(crate) fn ntowf_v2(password: &str, user: &str, domain: &str) -> [u8; 16] {
    let nt = md4(&utf16le(password));
    let mut ud: Vec<u8> = upper_utf16(user)
        .into_iter()
        .flat_map(u16::to_le_bytes)
        .collect();
    ud.extend_from_slice(&utf16le(domain));
    hmac_md5(&nt, &[&ud])
}

/// The NEGOTIATE message (no domain or workstation supplied).
pub(crate) fn negotiate() -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.extend_from_slice(SIGNATURE);
    m.u32(1);
    m.u32(CLIENT_FLAGS);
    m.extend_from_slice(&[0u8; 16]);
    m
}

/// What the server's CHALLENGE says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Negotiated flags.
    pub flags: u32,
    /// The server challenge.
    pub server_challenge: [u8; 8],
    /// TargetInfo AV pairs, raw.
    pub target_info: Vec<u8>,
    /// MsvAvTimestamp when present.
    pub timestamp: Option<u64>,
}

/// Parses a CHALLENGE message.
pub fn parse_challenge(msg: &[u8]) -> Result<Challenge> {
    let b = Bytes(msg);
    if b.slice(0, 8)? != SIGNATURE || b.u32(8)? != 2 {
        return Err(Error::protocol("not an NTLMSSP CHALLENGE"));
    }
    let flags = b.u32(20)?;
    let server_challenge = b.array(24)?;
    let mut target_info = Vec::new();
    let mut timestamp = None;
    if flags & NEG_TARGET_INFO != 0 {
        let len = usize::from(b.u16(40)?);
        let off = usize::try_from(b.u32(44)?).unwrap_or(usize::MAX);
        target_info = b.slice(off, len)?.to_vec();
        let t = Bytes(&target_info);
        let mut pos = 0;
        loop {
            let id = t.u16(pos)?;
            let l = usize::from(t.u16(pos + 2)?);
            let v = t.slice(pos + 4, l)?;
            match id {
                0 => break,
                7 if l == 8 => timestamp = Some(Bytes(v).u64(0)?),
                _ => {}
            }
            pos += 4 + l;
        }
    }
    Ok(Challenge {
        flags,
        server_challenge,
        target_info,
        timestamp,
    })
}

/// What AUTHENTICATE produced besides the message.
#[derive(Clone)]
pub struct Authenticated {
    /// The message.
    pub message: Vec<u8>,
    /// The session key (empty for anonymous).
    pub session_key: Option<[u8; 16]>,
}

/// Per-exchange randomness: the client challenge and the time (taken from the server when it
/// sends MsvAvTimestamp).
#[derive(Clone, Copy, Debug)]
pub struct Entropy {
    /// Client challenge.
    pub client_challenge: [u8; 8],
    /// FILETIME now.
    pub time: u64,
}

impl Entropy {
    /// Fresh randomness and the current time.
    pub(crate) fn fresh() -> Result<Self> {
        let mut client_challenge = [0u8; 8];
        getrandom::fill(&mut client_challenge)
            .map_err(|e| Error::Unsupported(format!("no random numbers: {e}")))?;
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let time =
            (unix.as_secs() + 11_644_473_600) * 10_000_000 + u64::from(unix.subsec_nanos() / 100);
        Ok(Self {
            client_challenge,
            time,
        })
    }
}

/// NTLMv2 responses (MS-NLMP 3.3.2): (LM response, NT response, session base key).
pub(crate) fn ntlmv2_responses(
    key: &[u8; 16],
    ch: &Challenge,
    e: &Entropy,
) -> (Vec<u8>, Vec<u8>, [u8; 16]) {
    let time = ch.timestamp.unwrap_or(e.time);
    let mut temp = vec![1u8, 1, 0, 0, 0, 0, 0, 0];
    temp.u64(time);
    temp.extend_from_slice(&e.client_challenge);
    temp.u32(0);
    temp.extend_from_slice(&ch.target_info);
    temp.u32(0);
    let proof = hmac_md5(key, &[&ch.server_challenge, &temp]);
    let mut nt = proof.to_vec();
    nt.extend_from_slice(&temp);
    let lm = if ch.timestamp.is_some() {
        vec![0u8; 24]
    } else {
        let mut lm = hmac_md5(key, &[&ch.server_challenge, &e.client_challenge]).to_vec();
        lm.extend_from_slice(&e.client_challenge);
        lm
    };
    let base = hmac_md5(key, &[&proof]);
    (lm, nt, base)
}

/// Builds the AUTHENTICATE message for `id` in answer to `ch`.
pub fn authenticate(id: &Identity, ch: &Challenge, e: &Entropy) -> Result<Authenticated> {
    let (lm, nt, user, domain, session_key, extra) = match id {
        Identity::Anonymous => (
            vec![0u8],
            Vec::new(),
            String::new(),
            String::new(),
            None,
            NEG_ANONYMOUS,
        ),
        Identity::User { user, domain, key } => {
            let (lm, nt, base) = ntlmv2_responses(key, ch, e);
            (lm, nt, user.clone(), domain.clone(), Some(base), 0)
        }
    };
    let flags = (CLIENT_FLAGS & ch.flags) | NEG_UNICODE | NEG_NTLM | extra;
    let fields: [Vec<u8>; 6] = [
        lm,
        nt,
        utf16le(&domain),
        utf16le(&user),
        utf16le(WORKSTATION),
        Vec::new(),
    ];
    let mut m = Vec::with_capacity(256);
    m.extend_from_slice(SIGNATURE);
    m.u32(3);
    let mut off = 64usize;
    for f in &fields {
        m.u16(len16(f.len())?);
        m.u16(len16(f.len())?);
        m.u32(len32(off)?);
        off += f.len();
    }
    m.u32(flags);
    for f in &fields {
        m.extend_from_slice(f);
    }
    Ok(Authenticated {
        message: m,
        session_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MS-NLMP 4.2.1 / 4.2.4 inputs.
    fn vector_challenge() -> Challenge {
        let mut ti = vec![0x02, 0x00, 0x0c, 0x00];
        ti.extend_from_slice(&utf16le("Domain"));
        ti.extend_from_slice(&[0x01, 0x00, 0x0c, 0x00]);
        ti.extend_from_slice(&utf16le("Server"));
        ti.extend_from_slice(&[0, 0, 0, 0]);
        Challenge {
            flags: 0xe28a_8233,
            server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            target_info: ti,
            timestamp: None,
        }
    }

    fn h(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn ntlmv2_matches_ms_nlmp_4_2_4() {
        let key = ntowf_v2("Password", "User", "Domain");
        assert_eq!(key.to_vec(), h("0c868a403bfd7a93a3001ef22ef02e3f"));
        let e = Entropy {
            client_challenge: [0xaa; 8],
            time: 0,
        };
        let (lm, nt, base) = ntlmv2_responses(&key, &vector_challenge(), &e);
        assert_eq!(lm, h("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"));
        assert_eq!(nt[..16].to_vec(), h("68cd0ab851e51c96aabc927bebef6a1c"));
        assert_eq!(base.to_vec(), h("8de40ccadbc14a82f15cb0ad0de95ca3"));
    }

    #[test]
    fn ntowf_v2_of_non_ascii_users_matches_an_independent_implementation() {
        // HMAC-MD5(NT hash, UTF-16LE(upper(user) + domain)) computed with impacket 0.13.1's
        // compute_nthash and Python's hmac, the user upper-cased by hand as Windows does.
        for (password, user, domain, want) in [
            (
                "Stra-pass1",
                "straße",
                "",
                "8eceb432f5b25953df2edc3da9c523ca",
            ),
            (
                "Password",
                "müller",
                "Domain",
                "cbc95be910ea73503c382fc0646955a2",
            ),
            (
                "Password",
                "\u{10428}a\u{1c6}",
                "Domain",
                "e7e245af37fa9aa439b6cd8c6f3a40ed",
            ),
        ] {
            assert_eq!(ntowf_v2(password, user, domain).to_vec(), h(want), "{user}");
        }
        // what the full Unicode mapping (STRASSE) would give instead
        assert_ne!(
            ntowf_v2("Stra-pass1", "straße", "").to_vec(),
            h("e6679d6a65e4cf2d6c8bc87fc4350fd9")
        );
        assert_eq!(
            ntowf_v2("Stra-pass1", "STRASSE", "").to_vec(),
            h("e6679d6a65e4cf2d6c8bc87fc4350fd9")
        );
    }

    #[test]
    fn challenge_from_ms_nlmp_4_2_4_3_parses() {
        // The CHALLENGE_MESSAGE of MS-NLMP 4.2.4.3.
        let msg = h(concat!(
            "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef",
            "00000000000000002400240044000000060070170000000f5300650072007600",
            "6500720002000c0044006f006d00610069006e0001000c005300650072007600",
            "6500720000000000"
        ));
        let c = parse_challenge(&msg).unwrap();
        assert_eq!(c.flags, 0xe28a_8233);
        assert_eq!(
            c.server_challenge,
            [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
        assert_eq!(c.target_info, vector_challenge().target_info);
        assert_eq!(c.timestamp, None);
    }

    #[test]
    fn authenticate_lays_out_fields() {
        let id = Identity::user("User", "Domain", "Password");
        let e = Entropy {
            client_challenge: [0xaa; 8],
            time: 0,
        };
        let a = authenticate(&id, &vector_challenge(), &e).unwrap();
        let b = Bytes(&a.message);
        let field = |i: usize| {
            let len = usize::from(b.u16(12 + 8 * i).unwrap());
            let off = b.u32(16 + 8 * i).unwrap() as usize;
            b.slice(off, len).unwrap().to_vec()
        };
        assert_eq!(
            field(0),
            h("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        assert_eq!(
            field(1)[..16].to_vec(),
            h("68cd0ab851e51c96aabc927bebef6a1c")
        );
        assert_eq!(field(2), utf16le("Domain"));
        assert_eq!(field(3), utf16le("User"));
        assert_eq!(
            a.session_key.unwrap().to_vec(),
            h("8de40ccadbc14a82f15cb0ad0de95ca3")
        );
        let anon = authenticate(&Identity::Anonymous, &vector_challenge(), &e).unwrap();
        assert!(anon.session_key.is_none());
        assert_ne!(Bytes(&anon.message).u32(60).unwrap() & NEG_ANONYMOUS, 0);
    }

    #[test]
    fn debug_never_shows_the_key() {
        let id = Identity::user("u", "d", "secret");
        assert!(!format!("{id:?}").contains("secret"));
    }

    proptest! {
        #[test]
        fn challenge_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_challenge(&bytes);
        }

        #[test]
        fn challenge_parser_survives_valid_prefix(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut m = b"NTLMSSP\0\x02\0\0\0".to_vec();
            m.extend_from_slice(&tail);
            let _ = parse_challenge(&m);
        }
    }
}
