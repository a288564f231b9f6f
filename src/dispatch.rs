//! Multi-call dispatch: the basename of argv[0] picks the applet (busybox-style);
//! `clp-fsmon APPLET ARGS…` works too, as do `--list`, `--install [--hardlink] [DIR]`,
//! `--uninstall [DIR]` and `status [--json|--prometheus]` ([`crate::monitor::overview`]).
//!
//! Dispatch never uses `current_exe()` for the applet name: that resolves the link and would
//! always say `clp-fsmon`. `--install` does use it, to know what to link to.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use crate::applets::{self, APPLETS};
use crate::exit::{Exit, Status};

/// Name of the multi-call binary itself.
pub const BINARY: &str = "clp-fsmon";

/// Default directory for `--install`.
pub const DEFAULT_INSTALL_DIR: &str = "/usr/sbin";

/// Runs the binary for `argv` and returns the exit status.
pub fn run(argv: &[OsString]) -> Status {
    let name = argv
        .first()
        .map(|a| {
            Path::new(a)
                .file_name()
                .unwrap_or(a.as_os_str())
                .to_os_string()
        })
        .unwrap_or_default();
    let name = name.to_string_lossy();
    if let Some(applet) = applets::find(&name) {
        return (applet.main)(&argv[1..]);
    }
    if name == BINARY || name.starts_with("clp-fsmon") {
        return run_self(&argv[1..]);
    }
    unknown(&name)
}

fn unknown(name: &str) -> Status {
    crate::errln!("clp-fsmon: unknown applet {name:?}");
    crate::err!("{}", list());
    Exit::UnknownApplet.into()
}

fn list() -> String {
    let mut s = String::from("applets:\n");
    for a in APPLETS {
        let _ = writeln!(s, "  {:<14} {}", a.name, a.about);
    }
    s
}

/// What the binary is, in one line.
pub const ABOUT: &str = "file-server monitor for HA clusters (multi-call binary)";

/// One of the binary's own words (called as `clp-fsmon WORD …`).
#[derive(Debug)]
pub struct OwnWord {
    /// The word.
    pub word: &'static str,
    /// The optional value that may follow it (`DIR`).
    pub value: Option<&'static str>,
    /// The word it modifies (`--hardlink` goes with `--install`), if any.
    pub with: Option<&'static str>,
    /// What it does; `{dir}` stands for [`DEFAULT_INSTALL_DIR`].
    pub help: &'static str,
}

impl OwnWord {
    /// `help` with `{dir}` filled in.
    pub fn help(&self) -> String {
        self.help.replace("{dir}", DEFAULT_INSTALL_DIR)
    }

    /// The usage form, with the words that go with it (one of them at most):
    /// `--install [--hardlink] [DIR]`, `status [--json|--prometheus]`.
    pub fn form(&self) -> String {
        let mut f = self.word.to_owned();
        let with: Vec<&str> = modifiers(self.word).map(|m| m.word).collect();
        if !with.is_empty() {
            let _ = write!(f, " [{}]", with.join("|"));
        }
        if let Some(v) = self.value {
            let _ = write!(f, " [{v}]");
        }
        f
    }
}

/// The words that go with `word`, in usage order.
fn modifiers(word: &str) -> impl Iterator<Item = &'static OwnWord> {
    OWN_WORDS.iter().filter(move |m| m.with == Some(word))
}

/// The binary's own words, in usage order.
pub static OWN_WORDS: &[OwnWord] = &[
    OwnWord {
        word: "--list",
        value: None,
        with: None,
        help: "Print the applet names, one a line",
    },
    OwnWord {
        word: "--install",
        value: Some("DIR"),
        with: None,
        help: "Link every applet into DIR (default {dir}) as a symbolic link to this binary",
    },
    OwnWord {
        word: "--hardlink",
        value: None,
        with: Some("--install"),
        help: "With --install: make hard links instead of symbolic links",
    },
    OwnWord {
        word: "--uninstall",
        value: Some("DIR"),
        with: None,
        help: "Remove the applet links in DIR (default {dir}) that point at this binary",
    },
    OwnWord {
        word: "status",
        value: None,
        with: None,
        help: "List every monitor on this server (both applets) with its state, failures k/c, \
probes, last result and latency p50/p95/max of the last 100 probes (root only)",
    },
    OwnWord {
        word: "--json",
        value: None,
        with: Some("status"),
        help: "With status: print one JSON object with a monitors array",
    },
    OwnWord {
        word: "--prometheus",
        value: None,
        with: Some("status"),
        help: "With status: print the Prometheus text exposition of every monitor",
    },
    OwnWord {
        word: "--version",
        value: None,
        with: None,
        help: "Print the version and the licence keys this binary trusts",
    },
];

fn help() -> String {
    let mut s = format!(
        "clp-fsmon {} — {ABOUT}\n\n\
usage: clp-fsmon APPLET [ARGS…]\n           Run an applet (or call it through a link named APPLET)\n",
        env!("CARGO_PKG_VERSION"),
    );
    for w in OWN_WORDS.iter().filter(|w| w.with.is_none()) {
        let _ = writeln!(s, "       clp-fsmon {}\n           {}", w.form(), w.help());
        for m in modifiers(w.word) {
            let _ = writeln!(s, "           {}", m.help());
        }
    }
    s.push('\n');
    s.push_str(&list());
    s
}

fn run_self(args: &[OsString]) -> Status {
    let Some(first) = args.first() else {
        crate::err!("{}", help());
        return Exit::Usage.into();
    };
    let first_s = first.to_string_lossy();
    match first_s.as_ref() {
        "--help" | "-h" => {
            crate::out!("{}", help());
            Exit::Ok.into()
        }
        "--version" | "-V" => {
            crate::outln!("clp-fsmon {}", env!("CARGO_PKG_VERSION"));
            for l in crate::license::trust::describe() {
                crate::outln!("{l}");
            }
            Exit::Ok.into()
        }
        "--list" => {
            for a in APPLETS {
                crate::outln!("{}", a.name);
            }
            Exit::Ok.into()
        }
        "--install" | "--uninstall" => install_cmd(first_s == "--install", &args[1..]),
        "status" => status_cmd(&args[1..]),
        #[cfg(feature = "keygen")]
        "keygen" => crate::license::keygen_main(&args[1..]).into(),
        name => match applets::find(name) {
            Some(a) => (a.main)(&args[1..]),
            None => unknown(name),
        },
    }
}

/// `status [--json|--prometheus]`.
fn status_cmd(args: &[OsString]) -> Status {
    use crate::monitor::overview::{self, Format};
    let mut format = Format::Lines;
    for a in args {
        let word = modifiers("status").find(|m| a.to_str() == Some(m.word));
        format = match (format, word.map(|m| m.word)) {
            (Format::Lines, Some("--json")) => Format::Json,
            (Format::Lines, Some("--prometheus")) => Format::Prometheus,
            (_, Some(w)) => {
                crate::errln!("clp-fsmon: status: {w} with another output option");
                return Exit::Usage.into();
            }
            (_, None) => {
                crate::errln!("clp-fsmon: status: unknown option {a:?}");
                return Exit::Usage.into();
            }
        };
    }
    if !crate::sys::is_root() {
        crate::errln!("clp-fsmon: status: permission denied: the registry is root's");
        return Exit::Permission.into();
    }
    overview::run(&crate::paths::Paths::from_env(), format).into()
}

fn install_cmd(do_install: bool, args: &[OsString]) -> Status {
    let mut hardlink = false;
    let mut dir: Option<PathBuf> = None;
    for a in args {
        match a.to_str() {
            Some("--hardlink") if do_install => hardlink = true,
            Some(s) if s.starts_with('-') => {
                crate::errln!("clp-fsmon: unknown option {s:?}");
                return Exit::Usage.into();
            }
            _ if dir.is_none() => dir = Some(PathBuf::from(a)),
            _ => {
                crate::errln!("clp-fsmon: too many arguments");
                return Exit::Usage.into();
            }
        }
    }
    let dir = dir.unwrap_or_else(|| PathBuf::from(DEFAULT_INSTALL_DIR));
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            crate::errln!("clp-fsmon: cannot find this binary: {e}");
            return Exit::System.into();
        }
    };
    let r = if do_install {
        install(&exe, &dir, hardlink)
    } else {
        uninstall(&exe, &dir)
    };
    match r {
        Ok(lines) => {
            for l in lines {
                crate::outln!("{l}");
            }
            Exit::Ok.into()
        }
        Err(e) => {
            crate::errln!("clp-fsmon: {e}");
            Exit::System.into()
        }
    }
}

/// True when `link` already refers to `exe` (a symlink resolving to it, or a hard link to it).
fn points_at(link: &Path, exe: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(link), std::fs::metadata(exe)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Links every applet into `dir`. Idempotent; each link is created under a temporary name and
/// renamed into place, so a reader never sees a missing or half-made link. A file that is not a
/// link to this binary is left alone and reported.
pub fn install(exe: &Path, dir: &Path, hardlink: bool) -> io::Result<Vec<String>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for a in APPLETS {
        let link = dir.join(a.name);
        if let Ok(meta) = std::fs::symlink_metadata(&link) {
            let is_ours = points_at(&link, exe);
            let kind_ok = meta.file_type().is_symlink() != hardlink;
            if is_ours && kind_ok {
                out.push(format!("{}: already installed", link.display()));
                continue;
            }
            if !is_ours {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} exists and is not a link to {}",
                        link.display(),
                        exe.display()
                    ),
                ));
            }
        }
        let tmp = dir.join(format!(".{}.tmp-{}", a.name, std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        if hardlink {
            std::fs::hard_link(exe, &tmp).map_err(|e| cross_device(e, exe, dir))?;
        } else {
            std::os::unix::fs::symlink(exe, &tmp)?;
        }
        if let Err(e) = std::fs::rename(&tmp, &link) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        out.push(format!("{} -> {}", link.display(), exe.display()));
    }
    Ok(out)
}

/// A hard link that failed because `dir` is on another file system than `exe` (e.g. /tmp on
/// tmpfs) says so and what to do instead; any other error is kept as it is.
fn cross_device(e: io::Error, exe: &Path, dir: &Path) -> io::Error {
    if e.raw_os_error() != Some(nix::libc::EXDEV) {
        return e;
    }
    io::Error::new(
        e.kind(),
        format!(
            "--hardlink: {} is on another file system than {} (a hard link cannot cross file \
             systems); install symbolic links (without --hardlink) or into a directory on the \
             binary's file system",
            dir.display(),
            exe.display()
        ),
    )
}

/// Removes the applet links in `dir` that point at `exe`; anything else is left alone.
pub fn uninstall(exe: &Path, dir: &Path) -> io::Result<Vec<String>> {
    let mut out = Vec::new();
    for a in APPLETS {
        let link = dir.join(a.name);
        if std::fs::symlink_metadata(&link).is_err() {
            continue;
        }
        if points_at(&link, exe) || dangling_link_to(&link, exe) {
            std::fs::remove_file(&link)?;
            out.push(format!("removed {}", link.display()));
        } else {
            out.push(format!(
                "kept {} (not a link to {})",
                link.display(),
                exe.display()
            ));
        }
    }
    Ok(out)
}

fn dangling_link_to(link: &Path, exe: &Path) -> bool {
    std::fs::read_link(link).is_ok_and(|t| t == exe && !t.exists())
}
