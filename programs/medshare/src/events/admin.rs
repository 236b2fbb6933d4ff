//! What a cluster admin does: clusters created, nodes added, DKG restarts and retirement.

use anchor_lang::prelude::*;

/// A cluster was created.
#[event]
pub struct ClusterCreated {
    /// Cluster address.
    pub cluster: Pubkey,
    /// Its admin.
    pub admin: Pubkey,
    /// Threshold.
    pub threshold: u8,
    /// Size.
    pub size: u8,
    /// Slot.
    pub slot: u64,
}

/// The admin added a node authority.
#[event]
pub struct NodeAdded {
    /// Cluster.
    pub cluster: Pubkey,
    /// Node authority.
    pub authority: Pubkey,
    /// Its index.
    pub index: u8,
    /// Slot.
    pub slot: u64,
}

/// The admin gave a node's index to a new authority before the DKG
/// succeeded (the cluster registers it, then runs a new DKG attempt).
#[event]
pub struct NodeReplaced {
    /// Cluster.
    pub cluster: Pubkey,
    /// The index.
    pub index: u8,
    /// The authority replaced.
    pub old: Pubkey,
    /// The new authority.
    pub new: Pubkey,
    /// The new DKG attempt.
    pub dkg_attempt: u32,
    /// Slot.
    pub slot: u64,
}

/// The admin restarted a cluster's DKG (new attempt) or retired the cluster.
#[event]
pub struct ClusterLifecycle {
    /// Cluster.
    pub cluster: Pubkey,
    /// What changed.
    pub kind: LifecycleChange,
    /// The cluster's DKG attempt after the change.
    pub dkg_attempt: u32,
    /// Slot.
    pub slot: u64,
}

/// What a [`ClusterLifecycle`] reports (same byte as the former `kind: u8`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LifecycleChange {
    /// The admin restarted the DKG (a new attempt).
    DkgRestarted,
    /// The admin retired the cluster.
    Retired,
}
