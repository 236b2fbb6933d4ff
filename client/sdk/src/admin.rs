//! Cluster administration: what the admin signs (create the cluster, add
//! nodes, restart a DKG, retire). The admin never sees or sets key material.

use medshare::instructions::InitClusterArgs;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use crate::chain::{Chain, ChainError};
use crate::ix;

/// Default computation lifetime in slots (≈ 2 minutes at 400 ms slots).
pub const DEFAULT_TTL_SLOTS: u64 = 300;

/// Creates cluster `id` with threshold `t` of `n`; returns its address.
pub async fn create_cluster(
    chain: &dyn Chain,
    admin: &Keypair,
    id: u32,
    t: u8,
    n: u8,
    ttl_slots: u64,
) -> Result<Pubkey, ChainError> {
    let (ix, cluster) = ix::init_cluster(
        admin.pubkey(),
        InitClusterArgs {
            cluster_id: id,
            threshold: t,
            size: n,
            computation_ttl_slots: ttl_slots,
        },
    );
    chain.send(&[ix], &[admin]).await?;
    Ok(cluster)
}

/// Adds a node authority to a cluster.
pub async fn add_node(
    chain: &dyn Chain,
    admin: &Keypair,
    cluster: &Pubkey,
    authority: &Pubkey,
) -> Result<(), ChainError> {
    let ix = ix::add_node(admin.pubkey(), *cluster, *authority);
    chain.send(&[ix], &[admin]).await.map(|_| ())
}

/// Restarts a cluster's running or failed DKG (a new attempt: every node
/// runs it again, and packages of the old attempt are void).
pub async fn restart_dkg(
    chain: &dyn Chain,
    admin: &Keypair,
    cluster: &Pubkey,
) -> Result<(), ChainError> {
    let ix = ix::restart_dkg(admin.pubkey(), *cluster);
    chain.send(&[ix], &[admin]).await.map(|_| ())
}

/// Retires a cluster: it accepts no new record, share or DKG step.
pub async fn retire_cluster(
    chain: &dyn Chain,
    admin: &Keypair,
    cluster: &Pubkey,
) -> Result<(), ChainError> {
    let ix = ix::retire_cluster(admin.pubkey(), *cluster);
    chain.send(&[ix], &[admin]).await.map(|_| ())
}
