//! What patients, providers and recipients do: identities, records, shares, consents and policies.

use anchor_lang::prelude::*;

use crate::state::Role;

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

/// An identity was closed (its rent went back to the wallet).
#[event]
pub struct IdentityClosed {
    /// Wallet.
    pub wallet: Pubkey,
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
