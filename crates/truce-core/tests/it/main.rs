//! Integration tests of `truce-core`: the public API, input in and exact output expected.

mod fusion;
