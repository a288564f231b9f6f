//! The interactive registration dialogue of `clplcnsc -i` (SPEC §5), word for word:
//!
//! ```text
//! Selection of product division
//!  1. Product
//!  2. Trial
//! Select product division [1 or 2]...1
//! Enter serial number [Ex. XX000000]... AB123456
//! Enter license key
//! [Ex. XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX]...
//! XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX
//! ```
//!
//! For a trial: `2`, then `Enter user name [1 to 63 bytes]...`, then `Enter trial license key` /
//! `[Ex. XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX]...`. Each answer is checked as soon as it is given;
//! the first bad one ends the dialogue. Nothing here touches the store. Ctrl-C is handled by
//! [`on_interrupt_exit`]: one line, exit 130, store untouched.

use std::io::{self, BufRead, Write};

use super::key::{self, KeyError, MAX_USER_BYTES, Serial};

/// What the administrator asked to register (shape checked, key not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// A product licence.
    Product {
        /// Serial number.
        serial: Serial,
        /// The key as typed.
        key: String,
    },
    /// A trial licence.
    Trial {
        /// User name.
        user: String,
        /// The key as typed.
        key: String,
    },
}

/// Why the dialogue ended without a request.
#[derive(Debug, thiserror::Error)]
pub enum DialogueError {
    /// Not 1 or 2.
    #[error("invalid product division {0:?}: enter 1 or 2")]
    BadChoice(String),
    /// Not `XX000000`.
    #[error("invalid serial number {0:?}: expected two capital letters and six digits (XX000000)")]
    BadSerial(String),
    /// Empty, too long or otherwise unusable user name.
    #[error("invalid user name: {0}")]
    BadUser(String),
    /// Not a key in shape.
    #[error(transparent)]
    BadKey(KeyError),
    /// Input ended before the dialogue did.
    #[error("end of input before the dialogue was complete; nothing was registered")]
    Eof,
    /// Reading or writing the terminal failed.
    #[error("terminal: {0}")]
    Io(#[from] io::Error),
}

/// The prompt of the menu.
pub const MENU: &str = "Selection of product division\n 1. Product\n 2. Trial\n";
/// Menu choice prompt.
pub const ASK_DIVISION: &str = "Select product division [1 or 2]...";
/// Serial prompt.
pub const ASK_SERIAL: &str = "Enter serial number [Ex. XX000000]... ";
/// User prompt (trial).
pub const ASK_USER: &str = "Enter user name [1 to 63 bytes]...";
/// Key prompt (product).
pub const ASK_KEY: &str = "Enter license key\n";
/// Key prompt (trial).
pub const ASK_TRIAL_KEY: &str = "Enter trial license key\n";
/// Key example line.
pub const KEY_EXAMPLE_LINE: &str = "[Ex. XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX]...\n";

fn ask<R: BufRead, W: Write>(
    input: &mut R,
    out: &mut W,
    prompt: &str,
) -> Result<String, DialogueError> {
    out.write_all(prompt.as_bytes())?;
    out.flush()?;
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Err(DialogueError::Eof);
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Runs the dialogue on `input`/`out`.
pub fn run<R: BufRead, W: Write>(input: &mut R, out: &mut W) -> Result<Request, DialogueError> {
    out.write_all(MENU.as_bytes())?;
    let choice = ask(input, out, ASK_DIVISION)?;
    match choice.trim() {
        "1" => {
            let s = ask(input, out, ASK_SERIAL)?;
            let serial =
                Serial::parse(s.trim()).ok_or_else(|| DialogueError::BadSerial(s.clone()))?;
            let k = ask(input, out, &format!("{ASK_KEY}{KEY_EXAMPLE_LINE}"))?;
            key::normalize(&k).map_err(DialogueError::BadKey)?;
            Ok(Request::Product { serial, key: k })
        }
        "2" => {
            let u = ask(input, out, ASK_USER)?;
            let user = u.trim().to_string();
            if user.len() > MAX_USER_BYTES || user.is_empty() {
                return Err(DialogueError::BadUser(format!(
                    "{} bytes; 1 to {MAX_USER_BYTES} bytes are allowed",
                    user.len()
                )));
            }
            key::check_user(&user).map_err(|e| DialogueError::BadUser(e.to_string()))?;
            let k = ask(input, out, &format!("{ASK_TRIAL_KEY}{KEY_EXAMPLE_LINE}"))?;
            key::normalize(&k).map_err(DialogueError::BadKey)?;
            Ok(Request::Trial { user, key: k })
        }
        _ => Err(DialogueError::BadChoice(choice)),
    }
}

const INTERRUPTED: &[u8] = b"\nclplcnsc: interrupted; nothing was registered.\n";

/// Exit status after Ctrl-C (128 + SIGINT).
pub const INTERRUPTED_EXIT: u8 = crate::exit::Exit::Interrupted as u8;

extern "C" fn interrupted(_sig: nix::libc::c_int) {
    // Only async-signal-safe calls: write(2) and _exit(2).
    // SAFETY: writing a static buffer to fd 2 and exiting without unwinding or running
    // destructors; no lock is held by the store at this point (see `ignore_interrupts`).
    unsafe {
        nix::libc::write(2, INTERRUPTED.as_ptr().cast(), INTERRUPTED.len());
        nix::libc::_exit(i32::from(INTERRUPTED_EXIT));
    }
}

/// While the dialogue runs, Ctrl-C prints one line and exits with [`INTERRUPTED_EXIT`].
pub fn on_interrupt_exit() -> nix::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let sa = SigAction::new(
        SigHandler::Handler(interrupted),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only calls async-signal-safe functions.
    unsafe { sigaction(Signal::SIGINT, &sa) }.map(drop)
}

/// From here on Ctrl-C is ignored, so a registration that has started writes completely.
pub fn ignore_interrupts() -> nix::Result<()> {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_IGN installs no code.
    unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) }.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn talk(input: &str) -> (Result<Request, DialogueError>, String) {
        let mut out = Vec::new();
        let r = run(&mut input.as_bytes(), &mut out);
        (r, String::from_utf8(out).unwrap())
    }

    #[test]
    fn product_dialogue_text() {
        let (r, out) = talk("1\nAB123456\nABCDEFGH-ABCDEFGH-ABCDEFGH-ABCDEFGH\n");
        assert_eq!(
            out,
            "Selection of product division\n 1. Product\n 2. Trial\n\
             Select product division [1 or 2]...\
             Enter serial number [Ex. XX000000]... \
             Enter license key\n[Ex. XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX]...\n"
        );
        assert_eq!(
            r.unwrap(),
            Request::Product {
                serial: Serial::parse("AB123456").unwrap(),
                key: "ABCDEFGH-ABCDEFGH-ABCDEFGH-ABCDEFGH".into()
            }
        );
    }

    #[test]
    fn trial_dialogue_text() {
        let (r, out) = talk("2\nalice\nABCDEFGHABCDEFGHABCDEFGHABCDEFGH\n");
        assert!(out.ends_with(
            "Select product division [1 or 2]...Enter user name [1 to 63 bytes]...\
             Enter trial license key\n[Ex. XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX]...\n"
        ));
        assert!(matches!(r.unwrap(), Request::Trial { user, .. } if user == "alice"));
    }

    #[test]
    fn bad_answers_end_the_dialogue() {
        assert!(matches!(talk("3\n").0, Err(DialogueError::BadChoice(_))));
        assert!(matches!(talk("\n").0, Err(DialogueError::BadChoice(_))));
        assert!(matches!(
            talk("1\nab123456\n").0,
            Err(DialogueError::BadSerial(_))
        ));
        assert!(matches!(
            talk("1\nAB123456\nshort\n").0,
            Err(DialogueError::BadKey(_))
        ));
        assert!(matches!(talk("2\n\n").0, Err(DialogueError::BadUser(_))));
        let long = format!("2\n{}\n", "x".repeat(64));
        assert!(matches!(talk(&long).0, Err(DialogueError::BadUser(_))));
        assert!(matches!(talk("").0, Err(DialogueError::Eof)));
        assert!(matches!(talk("1\n").0, Err(DialogueError::Eof)));
        assert!(matches!(talk("1\nAB123456\n").0, Err(DialogueError::Eof)));
        assert!(matches!(talk("2\nbob\n").0, Err(DialogueError::Eof)));
    }
}
