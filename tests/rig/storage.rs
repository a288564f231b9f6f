//! Storage a test can break under a share or an export (issue 13, item 3): the faults a process
//! check cannot see, made real on this machine and undone again.
//!
//! Every [`Storage`] lives in a temp dir of its own (mode 0755, so smbd's guest account can walk
//! it) and mounts one file system there; the share or export points at its [`Storage::share`]
//! directory, `mnt/share` (mode 1777, holding one file, [`HELLO`]). Two backings:
//!
//! - **FUSE** ([`Storage::fuse`]): bindfs mirrors `src` at `mnt`, run in the foreground (`-f`)
//!   in a session of its own, so the test holds the daemon's own pid. The kernel caches no
//!   attribute or entry (`attr_timeout=0,entry_timeout=0`), so every look below `mnt` reaches
//!   the daemon; `allow_other` lets smbd's guest account in.
//!   [`Fault::Hang`] is SIGSTOP of that pid (every I/O below `mnt` blocks), healed by SIGCONT.
//!   [`Storage::fuse_over`] mounts the same over a directory of the caller's (storage under a
//!   path the test does not choose, e.g. a licence store in a sandbox).
//! - **ext4 on a loop device** ([`Storage::ext4`]): an 8 MiB image `truncate`d in the temp dir,
//!   `mkfs.ext4 -q -m 0` (no blocks reserved for root: the servers write as root (Ganesha,
//!   `No_Root_Squash`) and as `nobody` (smbd's guest), and a full file system must be full for
//!   both), attached with `losetup --find --show`, mounted at `mnt`.
//!   [`Fault::ReadOnly`] is `mount -o remount,ro` (the superblock turns read-only, so the server's
//!   copy of the mount in its private mount namespace is read-only too), healed by `remount,rw`.
//!   [`Fault::Full`] writes `mnt/.fill` (outside the share) until `ENOSPC` in ever smaller
//!   chunks down to one byte, and checks `statvfs` says no block is left; healed by removing it.
//!   [`Fault::Removed`] deletes the `mnt/share` directory itself (its contents moved aside to
//!   `mnt/share.removed` first), healed by making it again and moving them back: a rename
//!   would not do, since an NFS server reaches its export by handle and never sees the new
//!   name. (Ganesha also keeps the old handle after the heal, until it restarts.)
//!
//! The servers run in private mount namespaces (smbd's `unshare -m`, Ganesha's `ip netns exec` +
//! `unshare -m`) that copy the host's mounts when they start and see none made later, so a
//! Storage is made *before* its server starts. Its mounts are made on the host, and nothing stays
//! mounted there after the test, even when it panics: `Drop` heals the fault (SIGCONT first: a
//! process blocked on a stopped FUSE daemon cannot even be killed), unmounts (`fusermount -u` or
//! `umount`, `umount -l` as the last resort), ends bindfs by its pid, and detaches exactly the
//! loop device it attached (after checking that device still has this Storage's image behind
//! it). A server that holds a copy of the mount must be dropped before its Storage and after the
//! fault is healed: [`Site`] holds both in that order.
//!
//! The rig shells out to `mount`, `umount`, `losetup`, `mkfs.ext4`, `fusermount` and `bindfs`
//! rather than calling mount(2) itself: these are the tools an administrator breaks storage with,
//! and each is one line to read in a failure message.

use std::cell::Cell;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{OwnSession, require_root, require_tool, wait_until};

/// The file every share holds (so a listing has an entry to return).
pub const HELLO: &str = "hello";
/// ganesha.conf lines for a server on a Storage that will be remounted read-only: Ganesha keeps
/// files it has written open in its fd cache until its LRU thread reaps them (by default only
/// above half the fd limit, every 90 s), and the kernel refuses a read-only remount while a file
/// is open for writing. With these, the LRU thread closes every cached fd it can about once a
/// second.
pub const GANESHA_FD_REAPER: &str =
    "MDCACHE { FD_LWMark_Percent = 0; FD_HWMark_Percent = 1; LRU_Run_Interval = 1; }\n";
/// Size of the ext4 image.
const IMAGE_BYTES: u64 = 8 << 20;

/// A storage fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The FUSE daemon under the share stopped: every I/O hangs.
    Hang,
    /// The file system remounted read-only.
    ReadOnly,
    /// The file system full.
    Full,
    /// The share's directory deleted.
    Removed,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Self; 4] = [Self::Hang, Self::ReadOnly, Self::Full, Self::Removed];

    /// A short name for test output.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hang => "hang",
            Self::ReadOnly => "read-only",
            Self::Full => "full",
            Self::Removed => "removed",
        }
    }
}

enum Backing {
    /// bindfs of `src` at the mount point; `None` once it has been reaped.
    Fuse { daemon: Option<Child> },
    /// The loop device attached to `image`.
    Ext4 { device: String, image: PathBuf },
}

/// One mounted file system with a share directory on it, and at most one fault in place.
pub struct Storage {
    /// The temp dir; `None` only when Drop leaves it behind (still mounted).
    dir: Option<tempfile::TempDir>,
    mnt: PathBuf,
    share: PathBuf,
    backing: Backing,
    /// A `Cell`, so a fault can be put in place and healed through a shared reference (a test
    /// may hold the Storage inside something else it only lends out).
    fault: Cell<Option<Fault>>,
}

/// Runs `prog args`, panicking with its stderr unless it succeeds; returns its stdout.
fn run(prog: &str, args: &[&str]) -> String {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{prog}: {e}"));
    assert!(
        out.status.success(),
        "{prog} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `prog args`, true when it succeeds (teardown: errors are looked at, not fatal).
fn try_run(prog: &str, args: &[&str]) -> bool {
    Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Undoes mountinfo's octal escapes (`\040` for a space…).
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let s = std::str::from_utf8(&b[i + 1..i + 4]).unwrap();
            out.push(u8::from_str_radix(s, 8).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount at `at` in this process's mount namespace: (file system type, source, super
/// options), the topmost when several are stacked there.
pub fn mount_at(at: &Path) -> Option<(String, String, String)> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let at = at.to_string_lossy();
    info.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let point = unescape(left.split(' ').nth(4)?);
            let mut r = right.split(' ');
            let (fstype, source, opts) = (r.next()?, r.next()?, r.next()?);
            (point == at).then(|| (fstype.to_owned(), unescape(source), opts.to_owned()))
        })
        .next_back()
}

impl Storage {
    /// The backing a fault needs: FUSE for a hang, ext4 for the rest.
    pub fn for_fault(fault: Fault) -> Self {
        match fault {
            Fault::Hang => Self::fuse(),
            Fault::ReadOnly | Fault::Full | Fault::Removed => Self::ext4(),
        }
    }

    fn temp() -> (tempfile::TempDir, PathBuf) {
        require_root("a storage mount");
        let dir = tempfile::Builder::new()
            .prefix("clpfs-storage-")
            .tempdir()
            .unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let mnt = dir.path().join("mnt");
        fs::create_dir(&mnt).unwrap();
        (dir, mnt)
    }

    /// Makes the share directory (mode 1777, with [`HELLO`]) at `root/share`.
    fn make_share(root: &Path) {
        let share = root.join("share");
        fs::create_dir(&share).unwrap();
        fs::set_permissions(&share, fs::Permissions::from_mode(0o1777)).unwrap();
        fs::write(share.join(HELLO), "hello\n").unwrap();
    }

    /// bindfs of a directory of the temp dir, mounted at `mnt`.
    pub fn fuse() -> Self {
        let (dir, mnt) = Self::temp();
        let src = dir.path().join("src");
        fs::create_dir(&src).unwrap();
        Self::make_share(&src);
        let share = mnt.join("share");
        Self::bindfs(dir, &src, mnt, share)
    }

    /// bindfs of the caller's directory `src` mounted over the caller's directory `at`, which
    /// is then [`Storage::share`] too (for storage under a path the test does not choose, such
    /// as a product directory in a sandbox). Only [`Fault::Hang`] applies; the directories stay
    /// the caller's (the temp dir holds the daemon's log only).
    pub fn fuse_over(src: &Path, at: &Path) -> Self {
        let (dir, _) = Self::temp();
        Self::bindfs(dir, src, at.to_owned(), at.to_owned())
    }

    fn bindfs(dir: tempfile::TempDir, src: &Path, mnt: PathBuf, share: PathBuf) -> Self {
        let bindfs = require_tool("bindfs", "bindfs");
        require_tool("fusermount", "fuse");
        let log = fs::File::create(dir.path().join("bindfs.out")).unwrap();
        let daemon = Command::new(bindfs)
            .args(["-f", "-o", "allow_other,attr_timeout=0,entry_timeout=0"])
            .arg(src)
            .arg(&mnt)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .own_session()
            .spawn()
            .expect("bindfs");
        let s = Self {
            dir: Some(dir),
            mnt,
            share,
            backing: Backing::Fuse {
                daemon: Some(daemon),
            },
            fault: Cell::new(None),
        };
        let mounted = wait_until(Duration::from_secs(10), || {
            mount_at(&s.mnt).is_some_and(|m| m.0.starts_with("fuse"))
        });
        if !mounted {
            let log = fs::read_to_string(s.path("bindfs.out")).unwrap_or_default();
            drop(s);
            panic!("bindfs did not mount within 10 s:\n{log}");
        }
        // bindfs must still be the daemon serving it (not one that exited after mounting).
        assert!(s.daemon_running(), "bindfs exited after mounting");
        s
    }

    /// ext4 on a loop device, mounted at `mnt`.
    pub fn ext4() -> Self {
        require_tool("mkfs.ext4", "e2fsprogs");
        require_tool("losetup", "mount");
        let (dir, mnt) = Self::temp();
        let image = dir.path().join("ext4.img");
        let img = image.to_str().unwrap();
        run("truncate", &["-s", &IMAGE_BYTES.to_string(), img]);
        run("mkfs.ext4", &["-q", "-m", "0", "-F", img]);
        let device = run("losetup", &["--find", "--show", img]).trim().to_owned();
        assert!(device.starts_with("/dev/loop"), "losetup said {device:?}");
        let share = mnt.join("share");
        let s = Self {
            dir: Some(dir),
            mnt,
            share,
            backing: Backing::Ext4 { device, image },
            fault: Cell::new(None),
        };
        // From here on, Drop detaches the device (and unmounts) whatever fails.
        let Backing::Ext4 { device, .. } = &s.backing else {
            unreachable!()
        };
        run("mount", &["-t", "ext4", device, s.mnt.to_str().unwrap()]);
        Self::make_share(&s.mnt);
        s
    }

    /// `name` in the temp dir.
    fn path(&self, name: &str) -> PathBuf {
        self.dir
            .as_ref()
            .map(|d| d.path().join(name))
            .unwrap_or_default()
    }

    /// The directory the share or export points at.
    pub fn share(&self) -> &Path {
        &self.share
    }

    /// The mount point.
    pub fn mount_point(&self) -> &Path {
        &self.mnt
    }

    /// The fault in place, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.fault.get()
    }

    fn daemon_pid(&self) -> Option<Pid> {
        match &self.backing {
            Backing::Fuse { daemon: Some(d) } => Some(Pid::from_raw(d.id().cast_signed())),
            _ => None,
        }
    }

    /// True while the bindfs daemon lives (not even a zombie: its `/proc` state is not `Z`).
    fn daemon_running(&self) -> bool {
        self.daemon_pid().is_some_and(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|st| {
                st.rsplit_once(") ")
                    .is_some_and(|(_, rest)| !rest.starts_with('Z'))
            })
        })
    }

    /// The loop device (ext4 only).
    pub fn device(&self) -> Option<&str> {
        match &self.backing {
            Backing::Ext4 { device, .. } => Some(device),
            Backing::Fuse { .. } => None,
        }
    }

    /// Puts `fault` in place (one at a time; the backing must support it).
    pub fn inject(&self, fault: Fault) {
        assert_eq!(self.fault(), None, "{:?} is still in place", self.fault());
        let mnt = self.mnt.to_str().unwrap().to_owned();
        match fault {
            Fault::Hang => {
                assert!(
                    self.daemon_running(),
                    "hang needs a live bindfs (Storage::fuse)"
                );
                kill(self.daemon_pid().unwrap(), Signal::SIGSTOP).unwrap();
            }
            Fault::ReadOnly => {
                assert!(self.device().is_some(), "read-only needs Storage::ext4");
                // The kernel refuses (EBUSY) while a file is open for writing: a server may
                // hold one a little longer than its client (Ganesha's fd cache, see
                // [`GANESHA_FD_REAPER`]). `errors=remount-ro` would not wait; this does, briefly.
                let mut last = String::new();
                let done = wait_until(Duration::from_secs(10), || {
                    let out = Command::new("mount")
                        .args(["-o", "remount,ro", &mnt])
                        .stdin(Stdio::null())
                        .output()
                        .expect("mount");
                    last = String::from_utf8_lossy(&out.stderr).into_owned();
                    out.status.success() || {
                        std::thread::sleep(Duration::from_millis(50));
                        false
                    }
                });
                assert!(done, "mount -o remount,ro {mnt} within 10 s: {last}");
                let (_, _, opts) = mount_at(&self.mnt).expect("still mounted");
                assert!(opts.split(',').any(|o| o == "ro"), "super options {opts}");
            }
            Fault::Full => {
                assert!(self.device().is_some(), "full needs Storage::ext4");
                self.fill();
            }
            Fault::Removed => {
                assert_ne!(
                    self.share, self.mnt,
                    "removed needs a share below the mount point"
                );
                // The directory itself goes (its contents are kept aside for the heal).
                let aside = self.removed_path();
                fs::create_dir(&aside).unwrap();
                for e in fs::read_dir(&self.share).unwrap() {
                    let e = e.unwrap();
                    fs::rename(e.path(), aside.join(e.file_name())).unwrap();
                }
                fs::remove_dir(&self.share).unwrap();
            }
        }
        self.fault.set(Some(fault));
    }

    /// Makes the share directory again (mode 1777) and moves its old contents back in.
    fn restore_dir(&self) -> std::io::Result<()> {
        let aside = self.removed_path();
        fs::create_dir(&self.share)?;
        fs::set_permissions(&self.share, fs::Permissions::from_mode(0o1777))?;
        for e in fs::read_dir(&aside)? {
            let e = e?;
            fs::rename(e.path(), self.share.join(e.file_name()))?;
        }
        fs::remove_dir(&aside)
    }

    fn removed_path(&self) -> PathBuf {
        self.mnt.join("share.removed")
    }

    fn fill_path(&self) -> PathBuf {
        self.mnt.join(".fill")
    }

    /// Writes `mnt/.fill` until the file system has no block left for anyone.
    fn fill(&self) {
        let mut f = fs::File::create(self.fill_path()).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for chunk in [1 << 20, 1 << 16, 1 << 12, 1 << 10, 1] {
            loop {
                match f.write(&zeros[..chunk]) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.raw_os_error() == Some(nix::errno::Errno::ENOSPC as i32) => break,
                    Err(e) => panic!("filling {}: {e}", self.fill_path().display()),
                }
            }
        }
        f.sync_all().unwrap();
        let st = nix::sys::statvfs::statvfs(&self.mnt).unwrap();
        assert_eq!(
            st.blocks_available(),
            0,
            "{} not full after the fill",
            self.mnt.display()
        );
    }

    /// Undoes the fault in place (nothing when there is none).
    pub fn heal(&self) {
        if let Err(e) = self.try_heal() {
            panic!("healing {:?}: {e}", self.fault());
        }
    }

    /// [`Storage::heal`] without a panic (for a Drop: a panic while a failed test unwinds
    /// would abort the test binary); the fault is forgotten once it is undone.
    pub fn try_heal(&self) -> Result<(), String> {
        let Some(fault) = self.fault() else {
            return Ok(());
        };
        let mnt = self.mnt.to_str().unwrap().to_owned();
        let ok = match fault {
            Fault::Hang => self
                .daemon_pid()
                .is_some_and(|pid| kill(pid, Signal::SIGCONT).is_ok()),
            Fault::ReadOnly => try_run("mount", &["-o", "remount,rw", &mnt]),
            Fault::Full => {
                fs::remove_file(self.fill_path()).is_ok() && try_run("sync", &["-f", &mnt])
            }
            Fault::Removed => self.restore_dir().is_ok(),
        };
        if !ok {
            return Err(format!("could not undo {} on {mnt}", fault.name()));
        }
        self.fault.set(None);
        Ok(())
    }

    /// Unmounts `mnt` if what is mounted there is this Storage's (`fuse*` for bindfs, ext4 from
    /// its own loop device), with `how` first and `umount -l` as the last resort. True when
    /// nothing of ours is mounted there any more.
    fn unmount(&self) -> bool {
        let ours = |m: &(String, String, String)| match &self.backing {
            Backing::Fuse { .. } => m.0.starts_with("fuse"),
            Backing::Ext4 { device, .. } => m.0 == "ext4" && &m.1 == device,
        };
        let mnt = self.mnt.to_str().unwrap();
        for attempt in 0..3 {
            match mount_at(&self.mnt) {
                Some(m) if ours(&m) => {}
                _ => return true,
            }
            let done = match (&self.backing, attempt) {
                (Backing::Fuse { .. }, 0) => try_run("fusermount", &["-u", mnt]),
                (Backing::Ext4 { .. }, 0) => try_run("umount", &[mnt]),
                _ => try_run("umount", &["-l", mnt]),
            };
            if !done {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        !mount_at(&self.mnt).is_some_and(|m| ours(&m))
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        // A stopped daemon is continued before anything else looks below the mount point.
        if let Some(pid) = self.daemon_pid() {
            let _ = kill(pid, Signal::SIGCONT);
        }
        // Nothing here panics: a panic while a failed test unwinds would abort the binary.
        let _ = self.try_heal();
        let unmounted = self.unmount();
        match &mut self.backing {
            Backing::Fuse { daemon } => {
                if let Some(mut d) = daemon.take() {
                    // bindfs -f ends when its mount goes; else it is killed by its own pid.
                    let end = Instant::now() + Duration::from_secs(5);
                    while d.try_wait().ok().flatten().is_none() && Instant::now() < end {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    if d.try_wait().ok().flatten().is_none() {
                        let _ = d.kill();
                    }
                    let _ = d.wait();
                }
                if !unmounted {
                    // A killed daemon leaves its mount behind ("Transport endpoint is not
                    // connected"): detach it now that nothing can hang on it.
                    let _ = self.unmount();
                }
            }
            Backing::Ext4 { device, image } => {
                // Detach exactly our device, and only while our image is still behind it.
                let name = device.trim_start_matches("/dev/");
                let back = fs::read_to_string(format!("/sys/block/{name}/loop/backing_file"))
                    .unwrap_or_default();
                if Path::new(back.trim()) == image.as_path() {
                    let _ = try_run("losetup", &["-d", device]);
                }
            }
        }
        if mount_at(&self.mnt).is_some() {
            // Never delete through a mount that could not be removed: leave the directory.
            if let Some(dir) = self.dir.take() {
                eprintln!(
                    "storage rig: {} is still mounted; leaving {}",
                    self.mnt.display(),
                    dir.keep().display()
                );
            }
        }
    }
}

/// A server and the storage under it, dropped in the one safe order: the fault healed first
/// (a server blocked on a stopped FUSE daemon cannot be killed, and its wait would never end),
/// then the server (which holds a copy of the mount in its mount namespace), then the storage.
pub struct Site<S> {
    /// The server; dropped before [`Site::storage`].
    pub server: S,
    /// The storage under it.
    pub storage: Storage,
}

impl<S> Drop for Site<S> {
    fn drop(&mut self) {
        if let Some(pid) = self.storage.daemon_pid() {
            let _ = kill(pid, Signal::SIGCONT);
        }
        let _ = self.storage.try_heal();
        // Fields drop next, in order: server, then storage.
    }
}
