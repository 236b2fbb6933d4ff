//! The node's key store: its secrets, encrypted at rest.
//!
//! One file holds the X25519 transport secret, the DKG state between rounds
//! and, once the DKG is done, the node's Shamir share of the cluster key. It
//! is encrypted with ChaCha20-Poly1305 under a key derived from the
//! operator's passphrase with Argon2id (RFC 9106; parameters stored in the
//! file), with `AAD = "medshare/v1/key-store" ‖ version ‖ node authority`,
//! so a file cannot be swapped between nodes unnoticed. Writes are atomic
//! (temporary file, then rename) and the file is created `0600`.
//!
//! Any change to the file, a wrong passphrase or another node's file is
//! refused with [`KeyStoreError::Undecryptable`]; nothing is overwritten.

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use borsh::{BorshDeserialize, BorshSerialize};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use encrypted_ixs::keys::{KeyShare, TransportSecret};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use solana_sdk::pubkey::Pubkey;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

const VERSION: u8 = 1;
/// AAD tag of node key stores.
pub const AAD_TAG: &[u8] = b"medshare/v1/key-store";

/// Argon2id memory cost (KiB) for new key stores: OWASP's 19 MiB minimum.
pub const ARGON2_M_COST_KIB: u32 = 19 * 1024;
/// Argon2id passes for new key stores.
pub const ARGON2_T_COST: u32 = 2;

/// Key-store failures.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The file could not be read or written.
    #[error("key store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a MedShare key store.
    #[error("key store {0} is not a MedShare key store (malformed file)")]
    Malformed(PathBuf),
    /// Authentication failed: wrong passphrase, another node's file, or the file was tampered with.
    #[error("key store {0} cannot be decrypted: wrong passphrase, another node's key store, or the file was modified")]
    Undecryptable(PathBuf),
    /// A key store already exists where `init` would create one.
    #[error("key store {0} already exists; refusing to overwrite it")]
    Exists(PathBuf),
    /// No passphrase was given.
    #[error("no passphrase: set {0} or pass --passphrase-file")]
    NoPassphrase(&'static str),
    /// An empty passphrase (the file or variable named): refused, it
    /// would seal the key with nothing.
    #[error("the passphrase in {0} is empty: an empty passphrase is refused")]
    EmptyPassphrase(String),
}

/// The secrets, in memory. Zeroized on drop; `Debug` redacted.
#[derive(Clone, Default, BorshSerialize, BorshDeserialize, Zeroize, ZeroizeOnDrop)]
pub struct Secrets {
    /// X25519 transport secret.
    pub transport: [u8; 32],
    /// Cluster this store belongs to (set at registration).
    pub cluster: [u8; 32],
    /// DKG round-1 secret package, between rounds.
    pub dkg_round1: Option<Vec<u8>>,
    /// DKG round-2 secret package, between rounds.
    pub dkg_round2: Option<Vec<u8>>,
    /// The key share, once the DKG is done ([`KeyShare::to_bytes`]).
    pub key_share: Option<Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

impl Secrets {
    /// The transport secret.
    pub fn transport(&self) -> TransportSecret {
        TransportSecret::from_bytes(self.transport)
    }

    /// The key share, if the DKG finished.
    pub fn key_share(&self) -> Option<KeyShare> {
        self.key_share
            .as_deref()
            .and_then(|b| KeyShare::from_bytes(b).ok())
    }
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u8,
    kdf: String,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// An open key store: its path, passphrase and decrypted contents.
pub struct KeyStore {
    path: PathBuf,
    /// Argon2id output for this store's salt, derived once per process.
    key: Zeroizing<[u8; 32]>,
    salt: [u8; 16],
    params: (u32, u32, u32),
    authority: Pubkey,
    /// The secrets.
    pub secrets: Secrets,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("path", &self.path)
            .field("authority", &self.authority)
            .field("secrets", &"<redacted>")
            .finish()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyStoreError + '_ {
    move |source| KeyStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn derive_key(
    passphrase: &str,
    salt: &[u8],
    m: u32,
    t: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, argon2::Error> {
    let params = Params::new(m, t, p, Some(32))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params).hash_password_into(
        passphrase.as_bytes(),
        salt,
        key.as_mut(),
    )?;
    Ok(key)
}

/// `tag ‖ version ‖ owner`: what a sealed file is bound to.
pub fn aad(tag: &[u8], owner: &Pubkey) -> Vec<u8> {
    let mut a = tag.to_vec();
    a.push(VERSION);
    a.extend_from_slice(owner.as_ref());
    a
}

/// Encrypts `plain` under a passphrase-derived key (Argon2id, fresh salt and
/// nonce) and writes it atomically, readable by the owner only.
pub fn write_sealed(
    path: &Path,
    passphrase: &str,
    aad: &[u8],
    plain: &[u8],
) -> Result<(), KeyStoreError> {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let key = derive_key(passphrase, &salt, ARGON2_M_COST_KIB, ARGON2_T_COST, 1)
        .expect("fixed Argon2 parameters are valid");
    write_with_key(
        path,
        &key,
        &salt,
        (ARGON2_M_COST_KIB, ARGON2_T_COST, 1),
        aad,
        plain,
    )
}

fn write_with_key(
    path: &Path,
    key: &[u8; 32],
    salt: &[u8],
    (m_cost_kib, t_cost, p_cost): (u32, u32, u32),
    aad: &[u8],
    plain: &[u8],
) -> Result<(), KeyStoreError> {
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let ct = ChaCha20Poly1305::new(key.into())
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .expect("in-memory encryption cannot fail");
    let file = File {
        version: VERSION,
        kdf: "argon2id".into(),
        m_cost_kib,
        t_cost,
        p_cost,
        salt: hex::encode(salt),
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(ct),
    };
    let json = serde_json::to_string_pretty(&file).expect("serializable");
    write_private(path, json.as_bytes()).map_err(io(path))
}

/// Reads and decrypts a file written by [`write_sealed`].
pub fn open_sealed(
    path: &Path,
    passphrase: &str,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
    open_sealed_with_key(path, passphrase, aad).map(|(plain, ..)| plain)
}

type Opened = (
    Zeroizing<Vec<u8>>,
    Zeroizing<[u8; 32]>,
    Vec<u8>,
    (u32, u32, u32),
);

fn open_sealed_with_key(
    path: &Path,
    passphrase: &str,
    aad: &[u8],
) -> Result<Opened, KeyStoreError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let malformed = || KeyStoreError::Malformed(path.to_path_buf());
    let file: File = serde_json::from_str(&text).map_err(|_| malformed())?;
    if file.version != VERSION || file.kdf != "argon2id" {
        return Err(malformed());
    }
    let salt = hex::decode(&file.salt).map_err(|_| malformed())?;
    let nonce: [u8; 12] = hex::decode(&file.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(malformed)?;
    let ct = hex::decode(&file.ciphertext).map_err(|_| malformed())?;
    let key = derive_key(passphrase, &salt, file.m_cost_kib, file.t_cost, file.p_cost)
        .map_err(|_| malformed())?;
    let plain = ChaCha20Poly1305::new(key.as_ref().into())
        .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| KeyStoreError::Undecryptable(path.to_path_buf()))?;
    Ok((
        plain,
        key,
        salt,
        (file.m_cost_kib, file.t_cost, file.p_cost),
    ))
}

/// Reads the node passphrase: the file named by `passphrase_file` (trailing
/// newline stripped), else `MEDSHARE_NODE_PASSPHRASE`.
pub fn passphrase(passphrase_file: Option<&Path>) -> Result<Zeroizing<String>, KeyStoreError> {
    passphrase_from("MEDSHARE_NODE_PASSPHRASE", passphrase_file)
}

/// Reads a passphrase: from the file the user named, which wins (trailing
/// newline stripped), else from the environment variable `var`. An empty
/// one is refused ([`KeyStoreError::EmptyPassphrase`]).
pub fn passphrase_from(
    var: &'static str,
    passphrase_file: Option<&Path>,
) -> Result<Zeroizing<String>, KeyStoreError> {
    let passphrase = match passphrase_file {
        Some(f) => {
            let text = Zeroizing::new(std::fs::read_to_string(f).map_err(io(f))?);
            (
                Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string()),
                f.display().to_string(),
            )
        }
        None => match std::env::var(var) {
            Ok(p) => (Zeroizing::new(p), var.to_string()),
            Err(_) => return Err(KeyStoreError::NoPassphrase(var)),
        },
    };
    if passphrase.0.is_empty() {
        return Err(KeyStoreError::EmptyPassphrase(passphrase.1));
    }
    Ok(passphrase.0)
}

impl KeyStore {
    /// Creates a new store with a fresh transport key. Refuses to overwrite.
    pub fn create(
        path: &Path,
        passphrase: Zeroizing<String>,
        authority: Pubkey,
    ) -> Result<Self, KeyStoreError> {
        if path.exists() {
            return Err(KeyStoreError::Exists(path.to_path_buf()));
        }
        let mut secrets = Secrets::default();
        OsRng.fill_bytes(&mut secrets.transport);
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let key = derive_key(&passphrase, &salt, ARGON2_M_COST_KIB, ARGON2_T_COST, 1)
            .expect("fixed Argon2 parameters are valid");
        let store = KeyStore {
            path: path.to_path_buf(),
            key,
            salt,
            params: (ARGON2_M_COST_KIB, ARGON2_T_COST, 1),
            authority,
            secrets,
        };
        store.save()?;
        Ok(store)
    }

    /// Opens and decrypts a store.
    pub fn open(
        path: &Path,
        passphrase: Zeroizing<String>,
        authority: Pubkey,
    ) -> Result<Self, KeyStoreError> {
        let (plain, key, salt, params) =
            open_sealed_with_key(path, &passphrase, &aad(AAD_TAG, &authority))?;
        let secrets = Secrets::try_from_slice(&plain)
            .map_err(|_| KeyStoreError::Malformed(path.to_path_buf()))?;
        let salt: [u8; 16] = salt
            .try_into()
            .map_err(|_| KeyStoreError::Malformed(path.to_path_buf()))?;
        Ok(KeyStore {
            path: path.to_path_buf(),
            key,
            salt,
            params,
            authority,
            secrets,
        })
    }

    /// Encrypts and writes the store atomically (same salt and derived key,
    /// fresh nonce each time, so saving costs no key derivation).
    pub fn save(&self) -> Result<(), KeyStoreError> {
        let plain = Zeroizing::new(borsh::to_vec(&self.secrets).expect("in-memory borsh"));
        write_with_key(
            &self.path,
            &self.key,
            &self.salt,
            self.params,
            &aad(AAD_TAG, &self.authority),
            &plain,
        )
    }

    /// The store's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes a file readable by its owner only, replacing `path` atomically.
///
/// The bytes go to a new file beside `path` (created with `O_EXCL`, mode
/// 0600, so neither an existing file's permissions nor a symlink planted at
/// the temporary name are ever used), are synced, and the new file is
/// renamed over `path`: a reader sees the old file or the new one, never a
/// mix, and a symlink at `path` is replaced, not followed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use rand_core::RngCore;
    use std::io::Write;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tag = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut tag);
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        hex::encode(tag)
    ));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(s: &str) -> Zeroizing<String> {
        Zeroizing::new(s.to_string())
    }

    /// An explicit `--passphrase-file` wins over the variable; an empty
    /// passphrase, from either, is refused with where it came from.
    #[test]
    fn test_passphrase_file_wins_and_empty_is_refused() {
        const VAR: &str = "MEDSHARE_TEST_PASSPHRASE_PRECEDENCE";
        let dir = std::env::temp_dir().join(format!("medshare-pass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pass");
        std::fs::write(&file, "from the file\n").unwrap();
        // No other test reads or writes this variable.
        std::env::set_var(VAR, "from the variable");
        assert_eq!(*passphrase_from(VAR, Some(&file)).unwrap(), "from the file");
        assert_eq!(*passphrase_from(VAR, None).unwrap(), "from the variable");
        std::fs::write(&file, "\n").unwrap();
        let e = passphrase_from(VAR, Some(&file)).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the passphrase in {} is empty: an empty passphrase is refused",
                file.display()
            )
        );
        std::env::set_var(VAR, "");
        assert_eq!(
            passphrase_from(VAR, None).unwrap_err().to_string(),
            format!("the passphrase in {VAR} is empty: an empty passphrase is refused")
        );
        std::env::remove_var(VAR);
        assert!(matches!(
            passphrase_from(VAR, None),
            Err(KeyStoreError::NoPassphrase(VAR))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Key files are created new and owner-only: an existing file's loose
    /// permissions are not kept, and a symlink at the path is replaced, not
    /// followed (its target is untouched).
    #[cfg(unix)]
    #[test]
    fn test_write_private_is_owner_only_and_never_follows_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("medshare-private-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wallet.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"secret").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"secret");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A symlink planted at the path points at a file the attacker reads.
        let target = dir.join("attacker-readable");
        std::fs::write(&target, "nothing").unwrap();
        let link = dir.join("keys.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_private(&link, b"secret").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"nothing");
        assert!(!std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&link).unwrap(), b"secret");
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn test_key_store_roundtrip_and_refusals() {
        let dir = std::env::temp_dir().join(format!("mpc-node-ks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("node-keys.json");
        let _ = std::fs::remove_file(&path);
        let me = Pubkey::new_unique();
        let mut ks = KeyStore::create(&path, pass("correct horse"), me).unwrap();
        ks.secrets.key_share = Some(vec![1, 2, 3]);
        ks.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(&hex::encode(ks.secrets.transport)),
            "secret in the clear"
        );
        let back = KeyStore::open(&path, pass("correct horse"), me).unwrap();
        assert_eq!(back.secrets.transport, ks.secrets.transport);
        assert_eq!(back.secrets.key_share, Some(vec![1, 2, 3]));
        assert!(!format!("{back:?}").contains(&hex::encode(ks.secrets.transport)));
        // Wrong passphrase, another node, tampering: refused, file untouched.
        assert!(matches!(
            KeyStore::open(&path, pass("wrong"), me),
            Err(KeyStoreError::Undecryptable(_))
        ));
        assert!(matches!(
            KeyStore::open(&path, pass("correct horse"), Pubkey::new_unique()),
            Err(KeyStoreError::Undecryptable(_))
        ));
        let mut file: serde_json::Value = serde_json::from_str(&text).unwrap();
        let ct = file["ciphertext"].as_str().unwrap().to_string();
        let flipped = format!("{}{}", if &ct[..1] == "0" { "1" } else { "0" }, &ct[1..]);
        file["ciphertext"] = serde_json::Value::String(flipped);
        std::fs::write(&path, file.to_string()).unwrap();
        let err = KeyStore::open(&path, pass("correct horse"), me).unwrap_err();
        assert!(matches!(err, KeyStoreError::Undecryptable(_)));
        assert!(err.to_string().contains("cannot be decrypted"));
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            KeyStore::open(&path, pass("correct horse"), me),
            Err(KeyStoreError::Malformed(_))
        ));
        assert!(matches!(
            KeyStore::create(&path, pass("x"), me),
            Err(KeyStoreError::Exists(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
