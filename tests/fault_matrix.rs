//! fault matrix (placeholder).
