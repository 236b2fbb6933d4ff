//! Values as encrypted bits: the ciphertexts, the bit proof, and the
//! weighted sums a study combines them into.

use borsh::{BorshDeserialize, BorshSerialize};

use super::*;
use crate::error::{Error, Result};
use crate::point::{msm_bytes, Point, BASEPOINT};

/// Most bits of one value.
pub const MAX_BITS: u8 = 40;

/// A field's 32-byte id: `SHA-256("medshare/v2/stats-field" ‖ name)`, for
/// names such as `age` or `condition:44054006`.
pub fn field_id(name: &str) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[tags::STATS_FIELD, name.as_bytes()]).to_bytes()
}

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
    /// Which field: SHA-256 of its name ([`field_id`]).
    pub field: [u8; 32],
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

/// Every value proof's statement starts with what it is bound to: `tag`,
/// the context, which part (`label`, `part`), the cluster key.
pub(super) fn value_statement(
    tag: &[u8],
    ctx: &ValueContext,
    label: &[u8],
    part: &[u8],
    key: &Point,
) -> Transcript {
    let mut tr = Transcript::new(tag);
    tr.append(b"program", &ctx.program_id);
    tr.append(b"cluster", &ctx.cluster);
    tr.append(b"record", &ctx.record);
    tr.append(b"owner", &ctx.owner);
    tr.append(b"field", &ctx.field);
    tr.append(label, part);
    tr.append(b"P", &key.0);
    tr
}

pub(super) fn bit_statement(ctx: &ValueContext, key: &Point, bit: u8, ct: &ElGamal) -> Transcript {
    let mut tr = value_statement(tags::STATS_BIT, ctx, b"bit", &[bit], key);
    tr.append(b"R", &ct.r.0);
    tr.append(b"C", &ct.c.0);
    tr
}

pub(super) fn bit_challenge(mut tr: Transcript, a: [&Point; 4]) -> Challenge {
    tr.append(b"A0", &a[0].0);
    tr.append(b"A0'", &a[1].0);
    tr.append(b"A1", &a[2].0);
    tr.append(b"A1'", &a[3].0);
    tr.challenge()
}

pub(super) fn xor16(a: &[u8; 16], b: &[u8; 16]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for k in 0..16 {
        out[k] = a[k] ^ b[k];
    }
    out
}

pub(super) fn wide(c: &[u8; 16]) -> [u8; 32] {
    Challenge(*c).scalar_bytes()
}

/// Verifies bit `bit` of a value under cluster key `key`. Any failure is
/// [`Error::InvalidBitProof`] naming the bit. Four two-term multiscalar
/// multiplications, one point subtraction and one `sol_sha256`.
pub fn verify_bit(ctx: &ValueContext, key: &Point, bit: u8, b: &EncryptedBit) -> Result<()> {
    verify_bit_proof(
        |ct| bit_statement(ctx, key, bit, ct),
        key,
        b,
        Error::InvalidBitProof { bit },
    )
}

/// The OR-proof's verification against the statement `statement(ct)`
/// (which binds the proof to its context, the ciphertext included); any
/// failure is `bad`.
pub(super) fn verify_bit_proof(
    statement: impl Fn(&ElGamal) -> Transcript,
    key: &Point,
    b: &EncryptedBit,
    bad: Error,
) -> Result<()> {
    // Both points in the prime-order subgroup: a torsion component ground
    // into a proof (a 1-in-8 chance per attempt) would spoil every sum it
    // joins.
    b.ct.r.validate().map_err(|_| bad.clone())?;
    b.ct.c.validate().map_err(|_| bad.clone())?;
    let p = &b.proof;
    let (c0, c1) = (wide(&p.c0), wide(&p.c1));
    let c_minus_b = b.ct.c.sub(&BASEPOINT).map_err(|_| bad.clone())?;
    let a0 = msm_bytes(&[p.z0, c0], &[BASEPOINT, b.ct.r.neg()]).map_err(|_| bad.clone())?;
    let a0p = msm_bytes(&[p.z0, c0], &[*key, b.ct.c.neg()]).map_err(|_| bad.clone())?;
    let a1 = msm_bytes(&[p.z1, c1], &[BASEPOINT, b.ct.r.neg()]).map_err(|_| bad.clone())?;
    let a1p = msm_bytes(&[p.z1, c1], &[*key, c_minus_b.neg()]).map_err(|_| bad.clone())?;
    let c = bit_challenge(statement(&b.ct), [&a0, &a0p, &a1, &a1p]);
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

/// `Σ_j 2^j·cts[j]`, by Horner's rule (point additions only; on-chain, the
/// add syscall).
pub fn weighted(cts: &[ElGamal]) -> Result<ElGamal> {
    let mut acc = ElGamal::ZERO;
    for ct in cts.iter().rev() {
        acc = acc.add(&acc)?.add(ct)?;
    }
    Ok(acc)
}

#[cfg(feature = "client")]
pub use client::*;

#[cfg(feature = "client")]
mod client {
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;
    use curve25519_dalek::traits::Identity;
    use rand_core::{CryptoRng, RngCore};
    use zeroize::Zeroizing;

    use super::*;
    use crate::stats::point;
    use crate::transcript::hedged_nonce;

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
            .map(|j| encrypt_bit(rng, ctx, key, &pk, j, (value >> j) & 1 == 1, value).map(|b| b.0))
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn encrypt_bit<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &ValueContext,
        key: &Point,
        pk: &EdwardsPoint,
        j: u8,
        bit: bool,
        whole: u64,
    ) -> Result<(EncryptedBit, Zeroizing<Scalar>)> {
        let position = value_statement(tags::STATS_BIT, ctx, b"bit", &[j], key);
        prove_bit(rng, pk, bit, whole, &position, |ct| {
            bit_statement(ctx, key, j, ct)
        })
    }

    /// A bit's ciphertext and OR-proof for the statement `statement(ct)`;
    /// `position` (the statement without the ciphertext) and `whole` (the
    /// value the bit belongs to) hedge the ciphertext's randomness.
    pub(crate) fn prove_bit<R: RngCore + CryptoRng>(
        rng: &mut R,
        pk: &EdwardsPoint,
        bit: bool,
        whole: u64,
        position: &Transcript,
        statement: impl Fn(&ElGamal) -> Transcript,
    ) -> Result<(EncryptedBit, Zeroizing<Scalar>)> {
        let b = EdwardsPoint::mul_base(&Scalar::ONE);
        // Every random scalar is hedged (fresh randomness hashed with a
        // secret and the statement): r, the ciphertext's, with the whole
        // value the bit belongs to (`whole`) and the bit's position; then
        // the proof's nonce and the simulated branch with r and the
        // ciphertext. A repeated RNG state alone then gives two different
        // values unrelated randomness (and the same value the same
        // ciphertexts), and never reuses a nonce across statements.
        let r = hedged_nonce(rng, b"r", &Scalar::from(whole), position);
        let big_r = EdwardsPoint::mul_base(&r);
        let big_c = pk * *r + if bit { b } else { EdwardsPoint::identity() };
        let ct = ElGamal {
            r: point(&big_r),
            c: point(&big_c),
        };
        let st = statement(&ct);
        let k = hedged_nonce(rng, b"k", &r, &st);
        // The simulated branch: a random challenge and response.
        let c_sim: [u8; 16] = hedged_nonce(rng, b"c_sim", &r, &st).to_bytes()[..16]
            .try_into()
            .expect("16 of 32 bytes");
        let z_sim = *hedged_nonce(rng, b"z_sim", &r, &st);
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
        let c = bit_challenge(st, [&point(&a0), &point(&a0p), &point(&a1), &point(&a1p)]);
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
        Ok((EncryptedBit { ct, proof }, r))
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
}
