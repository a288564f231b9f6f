//! Which licence keys this build trusts, fixed when it is built.
//!
//! | form | trusted key | set by |
//! |---|---|---|
//! | typed 32-character key ([`super::key`]) | the vendor secret | `CLP_FSMON_VENDOR_SECRET` at build time |
//! | typed 32-character key | the published development secret ([`DEV_SECRET`]) | cargo feature `dev-keys` |
//! | signed licence file ([`super::licfile`]) | the vendor's Ed25519 public key | `CLP_FSMON_VENDOR_PUBKEY` (64 hex digits) at build time |
//! | signed licence file | the published development public key (`licenses/dev-signing.pub`) | cargo feature `dev-keys` |
//!
//! A build with none of them trusts nothing: every key and every file is refused with
//! [`NO_VENDOR_KEY`]. The development keys are public (their secrets are in this repository), so
//! only a build asked for them with `--features dev-keys` (the tests, the demo, `keygen`, which
//! implies it) trusts them; `clp-fsmon --version` and `clplcnsc -l` say what a binary trusts
//! ([`describe`]), and the packaging refuses a binary whose description names a development key
//! ([`DEV_MARK`]). The unit tests of this crate trust the development keys too (a test binary is
//! never shipped).
//!
//! A typed key is verified with a symmetric secret, so the secret is in every binary that checks
//! such keys: it is as strong as the secrecy of the binary. A licence file carries an Ed25519
//! signature; the binary holds only the public key, so a file cannot be forged from the binary.
//! The environment values are checked when the crate is compiled: a malformed
//! `CLP_FSMON_VENDOR_PUBKEY` fails the build.

use std::sync::OnceLock;

use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// The published development secret of typed keys (`licenses/dev-keys.toml` lists keys made
/// with it). Compiled in only with the `dev-keys` feature.
#[cfg(any(test, feature = "dev-keys"))]
pub const DEV_SECRET: &str = "clp-fsmon development secret (public; never ship a release with it)";

/// What every refusal says in a build that trusts no key.
pub const NO_VENDOR_KEY: &str = "built without a vendor key";

/// The word that marks a development key in [`describe`]: the packaging checks look for it.
pub const DEV_MARK: &str = "development";

/// True when the published development keys are compiled in.
pub const DEV_KEYS: bool = cfg!(any(test, feature = "dev-keys"));

const VENDOR_SECRET: Option<&str> = match option_env!("CLP_FSMON_VENDOR_SECRET") {
    Some(s) if !s.is_empty() => Some(s),
    _ => None,
};

const VENDOR_PUBKEY: Option<[u8; 32]> = match option_env!("CLP_FSMON_VENDOR_PUBKEY") {
    Some(s) if !s.is_empty() => match hex32(s.as_bytes()) {
        Some(k) => Some(k),
        None => panic!("CLP_FSMON_VENDOR_PUBKEY must be an Ed25519 public key: 64 hex digits"),
    },
    _ => None,
};

#[cfg(any(test, feature = "dev-keys"))]
const DEV_PUBKEY_FILE: &str = include_str!("../../licenses/dev-signing.pub");
/// The label of the public key line in a key file.
pub const PUBLIC_LABEL: &str = "ed25519-public-key";
/// The label of the private key line in a key file.
pub const SECRET_LABEL: &str = "ed25519-secret-key";

#[cfg(any(test, feature = "dev-keys"))]
const DEV_PUBKEY: [u8; 32] = match key_line(DEV_PUBKEY_FILE.as_bytes(), PUBLIC_LABEL.as_bytes()) {
    Some(k) => k,
    None => panic!("licenses/dev-signing.pub has no ed25519-public-key line"),
};

const fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// 64 hex digits (and nothing else) as 32 bytes.
pub(crate) const fn hex32(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let (Some(h), Some(l)) = (nibble(s[2 * i]), nibble(s[2 * i + 1])) else {
            return None;
        };
        out[i] = (h << 4) | l;
        i += 1;
    }
    Some(out)
}

/// The key of the one line `LABEL HEX` in a key file (`#` comments and blank lines skipped;
/// `None` when there is no such line, or more than one, or anything else).
pub const fn key_line(text: &[u8], label: &[u8]) -> Option<[u8; 32]> {
    let mut found: Option<[u8; 32]> = None;
    let mut start = 0;
    while start < text.len() {
        let mut end = start;
        while end < text.len() && text[end] != b'\n' {
            end += 1;
        }
        // The line text[start..end], without a trailing '\r' or spaces.
        let mut stop = end;
        while stop > start && (text[stop - 1] == b'\r' || text[stop - 1] == b' ') {
            stop -= 1;
        }
        if stop > start && text[start] != b'#' {
            if found.is_some() || stop - start != label.len() + 1 + 64 {
                return None;
            }
            let mut i = 0;
            while i < label.len() {
                if text[start + i] != label[i] {
                    return None;
                }
                i += 1;
            }
            if text[start + label.len()] != b' ' {
                return None;
            }
            let (_, rest) = text.split_at(start + label.len() + 1);
            let (hex, _) = rest.split_at(64);
            found = hex32(hex);
            if found.is_none() {
                return None;
            }
        }
        start = end + 1;
    }
    found
}

/// A trusted typed-key secret.
#[derive(Debug)]
pub(crate) struct Secret {
    /// The secret.
    pub bytes: &'static [u8],
    /// True for the published development secret.
    pub dev: bool,
}

/// A trusted licence-file signing key (its public half).
#[derive(Debug)]
pub(crate) struct FileKey {
    /// The key.
    pub key: VerifyingKey,
    /// Its short name in files and messages ([`key_id`]).
    pub id: String,
    /// True for the published development key.
    pub dev: bool,
}

/// Everything one build trusts.
#[derive(Debug, Default)]
pub(crate) struct Trust {
    /// Typed-key secrets; the first one issues keys.
    pub typed: Vec<Secret>,
    /// Licence-file keys.
    pub files: Vec<FileKey>,
}

/// The short name of a public key: the first 8 bytes of its SHA-256, in hex.
pub fn key_id(public: &[u8; 32]) -> String {
    crate::license::store::hex(&Sha256::digest(public)[..8])
}

fn file_key(bytes: [u8; 32], dev: bool) -> FileKey {
    FileKey {
        key: VerifyingKey::from_bytes(&bytes).expect("a valid Ed25519 public key (checked)"),
        id: key_id(&bytes),
        dev,
    }
}

impl Trust {
    /// What this build was compiled to trust.
    pub(crate) fn compiled() -> &'static Trust {
        static T: OnceLock<Trust> = OnceLock::new();
        T.get_or_init(|| {
            let mut t = Trust::default();
            if let Some(s) = VENDOR_SECRET {
                t.typed.push(Secret {
                    bytes: s.as_bytes(),
                    dev: false,
                });
            }
            #[cfg(any(test, feature = "dev-keys"))]
            t.typed.push(Secret {
                bytes: DEV_SECRET.as_bytes(),
                dev: true,
            });
            if let Some(k) = VENDOR_PUBKEY {
                t.files.push(file_key(k, false));
            }
            #[cfg(any(test, feature = "dev-keys"))]
            t.files.push(file_key(DEV_PUBKEY, true));
            t
        })
    }

    /// The secret keys are issued with (vendor first).
    pub(crate) fn issuing(&self) -> Option<&Secret> {
        self.typed.first()
    }

    /// The trusted file key called `id`.
    pub(crate) fn file_key(&self, id: &str) -> Option<&FileKey> {
        self.files.iter().find(|k| k.id == id)
    }

    /// True when any development key is trusted.
    pub(crate) fn has_dev(&self) -> bool {
        self.typed.iter().any(|s| s.dev) || self.files.iter().any(|k| k.dev)
    }

    /// The lines of [`describe`] for this trust.
    pub(crate) fn lines(&self) -> Vec<String> {
        if self.typed.is_empty() && self.files.is_empty() {
            return vec![format!(
                "trusts: no licence key ({NO_VENDOR_KEY}: every licence is refused)"
            )];
        }
        let mut out = Vec::new();
        for s in &self.typed {
            out.push(if s.dev {
                format!(
                    "trusts: typed keys of the {DEV_MARK} secret (published; a dev-keys build, \
                     never a release)"
                )
            } else {
                format!(
                    "trusts: typed keys of the vendor secret {}",
                    key_id(&Sha256::digest(s.bytes).into())
                )
            });
        }
        if self.typed.is_empty() {
            out.push("trusts: no typed key (typed keys are refused)".into());
        }
        for k in &self.files {
            out.push(if k.dev {
                format!(
                    "trusts: licence files signed by the {DEV_MARK} key {} (published; a dev-keys \
                     build, never a release)",
                    k.id
                )
            } else {
                format!("trusts: licence files signed by the vendor key {}", k.id)
            });
        }
        if self.files.is_empty() {
            out.push("trusts: no licence-file key (licence files are refused)".into());
        }
        out
    }

    /// The key the store files' integrity line is made with: the issuing typed secret, else
    /// the first file key, else a fixed one. The line is no security boundary (a licence is
    /// verified again on every check); it catches damage and files from builds with other keys.
    pub(crate) fn store_key(&self) -> Vec<u8> {
        if let Some(s) = self.issuing() {
            return s.bytes.to_vec();
        }
        let mut k = b"clp-fsmon store key of ".to_vec();
        match self.files.first() {
            Some(f) => k.extend_from_slice(f.key.as_bytes()),
            None => k.extend_from_slice(NO_VENDOR_KEY.as_bytes()),
        }
        k
    }
}

/// What this binary trusts, one line per key (`trusts: …`), for `--version` and `clplcnsc -l`.
pub fn describe() -> Vec<String> {
    Trust::compiled().lines()
}

/// True when this binary trusts a published development key.
pub fn trusts_dev_keys() -> bool {
    Trust::compiled().has_dev()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_parse_strictly() {
        let k = "ab".repeat(32);
        let good = format!("# comment\n\n{PUBLIC_LABEL} {k}\n");
        assert_eq!(
            key_line(good.as_bytes(), PUBLIC_LABEL.as_bytes()),
            Some([0xab; 32])
        );
        for bad in [
            String::new(),
            format!("{PUBLIC_LABEL} {k}\n{PUBLIC_LABEL} {k}\n"),
            format!("{SECRET_LABEL} {k}\n"),
            format!("{PUBLIC_LABEL} {}\n", &k[..62]),
            format!("{PUBLIC_LABEL} {}zz\n", &k[..62]),
            format!("{PUBLIC_LABEL}  {k}\n"),
            format!("{PUBLIC_LABEL} {k}\nsomething else\n"),
        ] {
            assert_eq!(
                key_line(bad.as_bytes(), PUBLIC_LABEL.as_bytes()),
                None,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_published_key_pair_matches() {
        let secret = key_line(
            include_bytes!("../../licenses/dev-signing.key"),
            SECRET_LABEL.as_bytes(),
        )
        .expect("licenses/dev-signing.key parses");
        let sk = ed25519_dalek::SigningKey::from_bytes(&secret);
        assert_eq!(sk.verifying_key().to_bytes(), DEV_PUBKEY);
    }

    #[test]
    fn a_build_without_keys_says_so() {
        let none = Trust::default();
        assert!(!none.has_dev());
        let l = none.lines();
        assert_eq!(l.len(), 1);
        assert!(l[0].contains(NO_VENDOR_KEY), "{l:?}");
        // the unit tests' build trusts the development keys, and says so
        let c = Trust::compiled();
        assert!(c.has_dev());
        assert!(describe().iter().any(|l| l.contains(DEV_MARK)));
        assert_eq!(c.files.last().unwrap().id, key_id(&DEV_PUBKEY));
    }
}
