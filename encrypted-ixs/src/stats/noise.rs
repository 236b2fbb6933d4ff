//! Differential-privacy noise: each node's sample, posted as proven bits
//! so that it is bounded, and the exact discrete Laplace sampler.

use super::*;
use crate::error::{Error, Result};
use crate::point::Point;

/// The offset that centres a node's noise: the node encrypts
/// `u = η + 2^(k−1)` as `k` bits, so `η = u − 2^(k−1)` lies in
/// `[−2^(k−1), 2^(k−1))` whatever bits it picks.
pub fn noise_offset(k: u8) -> u64 {
    1u64 << (k - 1)
}

/// Most bits of one noise sample (`|η| ≤ 2^39`).
pub const MAX_NOISE_BITS: u8 = 40;

pub(super) fn noise_position(
    ctx: &StudyContext,
    node: NodeIndex,
    key: &Point,
    bit: u8,
) -> Transcript {
    let mut tr = Transcript::new(tags::STATS_NOISE);
    tr.append(b"program", &ctx.program_id);
    tr.append(b"cluster", &ctx.cluster);
    tr.append(b"study", &ctx.study);
    tr.append(b"slice", &ctx.slice.to_le_bytes());
    tr.append(b"i", &node.get().to_le_bytes());
    tr.append(b"bit", &[bit]);
    tr.append(b"P", &key.0);
    tr
}

pub(super) fn noise_statement(
    ctx: &StudyContext,
    node: NodeIndex,
    key: &Point,
    bit: u8,
    ct: &ElGamal,
) -> Transcript {
    let mut tr = noise_position(ctx, node, key, bit);
    tr.append(b"R", &ct.r.0);
    tr.append(b"C", &ct.c.0);
    tr
}

/// Verifies bit `bit` of node `node`'s noise for one released aggregate
/// (`ctx.slice`): the same OR-proof as a value's bit ([`verify_bit`]),
/// bound to the study, the aggregate, the node and the position. A node's
/// noise for an aggregate is `Σ_j 2^j·E_j − (0, 2^(k−1)·B)` over its `k`
/// bits, so it lies in `[−2^(k−1), 2^(k−1))` by construction; and the
/// proofs make its `R` a point whose logarithm the node knows, so adding it
/// can never turn an aggregate's `R` into anything else (a record capsule's
/// `E`). Any failure is [`Error::InvalidNoise`] naming the node.
pub fn verify_noise_bit(
    ctx: &StudyContext,
    node: NodeIndex,
    key: &Point,
    bit: u8,
    b: &EncryptedBit,
) -> Result<()> {
    verify_bit_proof(
        |ct| noise_statement(ctx, node, key, bit, ct),
        key,
        b,
        Error::InvalidNoise { node },
    )
}

#[cfg(feature = "client")]
pub use client::*;

#[cfg(feature = "client")]
mod client {

    use rand_core::{CryptoRng, RngCore};

    use super::*;

    /// Node side: encrypts noise `eta` for one released aggregate
    /// (`ctx.slice`) as the `k` bits of `eta + 2^(k−1)`, each with its
    /// proof ([`verify_noise_bit`] at positions `0..k`).
    /// [`Error::ValueOutOfRange`] unless `−2^(k−1) ≤ eta < 2^(k−1)`;
    /// `1 ≤ k ≤` [`MAX_NOISE_BITS`].
    pub fn encrypt_noise_bits<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &StudyContext,
        node: NodeIndex,
        key: &Point,
        eta: i64,
        k: u8,
    ) -> Result<Vec<EncryptedBit>> {
        if k == 0 || k > MAX_NOISE_BITS {
            return Err(Error::InvalidBitWidth(k as usize));
        }
        let u = eta.wrapping_add(noise_offset(k) as i64) as u64;
        if eta < -(noise_offset(k) as i64) || u >> k != 0 {
            return Err(Error::ValueOutOfRange { value: u, bits: k });
        }
        let pk = key.decode_validated()?;
        (0..k)
            .map(|j| {
                let position = noise_position(ctx, node, key, j);
                prove_bit(rng, &pk, (u >> j) & 1 == 1, u, &position, |ct| {
                    noise_statement(ctx, node, key, j, ct)
                })
                .map(|b| b.0)
            })
            .collect()
    }

    /// Node side: one noise sample, drawn afresh from the discrete Laplace
    /// distribution of scale `scale_num/scale_den` conditioned on
    /// `−2^(k−1) ≤ η < 2^(k−1)` ([`noise_offset`]). Nothing derives it:
    /// once its bits are posted the node keeps nothing that could recompute
    /// it (a node that restarts midway posts the statistic again with a new
    /// sample). `1 ≤ k ≤` [`MAX_NOISE_BITS`], else
    /// [`Error::InvalidBitWidth`].
    pub fn noise_sample<R: RngCore + CryptoRng>(
        rng: &mut R,
        scale_num: u64,
        scale_den: u64,
        k: u8,
    ) -> Result<i64> {
        if k == 0 || k > MAX_NOISE_BITS {
            return Err(Error::InvalidBitWidth(k as usize));
        }
        let half = noise_offset(k) as i64;
        loop {
            let eta = sample_discrete_laplace(rng, scale_num, scale_den);
            if (-half..half).contains(&eta) {
                return Ok(eta);
            }
        }
    }

    /// A uniform integer in `[0, n)` (`n > 0`), by rejection.
    pub(crate) fn uniform_below<R: RngCore>(rng: &mut R, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = rng.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// Bernoulli(`num/den`), exactly.
    pub(crate) fn bernoulli<R: RngCore>(rng: &mut R, num: u64, den: u64) -> bool {
        uniform_below(rng, den) < num
    }

    /// Bernoulli(`exp(−num/den)`), exactly (Canonne, Kamath, Steinke 2020,
    /// Algorithm 1): integer arithmetic only, no floating point.
    pub(crate) fn bernoulli_exp<R: RngCore>(rng: &mut R, num: u64, den: u64) -> bool {
        if num <= den {
            let mut k: u64 = 1;
            loop {
                if !bernoulli(rng, num, den.saturating_mul(k)) {
                    return k % 2 == 1;
                }
                k += 1;
            }
        }
        for _ in 0..num / den {
            if !bernoulli_exp(rng, 1, 1) {
                return false;
            }
        }
        bernoulli_exp(rng, num % den, den)
    }

    /// A sample of the discrete Laplace distribution with scale
    /// `scale_num/scale_den`, `P(x) ∝ exp(−|x|·scale_den/scale_num)`,
    /// exactly (Canonne, Kamath, Steinke, *The Discrete Gaussian for
    /// Differential Privacy*, NeurIPS 2020, Algorithm 2): integer arithmetic
    /// only, so no floating-point artefact leaks the value it protects
    /// (Mironov, CCS 2012).
    pub fn sample_discrete_laplace<R: RngCore>(rng: &mut R, scale_num: u64, scale_den: u64) -> i64 {
        assert!(scale_num > 0 && scale_den > 0, "positive scale");
        loop {
            let u = uniform_below(rng, scale_num);
            if !bernoulli_exp(rng, u, scale_num) {
                continue;
            }
            let mut v: u64 = 0;
            while bernoulli_exp(rng, 1, 1) {
                v += 1;
            }
            let x = u + scale_num * v;
            let y = (x / scale_den) as i64;
            let negative = bernoulli(rng, 1, 2);
            if negative && y == 0 {
                continue;
            }
            return if negative { -y } else { y };
        }
    }
}
