//! The licence store: one file per server in [`Paths::license_dir`], named after the server's
//! host name and machine id (`HOST@MACHINEID.lic`), so a clone (same host name, other machine id)
//! gets a file of its own. A store directory shared by the cluster's servers makes the overlap
//! check cluster-wide.
//!
//! A store file is the JSON body followed by one line `hmac-sha256 HEX`, a MAC over the body
//! keyed by the build's store key ([`Trust::store_key`]): a truncated, edited or foreign file
//! (written by a build with other licence keys) fails the check and is reported, never used.
//! The MAC is no security boundary (every licence in it is verified again on every check); it
//! catches damage. One bad file is that file's problem only: the readers report it and go on
//! with the others ([`Store::read_each`]), so one server's corrupt file never keeps another
//! server's monitor from starting. Writers hold an exclusive lock on `.lock` in the directory
//! and replace files atomically (temp file + rename); readers take a shared lock. A temp file
//! left by a writer that died is ignored by readers and removed by the next writer
//! ([`crate::sys::SafeDir::remove_stale_temps`], after [`TEMP_AGE`]).
//!
//! The server identity ([`Identity`]) is the host name and a machine id: `/etc/machine-id`,
//! else `/var/lib/dbus/machine-id`, else one clp-fsmon makes once (random, written atomically
//! and never replaced) beside the store in `/var/lib/clp-fsmon/machine-id`
//! ([`crate::paths::Paths::machine_id_files`]); an empty or `uninitialized` file (systemd's
//! first-boot state) counts as none.
//!
//! Bounds: every store operation (read, register, delete) ends within [`OP_LIMIT`], whatever
//! the file system does (a hung NFS server holding the shared store); only regular files of at
//! most [`FILE_MAX`] bytes are read (a FIFO, a device, a symbolic link or a huge file named
//! `*.lic` is a corrupt store file, never a hang or unbounded memory), at most [`FILES_MAX`] of
//! them. Writes go through [`sys::SafeDir`](crate::sys::SafeDir): the store directory and
//! `var/lib/clp-fsmon` must be root's alone, and nothing is written through a symbolic link.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::key::Kind;
use super::trust::Trust;
use crate::paths::Paths;

const LOCK_FILE: &str = ".lock";
const SUFFIX: &str = ".lic";
const MAC_PREFIX: &str = "hmac-sha256 ";
const MAC_DOMAIN: &[u8] = b"clp-fsmon/licence-store/v1\0";
const FORMAT: u32 = 1;

/// Largest store file read: a store file is a few hundred bytes per licence.
pub(crate) const FILE_MAX: u64 = 64 * 1024;
/// Most store files read from the directory (one per server of the cluster).
pub(crate) const FILES_MAX: usize = 1024;
/// Longest a store operation may take, lock wait included.
pub(crate) const OP_LIMIT: Duration = Duration::from_secs(15);
/// Longest a store operation waits for the store's lock (a stopped `clplcnsc`).
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Largest host identity file read (`hostname`, `machine-id`).
const IDENTITY_MAX: u64 = 4096;
/// Age after which a writer's temp file in the store is a leftover of a crash (a write takes
/// milliseconds, under the store's lock).
pub(crate) const TEMP_AGE: Duration = Duration::from_secs(60);

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The host name or machine id cannot be read.
    #[error("cannot tell which server this is: {0}")]
    Identity(String),
    /// No machine id anywhere yet (a registration makes one).
    #[error(
        "cannot tell which server this is: no machine id in {0} (clplcnsc -i makes one when it registers a licence)"
    )]
    NoMachineId(String),
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

impl StoreError {
    /// The store file (or directory) the error is about, if any.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Self::Io { path, .. } | Self::Corrupt { path, .. } => Some(path),
            Self::Overlap { .. } | Self::Identity(_) | Self::NoMachineId(_) => None,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads one store file: a file that is not a small regular file is corrupt (with why).
fn read_store_file(path: &Path) -> Result<Vec<u8>, StoreError> {
    crate::sys::read_regular(path, FILE_MAX).map_err(|e| match crate::sys::NotReadable::of(&e) {
        Some(n) => StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: n.why.clone(),
        },
        None => io_err(path)(e),
    })
}

/// Reads a host identity file (small, regular).
fn read_identity(path: &Path) -> Result<String, StoreError> {
    read_identity_opt(path)?.ok_or_else(|| {
        StoreError::Identity(format!("{}: No such file or directory", path.display()))
    })
}

/// Reads a host identity file; `None` when it does not exist.
fn read_identity_opt(path: &Path) -> Result<Option<String>, StoreError> {
    match crate::sys::read_regular(path, IDENTITY_MAX) {
        Ok(data) => Ok(Some(String::from_utf8_lossy(&data).trim().to_string())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Identity(format!("{}: {e}", path.display()))),
    }
}

/// Where this server's machine id came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdSource {
    /// The file it was read from.
    pub path: PathBuf,
    /// True for the one clp-fsmon made ([`Paths::own_machine_id`]).
    pub made: bool,
}

impl std::fmt::Display for IdSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.made {
            write!(
                f,
                "machine id made by clp-fsmon in {} (this server has no /etc/machine-id or \
                 /var/lib/dbus/machine-id)",
                self.path.display()
            )
        } else {
            write!(f, "machine id from {}", self.path.display())
        }
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
    pub(crate) fn detect(paths: &Paths) -> Result<Self, StoreError> {
        Self::detect_with_source(paths).map(|(i, _)| i)
    }

    /// This server's identity and where its machine id came from (nothing is created).
    pub(crate) fn detect_with_source(paths: &Paths) -> Result<(Self, IdSource), StoreError> {
        let host = Self::host(paths)?;
        let files = paths.machine_id_files();
        let own = paths.own_machine_id();
        for p in &files {
            match read_identity_opt(p)? {
                Some(id) if !id.is_empty() && id != "uninitialized" => {
                    let made = *p == own;
                    return Ok((
                        Self {
                            host,
                            machine_id: id,
                        },
                        IdSource {
                            path: p.clone(),
                            made,
                        },
                    ));
                }
                _ => {}
            }
        }
        let tried: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        Err(StoreError::NoMachineId(tried.join(", ")))
    }

    /// [`Identity::detect_with_source`], making clp-fsmon's own machine id first when the
    /// server has none: 128 random bits, written atomically, never replaced (two registrations
    /// at the same moment agree on the first one written).
    pub(crate) fn detect_or_create(paths: &Paths) -> Result<(Self, IdSource), StoreError> {
        match Self::detect_with_source(paths) {
            Err(StoreError::NoMachineId(_)) => {}
            other => return other,
        }
        let own = paths.own_machine_id();
        let dir = own.parent().unwrap_or(Path::new("/"));
        let safe = crate::sys::SafeDir::open(dir, dir, 0o755).map_err(io_err(dir))?;
        let mut b = [0u8; 16];
        getrandom::fill(&mut b)
            .map_err(|e| StoreError::Identity(format!("no random numbers: {e}")))?;
        let name = own.file_name().unwrap_or_default();
        safe.write_new(name, format!("{}\n", hex(&b)).as_bytes(), 0o644)
            .map_err(io_err(&own))?;
        Self::detect_with_source(paths)
    }

    fn host(paths: &Paths) -> Result<String, StoreError> {
        let host = match paths.etc_file("hostname") {
            p if paths.is_rerooted() && p != Path::new("/etc/hostname") => read_identity(&p)?,
            _ => crate::sys::hostname().map_err(|e| StoreError::Identity(e.to_string()))?,
        };
        if host.is_empty() {
            return Err(StoreError::Identity("empty host name".into()));
        }
        Ok(host)
    }

    /// The store file name of this server.
    pub(crate) fn file_name(&self) -> String {
        format!("{}@{}{SUFFIX}", clean(&self.host), clean(&self.machine_id))
    }

    /// Short form for listings: `host (machine id prefix)`.
    pub(crate) fn short(&self) -> String {
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
    /// The typed key, normalised (no hyphens); empty for a licence file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// The signed licence file, as registered ([`super::licfile`]); verified on every check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The licence file's ID (the overlap check compares it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licence_id: Option<String>,
    /// When it was registered (seconds since the Unix epoch).
    pub registered: u64,
}

impl Entry {
    /// What the overlap check (56) compares: a licence file's ID, or the typed key.
    pub fn overlap_id(&self) -> String {
        match &self.licence_id {
            Some(id) => format!("file:{id}"),
            None => format!("key:{}", self.key),
        }
    }
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
    let mut m =
        Hmac::<Sha256>::new_from_slice(&Trust::compiled().store_key()).expect("HMAC takes any key");
    m.update(MAC_DOMAIN);
    m
}

/// Lower-case hex.
pub(crate) fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// Hex (either case) to bytes.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Serialises a server's licences with their MAC.
pub(crate) fn encode(server: &Identity, licenses: &[Entry]) -> String {
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
    m.verify_slice(&tag).map_err(|_| {
        corrupt(
            "integrity check failed: edited, damaged, or written by a clp-fsmon that trusts \
                 other licence keys",
        )
    })?;
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

/// What a registration did, and what it could not look at.
#[derive(Debug)]
pub(crate) struct Registration {
    /// Added, or held already.
    pub outcome: Registered,
    /// Other servers' store files that could not be read (the overlap check could not see
    /// them).
    pub ignored: Vec<StoreError>,
    /// Temp files left by a crash that were removed.
    pub cleaned: Vec<String>,
}

/// What a registration did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Registered {
    /// Added to this server's file.
    Added,
    /// This server already held the key; nothing changed.
    AlreadyHeld,
}

/// The store directory.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    dir: PathBuf,
    /// The product's own directory the store lies in (`var/lib/clp-fsmon`): checked for writes
    /// from the store directory up to here.
    top: PathBuf,
}

impl Store {
    /// The store of `paths`.
    pub(crate) fn new(paths: &Paths) -> Self {
        let dir = paths.license_dir();
        let top = dir.parent().map_or_else(|| dir.clone(), Path::to_path_buf);
        Self { dir, top }
    }

    /// The directory.
    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `server`.
    pub(crate) fn file_of(&self, server: &Identity) -> PathBuf {
        self.dir.join(server.file_name())
    }

    /// Runs `op` on a store of its own thread, waiting at most [`OP_LIMIT`] for it.
    fn bounded<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        crate::sys::within(OP_LIMIT, "licence store", move || op(&store))
            .map_err(io_err(&self.dir))?
    }

    /// The directory, checked for writing (see [`crate::sys::SafeDir`]) and created when missing.
    fn for_writing(&self) -> Result<crate::sys::SafeDir, StoreError> {
        crate::sys::SafeDir::open(&self.dir, &self.top, 0o755).map_err(io_err(&self.dir))
    }

    /// The writers' exclusive lock, in the directory checked for writing.
    fn lock_exclusive(&self, dir: &crate::sys::SafeDir) -> Result<File, StoreError> {
        let p = self.dir.join(LOCK_FILE);
        let f = dir
            .open_lock(LOCK_FILE.as_ref(), 0o644)
            .map_err(io_err(&p))?;
        // Bounded: a stuck holder (stopped clplcnsc, dead NFS server) must not hang us.
        crate::sys::lock_within(&f, true, LOCK_WAIT).map_err(io_err(&p))?;
        Ok(f)
    }

    /// The readers' shared lock when the lock file exists (a reader creates nothing). A lock
    /// that cannot be had in time is waited out, not fatal: files are replaced atomically, so a
    /// reader sees whole files either way.
    fn lock_shared(&self) -> Option<File> {
        let f = crate::sys::open_regular(&self.dir.join(LOCK_FILE)).ok()?;
        crate::sys::lock_within(&f, false, LOCK_WAIT).ok()?;
        Some(f)
    }

    /// Reads every server file in the directory (none when the directory does not exist).
    /// Each element is one file: read and authenticated, or why not.
    pub(crate) fn read_each(&self) -> Result<Vec<Result<ServerFile, StoreError>>, StoreError> {
        self.bounded(|store| {
            if !store.dir.exists() {
                return Ok(Vec::new());
            }
            let _guard = store.lock_shared();
            store.read_each_locked()
        })
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
            .take(FILES_MAX + 1)
            .collect();
        if paths.len() > FILES_MAX {
            return Err(io_err(&self.dir)(io::Error::other(format!(
                "more than {FILES_MAX} licence store files"
            ))));
        }
        paths.sort();
        Ok(paths
            .into_iter()
            .map(|p| decode(&p, &read_store_file(&p)?))
            .collect())
    }

    /// Reads every server file; the first unreadable one is an error.
    #[cfg(test)]
    pub(crate) fn read_all(&self) -> Result<Vec<ServerFile>, StoreError> {
        self.read_each()?.into_iter().collect()
    }

    /// Adds `entry` to `me`'s file unless its licence is held by another server (overlap) or
    /// by `me` already. Nothing is written on any error. Another server's unreadable file does
    /// not stop it (it is returned in [`Registration::ignored`]); `me`'s own does (it would be
    /// replaced and its licences lost).
    pub(crate) fn register(&self, me: &Identity, entry: Entry) -> Result<Registration, StoreError> {
        let me = me.clone();
        self.bounded(move |store| store.register_now(&me, entry))
    }

    /// Removes the temp files a crashed writer left (while the writers' lock is held).
    fn clean_temps(dir: &crate::sys::SafeDir) -> Vec<String> {
        match dir.remove_stale_temps(|t| t.ends_with(SUFFIX), TEMP_AGE) {
            Ok(v) => {
                for n in &v {
                    tracing::info!("licence store: removed {n}, a temp file left by a crash");
                }
                v
            }
            Err(e) => {
                tracing::warn!("licence store: cannot clean temp files: {e}");
                Vec::new()
            }
        }
    }

    fn register_now(&self, me: &Identity, entry: Entry) -> Result<Registration, StoreError> {
        let dir = self.for_writing()?;
        let _guard = self.lock_exclusive(&dir)?;
        let cleaned = Self::clean_temps(&dir);
        let mine = self.file_of(me);
        let mut files = Vec::new();
        let mut ignored = Vec::new();
        for r in self.read_each_locked()? {
            match r {
                Ok(f) => files.push(f),
                Err(e) if e.path() == Some(mine.as_path()) => return Err(e),
                Err(e) => ignored.push(e),
            }
        }
        let id = entry.overlap_id();
        if let Some(other) = files
            .iter()
            .find(|f| f.path != mine && f.licenses.iter().any(|e| e.overlap_id() == id))
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
        let done = |outcome| Registration {
            outcome,
            ignored,
            cleaned,
        };
        if licenses.iter().any(|e| e.overlap_id() == id) {
            return Ok(done(Registered::AlreadyHeld));
        }
        licenses.push(entry);
        dir.write_atomic(
            me.file_name().as_ref(),
            encode(me, &licenses).as_bytes(),
            0o600,
        )
        .map_err(io_err(&mine))?;
        Ok(done(Registered::Added))
    }

    /// Removes from `me`'s file the licences of `product` (only the one whose serial or user is
    /// `holder`, when given). Returns how many were removed; nothing is written when none.
    pub(crate) fn delete(
        &self,
        me: &Identity,
        product: &str,
        holder: Option<&str>,
    ) -> Result<usize, StoreError> {
        let (me, product, holder) = (me.clone(), product.to_owned(), holder.map(str::to_owned));
        self.bounded(move |store| store.delete_now(&me, &product, holder.as_deref()))
    }

    fn delete_now(
        &self,
        me: &Identity,
        product: &str,
        holder: Option<&str>,
    ) -> Result<usize, StoreError> {
        let dir = self.for_writing()?;
        let _guard = self.lock_exclusive(&dir)?;
        Self::clean_temps(&dir);
        let mine = self.file_of(me);
        let data = match read_store_file(&mine) {
            Ok(d) => d,
            Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                return Ok(0);
            }
            Err(e) => return Err(e),
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
                dir.write_atomic(me.file_name().as_ref(), encode(me, &kept).as_bytes(), 0o600)
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
            file: None,
            licence_id: None,
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

    fn store_in(d: &Path) -> Store {
        Store {
            dir: d.join("lic"),
            top: d.join("lic"),
        }
    }

    #[test]
    fn only_small_regular_files_are_read_and_never_for_long() {
        let d = tempfile::tempdir().unwrap();
        let store = store_in(d.path());
        store.register(&me(), entry("K1")).unwrap();
        let fifo = store.dir().join("fifo@1.lic");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let zero = store.dir().join("zero@1.lic");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let dev = store.dir().join("dev@1.lic");
        nix::sys::stat::mknod(
            &dev,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::S_IRUSR,
            nix::sys::stat::makedev(1, 5),
        )
        .unwrap();
        let big = store.dir().join("big@1.lic");
        File::create(&big).unwrap().set_len(1 << 30).unwrap();
        let t = std::time::Instant::now();
        let each = store.read_each().unwrap();
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        let why = |p: &Path| {
            each.iter()
                .find_map(|r| match r {
                    Err(StoreError::Corrupt { path, reason }) if path == p => Some(reason.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{} not refused: {each:?}", p.display()))
        };
        assert!(why(&fifo).contains("a FIFO"));
        assert!(why(&zero).contains("a symbolic link"));
        assert!(why(&dev).contains("a character device"));
        assert!(why(&big).contains(&format!("larger than {FILE_MAX} bytes")));
        assert_eq!(each.iter().filter(|r| r.is_ok()).count(), 1);
        // other servers' unreadable files do not stop a registration: reported, left alone
        let r = store.register(&me(), entry("K2")).unwrap();
        assert_eq!(r.outcome, Registered::Added);
        assert_eq!(r.ignored.len(), 4, "{:?}", r.ignored);
        assert!(
            std::fs::symlink_metadata(&zero)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        // this server's own unreadable file does: refused, nothing written
        let mine = store.file_of(&me());
        std::fs::write(&mine, b"garbage").unwrap();
        assert!(matches!(
            store.register(&me(), entry("K3")),
            Err(StoreError::Corrupt { .. })
        ));
        assert_eq!(std::fs::read(&mine).unwrap(), b"garbage");
    }

    #[test]
    fn writes_refuse_planted_links_and_unsafe_directories() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let store = store_in(d.path());
        std::fs::create_dir_all(store.dir()).unwrap();
        let victim = d.path().join("victim");
        std::os::unix::fs::symlink(&victim, store.dir().join(LOCK_FILE)).unwrap();
        let e = store.register(&me(), entry("K1")).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(
            std::fs::symlink_metadata(&victim).is_err(),
            "victim created"
        );
        std::fs::remove_file(store.dir().join(LOCK_FILE)).unwrap();
        // this server's file planted as a link: refused when read, the victim untouched
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, store.file_of(&me())).unwrap();
        assert!(store.register(&me(), entry("K1")).is_err());
        assert!(store.delete(&me(), "FSMON20", None).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        std::fs::remove_file(store.file_of(&me())).unwrap();
        // a store directory others may write is refused for writing, still read
        std::fs::set_permissions(store.dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = store.register(&me(), entry("K1")).unwrap_err();
        assert!(e.to_string().contains("writable by group or others"), "{e}");
        assert!(store.read_all().unwrap().is_empty());
    }

    #[test]
    fn crash_leftovers_are_ignored_and_cleaned() {
        let d = tempfile::tempdir().unwrap();
        let store = store_in(d.path());
        store.register(&me(), entry("K1")).unwrap();
        let name = |s: &str| store.dir().join(s);
        let old_tmp = format!(".tmp-{}-0123456789abcdef", me().file_name());
        let new_tmp = format!(".tmp-{}-fedcba9876543210", me().file_name());
        let not_ours = ".tmp-notes.txt-0123456789abcdef";
        let link_tmp = ".tmp-x@1.lic-aaaaaaaaaaaaaaaa";
        for n in [&old_tmp, &new_tmp, &not_ours.to_string()] {
            std::fs::write(name(n), b"half a file").unwrap();
        }
        let victim = d.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, name(link_tmp)).unwrap();
        let past = nix::sys::time::TimeSpec::new(1_000_000_000, 0);
        for n in [old_tmp.as_str(), not_ours, link_tmp] {
            nix::sys::stat::utimensat(
                nix::fcntl::AT_FDCWD,
                &name(n),
                &past,
                &past,
                nix::sys::stat::UtimensatFlags::NoFollowSymlink,
            )
            .unwrap();
        }
        // readers never see temp files
        assert_eq!(store.read_each().unwrap().len(), 1);
        // the next write removes the old one of ours, and only that
        let r = store.register(&me(), entry("K2")).unwrap();
        assert_eq!(r.cleaned, vec![old_tmp.clone()]);
        assert!(!name(&old_tmp).exists());
        assert!(
            name(&new_tmp).exists(),
            "a write in progress is never touched"
        );
        assert!(name(not_ours).exists(), "not one of the store's names");
        assert!(std::fs::symlink_metadata(name(link_tmp)).is_ok());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(store.read_all().unwrap()[0].licenses.len(), 2);
    }

    #[test]
    fn register_overlap_and_delete() {
        let d = tempfile::tempdir().unwrap();
        let store = store_in(d.path());
        let a = me();
        let b = Identity {
            host: "node1".into(),
            machine_id: "ffffffffffffffffffffffffffffffff".into(),
        };
        assert_eq!(
            store.register(&a, entry("K1")).unwrap().outcome,
            Registered::Added
        );
        assert_eq!(
            store.register(&a, entry("K1")).unwrap().outcome,
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
        assert_eq!(
            store.register(&b, entry("K1")).unwrap().outcome,
            Registered::Added
        );
    }
}
