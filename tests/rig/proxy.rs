//! delaying TCP proxy (placeholder).
