//! The monitors' command lines: the option table ([`options`]) and the legacy single-dash
//! grammar that reads it ([`grammar`]). The table is the one description of every option and
//! control word; the parser, `--help`, the man pages and the shell completions are all made from
//! it, so they cannot disagree.

pub(crate) mod grammar;
pub mod options;

pub use grammar::*;
pub(crate) use options::usage;
