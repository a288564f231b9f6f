//! Monitoring runtime (placeholder).
