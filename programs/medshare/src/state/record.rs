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
    /// Binding proof `(c ‖ z)`, 16 + 32 bytes, of the cluster capsule to this
    /// record and cluster key (verified on write).
    pub binding: [u8; 48],
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
        1 + 64 + 48 + 64 + 12 + 4 + ct_len
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
    /// The cluster key `P` when the record was created: what its capsules are
    /// sealed to and what their binding proofs name.
    pub cluster_key: [u8; 32],
    /// Groups of the current version, in the order written.
    #[max_len(0)]
    pub groups: Vec<StoredGroup>,
    /// PDA bump.
    pub bump: u8,
}

/// What a record's provider policy needs: its cluster and required roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordPolicy {
    /// The record's cluster (where provider entries live).
    pub cluster: Pubkey,
    /// The record's `required_roles`.
    pub required_roles: u8,
}

/// A record's fixed-size head, as it is laid out before the groups.
#[derive(AnchorDeserialize)]
struct RecordHead {
    _owner: Pubkey,
    cluster: Pubkey,
    _record_id: u64,
    _author: Pubkey,
    _version: u32,
    _created_at: i64,
    _updated_at: i64,
    required_roles: u8,
}

impl RecordPolicy {
    /// A decoded record's policy.
    pub fn of(record: &PatientRecord) -> Self {
        RecordPolicy {
            cluster: record.cluster,
            required_roles: record.required_roles,
        }
    }

    /// A record account's policy read from its data without decoding its
    /// groups (up to 5 ciphertexts): the discriminator, then the fixed head.
    pub fn from_account_data(data: &[u8]) -> Result<Self> {
        let disc = PatientRecord::DISCRIMINATOR;
        require!(
            data.len() >= disc.len() && data[..disc.len()] == *disc,
            anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch
        );
        let head = RecordHead::deserialize(&mut &data[disc.len()..])
            .map_err(|_| anchor_lang::error::ErrorCode::AccountDidNotDeserialize)?;
        Ok(RecordPolicy {
            cluster: head.cluster,
            required_roles: head.required_roles,
        })
    }
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

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn policy_read_from_the_head_matches_the_decoded_record() {
        let record = PatientRecord {
            owner: Pubkey::new_unique(),
            cluster: Pubkey::new_unique(),
            record_id: 7,
            author: Pubkey::new_unique(),
            version: 3,
            created_at: 1_700_000_000,
            updated_at: 1_700_000_100,
            required_roles: 0b1010,
            refused_pulls: 2,
            cluster_key: [9; 32],
            groups: vec![],
            bump: 254,
        };
        let mut data = Vec::new();
        record.try_serialize(&mut data).unwrap();
        assert_eq!(
            RecordPolicy::from_account_data(&data).unwrap(),
            RecordPolicy::of(&record)
        );
        assert_eq!(
            RecordPolicy::of(&record),
            RecordPolicy {
                cluster: record.cluster,
                required_roles: 0b1010
            }
        );
        // Another account type, or a short one, is refused.
        let mut other = data.clone();
        other[0] ^= 1;
        assert!(RecordPolicy::from_account_data(&other).is_err());
        assert!(RecordPolicy::from_account_data(&data[..20]).is_err());
    }
}
