//! A provider entry that no longer verifies anyone is closed.

use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::AccountClosed;
use crate::state::Provider;

/// Accounts of `close_provider`.
#[derive(Accounts)]
pub struct CloseProvider<'info> {
    /// Whoever paid for the entry (the issuer that first registered it);
    /// gets the rent back.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The entry (revoked or past its validity).
    #[account(mut, has_one = payer @ MedshareError::NotIssuer, close = payer)]
    pub provider_account: Account<'info, Provider>,
}

impl CloseProvider<'_> {
    /// Only an entry that verifies nobody: revoked, or past `valid_until`.
    pub fn validate(&self) -> Result<()> {
        let entry = &self.provider_account;
        require!(
            entry.revoked || Clock::get()?.unix_timestamp >= entry.valid_until,
            MedshareError::ProviderActive
        );
        Ok(())
    }

    /// Closes the entry.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseProvider>) -> Result<()> {
        let accs = &ctx.accounts;
        AccountClosed::emit::<Provider>(accs.provider_account.key(), accs.payer.key())
    }
}
