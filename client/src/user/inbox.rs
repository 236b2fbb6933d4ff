//! What was shared with this wallet.

use medshare::state::{Cluster, ShareResult};
use medshare_sdk::chain::{fetch, fetch_many};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Signer;

use crate::error::{ClientError, Result};

use super::Client;

impl Client {
    /// Share results of `cluster` addressed to this user (by key or wallet), newest first.
    pub async fn inbox(&self, cluster: &Pubkey) -> Result<Vec<(Pubkey, ShareResult)>> {
        let account: Cluster = fetch(self.chain.as_ref(), cluster)
            .await?
            .ok_or_else(|| ClientError::ClusterNotFound(cluster.to_string()))?;
        let addrs: Vec<Pubkey> = (0..account.next_computation)
            .map(|k| medshare::pda::share_result(&medshare::pda::computation(cluster, k)))
            .collect();
        let me = self.wallet.pubkey();
        let key = self.encryption_key().0;
        let results = fetch_many::<ShareResult>(self.chain.as_ref(), &addrs).await?;
        let mut out: Vec<(Pubkey, ShareResult)> = addrs
            .into_iter()
            .zip(results)
            .filter_map(|(address, result)| result.map(|result| (address, result)))
            .filter(|(_, result)| result.recipient == key || result.recipient_wallet == me)
            .collect();
        out.reverse();
        Ok(out)
    }
}
