//! The provider registry: issuers and providers.

use anchor_lang::prelude::*;

/// The provider registry changed: an issuer appointed or revoked, a provider
/// registered or revoked.
#[event]
pub struct RegistryChanged {
    /// Cluster.
    pub cluster: Pubkey,
    /// The issuer or provider concerned.
    pub subject: Pubkey,
    /// Who acted.
    pub by: Pubkey,
    /// What happened.
    pub kind: RegistryChange,
    /// Provider role, for provider changes.
    pub role: Option<crate::state::ProviderRole>,
    /// Provider validity end, for provider changes.
    pub valid_until: i64,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// What a [`RegistryChanged`] reports (same byte as the former `kind: u8`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RegistryChange {
    /// The admin appointed an issuer.
    IssuerAppointed,
    /// The admin revoked an issuer.
    IssuerRevoked,
    /// An issuer registered a provider.
    ProviderRegistered,
    /// An issuer revoked a provider.
    ProviderRevoked,
}
