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
    discrete_log_signed, encrypt_for_study, encrypt_noise, encrypt_value, field_id,
    partial_decrypt, sample_discrete_laplace, StudyContext, ValueContext,
};
use medshare::instructions::{
    BitArg, NoiseArg, PartialArg, PostValueArgs, ProductProofArg, SealValueArgs, ZeroProofArg,
};
use medshare::state::{sensitivity, slice_count, Study, StudyStatus};
use rand_core::{CryptoRng, RngCore};
use solana_sdk::instruction::Instruction;
use solana_sdk::pubkey::Pubkey;

use crate::ix;

/// Slices per `post_research_value` transaction (160 bytes each: five fit
/// the 1,232-byte packet with a compute-budget instruction).
pub const SLICES_PER_TX: usize = 5;

/// Partial decryptions per `post_study_partials` transaction (80 bytes each).
pub const PARTIALS_PER_TX: usize = 10;

/// Noise shares per `post_study_noise` transaction (144 bytes each).
pub const NOISE_PER_TX: usize = 6;

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

/// The scale of each node's discrete Laplace noise per slice, as the
/// fraction `(num, den)`: `sensitivity / ε` with ε in thousandths.
pub fn noise_scale(study: &Study) -> Option<(u64, u64)> {
    (study.epsilon_milli > 0).then(|| {
        (
            sensitivity(study.bits, study.bucket_bits) * 1000,
            study.epsilon_milli as u64,
        )
    })
}

/// The standard deviation of one node's noise on a slice:
/// `√(2α)/(1 − α)` with `α = exp(−1/scale)`.
pub fn noise_sd(study: &Study) -> Option<f64> {
    noise_scale(study).map(|(num, den)| {
        let alpha = (-(den as f64) / num as f64).exp();
        (2.0 * alpha).sqrt() / (1.0 - alpha)
    })
}

/// A node's noise for every slice of a closed study with differential
/// privacy, from slice `from` on: one exact discrete Laplace sample per
/// slice at [`noise_scale`], encrypted under the cluster key with its proof,
/// as the transactions that post it (six per transaction). `None` for a
/// study without differential privacy.
#[allow(clippy::too_many_arguments)]
pub fn noise_transactions<R: RngCore + CryptoRng>(
    rng: &mut R,
    node: Pubkey,
    index: NodeIndex,
    cluster: Pubkey,
    cluster_key: &Point,
    study_key: Pubkey,
    study: &Study,
    from: usize,
) -> Result<Option<Vec<Vec<Instruction>>>, encrypted_ixs::Error> {
    let Some((num, den)) = noise_scale(study) else {
        return Ok(None);
    };
    let mut shares = Vec::with_capacity(study.aggregates.len());
    for j in from..study.aggregates.len() {
        let ctx = StudyContext {
            program_id: medshare::ID.to_bytes(),
            cluster: cluster.to_bytes(),
            study: study_key.to_bytes(),
            slice: j as u16,
        };
        let eta = sample_discrete_laplace(rng, num, den);
        shares.push(NoiseArg::from(encrypt_noise(
            rng,
            &ctx,
            index,
            cluster_key,
            eta,
        )?));
    }
    let i = index.get() as u8;
    Ok(Some(
        shares
            .chunks(NOISE_PER_TX)
            .enumerate()
            .map(|(k, chunk)| {
                vec![
                    ix::compute_budget(RESEARCH_COMPUTE_UNITS),
                    ix::post_study_noise(
                        node,
                        cluster,
                        i,
                        study_key,
                        (from + k * NOISE_PER_TX) as u16,
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

/// A released study's statistics. With differential privacy every slice
/// carries noise, so sums can be off (even negative) by the documented
/// noise; without it they are exact.
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
    /// Standard deviation of the noise on one slice (the sum of the noise
    /// of the `t` nodes whose noise completed; a node that stopped midway
    /// adds more on some slices).
    pub slice_noise_sd: Option<f64>,
    /// The released slices, `S_j` plus noise.
    pub slices: Vec<i64>,
}

/// Why a study's results cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResultsError {
    /// The study is not released yet.
    #[error("study is not released yet")]
    NotReleased,
    /// A released slice is not a count within the cohort and the noise
    /// window (a node posted noise far beyond its distribution, or a wrong
    /// release).
    #[error("released slice {0} is not a count within the cohort and the noise window")]
    BadSlice(usize),
}

/// How far outside `[0, cohort]` a noised slice is searched: 64 standard
/// scales for each of up to 16 nodes (a discrete Laplace sample exceeds
/// 64 scales with probability below `e^−64`).
fn noise_window(study: &Study) -> i64 {
    noise_scale(study).map_or(0, |(num, den)| {
        (encrypted_ixs::MAX_NODES as i64) * 64 * (num.div_ceil(den) as i64) + 16
    })
}

impl StudyResults {
    /// Recovers each slice by baby-step giant-step (within the cohort, and
    /// the noise window with differential privacy) and computes the
    /// statistics.
    pub fn of(study: &Study) -> Result<StudyResults, ResultsError> {
        if study.status != StudyStatus::Released {
            return Err(ResultsError::NotReleased);
        }
        let n = study.cohort as u64;
        let w = noise_window(study);
        let counts = study
            .released
            .iter()
            .enumerate()
            .map(|(j, p)| {
                discrete_log_signed(&Point(*p), -w, n as i64 + w).ok_or(ResultsError::BadSlice(j))
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let bits = study.bits as usize;
        let weighted = |s: &[i64]| {
            s.iter()
                .enumerate()
                .map(|(j, c)| (*c as i128) << j)
                .sum::<i128>()
        };
        let sum = weighted(&counts[..bits]);
        let sum_of_squares = (bits > 1).then(|| weighted(&counts[bits..3 * bits]));
        let mean = if n == 0 { 0.0 } else { sum as f64 / n as f64 };
        let variance = sum_of_squares.map(|sq| {
            if n == 0 {
                0.0
            } else {
                sq as f64 / n as f64 - mean * mean
            }
        });
        let histogram = (study.bucket_bits > 0).then(|| counts[3 * bits..].to_vec());
        let t_noise = study.noise_done.count_ones() as f64;
        Ok(StudyResults {
            count: n,
            sum,
            sum_of_squares,
            mean,
            variance,
            histogram,
            epsilon: (study.epsilon_milli > 0).then(|| study.epsilon_milli as f64 / 1000.0),
            slice_noise_sd: noise_sd(study).map(|sd| sd * t_noise.sqrt()),
            slices: counts,
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

    /// A released slice is read within the cohort (exact) or the noise
    /// window (with differential privacy, negative included); one beyond it
    /// is reported, naming the slice, never misread.
    #[test]
    fn test_released_slices_read_or_reported() {
        let exact = StudyResults::of(&released(1, 10, 0, &[7])).unwrap();
        assert_eq!((exact.count, exact.sum, exact.epsilon), (10, 7, None));
        assert_eq!(
            StudyResults::of(&released(1, 10, 0, &[11])),
            Err(ResultsError::BadSlice(0))
        );
        // ε = 1 on an indicator: scale 1, window 16·64·1 + 16 = 1,040.
        let noisy = StudyResults::of(&released(1, 10, 1_000, &[-40])).unwrap();
        assert_eq!((noisy.sum, noisy.epsilon), (-40, Some(1.0)));
        assert_eq!(
            StudyResults::of(&released(1, 10, 1_000, &[10 + 1_041])),
            Err(ResultsError::BadSlice(0))
        );
        let mut open = released(1, 10, 0, &[7]);
        open.status = StudyStatus::Closed;
        assert_eq!(StudyResults::of(&open), Err(ResultsError::NotReleased));
    }
}
