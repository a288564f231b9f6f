//! Hiding an argument from `ps`: [`hide_arg`] overwrites it with `X`s in this process's own
//! argument area, the memory the kernel shows as `/proc/PID/cmdline` (what ps(1), top(1) and
//! pgrep(1) print), as smbclient does with its password.
//!
//! `std::env::args` hands out copies; the area is the strings `execve` laid out on the stack,
//! found at `[arg_start, arg_end)` in `/proc/self/stat` (fields 48 and 49, Linux 3.5 and later).
//! The ways to reach it, and why this one:
//!
//! - **Chosen: write it through `/proc/self/mem`.** A process may always access its own memory
//!   there (the kernel's access check lets a thread group at itself, whatever Yama or the
//!   dumpable flag say), the area is writable memory (no forced write is needed), and it takes
//!   no capability, no `unsafe` and no libc-specific start-up hook: it works the same under glibc
//!   and musl, for a statically or dynamically linked binary, and whichever argument position
//!   the multi-call dispatch started from.
//! - A `#[link_section = ".init_array"]` constructor receiving `(argc, argv, envp)` would give
//!   the pointers directly, but only glibc passes them (musl calls it with none), and it means
//!   `unsafe` writes through raw pointers kept in a static.
//! - `prctl(PR_SET_MM_ARG_START/END)` needs `CAP_SYS_RESOURCE` and only points the kernel at new
//!   memory: the old strings would still be on the stack.
//!
//! Before writing, the word at the expected position is compared with the value to hide; when it
//! differs (something else rewrote the area) nothing is written. The overwrite keeps the length
//! and the NUL separators, so the kernel reads the area as the plain argument list it was.
//!
//! What it cannot do: the value is visible from `execve` until the overwrite (the first
//! milliseconds of the process), and in shell history and in the scripts that start the monitor.
//! A credentials file (`-A`) is still the way to keep a password secret.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::FileExt;

/// The byte that replaces every byte of a hidden argument.
pub(crate) const MASK: u8 = b'X';

/// This process's argument area, `[start, end)`, from `/proc/self/stat`.
fn area() -> io::Result<(u64, u64)> {
    let line = std::fs::read_to_string("/proc/self/stat")?;
    // comm may contain spaces and parentheses: the fields after it start at field 3.
    let rest = line
        .rfind(')')
        .and_then(|p| line.get(p + 2..))
        .unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    match (field(48), field(49)) {
        (Some(start), Some(end)) if start < end => Ok((start, end)),
        _ => Err(io::Error::other(
            "/proc/self/stat shows no argument area (kernel older than 3.5?)",
        )),
    }
}

/// Reads this process's argument area (the same bytes as `/proc/self/cmdline`).
fn read_area(mem: &std::fs::File, (start, end): (u64, u64)) -> io::Result<Vec<u8>> {
    let len = usize::try_from(end - start).map_err(io::Error::other)?;
    let mut buf = vec![0; len];
    mem.read_exact_at(&mut buf, start)?;
    Ok(buf)
}

/// Where argument `from_end` (1 = the last one) starts in `area`, when it is `expected`.
fn locate(area: &[u8], from_end: usize, expected: &[u8]) -> Option<usize> {
    let words: Vec<&[u8]> = area
        .strip_suffix(&[0])
        .unwrap_or(area)
        .split(|b| *b == 0)
        .collect();
    // 0 is no argument: counted from the end, 1 is the last one.
    let k = words.len().checked_sub(from_end)?;
    if from_end == 0 || words.get(k).copied() != Some(expected) {
        return None;
    }
    Some(words[..k].iter().map(|w| w.len() + 1).sum())
}

/// Overwrites argument `from_end` of this process's command line (1 = the last, counted from the
/// end so that it holds whichever prefix the multi-call dispatch removed) with [`MASK`]s, when it
/// is `expected`. See the module doc.
pub(crate) fn hide_arg(from_end: usize, expected: &[u8]) -> io::Result<()> {
    if expected.is_empty() {
        return Ok(());
    }
    let bounds = area()?;
    let mem = OpenOptions::new()
        .read(true)
        .write(true)
        .open("/proc/self/mem")?;
    let at = locate(&read_area(&mem, bounds)?, from_end, expected).ok_or_else(|| {
        io::Error::other("the argument is not where it was given (the area was rewritten)")
    })?;
    mem.write_all_at(&vec![MASK; expected.len()], bounds.0 + at as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_area_is_what_the_kernel_shows_as_cmdline() {
        let mem = std::fs::File::open("/proc/self/mem").unwrap();
        let area = read_area(&mem, area().unwrap()).unwrap();
        assert_eq!(area, std::fs::read("/proc/self/cmdline").unwrap());
        // argv[0] is the first word, counted from the end as the last but N-1
        let n = area.split(|b| *b == 0).count() - 1; // the area ends with a NUL
        let argv0 = area.split(|b| *b == 0).next().unwrap();
        assert_eq!(locate(&area, n, argv0), Some(0));
    }

    #[test]
    fn words_are_located_from_the_end_and_only_when_they_match() {
        let area = b"clp-fsmon\0clp_sambamon\0w1\0-p\0pw\0\0-i\x005\0";
        assert_eq!(locate(area, 4, b"pw"), Some(29));
        assert_eq!(&area[29..31], b"pw");
        assert_eq!(locate(area, 3, b""), Some(32)); // an empty argument keeps its place
        assert_eq!(locate(area, 1, b"5"), Some(36));
        assert_eq!(locate(area, 4, b"pX"), None);
        assert_eq!(locate(area, 9, b"clp-fsmon"), None);
        assert_eq!(locate(area, 8, b"clp-fsmon"), Some(0));
    }

    #[test]
    fn position_zero_is_no_argument() {
        let area = b"clp-fsmon\0w1\0-p\0pw\0";
        assert_eq!(locate(area, 0, b"pw"), None);
        assert_eq!(locate(area, 0, b""), None);
        let e = hide_arg(0, b"pw").unwrap_err();
        assert!(e.to_string().contains("not where it was given"), "{e}");
    }

    #[test]
    fn a_word_that_does_not_match_is_left_alone() {
        let before = std::fs::read("/proc/self/cmdline").unwrap();
        let e = hide_arg(1, b"\x01no such argument\x01").unwrap_err();
        assert!(e.to_string().contains("not where it was given"), "{e}");
        assert_eq!(std::fs::read("/proc/self/cmdline").unwrap(), before);
    }
}
