//! The licence store: one file per server in [`Paths::license_dir`], named after the server's
//! host name and machine id (`HOST@MACHINEID.lic`), so a clone (same host name, other machine id)
//! gets a file of its own. A store directory shared by the cluster's servers makes the overlap
//! check cluster-wide.
//!
//! A store file is the JSON body followed by one line `hmac-sha256 HEX`, a MAC over the body
//! keyed by the vendor secret: a truncated, edited or foreign file fails the check and is reported,
//! never used. Writers hold an exclusive lock on `.lock` in the directory and replace files
//! atomically (temp file + rename); readers take a shared lock.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::key::{self, Kind};
use crate::paths::Paths;

const LOCK_FILE: &str = ".lock";
const SUFFIX: &str = ".lic";
const MAC_PREFIX: &str = "hmac-sha256 ";
const MAC_DOMAIN: &[u8] = b"clp-fsmon/licence-store/v1\0";
const FORMAT: u32 = 1;

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The host name or machine id cannot be read.
    #[error("cannot tell which server this is: {0}")]
    Identity(String),
    /// A file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A store file fails its integrity check or cannot be parsed.
    #[error(
        "licence store file {path} is corrupt ({reason}); remove it and register its licences again"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key is already registered on another server.
    #[error("the key is already registered on server {server} ({path})")]
    Overlap {
        /// That server (host name and machine id).
        server: String,
        /// Its store file.
        path: PathBuf,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Which server this is: host name plus machine id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Host name (`<root>/etc/hostname` when re-rooted and present, else gethostname).
    pub host: String,
    /// Machine id (`/etc/machine-id`, re-rooted when present).
    pub machine_id: String,
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl Identity {
    /// This server's identity.
    pub fn detect(paths: &Paths) -> Result<Self, StoreError> {
        let host = match paths.etc_file("hostname") {
            p if paths.is_rerooted() && p != Path::new("/etc/hostname") => {
                std::fs::read_to_string(&p)
                    .map_err(|e| StoreError::Identity(format!("{}: {e}", p.display())))?
                    .trim()
                    .to_string()
            }
            _ => crate::sys::hostname().map_err(|e| StoreError::Identity(e.to_string()))?,
        };
        if host.is_empty() {
            return Err(StoreError::Identity("empty host name".into()));
        }
        let p = paths.etc_file("machine-id");
        let machine_id = std::fs::read_to_string(&p)
            .map_err(|e| StoreError::Identity(format!("{}: {e}", p.display())))?
            .trim()
            .to_string();
        if machine_id.is_empty() {
            return Err(StoreError::Identity(format!("{} is empty", p.display())));
        }
        Ok(Self { host, machine_id })
    }

    /// The store file name of this server.
    pub fn file_name(&self) -> String {
        format!("{}@{}{SUFFIX}", clean(&self.host), clean(&self.machine_id))
    }

    /// Short form for listings: `host (machine id prefix)`.
    pub fn short(&self) -> String {
        let m: String = self.machine_id.chars().take(8).collect();
        format!("{}/{m}", self.host)
    }
}

/// One registered licence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Product ID.
    pub product: String,
    /// Product or trial.
    pub kind: Kind,
    /// Serial number (product) or user name (trial).
    pub holder: String,
    /// The key, normalised (no hyphens).
    pub key: String,
    /// When it was registered (seconds since the Unix epoch).
    pub registered: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    format: u32,
    server: Identity,
    licenses: Vec<Entry>,
}

/// One server's store file, read and authenticated.
#[derive(Clone, Debug)]
pub struct ServerFile {
    /// The file.
    pub path: PathBuf,
    /// The server it belongs to.
    pub server: Identity,
    /// Its licences.
    pub licenses: Vec<Entry>,
}

fn mac() -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key::vendor_secret()).expect("HMAC takes any key");
    m.update(MAC_DOMAIN);
    m
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Serialises a server's licences with their MAC.
pub fn encode(server: &Identity, licenses: &[Entry]) -> String {
    let body = Body {
        format: FORMAT,
        server: server.clone(),
        licenses: licenses.to_vec(),
    };
    let mut text = serde_json::to_string_pretty(&body).expect("serialisable");
    text.push('\n');
    let mut m = mac();
    m.update(text.as_bytes());
    let tag = hex(&m.finalize().into_bytes());
    format!("{text}{MAC_PREFIX}{tag}\n")
}

/// Parses and authenticates a store file's content.
pub fn decode(path: &Path, data: &[u8]) -> Result<ServerFile, StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let text = std::str::from_utf8(data).map_err(|_| corrupt("not UTF-8"))?;
    let text = text
        .strip_suffix('\n')
        .ok_or_else(|| corrupt("truncated"))?;
    let cut = text.rfind('\n').map_or(0, |i| i + 1);
    let (body, last) = text.split_at(cut);
    let tag = last
        .strip_prefix(MAC_PREFIX)
        .and_then(unhex)
        .ok_or_else(|| corrupt("integrity line missing (truncated?)"))?;
    let mut m = mac();
    m.update(body.as_bytes());
    m.verify_slice(&tag)
        .map_err(|_| corrupt("integrity check failed"))?;
    let b: Body = serde_json::from_str(body).map_err(|e| corrupt(&e.to_string()))?;
    if b.format != FORMAT {
        return Err(corrupt(&format!("unknown format {}", b.format)));
    }
    if path.file_name().and_then(|n| n.to_str()) != Some(b.server.file_name().as_str()) {
        return Err(corrupt("file name does not match the server inside"));
    }
    Ok(ServerFile {
        path: path.to_path_buf(),
        server: b.server,
        licenses: b.licenses,
    })
}

/// What a registration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registered {
    /// Added to this server's file.
    Added,
    /// This server already held the key; nothing changed.
    AlreadyHeld,
}

/// The store directory.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store of `paths`.
    pub fn new(paths: &Paths) -> Self {
        Self {
            dir: paths.license_dir(),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `server`.
    pub fn file_of(&self, server: &Identity) -> PathBuf {
        self.dir.join(server.file_name())
    }

    fn lock(&self, exclusive: bool) -> Result<File, StoreError> {
        const STORE_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);
        if exclusive {
            crate::sys::ensure_dir(&self.dir, 0o755).map_err(io_err(&self.dir))?;
        }
        let p = self.dir.join(LOCK_FILE);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&p)
            .map_err(io_err(&p))?;
        // Bounded: a stuck holder (stopped clplcnsc, dead NFS server) must not hang a monitor.
        crate::sys::lock_within(&f, exclusive, STORE_LOCK_WAIT).map_err(io_err(&p))?;
        Ok(f)
    }

    /// Reads every server file in the directory (none when the directory does not exist).
    /// Each element is one file: read and authenticated, or why not.
    pub fn read_each(&self) -> Result<Vec<Result<ServerFile, StoreError>>, StoreError> {
        if !self.dir.exists() {
            return Ok(Vec::new());
        }
        let _guard = self.lock(false);
        self.read_each_locked()
    }

    fn read_each_locked(&self) -> Result<Vec<Result<ServerFile, StoreError>>, StoreError> {
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.dir)(e)),
        };
        let mut paths: Vec<PathBuf> = rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(SUFFIX) && !n.starts_with('.'))
            })
            .collect();
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| {
                let data = std::fs::read(&p).map_err(io_err(&p))?;
                decode(&p, &data)
            })
            .collect())
    }

    /// Reads every server file; the first unreadable one is an error.
    pub fn read_all(&self) -> Result<Vec<ServerFile>, StoreError> {
        self.read_each()?.into_iter().collect()
    }

    /// Adds `entry` to `me`'s file unless the key is held by another server (overlap) or by
    /// `me` already. Nothing is written on any error.
    pub fn register(&self, me: &Identity, entry: Entry) -> Result<Registered, StoreError> {
        let _guard = self.lock(true)?;
        let files: Vec<ServerFile> = self
            .read_each_locked()?
            .into_iter()
            .collect::<Result<_, _>>()?;
        let mine = self.file_of(me);
        if let Some(other) = files
            .iter()
            .find(|f| f.path != mine && f.licenses.iter().any(|e| e.key == entry.key))
        {
            return Err(StoreError::Overlap {
                server: other.server.short(),
                path: other.path.clone(),
            });
        }
        let mut licenses = files
            .into_iter()
            .find(|f| f.path == mine)
            .map(|f| f.licenses)
            .unwrap_or_default();
        if licenses.iter().any(|e| e.key == entry.key) {
            return Ok(Registered::AlreadyHeld);
        }
        licenses.push(entry);
        crate::sys::atomic_write(&mine, encode(me, &licenses).as_bytes(), 0o600)
            .map_err(io_err(&mine))?;
        Ok(Registered::Added)
    }

    /// Removes from `me`'s file the licences of `product` (only the one whose serial or user is
    /// `holder`, when given). Returns how many were removed; nothing is written when none.
    pub fn delete(
        &self,
        me: &Identity,
        product: &str,
        holder: Option<&str>,
    ) -> Result<usize, StoreError> {
        let _guard = self.lock(true)?;
        let mine = self.file_of(me);
        let data = match std::fs::read(&mine) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io_err(&mine)(e)),
        };
        let f = decode(&mine, &data)?;
        let before = f.licenses.len();
        let kept: Vec<Entry> = f
            .licenses
            .into_iter()
            .filter(|e| !(e.product == product && holder.is_none_or(|h| e.holder == h)))
            .collect();
        let removed = before - kept.len();
        if removed > 0 {
            if kept.is_empty() {
                std::fs::remove_file(&mine).map_err(io_err(&mine))?;
            } else {
                crate::sys::atomic_write(&mine, encode(me, &kept).as_bytes(), 0o600)
                    .map_err(io_err(&mine))?;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Identity {
        Identity {
            host: "node1".into(),
            machine_id: "0123456789abcdef0123456789abcdef".into(),
        }
    }

    fn entry(key: &str) -> Entry {
        Entry {
            product: "FSMON20".into(),
            kind: Kind::Product,
            holder: "AB123456".into(),
            key: key.into(),
            registered: 0,
        }
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let p = PathBuf::from("/x").join(me().file_name());
        let text = encode(&me(), &[entry("K1")]);
        let f = decode(&p, text.as_bytes()).unwrap();
        assert_eq!(f.licenses, vec![entry("K1")]);
        // every truncation is refused
        for n in 0..text.len() {
            assert!(
                matches!(
                    decode(&p, &text.as_bytes()[..n]),
                    Err(StoreError::Corrupt { .. })
                ),
                "truncated to {n}"
            );
        }
        // an edited body is refused
        let edited = text.replace("AB123456", "AB123457");
        assert!(matches!(
            decode(&p, edited.as_bytes()),
            Err(StoreError::Corrupt { .. })
        ));
        // a file renamed to another server is refused
        let q = PathBuf::from("/x/other@1.lic");
        assert!(decode(&q, text.as_bytes()).is_err());
    }

    #[test]
    fn register_overlap_and_delete() {
        let d = tempfile::tempdir().unwrap();
        let store = Store {
            dir: d.path().join("lic"),
        };
        let a = me();
        let b = Identity {
            host: "node1".into(),
            machine_id: "ffffffffffffffffffffffffffffffff".into(),
        };
        assert_eq!(store.register(&a, entry("K1")).unwrap(), Registered::Added);
        assert_eq!(
            store.register(&a, entry("K1")).unwrap(),
            Registered::AlreadyHeld
        );
        let before = std::fs::read_dir(store.dir()).unwrap().count();
        assert!(matches!(
            store.register(&b, entry("K1")),
            Err(StoreError::Overlap { .. })
        ));
        assert_eq!(std::fs::read_dir(store.dir()).unwrap().count(), before);
        assert_eq!(store.delete(&a, "FSMON20", Some("ZZ000000")).unwrap(), 0);
        assert_eq!(store.delete(&a, "FSMON20", Some("AB123456")).unwrap(), 1);
        assert!(store.read_all().unwrap().is_empty());
        assert_eq!(store.register(&b, entry("K1")).unwrap(), Registered::Added);
    }
}
