//! Small system helpers shared by the runtime, one job a file: root's files ([`files`]: atomic
//! state writes, append-only log lines, bounded reads, all through checked directories),
//! processes ([`process`]: identity from /proc, the boot clock, signals through a pidfd), bounded
//! reads of regular files ([`read`]), and
//! here the root check, the host name, bounded lock, thread and child waits, and errno
//! recovery.

mod files;
mod process;
mod read;

pub use files::*;
pub use process::*;
pub use read::*;

use std::fs::File;
use std::io;
use std::path::PathBuf;
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
    #[allow(unused_imports)]
    use std::fs::{File, OpenOptions};
    #[allow(unused_imports)]
    use std::io::Write;
    #[allow(unused_imports)]
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;

    use super::files::*;
    use super::process::*;
    use super::read::*;
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
