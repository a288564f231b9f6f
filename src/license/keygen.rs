//! `clp-fsmon keygen`: the vendor key generator, compiled only with `--features keygen`.
//!
//! ```text
//! clp-fsmon keygen --product FSMON20 --serial AB123456
//! clp-fsmon keygen --product FSMON20 --trial --user NAME --from YYYY-MM-DD --until YYYY-MM-DD
//! ```
//!
//! Prints the key on stdout. Keys are made with the vendor secret this binary was built with
//! (`CLP_FSMON_VENDOR_SECRET` at build time, else the published development secret, in which
//! case a warning goes to stderr).

use std::ffi::OsString;

use chrono::NaiveDate;
use clap::Parser;

use super::{catalog, key};
use crate::exit::Exit;

#[derive(Parser, Debug)]
#[command(name = "clp-fsmon keygen", about = "Issue licence keys (vendor tool)")]
struct Args {
    /// Product ID from the catalogue (e.g. FSMON20).
    #[arg(long)]
    product: String,
    /// Serial number XX000000 (product key).
    #[arg(long, conflicts_with = "trial", required_unless_present = "trial")]
    serial: Option<String>,
    /// Issue a trial key.
    #[arg(long, requires_all = ["user", "from", "until"])]
    trial: bool,
    /// Trial user name (1 to 63 bytes).
    #[arg(long, requires = "trial")]
    user: Option<String>,
    /// First valid day of the trial.
    #[arg(long, requires = "trial")]
    from: Option<NaiveDate>,
    /// Last valid day of the trial.
    #[arg(long, requires = "trial")]
    until: Option<NaiveDate>,
}

/// Entry point of `clp-fsmon keygen ARGS…`.
pub(crate) fn keygen_main(args: &[OsString]) -> Exit {
    let command_line =
        std::iter::once(OsString::from("clp-fsmon keygen")).chain(args.iter().cloned());
    let opts = match Args::try_parse_from(command_line) {
        Ok(o) => o,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    let Some(product) = catalog::product(&opts.product) else {
        crate::errln!(
            "keygen: unknown product ID {:?} (known: {})",
            opts.product,
            catalog::codes()
        );
        return Exit::Usage;
    };
    if key::is_dev_secret() {
        crate::errln!("keygen: warning: built with the published development secret");
    }
    let issued = match (opts.serial, opts.user, opts.from, opts.until) {
        (Some(text), ..) => {
            let Some(serial) = key::Serial::parse(&text) else {
                crate::errln!("keygen: invalid serial number {text:?}: expected XX000000");
                return Exit::Usage;
            };
            key::issue_product(product, serial)
        }
        (None, Some(user), Some(from), Some(until)) => {
            match key::issue_trial(product, &user, from, until) {
                Ok(k) => k,
                Err(e) => {
                    crate::errln!("keygen: {e}");
                    return Exit::Usage;
                }
            }
        }
        _ => {
            crate::errln!("keygen: give --serial, or --trial --user --from --until");
            return Exit::Usage;
        }
    };
    crate::outln!("{issued}");
    Exit::Ok
}
