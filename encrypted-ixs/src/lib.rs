//! # MedShare confidential instructions
//!
//! All of MedShare's cryptography, shared by the on-chain program (verify and
//! aggregate), the MPC nodes (DKG and contributions) and the client (seal and
//! open).
//!
//! | module | protocol |
//! | --- | --- |
//! | [`point`] | canonical, torsion-free Edwards25519 points; curve operations through `solana-curve25519` |
//! | [`transcript`] | `Hc(tag, …)`: length-prefixed, domain-separated SHA-256 to 128-bit challenges; hedged nonces |
//! | [`keys`] | X25519 user keys and their Edwards form (XEdDSA), transport keys, key shares |
//! | [`capsule`] | hashed-ElGamal KEM: seal a data key to any key, open it |
//! | [`binding`] | Schnorr proof binding a cluster capsule to its owner and record |
//! | [`record`] | per-field-group ChaCha20-Poly1305 payloads |
//! | [`reencrypt`] | threshold re-encryption: node contributions, their sigma proofs, Lagrange check, aggregation |
//! | [`dkg`] | Pedersen/FROST DKG over the chain, round-2 packages encrypted to transport keys |
//!
//! ## Features
//!
//! - `client` (default): everything. Needs `std` and randomness.
//! - without it (the program's build): [`point`], [`transcript`], wire types,
//!   [`binding::verify`], [`reencrypt::verify_contribution`],
//!   [`reencrypt::check_lagrange`] and [`reencrypt::aggregate`]; no allocation,
//!   SBF-ready.
//!
//! ## Notation
//!
//! `B` is the Ed25519 base point, `l` its prime order. Points are compressed
//! Edwards encodings; scalars are canonical 32-byte little-endian integers.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod attachment;
pub mod binding;
pub mod capsule;
#[cfg(feature = "client")]
pub mod dkg;
pub mod error;
pub mod groups;
pub mod keys;
pub mod node_index;
pub mod point;
pub mod record;
pub mod reencrypt;
pub mod stats;
pub mod transcript;

pub use curve25519_dalek::scalar::Scalar;
pub use error::{Error, Result};
pub use groups::FieldGroup;

/// Most nodes a cluster may have.
pub const MAX_NODES: usize = 16;

/// Field groups per record (group numbers `0..MAX_GROUPS`): identity, vitals,
/// diagnoses, medications (with allergies), notes, labs, care (immunizations,
/// procedures, encounters), documents. Groups 5–7 came with FHIR records; the
/// account layouts did not change (a group number is one byte either way).
pub const MAX_GROUPS: usize = 8;

/// Most groups one share carries. Five contributions of 144 bytes fit one
/// transaction, so a node contributes for a whole share at once; a patient
/// who shares more groups with the same recipient makes a second share.
pub const MAX_SHARE_GROUPS: usize = 5;
