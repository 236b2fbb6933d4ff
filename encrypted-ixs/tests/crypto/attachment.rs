//! Attachments (STREAM over ChaCha20-Poly1305): round trips at every chunk
//! boundary, and every way a blob can be damaged or swapped failing with
//! `Tampered` (or `BadHeader`).

use encrypted_ixs::attachment::{
    blob_digest, open, seal, AttachmentError, AttachmentKey, Sealed, DEFAULT_CHUNK_SIZE,
    HEADER_LEN, MIN_CHUNK_SIZE, TAG_LEN,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

const CHUNK: u32 = MIN_CHUNK_SIZE;

fn key(id: u8) -> AttachmentKey {
    AttachmentKey::from_bytes([id; 32])
}

fn plaintext(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut v);
    v
}

fn sealed(k: &AttachmentKey, data: &[u8], chunk: u32) -> (Vec<u8>, Sealed) {
    let mut blob = Vec::new();
    let s = seal(
        k,
        chunk,
        &mut ChaCha20Rng::seed_from_u64(1),
        data,
        &mut blob,
    )
    .unwrap();
    (blob, s)
}

fn opened(k: &AttachmentKey, blob: &[u8]) -> Result<Vec<u8>, AttachmentError> {
    let mut out = Vec::new();
    open(k, blob, &mut out).map(|_| out)
}

#[test]
fn test_attachment_round_trips_at_every_chunk_boundary() {
    let k = key(1);
    let c = CHUNK as usize;
    for len in [0, 1, c - 1, c, c + 1, 3 * c, 3 * c + 17] {
        let data = plaintext(len, len as u64);
        let (blob, s) = sealed(&k, &data, CHUNK);
        let chunks = len.div_ceil(c).max(1);
        assert_eq!(s.plaintext_len, len as u64);
        assert_eq!(s.blob_len, blob.len() as u64);
        assert_eq!(blob.len(), HEADER_LEN + len + chunks * TAG_LEN, "len {len}");
        assert_eq!(
            blob_digest(blob.as_slice()).unwrap(),
            (s.sha256, s.blob_len)
        );
        assert_eq!(opened(&k, &blob).unwrap(), data, "len {len}");
    }
}

#[test]
fn test_attachment_default_chunk_size_round_trip() {
    let k = key(2);
    let data = plaintext(DEFAULT_CHUNK_SIZE as usize * 2 + 5, 9);
    let (blob, s) = sealed(&k, &data, DEFAULT_CHUNK_SIZE);
    assert_eq!(s.chunk_size, DEFAULT_CHUNK_SIZE);
    assert_eq!(opened(&k, &blob).unwrap(), data);
}

#[test]
fn test_attachment_ciphertext_hides_the_plaintext_and_is_fresh_per_seal() {
    let k = key(3);
    let data = vec![0u8; 4 * CHUNK as usize];
    let (a, _) = sealed(&k, &data, CHUNK);
    let mut b = Vec::new();
    seal(
        &k,
        CHUNK,
        &mut ChaCha20Rng::seed_from_u64(2),
        data.as_slice(),
        &mut b,
    )
    .unwrap();
    assert_ne!(a, b, "a new nonce prefix per seal");
    assert!(
        !a.windows(64).any(|w| w == &data[..64]),
        "no plaintext run in the blob"
    );
}

fn assert_tampered(k: &AttachmentKey, blob: &[u8], what: &str) {
    match opened(k, blob) {
        Err(AttachmentError::Tampered) => {}
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn test_attachment_damage_is_detected() {
    let k = key(4);
    let c = CHUNK as usize;
    let full = c + TAG_LEN;
    let data = plaintext(3 * c + 100, 4);
    let (blob, _) = sealed(&k, &data, CHUNK);
    let chunk = |i: usize| HEADER_LEN + i * full..(HEADER_LEN + (i + 1) * full).min(blob.len());

    // One bit flipped in a chunk, in a tag.
    let mut b = blob.clone();
    b[HEADER_LEN + 10] ^= 1;
    assert_tampered(&k, &b, "flipped ciphertext bit");
    let mut b = blob.clone();
    b[HEADER_LEN + full - 1] ^= 0x80;
    assert_tampered(&k, &b, "flipped tag bit");

    // Truncated: inside the last chunk, at a chunk boundary (the last chunk
    // dropped), and down to the header alone.
    assert_tampered(&k, &blob[..blob.len() - 1], "cut inside the last chunk");
    assert_tampered(&k, &blob[..HEADER_LEN + 3 * full], "last chunk dropped");
    assert_tampered(
        &k,
        &blob[..HEADER_LEN + full],
        "all but the first chunk dropped",
    );
    assert_tampered(&k, &blob[..HEADER_LEN], "header only");

    // Reordered: chunks 0 and 1 swapped.
    let mut b = blob[..HEADER_LEN].to_vec();
    b.extend_from_slice(&blob[chunk(1)]);
    b.extend_from_slice(&blob[chunk(0)]);
    b.extend_from_slice(&blob[HEADER_LEN + 2 * full..]);
    assert_tampered(&k, &b, "chunks swapped");

    // A chunk duplicated.
    let mut b = blob[..HEADER_LEN + full].to_vec();
    b.extend_from_slice(&blob[chunk(0)]);
    b.extend_from_slice(&blob[HEADER_LEN + full..]);
    assert_tampered(&k, &b, "chunk duplicated");

    // A chunk from another blob of the same attachment key.
    let (other, _) = {
        let mut o = Vec::new();
        let s = seal(
            &k,
            CHUNK,
            &mut ChaCha20Rng::seed_from_u64(77),
            data.as_slice(),
            &mut o,
        )
        .unwrap();
        (o, s)
    };
    let mut b = blob.clone();
    b[chunk(1)].copy_from_slice(&other[chunk(1)]);
    assert_tampered(&k, &b, "chunk from another blob");

    // Extra bytes after the last chunk.
    let mut b = blob.clone();
    b.extend_from_slice(&[0u8; 40]);
    assert_tampered(&k, &b, "bytes appended");
}

#[test]
fn test_attachment_wrong_key_or_swapped_blob_refused() {
    let data = plaintext(2 * CHUNK as usize, 5);
    let (blob, _) = sealed(&key(5), &data, CHUNK);
    // Another attachment's key; a fresh random key.
    assert_tampered(&key(6), &blob, "another attachment's key");
    let fresh = AttachmentKey::generate(&mut ChaCha20Rng::seed_from_u64(8));
    assert_tampered(&fresh, &blob, "a fresh random key");
}

#[test]
fn test_attachment_header_is_authenticated_and_checked() {
    let k = key(7);
    let data = plaintext(2 * CHUNK as usize, 6);
    let (blob, _) = sealed(&k, &data, CHUNK);
    // Nonce prefix changed: every chunk fails.
    let mut b = blob.clone();
    b[12] ^= 1;
    assert_tampered(&k, &b, "nonce prefix changed");
    // Chunk size changed to another valid size: refused (the AAD is the header).
    let mut b = blob.clone();
    b[8..12].copy_from_slice(&(2 * CHUNK).to_le_bytes());
    assert_tampered(&k, &b, "chunk size changed");
    // Not a blob at all; an unknown version; a chunk size out of range.
    for (at, v) in [(0usize, b'X'), (4, 2), (11, 0x7f)] {
        let mut b = blob.clone();
        b[at] = v;
        assert!(
            matches!(opened(&k, &b), Err(AttachmentError::BadHeader)),
            "byte {at}"
        );
    }
    assert!(matches!(
        opened(&k, &blob[..10]),
        Err(AttachmentError::BadHeader)
    ));
}

#[test]
fn test_attachment_chunk_size_limits() {
    let k = key(8);
    let mut out = Vec::new();
    let err = seal(
        &k,
        MIN_CHUNK_SIZE - 1,
        &mut ChaCha20Rng::seed_from_u64(0),
        &b""[..],
        &mut out,
    )
    .unwrap_err();
    assert!(matches!(err, AttachmentError::ChunkSize(c) if c == MIN_CHUNK_SIZE - 1));
    assert_eq!(err.to_string(), "chunk size 1023 is outside 1 KiB..=16 MiB");
}

#[test]
fn test_attachment_key_debug_is_redacted() {
    assert_eq!(format!("{:?}", key(9)), "AttachmentKey(<redacted>)");
}

/// `sealed_len` is exactly what `seal` writes, at every chunk boundary, so
/// a reader can refuse a record that commits to any other length before it
/// downloads a byte.
#[test]
fn test_sealed_len_matches_seal() {
    let k = key(9);
    let chunk = MIN_CHUNK_SIZE;
    for len in [0usize, 1, 1023, 1024, 1025, 2048, 3 * 1024 + 7] {
        let (blob, _) = sealed(&k, &plaintext(len, len as u64), chunk);
        assert_eq!(
            encrypted_ixs::attachment::sealed_len(len as u64, chunk),
            Some(blob.len() as u64),
            "{len}"
        );
    }
    assert_eq!(encrypted_ixs::attachment::sealed_len(10, 7), None);
    assert_eq!(
        encrypted_ixs::attachment::sealed_len(u64::MAX, MIN_CHUNK_SIZE),
        None
    );
}
