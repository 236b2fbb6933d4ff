//! The RPC backend: devnet, localnet or any JSON-RPC URL.
//!
//! Conventions follow the Solana CLI: `-u/--url` takes `devnet`, `localnet`
//! (`localhost`), `mainnet-beta`, `testnet` or a URL; without one, the
//! `json_rpc_url` of `~/.config/solana/cli/config.yml` is used, and
//! `keypair_path` of the same file is the default keypair.

use std::path::PathBuf;

use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
pub use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_types::config::{RpcTransactionLogsConfig, RpcTransactionLogsFilter};
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
use tokio::sync::mpsc;
use tracing::{debug, warn};

use super::{tx_error, Chain, ChainError, Landed, LedgerEntry, Notice, Notices, NOTICE_QUEUE};

/// How many times a landed transaction's logs are asked for with
/// `getTransaction` when the websocket did not deliver them (see
/// [`LOG_NOTICE_WAIT`]), [`LOG_RETRY`] apart.
pub const LOG_ATTEMPTS: u32 = 5;

/// Pause between two `getTransaction` attempts.
pub const LOG_RETRY: Duration = Duration::from_millis(200);

/// How long [`Rpc::send`] waits, once its transaction is confirmed, for the
/// websocket notice carrying its logs. A validator serves `getTransaction`
/// from its blockstore: on `solana-test-validator` 3.1.12 a transaction
/// confirmed at `confirmed` was listed by `getSignaturesForAddress` after
/// about 3 s and returned by `getTransaction` only after about 13 s (once
/// rooted), while `logsSubscribe` delivers the logs as the transaction is
/// confirmed. So `send` subscribes to its fee payer's transactions before
/// sending and takes the logs from the notice.
pub const LOG_NOTICE_WAIT: Duration = Duration::from_secs(5);

/// How long [`Chain::history`] keeps asking for the logs of transactions
/// the endpoint lists but does not serve yet (recent ones, see
/// [`LOG_NOTICE_WAIT`]); past it they are returned without logs.
pub const HISTORY_LOG_WAIT: Duration = Duration::from_secs(30);

/// How often an airdrop's confirmation is asked for, and how many times.
const AIRDROP_POLL: Duration = Duration::from_millis(500);
const AIRDROP_POLLS: u32 = 60;

/// How many times [`Rpc`] signs a transaction with a new blockhash after
/// the previous one expired without it landing.
pub const SEND_ATTEMPTS: u32 = 3;

/// Pause between two confirmation checks of a sent transaction.
pub const CONFIRM_POLL: Duration = Duration::from_millis(250);

/// How often a sent, unconfirmed transaction is sent again (the same
/// signature: the chain executes it at most once).
pub const RESEND_EVERY: Duration = Duration::from_secs(2);

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

/// The websocket URL the Solana CLI derives from an RPC URL: `http` becomes
/// `ws`, `https` becomes `wss`, and an explicit port goes up by one (a local
/// validator serves RPC on 8899 and websockets on 8900).
pub fn websocket_url(rpc_url: &str) -> Result<String, ChainError> {
    let mut url = url::Url::parse(rpc_url)
        .map_err(|e| ChainError::Endpoint(format!("invalid RPC URL {rpc_url}: {e}")))?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| ChainError::Endpoint(format!("invalid RPC URL {rpc_url}")))?;
    if let Some(port) = url.port() {
        url.set_port(Some(port.saturating_add(1)))
            .map_err(|()| ChainError::Endpoint(format!("invalid RPC URL {rpc_url}")))?;
    }
    Ok(url.to_string())
}

/// Forwards `logsSubscribe` notices to `sender` until the receiver is
/// dropped or the websocket ends; then the receiver sees the channel close
/// (and may subscribe again).
async fn forward_logs(pubsub: PubsubClient, address: Pubkey, sender: mpsc::Sender<Notice>) {
    let filter = RpcTransactionLogsFilter::Mentions(vec![address.to_string()]);
    let config = RpcTransactionLogsConfig {
        commitment: Some(CommitmentConfig::confirmed()),
    };
    let (mut stream, unsubscribe) = match pubsub.logs_subscribe(filter, config).await {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "logs subscription refused");
            return;
        }
    };
    debug!(%address, "logs subscription open");
    loop {
        tokio::select! {
            _ = sender.closed() => break,
            item = stream.next() => {
                let Some(response) = item else {
                    warn!(%address, "logs subscription ended");
                    return;
                };
                let Ok(signature) = response.value.signature.parse() else {
                    continue;
                };
                let notice = Notice {
                    signature,
                    slot: response.context.slot,
                    success: response.value.err.is_none(),
                    logs: response.value.logs,
                };
                // A full queue drops this notice; the subscriber polls.
                if let Err(mpsc::error::TrySendError::Closed(_)) = sender.try_send(notice) {
                    break;
                }
            }
        }
    }
    unsubscribe().await;
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

    /// The latest slot at `commitment` (the [`Chain::slot`] is `confirmed`).
    pub async fn slot_at(&self, commitment: CommitmentConfig) -> Result<u64, ChainError> {
        self.client
            .get_slot_with_commitment(commitment)
            .await
            .map_err(endpoint)
    }

    /// A landed transaction's logs, asked for up to `attempts` times (an RPC
    /// node may not serve a transaction it has just confirmed); `None` if it
    /// never did.
    async fn logs_of(&self, signature: &Signature, attempts: u32) -> Option<Vec<String>> {
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(LOG_RETRY).await;
            }
            if let Ok(tx) = self
                .client
                .get_transaction(signature, UiTransactionEncoding::Json)
                .await
            {
                if let Some(OptionSerializer::Some(logs)) =
                    tx.transaction.meta.map(|m| m.log_messages)
                {
                    return Some(logs);
                }
            }
        }
        None
    }

    /// Signs, sends and confirms one transaction; returns its signature,
    /// its slot and, when it landed but failed, why.
    ///
    /// A real endpoint can lose or delay any of this, so:
    /// - preflight runs on the first send: a transaction that would fail is
    ///   refused before it costs a fee ([`ChainError::Program`] with the
    ///   simulation's logs);
    /// - confirmation is read with `getSignatureStatuses` until the
    ///   transaction's blockhash expires (its last valid block height
    ///   passes); errors while polling (a timeout, a dropped connection, a
    ///   429 past the client's own retries) only mean asking again, and the
    ///   same signed transaction is sent again now and then, which the
    ///   chain executes at most once. So a transaction that landed while its
    ///   confirmation timed out is reported landed, never submitted twice;
    /// - only once the blockhash has expired, so the old transaction can
    ///   never land, is it signed again with a new blockhash, at most
    ///   [`SEND_ATTEMPTS`] times.
    async fn submit(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<
        (
            Signature,
            u64,
            Option<solana_sdk::transaction::TransactionError>,
        ),
        ChainError,
    > {
        use solana_rpc_client_types::config::RpcSendTransactionConfig;
        let payer = signers
            .first()
            .ok_or_else(|| ChainError::Transaction("no fee payer".into()))?;
        for attempt in 0..SEND_ATTEMPTS {
            let (blockhash, last_valid) = self
                .client
                .get_latest_blockhash_with_commitment(CommitmentConfig::confirmed())
                .await
                .map_err(endpoint)?;
            let tx =
                Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), signers, blockhash);
            let signature = tx.signatures[0];
            if let Err(e) = self.client.send_transaction(&tx).await {
                if let Some(te) = e.get_transaction_error() {
                    return Err(tx_error(te, preflight_logs(e.kind())));
                }
                // The endpoint may or may not have taken it: watch for it all
                // the same, and send it again below.
                warn!(%signature, error = %e, attempt, "sending failed; watching for the transaction anyway");
            }
            let quiet = RpcSendTransactionConfig {
                skip_preflight: true,
                ..Default::default()
            };
            let mut last_send = tokio::time::Instant::now();
            loop {
                tokio::time::sleep(CONFIRM_POLL).await;
                if let Ok(statuses) = self.client.get_signature_statuses(&[signature]).await {
                    if let Some(Some(status)) = statuses.value.into_iter().next() {
                        if status.satisfies_commitment(CommitmentConfig::confirmed()) {
                            return Ok((signature, status.slot, status.err));
                        }
                    }
                }
                match self
                    .client
                    .get_block_height_with_commitment(CommitmentConfig::confirmed())
                    .await
                {
                    Ok(height) if height > last_valid => break,
                    _ => {}
                }
                if last_send.elapsed() >= RESEND_EVERY {
                    let _ = self.client.send_transaction_with_config(&tx, quiet).await;
                    last_send = tokio::time::Instant::now();
                }
            }
            // Expired: one last look (it may have landed in the last block).
            if let Ok(statuses) = self.client.get_signature_statuses(&[signature]).await {
                if let Some(Some(status)) = statuses.value.into_iter().next() {
                    return Ok((signature, status.slot, status.err));
                }
            }
            warn!(%signature, attempt, "blockhash expired before the transaction landed; signing it again");
        }
        Err(ChainError::Endpoint(format!(
            "transaction not confirmed: its blockhash expired {SEND_ATTEMPTS} times"
        )))
    }

    /// The logs of `signature` from a subscription's notices, waiting at
    /// most [`LOG_NOTICE_WAIT`].
    async fn logs_from_notices(
        notices: &mut Notices,
        signature: &Signature,
    ) -> Option<Vec<String>> {
        let deadline = tokio::time::Instant::now() + LOG_NOTICE_WAIT;
        loop {
            match tokio::time::timeout_at(deadline, notices.recv()).await {
                Ok(Some(n)) if n.signature == *signature => return Some(n.logs),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return None,
            }
        }
    }
}

/// The simulation logs of a transaction refused at preflight (Anchor names
/// the failing account there).
fn preflight_logs(kind: &solana_rpc_client_api::client_error::ErrorKind) -> Vec<String> {
    use solana_rpc_client_api::client_error::ErrorKind;
    use solana_rpc_client_types::request::{RpcError, RpcResponseErrorData};
    match kind {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
            ..
        }) => result.logs.clone().unwrap_or_default(),
        _ => Vec::new(),
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
        // Listen for the fee payer's transactions first: the notice brings
        // the logs as soon as ours is confirmed (best effort: without it,
        // `getTransaction` is asked, which may not serve it yet).
        let mut notices = self.subscribe(&payer.pubkey()).await.ok();
        let (signature, slot, failed) = self.submit(ixs, signers).await?;
        let from_notice = match notices.as_mut() {
            Some(n) => Self::logs_from_notices(n, &signature).await,
            None => None,
        };
        let logs = match from_notice {
            Some(logs) => logs,
            None => self
                .logs_of(&signature, LOG_ATTEMPTS)
                .await
                .unwrap_or_default(),
        };
        match failed {
            None => Ok(Landed {
                signature,
                slot,
                logs,
            }),
            Some(te) => Err(tx_error(te, logs)),
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
        // Asked at `confirmed` and at `finalized`, and merged: a validator
        // lists a transaction at `confirmed` first, but was seen to answer
        // an empty list at `confirmed` for a while (just after a start, and
        // once in the end-to-end suite) while `finalized` listed the
        // address's older transactions.
        let mut sigs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for commitment in [CommitmentConfig::confirmed(), CommitmentConfig::finalized()] {
            let config = solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
                commitment: Some(commitment),
                ..Default::default()
            };
            let listed = self
                .client
                .get_signatures_for_address_with_config(address, config)
                .await
                .map_err(endpoint)?;
            sigs.extend(
                listed
                    .into_iter()
                    .filter(|s| seen.insert(s.signature.clone())),
            );
        }
        // Newest first, as the RPC answers (stable: the order within a slot is kept).
        sigs.sort_by_key(|s| std::cmp::Reverse(s.slot));
        let mut out = Vec::with_capacity(sigs.len());
        let mut missing = Vec::new();
        // The RPC answers newest first; the ledger is oldest first.
        for s in sigs.into_iter().rev() {
            let signature: Signature = s.signature.parse().map_err(endpoint)?;
            let logs = self.logs_of(&signature, 1).await;
            if logs.is_none() {
                missing.push(out.len());
            }
            out.push(LedgerEntry {
                signature,
                slot: s.slot,
                block_time: s.block_time,
                success: s.err.is_none(),
                error: s.err.as_ref().map(|e| format!("{e:?}")),
                logs: logs.unwrap_or_default(),
            });
        }
        // Listed but not served yet (recent): ask again for a while.
        let deadline = tokio::time::Instant::now() + HISTORY_LOG_WAIT;
        while !missing.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(LOG_RETRY).await;
            let mut still = Vec::new();
            for i in missing {
                match self.logs_of(&out[i].signature, 1).await {
                    Some(logs) => out[i].logs = logs,
                    None => still.push(i),
                }
            }
            missing = still;
        }
        if !missing.is_empty() {
            warn!(
                %address,
                count = missing.len(),
                "transactions listed but their logs not served yet; returned without logs"
            );
        }
        Ok(out)
    }

    async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        let sig = self
            .client
            .request_airdrop(to, lamports)
            .await
            .map_err(endpoint)?;
        for _ in 0..AIRDROP_POLLS {
            if self
                .client
                .confirm_transaction(&sig)
                .await
                .map_err(endpoint)?
            {
                return Ok(());
            }
            tokio::time::sleep(AIRDROP_POLL).await;
        }
        Err(ChainError::Endpoint(
            "airdrop not confirmed within 30 s".into(),
        ))
    }

    async fn subscribe(&self, address: &Pubkey) -> Result<Notices, ChainError> {
        let ws = websocket_url(&self.url)?;
        // Connect now, so an unreachable endpoint is the caller's error.
        let client = PubsubClient::new(ws.as_str()).await.map_err(endpoint)?;
        let (sender, receiver) = mpsc::channel(NOTICE_QUEUE);
        tokio::spawn(forward_logs(client, *address, sender));
        Ok(receiver)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_url_follows_the_solana_cli() {
        assert_eq!(
            websocket_url("http://127.0.0.1:8899").unwrap(),
            "ws://127.0.0.1:8900/"
        );
        assert_eq!(
            websocket_url("https://api.devnet.solana.com").unwrap(),
            "wss://api.devnet.solana.com/"
        );
        assert_eq!(
            websocket_url(&resolve_url("localnet")).unwrap(),
            "ws://127.0.0.1:8900/"
        );
        assert!(matches!(
            websocket_url("not a url"),
            Err(ChainError::Endpoint(m)) if m.starts_with("invalid RPC URL not a url")
        ));
    }
}
