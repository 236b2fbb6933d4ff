//! Accounts of encrypted cohort statistics (issue 13): a record's research
//! consent, its encrypted values, studies, study memberships and the nodes'
//! partial decryptions of a study's aggregates.
//!
//! The cryptography is [`encrypted_ixs::stats`]; the protocol is in its
//! module docs and in the program README, *Encrypted statistics*.

use anchor_lang::prelude::*;

use crate::constants::{MAX_PURPOSE_LEN, MAX_RESEARCH_FIELDS, MAX_STUDY_SLICES};
use crate::error::MedshareError;

/// An exponential-ElGamal ciphertext `(R, C)` as stored on-chain.
#[derive(
    AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, Default, InitSpace,
)]
pub struct ElGamalData {
    /// `R = r·B`.
    pub r: [u8; 32],
    /// `C = m·B + r·P`.
    pub c: [u8; 32],
}

impl From<ElGamalData> for encrypted_ixs::stats::ElGamal {
    fn from(e: ElGamalData) -> Self {
        encrypted_ixs::stats::ElGamal {
            r: e.r.into(),
            c: e.c.into(),
        }
    }
}

impl From<encrypted_ixs::stats::ElGamal> for ElGamalData {
    fn from(e: encrypted_ixs::stats::ElGamal) -> Self {
        ElGamalData { r: e.r.0, c: e.c.0 }
    }
}

/// How many ciphertexts ("slices") a value of `bits` bits carries, with its
/// square (for `bits > 1`) and a histogram by its top `bucket_bits` bits:
/// `bits + 2·bits + 2^bucket_bits`. An indicator (`bits = 1`) is its own
/// square and has no histogram.
pub const fn slice_count(bits: u8, bucket_bits: u8) -> usize {
    let b = bits as usize;
    let square = if b > 1 { 2 * b } else { 0 };
    let buckets = if bucket_bits > 0 {
        1usize << bucket_bits
    } else {
        0
    };
    b + square + buckets
}

/// The L1 sensitivity of a study's released slice vector when one record's
/// value is replaced by another (who joined is public; values are what
/// differential privacy protects): each value slice and each square slice
/// moves by at most 1, and the histogram by at most 2 (one bucket loses the
/// record, another gains it). Noise of scale `sensitivity / ε` per slice
/// makes the release ε-differentially private.
pub const fn sensitivity(bits: u8, bucket_bits: u8) -> u64 {
    let b = bits as u64;
    let square = if b > 1 { 2 * b } else { 0 };
    let buckets = if bucket_bits > 0 { 2 } else { 0 };
    b + square + buckets
}

/// The bit position slice `slice` of a value is proven at
/// ([`encrypted_ixs::stats`]: value `j`, square `64 + j`, bucket `128 + j`).
pub fn slice_position(bits: u8, slice: usize) -> u8 {
    let b = bits as usize;
    let square = if b > 1 { 2 * b } else { 0 };
    if slice < b {
        slice as u8
    } else if slice < b + square {
        encrypted_ixs::stats::SQUARE_BIT_BASE + (slice - b) as u8
    } else {
        encrypted_ixs::stats::BUCKET_BIT_BASE + (slice - b - square) as u8
    }
}

/// A record's research consent: its owner lets studies with this exact
/// purpose add the record's values of these fields, until `expires_at`.
/// Revocable; revoking removes the record from every open study it names.
#[account(discriminator = &crate::state::layout::RESEARCH_CONSENT)]
#[derive(InitSpace)]
pub struct ResearchConsent {
    /// The record.
    pub record: Pubkey,
    /// The record's generation when granted.
    pub record_generation: u64,
    /// The owner who granted it.
    pub owner: Pubkey,
    /// The record's cluster.
    pub cluster: Pubkey,
    /// The purpose a study must state, byte for byte.
    #[max_len(MAX_PURPOSE_LEN)]
    pub purpose: String,
    /// The only researcher whose studies the record joins
    /// (`Pubkey::default()`: any researcher).
    pub researcher: Pubkey,
    /// Field ids ([`encrypted_ixs::stats::field_id`]) studies may use.
    #[max_len(MAX_RESEARCH_FIELDS)]
    pub fields: Vec<[u8; 32]>,
    /// Unix time at which it ends.
    pub expires_at: i64,
    /// Revoked by the owner.
    pub revoked: bool,
    /// Granted (unix time).
    pub granted_at: i64,
    /// Studies the record joined under it.
    pub studies_joined: u32,
    /// Privacy budget in thousandths of ε: only studies with differential
    /// privacy, whose ε add up to at most this (sequential composition);
    /// 0 only when the owner chose exact releases explicitly (studies
    /// without noise are then admitted too).
    pub epsilon_budget_milli: u32,
    /// ε spent by the studies the record is in (thousandths); refunded when
    /// it leaves a study before the study closes.
    pub epsilon_spent_milli: u32,
    /// PDA bump.
    pub bump: u8,
}

impl ResearchConsent {
    /// Checks the consent lets a study by `researcher` with `purpose` use
    /// `field` at `now`.
    pub fn check(
        &self,
        researcher: &Pubkey,
        purpose: &str,
        field: &[u8; 32],
        now: i64,
    ) -> std::result::Result<(), MedshareError> {
        if self.revoked {
            return Err(MedshareError::ConsentRevoked);
        }
        if now >= self.expires_at {
            return Err(MedshareError::ConsentExpired);
        }
        if self.purpose != purpose
            || !self.fields.contains(field)
            || (self.researcher != Pubkey::default() && self.researcher != *researcher)
        {
            return Err(MedshareError::ConsentScope);
        }
        Ok(())
    }

    /// Checks the consent admits `study` now: [`ResearchConsent::check`],
    /// and with a privacy budget only a study with differential privacy.
    pub fn admits(&self, study: &Study, now: i64) -> std::result::Result<(), MedshareError> {
        self.check(&study.researcher, &study.purpose, &study.field, now)?;
        if self.epsilon_budget_milli != 0 && study.epsilon_milli == 0 {
            return Err(MedshareError::PrivacyBudgetExceeded);
        }
        Ok(())
    }

    /// Checked wherever a handler writes one.
    pub fn invariant(&self) -> Result<()> {
        require!(
            !self.fields.is_empty()
                && self.fields.len() <= MAX_RESEARCH_FIELDS
                && self.purpose.len() <= MAX_PURPOSE_LEN
                && self.record != Pubkey::default()
                && self.owner != Pubkey::default(),
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}

/// One encrypted value of a record for research: every slice's ciphertext,
/// each verified with its bit proof when posted, and the square and bucket
/// relations verified when sealed. Nothing in it is ever decrypted on its
/// own: the program only decrypts a closed study's aggregates.
#[account(discriminator = &crate::state::layout::RESEARCH_VALUE)]
pub struct ResearchValue {
    /// The record.
    pub record: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// The cluster whose key the value is encrypted to.
    pub cluster: Pubkey,
    /// The record's generation when the value was posted.
    pub record_generation: u64,
    /// The field id.
    pub field: [u8; 32],
    /// Bits of the value.
    pub bits: u8,
    /// Histogram by the top `bucket_bits` bits (0: none).
    pub bucket_bits: u8,
    /// Slices posted and verified so far (in order).
    pub posted: u16,
    /// Square and bucket relations verified: the value can join studies.
    pub sealed: bool,
    /// PDA bump.
    pub bump: u8,
    /// Study memberships that count this value and still exist (a value
    /// can be closed only when none does: a membership of an open study
    /// needs it to leave).
    pub memberships: u32,
    /// [`slice_count`] ciphertexts.
    pub slices: Vec<ElGamalData>,
}

impl ResearchValue {
    /// Account size (with discriminator) for a value with this shape.
    pub const fn space(bits: u8, bucket_bits: u8) -> usize {
        8 + 32 * 4 + 8 + 1 + 1 + 2 + 1 + 1 + 4 + 4 + 64 * slice_count(bits, bucket_bits)
    }
}

/// Where a study is in its life.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum StudyStatus {
    /// Records are joining.
    Open,
    /// Closed with at least `min_cohort` records: nodes post partial decryptions.
    Closed,
    /// `v·B` of every aggregate is published.
    Released,
}

/// A study: one field, its statistics, a minimum cohort, and the running
/// encrypted sums of every member's slices.
#[account(discriminator = &crate::state::layout::STUDY)]
#[derive(InitSpace)]
pub struct Study {
    /// Who opened it.
    pub researcher: Pubkey,
    /// The cluster.
    pub cluster: Pubkey,
    /// Number within the cluster (PDA seed).
    pub number: u64,
    /// Whether the researcher is a verified provider with the researcher
    /// role (checked when opened).
    pub verified_researcher: bool,
    /// Purpose; a record's consent must state the same.
    #[max_len(MAX_PURPOSE_LEN)]
    pub purpose: String,
    /// Field id.
    pub field: [u8; 32],
    /// Bits of the field's values.
    pub bits: u8,
    /// Histogram by top bits (0: none).
    pub bucket_bits: u8,
    /// The smallest cohort that may be released (≥ `MIN_COHORT`).
    pub min_cohort: u32,
    /// Unix time after which nobody may join.
    pub closes_at: i64,
    /// State.
    pub status: StudyStatus,
    /// Records counted now.
    pub cohort: u32,
    /// Records ever joined (removals included).
    pub joined: u32,
    /// Nodes found posting a wrong partial decryption (bit `i − 1` for node `i`).
    pub faulty: u16,
    /// Nodes whose partial decryptions are complete.
    pub partials_done: u16,
    /// Differential privacy: ε of the release in thousandths (0: none).
    pub epsilon_milli: u32,
    /// Noise slices each node has added so far (node `i` at `i − 1`).
    pub noise_progress: [u8; 16],
    /// Nodes whose noise is complete (bit `i − 1`); the noise phase ends
    /// when `t` are, and only then are partial decryptions taken.
    pub noise_done: u16,
    /// PDA bump.
    pub bump: u8,
    /// Lamports the researcher deposited per node at `open_study` for the
    /// rent of that node's partial decryptions (paid back to the node when
    /// it creates them; what is left returns with the study's rent).
    pub partials_deposit: u64,
    /// Encrypted sums, one per slice.
    #[max_len(MAX_STUDY_SLICES)]
    pub aggregates: Vec<ElGamalData>,
    /// Once released: `m·B` per slice.
    #[max_len(MAX_STUDY_SLICES)]
    pub released: Vec<[u8; 32]>,
}

impl Study {
    /// Checked wherever a handler writes one.
    pub fn invariant(&self) -> Result<()> {
        let n = slice_count(self.bits, self.bucket_bits);
        require!(
            self.aggregates.len() == n
                && (self.released.is_empty() || self.released.len() == n)
                && self.cohort <= self.joined
                && self.min_cohort >= crate::constants::MIN_COHORT,
            MedshareError::InvariantViolated
        );
        Ok(())
    }
}

/// A record's membership of a study: created when it joins, so a record
/// counts once per study.
#[account(discriminator = &crate::state::layout::STUDY_MEMBER)]
#[derive(InitSpace)]
pub struct StudyMember {
    /// The study.
    pub study: Pubkey,
    /// The record.
    pub record: Pubkey,
    /// The value counted.
    pub value: Pubkey,
    /// Removed (its consent was revoked before the study closed).
    pub removed: bool,
    /// Joined (unix time).
    pub joined_at: i64,
    /// PDA bump.
    pub bump: u8,
    /// Who paid the membership's rent (the researcher): gets it back at
    /// `close_study_member`.
    pub payer: Pubkey,
}

/// One node's partial decryptions `D_i = s_i·R` of a closed study's
/// aggregates, each verified when posted.
#[account(discriminator = &crate::state::layout::STUDY_PARTIALS)]
#[derive(InitSpace)]
pub struct StudyPartials {
    /// The study.
    pub study: Pubkey,
    /// The node's index.
    pub node: u8,
    /// PDA bump.
    pub bump: u8,
    /// One per slice, in order.
    #[max_len(MAX_STUDY_SLICES)]
    pub d: Vec<[u8; 32]>,
}
