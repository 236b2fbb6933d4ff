//! Encrypted cohort statistics: values encrypted under the cluster key,
//! summed homomorphically, and only the sums ever decrypted, by `t` nodes.
//!
//! This module is the cryptography of issue 13; the program's study
//! instructions (`medshare::instructions::research`), the nodes and the CLI
//! run it.
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
//! ## Sums of squares and histograms
//!
//! Both reduce to two more proofs over ciphertexts the verifier computes
//! itself from the bits, `X = Σ_j 2^j·(R_j, C_j)` ([`weighted`], by Horner's
//! rule: additions only):
//!
//! - **Encrypts zero** ([`ZeroProof`], Chaum–Pedersen): knowledge of `ρ` with
//!   `(R, C) = (ρ·B, ρ·P)`. 48 bytes.
//! - **Product** ([`ProductProof`]): for `A = Enc(a; r_a)`, `X` and `Y`,
//!   knowledge of `(a, r_a, t)` with `A = (r_a·B, a·B + r_a·P)` and
//!   `Y = a·X + (t·B, t·P)`, so `Y` encrypts `a·x`. A linear sigma protocol
//!   with three witnesses and four equations; 112 bytes. With `A = X` it is a
//!   square; with `A` a 0/1 indicator `f`, a filtered value `v·f`
//!   ([`Filtered`]), so a study can release the mean of `v` among the
//!   records with `f = 1`.
//! - **Square**: a product with `A = X`. A value `v` of `k ≤ 20` bits is posted with the
//!   `2k` bits of `v²` (bit proofs at positions `64 + j`) and this proof, so
//!   a study can sum `v²` (variance
//!   `= Σv²/n − (Σv/n)²`) bit-sliced like `v`.
//! - **Histogram bucket** ([`Bucket`]): for buckets by the top `h` bits of
//!   a `k`-bit value, a one-hot vector of `2^h` bits (each with a bit proof,
//!   at positions `128 + j`), a [`ZeroProof`] that they sum to one
//!   (`Σ_j E_j − (0, B)` encrypts 0), and a [`ZeroProof`] that the index they
//!   mark is the value's top bits (`Σ_j j·E_j − Σ_{i≥k−h} 2^{i−k+h}·X_i`
//!   encrypts 0). A study sums each bucket's bit over its records.
//!
//! ## What a study releases
//!
//! A study sums each slice over its members while it is open; when it
//! closes the program combines the slices into one aggregate per released
//! statistic with [`weighted`] (`Σ_j 2^j·S_j` for the sum and for the sum
//! of squares; each bucket as it is), so the count behind one bit slice is
//! never decrypted. Only those aggregates are.
//!
//! ## Bounded noise
//!
//! With differential privacy each node adds noise `η` to every statistic
//! before any decryption, as the `k` bits of `u = η + 2^(k−1)`, each an
//! encrypted bit with the bit proof above, bound to the study, the
//! statistic, the node and the position ([`verify_noise_bit`]). The
//! program adds `Σ_p 2^p·E_p − (0, 2^(k−1)·B)`, so `η ∈ [−2^(k−1), 2^(k−1))`
//! whatever the node does: one node moves a statistic by at most
//! `2^(k−1)`. How `k` follows from ε is the program's
//! (`medshare::state::noise_plan`).
//!
//! ## Threshold decryption of an aggregate only
//!
//! For an aggregate `(R, C)`, node `i` posts `D_i = s_i·R` and a
//! Chaum–Pedersen proof that `log_B V_i = log_R D_i` ([`PartialDecryption`]),
//! bound to the study and the aggregate. With `t` valid partials and the
//! Lagrange coefficients ([`crate::reencrypt::check_lagrange`]),
//! `v·B = C − Σ λ_i·D_i` ([`combine_partials`]).
//!
//! Why revealing `s·R` should be safe (a design argument, not a tested
//! property; what is tested is that the program takes partial decryptions
//! only against a closed study's aggregates): every `R_j` a value or a
//! node's noise adds came with a proof of knowledge of its `r_j`, so the
//! discrete log of an aggregate's `R` is known to the records' owners and
//! the nodes together; it is never a record capsule's
//! ephemeral key `E` (whose logarithm only the capsule's author knows), so
//! `s·R` opens no capsule.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::error::{Error, Result};
use crate::keys::NodeIndex;
use crate::point::{msm_bytes, Point, BASEPOINT};
use crate::transcript::{tags, Challenge, Transcript};

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
fn value_statement(
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

fn bit_statement(ctx: &ValueContext, key: &Point, bit: u8, ct: &ElGamal) -> Transcript {
    let mut tr = value_statement(tags::STATS_BIT, ctx, b"bit", &[bit], key);
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
fn verify_bit_proof(
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

/// Proof that a ciphertext encrypts 0: `(c, z)`, 48 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct ZeroProof {
    /// Challenge.
    pub c: [u8; 16],
    /// Response.
    pub z: [u8; 32],
}

fn relation_statement(tag: &[u8], ctx: &ValueContext, what: &[u8], key: &Point) -> Transcript {
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
fn product_statement(
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

fn product_challenge(
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

fn cts(bits: &[EncryptedBit]) -> Vec<ElGamal> {
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

fn bucket_relations(value: &[ElGamal], e: &[ElGamal], h: u8) -> Result<(ElGamal, ElGamal)> {
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

/// The offset that centres a node's noise: the node encrypts
/// `u = η + 2^(k−1)` as `k` bits, so `η = u − 2^(k−1)` lies in
/// `[−2^(k−1), 2^(k−1))` whatever bits it picks.
pub fn noise_offset(k: u8) -> u64 {
    1u64 << (k - 1)
}

/// Most bits of one noise sample (`|η| ≤ 2^39`).
pub const MAX_NOISE_BITS: u8 = 40;

fn noise_position(ctx: &StudyContext, node: NodeIndex, key: &Point, bit: u8) -> Transcript {
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

fn noise_statement(
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
            .map(|j| encrypt_bit(rng, ctx, key, &pk, j, (value >> j) & 1 == 1, value).map(|b| b.0))
            .collect()
    }

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
    fn prove_product<R: RngCore + CryptoRng>(
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

    fn prove_zero<R: RngCore + CryptoRng>(
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

    #[allow(clippy::too_many_arguments)]
    fn encrypt_bit<R: RngCore + CryptoRng>(
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
    fn prove_bit<R: RngCore + CryptoRng>(
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

    /// Node side: the noise of one released aggregate (`ctx.slice`), drawn
    /// from the discrete Laplace distribution of scale `scale_num/scale_den`
    /// conditioned on `−2^(k−1) ≤ η < 2^(k−1)` ([`noise_offset`]), from a
    /// generator seeded by the node's key share and the aggregate: a node
    /// that restarts midway draws the same `η` again, so the bits it posts
    /// after the restart belong to the same sample as those before. Nobody
    /// without the share can predict it.
    pub fn noise_sample(
        share: &crate::keys::KeyShare,
        ctx: &StudyContext,
        scale_num: u64,
        scale_den: u64,
        k: u8,
    ) -> i64 {
        use rand_chacha::rand_core::SeedableRng;
        use sha2::{Digest, Sha256};
        let mut st = Transcript::new(tags::STATS_NOISE);
        st.append(b"program", &ctx.program_id);
        st.append(b"cluster", &ctx.cluster);
        st.append(b"study", &ctx.study);
        st.append(b"slice", &ctx.slice.to_le_bytes());
        st.append(b"i", &share.index().get().to_le_bytes());
        let mut h = Sha256::new();
        h.update(b"medshare/v2/noise-seed");
        h.update(share.secret().as_bytes());
        h.update(st.bytes());
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&h.finalize());
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(*seed);
        let half = noise_offset(k.clamp(1, MAX_NOISE_BITS)) as i64;
        loop {
            let eta = sample_discrete_laplace(&mut rng, scale_num, scale_den);
            if (-half..half).contains(&eta) {
                return eta;
            }
        }
    }

    fn signed_scalar(v: i64) -> Scalar {
        let s = Scalar::from(v.unsigned_abs());
        if v < 0 {
            -s
        } else {
            s
        }
    }

    /// A uniform integer in `[0, n)` (`n > 0`), by rejection.
    fn uniform_below<R: RngCore>(rng: &mut R, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let x = rng.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }

    /// Bernoulli(`num/den`), exactly.
    fn bernoulli<R: RngCore>(rng: &mut R, num: u64, den: u64) -> bool {
        uniform_below(rng, den) < num
    }

    /// Bernoulli(`exp(−num/den)`), exactly (Canonne, Kamath, Steinke 2020,
    /// Algorithm 1): integer arithmetic only, no floating point.
    fn bernoulli_exp<R: RngCore>(rng: &mut R, num: u64, den: u64) -> bool {
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
