//! Encrypted cohort statistics: values encrypted under the cluster key,
//! summed homomorphically, and only the sums ever decrypted, by `t` nodes.
//!
//! This module is the cryptography of issue 13; the program's study
//! accounts and instructions, the nodes' part and the CLI build on it.
//!
//! ## Values: exponential ElGamal, one ciphertext per bit
//!
//! A value `v < 2^k` is posted as `k` ciphertexts under the cluster key `P`,
//! one per bit `b_j` of `v`:
//!
//! ```text
//! (R_j, C_j) = (r_j·B, b_j·B + r_j·P),     v = Σ_j 2^j·b_j
//! ```
//!
//! with a proof per bit that `b_j ∈ {0, 1}` ([`BitProof`]). So `v` is in
//! `[0, 2^k)` by construction: nobody can poison a sum with a huge or
//! negative value. A 0/1 indicator is a 1-bit value.
//!
//! **Bit-sliced sums.** A study adds the ciphertexts of bit `j` of every
//! record into one aggregate `Σ_records (R_j, C_j)`, which encrypts `S_j`,
//! the number of records whose bit `j` is set. Each `S_j` is at most the
//! cohort size `n`, so decrypting it is a discrete logarithm in `[0, n]`
//! ([`discrete_log`]: baby-step giant-step, `2·⌈√(n+1)⌉` point operations),
//! and the sum is `Σ_j 2^j·S_j`. A sum of 40 bits over a million records is
//! then 40 logarithms below `2^20`, never one below `2^40`.
//!
//! ## The bit proof
//!
//! A disjunction (Cramer–Damgård–Schoenmakers, CRYPTO 1994) of two
//! Chaum–Pedersen proofs (CRYPTO 1992): the prover knows `r` with
//!
//! ```text
//! R = r·B  and  C = r·P          (b = 0)   or
//! R = r·B  and  C − B = r·P      (b = 1)
//! ```
//!
//! It proves the true branch and simulates the other; the challenges of the
//! two branches XOR to the Fiat–Shamir challenge ([`crate::transcript`], 128
//! bits), so the verifier, like the program's other verifiers, does no scalar
//! arithmetic:
//!
//! ```text
//! c = Hc("medshare/v2/stats-bit", program, cluster, record, owner, field, j,
//!        P, R, C, A0, A0', A1, A1')
//! verify: A0 = z0·B − c0·R,  A0' = z0·P − c0·C,
//!         A1 = z1·B − c1·R,  A1' = z1·P − c1·(C − B),  c0 ⊕ c1 = c
//! ```
//!
//! Proof: `(c0, c1, z0, z1)`, 96 bytes; with its ciphertext, 160 bytes per
//! bit. The challenge binds the program, the cluster, the record, its owner,
//! the field and the bit position: a bit proof is worth nothing for any other
//! record, field or position.
//!
//! ## Threshold decryption of an aggregate only
//!
//! For an aggregate `(R, C)`, node `i` posts `D_i = s_i·R` and a
//! Chaum–Pedersen proof that `log_B V_i = log_R D_i` ([`PartialDecryption`]),
//! bound to the study and the slice. With `t` valid partials and the
//! Lagrange coefficients ([`crate::reencrypt::check_lagrange`]),
//! `v·B = C − Σ λ_i·D_i` ([`combine_partials`]).
//!
//! Why revealing `s·R` is safe: every `R_j` a value adds came with a proof
//! of knowledge of its `r_j`, so the discrete log of an aggregate's `R` is
//! known to the records' owners together; it is never a record capsule's
//! ephemeral key `E` (whose logarithm only the capsule's author knows), so
//! `s·R` opens no capsule.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::{Error, Result};
use crate::keys::NodeIndex;
use crate::point::{msm_bytes, Point, BASEPOINT};
use crate::transcript::{tags, Challenge, Transcript};

/// Most bits of one value.
pub const MAX_BITS: u8 = 40;

/// An exponential-ElGamal ciphertext `(R, C) = (r·B, m·B + r·P)`: 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct ElGamal {
    /// `R = r·B`.
    pub r: Point,
    /// `C = m·B + r·P`.
    pub c: Point,
}

impl ElGamal {
    /// The encryption of 0 with randomness 0: the identity of [`ElGamal::add`].
    pub const ZERO: ElGamal = ElGamal {
        r: crate::point::IDENTITY,
        c: crate::point::IDENTITY,
    };

    /// The homomorphic sum: it encrypts the sum of the two plaintexts.
    pub fn add(&self, other: &ElGamal) -> Result<ElGamal> {
        Ok(ElGamal {
            r: self.r.add(&other.r)?,
            c: self.c.add(&other.c)?,
        })
    }
}

/// What a value's proofs are bound to.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct ValueContext {
    /// The MedShare program id.
    pub program_id: [u8; 32],
    /// The cluster whose key `P` the value is encrypted to.
    pub cluster: [u8; 32],
    /// The record the value belongs to.
    pub record: [u8; 32],
    /// The record's owner.
    pub owner: [u8; 32],
    /// Which field (the study's numbering).
    pub field: u8,
}

/// The OR-proof that a ciphertext encrypts 0 or 1: 96 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct BitProof {
    /// Challenge of the `b = 0` branch.
    pub c0: [u8; 16],
    /// Challenge of the `b = 1` branch.
    pub c1: [u8; 16],
    /// Response of the `b = 0` branch.
    pub z0: [u8; 32],
    /// Response of the `b = 1` branch.
    pub z1: [u8; 32],
}

/// One bit of a value: its ciphertext and proof (160 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct EncryptedBit {
    /// `(r·B, b·B + r·P)`.
    pub ct: ElGamal,
    /// `b ∈ {0, 1}`.
    pub proof: BitProof,
}

fn bit_statement(ctx: &ValueContext, key: &Point, bit: u8, ct: &ElGamal) -> Transcript {
    let mut tr = Transcript::new(tags::STATS_BIT);
    tr.append(b"program", &ctx.program_id);
    tr.append(b"cluster", &ctx.cluster);
    tr.append(b"record", &ctx.record);
    tr.append(b"owner", &ctx.owner);
    tr.append(b"field", &[ctx.field]);
    tr.append(b"bit", &[bit]);
    tr.append(b"P", &key.0);
    tr.append(b"R", &ct.r.0);
    tr.append(b"C", &ct.c.0);
    tr
}

fn bit_challenge(mut tr: Transcript, a: [&Point; 4]) -> Challenge {
    tr.append(b"A0", &a[0].0);
    tr.append(b"A0'", &a[1].0);
    tr.append(b"A1", &a[2].0);
    tr.append(b"A1'", &a[3].0);
    tr.challenge()
}

fn xor16(a: &[u8; 16], b: &[u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for k in 0..16 {
        out[k] = a[k] ^ b[k];
    }
    out
}

fn wide(c: &[u8; 16]) -> [u8; 32] {
    Challenge(*c).scalar_bytes()
}

/// Verifies bit `bit` of a value under cluster key `key`. Any failure is
/// [`Error::InvalidBitProof`] naming the bit. Four two-term multiscalar
/// multiplications, one point subtraction and one `sol_sha256`.
pub fn verify_bit(ctx: &ValueContext, key: &Point, bit: u8, b: &EncryptedBit) -> Result<()> {
    let bad = Error::InvalidBitProof { bit };
    let p = &b.proof;
    let (c0, c1) = (wide(&p.c0), wide(&p.c1));
    let c_minus_b = b.ct.c.sub(&BASEPOINT).map_err(|_| bad.clone())?;
    let a0 = msm_bytes(&[p.z0, c0], &[BASEPOINT, b.ct.r.neg()]).map_err(|_| bad.clone())?;
    let a0p = msm_bytes(&[p.z0, c0], &[*key, b.ct.c.neg()]).map_err(|_| bad.clone())?;
    let a1 = msm_bytes(&[p.z1, c1], &[BASEPOINT, b.ct.r.neg()]).map_err(|_| bad.clone())?;
    let a1p = msm_bytes(&[p.z1, c1], &[*key, c_minus_b.neg()]).map_err(|_| bad.clone())?;
    let c = bit_challenge(bit_statement(ctx, key, bit, &b.ct), [&a0, &a0p, &a1, &a1p]);
    if xor16(&p.c0, &p.c1) != c.0 {
        return Err(bad);
    }
    Ok(())
}

/// Verifies every bit of a value and returns them (bit `j` at index `j`).
/// At most [`MAX_BITS`] bits.
pub fn verify_value<'a>(
    ctx: &ValueContext,
    key: &Point,
    bits: &'a [EncryptedBit],
) -> Result<&'a [EncryptedBit]> {
    if bits.is_empty() || bits.len() > MAX_BITS as usize {
        return Err(Error::InvalidBitWidth(bits.len()));
    }
    for (j, b) in bits.iter().enumerate() {
        verify_bit(ctx, key, j as u8, b)?;
    }
    Ok(bits)
}

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

fn partial_statement(
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

    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::Identity;
    use rand_core::{CryptoRng, RngCore};
    use zeroize::Zeroizing;

    use super::*;
    use crate::transcript::hedged_nonce;

    fn point(p: &EdwardsPoint) -> Point {
        Point(p.compress().0)
    }

    /// Encrypts `value` as `bits` bit ciphertexts with their proofs, under
    /// cluster key `key` (validated first). `value` must fit `bits` bits
    /// ([`Error::ValueOutOfRange`]) and `bits` be `1..=MAX_BITS`.
    pub fn encrypt_value<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &ValueContext,
        key: &Point,
        value: u64,
        bits: u8,
    ) -> Result<Vec<EncryptedBit>> {
        if bits == 0 || bits > MAX_BITS {
            return Err(Error::InvalidBitWidth(bits as usize));
        }
        if value >> bits != 0 {
            return Err(Error::ValueOutOfRange { value, bits });
        }
        let pk = key.decode_validated()?;
        (0..bits)
            .map(|j| encrypt_bit(rng, ctx, key, &pk, j, (value >> j) & 1 == 1))
            .collect()
    }

    fn encrypt_bit<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &ValueContext,
        key: &Point,
        pk: &EdwardsPoint,
        j: u8,
        bit: bool,
    ) -> Result<EncryptedBit> {
        let b = EdwardsPoint::mul_base(&Scalar::ONE);
        // Fresh randomness per bit: r (the ciphertext's) and k (the proof's).
        let r = Zeroizing::new(Scalar::random(rng));
        let k = Zeroizing::new(Scalar::random(rng));
        let big_r = EdwardsPoint::mul_base(&r);
        let big_c = pk * *r + if bit { b } else { EdwardsPoint::identity() };
        let ct = ElGamal {
            r: point(&big_r),
            c: point(&big_c),
        };
        // The simulated branch: a random challenge and response.
        let mut c_sim = [0u8; 16];
        rng.fill_bytes(&mut c_sim);
        let z_sim = Scalar::random(rng);
        let cs = Challenge(c_sim).scalar();
        // The other branch's "C − b'·B" (b' = the bit it claims).
        let other = if bit { big_c } else { big_c - b };
        let sim_a = EdwardsPoint::mul_base(&z_sim) - big_r * cs;
        let sim_ap = pk * z_sim - other * cs;
        let real_a = EdwardsPoint::mul_base(&k);
        let real_ap = pk * *k;
        let (a0, a0p, a1, a1p) = if bit {
            (sim_a, sim_ap, real_a, real_ap)
        } else {
            (real_a, real_ap, sim_a, sim_ap)
        };
        let c = bit_challenge(
            bit_statement(ctx, key, j, &ct),
            [&point(&a0), &point(&a0p), &point(&a1), &point(&a1p)],
        );
        let c_real = xor16(&c.0, &c_sim);
        let z_real = Zeroizing::new(*k + Challenge(c_real).scalar() * *r);
        let proof = if bit {
            BitProof {
                c0: c_sim,
                c1: c_real,
                z0: z_sim.to_bytes(),
                z1: z_real.to_bytes(),
            }
        } else {
            BitProof {
                c0: c_real,
                c1: c_sim,
                z0: z_real.to_bytes(),
                z1: z_sim.to_bytes(),
            }
        };
        Ok(EncryptedBit { ct, proof })
    }

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

    /// The sum of the bit ciphertexts of several values, bit by bit: slice
    /// `j` encrypts how many values have bit `j` set.
    pub fn slice_sums(values: &[Vec<EncryptedBit>], bits: u8) -> Result<Vec<ElGamal>> {
        let mut out = vec![ElGamal::ZERO; bits as usize];
        for v in values {
            if v.len() != bits as usize {
                return Err(Error::InvalidBitWidth(v.len()));
            }
            for (acc, b) in out.iter_mut().zip(v) {
                *acc = acc.add(&b.ct)?;
            }
        }
        Ok(out)
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
