//! What nodes do: registration, the DKG, contributions and callbacks.

use anchor_lang::prelude::*;

use crate::state::CapsuleData;

/// A node registered its transport key.
#[event]
pub struct NodeRegistered {
    /// Cluster.
    pub cluster: Pubkey,
    /// Node index.
    pub index: u8,
    /// X25519 transport key.
    pub transport_key: [u8; 32],
    /// Slot.
    pub slot: u64,
}

/// A DKG step by a node.
#[event]
pub struct DkgStep {
    /// Cluster.
    pub cluster: Pubkey,
    /// Node index.
    pub index: u8,
    /// Step.
    pub step: DkgStepKind,
    /// Slot.
    pub slot: u64,
}

/// What a [`DkgStep`] reports. (Before the enum, `step` was the number 1, 2
/// or 3; the byte is now the variant's index, 0, 1 or 2.)
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum DkgStepKind {
    /// The node posted its round-1 package.
    Round1,
    /// The node posted round-2 packages.
    Round2,
    /// The node confirmed the cluster key.
    Confirmed,
}

/// All nodes confirmed the same cluster key.
#[event]
pub struct ClusterReady {
    /// Cluster.
    pub cluster: Pubkey,
    /// Cluster key `P`.
    pub cluster_key: [u8; 32],
    /// Slot.
    pub slot: u64,
}

/// The DKG failed: confirmations disagreed.
#[event]
pub struct DkgFailed {
    /// Cluster.
    pub cluster: Pubkey,
    /// Bit `i − 1` set for every node whose confirmation is not the one a
    /// strict majority posted (every node when there is no strict majority).
    pub disagreeing: u16,
    /// Slot.
    pub slot: u64,
}

/// A node complained that another node's round-2 package to it is faulty,
/// revealing its ephemeral secret for the attempt; the cluster's DKG
/// attempt fails. The verdict (which of the two is at fault) is computed
/// off-chain from public data by `encrypted_ixs::dkg::verify_complaint`.
#[event]
pub struct DkgComplaint {
    /// Cluster.
    pub cluster: Pubkey,
    /// The complaining node.
    pub complainer: u8,
    /// The accused node.
    pub accused: u8,
    /// The DKG attempt.
    pub attempt: u32,
    /// Slot.
    pub slot: u64,
}

/// A node's contribution was verified and stored.
#[event]
pub struct ContributionAccepted {
    /// Computation.
    pub computation: Pubkey,
    /// Node index.
    pub node: u8,
    /// Contributions now stored.
    pub count: u8,
    /// Slot.
    pub slot: u64,
}

/// A node's contribution failed verification: the node is named and its fault
/// counted on the cluster.
#[event]
pub struct ContributionRejected {
    /// Computation.
    pub computation: Pubkey,
    /// The faulty node.
    pub node: u8,
    /// Its authority.
    pub authority: Pubkey,
    /// The first group whose proof failed.
    pub group: u8,
    /// Slot.
    pub slot: u64,
}

/// The callback combined the contributions: the recipient's capsules.
#[event]
pub struct ShareCompleted {
    /// Computation (now closed).
    pub computation: Pubkey,
    /// Share result account.
    pub share_result: Pubkey,
    /// Record.
    pub record: Pubkey,
    /// Record version the capsules open.
    pub record_version: u32,
    /// Recipient key.
    pub recipient: [u8; 32],
    /// Groups, in order.
    pub groups: Vec<u8>,
    /// One capsule per group.
    pub capsules: Vec<CapsuleData>,
    /// Contributing nodes.
    pub contributors: Vec<u8>,
    /// Node that posted the callback.
    pub finalizer: u8,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}
