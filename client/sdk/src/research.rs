//! Encrypted cohort statistics, client side: the field catalogue, a
//! patient's value as the transactions that post it, a node's partial
//! decryptions of a closed study, and a released study's statistics.
//!
//! The protocol is in [`encrypted_ixs::stats`]; the accounts in
//! `medshare::state::research`.

use encrypted_ixs::keys::{KeyShare, NodeIndex};
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::lagrange_coefficients;
use encrypted_ixs::stats::{
    discrete_log_signed, encrypt_for_study, encrypt_noise_bits, encrypt_value, field_id,
    noise_sample, partial_decrypt, StudyContext, ValueContext,
};
use medshare::instructions::{
    BitArg, PartialArg, PostValueArgs, ProductProofArg, SealValueArgs, ZeroProofArg,
};
use medshare::state::{slice_count, NoisePlan, Statistic, Study, StudyStatus};
use rand_core::{CryptoRng, RngCore};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

use crate::ix;

/// Slices per `post_research_value` transaction (160 bytes each: five fit
/// the 1,232-byte packet with a compute-budget instruction).
pub const SLICES_PER_TX: usize = 5;

/// Partial decryptions per `post_study_partials` transaction (80 bytes each).
pub const PARTIALS_PER_TX: usize = 10;

/// Noise bits per `post_study_noise` transaction (160 bytes each, like a
/// value's slices).
pub const NOISE_BITS_PER_TX: usize = 5;

/// Compute units a client requests for a research transaction (the ELF's
/// figures are in the program README).
pub const RESEARCH_COMPUTE_UNITS: u32 = 1_400_000;

/// A field studies can use: its name, id and shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name: `age`, `weight`, `height`, `loinc:<code>`,
    /// `condition:<code>` or `medication:<code>`.
    pub name: String,
    /// [`field_id`] of the name.
    pub id: [u8; 32],
    /// Bits of its values.
    pub bits: u8,
    /// Histogram by the top `bucket_bits` bits (0: none).
    pub bucket_bits: u8,
}

/// Why a field name or value is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FieldError {
    /// Not in the catalogue.
    #[error("unknown research field '{0}' (age, weight, height, loinc:<code>, condition:<code>, medication:<code>)")]
    Unknown(String),
    /// The value does not fit the field.
    #[error("value {value} out of range for field '{field}' (0 to {max})")]
    OutOfRange {
        /// Field name.
        field: String,
        /// The value.
        value: u64,
        /// Largest value.
        max: u64,
    },
}

impl Field {
    /// The catalogue: `age` in years (7 bits, 8 buckets of 16 years),
    /// `weight` in kg and `height` in cm (8 bits, 8 buckets of 32),
    /// `loinc:<code>` an Observation's value rounded to an integer (12
    /// bits, 8 buckets of 512), `condition:<code>` and `medication:<code>`
    /// 0/1 indicators.
    pub fn parse(name: &str) -> Result<Field, FieldError> {
        let coded = |prefix: &str| {
            name.strip_prefix(prefix)
                .is_some_and(|c| !c.is_empty() && c.len() <= 40 && !c.contains(char::is_whitespace))
        };
        let (bits, bucket_bits) = match name {
            "age" => (7, 3),
            "weight" | "height" => (8, 3),
            _ if coded("loinc:") => (12, 3),
            _ if coded("condition:") || coded("medication:") => (1, 0),
            _ => return Err(FieldError::Unknown(name.to_string())),
        };
        Ok(Field {
            name: name.to_string(),
            id: field_id(name),
            bits,
            bucket_bits,
        })
    }

    /// Largest value.
    pub fn max(&self) -> u64 {
        (1u64 << self.bits) - 1
    }

    /// Checks a value fits.
    pub fn check(&self, value: u64) -> Result<(), FieldError> {
        if value > self.max() {
            return Err(FieldError::OutOfRange {
                field: self.name.clone(),
                value,
                max: self.max(),
            });
        }
        Ok(())
    }
}

/// The transactions that post `record`'s `value` of `field` (each a list
/// of instructions, compute budget first): slices five at a time, then the
/// seal with its square and bucket proofs.
pub fn value_transactions<R: RngCore + CryptoRng>(
    rng: &mut R,
    owner: Pubkey,
    record: Pubkey,
    cluster: Pubkey,
    cluster_key: &Point,
    field: &Field,
    value: u64,
) -> Result<Vec<Vec<Instruction>>, encrypted_ixs::Error> {
    let ctx = ValueContext {
        program_id: medshare::ID.to_bytes(),
        cluster: cluster.to_bytes(),
        record: record.to_bytes(),
        owner: owner.to_bytes(),
        field: field.id,
    };
    let (slices, seal) = if field.bits == 1 {
        let bits = encrypt_value(rng, &ctx, cluster_key, value, 1)?;
        (
            bits,
            SealValueArgs {
                square: None,
                bucket: None,
            },
        )
    } else {
        let h = (field.bucket_bits > 0).then_some(field.bucket_bits);
        let v = encrypt_for_study(rng, &ctx, cluster_key, value, field.bits, h)?;
        let mut all = v.value;
        all.extend(v.square);
        let bucket = v.bucket.map(|b| {
            all.extend(b.one_hot);
            let z = |p: encrypted_ixs::stats::ZeroProof| ZeroProofArg { c: p.c, z: p.z };
            (z(b.sums_to_one), z(b.matches_value))
        });
        let p = v.square_proof;
        (
            all,
            SealValueArgs {
                square: Some(ProductProofArg {
                    c: p.c,
                    z_a: p.z_a,
                    z_r: p.z_r,
                    z_t: p.z_t,
                }),
                bucket,
            },
        )
    };
    debug_assert_eq!(slices.len(), slice_count(field.bits, field.bucket_bits));
    let mut txs: Vec<Vec<Instruction>> = slices
        .chunks(SLICES_PER_TX)
        .enumerate()
        .map(|(k, chunk)| {
            vec![
                ix::compute_budget(RESEARCH_COMPUTE_UNITS),
                ix::post_research_value(
                    owner,
                    record,
                    PostValueArgs {
                        field: field.id,
                        bits: field.bits,
                        bucket_bits: field.bucket_bits,
                        offset: (k * SLICES_PER_TX) as u16,
                        slices: chunk.iter().map(|b| BitArg::from(*b)).collect(),
                    },
                ),
            ]
        })
        .collect();
    txs.push(vec![
        ix::compute_budget(RESEARCH_COMPUTE_UNITS),
        ix::seal_research_value(owner, record, cluster, &field.id, seal),
    ]);
    Ok(txs)
}

/// A node's partial decryptions of every aggregate of a closed study, as
/// the transactions that post them (ten per transaction).
pub fn partial_transactions<R: RngCore + CryptoRng>(
    rng: &mut R,
    node: Pubkey,
    share: &KeyShare,
    cluster: Pubkey,
    study_key: Pubkey,
    study: &Study,
    from: usize,
) -> Result<Vec<Vec<Instruction>>, encrypted_ixs::Error> {
    let index = share.index().get() as u8;
    let mut partials = Vec::with_capacity(study.aggregates.len());
    for (j, agg) in study.aggregates.iter().enumerate().skip(from) {
        let ctx = StudyContext {
            program_id: medshare::ID.to_bytes(),
            cluster: cluster.to_bytes(),
            study: study_key.to_bytes(),
            slice: j as u16,
        };
        partials.push(PartialArg::from(partial_decrypt(
            rng,
            share,
            &ctx,
            &(*agg).into(),
        )?));
    }
    Ok(partials
        .chunks(PARTIALS_PER_TX)
        .enumerate()
        .map(|(k, chunk)| {
            vec![
                ix::compute_budget(RESEARCH_COMPUTE_UNITS),
                ix::post_study_partials(
                    node,
                    cluster,
                    index,
                    study_key,
                    (from + k * PARTIALS_PER_TX) as u16,
                    chunk.to_vec(),
                ),
            ]
        })
        .collect())
}

/// Each released statistic's noise for a study with differential privacy
/// ([`medshare::state::noise_plan`]), in release order; empty without.
pub fn noise_plan(study: &Study) -> Vec<NoisePlan> {
    if study.epsilon_milli == 0 {
        return Vec::new();
    }
    medshare::state::noise_plan(study.bits, study.bucket_bits, study.epsilon_milli).collect()
}

/// The standard deviation of discrete Laplace noise of scale `num/den`:
/// `√(2α)/(1 − α)` with `α = exp(−den/num)` (before the truncation to the
/// bound, which only makes it smaller).
pub fn laplace_sd(num: u64, den: u64) -> f64 {
    let alpha = (-(den as f64) / num as f64).exp();
    (2.0 * alpha).sqrt() / (1.0 - alpha)
}

/// The δ of one statistic's noise: the probability that one honest node's
/// noise, discrete Laplace conditioned on `[−bound, bound)`, lands where a
/// change of one member's value could be told apart (within `shift` of the
/// bound): `P(η ≥ bound − shift) / P(−bound ≤ η < bound)`.
pub fn noise_delta(plan: &NoisePlan, bits: u8) -> f64 {
    let alpha = (-(plan.scale_den as f64) / plan.scale_num as f64).exp();
    let bound = plan.bound() as f64;
    let shift = plan.statistic.shift(bits) as f64;
    // P(η ≥ x) = α^x / (1 + α) for x ≥ 1.
    let tail = |x: f64| alpha.powf(x) / (1.0 + alpha);
    tail(bound - shift) / (1.0 - tail(bound) - tail(bound + 1.0))
}

/// One released statistic's differential privacy, as `stats show` states it.
#[derive(Clone, Debug, PartialEq)]
pub struct StatisticNoise {
    /// The statistic.
    pub statistic: Statistic,
    /// Its share of the study's ε.
    pub epsilon: f64,
    /// How far it moves when one member's value changes.
    pub shift: u64,
    /// Each node's noise scale.
    pub scale: f64,
    /// The standard deviation of the noise it carries (the nodes' together).
    pub sd: f64,
    /// No node's noise on it exceeds this (its proven bits).
    pub bound: u64,
    /// Nodes whose noise it carries (`t` until released).
    pub nodes: u32,
    /// δ of one honest node's noise on it ([`noise_delta`]).
    pub delta: f64,
}

/// The first noise bit of each statistic in a node's flat bit sequence.
fn noise_starts(plan: &[NoisePlan]) -> Vec<usize> {
    plan.iter()
        .scan(0usize, |at, p| {
            let start = *at;
            *at += p.bits as usize;
            Some(start)
        })
        .collect()
}

/// Nodes whose noise reached statistic `j` (they posted its bit 0, which
/// carries the offset): the noise on it is theirs.
fn noisy_nodes(study: &Study, start: usize) -> u32 {
    study
        .noise_progress
        .iter()
        .filter(|p| **p as usize > start)
        .count() as u32
}

/// Every released statistic's differential privacy (empty without): its ε
/// share, scale, bound, δ, and the noise it carries from the nodes that
/// posted some (at least `t`, the nodes a release waits for).
pub fn privacy_report(study: &Study, t: u8) -> Vec<StatisticNoise> {
    let plan = noise_plan(study);
    let starts = noise_starts(&plan);
    plan.iter()
        .zip(starts)
        .map(|(p, start)| {
            let nodes = noisy_nodes(study, start).max(t as u32);
            StatisticNoise {
                statistic: p.statistic,
                epsilon: p.epsilon_milli as f64 / 1000.0,
                shift: p.statistic.shift(study.bits),
                scale: p.scale_num as f64 / p.scale_den as f64,
                sd: laplace_sd(p.scale_num, p.scale_den) * (nodes as f64).sqrt(),
                bound: p.bound(),
                nodes,
                delta: noise_delta(p, study.bits),
            }
        })
        .collect()
}

/// The δ of a whole release: the statistics' δ added up, the histogram
/// counting its two moving buckets (0 without differential privacy).
pub fn release_delta(report: &[StatisticNoise]) -> f64 {
    let bucket = report
        .iter()
        .filter(|r| matches!(r.statistic, Statistic::Bucket(_)))
        .map(|r| r.delta)
        .fold(0.0, f64::max);
    report
        .iter()
        .filter(|r| !matches!(r.statistic, Statistic::Bucket(_)))
        .map(|r| r.delta)
        .sum::<f64>()
        + 2.0 * bucket
}

/// A node's noise for a closed study with differential privacy, from its
/// bit `from` on (over every statistic in release order): per statistic,
/// one discrete Laplace sample ([`noise_sample`]: seeded by the node's key
/// share, so a node that restarts midway continues the same sample) posted
/// as its proven bits ([`encrypt_noise_bits`]), as the transactions that
/// post them (five bits per transaction). `None` for a study without
/// differential privacy.
pub fn noise_transactions<R: RngCore + CryptoRng>(
    rng: &mut R,
    node: Pubkey,
    share: &KeyShare,
    cluster: Pubkey,
    study_key: Pubkey,
    study: &Study,
    from: usize,
) -> Result<Option<Vec<Vec<Instruction>>>, encrypted_ixs::Error> {
    let plan = noise_plan(study);
    if plan.is_empty() {
        return Ok(None);
    }
    let key = share.cluster_key();
    let mut bits = Vec::new();
    for (j, (p, start)) in plan.iter().zip(noise_starts(&plan)).enumerate() {
        if start + (p.bits as usize) <= from {
            continue;
        }
        let ctx = StudyContext {
            program_id: medshare::ID.to_bytes(),
            cluster: cluster.to_bytes(),
            study: study_key.to_bytes(),
            slice: j as u16,
        };
        let eta = noise_sample(share, &ctx, p.scale_num, p.scale_den, p.bits);
        let all = encrypt_noise_bits(rng, &ctx, share.index(), &key, eta, p.bits)?;
        let skip = from.saturating_sub(start);
        bits.extend(all.into_iter().skip(skip).map(BitArg::from));
    }
    let i = share.index().get() as u8;
    Ok(Some(
        bits.chunks(NOISE_BITS_PER_TX)
            .enumerate()
            .map(|(k, chunk)| {
                vec![
                    ix::compute_budget(RESEARCH_COMPUTE_UNITS),
                    ix::post_study_noise(
                        node,
                        cluster,
                        i,
                        study_key,
                        (from + k * NOISE_BITS_PER_TX) as u16,
                        chunk.to_vec(),
                    ),
                ]
            })
            .collect(),
    ))
}

/// The registry accounts that go with a study's joins and release: its
/// researcher's provider entry and that entry's issuer, for a study opened
/// by a verified researcher (`None` otherwise, or when the entry is gone:
/// the program then refuses what needs it).
pub async fn researcher_registry(
    chain: &dyn crate::chain::Chain,
    study: &medshare::state::Study,
) -> Result<ix::Registry, crate::chain::ChainError> {
    if !study.verified_researcher {
        return Ok(None);
    }
    let provider = medshare::pda::provider(&study.cluster, &study.researcher);
    Ok(
        crate::chain::fetch::<medshare::state::Provider>(chain, &provider)
            .await?
            .map(|p| (provider, medshare::pda::issuer(&study.cluster, &p.issuer))),
    )
}

/// The `release_study` transaction for the partials of `nodes` (node
/// indices, at least `t`).
pub fn release_transaction(
    signer: Pubkey,
    cluster: Pubkey,
    study: Pubkey,
    registry: ix::Registry,
    nodes: &[u8],
) -> Result<Vec<Instruction>, encrypted_ixs::Error> {
    let ids = nodes
        .iter()
        .map(|&i| NodeIndex::new(i as u16))
        .collect::<Result<Vec<_>, _>>()?;
    let lagrange = lagrange_coefficients(&ids)?
        .iter()
        .map(|s| s.to_bytes())
        .collect();
    Ok(vec![
        ix::compute_budget(RESEARCH_COMPUTE_UNITS),
        ix::release_study(signer, cluster, study, registry, nodes, lagrange),
    ])
}

/// A released study's statistics. With differential privacy every
/// statistic carries noise, so sums can be off (even negative) by the
/// documented noise; without it they are exact.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyResults {
    /// Records counted (public: who joined is on-chain).
    pub count: u64,
    /// `Σ v` (noised with differential privacy).
    pub sum: i128,
    /// `Σ v²` (values of more than one bit).
    pub sum_of_squares: Option<i128>,
    /// `Σ v / n`.
    pub mean: f64,
    /// Population variance `Σ v²/n − (Σ v/n)²` (values of more than one bit).
    pub variance: Option<f64>,
    /// Records per bucket (with a histogram), bucket `j` holding values
    /// `j·2^(bits−h) ..= (j+1)·2^(bits−h) − 1`.
    pub histogram: Option<Vec<i64>>,
    /// ε of the release (`None`: no differential privacy, exact figures).
    pub epsilon: Option<f64>,
    /// Each statistic's share of ε and its noise ([`privacy_report`]).
    pub noise: Vec<StatisticNoise>,
    /// δ of the release ([`release_delta`]; 0 without noise).
    pub delta: f64,
}

/// Why a study's results cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResultsError {
    /// The study is not released yet.
    #[error("study is not released yet")]
    NotReleased,
    /// A released statistic is not within its range and the nodes' noise
    /// bounds (a wrong release).
    #[error("released statistic {0} is not within its range and the noise bounds")]
    BadStatistic(usize),
}

impl StudyResults {
    /// Recovers each released statistic by baby-step giant-step, within
    /// its range for the cohort widened by the proven bound of every node's
    /// noise on it, and computes the statistics.
    pub fn of(study: &Study) -> Result<StudyResults, ResultsError> {
        if study.status != StudyStatus::Released {
            return Err(ResultsError::NotReleased);
        }
        let n = study.cohort as u64;
        let plan = noise_plan(study);
        let starts = noise_starts(&plan);
        let values = medshare::state::statistics(study.bits, study.bucket_bits)
            .enumerate()
            .map(|(j, stat)| {
                let top = n as i128 * stat.shift(study.bits) as i128;
                let w = plan.get(j).map_or(0, |p| {
                    noisy_nodes(study, starts[j]) as i128 * p.bound() as i128
                });
                let p = study.released.get(j).ok_or(ResultsError::BadStatistic(j))?;
                let (lo, hi) = (-w, top + w);
                discrete_log_signed(&Point(*p), lo as i64, hi as i64)
                    .ok_or(ResultsError::BadStatistic(j))
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let sum = values[0] as i128;
        let sum_of_squares = (study.bits > 1).then(|| values[1] as i128);
        let mean = if n == 0 { 0.0 } else { sum as f64 / n as f64 };
        let variance = sum_of_squares.map(|sq| {
            if n == 0 {
                0.0
            } else {
                sq as f64 / n as f64 - mean * mean
            }
        });
        let first_bucket = 1 + (study.bits > 1) as usize;
        let histogram = (study.bucket_bits > 0).then(|| values[first_bucket..].to_vec());
        let noise = privacy_report(study, 0);
        Ok(StudyResults {
            count: n,
            sum,
            sum_of_squares,
            mean,
            variance,
            histogram,
            epsilon: (study.epsilon_milli > 0).then(|| study.epsilon_milli as f64 / 1000.0),
            delta: release_delta(&noise),
            noise,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;

    fn released(bits: u8, cohort: u32, epsilon_milli: u32, counts: &[i64]) -> Study {
        let point = |m: i64| {
            let s = Scalar::from(m.unsigned_abs());
            let p = EdwardsPoint::mul_base(&if m < 0 { -s } else { s });
            p.compress().0
        };
        Study {
            researcher: Pubkey::new_unique(),
            cluster: Pubkey::new_unique(),
            number: 0,
            verified_researcher: false,
            purpose: "p".into(),
            field: field_id("condition:1"),
            bits,
            bucket_bits: 0,
            min_cohort: 10,
            closes_at: 0,
            status: StudyStatus::Released,
            cohort,
            joined: cohort,
            faulty: 0,
            partials_done: 2,
            epsilon_milli,
            noise_progress: [0; 16],
            noise_done: 0b11,
            bump: 0,
            partials_deposit: 0,
            aggregates: vec![Default::default(); counts.len()],
            released: counts.iter().map(|c| point(*c)).collect(),
        }
    }

    /// A released statistic is read within its range (exact) or widened
    /// by the proven noise bound of each node that noised it (negative
    /// included); one beyond is reported, naming the statistic, never
    /// misread.
    #[test]
    fn test_released_statistics_read_or_reported() {
        let exact = StudyResults::of(&released(1, 10, 0, &[7])).unwrap();
        assert_eq!((exact.count, exact.sum, exact.epsilon), (10, 7, None));
        assert_eq!((exact.noise.len(), exact.delta), (0, 0.0));
        assert_eq!(
            StudyResults::of(&released(1, 10, 0, &[11])),
            Err(ResultsError::BadStatistic(0))
        );
        // ε = 1 on an indicator: scale 1, bound 32 (6 bits) per node; two
        // nodes noised it: window ±64.
        let mut noisy = released(1, 10, 1_000, &[-40]);
        noisy.noise_progress[..2].copy_from_slice(&[6, 6]);
        let got = StudyResults::of(&noisy).unwrap();
        assert_eq!((got.sum, got.epsilon), (-40, Some(1.0)));
        assert_eq!(got.noise[0].bound, 32);
        assert_eq!(got.noise[0].nodes, 2);
        noisy.released = released(1, 10, 1_000, &[10 + 64]).released;
        assert_eq!(StudyResults::of(&noisy).unwrap().sum, 74);
        noisy.released = released(1, 10, 1_000, &[10 + 65]).released;
        assert_eq!(StudyResults::of(&noisy), Err(ResultsError::BadStatistic(0)));
        let mut open = released(1, 10, 0, &[7]);
        open.status = StudyStatus::Closed;
        assert_eq!(StudyResults::of(&open), Err(ResultsError::NotReleased));
    }

    /// An age study (7 bits, 8 buckets) releases ten statistics: the sum,
    /// the sum of squares and the buckets, read back as such.
    #[test]
    fn test_age_study_releases_its_ten_statistics() {
        let mut s = released(7, 3, 0, &[150, 8_100, 0, 1, 0, 2, 0, 0, 0, 0]);
        s.bucket_bits = 3;
        let r = StudyResults::of(&s).unwrap();
        assert_eq!((r.sum, r.sum_of_squares), (150, Some(8_100)));
        assert_eq!(r.mean, 50.0);
        assert_eq!(r.variance, Some(200.0));
        assert_eq!(r.histogram, Some(vec![0, 1, 0, 2, 0, 0, 0, 0]));
    }

    /// The noise of an age study at ε = 1, as the README states it: ε split
    /// in three (sum, squares, histogram), each statistic's scale from its
    /// own sensitivity, and bounds 2^14, 2^21 and 2^8 that keep each δ
    /// below 2^−40.
    #[test]
    fn test_age_study_noise_plan_at_epsilon_one() {
        let mut s = released(7, 10, 1_000, &[0; 10]);
        s.bucket_bits = 3;
        let report = privacy_report(&s, 2);
        assert_eq!(report.len(), 10);
        let row = |r: &StatisticNoise| (r.statistic, r.shift, r.scale.round() as u64, r.bound);
        assert_eq!(row(&report[0]), (Statistic::Sum, 127, 381, 1 << 14));
        assert_eq!(
            row(&report[1]),
            (Statistic::SumOfSquares, 16_129, 48_387, 1 << 21)
        );
        assert_eq!(row(&report[2]), (Statistic::Bucket(0), 1, 6, 1 << 8));
        assert!(report.iter().all(|r| r.epsilon == 0.333 && r.nodes == 2));
        assert!(
            report.iter().all(|r| r.delta < 2f64.powi(-40)),
            "{report:?}"
        );
        let bits: u32 = noise_plan(&s).iter().map(|p| p.bits as u32).sum();
        assert_eq!(bits, 15 + 22 + 8 * 9);
        assert!(release_delta(&report) < 4.0 * 2f64.powi(-40));
    }
}
