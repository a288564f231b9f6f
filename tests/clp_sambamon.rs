//! clp_sambamon tests (placeholder).
