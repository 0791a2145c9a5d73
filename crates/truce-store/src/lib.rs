//! truce-store
