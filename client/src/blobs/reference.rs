//! A blob reference: what a sealed group body says about one blob (see the
//! parent module for where blobs live and how they are read).

use std::fmt;

use encrypted_ixs::attachment::AttachmentKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// What a sealed group body says about one blob. `Debug` leaves out the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRef {
    /// SHA-256 of the blob (64 lowercase hex digits): its content address.
    #[serde(deserialize_with = "sha_from_hex")]
    pub sha256: String,
    /// Plaintext bytes.
    pub size: u64,
    /// Blob bytes (header, chunks, tags).
    pub blob_len: u64,
    /// Chunk size.
    pub chunk_size: u32,
    /// Where it is: the store's URL joined with its name.
    pub locator: String,
    /// The blob's own key (hex), readable only inside the sealed group.
    #[serde(serialize_with = "key_hex", deserialize_with = "key_from_hex")]
    pub(super) key: KeyBytes,
}

#[derive(Clone, PartialEq, Eq)]
pub(super) struct KeyBytes(Zeroizing<[u8; 32]>);

impl KeyBytes {
    pub(super) fn new(key: Zeroizing<[u8; 32]>) -> Self {
        KeyBytes(key)
    }
}

fn sha_from_hex<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let digest = String::deserialize(d)?;
    if digest.len() != 64
        || !digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(serde::de::Error::custom(
            "blob hash is not 64 lowercase hex digits",
        ));
    }
    Ok(digest)
}

fn key_hex<S: Serializer>(key: &KeyBytes, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&Zeroizing::new(hex::encode(*key.0)))
}

fn key_from_hex<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<KeyBytes, D::Error> {
    let text = Zeroizing::new(String::deserialize(d)?);
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.as_str(), key.as_mut())
        .map_err(|_| serde::de::Error::custom("blob key is not 64 hex digits"))?;
    Ok(KeyBytes(key))
}

impl fmt::Debug for BlobRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobRef")
            .field("sha256", &self.sha256)
            .field("size", &self.size)
            .field("blob_len", &self.blob_len)
            .field("chunk_size", &self.chunk_size)
            .field("locator", &self.locator)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl BlobRef {
    pub(super) fn key(&self) -> AttachmentKey {
        AttachmentKey::from_bytes(*self.key.0)
    }

    /// The first 12 hex digits of the hash, for messages.
    pub fn short(&self) -> &str {
        &self.sha256[..self.sha256.len().min(12)]
    }
}
