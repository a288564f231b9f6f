//! runtime tests (placeholder).
