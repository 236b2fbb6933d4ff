use anchor_lang::prelude::*;

use super::CapsuleData;
use crate::constants::{MAX_GROUPS, MAX_SHARE_GROUPS};
use crate::error::MedshareError;

/// The output of a share: one capsule per group, for the recipient key.
/// Created empty with the request (paid by the requester), filled by the callback.
#[account(discriminator = &crate::state::layout::SHARE_RESULT)]
#[derive(InitSpace)]
pub struct ShareResult {
    /// The computation that fills it.
    pub computation: Pubkey,
    /// Cluster.
    pub cluster: Pubkey,
    /// Record.
    pub record: Pubkey,
    /// Record version whose ciphertexts the capsules open.
    pub record_version: u32,
    /// Record owner.
    pub owner: Pubkey,
    /// Who asked.
    pub requester: Pubkey,
    /// Recipient key `R`.
    pub recipient: [u8; 32],
    /// Recipient wallet, if named.
    pub recipient_wallet: Pubkey,
    /// Groups, ascending.
    #[max_len(MAX_SHARE_GROUPS)]
    pub groups: Vec<u8>,
    /// One capsule per group once completed; empty while pending.
    #[max_len(MAX_SHARE_GROUPS)]
    pub capsules: Vec<CapsuleData>,
    /// Whether the callback filled it.
    pub completed: bool,
    /// Slot of the request.
    pub requested_slot: u64,
    /// Slot of the callback (0 while pending).
    pub completed_slot: u64,
    /// PDA bump.
    pub bump: u8,
}

impl ShareResult {
    /// Checked wherever a handler writes a share result: its groups are
    /// distinct, ascending and in range, and it holds one capsule per group
    /// once completed, none before.
    pub fn invariant(&self) -> Result<()> {
        require!(
            !self.groups.is_empty()
                && self.groups.len() <= MAX_SHARE_GROUPS
                && self.groups.windows(2).all(|w| w[0] < w[1])
                && self.groups.iter().all(|&g| (g as usize) < MAX_GROUPS),
            MedshareError::InvariantViolated
        );
        let capsules = if self.completed { self.groups.len() } else { 0 };
        require!(
            self.capsules.len() == capsules,
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}
