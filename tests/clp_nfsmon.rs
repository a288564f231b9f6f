//! clp_nfsmon tests (placeholder).
