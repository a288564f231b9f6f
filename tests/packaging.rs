//! Packaging: the man pages and shell completions in contrib/ are generated from `src/cli.rs` and
//! must match it (`UPDATE_DOCS=1 cargo test --test integration packaging::` rewrites them); those
//! definitions must match what the binary accepts; the Debian package builds, installs, makes its
//! links, and removes and purges without leaving anything behind; the RPM spec has the same layout.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clap_complete::Shell;
use clp_fsmon::applets::APPLETS;
use clp_fsmon::cli::{self, Style};
use roff::{Inline, Roff, bold, italic, roman};

const MAN_DIR: &str = "contrib/man";
const COMPLETIONS_DIR: &str = "contrib/completions";
const BASH_FILE: &str = "clp-fsmon.bash";
const ZSH_FILE: &str = "_clp-fsmon";
/// The monitors' control words (the legacy grammar has them, clap cannot express them), for the
/// completions; the man pages take them from `cli::man_sections`.
const CONTROL_WORDS: [(&str, &str); 5] = [
    ("-stop", "end the monitor, wait up to WAIT seconds"),
    ("-pause", "suspend probing"),
    ("-continue", "resume probing"),
    ("-disp", "print the pid registered for ID"),
    ("-del", "delete a stale registry entry"),
];
const MONITORS: [&str; 2] = ["clp_sambamon", "clp_nfsmon"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_clp-fsmon"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------------
// Generation

/// A command form typeset for a man page: placeholders (`ID`, `WAIT`: capitals and `_` only)
/// italic, other words bold, brackets and bars roman.
fn usage_inlines(term: &str) -> Vec<Inline> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || "_-./:@=\\".contains(c);
    let mut out = Vec::new();
    let mut rest = term;
    while let Some(c) = rest.chars().next() {
        let word = is_word(c);
        let end = rest
            .char_indices()
            .find(|&(_, ch)| is_word(ch) != word)
            .map_or(rest.len(), |(i, _)| i);
        let (tok, tail) = rest.split_at(end);
        rest = tail;
        if !word {
            out.push(roman(tok));
        } else if tok.len() >= 2 && tok.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_') {
            out.push(italic(tok));
        } else {
            out.push(bold(tok));
        }
    }
    out
}

/// The man page of `name`: `clap_mangen`'s title, NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then the
/// sections of [`cli::man_sections`], then VERSION.
fn man_page(name: &str) -> String {
    let cmd = cli::command(name).expect("documented command");
    let has_version = cmd.get_version().is_some();
    let man = clap_mangen::Man::new(cmd)
        .title(name.to_uppercase())
        .section(cli::MAN_SECTION)
        .date(cli::DOC_DATE)
        .source(format!("clp-fsmon {}", env!("CARGO_PKG_VERSION")))
        .manual("System Administration");
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    man.render_synopsis_section(&mut out).unwrap();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    let mut roff = Roff::new();
    for s in cli::man_sections(name) {
        roff.control("SH", [s.title]);
        for (i, p) in s.intro.iter().enumerate() {
            if i > 0 {
                roff.control("PP", []);
            }
            roff.text([roman(p.as_str())]);
        }
        for item in &s.items {
            roff.control("TP", []);
            match item.style {
                Style::Literal => roff.text([bold(item.term.as_str())]),
                Style::Usage => roff.text(usage_inlines(&item.term)),
            };
            roff.text([roman(item.text.as_str())]);
        }
        for p in &s.outro {
            // After a tagged paragraph, PP ends its indentation.
            roff.control("PP", []);
            roff.text([roman(p.as_str())]);
        }
    }
    out.extend_from_slice(roff.to_roff().as_bytes());
    if has_version {
        man.render_version_section(&mut out).unwrap();
    }
    // Each clap_mangen call starts with the same two-line preamble (the apostrophe string);
    // keep the first.
    let text = String::from_utf8(out).unwrap();
    let preamble = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    match text.split_once(preamble) {
        Some((head, tail)) => format!("{head}{preamble}{}", tail.replace(preamble, "")),
        None => text,
    }
}

fn completion(shell: Shell, name: &str) -> String {
    let mut cmd = cli::command(name).expect("documented command");
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, name, &mut out);
    String::from_utf8(out).unwrap()
}

/// The bash completions of every command in one file (installed as `clp-fsmon`, with the applet
/// names as symlinks to it, which is how bash-completion finds a command's file). The monitors
/// also complete their control words.
fn bash_completions() -> String {
    let mut out = String::from(
        "# bash completion for clp-fsmon and its applets. Generated by tests/packaging.rs from\n\
         # src/cli.rs; do not edit (UPDATE_DOCS=1 cargo test --test integration packaging::).\n\n",
    );
    for name in cli::names() {
        let mut s = completion(Shell::Bash, name);
        if MONITORS.contains(&name) {
            // clap lists the options of the top level as `opts="-s -a …"`.
            let marker = "            opts=\"";
            let at = s.find(marker).expect("clap bash layout: opts line");
            let words: Vec<&str> = CONTROL_WORDS.iter().map(|(w, _)| *w).collect();
            s.insert_str(at + marker.len(), &format!("{} ", words.join(" ")));
        }
        out.push_str(&s);
        out.push('\n');
    }
    out
}

/// The zsh completions of every command in one autoloaded file `_clp-fsmon` with `#compdef` for
/// every name; it dispatches on `$service`.
fn zsh_completions() -> String {
    let names = cli::names();
    let mut out = format!(
        "#compdef {}\n\n# zsh completion for clp-fsmon and its applets. Generated by tests/packaging.rs from\n\
         # src/cli.rs; do not edit (UPDATE_DOCS=1 cargo test --test integration packaging::).\n\n",
        names.join(" ")
    );
    let func = |n: &str| format!("_{}", n.replace('-', "_"));
    for name in &names {
        let s = completion(Shell::Zsh, name);
        // clap names the function `_NAME` and ends with the autoload/compdef dispatch for one
        // command; keep only the function(s), under a name that cannot clash with the file's.
        let body: Vec<&str> = s.lines().filter(|l| !l.starts_with("#compdef")).collect();
        let body = body.join("\n");
        let cut = body
            .rfind(&format!("if [ \"$funcstack[1]\" = \"_{name}\" ]"))
            .expect("clap zsh layout: trailing dispatch");
        let own = format!("{}_cmd", func(name));
        let mut part = body[..cut].replace(&format!("_{name}"), &own);
        if MONITORS.contains(name) {
            let at = part
                .find("'-h[Print help]'")
                .expect("clap zsh layout: -h spec");
            let mut specs = String::new();
            for (w, help) in CONTROL_WORDS {
                let arg = if w == "-stop" { "::WAIT:_default" } else { "" };
                let _ = writeln!(specs, "'{w}[{help}]{arg}' \\");
            }
            part.insert_str(at, &specs);
        }
        out.push_str(&part);
    }
    out.push_str("\ncase $service in\n");
    for name in &names {
        let _ = writeln!(out, "    {name}) {}_cmd \"$@\" ;;", func(name));
    }
    out.push_str("esac\n");
    out
}

/// Every generated file: path relative to the repository, content.
fn generated() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = cli::names()
        .into_iter()
        .map(|n| (format!("{MAN_DIR}/{n}.{}", cli::MAN_SECTION), man_page(n)))
        .collect();
    files.push((format!("{COMPLETIONS_DIR}/{BASH_FILE}"), bash_completions()));
    files.push((format!("{COMPLETIONS_DIR}/{ZSH_FILE}"), zsh_completions()));
    files
}

/// The checked-in man pages and completions are what src/cli.rs generates. `UPDATE_DOCS=1`
/// rewrites them instead of failing.
#[test]
fn docs_are_up_to_date() {
    let update = std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1");
    let scratch = tempfile::tempdir().unwrap();
    let mut stale = Vec::new();
    for (rel, text) in generated() {
        // Regenerate into a scratch tree first: what a packager would run.
        let fresh = scratch.path().join(&rel);
        fs::create_dir_all(fresh.parent().unwrap()).unwrap();
        fs::write(&fresh, &text).unwrap();
        let path = repo().join(&rel);
        if fs::read(&path).ok().as_deref() != Some(fs::read(&fresh).unwrap().as_slice()) {
            if update {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::copy(&fresh, &path).unwrap();
                eprintln!("rewrote {rel}");
            } else {
                stale.push(rel);
            }
        }
    }
    // Nothing stale lying around either: every file in the doc dirs is generated.
    let expected: BTreeSet<String> = generated().into_iter().map(|(r, _)| r).collect();
    for dir in [MAN_DIR, COMPLETIONS_DIR] {
        for e in fs::read_dir(repo().join(dir)).unwrap() {
            let rel = format!("{dir}/{}", e.unwrap().file_name().to_string_lossy());
            if !expected.contains(&rel) {
                stale.push(format!("{rel} (not generated)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated docs: {stale:?}; run UPDATE_DOCS=1 cargo test --test integration packaging::docs_are_up_to_date"
    );
}

// ---------------------------------------------------------------------------------------------
// The descriptions match the binary

/// The option words (`-s`, `--once`) of a help or usage text.
fn option_words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| c.is_whitespace() || "[]|,()".contains(c))
        .filter(|w| {
            w.len() >= 2
                && w.starts_with('-')
                && w.trim_start_matches('-')
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && w.chars()
                    .nth(1)
                    .is_some_and(|c| c == '-' || c.is_ascii_alphabetic())
        })
        .map(str::to_owned)
        .collect()
}

/// The option words of a documented command (clap's `-x` and `--long`).
fn cli_words(name: &str) -> BTreeSet<String> {
    let mut cmd = cli::command(name).unwrap();
    cmd.build(); // adds clap's own -V/--version
    let mut out = BTreeSet::new();
    for a in cmd.get_arguments() {
        if let Some(s) = a.get_short() {
            out.insert(format!("-{s}"));
        }
        if let Some(l) = a.get_long() {
            out.insert(format!("--{l}"));
        }
    }
    out
}

fn sorted(v: impl IntoIterator<Item = impl Into<String>>) -> BTreeSet<String> {
    v.into_iter().map(Into::into).collect()
}

#[test]
fn every_applet_is_documented() {
    let names = cli::names();
    assert_eq!(names[0], "clp-fsmon");
    for a in APPLETS {
        assert!(names.contains(&a.name), "{} has no documentation", a.name);
        assert!(cli::command(a.name).is_some(), "{}", a.name);
        cli::command(a.name).unwrap().debug_assert();
    }
    cli::clp_fsmon().debug_assert();
    assert_eq!(names.len(), APPLETS.len() + 1);
}

/// The monitors' pages describe exactly the options of their own `--help` (which is the parser's
/// usage text), plus the control words; and `--help`/`--version` work through the binary.
#[test]
fn monitor_descriptions_match_the_parser() {
    for name in MONITORS {
        let help = ok(Command::new(bin()).args([name, "--help"]));
        assert!(help.starts_with(&format!("usage: {name} ID")), "{help}");
        let mut from_binary = option_words(&help);
        // The usage text lists neither -h/--help nor -V/--version, which the parser accepts.
        from_binary.extend(sorted(["-h", "--help", "-V", "--version"]));
        let mut documented = cli_words(name);
        documented.extend(CONTROL_WORDS.iter().map(|(w, _)| (*w).to_owned()));
        assert_eq!(documented, from_binary, "{name}: src/cli.rs vs --help");
        // The man page's control commands are the same words.
        let control: BTreeSet<String> = cli::man_sections(name)
            .into_iter()
            .find(|s| s.title == "CONTROL COMMANDS")
            .expect("control section")
            .items
            .iter()
            .map(|i| i.term.split(' ').next().unwrap().to_owned())
            .collect();
        assert_eq!(control, sorted(CONTROL_WORDS.iter().map(|(w, _)| *w)));
        for flag in ["--version", "-V"] {
            let v = ok(Command::new(bin()).args([name, flag]));
            assert!(v.contains(env!("CARGO_PKG_VERSION")), "{name} {flag}: {v}");
        }
    }
}

#[test]
fn clplcnsc_description_matches_its_parser() {
    let help = ok(Command::new(bin()).args(["clplcnsc", "--help"]));
    assert_eq!(
        cli_words("clplcnsc"),
        option_words(&help),
        "src/cli.rs vs clplcnsc --help:\n{help}"
    );
}

#[test]
fn clp_fsmon_description_matches_the_binary() {
    let help = ok(Command::new(bin()).arg("--help"));
    // The usage lines; the applet list below them quotes the applets' options.
    let usage = help.split("applets:").next().unwrap();
    let mut from_binary = option_words(usage);
    // Accepted, and not in the help text.
    from_binary.extend(sorted(["-h", "--help", "-V"]));
    assert_eq!(cli_words("clp-fsmon"), from_binary, "{help}");
    let v = ok(Command::new(bin()).arg("--version"));
    assert_eq!(v.trim(), format!("clp-fsmon {}", env!("CARGO_PKG_VERSION")));
    let list = ok(Command::new(bin()).arg("--list"));
    let applets: Vec<&str> = list.lines().collect();
    let documented: Vec<&str> = cli::names()[1..].to_vec();
    assert_eq!(applets, documented);
}

/// Every variable in an ENVIRONMENT section is one the code reads.
#[test]
fn documented_environment_is_read_by_the_code() {
    let mut source = String::new();
    let mut dirs = vec![repo().join("src"), repo().join("applets")];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("cli.rs") {
                source.push_str(&fs::read_to_string(&p).unwrap());
            }
        }
    }
    for name in cli::names() {
        for s in cli::man_sections(name) {
            if s.title == "ENVIRONMENT" {
                for i in s.items {
                    assert!(
                        source.contains(&format!("\"{}\"", i.term)),
                        "{name}(8) documents {} but no code reads it",
                        i.term
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The generated files are usable

/// `man` output without the overstrike (`X\bX`, `_\bX`) of bold and underline.
fn strip_overstrike(s: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{8}' {
            out.pop();
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect()
}

#[test]
fn man_pages_render_without_warnings() {
    let mut checked = 0;
    for name in cli::names() {
        let page = repo().join(format!("{MAN_DIR}/{name}.8"));
        assert!(page.exists(), "{}", page.display());
        if have("groff") {
            let out = run(Command::new("groff").args(["-man", "-ww", "-z"]).arg(&page));
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && err.is_empty(),
                "groff {name}: {err}"
            );
            checked += 1;
        }
        if have("mandoc") {
            let out = run(Command::new("mandoc")
                .args(["-T", "lint", "-W", "warning"])
                .arg(&page));
            let msg = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success() && msg.is_empty(),
                "mandoc {name}: {msg}"
            );
            checked += 1;
        }
        if have("man") {
            let text = ok(Command::new("man")
                .arg("-l")
                .arg(&page)
                .env("MANWIDTH", "80")
                .env_remove("MAN_KEEP_FORMATTING")
                .env("LC_ALL", "C.UTF-8"));
            let text = strip_overstrike(&text);
            for heading in [
                "NAME",
                "SYNOPSIS",
                "DESCRIPTION",
                "OPTIONS",
                "EXIT STATUS",
                "FILES",
                "SEE ALSO",
            ] {
                assert!(
                    text.lines().any(|l| l == heading),
                    "{name}(8) has no {heading}:\n{text}"
                );
            }
            if MONITORS.contains(&name) {
                for w in [
                    "CONTROL COMMANDS",
                    "ENVIRONMENT",
                    "CLP_FSMON_ROOT",
                    "CLP_FSMON_LOG",
                ] {
                    assert!(text.contains(w), "{name}(8): {w}");
                }
                // The synopsis shows the legacy forms, with -stop as a word.
                assert!(text.contains(&format!("{name} ID -stop [WAIT]")), "{text}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 4, "none of groff, mandoc, man is installed");
}

#[test]
fn bash_completion_completes_every_applet() {
    let file = repo().join(format!("{COMPLETIONS_DIR}/{BASH_FILE}"));
    ok(Command::new("bash").arg("-n").arg(&file));
    // Source it and ask each completion function what it offers.
    let script = r#"
        source "$1"
        ask() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=()
                "$(complete -p "$1" | sed 's/.*-F \([^ ]*\) .*/\1/')" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
                echo "$1:" "${COMPREPLY[@]}"; }
        ask clp-fsmon clp
        ask clp-fsmon --
        ask clp_sambamon w1 -
        ask clp_nfsmon w1 --
        ask clplcnsc -
        ask clplcnsc -i -p ''
    "#;
    let out = ok(Command::new("bash").args(["-c", script, "bash"]).arg(&file));
    let line = |prefix: &str| -> BTreeSet<String> {
        out.lines()
            .filter(|l| l.starts_with(prefix))
            .flat_map(|l| l.split_whitespace().skip(1).map(str::to_owned))
            .collect()
    };
    let fsmon: Vec<BTreeSet<String>> = out
        .lines()
        .filter(|l| l.starts_with("clp-fsmon:"))
        .map(|l| l.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect();
    assert_eq!(fsmon[0], sorted(cli::names()[1..].iter().copied()), "{out}");
    assert!(
        fsmon[1].contains("--install") && fsmon[1].contains("--list"),
        "{out}"
    );
    let samba = line("clp_sambamon:");
    for w in ["-s", "-A", "-stop", "-pause", "--once"] {
        assert!(samba.contains(w), "clp_sambamon lacks {w}: {out}");
    }
    let nfs = line("clp_nfsmon:");
    assert!(nfs.contains("--nfs4") && nfs.contains("--udp"), "{out}");
    let lic: Vec<&str> = out.lines().filter(|l| l.starts_with("clplcnsc:")).collect();
    assert!(lic[0].contains("-p") && lic[0].contains("-l"), "{out}");
    assert!(lic[1].contains("FSMON20"), "{out}");
}

#[test]
fn zsh_completion_parses() {
    let file = repo().join(format!("{COMPLETIONS_DIR}/{ZSH_FILE}"));
    let text = fs::read_to_string(&file).unwrap();
    let first = text.lines().next().unwrap();
    assert_eq!(first, format!("#compdef {}", cli::names().join(" ")));
    for name in cli::names() {
        assert!(
            text.contains(&format!("    {name}) _")),
            "no dispatch for {name}"
        );
    }
    if have("zsh") {
        ok(Command::new("zsh").arg("-n").arg(&file));
    } else {
        eprintln!("zsh not installed: only the structure of {ZSH_FILE} was checked");
    }
}
