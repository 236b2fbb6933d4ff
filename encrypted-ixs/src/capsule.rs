//! Capsules: a hashed-ElGamal KEM on Edwards25519.
//!
//! To seal a fresh data key to a public key `X` (the cluster key `P`, or a
//! user's Edwards form `A`): pick random scalars `m, e`; `M = m·B`, `E = e·B`,
//! `C = M + e·X`. The capsule is `(E, C)`. The data key is
//! `K = HKDF-SHA256(salt = "medshare/v1/data-key", ikm = M, info = program ‖ record ‖ owner ‖ group)`,
//! so one `M` only ever unlocks one field group of one record of one program.
//! Whoever knows the scalar `x` of `X` recovers `M = C − x·E`.
//!
//! Re-encryption ([`crate::reencrypt`]) turns a capsule for `P` into a capsule
//! for a recipient `R` without anyone learning `M`; the result is an ordinary
//! capsule opened with [`open`].
//!
//! The KEM is ElGamal on a prime-order group (ElGamal, 1985) used as a KEM with
//! a KDF over the shared point (the "hashed ElGamal" of Abdalla–Bellare–Rogaway's
//! DHIES, 2001).

use borsh::{BorshDeserialize, BorshSerialize};

use crate::point::Point;

/// A capsule `(E, C)`: 64 bytes on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, BorshSerialize, BorshDeserialize)]
pub struct Capsule {
    /// `E = e·B` (or `Σ λ_i·U_i` after re-encryption).
    pub e: Point,
    /// `C = M + e·X` (or `M + r·R` after re-encryption).
    pub c: Point,
}

/// What a capsule and its record ciphertext are bound to.
#[derive(Clone, Copy, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct RecordContext {
    /// The MedShare program id.
    pub program_id: [u8; 32],
    /// The record owner's wallet.
    pub owner: [u8; 32],
    /// The record account's address.
    pub record: [u8; 32],
    /// The field group (`0..MAX_GROUPS`).
    pub group: u8,
}

#[cfg(feature = "client")]
pub use client::*;

#[cfg(feature = "client")]
mod client {
    use super::*;
    use crate::error::{Error, Result};
    use crate::keys::UserSecretKey;
    use crate::transcript::tags;
    use core::fmt;
    use curve25519_dalek::{edwards::EdwardsPoint, scalar::Scalar};
    use rand_core::{CryptoRng, RngCore};
    use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

    /// The secret point `M` a capsule carries. Zeroized on drop; `Debug` redacted.
    #[derive(Clone, Zeroize, ZeroizeOnDrop)]
    pub struct CapsuleSecret([u8; 32]);

    impl fmt::Debug for CapsuleSecret {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("CapsuleSecret(<redacted>)")
        }
    }

    /// A 256-bit ChaCha20-Poly1305 key for one field group. Zeroized on drop.
    #[derive(Clone, Zeroize, ZeroizeOnDrop)]
    pub struct DataKey(pub(crate) [u8; 32]);

    impl fmt::Debug for DataKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("DataKey(<redacted>)")
        }
    }

    impl DataKey {
        /// A data key from raw bytes (known-answer tests, key import).
        pub fn from_bytes(bytes: [u8; 32]) -> Self {
            DataKey(bytes)
        }
    }

    impl CapsuleSecret {
        /// A fresh `M = m·B`.
        pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
            let m = Zeroizing::new(Scalar::random(rng));
            CapsuleSecret(EdwardsPoint::mul_base(&m).compress().0)
        }

        fn point(&self) -> Result<EdwardsPoint> {
            curve25519_dalek::edwards::CompressedEdwardsY(self.0)
                .decompress()
                .ok_or(Error::InvalidPoint)
        }

        /// `K = HKDF-SHA256(salt = "medshare/v1/data-key", ikm = M, info = program ‖ record ‖ owner ‖ group)`.
        pub fn data_key(&self, ctx: &RecordContext) -> DataKey {
            let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(tags::DATA_KEY), &self.0);
            let mut info = [0u8; 97];
            info[..32].copy_from_slice(&ctx.program_id);
            info[32..64].copy_from_slice(&ctx.record);
            info[64..96].copy_from_slice(&ctx.owner);
            info[96] = ctx.group;
            let mut k = [0u8; 32];
            hk.expand(&info, &mut k)
                .expect("32 bytes is a valid HKDF length");
            DataKey(k)
        }
    }

    /// Seals `secret` to `to`. Returns the capsule and its ephemeral scalar `e`
    /// (needed for a binding proof, then dropped and zeroized).
    pub fn seal<R: RngCore + CryptoRng>(
        rng: &mut R,
        secret: &CapsuleSecret,
        to: &Point,
    ) -> Result<(Capsule, Zeroizing<Scalar>)> {
        to.validate()?;
        let x = curve25519_dalek::edwards::CompressedEdwardsY(to.0)
            .decompress()
            .ok_or(Error::InvalidPoint)?;
        let e = Zeroizing::new(Scalar::random(rng));
        let big_e = EdwardsPoint::mul_base(&e);
        let c = secret.point()? + x * *e;
        Ok((
            Capsule {
                e: Point(big_e.compress().0),
                c: Point(c.compress().0),
            },
            e,
        ))
    }

    /// Opens a capsule with the user's key: `M = C − x·E`.
    pub fn open(capsule: &Capsule, key: &UserSecretKey) -> Result<CapsuleSecret> {
        open_with_scalar(capsule, &key.edwards_scalar())
    }

    pub(crate) fn open_with_scalar(capsule: &Capsule, x: &Scalar) -> Result<CapsuleSecret> {
        capsule.e.check_decodes()?;
        capsule.c.check_decodes()?;
        let e = curve25519_dalek::edwards::CompressedEdwardsY(capsule.e.0)
            .decompress()
            .ok_or(Error::InvalidPoint)?;
        let c = curve25519_dalek::edwards::CompressedEdwardsY(capsule.c.0)
            .decompress()
            .ok_or(Error::InvalidPoint)?;
        // M is in the prime-order subgroup. A re-encrypted capsule may carry
        // a torsion component (the program does not check node
        // contributions' subgroup, see `reencrypt`): project onto the
        // prime-order subgroup, Q ↦ (8⁻¹ mod l)·(8·Q), which is the identity
        // map on honest capsules.
        let q = (c - e * x).mul_by_cofactor() * inverse_of_eight();
        Ok(CapsuleSecret(q.compress().0))
    }

    /// `8⁻¹ mod l`.
    fn inverse_of_eight() -> Scalar {
        Scalar::from(8u8).invert()
    }
}
