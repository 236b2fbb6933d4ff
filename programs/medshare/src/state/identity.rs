use anchor_lang::prelude::*;

/// What a wallet is, for people reading the audit trail (verified roles come
/// from the provider registry).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum Role {
    /// A patient.
    Patient,
    /// A doctor.
    Doctor,
    /// A hospital.
    Hospital,
    /// An insurer.
    Insurer,
    /// A researcher.
    Researcher,
}

/// A wallet's encryption key.
#[account]
#[derive(InitSpace)]
pub struct Identity {
    /// The wallet.
    pub wallet: Pubkey,
    /// Edwards form of the wallet's X25519 key (XEdDSA convention, sign 0).
    pub encryption_key: [u8; 32],
    /// Declared role.
    pub role: Role,
    /// Last change (unix time).
    pub updated_at: i64,
    /// PDA bump.
    pub bump: u8,
}

impl Identity {
    /// Checked wherever a handler writes an identity: its wallet and
    /// encryption key set (the key itself is validated before it is written).
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.wallet != Pubkey::default() && self.encryption_key != [0u8; 32],
            crate::error::MedshareError::InvariantViolated
        );
        Ok(())
    }
}
