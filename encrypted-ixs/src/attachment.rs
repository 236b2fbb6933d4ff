//! Attachments: files of any size, sealed off-chain in fixed-size chunks,
//! each under its own key.
//!
//! **Construction.** STREAM (Hoang, Reyhanitabar, Rogaway and Vizár,
//! "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance",
//! CRYPTO 2015) over ChaCha20-Poly1305, as RustCrypto's
//! `aead::stream::StreamBE32` implements it: chunk `i`'s nonce is the blob's
//! random 7-byte prefix ‖ `i` as a 32-bit big-endian counter ‖ a byte that is
//! 1 on the last chunk only. A chunk moved, dropped or duplicated, a blob cut
//! at a chunk boundary or inside a chunk, and a chunk from another blob all
//! fail authentication.
//!
//! **Key.** The client gives each blob a fresh key
//! ([`AttachmentKey::generate`]) and carries it inside the field group's
//! sealed body, so whoever can open the group (its owner, a share's
//! recipient) can open its blobs, and nobody else.
//!
//! **Layout.** A 32-byte header, then the chunks:
//!
//! ```text
//! header  "MSA1" | version 1 | 3 zero bytes | chunk size (u32 LE) | nonce prefix (7) | 13 zero bytes
//! chunk   ChaCha20-Poly1305(K_a, nonce_i, aad = header, chunk_size bytes) — 16-byte tag appended
//! last    the same over the remaining 0..=chunk_size bytes, with the last-chunk flag
//! ```
//!
//! Every chunk's AAD is the header, so the chunk size and prefix cannot be
//! changed either. The blob's content address is the SHA-256 of all its
//! bytes ([`Sealed::sha256`]); a reader checks it before decrypting.
//!
//! **Memory.** [`seal`] and [`open`] hold two chunks at a time, whatever the
//! size of the file.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};

use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Header length in bytes.
pub const HEADER_LEN: usize = 32;
/// Authentication tag per chunk.
pub const TAG_LEN: usize = 16;
/// Chunk size used unless another is asked for (64 KiB).
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// Smallest chunk size accepted (1 KiB).
pub const MIN_CHUNK_SIZE: u32 = 1024;
/// Largest chunk size accepted (16 MiB): what a reader must buffer.
pub const MAX_CHUNK_SIZE: u32 = 16 * 1024 * 1024;
const MAGIC: &[u8; 4] = b"MSA1";
const VERSION: u8 = 1;
const PREFIX_LEN: usize = 7;

/// The length of the blob [`seal`] makes of `size` plaintext bytes in
/// chunks of `chunk_size`: the header, then every chunk with its tag (an
/// empty plaintext still has one, empty, last chunk). `None` for a chunk
/// size out of range or a length that overflows. A reader compares the
/// length a record commits to with this before downloading anything.
pub fn sealed_len(size: u64, chunk_size: u32) -> Option<u64> {
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return None;
    }
    let chunks = size.div_ceil(u64::from(chunk_size)).max(1);
    chunks
        .checked_mul(TAG_LEN as u64)?
        .checked_add(size)?
        .checked_add(HEADER_LEN as u64)
}

/// Why an attachment could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    /// Reading or writing failed.
    #[error("attachment I/O: {0}")]
    Io(#[from] io::Error),
    /// Not an attachment blob, or a version or chunk size this code does not read.
    #[error("not a MedShare attachment (bad header)")]
    BadHeader,
    /// A chunk size outside `MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE`.
    #[error("chunk size {0} is outside 1 KiB..=16 MiB")]
    ChunkSize(u32),
    /// A chunk failed authentication: wrong key, or the blob was modified,
    /// reordered, truncated or mixed with another.
    #[error(
        "attachment does not decrypt: wrong key, or the blob was modified, reordered or truncated"
    )]
    Tampered,
    /// More than 2³² − 1 chunks.
    #[error("attachment too large for its chunk size")]
    TooLarge,
}

/// One attachment's key. Zeroized on drop; `Debug` redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AttachmentKey([u8; 32]);

impl fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AttachmentKey(<redacted>)")
    }
}

impl AttachmentKey {
    /// A fresh random key. The client gives every blob its own and carries
    /// it inside the field group's sealed body, so the blob opens for exactly
    /// whoever can open the group (see the crate README, *Attachments*).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> AttachmentKey {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        AttachmentKey(k)
    }

    /// A key from its 32 bytes (as carried in a sealed group body).
    pub fn from_bytes(bytes: [u8; 32]) -> AttachmentKey {
        AttachmentKey(bytes)
    }

    /// The key's bytes, to carry inside a sealed group body. Never log them.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0)
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new((&self.0).into())
    }
}

/// What sealing produced: what the record commits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// Plaintext bytes.
    pub plaintext_len: u64,
    /// Blob bytes (header, chunks and tags).
    pub blob_len: u64,
    /// SHA-256 of the blob: its content address.
    pub sha256: [u8; 32],
    /// Chunk size.
    pub chunk_size: u32,
}

fn header(chunk_size: u32, prefix: &[u8; PREFIX_LEN]) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(MAGIC);
    h[4] = VERSION;
    h[8..12].copy_from_slice(&chunk_size.to_le_bytes());
    h[12..12 + PREFIX_LEN].copy_from_slice(prefix);
    h
}

fn parse_header(h: &[u8; HEADER_LEN]) -> Result<(u32, [u8; PREFIX_LEN]), AttachmentError> {
    let chunk_size = u32::from_le_bytes(h[8..12].try_into().expect("4 bytes"));
    let zeros = h[5..8].iter().chain(&h[12 + PREFIX_LEN..]).all(|b| *b == 0);
    if &h[..4] != MAGIC || h[4] != VERSION || !zeros {
        return Err(AttachmentError::BadHeader);
    }
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return Err(AttachmentError::BadHeader);
    }
    let prefix = h[12..12 + PREFIX_LEN].try_into().expect("7 bytes");
    Ok((chunk_size, prefix))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hash.update(bytes);
        self.len += bytes.len() as u64;
        self.inner.write_all(bytes)
    }
}

/// Seals everything `reader` yields into `writer`, in chunks of
/// `chunk_size` bytes, under `key`.
pub fn seal<R: RngCore + CryptoRng>(
    key: &AttachmentKey,
    chunk_size: u32,
    rng: &mut R,
    mut reader: impl Read,
    writer: impl Write,
) -> Result<Sealed, AttachmentError> {
    if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
        return Err(AttachmentError::ChunkSize(chunk_size));
    }
    let mut prefix = [0u8; PREFIX_LEN];
    rng.fill_bytes(&mut prefix);
    let head = header(chunk_size, &prefix);
    let mut out = Hashing {
        inner: writer,
        hash: Sha256::new(),
        len: 0,
    };
    out.put(&head)?;
    let mut enc = EncryptorBE32::from_aead(key.cipher(), (&prefix).into());
    let size = chunk_size as usize;
    // Two buffers: the chunk being sealed and the one after it, so the last
    // chunk is known before it is sealed.
    // Plaintext buffers: zeroized when dropped, on every path.
    let mut cur = Zeroizing::new(vec![0u8; size + TAG_LEN]);
    let mut next = Zeroizing::new(vec![0u8; size + TAG_LEN]);
    let mut cur_len = read_full(&mut reader, &mut cur[..size])?;
    let mut plaintext_len = cur_len as u64;
    let mut chunks: u64 = 0;
    loop {
        let next_len = if cur_len == size {
            read_full(&mut reader, &mut next[..size])?
        } else {
            0
        };
        let last = next_len == 0;
        chunks += 1;
        if chunks > u64::from(u32::MAX) {
            return Err(AttachmentError::TooLarge);
        }
        let payload = Payload {
            msg: &cur[..cur_len],
            aad: &head,
        };
        if last {
            // `encrypt_last` consumes the encryptor: the loop ends here.
            let sealed = enc
                .encrypt_last(payload)
                .map_err(|_| AttachmentError::TooLarge)?;
            out.put(&sealed)?;
            break;
        }
        let sealed = enc
            .encrypt_next(payload)
            .map_err(|_| AttachmentError::TooLarge)?;
        out.put(&sealed)?;
        std::mem::swap(&mut cur, &mut next);
        cur_len = next_len;
        plaintext_len += next_len as u64;
    }
    out.inner.flush()?;
    Ok(Sealed {
        plaintext_len,
        blob_len: out.len,
        sha256: out.hash.finalize().into(),
        chunk_size,
    })
}

/// Opens a blob from `reader`, writing the plaintext to `writer` chunk by
/// chunk; returns the plaintext length.
///
/// A failure can come after earlier chunks were written: write to a
/// temporary file and keep it only on success (the CLI does).
pub fn open(
    key: &AttachmentKey,
    reader: impl Read,
    mut writer: impl Write,
) -> Result<u64, AttachmentError> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut head = [0u8; HEADER_LEN];
    if read_full(&mut reader, &mut head)? != HEADER_LEN {
        return Err(AttachmentError::BadHeader);
    }
    let (chunk_size, prefix) = parse_header(&head)?;
    let mut dec = DecryptorBE32::from_aead(key.cipher(), (&prefix).into());
    let full = chunk_size as usize + TAG_LEN;
    let mut buf = vec![0u8; full];
    let mut total = 0u64;
    loop {
        let n = read_full(&mut reader, &mut buf)?;
        if n < TAG_LEN {
            // Not even a tag: cut inside the last chunk's tag, or at a boundary.
            return Err(AttachmentError::Tampered);
        }
        let last = n < full || reader.fill_buf()?.is_empty();
        let payload = Payload {
            msg: &buf[..n],
            aad: &head,
        };
        if last {
            let plain = Zeroizing::new(
                dec.decrypt_last(payload)
                    .map_err(|_| AttachmentError::Tampered)?,
            );
            writer.write_all(&plain)?;
            total += plain.len() as u64;
            break;
        }
        let plain = Zeroizing::new(
            dec.decrypt_next(payload)
                .map_err(|_| AttachmentError::Tampered)?,
        );
        writer.write_all(&plain)?;
        total += plain.len() as u64;
    }
    writer.flush()?;
    Ok(total)
}

/// SHA-256 and length of a blob, read once from `reader`.
pub fn blob_digest(mut reader: impl Read) -> io::Result<([u8; 32], u64)> {
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut len = 0u64;
    loop {
        let n = read_full(&mut reader, &mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hash.finalize().into(), len))
}
