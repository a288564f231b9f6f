//! The registry of monitor IDs: one entry per applet + ID, alive exactly while its monitor holds
//! an exclusive `flock` on the entry's lock file.
//!
//! ```text
//! <state>/<module>/<ID>/lock         flock'd by the monitor for its whole life
//! <state>/<module>/<ID>/entry.json   pid, process start time, target (written atomically)
//! <state>/<module>/<ID>/stop         a stop intent: `-stop` of the ID while nobody held it
//! ```
//!
//! A monitor killed with `kill -9` loses its lock with its last descriptor, so its entry is stale
//! by construction and the next start of the same ID replaces it — no `-del` needed. The recorded
//! pid and start time only explain *why* an entry is stale (process gone, or pid reused by another
//! program); they never decide liveness. Lock files may be removed by the owner on exit; every
//! locker re-checks after locking that the path still names the inode it locked.
//!
//! ## Stop intents: `-stop` of an ID nobody has claimed
//!
//! A monitor launched an instant ago (or a start script's shell that will `exec` it) has not
//! claimed its ID yet. `-stop` then records a [`StopIntent`] under the entry's lock
//! ([`Registry::record_stop`]), and the monitor looks for one right after it has locked the
//! entry ([`Registry::acquire`]), before it does anything else: the lock orders the two, so either
//! the intent is there when the monitor looks, or the monitor holds the ID and `-stop` stops it
//! as a live monitor. No process list is read and no signal is sent to anything unclaimed.
//!
//! The rule, with times on the clock /proc counts process start times with (clock ticks of
//! `CLOCK_BOOTTIME`, [`sys::boot_ticks_now`], the unit of /proc/PID/stat field 22):
//!
//! - the intent records the tick `I` it was issued in, this boot's id, and the issuing
//!   `-stop`'s ancestors (pid and start time of each);
//! - `-stop` returns only once tick `I` is over, so a process forked after `-stop` returned
//!   has a start time greater than `I`, while one forked before the intent was issued has one of
//!   at most `I`;
//! - a monitor honours the intent (ends at once, event 3, exit 0, no probe) when its own process
//!   start time is at most `I`, in the same boot, and it is not one of the issuer's ancestors.
//!   The start time is the fork's and survives `exec`, so a start script's shell that was
//!   already running when `-stop` came, and `exec`s the monitor afterwards, is stopped;
//! - a monitor started after the intent (an administrator's start after the stop), one of
//!   another boot, and the issuer's own ancestors (a script that runs `-stop`, then `exec`s the
//!   monitor: a restart) ignore it, and the claim removes it. So does `-del`;
//! - an honoured intent stays until such a claim removes it: every launch that was under way
//!   when `-stop` came is stopped, not only the first to claim the ID.
//!
//! There is no age limit: only processes that existed when the intent was issued honour it,
//! and the first monitor started after it clears it. A monitor whose own start time cannot be
//! read never honours an intent.
//!
//! Entries are written in directories checked by [`sys::SafeDir`] (owned by root, writable by
//! root only, from the state directory down) and never through a symbolic link; entries are read
//! as small regular files only.

use std::fmt::Write as _;
use std::fs::{File, TryLockError};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::alert::Module;
use crate::paths::Paths;
use crate::sys;

/// What a live monitor records about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Monitor process id.
    pub pid: u32,
    /// Its start time in clock ticks since boot (/proc/PID/stat field 22).
    pub start_time: u64,
    /// Monitor ID.
    pub id: String,
    /// Applet name.
    pub applet: String,
    /// Share or directory watched.
    pub target: String,
    /// When the monitor started (RFC 3339).
    pub started: String,
    /// False while the monitor is still starting (ID claimed, licence and control channel not
    /// yet checked / ready); `-disp` calls it running only once this is true.
    #[serde(default = "running_default")]
    pub running: bool,
}

fn running_default() -> bool {
    true
}

impl Entry {
    /// The entry for this process.
    pub(crate) fn for_self(module: Module, id: &str, target: &str) -> Self {
        let pid = std::process::id();
        Self {
            pid,
            start_time: sys::process_start_time(pid).unwrap_or(0),
            id: id.to_owned(),
            applet: module.applet().to_owned(),
            target: target.to_owned(),
            started: chrono::Local::now().to_rfc3339(),
            running: false,
        }
    }

    /// Why this entry's process is not the monitor any more.
    pub(crate) fn stale_reason(&self) -> &'static str {
        match sys::process_start_time(self.pid) {
            None => "process gone",
            Some(t) if t != self.start_time => "pid reused by another program",
            Some(_) => "monitor no longer holds its lock",
        }
    }
}

/// A `-stop` of an ID that no monitor held (see the module documentation for the rule).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StopIntent {
    /// This boot's id when it was issued ([`sys::boot_id`]): ticks of another boot do not compare.
    pub boot_id: String,
    /// The tick of the boot clock it was issued in ([`sys::boot_ticks_now`]): comparable with a
    /// process start time (/proc/PID/stat field 22).
    pub boot_ticks: u64,
    /// The issuing `-stop`'s ancestors, parent first: (pid, start time). They never honour it.
    pub issued_by: Vec<(u32, u64)>,
    /// When it was issued (RFC 3339), for people.
    pub issued: String,
}

impl StopIntent {
    /// An intent issued now by this process.
    pub(crate) fn now() -> io::Result<Self> {
        Ok(Self {
            boot_id: sys::boot_id()?,
            boot_ticks: sys::boot_ticks_now()?,
            issued_by: sys::ancestors(),
            issued: chrono::Local::now().to_rfc3339(),
        })
    }

    /// Whether the monitor process `entry` describes must honour this intent, in the boot
    /// `boot_id`.
    pub(crate) fn applies_to(&self, entry: &Entry, boot_id: &str) -> bool {
        self.boot_id == boot_id
            && entry.start_time != 0
            && entry.start_time <= self.boot_ticks
            && !self.issued_by.contains(&(entry.pid, entry.start_time))
    }
}

/// What [`Registry::record_stop`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StopRecord {
    /// Nobody held the ID: the intent is recorded.
    Recorded(StopIntent),
    /// A monitor holds the ID (it claimed it meanwhile): stop it as a live monitor.
    Claimed,
}

/// What [`Registry::delete`] removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Deleted {
    /// The stale entry, if one was readable.
    pub entry: Option<Entry>,
    /// A pending stop intent, if there was one.
    pub stop: Option<StopIntent>,
}

/// The state of an ID in the registry.
#[derive(Debug, PartialEq, Eq)]
pub enum Liveness {
    /// A live monitor holds the ID (its entry, if readable).
    Alive(Option<Entry>),
    /// Files are left from a monitor that is gone.
    Stale(Option<Entry>),
    /// Nothing is registered.
    Absent,
}

/// Why [`Registry::acquire`] failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AcquireError {
    /// Event 14: a live monitor holds the ID.
    #[error("the ID is in use by pid {}", .0.as_ref().map_or_else(|| "?".to_string(), |e| e.pid.to_string()))]
    InUse(Option<Entry>),
    /// A system call failed.
    #[error("{op}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The error.
        source: io::Error,
    },
}

/// Why [`Registry::delete`] failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeleteError {
    /// The monitor is alive: use `-stop`.
    #[error("the monitor is running")]
    Alive(Option<Entry>),
    /// Nothing registered under this ID.
    #[error("no entry")]
    NotFound,
    /// A system call failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// The registry of one applet.
#[derive(Clone, Debug)]
pub struct Registry {
    state: PathBuf,
    dir: PathBuf,
    ctl_dir: PathBuf,
    module: Module,
}

/// A registry entry held by this process; dropping it removes the entry and releases the ID.
#[derive(Debug)]
pub(crate) struct Held {
    lock: File,
    dir: sys::SafeDir,
    stop: Option<StopIntent>,
}

const ENTRY: &str = "entry.json";
const STOP: &str = "stop";
/// Longest a status check or `-del` of another process may hold an entry's lock.
const BRIEF_HOLD: std::time::Duration = std::time::Duration::from_millis(200);
const LOCK: &str = "lock";

fn same_file(f: &File, path: &Path) -> bool {
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Largest entry file read: an entry is a few hundred bytes.
const ENTRY_MAX: u64 = 16 * 1024;

fn read_entry(dir: &Path) -> Option<Entry> {
    let data = sys::read_regular(&dir.join(ENTRY), ENTRY_MAX).ok()?;
    serde_json::from_slice(&data).ok()
}

fn read_stop(dir: &Path) -> Option<StopIntent> {
    let data = sys::read_regular(&dir.join(STOP), ENTRY_MAX).ok()?;
    serde_json::from_slice(&data).ok()
}

impl Registry {
    /// The registry of `module` under `paths`.
    pub fn new(paths: &Paths, module: Module) -> Self {
        let state = paths.state_dir();
        Self {
            dir: state.join(module.name()),
            ctl_dir: state.join("ctl"),
            state,
            module,
        }
    }

    fn entry_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// The entry directory of `id`, created when missing and checked for writing.
    fn safe_entry_dir(&self, id: &str) -> io::Result<sys::SafeDir> {
        sys::SafeDir::open(&self.entry_dir(id), &self.state, 0o700)
    }

    /// The control socket of `id`. IDs may be 255 bytes but socket paths only 108, so the name
    /// is a digest of the ID.
    pub fn socket_path(&self, id: &str) -> PathBuf {
        let h = Sha256::digest(id.as_bytes());
        let hex: String = h[..10].iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        });
        self.ctl_dir
            .join(format!("{}.{hex}.sock", self.module.name()))
    }

    /// Directory for control sockets.
    pub fn ctl_dir(&self) -> &Path {
        &self.ctl_dir
    }

    /// The applet this registry is of.
    pub fn module(&self) -> Module {
        self.module
    }

    /// Every ID with a directory in this registry (live, starting or stale), sorted; none when
    /// the registry does not exist yet.
    pub fn ids(&self) -> io::Result<Vec<String>> {
        let dir = match std::fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut ids = Vec::new();
        for e in dir {
            let e = e?;
            if let Some(id) = e.file_name().to_str()
                && crate::cli::valid_id(id)
                && e.file_type()?.is_dir()
            {
                ids.push(id.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Takes `id` for this process, replacing a stale entry. Fails with `InUse` when a live
    /// monitor holds it.
    pub(crate) fn acquire(&self, id: &str, entry: &Entry) -> Result<Held, AcquireError> {
        let dir = self.entry_dir(id);
        let io = |op| move |source| AcquireError::Io { op, source };
        for _ in 0..100 {
            let safe = self.safe_entry_dir(id).map_err(io("mkdir"))?;
            let lock_path = dir.join(LOCK);
            let f = match safe.open_lock(LOCK.as_ref(), 0o600) {
                Ok(f) => f,
                // The previous owner removed the directory between our mkdir and open.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io("open")(e)),
            };
            // A monitor holds its lock for life; -disp/-stop/-del hold it for microseconds.
            // Wait that out (bounded) before calling the ID in use.
            match crate::sys::lock_within(&f, true, BRIEF_HOLD) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(AcquireError::InUse(read_entry(&dir)));
                }
                Err(e) => return Err(io("flock")(e)),
            }
            if !same_file(&f, &lock_path) {
                continue; // we locked a file its owner had just removed
            }
            let stop = Self::pending_stop(&safe, entry).map_err(io("unlink"))?;
            let data = serde_json::to_vec_pretty(entry).expect("entry serialises");
            safe.write_atomic(ENTRY.as_ref(), &data, 0o600)
                .map_err(io("write entry"))?;
            return Ok(Held {
                lock: f,
                dir: safe,
                stop,
            });
        }
        Err(io("acquire")(io::Error::other(
            "registry entry kept changing",
        )))
    }

    /// The stop intent in the locked entry directory `safe` that the claiming monitor `entry`
    /// must honour. An intent that does not apply to it (or cannot be read) is removed.
    fn pending_stop(safe: &sys::SafeDir, entry: &Entry) -> io::Result<Option<StopIntent>> {
        if std::fs::symlink_metadata(safe.path().join(STOP)).is_err() {
            return Ok(None);
        }
        let boot = sys::boot_id().unwrap_or_default();
        match read_stop(safe.path()) {
            Some(intent) if intent.applies_to(entry, &boot) => Ok(Some(intent)),
            _ => safe.remove(STOP.as_ref()).map(|()| None),
        }
    }

    /// `-stop` of `id` while no monitor holds it: records a [`StopIntent`] under the entry's
    /// lock for a monitor that has not claimed the ID yet, and returns once the tick it was
    /// issued in is over (see the module documentation). [`StopRecord::Claimed`] when a monitor
    /// holds the ID after all; nothing is recorded then.
    pub(crate) fn record_stop(&self, id: &str) -> io::Result<StopRecord> {
        let dir = self.entry_dir(id);
        let lock_path = dir.join(LOCK);
        for _ in 0..100 {
            let safe = self.safe_entry_dir(id)?;
            let f = match safe.open_lock(LOCK.as_ref(), 0o600) {
                Ok(f) => f,
                // The previous owner removed the directory between our mkdir and open.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            match sys::lock_within(&f, true, BRIEF_HOLD) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(StopRecord::Claimed),
                Err(e) => return Err(e),
            }
            if !same_file(&f, &lock_path) {
                continue; // we locked a file its owner had just removed
            }
            let intent = StopIntent::now()?;
            let data = serde_json::to_vec_pretty(&intent).expect("intent serialises");
            safe.write_atomic(STOP.as_ref(), &data, 0o600)?;
            let _ = f.unlock();
            drop(f);
            sys::wait_boot_tick_after(intent.boot_ticks)?;
            return Ok(StopRecord::Recorded(intent));
        }
        Err(io::Error::other("registry entry kept changing"))
    }

    /// The state of `id`.
    pub fn status(&self, id: &str) -> io::Result<Liveness> {
        let dir = self.entry_dir(id);
        let lock_path = dir.join(LOCK);
        for _ in 0..100 {
            let f = match sys::open_regular(&lock_path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Ok(match read_entry(&dir) {
                        Some(e) => Liveness::Stale(Some(e)),
                        None if dir.exists() => Liveness::Stale(None),
                        None => Liveness::Absent,
                    });
                }
                Err(e) => return Err(e),
            };
            match f.try_lock_shared() {
                Ok(()) => {
                    let current = same_file(&f, &lock_path);
                    let entry = read_entry(&dir);
                    let _ = f.unlock();
                    if current {
                        return Ok(Liveness::Stale(entry));
                    }
                    // We locked a file its owner had just removed: look again.
                }
                Err(TryLockError::WouldBlock) => return Ok(Liveness::Alive(read_entry(&dir))),
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
        Err(io::Error::other("registry entry kept changing"))
    }

    /// Deletes a stale entry and a pending stop intent. Refuses a live one. Files are only ever
    /// removed under a lock on the entry's current lock file, so a monitor that starts meanwhile
    /// is never touched.
    pub(crate) fn delete(&self, id: &str) -> Result<Deleted, DeleteError> {
        let dir = self.entry_dir(id);
        let lock_path = dir.join(LOCK);
        for _ in 0..100 {
            if !dir.exists() {
                return Err(DeleteError::NotFound);
            }
            let opened = sys::SafeDir::existing(&dir, &self.state)
                .and_then(|safe| safe.open_lock(LOCK.as_ref(), 0o600).map(|f| (safe, f)));
            let (safe, f) = match opened {
                Ok(o) => o,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // directory went away
                Err(e) => return Err(e.into()),
            };
            match f.try_lock() {
                Ok(()) if same_file(&f, &lock_path) => {
                    let deleted = Deleted {
                        entry: read_entry(&dir),
                        stop: read_stop(&dir),
                    };
                    safe.remove(STOP.as_ref())?;
                    remove_entry(&dir, Some(&self.socket_path(id)));
                    drop(f);
                    return Ok(deleted);
                }
                Ok(()) => {} // locked a file its owner had just removed: look again
                Err(TryLockError::WouldBlock) => return Err(DeleteError::Alive(read_entry(&dir))),
                Err(TryLockError::Error(e)) => return Err(e.into()),
            }
        }
        Err(DeleteError::Io(io::Error::other(
            "registry entry kept changing",
        )))
    }
}

fn remove_entry(dir: &Path, socket: Option<&Path>) {
    let _ = std::fs::remove_file(dir.join(ENTRY));
    if let Some(s) = socket {
        let _ = std::fs::remove_file(s);
    }
    let _ = std::fs::remove_file(dir.join(LOCK));
    let _ = std::fs::remove_dir(dir);
}

impl Held {
    /// The stop intent this monitor found when it claimed its ID and must honour: it ends at
    /// once, as stopped on request.
    pub(crate) fn stop_intent(&self) -> Option<&StopIntent> {
        self.stop.as_ref()
    }

    /// Rewrites the entry (atomically), e.g. to mark the monitor running.
    pub(crate) fn publish(&self, entry: &Entry) -> io::Result<()> {
        let data = serde_json::to_vec_pretty(entry).expect("entry serialises");
        self.dir.write_atomic(ENTRY.as_ref(), &data, 0o600)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // Remove while still holding the lock; lockers re-check the inode after locking. An
        // honoured stop intent stays for the other launches that were under way when it came.
        remove_entry(self.dir.path(), None);
        let _ = self.lock.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> (tempfile::TempDir, Registry) {
        let d = tempfile::tempdir().unwrap();
        let r = Registry::new(&Paths::with_root(d.path()), Module::Sambamon);
        (d, r)
    }

    #[test]
    fn acquire_twice_is_in_use_then_free_after_drop() {
        let (_d, r) = reg();
        let e = Entry::for_self(Module::Sambamon, "w1", "share");
        let held = r.acquire("w1", &e).unwrap();
        assert!(matches!(
            r.acquire("w1", &e),
            Err(AcquireError::InUse(Some(_)))
        ));
        assert_eq!(r.status("w1").unwrap(), Liveness::Alive(Some(e.clone())));
        assert!(matches!(r.delete("w1"), Err(DeleteError::Alive(_))));
        drop(held);
        assert_eq!(r.status("w1").unwrap(), Liveness::Absent);
        let _again = r.acquire("w1", &e).unwrap();
    }

    #[test]
    fn leftover_entry_is_stale_and_replaceable() {
        let (_d, r) = reg();
        let dir = r.entry_dir("w2");
        std::fs::create_dir_all(&dir).unwrap();
        let ghost = Entry {
            pid: u32::MAX - 7,
            start_time: 1,
            ..Entry::for_self(Module::Sambamon, "w2", "s")
        };
        std::fs::write(dir.join(ENTRY), serde_json::to_vec(&ghost).unwrap()).unwrap();
        std::fs::write(dir.join(LOCK), b"").unwrap();
        match r.status("w2").unwrap() {
            Liveness::Stale(Some(e)) => assert_eq!(e.stale_reason(), "process gone"),
            other => panic!("{other:?}"),
        }
        let me = Entry::for_self(Module::Sambamon, "w2", "s");
        let _h = r.acquire("w2", &me).unwrap();
        assert_eq!(r.status("w2").unwrap(), Liveness::Alive(Some(me)));
    }

    #[test]
    fn planted_links_are_refused_or_replaced_never_followed() {
        let (d, r) = reg();
        let victim = d.path().join("victim");
        let me = Entry::for_self(Module::Sambamon, "w3", "s");
        // a link at the lock file: refused, its target is not created
        let dir = r.entry_dir("w3");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(LOCK)).unwrap();
        match r.acquire("w3", &me) {
            Err(AcquireError::Io { source, .. }) => {
                let u = sys::UnsafePath::of(&source).expect("an unsafe-path refusal");
                assert_eq!(u.path, dir.join(LOCK));
            }
            other => panic!("{other:?}"),
        }
        assert!(std::fs::symlink_metadata(&victim).is_err());
        assert!(matches!(r.delete("w3"), Err(DeleteError::Io(_))));
        // a link at the entry: replaced by the entry, the victim keeps its content
        std::fs::remove_file(dir.join(LOCK)).unwrap();
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(ENTRY)).unwrap();
        let held = r.acquire("w3", &me).unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(r.status("w3").unwrap(), Liveness::Alive(Some(me)));
        drop(held);
        // an entry directory others can write is refused
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))
            .unwrap();
        let e = Entry::for_self(Module::Sambamon, "w3", "s");
        assert!(matches!(
            r.acquire("w3", &e),
            Err(AcquireError::Io { ref source, .. }) if sys::UnsafePath::of(source).is_some()
        ));
    }

    /// An entry for a process forked now, after everything before this call (a `sleep`
    /// that the caller kills).
    fn fresh_process(id: &str) -> (std::process::Child, Entry) {
        let child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let e = Entry {
            pid: child.id(),
            start_time: sys::process_start_time(child.id()).unwrap(),
            ..Entry::for_self(Module::Sambamon, id, "s")
        };
        (child, e)
    }

    #[test]
    fn a_stop_of_an_unclaimed_id_ends_launches_under_way_not_later_starts() {
        let (_d, r) = reg();
        // This process started before the -stop: a launch under way when it came.
        let launching = Entry::for_self(Module::Sambamon, "w4", "s");
        let StopRecord::Recorded(intent) = r.record_stop("w4").unwrap() else {
            panic!("nobody holds w4");
        };
        assert!(
            sys::boot_ticks_now().unwrap() > intent.boot_ticks,
            "returned within its tick"
        );
        assert_eq!(r.status("w4").unwrap(), Liveness::Stale(None));
        let held = r.acquire("w4", &launching).unwrap();
        assert_eq!(held.stop_intent(), Some(&intent));
        drop(held);
        // kept for every launch that was under way: a second one honours it too
        let held = r.acquire("w4", &launching).unwrap();
        assert_eq!(held.stop_intent(), Some(&intent));
        drop(held);
        // a monitor forked after -stop returned ignores it, and its claim removes it
        let (mut child, later) = fresh_process("w4");
        let held = r.acquire("w4", &later).unwrap();
        assert_eq!(held.stop_intent(), None);
        assert!(!r.entry_dir("w4").join(STOP).exists());
        drop(held);
        let held = r.acquire("w4", &launching).unwrap();
        assert_eq!(held.stop_intent(), None, "a cleared intent stops nobody");
        drop(held);
        assert_eq!(r.status("w4").unwrap(), Liveness::Absent);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn intents_of_another_boot_or_issued_by_an_ancestor_do_not_apply() {
        let boot = sys::boot_id().unwrap();
        let me = Entry::for_self(Module::Sambamon, "w5", "s");
        let intent = StopIntent::now().unwrap();
        assert!(intent.applies_to(&me, &boot));
        assert!(!intent.applies_to(&me, "another-boot"));
        // started after it
        let later = Entry {
            start_time: intent.boot_ticks + 1,
            ..me.clone()
        };
        assert!(!intent.applies_to(&later, &boot));
        // an unknown start time is never taken for an early one
        let unknown = Entry {
            start_time: 0,
            ..me.clone()
        };
        assert!(!intent.applies_to(&unknown, &boot));
        // the process that ran the -stop (here: its parent), should it exec a monitor next
        let parent = std::os::unix::process::parent_id();
        let issuer = Entry {
            pid: parent,
            start_time: sys::process_start_time(parent).unwrap(),
            ..me.clone()
        };
        assert_eq!(intent.issued_by[0], (issuer.pid, issuer.start_time));
        assert!(!intent.applies_to(&issuer, &boot));
        // and an intent from another boot is removed by the next claim
        let (_d, r) = reg();
        let StopRecord::Recorded(_) = r.record_stop("w5").unwrap() else {
            panic!("nobody holds w5");
        };
        let path = r.entry_dir("w5").join(STOP);
        let other = StopIntent {
            boot_id: "another-boot".into(),
            ..intent
        };
        std::fs::write(&path, serde_json::to_vec(&other).unwrap()).unwrap();
        let held = r.acquire("w5", &me).unwrap();
        assert_eq!(held.stop_intent(), None);
        assert!(!path.exists());
    }

    #[test]
    fn stop_of_a_held_id_records_nothing_and_del_removes_a_pending_stop() {
        let (_d, r) = reg();
        let me = Entry::for_self(Module::Sambamon, "w6", "s");
        let held = r.acquire("w6", &me).unwrap();
        let t = std::time::Instant::now();
        assert_eq!(r.record_stop("w6").unwrap(), StopRecord::Claimed);
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        assert!(!r.entry_dir("w6").join(STOP).exists());
        drop(held);
        let StopRecord::Recorded(intent) = r.record_stop("w6").unwrap() else {
            panic!("nobody holds w6");
        };
        let deleted = r.delete("w6").unwrap();
        assert_eq!(
            deleted,
            Deleted {
                entry: None,
                stop: Some(intent)
            }
        );
        assert_eq!(r.status("w6").unwrap(), Liveness::Absent);
        assert_eq!(r.acquire("w6", &me).unwrap().stop_intent(), None);
    }

    #[test]
    fn a_link_planted_at_the_stop_file_is_never_followed() {
        let (d, r) = reg();
        let victim = d.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let dir = r.entry_dir("w7");
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(STOP)).unwrap();
        // -stop replaces the link with its intent
        let StopRecord::Recorded(intent) = r.record_stop("w7").unwrap() else {
            panic!("nobody holds w7");
        };
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(read_stop(&dir), Some(intent));
        // a claim removes a link it finds there, and does not take it for an intent
        std::fs::remove_file(dir.join(STOP)).unwrap();
        std::os::unix::fs::symlink(&victim, dir.join(STOP)).unwrap();
        let me = Entry::for_self(Module::Sambamon, "w7", "s");
        let held = r.acquire("w7", &me).unwrap();
        assert_eq!(held.stop_intent(), None);
        assert!(std::fs::symlink_metadata(dir.join(STOP)).is_err());
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn ids_lists_the_entry_directories_sorted() {
        let (_d, r) = reg();
        assert_eq!(r.ids().unwrap(), Vec::<String>::new());
        let b = r
            .acquire("b2", &Entry::for_self(Module::Sambamon, "b2", "s"))
            .unwrap();
        let a = r
            .acquire("a1", &Entry::for_self(Module::Sambamon, "a1", "s"))
            .unwrap();
        std::fs::write(r.dir.join("not-an-id"), b"").unwrap();
        assert_eq!(r.ids().unwrap(), ["a1", "b2"]);
        drop((a, b));
        assert_eq!(r.ids().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn socket_path_fits_sun_path_for_longest_id() {
        let (_d, r) = reg();
        let id = "a".repeat(255);
        let p = r.socket_path(&id);
        assert!(p.file_name().unwrap().len() < 40);
    }
}
