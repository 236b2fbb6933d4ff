//! Relations between a value's ciphertexts: encrypts zero, products
//! (squares, filtered values) and histogram buckets.

use borsh::{BorshDeserialize, BorshSerialize};

use super::*;
use crate::error::{Error, Result};
use crate::point::{msm_bytes, Point, BASEPOINT};

/// Proof that a ciphertext encrypts 0: `(c, z)`, 48 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct ZeroProof {
    /// Challenge.
    pub c: [u8; 16],
    /// Response.
    pub z: [u8; 32],
}

pub(super) fn relation_statement(
    tag: &[u8],
    ctx: &ValueContext,
    what: &[u8],
    key: &Point,
) -> Transcript {
    value_statement(tag, ctx, b"what", what, key)
}

/// Verifies that `ct` encrypts 0 under `key`; `what` names the relation
/// (it is in the challenge, and in the error).
pub fn verify_zero(
    ctx: &ValueContext,
    key: &Point,
    what: &'static str,
    ct: &ElGamal,
    p: &ZeroProof,
) -> Result<()> {
    let bad = Error::InvalidRelationProof(what);
    let c = wide(&p.c);
    let t1 = msm_bytes(&[p.z, c], &[BASEPOINT, ct.r.neg()]).map_err(|_| bad.clone())?;
    let t2 = msm_bytes(&[p.z, c], &[*key, ct.c.neg()]).map_err(|_| bad.clone())?;
    let mut tr = relation_statement(tags::STATS_ZERO, ctx, what.as_bytes(), key);
    tr.append(b"R", &ct.r.0);
    tr.append(b"C", &ct.c.0);
    tr.append(b"T1", &t1.0);
    tr.append(b"T2", &t2.0);
    if tr.challenge().0 != p.c {
        return Err(bad);
    }
    Ok(())
}

/// Proof that `Y` encrypts `a·x` where `A` encrypts `a` and `X` encrypts
/// `x`: knowledge of `(a, r_a, t)` with `A = (r_a·B, a·B + r_a·P)` and
/// `Y = a·X + (t·B, t·P)`. `(c, z_a, z_r, z_t)`, 112 bytes. With `A = X` it
/// proves a square; with `A` a 0/1 indicator, a filtered value.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct ProductProof {
    /// Challenge.
    pub c: [u8; 16],
    /// Response for `a`.
    pub z_a: [u8; 32],
    /// Response for `r_a`.
    pub z_r: [u8; 32],
    /// Response for `t`.
    pub z_t: [u8; 32],
}

/// The statement of a product proof: relation, context, key and the three
/// ciphertexts.
pub(super) fn product_statement(
    ctx: &ValueContext,
    key: &Point,
    what: &str,
    cts: [&ElGamal; 3],
) -> Transcript {
    let mut tr = relation_statement(tags::STATS_PRODUCT, ctx, what.as_bytes(), key);
    let [a, x, y] = cts;
    // The six statement points enter as one SHA-256, so the transcript stays
    // within the fixed on-chain buffer.
    let statement = solana_sha256_hasher::hashv(&[&a.r.0, &a.c.0, &x.r.0, &x.c.0, &y.r.0, &y.c.0]);
    tr.append(b"AXY", statement.as_ref());
    tr
}

pub(super) fn product_challenge(
    ctx: &ValueContext,
    key: &Point,
    what: &str,
    cts: [&ElGamal; 3],
    k: [&Point; 4],
) -> Challenge {
    let mut tr = product_statement(ctx, key, what, cts);
    for (label, p) in [
        (&b"K1"[..], k[0]),
        (b"K2", k[1]),
        (b"K3", k[2]),
        (b"K4", k[3]),
    ] {
        tr.append(label, &p.0);
    }
    tr.challenge()
}

/// Verifies a [`ProductProof`] for `(A, X, Y)`; `what` names the relation
/// (in the challenge and in the error). Four multiscalar multiplications of
/// two or three terms and one SHA-256.
pub fn verify_product(
    ctx: &ValueContext,
    key: &Point,
    what: &'static str,
    a: &ElGamal,
    x: &ElGamal,
    y: &ElGamal,
    p: &ProductProof,
) -> Result<()> {
    let bad = Error::InvalidRelationProof(what);
    let c = wide(&p.c);
    let k1 = msm_bytes(&[p.z_r, c], &[BASEPOINT, a.r.neg()]).map_err(|_| bad.clone())?;
    let k2 =
        msm_bytes(&[p.z_a, p.z_r, c], &[BASEPOINT, *key, a.c.neg()]).map_err(|_| bad.clone())?;
    let k3 =
        msm_bytes(&[p.z_a, p.z_t, c], &[x.r, BASEPOINT, y.r.neg()]).map_err(|_| bad.clone())?;
    let k4 = msm_bytes(&[p.z_a, p.z_t, c], &[x.c, *key, y.c.neg()]).map_err(|_| bad.clone())?;
    if product_challenge(ctx, key, what, [a, x, y], [&k1, &k2, &k3, &k4]).0 != p.c {
        return Err(bad);
    }
    Ok(())
}

pub(super) fn cts(bits: &[EncryptedBit]) -> Vec<ElGamal> {
    bits.iter().map(|b| b.ct).collect()
}

/// Verifies that the value of bits `square` is the square of the value of
/// bits `value` (both already bit-verified): a [`ProductProof`] with
/// `A = X`, over the two [`weighted`] sums.
pub fn verify_square(
    ctx: &ValueContext,
    key: &Point,
    value: &[EncryptedBit],
    square: &[EncryptedBit],
    p: &ProductProof,
) -> Result<()> {
    verify_square_cts(ctx, key, &cts(value), &cts(square), p)
}

/// [`verify_square`] over the bits' ciphertexts only (the program keeps
/// the ciphertexts, not the bit proofs it already checked).
pub fn verify_square_cts(
    ctx: &ValueContext,
    key: &Point,
    value: &[ElGamal],
    square: &[ElGamal],
    p: &ProductProof,
) -> Result<()> {
    if square.len() != 2 * value.len() {
        return Err(Error::InvalidBitWidth(square.len()));
    }
    let x = weighted(value)?;
    let y = weighted(square)?;
    verify_product(ctx, key, "square", &x, &x, &y, p)
}

/// Bit position of a filtered value's bit `j` in its bit proofs.
pub const FILTERED_BIT_BASE: u8 = 192;

/// A value times a 0/1 indicator of the same record (another field): what a
/// study with a filter sums, so it can release, say, the mean age of the
/// patients with a condition (`Σ v·f / Σ f`) and nothing about the others.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct Filtered {
    /// The bits of `v·f` (as many as `v` has; positions `192 + j`).
    pub bits: Vec<EncryptedBit>,
    /// They encrypt `f·v`: a [`ProductProof`] with `A` the indicator.
    pub proof: ProductProof,
}

/// Verifies a filtered value: its bits, and that it is `flag · value` (the
/// value's and the flag's bits already verified, the flag under its own
/// field's context).
pub fn verify_filtered(
    ctx: &ValueContext,
    key: &Point,
    value: &[EncryptedBit],
    flag: &EncryptedBit,
    f: &Filtered,
) -> Result<()> {
    if f.bits.len() != value.len() {
        return Err(Error::InvalidBitWidth(f.bits.len()));
    }
    for (j, b) in f.bits.iter().enumerate() {
        verify_bit(ctx, key, FILTERED_BIT_BASE + j as u8, b)?;
    }
    let x = weighted(&cts(value))?;
    let y = weighted(&cts(&f.bits))?;
    verify_product(ctx, key, "filter", &flag.ct, &x, &y, &f.proof)
}

/// A value as a study takes it: its bits, its square's bits with the
/// square proof, and its histogram bucket if the study has one.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct StudyValue {
    /// The value's bits.
    pub value: Vec<EncryptedBit>,
    /// Its square's bits (twice as many).
    pub square: Vec<EncryptedBit>,
    /// `square` encrypts the square of `value`.
    pub square_proof: ProductProof,
    /// Its bucket.
    pub bucket: Option<Bucket>,
}

/// Verifies everything of a [`StudyValue`]: every bit, the square, the bucket
/// (by the top `bucket_bits` bits when the study has a histogram).
pub fn verify_study_value(
    ctx: &ValueContext,
    key: &Point,
    v: &StudyValue,
    bucket_bits: Option<u8>,
) -> Result<()> {
    verify_value(ctx, key, &v.value)?;
    if v.square.len() != 2 * v.value.len() {
        return Err(Error::InvalidBitWidth(v.square.len()));
    }
    for (j, b) in v.square.iter().enumerate() {
        verify_bit(ctx, key, SQUARE_BIT_BASE + j as u8, b)?;
    }
    verify_square(ctx, key, &v.value, &v.square, &v.square_proof)?;
    match (bucket_bits, &v.bucket) {
        (None, None) => Ok(()),
        (Some(h), Some(b)) => verify_bucket(ctx, key, &v.value, h, b),
        _ => Err(Error::InvalidRelationProof("bucket")),
    }
}

/// Bit position of the square's bit `j` in its bit proofs (so a value's bit
/// and its square's bit are never interchangeable).
pub const SQUARE_BIT_BASE: u8 = 64;

/// Bit position of one-hot entry `j` in a [`Bucket`]'s bit proofs.
pub const BUCKET_BIT_BASE: u8 = 128;

/// Most top bits a histogram buckets by (64 buckets).
pub const MAX_BUCKET_BITS: u8 = 6;

/// A value's histogram bucket, by its top `h` bits: a one-hot vector and
/// the two proofs that tie it to the value.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct Bucket {
    /// `2^h` bits, exactly one of them 1: the bucket.
    pub one_hot: Vec<EncryptedBit>,
    /// `Σ_j E_j − (0, B)` encrypts 0.
    pub sums_to_one: ZeroProof,
    /// `Σ_j j·E_j − (the value's top h bits)` encrypts 0.
    pub matches_value: ZeroProof,
}

pub(super) fn bucket_relations(
    value: &[ElGamal],
    e: &[ElGamal],
    h: u8,
) -> Result<(ElGamal, ElGamal)> {
    let k = value.len();
    let mut sum = ElGamal::ZERO;
    for ct in e {
        sum = sum.add(ct)?;
    }
    let one = ElGamal {
        r: crate::point::IDENTITY,
        c: BASEPOINT,
    };
    let sums_to_one = ElGamal {
        r: sum.r,
        c: sum.c.sub(&one.c)?,
    };
    // Σ_j j·E_j = Σ_m 2^m·(Σ_{j with bit m} E_j): h Horner steps.
    let by_bit: Vec<ElGamal> = (0..h)
        .map(|m| {
            e.iter()
                .enumerate()
                .filter(|(j, _)| (j >> m) & 1 == 1)
                .try_fold(ElGamal::ZERO, |acc, (_, ct)| acc.add(ct))
        })
        .collect::<Result<_>>()?;
    let index = weighted(&by_bit)?;
    let top = weighted(&value[k - h as usize..])?;
    let matches = ElGamal {
        r: index.r.sub(&top.r)?,
        c: index.c.sub(&top.c)?,
    };
    Ok((sums_to_one, matches))
}

/// Verifies a value's bucket (the value's bits already verified).
pub fn verify_bucket(
    ctx: &ValueContext,
    key: &Point,
    value: &[EncryptedBit],
    h: u8,
    bucket: &Bucket,
) -> Result<()> {
    if h == 0 || h > MAX_BUCKET_BITS || h as usize > value.len() {
        return Err(Error::InvalidBitWidth(h as usize));
    }
    if bucket.one_hot.len() != 1 << h {
        return Err(Error::InvalidBitWidth(bucket.one_hot.len()));
    }
    for (j, b) in bucket.one_hot.iter().enumerate() {
        verify_bit(ctx, key, BUCKET_BIT_BASE + j as u8, b)?;
    }
    verify_bucket_cts(
        ctx,
        key,
        &cts(value),
        h,
        &cts(&bucket.one_hot),
        &bucket.sums_to_one,
        &bucket.matches_value,
    )
}

/// [`verify_bucket`]'s two relations over ciphertexts whose bit proofs are
/// already checked: the one-hot vector `one_hot` sums to one and marks the
/// top `h` bits of `value`.
pub fn verify_bucket_cts(
    ctx: &ValueContext,
    key: &Point,
    value: &[ElGamal],
    h: u8,
    one_hot: &[ElGamal],
    sums_to_one: &ZeroProof,
    matches_value: &ZeroProof,
) -> Result<()> {
    if h == 0 || h > MAX_BUCKET_BITS || h as usize > value.len() {
        return Err(Error::InvalidBitWidth(h as usize));
    }
    if one_hot.len() != 1 << h {
        return Err(Error::InvalidBitWidth(one_hot.len()));
    }
    let (one, matches) = bucket_relations(value, one_hot, h)?;
    verify_zero(ctx, key, "sum-to-one", &one, sums_to_one)?;
    verify_zero(ctx, key, "bucket", &matches, matches_value)
}

#[cfg(feature = "client")]
pub use client::*;

#[cfg(feature = "client")]
mod client {
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::scalar::Scalar;
    use rand_core::{CryptoRng, RngCore};
    use zeroize::Zeroizing;

    use super::*;
    use crate::stats::point;
    use crate::transcript::hedged_nonce;

    /// A value with everything a study may ask of it: its `bits` bits, the
    /// `2·bits` bits of its square with its [`ProductProof`], and, with
    /// `bucket_bits = Some(h)`, its [`Bucket`] by the top `h` bits.
    /// `bits ≤ 20` (the square has at most [`MAX_BITS`] bits).
    pub fn encrypt_for_study<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &ValueContext,
        key: &Point,
        value: u64,
        bits: u8,
        bucket_bits: Option<u8>,
    ) -> Result<StudyValue> {
        if bits == 0 || 2 * bits > MAX_BITS {
            return Err(Error::InvalidBitWidth(bits as usize));
        }
        if value >> bits != 0 {
            return Err(Error::ValueOutOfRange { value, bits });
        }
        let pk = key.decode_validated()?;
        let enc = |rng: &mut R,
                   v: u64,
                   n: u8,
                   base: u8|
         -> Result<(Vec<EncryptedBit>, Vec<Zeroizing<Scalar>>)> {
            let mut bits_out = Vec::with_capacity(n as usize);
            let mut rs = Vec::with_capacity(n as usize);
            for j in 0..n {
                let (b, r) = encrypt_bit(rng, ctx, key, &pk, base + j, (v >> j) & 1 == 1, v)?;
                bits_out.push(b);
                rs.push(r);
            }
            Ok((bits_out, rs))
        };
        let horner = |rs: &[Zeroizing<Scalar>]| -> Zeroizing<Scalar> {
            let mut acc = Scalar::ZERO;
            for r in rs.iter().rev() {
                acc = acc + acc + **r;
            }
            Zeroizing::new(acc)
        };
        let (value_bits, r_v) = enc(rng, value, bits, 0)?;
        let (square_bits, r_sq) = enc(rng, value * value, 2 * bits, SQUARE_BIT_BASE)?;
        // The square: A = X = Enc(v; r), Y = Enc(v²; r') = v·X + Enc(0; r' − v·r).
        let r = horner(&r_v);
        let r_prime = horner(&r_sq);
        let v = Scalar::from(value);
        let t = Zeroizing::new(*r_prime - v * *r);
        let x = weighted(&cts(&value_bits))?;
        let y = weighted(&cts(&square_bits))?;
        let square_proof = prove_product(rng, ctx, key, &pk, "square", [&x, &x, &y], &v, &r, &t)?;
        let bucket = match bucket_bits {
            None => None,
            Some(h) => {
                if h == 0 || h > MAX_BUCKET_BITS || h > bits {
                    return Err(Error::InvalidBitWidth(h as usize));
                }
                let index = value >> (bits - h);
                let mut one_hot = Vec::with_capacity(1 << h);
                let mut r_e = Vec::with_capacity(1 << h);
                for j in 0..(1u64 << h) {
                    let (b, r) = encrypt_bit(
                        rng,
                        ctx,
                        key,
                        &pk,
                        BUCKET_BIT_BASE + j as u8,
                        j == index,
                        index,
                    )?;
                    one_hot.push(b);
                    r_e.push(r);
                }
                // Randomness of Σ E_j − (0, B): Σ r_j.
                let rho_one = Zeroizing::new(r_e.iter().fold(Scalar::ZERO, |a, r| a + **r));
                // Of Σ_j j·E_j − Σ_i 2^i·X_{k−h+i}: Σ j·r_j − horner(top r's).
                let rho_idx = Zeroizing::new(
                    r_e.iter()
                        .enumerate()
                        .fold(Scalar::ZERO, |a, (j, r)| a + Scalar::from(j as u64) * **r)
                        - *horner(&r_v[(bits - h) as usize..]),
                );
                let (one, matches) = bucket_relations(&cts(&value_bits), &cts(&one_hot), h)?;
                Some(Bucket {
                    sums_to_one: prove_zero(rng, ctx, key, &pk, "sum-to-one", &one, &rho_one),
                    matches_value: prove_zero(rng, ctx, key, &pk, "bucket", &matches, &rho_idx),
                    one_hot,
                })
            }
        };
        Ok(StudyValue {
            value: value_bits,
            square: square_bits,
            square_proof,
            bucket,
        })
    }

    /// A [`ProductProof`] for `(A, X, Y)` with witnesses `(a, r_a, t)`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn prove_product<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &ValueContext,
        key: &Point,
        pk: &EdwardsPoint,
        what: &str,
        cts3: [&ElGamal; 3],
        a: &Scalar,
        r_a: &Scalar,
        t: &Scalar,
    ) -> Result<ProductProof> {
        let [_, x, _] = cts3;
        let (xr, xc) = (x.r.decode_validated()?, x.c.decode_validated()?);
        // Hedged nonces: each bound to its witness and to the statement, so
        // a repeated RNG state alone reveals nothing.
        let base = product_statement(ctx, key, what, cts3);
        let (k_a, k_r, k_t) = (
            hedged_nonce(rng, b"k_a", a, &base),
            hedged_nonce(rng, b"k_r", r_a, &base),
            hedged_nonce(rng, b"k_t", t, &base),
        );
        let k1 = point(&EdwardsPoint::mul_base(&k_r));
        let k2 = point(&(EdwardsPoint::mul_base(&k_a) + pk * *k_r));
        let k3 = point(&(xr * *k_a + EdwardsPoint::mul_base(&k_t)));
        let k4 = point(&(xc * *k_a + pk * *k_t));
        let c = product_challenge(ctx, key, what, cts3, [&k1, &k2, &k3, &k4]);
        let cs = c.scalar();
        Ok(ProductProof {
            c: c.0,
            z_a: (*k_a + cs * a).to_bytes(),
            z_r: (*k_r + cs * r_a).to_bytes(),
            z_t: (*k_t + cs * t).to_bytes(),
        })
    }

    /// A value, a 0/1 indicator of the same record (under `flag_ctx`, its own
    /// field) and the filtered value `v·f` with its proof.
    pub fn encrypt_filtered<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &ValueContext,
        flag_ctx: &ValueContext,
        key: &Point,
        value: u64,
        bits: u8,
        flag: bool,
    ) -> Result<(Vec<EncryptedBit>, EncryptedBit, Filtered)> {
        if bits == 0 || bits > MAX_BITS {
            return Err(Error::InvalidBitWidth(bits as usize));
        }
        if value >> bits != 0 {
            return Err(Error::ValueOutOfRange { value, bits });
        }
        let pk = key.decode_validated()?;
        let mut value_bits = Vec::with_capacity(bits as usize);
        let mut filtered_bits = Vec::with_capacity(bits as usize);
        let (mut r, mut r_y) = (Scalar::ZERO, Scalar::ZERO);
        let product = if flag { value } else { 0 };
        for j in (0..bits).rev() {
            let (b, rj) = encrypt_bit(rng, ctx, key, &pk, j, (value >> j) & 1 == 1, value)?;
            let (fb, fj) = encrypt_bit(
                rng,
                ctx,
                key,
                &pk,
                FILTERED_BIT_BASE + j,
                (product >> j) & 1 == 1,
                product,
            )?;
            r = r + r + *rj;
            r_y = r_y + r_y + *fj;
            value_bits.push(b);
            filtered_bits.push(fb);
        }
        value_bits.reverse();
        filtered_bits.reverse();
        let (r, r_y) = (Zeroizing::new(r), Zeroizing::new(r_y));
        let (flag_bit, r_f) = encrypt_bit(rng, flag_ctx, key, &pk, 0, flag, flag as u64)?;
        let f = Scalar::from(flag as u64);
        // Y = f·X + Enc(0; r_y − f·r).
        let t = Zeroizing::new(*r_y - f * *r);
        let x = weighted(&cts(&value_bits))?;
        let y = weighted(&cts(&filtered_bits))?;
        let proof = prove_product(
            rng,
            ctx,
            key,
            &pk,
            "filter",
            [&flag_bit.ct, &x, &y],
            &f,
            &r_f,
            &t,
        )?;
        Ok((
            value_bits,
            flag_bit,
            Filtered {
                bits: filtered_bits,
                proof,
            },
        ))
    }

    pub(crate) fn prove_zero<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &ValueContext,
        key: &Point,
        pk: &EdwardsPoint,
        what: &'static str,
        ct: &ElGamal,
        rho: &Scalar,
    ) -> ZeroProof {
        let mut tr = relation_statement(tags::STATS_ZERO, ctx, what.as_bytes(), key);
        tr.append(b"R", &ct.r.0);
        tr.append(b"C", &ct.c.0);
        // Hedged: bound to the witness and the statement.
        let k = hedged_nonce(rng, b"k", rho, &tr);
        let t1 = point(&EdwardsPoint::mul_base(&k));
        let t2 = point(&(pk * *k));
        tr.append(b"T1", &t1.0);
        tr.append(b"T2", &t2.0);
        let c = tr.challenge();
        ZeroProof {
            c: c.0,
            z: (*k + c.scalar() * rho).to_bytes(),
        }
    }
}
