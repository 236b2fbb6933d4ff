use anchor_lang::prelude::*;

use super::{CapsuleData, CredentialIssuer, Provider};
use crate::constants::{MAX_GROUPS, MAX_GROUP_CIPHERTEXT, MAX_SHARE_GROUPS};
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
#[account(discriminator = &crate::state::layout::PATIENT_RECORD)]
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
    /// The record's life: unique among every record ever created at this
    /// address, in any cluster (the owner identity's counter, see
    /// [`crate::state::Identity::next_record_generation`]). A record closed
    /// and created again is a new life, so consents, computations and
    /// research values of the old one never apply to it.
    pub generation: u64,
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

/// A record's fixed-size head, as it is laid out before the groups: what the
/// node instructions check at every contribution and callback (which record
/// generation, which version, which policy) without decoding the groups.
#[derive(AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHead {
    /// The patient.
    pub owner: Pubkey,
    /// The record's cluster.
    pub cluster: Pubkey,
    /// Owner-chosen id.
    pub record_id: u64,
    /// Author.
    pub author: Pubkey,
    /// Current version.
    pub version: u32,
    /// Generation (see [`PatientRecord::generation`]).
    pub generation: u64,
    /// Created (unix time).
    pub created_at: i64,
    /// Last change (unix time).
    pub updated_at: i64,
    /// Required provider roles (0 = none).
    pub required_roles: u8,
}

impl RecordHead {
    /// A record account's head read from its data: the discriminator, then
    /// the fixed fields. The groups (up to 8 ciphertexts) are not decoded.
    pub fn from_account_data(data: &[u8]) -> Result<Self> {
        let disc = PatientRecord::DISCRIMINATOR;
        require!(
            data.len() >= disc.len() && data[..disc.len()] == *disc,
            anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch
        );
        RecordHead::deserialize(&mut &data[disc.len()..])
            .map_err(|_| error!(anchor_lang::error::ErrorCode::AccountDidNotDeserialize))
    }

    /// The record's provider policy.
    pub fn policy(&self) -> RecordPolicy {
        RecordPolicy {
            cluster: self.cluster,
            required_roles: self.required_roles,
        }
    }
}

impl RecordPolicy {
    /// A decoded record's policy.
    pub fn of(record: &PatientRecord) -> Self {
        RecordPolicy {
            cluster: record.cluster,
            required_roles: record.required_roles,
        }
    }

    /// Applies a record's provider policy to `wallet`, with its registry
    /// accounts as the instruction received them ([`RecordPolicy::admits`]).
    pub fn check(
        &self,
        wallet: &Pubkey,
        provider: Option<&Account<Provider>>,
        issuer: Option<&Account<CredentialIssuer>>,
        now: i64,
    ) -> std::result::Result<(), MedshareError> {
        self.admits(
            wallet,
            provider.map(|p| (p.key(), &**p)),
            issuer.map(|i| (i.key(), &**i)),
            now,
        )
    }

    /// Applies a record's provider policy to `wallet`: nothing to check when
    /// the record requires no role; otherwise `provider` must be `wallet`'s
    /// registry entry in the record's cluster (by address), valid at `now`,
    /// of an allowed role, from an active issuer (its entry, by address).
    pub fn admits(
        &self,
        wallet: &Pubkey,
        provider: Option<(Pubkey, &Provider)>,
        issuer: Option<(Pubkey, &CredentialIssuer)>,
        now: i64,
    ) -> std::result::Result<(), MedshareError> {
        if self.required_roles == 0 {
            return Ok(());
        }
        let expected = crate::pda::provider(&self.cluster, wallet);
        let (_, p) = provider
            .filter(|(key, _)| *key == expected)
            .ok_or(MedshareError::ProviderNotVerified)?;
        let i = issuer
            .filter(|(key, _)| *key == crate::pda::issuer(&self.cluster, &p.issuer))
            .map(|(_, i)| i);
        p.check(i, self.required_roles, now)
    }
}

impl PatientRecord {
    /// The record's head (what [`RecordHead::from_account_data`] reads).
    pub fn head(&self) -> RecordHead {
        RecordHead {
            owner: self.owner,
            cluster: self.cluster,
            record_id: self.record_id,
            author: self.author,
            version: self.version,
            generation: self.generation,
            created_at: self.created_at,
            updated_at: self.updated_at,
            required_roles: self.required_roles,
        }
    }

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

    /// The groups of `mask`, each present in the record's current version.
    pub fn groups_of(&self, mask: u8) -> Result<Vec<u8>> {
        require!(
            mask != 0 && (mask as usize) < (1 << MAX_GROUPS),
            MedshareError::InvalidGroup
        );
        let groups: Vec<u8> = (0..MAX_GROUPS as u8)
            .filter(|g| mask & (1 << g) != 0)
            .collect();
        require!(
            groups.len() <= MAX_SHARE_GROUPS,
            MedshareError::TooManyGroups
        );
        for g in &groups {
            require!(self.group(*g).is_some(), MedshareError::GroupMissing);
        }
        Ok(groups)
    }

    /// Checked at the end of every mutating handler.
    pub fn invariant(&self) -> Result<()> {
        require!(self.version >= 1, MedshareError::InvariantViolated);
        // Provider roles are a 4-bit mask (doctor, hospital, insurer, researcher).
        require!(self.required_roles < 16, MedshareError::InvariantViolated);
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
mod head_tests {
    use super::*;

    #[test]
    fn head_read_from_the_data_matches_the_decoded_record() {
        let record = PatientRecord {
            owner: Pubkey::new_unique(),
            cluster: Pubkey::new_unique(),
            record_id: 7,
            author: Pubkey::new_unique(),
            version: 3,
            generation: 11,
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
        let head = RecordHead::from_account_data(&data).unwrap();
        assert_eq!(
            head,
            RecordHead {
                owner: record.owner,
                cluster: record.cluster,
                record_id: 7,
                author: record.author,
                version: 3,
                generation: 11,
                created_at: 1_700_000_000,
                updated_at: 1_700_000_100,
                required_roles: 0b1010,
            }
        );
        assert_eq!(head.policy(), RecordPolicy::of(&record));
        assert_eq!(record.head(), head);
        // Another account type, or a short one, is refused.
        let mut other = data.clone();
        other[0] ^= 1;
        assert!(RecordHead::from_account_data(&other).is_err());
        assert!(RecordHead::from_account_data(&data[..20]).is_err());
    }
}
