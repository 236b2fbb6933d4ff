use anchor_lang::prelude::*;

use crate::constants::MAX_PURPOSE_LEN;
use crate::error::MedshareError;

/// A patient's time-limited, revocable consent for a grantee to request
/// shares of some field groups of one record.
#[account(discriminator = &crate::state::layout::CONSENT)]
#[derive(InitSpace)]
pub struct Consent {
    /// The record.
    pub record: Pubkey,
    /// The record's generation when the consent was granted: a consent never
    /// applies to a later record created at the same address.
    pub record_generation: u64,
    /// The record owner who granted it.
    pub owner: Pubkey,
    /// Who may request shares.
    pub grantee: Pubkey,
    /// Groups the grantee may request.
    pub group_mask: u8,
    /// Stated purpose (UTF-8).
    #[max_len(MAX_PURPOSE_LEN)]
    pub purpose: String,
    /// Unix time at which the consent ends (requests at or after it are refused).
    pub expires_at: i64,
    /// Revoked by the owner.
    pub revoked: bool,
    /// Granted (unix time).
    pub granted_at: i64,
    /// Last change (unix time).
    pub updated_at: i64,
    /// Shares requested under it.
    pub uses: u32,
    /// PDA bump.
    pub bump: u8,
    /// How many times it was granted (1 at the first grant, +1 at each
    /// grant after a revocation): a computation names the grant it was
    /// requested under, and one requested under an earlier grant, revoked
    /// since, never completes under a later one.
    pub grant: u32,
}

impl Consent {
    /// Checks the consent allows a request for `group_mask` at `now`.
    pub fn check(&self, group_mask: u8, now: i64) -> std::result::Result<(), MedshareError> {
        if self.revoked {
            return Err(MedshareError::ConsentRevoked);
        }
        if now >= self.expires_at {
            return Err(MedshareError::ConsentExpired);
        }
        if group_mask & !self.group_mask != 0 {
            return Err(MedshareError::ConsentScope);
        }
        Ok(())
    }
}

impl Consent {
    /// Checked wherever a handler writes a consent: a nonzero mask of
    /// existing groups, a purpose within its limit, and its parties set.
    pub fn invariant(&self) -> Result<()> {
        require!(
            self.group_mask != 0
                && (self.group_mask as usize) < (1 << crate::constants::MAX_GROUPS),
            MedshareError::InvariantViolated
        );
        require!(
            self.purpose.len() <= MAX_PURPOSE_LEN,
            MedshareError::InvariantViolated
        );
        require!(
            self.record != Pubkey::default()
                && self.owner != Pubkey::default()
                && self.grantee != Pubkey::default(),
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}
