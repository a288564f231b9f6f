//! Storage under an export that a test can break while the server still answers, mounted on
//! this host before the NFS server starts and exported by it:
//!
//! - [`Bindfs`]: a FUSE file system (bindfs, a mirror of a scratch directory) that hangs when its
//!   daemon is stopped with SIGSTOP. Every file-system call that reaches the mount then waits
//!   for the daemon; whatever the server answers from its caches still passes.
//! - [`Tmpfs`]: a small tmpfs, to fill up (storage that is full).
//!
//! The server sees a mount because its mount namespace is a copy of this one made when it
//! starts (`ip netns exec` … `unshare -m`), so the storage must be mounted first and must
//! outlive the server: declare it before the server, so it is dropped after it. [`Bindfs::freeze`]
//! returns a guard that sends SIGCONT when it goes (declare it after the server, so the server
//! is never killed while its storage is frozen); dropping the [`Bindfs`] continues the daemon
//! too, unmounts the mount point lazily (`fusermount -u -z`) and waits, bounded, for the daemon
//! to end, killing it after that — whether the test passed or not. A [`Tmpfs`] is unmounted
//! (lazily) when it is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::OwnSession;

/// A bindfs mount of a scratch directory, run in the foreground by this rig.
pub struct Bindfs {
    dir: tempfile::TempDir,
    mnt: PathBuf,
    child: Option<Child>,
}

/// True when `path` is a mount point in this mount namespace.
fn mounted(path: &Path) -> bool {
    let want = path.to_string_lossy();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(&*want))
}

impl Bindfs {
    /// Mounts a mirror of a fresh directory (holding the file `hello`) and waits, up to 10 s,
    /// until the mount is there. A missing bindfs fails the test, naming its package.
    pub fn mount() -> Self {
        let bindfs = super::require_tool("bindfs", "bindfs");
        super::require_tool("fusermount", "fuse");
        let dir = tempfile::Builder::new()
            .prefix("clp-fuse-rig")
            .tempdir()
            .unwrap();
        let src = dir.path().join("src");
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&src).unwrap();
        std::fs::create_dir(&mnt).unwrap();
        std::fs::write(src.join("hello"), "hello\n").unwrap();
        let child = Command::new(bindfs)
            .arg("-f")
            .arg(&src)
            .arg(&mnt)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("bindfs.err")).unwrap())
            .own_session()
            .spawn()
            .expect("spawn bindfs");
        let mut me = Self {
            dir,
            mnt,
            child: Some(child),
        };
        let until = Instant::now() + Duration::from_secs(10);
        while !mounted(&me.mnt) {
            if let Some(st) = me.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("bindfs exited ({st}): {}", me.stderr());
            }
            assert!(
                Instant::now() < until,
                "bindfs did not mount within 10 s: {}",
                me.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        me
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bindfs.err")).unwrap_or_default()
    }

    /// The mount point (the directory to export).
    pub fn path(&self) -> &Path {
        &self.mnt
    }

    /// The directory the mount mirrors: what the file system really holds.
    pub fn backing(&self) -> PathBuf {
        self.dir.path().join("src")
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.as_ref().unwrap().id()).unwrap())
    }

    /// Stops the daemon (SIGSTOP) until the guard is dropped (SIGCONT).
    pub fn freeze(&self) -> Frozen {
        kill(self.pid(), Signal::SIGSTOP).unwrap();
        Frozen(self.pid())
    }
}

/// The bindfs daemon stopped; SIGCONT on drop.
pub struct Frozen(Pid);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = kill(self.0, Signal::SIGCONT);
    }
}

impl Drop for Bindfs {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let _ = kill(pid, Signal::SIGCONT);
        let _ = Command::new("fusermount")
            .arg("-u")
            .arg("-z")
            .arg(&self.mnt)
            .output();
        if mounted(&self.mnt) {
            let _ = Command::new("umount").arg("-l").arg(&self.mnt).output();
        }
        let until = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A tmpfs of a given size on a scratch mount point.
pub struct Tmpfs {
    dir: tempfile::TempDir,
    mnt: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `kib` KiB, mode 0755, holding the file `hello`.
    pub fn mount(kib: u32) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("clp-tmpfs-rig")
            .tempdir()
            .unwrap();
        let mnt = dir.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={kib}k,mode=0755"),
                "tmpfs",
            ])
            .arg(&mnt)
            .output()
            .expect("spawn mount");
        assert!(
            out.status.success(),
            "mount tmpfs: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let me = Self { dir, mnt };
        std::fs::write(me.mnt.join("hello"), "hello\n").unwrap();
        me
    }

    /// The mount point (the directory to export).
    pub fn path(&self) -> &Path {
        &self.mnt
    }

    /// Fills the file system with one file (`fill`) until it refuses more (`ENOSPC`).
    pub fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.mnt.join("fill")).unwrap();
        let block = vec![0u8; 4096];
        loop {
            match f.write_all(&block) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOSPC) => break,
                Err(e) => panic!("filling {}: {e}", self.mnt.display()),
            }
        }
        let _ = f.sync_all();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mnt).output();
        let _ = &self.dir;
    }
}
