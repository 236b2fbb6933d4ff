//! The binding proof: a capsule belongs to one record of one owner, under
//! one cluster key.
//!
//! A capsule `(E, C)` sealed to the cluster key `P` is only accepted on-chain
//! with a Schnorr proof of knowledge of `e` such that `E = e·B` (Schnorr,
//! 1991), made non-interactive with Fiat–Shamir and bound to the record:
//!
//! ```text
//! prover:   k hedged (transcript::hedged_nonce); T = k·B
//!           c = Hc("medshare/v2/binding", program, P, owner, record, group, E, C, T)
//!           z = k + c·e                      proof = (c, z): 16 + 32 bytes
//! verifier: T' = z·B + c·(−E);  accept iff c = Hc(..., E, C, T')
//! ```
//!
//! Without it, anyone could copy (or re-randomize: `E + e'·B`, `C + e'·P`) a
//! capsule from someone else's record into their own and have the cluster
//! re-encrypt it for them. Copying fails because the challenge names the
//! original owner and record; re-randomizing fails because the attacker would
//! need the discrete log of the new `E`, which includes the unknown `e`.
//! Binding `P` (v2) makes a proof worthless under any other cluster key.
//!
//! The verifier fully validates `E` (nodes multiply it by their shares, so a
//! torsion component would leak `s_i mod 8`); `C` only has to decode: the
//! nodes never touch it, and a torsion component in it only shifts the
//! owner's own result by a torsion point, which the opener projects away
//! ([`crate::capsule`]).
use borsh::{BorshDeserialize, BorshSerialize};
#[cfg(feature = "client")]
use curve25519_dalek::scalar::Scalar;

use crate::capsule::{Capsule, RecordContext};
use crate::error::{Error, Result};
use crate::point::{msm_bytes, Point, BASEPOINT};
use crate::transcript::{tags, Challenge, Transcript};

/// A binding proof `(c, z)`: 48 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct BindingProof {
    /// Challenge (128 bits).
    pub c: [u8; 16],
    /// Response.
    pub z: [u8; 32],
}

/// Size of a binding proof on the wire.
pub const BINDING_PROOF_LEN: usize = 48;

impl BindingProof {
    /// The 48-byte wire form `c ‖ z`.
    pub fn to_bytes(&self) -> [u8; BINDING_PROOF_LEN] {
        let mut b = [0u8; BINDING_PROOF_LEN];
        b[..16].copy_from_slice(&self.c);
        b[16..].copy_from_slice(&self.z);
        b
    }

    /// Splits the wire form.
    pub fn from_bytes(b: &[u8; BINDING_PROOF_LEN]) -> Self {
        let mut c = [0u8; 16];
        let mut z = [0u8; 32];
        c.copy_from_slice(&b[..16]);
        z.copy_from_slice(&b[16..]);
        BindingProof { c, z }
    }
}

fn statement(ctx: &RecordContext, cluster_key: &Point, capsule: &Capsule) -> Transcript {
    let mut tr = Transcript::new(tags::BINDING);
    tr.append(b"program", &ctx.program_id);
    tr.append(b"P", &cluster_key.0);
    tr.append(b"owner", &ctx.owner);
    tr.append(b"record", &ctx.record);
    tr.append(b"group", &[ctx.group]);
    tr.append(b"E", &capsule.e.0);
    tr.append(b"C", &capsule.c.0);
    tr
}

fn challenge(statement: &Transcript, t: &Point) -> Challenge {
    let mut tr = statement.clone();
    tr.append(b"T", &t.0);
    tr.challenge()
}

/// Verifies a capsule's points and its binding proof for `ctx` under the
/// cluster key `cluster_key` (trusted: the program validated it at DKG
/// confirmation). Errors: `E` invalid → its point error; `C` not decoding →
/// its point error; anything wrong with the proof (a non-canonical `z`
/// included) → [`Error::InvalidBindingProof`].
///
/// On-chain cost: one multiply (validating `E`), one validate (`C`), one
/// two-point multiscalar multiplication and one `sol_sha256`; no scalar
/// arithmetic in software.
pub fn verify(
    ctx: &RecordContext,
    cluster_key: &Point,
    capsule: &Capsule,
    proof: &BindingProof,
) -> Result<()> {
    capsule.e.validate()?;
    capsule.c.check_decodes()?;
    let c = Challenge(proof.c);
    let t = msm_bytes(&[proof.z, c.scalar_bytes()], &[BASEPOINT, capsule.e.neg()])
        .map_err(|_| Error::InvalidBindingProof)?;
    if challenge(&statement(ctx, cluster_key, capsule), &t) != c {
        return Err(Error::InvalidBindingProof);
    }
    Ok(())
}

/// Proves knowledge of `e` for `capsule` (sealed to `cluster_key`) in `ctx`.
#[cfg(feature = "client")]
pub fn prove<R: rand_core::RngCore + rand_core::CryptoRng>(
    rng: &mut R,
    ctx: &RecordContext,
    cluster_key: &Point,
    capsule: &Capsule,
    e: &Scalar,
) -> BindingProof {
    use curve25519_dalek::edwards::EdwardsPoint;
    let st = statement(ctx, cluster_key, capsule);
    let k = crate::transcript::hedged_nonce(rng, b"k", e, &st);
    let t = Point(EdwardsPoint::mul_base(&k).compress().0);
    let c = challenge(&st, &t);
    let z = zeroize::Zeroizing::new(*k + c.scalar() * e);
    BindingProof {
        c: c.0,
        z: z.to_bytes(),
    }
}

/// Seals `secret` to the cluster key ([`crate::capsule::seal`]) and proves
/// knowledge of its `e`, bound to the record context.
#[cfg(feature = "client")]
pub fn seal_bound<R: rand_core::RngCore + rand_core::CryptoRng>(
    rng: &mut R,
    secret: &crate::capsule::CapsuleSecret,
    cluster_key: &Point,
    ctx: &RecordContext,
) -> Result<(Capsule, BindingProof)> {
    let (capsule, e) = crate::capsule::seal(rng, secret, cluster_key)?;
    let proof = prove(rng, ctx, cluster_key, &capsule, &e);
    Ok((capsule, proof))
}
