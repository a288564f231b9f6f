//! Signed licence files (`clplcnsc -i -p FSMON20 --file F`): a TOML body followed by one line
//! `ed25519-signature KEYID HEX`, an Ed25519 signature (crate `ed25519-dalek`) over a domain
//! string and the body's exact bytes.
//!
//! ```text
//! # clp-fsmon licence file: …
//! format = 1
//! product = "FSMON20"
//! kind = "product"            # or "trial"
//! serial = "AB123456"         # product licences; trials have user = "…"
//! licence_id = "3f0c…"        # unique per licence: the overlap check (56) compares it
//! issued = "2026-11-24"
//! from = "2026-12-01"         # trials: first and last valid day
//! until = "2026-12-31"
//! host = "node1"              # optional binding: only this host name …
//! machine_id = "0123…"        # … and/or this machine id may register and use it
//! ed25519-signature 1a2b3c4d5e6f7a8b 9f…(128 hex digits)
//! ```
//!
//! The signature is checked before the body is parsed, with the public keys this build trusts
//! ([`super::trust`]); the private key is the vendor's and never in the product (`clp-fsmon
//! keygen --signing-key FILE` reads it from a file). So a file cannot be forged or changed by
//! anyone who has only the binary: a changed byte, another signer, or a file bound to another
//! server is refused with the reason, and nothing is written. The whole file is kept in the
//! store and verified again on every monitor start.
//!
//! The body is TOML so a person can read it; signing its exact bytes (rather than a canonical
//! form of the parsed values) means no canonicalisation is needed and nothing outside the
//! signature can change its meaning.

use chrono::NaiveDate;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};

use super::key::{self, Kind, Serial};
use super::store::{Identity, hex, unhex};
use super::trust::{NO_VENDOR_KEY, Trust};

/// The first word of the signature line.
pub const SIG_LABEL: &str = "ed25519-signature";
/// Signed before the body: a signature over a licence file means nothing elsewhere.
const DOMAIN: &[u8] = b"clp-fsmon/licence-file/v1\0";
/// The body format this build reads.
pub const FORMAT: u32 = 1;
/// Longest licence ID.
pub const MAX_ID: usize = 64;

/// The signed content of a licence file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// Body format ([`FORMAT`]).
    pub format: u32,
    /// Product ID.
    pub product: String,
    /// Product or trial.
    pub kind: Kind,
    /// Serial number (product licences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// User name (trial licences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Unique ID of this licence: the overlap check (56) compares it across servers.
    pub licence_id: String,
    /// Day of issue.
    pub issued: NaiveDate,
    /// First valid day (trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<NaiveDate>,
    /// Last valid day (trials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// Binding: the host name of the only server that may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Binding: the machine id of the only server that may use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
}

/// A licence file whose signature verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Its content.
    pub licence: Licence,
    /// The ID of the key that signed it.
    pub signer: String,
    /// True when that key is the published development key.
    pub dev_signer: bool,
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Licence {
    /// The serial number or trial user name.
    pub fn holder(&self) -> &str {
        self.serial
            .as_deref()
            .or(self.user.as_deref())
            .unwrap_or("")
    }

    /// Checks what the signature cannot: the fields fit together.
    pub fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "licence file format {} (this build reads {FORMAT})",
                self.format
            ));
        }
        if !id_ok(&self.licence_id) {
            return Err(format!(
                "licence_id must be 1 to {MAX_ID} letters, digits, '-', '_' or '.'"
            ));
        }
        match (self.kind, &self.serial, &self.user) {
            (Kind::Product, Some(s), None) => {
                if Serial::parse(s).is_none() {
                    return Err(format!("invalid serial number {s:?} (XX000000)"));
                }
                if self.from.is_some() || self.until.is_some() {
                    return Err("a product licence has no from/until dates".into());
                }
            }
            (Kind::Trial, None, Some(u)) => {
                key::check_user(u).map_err(|e| e.to_string())?;
                match (self.from, self.until) {
                    (Some(a), Some(z)) if a <= z => {}
                    (Some(_), Some(_)) => return Err("the trial ends before it starts".into()),
                    _ => return Err("a trial licence needs from and until dates".into()),
                }
            }
            (Kind::Product, ..) => {
                return Err("a product licence needs `serial` (and no `user`)".into());
            }
            (Kind::Trial, ..) => {
                return Err("a trial licence needs `user` (and no `serial`)".into());
            }
        }
        for (what, v) in [("host", &self.host), ("machine_id", &self.machine_id)] {
            if let Some(v) = v
                && (v.is_empty() || v.len() > 255 || v.chars().any(|c| c.is_control() || c == ' '))
            {
                return Err(format!("{what} must be 1 to 255 bytes without spaces"));
            }
        }
        Ok(())
    }

    /// Refuses a licence bound to another server than `server`.
    pub fn check_binding(&self, server: &Identity) -> Result<(), String> {
        let host_ok = self.host.as_ref().is_none_or(|h| *h == server.host);
        let mid_ok = self
            .machine_id
            .as_ref()
            .is_none_or(|m| *m == server.machine_id);
        if host_ok && mid_ok {
            return Ok(());
        }
        let bound: Vec<String> = [
            self.host.as_ref().map(|h| format!("host {h}")),
            self.machine_id.as_ref().map(|m| format!("machine id {m}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        Err(format!(
            "the licence is bound to {}; this server is host {} with machine id {}",
            bound.join(" and "),
            server.host,
            server.machine_id
        ))
    }

    /// The body text that is signed: a comment line and the fields as TOML.
    pub fn body(&self) -> String {
        let fields = toml::to_string(self).expect("a licence serialises");
        format!(
            "# clp-fsmon licence file, signed with Ed25519: any change above the signature line \
             voids it.\n{fields}"
        )
    }
}

/// What is signed for `body`.
pub fn signing_input(body: &str) -> Vec<u8> {
    let mut m = DOMAIN.to_vec();
    m.extend_from_slice(body.as_bytes());
    m
}

/// A licence file from its body and signature.
pub fn assemble(body: &str, signer: &str, signature: &[u8; 64]) -> String {
    let mut body = body.to_owned();
    if !body.ends_with('\n') {
        body.push('\n');
    }
    format!("{body}{SIG_LABEL} {signer} {}\n", hex(signature))
}

/// Verifies a licence file's text with the keys this build trusts.
pub fn verify(text: &str) -> Result<Verified, String> {
    verify_with(Trust::compiled(), text)
}

pub(crate) fn verify_with(trust: &Trust, text: &str) -> Result<Verified, String> {
    if trust.files.is_empty() {
        return Err(format!(
            "this clp-fsmon was {NO_VENDOR_KEY} for licence files: it refuses every licence \
             file (see clp-fsmon --version)"
        ));
    }
    let body_and_sig = text
        .strip_suffix('\n')
        .ok_or("the file does not end with its signature line (truncated?)")?;
    let cut = body_and_sig.rfind('\n').map_or(0, |i| i + 1);
    let (body, last) = body_and_sig.split_at(cut);
    let mut words = last.split(' ');
    let (Some(SIG_LABEL), Some(signer), Some(sig), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(format!(
            "the last line is not `{SIG_LABEL} KEYID SIGNATURE`: not a signed licence file, or \
             truncated"
        ));
    };
    let key = trust.file_key(signer).ok_or_else(|| {
        let ids: Vec<&str> = trust.files.iter().map(|k| k.id.as_str()).collect();
        format!(
            "signed with key {signer}, which this clp-fsmon does not trust (it trusts {})",
            ids.join(", ")
        )
    })?;
    let sig: [u8; 64] = unhex(sig)
        .and_then(|v| v.try_into().ok())
        .ok_or("the signature is not 128 hex digits")?;
    key.key
        .verify_strict(&signing_input(body), &Signature::from_bytes(&sig))
        .map_err(|_| {
            format!(
                "the signature does not verify with key {signer}: the file was changed after it \
                 was signed, or it was not signed by that key"
            )
        })?;
    let licence: Licence = toml::from_str(body).map_err(|e| {
        format!(
            "the signed content does not parse: {}",
            e.to_string().trim()
        )
    })?;
    licence.check()?;
    Ok(Verified {
        licence,
        signer: signer.to_owned(),
        dev_signer: key.dev,
    })
}

/// Signs `licence` with `key` (the vendor's generator, and tests).
#[cfg(any(test, feature = "keygen"))]
pub fn sign(licence: &Licence, key: &ed25519_dalek::SigningKey) -> String {
    use ed25519_dalek::Signer;
    let body = licence.body();
    let sig = key.sign(&signing_input(&body));
    assemble(
        &body,
        &super::trust::key_id(&key.verifying_key().to_bytes()),
        &sig.to_bytes(),
    )
}

/// A fresh random licence ID (32 hex digits).
#[cfg(any(test, feature = "keygen"))]
pub fn new_id() -> Result<String, String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(hex(&b))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::license::trust::{SECRET_LABEL, key_line};

    /// The published development signing key.
    pub(crate) fn dev_signing_key() -> ed25519_dalek::SigningKey {
        let seed = key_line(
            include_bytes!("../../licenses/dev-signing.key"),
            SECRET_LABEL.as_bytes(),
        )
        .unwrap();
        ed25519_dalek::SigningKey::from_bytes(&seed)
    }

    pub(crate) fn product_licence(serial: &str, id: &str) -> Licence {
        Licence {
            format: FORMAT,
            product: "FSMON20".into(),
            kind: Kind::Product,
            serial: Some(serial.into()),
            user: None,
            licence_id: id.into(),
            issued: "2026-11-24".parse().unwrap(),
            from: None,
            until: None,
            host: None,
            machine_id: None,
        }
    }

    #[test]
    fn signed_files_verify_and_any_change_is_refused() {
        let l = product_licence("AB123456", "L1");
        let text = sign(&l, &dev_signing_key());
        let v = verify(&text).unwrap();
        assert_eq!(v.licence, l);
        assert!(v.dev_signer);
        // every single-byte change above the signature, and every truncation, is refused
        let sig_at = text.rfind(SIG_LABEL).unwrap();
        for i in 0..sig_at {
            let mut b = text.clone().into_bytes();
            b[i] ^= 0x01;
            if let Ok(t) = String::from_utf8(b) {
                assert!(verify(&t).is_err(), "byte {i} changed: accepted");
            }
        }
        for n in 0..text.len() {
            assert!(verify(&text[..n]).is_err(), "truncated to {n}");
        }
        // another key signs: not trusted
        let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let e = verify(&sign(&l, &other)).unwrap_err();
        assert!(e.contains("does not trust"), "{e}");
        // another key's signature under the trusted key's ID: does not verify
        let forged = sign(&l, &other).replace(
            &crate::license::trust::key_id(&other.verifying_key().to_bytes()),
            &v.signer,
        );
        let e = verify(&forged).unwrap_err();
        assert!(e.contains("does not verify"), "{e}");
        // a build without keys refuses it all
        let e = verify_with(&Trust::default(), &text).unwrap_err();
        assert!(e.contains(NO_VENDOR_KEY), "{e}");
    }

    #[test]
    fn fields_and_binding_are_checked() {
        let mut l = product_licence("AB123456", "L1");
        l.host = Some("node1".into());
        l.machine_id = Some("m1".into());
        let me = |h: &str, m: &str| Identity {
            host: h.into(),
            machine_id: m.into(),
        };
        assert!(l.check_binding(&me("node1", "m1")).is_ok());
        let e = l.check_binding(&me("node1", "m2")).unwrap_err();
        assert!(e.contains("machine id m1") && e.contains("m2"), "{e}");
        assert!(l.check_binding(&me("node2", "m1")).is_err());
        l.machine_id = None;
        assert!(l.check_binding(&me("node1", "m9")).is_ok());
        let mut t = l.clone();
        t.kind = Kind::Trial;
        assert!(t.check().is_err());
        t.serial = None;
        t.user = Some("eve".into());
        assert!(t.check().is_err(), "trial without dates");
        t.from = Some("2026-01-02".parse().unwrap());
        t.until = Some("2026-01-01".parse().unwrap());
        assert!(t.check().is_err(), "backwards");
        t.until = t.from;
        assert!(t.check().is_ok());
        l.licence_id = "a b".into();
        assert!(l.check().is_err());
        // unknown fields are refused even when signed
        let body = l.body().replace("format = 1", "format = 1\nextra = 2");
        let sig = {
            use ed25519_dalek::Signer;
            dev_signing_key().sign(&signing_input(&body)).to_bytes()
        };
        let signer = crate::license::trust::key_id(&dev_signing_key().verifying_key().to_bytes());
        assert!(verify(&assemble(&body, &signer, &sig)).is_err());
    }
}
