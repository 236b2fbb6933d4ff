//! The bench's node clusters ([`LocalCluster`]s, launched with the bench's
//! funding and timings) and the isolated costs measured on one of them.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use encrypted_ixs::keys::{NodeIndex, UserSecretKey};
use encrypted_ixs::point::Point;
use encrypted_ixs::reencrypt::{self, ComputationContext, Statement};
use medshare::state::Cluster;
use rand_core::OsRng;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

use super::shares::edwards;
use super::{
    BenchOptions, CostFigures, DkgFigure, Summary, Watchdog, BENCH_TTL_SLOTS, NODE_FUNDS,
    STEP_TIMEOUT,
};
use crate::cluster::{ClusterOptions, Funding, LocalCluster};
use medshare_sdk::chain::{fetch, SharedChain};

/// Starts cluster `id` (`t` of `n`) with the bench's node timings and waits
/// for its DKG, keeping the watchdog fed.
pub(super) async fn start_cluster(
    chain: SharedChain,
    id: u32,
    (t, n): (u8, u8),
    opts: &BenchOptions,
    wd: &Watchdog,
    funding: &Funding,
) -> Result<(LocalCluster, DkgFigure)> {
    let options = ClusterOptions {
        id,
        ttl_slots: BENCH_TTL_SLOTS,
        poll: opts.poll,
        callback_fallback: opts.callback_fallback,
        contribution_fallback: opts.contribution_fallback,
        // Fine-grained, so the DKG figure is not rounded up to a poll.
        ready_poll: Duration::from_millis(2),
        ready_timeout: STEP_TIMEOUT,
        funds: NODE_FUNDS,
        ..ClusterOptions::new(t, n)
    };
    let mut lc = LocalCluster::launch(chain, options, funding).await?;
    lc.wait_ready(STEP_TIMEOUT, || wd.progress()).await?;
    let figure = DkgFigure {
        t,
        n,
        total: lc.dkg_time,
        key_stores: lc.key_store_time,
        protocol: lc.protocol_time,
    };
    Ok((lc, figure))
}

/// Isolated costs: one contribution's proof and its verification, one
/// key-store key derivation, one transfer on the embedded chain.
pub(super) async fn costs(
    chain: &SharedChain,
    lc: &LocalCluster,
    funding: &Funding,
) -> Result<CostFigures> {
    let a0 = Instant::now();
    let store = lc.key_store(1)?;
    let argon2 = a0.elapsed();
    let share = store
        .secrets
        .key_share()
        .ok_or_else(|| anyhow!("node 1 has no key share"))?;
    let cluster: Cluster = fetch(chain.as_ref(), &lc.address)
        .await?
        .ok_or_else(|| anyhow!("cluster not found"))?;
    let recipient = edwards(&UserSecretKey::generate(&mut OsRng))?;
    let capsule_e = edwards(&UserSecretKey::generate(&mut OsRng))?;
    let ctx = ComputationContext {
        program_id: medshare::ID.to_bytes(),
        cluster: lc.address.to_bytes(),
        computation: Pubkey::new_unique().to_bytes(),
        group: 1,
    };
    const ROUNDS: u32 = 200;
    let p0 = Instant::now();
    let mut last = None;
    for _ in 0..ROUNDS {
        last = Some(
            reencrypt::contribute(&mut OsRng, &share, &ctx, &recipient, &capsule_e)
                .map_err(|e| anyhow!("contribute: {e}"))?,
        );
    }
    let prove = p0.elapsed() / ROUNDS;
    let contribution = last.ok_or_else(|| anyhow!("no contribution"))?;
    let verification_share = Point(cluster.nodes[0].verification_share);
    let st = Statement {
        ctx: &ctx,
        node: NodeIndex::new(1).map_err(|e| anyhow!("{e}"))?,
        recipient: &recipient,
        capsule_e: &capsule_e,
        verification_share: &verification_share,
    };
    let v0 = Instant::now();
    for _ in 0..ROUNDS {
        reencrypt::verify_contribution(&st, &contribution).map_err(|e| anyhow!("verify: {e}"))?;
    }
    let verify = v0.elapsed() / ROUNDS;
    let payer = Keypair::new();
    funding.fund(chain, &payer.pubkey(), 1_000_000_000).await?;
    let to = Pubkey::new_unique();
    let mut transfers = Vec::new();
    for i in 0..50u64 {
        // Distinct amounts: identical transfers within one blockhash would be duplicates.
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &payer.pubkey(),
            &to,
            1_000_000 + i,
        );
        let t0 = Instant::now();
        chain.send(&[ix], &[&payer]).await?;
        transfers.push(t0.elapsed());
    }
    Ok(CostFigures {
        prove,
        verify,
        argon2,
        transfer: Summary::of(transfers),
    })
}
