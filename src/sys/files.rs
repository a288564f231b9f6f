//! Root's files: every file root writes goes through [`SafeDir`]. The directory (the product's
//! own state, log or licence directory) must be owned by root and writable by root only and be
//! no symbolic link, the directories above it must not be changeable by another user, and the
//! path is walked one directory at a time (`openat` with `O_NOFOLLOW`) so that the descriptor
//! checked is the one used. The file itself is opened relative to that descriptor with
//! `O_NOFOLLOW` (temp files with `O_EXCL`), so a symbolic link planted where a log, state file
//! or product directory belongs is refused, never written through. Files read from those
//! directories are read with [`read_regular`]: regular files only, bounded in size.
//!
//! Hand-written on `openat`/`fstat` (through nix) because no crate offers this walk with the
//! product's ownership rules; `tempfile`'s persist follows links and hides errnos.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lock_within;

/// Writes `data` to `path` atomically, in a directory checked by [`SafeDir::open`] (the parent
/// is the product's own directory): a temp file created with `O_EXCL`, fsync, rename.
/// Callers that race on the same path hold a lock around the call.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let (dir, name) = split(path)?;
    SafeDir::open(dir, dir, 0o755)?.write_atomic(name, data, mode)
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

pub(super) fn split(path: &Path) -> io::Result<(&Path, &std::ffi::OsStr)> {
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
    pub(super) fn error(path: &Path, why: impl Into<String>) -> io::Error {
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
pub(super) fn check_own_dir(path: &Path, m: &std::fs::Metadata) -> io::Result<()> {
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
pub(super) fn check_ancestor(path: &Path, m: &std::fs::Metadata) -> io::Result<()> {
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

pub(super) fn nofollow_error(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(nix::libc::ELOOP) {
        symlink_refusal(path)
    } else {
        e
    }
}

/// How many symbolic links above the product's directories one walk follows (the kernel's
/// own limit).
pub(super) const MAX_LINKS: usize = 40;

pub(super) fn symlink_refusal(path: &Path) -> io::Error {
    UnsafePath::error(
        path,
        "it is a symbolic link; the product never writes through one",
    )
}

/// What a file of mode `mode` (`st_mode`, or `Metadata::mode`) is, for a refusal.
pub(super) fn file_kind(mode: u32) -> &'static str {
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

    /// Creates `name` with `data` only if it does not exist yet, atomically: a complete temp
    /// file is hard-linked to `name` (`linkat` never replaces). `Ok(false)` when `name` was
    /// there already (made by someone else, maybe at the same moment): it is left as it is.
    pub(crate) fn write_new(
        &self,
        name: &std::ffi::OsStr,
        data: &[u8],
        mode: u32,
    ) -> io::Result<bool> {
        use std::os::unix::fs::PermissionsExt;
        let (tmp, mut f) = self.temp_file(name, mode)?;
        let linked = (|| {
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            f.write_all(data)?;
            f.sync_all()?;
            match nix::unistd::linkat(
                &self.fd,
                tmp.as_os_str(),
                &self.fd,
                name,
                nix::fcntl::AtFlags::empty(),
            ) {
                Ok(()) => Ok(true),
                Err(nix::errno::Errno::EEXIST) => Ok(false),
                Err(e) => Err(io::Error::from(e)),
            }
        })();
        let _ = nix::unistd::unlinkat(
            &self.fd,
            tmp.as_os_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        if linked.as_ref().is_ok_and(|&made| made) {
            let _ = self.fd.sync_all();
        }
        linked
    }

    /// Removes the temp files [`SafeDir::write_atomic`] and [`SafeDir::write_new`] left here
    /// when their process died before its rename: only names of that form (`.tmp-NAME-` and 16
    /// hex digits) for which `ours(NAME)` holds, only regular files of the effective user with
    /// one link, only when last changed more than `older_than` ago (a write in progress is
    /// never touched), never through a symbolic link (looked at and removed relative to the
    /// checked directory, `AT_SYMLINK_NOFOLLOW`). Returns the names removed.
    pub(crate) fn remove_stale_temps(
        &self,
        ours: impl Fn(&str) -> bool,
        older_than: Duration,
    ) -> io::Result<Vec<String>> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let mut removed = Vec::new();
        for e in std::fs::read_dir(&self.path)? {
            let Ok(e) = e else { continue };
            let name = e.file_name();
            let Some(n) = name.to_str() else { continue };
            let Some((target, tag)) = n.strip_prefix(".tmp-").and_then(|r| r.rsplit_once('-'))
            else {
                continue;
            };
            if tag.len() != 16 || !tag.bytes().all(|b| b.is_ascii_hexdigit()) || !ours(target) {
                continue;
            }
            let Ok(st) = nix::sys::stat::fstatat(
                &self.fd,
                name.as_os_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            ) else {
                continue;
            };
            // A time in the future (or before 1970) is never old.
            let mtime = Duration::from_secs(u64::try_from(st.st_mtime).unwrap_or(u64::MAX));
            if st.st_mode & nix::libc::S_IFMT != nix::libc::S_IFREG
                || st.st_uid != nix::unistd::geteuid().as_raw()
                || st.st_nlink != 1
                || now.saturating_sub(mtime) <= older_than
            {
                continue;
            }
            match nix::unistd::unlinkat(
                &self.fd,
                name.as_os_str(),
                nix::unistd::UnlinkatFlags::NoRemoveDir,
            ) {
                Ok(()) => removed.push(n.to_owned()),
                Err(nix::errno::Errno::ENOENT) => {}
                Err(e) => return Err(e.into()),
            }
        }
        removed.sort();
        Ok(removed)
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
