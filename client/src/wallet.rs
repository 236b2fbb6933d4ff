//! Wallets (Solana CLI keypair files) and encryption keys (sealed files).
//!
//! The X25519 secret never touches disk in the clear: `medshare keygen`
//! seals it with a passphrase (`MEDSHARE_PASSPHRASE` or `--passphrase-file`;
//! Argon2id + ChaCha20-Poly1305, bound to the wallet address).

use std::path::{Path, PathBuf};

use encrypted_ixs::keys::UserSecretKey;
use medshare_sdk::keystore::{self, KeyStoreError};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair};
use zeroize::Zeroizing;

use crate::error::{ClientError, Result};

/// AAD tag of sealed user keys.
pub const USER_KEY_TAG: &[u8] = b"medshare/v1/user-key";

/// `~/.config/medshare`.
pub fn config_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".config/medshare")
}

/// Default encryption-key file for a wallet.
pub fn default_key_file(wallet: &Pubkey) -> PathBuf {
    config_dir().join("keys").join(format!("{wallet}.json"))
}

/// Reads a Solana CLI keypair file.
pub fn load_wallet(path: &Path) -> Result<Keypair> {
    read_keypair_file(path).map_err(|_| {
        ClientError::Io(format!(
            "cannot read wallet keypair {} (create one with `solana-keygen new` or pass -k)",
            path.display()
        ))
    })
}

/// Creates a new wallet keypair file (Solana CLI JSON, owner-only). Refuses
/// to overwrite.
pub fn create_wallet(path: &Path) -> Result<Keypair> {
    if path.exists() {
        return Err(ClientError::Io(format!(
            "{} already exists; not overwriting a wallet",
            path.display()
        )));
    }
    if let Some(dir) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| ClientError::Io(format!("{}: {e}", dir.display())))?;
    }
    let keypair = Keypair::new();
    let json = Zeroizing::new(serde_json::to_string(&keypair.to_bytes().to_vec()).expect("JSON"));
    keystore::write_private(path, json.as_bytes())
        .map_err(|e| ClientError::Io(format!("{}: {e}", path.display())))?;
    Ok(keypair)
}

/// The passphrase for key files.
pub fn passphrase(file: Option<&Path>) -> Result<Zeroizing<String>> {
    Ok(keystore::passphrase_from("MEDSHARE_PASSPHRASE", file)?)
}

/// Creates and seals a new encryption key. Refuses to overwrite.
pub fn create_key(path: &Path, wallet: &Pubkey, passphrase: &str) -> Result<UserSecretKey> {
    if path.exists() {
        return Err(KeyStoreError::Exists(path.to_path_buf()).into());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| ClientError::Io(format!("{}: {e}", dir.display())))?;
    }
    let key = UserSecretKey::generate(&mut OsRng);
    keystore::write_sealed(
        path,
        passphrase,
        &keystore::aad(USER_KEY_TAG, wallet),
        key.to_bytes().as_ref(),
    )?;
    Ok(key)
}

/// Opens a sealed encryption key.
pub fn open_key(path: &Path, wallet: &Pubkey, passphrase: &str) -> Result<UserSecretKey> {
    if !path.exists() {
        return Err(ClientError::Io(format!(
            "no encryption key at {} (run `medshare keygen`)",
            path.display()
        )));
    }
    let bytes = keystore::open_sealed(path, passphrase, &keystore::aad(USER_KEY_TAG, wallet))?;
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| KeyStoreError::Malformed(path.to_path_buf()))?;
    Ok(UserSecretKey::from_bytes(arr))
}
