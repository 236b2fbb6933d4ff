//! Off-chain blobs: attachments and field groups too large to keep inline,
//! sealed in fixed-size chunks ([`encrypted_ixs::attachment`]) and stored
//! content-addressed in an object store.
//!
//! **Where.** A store is a URL: a local directory (`/path`, `file:///path`;
//! the default is `~/.config/medshare/blobs`) or any S3-compatible bucket
//! (`s3://bucket[/prefix]`, configured by `--store-option key=value` and the
//! usual `AWS_*` variables: `AWS_ENDPOINT`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`,
//! `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`; an option overrides the variable of
//! the same name). Storage goes through Apache Arrow's `object_store`.
//!
//! **Names.** A blob lives at `<prefix>/records/<record>/<sha256 of the
//! blob>`: its name is the hash of its ciphertext, and everything of one
//! record sits under one prefix, so erasing a record deletes that prefix
//! (including blobs of earlier versions).
//!
//! **What the record commits to.** A [`BlobRef`] — hash, sizes, chunk
//! size, locator and the blob's key — travels inside a field group's sealed
//! body: on-chain (inline) for attachments and for the body of a large
//! group. Only whoever opens the group learns the key and which group a
//! blob belongs to; the store itself shows object names (the hash, under
//! the record's address) and sizes to whoever can list it.
//!
//! **Reading.** The reader looks for `records/<record>/<sha256>` in its own
//! store first, then in the store the locator names (only
//! `records/<that same record>/<that hash>`, never creating anything; with
//! S3 the request is signed with the reader's own credentials, so the
//! bucket's owner sees the reader's access key id). It downloads the whole
//! blob to a temporary file, checks its length and SHA-256 against the
//! reference *before* decrypting, then decrypts chunk by chunk. A missing,
//! truncated or swapped blob is an error and nothing is written where the
//! caller asked.

use std::collections::HashSet;
use std::fmt;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use encrypted_ixs::attachment::{self, AttachmentError, AttachmentKey, DEFAULT_CHUNK_SIZE};
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use rand_core::OsRng;
use sha2::{Digest, Sha256};
use solana_sdk::pubkey::Pubkey;
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

pub use reference::BlobRef;
use reference::KeyBytes;

/// Multipart upload part size (S3's minimum part is 5 MiB).
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts in flight during an upload.
const PARTS_IN_FLIGHT: usize = 4;

/// An object store holding sealed blobs.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    url: String,
    options: Vec<(String, String)>,
}

impl fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobStore({})", self.url)
    }
}

/// The default local store: `~/.config/medshare/blobs`.
pub fn default_store_dir() -> PathBuf {
    crate::wallet::config_dir().join("blobs")
}

fn store_err(url: &str, e: impl fmt::Display) -> ClientError {
    ClientError::Store(format!("{url}: {e}"))
}

/// Settings of an S3 store (`aws_endpoint`, `aws_region`, …): the
/// `AWS_*` variables, overridden by explicit `key=value` options.
pub fn s3_options(explicit: &[(String, String)]) -> Vec<(String, String)> {
    let mut opts: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| name.starts_with("AWS_"))
        .map(|(name, value)| (name.to_ascii_lowercase(), value))
        .collect();
    for (name, value) in explicit {
        let name = name.to_ascii_lowercase();
        opts.retain(|(existing, _)| *existing != name);
        opts.push((name, value.clone()));
    }
    opts
}

/// Parses `key=value` store options.
pub fn parse_store_options(list: &[String]) -> Result<Vec<(String, String)>> {
    list.iter()
        .map(|option| match option.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_string(), value.to_string()))
            }
            // The value is not echoed: it may be a secret key.
            _ => Err(ClientError::Store(
                "a --store-option is not key=value (e.g. aws_endpoint=http://127.0.0.1:9000)"
                    .into(),
            )),
        })
        .collect()
}

impl BlobStore {
    /// Opens the store at `url` for writing: a directory path (created if
    /// missing), `file:///dir`, or `s3://bucket[/prefix]` configured by
    /// `AWS_*` variables.
    pub fn open(url: &str) -> Result<BlobStore> {
        Self::open_with(url, &[], true)
    }

    /// Opens the store at `url` with explicit S3 options; a local directory
    /// is created only if `create`.
    pub fn open_with(url: &str, options: &[(String, String)], create: bool) -> Result<BlobStore> {
        let url = url.trim().trim_end_matches('/').to_string();
        if url.starts_with("s3://") {
            let parsed = url::Url::parse(&url).map_err(|e| store_err(&url, e))?;
            install_tls_provider();
            let opts = s3_options(options);
            let (store, prefix) =
                object_store::parse_url_opts(&parsed, opts).map_err(|e| store_err(&url, e))?;
            return Ok(BlobStore {
                store: Arc::from(store),
                prefix,
                url,
                options: options.to_vec(),
            });
        }
        let dir = match url.strip_prefix("file://") {
            Some(path) => PathBuf::from(path),
            None if url.contains("://") => {
                return Err(store_err(
                    &url,
                    "unsupported store (use a directory, file:///dir or s3://bucket)",
                ))
            }
            None => PathBuf::from(&url),
        };
        if create {
            std::fs::create_dir_all(&dir).map_err(|e| store_err(&url, e))?;
        }
        let dir = dir.canonicalize().map_err(|e| store_err(&url, e))?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| store_err(&url, e))?;
        Ok(BlobStore {
            store: Arc::new(store),
            prefix: Path::default(),
            url: format!("file://{}", dir.display()),
            options: options.to_vec(),
        })
    }

    /// The store's URL (what locators start with).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn record_dir(&self, record: &Pubkey) -> Path {
        self.prefix.clone().join("records").join(record.to_string())
    }

    fn name(&self, record: &Pubkey, sha256: &str) -> Path {
        self.record_dir(record).join(sha256)
    }

    fn blob_ref(
        &self,
        record: &Pubkey,
        sealed: attachment::Sealed,
        key: &AttachmentKey,
    ) -> BlobRef {
        let sha256 = hex::encode(sealed.sha256);
        BlobRef {
            locator: format!("{}/records/{record}/{sha256}", self.url),
            sha256,
            size: sealed.plaintext_len,
            blob_len: sealed.blob_len,
            chunk_size: sealed.chunk_size,
            key: KeyBytes::new(key.to_bytes()),
        }
    }

    /// Seals `bytes` under a fresh key and stores the blob.
    pub async fn put_bytes(&self, record: &Pubkey, bytes: &[u8]) -> Result<BlobRef> {
        let key = AttachmentKey::generate(&mut OsRng);
        let mut blob = Vec::with_capacity(bytes.len() + bytes.len() / 1024 + 64);
        let sealed = attachment::seal(&key, DEFAULT_CHUNK_SIZE, &mut OsRng, bytes, &mut blob)
            .map_err(|e| ClientError::Store(format!("sealing: {e}")))?;
        let reference = self.blob_ref(record, sealed, &key);
        self.store
            .put(
                &self.name(record, &reference.sha256),
                PutPayload::from(blob),
            )
            .await
            .map_err(|e| store_err(&self.url, e))?;
        Ok(reference)
    }

    /// Seals the file at `path` under a fresh key, chunk by chunk, into a
    /// temporary file (ciphertext only), then uploads it in parts.
    pub async fn put_file(&self, record: &Pubkey, path: &FsPath) -> Result<BlobRef> {
        let key = AttachmentKey::generate(&mut OsRng);
        let src = path.to_path_buf();
        let sealing_key = key.clone();
        let (sealed, mut tmp) = tokio::task::spawn_blocking(move || {
            let input = std::fs::File::open(&src)
                .map_err(|e| ClientError::Io(format!("{}: {e}", src.display())))?;
            let mut tmp = tempfile::tempfile().map_err(|e| ClientError::Io(e.to_string()))?;
            let sealed = attachment::seal(
                &sealing_key,
                DEFAULT_CHUNK_SIZE,
                &mut OsRng,
                std::io::BufReader::new(input),
                std::io::BufWriter::new(&mut tmp),
            )
            .map_err(|e| ClientError::Io(format!("{}: {e}", src.display())))?;
            tmp.seek(SeekFrom::Start(0))
                .map_err(|e| ClientError::Io(e.to_string()))?;
            Ok::<_, ClientError>((sealed, tmp))
        })
        .await
        .map_err(|e| ClientError::Io(e.to_string()))??;
        let reference = self.blob_ref(record, sealed, &key);
        let upload = self
            .store
            .put_multipart(&self.name(record, &reference.sha256))
            .await
            .map_err(|e| store_err(&self.url, e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match tmp.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(ClientError::Io(e.to_string()));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                return Err(store_err(&self.url, e));
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(|e| store_err(&self.url, e))?;
        Ok(reference)
    }

    /// The store `r`'s locator names, opened read-only with `AWS_*`
    /// settings only (see [`BlobStore::holder`]).
    pub fn at_locator(record: &Pubkey, r: &BlobRef) -> Result<BlobStore> {
        locator_store(record, r, &[], None)
            .map(|holder| holder.0)
            .map_err(|_| ClientError::BlobMissing {
                blob: r.short().to_string(),
                store: r.locator.clone(),
            })
    }

    /// The store `r`'s locator names (opened read-only, with this store's
    /// S3 options), and the blob's name there.
    fn holder(&self, record: &Pubkey, r: &BlobRef) -> Result<(BlobStore, Path)> {
        locator_store(record, r, &self.options, Some(self))
    }
}

/// The store a locator names and the blob's name there. The locator must
/// end in `records/<record>/<r.sha256>` for this `record`; `reuse` is
/// returned when its URL is the locator's base.
fn locator_store(
    record: &Pubkey,
    r: &BlobRef,
    options: &[(String, String)],
    reuse: Option<&BlobStore>,
) -> Result<(BlobStore, Path)> {
    let suffix = r
        .locator
        .rfind("/records/")
        .ok_or_else(|| ClientError::Store(format!("bad blob locator {}", r.locator)))?;
    let (base, rest) = r.locator.split_at(suffix);
    let rest = rest.trim_start_matches('/');
    let parts: Vec<&str> = rest.split('/').collect();
    let well_formed = parts.len() == 3
        && parts[0] == "records"
        && parts[1] == record.to_string()
        && parts[2] == r.sha256;
    if !well_formed {
        return Err(ClientError::Store(format!(
            "bad blob locator {}",
            r.locator
        )));
    }
    let store = match reuse {
        Some(reused) if reused.url == base => reused.clone(),
        _ => BlobStore::open_with(base, options, false)?,
    };
    let name = store
        .prefix
        .clone()
        .join("records")
        .join(parts[1])
        .join(parts[2]);
    Ok((store, name))
}

impl BlobStore {
    /// Finds `r`: in this store, else in the store its locator names.
    async fn find(&self, record: &Pubkey, r: &BlobRef) -> Result<object_store::GetResult> {
        match self.store.get(&self.name(record, &r.sha256)).await {
            Ok(found) => return Ok(found),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_err(&self.url, e)),
        }
        let missing = || ClientError::BlobMissing {
            blob: r.short().to_string(),
            store: self.url.clone(),
        };
        let (store, name) = match self.holder(record, r) {
            Ok(holder) => holder,
            // A locator we cannot open: the blob is not where we can look.
            Err(_) => return Err(missing()),
        };
        if store.url == self.url {
            return Err(missing());
        }
        store.store.get(&name).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => ClientError::BlobMissing {
                blob: r.short().to_string(),
                store: format!("{} (nor {})", self.url, store.url),
            },
            e => store_err(&store.url, e),
        })
    }

    /// Downloads `r` to a temporary file, checking its length and hash
    /// before anything is decrypted.
    async fn download(&self, record: &Pubkey, r: &BlobRef) -> Result<std::fs::File> {
        // The length the record commits to must be what sealing its
        // plaintext size makes: a reference that claims more would have the
        // reader fetch (and write to disk) whatever a store serves, up to
        // that claim, before the hash check could fail.
        if attachment::sealed_len(r.size, r.chunk_size) != Some(r.blob_len) {
            return Err(ClientError::BlobCorrupt {
                blob: r.short().to_string(),
                detail: format!(
                    "the record commits to {} blob bytes, which {} plaintext bytes in chunks of {} never seal to",
                    r.blob_len, r.size, r.chunk_size
                ),
            });
        }
        let got = self.find(record, r).await?;
        let url = &self.url;
        let mut stream = got.into_stream();
        let mut tmp = tempfile::tempfile().map_err(|e| ClientError::Io(e.to_string()))?;
        let mut hash = Sha256::new();
        let mut len = 0u64;
        {
            let mut writer = std::io::BufWriter::new(&mut tmp);
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| store_err(url, e))?;
                len += chunk.len() as u64;
                if len > r.blob_len {
                    break;
                }
                hash.update(&chunk);
                writer
                    .write_all(&chunk)
                    .map_err(|e| ClientError::Io(e.to_string()))?;
            }
            writer.flush().map_err(|e| ClientError::Io(e.to_string()))?;
        }
        if len != r.blob_len || hex::encode(hash.finalize()) != r.sha256 {
            return Err(ClientError::BlobCorrupt {
                blob: r.short().to_string(),
                detail: if len != r.blob_len {
                    format!("{len} bytes where the record commits to {}", r.blob_len)
                } else {
                    "its SHA-256 is not the one the record commits to".into()
                },
            });
        }
        tmp.seek(SeekFrom::Start(0))
            .map_err(|e| ClientError::Io(e.to_string()))?;
        Ok(tmp)
    }

    /// Downloads, checks and decrypts `r` into memory; refuses a blob whose
    /// plaintext is over `max` bytes.
    pub async fn get_bytes(
        &self,
        record: &Pubkey,
        r: &BlobRef,
        max: u64,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if r.size > max {
            return Err(ClientError::BlobCorrupt {
                blob: r.short().to_string(),
                detail: format!("{} bytes is over the {max}-byte limit", r.size),
            });
        }
        let blob = self.download(record, r).await?;
        let key = r.key();
        let mut out = Zeroizing::new(Vec::with_capacity(r.size as usize));
        let n = attachment::open(&key, std::io::BufReader::new(blob), &mut *out)
            .map_err(|e| opened_err(r, e))?;
        check_size(r, n)?;
        Ok(out)
    }

    /// Downloads, checks and decrypts `r` into a new temporary file in
    /// `dir`; the caller keeps it (`persist`) only when everything it
    /// needs succeeded.
    pub async fn get_to_temp(
        &self,
        record: &Pubkey,
        r: &BlobRef,
        dir: &FsPath,
    ) -> Result<tempfile::NamedTempFile> {
        let blob = self.download(record, r).await?;
        let key = r.key();
        let dir = dir.to_path_buf();
        let r2 = r.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = tempfile::NamedTempFile::new_in(&dir)
                .map_err(|e| ClientError::Io(format!("{}: {e}", dir.display())))?;
            let n = attachment::open(
                &key,
                std::io::BufReader::new(blob),
                std::io::BufWriter::new(out.as_file_mut()),
            )
            .map_err(|e| opened_err(&r2, e))?;
            check_size(&r2, n)?;
            Ok(out)
        })
        .await
        .map_err(|e| ClientError::Io(e.to_string()))?
    }

    /// Deletes blob `sha256` of `record` (absent is fine).
    pub async fn delete(&self, record: &Pubkey, sha256: &str) -> Result<()> {
        match self.store.delete(&self.name(record, sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_err(&self.url, e)),
        }
    }

    /// Names of every blob stored for `record`.
    pub async fn list(&self, record: &Pubkey) -> Result<Vec<Path>> {
        let dir = self.record_dir(record);
        let mut out = Vec::new();
        let mut listing = self.store.list(Some(&dir));
        while let Some(item) = listing.next().await {
            match item {
                Ok(meta) => out.push(meta.location),
                Err(object_store::Error::NotFound { .. }) => break,
                Err(e) => return Err(store_err(&self.url, e)),
            }
        }
        Ok(out)
    }

    /// Deletes every blob of `record` whose hash is not in `keep`; returns
    /// how many were deleted. With an empty `keep`, this erases the record's
    /// off-chain data.
    pub async fn delete_except(&self, record: &Pubkey, keep: &HashSet<String>) -> Result<usize> {
        let mut n = 0;
        for name in self.list(record).await? {
            if name
                .filename()
                .is_some_and(|file_name| keep.contains(file_name))
            {
                continue;
            }
            match self.store.delete(&name).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => n += 1,
                Err(e) => return Err(store_err(&self.url, e)),
            }
        }
        Ok(n)
    }

    /// Whether the blob `r` of `record` is in this store.
    pub async fn exists(&self, record: &Pubkey, r: &BlobRef) -> Result<bool> {
        match self.store.head(&self.name(record, &r.sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_err(&self.url, e)),
        }
    }

    /// The store `r`'s locator names, for erasing (`None` if it names none
    /// this client can open).
    pub fn store_of(&self, record: &Pubkey, r: &BlobRef) -> Option<BlobStore> {
        self.holder(record, r).ok().map(|holder| holder.0)
    }
}

fn opened_err(blob: &BlobRef, e: AttachmentError) -> ClientError {
    match e {
        AttachmentError::Io(e) => ClientError::Io(e.to_string()),
        e => ClientError::BlobCorrupt {
            blob: blob.short().to_string(),
            detail: e.to_string(),
        },
    }
}

fn check_size(blob: &BlobRef, n: u64) -> Result<()> {
    if n != blob.size {
        return Err(ClientError::BlobCorrupt {
            blob: blob.short().to_string(),
            detail: format!(
                "{n} plaintext bytes where the record commits to {}",
                blob.size
            ),
        });
    }
    Ok(())
}

/// object_store's S3 client speaks TLS through rustls, which needs a
/// process-wide crypto provider; ring is already in the build.
fn install_tls_provider() {
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
}

mod reference;
#[cfg(test)]
mod tests;
