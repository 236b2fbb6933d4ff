//! `keygen`, `register`, `wallet new` and `airdrop`: a wallet, its sealed
//! encryption key, its on-chain identity, and test SOL.

use std::fmt;
use std::path::PathBuf;

use medshare::state::Role;
use serde::Serialize;
use solana_sdk::signature::Signer;

use super::Ctx;
use crate::error::{ClientError, Result};
use crate::wallet;

/// `keygen`: a new encryption key, sealed under the passphrase.
#[derive(Debug, Serialize)]
pub struct KeyCreated {
    /// The wallet it belongs to.
    pub wallet: String,
    /// The X25519 public key (hex).
    pub x25519: String,
    /// Where it is sealed.
    pub key_file: PathBuf,
}

impl fmt::Display for KeyCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "encryption key (X25519): {}\nsealed in {}\nnext: medshare register",
            self.x25519,
            self.key_file.display()
        )
    }
}

/// Creates and seals the wallet's encryption key.
pub fn keygen(ctx: &Ctx) -> Result<KeyCreated> {
    let keypair = wallet::load_wallet(&ctx.wallet_path)?;
    let pass = ctx.passphrase()?;
    let path = ctx.key_file(&keypair.pubkey());
    let key = wallet::create_key(&path, &keypair.pubkey(), &pass)?;
    Ok(KeyCreated {
        wallet: keypair.pubkey().to_string(),
        x25519: hex::encode(key.public_key().0),
        key_file: path,
    })
}

/// `register`: the wallet's identity on-chain.
#[derive(Debug, Serialize)]
pub struct Registered {
    /// The wallet.
    pub wallet: String,
    /// Its X25519 public key (hex).
    pub x25519: String,
    /// Its role.
    #[serde(skip)]
    pub role: Role,
}

impl fmt::Display for Registered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "registered {} as {:?} with key {}",
            self.wallet, self.role, self.x25519
        )
    }
}

/// Registers (or updates) the wallet's encryption key and role.
pub async fn register(ctx: &Ctx, role: Role) -> Result<Registered> {
    let client = ctx.client()?;
    client.register(role).await?;
    Ok(Registered {
        wallet: client.wallet.pubkey().to_string(),
        x25519: hex::encode(client.key.public_key().0),
        role,
    })
}

/// `wallet new`: a new wallet keypair file.
#[derive(Debug, Serialize)]
pub struct WalletCreated {
    /// The wallet.
    pub wallet: String,
    /// Its keypair file.
    pub keypair: PathBuf,
}

impl fmt::Display for WalletCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "wallet {} written to {}\nnext: medshare airdrop (localnet), then medshare keygen",
            self.wallet,
            self.keypair.display()
        )
    }
}

/// Writes a new wallet keypair (never over an existing file).
pub fn wallet_new(ctx: &Ctx) -> Result<WalletCreated> {
    let keypair = wallet::create_wallet(&ctx.wallet_path)?;
    Ok(WalletCreated {
        wallet: keypair.pubkey().to_string(),
        keypair: ctx.wallet_path.clone(),
    })
}

/// `airdrop`: SOL from the endpoint's faucet.
#[derive(Debug, Serialize)]
pub struct Airdropped {
    /// The wallet.
    pub wallet: String,
    /// Lamports received.
    pub lamports: u64,
    /// Balance afterwards, in lamports.
    pub balance: u64,
}

impl fmt::Display for Airdropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "airdropped {} SOL to {}; balance {} SOL",
            self.lamports as f64 / 1e9,
            self.wallet,
            self.balance as f64 / 1e9
        )
    }
}

/// Asks the endpoint's faucet for `sol` SOL (more than 0, at most 1,000).
pub async fn airdrop(ctx: &Ctx, sol: f64) -> Result<Airdropped> {
    let keypair = wallet::load_wallet(&ctx.wallet_path)?;
    if !sol.is_finite() || sol <= 0.0 || sol > 1_000.0 {
        return Err(ClientError::BadAmount(sol));
    }
    let lamports = (sol * 1e9).round() as u64;
    ctx.chain.airdrop(&keypair.pubkey(), lamports).await?;
    let balance = ctx.chain.balance(&keypair.pubkey()).await?;
    Ok(Airdropped {
        wallet: keypair.pubkey().to_string(),
        lamports,
        balance,
    })
}
