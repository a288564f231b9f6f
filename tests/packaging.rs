//! Packaging: the man pages and shell completions in contrib/ are generated from `src/cli.rs` and
//! must match it (`UPDATE_DOCS=1 cargo test --test integration packaging::` rewrites them); those
//! definitions must match what the binary accepts; the Debian package builds, installs, makes its
//! links, and removes and purges without leaving anything behind; the RPM spec has the same layout.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::docs::{self as cli, Style};
use clap_complete::Shell;
use clp_fsmon::applets::APPLETS;
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

/// Fails the test unless `tool` is installed, naming the Debian `package` that has it.
fn need(tool: &str, package: &str) {
    crate::rig::require_tool(tool, package);
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
        // clap_complete names a command's case `clp__fsmon__subcmd__status` where it picks it,
        // but labels the case `clp__subcmd__fsmon__subcmd__status` (the `-` of the binary's name
        // taken for a command boundary): the label is made to match.
        if name.contains('-') {
            let picked = name.replace('-', "__");
            let labelled = name.replace('-', "__subcmd__");
            s = s.replace(
                &format!("        {labelled}__subcmd__"),
                &format!("        {picked}__subcmd__"),
            );
        }
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
    files.push(("README.md".into(), readme()));
    files
}

/// README.md with its alert table made from the catalogue (between the table's two marker
/// lines, which must be there).
fn readme() -> String {
    let text = fs::read_to_string(repo().join("README.md")).unwrap();
    let (open, close) = cli::README_ALERTS;
    let start = text
        .find(open)
        .expect("README.md: the alert table's opening line");
    let end = text[start..]
        .find(close)
        .map(|i| start + i + close.len())
        .expect("README.md: the alert table's closing line");
    format!(
        "{}{}{}",
        &text[..start],
        cli::readme_alert_table(),
        &text[end..]
    )
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
    // The flags of its commands (`clp-fsmon status --json`) too.
    let args = cmd
        .get_arguments()
        .chain(cmd.get_subcommands().flat_map(clap::Command::get_arguments));
    for a in args {
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
    let mut lines = v.lines();
    assert_eq!(
        lines.next(),
        Some(format!("clp-fsmon {}", env!("CARGO_PKG_VERSION")).as_str())
    );
    // then what it trusts: this test build, the published development keys
    let trusts: Vec<&str> = lines.collect();
    assert_eq!(trusts, clp_fsmon::license::trust::describe(), "{v}");
    assert!(trusts.iter().all(|l| l.starts_with("trusts: ")), "{v}");
    assert!(
        trusts
            .iter()
            .any(|l| l.contains(clp_fsmon::license::trust::DEV_MARK)),
        "{v}"
    );
    let list = ok(Command::new(bin()).arg("--list"));
    let applets: Vec<&str> = list.lines().collect();
    let documented: Vec<&str> = cli::names()[1..].to_vec();
    assert_eq!(applets, documented);
}

/// The description accepts and refuses the same command lines as clplcnsc's own parser (a usage
/// error is exit status 2; anything else got past the parser).
#[test]
fn clplcnsc_description_parses_like_the_applet() {
    let root = tempfile::tempdir().unwrap();
    for line in [
        "-l -p FSMON20",
        "-d -p FSMON20",
        "-d -p FSMON20 AB123456",
        "-i -p FSMON20 --serial AB123456 --key K",
        "-i -p FSMON20 --trial --user u --key K",
        "-i -p FSMON20 --file /nonexistent.lic",
        "-p FSMON20",
        "-l",
        "-i -l -p FSMON20",
        "-l -p FSMON20 AB123456",
        "-i -p FSMON20 --serial AB123456",
        "-i -p FSMON20 --serial AB123456 --trial --user u --key K",
        "-i -p FSMON20 --trial --key K",
        "-i -p FSMON20 --user u --key K",
        "-l -p FSMON20 --serial AB123456 --key K",
        "-i -p FSMON20 --file f.toml --key K",
        "-l -p FSMON20 --file f.toml",
        "-x -p FSMON20",
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let described = cli::clplcnsc()
            .try_get_matches_from(std::iter::once("clplcnsc").chain(args.iter().copied()))
            .is_ok();
        let out = run(Command::new(bin())
            .arg("clplcnsc")
            .args(&args)
            .env("CLP_FSMON_ROOT", root.path())
            .stdin(std::process::Stdio::null()));
        let parsed = out.status.code() != Some(2)
            || !String::from_utf8_lossy(&out.stderr).contains("Usage:");
        assert_eq!(
            described,
            parsed,
            "clplcnsc {line}: src/cli.rs says {described}, the applet exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
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
        need("groff", "groff-base");
        let out = run(Command::new("groff").args(["-man", "-ww", "-z"]).arg(&page));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && err.is_empty(),
            "groff {name}: {err}"
        );
        checked += 1;
        need("mandoc", "mandoc");
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
        need("man", "man-db");
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
        ask clp-fsmon status --
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
    assert!(
        fsmon[2].contains("--json") && fsmon[2].contains("--prometheus"),
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
    need("zsh", "zsh");
    ok(Command::new("zsh").arg("-n").arg(&file));
}

// ---------------------------------------------------------------------------------------------
// The Debian package

const DEB_NAME: &str = "clusterpro-fsmon";
/// Present while this test owns an installation of the package (on tmpfs: gone after a reboot).
const MARKER: &str = "/run/clp-fsmon-packaging-test.owner";
/// Serialises the tests that install the package (and with any copy of this suite).
const LOCK: &str = "/run/lock/clp-fsmon-packaging.lock";

fn deb_metadata() -> toml::Table {
    let manifest: toml::Table =
        toml::from_str(&fs::read_to_string(repo().join("Cargo.toml")).unwrap()).unwrap();
    manifest["package"]["metadata"]["deb"]
        .as_table()
        .expect("[package.metadata.deb]")
        .clone()
}

/// One entry of the package's data archive.
#[derive(Debug)]
enum Asset {
    File {
        src: PathBuf,
        dest: String,
        mode: u32,
    },
    Symlink {
        dest: String,
        target: String,
    },
}

/// The files below `dir` (recursively or not) whose names end with `suffix`, sorted.
fn files_below(dir: &Path, recursive: bool, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                if recursive {
                    dirs.push(p);
                }
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The assets of `[package.metadata.deb]` resolved as cargo-deb resolves them:
/// `target/release/clp-fsmon` is the binary under test; `DIR/*SUFFIX` copies DIR's files into
/// the destination directory, `DIR/**/*` keeps their paths below DIR; a destination ending in `/`
/// is a directory; `{ dest, link_name }` is a symlink.
fn deb_assets(binary: &Path) -> Vec<Asset> {
    let mut out = Vec::new();
    for a in deb_metadata()["assets"].as_array().expect("assets") {
        if let Some(t) = a.as_table() {
            out.push(Asset::Symlink {
                dest: t["dest"].as_str().unwrap().to_owned(),
                target: t["link_name"].as_str().unwrap().to_owned(),
            });
            continue;
        }
        let a: Vec<&str> = a
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let (src, dest) = (a[0], a[1]);
        let mode = a.get(2).map(|m| u32::from_str_radix(m, 8).unwrap());
        let sources: Vec<(PathBuf, String)> = if src == "target/release/clp-fsmon" {
            vec![(binary.to_path_buf(), "clp-fsmon".into())]
        } else if let Some((dir, pattern)) = src.rsplit_once('/')
            && pattern.contains('*')
        {
            let suffix = pattern
                .strip_prefix('*')
                .expect("stager: only *SUFFIX globs");
            let (dir, recursive) = match dir.strip_suffix("/**") {
                Some(d) => (d, true),
                None => (dir, false),
            };
            assert!(!dir.contains('*'), "stager: unsupported glob {src}");
            let base = repo().join(dir);
            let found = files_below(&base, recursive, suffix);
            assert!(!found.is_empty(), "asset {src} matches no file");
            found
                .into_iter()
                .map(|p| {
                    let rel = if recursive {
                        p.strip_prefix(&base)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned()
                    } else {
                        p.file_name().unwrap().to_string_lossy().into_owned()
                    };
                    (p, rel)
                })
                .collect()
        } else {
            let p = repo().join(src);
            assert!(p.is_file(), "asset {src} does not exist");
            vec![(
                p,
                Path::new(src).file_name().unwrap().to_string_lossy().into(),
            )]
        };
        for (p, rel) in sources {
            let dest = if dest.ends_with('/') {
                format!("{dest}{rel}")
            } else {
                dest.to_owned()
            };
            let mode = mode.unwrap_or_else(|| {
                use std::os::unix::fs::PermissionsExt;
                fs::metadata(&p).unwrap().permissions().mode() & 0o7777
            });
            out.push(Asset::File { src: p, dest, mode });
        }
    }
    out
}

/// A stripped copy of the binary under test (the package ships a stripped binary; a debug build
/// is tens of MiB and slow to compress).
fn packaged_binary(work: &Path) -> PathBuf {
    let copy = work.join("clp-fsmon");
    fs::copy(bin(), &copy).unwrap();
    need("strip", "binutils");
    ok(Command::new("strip").arg(&copy));
    copy
}

/// Builds the package with `dpkg-deb` from a staging tree laid out from the metadata, as
/// cargo-deb would (man pages gzipped, a copyright file, the maintainer scripts).
fn stage_deb(work: &Path, binary: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let meta = deb_metadata();
    let root = work.join("stage");
    let mut size = 0;
    let mut conffiles = String::new();
    for a in deb_assets(binary) {
        match a {
            Asset::File { src, dest, mode } => {
                // As cargo-deb does: whatever is installed below /etc is a conffile.
                if dest.starts_with("etc/") {
                    let _ = writeln!(conffiles, "/{dest}");
                }
                let mut to = root.join(&dest);
                fs::create_dir_all(to.parent().unwrap()).unwrap();
                if dest.starts_with("usr/share/man/") {
                    let gz = run(Command::new("gzip").args(["-9n", "-c"]).arg(&src));
                    assert!(gz.status.success());
                    to.as_mut_os_string().push(".gz");
                    fs::write(&to, gz.stdout).unwrap();
                } else {
                    fs::copy(&src, &to).unwrap();
                }
                fs::set_permissions(&to, fs::Permissions::from_mode(mode)).unwrap();
                size += fs::metadata(&to).unwrap().len();
            }
            Asset::Symlink { dest, target } => {
                let to = root.join(&dest);
                fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(&target, &to).unwrap();
            }
        }
    }
    let doc = root.join(format!("usr/share/doc/{DEB_NAME}"));
    fs::create_dir_all(&doc).unwrap();
    fs::write(
        doc.join("copyright"),
        format!(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
             Upstream-Name: clp-fsmon\n\nFiles: *\nCopyright: {}\nLicense: {}\n",
            meta["copyright"].as_str().unwrap(),
            env!("CARGO_PKG_LICENSE")
        ),
    )
    .unwrap();
    if let Some(changelog) = meta.get("changelog").and_then(|c| c.as_str()) {
        let gz = run(Command::new("gzip")
            .args(["-9n", "-c"])
            .arg(repo().join(changelog)));
        assert!(gz.status.success());
        fs::write(doc.join("changelog.Debian.gz"), gz.stdout).unwrap();
    }
    let control = root.join("DEBIAN");
    fs::create_dir_all(&control).unwrap();
    let scripts = repo().join(meta["maintainer-scripts"].as_str().unwrap());
    for s in ["postinst", "prerm", "postrm"] {
        fs::copy(scripts.join(s), control.join(s)).unwrap();
        fs::set_permissions(control.join(s), fs::Permissions::from_mode(0o755)).unwrap();
    }
    if !conffiles.is_empty() {
        fs::write(control.join("conffiles"), conffiles).unwrap();
    }
    let arch = ok(Command::new("dpkg").arg("--print-architecture"));
    let extended = meta["extended-description"].as_str().unwrap();
    fs::write(
        control.join("control"),
        format!(
            "Package: {DEB_NAME}\nVersion: {}-1\nArchitecture: {}\nSection: {}\nPriority: {}\n\
             Maintainer: {}\nInstalled-Size: {}\nDepends: libc6, libgssapi-krb5-2\nDescription: {}\n {}\n",
            env!("CARGO_PKG_VERSION"),
            arch.trim(),
            meta["section"].as_str().unwrap(),
            meta["priority"].as_str().unwrap(),
            meta["maintainer"].as_str().unwrap(),
            size.div_ceil(1024),
            env!("CARGO_PKG_DESCRIPTION"),
            extended.replace('\n', " "),
        ),
    )
    .unwrap();
    let deb = work.join(format!("{DEB_NAME}-staged.deb"));
    ok(Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "-z1", "--build"])
        .arg(&root)
        .arg(&deb));
    deb
}

fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn have_cargo_deb() -> bool {
    Command::new(cargo())
        .args(["deb", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the package with contrib/deb/build.sh (`cargo deb --no-build` after the release
/// check) around the binary under test. The test build trusts the development licence keys:
/// without `CLP_FSMON_DEV_PACKAGE=1` the build must refuse it and make no package; with it, it
/// is packaged as a development package (version …-1~dev).
fn cargo_deb(work: &Path, binary: &Path) -> PathBuf {
    let target = work.join("target");
    fs::create_dir_all(target.join("release")).unwrap();
    fs::copy(binary, target.join("release/clp-fsmon")).unwrap();
    let deb = work.join(format!("{DEB_NAME}-cargo-deb.deb"));
    let build = || {
        let mut c = Command::new(repo().join("contrib/deb/build.sh"));
        c.args(["--no-build", "--no-strip", "--fast", "-o"])
            .arg(&deb)
            .env("CARGO", cargo())
            .env("CARGO_TARGET_DIR", &target)
            .env_remove("CLP_FSMON_DEV_PACKAGE")
            .current_dir(repo());
        c
    };
    let refused = run(&mut build());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success()
            && err.contains("refusing to package")
            && err.contains("development"),
        "a binary trusting the development keys was not refused: {refused:?}"
    );
    assert!(!deb.exists(), "a package was made all the same");
    ok(build().env("CLP_FSMON_DEV_PACKAGE", "1"));
    assert_eq!(
        deb_field(&deb, "Version").trim(),
        format!("{}-1~dev", env!("CARGO_PKG_VERSION"))
    );
    deb
}

/// The non-directory entries of a .deb: path (without `./`) → `d`/`-`/`l` type, mode and,
/// for a symlink, its target.
fn deb_contents(deb: &Path) -> BTreeSet<String> {
    ok(Command::new("dpkg-deb").arg("-c").arg(deb))
        .lines()
        .filter(|l| !l.starts_with('d'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let path = f[5..].join(" ");
            format!("{} {}", f[0], path.trim_start_matches("./"))
        })
        .collect()
}

fn deb_field(deb: &Path, field: &str) -> String {
    ok(Command::new("dpkg-deb").args(["-f"]).arg(deb).arg(field))
        .trim()
        .to_owned()
}

/// What the package must hold, whoever builds it.
fn check_deb_contents(deb: &Path) {
    let c = deb_contents(deb);
    let has = |entry: &str| {
        assert!(
            c.contains(entry),
            "{} lacks {entry}:\n{c:#?}",
            deb.display()
        );
    };
    has("-rwxr-xr-x usr/sbin/clp-fsmon");
    for n in cli::names() {
        has(&format!("-rw-r--r-- usr/share/man/man8/{n}.8.gz"));
    }
    has("-rw-r--r-- usr/share/bash-completion/completions/clp-fsmon");
    for a in APPLETS {
        has(&format!(
            "lrwxrwxrwx usr/share/bash-completion/completions/{} -> clp-fsmon",
            a.name
        ));
        // The applet links are made by postinst, never shipped: dpkg must not own them.
        assert!(
            !c.iter()
                .any(|e| e.ends_with(&format!("usr/sbin/{}", a.name))),
            "{} ships usr/sbin/{}",
            deb.display(),
            a.name
        );
    }
    has("-rw-r--r-- usr/share/zsh/vendor-completions/_clp-fsmon");
    for s in files_below(&repo().join("contrib/scripts"), true, ".sh") {
        let rel = s.strip_prefix(repo().join("contrib/scripts")).unwrap();
        has(&format!(
            "-rwxr-xr-x usr/share/{DEB_NAME}/scripts/{}",
            rel.display()
        ));
    }
    has("-rwxr-xr-x usr/lib/ocf/resource.d/clp-fsmon/clp-fsmon");
    has(&format!("-rwxr-xr-x {CTDB_SCRIPT}"));
    has(&format!(
        "-rw-r--r-- usr/share/doc/{DEB_NAME}/examples/clp-fsmon.conf.example"
    ));
    has(&format!(
        "-rw-r--r-- usr/share/doc/{DEB_NAME}/README.ctdb.md"
    ));
    for unit in files_below(&repo().join("contrib/systemd"), false, ".service") {
        let name = unit.file_name().unwrap().to_string_lossy().into_owned();
        has(&format!("-rw-r--r-- lib/systemd/system/{name}"));
    }
    has(&format!("-rw-r--r-- usr/share/doc/{DEB_NAME}/README.md"));
    has(&format!("-rw-r--r-- usr/share/doc/{DEB_NAME}/copyright"));
    has(&format!(
        "-rw-r--r-- usr/share/doc/{DEB_NAME}/changelog.Debian.gz"
    ));
    has(&format!(
        "-rw-r--r-- usr/share/lintian/overrides/{DEB_NAME}"
    ));
    has(&format!("-rw-r--r-- {LOGROTATE}"));
    // A configuration file an administrator may edit: dpkg keeps their version on upgrade.
    let conffiles = ok(Command::new("dpkg-deb").arg("-I").arg(deb).arg("conffiles"));
    assert_eq!(
        conffiles.lines().collect::<Vec<_>>(),
        [format!("/{LOGROTATE}")],
        "{}: conffiles",
        deb.display()
    );
    assert_eq!(deb_field(deb, "Package"), DEB_NAME);
    // The staged package and cargo-deb's development package (…-1~dev, see cargo_deb).
    let version = deb_field(deb, "Version");
    assert!(
        [
            format!("{}-1", env!("CARGO_PKG_VERSION")),
            format!("{}-1~dev", env!("CARGO_PKG_VERSION"))
        ]
        .contains(&version),
        "{version}"
    );
    // A Rust binary: nothing beyond the C library and MIT's GSSAPI (clp_sambamon --kerberos),
    // which must be there.
    let depends = deb_field(deb, "Depends");
    for d in depends.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        assert!(
            d.starts_with("libc6")
                || d.starts_with("libgcc-s1")
                || d.starts_with("libgssapi-krb5-2"),
            "unexpected dependency {d}"
        );
    }
    assert!(depends.contains("libgssapi-krb5-2"), "{depends}");
}

fn package_status() -> String {
    let out = run(Command::new("dpkg-query").args(["-W", "-f=${db:Status-Abbrev}", DEB_NAME]));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The package's logrotate configuration (a conffile), from contrib/logrotate.
const LOGROTATE: &str = "etc/logrotate.d/clusterpro-fsmon";
/// The CTDB event script, in CTDB's directory of available scripts (contrib/ctdb).
const CTDB_SCRIPT: &str = "usr/share/ctdb/events/legacy/55.clp-fsmon.script";

/// Where the package puts things, and what the applets and a purge touch.
const WATCHED: [&str; 14] = [
    "/etc/logrotate.d",
    "/usr/sbin",
    "/usr/share/lintian/overrides",
    "/usr/share/man/man8",
    "/usr/share/bash-completion/completions",
    "/usr/share/zsh/vendor-completions",
    "/usr/share/clusterpro-fsmon",
    "/usr/share/doc/clusterpro-fsmon",
    "/usr/lib/ocf/resource.d",
    "/usr/share/ctdb",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/var/lib/clp-fsmon",
    "/var/log/clp-fsmon",
];

fn snapshot() -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<PathBuf> = WATCHED.iter().map(PathBuf::from).collect();
    while let Some(p) = todo.pop() {
        let Ok(meta) = fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            for e in fs::read_dir(&p).unwrap() {
                todo.push(e.unwrap().path());
            }
        }
        out.insert(p);
    }
    out
}

/// Refuses (fails) when the machine has an installation this test did not make: the test
/// installs into /usr/sbin and purges, and must never remove a real one.
fn refuse_to_clobber() {
    let ours = Path::new(MARKER).exists();
    let status = package_status();
    assert!(
        ours || status.is_empty() || status.starts_with("un"),
        "refusing to run: {DEB_NAME} is installed ({status}) and not by this test; \
         dpkg --purge {DEB_NAME} first"
    );
    let mut paths = vec!["/usr/sbin/clp-fsmon".to_owned()];
    paths.extend(APPLETS.iter().map(|a| format!("/usr/sbin/{}", a.name)));
    paths.extend([
        "/var/lib/clp-fsmon".into(),
        "/var/log/clp-fsmon".into(),
        format!("/{LOGROTATE}"),
    ]);
    for p in paths {
        assert!(
            ours || fs::symlink_metadata(&p).is_err(),
            "refusing to run: {p} exists and was not installed by this test's {DEB_NAME}"
        );
    }
}

/// Purges the package if this test installed it, whatever happened (also on a failed assertion).
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        if Path::new(MARKER).exists() {
            let st = package_status();
            if !st.is_empty() && !st.starts_with("un") {
                let _ = Command::new("dpkg").args(["--purge", DEB_NAME]).status();
            }
            // Links a broken prerm left (none existed before: see refuse_to_clobber).
            for a in APPLETS {
                let link = format!("/usr/sbin/{}", a.name);
                if fs::read_link(&link).is_ok_and(|t| t == Path::new("/usr/sbin/clp-fsmon")) {
                    let _ = fs::remove_file(&link);
                }
            }
            let _ = fs::remove_file(MARKER);
        }
    }
}

/// Runs dpkg; waits (up to two minutes) while another dpkg or apt holds the database lock.
fn dpkg(args: &[&str], deb: Option<&Path>) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let mut cmd = Command::new("dpkg");
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        if let Some(d) = deb {
            cmd.arg(d);
        }
        let out = run(&mut cmd);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return text;
        }
        let locked = text.contains("lock") && text.contains("held by");
        assert!(
            locked && std::time::Instant::now() < deadline,
            "dpkg {args:?} failed:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_secs(2));
    }
}

/// The files (not directories) dpkg lists for the package.
fn dpkg_files() -> Vec<PathBuf> {
    ok(Command::new("dpkg").args(["-L", DEB_NAME]))
        .lines()
        .map(PathBuf::from)
        // Not directories, nor symlinks to them (/lib on merged-/usr systems).
        .filter(|p| fs::symlink_metadata(p).is_ok() && !fs::metadata(p).is_ok_and(|m| m.is_dir()))
        .collect()
}

/// True when dpkg is configured (`path-exclude`, as in minimal container images) not to install
/// files below `dir`.
fn dpkg_excludes(dir: &str) -> bool {
    let Ok(entries) = fs::read_dir("/etc/dpkg/dpkg.cfg.d") else {
        return false;
    };
    entries.filter_map(Result::ok).any(|e| {
        fs::read_to_string(e.path()).is_ok_and(|t| {
            t.lines().any(|l| {
                l.trim().starts_with(&format!("path-exclude={dir}"))
                    || l.trim().starts_with(&format!("path-exclude {dir}"))
            })
        })
    })
}

fn assert_installed(deb: &Path) {
    assert!(package_status().starts_with("ii"), "{}", package_status());
    let exe = Path::new("/usr/sbin/clp-fsmon");
    assert!(exe.is_file());
    for a in APPLETS {
        let link = PathBuf::from(format!("/usr/sbin/{}", a.name));
        assert_eq!(
            fs::read_link(&link).unwrap_or_else(|e| panic!("{}: {e}", link.display())),
            exe,
            "{}",
            link.display()
        );
    }
    let help = ok(Command::new("/usr/sbin/clp_sambamon").arg("--help"));
    assert!(help.starts_with("usage: clp_sambamon ID"), "{help}");
    let v = ok(Command::new("/usr/sbin/clp_nfsmon").arg("--version"));
    assert!(v.contains(env!("CARGO_PKG_VERSION")), "{v}");
    // The CTDB event script as shipped, where `ctdb event script enable legacy` finds it.
    let ctdb_script = PathBuf::from(format!("/{CTDB_SCRIPT}"));
    assert_eq!(
        fs::read(&ctdb_script).unwrap_or_default(),
        fs::read(repo().join("contrib/ctdb/55.clp-fsmon.script")).unwrap(),
        "{}",
        ctdb_script.display()
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&ctdb_script).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755, "{}", ctdb_script.display());
    }
    let lic = ok(Command::new("/usr/sbin/clplcnsc").arg("--help"));
    assert!(lic.contains("-p <PRODUCT_ID>"), "{lic}");
    need("logrotate", "logrotate");
    // The installed configuration parses (-d: nothing is rotated, no state is written).
    let state = tempfile::tempdir().unwrap();
    let out = run(Command::new("logrotate")
        .arg("-d")
        .arg("-s")
        .arg(state.path().join("status"))
        .arg(format!("/{LOGROTATE}")));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !err.contains("error:") && err.contains("/var/log/clp-fsmon/"),
        "logrotate -d /{LOGROTATE}:\n{err}"
    );
    let list = ok(Command::new("clp-fsmon")
        .arg("--list")
        .env("PATH", "/usr/sbin:/usr/bin:/bin"));
    assert_eq!(list.lines().count(), APPLETS.len());
    if dpkg_excludes("/usr/share/man") {
        eprintln!("dpkg is configured not to install man pages (path-exclude): not checked");
    } else {
        for n in cli::names() {
            let page = PathBuf::from(format!("/usr/share/man/man8/{n}.8.gz"));
            assert!(page.is_file(), "{}", page.display());
        }
        need("man", "man-db");
        let text = strip_overstrike(&ok(Command::new("man")
            .args(["8", "clp_sambamon"])
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .env("LC_ALL", "C.UTF-8")));
        assert!(text.contains("CONTROL COMMANDS"), "{text}");
    }
    // bash-completion finds the applets' completions through the symlinks.
    if Path::new("/usr/share/bash-completion/bash_completion").exists() {
        for a in APPLETS {
            let script = format!(
                "source /usr/share/bash-completion/bash_completion; \
                 if declare -F _comp_load >/dev/null; then _comp_load {0}; else __load_completion {0}; fi; \
                 complete -p {0}",
                a.name
            );
            let out = ok(Command::new("bash").args(["-c", &script]));
            assert!(
                out.contains(&format!("_{} {}", a.name, a.name)),
                "{}: {out}",
                a.name
            );
        }
    }
    // Only the C library (and the unwinder) at run time, and MIT krb5's GSSAPI with what it
    // loads itself (clp_sambamon --kerberos).
    need("ldd", "libc-bin");
    for l in ok(Command::new("ldd").arg(exe)).lines() {
        let lib = l.split_whitespace().next().unwrap_or("");
        assert!(
            [
                "linux-vdso",
                "libc.so",
                "libgcc_s.so",
                "libm.so",
                "/lib64/ld-linux",
                "ld-linux",
                "libgssapi_krb5.so",
                "libkrb5.so",
                "libk5crypto.so",
                "libcom_err.so",
                "libkrb5support.so",
                "libkeyutils.so",
                "libresolv.so",
            ]
            .iter()
            .any(|ok| lib.starts_with(ok) || lib.contains(ok)),
            "{} links {lib}",
            deb.display()
        );
    }
}

fn install_remove_purge(deb: &Path) {
    fs::create_dir_all(Path::new(LOCK).parent().unwrap()).unwrap();
    let lock = fs::File::create(LOCK).unwrap();
    lock.lock().unwrap();
    refuse_to_clobber();
    let before = snapshot();
    fs::write(MARKER, format!("{}\n", std::process::id())).unwrap();
    let _cleanup = Cleanup;

    dpkg(&["-i"], Some(deb));
    assert_installed(deb);
    let files = dpkg_files();
    assert!(files.iter().any(|f| f == Path::new("/usr/sbin/clp-fsmon")));

    // Reinstalling is an upgrade (prerm upgrade, postinst configure): the links stay.
    dpkg(&["-i"], Some(deb));
    assert_installed(deb);

    // A monitor leaves logs behind it; they go with a purge, not with a removal.
    fs::create_dir_all("/var/log/clp-fsmon").unwrap();
    fs::write(
        "/var/log/clp-fsmon/alert.log",
        "written by the packaging test\n",
    )
    .unwrap();

    dpkg(&["-r", DEB_NAME], None);
    let st = package_status();
    assert!(
        st.starts_with("rc") || st.starts_with("un") || st.is_empty(),
        "{st}"
    );
    for a in APPLETS {
        let link = format!("/usr/sbin/{}", a.name);
        assert!(
            fs::symlink_metadata(&link).is_err(),
            "{link} left after dpkg -r"
        );
    }
    // Conffiles stay until the purge (Debian policy); everything else goes with the removal.
    let conffile = PathBuf::from(format!("/{LOGROTATE}"));
    assert!(files.contains(&conffile), "{files:?}");
    for f in &files {
        assert_eq!(
            fs::symlink_metadata(f).is_ok(),
            *f == conffile,
            "{} after dpkg -r",
            f.display()
        );
    }
    assert!(
        Path::new("/var/log/clp-fsmon/alert.log").exists(),
        "dpkg -r removed the logs"
    );

    dpkg(&["--purge", DEB_NAME], None);
    let st = package_status();
    assert!(st.is_empty() || st.starts_with("un"), "after purge: {st}");
    let after = snapshot();
    let left: Vec<_> = after.difference(&before).collect();
    let gone: Vec<_> = before.difference(&after).collect();
    assert!(
        left.is_empty() && gone.is_empty(),
        "left behind: {left:?}; removed: {gone:?}"
    );
}

/// Builds the .deb with cargo-deb (and from a staging tree laid out from the same metadata, which
/// must agree with it), checks its contents, and as root installs it, runs the applets
/// through their links, reinstalls, removes and purges it, and checks nothing is left behind.
#[test]
fn deb_builds_installs_and_removes_cleanly() {
    let work = tempfile::tempdir().unwrap();
    let binary = packaged_binary(work.path());
    let staged = stage_deb(work.path(), &binary);
    check_deb_contents(&staged);
    assert!(
        have_cargo_deb(),
        "`cargo deb` is not installed: cargo install --locked cargo-deb (contrib/test.sh does)"
    );
    let deb = cargo_deb(work.path(), &binary);
    check_deb_contents(&deb);
    assert_eq!(
        deb_contents(&deb),
        deb_contents(&staged),
        "cargo-deb and the test's staging disagree"
    );
    need("lintian", "lintian");
    // The maintainer address is a placeholder until the project names one.
    let out = run(Command::new("lintian")
        .args([
            "--fail-on",
            "error,warning",
            "--suppress-tags",
            "bogus-mail-host,root-in-contact,bogus-mail-host-in-debian-changelog",
        ])
        .arg(&deb));
    assert!(
        out.status.success(),
        "lintian:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    crate::rig::require_root("installing the package");
    install_remove_purge(&deb);
}

#[test]
fn maintainer_scripts_are_posix_sh() {
    let dir = repo().join(deb_metadata()["maintainer-scripts"].as_str().unwrap());
    for s in ["postinst", "prerm", "postrm"] {
        let p = dir.join(s);
        let text = fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("#!/bin/sh\n"), "{s}: not /bin/sh");
        assert!(text.contains("\nset -e\n"), "{s}: no set -e");
        ok(Command::new("sh").arg("-n").arg(&p));
        need("dash", "dash");
        ok(Command::new("dash").arg("-n").arg(&p));
        need("shellcheck", "shellcheck");
        ok(Command::new("shellcheck").args(["-s", "sh"]).arg(&p));
    }
}

// ---------------------------------------------------------------------------------------------
// The RPM spec

/// A deb or rpm path in the layout both share: man pages without `.gz`, the zsh and unit
/// directories and the doc directory under one name; what only Debian has (copyright file,
/// changelog, lintian overrides) and RPM's build-id links dropped.
fn common_layout(path: &str) -> Option<String> {
    let p = path.trim_start_matches("./").trim_start_matches('/');
    if p.starts_with("usr/lib/.build-id")
        || p.starts_with("usr/share/lintian/")
        || p.ends_with(&format!("doc/{DEB_NAME}/copyright"))
        || p.ends_with(&format!("doc/{DEB_NAME}/changelog.Debian.gz"))
    {
        return None;
    }
    let p = p.trim_end_matches(".gz");
    let p = p.replace(
        "usr/share/zsh/site-functions/",
        "usr/share/zsh/vendor-completions/",
    );
    let p = p.replace(
        &format!("usr/share/doc/{DEB_NAME}-{}/", env!("CARGO_PKG_VERSION")),
        &format!("usr/share/doc/{DEB_NAME}/"),
    );
    let p = p.replacen("lib/systemd/system/", "usr/lib/systemd/system/", 1);
    Some(p.replacen("usr/usr/", "usr/", 1))
}

/// The spec's version is the crate's, its scriptlets make and remove the links, and (when
/// rpmbuild is installed) it builds a package whose files are the Debian package's.
#[test]
fn rpm_spec_matches_the_deb_layout() {
    let spec_path = repo().join("contrib/rpm/clusterpro-fsmon.spec");
    let spec = fs::read_to_string(&spec_path).unwrap();
    let field = |name: &str| {
        spec.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("spec has no {name}"))
            .trim()
            .to_owned()
    };
    assert_eq!(field("Name"), DEB_NAME);
    assert_eq!(field("Version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(field("License"), env!("CARGO_PKG_LICENSE"));
    let section = |name: &str| {
        let start = spec
            .find(&format!("\n{name}\n"))
            .unwrap_or_else(|| panic!("no {name}"));
        let rest = &spec[start + name.len() + 2..];
        rest[..rest.find("\n%").unwrap_or(rest.len())].to_owned()
    };
    assert!(section("%post").contains("clp-fsmon --install %{_sbindir}"));
    let preun = section("%preun");
    assert!(preun.contains("clp-fsmon --uninstall %{_sbindir}") && preun.contains("\"$1\" -eq 0"));
    need("rpmbuild", "rpm");
    // Build in a copy of what the spec reads (rpmbuild --build-in-place works in the cwd).
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    for dir in [
        "contrib/man",
        "contrib/completions",
        "contrib/scripts",
        "contrib/ocf",
        "contrib/systemd",
        "contrib/logrotate",
        "contrib/lib",
        "contrib/ctdb",
    ] {
        for f in files_below(&repo().join(dir), true, "") {
            let to = src.join(f.strip_prefix(repo()).unwrap());
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::copy(&f, &to).unwrap();
        }
    }
    fs::copy(repo().join("README.md"), src.join("README.md")).unwrap();
    let binary = packaged_binary(work.path());
    // The binary under test trusts the development licence keys: refused, unless marked as a
    // development package (release 1~dev).
    let rpmbuild = |dev: bool| {
        let mut c = Command::new("rpmbuild");
        c.args(["-bb", "--build-in-place", "--nodeps", "--define"])
            .arg(format!("_topdir {}", work.path().join("rpm").display()))
            .arg("--define")
            .arg(format!("prebuilt {}", binary.display()));
        if dev {
            c.args(["--define", "dev_package 1"]);
        }
        c.arg(&spec_path)
            .env_remove("CLP_FSMON_DEV_PACKAGE")
            .current_dir(&src);
        c
    };
    let refused = run(&mut rpmbuild(false));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && err.contains("refusing to package"),
        "rpmbuild packaged a binary trusting the development keys: {refused:?}"
    );
    assert!(
        files_below(&work.path().join("rpm"), true, ".rpm").is_empty(),
        "an .rpm was made all the same"
    );
    ok(&mut rpmbuild(true));
    let rpm = files_below(&work.path().join("rpm/RPMS"), true, ".rpm")
        .pop()
        .expect("an .rpm");
    let release = ok(Command::new("rpm")
        .args(["-qp", "--qf", "%{RELEASE}"])
        .arg(&rpm));
    assert!(release.starts_with("1~dev"), "{release}");
    let rpm_files: BTreeSet<String> = ok(Command::new("rpm").args(["-qlp", "--dump"]).arg(&rpm))
        .lines()
        .filter(|l| {
            !l.split_whitespace()
                .nth(4)
                .is_some_and(|m| m.starts_with("04"))
        })
        .filter_map(|l| common_layout(l.split_whitespace().next().unwrap()))
        .collect();
    let staged = stage_deb(work.path(), &binary);
    let deb_files: BTreeSet<String> = deb_contents(&staged)
        .iter()
        .filter_map(|e| common_layout(e.split_whitespace().nth(1).unwrap()))
        .collect();
    assert!(rpm_files.contains("usr/sbin/clp-fsmon"), "{rpm_files:#?}");
    assert_eq!(rpm_files, deb_files, "rpm vs deb layout");
}
