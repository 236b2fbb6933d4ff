use anchor_lang::prelude::*;

use crate::error::MedshareError;
use crate::events::{RecordChange, RecordChanged};
use crate::state::PatientRecord;

/// Accounts of `update_patient_data`.
#[derive(Accounts)]
pub struct UpdatePatientData<'info> {
    /// The patient.
    pub owner: Signer<'info>,
    /// The record's author, when a provider wrote it (must co-sign).
    pub author: Option<Signer<'info>>,
    /// The record.
    #[account(
        mut,
        has_one = owner @ MedshareError::NotOwner
    )]
    pub record: Account<'info, PatientRecord>,
}

impl UpdatePatientData<'_> {
    /// A provider-authored record changes only with the provider's signature.
    pub fn validate(&self) -> Result<()> {
        if self.record.author != self.record.owner {
            let signed = self
                .author
                .as_ref()
                .is_some_and(|a| a.key() == self.record.author);
            require!(signed, MedshareError::AuthorMustSign);
        }
        Ok(())
    }

    /// Starts version `v + 1` with no groups: old ciphertexts and capsules are
    /// dropped; new shares need the groups written again (`GroupMissing`
    /// until then). Share results of the old version cannot be decrypted any
    /// more (the client reports the record changed).
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<UpdatePatientData>) -> Result<()> {
        let clock = Clock::get()?;
        let record = &mut ctx.accounts.record;
        record.version = record
            .version
            .checked_add(1)
            .ok_or(MedshareError::Overflow)?;
        record.groups.clear();
        record.updated_at = clock.unix_timestamp;
        record.invariant()?;
        crate::emit_event!(RecordChanged {
            record: record.key(),
            owner: record.owner,
            author: record.author,
            version: record.version,
            kind: RecordChange::NewVersion,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
