//! The RPC backend: devnet, localnet or any JSON-RPC URL.
//!
//! Conventions follow the Solana CLI: `-u/--url` takes `devnet`, `localnet`
//! (`localhost`), `mainnet-beta`, `testnet` or a URL; without one, the
//! `json_rpc_url` of `~/.config/solana/cli/config.yml` is used, and
//! `keypair_path` of the same file is the default keypair.

use std::path::PathBuf;

use async_trait::async_trait;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::{
    account::Account,
    instruction::Instruction,
    pubkey::Pubkey,
    signature::{Keypair, Signature, Signer},
    transaction::Transaction,
};
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiTransactionEncoding,
};

use super::embedded::tx_error;
use super::{Chain, ChainError, Landed, LedgerEntry};

/// A JSON-RPC endpoint.
pub struct Rpc {
    client: RpcClient,
    url: String,
}

/// The Solana CLI config file's path (`~/.config/solana/cli/config.yml`).
pub fn solana_cli_config_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/solana/cli/config.yml"))
}

/// Reads `json_rpc_url` and `keypair_path` from the Solana CLI config, if present.
pub fn solana_cli_config() -> (Option<String>, Option<PathBuf>) {
    let Some(text) = solana_cli_config_path().and_then(|p| std::fs::read_to_string(p).ok()) else {
        return (None, None);
    };
    let value = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.trim().strip_prefix(key)?.trim_start().strip_prefix(':')?;
            Some(
                rest.trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .to_string(),
            )
        })
    };
    (
        value("json_rpc_url"),
        value("keypair_path").map(PathBuf::from),
    )
}

/// Expands the Solana CLI monikers into URLs.
pub fn resolve_url(url: &str) -> String {
    match url {
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        "localnet" | "localhost" | "l" => "http://127.0.0.1:8899".into(),
        other => other.into(),
    }
}

impl Rpc {
    /// Connects (lazily) to `url` (a moniker or URL) at `confirmed` commitment.
    pub fn new(url: &str) -> Self {
        let url = resolve_url(url);
        Rpc {
            client: RpcClient::new_with_commitment(url.clone(), CommitmentConfig::confirmed()),
            url,
        }
    }

    /// The endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn logs_of(&self, signature: &Signature) -> Vec<String> {
        match self
            .client
            .get_transaction(signature, UiTransactionEncoding::Json)
            .await
        {
            Ok(tx) => match tx.transaction.meta.map(|m| m.log_messages) {
                Some(OptionSerializer::Some(logs)) => logs,
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        }
    }
}

fn endpoint(e: impl std::fmt::Display) -> ChainError {
    ChainError::Endpoint(e.to_string())
}

#[async_trait]
impl Chain for Rpc {
    async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Landed, ChainError> {
        let payer = signers
            .first()
            .ok_or_else(|| ChainError::Transaction("no fee payer".into()))?;
        let blockhash = self.client.get_latest_blockhash().await.map_err(endpoint)?;
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), signers, blockhash);
        match self.client.send_and_confirm_transaction(&tx).await {
            Ok(signature) => {
                let slot = self.client.get_slot().await.map_err(endpoint)?;
                Ok(Landed {
                    signature,
                    slot,
                    logs: self.logs_of(&signature).await,
                })
            }
            Err(e) => match e.get_transaction_error() {
                Some(te) => Err(tx_error(te, Vec::new())),
                None => Err(endpoint(e)),
            },
        }
    }

    async fn accounts(&self, addresses: &[Pubkey]) -> Result<Vec<Option<Account>>, ChainError> {
        let mut out = Vec::with_capacity(addresses.len());
        for chunk in addresses.chunks(100) {
            out.extend(
                self.client
                    .get_multiple_accounts(chunk)
                    .await
                    .map_err(endpoint)?,
            );
        }
        Ok(out)
    }

    async fn slot(&self) -> Result<u64, ChainError> {
        self.client.get_slot().await.map_err(endpoint)
    }

    async fn balance(&self, address: &Pubkey) -> Result<u64, ChainError> {
        self.client.get_balance(address).await.map_err(endpoint)
    }

    async fn history(&self, address: &Pubkey) -> Result<Vec<LedgerEntry>, ChainError> {
        let sigs = self
            .client
            .get_signatures_for_address(address)
            .await
            .map_err(endpoint)?;
        let mut out = Vec::with_capacity(sigs.len());
        // The RPC answers newest first; the ledger is oldest first.
        for s in sigs.into_iter().rev() {
            let signature: Signature = s.signature.parse().map_err(endpoint)?;
            out.push(LedgerEntry {
                signature,
                slot: s.slot,
                block_time: s.block_time,
                success: s.err.is_none(),
                error: s.err.as_ref().map(|e| format!("{e:?}")),
                logs: self.logs_of(&signature).await,
            });
        }
        Ok(out)
    }

    async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        let sig = self
            .client
            .request_airdrop(to, lamports)
            .await
            .map_err(endpoint)?;
        for _ in 0..60 {
            if self
                .client
                .confirm_transaction(&sig)
                .await
                .map_err(endpoint)?
            {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        Err(ChainError::Endpoint(
            "airdrop not confirmed within 30 s".into(),
        ))
    }
}
