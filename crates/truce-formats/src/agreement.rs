//! Agreement files.
