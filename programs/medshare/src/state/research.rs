//! Accounts of encrypted cohort statistics: a record's research
//! consent, its encrypted values, studies, study memberships and the nodes'
//! partial decryptions of a study's aggregates.
//!
//! The cryptography is [`encrypted_ixs::stats`]; the protocol is in its
//! module docs and in the program README, *Encrypted statistics*.

use anchor_lang::prelude::*;

use crate::constants::{
    MAX_PURPOSE_LEN, MAX_RESEARCH_FIELDS, MAX_STUDY_SLICES, MAX_STUDY_STATISTICS,
};
use crate::error::MedshareError;

/// What a study's node proofs (partial decryptions, noise bits) are bound
/// to: this program, the cluster, the study and the statistic's index.
pub fn study_context(
    cluster: &Pubkey,
    study: &Pubkey,
    statistic: usize,
) -> encrypted_ixs::stats::StudyContext {
    encrypted_ixs::stats::StudyContext {
        program_id: crate::ID.to_bytes(),
        cluster: cluster.to_bytes(),
        study: study.to_bytes(),
        slice: statistic as u16,
    }
}

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

/// What a study releases, once closed: one aggregate per statistic, each
/// combined homomorphically from the members' slices (`Σ_j 2^j·S_j`), so
/// the count behind each bit slice is never decrypted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Statistic {
    /// `Σ v`.
    Sum,
    /// `Σ v²` (values of more than one bit).
    SumOfSquares,
    /// The number of values in histogram bucket `j` (by the top
    /// `bucket_bits` bits).
    Bucket(u8),
}

impl Statistic {
    /// How far this statistic moves when one member's value is replaced
    /// by another (who joined is public; values are what differential
    /// privacy protects): `2^bits − 1`, its square, or 1 for a bucket.
    pub const fn shift(self, bits: u8) -> u64 {
        let max = (1u64 << bits) - 1;
        match self {
            Statistic::Sum => max,
            Statistic::SumOfSquares => max * max,
            Statistic::Bucket(_) => 1,
        }
    }

    /// The L1 sensitivity of the statistic's group: its shift, or 2 for the
    /// histogram as a whole (one bucket loses the record, another gains it).
    pub const fn sensitivity(self, bits: u8) -> u64 {
        match self {
            Statistic::Bucket(_) => 2,
            _ => self.shift(bits),
        }
    }
}

/// The statistics a study of this shape releases, in order: the sum, the
/// sum of squares (more than one bit), then every bucket.
pub fn statistics(bits: u8, bucket_bits: u8) -> impl Iterator<Item = Statistic> {
    let square = (bits > 1).then_some(Statistic::SumOfSquares);
    let buckets = if bucket_bits > 0 {
        1u16 << bucket_bits
    } else {
        0
    };
    core::iter::once(Statistic::Sum)
        .chain(square)
        .chain((0..buckets).map(|j| Statistic::Bucket(j as u8)))
}

/// How many aggregates a study of this shape releases.
pub const fn statistic_count(bits: u8, bucket_bits: u8) -> usize {
    let buckets = if bucket_bits > 0 {
        1usize << bucket_bits
    } else {
        0
    };
    1 + (bits > 1) as usize + buckets
}

/// How many groups the study's ε is split between, equally: the sum, the
/// sum of squares, the histogram (the histogram's buckets share one part,
/// its L1 sensitivity being 2 however many buckets there are).
pub const fn privacy_groups(bits: u8, bucket_bits: u8) -> u64 {
    1 + (bits > 1) as u64 + (bucket_bits > 0) as u64
}

/// `40·ln 2`, as `(27_726, 1_000)`: a noise bound `B` this many noise
/// scales past the shift leaves at most `2^−40` of an honest node's noise
/// where one value could be told from another (the δ of the release).
pub const NOISE_TAIL: (u64, u64) = (27_726, 1_000);

/// The differential-privacy noise of one released statistic: each node
/// draws discrete Laplace noise of scale `scale_num / scale_den`,
/// conditioned on `−bound ≤ η < bound`, and posts it as `bits` proven bits,
/// so no node can shift the statistic by more than `bound`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NoisePlan {
    /// The statistic.
    pub statistic: Statistic,
    /// Its share of ε, in thousandths.
    pub epsilon_milli: u64,
    /// Scale numerator: `sensitivity × groups × 1000`.
    pub scale_num: u64,
    /// Scale denominator: the study's ε in thousandths.
    pub scale_den: u64,
    /// Bits of each node's noise: `η + 2^(bits−1)` is posted bit by bit.
    pub bits: u8,
}

impl NoisePlan {
    /// `2^(bits−1)`: a node's noise lies in `[−bound, bound)`.
    pub const fn bound(&self) -> u64 {
        1u64 << (self.bits - 1)
    }
}

/// Each released statistic's noise for a study of this shape at ε
/// (`epsilon_milli > 0`), in release order: ε split equally between the
/// [`privacy_groups`], scale `sensitivity / ε_group`, and the bound the
/// smallest power of two at least `shift + 40·ln 2 · scale`.
pub fn noise_plan(
    bits: u8,
    bucket_bits: u8,
    epsilon_milli: u32,
) -> impl Iterator<Item = NoisePlan> {
    let groups = privacy_groups(bits, bucket_bits);
    let eps = (epsilon_milli as u64).max(1);
    statistics(bits, bucket_bits).map(move |statistic| {
        let scale_num = statistic.sensitivity(bits) * groups * 1000;
        // shift + ⌈scale · 40 ln 2⌉, in u128: scale_num is below 2^36.
        let tail =
            (scale_num as u128 * NOISE_TAIL.0 as u128).div_ceil(eps as u128 * NOISE_TAIL.1 as u128);
        let min = statistic.shift(bits) as u128 + tail;
        let k = (128 - (min - 1).leading_zeros()) as u8 + 1;
        NoisePlan {
            statistic,
            epsilon_milli: epsilon_milli as u64 / groups,
            scale_num,
            scale_den: eps,
            bits: k,
        }
    })
}

/// The largest cohort a study of this shape takes: every released
/// statistic stays at most `2^MAX_TOTAL_BITS` (so a reader recovers it by
/// one baby-step giant-step over that range and the nodes' noise bounds).
pub const fn max_cohort(bits: u8) -> u64 {
    let largest = if bits > 1 {
        Statistic::SumOfSquares.shift(bits)
    } else {
        Statistic::Sum.shift(bits)
    };
    (1u64 << crate::constants::MAX_TOTAL_BITS) / largest
}

/// Noise bits a node posts for a study with this plan, over every
/// statistic.
pub fn noise_total(plan: &[NoisePlan]) -> usize {
    plan.iter().map(|p| p.bits as usize).sum()
}

/// Where a node's flat noise bit `f` falls: the statistic, the bit within
/// that statistic's noise, and the statistic's first flat bit; `None` past
/// the end.
pub fn noise_bit_at(plan: &[NoisePlan], f: usize) -> Option<(usize, u8, usize)> {
    let mut start = 0;
    for (j, p) in plan.iter().enumerate() {
        let end = start + p.bits as usize;
        if f < end {
            return Some((j, (f - start) as u8, start));
        }
        start = end;
    }
    None
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
    /// Noise bits each node has added so far, over all statistics in
    /// release order ([`noise_plan`]; node `i` at `i − 1`).
    pub noise_progress: [u16; 16],
    /// Nodes whose noise is complete (bit `i − 1`); the noise phase ends
    /// when `t` are, and only then are partial decryptions taken.
    pub noise_done: u16,
    /// Each node's noise on the statistic it is posting, summed bit by bit
    /// and added to the statistic's aggregate only with its last bit (a
    /// node cut off midway adds nothing; node `i` at `i − 1`).
    pub noise_pending: [ElGamalData; 16],
    /// PDA bump.
    pub bump: u8,
    /// Lamports the researcher deposited per node at `open_study` for the
    /// rent of that node's partial decryptions (paid back to the node when
    /// it creates them; what is left returns with the study's rent).
    pub partials_deposit: u64,
    /// Encrypted sums: while `Open`, one per slice of the members' values;
    /// from `Closed` on, one per released statistic ([`statistics`]),
    /// combined from the slices, noise included once added.
    #[max_len(MAX_STUDY_SLICES)]
    pub aggregates: Vec<ElGamalData>,
    /// Once released: `m·B` per statistic.
    #[max_len(MAX_STUDY_STATISTICS)]
    pub released: Vec<[u8; 32]>,
}

impl Study {
    /// Checked wherever a handler writes one.
    pub fn invariant(&self) -> Result<()> {
        let n = slice_count(self.bits, self.bucket_bits);
        let m = statistic_count(self.bits, self.bucket_bits);
        let aggregates = if self.status == StudyStatus::Open {
            n
        } else {
            m
        };
        require!(
            self.aggregates.len() == aggregates
                && (self.released.is_empty() || self.released.len() == m)
                && self.cohort as u64 <= max_cohort(self.bits)
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
/// aggregates (one per released statistic), each verified when posted.
#[account(discriminator = &crate::state::layout::STUDY_PARTIALS)]
#[derive(InitSpace)]
pub struct StudyPartials {
    /// The study.
    pub study: Pubkey,
    /// The node's index.
    pub node: u8,
    /// PDA bump.
    pub bump: u8,
    /// One per released statistic, in order.
    #[max_len(MAX_STUDY_STATISTICS)]
    pub d: Vec<[u8; 32]>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::{MAX_STUDY_BITS, MAX_STUDY_NOISE_BITS, MAX_TOTAL_BITS};

    /// A study's capacity keeps its largest statistic below `2^40`: ages
    /// (squares up to 127²) take 68 million records, 12-bit lab values
    /// 65,568, indicators `2^40`.
    #[test]
    fn test_max_cohort_keeps_every_statistic_below_two_to_the_forty() {
        assert_eq!(max_cohort(7), 68_169_857);
        assert_eq!(max_cohort(12), 65_568);
        assert_eq!(max_cohort(1), 1 << 40);
        for bits in 1..=MAX_STUDY_BITS {
            let largest = if bits > 1 {
                Statistic::SumOfSquares
            } else {
                Statistic::Sum
            };
            let top = max_cohort(bits) as u128 * largest.shift(bits) as u128;
            assert!(top <= 1u128 << MAX_TOTAL_BITS, "{bits}");
            assert!(max_cohort(bits) >= crate::constants::MIN_COHORT as u64);
        }
    }

    /// Each statistic's noise bound is the smallest power of two at least
    /// its shift plus `40·ln 2` scales, and ε = 1 fits every shape in the
    /// noise-bit limit.
    #[test]
    fn test_noise_bounds_cover_shift_plus_forty_ln_two_scales() {
        for bits in 1..=MAX_STUDY_BITS {
            for h in [0u8, 3] {
                if bits == 1 && h > 0 || h > bits {
                    continue;
                }
                assert_eq!(noise_plan(bits, h, 1_000).count(), statistic_count(bits, h));
                for p in noise_plan(bits, h, 1_000) {
                    let scale = p.scale_num as f64 / p.scale_den as f64;
                    let min = p.statistic.shift(bits) as f64 + 40.0 * 2f64.ln() * scale;
                    assert!(p.bound() as f64 >= min, "{bits} {h} {p:?}");
                    assert!(((p.bound() / 2) as f64) < min + 1.0, "{bits} {h} {p:?}");
                    assert!(p.bits <= MAX_STUDY_NOISE_BITS, "{bits} {h} {p:?}");
                }
            }
        }
    }
}
