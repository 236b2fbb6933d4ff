//! A study's differential privacy: each released statistic's noise plan,
//! its standard deviation and δ, as `stats show` states them.

use medshare::state::{NoisePlan, Statistic, Study};

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

/// The flat noise bits `[start, end)` of each statistic in a node's
/// sequence.
pub(super) fn noise_spans(plan: &[NoisePlan]) -> Vec<(usize, usize)> {
    plan.iter()
        .scan(0usize, |at, p| {
            let start = *at;
            *at += p.bits as usize;
            Some((start, *at))
        })
        .collect()
}

/// Nodes whose noise on a statistic is in its aggregate: those that posted
/// its last bit (flat bit `end − 1`; a statistic's noise joins only whole).
pub(super) fn noisy_nodes(study: &Study, end: usize) -> u32 {
    study
        .noise_progress
        .iter()
        .filter(|p| **p as usize >= end)
        .count() as u32
}

/// Every released statistic's differential privacy (empty without): its ε
/// share, scale, bound, δ, and the noise it carries from the nodes that
/// posted some (at least `t`, the nodes a release waits for).
pub fn privacy_report(study: &Study, t: u8) -> Vec<StatisticNoise> {
    let plan = noise_plan(study);
    let spans = noise_spans(&plan);
    plan.iter()
        .zip(spans)
        .map(|(p, (_, end))| {
            let nodes = noisy_nodes(study, end).max(t as u32);
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
