use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::{RecordChange, RecordChanged};
use crate::state::PatientRecord;

/// Accounts of `close_record`.
#[derive(Accounts)]
pub struct CloseRecord<'info> {
    /// The patient; receives the rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The record.
    #[account(
        mut,
        has_one = owner @ MedshareError::NotOwner,
        close = owner
    )]
    pub record: Account<'info, PatientRecord>,
}

impl CloseRecord<'_> {
    /// Closes the account. Share results already produced stay (their
    /// recipients may have decrypted already); new shares are impossible.
    pub fn handler(ctx: Context<CloseRecord>) -> Result<()> {
        let clock = Clock::get()?;
        let record = &ctx.accounts.record;
        crate::emit_event!(RecordChanged {
            record: record.key(),
            owner: record.owner,
            author: record.author,
            version: record.version,
            kind: RecordChange::Closed,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
