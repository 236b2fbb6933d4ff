use anchor_lang::prelude::*;

use super::CapsuleData;
use crate::constants::{MAX_NODES, MAX_PARTIALS, MAX_SHARE_GROUPS};
use crate::error::MedshareError;

/// State of a computation.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ComputationStatus {
    /// Waiting for contributions and the callback.
    Pending,
}

/// `(U_i, W_i)` of one node for one group.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace,
)]
pub struct PartialCapsule {
    /// `U_i`.
    pub u: [u8; 32],
    /// `W_i`.
    pub w: [u8; 32],
}

/// A queued `share_patient_data` computation. Closed by the callback or by a
/// cancellation (rent back to the requester).
#[account(discriminator = &crate::state::layout::COMPUTATION)]
#[derive(InitSpace)]
pub struct Computation {
    /// Cluster.
    pub cluster: Pubkey,
    /// Id within the cluster (PDA seed).
    pub id: u64,
    /// Record whose groups are shared.
    pub record: Pubkey,
    /// Record version at request time.
    pub record_version: u32,
    /// Record generation at request time (see `PatientRecord::generation`).
    pub record_generation: u64,
    /// Record owner.
    pub owner: Pubkey,
    /// Who asked (the owner, or a grantee under consent); pays rent and gets it back.
    pub requester: Pubkey,
    /// Recipient key `R` (Edwards form).
    pub recipient: [u8; 32],
    /// Recipient wallet, if named (`Pubkey::default()` otherwise).
    pub recipient_wallet: Pubkey,
    /// Groups shared, ascending.
    #[max_len(MAX_SHARE_GROUPS)]
    pub groups: Vec<u8>,
    /// The record's cluster capsules for those groups, copied at request time.
    #[max_len(MAX_SHARE_GROUPS)]
    pub capsules: Vec<CapsuleData>,
    /// Node indices whose contributions were accepted, in order.
    #[max_len(MAX_NODES)]
    pub contributors: Vec<u8>,
    /// Accepted contributions: `contributors.len() × groups.len()`, node-major.
    #[max_len(MAX_PARTIALS)]
    pub partials: Vec<PartialCapsule>,
    /// Bit `i − 1` set for every node whose contribution failed verification.
    pub faulty: u16,
    /// State.
    pub status: ComputationStatus,
    /// Slot of the request.
    pub created_slot: u64,
    /// Last slot at which contributions and the callback are accepted.
    pub expiry_slot: u64,
    /// Share result account this computation fills.
    pub share_result: Pubkey,
    /// Consent the request was made under (`Pubkey::default()` when the owner asked).
    pub consent: Pubkey,
    /// PDA bump.
    pub bump: u8,
    /// The consent's grant the request was made under ([`Consent::grant`];
    /// 0 when the owner asked).
    ///
    /// [`Consent::grant`]: crate::state::Consent::grant
    pub consent_grant: u32,
}

impl Computation {
    /// The deposit a computation of a `t`-threshold cluster holds for its
    /// nodes' transactions (`t` contributions and one callback).
    pub const fn node_deposit(t: usize) -> u64 {
        (t as u64 + 1) * crate::constants::NODE_FEE_LAMPORTS
    }

    /// Pays one node transaction's fee out of the computation's deposit.
    pub fn pay_node_fee(computation: &AccountInfo<'_>, node: &AccountInfo<'_>) -> Result<()> {
        let fee = crate::constants::NODE_FEE_LAMPORTS;
        let mut from = computation.try_borrow_mut_lamports()?;
        **from = from.checked_sub(fee).ok_or(MedshareError::Overflow)?;
        let mut to = node.try_borrow_mut_lamports()?;
        **to = to.checked_add(fee).ok_or(MedshareError::Overflow)?;
        Ok(())
    }

    /// Account size for a cluster threshold `t` and `groups` groups.
    pub const fn space(t: usize, groups: usize) -> usize {
        // Fixed part + the vectors at their actual maximum for this computation.
        8 + 32 // discriminator, cluster
            + 8 // id
            + 32 // record
            + 4 // record_version
            + 8 // record_generation
            + 32 // owner
            + 32 // requester
            + 32 // recipient
            + 32 // recipient_wallet
            + (4 + groups) // groups
            + (4 + groups * 64) // capsules
            + (4 + t) // contributors
            + (4 + t * groups * 64) // partials
            + 2 // faulty
            + 1 // status
            + 8 // created_slot
            + 8 // expiry_slot
            + 32 // share_result
            + 32 // consent
            + 1 // bump
            + 4 // consent_grant
    }

    /// Checked at the end of every mutating handler.
    pub fn invariant(&self) -> Result<()> {
        require!(
            !self.groups.is_empty() && self.groups.len() == self.capsules.len(),
            MedshareError::InvariantViolated
        );
        require!(
            self.partials.len() == self.contributors.len() * self.groups.len(),
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}
