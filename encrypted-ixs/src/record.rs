//! Record payloads: one ChaCha20-Poly1305 ciphertext per field group.
//!
//! A record's fields are grouped (identity, vitals, diagnoses, ...); each group
//! gets its own fresh capsule secret `M`, hence its own data key, so a patient
//! can share exactly the groups a recipient needs. Per group the record holds:
//!
//! - the *cluster capsule* `(E, C)` sealed to the cluster key `P`, with its
//!   [binding proof](crate::binding): what the cluster re-encrypts;
//! - the *owner capsule* sealed to the owner's own key: how the patient reads
//!   the record back without asking the cluster;
//! - a random 96-bit nonce and the ChaCha20-Poly1305 ciphertext (RFC 8439)
//!   of the group's bytes under `K`, with
//!   `AAD = record address ‖ group ‖ record version (u32 LE)`.
//!
//! A ciphertext moved to another record, group or version fails to decrypt.

use borsh::{BorshDeserialize, BorshSerialize};

use crate::binding::BindingProof;
use crate::capsule::Capsule;

/// Nonce length of ChaCha20-Poly1305.
pub const NONCE_LEN: usize = 12;
/// Authentication tag length of ChaCha20-Poly1305.
pub const TAG_LEN: usize = 16;

/// One sealed field group as stored on-chain.
#[derive(Clone, PartialEq, Eq, Debug, BorshSerialize, BorshDeserialize)]
pub struct SealedGroup {
    /// Field group number.
    pub group: u8,
    /// Capsule for the cluster key.
    pub cluster_capsule: Capsule,
    /// Binding proof of the cluster capsule to this record.
    pub binding: BindingProof,
    /// Capsule for the owner's own key.
    pub owner_capsule: Capsule,
    /// AEAD nonce.
    pub nonce: [u8; NONCE_LEN],
    /// AEAD ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

/// The associated data of a group's ciphertext.
pub fn aad(record: &[u8; 32], group: u8, version: u32) -> [u8; 37] {
    let mut a = [0u8; 37];
    a[..32].copy_from_slice(record);
    a[32] = group;
    a[33..].copy_from_slice(&version.to_le_bytes());
    a
}

#[cfg(feature = "client")]
pub use client::*;

#[cfg(feature = "client")]
mod client {
    use super::*;
    use crate::binding::seal_bound;
    use crate::capsule::{open, seal, CapsuleSecret, DataKey, RecordContext};
    use crate::error::{Error, Result};
    use crate::keys::UserSecretKey;
    use crate::point::Point;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{ChaCha20Poly1305, Nonce};
    use rand_core::{CryptoRng, RngCore};
    use zeroize::Zeroizing;

    /// Encrypts `plaintext` under `key` with a random nonce.
    pub fn encrypt<R: RngCore + CryptoRng>(
        rng: &mut R,
        key: &DataKey,
        aad: &[u8],
        plaintext: &[u8],
    ) -> ([u8; NONCE_LEN], Vec<u8>) {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let cipher = ChaCha20Poly1305::new((&key.0).into());
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .expect("ChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        (nonce, ct)
    }

    /// Decrypts and authenticates.
    pub fn decrypt(
        key: &DataKey,
        aad: &[u8],
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        if ciphertext.len() < TAG_LEN {
            return Err(Error::TruncatedCiphertext);
        }
        let cipher = ChaCha20Poly1305::new((&key.0).into());
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| Error::DecryptionFailed)
    }

    /// Seals one field group of record version `version`: a fresh `M`, a
    /// cluster capsule with its binding proof, an owner capsule, and the
    /// ciphertext.
    pub fn seal_group<R: RngCore + CryptoRng>(
        rng: &mut R,
        ctx: &RecordContext,
        version: u32,
        plaintext: &[u8],
        cluster_key: &Point,
        owner_key: &Point,
    ) -> Result<SealedGroup> {
        if ctx.group as usize >= crate::MAX_GROUPS {
            return Err(Error::InvalidGroup(ctx.group));
        }
        let m = CapsuleSecret::generate(rng);
        let (cluster_capsule, binding) = seal_bound(rng, &m, cluster_key, ctx)?;
        let (owner_capsule, _e) = seal(rng, &m, owner_key)?;
        let (nonce, ciphertext) = encrypt(
            rng,
            &m.data_key(ctx),
            &aad(&ctx.record, ctx.group, version),
            plaintext,
        );
        Ok(SealedGroup {
            group: ctx.group,
            cluster_capsule,
            binding,
            owner_capsule,
            nonce,
            ciphertext,
        })
    }

    /// Decrypts a group with its capsule secret `M` (from the owner capsule, or
    /// from a re-encrypted capsule).
    pub fn open_group_with(
        sealed: &SealedGroup,
        secret: &CapsuleSecret,
        ctx: &RecordContext,
        version: u32,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.group != ctx.group {
            return Err(Error::InvalidGroup(sealed.group));
        }
        decrypt(
            &secret.data_key(ctx),
            &aad(&ctx.record, ctx.group, version),
            &sealed.nonce,
            &sealed.ciphertext,
        )
    }

    /// The owner reads a group back through its owner capsule.
    pub fn open_own_group(
        sealed: &SealedGroup,
        owner: &UserSecretKey,
        ctx: &RecordContext,
        version: u32,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let m = open(&sealed.owner_capsule, owner)?;
        open_group_with(sealed, &m, ctx, version)
    }
}
