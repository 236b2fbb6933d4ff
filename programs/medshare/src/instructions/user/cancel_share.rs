use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::ShareCancelled;
use crate::state::{Computation, ShareResult};

/// Accounts of `cancel_share`.
#[derive(Accounts)]
pub struct CancelShare<'info> {
    /// Who requested the computation; gets both rents back.
    #[account(mut)]
    pub requester: Signer<'info>,
    /// The expired computation.
    #[account(
        mut,
        has_one = requester @ MedshareError::NotRequester,
        has_one = share_result @ MedshareError::WrongShareResult,
        close = requester
    )]
    pub computation: Account<'info, Computation>,
    /// Its (still empty) share result.
    #[account(mut, close = requester)]
    pub share_result: Account<'info, ShareResult>,
}

impl CancelShare<'_> {
    /// Only after the expiry slot.
    pub fn validate(&self) -> Result<()> {
        require!(
            Clock::get()?.slot > self.computation.expiry_slot,
            MedshareError::ComputationNotExpired
        );
        Ok(())
    }

    /// Closes both accounts.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CancelShare>) -> Result<()> {
        crate::emit_event!(ShareCancelled {
            computation: ctx.accounts.computation.key(),
            requester: ctx.accounts.requester.key(),
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
