//! smb rig (placeholder).
