//! Entry point of the `clp-fsmon` multi-call binary: dispatch on argv[0] and turn the applet's
//! result into the process exit status.

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    ExitCode::from(clp_fsmon::dispatch::run(&argv).code())
}
