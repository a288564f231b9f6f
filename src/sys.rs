//! Small system helpers shared by the runtime: atomic state writes, append-only log lines,
//! root check, host name, process identity from /proc, and bounded child waits.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// True when the effective user is root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// This server's host name (event 61 when it cannot be had).
pub fn hostname() -> Result<String, nix::Error> {
    let h = nix::unistd::gethostname()?;
    Ok(h.to_string_lossy().into_owned())
}

/// Creates `dir` (and parents) with `mode` when missing.
pub fn ensure_dir(dir: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
}

/// Writes `data` to `path` atomically: a temp file in the same directory, fsync, rename.
/// Callers that race on the same path hold a lock around the call.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))?;
    // Through the File itself: tempfile's own Write wraps errors and hides their errno.
    tmp.as_file_mut().write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Takes a `flock` on `f` (exclusive or shared), waiting at most `limit`: a holder that is stuck
/// (stopped, hung on a dead NFS server) must not hang us. `TimedOut` when it could not be had.
pub fn lock_within(f: &File, exclusive: bool, limit: Duration) -> io::Result<()> {
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
const APPEND_LOCK_WAIT: Duration = Duration::from_secs(2);

/// Appends one line with a single `write(2)` on an `O_APPEND` descriptor, under an exclusive
/// lock, so concurrent writers never interleave. When the lock cannot be had within 2 s (its
/// holder is stuck) the line is written anyway: an `O_APPEND` write of one short line is not
/// interleaved on a local file system, and an alert must never be lost or delayed for long.
/// Creates the file (0640) and its directory.
pub fn append_line(path: &Path, line: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        ensure_dir(dir, 0o755)?;
    }
    let mut f = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)?;
    let locked = lock_within(&f, true, APPEND_LOCK_WAIT).is_ok();
    let r = f.write_all(line);
    if locked {
        let _ = f.unlock();
    }
    r
}

/// The start time of `pid` (clock ticks since boot, field 22 of /proc/PID/stat), or None when
/// the process does not exist or has already ended (a zombie waiting for its parent).
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may contain spaces and parentheses: fields start after the last ')'.
    let mut fields = stat[stat.rfind(')')? + 2..].split_whitespace();
    // field 3 (state) first; start time is field 22, 19 further on.
    if matches!(fields.next()?, "Z" | "X" | "x") {
        return None;
    }
    fields.nth(18)?.parse().ok()
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
pub fn wait_child_timeout(
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
/// `… (os error N)`). 0 when no OS error is in it.
pub fn errno_of(e: &io::Error) -> i32 {
    let mut inner: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = inner {
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
/// `panic = "abort"` a failed diagnostic must not take the monitor down.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
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
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($t)*);
    }};
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
