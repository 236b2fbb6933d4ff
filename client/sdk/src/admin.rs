//! Cluster administration: what the admin signs (create the cluster, add
//! or replace nodes, restart a DKG, retire, appoint and revoke credential
//! issuers) and what an issuer signs (register and revoke providers). The
//! admin never sees or sets key material.

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

/// The cluster admin appoints a credential issuer.
pub async fn appoint_issuer(
    chain: &dyn Chain,
    admin: &Keypair,
    cluster: &Pubkey,
    issuer: &Pubkey,
) -> Result<(), ChainError> {
    let ix = crate::ix::appoint_issuer(admin.pubkey(), *cluster, *issuer);
    chain.send(&[ix], &[admin]).await?;
    Ok(())
}

/// The cluster admin revokes a credential issuer.
pub async fn revoke_issuer(
    chain: &dyn Chain,
    admin: &Keypair,
    cluster: &Pubkey,
    issuer: &Pubkey,
) -> Result<(), ChainError> {
    let ix = crate::ix::revoke_issuer(admin.pubkey(), *cluster, *issuer);
    chain.send(&[ix], &[admin]).await?;
    Ok(())
}

/// An issuer registers a provider (`args.provider`) with a role, a license
/// hash and a validity period.
pub async fn register_provider(
    chain: &dyn Chain,
    issuer: &Keypair,
    cluster: &Pubkey,
    args: medshare::instructions::RegisterProviderArgs,
) -> Result<Pubkey, ChainError> {
    let me = issuer.pubkey();
    // Replacing another issuer's entry: name that issuer, so the program can
    // see whether it was revoked.
    let previous_issuer = crate::chain::fetch::<medshare::state::Provider>(
        chain,
        &medshare::pda::provider(cluster, &args.provider),
    )
    .await?
    .filter(|p| p.issuer != me)
    .map(|p| p.issuer);
    let (ix, account) = crate::ix::register_provider(me, *cluster, args, previous_issuer);
    chain.send(&[ix], &[issuer]).await?;
    Ok(account)
}

/// An issuer revokes a provider.
pub async fn revoke_provider(
    chain: &dyn Chain,
    issuer: &Keypair,
    cluster: &Pubkey,
    provider: &Pubkey,
) -> Result<(), ChainError> {
    let ix = crate::ix::revoke_provider(issuer.pubkey(), *cluster, *provider);
    chain.send(&[ix], &[issuer]).await?;
    Ok(())
}
