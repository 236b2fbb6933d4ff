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

/// Before the DKG succeeded, gives node `index` to `authority` (the node
/// it replaces keeps nothing: its mailbox and service record close); the
/// new node then registers and every node runs a new DKG attempt.
pub async fn replace_node(
    chain: &dyn Chain,
    admin: &Keypair,
    cluster: &Pubkey,
    index: u8,
    authority: &Pubkey,
) -> Result<(), ChainError> {
    let c: medshare::state::Cluster = crate::chain::fetch(chain, cluster)
        .await?
        .ok_or(ChainError::Account(*cluster))?;
    let old = c
        .nodes
        .get((index as usize).wrapping_sub(1))
        .map(|n| n.authority)
        .ok_or(ChainError::Program {
            code: anchor_lang::error::ERROR_CODE_OFFSET
                + medshare::error::MedshareError::NotClusterNode as u32,
            logs: vec![],
        })?;
    let ix = ix::replace_node(admin.pubkey(), *cluster, index, old, *authority);
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
