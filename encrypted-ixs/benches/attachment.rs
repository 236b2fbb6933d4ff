//! Attachment sealing and opening, streamed: MB/s on one core and peak
//! resident memory, for a 1 GiB file by default
//! (`MEDSHARE_ATTACHMENT_MIB` changes the size).
//!
//! `cargo bench -p encrypted-ixs --bench attachment`
//!
//! The file is generated on the fly (a 1 MiB random block repeated) and the
//! blob goes to a temporary file, so neither is ever in memory. The peer,
//! measured in the same run, is ChaCha20-Poly1305 alone over the same bytes
//! in 64 KiB buffers (no hashing, no I/O): the ratio is what streaming, the
//! content hash and the file I/O cost on top of the cipher.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read};
use std::time::Instant;

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use encrypted_ixs::attachment::{open, seal, AttachmentKey, DEFAULT_CHUNK_SIZE};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Yields `total` bytes: one random MiB, repeated.
struct Source {
    block: Vec<u8>,
    left: u64,
    at: usize,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let n = buf
            .len()
            .min(self.block.len() - self.at)
            .min(self.left as usize);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at = (self.at + n) % self.block.len();
        self.left -= n as u64;
        Ok(n)
    }
}

/// Peak resident set size (VmHWM) in MiB, from /proc/self/status.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mb_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / 1e6 / secs
}

fn main() {
    let mib: u64 = std::env::var("MEDSHARE_ATTACHMENT_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let total = mib << 20;
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut block = vec![0u8; 1 << 20];
    rng.fill_bytes(&mut block);
    let key = AttachmentKey::from_bytes([3; 32]);
    let path =
        std::env::temp_dir().join(format!("medshare-attachment-bench-{}", std::process::id()));
    let rss_start = peak_rss_mib().unwrap_or(0.0);

    // Seal: generated file → blob on disk.
    let source = Source {
        block: block.clone(),
        left: total,
        at: 0,
    };
    let out = BufWriter::with_capacity(1 << 20, File::create(&path).expect("temp file"));
    let t0 = Instant::now();
    let sealed = seal(&key, DEFAULT_CHUNK_SIZE, &mut rng, source, out).expect("seal");
    let seal_s = t0.elapsed().as_secs_f64();
    let rss_seal = peak_rss_mib().unwrap_or(0.0);

    // Open: blob on disk → discarded plaintext.
    let t0 = Instant::now();
    let n = open(
        &key,
        BufReader::with_capacity(1 << 20, File::open(&path).expect("blob")),
        io::sink(),
    )
    .expect("open");
    let open_s = t0.elapsed().as_secs_f64();
    let rss_open = peak_rss_mib().unwrap_or(0.0);
    let _ = std::fs::remove_file(&path);
    assert_eq!(n, total);

    // Peer: the cipher alone, 64 KiB at a time, in memory.
    let cipher = ChaCha20Poly1305::new((&[5u8; 32]).into());
    let mut buf = block[..DEFAULT_CHUNK_SIZE as usize].to_vec();
    let chunks = total / u64::from(DEFAULT_CHUNK_SIZE);
    let t0 = Instant::now();
    for i in 0..chunks {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&i.to_le_bytes());
        let tag = cipher
            .encrypt_in_place_detached((&nonce).into(), b"", &mut buf)
            .expect("encrypt");
        std::hint::black_box(tag);
    }
    let peer_s = t0.elapsed().as_secs_f64();

    println!(
        "attachment, {mib} MiB, chunk {} KiB, one core",
        DEFAULT_CHUNK_SIZE / 1024
    );
    println!(
        "  seal  {:>8.1} MB/s   ({:.2} s, blob {} bytes, SHA-256 {})",
        mb_s(total, seal_s),
        seal_s,
        sealed.blob_len,
        hex::encode(&sealed.sha256[..8])
    );
    println!(
        "  open  {:>8.1} MB/s   ({:.2} s)",
        mb_s(total, open_s),
        open_s
    );
    println!(
        "  peer: ChaCha20-Poly1305 alone {:.1} MB/s; seal / peer = {:.2}, open / peer = {:.2}",
        mb_s(total, peer_s),
        peer_s / seal_s,
        peer_s / open_s
    );
    println!(
        "  peak RSS: {:.1} MiB at start, {:.1} MiB after sealing, {:.1} MiB after opening",
        rss_start, rss_seal, rss_open
    );
}
