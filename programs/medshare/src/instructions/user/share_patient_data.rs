use anchor_lang::prelude::*;

use crate::constants::{MAX_GROUPS, SEED_COMPUTATION, SEED_SHARE_RESULT};
use crate::error::MedshareError;
use crate::events::ShareRequested;
use crate::instructions::require_encryption_key;
use crate::state::{Cluster, Computation, ComputationStatus, PatientRecord, ShareResult};

/// Arguments of `share_patient_data`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ShareArgs {
    /// Bit `g` set to share group `g`.
    pub group_mask: u8,
    /// Recipient key `R` (Edwards form of its X25519 key).
    pub recipient: [u8; 32],
    /// Recipient wallet, if the recipient has one (for its inbox).
    pub recipient_wallet: Option<Pubkey>,
}

/// Accounts of `share_patient_data`.
#[derive(Accounts)]
pub struct SharePatientData<'info> {
    /// The record owner; pays rent for the computation and the result.
    #[account(mut)]
    pub requester: Signer<'info>,
    /// The record.
    #[account(has_one = cluster @ MedshareError::WrongCluster)]
    pub record: Account<'info, PatientRecord>,
    /// The record's cluster.
    #[account(mut)]
    pub cluster: Account<'info, Cluster>,
    /// The new computation (id = `cluster.next_computation`).
    #[account(
        init,
        payer = requester,
        space = Computation::space(cluster.threshold as usize, MAX_GROUPS),
        seeds = [SEED_COMPUTATION, cluster.key().as_ref(), &cluster.next_computation.to_le_bytes()],
        bump
    )]
    pub computation: Account<'info, Computation>,
    /// The result account the callback fills.
    #[account(
        init,
        payer = requester,
        space = 8 + ShareResult::INIT_SPACE,
        seeds = [SEED_SHARE_RESULT, computation.key().as_ref()],
        bump
    )]
    pub share_result: Account<'info, ShareResult>,
    /// System program.
    pub system_program: Program<'info, System>,
}

impl SharePatientData<'_> {
    /// Owner signs, cluster ready, groups present, recipient key valid.
    pub fn validate(&self, args: &ShareArgs) -> Result<Vec<u8>> {
        require_keys_eq!(
            self.requester.key(),
            self.record.owner,
            MedshareError::NotOwner
        );
        self.cluster.require_ready()?;
        require!(
            args.group_mask != 0 && (args.group_mask as usize) < (1 << MAX_GROUPS),
            MedshareError::InvalidGroup
        );
        let groups: Vec<u8> = (0..MAX_GROUPS as u8)
            .filter(|g| args.group_mask & (1 << g) != 0)
            .collect();
        for g in &groups {
            require!(self.record.group(*g).is_some(), MedshareError::GroupMissing);
        }
        require_encryption_key(&args.recipient, MedshareError::InvalidRecipientKey)?;
        Ok(groups)
    }

    /// Queues the computation: copies the groups' cluster capsules, sets the
    /// expiry, creates the pending share result.
    pub fn handler(ctx: Context<SharePatientData>, args: ShareArgs) -> Result<()> {
        let groups = ctx.accounts.validate(&args)?;
        let clock = Clock::get()?;
        let record = &ctx.accounts.record;
        let cluster = &mut ctx.accounts.cluster;
        let id = cluster.next_computation;
        cluster.next_computation = id.checked_add(1).ok_or(MedshareError::Overflow)?;
        let expiry_slot = clock
            .slot
            .checked_add(cluster.computation_ttl_slots)
            .ok_or(MedshareError::Overflow)?;
        let recipient_wallet = args.recipient_wallet.unwrap_or_default();
        let capsules = groups
            .iter()
            .map(|g| record.group(*g).map(|s| s.cluster_capsule))
            .collect::<Option<Vec<_>>>()
            .ok_or(MedshareError::GroupMissing)?;

        let comp = &mut ctx.accounts.computation;
        comp.cluster = cluster.key();
        comp.id = id;
        comp.record = record.key();
        comp.record_version = record.version;
        comp.owner = record.owner;
        comp.requester = ctx.accounts.requester.key();
        comp.recipient = args.recipient;
        comp.recipient_wallet = recipient_wallet;
        comp.groups = groups.clone();
        comp.capsules = capsules;
        comp.contributors = Vec::new();
        comp.partials = Vec::new();
        comp.faulty = 0;
        comp.status = ComputationStatus::Pending;
        comp.created_slot = clock.slot;
        comp.expiry_slot = expiry_slot;
        comp.share_result = ctx.accounts.share_result.key();
        comp.bump = ctx.bumps.computation;
        comp.invariant()?;

        let result = &mut ctx.accounts.share_result;
        result.computation = comp.key();
        result.cluster = comp.cluster;
        result.record = comp.record;
        result.record_version = comp.record_version;
        result.owner = comp.owner;
        result.requester = comp.requester;
        result.recipient = comp.recipient;
        result.recipient_wallet = recipient_wallet;
        result.groups = groups;
        result.capsules = Vec::new();
        result.completed = false;
        result.requested_slot = clock.slot;
        result.completed_slot = 0;
        result.bump = ctx.bumps.share_result;

        crate::emit_event!(ShareRequested {
            computation: comp.key(),
            share_result: result.key(),
            cluster: comp.cluster,
            record: comp.record,
            requester: comp.requester,
            recipient: comp.recipient,
            recipient_wallet,
            group_mask: args.group_mask,
            expiry_slot,
            slot: clock.slot,
            unix_time: clock.unix_timestamp,
        });
        Ok(())
    }
}
