//! nfs rig (placeholder).
