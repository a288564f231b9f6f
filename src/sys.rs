//! Small system helpers shared by the runtime: atomic state writes, append-only log lines,
//! root check, host name, process identity from /proc and the boot clock it counts on, signals
//! sent through a pidfd (never to a reused pid), and bounded child and thread waits.
//!
//! Every file root writes goes through [`SafeDir`]: the directory (the product's own state, log
//! or licence directory) must be owned by root and writable by root only and be no symbolic
//! link, the directories above it must not be changeable by another user, and the path is
//! walked one directory at a time (`openat` with `O_NOFOLLOW`) so that the descriptor checked is
//! the one used. The file itself is opened relative to that descriptor with `O_NOFOLLOW` (temp
//! files with `O_EXCL`), so a symbolic link planted where a log, state file or product
//! directory belongs is refused, never written through. Files read from those
//! directories are read with [`read_regular`]: regular files only, bounded in size.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// True when the effective user is root.
pub(crate) fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// This server's host name (event 61 when it cannot be had).
pub(crate) fn hostname() -> Result<String, nix::Error> {
    let h = nix::unistd::gethostname()?;
    Ok(h.to_string_lossy().into_owned())
}

/// Writes `data` to `path` atomically, in a directory checked by [`SafeDir::open`] (the parent
/// is the product's own directory): a temp file created with `O_EXCL`, fsync, rename.
/// Callers that race on the same path hold a lock around the call.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let (dir, name) = split(path)?;
    SafeDir::open(dir, dir, 0o755)?.write_atomic(name, data, mode)
}

/// Takes a `flock` on `f` (exclusive or shared), waiting at most `limit`: a holder that is stuck
/// (stopped, hung on a dead NFS server) must not hang us. `TimedOut` when it could not be had.
pub(crate) fn lock_within(f: &File, exclusive: bool, limit: Duration) -> io::Result<()> {
    use std::fs::TryLockError;
    let end = Instant::now() + limit;
    loop {
        let r = if exclusive {
            f.try_lock()
        } else {
            f.try_lock_shared()
        };
        match r {
            Ok(()) => return Ok(()),
            Err(TryLockError::Error(e)) => return Err(e),
            Err(TryLockError::WouldBlock) if Instant::now() >= end => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("lock still held by another process after {limit:?}"),
                ));
            }
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// How long a log append waits for the log's lock before writing without it.
pub const APPEND_LOCK_WAIT: Duration = Duration::from_secs(2);

/// Appends one line with a single `write(2)` on an `O_APPEND` descriptor, under an exclusive
/// lock, so concurrent writers never interleave. When the lock cannot be had within 2 s (its
/// holder is stuck) the line is written anyway: an `O_APPEND` write of one short line is not
/// interleaved on a local file system, and an alert must never be lost or delayed for long.
///
/// The file is opened for this one line and closed again, so a log rotated by renaming (or
/// copied and truncated) is picked up at the next line. It is created (0640) with its directory
/// when missing; the directory is the product's own and is checked, and the file is never
/// reached through a symbolic link (see [`SafeDir`]).
pub(crate) fn append_line(path: &Path, line: &[u8]) -> io::Result<()> {
    let (dir, name) = split(path)?;
    let mut f = SafeDir::open(dir, dir, 0o755)?.open_append(name, 0o640)?;
    let locked = lock_within(&f, true, APPEND_LOCK_WAIT).is_ok();
    let r = f.write_all(line);
    if locked {
        let _ = f.unlock();
    }
    r
}

/// Checks, without writing, that [`append_line`] may write `path`: its directory passes
/// [`SafeDir::open`] (and is created when missing) and the file, when it exists, is a regular
/// file with one link, not a symbolic link.
pub(crate) fn check_append(path: &Path) -> io::Result<()> {
    let (dir, name) = split(path)?;
    SafeDir::open(dir, dir, 0o755)?.check_file(name)
}

fn split(path: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
    match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => Ok((d, n)),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file path", path.display()),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Files root writes and reads: never through a symbolic link, only in directories no other user
// can change, and reads bounded in size.

/// A path root refuses to write: a directory another user could change, or a file that is not
/// a plain regular file (a symbolic link planted where a log or state file belongs).
#[derive(Debug, thiserror::Error)]
#[error("refusing to write {}: {why}", path.display())]
pub(crate) struct UnsafePath {
    /// The directory or file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub why: String,
}

impl UnsafePath {
    fn error(path: &Path, why: impl Into<String>) -> io::Error {
        io::Error::new(
            io::ErrorKind::PermissionDenied,
            Self {
                path: path.to_path_buf(),
                why: why.into(),
            },
        )
    }

    /// The refusal inside `e`, when `e` is one.
    pub(crate) fn of(e: &io::Error) -> Option<&Self> {
        e.get_ref().and_then(|x| x.downcast_ref::<Self>())
    }
}

/// The errno an [`UnsafePath`] stands for in a system-error alert (event 42).
pub(crate) const UNSAFE_ERRNO: i32 = nix::libc::EACCES;

/// The rule for the product's own directories (the state, log and licence directories and what
/// is below them): a directory owned by the effective user (root) that neither group nor others
/// may write, sticky bit or not.
fn check_own_dir(path: &Path, m: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let euid = nix::unistd::geteuid().as_raw();
    if !m.is_dir() {
        return Err(UnsafePath::error(
            path,
            format!(
                "it is {}, not a directory",
                file_kind(std::os::unix::fs::MetadataExt::mode(m))
            ),
        ));
    }
    if m.uid() != euid {
        return Err(UnsafePath::error(
            path,
            format!(
                "the directory is owned by uid {}, not by uid {euid}; \
                 it must be owned by root and writable by root only",
                m.uid()
            ),
        ));
    }
    if m.mode() & 0o022 != 0 {
        return Err(UnsafePath::error(
            path,
            format!(
                "the directory is writable by group or others (mode {:04o}); \
                 it must be owned by root and writable by root only",
                m.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

/// The rule for the directories above the product's own (`/`, `/var`, `/var/log`, a test
/// sandbox under `/tmp`): owned by root or the effective user, and not writable by others
/// unless sticky (`/tmp`). Group-writable system directories (`/var/log` is `root:syslog 0775`
/// on some distributions) are accepted.
fn check_ancestor(path: &Path, m: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let euid = nix::unistd::geteuid().as_raw();
    if m.uid() != 0 && m.uid() != euid {
        return Err(UnsafePath::error(
            path,
            format!(
                "a directory on the path is owned by uid {}, not by root",
                m.uid()
            ),
        ));
    }
    if m.mode() & 0o002 != 0 && m.mode() & 0o1000 == 0 {
        return Err(UnsafePath::error(
            path,
            format!(
                "a directory on the path is writable by others without the sticky bit (mode {:04o})",
                m.mode() & 0o7777
            ),
        ));
    }
    Ok(())
}

fn nofollow_error(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(nix::libc::ELOOP) {
        symlink_refusal(path)
    } else {
        e
    }
}

/// How many symbolic links above the product's directories one walk follows (the kernel's
/// own limit).
const MAX_LINKS: usize = 40;

fn symlink_refusal(path: &Path) -> io::Error {
    UnsafePath::error(
        path,
        "it is a symbolic link; the product never writes through one",
    )
}

/// What a file of mode `mode` (`st_mode`, or `Metadata::mode`) is, for a refusal.
fn file_kind(mode: u32) -> &'static str {
    match mode & nix::libc::S_IFMT {
        nix::libc::S_IFLNK => "a symbolic link",
        nix::libc::S_IFDIR => "a directory",
        nix::libc::S_IFIFO => "a FIFO",
        nix::libc::S_IFCHR => "a character device",
        nix::libc::S_IFBLK => "a block device",
        nix::libc::S_IFSOCK => "a socket",
        _ => "a regular file",
    }
}

/// A directory checked for writing as root, held open: files are created, opened and renamed
/// relative to the descriptor (`openat`, `renameat`), so they land in the very directory that
/// was checked, whatever happens to its path afterwards, and never through a symbolic link.
#[derive(Debug)]
pub(crate) struct SafeDir {
    fd: File,
    path: PathBuf,
}

impl SafeDir {
    /// Creates `dir` (with its missing parents, `mode`) and checks it for writing.
    ///
    /// `top` is the product's own top directory that `dir` lies in (`dir` itself, or e.g. the
    /// state directory for a registry entry below it): `dir` and every directory between it and
    /// `top` must be owned by root and writable by root only, and none of them may be a
    /// symbolic link. Every directory above them, up to `/`, must be owned by root and not
    /// writable by others unless sticky; a symbolic link there (`/var/run -> /run`) is followed
    /// and its target held to the same rule. A refusal is an [`UnsafePath`] error (kind
    /// `PermissionDenied`).
    ///
    /// The path is walked one component at a time from `/`, each directory opened relative to
    /// the one before (`openat` with `O_DIRECTORY | O_NOFOLLOW`, missing ones made with
    /// `mkdirat`) and checked through its descriptor, so what is checked is what is used: the
    /// last descriptor is the one files are opened, created and renamed in.
    pub fn open(dir: &Path, top: &Path, mode: u32) -> io::Result<Self> {
        Self::walk(dir, top, Some(mode))
    }

    /// [`SafeDir::open`] for a directory that must exist already (`NotFound` otherwise).
    pub fn existing(dir: &Path, top: &Path) -> io::Result<Self> {
        Self::walk(dir, top, None)
    }

    fn walk(dir: &Path, top: &Path, create: Option<u32>) -> io::Result<Self> {
        use std::collections::VecDeque;
        use std::path::Component;
        let dir = std::path::absolute(dir)?;
        let top = std::path::absolute(top)?;
        // The components below `/`: names, and `..` (walked up, above the product's own).
        let walked = |p: &Path| -> Vec<std::ffi::OsString> {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_owned()),
                    Component::ParentDir => Some("..".into()),
                    _ => None,
                })
                .collect()
        };
        let names = walked(&dir);
        // The product's own directories: `top` and what lies below it (only `dir` itself when
        // it is not below `top`).
        let own_from = if dir.starts_with(&top) {
            walked(&top).len().max(1)
        } else {
            names.len()
        };
        // Still to walk: (name, the lexical path it stands for when it is one of the product's
        // own directories).
        let mut todo: VecDeque<(std::ffi::OsString, Option<PathBuf>)> = VecDeque::new();
        let mut lexical = PathBuf::from("/");
        for (i, n) in names.into_iter().enumerate() {
            lexical.push(&n);
            let own = (i + 1 >= own_from).then(|| lexical.clone());
            if own.is_some() && n == ".." {
                return Err(UnsafePath::error(&dir, "the path has a '..' component"));
            }
            todo.push_back((n, own));
        }
        let root = || -> io::Result<(File, PathBuf)> {
            let f = OpenOptions::new()
                .read(true)
                .custom_flags(nix::libc::O_DIRECTORY)
                .open("/")?;
            check_ancestor(Path::new("/"), &f.metadata()?)?;
            Ok((f, PathBuf::from("/")))
        };
        // The directory walked so far (its real path), and those above it, for `..` in a link.
        let mut cur = root()?;
        let mut above: Vec<(File, PathBuf)> = Vec::new();
        let mut links = 0;
        while let Some((name, own)) = todo.pop_front() {
            if name == ".." {
                if let Some(up) = above.pop() {
                    cur = up;
                }
                continue;
            }
            if name == "." || name.is_empty() {
                continue;
            }
            let real = cur.1.join(&name);
            let shown = own.as_deref().unwrap_or(&real);
            let kind = match nix::sys::stat::fstatat(
                &cur.0,
                name.as_os_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            ) {
                Ok(st) => Some(st.st_mode & nix::libc::S_IFMT),
                Err(nix::errno::Errno::ENOENT) if create.is_some() => None,
                Err(e) => return Err(io::Error::from(e)),
            };
            if kind == Some(nix::libc::S_IFLNK) {
                if own.is_some() {
                    return Err(symlink_refusal(shown));
                }
                // A link above the product's directories: walk its target instead.
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::from_raw_os_error(nix::libc::ELOOP));
                }
                let to = PathBuf::from(nix::fcntl::readlinkat(&cur.0, name.as_os_str())?);
                if to.is_absolute() {
                    above.clear();
                    cur = root()?;
                }
                for c in to.components().rev() {
                    let part = match c {
                        Component::Normal(n) => n.to_owned(),
                        Component::ParentDir => "..".into(),
                        _ => continue,
                    };
                    todo.push_front((part, None));
                }
                continue;
            }
            if kind.is_none()
                && let Some(mode) = create
            {
                match nix::sys::stat::mkdirat(
                    &cur.0,
                    name.as_os_str(),
                    nix::sys::stat::Mode::from_bits_truncate(mode),
                ) {
                    Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                    Err(e) => return Err(io::Error::from(e)),
                }
            }
            let last = todo.is_empty();
            let flags = nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_NOFOLLOW
                | nix::fcntl::OFlag::O_CLOEXEC
                | if last {
                    nix::fcntl::OFlag::O_RDONLY
                } else {
                    nix::fcntl::OFlag::O_PATH
                };
            let fd = match nix::fcntl::openat(
                &cur.0,
                name.as_os_str(),
                flags,
                nix::sys::stat::Mode::empty(),
            ) {
                Ok(fd) => File::from(fd),
                // A link put in its place since the look: refused, never followed.
                Err(nix::errno::Errno::ELOOP) => return Err(symlink_refusal(shown)),
                Err(nix::errno::Errno::ENOTDIR) => {
                    let what = nix::sys::stat::fstatat(
                        &cur.0,
                        name.as_os_str(),
                        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                    )
                    .map_or("not a directory", |st| file_kind(st.st_mode));
                    return Err(UnsafePath::error(
                        shown,
                        format!("it is {what}, not a directory"),
                    ));
                }
                Err(e) => return Err(io::Error::from(e)),
            };
            let m = fd.metadata()?;
            if own.is_some() {
                check_own_dir(shown, &m)?;
            } else {
                check_ancestor(&real, &m)?;
            }
            above.push(std::mem::replace(&mut cur, (fd, real)));
        }
        Ok(Self {
            fd: cur.0,
            path: dir,
        })
    }

    /// The directory's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn openat(
        &self,
        name: &std::ffi::OsStr,
        flags: nix::fcntl::OFlag,
        mode: u32,
    ) -> io::Result<File> {
        use nix::fcntl::OFlag;
        let flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK;
        nix::fcntl::openat(
            &self.fd,
            name,
            flags,
            nix::sys::stat::Mode::from_bits_truncate(mode),
        )
        .map(File::from)
        .map_err(|e| nofollow_error(&self.path.join(name), io::Error::from(e)))
    }

    /// Refuses anything but a regular file with one link (a hard link to another file would
    /// be written through just like a symbolic link).
    fn plain(&self, name: &std::ffi::OsStr, mode: u32, nlink: u64) -> io::Result<()> {
        let path = self.path.join(name);
        if mode & nix::libc::S_IFMT != nix::libc::S_IFREG {
            return Err(UnsafePath::error(
                &path,
                format!("it is {}, not a regular file", file_kind(mode)),
            ));
        }
        if nlink != 1 {
            return Err(UnsafePath::error(
                &path,
                format!("the file has {nlink} hard links"),
            ));
        }
        Ok(())
    }

    /// [`SafeDir::plain`] for an opened file.
    fn plain_file(&self, name: &std::ffi::OsStr, f: &File) -> io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let m = f.metadata()?;
        self.plain(name, m.mode(), m.nlink())
    }

    /// Opens `name` for appending, creating it with `mode` when missing.
    pub(crate) fn open_append(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<File> {
        use nix::fcntl::OFlag;
        let f = self.openat(
            name,
            OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CREAT,
            mode,
        )?;
        self.plain_file(name, &f)?;
        Ok(f)
    }

    /// Opens (creating with `mode` when missing) `name` for reading and writing: a lock file.
    pub(crate) fn open_lock(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<File> {
        use nix::fcntl::OFlag;
        let f = self.openat(name, OFlag::O_RDWR | OFlag::O_CREAT, mode)?;
        self.plain_file(name, &f)?;
        Ok(f)
    }

    /// Creates `name`, which must not exist (`O_EXCL`: not even as a symbolic link), with `mode`.
    pub(crate) fn create_new(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<File> {
        use nix::fcntl::OFlag;
        self.openat(name, OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL, mode)
    }

    /// Checks `name` without opening it: absent, or a regular file with one link.
    pub fn check_file(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        match nix::sys::stat::fstatat(&self.fd, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => self.plain(name, st.st_mode, st.st_nlink),
            Err(nix::errno::Errno::ENOENT) => Ok(()),
            Err(e) => Err(io::Error::from(e)),
        }
    }

    /// Removes `name` from this directory (a symbolic link is removed, never followed); a
    /// missing file is not an error.
    pub(crate) fn remove(&self, name: &std::ffi::OsStr) -> io::Result<()> {
        match nix::unistd::unlinkat(&self.fd, name, nix::unistd::UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces `name` with `data` atomically: a new temp file (`O_EXCL`, `mode`) in this
    /// directory, fsync, rename over `name` (which replaces a symbolic link, never follows it),
    /// fsync of the directory.
    pub(crate) fn write_atomic(
        &self,
        name: &std::ffi::OsStr,
        data: &[u8],
        mode: u32,
    ) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let (tmp, mut f) = self.temp_file(name, mode)?;
        let written = (|| {
            // The creation mode was cut by the umask; the file gets exactly `mode`.
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            f.write_all(data)?;
            f.sync_all()?;
            nix::fcntl::renameat(&self.fd, tmp.as_os_str(), &self.fd, name).map_err(io::Error::from)
        })();
        if let Err(e) = written {
            let _ = nix::unistd::unlinkat(
                &self.fd,
                tmp.as_os_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            );
            return Err(e);
        }
        let _ = self.fd.sync_all();
        Ok(())
    }

    fn temp_file(&self, name: &std::ffi::OsStr, mode: u32) -> io::Result<(PathBuf, File)> {
        for _ in 0..16 {
            let tag = getrandom::u64()
                .map_err(|e| io::Error::other(format!("no random numbers: {e}")))?;
            let tmp = PathBuf::from(format!(".tmp-{}-{tag:016x}", name.to_string_lossy()));
            match self.create_new(tmp.as_os_str(), mode & 0o600) {
                Ok(f) => return Ok((tmp, f)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: no free temp file name", self.path.display()),
        ))
    }
}

/// Why [`read_regular`] refused a file (an `InvalidData` error carries it).
#[derive(Debug, thiserror::Error)]
#[error("{}: {why}", path.display())]
pub(crate) struct NotReadable {
    /// The file.
    pub path: PathBuf,
    /// What it is instead of a small regular file.
    pub why: String,
    /// The errno it stands for in a system-error alert (event 42): `ELOOP` for a symbolic link
    /// (what `O_NOFOLLOW` answers), `EISDIR` for a directory, `EFBIG` for a file too large,
    /// `EINVAL` for anything else that is not a regular file (a FIFO, a device, a socket).
    pub errno: i32,
}

impl NotReadable {
    fn error(path: &Path, why: impl Into<String>, errno: i32) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            Self {
                path: path.to_path_buf(),
                why: why.into(),
                errno,
            },
        )
    }

    /// `path` is not a regular file: it is what `mode` says.
    fn kind(path: &Path, mode: u32) -> io::Error {
        let errno = match mode & nix::libc::S_IFMT {
            nix::libc::S_IFLNK => nix::libc::ELOOP,
            nix::libc::S_IFDIR => nix::libc::EISDIR,
            _ => nix::libc::EINVAL,
        };
        Self::error(
            path,
            format!("it is {}, not a regular file", file_kind(mode)),
            errno,
        )
    }

    /// The refusal inside `e`, when `e` is one.
    pub(crate) fn of(e: &io::Error) -> Option<&Self> {
        e.get_ref().and_then(|x| x.downcast_ref::<Self>())
    }
}

/// Opens `path` for reading only if it is a regular file: never through a symbolic link, and
/// without blocking on a FIFO (`O_NONBLOCK`) or opening a device (checked before and after the
/// open). Refusals are [`NotReadable`] (`InvalidData`).
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::MetadataExt;
    let before = std::fs::symlink_metadata(path)?;
    if !before.is_file() {
        return Err(NotReadable::kind(path, before.mode()));
    }
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(nix::libc::ELOOP) {
                NotReadable::kind(path, nix::libc::S_IFLNK)
            } else {
                e
            }
        })?;
    let m = f.metadata()?;
    if !m.is_file() {
        return Err(NotReadable::kind(path, m.mode()));
    }
    Ok(f)
}

/// Reads a regular file of at most `cap` bytes (see [`open_regular`]); a larger one is refused
/// before anything is read.
pub(crate) fn read_regular(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let f = open_regular(path)?;
    let too_big = || {
        NotReadable::error(
            path,
            format!("it is larger than {cap} bytes"),
            nix::libc::EFBIG,
        )
    };
    if f.metadata()?.len() > cap {
        return Err(too_big());
    }
    let mut data = Vec::new();
    f.take(cap + 1).read_to_end(&mut data)?;
    if data.len() as u64 > cap {
        return Err(too_big()); // it grew while we read
    }
    Ok(data)
}

/// Runs `f` on a thread of its own and waits for it at most `limit`: a call that can block in
/// the kernel (a file on a hung NFS server) must not hang its caller. `TimedOut` when it has
/// not finished by then; the thread is left behind to finish (or hang) on its own.
pub(crate) fn within<T: Send + 'static>(
    limit: Duration,
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> io::Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        })?;
    rx.recv_timeout(limit).map_err(|e| match e {
        std::sync::mpsc::RecvTimeoutError::Timeout => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{name} did not finish within {limit:?}"),
        ),
        std::sync::mpsc::RecvTimeoutError::Disconnected => {
            io::Error::other(format!("{name} ended without an answer"))
        }
    })
}

/// What /proc/PID/stat says about a live process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// Parent process id (field 4).
    pub ppid: u32,
    /// Start time in clock ticks since boot (field 22): when the process was forked, so an
    /// `exec` keeps it. The kernel counts it on the boot clock ([`boot_ticks_now`]).
    pub start_time: u64,
}

/// Fields 4 and 22 of /proc/PID/stat, or None when the process does not exist or has already
/// ended (a zombie waiting for its parent).
pub(crate) fn process_stat(pid: u32) -> Option<ProcStat> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parentheses: fields start after the last ')'.
    let mut fields = stat[stat.rfind(')')? + 2..].split_whitespace();
    // field 3 (state) first, then 4 (ppid); start time is field 22, 18 further on.
    if matches!(fields.next()?, "Z" | "X" | "x") {
        return None;
    }
    let parent = fields.next()?.parse().ok()?;
    let start_time = fields.nth(17)?.parse().ok()?;
    Some(ProcStat {
        ppid: parent,
        start_time,
    })
}

/// The start time of `pid` (clock ticks since boot, field 22 of /proc/PID/stat), or None when
/// the process does not exist or has already ended (a zombie waiting for its parent).
pub fn process_start_time(pid: u32) -> Option<u64> {
    process_stat(pid).map(|s| s.start_time)
}

/// Now on the clock /proc counts process start times with: `CLOCK_BOOTTIME` (time since boot,
/// suspend included), in clock ticks (`sysconf(_SC_CLK_TCK)`, `USER_HZ`), rounded down as the
/// kernel rounds a start time. A process forked before this call has a start time of at most
/// the value returned; one forked after a later call that returned `t` has one of at least `t`.
pub(crate) fn boot_ticks_now() -> io::Result<u64> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_BOOTTIME)?;
    let ticks_per_s = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)?
        .and_then(|t| u128::try_from(t).ok())
        .filter(|t| *t > 0)
        .ok_or_else(|| io::Error::other("sysconf(_SC_CLK_TCK) has no value"))?;
    let secs = u128::try_from(ts.tv_sec()).map_err(io::Error::other)?;
    let nanos = u128::try_from(ts.tv_nsec()).map_err(io::Error::other)?;
    let ticks = (secs * 1_000_000_000 + nanos) * ticks_per_s / 1_000_000_000;
    u64::try_from(ticks).map_err(io::Error::other)
}

/// Waits (at most a second) until [`boot_ticks_now`] is past `tick`: from then on every newly
/// forked process has a start time greater than `tick`.
pub(crate) fn wait_boot_tick_after(tick: u64) -> io::Result<()> {
    let end = Instant::now() + Duration::from_secs(1);
    while boot_ticks_now()? <= tick {
        if Instant::now() >= end {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the boot clock did not advance by one tick within 1 s",
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

/// This boot's identity (`/proc/sys/kernel/random/boot_id`): boot-clock times of another boot
/// are not comparable with this one's.
pub(crate) fn boot_id() -> io::Result<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?;
    Ok(id.trim().to_owned())
}

/// The ancestors of this process, parent first, as (pid, start time), up to pid 1 (at most 64).
pub(crate) fn ancestors() -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let mut pid = std::os::unix::process::parent_id();
    while pid > 0 && out.len() < 64 {
        let Some(st) = process_stat(pid) else { break };
        out.push((pid, st.start_time));
        if pid == 1 {
            break;
        }
        pid = st.ppid;
    }
    out
}

/// Sends `sig` to the process `pid` if it is the one that started at `start_time`, through a
/// pidfd (`pidfd_open`, `pidfd_send_signal`): the descriptor names one process, so a pid reused
/// between the check and the signal is never signalled. `Ok(false)` when that process is gone
/// (or `pid` names another one now).
pub(crate) fn signal_process(
    pid: u32,
    start_time: u64,
    sig: nix::sys::signal::Signal,
) -> io::Result<bool> {
    use nix::libc;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let gone = |e: &io::Error| e.raw_os_error() == Some(libc::ESRCH);
    let raw_pid = libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH));
    let opened = raw_pid.and_then(|p| {
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, p, 0) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let raw = libc::c_int::try_from(r).map_err(io::Error::other)?;
        // SAFETY: `raw` is a descriptor the kernel has just opened for us and nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    });
    let fd = match opened {
        Ok(fd) => fd,
        Err(e) if gone(&e) => return Ok(false),
        Err(e) => return Err(e),
    };
    // The pidfd was opened first: if the process at `pid` still has the recorded start time now,
    // the pidfd names it (a pid is not reused while its process lives, and the pidfd's process,
    // should it have ended since, makes the signal fail with ESRCH below).
    if process_start_time(pid) != Some(start_time) {
        return Ok(false);
    }
    // SAFETY: a pidfd we own, a valid signal number, no siginfo (the kernel fills it in as for
    // kill(2)) and no flags.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            sig as libc::c_int,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if gone(&e) { Ok(false) } else { Err(e) };
    }
    Ok(true)
}

/// Finds `prog` on PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Waits for `child` at most `limit` (or until `abort` is raised), then kills it — by its own
/// pid, which cannot have been reused while it is unreaped — and reaps it. Returns its status
/// if it ended by itself.
pub(crate) fn wait_child_timeout(
    child: &mut std::process::Child,
    limit: Duration,
    abort: &std::sync::atomic::AtomicBool,
) -> io::Result<Option<std::process::ExitStatus>> {
    let end = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait()? {
            return Ok(Some(st));
        }
        if Instant::now() >= end || abort.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The errno of an I/O error, also when it is wrapped: errors with context (tempfile's path
/// errors, `io::Error::other(e)`, an error type with an I/O source) answer `raw_os_error()` with
/// `None`, so the inner errors are searched, and last the text (std renders an OS error as
/// `… (os error N)`). A refusal ([`NotReadable`], [`UnsafePath`]) answers the errno it stands
/// for. 0 when no OS error is in it.
pub fn errno_of(e: &io::Error) -> i32 {
    let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = inner {
        if let Some(n) = err.downcast_ref::<NotReadable>() {
            return n.errno;
        }
        if err.is::<UnsafePath>() {
            return UNSAFE_ERRNO;
        }
        inner = match err.downcast_ref::<io::Error>() {
            Some(io) => match io.raw_os_error() {
                Some(n) => return n,
                None => io
                    .get_ref()
                    .map(|i| i as &(dyn std::error::Error + 'static)),
            },
            None => err.source(),
        };
    }
    os_error_in_text(&e.to_string()).unwrap_or(0)
}

/// `N` of the first `(os error N)` in `text`.
fn os_error_in_text(text: &str) -> Option<i32> {
    const MARK: &str = "(os error ";
    let at = text.find(MARK)? + MARK.len();
    let digits = &text[at..];
    let end = digits.find(')')?;
    digits[..end].parse().ok()
}

/// `eprintln!` that never panics: a detached monitor's stderr may be a closed pipe, and with
/// `panic = "abort"` a failed diagnostic must not take the monitor down. It goes through the
/// console ([`crate::console`]), so in a monitor it never blocks on a stderr nobody reads.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => {
        $crate::console::line(format_args!($($t)*))
    };
}

/// `println!` that never panics (see [`errln!`]): `clp-fsmon --help | head -1` closes the pipe
/// early, and Rust ignores SIGPIPE, so the write fails with EPIPE instead.
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// `print!` that never panics (see [`outln!`]).
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($t)*);
    }};
}

/// `eprint!` that never panics (see [`errln!`]).
#[macro_export]
macro_rules! err {
    ($($t:tt)*) => {
        $crate::console::write(format!($($t)*).into_bytes())
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_of_self_and_of_nothing() {
        assert!(process_start_time(std::process::id()).is_some());
        assert!(process_start_time(u32::MAX - 1).is_none());
    }

    #[test]
    fn boot_ticks_bracket_a_new_process_start_time() {
        let me = process_stat(std::process::id()).unwrap();
        assert_eq!(me.ppid, std::os::unix::process::parent_id());
        let before = boot_ticks_now().unwrap();
        assert!(me.start_time <= before);
        let mut c = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let started = process_start_time(c.id()).unwrap();
        let after = boot_ticks_now().unwrap();
        assert!(
            before <= started && started <= after,
            "{before} {started} {after}"
        );
        c.kill().unwrap();
        c.wait().unwrap();
        // once the tick of `after` is over, a new process starts later than it
        wait_boot_tick_after(after).unwrap();
        let mut c = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        assert!(process_start_time(c.id()).unwrap() > after);
        c.kill().unwrap();
        c.wait().unwrap();
        assert_eq!(boot_id().unwrap().len(), 36);
        let up = ancestors();
        assert_eq!(up[0].0, std::os::unix::process::parent_id());
        assert!(up.len() < 64);
    }

    #[test]
    fn signals_go_only_to_the_process_with_the_recorded_start_time() {
        use nix::sys::signal::Signal;
        let mut c = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let (pid, st) = (c.id(), process_start_time(c.id()).unwrap());
        // another start time: another process, not signalled
        assert!(!signal_process(pid, st + 1, Signal::SIGTERM).unwrap());
        assert!(c.try_wait().unwrap().is_none());
        assert!(signal_process(pid, st, Signal::SIGTERM).unwrap());
        let status = c.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(15)
        );
        // gone: nothing to signal
        assert!(!signal_process(pid, st, Signal::SIGTERM).unwrap());
        assert!(!signal_process(u32::MAX - 1, st, Signal::SIGTERM).unwrap());
    }

    #[test]
    fn a_zombie_has_no_start_time() {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        // not reaped yet: a zombie once it has exited
        let deadline = Instant::now() + Duration::from_secs(5);
        while process_start_time(pid).is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(process_start_time(pid).is_none());
        c.wait().unwrap();
    }

    #[test]
    fn lock_within_gives_up_on_a_stuck_holder_and_append_still_writes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("log");
        std::fs::write(&p, b"").unwrap();
        let holder = File::open(&p).unwrap();
        holder.lock().unwrap();
        let other = File::open(&p).unwrap();
        let t = Instant::now();
        let e = lock_within(&other, true, Duration::from_millis(100)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(t.elapsed() < Duration::from_secs(1));
        append_line(&p, b"line\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"line\n");
        holder.unlock().unwrap();
        lock_within(&other, false, Duration::from_millis(100)).unwrap();
    }

    fn is_unsafe(e: &io::Error) -> bool {
        UnsafePath::of(e).is_some() && e.kind() == io::ErrorKind::PermissionDenied
    }

    #[test]
    fn append_never_writes_through_a_planted_symlink() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, b"precious\n").unwrap();
        let logs = d.path().join("log");
        std::fs::create_dir(&logs).unwrap();
        std::os::unix::fs::symlink(&victim, logs.join("alert.log")).unwrap();
        let e = append_line(&logs.join("alert.log"), b"line\n").unwrap_err();
        assert!(is_unsafe(&e), "{e}");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(check_append(&logs.join("alert.log")).is_err());
        // a dangling link is refused too: nothing is created at its target
        let absent = d.path().join("absent");
        std::os::unix::fs::symlink(&absent, logs.join("fault.log")).unwrap();
        assert!(is_unsafe(
            &append_line(&logs.join("fault.log"), b"x\n").unwrap_err()
        ));
        // a hard link to another file is refused
        std::fs::hard_link(&victim, logs.join("hard.log")).unwrap();
        let e = append_line(&logs.join("hard.log"), b"x\n").unwrap_err();
        assert!(e.to_string().contains("hard links"), "{e}");
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious\n");
        assert!(!absent.exists());
        // and a FIFO is neither blocked on nor written
        nix::unistd::mkfifo(&logs.join("fifo.log"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        assert!(append_line(&logs.join("fifo.log"), b"x\n").is_err());
    }

    #[test]
    fn refusals_read_as_one_sentence() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let logs = d.path().join("log");
        std::fs::create_dir(&logs).unwrap();
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o777)).unwrap();
        let mode = append_line(&logs.join("a.log"), b"x\n").unwrap_err();
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
        nix::unistd::chown(&logs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let owner = append_line(&logs.join("a.log"), b"x\n").unwrap_err();
        for e in [mode, owner] {
            let text = e.to_string();
            assert!(!text.contains("  "), "a run of spaces: {text:?}");
            assert!(
                text.ends_with("; it must be owned by root and writable by root only"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_product_directory_that_is_a_symlink_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        // A root-owned 0755 directory: it passes every owner and mode rule itself.
        let target = d.path().join("target");
        std::fs::create_dir(&target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The directory itself, and a directory between it and its top, as links.
        let logs = d.path().join("log");
        std::os::unix::fs::symlink(&target, &logs).unwrap();
        let e = append_line(&logs.join("alert.log"), b"no\n").unwrap_err();
        assert!(is_unsafe(&e), "{e}");
        assert_eq!(UnsafePath::of(&e).unwrap().path, logs);
        assert!(e.to_string().contains("symbolic link"), "{e}");
        let top = d.path().join("run");
        std::os::unix::fs::symlink(&target, &top).unwrap();
        let e = SafeDir::open(&top.join("sambamon/id1"), &top, 0o700).unwrap_err();
        assert_eq!(UnsafePath::of(&e).unwrap().path, top, "{e}");
        let mid = d.path().join("run2");
        std::fs::create_dir(&mid).unwrap();
        std::os::unix::fs::symlink(&target, mid.join("sambamon")).unwrap();
        let e = SafeDir::open(&mid.join("sambamon/id1"), &mid, 0o700).unwrap_err();
        assert_eq!(
            UnsafePath::of(&e).unwrap().path,
            mid.join("sambamon"),
            "{e}"
        );
        assert!(check_append(&logs.join("alert.log")).is_err());
        assert!(atomic_write(&logs.join("entry"), b"x", 0o600).is_err());
        // Nothing was created in the target, not even a directory.
        assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
        // `..` is walked above the product's directories, refused in them.
        let up = d.path().join("x/../log2");
        append_line(&up.join("a.log"), b"ok\n").unwrap();
        assert_eq!(std::fs::read(d.path().join("log2/a.log")).unwrap(), b"ok\n");
        let e = SafeDir::open(&d.path().join("run3/a/../b"), &d.path().join("run3"), 0o700)
            .unwrap_err();
        assert!(e.to_string().contains("'..'"), "{e}");
    }

    #[test]
    fn a_link_above_the_product_directories_is_followed_and_its_target_checked() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        // var -> real (as /var/run -> /run): the product's directories lie below the link.
        let real = d.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink("real", d.path().join("var")).unwrap();
        let logs = d.path().join("var/log/clp-fsmon");
        append_line(&logs.join("a.log"), b"ok\n").unwrap();
        assert_eq!(
            std::fs::read(real.join("log/clp-fsmon/a.log")).unwrap(),
            b"ok\n"
        );
        // The link's target is held to the rule for directories above the product's.
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = append_line(&logs.join("a.log"), b"no\n").unwrap_err();
        assert!(e.to_string().contains("without the sticky bit"), "{e}");
        assert_eq!(UnsafePath::of(&e).unwrap().path, real);
    }

    #[test]
    fn temp_files_are_created_exclusively_and_renames_replace_links() {
        let d = tempfile::tempdir().unwrap();
        let dir = SafeDir::open(&d.path().join("state"), d.path(), 0o700).unwrap();
        let victim = d.path().join("victim");
        // a link planted at the temp name: O_EXCL refuses it, the victim is not created
        std::os::unix::fs::symlink(&victim, dir.path().join(".tmp-x")).unwrap();
        let e = dir.create_new(".tmp-x".as_ref(), 0o600).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists, "{e}");
        assert!(!victim.exists());
        // a link planted at the final name is replaced, never written through
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("entry.json")).unwrap();
        dir.write_atomic("entry.json".as_ref(), b"{}", 0o600)
            .unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        let m = std::fs::symlink_metadata(dir.path().join("entry.json")).unwrap();
        assert!(m.is_file());
        assert_eq!(std::fs::read(dir.path().join("entry.json")).unwrap(), b"{}");
    }

    #[test]
    fn directories_others_can_change_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let logs = d.path().join("log");
        append_line(&logs.join("a.log"), b"ok\n").unwrap();
        // writable by others (even with the sticky bit: it is our own directory)
        for mode in [0o777, 0o775, 0o1777] {
            std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = append_line(&logs.join("a.log"), b"no\n").unwrap_err();
            assert!(is_unsafe(&e), "{mode:o}: {e}");
            assert_eq!(UnsafePath::of(&e).unwrap().path, logs);
            assert!(e.to_string().contains("writable by group or others"), "{e}");
        }
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
        // owned by another user
        nix::unistd::chown(&logs, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let e = append_line(&logs.join("a.log"), b"no\n").unwrap_err();
        assert!(e.to_string().contains("owned by uid 65534"), "{e}");
        nix::unistd::chown(&logs, Some(nix::unistd::geteuid()), None).unwrap();
        // a directory between the product's own and its top is the product's too
        let top = d.path().join("run");
        let entry = top.join("sambamon/id1");
        SafeDir::open(&entry, &top, 0o700).unwrap();
        std::fs::set_permissions(top.join("sambamon"), std::fs::Permissions::from_mode(0o733))
            .unwrap();
        let e = SafeDir::open(&entry, &top, 0o700).unwrap_err();
        assert_eq!(UnsafePath::of(&e).unwrap().path, top.join("sambamon"));
        // above the top, others' write access is refused unless sticky (/tmp)
        std::fs::set_permissions(top.join("sambamon"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = SafeDir::open(&entry, &top, 0o700).unwrap_err();
        assert!(e.to_string().contains("without the sticky bit"), "{e}");
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        SafeDir::open(&entry, &top, 0o700).unwrap();
        assert_eq!(std::fs::read(logs.join("a.log")).unwrap(), b"ok\n");
    }

    #[test]
    fn reads_take_small_regular_files_only() {
        let d = tempfile::tempdir().unwrap();
        let p = |n: &str| d.path().join(n);
        std::fs::write(p("small"), b"data").unwrap();
        assert_eq!(read_regular(&p("small"), 4).unwrap(), b"data");
        let refused = |path: &Path, what: &str| {
            let t = Instant::now();
            let e = read_regular(path, 64 * 1024).unwrap_err();
            assert!(t.elapsed() < Duration::from_secs(1), "{what}: slow");
            assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{what}: {e}");
            let why = &NotReadable::of(&e).unwrap().why;
            assert!(why.contains(what), "{why}");
        };
        assert_eq!(
            read_regular(&p("small"), 3).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        nix::unistd::mkfifo(&p("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        refused(&p("fifo"), "a FIFO");
        std::os::unix::fs::symlink("/dev/zero", p("zero")).unwrap();
        refused(&p("zero"), "a symbolic link");
        refused(Path::new("/dev/zero"), "a character device");
        refused(d.path(), "a directory");
        let big = File::create(p("big")).unwrap();
        big.set_len(1 << 30).unwrap();
        refused(&p("big"), "larger than 65536 bytes");
        assert_eq!(
            read_regular(&p("missing"), 10).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }

    #[test]
    fn within_gives_up_on_a_call_that_does_not_return() {
        let t = Instant::now();
        let e = within(Duration::from_millis(50), "stuck call", || {
            std::thread::sleep(Duration::from_secs(5));
        })
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("stuck call"), "{e}");
        assert!(t.elapsed() < Duration::from_secs(1));
        assert_eq!(within(Duration::from_secs(5), "quick", || 7).unwrap(), 7);
    }

    /// An error type with context whose source is an OS error.
    #[derive(Debug)]
    struct Ctx(io::Error);
    impl std::fmt::Display for Ctx {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("writing the entry")
        }
    }
    impl std::error::Error for Ctx {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn errno_survives_wrapping() {
        use nix::libc::{ENOENT, ENOSPC};
        // tempfile adds the path and hides the errno from raw_os_error().
        let e = tempfile::Builder::new()
            .tempfile_in("/nonexistent-clp-fsmon-dir")
            .unwrap_err();
        assert_eq!(e.raw_os_error(), None, "{e}");
        assert_eq!(errno_of(&e), ENOENT);
        // io::Error::other around an OS error, twice.
        let os = || io::Error::from_raw_os_error(ENOSPC);
        assert_eq!(errno_of(&io::Error::other(os())), ENOSPC);
        assert_eq!(errno_of(&io::Error::other(io::Error::other(os()))), ENOSPC);
        // An error type whose source is the OS error.
        assert_eq!(
            errno_of(&io::Error::new(io::ErrorKind::StorageFull, Ctx(os()))),
            ENOSPC
        );
        // No OS error anywhere: 0.
        assert_eq!(
            errno_of(&io::Error::other("registry entry kept changing")),
            0
        );
        assert_eq!(errno_of(&os()), ENOSPC);
        // A refusal has no OS error but stands for one.
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        std::os::unix::fs::symlink(&fifo, d.path().join("link")).unwrap();
        for (p, n) in [
            (fifo, nix::libc::EINVAL),
            (d.path().join("link"), nix::libc::ELOOP),
            (d.path().to_path_buf(), nix::libc::EISDIR),
        ] {
            let e = read_regular(&p, 10).unwrap_err();
            assert_eq!(errno_of(&e), n, "{e}");
            assert_eq!(errno_of(&io::Error::other(e)), n);
        }
        let e = UnsafePath::error(d.path(), "test");
        assert_eq!(errno_of(&e), UNSAFE_ERRNO);
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        atomic_write(&p, b"one", 0o600).unwrap();
        atomic_write(&p, b"two", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        // no temp files left behind
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
