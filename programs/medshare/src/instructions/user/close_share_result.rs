use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::ShareClosed;
use crate::state::ShareResult;

/// Accounts of `close_share_result`.
#[derive(Accounts)]
pub struct CloseShareResult<'info> {
    /// The requester (who paid for the result) or the recipient wallet it names.
    pub closer: Signer<'info>,
    /// The completed share result.
    #[account(mut, close = requester)]
    pub share_result: Account<'info, ShareResult>,
    /// Who paid for it: gets the rent back.
    /// CHECK: must be the share result's requester (checked in `validate`).
    #[account(mut)]
    pub requester: UncheckedAccount<'info>,
    /// The shared record, named so that the close is on the record's audit trail.
    /// CHECK: must be the share result's record (checked in `validate`); only its address is used.
    pub record: UncheckedAccount<'info>,
}

impl CloseShareResult<'_> {
    /// Completed; the rent goes to its requester; closed by the requester or
    /// the recipient wallet; the record is the one shared.
    pub fn validate(&self) -> Result<()> {
        let result = &self.share_result;
        require!(result.completed, MedshareError::ShareNotCompleted);
        require_keys_eq!(
            self.requester.key(),
            result.requester,
            MedshareError::NotRequester
        );
        let closer = self.closer.key();
        require!(
            closer == result.requester
                || (result.recipient_wallet != Pubkey::default()
                    && closer == result.recipient_wallet),
            MedshareError::NotRequesterOrRecipient
        );
        require_keys_eq!(self.record.key(), result.record, MedshareError::WrongRecord);
        Ok(())
    }

    /// Closes the share result (the rent goes to the requester).
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<CloseShareResult>) -> Result<()> {
        let result = &ctx.accounts.share_result;
        crate::emit_event!(ShareClosed {
            share_result: result.key(),
            record: result.record,
            requester: result.requester,
            by: ctx.accounts.closer.key(),
            slot: Clock::get()?.slot,
        });
        Ok(())
    }
}
