//! The cryptography's integration tests, one binary: known answers,
//! frozen vectors, round trips, every check failing for its reason, and
//! properties.

mod common;

mod attachment;

mod kat;
mod negative;
mod properties;
mod roundtrip;
mod stats;
mod vectors;
