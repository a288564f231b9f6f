//! Licences (product FSMON20): key format, product catalogue, the per-server store, and the
//! check every monitor runs before it probes.
//!
//! Placeholder interface: the monitor-side check below is what the runtime calls.

use chrono::NaiveDate;

use crate::paths::Paths;

/// A licence that lets a monitor run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A product licence.
    Product {
        /// Its serial number.
        serial: String,
    },
    /// A trial licence in force.
    Trial {
        /// Last valid day.
        until: NaiveDate,
        /// Days left including today.
        days_left: i64,
    },
}

/// Why a monitor may not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 51: no licence for the applet's product.
    NotRegistered,
    /// 53: the trial ended on this day.
    Expired(NaiveDate),
    /// 55: the trial starts on this day.
    NotYetValid(NaiveDate),
    /// 56: the key is registered on another server too.
    Overlap,
    /// 54: the store cannot be read or fails its integrity check.
    Unreadable(String),
}

/// Checks the store for a licence that unlocks `applet` on this server on `today`.
pub fn check_monitor(_paths: &Paths, _applet: &str, _today: NaiveDate) -> Result<Grant, Refusal> {
    Err(Refusal::NotRegistered)
}
