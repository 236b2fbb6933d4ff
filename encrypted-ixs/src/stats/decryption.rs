//! Threshold decryption of a closed study's aggregates, and reading the
//! released values back (discrete logarithms).

use borsh::{BorshDeserialize, BorshSerialize};

use super::*;
use crate::error::{Error, Result};
use crate::point::{msm_bytes, Point, BASEPOINT};

/// A node's partial decryption of one aggregate: `D_i = s_i·R` and the
/// Chaum–Pedersen proof `(c, z)` that `log_B V_i = log_R D_i` (80 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct PartialDecryption {
    /// `D_i = s_i·R`.
    pub d: Point,
    /// Challenge.
    pub c: [u8; 16],
    /// Response.
    pub z: [u8; 32],
}

/// What a partial decryption is bound to: one slice of one study.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct StudyContext {
    /// The MedShare program id.
    pub program_id: [u8; 32],
    /// The cluster.
    pub cluster: [u8; 32],
    /// The study account.
    pub study: [u8; 32],
    /// Which aggregate of the study.
    pub slice: u16,
}

pub(super) fn partial_statement(
    ctx: &StudyContext,
    node: NodeIndex,
    share: &Point,
    agg_r: &Point,
    d: &Point,
) -> Transcript {
    let mut tr = Transcript::new(tags::STATS_PARTIAL);
    tr.append(b"program", &ctx.program_id);
    tr.append(b"cluster", &ctx.cluster);
    tr.append(b"study", &ctx.study);
    tr.append(b"slice", &ctx.slice.to_le_bytes());
    tr.append(b"i", &node.get().to_le_bytes());
    tr.append(b"V", &share.0);
    tr.append(b"R", &agg_r.0);
    tr.append(b"D", &d.0);
    tr
}

/// Verifies node `node`'s partial decryption of the aggregate whose first
/// component is `agg_r`, against its verification share `V_i`. Any failure
/// is [`Error::InvalidPartialDecryption`] naming the node. Two two-term
/// multiscalar multiplications and one `sol_sha256`.
pub fn verify_partial(
    ctx: &StudyContext,
    node: NodeIndex,
    verification_share: &Point,
    agg_r: &Point,
    p: &PartialDecryption,
) -> Result<()> {
    let bad = Error::InvalidPartialDecryption { node };
    p.d.validate().map_err(|_| bad.clone())?;
    let c = wide(&p.c);
    let t1 =
        msm_bytes(&[p.z, c], &[BASEPOINT, verification_share.neg()]).map_err(|_| bad.clone())?;
    let t2 = msm_bytes(&[p.z, c], &[*agg_r, p.d.neg()]).map_err(|_| bad.clone())?;
    let mut tr = partial_statement(ctx, node, verification_share, agg_r, &p.d);
    tr.append(b"T1", &t1.0);
    tr.append(b"T2", &t2.0);
    if tr.challenge().0 != p.c {
        return Err(bad);
    }
    Ok(())
}

/// `m·B = C − Σ λ_i·D_i` from verified partials and their Lagrange
/// coefficients (checked by the caller with
/// [`crate::reencrypt::check_lagrange`]). One multiscalar multiplication.
pub fn combine_partials(
    agg: &ElGamal,
    coeffs: &[[u8; 32]],
    partial: impl Fn(usize) -> Point,
) -> Result<Point> {
    let n = coeffs.len();
    if n == 0 {
        return Err(Error::Encoding("one coefficient per partial decryption"));
    }
    if n >= crate::point::MSM_MAX {
        return Err(Error::TooManyContributions(n));
    }
    let s_r = crate::point::msm_with(n, |k| (coeffs[k], partial(k)))?;
    agg.c.sub(&s_r)
}

#[cfg(feature = "client")]
pub use client::*;

#[cfg(feature = "client")]
mod client {
    use std::collections::HashMap;

    use curve25519_dalek::edwards::CompressedEdwardsY;
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::Identity;
    use rand_core::{CryptoRng, RngCore};
    use zeroize::Zeroizing;

    use super::*;
    use crate::stats::{point, signed_scalar};
    use crate::transcript::hedged_nonce;

    /// Node side: partial decryption of aggregate `agg` with its share.
    pub fn partial_decrypt<R: RngCore + CryptoRng>(
        rng: &mut R,
        share: &crate::keys::KeyShare,
        ctx: &StudyContext,
        agg: &ElGamal,
    ) -> Result<PartialDecryption> {
        let rp = agg.r.decode_validated()?;
        let s = share.secret();
        let vs = share.verification_share();
        let d = point(&(rp * s));
        let base = partial_statement(ctx, share.index(), &vs, &agg.r, &d);
        let k = hedged_nonce(rng, b"k", s, &base);
        let t1 = point(&EdwardsPoint::mul_base(&k));
        let t2 = point(&(rp * *k));
        let mut tr = base;
        tr.append(b"T1", &t1.0);
        tr.append(b"T2", &t2.0);
        let c = tr.challenge();
        let z = Zeroizing::new(*k + c.scalar() * s);
        Ok(PartialDecryption {
            d,
            c: c.0,
            z: z.to_bytes(),
        })
    }

    /// `m` with `m·B = target` and `lo ≤ m ≤ hi`, by baby-step giant-step
    /// over the window (a noised slice can be negative or exceed the
    /// cohort).
    pub fn discrete_log_signed(target: &Point, lo: i64, hi: i64) -> Option<i64> {
        if hi < lo {
            return None;
        }
        let t = CompressedEdwardsY(target.0).decompress()?;
        let shift = signed_scalar(-lo);
        let shifted = point(&(t + EdwardsPoint::mul_base(&shift)));
        discrete_log(&shifted, (hi - lo) as u64).map(|m| m as i64 + lo)
    }

    /// `m` with `m·B = target` and `m ≤ max`, by baby-step giant-step:
    /// `⌈√(max+1)⌉` baby steps (a table of compressed points) and at most
    /// as many giant steps. `None` if no such `m`. For a slice sum, `max`
    /// is the cohort size.
    pub fn discrete_log(target: &Point, max: u64) -> Option<u64> {
        let t = CompressedEdwardsY(target.0).decompress()?;
        let m = ((max as f64 + 1.0).sqrt().ceil() as u64).max(1);
        let b = EdwardsPoint::mul_base(&Scalar::ONE);
        let mut table: HashMap<[u8; 32], u64> = HashMap::with_capacity(m as usize);
        let mut acc = EdwardsPoint::identity();
        for j in 0..m {
            table.entry(acc.compress().0).or_insert(j);
            acc += b;
        }
        // acc = m·B now.
        let mut g = t;
        for i in 0..=m {
            if let Some(j) = table.get(&g.compress().0) {
                let v = i * m + j;
                return (v <= max).then_some(v);
            }
            g -= acc;
        }
        None
    }

    /// The sum of a bit-sliced aggregate: `Σ_j 2^j·S_j` from the decrypted
    /// slices `S_j·B`, each at most `cohort`.
    pub fn sum_of_slices(slices: &[Point], cohort: u64) -> Option<u128> {
        let mut sum: u128 = 0;
        for (j, s) in slices.iter().enumerate() {
            let sj = discrete_log(s, cohort)?;
            sum += (sj as u128) << j;
        }
        Some(sum)
    }
}
