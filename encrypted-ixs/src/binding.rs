//! The binding proof: a capsule belongs to one record of one owner.
//!
//! A capsule `(E, C)` sealed to the cluster key is only accepted on-chain with
//! a Schnorr proof of knowledge of `e` such that `E = e·B` (Schnorr, 1991),
//! made non-interactive with Fiat–Shamir and bound to the record:
//!
//! ```text
//! prover:   k random; T = k·B
//!           c = Hs("medshare/v1/binding", program, owner, record, group, E, C, T)
//!           z = k + c·e                      proof = (c, z)
//! verifier: T' = z·B − c·E;  accept iff c = Hs(..., E, C, T')
//! ```
//!
//! Without it, anyone could copy (or re-randomize: `E + e'·B`, `C + e'·P`) a
//! capsule from someone else's record into their own and have the cluster
//! re-encrypt it for them. Copying fails because the challenge names the
//! original owner and record; re-randomizing fails because the attacker would
//! need the discrete log of the new `E`, which includes the unknown `e`.

use borsh::{BorshDeserialize, BorshSerialize};
use curve25519_dalek::scalar::Scalar;

use crate::capsule::{Capsule, RecordContext};
use crate::error::{Error, Result};
use crate::point::{msm, scalar_from_canonical, Point, BASEPOINT};
use crate::transcript::{tags, Transcript};

/// A binding proof `(c, z)`: 64 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct BindingProof {
    /// Challenge.
    pub c: [u8; 32],
    /// Response.
    pub z: [u8; 32],
}

fn challenge(ctx: &RecordContext, capsule: &Capsule, t: &Point) -> Scalar {
    let mut tr = Transcript::new(tags::BINDING);
    tr.append(b"program", &ctx.program_id);
    tr.append(b"owner", &ctx.owner);
    tr.append(b"record", &ctx.record);
    tr.append(b"group", &[ctx.group]);
    tr.append(b"E", &capsule.e.0);
    tr.append(b"C", &capsule.c.0);
    tr.append(b"T", &t.0);
    tr.challenge()
}

/// Verifies a capsule's points and its binding proof for `ctx`. On-chain cost:
/// two point validations and one two-point multiscalar multiplication.
pub fn verify(ctx: &RecordContext, capsule: &Capsule, proof: &BindingProof) -> Result<()> {
    capsule.e.validate()?;
    capsule.c.validate()?;
    let c = scalar_from_canonical(&proof.c).map_err(|_| Error::InvalidBindingProof)?;
    let z = scalar_from_canonical(&proof.z).map_err(|_| Error::InvalidBindingProof)?;
    let t = msm(&[z, -c], &[BASEPOINT, capsule.e])?;
    if challenge(ctx, capsule, &t) != c {
        return Err(Error::InvalidBindingProof);
    }
    Ok(())
}

/// Proves knowledge of `e` for `capsule` in `ctx`.
#[cfg(feature = "client")]
pub fn prove<R: rand_core::RngCore + rand_core::CryptoRng>(
    rng: &mut R,
    ctx: &RecordContext,
    capsule: &Capsule,
    e: &Scalar,
) -> BindingProof {
    use curve25519_dalek::edwards::EdwardsPoint;
    let k = zeroize::Zeroizing::new(Scalar::random(rng));
    let t = Point(EdwardsPoint::mul_base(&k).compress().0);
    let c = challenge(ctx, capsule, &t);
    let z = *k + c * e;
    BindingProof {
        c: c.to_bytes(),
        z: z.to_bytes(),
    }
}
