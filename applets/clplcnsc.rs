//! `clplcnsc`: register, list and delete licences (root only).
//!
//! ```text
//! clplcnsc -i -p FSMON20                                   interactive dialogue (SPEC §5)
//! clplcnsc -i -p FSMON20 --serial AB123456 --key KEY       product licence, for scripts
//! clplcnsc -i -p FSMON20 --trial --user NAME --key KEY     trial licence, for scripts
//! clplcnsc -i -p FSMON20 --file LICENCE.toml               licence file (see license::admin)
//! clplcnsc -l -p FSMON20                                   list every server's licences
//! clplcnsc -d -p FSMON20 [SERIAL|USER]                     delete this server's licence(s)
//! ```
//!
//! Exit statuses: see [`clp_fsmon::license::admin`](crate::license::admin).

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{ArgGroup, Parser};

use crate::exit::{Exit, Status};
use crate::license::admin::{self, Failure, SUCCESS};
use crate::license::dialogue::{self, DialogueError, Request};
use crate::paths::Paths;

// Each bool is one clap flag (-i, -l, -d, --trial).
#[allow(clippy::struct_excessive_bools)]
#[derive(Parser, Debug)]
#[command(
    name = "clplcnsc",
    about = "Register, list and delete licences",
    version,
    group(ArgGroup::new("mode").required(true).args(["register", "list", "delete"]))
)]
struct Cli {
    /// Register a licence (interactively unless --serial/--trial/--file is given).
    #[arg(short = 'i')]
    register: bool,
    /// List the licences.
    #[arg(short = 'l')]
    list: bool,
    /// Delete this server's licences of the product (only SERIAL's, when given).
    #[arg(short = 'd')]
    delete: bool,
    /// Product ID.
    #[arg(short = 'p', value_name = "PRODUCT_ID", required = true)]
    product: String,
    /// Serial number of a product licence (with -i).
    #[arg(long, requires_all = ["register", "key"], conflicts_with = "trial")]
    serial: Option<String>,
    /// Register a trial licence (with -i, --user, --key).
    #[arg(long, requires_all = ["register", "user", "key"])]
    trial: bool,
    /// Trial user name.
    #[arg(long, requires = "trial")]
    user: Option<String>,
    /// Licence key.
    #[arg(long)]
    key: Option<String>,
    /// Licence file (TOML: kind, serial or user, key).
    #[arg(long, requires = "register", conflicts_with_all = ["serial", "trial", "key"])]
    file: Option<PathBuf>,
    /// With -d: the serial number (or trial user name) to delete.
    #[arg(value_name = "SERIAL", requires = "delete")]
    holder: Option<String>,
}

/// Entry point.
pub fn main(args: &[OsString]) -> Status {
    command(args).into()
}

fn command(args: &[OsString]) -> Exit {
    let command_line = std::iter::once(OsString::from("clplcnsc")).chain(args.iter().cloned());
    let cli = match Cli::try_parse_from(command_line) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    if !crate::sys::is_root() {
        return Failure::new(
            Exit::Permission,
            "permission denied: licences can only be managed by root",
        )
        .report();
    }
    match run(&cli) {
        Ok(None) => {
            crate::outln!("{SUCCESS}");
            Exit::Ok
        }
        Ok(Some(code)) => code,
        Err(f) => f.report(),
    }
}

/// Runs the command: `None` when it ends with the success line, `Some(status)` when it has
/// printed its own output (the listing).
fn run(cli: &Cli) -> Result<Option<Exit>, Failure> {
    let paths = Paths::from_env();
    let product = admin::product(&cli.product)?;
    let today = chrono::Local::now().date_naive();
    // clap counts on/off flags as always present, so `requires` cannot refuse these: do it here.
    if cli.list
        && (cli.serial.is_some()
            || cli.trial
            || cli.user.is_some()
            || cli.key.is_some()
            || cli.file.is_some()
            || cli.holder.is_some())
    {
        return Err(Failure::new(
            Exit::Usage,
            "-l takes no serial, key, user, file or holder: it lists every licence of the product",
        ));
    }
    if cli.delete
        && (cli.serial.is_some()
            || cli.trial
            || cli.user.is_some()
            || cli.key.is_some()
            || cli.file.is_some())
    {
        return Err(Failure::new(
            Exit::Usage,
            "-d takes only the serial number (or trial user) to delete",
        ));
    }
    if cli.list {
        return Ok(Some(admin::list(
            &paths,
            product,
            today,
            &mut std::io::stdout(),
        )));
    }
    if cli.delete {
        admin::delete(&paths, product, cli.holder.as_deref())?;
        return Ok(None);
    }
    if cli.key.is_some() && cli.serial.is_none() && !cli.trial {
        return Err(Failure::new(
            Exit::Usage,
            "--key needs --serial SERIAL or --trial --user NAME",
        ));
    }
    let req = if let Some(f) = &cli.file {
        admin::read_licence_file(f, product)?
    } else if let (Some(s), Some(k)) = (&cli.serial, &cli.key) {
        admin::request_product(s, k)?
    } else if let (true, Some(u), Some(k)) = (cli.trial, &cli.user, &cli.key) {
        Request::Trial {
            user: u.clone(),
            key: k.clone(),
        }
    } else {
        interactive()?
    };
    // From here the registration runs to its end: Ctrl-C no longer interrupts it.
    let _ = dialogue::ignore_interrupts();
    admin::register(&paths, product, &req, today)?;
    Ok(None)
}

fn interactive() -> Result<Request, Failure> {
    if let Err(e) = dialogue::on_interrupt_exit() {
        return Err(Failure::new(Exit::System, format!("sigaction: {e}")));
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        tracing::debug!("clplcnsc: dialogue on a non-terminal stdin");
    }
    let mut out = std::io::stdout();
    dialogue::run(&mut stdin.lock(), &mut out).map_err(|e| {
        let code = match e {
            DialogueError::Io(_) => Exit::System,
            _ => Exit::Usage,
        };
        Failure::new(code, e)
    })
}
