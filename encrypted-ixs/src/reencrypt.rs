//! Threshold re-encryption: the `share_patient_data` confidential instruction
//! (wire format v2).
//!
//! The cluster key `P = s·B` is Shamir-shared: node `i` holds `s_i` with
//! `V_i = s_i·B` public, and `s = Σ_{i∈S} λ_i·s_i` for any set `S` of `t`
//! nodes, `λ_i = Π_{j∈S, j≠i} x_j / (x_j − x_i)` (Shamir, 1979).
//!
//! To re-encrypt a capsule `(E, C = M + e·P)` for a recipient `R`:
//!
//! ```text
//! node i:    r_i hedged;  U_i = r_i·B,  W_i = r_i·R − s_i·E
//!            proof that one (r_i, s_i) satisfies
//!              U_i = r_i·B,  V_i = s_i·B,  W_i = r_i·R − s_i·E
//! combine:   E' = Σ λ_i·U_i = r·B,   C' = C + Σ λ_i·W_i = M + e·P − s·E + r·R = M + r·R
//! ```
//!
//! `(E', C')` is an ordinary capsule for `R`; the recipient opens it with
//! [`crate::capsule::open`]. A set of fewer than `t` nodes cannot form
//! `s·E`, so learns nothing about `M`; the result is bound to `R`.
//!
//! ## The contribution proof
//!
//! A three-equation sigma protocol in the style of Chaum–Pedersen (1992)
//! proofs of equal discrete logs, for the relation above, made
//! non-interactive with Fiat–Shamir over a 128-bit challenge
//! ([`crate::transcript`]):
//!
//! ```text
//! k_r, k_s hedged;  T1 = k_r·B,  T2 = k_s·B,  T3 = k_r·R − k_s·E
//! c = Hc("medshare/v2/contribution", program, cluster, computation, group, i,
//!        R, E, V_i, U_i, W_i, T1, T2, T3)
//! z_r = k_r + c·r_i,  z_s = k_s + c·s_i            proof = (c, z_r, z_s): 80 bytes
//! verify: T1 = z_r·B + c·(−U_i),  T2 = z_s·B + c·(−V_i),
//!         T3 = z_r·R + z_s·(−E) + c·(−W_i),  recompute c
//! ```
//!
//! Binding the challenge to the program, the cluster, the computation address
//! and the group makes a contribution useless anywhere else (replay fails),
//! and binding `i` and `V_i` ties it to one node's share.
//!
//! The verifier negates points by flipping their sign bit, so it does no
//! scalar arithmetic at all: three multiscalar-multiplication syscalls and one
//! `sol_sha256`.
//!
//! ## Why `U_i` and `W_i` are not checked for torsion
//!
//! `R`, `E` and `V_i` are validated where they enter the chain (identity
//! registration, record write, DKG confirmation). `U_i` and `W_i` only have to
//! decode. The proof is sound in the prime-order subgroup: projecting the
//! three verification equations onto it (a group homomorphism that fixes `B`,
//! `R`, `E`, `V_i`) gives valid equations for the prime-order parts of
//! `U_i`, `W_i` and the commitments, from which special soundness extracts
//! `(r_i, s_i)` as usual. So the prime-order part of every accepted
//! contribution is honest, and a node that adds a torsion point (it could, by
//! grinding the challenge mod 8) only adds a torsion point to `E'` and `C'`,
//! which [`crate::capsule::open`] projects away. It learns nothing and breaks
//! nothing; checking the subgroup instead would cost two multiply syscalls
//! (4,354 CU) per group per contribution.
//!
//! ## Lagrange coefficients supplied by the caller
//!
//! The program does not invert scalars; the finalizing node supplies `λ_i`
//! and the program checks `λ_i · |Π_{j≠i}(x_j − x_i)| ≡ ±Π_{j≠i} x_j (mod l)`
//! ([`check_lagrange`]). Node indices are at most 16, so both products are
//! integers below `2^45`: the check is one 256×64-bit multiplication and one
//! exact division test per coefficient, O(t) big-number work and O(t²)
//! machine-word multiplications, instead of O(t²) scalar multiplications.
//!
//! Everything in this module except [`contribute`] and
//! [`lagrange_coefficients`] is what the program runs on-chain: it only uses
//! `solana-curve25519` for points and never allocates.

use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::scalar::Scalar;

use crate::capsule::Capsule;
use crate::error::{Error, Result};
use crate::keys::NodeIndex;
use crate::point::{msm_bytes, msm_with, scalar_is_canonical, Point, BASEPOINT, MSM_MAX};
use crate::transcript::{tags, Challenge, Transcript};

/// What a contribution is bound to: one field group of one computation.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct ComputationContext {
    /// The MedShare program id.
    pub program_id: [u8; 32],
    /// The cluster account's address.
    pub cluster: [u8; 32],
    /// The computation account's address.
    pub computation: [u8; 32],
    /// The field group whose capsule is re-encrypted.
    pub group: u8,
}

/// The sigma proof `(c, z_r, z_s)`: 80 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct ContributionProof {
    /// Challenge (128 bits).
    pub c: [u8; 16],
    /// Response for `r_i`.
    pub z_r: [u8; 32],
    /// Response for `s_i`.
    pub z_s: [u8; 32],
}

/// Node `i`'s contribution for one capsule: `(U_i, W_i)` and its proof (144 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct Contribution {
    /// `U_i = r_i·B`.
    pub u: Point,
    /// `W_i = r_i·R − s_i·E`.
    pub w: Point,
    /// Proof of well-formedness.
    pub proof: ContributionProof,
}

/// The public statement a contribution proves something about.
#[derive(Clone, Copy, Debug)]
pub struct Statement<'a> {
    /// Computation and group.
    pub ctx: &'a ComputationContext,
    /// Contributing node.
    pub node: NodeIndex,
    /// Recipient key `R` (Edwards form).
    pub recipient: &'a Point,
    /// The capsule's `E`.
    pub capsule_e: &'a Point,
    /// The node's verification share `V_i`.
    pub verification_share: &'a Point,
}

fn statement(st: &Statement<'_>, u: &Point, w: &Point) -> Transcript {
    let mut tr = Transcript::new(tags::CONTRIBUTION);
    tr.append(b"program", &st.ctx.program_id);
    tr.append(b"cluster", &st.ctx.cluster);
    tr.append(b"computation", &st.ctx.computation);
    tr.append(b"group", &[st.ctx.group]);
    tr.append(b"i", &st.node.get().to_le_bytes());
    tr.append(b"R", &st.recipient.0);
    tr.append(b"E", &st.capsule_e.0);
    tr.append(b"V", &st.verification_share.0);
    tr.append(b"U", &u.0);
    tr.append(b"W", &w.0);
    tr
}

fn challenge(mut tr: Transcript, t: [&Point; 3]) -> Challenge {
    tr.append(b"T1", &t[0].0);
    tr.append(b"T2", &t[1].0);
    tr.append(b"T3", &t[2].0);
    tr.challenge()
}

/// Verifies node `st.node`'s contribution. Any failure (`U` or `W` that does
/// not decode, non-canonical responses, wrong proof) is reported as
/// [`Error::InvalidContribution`] naming the node. `R`, `E` and `V_i` are
/// trusted: the program validated them when they entered its state. `U` and
/// `W` are not checked for torsion (see the module docs for why that is
/// sound).
///
/// On-chain cost: three multiscalar multiplications (2, 2 and 3 points) and
/// one `sol_sha256`; no scalar arithmetic in software.
pub fn verify_contribution(st: &Statement<'_>, contribution: &Contribution) -> Result<()> {
    let bad = Error::InvalidContribution { node: st.node };
    // `U_i` and `W_i` must decode to one point each: canonical, and not the
    // identity (a node with `r_i = 0` would post `U_i = 0` and
    // `W_i = −s_i·E`, its decryption share in the clear) nor the point of
    // order 2. The multiscalar multiplications below refuse a point off
    // the curve.
    if contribution.u.check_encoding().is_err() || contribution.w.check_encoding().is_err() {
        return Err(bad);
    }
    let p = &contribution.proof;
    let c = Challenge(p.c);
    let cb = c.scalar_bytes();
    let t1 =
        msm_bytes(&[p.z_r, cb], &[BASEPOINT, contribution.u.neg()]).map_err(|_| bad.clone())?;
    let t2 = msm_bytes(&[p.z_s, cb], &[BASEPOINT, st.verification_share.neg()])
        .map_err(|_| bad.clone())?;
    let t3 = msm_bytes(
        &[p.z_r, p.z_s, cb],
        &[*st.recipient, st.capsule_e.neg(), contribution.w.neg()],
    )
    .map_err(|_| bad.clone())?;
    if challenge(
        statement(st, &contribution.u, &contribution.w),
        [&t1, &t2, &t3],
    ) != c
    {
        return Err(bad);
    }
    Ok(())
}

/// `l` as four little-endian 64-bit limbs.
const L_LIMBS: [u64; 4] = [
    0x5812631a5cf5d3ed,
    0x14def9dea2f79cd6,
    0x0000000000000000,
    0x1000000000000000,
];

/// `a·b` for a 256-bit `a` and a 64-bit `b`, exactly (320 bits).
fn mul_small(a: &[u64; 4], b: u64) -> [u64; 5] {
    let mut out = [0u64; 5];
    let mut carry = 0u128;
    for k in 0..4 {
        let v = a[k] as u128 * b as u128 + carry;
        out[k] = v as u64;
        carry = v >> 64;
    }
    out[4] = carry as u64;
    out
}

/// `a − b`, or `None` if `b > a`.
fn sub5(a: &[u64; 5], b: &[u64; 5]) -> Option<[u64; 5]> {
    let mut out = [0u64; 5];
    let mut borrow = 0u64;
    for k in 0..5 {
        let (d1, b1) = a[k].overflowing_sub(b[k]);
        let (d2, b2) = d1.overflowing_sub(borrow);
        out[k] = d2;
        borrow = (b1 || b2) as u64;
    }
    (borrow == 0).then_some(out)
}

/// Whether the 320-bit `x` is a multiple of `l`, for `x < 2^64·l`:
/// the quotient is `⌊x / 2^252⌋` or one less (`l = 2^252 + δ` with
/// `δ < 2^125`, so the two quotients differ by less than one).
fn is_multiple_of_l(x: &[u64; 5]) -> bool {
    let q = (x[3] >> 60) | (x[4] << 4);
    if x[4] >> 60 != 0 {
        return false;
    }
    let ql = mul_small(&L_LIMBS, q);
    if ql == *x {
        return true;
    }
    q > 0 && mul_small(&L_LIMBS, q - 1) == *x
}

fn limbs(b: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (k, chunk) in b.chunks_exact(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        out[k] = u64::from_le_bytes(w);
    }
    out
}

/// Checks that the node indices are distinct and that `coeffs[k]` (canonical
/// scalar encodings) is the Lagrange coefficient at zero of `nodes[k]` for
/// this set: `λ_i · |Π_{j≠i}(x_j − x_i)| ≡ ±Π_{j≠i} x_j (mod l)`, with the
/// sign of the denominator. The products are exact machine integers (indices
/// are at most [`crate::MAX_NODES`], so both stay below `2^45`); the
/// congruence is an exact 320-bit multiplication and a multiple-of-`l` test.
/// No scalar arithmetic, no allocation.
pub fn check_lagrange(nodes: &[NodeIndex], coeffs: &[[u8; 32]]) -> Result<()> {
    if nodes.len() != coeffs.len() {
        return Err(Error::Encoding("one Lagrange coefficient per node"));
    }
    if nodes.len() > crate::MAX_NODES {
        return Err(Error::TooManyContributions(nodes.len()));
    }
    for (k, a) in nodes.iter().enumerate() {
        if nodes[..k].contains(a) {
            return Err(Error::DuplicateNode(*a));
        }
    }
    for (k, (i, lambda)) in nodes.iter().zip(coeffs).enumerate() {
        let bad = Error::InvalidLagrangeCoefficient { node: *i };
        if !scalar_is_canonical(lambda) {
            return Err(bad);
        }
        let xi = i.get() as i64;
        let mut num = 1u64;
        let mut den = 1u64;
        let mut negative = false;
        for (m, j) in nodes.iter().enumerate() {
            if m != k {
                let xj = j.get() as i64;
                num *= xj as u64;
                den *= (xj - xi).unsigned_abs();
                negative ^= xj < xi;
            }
        }
        // Target: num, or l − num when the denominator is negative.
        let mut target = [num, 0, 0, 0, 0];
        if negative {
            let l5 = [L_LIMBS[0], L_LIMBS[1], L_LIMBS[2], L_LIMBS[3], 0];
            target = sub5(&l5, &target).ok_or(bad.clone())?;
        }
        let product = mul_small(&limbs(lambda), den);
        match sub5(&product, &target) {
            Some(diff) if is_multiple_of_l(&diff) => {}
            _ => return Err(bad),
        }
    }
    Ok(())
}

/// Combines at least `threshold` verified contributions into the recipient's
/// capsule: `E' = Σ λ_i·U_i`, `C' = C + Σ λ_i·W_i`. Checks the Lagrange
/// coefficients first. Two multiscalar multiplications; no allocation.
pub fn aggregate(
    threshold: usize,
    capsule: &Capsule,
    nodes: &[NodeIndex],
    contributions: &[(Point, Point)],
    coeffs: &[Scalar],
) -> Result<Capsule> {
    if nodes.len() < threshold || nodes.is_empty() {
        return Err(Error::NotEnoughContributions {
            needed: threshold,
            have: nodes.len(),
        });
    }
    if nodes.len() >= MSM_MAX {
        return Err(Error::TooManyContributions(nodes.len()));
    }
    if contributions.len() != nodes.len() || coeffs.len() != nodes.len() {
        return Err(Error::Encoding("one contribution per node"));
    }
    let mut bytes = [[0u8; 32]; crate::MAX_NODES];
    for (b, k) in bytes.iter_mut().zip(coeffs) {
        *b = k.to_bytes();
    }
    let bytes = &bytes[..nodes.len()];
    check_lagrange(nodes, bytes)?;
    combine(capsule, bytes, |k| contributions[k])
}

/// The combination step of [`aggregate`] alone, for a caller that checked the
/// contributing set and its coefficients once with [`check_lagrange`] and now
/// combines several capsules with them (the program, one capsule per field
/// group). `partial(k)` returns `(U_k, W_k)` of the `k`-th contributor, for
/// `k < coeffs.len()` (at most [`crate::MAX_NODES`]). Two multiscalar
/// multiplications; the terms go straight into the syscall's buffers.
pub fn combine(
    capsule: &Capsule,
    coeffs: &[[u8; 32]],
    partial: impl Fn(usize) -> (Point, Point),
) -> Result<Capsule> {
    let n = coeffs.len();
    if n == 0 {
        return Err(Error::Encoding("one coefficient per contribution"));
    }
    if n >= MSM_MAX {
        return Err(Error::TooManyContributions(n));
    }
    let e = msm_with(n, |k| (coeffs[k], partial(k).0))?;
    let mut one = [0u8; 32];
    one[0] = 1;
    let c = msm_with(n + 1, |k| {
        if k == 0 {
            (one, capsule.c)
        } else {
            (coeffs[k - 1], partial(k - 1).1)
        }
    })?;
    Ok(Capsule { e, c })
}

/// Lagrange coefficients at zero for a contributing set (off-chain):
/// `λ_i = Π_{j≠i} x_j / (x_j − x_i)`, in the order of `nodes`. The `t`
/// denominators are inverted together with one field inversion
/// ([`Scalar::batch_invert`], Montgomery's trick); they are never zero because
/// the indices are distinct and in `1..=MAX_NODES`. A repeated index is
/// [`Error::DuplicateNode`].
#[cfg(feature = "client")]
pub fn lagrange_coefficients(nodes: &[NodeIndex]) -> Result<Vec<Scalar>> {
    for (k, a) in nodes.iter().enumerate() {
        if nodes[..k].contains(a) {
            return Err(Error::DuplicateNode(*a));
        }
    }
    let (nums, mut dens): (Vec<Scalar>, Vec<Scalar>) = nodes
        .iter()
        .map(|i| {
            let xi = i.scalar();
            nodes
                .iter()
                .filter(|j| *j != i)
                .fold((Scalar::ONE, Scalar::ONE), |(num, den), j| {
                    (num * j.scalar(), den * (j.scalar() - xi))
                })
        })
        .unzip();
    Scalar::batch_invert(&mut dens);
    Ok(nums.iter().zip(&dens).map(|(num, inv)| num * inv).collect())
}

/// Node side: computes this node's contribution for one capsule.
///
/// Validates its inputs before touching the share: `recipient` must pass
/// [`Point::validate`] and be in XEdDSA form ([`crate::keys::is_xeddsa_form`]),
/// else [`Error::InvalidPublicKey`]; `capsule_e` must pass [`Point::validate`],
/// whose error is returned. Without the check an `E` of small order, or with a
/// torsion component `T`, would give `W_i = r_i·R − s_i·E` the torsion
/// component `−s_i·T`, revealing `s_i` modulo the order of `T` (up to 8).
/// (The checks are those of [`Point::validate`], run with `curve25519-dalek`
/// in variable time, which is fine for these public points; every secret
/// scalar goes only into constant-time operations: fixed-base
/// multiplications for `U_i`, `T1`, `T2` and two-term constant-time
/// multiscalar multiplications for `W_i` and `T3`.)
#[cfg(feature = "client")]
pub fn contribute<R: rand_core::RngCore + rand_core::CryptoRng>(
    rng: &mut R,
    share: &crate::keys::KeyShare,
    ctx: &ComputationContext,
    recipient: &Point,
    capsule_e: &Point,
) -> Result<Contribution> {
    use crate::transcript::hedged_nonce;
    use curve25519_dalek::edwards::EdwardsPoint;
    use curve25519_dalek::traits::MultiscalarMul;
    use zeroize::Zeroizing;
    // R and E are public: decoded and validated once, in variable time, with
    // the checks and errors of `Point::validate`.
    let rp = recipient
        .decode_validated()
        .map_err(|_| Error::InvalidPublicKey)?;
    if !crate::keys::is_xeddsa_form(recipient) {
        return Err(Error::InvalidPublicKey);
    }
    let ep = capsule_e.decode_validated()?;
    let s = share.secret();
    let vs = share.verification_share();
    let st = Statement {
        ctx,
        node: share.index(),
        recipient,
        capsule_e,
        verification_share: &vs,
    };
    // The statement without U, W: what the hedged nonces are bound to.
    let base = statement(&st, &Point::default(), &Point::default());
    let r = hedged_nonce(rng, b"r", s, &base);
    let k_r = hedged_nonce(rng, b"k_r", s, &base);
    let k_s = hedged_nonce(rng, b"k_s", s, &base);
    let u = Point(EdwardsPoint::mul_base(&r).compress().0);
    // Secret scalars: constant-time two-term multiscalar multiplications
    // (Straus, digits zeroized by curve25519-dalek). W_i = r_i·R − s_i·E in
    // one pass, so the decryption share s_i·E is never formed on its own.
    let neg_s = Zeroizing::new(-s);
    let w = Point(
        EdwardsPoint::multiscalar_mul([&*r, &*neg_s], [&rp, &ep])
            .compress()
            .0,
    );
    let t1 = Point(EdwardsPoint::mul_base(&k_r).compress().0);
    let t2 = Point(EdwardsPoint::mul_base(&k_s).compress().0);
    let neg_k_s = Zeroizing::new(-*k_s);
    let t3 = Point(
        EdwardsPoint::multiscalar_mul([&*k_r, &*neg_k_s], [&rp, &ep])
            .compress()
            .0,
    );
    let c = challenge(statement(&st, &u, &w), [&t1, &t2, &t3]);
    let cs = c.scalar();
    let cr = Zeroizing::new(cs * *r);
    let csi = Zeroizing::new(cs * s);
    Ok(Contribution {
        u,
        w,
        proof: ContributionProof {
            c: c.0,
            z_r: (*k_r + *cr).to_bytes(),
            z_s: (*k_s + *csi).to_bytes(),
        },
    })
}

#[cfg(all(test, feature = "client"))]
mod tests {
    use super::*;
    use crate::keys::KeyShare;
    use curve25519_dalek::edwards::EdwardsPoint;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    /// A node that skips its randomness (`r_i = 0`) posts `U_i` = identity
    /// and `W_i = −s_i·E`, its decryption share of the capsule in the clear,
    /// with a proof every equation of which holds. It is refused, naming
    /// the node.
    #[test]
    fn test_contribution_with_zero_randomness_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(23_11);
        let point = |s: &Scalar| Point(EdwardsPoint::mul_base(s).compress().0);
        let cluster_key = point(&Scalar::from(99u64));
        let node = NodeIndex::new(2).unwrap();
        let s_i = Scalar::from(12_345u64);
        let share = KeyShare::new(node, s_i, cluster_key, 2).unwrap();
        let recipient = crate::keys::UserSecretKey::generate(&mut rng)
            .public_key()
            .edwards()
            .unwrap();
        let e = point(&Scalar::from(777u64));
        let ctx = ComputationContext {
            program_id: [1; 32],
            cluster: [2; 32],
            computation: [3; 32],
            group: 0,
        };
        let vs = share.verification_share();
        let st = Statement {
            ctx: &ctx,
            node,
            recipient: &recipient,
            capsule_e: &e,
            verification_share: &vs,
        };
        // The prover's steps with r = 0.
        let (k_r, k_s) = (Scalar::from(5u64), Scalar::from(6u64));
        let rp = recipient.decode_validated().unwrap();
        let ep = e.decode_validated().unwrap();
        let u = crate::point::IDENTITY;
        let w = Point((-(s_i * ep)).compress().0);
        let t1 = point(&k_r);
        let t2 = point(&k_s);
        let t3 = Point((k_r * rp - k_s * ep).compress().0);
        let c = challenge(statement(&st, &u, &w), [&t1, &t2, &t3]);
        let forged = Contribution {
            u,
            w,
            proof: ContributionProof {
                c: c.0,
                z_r: k_r.to_bytes(),
                z_s: (k_s + c.scalar() * s_i).to_bytes(),
            },
        };
        assert_eq!(
            verify_contribution(&st, &forged),
            Err(Error::InvalidContribution { node })
        );
        // The same steps with r ≠ 0 verify: the refusal is the identity's.
        let r = Scalar::from(41u64);
        let u = point(&r);
        let w = Point((r * rp - s_i * ep).compress().0);
        let c = challenge(statement(&st, &u, &w), [&t1, &t2, &t3]);
        let honest = Contribution {
            u,
            w,
            proof: ContributionProof {
                c: c.0,
                z_r: (k_r + c.scalar() * r).to_bytes(),
                z_s: (k_s + c.scalar() * s_i).to_bytes(),
            },
        };
        assert_eq!(verify_contribution(&st, &honest), Ok(()));
    }
}
