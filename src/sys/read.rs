//! Bounded reads of files that root reads from its directories (licence store, credentials
//! files, licence files): regular files only — never through a symbolic link, never blocking on
//! a FIFO, never a device — and at most a given size, refused before anything is read.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::files::file_kind;

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
