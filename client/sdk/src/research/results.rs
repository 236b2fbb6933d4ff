//! A released study's statistics, read back from the decrypted totals.

use encrypted_ixs::point::Point;
use encrypted_ixs::stats::discrete_log_signed;
use medshare::state::{Study, StudyStatus};

use super::*;

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
        let spans = noise_spans(&plan);
        let values = medshare::state::statistics(study.bits, study.bucket_bits)
            .enumerate()
            .map(|(j, stat)| {
                let top = n as i128 * stat.shift(study.bits) as i128;
                let w = plan.get(j).map_or(0, |p| {
                    noisy_nodes(study, spans[j].1) as i128 * p.bound() as i128
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
