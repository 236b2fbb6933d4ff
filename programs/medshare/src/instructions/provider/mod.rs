//! The provider registry: issuers appointed by the cluster admin register
//! and revoke providers.

pub mod appoint_issuer;
pub mod register_provider;

pub use appoint_issuer::*;
pub use register_provider::*;

use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::state::{CredentialIssuer, Provider, RecordPolicy};

/// Applies a record's provider policy to `wallet`: nothing to check when the
/// record requires no role; otherwise `provider` must be `wallet`'s registry
/// entry in the record's cluster, valid at `now`, of an allowed role, from an
/// active issuer.
pub fn check_policy(
    record: &RecordPolicy,
    wallet: &Pubkey,
    provider: Option<&Account<Provider>>,
    issuer: Option<&Account<CredentialIssuer>>,
    now: i64,
) -> std::result::Result<(), MedshareError> {
    if record.required_roles == 0 {
        return Ok(());
    }
    let expected = crate::pda::provider(&record.cluster, wallet);
    let p = provider
        .filter(|p| p.key() == expected)
        .ok_or(MedshareError::ProviderNotVerified)?;
    let i = issuer.filter(|i| i.key() == crate::pda::issuer(&record.cluster, &p.issuer));
    p.check(i.map(|i| &**i), record.required_roles, now)
}
