//! What a user does, one module per command family under the names the
//! CLI uses (`cli/<family>.rs` only parses and renders): [`records`],
//! [`shares`], [`inbox`], [`consent`], [`providers`], [`research`],
//! [`audit`], and [`files`] in and out of a record. Everything runs over any [`Chain`](medshare_sdk::chain::Chain)
//! through a [`Client`]: a wallet, an encryption key and a blob store.

pub mod audit;
pub mod consent;
pub mod files;
pub mod inbox;
pub mod providers;
pub mod records;
pub mod research;
pub mod shares;

pub use medshare_sdk::codec::record_ctx;
pub use records::{Replaced, StoreOutcome, StoreTarget};
pub use shares::{OpenedShare, Recipient, ShareTicket};

use encrypted_ixs::keys::UserSecretKey;
use encrypted_ixs::point::Point;
use medshare::state::{Cluster, ClusterStatus, Identity, Role};
use medshare_sdk::chain::{fetch, SharedChain};
use medshare_sdk::ix::{self};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::blobs::{default_store_dir, BlobRef, BlobStore};
use crate::contents::{parse_body, Body, BodyError, Contents, MAX_BODY};
use crate::error::{ClientError, Result};

/// A user: a wallet (signs, pays), an X25519 encryption key, and where
/// off-chain blobs go.
pub struct Client {
    /// The chain.
    pub chain: SharedChain,
    /// The wallet.
    pub wallet: Keypair,
    /// The encryption key.
    pub key: UserSecretKey,
    /// Where this user's blobs go (`None`: [`default_store_dir`], opened
    /// when first needed).
    pub blobs: Option<BlobStore>,
}

impl Client {
    /// A client for `wallet` with encryption key `key`.
    pub fn new(chain: SharedChain, wallet: Keypair, key: UserSecretKey) -> Self {
        Client {
            chain,
            wallet,
            key,
            blobs: None,
        }
    }

    /// The same client with its blobs in `store`.
    pub fn with_blobs(mut self, store: BlobStore) -> Self {
        self.blobs = Some(store);
        self
    }

    /// Where this user's blobs go.
    pub fn blob_store(&self) -> Result<BlobStore> {
        match &self.blobs {
            Some(store) => Ok(store.clone()),
            None => BlobStore::open(&default_store_dir().to_string_lossy()),
        }
    }

    /// The blob store if one is configured or the default one exists
    /// (without creating it).
    fn existing_blob_store(&self) -> Result<Option<BlobStore>> {
        match &self.blobs {
            Some(store) => Ok(Some(store.clone())),
            None if default_store_dir().is_dir() => Ok(Some(self.blob_store()?)),
            None => Ok(None),
        }
    }

    /// Where this user reads blob `r` of `record` from: the configured
    /// store, or the default one if it exists, each of which falls back to
    /// the locator; with neither, the store the locator names. Reading never
    /// creates a store.
    pub fn reader(&self, record: &Pubkey, r: &BlobRef) -> Result<BlobStore> {
        match self.existing_blob_store()? {
            Some(store) => Ok(store),
            None => BlobStore::at_locator(record, r),
        }
    }

    /// A decrypted group plaintext of `record` as its body: inline, or
    /// fetched from its blob (hash checked first).
    pub async fn read_body(&self, record: &Pubkey, plain: &[u8]) -> Result<Map<String, Value>> {
        let corrupt = |e: BodyError| ClientError::CorruptContents {
            what: "group",
            detail: e.0,
        };
        match parse_body(plain).map_err(corrupt)? {
            Body::Inline(body) => Ok(body),
            Body::Offchain(blob) => {
                let bytes = self
                    .reader(record, &blob)?
                    .get_bytes(record, &blob, MAX_BODY)
                    .await?;
                match parse_body(&bytes).map_err(corrupt)? {
                    Body::Inline(body) => Ok(body),
                    Body::Offchain(_) => Err(corrupt(BodyError(
                        "an off-chain body points to another blob".into(),
                    ))),
                }
            }
        }
    }

    /// Merges decrypted group plaintexts into contents.
    async fn contents_of(
        &self,
        record: &Pubkey,
        plain: &[Zeroizing<Vec<u8>>],
        what: &'static str,
    ) -> Result<Contents> {
        let mut contents = Contents::default();
        for plaintext in plain {
            let body = self.read_body(record, plaintext).await?;
            contents
                .merge(body)
                .map_err(|e| ClientError::CorruptContents { what, detail: e.0 })?;
        }
        Ok(contents)
    }

    /// The Edwards form of this user's key.
    pub fn encryption_key(&self) -> Point {
        self.key
            .public_key()
            .edwards()
            .expect("keys from X25519 secrets always have an Edwards form")
    }

    /// Registers (or updates) this wallet's encryption key and role.
    pub async fn register(&self, role: Role) -> Result<()> {
        let me = self.wallet.pubkey();
        let identity = medshare::pda::identity(&me);
        let args = medshare::instructions::IdentityArgs {
            encryption_key: self.encryption_key().0,
            role,
        };
        let exists = fetch::<Identity>(self.chain.as_ref(), &identity)
            .await?
            .is_some();
        let ix = if exists {
            ix::update_identity(me, args)
        } else {
            ix::register_identity(me, args)
        };
        self.chain.send(&[ix], &[&self.wallet]).await?;
        Ok(())
    }

    /// A ready cluster.
    pub async fn ready_cluster(&self, cluster: &Pubkey) -> Result<Cluster> {
        let account: Cluster = fetch(self.chain.as_ref(), cluster)
            .await?
            .ok_or_else(|| ClientError::ClusterNotFound(cluster.to_string()))?;
        if account.status != ClusterStatus::Ready {
            return Err(ClientError::ClusterNotReady(cluster.to_string()));
        }
        Ok(account)
    }
}
