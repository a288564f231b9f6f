//! Command-line definitions for documentation (placeholder).
