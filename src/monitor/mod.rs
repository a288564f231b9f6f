//! The shared monitoring runtime used by every monitor applet, one file per job:
//!
//! | module | job |
//! |---|---|
//! | [`engine`] | the loop: k of c, interval, per-probe deadline, pause, stop, `--first-wait`, slow warnings — pure, unit-tested |
//! | [`daemon`] | a monitor's life: claim the ID, signals, control server, licence gate, alerts |
//! | [`board`] | what a monitor knows about itself: state, k of c, last result, latency percentiles |
//! | [`once`] | `--once`: one probe, a plugin-style verdict |
//! | [`client`] | `-stop/-pause/-continue/-disp/-del` from the command line |
//! | [`overview`] | `clp-fsmon status`: every monitor of this server at a glance |
//! | [`metrics`] | the Prometheus text exposition, and the `--metrics-file` writer |
//! | [`report`] | fault-log lines and the text of a probe's result |
//! | [`control`] | the control socket (both ends of its protocol) |
//! | [`registry`] | ID → entry, liveness by a lock held for the monitor's life |
//!
//! The applets' front end (command line, help, usage events) is in `applets/monitor.rs`.

pub mod board;
pub(crate) mod client;
pub mod control;
pub(crate) mod daemon;
pub(crate) mod engine;
pub mod metrics;
pub(crate) mod once;
pub mod overview;
pub mod registry;
pub(crate) mod report;

pub use engine::CUT_GRACE;
