//! packaging tests (placeholder).
