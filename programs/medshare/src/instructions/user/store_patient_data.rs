use anchor_lang::prelude::*;

use crate::constants::SEED_RECORD;
use crate::events::{RecordChange, RecordChanged};
use crate::state::{Cluster, PatientRecord};

/// Accounts of `store_patient_data`.
#[derive(Accounts)]
#[instruction(record_id: u64)]
pub struct StorePatientData<'info> {
    /// The patient; pays.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// A provider writing the record for the patient (co-signs), if any.
    pub author: Option<Signer<'info>>,
    /// The cluster the record is sealed to (must be ready); counts the
    /// records created with it (the new record's generation).
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The new record.
    #[account(
        init,
        payer = owner,
        space = 8 + PatientRecord::INIT_SPACE,
        seeds = [SEED_RECORD, owner.key().as_ref(), &record_id.to_le_bytes()],
        bump
    )]
    pub record: Account<'info, PatientRecord>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl StorePatientData<'_> {
    /// The cluster must be ready: its key is what the capsules are sealed to.
    pub fn validate(&self) -> Result<()> {
        self.cluster.require_ready()
    }

    /// Creates an empty record at version 1 with a new generation (a record
    /// created again at the address of a closed one is a different record:
    /// the old one's consents and computations never apply to it); groups
    /// follow with `write_record_group`.
    pub fn handler(ctx: Context<StorePatientData>, record_id: u64) -> Result<()> {
        let clock = Clock::get()?;
        let owner = ctx.accounts.owner.key();
        let author = ctx
            .accounts
            .author
            .as_ref()
            .map(|a| a.key())
            .unwrap_or(owner);
        let cluster = &mut ctx.accounts.cluster;
        let generation = cluster.records_created;
        cluster.records_created = generation
            .checked_add(1)
            .ok_or(crate::error::MedshareError::Overflow)?;
        cluster.invariant()?;
        let record = &mut ctx.accounts.record;
        record.owner = owner;
        record.generation = generation;
        record.cluster = ctx.accounts.cluster.key();
        record.cluster_key = ctx.accounts.cluster.cluster_key;
        record.record_id = record_id;
        record.author = author;
        record.version = 1;
        record.created_at = clock.unix_timestamp;
        record.updated_at = clock.unix_timestamp;
        record.groups = Vec::new();
        record.bump = ctx.bumps.record;
        record.invariant()?;
        crate::emit_event!(RecordChanged {
            record: record.key(),
            owner,
            author,
            version: 1,
            kind: RecordChange::Created,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
