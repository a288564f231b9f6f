//! The `-A CREDFILE` of `clp_sambamon`: smbclient's credentials-file format (`username =`,
//! `password =`, `domain =` (or `workgroup =`) lines; `#` and `;` start comments).
//!
//! The file holds a password and is read as root when the monitor starts, so it is read only
//! when that is safe, and it can never hold the monitor:
//!
//! - It must be a regular file. A FIFO, a device (`/dev/zero` would be read forever), a directory
//!   or a socket is refused by a `stat` before it is opened (opening some devices acts on them),
//!   and again by an `fstat` of the opened descriptor, so a file swapped in between is caught.
//!   A symbolic link is followed — an administrator may well link the file from where the cluster
//!   keeps its configuration — but what it points to must itself be a regular file that passes
//!   every check here. The open uses `O_NONBLOCK` (opening a FIFO would otherwise wait for a
//!   writer) and `O_NOCTTY`.
//! - Only its owner may read or write it: a file with any group or other read or write bit is
//!   refused (mode 0600 or 0400 is right), as its password is no secret any more.
//! - It holds at most `MAX_SIZE` bytes, and the whole read (stat, open, read) runs on a thread
//!   of its own that is waited for at most `READ_LIMIT`: a file on a hung network mount cannot
//!   hold the monitor's start.
//! - It names the user (`username =`): a file without one used to make the probe anonymous,
//!   silently. The user and domain must pass the grammar's rule for logged values
//!   ([`crate::alert::check_text`]), as `-u` does.
//!
//! Every refusal is an invalid parameter (event 11) and its message never holds the password.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::sync::mpsc;
use std::time::Duration;

/// The largest credentials file read, in bytes.
pub(crate) const MAX_SIZE: u64 = 64 * 1024;

/// How long reading the file may take.
pub(crate) const READ_LIMIT: Duration = Duration::from_secs(5);

/// Group and other read and write bits: none may be set.
const EXPOSED_BITS: u32 = 0o066;

/// Why a credentials file is refused.
#[derive(Debug, thiserror::Error)]
pub enum CredError {
    /// It cannot be opened or read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// It is not a regular file (what it is instead).
    #[error("not a regular file but a {0}")]
    NotRegular(&'static str),
    /// Group or others may read or write it.
    #[error(
        "group or others may read or write it (mode {0:04o}); let only its owner read it (chmod 600)"
    )]
    Exposed(u32),
    /// It is larger than `MAX_SIZE`.
    #[error("larger than {MAX_SIZE} bytes")]
    TooLarge,
    /// It was not read within `READ_LIMIT`.
    #[error("not read within {} s", READ_LIMIT.as_secs())]
    Slow,
    /// It is not UTF-8 text.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// It names no user.
    #[error("no username= line")]
    NoUser,
    /// A value breaks the grammar's rule (the message says which).
    #[error("{0}")]
    BadValue(String),
}

/// What a credentials file holds. The password is wiped when this is dropped.
#[derive(Default)]
pub(crate) struct CredFile {
    /// `username =` (never empty).
    pub user: String,
    /// `password =`.
    pub password: Option<String>,
    /// `domain =` or `workgroup =`.
    pub domain: Option<String>,
}

impl std::fmt::Debug for CredFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredFile")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("domain", &self.domain)
            .finish()
    }
}

impl Drop for CredFile {
    fn drop(&mut self) {
        if let Some(p) = self.password.take() {
            p.into_bytes().fill(0);
        }
    }
}

/// The file's bytes, wiped when dropped (also when the reader gave up waiting for them).
struct Secret(Vec<u8>);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.fill(0);
    }
}

/// Reads and checks the credentials file at `path` (see the module doc).
pub(crate) fn read(path: &str) -> Result<CredFile, CredError> {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_owned();
    std::thread::Builder::new()
        .name("credentials".into())
        .spawn(move || {
            let _ = tx.send(read_bytes(&owned));
        })?;
    let bytes = rx.recv_timeout(READ_LIMIT).map_err(|_| CredError::Slow)??;
    parse(&bytes.0)
}

/// Checks a keytab (`--keytab`) as the credentials file is checked, without reading it (MIT
/// krb5 reads it when it needs keys): a regular file (a symbolic link to one is followed) that
/// neither group nor others may read or write, stat'ed on a thread waited for at most
/// `READ_LIMIT`.
pub(crate) fn check_private(path: &str) -> Result<(), CredError> {
    let (tx, rx) = mpsc::channel();
    let owned = path.to_owned();
    std::thread::Builder::new()
        .name("keytab".into())
        .spawn(move || {
            let _ = tx.send(
                std::fs::metadata(&owned)
                    .map_err(CredError::from)
                    .and_then(|m| {
                        kind(&m)?;
                        let mode = m.permissions().mode() & 0o7777;
                        if mode & EXPOSED_BITS == 0 {
                            Ok(())
                        } else {
                            Err(CredError::Exposed(mode))
                        }
                    }),
            );
        })?;
    rx.recv_timeout(READ_LIMIT).map_err(|_| CredError::Slow)?
}

/// Refuses what is not a regular file, naming what it is.
fn kind(meta: &Metadata) -> Result<(), CredError> {
    let t = meta.file_type();
    let what = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    };
    Err(CredError::NotRegular(what))
}

/// The checks on the opened file: a regular file, private to its owner, not too large.
fn check_opened(meta: &Metadata) -> Result<(), CredError> {
    kind(meta)?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & EXPOSED_BITS != 0 {
        return Err(CredError::Exposed(mode));
    }
    if meta.len() > MAX_SIZE {
        return Err(CredError::TooLarge);
    }
    Ok(())
}

fn read_bytes(path: &str) -> Result<Secret, CredError> {
    kind(&std::fs::metadata(path)?)?;
    let f: File = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)?;
    check_opened(&f.metadata()?)?;
    let mut buf = Secret(Vec::new());
    // The size was checked, but the file may grow while it is read.
    f.take(MAX_SIZE + 1).read_to_end(&mut buf.0)?;
    if buf.0.len() as u64 > MAX_SIZE {
        return Err(CredError::TooLarge);
    }
    Ok(buf)
}

fn parse(bytes: &[u8]) -> Result<CredFile, CredError> {
    let text = std::str::from_utf8(bytes).map_err(|_| CredError::NotUtf8)?;
    let (mut user, mut password, mut domain) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().to_owned();
        match k.trim().to_ascii_lowercase().as_str() {
            "username" => user = Some(v),
            "password" => password = Some(v),
            "domain" | "workgroup" => domain = Some(v),
            _ => {}
        }
    }
    // Built first, so the password is wiped whatever is refused below.
    let out = CredFile {
        user: user.unwrap_or_default(),
        password,
        domain,
    };
    if out.user.is_empty() {
        return Err(CredError::NoUser);
    }
    let check = |what: &str, v: &str| {
        crate::alert::check_text(what, v).map_err(|e| CredError::BadValue(e.to_string()))
    };
    check("username=", &out.user)?;
    if let Some(d) = &out.domain {
        check("domain=", d)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(dir: &Path, name: &str, body: &[u8], mode: u32) -> String {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p.to_str().unwrap().to_owned()
    }

    /// `read`, failing the test (instead of hanging it) when it does not return.
    fn read_within(path: &str, limit: Duration) -> Result<CredFile, CredError> {
        let (tx, rx) = mpsc::channel();
        let p = path.to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(read(&p));
        });
        rx.recv_timeout(limit)
            .unwrap_or_else(|_| panic!("reading {path} hung"))
    }

    #[test]
    fn a_private_file_is_read() {
        let d = tempfile::tempdir().unwrap();
        let body = b"# c\n; c\nusername = bob\npassword = s3cr=t \nworkgroup=WG\n";
        for mode in [0o600, 0o400, 0o700] {
            let c = read(&file(d.path(), "c", body, mode)).unwrap();
            assert_eq!(c.user, "bob");
            assert_eq!(c.password.as_deref(), Some("s3cr=t"));
            assert_eq!(c.domain.as_deref(), Some("WG"));
        }
        // a link to a good file is followed
        let link = d.path().join("link");
        std::os::unix::fs::symlink(d.path().join("c"), &link).unwrap();
        assert_eq!(read(link.to_str().unwrap()).unwrap().user, "bob");
    }

    #[test]
    fn a_file_others_may_read_or_write_is_refused() {
        let d = tempfile::tempdir().unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666] {
            let p = file(d.path(), "c", b"username=bob\npassword=pw\n", mode);
            match read(&p) {
                Err(CredError::Exposed(m)) => assert_eq!(m, mode),
                Err(e) => panic!("{mode:o}: {e}"),
                Ok(_) => panic!("{mode:o}: accepted"),
            }
        }
        let e = read(&file(d.path(), "c", b"username=bob\n", 0o644)).unwrap_err();
        assert!(e.to_string().contains("mode 0644"), "{e}");
    }

    #[test]
    fn a_file_without_a_user_is_refused() {
        let d = tempfile::tempdir().unwrap();
        for body in [
            &b"password = pw\ndomain = WG\n"[..],
            b"username =\npassword = pw\n",
            b"usernme = bob\n",
            b"",
        ] {
            let e = read(&file(d.path(), "c", body, 0o600)).err();
            assert!(matches!(e, Some(CredError::NoUser)), "{body:?}: {e:?}");
        }
    }

    #[test]
    fn control_characters_in_user_or_domain_are_refused() {
        let d = tempfile::tempdir().unwrap();
        for body in [
            &b"username = b\tob\n"[..],
            b"username = bob\ndomain = W\x1bG\n",
        ] {
            let e = read(&file(d.path(), "c", body, 0o600)).err();
            assert!(matches!(e, Some(CredError::BadValue(_))), "{body:?}: {e:?}");
        }
        // the password may hold them: it is never logged
        let c = read(&file(
            d.path(),
            "c",
            b"username=bob\npassword=p\tw\n",
            0o600,
        ))
        .unwrap();
        assert_eq!(c.password.as_deref(), Some("p\tw"));
    }

    #[test]
    fn only_regular_files_are_read_and_a_fifo_does_not_hang() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let fifo_link = d.path().join("fifo-link");
        std::os::unix::fs::symlink(&fifo, &fifo_link).unwrap();
        let sock = d.path().join("sock");
        let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        for (p, what) in [
            (fifo.as_path(), "FIFO"),
            (fifo_link.as_path(), "FIFO"),
            (d.path(), "directory"),
            (sock.as_path(), "socket"),
        ] {
            let e = read_within(p.to_str().unwrap(), 2 * READ_LIMIT).err();
            assert!(
                matches!(e, Some(CredError::NotRegular(w)) if w == what),
                "{}: {e:?}",
                p.display()
            );
        }
    }

    #[test]
    fn a_file_larger_than_the_cap_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let mut body = b"username=bob\n".to_vec();
        body.resize(usize::try_from(MAX_SIZE).unwrap() + 1, b'#');
        let e = read(&file(d.path(), "c", &body, 0o600)).err();
        assert!(matches!(e, Some(CredError::TooLarge)), "{e:?}");
        body.truncate(usize::try_from(MAX_SIZE).unwrap());
        assert_eq!(
            read(&file(d.path(), "c", &body, 0o600)).unwrap().user,
            "bob"
        );
    }

    #[test]
    fn a_missing_file_says_so() {
        let e = read("/nonexistent/cred").err();
        assert!(
            matches!(&e, Some(CredError::Io(io)) if io.kind() == io::ErrorKind::NotFound),
            "{e:?}"
        );
    }
}
