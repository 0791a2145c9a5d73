//! Replay summary JSON.
