//! `Hc(tag, ...)`: the domain-separated hash to 128-bit challenges used by
//! every proof (wire format v2).
//!
//! A transcript is SHA-256 over a length-prefixed sequence: first the tag
//! (every tag starts `medshare/v2/`), then each `(label, bytes)` pair, each
//! item preceded by its length as a little-endian `u32`. Length prefixes make
//! the encoding injective, so two different transcripts never hash the same
//! input. The challenge is the digest's first 16 bytes read as a
//! little-endian integer `c < 2^128`: already a canonical scalar, so neither
//! side reduces anything.
//!
//! Why 128 bits is enough: the proofs are special-sound sigma protocols, so a
//! prover without a witness convinces the verifier only by guessing the
//! challenge; with Fiat–Shamir each guess costs a hash evaluation, and a
//! challenge space of `2^128` gives 128-bit soundness, the level of the
//! curve itself (Schnorr, 1991; Bellare–Neven, 2006, whose analysis of
//! short-challenge Schnorr signatures this mirrors).
//!
//! Why SHA-256: on-chain it is the `sol_sha256` syscall (85 CU plus half a CU
//! per byte), where SHA-512 and a 512-bit reduction ran in software and cost
//! tens of thousands of compute units per proof. Off-chain it is `sha2`.
//!
//! The transcript is written into a fixed buffer and hashed once, so it
//! builds for SBF without allocation.

use curve25519_dalek::scalar::Scalar;

/// Domain tags. Changing one changes every proof: they are part of the format.
pub mod tags {
    /// Binding proof of a capsule to its record.
    pub const BINDING: &[u8] = b"medshare/v2/binding";
    /// Node re-encryption contribution proof.
    pub const CONTRIBUTION: &[u8] = b"medshare/v2/contribution";
    /// Bit proof of an encrypted statistics value (`stats`).
    pub const STATS_BIT: &[u8] = b"medshare/v2/stats-bit";
    /// Partial decryption proof of a study aggregate (`stats`).
    pub const STATS_PARTIAL: &[u8] = b"medshare/v2/stats-partial";
    /// Proof that a ciphertext encrypts 0 (`stats`).
    pub const STATS_ZERO: &[u8] = b"medshare/v2/stats-zero";
    /// Proof that a ciphertext encrypts a product (a square, a filtered
    /// value) of others (`stats`).
    pub const STATS_PRODUCT: &[u8] = b"medshare/v2/stats-product";
    /// A bit of a node's encrypted noise for a released statistic (`stats`).
    pub const STATS_NOISE: &[u8] = b"medshare/v2/stats-noise";
    /// A statistics field's id (`stats::field_id`).
    pub const STATS_FIELD: &[u8] = b"medshare/v2/stats-field";
    /// Hedged nonce derivation (off-chain provers only).
    pub const NONCE: &[u8] = b"medshare/v2/nonce";
    /// HKDF salt for data keys (unchanged since v1: the data-key derivation
    /// did not change with the proof format).
    pub const DATA_KEY: &[u8] = b"medshare/v1/data-key";
    /// HKDF salt for DKG round-2 transport encryption (v2: keys and AAD
    /// bind the DKG session, not only the cluster).
    pub const DKG_ROUND2: &[u8] = b"medshare/v2/dkg-round2";
    /// DKG session id: cluster, attempt, `t`, `n` and every round-1 commitment.
    pub const DKG_SESSION: &[u8] = b"medshare/v2/dkg-session";
    /// HKDF salt for key-share storage at rest (used by the node).
    pub const KEY_STORE: &[u8] = b"medshare/v1/key-store";
}

/// Largest transcript any proof writes (the contribution's is 529 bytes, the
/// binding proof's 339).
pub const MAX_TRANSCRIPT: usize = 640;

/// A 128-bit Fiat–Shamir challenge: 16 little-endian bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Challenge(pub [u8; 16]);

impl Challenge {
    /// The challenge as a scalar (always canonical: `c < 2^128 < l`).
    pub fn scalar(&self) -> Scalar {
        Scalar::from(u128::from_le_bytes(self.0))
    }

    /// The challenge as the 32-byte canonical scalar encoding the curve
    /// syscalls take.
    pub fn scalar_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&self.0);
        b
    }
}

/// A Fiat–Shamir transcript.
#[derive(Clone)]
pub struct Transcript {
    buf: [u8; MAX_TRANSCRIPT],
    len: usize,
}

impl Transcript {
    /// Starts a transcript under a domain tag.
    pub fn new(tag: &[u8]) -> Self {
        let mut t = Transcript {
            buf: [0; MAX_TRANSCRIPT],
            len: 0,
        };
        t.put(tag);
        t
    }

    fn put(&mut self, bytes: &[u8]) {
        // Every caller in this crate appends fixed-size items whose total is
        // below MAX_TRANSCRIPT (asserted by `test_transcript_sizes` in
        // tests/crypto/vectors.rs).
        let end = self.len + 4 + bytes.len();
        assert!(end <= MAX_TRANSCRIPT, "transcript overflow");
        self.buf[self.len..self.len + 4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.buf[self.len + 4..end].copy_from_slice(bytes);
        self.len = end;
    }

    /// Appends a labelled item.
    pub fn append(&mut self, label: &[u8], bytes: &[u8]) {
        self.put(label);
        self.put(bytes);
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Finishes the transcript: the challenge.
    pub fn challenge(&self) -> Challenge {
        let digest = solana_sha256_hasher::hashv(&[self.bytes()]).to_bytes();
        let mut c = [0u8; 16];
        c.copy_from_slice(&digest[..16]);
        Challenge(c)
    }
}

/// A hedged proof nonce: `SHA-512(tag ‖ label ‖ secret ‖ statement ‖ 32 random
/// bytes)` reduced mod `l`. A broken or repeated RNG alone no longer reveals
/// the secret (two proofs of different statements get different nonces), and
/// a fault that repeats the deterministic part is still masked by the fresh
/// randomness (the "hedged" signatures of Bellare–Tackmann, 2016, and
/// RFC 6979's motivation).
#[cfg(feature = "client")]
pub fn hedged_nonce<R: rand_core::RngCore + rand_core::CryptoRng>(
    rng: &mut R,
    label: &[u8],
    secret: &Scalar,
    statement: &Transcript,
) -> zeroize::Zeroizing<Scalar> {
    use sha2::{Digest, Sha512};
    use zeroize::Zeroizing;
    let mut fresh = Zeroizing::new([0u8; 32]);
    rng.fill_bytes(fresh.as_mut());
    let mut secret_bytes = Zeroizing::new(secret.to_bytes());
    let mut h = Sha512::new();
    for item in [
        tags::NONCE,
        label,
        secret_bytes.as_ref(),
        statement.bytes(),
        fresh.as_ref(),
    ] {
        h.update((item.len() as u32).to_le_bytes());
        h.update(item);
    }
    let mut wide: Zeroizing<[u8; 64]> = Zeroizing::new(h.finalize().into());
    let k = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide));
    zeroize::Zeroize::zeroize(wide.as_mut());
    zeroize::Zeroize::zeroize(secret_bytes.as_mut());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_is_a_canonical_scalar_of_the_first_16_bytes() {
        let mut t = Transcript::new(tags::BINDING);
        t.append(b"x", &[7; 32]);
        let c = t.challenge();
        let digest = solana_sha256_hasher::hashv(&[t.bytes()]).to_bytes();
        assert_eq!(c.0, digest[..16]);
        let s = c.scalar();
        assert_eq!(s.to_bytes(), c.scalar_bytes());
        assert_eq!(s.to_bytes()[16..], [0u8; 16]);
    }

    #[test]
    fn length_prefixes_separate_items() {
        let mut a = Transcript::new(tags::BINDING);
        a.append(b"ab", b"c");
        let mut b = Transcript::new(tags::BINDING);
        b.append(b"a", b"bc");
        assert_ne!(a.bytes(), b.bytes());
        assert_ne!(a.challenge(), b.challenge());
    }

    #[test]
    #[should_panic(expected = "transcript overflow")]
    fn overflow_is_refused() {
        let mut t = Transcript::new(tags::BINDING);
        t.append(b"big", &[0; MAX_TRANSCRIPT]);
    }
}
