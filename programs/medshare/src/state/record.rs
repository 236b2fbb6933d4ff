use anchor_lang::prelude::*;

use super::CapsuleData;
use crate::constants::{MAX_GROUPS, MAX_GROUP_CIPHERTEXT};
use crate::error::MedshareError;

/// One field group of a record's current version.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, PartialEq, Eq, Debug, InitSpace)]
pub struct StoredGroup {
    /// Group number.
    pub group: u8,
    /// Capsule for the cluster key (what the cluster re-encrypts).
    pub cluster_capsule: CapsuleData,
    /// Binding proof `(c, z)` of the cluster capsule to this record (verified on write).
    pub binding: [u8; 64],
    /// Capsule for the owner's own key.
    pub owner_capsule: CapsuleData,
    /// AEAD nonce.
    pub nonce: [u8; 12],
    /// ChaCha20-Poly1305 ciphertext with tag.
    #[max_len(MAX_GROUP_CIPHERTEXT)]
    pub ciphertext: Vec<u8>,
}

impl StoredGroup {
    /// Serialized size of a group with `ct_len` bytes of ciphertext.
    pub const fn size(ct_len: usize) -> usize {
        1 + 64 + 64 + 64 + 12 + 4 + ct_len
    }
}

/// A patient's encrypted record. The account grows as groups are written.
#[account]
#[derive(InitSpace)]
pub struct PatientRecord {
    /// The patient.
    pub owner: Pubkey,
    /// Cluster whose key the capsules are sealed to.
    pub cluster: Pubkey,
    /// Owner-chosen id (PDA seed).
    pub record_id: u64,
    /// Who wrote it: the owner, or a provider who co-signed.
    pub author: Pubkey,
    /// Version: starts at 1, +1 on every update.
    pub version: u32,
    /// Created (unix time).
    pub created_at: i64,
    /// Last change (unix time).
    pub updated_at: i64,
    /// Policy: if nonzero, shares and consents may only go to verified
    /// providers whose role bit is in this mask (doctor 1, hospital 2,
    /// insurer 4, researcher 8).
    pub required_roles: u8,
    /// Pull requests refused (no, revoked, expired or out-of-scope consent).
    pub refused_pulls: u32,
    /// Groups of the current version, in the order written.
    #[max_len(0)]
    pub groups: Vec<StoredGroup>,
    /// PDA bump.
    pub bump: u8,
}

impl PatientRecord {
    /// The group `g` of the current version.
    pub fn group(&self, g: u8) -> Option<&StoredGroup> {
        self.groups.iter().find(|s| s.group == g)
    }

    /// Account size for the current groups.
    pub fn space(&self) -> usize {
        8 + PatientRecord::INIT_SPACE
            + self
                .groups
                .iter()
                .map(|g| StoredGroup::size(g.ciphertext.len()))
                .sum::<usize>()
    }

    /// Checked at the end of every mutating handler.
    pub fn invariant(&self) -> Result<()> {
        require!(self.version >= 1, MedshareError::InvariantViolated);
        require!(
            self.groups.len() <= MAX_GROUPS,
            MedshareError::InvariantViolated
        );
        for (k, g) in self.groups.iter().enumerate() {
            require!(
                (g.group as usize) < MAX_GROUPS
                    && !self.groups[..k].iter().any(|h| h.group == g.group),
                MedshareError::InvariantViolated
            );
        }
        Ok(())
    }
}
