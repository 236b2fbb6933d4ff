//! The provider registry: issuers appointed by the cluster admin register
//! and revoke providers.

pub mod appoint_issuer;
pub mod close_provider;
pub mod register_provider;

pub use appoint_issuer::*;
pub use close_provider::*;
pub use register_provider::*;
