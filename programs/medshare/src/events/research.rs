//! Events of encrypted cohort statistics: consents, values, studies, the
//! nodes' partial decryptions and the release. None carries a value: only
//! who contributed to which study, and the released aggregates.

use anchor_lang::prelude::*;

use super::ConsentChange;

/// A research consent was granted or revoked.
#[event]
pub struct ResearchConsentChanged {
    /// The consent.
    pub consent: Pubkey,
    /// The record.
    pub record: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// Purpose.
    pub purpose: String,
    /// Field ids.
    pub fields: Vec<[u8; 32]>,
    /// End (unix time).
    pub expires_at: i64,
    /// Granted or revoked.
    pub kind: ConsentChange,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A research value is complete: every proof verified.
#[event]
pub struct ResearchValueSealed {
    /// The value account.
    pub value: Pubkey,
    /// The record.
    pub record: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// The cluster.
    pub cluster: Pubkey,
    /// Field id.
    pub field: [u8; 32],
    /// Bits.
    pub bits: u8,
    /// Histogram bits.
    pub bucket_bits: u8,
    /// Slot.
    pub slot: u64,
}

/// A study was opened.
#[event]
pub struct StudyOpened {
    /// The study.
    pub study: Pubkey,
    /// Its cluster.
    pub cluster: Pubkey,
    /// Its number in the cluster.
    pub number: u64,
    /// Who opened it.
    pub researcher: Pubkey,
    /// A verified provider with the researcher role.
    pub verified_researcher: bool,
    /// Purpose.
    pub purpose: String,
    /// Field id.
    pub field: [u8; 32],
    /// Bits.
    pub bits: u8,
    /// Histogram bits.
    pub bucket_bits: u8,
    /// Minimum cohort.
    pub min_cohort: u32,
    /// ε of the release in thousandths (0: no differential privacy).
    pub epsilon_milli: u32,
    /// Joining ends (unix time).
    pub closes_at: i64,
    /// Slot.
    pub slot: u64,
}

/// A record joined a study (its value is now in the study's sums).
#[event]
pub struct StudyJoined {
    /// The study.
    pub study: Pubkey,
    /// The record.
    pub record: Pubkey,
    /// Its owner.
    pub owner: Pubkey,
    /// The value counted.
    pub value: Pubkey,
    /// Cohort after joining.
    pub cohort: u32,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A record left an open study (its research consent was revoked or ended):
/// its value is subtracted from the sums.
#[event]
pub struct StudyLeft {
    /// The study.
    pub study: Pubkey,
    /// The record.
    pub record: Pubkey,
    /// Cohort after leaving.
    pub cohort: u32,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A study closed: its sums are final and the nodes may decrypt them.
#[event]
pub struct StudyClosed {
    /// The study.
    pub study: Pubkey,
    /// Cohort.
    pub cohort: u32,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A node's partial decryptions were verified and stored.
#[event]
pub struct StudyPartialsPosted {
    /// The study.
    pub study: Pubkey,
    /// The node.
    pub node: u8,
    /// Partial decryptions it has posted so far.
    pub posted: u16,
    /// Slot.
    pub slot: u64,
}

/// A node's partial decryption (or noise bit) failed verification: the
/// node is named, marked faulty on this study and its fault counted.
#[event]
pub struct StudyPartialRejected {
    /// The study.
    pub study: Pubkey,
    /// The faulty node.
    pub node: u8,
    /// Its authority.
    pub authority: Pubkey,
    /// The released statistic whose proof failed.
    pub slice: u16,
    /// A noise bit (`post_study_noise`), not a partial decryption.
    pub noise: bool,
    /// Slot.
    pub slot: u64,
}

/// A study's aggregates were decrypted: `m·B` per released statistic.
#[event]
pub struct StudyReleased {
    /// The study.
    pub study: Pubkey,
    /// Cohort.
    pub cohort: u32,
    /// ε of the release in thousandths (0: no noise).
    pub epsilon_milli: u32,
    /// The nodes whose partials were combined.
    pub contributors: Vec<u8>,
    /// `m·B` per released statistic.
    pub released: Vec<[u8; 32]>,
    /// Slot.
    pub slot: u64,
    /// Unix time.
    pub unix_time: i64,
}

/// A node's noise bits were verified (and, each statistic's once whole,
/// added to its aggregate).
#[event]
pub struct StudyNoisePosted {
    /// The study.
    pub study: Pubkey,
    /// The node.
    pub node: u8,
    /// Noise bits it has posted so far.
    pub posted: u16,
    /// Nodes whose noise is complete.
    pub complete_nodes: u8,
    /// Slot.
    pub slot: u64,
}
