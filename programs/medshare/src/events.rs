//! Events: one per state change, so a patient, a node or an auditor can follow
//! everything from the ledger. All carry the slot (and unix time where a person
//! reads it).

use anchor_lang::prelude::*;

use crate::state::{CapsuleData, Role};

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

/// What a [`ClusterLifecycle`] reports (same byte as the former `kind: u8`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum LifecycleChange {
    /// The admin restarted the DKG (a new attempt).
    DkgRestarted,
    /// The admin retired the cluster.
    Retired,
}

/// What a [`RecordChanged`] reports (same byte as the former `kind: u8`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecordChange {
    /// Created (version 1, no groups yet).
    Created,
    /// A new version started (groups to be written again).
    NewVersion,
    /// Closed.
    Closed,
}

/// What a [`RegistryChanged`] reports (same byte as the former `kind: u8`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum RegistryChange {
    /// The admin appointed an issuer.
    IssuerAppointed,
    /// The admin revoked an issuer.
    IssuerRevoked,
    /// An issuer registered a provider.
    ProviderRegistered,
    /// An issuer revoked a provider.
    ProviderRevoked,
}

/// What a [`ConsentChanged`] reports (same byte as the former `kind: u8`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ConsentChange {
    /// Granted (or granted again over a revoked or stale consent).
    Granted,
    /// Modified (groups, purpose, end).
    Modified,
    /// Revoked.
    Revoked,
    /// Closed (revoked if it was active; rent back to the owner).
    Closed,
}

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

/// An identity was registered or updated.
#[event]
pub struct IdentityUpdated {
    /// Wallet.
    pub wallet: Pubkey,
    /// Edwards form of its X25519 key.
    pub encryption_key: [u8; 32],
    /// Role.
    pub role: Role,
    /// Slot.
    pub slot: u64,
}

/// A record was created, updated (new version) or closed.
#[event]
pub struct RecordChanged {
    /// Record.
    pub record: Pubkey,
    /// Owner.
    pub owner: Pubkey,
    /// Author (the owner or a provider).
    pub author: Pubkey,
    /// Version after the change.
    pub version: u32,
    /// What changed.
    pub kind: RecordChange,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A field group was written.
#[event]
pub struct RecordGroupWritten {
    /// Record.
    pub record: Pubkey,
    /// Group.
    pub group: u8,
    /// Version.
    pub version: u32,
    /// Ciphertext length.
    pub ciphertext_len: u16,
    /// Slot.
    pub slot: u64,
}

/// A share was requested (a computation queued).
#[event]
pub struct ShareRequested {
    /// Computation.
    pub computation: Pubkey,
    /// Share result account that will hold the output.
    pub share_result: Pubkey,
    /// Cluster.
    pub cluster: Pubkey,
    /// Record.
    pub record: Pubkey,
    /// Who asked.
    pub requester: Pubkey,
    /// Consent the request was made under (default when the owner asked).
    pub consent: Pubkey,
    /// Recipient key (Edwards form).
    pub recipient: [u8; 32],
    /// Recipient wallet, if named.
    pub recipient_wallet: Pubkey,
    /// Groups.
    pub group_mask: u8,
    /// Expiry slot.
    pub expiry_slot: u64,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
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

/// An expired computation was cancelled by its requester.
#[event]
pub struct ShareCancelled {
    /// Computation.
    pub computation: Pubkey,
    /// Requester.
    pub requester: Pubkey,
    /// Slot.
    pub slot: u64,
}

/// A completed share result was closed (its rent returned to the requester).
#[event]
pub struct ShareClosed {
    /// Share result.
    pub share_result: Pubkey,
    /// The shared record.
    pub record: Pubkey,
    /// Requester (got the rent back).
    pub requester: Pubkey,
    /// Who closed it: the requester or the recipient wallet.
    pub by: Pubkey,
    /// Slot.
    pub slot: u64,
}

/// The provider registry changed: an issuer appointed or revoked, a provider
/// registered or revoked.
#[event]
pub struct RegistryChanged {
    /// Cluster.
    pub cluster: Pubkey,
    /// The issuer or provider concerned.
    pub subject: Pubkey,
    /// Who acted.
    pub by: Pubkey,
    /// What happened.
    pub kind: RegistryChange,
    /// Provider role, for provider changes.
    pub role: Option<crate::state::ProviderRole>,
    /// Provider validity end, for provider changes.
    pub valid_until: i64,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A consent was granted, modified, revoked or closed.
#[event]
pub struct ConsentChanged {
    /// Consent account.
    pub consent: Pubkey,
    /// Record.
    pub record: Pubkey,
    /// Grantee.
    pub grantee: Pubkey,
    /// Groups.
    pub group_mask: u8,
    /// Purpose.
    pub purpose: String,
    /// End time.
    pub expires_at: i64,
    /// What happened.
    pub kind: ConsentChange,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A pull request was refused; the refusal is recorded (the transaction
/// succeeds so that this event and the record's counter persist).
#[event]
pub struct PullRefused {
    /// Record.
    pub record: Pubkey,
    /// Who asked.
    pub requester: Pubkey,
    /// Groups asked for.
    pub group_mask: u8,
    /// The refusal, as the program's error code.
    pub reason: u32,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// The owner changed the record's provider policy.
#[event]
pub struct PolicyChanged {
    /// Record.
    pub record: Pubkey,
    /// Required provider roles (0 = none).
    pub required_roles: u8,
    /// Slot.
    pub slot: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn byte<T: AnchorSerialize>(v: T) -> Vec<u8> {
        let mut out = Vec::new();
        v.serialize(&mut out).unwrap();
        out
    }

    /// The kind enums encode as the single byte the former `kind: u8` held,
    /// so events already in the ledger still decode.
    #[test]
    fn kinds_keep_their_former_bytes() {
        assert_eq!(byte(RecordChange::Created), [0]);
        assert_eq!(byte(RecordChange::NewVersion), [1]);
        assert_eq!(byte(RecordChange::Closed), [2]);
        assert_eq!(byte(ConsentChange::Granted), [0]);
        assert_eq!(byte(ConsentChange::Modified), [1]);
        assert_eq!(byte(ConsentChange::Revoked), [2]);
        assert_eq!(byte(ConsentChange::Closed), [3]);
        assert_eq!(byte(RegistryChange::IssuerAppointed), [0]);
        assert_eq!(byte(RegistryChange::ProviderRevoked), [3]);
        assert_eq!(byte(LifecycleChange::DkgRestarted), [0]);
        assert_eq!(byte(LifecycleChange::Retired), [1]);
        // DkgStep's byte moved from 1..=3 to the variant index.
        assert_eq!(byte(DkgStepKind::Round1), [0]);
        assert_eq!(byte(DkgStepKind::Confirmed), [2]);
    }
}
