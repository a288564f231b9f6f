//! clplcnsc tests (placeholder).
