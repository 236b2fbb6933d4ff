//! What was shared with this wallet.

use std::time::{Duration, Instant};

use anchor_lang::error::ErrorCode;
use encrypted_ixs::capsule::open;
use encrypted_ixs::keys::{UserPublicKey, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::record::{open_group_with, open_own_group, seal_group};
use medshare::state::{Cluster, ClusterStatus, Identity, PatientRecord, Role, ShareResult};
use medshare_sdk::chain::{fetch, fetch_many, SharedChain};
use medshare_sdk::codec::record_ctx;
use medshare_sdk::codec::stored_to_sealed;
use medshare_sdk::ix::{self, ShareAccounts};
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use std::collections::HashSet;

use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::blobs::{default_store_dir, BlobRef, BlobStore};
use crate::contents::{
    offchain_body, parse_body, Body, BodyError, Contents, INLINE_LIMIT, MAX_BODY,
};
use crate::error::{ClientError, Result};

use super::Client;

impl Client {
    /// Share results of `cluster` addressed to this user (by key or wallet), newest first.
    pub async fn inbox(&self, cluster: &Pubkey) -> Result<Vec<(Pubkey, ShareResult)>> {
        let c: Cluster = fetch(self.chain.as_ref(), cluster)
            .await?
            .ok_or_else(|| ClientError::ClusterNotFound(cluster.to_string()))?;
        let addrs: Vec<Pubkey> = (0..c.next_computation)
            .map(|k| medshare::pda::share_result(&medshare::pda::computation(cluster, k)))
            .collect();
        let me = self.wallet.pubkey();
        let key = self.encryption_key().0;
        let results = fetch_many::<ShareResult>(self.chain.as_ref(), &addrs).await?;
        let mut out: Vec<(Pubkey, ShareResult)> = addrs
            .into_iter()
            .zip(results)
            .filter_map(|(a, r)| r.map(|r| (a, r)))
            .filter(|(_, r)| r.recipient == key || r.recipient_wallet == me)
            .collect();
        out.reverse();
        Ok(out)
    }
}
