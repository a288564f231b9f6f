//! `clplcnsc` through the real binary: the dialogue on a pseudo-terminal (product, trial, every
//! bad answer, end of input, Ctrl-C), the script forms, list and delete, two servers sharing one
//! store (overlap), 50 parallel registrations, a corrupt store, the refusal when not root, and the
//! published development keys.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use clp_fsmon::license::{self, Grant, Refusal, catalog, key};
use clp_fsmon::paths::Paths;
use nix::sys::wait::WaitStatus;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use rexpect::session::PtySession;

use crate::rig::license::{
    self as lic, PRODUCT, SERIAL, TRIAL_USER, applet_cmd, applet_link, product_key,
    register_product, register_trial, server, shared_store, store_dir, trial_key,
};

fn sandbox() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("clplic-")
        .tempdir()
        .unwrap()
}

/// Every file of the store except the lock, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    rd.map(Result::unwrap)
        .filter(|e| e.file_name() != ".lock")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn store_files(root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(store_dir(root))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "lic"))
        .collect();
    v.sort();
    v
}

/// The table of `clplcnsc -l` (the lines before the first empty one).
pub(crate) fn table(text: &str) -> Vec<&str> {
    text.lines().take_while(|l| !l.is_empty()).collect()
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn spawn(root: &Path, args: &[&str]) -> PtySession {
    let mut c = Command::new(applet_link(root, "clplcnsc"));
    c.args(args).env("CLP_FSMON_ROOT", root);
    rexpect::session::spawn_command(c, Some(15_000)).unwrap()
}

fn exit_code(p: &mut PtySession) -> i32 {
    p.exp_eof().unwrap();
    match p.process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("clplcnsc did not exit normally: {other:?}"),
    }
}

fn menu(p: &mut PtySession, choice: &str) {
    p.exp_string("Selection of product division").unwrap();
    p.exp_string(" 1. Product").unwrap();
    p.exp_string(" 2. Trial").unwrap();
    p.exp_string("Select product division [1 or 2]...").unwrap();
    p.send_line(choice).unwrap();
}

fn key_prompt(p: &mut PtySession, trial: bool) {
    p.exp_string(if trial {
        "Enter trial license key"
    } else {
        "Enter license key"
    })
    .unwrap();
    p.exp_string("[Ex. XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX]...")
        .unwrap();
}

#[test]
fn dialogue_registers_a_product_licence() {
    let root = sandbox();
    let mut p = spawn(root.path(), &["-i", "-p", PRODUCT]);
    menu(&mut p, "1");
    p.exp_string("Enter serial number [Ex. XX000000]... ")
        .unwrap();
    p.send_line(SERIAL).unwrap();
    key_prompt(&mut p, false);
    p.send_line(&product_key(SERIAL)).unwrap();
    p.exp_string("command was success.").unwrap();
    assert_eq!(exit_code(&mut p), 0);
    applet_cmd(root.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .assert()
        .success()
        .stdout(
            contains("product")
                .and(contains(SERIAL))
                .and(contains("valid")),
        );
    assert_eq!(
        license::check_monitor(&Paths::with_root(root.path()), "clp_sambamon", today()),
        Ok(Grant::Product {
            serial: SERIAL.into()
        })
    );
}

#[test]
fn dialogue_registers_a_trial_licence() {
    let root = sandbox();
    let mut p = spawn(root.path(), &["-i", "-p", PRODUCT]);
    menu(&mut p, "2");
    p.exp_string("Enter user name [1 to 63 bytes]...").unwrap();
    p.send_line(TRIAL_USER).unwrap();
    key_prompt(&mut p, true);
    p.send_line(&trial_key(TRIAL_USER, "2020-01-01", "2099-12-31"))
        .unwrap();
    p.exp_string("command was success.").unwrap();
    assert_eq!(exit_code(&mut p), 0);
    applet_cmd(root.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .assert()
        .success()
        .stdout(
            contains("trial")
                .and(contains(TRIAL_USER))
                .and(contains("01/01/2020"))
                .and(contains("12/31/2099"))
                .and(contains("valid")),
        );
    assert!(matches!(
        license::check_monitor(&Paths::with_root(root.path()), "clp_nfsmon", today()),
        Ok(Grant::Trial { .. })
    ));
}

/// One bad dialogue: the answers in `script` (a `None` answer sends Ctrl-D, `Some("^C")` Ctrl-C),
/// then `message` and a non-zero exit, and the store exactly as it was.
fn refused(args: &[&str], script: &[(&str, Option<&str>)], message: &str, code: i32) {
    let root = sandbox();
    register_product(root.path()); // something to keep unchanged
    let before = snapshot(&store_dir(root.path()));
    let mut p = spawn(root.path(), args);
    for (prompt, answer) in script {
        p.exp_string(prompt).unwrap();
        match answer {
            Some("^C") => p.send_control('c').unwrap(),
            Some(a) => {
                p.send_line(a).unwrap();
            }
            None => p.send_control('d').unwrap(),
        }
    }
    let out = p.exp_string(message);
    assert!(
        out.is_ok(),
        "{args:?} {script:?}: wanted {message:?}: {out:?}"
    );
    assert_eq!(exit_code(&mut p), code, "{args:?} {script:?}");
    assert_eq!(snapshot(&store_dir(root.path())), before, "store changed");
}

const DIVISION: &str = "Select product division [1 or 2]...";
const SERIAL_Q: &str = "Enter serial number [Ex. XX000000]... ";
const USER_Q: &str = "Enter user name [1 to 63 bytes]...";
const KEY_Q: &str = "[Ex. XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX]...";

#[test]
fn dialogue_bad_menu_choice() {
    let i = ["-i", "-p", PRODUCT];
    refused(
        &i,
        &[(DIVISION, Some("3"))],
        "invalid product division \"3\"",
        2,
    );
    refused(&i, &[(DIVISION, Some(""))], "invalid product division", 2);
}

#[test]
fn dialogue_malformed_serial() {
    let i = ["-i", "-p", PRODUCT];
    for s in ["ab123456", "AB12345", "A1234567", "AB1234567"] {
        refused(
            &i,
            &[(DIVISION, Some("1")), (SERIAL_Q, Some(s))],
            "invalid serial number",
            2,
        );
    }
}

#[test]
fn dialogue_malformed_key() {
    let i = ["-i", "-p", PRODUCT];
    let good = product_key("CD000001");
    let lower = good.to_lowercase();
    let with_o = format!("O{}", &good[1..]);
    for (k, why) in [
        ("XXXX", "4 key characters instead of 32"),
        (lower.as_str(), "case-sensitive"),
        (with_o.as_str(), "never contain the letter O"),
    ] {
        refused(
            &i,
            &[
                (DIVISION, Some("1")),
                (SERIAL_Q, Some("CD000001")),
                (KEY_Q, Some(k)),
            ],
            why,
            2,
        );
    }
}

#[test]
fn dialogue_key_not_for_this_serial_user_or_kind() {
    let i = ["-i", "-p", PRODUCT];
    // a good key for another serial
    refused(
        &i,
        &[
            (DIVISION, Some("1")),
            (SERIAL_Q, Some("CD000002")),
            (KEY_Q, Some(&product_key("CD000001"))),
        ],
        "not valid for product FSMON20 and serial number CD000002",
        3,
    );
    // a product key one character off
    let mut k = product_key("CD000001").into_bytes();
    k[20] = if k[20] == b'A' { b'B' } else { b'A' };
    refused(
        &i,
        &[
            (DIVISION, Some("1")),
            (SERIAL_Q, Some("CD000001")),
            (KEY_Q, Some(&String::from_utf8(k).unwrap())),
        ],
        "not valid for product FSMON20",
        3,
    );
    // a trial key for another user
    refused(
        &i,
        &[
            (DIVISION, Some("2")),
            (USER_Q, Some("mallory")),
            (
                KEY_Q,
                Some(&trial_key(TRIAL_USER, "2020-01-01", "2099-12-31")),
            ),
        ],
        "not valid for product FSMON20 and user \"mallory\"",
        3,
    );
    // a trial key given as a product key
    refused(
        &i,
        &[
            (DIVISION, Some("1")),
            (SERIAL_Q, Some("CD000001")),
            (
                KEY_Q,
                Some(&trial_key(TRIAL_USER, "2020-01-01", "2099-12-31")),
            ),
        ],
        "this is a trial license key",
        3,
    );
}

#[test]
fn dialogue_bad_user_name() {
    let i = ["-i", "-p", PRODUCT];
    let long = "u".repeat(64);
    refused(
        &i,
        &[(DIVISION, Some("2")), (USER_Q, Some(&long))],
        "invalid user name: 64 bytes",
        2,
    );
    refused(
        &i,
        &[(DIVISION, Some("2")), (USER_Q, Some(""))],
        "invalid user name",
        2,
    );
}

#[test]
fn dialogue_end_of_input() {
    let i = ["-i", "-p", PRODUCT];
    let eof = "end of input";
    refused(&i, &[(DIVISION, None)], eof, 2);
    refused(&i, &[(DIVISION, Some("1")), (SERIAL_Q, None)], eof, 2);
    refused(
        &i,
        &[
            (DIVISION, Some("1")),
            (SERIAL_Q, Some("CD000001")),
            (KEY_Q, None),
        ],
        eof,
        2,
    );
    refused(&i, &[(DIVISION, Some("2")), (USER_Q, None)], eof, 2);
}

#[test]
fn dialogue_ctrl_c() {
    let i = ["-i", "-p", PRODUCT];
    let msg = "interrupted; nothing was registered.";
    refused(&i, &[(DIVISION, Some("^C"))], msg, 130);
    refused(
        &i,
        &[
            (DIVISION, Some("1")),
            (SERIAL_Q, Some("CD000001")),
            (KEY_Q, Some("^C")),
        ],
        msg,
        130,
    );
}

#[test]
fn unknown_product_id() {
    let root = sandbox();
    register_product(root.path());
    let before = snapshot(&store_dir(root.path()));
    for mode in ["-i", "-l", "-d"] {
        applet_cmd(root.path(), "clplcnsc")
            .args([mode, "-p", "FSMON99"])
            .assert()
            .code(2)
            .stderr(contains("unknown product ID \"FSMON99\" (known: FSMON20)"));
    }
    // product IDs are case-sensitive
    applet_cmd(root.path(), "clplcnsc")
        .args(["-i", "-p", "fsmon20"])
        .assert()
        .code(2);
    assert_eq!(snapshot(&store_dir(root.path())), before);
}

#[test]
fn script_forms_list_and_delete() {
    let root = sandbox();
    let r = root.path();
    let cmd = || applet_cmd(r, "clplcnsc");
    // flags
    cmd()
        .args(["-i", "-p", PRODUCT, "--serial", "CD000001", "--key"])
        .arg(product_key("CD000001"))
        .assert()
        .success()
        .stdout("command was success.\n");
    // again: already registered, nothing changes
    let before = snapshot(&store_dir(r));
    cmd()
        .args(["-i", "-p", PRODUCT, "--serial", "CD000001", "--key"])
        .arg(product_key("CD000001").replace('-', ""))
        .assert()
        .success()
        .stderr(contains("already registered"));
    assert_eq!(snapshot(&store_dir(r)), before);
    // trial flags, expired and not yet valid trials register with a note
    register_trial(r, "2020-01-01", "2099-12-31");
    cmd()
        .args([
            "-i", "-p", PRODUCT, "--trial", "--user", TRIAL_USER, "--key",
        ])
        .arg(trial_key(TRIAL_USER, "2020-01-01", "2020-12-31"))
        .assert()
        .success()
        .stderr(contains("expired on 12/31/2020"));
    register_trial(r, "2099-01-01", "2099-12-31");
    // a signed licence file
    let f = lic::product_file(&r.join("files"), "EF000002", "ef-1");
    cmd()
        .args(["-i", "-p", PRODUCT, "--file"])
        .arg(&f)
        .assert()
        .success()
        .stderr(contains("signed by the published development key"));
    // an unsigned file (the old typed-key TOML) is not a licence file
    let f = r.join("lic.toml");
    std::fs::write(&f, "kind = \"product\"\nkey = \"X\"\n").unwrap();
    cmd()
        .args(["-i", "-p", PRODUCT, "--file"])
        .arg(&f)
        .assert()
        .code(3)
        .stderr(contains("not a signed licence file").and(contains("nothing was registered")));
    // bad flag combinations are usage errors
    cmd()
        .args(["-i", "-p", PRODUCT, "--key", "X"])
        .assert()
        .code(2);
    cmd().args(["-i", "-l", "-p", PRODUCT]).assert().code(2);
    cmd().args(["-l"]).assert().code(2);
    // the list: kind, holder, dates, server, state
    let out = cmd().args(["-l", "-p", PRODUCT]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines = table(&text);
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("PRODUCT"));
    let row = |needle: &str| {
        *lines
            .iter()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {text}"))
    };
    assert!(row("CD000001").ends_with("valid"));
    assert!(row("12/31/2099").contains("01/01/2020"));
    assert!(row("12/31/2020").ends_with("expired"));
    assert!(row("01/01/2099").ends_with("not-yet-valid"));
    assert!(row("EF000002").contains("(this server)"));
    assert!(row("EF000002").contains(" file "), "{text}");
    assert!(row("CD000001").contains(" key "), "{text}");
    // delete one, then a missing one, then the rest
    cmd()
        .args(["-d", "-p", PRODUCT, "CD000001"])
        .assert()
        .success()
        .stdout("command was success.\n");
    cmd()
        .args(["-d", "-p", PRODUCT, "CD000001"])
        .assert()
        .code(8)
        .stderr(contains("no FSMON20 license for \"CD000001\""));
    cmd().args(["-d", "-p", PRODUCT]).assert().success();
    cmd()
        .args(["-l", "-p", PRODUCT])
        .assert()
        .success()
        .stdout(predicates::str::starts_with(
            "No FSMON20 license is registered.\n\n",
        ));
    assert_eq!(
        license::check_monitor(&Paths::with_root(r), "clp_sambamon", today()),
        Err(Refusal::NotRegistered)
    );
}

#[test]
fn two_servers_overlap_at_registration_and_at_start() {
    let shared = sandbox();
    let (a, b, clone) = (sandbox(), sandbox(), sandbox());
    server(
        a.path(),
        "node1",
        "11111111111111111111111111111111",
        Some(shared.path()),
    );
    server(
        b.path(),
        "node2",
        "22222222222222222222222222222222",
        Some(shared.path()),
    );
    server(
        clone.path(),
        "node1",
        "33333333333333333333333333333333",
        Some(shared.path()),
    );
    register_product(a.path());
    let before = snapshot(&shared_store(shared.path()));
    for other in [b.path(), clone.path()] {
        applet_cmd(other, "clplcnsc")
            .args(["-i", "-p", PRODUCT, "--serial", SERIAL, "--key"])
            .arg(product_key(SERIAL))
            .assert()
            .code(3)
            .stderr(contains("The registration license overlaps.").and(contains("node1/11111111")));
        assert_eq!(
            snapshot(&shared_store(shared.path())),
            before,
            "nothing written"
        );
    }
    // the same through the dialogue
    let mut p = spawn(b.path(), &["-i", "-p", PRODUCT]);
    menu(&mut p, "1");
    p.exp_string(SERIAL_Q).unwrap();
    p.send_line(SERIAL).unwrap();
    key_prompt(&mut p, false);
    p.send_line(&product_key(SERIAL)).unwrap();
    p.exp_string("The registration license overlaps.").unwrap();
    assert_eq!(exit_code(&mut p), 3);
    assert_eq!(
        snapshot(&shared_store(shared.path())),
        before,
        "nothing written"
    );
    // each server has its own key: fine, and both listed
    lic::register_product_serial(b.path(), "CD000001");
    let out = applet_cmd(a.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("node1/11111111 (this server)"), "{text}");
    assert!(text.contains("node2/22222222"), "{text}");
    assert!(!text.contains("overlap"), "{text}");

    // A store directory that was not shared when both registered the same key: once the files
    // meet, both servers refuse at start (56) and the list says overlap.
    let lone = sandbox();
    server(
        lone.path(),
        "node3",
        "44444444444444444444444444444444",
        None,
    );
    register_product(lone.path());
    for f in store_files(lone.path()) {
        std::fs::copy(&f, shared_store(shared.path()).join(f.file_name().unwrap())).unwrap();
    }
    lic::share(lone.path(), shared.path());
    for root in [a.path(), lone.path()] {
        assert_eq!(
            license::check_monitor(&Paths::with_root(root), "clp_sambamon", today()),
            Err(Refusal::Overlap)
        );
    }
    assert!(matches!(
        license::check_monitor(&Paths::with_root(b.path()), "clp_sambamon", today()),
        Ok(Grant::Product { .. })
    ));
    let out = applet_cmd(a.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("overlap").count(), 2, "{text}");
}

#[test]
fn fifty_parallel_registrations_lose_nothing() {
    let shared = sandbox();
    let (a, b) = (sandbox(), sandbox());
    server(
        a.path(),
        "node1",
        "11111111111111111111111111111111",
        Some(shared.path()),
    );
    server(
        b.path(),
        "node2",
        "22222222222222222222222222222222",
        Some(shared.path()),
    );
    // A third server's damaged file and a temp file a crashed writer left: neither may stop or
    // lose anything.
    let store = shared_store(shared.path());
    std::fs::create_dir_all(&store).unwrap();
    let damaged = store.join("node9@99999999999999999999999999999999.lic");
    std::fs::write(&damaged, b"{ half a store file").unwrap();
    let leftover = store.join(".tmp-node1@11111111111111111111111111111111.lic-0123456789abcdef");
    std::fs::write(&leftover, b"{ half").unwrap();
    let past = nix::sys::time::TimeSpec::new(1_000_000_000, 0);
    nix::sys::stat::utimensat(
        nix::fcntl::AT_FDCWD,
        &leftover,
        &past,
        &past,
        nix::sys::stat::UtimensatFlags::NoFollowSymlink,
    )
    .unwrap();
    // 50 at once, both servers, a third of them as signed licence files
    let serials: Vec<String> = (0..50).map(|i| format!("PR{:06}", 100 + i)).collect();
    let files = sandbox();
    std::thread::scope(|s| {
        for (i, serial) in serials.iter().enumerate() {
            let root = if i % 2 == 0 { a.path() } else { b.path() };
            let dir = files.path();
            s.spawn(move || {
                if i % 3 == 0 {
                    let f = lic::product_file(dir, serial, &format!("id-{serial}"));
                    lic::register_file(root, &f);
                } else {
                    lic::register_product_serial(root, serial);
                }
            });
        }
    });
    let out = applet_cmd(a.path(), "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "the damaged file is reported");
    let text = String::from_utf8(out.stdout).unwrap();
    for s in &serials {
        assert_eq!(text.matches(s.as_str()).count(), 1, "{s} in\n{text}");
    }
    // header, 50 licences, the damaged file's line
    let rows = table(&text);
    assert_eq!(rows.len(), 52, "{text}");
    assert!(
        rows.iter().any(
            |r| r.contains(damaged.file_name().unwrap().to_str().unwrap())
                && r.ends_with("unreadable")
        ),
        "{text}"
    );
    assert_eq!(text.matches(" file ").count(), 17, "{text}");
    assert_eq!(store_files(a.path()).len(), 3);
    assert_eq!(std::fs::read(&damaged).unwrap(), b"{ half a store file");
    // the crash's temp file is gone, and no new one is left
    let names: Vec<_> = snapshot(&store).into_keys().collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // both servers' monitors still start
    for root in [a.path(), b.path()] {
        let c = license::check_monitor_full(&Paths::with_root(root), "clp_sambamon", today());
        assert!(matches!(c.result, Ok(Grant::Product { .. })), "{c:?}");
        assert_eq!(c.ignored.len(), 1, "{c:?}");
    }
}

#[test]
fn corrupt_store_is_reported_and_left_alone() {
    for damage in ["truncate", "tamper", "garbage"] {
        let root = sandbox();
        let r = root.path();
        register_product(r);
        let f = store_files(r).pop().unwrap();
        let good = std::fs::read(&f).unwrap();
        let bad = match damage {
            "truncate" => good[..good.len() - 10].to_vec(),
            "tamper" => String::from_utf8(good.clone())
                .unwrap()
                .replace(SERIAL, "AB123457")
                .into_bytes(),
            _ => b"\0\xff not a store".to_vec(),
        };
        std::fs::write(&f, &bad).unwrap();
        applet_cmd(r, "clplcnsc")
            .args(["-l", "-p", PRODUCT])
            .assert()
            .code(3)
            .stderr(contains("is corrupt").and(contains(f.to_string_lossy().as_ref())));
        applet_cmd(r, "clplcnsc")
            .args(["-i", "-p", PRODUCT, "--serial", "CD000001", "--key"])
            .arg(product_key("CD000001"))
            .assert()
            .code(3)
            .stderr(contains("is corrupt"));
        applet_cmd(r, "clplcnsc")
            .args(["-d", "-p", PRODUCT])
            .assert()
            .code(3);
        assert_eq!(std::fs::read(&f).unwrap(), bad, "{damage}: store rewritten");
        assert!(
            matches!(
                license::check_monitor(&Paths::with_root(r), "clp_sambamon", today()),
                Err(Refusal::Unreadable(m)) if m.contains("corrupt")
            ),
            "{damage}"
        );
    }
}

#[test]
fn not_root_is_refused() {
    let root = sandbox();
    let before = snapshot(&store_dir(root.path()));
    // Run the binary itself (the sandbox is not readable by nobody).
    for args in [
        vec!["-l", "-p", PRODUCT],
        vec!["-i", "-p", PRODUCT, "--serial", SERIAL, "--key", "X"],
    ] {
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_clp-fsmon"))
            .arg("clplcnsc")
            .args(&args)
            .env("CLP_FSMON_ROOT", root.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(7), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("permission denied"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(snapshot(&store_dir(root.path())), before);
}

#[test]
fn published_dev_keys_verify() {
    let keys = lic::dev_keys();
    assert!(keys.product.len() >= 3 && keys.trial.len() >= 3);
    let p = catalog::product(PRODUCT).unwrap();
    let dev = key::is_dev_secret();
    for k in &keys.product {
        assert_eq!(k.product, PRODUCT);
        let serial = key::Serial::parse(&k.serial).unwrap();
        let r = key::verify_product(p, serial, &k.key);
        // A build with a vendor secret must reject every development key.
        assert_eq!(r.is_ok(), dev, "{k:?}: {r:?}");
        if dev {
            assert_eq!(key::issue_product(p, serial), k.key, "format changed");
        }
        let f = key::fields(&k.key).unwrap();
        assert_eq!(
            (f.kind, f.product, f.serial),
            (key::Kind::Product, p.number, Some(serial))
        );
    }
    for k in &keys.trial {
        let (from, until): (NaiveDate, NaiveDate) =
            (k.from.parse().unwrap(), k.until.parse().unwrap());
        let r = key::verify_trial(p, &k.user, &k.key);
        assert_eq!(r.is_ok(), dev, "{k:?}: {r:?}");
        if let Ok((_, a, z)) = r {
            assert_eq!((a, z), (from, until));
            assert_eq!(key::issue_trial(p, &k.user, from, until).unwrap(), k.key);
        }
        let f = key::fields(&k.key).unwrap();
        assert_eq!((f.from, f.until), (Some(from), Some(until)));
    }
    // the published trials cover the three monitor states
    let root = sandbox();
    if dev {
        let r = root.path();
        let paths = Paths::with_root(r);
        register_trial(r, "2099-01-01", "2099-12-31");
        assert_eq!(
            license::check_monitor(&paths, "clp_nfsmon", today()),
            Err(Refusal::NotYetValid("2099-01-01".parse().unwrap()))
        );
        register_trial(r, "2020-01-01", "2020-12-31");
        assert_eq!(
            license::check_monitor(&paths, "clp_nfsmon", today()),
            Err(Refusal::NotYetValid("2099-01-01".parse().unwrap()))
        );
        applet_cmd(r, "clplcnsc")
            .args(["-d", "-p", PRODUCT])
            .assert()
            .success();
        register_trial(r, "2020-01-01", "2020-12-31");
        assert_eq!(
            license::check_monitor(&paths, "clp_nfsmon", today()),
            Err(Refusal::Expired("2020-12-31".parse().unwrap()))
        );
        register_trial(r, "2020-01-01", "2099-12-31");
        assert!(matches!(
            license::check_monitor(&paths, "clp_nfsmon", today()),
            Ok(Grant::Trial { until, .. }) if until == "2099-12-31".parse::<NaiveDate>().unwrap()
        ));
    }
}

#[test]
fn keygen_round_trip() {
    // Keys issued by the library generator (what `clp-fsmon keygen` prints) register through the
    // binary and unlock both monitors; a trial near its end reports its days left.
    let root = sandbox();
    let r = root.path();
    for serial in ["KG000001", "KG999999", "AA000000"] {
        lic::register_product_serial(r, serial);
    }
    let from = today() - chrono::Days::new(10);
    let until = today() + chrono::Days::new(2);
    let other = sandbox();
    let k = trial_key("eva luator", &from.to_string(), &until.to_string());
    applet_cmd(other.path(), "clplcnsc")
        .args([
            "-i",
            "-p",
            PRODUCT,
            "--trial",
            "--user",
            "eva luator",
            "--key",
            &k,
        ])
        .assert()
        .success();
    assert_eq!(
        license::check_monitor(&Paths::with_root(other.path()), "clp_sambamon", today()),
        Ok(Grant::Trial {
            until,
            days_left: 3
        })
    );
    let out = applet_cmd(r, "clplcnsc")
        .args(["-l", "-p", PRODUCT])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for serial in ["KG000001", "KG999999", "AA000000"] {
        assert!(text.contains(serial), "{text}");
    }
}

/// The default binary has no key generator; with `--features keygen` it prints the published
/// keys.
#[test]
fn keygen_command_only_with_the_feature() {
    let out = Command::new(env!("CARGO_BIN_EXE_clp-fsmon"))
        .args(["keygen", "--product", PRODUCT, "--serial", SERIAL])
        .output()
        .unwrap();
    if cfg!(feature = "keygen") {
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().trim(),
            product_key(SERIAL)
        );
        let out = Command::new(env!("CARGO_BIN_EXE_clp-fsmon"))
            .args([
                "keygen",
                "--product",
                PRODUCT,
                "--trial",
                "--user",
                TRIAL_USER,
                "--from",
                "2020-01-01",
                "--until",
                "2099-12-31",
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().trim(),
            trial_key(TRIAL_USER, "2020-01-01", "2099-12-31")
        );
    } else {
        assert_eq!(out.status.code(), Some(127), "{out:?}");
    }
}

#[test]
fn list_and_delete_refuse_arguments_they_do_not_take() {
    let root = sandbox();
    lic::register_product(root.path());
    let before = snapshot(&lic::store_dir(root.path()));
    for args in [
        vec!["-l", "-p", PRODUCT, SERIAL],
        vec!["-l", "-p", PRODUCT, "--serial", SERIAL, "--key", "X"],
        vec!["-d", "-p", PRODUCT, "--serial", SERIAL, "--key", "X"],
    ] {
        applet_cmd(root.path(), "clplcnsc")
            .args(&args)
            .assert()
            .code(2)
            .stderr(contains("takes"));
    }
    assert_eq!(
        snapshot(&lic::store_dir(root.path())),
        before,
        "store unchanged"
    );
}
