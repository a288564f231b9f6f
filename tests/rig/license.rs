//! license rig (placeholder).
