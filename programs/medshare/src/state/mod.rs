//! Accounts of the MedShare program.

pub mod access;
pub mod cluster;
pub mod computation;
pub mod consent;
pub mod dkg;
pub mod identity;
pub mod layout;
pub mod node_record;
pub mod provider;
pub mod record;
pub mod research;
pub mod share_result;

pub use access::*;
pub use cluster::*;
pub use computation::*;
pub use consent::*;
pub use dkg::*;
pub use identity::*;
pub use node_record::*;
pub use provider::*;
pub use record::*;
pub use research::*;
pub use share_result::*;

use anchor_lang::prelude::*;

/// A capsule `(E, C)` as stored on-chain.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace,
)]
pub struct CapsuleData {
    /// `E`.
    pub e: [u8; 32],
    /// `C`.
    pub c: [u8; 32],
}

impl From<CapsuleData> for encrypted_ixs::capsule::Capsule {
    fn from(c: CapsuleData) -> Self {
        encrypted_ixs::capsule::Capsule {
            e: c.e.into(),
            c: c.c.into(),
        }
    }
}

impl From<encrypted_ixs::capsule::Capsule> for CapsuleData {
    fn from(c: encrypted_ixs::capsule::Capsule) -> Self {
        CapsuleData { e: c.e.0, c: c.c.0 }
    }
}
