use anchor_lang::prelude::*;

use crate::constants::{SEED_IDENTITY, SEED_RECORD};
use crate::events::{RecordChange, RecordChanged};
use crate::state::{Cluster, Identity, PatientRecord};
use crate::utils::accounts;

/// Accounts of `store_patient_data`.
#[derive(Accounts)]
#[instruction(record_id: u64)]
pub struct StorePatientData<'info> {
    /// The patient; pays.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// A provider writing the record for the patient (co-signs), if any.
    pub author: Option<Signer<'info>>,
    /// The owner's identity: counts the records the owner created (the new
    /// record's generation).
    #[account(
        mut,
        seeds = [SEED_IDENTITY, owner.key().as_ref()],
        bump = owner_identity.bump,
    )]
    pub owner_identity: Account<'info, Identity>,
    /// The cluster the record is sealed to (must be ready); only read, so
    /// records of different owners never queue behind one another.
    pub cluster: Account<'info, Cluster>,
    /// The new record (created by the handler).
    /// CHECK: address fixed by the seeds; must not exist yet.
    #[account(
        mut,
        seeds = [SEED_RECORD, owner.key().as_ref(), &record_id.to_le_bytes()],
        bump
    )]
    pub record: UncheckedAccount<'info>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl StorePatientData<'_> {
    /// The cluster must be ready: its key is what the capsules are sealed to.
    pub fn validate(&self) -> Result<()> {
        self.cluster.require_ready()
    }

    /// Creates an empty record at version 1 with a new generation, the
    /// owner's next record life ([`Identity::next_record_generation`]): a
    /// record created again at the address of a closed one, in this cluster
    /// or any other, is a different record, and the old one's consents,
    /// computations and research values never apply to it. Groups follow
    /// with `write_record_group`.
    #[access_control(ctx.accounts.validate())]
    pub fn handler(ctx: Context<StorePatientData>, record_id: u64) -> Result<()> {
        let clock = Clock::get()?;
        let owner = ctx.accounts.owner.key();
        let author = ctx
            .accounts
            .author
            .as_ref()
            .map(|author| author.key())
            .unwrap_or(owner);
        let identity = &mut ctx.accounts.owner_identity;
        let generation = identity.next_record_generation()?;
        identity.invariant()?;
        const SPACE: usize = 8 + PatientRecord::INIT_SPACE;
        let mut record: PatientRecord = accounts::blank()?;
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
        let accs = &ctx.accounts;
        accounts::create(
            &accs.record,
            &accs.owner,
            &accs.system_program,
            &[
                SEED_RECORD,
                owner.as_ref(),
                &record_id.to_le_bytes(),
                &[record.bump],
            ],
            SPACE,
            &record,
        )?;
        crate::emit_event!(RecordChanged {
            record: accs.record.key(),
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
