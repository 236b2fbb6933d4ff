use anchor_lang::prelude::*;

use crate::error::MedshareError;

/// Roles a verified provider can hold. As a bit in a role mask:
/// doctor 1, hospital 2, insurer 4, researcher 8.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ProviderRole {
    /// A doctor.
    Doctor,
    /// A hospital.
    Hospital,
    /// An insurer.
    Insurer,
    /// A researcher.
    Researcher,
}

impl ProviderRole {
    /// The role's bit in a role mask.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A credential issuer, appointed by the cluster admin.
#[account(discriminator = &crate::state::layout::CREDENTIAL_ISSUER)]
#[derive(InitSpace)]
pub struct CredentialIssuer {
    /// Cluster whose registry this issuer writes to.
    pub cluster: Pubkey,
    /// The issuer's wallet.
    pub issuer: Pubkey,
    /// False once the admin revoked it (its providers stop counting as verified).
    pub active: bool,
    /// Appointed (unix time).
    pub appointed_at: i64,
    /// PDA bump.
    pub bump: u8,
}

/// A verified provider.
#[account(discriminator = &crate::state::layout::PROVIDER)]
#[derive(InitSpace)]
pub struct Provider {
    /// Cluster registry.
    pub cluster: Pubkey,
    /// The provider's wallet.
    pub provider: Pubkey,
    /// The issuer that registered it.
    pub issuer: Pubkey,
    /// Role.
    pub role: ProviderRole,
    /// Hash of the license document (e.g. SHA-256).
    pub license_hash: [u8; 32],
    /// Valid from (unix time, inclusive).
    pub valid_from: i64,
    /// Valid until (unix time, exclusive).
    pub valid_until: i64,
    /// Revoked by its issuer.
    pub revoked: bool,
    /// PDA bump.
    pub bump: u8,
    /// Who paid the entry's rent (the issuer that first registered it; an
    /// entry another issuer replaces keeps it): gets it back at `close_provider`.
    pub payer: Pubkey,
}

impl Provider {
    /// Checks this registration makes `wallet` a verified provider of a role in
    /// `required_roles` at `now`, given its issuer's account.
    pub fn check(
        &self,
        issuer: Option<&CredentialIssuer>,
        required_roles: u8,
        now: i64,
    ) -> std::result::Result<(), MedshareError> {
        if self.revoked {
            return Err(MedshareError::ProviderRevoked);
        }
        if now < self.valid_from || now >= self.valid_until {
            return Err(MedshareError::ProviderExpired);
        }
        match issuer {
            Some(i) if i.issuer == self.issuer && i.cluster == self.cluster => {
                if !i.active {
                    return Err(MedshareError::IssuerRevoked);
                }
            }
            _ => return Err(MedshareError::ProviderNotVerified),
        }
        if self.role.bit() & required_roles == 0 {
            return Err(MedshareError::ProviderRoleNotAllowed);
        }
        Ok(())
    }
}

impl CredentialIssuer {
    /// Checked wherever a handler writes an issuer entry: its cluster and
    /// issuer set.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.cluster != Pubkey::default() && self.issuer != Pubkey::default(),
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}

impl Provider {
    /// Checked wherever a handler writes a provider entry: a validity period
    /// that ends after it starts, and its parties set.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.valid_until > self.valid_from,
            MedshareError::InvariantViolated
        );
        require!(
            self.cluster != Pubkey::default()
                && self.provider != Pubkey::default()
                && self.issuer != Pubkey::default(),
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}
