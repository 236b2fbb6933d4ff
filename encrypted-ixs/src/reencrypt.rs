//! Threshold re-encryption: the `share_patient_data` confidential instruction.
//!
//! The cluster key `P = s·B` is Shamir-shared: node `i` holds `s_i` with
//! `V_i = s_i·B` public, and `s = Σ_{i∈S} λ_i·s_i` for any set `S` of `t`
//! nodes, `λ_i = Π_{j∈S, j≠i} x_j / (x_j − x_i)` (Shamir, 1979).
//!
//! To re-encrypt a capsule `(E, C = M + e·P)` for a recipient `R`:
//!
//! ```text
//! node i:    r_i random;  U_i = r_i·B,  W_i = r_i·R − s_i·E
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
//! non-interactive with Fiat–Shamir:
//!
//! ```text
//! k_r, k_s random;  T1 = k_r·B,  T2 = k_s·B,  T3 = k_r·R − k_s·E
//! c = Hs("medshare/v1/contribution", computation, group, i, R, E, V_i, U_i, W_i, T1, T2, T3)
//! z_r = k_r + c·r_i,  z_s = k_s + c·s_i            proof = (c, z_r, z_s)
//! verify: T1 = z_r·B − c·U_i,  T2 = z_s·B − c·V_i,  T3 = z_r·R − z_s·E − c·W_i,
//!         recompute c
//! ```
//!
//! Binding the challenge to the computation address and the group makes a
//! contribution useless anywhere else (replay fails), and binding `i` and
//! `V_i` ties it to one node's share.
//!
//! ## Lagrange coefficients supplied by the caller
//!
//! The program does not invert scalars; the finalizing node supplies `λ_i`
//! and the program checks `λ_i · Π_{j≠i}(x_j − x_i) = Π_{j≠i} x_j` with
//! multiplications only ([`check_lagrange`]).
//!
//! Everything in this module except [`contribute`] and
//! [`lagrange_coefficients`] is what the program runs on-chain: it only uses
//! `solana-curve25519` for points and never allocates.

use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::scalar::Scalar;

use crate::capsule::Capsule;
use crate::error::{Error, Result};
use crate::keys::NodeIndex;
use crate::point::{msm, scalar_from_canonical, Point, BASEPOINT, MSM_MAX};
use crate::transcript::{tags, Transcript};

/// What a contribution is bound to: one field group of one computation.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct ComputationContext {
    /// The computation account's address.
    pub computation: [u8; 32],
    /// The field group whose capsule is re-encrypted.
    pub group: u8,
}

/// The sigma proof `(c, z_r, z_s)`: 96 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct ContributionProof {
    /// Challenge.
    pub c: [u8; 32],
    /// Response for `r_i`.
    pub z_r: [u8; 32],
    /// Response for `s_i`.
    pub z_s: [u8; 32],
}

/// Node `i`'s contribution for one capsule: `(U_i, W_i)` and its proof (160 bytes).
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

fn challenge(st: &Statement<'_>, u: &Point, w: &Point, t: [&Point; 3]) -> Scalar {
    let mut tr = Transcript::new(tags::CONTRIBUTION);
    tr.append(b"computation", &st.ctx.computation);
    tr.append(b"group", &[st.ctx.group]);
    tr.append(b"i", &st.node.get().to_le_bytes());
    tr.append(b"R", &st.recipient.0);
    tr.append(b"E", &st.capsule_e.0);
    tr.append(b"V", &st.verification_share.0);
    tr.append(b"U", &u.0);
    tr.append(b"W", &w.0);
    tr.append(b"T1", &t[0].0);
    tr.append(b"T2", &t[1].0);
    tr.append(b"T3", &t[2].0);
    tr.challenge()
}

/// Verifies node `st.node`'s contribution. Any failure (malformed or
/// small-order `U`/`W`, non-canonical scalars, wrong proof) is reported as
/// [`Error::InvalidContribution`] naming the node. `R`, `E` and `V_i` are
/// trusted: the program validated them when they entered its state.
///
/// On-chain cost: two point validations, three multiscalar multiplications
/// (2, 2 and 3 points) and one SHA-512 transcript.
pub fn verify_contribution(st: &Statement<'_>, contribution: &Contribution) -> Result<()> {
    let bad = Error::InvalidContribution { node: st.node };
    contribution.u.validate().map_err(|_| bad.clone())?;
    contribution.w.validate().map_err(|_| bad.clone())?;
    let p = &contribution.proof;
    let c = scalar_from_canonical(&p.c).map_err(|_| bad.clone())?;
    let z_r = scalar_from_canonical(&p.z_r).map_err(|_| bad.clone())?;
    let z_s = scalar_from_canonical(&p.z_s).map_err(|_| bad.clone())?;
    let t1 = msm(&[z_r, -c], &[BASEPOINT, contribution.u]).map_err(|_| bad.clone())?;
    let t2 = msm(&[z_s, -c], &[BASEPOINT, *st.verification_share]).map_err(|_| bad.clone())?;
    let t3 = msm(
        &[z_r, -z_s, -c],
        &[*st.recipient, *st.capsule_e, contribution.w],
    )
    .map_err(|_| bad.clone())?;
    if challenge(st, &contribution.u, &contribution.w, [&t1, &t2, &t3]) != c {
        return Err(bad);
    }
    Ok(())
}

/// Checks that the node indices are distinct and that `coeffs[k]` is the
/// Lagrange coefficient at zero of `nodes[k]` for this set, using
/// multiplications only: `λ_i · Π_{j≠i}(x_j − x_i) = Π_{j≠i} x_j`.
pub fn check_lagrange(nodes: &[NodeIndex], coeffs: &[Scalar]) -> Result<()> {
    if nodes.len() != coeffs.len() {
        return Err(Error::Encoding("one Lagrange coefficient per node"));
    }
    for (k, a) in nodes.iter().enumerate() {
        if nodes[..k].contains(a) {
            return Err(Error::DuplicateNode(*a));
        }
    }
    for (k, (i, lambda)) in nodes.iter().zip(coeffs).enumerate() {
        let xi = i.scalar();
        let mut num = Scalar::ONE;
        let mut den = Scalar::ONE;
        for (m, j) in nodes.iter().enumerate() {
            if m != k {
                let xj = j.scalar();
                num *= xj;
                den *= xj - xi;
            }
        }
        if lambda * den != num {
            return Err(Error::InvalidLagrangeCoefficient { node: *i });
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
    if contributions.len() != nodes.len() {
        return Err(Error::Encoding("one contribution per node"));
    }
    check_lagrange(nodes, coeffs)?;
    combine(capsule, contributions, coeffs)
}

/// The combination step of [`aggregate`] alone, for a caller that checked the
/// contributing set and its coefficients once with [`check_lagrange`] and now
/// combines several capsules with them (the program, one capsule per field
/// group). `contributions` and `coeffs` must have the same length, at most
/// [`crate::MAX_NODES`].
pub fn combine(
    capsule: &Capsule,
    contributions: &[(Point, Point)],
    coeffs: &[Scalar],
) -> Result<Capsule> {
    let n = contributions.len();
    if n >= MSM_MAX {
        return Err(Error::TooManyContributions(n));
    }
    if coeffs.len() != n || n == 0 {
        return Err(Error::Encoding("one coefficient per contribution"));
    }
    let mut us = [Point::default(); MSM_MAX];
    let mut ws = [Point::default(); MSM_MAX];
    let mut ks = [Scalar::ONE; MSM_MAX];
    ws[0] = capsule.c;
    for (k, ((u, w), lambda)) in contributions.iter().zip(coeffs).enumerate() {
        us[k] = *u;
        ws[k + 1] = *w;
        ks[k + 1] = *lambda;
    }
    let e = msm(&ks[1..=n], &us[..n])?;
    let c = msm(&ks[..=n], &ws[..=n])?;
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
#[cfg(feature = "client")]
pub fn contribute<R: rand_core::RngCore + rand_core::CryptoRng>(
    rng: &mut R,
    share: &crate::keys::KeyShare,
    ctx: &ComputationContext,
    recipient: &Point,
    capsule_e: &Point,
) -> Result<Contribution> {
    use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
    use zeroize::Zeroizing;
    recipient.validate().map_err(|_| Error::InvalidPublicKey)?;
    if !crate::keys::is_xeddsa_form(recipient) {
        return Err(Error::InvalidPublicKey);
    }
    capsule_e.validate()?;
    let rp = CompressedEdwardsY(recipient.0)
        .decompress()
        .ok_or(Error::InvalidPublicKey)?;
    let ep = CompressedEdwardsY(capsule_e.0)
        .decompress()
        .ok_or(Error::InvalidPoint)?;
    let s = share.secret();
    let r = Zeroizing::new(Scalar::random(rng));
    let k_r = Zeroizing::new(Scalar::random(rng));
    let k_s = Zeroizing::new(Scalar::random(rng));
    let u = Point(EdwardsPoint::mul_base(&r).compress().0);
    let w = Point((rp * *r - ep * s).compress().0);
    let t1 = Point(EdwardsPoint::mul_base(&k_r).compress().0);
    let t2 = Point(EdwardsPoint::mul_base(&k_s).compress().0);
    let t3 = Point((rp * *k_r - ep * *k_s).compress().0);
    let st = Statement {
        ctx,
        node: share.index(),
        recipient,
        capsule_e,
        verification_share: &share.verification_share(),
    };
    let c = challenge(&st, &u, &w, [&t1, &t2, &t3]);
    Ok(Contribution {
        u,
        w,
        proof: ContributionProof {
            c: c.to_bytes(),
            z_r: (*k_r + c * *r).to_bytes(),
            z_s: (*k_s + c * s).to_bytes(),
        },
    })
}
