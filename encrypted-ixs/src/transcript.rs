//! `Hs(tag, ...)`: the domain-separated hash to scalars used by every proof.
//!
//! A transcript is SHA-512 over a length-prefixed sequence: first the tag (every
//! tag starts `medshare/v1/`), then each `(label, bytes)` pair, each item preceded
//! by its length as a little-endian `u32`. The 64-byte digest is reduced mod `l`
//! (`Scalar::from_bytes_mod_order_wide`). Length prefixes make the encoding
//! injective, so two different transcripts never hash the same input.
//!
//! Builds for SBF: no allocation, `sha2` without `std`.

use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};

/// Domain tags. Changing one changes every proof: they are part of the format.
pub mod tags {
    /// Binding proof of a capsule to its record.
    pub const BINDING: &[u8] = b"medshare/v1/binding";
    /// Node re-encryption contribution proof.
    pub const CONTRIBUTION: &[u8] = b"medshare/v1/contribution";
    /// HKDF salt for data keys.
    pub const DATA_KEY: &[u8] = b"medshare/v1/data-key";
    /// HKDF salt for DKG round-2 transport encryption.
    pub const DKG_ROUND2: &[u8] = b"medshare/v1/dkg-round2";
    /// HKDF salt for key-share storage at rest (used by the node).
    pub const KEY_STORE: &[u8] = b"medshare/v1/key-store";
}

/// A Fiat–Shamir transcript.
#[derive(Clone)]
pub struct Transcript(Sha512);

impl Transcript {
    /// Starts a transcript under a domain tag.
    pub fn new(tag: &[u8]) -> Self {
        let mut t = Transcript(Sha512::new());
        t.put(tag);
        t
    }

    fn put(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u32).to_le_bytes());
        self.0.update(bytes);
    }

    /// Appends a labelled item.
    pub fn append(&mut self, label: &[u8], bytes: &[u8]) {
        self.put(label);
        self.put(bytes);
    }

    /// Finishes the transcript: the challenge scalar.
    pub fn challenge(self) -> Scalar {
        let digest: [u8; 64] = self.0.finalize().into();
        Scalar::from_bytes_mod_order_wide(&digest)
    }
}
